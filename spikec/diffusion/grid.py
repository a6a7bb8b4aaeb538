"""Lazy random walks on regular grids of 1, 2 or 3 dimensions, with coefficients per node.

:func:`grid_outcomes` gives, for every node of a grid in C order, what can
happen to a walker there in one model step besides staying, as flat arrays
(a CSR layout: node ``i``'s outcomes are ``indptr[i]:indptr[i + 1]``):

    p(+a) = D_e dt / dx^2 + v_a(i) dt / (2 dx)   (one node up axis a)
    p(-a) = D_e dt / dx^2 - v_a(i) dt / (2 dx)   (one node down axis a)
    p(kill) = k(i) dt                           (the walker is removed)

``D_e`` is the edge's coefficient: with ``form = "divergence"`` (the default)
the mean of the two nodes' ``D`` (the node's own across a wall), so the
mean count follows the conservative explicit scheme of
``dC/dt = div(D grad C) - div(v C) - k C``; with ``form = "fokker_planck"``
the walker's own node's ``D(i)``, the scheme of ``dC/dt = laplacian(D C) -
div(v C) - k C`` (the Ito / forward Kolmogorov form a walker with a
position-dependent jump rate obeys). With constant coefficients both are
the equation of :class:`~spikec.diffusion.problem.Problem`, and the arrays
are the very numbers ``Problem.outcomes`` gives, bit for bit (the same
operations in the same order): walls act as there (absorbing: lost;
reflecting: refused, the walker stays; periodic: wraps), moves that end
where they started are dropped, outcomes with one destination are merged in
the order kill, -x, +x, -y, +y, -z, +z, and each node lists its loss first,
then its destinations in increasing order.

Everything is vectorized over nodes: the only Python loops run over the
(at most 7) candidate moves of a node.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from spikec.errors import DiffusionError, did_you_mean

__all__ = ["FORMS", "grid_outcomes", "node_label", "coefficient"]

#: How a variable D enters the equation (module docstring).
FORMS: tuple[str, ...] = ("divergence", "fokker_planck")

_KINDS = ("absorbing", "reflecting", "periodic")  # the boundary kinds of Problem
_TOL = 1e-12  # probabilities this far below 0 (or a sum this far above 1) are rounding


def node_label(shape: Sequence[int], node: int, dx: float | None = None) -> str:
    """``node 7 (i, j) = (1, 2)`` with, given ``dx``, the position: for error messages."""
    index = tuple(int(i) for i in np.unravel_index(int(node), tuple(shape)))
    text = f"node {int(node)}"
    if len(shape) > 1:
        text += f" (index {index})"
    if dx is not None:
        pos = ", ".join(f"{i * dx:g}" for i in index)
        text += f" at x = {pos}" if len(shape) == 1 else f" at ({pos})"
    return text


def coefficient(name: str, value: Any, nodes: int, low: float | None = None,
                columns: int | None = None) -> np.ndarray:
    """A coefficient per node as a float array of shape (nodes,) (or (nodes, columns)):
    a number broadcast, or one value per node (any shape holding ``nodes`` values, C order);
    finite, and ``>= low`` when given, or a :class:`DiffusionError` naming the first bad node."""
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise DiffusionError(f"{name} must be a number or one number per node") from None
    want = (nodes,) if columns is None else (nodes, columns)
    if arr.ndim == 0:
        arr = np.broadcast_to(arr, want)
    elif columns is not None and arr.ndim == 1 and arr.size == columns:
        arr = np.broadcast_to(arr, want)  # one vector for every node
    elif arr.size == int(np.prod(want)):
        arr = arr.reshape(want)
    else:
        raise DiffusionError(f"{name} has {arr.size:,} values; give one number or one per node ({nodes:,})"
                             + ("" if columns is None else f" x {columns} components"))
    bad = ~np.isfinite(arr) if low is None else ~(np.isfinite(arr) & (arr >= low))
    if bad.any():
        first = int(np.flatnonzero(bad.reshape(nodes, -1).any(axis=1))[0])
        what = "finite" if low is None else f"finite and >= {low:g}"
        shown = arr.reshape(nodes, -1)[first].tolist()
        value = shown[0] if columns is None else shown
        raise DiffusionError(f"{name} must be {what}: node {first} has {value}")
    return np.ascontiguousarray(arr)


def grid_outcomes(shape: Sequence[int], D: Any, dx: float, dt: float, *,
                  boundary: Sequence[tuple[str, str]], drift: Any = 0.0, kill: Any = 0.0,
                  form: str = "divergence") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(indptr, dest, prob)``: every node's outcomes (module docstring), ``dest = -1`` for a
    walker lost. ``D`` and ``kill`` are a number or one per node, ``drift`` a number (for
    every axis), one vector, or one vector per node. Raises :class:`DiffusionError` naming the
    worst node when a probability is negative (too strong a drift) or the node's outcomes
    pass 1 (too large a ``dt``, with the bound that would do)."""
    shape = tuple(int(n) for n in shape)
    ndim = len(shape)
    if not 1 <= ndim <= 3:
        raise DiffusionError(f"a grid has 1, 2 or 3 dimensions, got shape {shape}")
    if form not in FORMS:
        raise DiffusionError(f"form must be one of {', '.join(repr(f) for f in FORMS)}, got {form!r}")
    if len(boundary) != ndim:
        raise DiffusionError(f"give one boundary pair per axis ({ndim}), got {len(boundary)}")
    for pair in boundary:
        for kind in pair:
            if kind not in _KINDS:
                raise DiffusionError(f"boundary must be one of {', '.join(repr(b) for b in _KINDS)}, got"
                                     f" {kind!r}{did_you_mean(str(kind), _KINDS)}")
    if not (math.isfinite(dt) and dt > 0 and math.isfinite(dx) and dx > 0):
        raise DiffusionError(f"dt and dx must be numbers > 0, got dt = {dt!r}, dx = {dx!r}")
    n = int(np.prod(shape))
    d = coefficient("D", D, n, low=0.0)
    k = coefficient("kill", kill, n, low=0.0)
    v = coefficient("drift", drift, n, columns=ndim)
    node = np.arange(n, dtype=np.int64)
    index = np.unravel_index(node, shape)
    strides = [int(np.prod(shape[a + 1:])) for a in range(ndim)]
    probs = [k * dt]
    dests = [np.full(n, -1, dtype=np.int64)]
    moving = np.zeros(n)  # every move, refused or not (the check), in the order -x, +x, ...
    for a in range(ndim):
        shift = v[:, a] * dt / (2 * dx)  # the operations and order of Problem's
        for step in (-1, 1):
            kind = boundary[a][0 if step < 0 else 1]
            i = index[a] + step
            inside = (i >= 0) & (i < shape[a])
            wrapped = np.mod(i, shape[a])
            dest = node + (wrapped - index[a]) * strides[a]
            reach = inside | (kind == "periodic")
            if form == "divergence":
                base = (d + np.where(reach, d[np.where(reach, dest, node)], d)) / 2 * dt / dx**2
            else:
                base = d * dt / dx**2
            p = base - shift if step < 0 else base + shift
            if (p < -_TOL).any():
                _drift_error(shape, dx, a, p, base, shift)
            p = np.maximum(p, 0.0)
            moving = moving + p
            probs.append(p)
            dests.append(np.where(inside | (kind == "periodic"), dest,
                                  node if kind == "reflecting" else -1))
    moving = moving + probs[0]
    if (moving > 1 + _TOL).any():
        worst = int(np.argmax(moving))
        rate = moving[worst] / dt
        raise DiffusionError(
            f"dt = {dt:g} is too large: a walker at {node_label(shape, worst, dx)} would leave it with"
            f" probability {moving[worst]:.4g} > 1 (its moves and killing); take dt <= {1.0 / rate:.4g}")
    return _merge(n, np.stack(probs, axis=1), np.stack(dests, axis=1))


