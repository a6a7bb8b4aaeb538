"""Rows and tables of ``benchmarks/pipeline.py``: what a worker reports, and how the
driver prints it (Markdown tables, the agreement and goal lines)."""

from __future__ import annotations

import os
import platform
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sim_throughput as st  # noqa: E402  (the sibling script: the agreement check)

E2E_STAGES = ("import", "build", "verify", "prepare", "run")
#: The stages of the total (import is shown apart).
TOTAL = E2E_STAGES[1:]


@dataclass
class Row:
    """One measured row: stage times, or a text for a stage that failed or was not reached."""

    name: str
    times: dict[str, float] = field(default_factory=dict)
    cells: dict[str, str] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)
    spikes: int = 0
    events: int = 0
    step_counts: list[int] = field(default_factory=list)
    peak_rss_mb: float = float("nan")
    status: str = "ok"
    versions: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def total(self, stages: Sequence[str]) -> float:
        """Sum of the times of ``stages`` this row has; NaN if one failed or it did not run."""
        if any(s in self.cells for s in stages) or "run" not in self.times:
            return float("nan")
        return sum(self.times.get(s, 0.0) for s in stages)


def _fmt(row: Row, stage: str) -> str:
    if stage in row.cells:
        return row.cells[stage]
    if stage not in row.times:
        return "-"
    t = row.times[stage]
    return f"{t:.3f}" if t < 10 else f"{t:.1f}"


def e2e_table(rows: Sequence[Row]) -> str:
    """The end-to-end rows as a Markdown table."""
    ref = next((r.total(TOTAL) for r in rows if r.name == "brian2-numpy"), float("nan"))
    lines = ["| route | build s | verify s | prepare/compile s | run s | **total s** | brian2-numpy total"
             " / total | import s | total + import s | spikes | peak RSS MiB |", "|" + "---|" * 11]
    for r in rows:
        if r.status != "ok":
            lines.append(f"| {r.name} | {r.status} |" + " |" * 9)
            continue
        total, full = r.total(TOTAL), r.total(E2E_STAGES)
        cells = [_fmt(r, s) if s != "verify" or r.name.startswith("spikec") else "n/a" for s in TOTAL]
        ratio = f"{ref / total:.2f}x" if np.isfinite(total) and np.isfinite(ref) else "-"
        lines.append(f"| {r.name} | " + " | ".join(cells) + f" | **{_num(total)}** | {ratio}"
                     f" | {_fmt(r, 'import')} | {_num(full)} | {r.spikes if r.step_counts else '-'}"
                     f" | {_rss(r)} |")
    return "\n".join(lines)


def _num(x: float) -> str:
    return "-" if not np.isfinite(x) else f"{x:.3f}"


def scale_table(rows: Sequence[Row], target: str) -> str:
    """The scaling rows as a Markdown table."""
    lines = [f"| synapses | neurons | build s | verify s | compile s ({target}, default pipeline) | place s"
             " | cores | IR B/synapse | peak RSS MiB |", "|" + "---|" * 9]
    for r in rows:
        if r.status != "ok":
            lines.append(f"| {r.name} | {r.status} |" + " |" * 7)
            continue
        place = _fmt(r, "place") + (" (alone)" if r.info.get("place alone") and "place" in r.times else "")
        bps = r.info.get("bytes_per_synapse")
        lines.append(f"| {r.name} | {r.info.get('neurons', '-'):,} | {_fmt(r, 'build')} | {_fmt(r, 'verify')}"
                     f" | {_fmt(r, 'compile')} | {place} | {r.info.get('cores', '-')}"
                     f" | {'-' if bps is None else f'{bps:.1f}'} | {_rss(r)} |")
    return "\n".join(lines)


def _rss(row: Row) -> str:
    """Peak RSS; ``> x`` when the process died before reporting its last stage."""
    return f"{'> ' if row.info.get('unfinished') else ''}{row.peak_rss_mb:.0f}"


