"""Diffusion problems for random-walk solvers: the physics, checked, as a Markov chain.

A :class:`Problem` states an advection-diffusion-reaction equation on a
regular mesh of 1 or 2 dimensions,

    dC/dt = D * laplacian(C) - v . grad(C) - k * C,

with mesh spacing ``dx`` (the same along every axis), model time step
``dt``, a boundary kind at each end of each axis, an initial number of
walkers at each mesh node, and a number of model steps. The spiking solvers
(``std.diffusion``: the density and the particle method) move every walker
once per model step with the probabilities of :meth:`Problem.probabilities`:

    p(+a) = D dt / dx^2 + v_a dt / (2 dx)      (one node up axis a)
    p(-a) = D dt / dx^2 - v_a dt / (2 dx)      (one node down axis a)
    p(kill) = k dt                            (the walker is removed)
    p(stay) = 1 - sum of the above

so the mean number of walkers per node follows the explicit (forward
Euler, central difference) finite-difference scheme of the equation exactly.
Boundaries act on moves that would leave the mesh:

- ``absorbing``: the walker leaves and is lost (a zero-concentration wall
  one node outside the mesh);
- ``reflecting``: the move is refused and the walker stays (a zero-flux wall
  half a node outside the mesh);
- ``periodic``: the walker re-enters at the other end (both ends of the axis
  must then be periodic).

Nodes are numbered in C order over the mesh shape ``(nx,)`` or ``(nx, ny)``:
node ``(i, j)`` is ``i * ny + j``, at position ``(i * dx, j * dx)``.

This module is pure numpy/scipy (no simulator): the problem, its checks,
the per-node outcomes the circuits are built from, the transition matrix and
the exact distribution of the chain. The continuous references (heat kernel,
finite differences) are in :mod:`spikec.diffusion.reference`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from spikec.diffusion.counts import read_counts
from spikec.errors import DiffusionError, did_you_mean

if TYPE_CHECKING:
    from spikec.diffusion.chain import Chain

__all__ = [
    "BOUNDARIES",
    "METHODS",
    "DiffusionError",
    "Problem",
    "problem_from_params",
    "PROBLEM_PARAMS",
    "chain_counts",
    "Readout",
    "exits_label",
]

#: Boundary kinds, in the order of their codes.
BOUNDARIES: tuple[str, ...] = ("absorbing", "reflecting", "periodic")
#: Solver methods: one counting circuit per mesh node, or one circuit per walker.
METHODS: tuple[str, ...] = ("density", "particle")
#: Largest mesh and walker counts a problem may ask for (a guard against typos).
MAX_NODES = 1_000_000
MAX_WALKERS = 10**9
MAX_STEPS = 10**7
MAX_TABLE_BYTES = 2**30  # the largest table of per-step distributions computed


def _real(name: str, value: Any, low: float | None = None, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise DiffusionError(f"{name} must be a number, got {value!r}")
    try:
        out = float(value)
    except OverflowError:  # an integer past float range
        raise DiffusionError(f"{name} must be finite, got an integer of {len(str(abs(int(value))))}"
                             " digits") from None
    if not math.isfinite(out):
        raise DiffusionError(f"{name} must be finite, got {value!r}")
    if positive and out <= 0:
        raise DiffusionError(f"{name} must be > 0, got {value!r}")
    if low is not None and out < low:
        raise DiffusionError(f"{name} must be >= {low:g}, got {value!r}")
    return out


def _int(name: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise DiffusionError(f"{name} must be an integer, got {value!r}")
    if value != int(value):
        raise DiffusionError(f"{name} must be an integer, got {value!r}")
    out = int(value)
    if not low <= out <= high:
        raise DiffusionError(f"{name} must be in {low:,}..{high:,}, got {out:,}")
    return out


def _boundary(name: str, value: Any) -> str:
    if not isinstance(value, str) or value not in BOUNDARIES:
        hint = did_you_mean(value, BOUNDARIES) if isinstance(value, str) else ""
        raise DiffusionError(
            f"{name} must be one of {', '.join(repr(b) for b in BOUNDARIES)}, got {value!r}{hint}")
    return value


@dataclass(frozen=True)
class Problem:
    """One diffusion problem; see the module docstring. Build it with
    :func:`problem_from_params` (which checks everything) or directly (then
    call :meth:`check`, which the constructor does too)."""

    shape: tuple[int, ...]
    D: float
    dx: float
    dt: float
    steps: int
    initial: np.ndarray = field(compare=False)
    boundary: tuple[tuple[str, str], ...] = (("reflecting", "reflecting"),)
    drift: tuple[float, ...] = (0.0,)
    kill: float = 0.0
    method: str = "density"

    def __post_init__(self) -> None:
        try:
            counts = np.asarray(self.initial)
        except (TypeError, ValueError):
            raise DiffusionError("the initial counts must be an array of integers") from None
        if counts.dtype.kind == "f" and np.all(np.isfinite(counts)) and np.all(counts == np.round(counts)):
            counts = counts.astype(np.int64)
        object.__setattr__(self, "initial", counts)
        object.__setattr__(self, "shape", tuple(int(n) for n in self.shape))
        self.check()

    # -- checks ------------------------------------------------------------------

    def check(self) -> None:
        """Raise :class:`DiffusionError` unless the problem is well posed and its
        walk probabilities are probabilities."""
        if not 1 <= len(self.shape) <= 2:
            raise DiffusionError(f"a mesh has 1 or 2 dimensions, got shape {self.shape}")
        for axis, n in zip("xy", self.shape, strict=False):
            _int(f"n{axis}", n, 1, MAX_NODES)
        if self.nodes > MAX_NODES:
            raise DiffusionError(f"the mesh has {self.nodes:,} nodes, over the limit of {MAX_NODES:,}")
        _real("D", self.D, low=0.0)
        _real("dx", self.dx, positive=True)
        _real("dt", self.dt, positive=True)
        _int("steps", self.steps, 0, MAX_STEPS)
        _real("kill", self.kill, low=0.0)
        if self.method not in METHODS:
            raise DiffusionError(
                f"method must be one of {', '.join(repr(m) for m in METHODS)}, got {self.method!r}"
                f"{did_you_mean(str(self.method), METHODS)}")
        if len(self.boundary) != self.ndim or len(self.drift) != self.ndim:
            raise DiffusionError("give one boundary pair and one drift per axis")
        for axis, (low, high) in zip("xy", self.boundary, strict=False):
            _boundary(f"boundary of axis {axis} (low end)", low)
            _boundary(f"boundary of axis {axis} (high end)", high)
            if (low == "periodic") != (high == "periodic"):
                raise DiffusionError(
                    f"axis {axis}: a periodic boundary joins both ends, so both must be periodic"
                    f" (got {low!r} and {high!r})")
        for axis, v in zip("xy", self.drift, strict=False):
            _real(f"drift along {axis}", v)
        counts = self.initial
        if counts.shape != self.shape:
            raise DiffusionError(f"the initial counts have shape {counts.shape}, the mesh {self.shape}")
        if counts.dtype.kind not in "iu" or (counts.size and counts.min() < 0):
            raise DiffusionError("the initial counts must be integers >= 0 (walkers per node)")
        if self.walkers > MAX_WALKERS:
            raise DiffusionError(f"{self.walkers:,} walkers is over the limit of {MAX_WALKERS:,}")
        try:  # raises on a bad time step or drift
            finite = all(math.isfinite(p) for p in self.probabilities().values())
        except (OverflowError, ZeroDivisionError):
            finite = False
        if not finite:
            raise DiffusionError(f"dx = {self.dx:g} is out of range for D = {self.D:g} and dt = {self.dt:g}:"
                                 " the walk's probabilities (D dt / dx^2, ...) are not finite numbers")

    # -- shape ---------------------------------------------------------------------

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def nodes(self) -> int:
        return int(np.prod(self.shape))

    @property
    def walkers(self) -> int:
        """Walkers at the start."""
        return int(self.initial.sum())

    def positions(self) -> list[np.ndarray]:
        """Node coordinates along each axis: ``i * dx``."""
        return [np.arange(n) * self.dx for n in self.shape]

    def times(self) -> np.ndarray:
        """Time of each model step 0..steps."""
        return np.arange(self.steps + 1) * self.dt

    @property
    def conserves(self) -> bool:
        """True when no walker can be lost (no absorbing wall, no killing)."""
        return self.kill == 0 and all(b != "absorbing" for pair in self.boundary for b in pair)

    # -- the walk ------------------------------------------------------------------

    def probabilities(self) -> dict[str, float]:
        """Per-step probabilities ``{"-x", "+x", ("-y", "+y"), "kill", "stay"}``,
        checked: a clear error when ``dt`` is too large or the drift too strong."""
        return dict(self._probabilities)

    @cached_property
    def _probabilities(self) -> dict[str, float]:
        base = self.D * self.dt / self.dx**2
        out: dict[str, float] = {}
        for axis, v in zip("xy", self.drift, strict=False):
            shift = v * self.dt / (2 * self.dx)
            out[f"-{axis}"] = base - shift
            out[f"+{axis}"] = base + shift
            if base - abs(shift) < -1e-12:
                limit = 2 * self.D / abs(v)
                raise DiffusionError(
                    f"the drift {v:g} along {axis} is too strong for dx = {self.dx:g}: the walk would"
                    f" need a negative probability (D dt/dx^2 = {base:.4g} < |v| dt/(2 dx) ="
                    f" {abs(shift):.4g}); the cell Peclet number |v| dx / (2 D) must be <= 1,"
                    + (f" so take dx <= {limit:.4g}" if self.D > 0 else " so D must be > 0 with a drift"))
            out[f"-{axis}"] = max(out[f"-{axis}"], 0.0)
            out[f"+{axis}"] = max(out[f"+{axis}"], 0.0)
        out["kill"] = self.kill * self.dt
        moving = sum(out.values())
        out["stay"] = 1.0 - moving
        if out["stay"] < -1e-12:
            rate = 2 * self.ndim * self.D / self.dx**2 + self.kill
            best = 1.0 / rate
            raise DiffusionError(
                f"dt = {self.dt:g} is too large: a walker would leave its node with probability"
                f" {moving:.4g} > 1 (2 * {self.ndim} * D * dt / dx^2 + kill * dt); take"
                f" dt <= {best:.4g}")
        out["stay"] = max(out["stay"], 0.0)
        return out

    def _neighbour(self, index: tuple[int, ...], axis: int, step: int) -> tuple[int, ...] | None:
        """The node a move reaches, ``index`` itself when a reflecting wall refuses
        it, or None when it leaves through an absorbing wall."""
        n = self.shape[axis]
        i = index[axis] + step
        kind = self.boundary[axis][0 if step < 0 else 1]
        if 0 <= i < n:
            pass
        elif kind == "periodic":
            i %= n
        elif kind == "reflecting":
            return index
        else:
            return None
        return index[:axis] + (i,) + index[axis + 1:]

    def outcomes(self, node: int) -> list[tuple[float, int | None]]:
        """What can happen to a walker at ``node`` besides staying: ``(probability,
        destination node)`` pairs, ``None`` for a walker lost (killed or absorbed).

        Moves that end where they started (refused by a reflecting wall, or
        around a periodic axis of one node) count as staying and are left
        out; outcomes with the same destination are merged; zero-probability
        ones are dropped. The order is fixed: lost first, then by destination.
        """
        probs = self._probabilities
        index = tuple(int(i) for i in np.unravel_index(node, self.shape))
        merged: dict[int | None, float] = {}
        if probs["kill"] > 0:
            merged[None] = probs["kill"]
        for axis, name in enumerate("xy"[: self.ndim]):
            for step, key in ((-1, f"-{name}"), (1, f"+{name}")):
                p = probs[key]
                if p <= 0:
                    continue
                dest = self._neighbour(index, axis, step)
                target = None if dest is None else int(np.ravel_multi_index(dest, self.shape))
                if target == node:
                    continue
                merged[target] = merged.get(target, 0.0) + p
        out: list[tuple[float, int | None]] = [(p, None) for key, p in merged.items() if key is None]
        out += sorted(((p, key) for key, p in merged.items() if key is not None), key=lambda t: t[1] or 0)
        return out

    def routing(self, node: int) -> list[tuple[float, int | None]]:
        """The routing gates of a walker at ``node``: one per outcome, ``(q_j,
        destination)``, where ``q_j = P_j / (P_stay + P_j + P_j+1 + ...)`` is the
        probability of outcome j given that no earlier one happened. A chain of
        gates in which gate j fires with probability q_j unless an earlier one
        fired picks outcome j with probability P_j, and stays with P_stay. The
        tail sums give the last gate of a node that cannot stay exactly q = 1."""
        outcomes = self.outcomes(node)
        rest = max(0.0, 1.0 - sum(p for p, _ in outcomes))
        gates: list[tuple[float, int | None]] = []
        for p, dest in reversed(outcomes):
            rest += p
            gates.append((min(1.0, p / rest) if rest > 0 else 0.0, dest))
        gates.reverse()
        return gates

    def outcome_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``(indptr, dest, prob, stay)``: :meth:`outcomes` of every node at once (CSR layout,
        dest -1 for a loss; the same numbers, bit for bit), and each node's stay probability."""
        from spikec.diffusion.grid import grid_outcomes
        from spikec.diffusion.routing import row_sums

        indptr, dest, prob = grid_outcomes(self.shape, self.D, self.dx, self.dt, boundary=self.boundary,
                                           drift=np.asarray(self.drift), kill=self.kill)
        return indptr, dest, prob, np.maximum(0.0, 1.0 - row_sums(indptr, prob))

    def routing_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(indptr, dest, q)``: :meth:`routing` of every node at once."""
        from spikec.diffusion.routing import gate_probabilities

        indptr, dest, prob, stay = self.outcome_arrays()
        return indptr, dest, gate_probabilities(indptr, prob, stay)

    def to_chain(self) -> Any:
        """This problem as a :class:`~spikec.diffusion.chain.Chain` on its grid (same routing)."""
        from spikec.diffusion.chain import grid_chain

        return grid_chain(self.shape, self.D, self.dt, self.steps, self.initial.reshape(-1), dx=self.dx,
                          boundary=self.boundary, drift=np.asarray(self.drift), kill=self.kill,
                          method=self.method)

    def transition_matrix(self) -> sp.csr_matrix:
        """Sparse substochastic matrix ``P[i, j]``: probability that a walker at node i
        is at node j one model step later (rows sum to 1 minus the loss): the
        :meth:`outcomes` of every node, the stay ``1 - their sum`` on the diagonal, built
        for all nodes at once from :meth:`outcome_arrays`."""
        from spikec.diffusion.chain import outcome_matrix

        indptr, dest, prob, _ = self.outcome_arrays()
        return outcome_matrix(self.nodes, indptr, dest, prob)[0]

    def occupancy_probabilities(self, start: int, steps: int | None = None) -> np.ndarray:
        """Exact distribution of one walker starting at node ``start``: shape
        (steps + 1, nodes + 1), the last column the probability it is lost."""
        dist = np.zeros(self.nodes)
        dist[start] = 1.0
        alive = self._propagate(dist, self.steps if steps is None else steps)
        lost = np.maximum(0.0, 1.0 - alive.sum(axis=1, keepdims=True))
        return np.hstack([alive, lost])

    def exact_mean(self, steps: int | None = None) -> np.ndarray:
        """Expected walkers per node at each model step, ``initial @ P^m``: shape
        (steps + 1, *shape). Walkers move independently, so the counts of one
        start node at one step are multinomial with these probabilities."""
        steps = self.steps if steps is None else steps
        out = self._propagate(self.initial.reshape(-1).astype(float), steps)
        return out.reshape((steps + 1, *self.shape))

    def _propagate(self, dist: np.ndarray, steps: int) -> np.ndarray:
        """``dist @ P^m`` for m = 0..steps: shape (steps + 1, nodes), at most MAX_TABLE_BYTES."""
        if (steps + 1) * self.nodes * 8 > MAX_TABLE_BYTES:
            raise DiffusionError(f"steps = {steps:,} on {self.nodes:,} nodes: the exact distribution of"
                                 f" every step would take {(steps + 1) * self.nodes / 2**27:,.1f} GiB,"
                                 f" more than {MAX_TABLE_BYTES / 2**30:g} GiB; take fewer steps or nodes")
        ptr = self.transition_matrix().T.tocsr()
        out = np.zeros((steps + 1, self.nodes))
        for m in range(steps + 1):
            out[m] = dist
            dist = ptr @ dist
        return out

    def concentration(self, counts: np.ndarray) -> np.ndarray:
        """Counts per node as a concentration: walkers / (initial walkers * dx^ndim),
        a density that integrates to 1 at step 0."""
        total = max(self.walkers, 1)
        return np.asarray(counts, dtype=float) / (total * self.dx**self.ndim)

    # -- (de)serialization -------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description (the initial counts as nested lists)."""
        return {
            "shape": list(self.shape), "D": self.D, "dx": self.dx, "dt": self.dt,
            "steps": self.steps, "boundary": [list(b) for b in self.boundary],
            "drift": list(self.drift), "kill": self.kill, "method": self.method,
            "initial": self.initial.tolist(),
        }

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> Problem:
        """The inverse of :meth:`to_dict` (raises :class:`DiffusionError` on bad data)."""
        try:
            return cls(
                shape=tuple(int(n) for n in doc["shape"]), D=float(doc["D"]), dx=float(doc["dx"]),
                dt=float(doc["dt"]), steps=int(doc["steps"]),
                initial=np.asarray(doc["initial"], dtype=np.int64),
                boundary=tuple((str(a), str(b)) for a, b in doc["boundary"]),
                drift=tuple(float(v) for v in doc["drift"]), kill=float(doc.get("kill", 0.0)),
                method=str(doc.get("method", "density")),
            )
        except (KeyError, TypeError, ValueError) as err:
            raise DiffusionError(f"bad diffusion problem description: {err}") from None

    def describe(self) -> str:
        """One line: mesh, D, dx, dt, boundaries, walkers, steps."""
        bounds = "; ".join(f"{a}: {lo}/{hi}" for a, (lo, hi) in zip("xy", self.boundary, strict=False))
        shape = " x ".join(str(n) for n in self.shape)
        extra = ""
        if any(self.drift):
            extra += f", drift {tuple(self.drift)}"
        if self.kill:
            extra += f", kill {self.kill:g}"
        return (f"{self.method} method, {shape} nodes, D = {self.D:g}, dx = {self.dx:g},"
                f" dt = {self.dt:g}{extra}, {bounds}, {self.walkers:,} walkers, {self.steps} steps")


