"""The figures of ``spikec solve``: the spiking field next to the exact solution, and the
error against walkers of ``--convergence``.

Every function returns a :class:`matplotlib.figure.Figure` made without pyplot (no global
state, nothing to close), so tests read a figure's data and axes back; the report writes
it with :meth:`Figure.savefig`. How a field is drawn depends on the problem:

- a 1D mesh, a chain on a 1D grid, or a chain without a grid: concentration against the
  node coordinate (``Chain.coords``, sorted; the node index when there are none);
- a 2D mesh or a chain on a 2D grid: images with x horizontal and y vertical (the image
  array is the field transposed, ``origin="lower"``, the extent the node coordinates
  plus half a cell), each with a colorbar;
- a chain on a 3D grid: the same images of the middle z-slice (node ``(nz - 1) // 2``);
- a chain without a grid whose ``coords`` have 2 or more columns: the nodes drawn at
  their (x, y) coloured by the field, with a colorbar.

In 1D the band is the spread of one trial's field across trials: the mean plus or
minus one sample standard deviation (``ddof = 1``), drawn when there are 2 trials or
more. The error panel has a logarithmic axis from model step 1 (step 0 is exact).
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["field_figure", "convergence_figure", "field_view", "FieldView"]


@dataclass
class FieldView:
    """How a problem's field is drawn. ``kind`` is ``"line"``, ``"image"`` or ``"scatter"``;
    ``x`` (and ``y``) the coordinates along the horizontal (and vertical) axis: per node in
    drawing order for a line or a scatter, per grid line for an image; ``labels`` the axis
    labels; ``note`` what part of the field is shown (a slice), or ""."""

    kind: str
    x: np.ndarray
    y: np.ndarray | None
    labels: tuple[str, str]
    unit: str
    note: str
    _order: np.ndarray | None = None
    _grid: tuple[int, ...] | None = None
    _slice: int | None = None

    def cut(self, field: np.ndarray) -> np.ndarray:
        """The drawn part of ``field`` (shape (..., *problem.shape)): (..., nodes) for a line
        or a scatter, (..., nx, ny) for an image (x first)."""
        arr = np.asarray(field, dtype=float)
        if self._grid is not None:
            arr = arr.reshape(*arr.shape[:-1], *self._grid)
            if self._slice is not None:
                arr = arr[..., self._slice]
            return arr
        if self._order is not None:
            return arr[..., self._order]
        return arr


def _grid_axes(coords: np.ndarray | None, grid: tuple[int, ...]) -> list[np.ndarray]:
    """Each grid axis's coordinates: from ``coords`` (C order, one column per axis) when they
    have a column per axis, else the node index along it."""
    if coords is None or coords.shape[1] < len(grid):
        return [np.arange(s, dtype=float) for s in grid]
    c = coords.reshape(*grid, coords.shape[1])
    out = []
    for a in range(len(grid)):
        index = [0] * len(grid)
        index[a] = slice(None)  # type: ignore[call-overload]
        out.append(np.asarray(c[tuple(index) + (a,)], dtype=float))
    return out


def field_view(problem: Any) -> FieldView:
    """How :func:`field_figure` draws ``problem``'s field (module docstring)."""
    from spikec.diffusion.chain import Chain

    if not isinstance(problem, Chain):
        pos = problem.positions()
        unit = "1 / length" if problem.ndim == 1 else "1 / area"
        label = f"concentration ({unit}; walkers / (walkers at t = 0 x dx^{problem.ndim}))"
        if problem.ndim == 1:
            return FieldView("line", pos[0], None, ("x", label), label, "")
        return FieldView("image", pos[0], pos[1], ("x", "y"), label, "")
    label = "walkers per node / initial walkers"
    coords = problem.coords
    grid = problem.grid
    if grid is not None and len(grid) >= 2:
        axes = _grid_axes(coords, grid)
        if len(grid) == 2:
            return FieldView("image", axes[0], axes[1], ("x", "y"), label, "", _grid=grid)
        k = (grid[2] - 1) // 2
        note = f"middle slice z = {axes[2][k]:.4g} (node {k} of {grid[2]} along z)"
        return FieldView("image", axes[0], axes[1], ("x", "y"), label, note, _grid=grid, _slice=k)
    if coords is not None and coords.shape[1] >= 2:
        return FieldView("scatter", coords[:, 0], coords[:, 1], ("x", "y"), label, "")
    if coords is not None:
        order = np.argsort(coords[:, 0], kind="stable")
        return FieldView("line", coords[order, 0], None, ("x", label), label, "", _order=order)
    return FieldView("line", np.arange(problem.nodes, dtype=float), None, ("node index", label), label, "")