def report_e2e(rows: Sequence[Row]) -> list[str]:
    """Agreement and goal lines for the end-to-end rows."""
    out = []
    by = {r.name: r for r in rows}
    ref = next((r for r in rows if r.name.startswith("spikec") and r.step_counts
                and r.info.get("spec") == "sim_throughput"), None)
    for r in rows:
        if r is ref or r.status != "ok":
            continue
        if r.info.get("spec") == "loops program":
            out.append(f"{r.name}: a different network (the loops program); elaborated network equals its"
                       f" numpy formulas: {r.info.get('same network as the spec')}; {r.spikes} spikes")
        elif ref is not None and r.step_counts:
            as_meas = [st.Measurement(x.name, 1, spikes=x.spikes, events=x.events, step_counts=x.step_counts)
                       for x in (ref, r)]
            out.append(st.agreement(*as_meas))
    for r in rows:
        if "same network as the spec" in r.info and r.info.get("spec") != "loops program":
            out.append(f"{r.name}: network equals the spec synapse for synapse:"
                       f" {r.info['same network as the spec']}")
    api = by.get("spikec-api")
    total = api.total(TOTAL) if api else float("nan")
    peers = [r for r in rows if not r.name.startswith("spikec") and r.status == "ok"]
    numpy_total = by["brian2-numpy"].total(TOTAL) if "brian2-numpy" in by else float("nan")
    if np.isfinite(total) and np.isfinite(numpy_total):
        ratio = numpy_total / total
        out.append(f"goal: spikec-api end to end {total:.3f} s vs brian2-numpy {numpy_total:.3f} s:"
                   f" {ratio:.2f}x as fast (goal >= 3x): {'met' if ratio >= 3 else 'NOT met'}")
    if np.isfinite(total) and peers:
        faster = [f"{p.name} {_num(p.total(TOTAL))} s" for p in peers if not p.total(TOTAL) > total]
        out.append(f"goal: spikec-api faster than every peer: {'met' if not faster else 'NOT met'}"
                   + (f" (as fast or unfinished: {', '.join(faster)})" if faster else ""))
    elif peers:
        out.append("goal: spikec-api did not finish, the goals cannot be judged")
    return out


def print_report(e2e: Sequence[Row], scaling: Sequence[Row], target: str, mem: float) -> dict[str, str]:
    """Print the tables, agreement and goal lines and notes; return the versions seen."""
    print()
    if e2e:
        print(e2e_table(e2e))
        print()
        for line in report_e2e(e2e):
            print(line)
        for r in e2e:
            extra = {k: v for k, v in r.info.items() if k not in ("spec",)}
            if extra:
                print(f"  {r.name}: " + ", ".join(f"{k} {v:.3g}" if isinstance(v, float) else f"{k} {v}"
                                                  for k, v in extra.items()))
        print()
    if scaling:
        print(scale_table(scaling, target))
        print()
        for r in scaling:
            if r.info.get("passes"):
                passes = r.info["passes"].items()
                after = r.info.get("synapses_after")
                after = f" (synapses after: {after:,})" if after is not None else ""
                if "compile failed after s" in r.info:
                    after = f" (failed after {r.info['compile failed after s']:.1f} s)"
                print(f"  {r.name} passes{after}: " + ", ".join(f"{k} {v:.2f} s" for k, v in passes))
        print(f"peak RSS is the measuring process's ru_maxrss, the input matrices included (about"
              f" {', '.join(str(round(r.info.get('input RSS MiB', 0))) for r in scaling)} MiB); address-space"
              f" limit {mem:.1f} GiB per row")
    for r in [*e2e, *scaling]:
        for note in r.notes:
            print(note)
    versions: dict[str, str] = {"python": platform.python_version()}
    for r in [*e2e, *scaling]:
        versions.update(r.versions)
    print("versions: " + ", ".join(f"{k} {v}" for k, v in sorted(versions.items())))
    return versions


