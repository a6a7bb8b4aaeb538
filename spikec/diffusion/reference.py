"""Continuous and finite-difference reference solutions for diffusion problems.

A :class:`~spikec.diffusion.Problem` is a lattice random walk whose mean obeys
the explicit scheme of

    dC/dt = D * laplacian(C) - v . grad(C) - k * C.

This module gives two references to measure the walk (and the spiking
solvers built from it) against.

**The heat kernel** (:func:`heat_kernel`) is the solution of the continuous
equation. A unit mass at ``x0`` in free space spreads as the Gaussian

    g(x, t | x0) = exp(-(x - x0 - v t)^2 / (4 D t)) / sqrt(4 pi D t)

(variance ``2 D t`` per axis, mean moved by ``v t``). The expected walkers
at node ``j`` are approximated by the midpoint rule,
``sum_i count_i * G(x_j, t | x_i) * dx^ndim``; at ``t = 0`` the initial
counts are returned exactly. The lattice walls become continuous walls
where the walk puts them (node ``i`` at ``x = i dx``, nodes ``0..n-1``):

- a reflecting end refuses the move, so no walker crosses the face between
  the last node and the ghost one: a zero-flux (Neumann) wall half a node
  outside the mesh, ``a = -dx/2`` or ``b = (n - 1/2) dx``;
- an absorbing end loses the walker on the ghost node, where the
  concentration is therefore zero: a Dirichlet wall one node outside,
  ``a = -dx`` or ``b = n dx``;
- a periodic axis has period ``P = n dx``.

On an interval ``[a, b]`` of length ``L`` with wall signs ``s = +1``
(reflecting) or ``-1`` (absorbing), the method of images gives

    G = sum_n (s_a s_b)^n [ g(x | x0 + 2 n L) + s_a g(x | 2a - x0 + 2 n L) ]

over all integers ``n``; on a periodic axis ``G = sum_m g(x | x0 + m P)``.
Terms whose centre lies more than 12 standard deviations beyond the domain
(relative size below 1e-31) are dropped; the number kept grows with
``sqrt(D t) / L``. Near the Dirichlet walls at late times the sum cancels
heavily, so its error there is absolute (about 1e-16 of the peak), not
relative. In 2D the kernel is the product of the kernels of the two axes
(the operator separates), and killing multiplies everything by
``exp(-k t)``. Drift is supported on periodic axes only: with a wall, the
advection-diffusion kernel has no image solution (the images would have to
drift the other way), so :func:`heat_kernel` refuses it and the finite
differences or :meth:`Problem.exact_mean` are the reference. ``D = 0`` is
refused as well: the kernel is then a point mass, not a field.

**Finite differences** (:func:`finite_difference`) solve the semi-discrete
system ``dc/dt = A c`` on the same mesh, with ``A = (P^T - I) / dt`` and
``P = problem.transition_matrix()``. Off the diagonal ``A`` holds
``D / dx^2 +- v / (2 dx)`` (central second and first differences), on it
``-(2 ndim D / dx^2 + k)``, and the walls act exactly as in the walk: a move
refused by a reflecting wall stays on the diagonal, a move through an
absorbing wall is dropped, a periodic move wraps. Building ``A`` from the
chain makes the identity exact: the explicit scheme with one sub-step per
model step *is* the chain's mean, ``initial @ P^m``. The theta scheme

    (I - theta h A) c_new = (I + (1 - theta) h A) c_old,    h = dt / substeps

is explicit Euler at ``theta = 0``, Crank-Nicolson at ``0.5`` and implicit
Euler at ``1``; since ``h A = (P^T - I) / substeps``, the time step never
enters except through the chain. The left matrix is factored once
(sparse LU) and reused for every sub-step. Every scheme is stable here: by
Gershgorin each eigenvalue of ``h A`` lies in a disc ``|z + r| <= r`` with
``r = (1 - P_ii) / substeps <= 1``, which the stability region of every
theta in ``[0, 1]`` contains, given ``P_ii >= 0`` (checked).

**Error norm** (:func:`l2_error`): the discrete L2 norm of the difference of
two fields as concentrations, ``c = counts / (walkers dx^ndim)``,
``sqrt(sum (c_est - c_ref)^2 dx^ndim)``, per model step. The chain's mean
differs from the heat kernel by ``O(dt) + O(dx^2)``, i.e. ``O(dx^2)`` at a
fixed ``D dt / dx^2``: the discretization floor no sampling solver of the
walk can go below.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from spikec.diffusion.chain import Chain
from spikec.diffusion.problem import DiffusionError, Problem

__all__ = ["heat_kernel", "finite_difference", "l2_error", "variable_operator", "variable_fd"]

#: Images are kept while their centre is within this many standard deviations of the domain.
_IMAGE_SIGMAS = 12.0

_WALL_SIGN = {"reflecting": 1.0, "absorbing": -1.0}


def _steps(problem: Problem | Chain, steps: int | None) -> int:
    if steps is None:
        return problem.steps
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 0:
        raise DiffusionError(f"steps must be an integer >= 0, got {steps!r}")
    return int(steps)


def _gaussian(z: np.ndarray, variance: float) -> np.ndarray:
    return np.exp(-(z * z) / (2.0 * variance)) / math.sqrt(2.0 * math.pi * variance)


def _wall_axis_kernel(n: int, dx: float, variance: float, low: str, high: str,
                      sources: np.ndarray) -> np.ndarray:
    """``K[j, s] = dx * G(x_j | x_i)`` for ``i = sources[s]``, on an interval with
    reflecting/absorbing ends."""
    a = -dx / 2 if low == "reflecting" else -dx
    b = (n - 0.5) * dx if high == "reflecting" else n * dx
    length = b - a
    s_a, s_b = _WALL_SIGN[low], _WALL_SIGN[high]
    # x_j - x_i - 2nL is never closer than (2|n| - 1) L to 0, and x_j + x_i - 2a - 2nL
    # never closer than (2|n| - 2) L: this many images reach within 12 sigma.
    sigma = math.sqrt(variance)
    count = math.ceil(_IMAGE_SIGMAS * sigma / (2 * length)) + 2
    images = np.arange(-count, count + 1)
    sign = np.where(images % 2 == 0, 1.0, s_a * s_b)
    shifts = 2.0 * length * images
    diffs = np.arange(-(n - 1), n) * dx  # x_j - x_i, index (j - i) + n - 1
    sums = np.arange(0, 2 * n - 1) * dx - 2 * a  # x_j + x_i - 2a, index j + i
    direct = (sign[:, None] * _gaussian(diffs[None, :] - shifts[:, None], variance)).sum(axis=0)
    mirror = s_a * (sign[:, None] * _gaussian(sums[None, :] - shifts[:, None], variance)).sum(axis=0)
    j, i = np.arange(n)[:, None], sources[None, :]
    return dx * (direct[j - i + n - 1] + mirror[j + i])


def _periodic_axis_kernel(n: int, dx: float, variance: float, shift: float,
                          sources: np.ndarray) -> np.ndarray:
    """``K[j, s] = dx * G(x_j | x_i)`` for ``i = sources[s]``, on a ring of period ``n dx``,
    the mass moved by ``shift``."""
    period = n * dx
    shift = math.fmod(shift, period)
    if shift < 0:
        shift += period
    # x_j - x_i - shift lies in (-2P, P): image m is at least (|m| - 2) P away.
    count = math.ceil(_IMAGE_SIGMAS * math.sqrt(variance) / period) + 2
    shifts = shift + period * np.arange(-count, count + 1)
    diffs = np.arange(-(n - 1), n) * dx
    wrapped = _gaussian(diffs[None, :] - shifts[:, None], variance).sum(axis=0)
    j, i = np.arange(n)[:, None], sources[None, :]
    return dx * wrapped[j - i + n - 1]


def _check_kernel_problem(problem: Problem) -> None:
    if problem.D == 0:
        raise DiffusionError(
            "heat_kernel needs D > 0: with D = 0 the continuous solution is a point mass at each"
            " start node, not a field on the mesh; use finite_difference or Problem.exact_mean")
    for axis, v, (low, high) in zip("xy", problem.drift, problem.boundary, strict=False):
        if v != 0 and low != "periodic":
            raise DiffusionError(
                f"heat_kernel supports drift only on periodic axes: axis {axis} has drift {v:g} and"
                f" {low}/{high} walls, where advection-diffusion has no image solution; use"
                " finite_difference or Problem.exact_mean as the reference")


def heat_kernel(problem: Problem | Chain, steps: int | None = None) -> np.ndarray:
    """Expected walkers per node from the continuous equation, shape (steps + 1, *shape).

    Row m is ``sum_i count_i * G(x, m dt | x_i) * dx^ndim`` with the image
    kernel of the module docstring (row 0 is the initial counts exactly).
    ``steps`` defaults to ``problem.steps``. Raises :class:`DiffusionError`
    for ``D = 0`` and for drift along an axis that is not periodic.
    """
    if isinstance(problem, Chain):
        raise DiffusionError("heat_kernel needs a regular-mesh Problem with constant coefficients; a general"
                             " chain's references are Chain.exact_mean and finite_difference")
    steps = _steps(problem, steps)
    out = np.zeros((steps + 1, *problem.shape))
    out[0] = problem.initial
    if steps == 0:
        return out
    _check_kernel_problem(problem)
    # Only the columns of occupied start nodes are needed (a point source costs O(n) per step).
    occupied = np.nonzero(problem.initial)
    sources = [np.unique(index) for index in occupied]
    initial = problem.initial[np.ix_(*sources)].astype(float)
    for m in range(1, steps + 1):
        t = m * problem.dt
        variance = 2.0 * problem.D * t
        kernels = []
        for n, (low, high), v, cols in zip(problem.shape, problem.boundary, problem.drift, sources,
                                           strict=True):
            if low == "periodic":
                kernels.append(_periodic_axis_kernel(n, problem.dx, variance, v * t, cols))
            else:
                kernels.append(_wall_axis_kernel(n, problem.dx, variance, low, high, cols))
        field = kernels[0] @ initial
        if problem.ndim == 2:
            field = field @ kernels[1].T
        out[m] = field * math.exp(-problem.kill * t)
    return out


def finite_difference(problem: Problem | Chain, theta: float = 0.0, substeps: int = 1,
                      steps: int | None = None) -> np.ndarray:
    """Expected walkers per node from the theta scheme, shape (steps + 1, *shape).

    ``theta`` 0 is explicit Euler, 0.5 Crank-Nicolson, 1 implicit Euler;
    each model step is ``substeps`` sub-steps of ``dt / substeps``. The
    operator is the chain's, ``A = (P^T - I) / dt``, so ``theta = 0`` with
    one sub-step reproduces :meth:`Problem.exact_mean` (to rounding). A
    :class:`~spikec.diffusion.chain.Chain`'s sources are added at the end of each model
    step, as the walk injects them (the result then has shape (steps + 1, nodes)).
    """
    steps = _steps(problem, steps)
    if isinstance(theta, bool) or not isinstance(theta, (int, float, np.integer, np.floating)) \
            or not 0.0 <= float(theta) <= 1.0:
        raise DiffusionError(f"theta must be a number in [0, 1], got {theta!r}")
    if isinstance(substeps, bool) or not isinstance(substeps, (int, np.integer)) or substeps < 1:
        raise DiffusionError(f"substeps must be an integer >= 1, got {substeps!r}")
    theta = float(theta)
    chain = problem.transition_matrix()
    stay = chain.diagonal()
    if stay.size and stay.min() < -1e-12:
        # Problem.check rules this out; a negative stay would make the schemes unstable.
        raise DiffusionError(f"the walk has a negative stay probability ({stay.min():.3g}): dt is too large")
    n = problem.nodes
    eye = sp.identity(n, format="csr")
    step_op = (chain.T.tocsr() - eye) / substeps  # h A
    explicit = (eye + (1.0 - theta) * step_op).tocsr()
    solver = spla.splu((eye - theta * step_op).tocsc()) if theta > 0 else None
    out = np.zeros((steps + 1, n))
    state = problem.initial.reshape(-1).astype(float)
    out[0] = state
    table = problem.source_table(steps) if isinstance(problem, Chain) else None
    for m in range(1, steps + 1):
        for _ in range(substeps):
            state = explicit @ state
            if solver is not None:
                state = solver.solve(state)
        if table is not None:
            state = state + table[m - 1]
        out[m] = state
    return out.reshape((steps + 1, *problem.shape))


def variable_operator(shape: tuple[int, ...], D: Any, dx: float, *, boundary: Any = "reflecting",
                      drift: Any = 0.0, kill: Any = 0.0, form: str = "divergence") -> sp.csr_matrix:
    """The semi-discrete operator ``A`` of ``dc/dt = A c`` on a regular grid of 1, 2 or 3
    dimensions with D, v (per axis) and k per node, assembled face by face from the
    equation (independently of the walk's routing):

    - across the face between neighbours i and j along axis a (j = i + 1, or the wrap of
      a periodic axis) flow ``F(i -> j) = (D_e / dx^2 + v_a(i) / (2 dx)) c_i`` and
      ``F(j -> i) = (D_e / dx^2 - v_a(j) / (2 dx)) c_j``, with ``D_e = (D_i + D_j) / 2``
      (``form = "divergence"``: ``div(D grad c)``) or the sending node's D
      (``"fokker_planck"``: ``laplacian(D c)``); central differences of ``v c``;
    - through an absorbing wall the outward flow leaves (``D_i / dx^2 +- v_a(i) / (2 dx)``);
      a reflecting wall lets nothing through;
    - killing removes ``k_i c_i``.

    Raises :class:`DiffusionError` for an unknown form or boundary."""
    from spikec.diffusion.grid import FORMS, coefficient

    shape = tuple(int(s) for s in shape)
    if form not in FORMS:
        raise DiffusionError(f"form must be one of {', '.join(repr(f) for f in FORMS)}, got {form!r}")
    ndim, n = len(shape), math.prod(shape)
    pairs = [(boundary, boundary)] * ndim if isinstance(boundary, str) else [tuple(b) for b in boundary]
    d = coefficient("D", D, n, low=0.0)
    v = coefficient("drift", drift, n, columns=ndim)
    k = coefficient("kill", kill, n, low=0.0)
    idx = np.arange(n).reshape(shape)
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    vals: list[np.ndarray] = []

    def flow(src: np.ndarray, dst: np.ndarray | None, axis: int, sign: float) -> None:
        """A flow out of ``src`` (towards ``dst``, None: out of the mesh) along ``axis``."""
        if dst is None:
            edge = d[src]
        else:
            edge = (d[src] + d[dst]) / 2 if form == "divergence" else d[src]
        rate = edge / dx**2 + sign * v[src, axis] / (2 * dx)
        rows.append(src)
        cols.append(src)
        vals.append(-rate)
        if dst is not None:
            rows.append(dst)
            cols.append(src)
            vals.append(rate)

    for a in range(ndim):
        low = np.take(idx, range(shape[a] - 1), axis=a).reshape(-1)
        high = np.take(idx, range(1, shape[a]), axis=a).reshape(-1)
        flow(low, high, a, 1.0)
        flow(high, low, a, -1.0)
        first, last = np.take(idx, 0, axis=a).reshape(-1), np.take(idx, shape[a] - 1, axis=a).reshape(-1)
        kinds = pairs[a]
        if kinds[0] not in ("absorbing", "reflecting", "periodic") or kinds[1] not in (
                "absorbing", "reflecting", "periodic"):
            raise DiffusionError(f"unknown boundary {kinds!r} on axis {a}")
        if kinds[0] == "periodic":
            if shape[a] > 1:
                flow(last, first, a, 1.0)
                flow(first, last, a, -1.0)
        else:
            if kinds[0] == "absorbing":
                flow(first, None, a, -1.0)
            if kinds[1] == "absorbing":
                flow(last, None, a, 1.0)
    rows.append(np.arange(n))
    cols.append(np.arange(n))
    vals.append(-k)
    return sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n))


def variable_fd(shape: tuple[int, ...], D: Any, dx: float, dt: float, steps: int, initial: Any, *,
                boundary: Any = "reflecting", drift: Any = 0.0, kill: Any = 0.0, form: str = "divergence",
                sources: Any = None, theta: float = 0.0, substeps: int = 1) -> np.ndarray:
    """Expected walkers per node, shape (steps + 1, nodes), by the theta scheme of
    :func:`variable_operator` (``theta`` 0 explicit, 0.5 Crank-Nicolson, 1 implicit;
    ``substeps`` per model step), ``sources`` (one count per node, or a table of one row
    per model step) added at the end of each model step. With ``theta = 0`` and one
    sub-step this is the explicit finite-difference scheme that the walk's mean follows."""
    a = variable_operator(shape, D, dx, boundary=boundary, drift=drift, kill=kill, form=form)
    n = a.shape[0]
    h = dt / substeps
    eye = sp.identity(n, format="csr")
    explicit = (eye + (1.0 - theta) * h * a).tocsr()
    solver = spla.splu((eye - theta * h * a).tocsc()) if theta > 0 else None
    table = np.zeros((steps, n))
    if sources is not None:
        src = np.asarray(sources, dtype=float)
        if src.ndim == 1:
            table[:] = src.reshape(-1)
        else:
            table[: min(steps, src.shape[0])] = src[:steps]
    out = np.zeros((steps + 1, n))
    state = np.asarray(initial, dtype=float).reshape(-1)
    out[0] = state
    for m in range(1, steps + 1):
        for _ in range(substeps):
            state = explicit @ state
            if solver is not None:
                state = solver.solve(state)
        state = state + table[m - 1]
        out[m] = state
    return out


def l2_error(estimate: np.ndarray, reference: np.ndarray, problem: Problem) -> np.ndarray:
    """Discrete L2 distance of two count fields as concentrations, one value per step.

    Both arrays have shape (steps + 1, *shape) (a single field of shape
    ``problem.shape`` counts as one step); counts become concentrations
    ``counts / (walkers * dx^ndim)`` and the result is
    ``sqrt(sum over nodes (c_est - c_ref)^2 * dx^ndim)``, shape (steps + 1,).
    """
    est = np.asarray(estimate, dtype=float)
    ref = np.asarray(reference, dtype=float)
    if est.shape != ref.shape:
        raise DiffusionError(f"l2_error: the estimate has shape {est.shape}, the reference {ref.shape}")
    if est.shape == problem.shape:
        est, ref = est[None], ref[None]
    if est.ndim != problem.ndim + 1 or est.shape[1:] != problem.shape:
        raise DiffusionError(
            f"l2_error: fields must have shape (steps + 1, *{problem.shape}), got {est.shape}")
    diff = problem.concentration(est) - problem.concentration(ref)
    axes = tuple(range(1, diff.ndim))
    return np.sqrt(np.sum(diff * diff, axis=axes) * problem.dx**problem.ndim)
