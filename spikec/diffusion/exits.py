"""Exits of random walkers: boundary-value problems and first-passage times, exactly.

A walker at node i of a substochastic chain ``P`` is lost in a model step with
probability ``1 - sum_j P[i, j]``. Here that loss is split into **exit columns**
``e = 0..E-1``: each column belongs to one node ``node[e]``, is taken with
probability ``prob[e]`` per model step from there, and carries a **value**
``value[e]`` (the boundary value g of a wall, a kill value, or any payoff). The columns
of a node sum to its loss. On a grid (:func:`wall_exits`) the columns are the moves
through each absorbing wall (labelled ``left``, ``right``, ``bottom``, ``top``,
``front``, ``back``; a corner node has two) and killing (``kill``); in a general chain
there is one column per node that loses walkers (``loss``).

With ``Q = P`` (the transient part: every node is transient or closed, the loss is the
exit) and ``R`` the ``n x E`` exit matrix (``R[node[e], e] = prob[e]``), the exit time T
(the model step at which the walker is no longer inside; the walk starts at step 0) and
the exit column X of a walker started at node s have the law

    P(T = m, X = e) = (e_s Q^(m-1) R)[e],   m = 1, 2, ...

and the boundary value ``u(s) = E[g(X)]`` (walkers that never exit contribute 0 and
must be absent: :func:`exact_values` refuses a node that cannot reach an exit) solves

    (I - Q) u = R g

(first-step analysis), solved with :func:`scipy.sparse.linalg.spsolve`. With killing
as a column of value ``kill_value`` (default 0) this is the Feynman-Kac form: a walker
killed before it reaches a wall contributes the kill value. The mean exit time solves
``(I - Q) t = 1``.

The density circuit has one loss gate per node (its columns merged), so its tallies
are walkers lost per (node, model step). They estimate ``u`` through the node's mean
value ``h_i = sum_{e at i} prob[e] value[e] / loss_i`` (:meth:`Exits.node_values`):
given that a walker leaves from node i, which of the node's columns it takes is an
independent draw with probabilities ``prob[e] / loss_i``, so ``E[h(X_node)] = u`` exactly
(a conditional expectation: the same mean, a variance no larger).

Several start points are run as disconnected copies of the chain in one circuit
(:func:`boundary_chain`): copy k holds the walkers of start point k, so each copy's
exits estimate ``u`` at its own start.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from scipy.sparse.csgraph import breadth_first_order

from spikec.errors import DiffusionError

__all__ = ["Exits", "WALLS", "wall_exits", "loss_exits", "exit_matrix", "exact_values", "exit_distribution",
           "mean_exit_time", "boundary_chain", "with_boundary_values", "exit_coverage"]

#: Wall names, (low, high) per axis.
WALLS: tuple[tuple[str, str], ...] = (("left", "right"), ("bottom", "top"), ("front", "back"))
_TOL = 1e-9  # columns must add up to the chain's loss per node this closely


@dataclass(frozen=True, eq=False)
class Exits:
    """Exit columns of one copy of a chain of ``nodes`` nodes (module docstring), with the
    start points ``starts`` (nodes of that copy) and ``walkers`` per start point.
    ``where`` is each column's exit position (E, d), when known (the ghost node of a wall,
    the node itself for killing)."""

    nodes: int
    node: np.ndarray
    prob: np.ndarray
    value: np.ndarray
    label: tuple[str, ...]
    starts: np.ndarray
    walkers: int
    where: np.ndarray | None = None

    def __post_init__(self) -> None:
        node = np.asarray(self.node, dtype=np.int64).reshape(-1)
        prob = np.asarray(self.prob, dtype=float).reshape(-1)
        value = np.asarray(self.value, dtype=float).reshape(-1)
        starts = np.asarray(self.starts, dtype=np.int64).reshape(-1)
        if not (len(node) == len(prob) == len(value) == len(self.label)):
            raise DiffusionError("exit columns need one node, probability, value and label each")
        if len(node) and (node.min() < 0 or node.max() >= self.nodes):
            raise DiffusionError(f"an exit column names node {int(node.max())}, outside 0..{self.nodes - 1}")
        if not np.all(np.isfinite(prob) & (prob >= 0)):
            raise DiffusionError("exit probabilities must be finite and >= 0")
        if not np.all(np.isfinite(value)):
            bad = int(np.flatnonzero(~np.isfinite(value))[0])
            raise DiffusionError(f"the boundary value of exit column {bad} ({self.label[bad]} at node"
                                 f" {int(node[bad])}) is not a finite number")
        if not len(starts) or starts.min() < 0 or starts.max() >= self.nodes:
            raise DiffusionError(f"start points must be nodes 0..{self.nodes - 1}, got {starts.tolist()}")
        if isinstance(self.walkers, bool) or int(self.walkers) != self.walkers or self.walkers < 0:
            raise DiffusionError(f"walkers per start point must be an integer >= 0, got {self.walkers!r}")
        object.__setattr__(self, "node", node)
        object.__setattr__(self, "prob", prob)
        object.__setattr__(self, "value", value)
        object.__setattr__(self, "starts", starts)
        object.__setattr__(self, "walkers", int(self.walkers))
        object.__setattr__(self, "label", tuple(str(s) for s in self.label))
        if self.where is not None:
            object.__setattr__(self, "where", np.asarray(self.where, dtype=float).reshape(len(node), -1))

    @property
    def columns(self) -> int:
        return len(self.node)

    def loss(self) -> np.ndarray:
        """Each node's exit probability per step (its columns summed)."""
        return np.bincount(self.node, weights=self.prob, minlength=self.nodes)

    def node_values(self) -> np.ndarray:
        """``h_i``: the mean value of a walker leaving from node i (0 where none leaves)."""
        loss = self.loss()
        paid = np.bincount(self.node, weights=self.prob * self.value, minlength=self.nodes)
        return np.divide(paid, loss, out=np.zeros(self.nodes), where=loss > 0)

    def value_range(self) -> tuple[float, float]:
        """The smallest and largest value a walker can take (0, 0 without columns)."""
        live = self.prob > 0
        if not live.any():
            return 0.0, 0.0
        return float(self.value[live].min()), float(self.value[live].max())

    def matrix(self) -> sp.csr_matrix:
        """R: (nodes, E), ``R[node[e], e] = prob[e]``."""
        return exit_matrix(self.nodes, self.node, self.prob)

    def with_values(self, value: np.ndarray) -> Exits:
        return Exits(self.nodes, self.node, self.prob, value, self.label, self.starts, self.walkers,
                     self.where)

    def to_dict(self) -> dict[str, Any]:
        return {"nodes": self.nodes, "node": self.node.tolist(), "prob": self.prob.tolist(),
                "value": self.value.tolist(), "label": list(self.label), "starts": self.starts.tolist(),
                "walkers": self.walkers, "where": None if self.where is None else self.where.tolist()}

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> Exits:
        try:
            return cls(int(doc["nodes"]), np.asarray(doc["node"], dtype=np.int64),
                       np.asarray(doc["prob"], dtype=float), np.asarray(doc["value"], dtype=float),
                       tuple(doc["label"]), np.asarray(doc["starts"], dtype=np.int64), int(doc["walkers"]),
                       None if doc.get("where") is None else np.asarray(doc["where"], dtype=float))
        except (KeyError, TypeError, ValueError) as err:
            raise DiffusionError(f"bad exits description: {err}") from None


