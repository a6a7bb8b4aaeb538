"""``spikec solve``: run a diffusion problem's spiking solver and compare it with the exact answers.

Joins the compiler and the simulator (like the rest of the CLI): opens a
``.spk`` file with a ``diffusion`` statement (or a saved network holding a
``field`` probe), runs it with :func:`spikec.backends.diffusion.solve`,
and reports per model step the mean walkers, the L2 error of the spiking
field against the exact mean of the Markov chain and against the heat
kernel, a one-line picture of the field, and the resources used. It writes
the field to CSV/NPZ and draws it next to the exact solution with
``--plot`` (matplotlib).
"""

from __future__ import annotations

import io
import json
import os
from typing import Any, TextIO

import numpy as np

from spikec.diffusion.problem import DiffusionError, Problem
from spikec.errors import SpikecError

__all__ = ["references", "report", "write_csv", "write_npz", "plot", "check_outputs"]

_BARS = " ▁▂▃▄▅▆▇█"


def references(problem: Problem) -> dict[str, np.ndarray]:
    """Expected walkers per node, shape (steps + 1, *shape): the exact chain mean, the
    finite-difference solution (explicit scheme, equal to the chain mean by
    construction; Crank-Nicolson with 8 substeps besides), and the heat kernel when
    it has a closed form for the problem."""
    from spikec.diffusion import reference as ref

    out = {"chain": problem.exact_mean(),
           "fd_crank_nicolson": ref.finite_difference(problem, theta=0.5, substeps=8)}
    try:
        out["heat_kernel"] = ref.heat_kernel(problem)
    except DiffusionError:
        pass
    return out


def _spark(values: np.ndarray, top: float) -> str:
    if top <= 0:
        return " " * len(values)
    levels = np.clip(np.round(values / top * (len(_BARS) - 1)), 0, len(_BARS) - 1).astype(int)
    return "".join(_BARS[i] for i in levels)


def report(sol: Any, refs: dict[str, np.ndarray], out: TextIO, source: str = "") -> dict[str, Any]:
    """Print the per-step table; return a JSON-ready summary."""
    from spikec.backends.diffusion import resources
    from spikec.diffusion import reference as ref

    p: Problem = sol.problem
    mean = sol.mean()
    res = resources(sol)
    err_chain = ref.l2_error(mean, refs["chain"], p)
    err_heat = ref.l2_error(mean, refs["heat_kernel"], p) if "heat_kernel" in refs else None
    floor = ref.l2_error(refs["chain"], refs["heat_kernel"], p) if "heat_kernel" in refs else None
    out.write(f"{source}{p.describe()}\n")
    out.write(
        f"circuit: {res['neurons']:,} neurons ({res['neurons_per_node']:.1f} per node),"
        f" {res['synapses']:,} synapses ({res['synapses_per_node']:.1f} per node);"
        f" {sol.trials} trial{'s' if sol.trials != 1 else ''}, seed {sol.seed}\n")
    out.write(
        f"ran {sol.simulated_steps:,} neural steps in {sol.seconds:.2f} s;"
        f" {res['neural_steps_per_model_step']:.1f} neural steps per model step,"
        f" {res['synaptic_events_per_walker_step']:.1f} synaptic events per walker step\n\n")
    heat = "L2 vs heat kernel" if err_heat is not None else ""
    out.write(f" step  {'time':>9}  {'walkers':>9}  {'L2 vs chain':>11}  {heat:>17}  field\n")
    rows = list(range(p.steps + 1))
    if len(rows) > 24:  # show the first and last steps and a spread between
        keep = sorted(set(np.linspace(0, p.steps, 21).round().astype(int).tolist()))
        rows = keep
    for m in rows:
        field = mean[m] if p.ndim == 1 else mean[m].sum(axis=1)
        heat_text = f"{err_heat[m]:17.4g}" if err_heat is not None else ""
        out.write(f" {m:4d}  {m * p.dt:9.4g}  {mean[m].sum():9.2f}  {err_chain[m]:11.4g}  {heat_text:>17}"
                  f"  {_spark(field[:80], float(field.max()))}\n")
    if p.ndim == 2:
        out.write("(2D: the field column shows the walkers summed over y)\n")
    out.write("(field: mean walkers per node, each row scaled to its own maximum)\n")
    if floor is not None:
        out.write(f"\ndiscretization floor (chain mean vs heat kernel) at the last step: {floor[-1]:.4g}\n")
    return {
        "problem": p.to_dict(), "trials": sol.trials, "seed": sol.seed,
        "resources": res, "neural_steps": sol.neural_steps.tolist(),
        "mean": mean.tolist(), "l2_vs_chain": err_chain.tolist(),
        "l2_vs_heat_kernel": None if err_heat is None else err_heat.tolist(),
    }


def _atomic(path: str, data: bytes) -> None:
    from spikec.ir.serialize import write_bytes_atomic

    try:
        write_bytes_atomic(path, data)
    except OSError as exc:
        raise SpikecError(f"cannot write {path}: {exc.strerror or exc}") from None