def _drift_error(shape: tuple[int, ...], dx: float, axis: int, p: np.ndarray, base: np.ndarray,
                 shift: np.ndarray) -> None:
    worst = int(np.argmin(p))
    name = "xyz"[axis]
    raise DiffusionError(
        f"the drift along {name} at {node_label(shape, worst, dx)} is too strong for dx = {dx:g}: the"
        f" walk would need a negative probability ({base[worst]:.4g} < |v| dt/(2 dx) ="
        f" {abs(shift[worst]):.4g});"
        " the cell Peclet number |v| dx / (2 D) must be <= 1 there")


def _merge(n: int, prob: np.ndarray, dest: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Candidates (n, c) -> CSR outcomes: drop zero and stay-put ones, merge equal destinations
    summing in candidate order, loss first then destinations ascending."""
    node = np.repeat(np.arange(n, dtype=np.int64), prob.shape[1])
    col = np.tile(np.arange(prob.shape[1]), n)
    p, t = prob.reshape(-1), dest.reshape(-1)
    keep = (p > 0) & (t != node)
    node, col, p, t = node[keep], col[keep], p[keep], t[keep]
    order = np.lexsort((col, t, node))
    node, p, t = node[order], p[order], t[order]
    new = np.ones(len(node), dtype=bool)
    new[1:] = (node[1:] != node[:-1]) | (t[1:] != t[:-1])
    group = np.cumsum(new) - 1
    starts = np.flatnonzero(new)
    rank = np.arange(len(node)) - starts[group]
    acc = np.zeros(len(starts))
    for r in range(int(rank.max()) + 1 if len(rank) else 0):  # sequential sums, as a Python loop adds
        at = rank == r
        acc[group[at]] += p[at]
    owner = node[starts]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.add.at(indptr, owner + 1, 1)
    return np.cumsum(indptr), t[starts].copy(), acc