def exit_matrix(nodes: int, node: np.ndarray, prob: np.ndarray) -> sp.csr_matrix:
    """The exit matrix R (nodes x columns): column e holds ``prob[e]`` at row ``node[e]``."""
    cols = len(node)
    return sp.csr_matrix((np.asarray(prob, dtype=float), (np.asarray(node), np.arange(cols))),
                         shape=(nodes, cols))


def wall_exits(shape: Sequence[int], D: Any, dx: float, dt: float, boundary: Sequence[tuple[str, str]], *,
               drift: Any = 0.0, kill: Any = 0.0, form: str = "divergence") -> dict[str, Any]:
    """The exit columns of a grid walk (:func:`spikec.diffusion.grid.grid_outcomes`): for each
    absorbing wall, the probability of a boundary node's move through it (computed with that wall
    absorbing and every other non-periodic wall reflecting, no killing: a move's probability does
    not depend on the other walls), and ``kill`` columns ``k_i dt``. Returns ``{"node", "prob",
    "label", "where"}``; ``where`` is the ghost node just outside the wall (``-dx`` or ``n dx``
    along its axis), or the node itself for killing. Node i sits at ``index * dx`` (C order)."""
    from spikec.diffusion.grid import coefficient, grid_outcomes

    shape = tuple(int(s) for s in shape)
    n = math.prod(shape)
    index = np.stack(np.unravel_index(np.arange(n), shape), axis=1).astype(float) * dx
    nodes: list[np.ndarray] = []
    probs: list[np.ndarray] = []
    labels: list[str] = []
    where: list[np.ndarray] = []
    for axis, (low, high) in enumerate(boundary):
        for side, kind in ((0, low), (1, high)):
            if kind != "absorbing":
                continue
            closed = {"periodic": "periodic"}
            pairs: list[tuple[str, str]] = [(closed.get(a, "reflecting"), closed.get(b, "reflecting"))
                                            for a, b in boundary]
            pair = list(pairs[axis])
            pair[side] = "absorbing"
            pairs[axis] = (pair[0], pair[1])
            indptr, dest, prob = grid_outcomes(shape, D, dx, dt, boundary=pairs, drift=drift, kill=0.0,
                                               form=form)
            owner = np.repeat(np.arange(n), np.diff(indptr))
            lost = (dest < 0) & (prob > 0)
            at = owner[lost]
            nodes.append(at)
            probs.append(prob[lost])
            labels += [WALLS[axis][side]] * len(at)
            ghost = index[at].copy()
            ghost[:, axis] = -dx if side == 0 else shape[axis] * dx
            where.append(ghost)
    k = coefficient("kill", kill, n, low=0.0) * dt
    killed = np.flatnonzero(k > 0)
    nodes.append(killed)
    probs.append(k[killed])
    labels += ["kill"] * len(killed)
    where.append(index[killed])
    return {"node": np.concatenate(nodes).astype(np.int64), "prob": np.concatenate(probs),
            "label": tuple(labels), "where": np.concatenate(where).reshape(-1, len(shape))}