def _title(sol: Any) -> str:
    text = f"{sol.problem.describe()}; {sol.trials} trial{'s' if sol.trials != 1 else ''}, seed {sol.seed}"
    return "\n".join(textwrap.wrap(text, 130))


def _exact(problem: Any, refs: dict[str, np.ndarray]) -> tuple[str, str]:
    return ("heat_kernel", "heat kernel") if "heat_kernel" in refs else ("chain", "exact chain mean")


def _image(fig: Any, ax: Any, view: FieldView, field: np.ndarray, vmax: float, title: str) -> Any:
    """``field`` (nx, ny) with x horizontal: the array drawn is its transpose."""
    x, y = view.x, view.y
    assert y is not None
    hx = (x[1] - x[0]) / 2 if len(x) > 1 else 0.5
    hy = (y[1] - y[0]) / 2 if len(y) > 1 else 0.5
    im = ax.imshow(field.T, origin="lower", vmin=0.0, vmax=vmax, interpolation="nearest", aspect="auto",
                   extent=(x[0] - hx, x[-1] + hx, y[0] - hy, y[-1] + hy))
    ax.set_xlabel(view.labels[0])
    ax.set_ylabel(view.labels[1])
    ax.set_title(title, fontsize=8)
    fig.colorbar(im, ax=ax, label=view.unit)
    return im


def _scatter(fig: Any, ax: Any, view: FieldView, values: np.ndarray, vmax: float, title: str) -> Any:
    pts = ax.scatter(view.x, view.y, c=values, vmin=0.0, vmax=vmax, s=18, cmap="viridis")
    ax.set_xlabel(view.labels[0])
    ax.set_ylabel(view.labels[1])
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_title(title, fontsize=8)
    fig.colorbar(pts, ax=ax, label=view.unit)
    return pts


def _errors(ax: Any, sol: Any, refs: dict[str, np.ndarray]) -> None:
    """L2 errors of the trial-mean field from model step 1 on, log axis."""
    from spikec.diffusion import reference as ref

    p = sol.problem
    times = p.times()[1:]
    mean = sol.mean()
    ax.plot(times, ref.l2_error(mean, refs["chain"], p)[1:], "-",
            label=f"spiking mean of {sol.trials} trials vs exact chain mean")
    if "heat_kernel" in refs:
        ax.plot(times, ref.l2_error(mean, refs["heat_kernel"], p)[1:], "-",
                label=f"spiking mean of {sol.trials} trials vs heat kernel")
        ax.plot(times, ref.l2_error(refs["chain"], refs["heat_kernel"], p)[1:], "--",
                label="chain mean vs heat kernel (discretization)")
    ax.set_yscale("log")
    ax.set_xlabel(f"t (model time; dt = {p.dt:g})")
    ax.set_ylabel("L2 error of the concentration")
    ax.set_title("errors from model step 1 (step 0 is exact)", fontsize=8)
    ax.legend(fontsize=6)


