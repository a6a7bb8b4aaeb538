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

__all__ = ["references", "report", "cost_lines", "node_coordinates", "write_csv", "write_npz", "plot",
           "save_figure", "check_outputs"]

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


def report(sol: Any, refs: dict[str, np.ndarray], out: TextIO, source: str = "",
           cost: dict[str, Any] | str | None = None) -> dict[str, Any]:
    """Print the per-step table; return a JSON-ready summary. ``cost`` is the run's price on a
    target (:func:`spikec.backends.diffusion.walker_step_cost`), or why it was not measured."""
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
        f" {res['neural_steps_per_model_step']:.1f} neural steps per model step\n")
    out.write(cost_lines(cost) + "\n")
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
    from spikec.cli.report_exits import exits_report

    return {
        **exits_report(sol, out),
        "problem": p.to_dict(), "trials": sol.trials, "seed": sol.seed,
        "resources": res, "cost": cost if isinstance(cost, dict) else None,
        "neural_steps": sol.neural_steps.tolist(),
        "mean": mean.tolist(), "l2_vs_chain": err_chain.tolist(),
        "l2_vs_heat_kernel": None if err_heat is None else err_heat.tolist(),
    }


def cost_lines(cost: dict[str, Any] | str | None) -> str:
    """The cost lines of the report: per walker step, the spikes, synaptic events, neuron
    updates, messages and hops the target's energy model charges, and the energy."""
    if cost is None:
        return ""
    if isinstance(cost, str):
        return f"energy: not measured ({cost})\n"
    per = cost["per_walker_step"]
    parts = per["energy_breakdown"]
    total = per["energy"] or 1.0
    share = ", ".join(f"{k.replace('_', ' ')} {100 * v / total:.0f}%" for k, v in parts.items() if v)
    return (f"cost on {cost['target']} ({cost['cores']} core{'s' if cost['cores'] != 1 else ''}; its energy"
            " model; every trial counted up to its last model step), per walker step:\n"
            f"  {per['spikes']:.3g} spikes, {per['synaptic_events']:.3g} synaptic events,"
            f" {per['neuron_updates']:.3g} neuron updates, {per['messages']:.3g} messages,"
            f" {per['hops']:.3g} hops: {per['energy'] * 1e12:,.0f} pJ ({share})\n")


def _atomic(path: str, data: bytes) -> None:
    from spikec.ir.serialize import write_bytes_atomic

    try:
        write_bytes_atomic(path, data)
    except OSError as exc:
        raise SpikecError(f"cannot write {path}: {exc.strerror or exc}") from None


def node_coordinates(problem: Any) -> tuple[list[str], np.ndarray]:
    """Column names and values (nodes in C order, one row each) of the node coordinates: x (and
    y) of a regular mesh; for a chain its node index, then ``Chain.coords`` (x, y, z, then c3,
    c4, ...) when it has them."""
    from spikec.diffusion.chain import Chain

    if not isinstance(problem, Chain):
        grids = np.meshgrid(*problem.positions(), indexing="ij")
        return ["x", "y", "z"][: problem.ndim], np.stack([g.reshape(-1) for g in grids], axis=1)
    index = np.arange(problem.nodes, dtype=float)[:, None]
    if problem.coords is None:
        return ["node"], index
    d = problem.coords.shape[1]
    names = ["x", "y", "z"][:d] + [f"c{i}" for i in range(3, d)]
    return ["node", *names], np.hstack([index, problem.coords])


def write_csv(path: str, sol: Any, refs: dict[str, np.ndarray]) -> None:
    """One row per model step and node: step, time, the node's coordinates
    (:func:`node_coordinates`), mean walkers, concentration, references."""
    p: Problem = sol.problem
    mean = sol.mean()
    names = list(refs)
    coord_names, coords = node_coordinates(p)
    n, steps = p.nodes, p.steps + 1
    columns = [np.repeat(np.arange(steps), n), np.repeat(p.times(), n),
               *[np.tile(coords[:, j], steps) for j in range(coords.shape[1])],
               mean.reshape(-1), p.concentration(mean).reshape(-1),
               *[np.asarray(refs[k], dtype=float).reshape(-1) for k in names]]
    table = np.column_stack(columns)
    buf = io.StringIO()
    buf.write(",".join(["step", "time", *coord_names, "walkers_mean", "concentration", *names]) + "\n")
    np.savetxt(buf, table, fmt=["%d"] + ["%.12g"] * (table.shape[1] - 1), delimiter=",")
    _atomic(path, buf.getvalue().encode())


def write_npz(path: str, sol: Any, refs: dict[str, np.ndarray]) -> None:
    """Every trial's counts (trials, steps + 1, *shape), their mean, the references,
    times, node positions (``x0``, ``x1``: the mesh axes, or a chain's node index), the node
    coordinates (``coords``: one row per node in C order, columns ``coord_names``; a chain's
    ``grid`` when it has one) and the problem (JSON)."""
    p: Problem = sol.problem
    buf = io.BytesIO()
    arrays: dict[str, Any] = {f"ref_{k}": v for k, v in refs.items()}
    arrays.update({f"x{i}": x for i, x in enumerate(p.positions())})
    coord_names, coords = node_coordinates(p)
    arrays.update(coords=coords, coord_names=np.array(coord_names))
    grid = getattr(p, "grid", None)
    if grid is not None:
        arrays["grid"] = np.array(grid, dtype=np.int64)
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


def plot(path: str, sol: Any, refs: dict[str, np.ndarray]) -> Any:
    """Draw the spiking field next to the exact one and the errors over time
    (:func:`spikec.cli.solve_figures.field_figure`) to ``path`` (PNG, SVG or PDF by
    extension); returns the figure."""
    from spikec.cli.solve_figures import field_figure

    return save_figure(path, field_figure(sol, refs))


def save_figure(path: str, fig: Any) -> Any:
    """Write the matplotlib figure ``fig`` to ``path`` (PNG, SVG or PDF by extension) in one
    atomic write; returns ``fig``."""
    ext_name = _image_format(path)
    _pyplot()
    buf = io.BytesIO()
    fig.savefig(buf, format=ext_name, dpi=120)
    _atomic(path, buf.getvalue())
    return fig