def loss_exits(loss: np.ndarray, coords: np.ndarray | None = None) -> dict[str, Any]:
    """One ``loss`` column per node that loses walkers (a general chain)."""
    loss = np.asarray(loss, dtype=float)
    at = np.flatnonzero(loss > 0)
    return {"node": at, "prob": loss[at], "label": ("loss",) * len(at),
            "where": None if coords is None else np.asarray(coords, dtype=float)[at]}


def _transient(matrix: sp.csr_matrix, loss: np.ndarray) -> np.ndarray:
    """Nodes from which an exit (a node with loss > 0) is reachable."""
    n = matrix.shape[0]
    exits = np.flatnonzero(loss > 0)
    if not len(exits):
        return np.zeros(n, dtype=bool)
    # reverse graph plus a super-source joined to every exit node
    rev = sp.csr_matrix(matrix.T)
    extra = sp.csr_matrix((np.ones(len(exits)), (np.zeros(len(exits), dtype=np.int64), exits)),
                          shape=(1, n))
    graph = sp.vstack([sp.hstack([rev, sp.csr_matrix((n, 1))]), sp.hstack([extra, sp.csr_matrix((1, 1))])])
    order = breadth_first_order(sp.csr_matrix(graph), n, directed=True, return_predecessors=False)
    out = np.zeros(n + 1, dtype=bool)
    out[order] = True
    return out[:n]


def exact_values(matrix: sp.csr_matrix, R: sp.csr_matrix, value: np.ndarray) -> np.ndarray:
    """``u`` with ``(I - Q) u = R g`` (module docstring) by a sparse LU solve, for every node;
    NaN at nodes from which no exit can be reached (walkers there never leave)."""
    Q = sp.csr_matrix(matrix, dtype=float)
    n = Q.shape[0]
    loss = np.asarray(R.sum(axis=1)).reshape(-1)
    live = _transient(Q, loss)
    u = np.full(n, np.nan)
    if live.any():
        idx = np.flatnonzero(live)
        sub = sp.csc_matrix(sp.identity(len(idx)) - Q[idx][:, idx])
        rhs = (R @ np.asarray(value, dtype=float))[idx]
        u[idx] = np.atleast_1d(spla.spsolve(sub, rhs))
    return u