def field_figure(sol: Any, refs: dict[str, np.ndarray]) -> Any:
    """The field of ``sol`` (a :class:`~spikec.backends.diffusion.Solution`) next to the exact
    one of ``refs`` (:func:`spikec.cli.report.references`) and the errors over time."""
    from matplotlib.figure import Figure

    p = sol.problem
    view = field_view(p)
    key, label = _exact(p, refs)
    conc = view.cut(p.concentration(sol.counts))  # (trials, steps + 1, ...)
    mean = conc.mean(axis=0)
    exact = view.cut(p.concentration(refs[key]))
    chain = view.cut(p.concentration(refs["chain"]))
    if view.kind == "line":
        fig = Figure(figsize=(12, 5.6), layout="constrained")
        ax, ax2 = fig.subplots(1, 2)
        shown = sorted(set(np.linspace(p.steps / 3, p.steps, 3).round().astype(int).tolist()))
        colors = ["C0", "C1", "C2", "C3"]
        spread = conc.std(axis=0, ddof=1) if sol.trials > 1 else None
        style = "o" if len(view.x) <= 60 else "-"
        for c, m in enumerate(shown):
            col = colors[c % len(colors)]
            t = f"t = {m * p.dt:.4g}"
            if spread is not None:
                ax.fill_between(view.x, mean[m] - spread[m], mean[m] + spread[m], color=col, alpha=0.18,
                                lw=0, label=f"spiking mean +- 1 s.d. across {sol.trials} trials, {t}")
            ax.plot(view.x, mean[m], style, ms=3, color=col,
                    label=f"spiking mean of {sol.trials} trials, {t}")
            ax.plot(view.x, exact[m], "-", color=col, lw=1, label=f"{label}, {t}")
            if key != "chain":
                ax.plot(view.x, chain[m], ":", color=col, lw=1, label=f"exact chain mean, {t}")
        ax.set_xlabel(view.labels[0])
        ax.set_ylabel(view.labels[1])
        ax.legend(fontsize=6, ncol=2, loc="upper center", bbox_to_anchor=(0.5, -0.14))
    else:
        fig = Figure(figsize=(15, 4.6), layout="constrained")
        ax, axr, ax2 = fig.subplots(1, 3)
        m = p.steps
        vmax = float(max(mean[m].max(), exact[m].max())) or 1.0
        t = f"t = {m * p.dt:.4g}" + (f", {view.note}" if view.note else "")
        draw = _image if view.kind == "image" else _scatter
        draw(fig, ax, view, mean[m], vmax, f"spiking mean of {sol.trials} trials, {t}")
        draw(fig, axr, view, exact[m], vmax, f"{label}, {t}")
    _errors(ax2, sol, refs)
    fig.suptitle(_title(sol), fontsize=8)
    return fig


def convergence_figure(walkers: np.ndarray, errors: np.ndarray, slope: float, intercept: float,
                       title: str, what: str) -> Any:
    """Log-log error against walkers: the measured errors, the fitted line
    ``10**intercept * M**slope`` and the reference ``C / sqrt(M)`` through the points'
    geometric mean (C fitted with the slope held at -1/2)."""
    from matplotlib.figure import Figure

    m = np.asarray(walkers, dtype=float)
    e = np.asarray(errors, dtype=float)
    fig = Figure(figsize=(6.4, 4.8), layout="constrained")
    ax = fig.subplots()
    ax.plot(m, e, "o", label="spiking solver")
    grid = np.geomspace(m.min(), m.max(), 50)
    c = float(np.exp(np.mean(np.log(e) + 0.5 * np.log(m))))
    ax.plot(grid, c / np.sqrt(grid), "--", color="0.4", label="reference C / sqrt(M)")
    ax.plot(grid, 10**intercept * grid**slope, "-", lw=0.8, label=f"fit: slope {slope:.3f}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("walkers M")
    ax.set_ylabel(what)
    ax.set_title("\n".join(textwrap.wrap(title, 80)), fontsize=8)
    ax.legend(fontsize=7)
    return fig