def write_csv(path: str, sol: Any, refs: dict[str, np.ndarray]) -> None:
    """One row per model step and node: coordinates, mean walkers, concentration, references."""
    p: Problem = sol.problem
    mean = sol.mean()
    grids = np.meshgrid(*p.positions(), indexing="ij")
    names = list(refs)
    buf = io.StringIO()
    axes = ["x", "y"][: p.ndim]
    buf.write(",".join(["step", "time", *axes, "walkers_mean", "concentration", *names]) + "\n")
    conc = p.concentration(mean)
    for m in range(p.steps + 1):
        for idx in np.ndindex(*p.shape):
            coords = [f"{g[idx]:.12g}" for g in grids]
            vals = [f"{refs[n][m][idx]:.12g}" for n in names]
            buf.write(",".join([str(m), f"{m * p.dt:.12g}", *coords, f"{mean[m][idx]:.12g}",
                                f"{conc[m][idx]:.12g}", *vals]) + "\n")
    _atomic(path, buf.getvalue().encode())


def write_npz(path: str, sol: Any, refs: dict[str, np.ndarray]) -> None:
    """Every trial's counts (trials, steps + 1, *shape), their mean, the references,
    times, node positions and the problem (JSON)."""
    p: Problem = sol.problem
    buf = io.BytesIO()
    arrays: dict[str, Any] = {f"ref_{k}": v for k, v in refs.items()}
    arrays.update({f"x{i}": x for i, x in enumerate(p.positions())})
    arrays.update(counts=sol.counts, mean=sol.mean(), times=p.times(), neural_steps=sol.neural_steps,
                  problem=np.array(json.dumps(p.to_dict())))
    np.savez_compressed(buf, **arrays)
    _atomic(path, buf.getvalue())


def check_outputs(csv: str | None, npz: str | None, image: str | None) -> None:
    """Refuse, before any simulation, outputs that could not be written: a missing
    directory, an unknown image format, or ``--plot`` without matplotlib."""
    for path in (csv, npz, image):
        if path and not os.path.isdir(os.path.dirname(os.path.abspath(path))):
            raise SpikecError(f"cannot write {path}: no directory {os.path.dirname(os.path.abspath(path))}")
    if image:
        _image_format(image)
        _pyplot()


def _image_format(path: str) -> str:
    ext = os.path.splitext(path)[1].lower().lstrip(".") or "png"
    if ext not in ("png", "svg", "pdf"):
        raise SpikecError(f"--plot: unknown image format '.{ext}'; use .png, .svg or .pdf")
    return ext


def _pyplot() -> Any:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise SpikecError("--plot needs matplotlib: pip install 'spikec[plot]'") from None
    return plt


def plot(path: str, sol: Any, refs: dict[str, np.ndarray]) -> None:
    """Draw the spiking field next to the exact one (PNG, SVG or PDF by extension)."""
    ext_name = _image_format(path)
    plt = _pyplot()
    from spikec.diffusion import reference as ref

    p: Problem = sol.problem
    conc = p.concentration(sol.mean())
    exact_key = "heat_kernel" if "heat_kernel" in refs else "chain"
    exact = p.concentration(refs[exact_key])
    chain = p.concentration(refs["chain"])
    label = "heat kernel" if exact_key == "heat_kernel" else "exact chain mean"
    if p.ndim == 1:
        fig, (ax, ax2) = plt.subplots(1, 2, figsize=(11, 4))
        x = p.positions()[0]
        shown = sorted(set(np.linspace(p.steps / 4, p.steps, 4).round().astype(int).tolist()))
        colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
        for c, m in enumerate(shown):
            col = colors[c % len(colors)]
            ax.plot(x, conc[m], "o", ms=3, color=col, label=f"spiking, t = {m * p.dt:.3g}")
            ax.plot(x, exact[m], "-", color=col, lw=1)
            ax.plot(x, chain[m], ":", color=col, lw=1)
        ax.set_xlabel("x")
        ax.set_ylabel("concentration")
        ax.set_title(f"dots: spiking ({sol.trials} trials); line: {label}; dotted: chain mean", fontsize=9)
        ax.legend(fontsize=7)
    else:
        fig, axes = plt.subplots(1, 3, figsize=(13, 4))
        ax, axr, ax2 = axes
        m = p.steps
        vmax = float(max(conc[m].max(), exact[m].max()))
        ext = (0, (p.shape[1] - 1) * p.dx, 0, (p.shape[0] - 1) * p.dx)
        ax.imshow(conc[m], origin="lower", vmin=0, vmax=vmax, extent=ext)
        ax.set_title(f"spiking, t = {m * p.dt:.3g} ({sol.trials} trials)", fontsize=9)
        im = axr.imshow(exact[m], origin="lower", vmin=0, vmax=vmax, extent=ext)
        axr.set_title(f"{label}, t = {m * p.dt:.3g}", fontsize=9)
        fig.colorbar(im, ax=axr)
    times = p.times()
    ax2.plot(times, ref.l2_error(sol.mean(), refs["chain"], p), label="spiking vs chain mean")
    if "heat_kernel" in refs:
        ax2.plot(times, ref.l2_error(sol.mean(), refs["heat_kernel"], p), label="spiking vs heat kernel")
        ax2.plot(times, ref.l2_error(refs["chain"], refs["heat_kernel"], p), "--",
                 label="chain mean vs heat kernel (discretization)")
    ax2.set_xlabel("t")
    ax2.set_ylabel("L2 error of the concentration")
    ax2.legend(fontsize=7)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format=ext_name, dpi=120)
    plt.close(fig)
    _atomic(path, buf.getvalue())