#: Parameters a problem statement takes (``diffusion NAME (...)`` in .spk, or
#: :func:`problem_from_params`), with their meaning.
PROBLEM_PARAMS: dict[str, str] = {
    "nx": "mesh nodes along x (required)",
    "ny": "mesh nodes along y (default 1: a 1D problem)",
    "D": "diffusion coefficient (required)",
    "dx": "mesh spacing (default 1)",
    "dt": "model time step (required)",
    "steps": "model steps to run (required)",
    "boundary": "'absorbing', 'reflecting' (default) or 'periodic', for every wall",
    "left": "boundary at x = 0 (overrides boundary)",
    "right": "boundary at the last x node",
    "bottom": "boundary at y = 0",
    "top": "boundary at the last y node",
    "drift": "advection velocity along x (default 0)",
    "drift_y": "advection velocity along y (default 0)",
    "kill": "killing rate k: a walker is removed with probability k * dt per step (default 0)",
    "walkers": "walkers at the point source",
    "source": "x node of the point source (default: the middle)",
    "source_y": "y node of the point source (default: the middle)",
    "counts": "initial walkers per node instead of a point source: a .csv/.npy file or an array",
    "method": "'density' (default: a counting circuit per node) or 'particle' (a circuit per walker)",
}


def problem_from_params(params: Mapping[str, Any], base_dir: str | None = None) -> Problem | Chain:
    """A checked :class:`Problem` from keyword parameters (see :data:`PROBLEM_PARAMS`).

    ``counts`` may name a file (relative to ``base_dir``): ``.npy``, or
    ``.csv``/``.txt`` with one row of the mesh per line. The parameters of a general
    chain (``nz``, coefficients as text, ``form``, ``sources``, ``chain``:
    :mod:`spikec.diffusion.params`) make a :class:`~spikec.diffusion.chain.Chain`.
    """
    from spikec.diffusion.params import extended, statement_problem

    if extended(params):
        return statement_problem(params, base_dir)
    unknown = [k for k in params if k not in PROBLEM_PARAMS]
    if unknown:
        raise DiffusionError(f"unknown parameter '{unknown[0]}'{did_you_mean(unknown[0], PROBLEM_PARAMS)};"
                             f" a diffusion problem takes {', '.join(PROBLEM_PARAMS)}")
    for required in ("nx", "D", "dt", "steps"):
        if required not in params:
            raise DiffusionError(f"missing parameter '{required}' ({PROBLEM_PARAMS[required]})")
    nx = _int("nx", params["nx"], 1, MAX_NODES)
    ny = _int("ny", params.get("ny", 1), 1, MAX_NODES)
    shape: tuple[int, ...] = (nx,) if "ny" not in params or ny == 1 else (nx, ny)
    if nx * ny > MAX_NODES:
        raise DiffusionError(f"the mesh has {nx * ny:,} nodes, over the limit of {MAX_NODES:,}")
    default = _boundary("boundary", params.get("boundary", "reflecting"))
    sides = [(_boundary("left", params.get("left", default)),
              _boundary("right", params.get("right", default)))]
    if len(shape) == 2:
        sides.append((_boundary("bottom", params.get("bottom", default)),
                      _boundary("top", params.get("top", default))))
    elif "bottom" in params or "top" in params or "drift_y" in params or "source_y" in params:
        which = next(k for k in ("bottom", "top", "drift_y", "source_y") if k in params)
        raise DiffusionError(f"'{which}' needs a 2D mesh (ny > 1)")
    drift = [_real("drift", params.get("drift", 0.0))]
    if len(shape) == 2:
        drift.append(_real("drift_y", params.get("drift_y", 0.0)))
    if "counts" in params:
        if "walkers" in params or "source" in params or "source_y" in params:
            raise DiffusionError("give either counts, or walkers at a source, not both")
        initial = read_counts(params["counts"], shape, base_dir)
    else:
        if "walkers" not in params:
            raise DiffusionError("missing parameter 'walkers' (walkers at the point source) or 'counts'")
        walkers = _int("walkers", params["walkers"], 0, MAX_WALKERS)
        where = [_int("source", params.get("source", (nx - 1) // 2), 0, nx - 1)]
        if len(shape) == 2:
            where.append(_int("source_y", params.get("source_y", (ny - 1) // 2), 0, ny - 1))
        initial = np.zeros(shape, dtype=np.int64)
        initial[tuple(where)] = walkers
    method = params.get("method", "density")
    if not isinstance(method, str):
        raise DiffusionError(f"method must be 'density' or 'particle', got {method!r}")
    return Problem(
        shape=shape, D=_real("D", params["D"], low=0.0), dx=_real("dx", params.get("dx", 1.0), positive=True),
        dt=_real("dt", params["dt"], positive=True), steps=_int("steps", params["steps"], 0, MAX_STEPS),
        initial=initial, boundary=tuple(sides), drift=tuple(drift),
        kill=_real("kill", params.get("kill", 0.0), low=0.0), method=method,
    )


def chain_counts(problem: Problem, trials: int, seed: int = 0) -> np.ndarray:
    """Direct numpy Monte Carlo of the same chain (no spiking network): walker counts
    per node, shape (trials, steps + 1, *shape). Each step moves the walkers of
    every node by one multinomial draw over its outcomes; this is the
    baseline the spiking solvers are benchmarked against."""
    rng = np.random.default_rng(seed)
    n = problem.nodes
    outs: list[tuple[np.ndarray, np.ndarray]] = []  # per node: probabilities, destinations (-1 lost)
    for node in range(n):
        pairs = problem.outcomes(node)
        probs = np.array([p for p, _ in pairs] + [max(0.0, 1.0 - sum(p for p, _ in pairs))])
        dests = np.array([-1 if d is None else d for _, d in pairs] + [node])
        outs.append((probs / probs.sum(), dests))
    result = np.zeros((trials, problem.steps + 1, n), dtype=np.int64)
    counts = np.broadcast_to(problem.initial.reshape(-1), (trials, n)).copy()
    for m in range(problem.steps + 1):
        result[:, m] = counts
        if m == problem.steps:
            break
        new = np.zeros_like(counts)
        for node, (probs, dests) in enumerate(outs):
            moved = rng.multinomial(counts[:, node], probs)  # (trials, outcomes)
            keep = dests >= 0
            new[:, dests[keep]] += moved[:, keep]  # destinations of one node are distinct
        counts = new
    return result.reshape((trials, problem.steps + 1, *problem.shape))


@dataclass(frozen=True)
class Readout:
    """How a solver circuit reports its field, in spikes.

    The merged spikes of the ``clocks`` neurons cut the run into windows:
    window m runs from the m-th clock spike (inclusive) to the next one
    (exclusive), and holds model step m. The walkers at node ``nodes[j]``
    in model step m are the spikes of ``counted[j]`` in window m (summed
    over the counted neurons of that node). A window is complete once the
    next clock spike has happened, so the field of model steps 0..M needs
    M + 2 clock spikes. ``steps_hint`` is a number of neural steps expected
    to reach them; ``steps_exact`` says it is sure to (a fixed schedule).
    """

    clocks: tuple[str, ...]
    counted: tuple[str, ...]
    nodes: tuple[int, ...]
    shape: tuple[int, ...]
    steps_hint: int
    steps_exact: bool = False
    #: The loss gates (a walker lost from its node in model step m fires one of them, ``lost_lag``
    #: neural steps after its release in window m) and each one's node: the ``exits(NAME)`` probe,
    #: raw spikes whose info holds the nodes and the lag (``spikec.ir.decoders.count_exit_rows``).
    lost: tuple[str, ...] = ()
    lost_nodes: tuple[int, ...] = ()
    #: Neural steps from a walker's release (its spike counted in the field) to its loss gate's spike.
    lost_lag: int = 1

    @property
    def neurons(self) -> tuple[str, ...]:
        """The neurons a ``field`` probe records: the clocks, then the counted ones."""
        return self.clocks + self.counted

    def node_row(self) -> tuple[float, ...]:
        """Each probed neuron's node, -1 for a clock: the ``field`` probe's key row."""
        return (-1.0,) * len(self.clocks) + tuple(float(n) for n in self.nodes)

    def probe(self, net: Any, label: str, problem: Any) -> None:
        """Add the ``field`` probe of this readout to ``net`` (a Network, or anything
        with the same ``probe`` method, such as a circuit builder); ``problem`` is a
        :class:`Problem` or a :class:`~spikec.diffusion.chain.Chain` (its ``to_dict``)."""
        net.probe(*self.neurons, label=label, decoder="field", array=True, key=(self.node_row(),),
                  info={"shape": list(self.shape), "problem": problem.to_dict(),
                        "steps_hint": self.steps_hint, "steps_exact": self.steps_exact})
        if self.lost:  # where and when walkers leave: the loss gates' raw spikes, read by the solver
            net.probe(*self.lost, label=exits_label(label), array=True,
                      info={"exits_of": label, "nodes": list(self.lost_nodes), "lag": self.lost_lag})


def exits_label(field_label: str) -> str:
    """The label of the exits probe of field probe ``field(NAME)``: ``exits(NAME)``."""
    if field_label.startswith("field"):
        return "exits" + field_label[len("field"):]
    return f"exits({field_label})"