def mean_exit_time(matrix: sp.csr_matrix, loss: np.ndarray) -> np.ndarray:
    """Expected model steps to exit, ``(I - Q) t = 1`` (inf where no exit is reachable)."""
    Q = sp.csr_matrix(matrix, dtype=float)
    live = _transient(Q, np.asarray(loss, dtype=float))
    t = np.full(Q.shape[0], np.inf)
    if live.any():
        idx = np.flatnonzero(live)
        t[idx] = np.atleast_1d(spla.spsolve(sp.csc_matrix(sp.identity(len(idx)) - Q[idx][:, idx]),
                                            np.ones(len(idx))))
    return t


def exit_distribution(matrix: sp.csr_matrix, R: sp.csr_matrix, starts: Sequence[int],
                      steps: int) -> tuple[np.ndarray, np.ndarray]:
    """``(first, inside)``: ``first[k, m - 1, e] = P(T = m, X = e)`` for a walker from
    ``starts[k]``, m = 1..steps, by sparse powers ``e_s Q^(m-1) R``; ``inside[k]`` = P(T > steps)."""
    Q = sp.csr_matrix(matrix, dtype=float)
    n = Q.shape[0]
    at = np.asarray(starts, dtype=np.int64)
    dist = np.zeros((len(at), n))
    dist[np.arange(len(at)), at] = 1.0
    out = np.zeros((len(at), steps, R.shape[1]))
    QT, RT = sp.csr_matrix(Q.T), sp.csr_matrix(R.T)
    for m in range(steps):
        out[:, m] = (RT @ dist.T).T
        dist = (QT @ dist.T).T
    return out, dist.sum(axis=1)


def exit_coverage(ex: Exits, matrix: sp.csr_matrix, loss: np.ndarray) -> None:
    """Check that the columns add up to the chain's loss at every node (naming the first that does not)."""
    have = ex.loss()
    bad = np.abs(have - np.asarray(loss, dtype=float)) > _TOL
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DiffusionError(f"node {i}: its exit columns sum to {have[i]:.12g} but the chain loses"
                             f" {float(loss[i]):.12g} per step there")


def _values(values: Any, cols: Mapping[str, Any], nodes: int, kill_value: float) -> np.ndarray:
    """Column values from a number, a mapping of labels, per-node values or a function of positions."""
    label = np.asarray(cols["label"], dtype=object)
    node = np.asarray(cols["node"], dtype=np.int64)
    out = np.zeros(len(node))
    if callable(values):
        if cols.get("where") is None:
            raise DiffusionError("boundary values as a function need exit positions (coordinates)")
        where = np.asarray(cols["where"], dtype=float)
        out = np.asarray(values(*where.T), dtype=float) * np.ones(len(node))
    elif isinstance(values, Mapping):
        names = set(label.tolist()) | {w for p in WALLS for w in p} | {"kill"}
        unknown = [k for k in values if k not in names]
        if unknown:
            raise DiffusionError(f"boundary values: no exit '{unknown[0]}' (exits are"
                                 f" {', '.join(sorted(set(label.tolist())))})")
        for name in sorted(set(label.tolist()) - {"kill"}):
            if name not in values:
                raise DiffusionError(f"boundary values: give a value for the {name} exit")
            out[label == name] = float(values[name])
    elif np.ndim(values) == 0:
        out[:] = float(values)
    else:
        arr = np.asarray(values, dtype=float).reshape(-1)
        if arr.size != nodes:
            raise DiffusionError(f"boundary values per node: got {arr.size:,} values for {nodes:,} nodes")
        out = arr[node].copy()
    out[label == "kill"] = float(kill_value)
    return out


def with_boundary_values(problem: Any, values: Any, start: Any = None, walkers: int | None = None, *,
                         kill_value: float = 0.0, columns: Mapping[str, Any] | None = None) -> Any:
    """A :class:`~spikec.diffusion.chain.Chain` whose walkers estimate ``u = E[g(X_exit)]`` at
    each start point (one copy of the chain per point, :func:`boundary_chain`).

    ``problem`` is a regular-mesh ``Problem`` (its walls give the columns, :func:`wall_exits`) or a
    ``Chain`` (one ``loss`` column per node unless ``columns``, e.g. ``wall_exits(...)`` of the grid it
    was built from, is given). ``values``: a number for every exit, a mapping from wall names to
    numbers, one number per node (a column takes its node's), or a function ``g(x[, y[, z]])`` of
    the exit position. Killed walkers are worth ``kill_value``. ``start``: a node or a list of
    nodes (on a grid a tuple is one index point, a list holds several), default the node holding
    the walkers;
    ``walkers`` per start point (default the problem's walkers)."""
    from spikec.diffusion.chain import Chain
    from spikec.diffusion.problem import Problem

    if isinstance(problem, Problem):
        cols = columns or wall_exits(problem.shape, problem.D, problem.dx, problem.dt, problem.boundary,
                                     drift=np.asarray(problem.drift), kill=problem.kill)
        chain = problem.to_chain()
    elif isinstance(problem, Chain):
        chain = problem
        cols = columns or loss_exits(chain.losses, chain.coords)
    else:
        raise DiffusionError(f"boundary values need a Problem or a Chain, got {type(problem).__name__}")
    if chain.sources is not None and np.any(chain.sources):
        raise DiffusionError("boundary values need walkers that all start at the start points: remove the"
                             " sources")
    shape = problem.shape if isinstance(problem, Problem) else (chain.grid or (chain.nodes,))
    if start is None:
        held = np.flatnonzero(chain.initial)
        if len(held) != 1:
            raise DiffusionError("boundary values need the walkers at one start node (give start points)")
        starts = held
    else:
        one = np.ndim(start) == 0 or (isinstance(start, tuple) and len(shape) > 1)
        points = [start] if one else list(start)
        starts = np.array([_node_of(p, shape) for p in points], dtype=np.int64)
    count = int(chain.walkers if walkers is None else walkers)
    if start is None and walkers is None:
        count = int(chain.initial[starts[0]])
    ex = Exits(chain.nodes, cols["node"], cols["prob"], _values(values, cols, chain.nodes, kill_value),
               tuple(cols["label"]), starts, count, cols.get("where"))
    exit_coverage(ex, chain.matrix, chain.losses)
    return boundary_chain(chain, ex)


def _node_of(point: Any, shape: tuple[int, ...]) -> int:
    idx = tuple(int(i) for i in np.atleast_1d(point))
    if len(idx) == 1 and len(shape) > 1:
        node = idx[0]
        if not 0 <= node < math.prod(shape):
            raise DiffusionError(f"start node {node} is outside the {math.prod(shape):,} nodes")
        return node
    if len(idx) != len(shape) or any(not 0 <= i < s for i, s in zip(idx, shape, strict=True)):
        raise DiffusionError(f"start point {idx} is outside the mesh {shape}")
    return int(np.ravel_multi_index(idx, shape))


def boundary_chain(chain: Any, ex: Exits) -> Any:
    """``chain`` repeated once per start point of ``ex`` (block-diagonal, disconnected), copy k
    holding ``ex.walkers`` walkers at ``ex.starts[k]``; the result carries ``ex`` as its ``exits``."""
    from spikec.diffusion.chain import Chain

    s = len(ex.starts)
    n = chain.nodes
    mat = sp.csr_matrix(sp.kron(sp.identity(s, format="csr"), chain.matrix, format="csr"))
    initial = np.zeros(s * n, dtype=np.int64)
    initial[np.arange(s) * n + ex.starts] = ex.walkers
    coords = None if chain.coords is None else np.tile(chain.coords, (s, 1))
    label = chain.label if s == 1 else f"{chain.label}, {s} copies (one per start point)"
    return Chain(mat, initial, chain.steps, chain.dt, loss=np.tile(chain.losses, s), coords=coords,
                 grid=chain.grid if s == 1 else None, method=chain.method, label=label, exits=ex.to_dict())

