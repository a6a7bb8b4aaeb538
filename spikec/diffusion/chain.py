"""General random-walk problems: any substochastic Markov chain, with sources.

A :class:`Chain` is a problem given by its transition matrix ``P`` (sparse,
``n x n``): ``P[i, j]`` is the probability that a walker at node ``i`` is at
node ``j`` one model step later, ``P[i, i]`` that it stays, and the rest of
the row, ``1 - sum_j P[i, j]``, that it is lost (absorbed or killed). Rows
must be non-negative, finite and sum to at most 1 (up to :data:`ROW_TOL`);
errors name the row and, for a file, the file. Besides the initial walkers
per node, a chain may have **sources**: walkers injected at each model step
m = 0..steps-1 (they are at their node at step m + 1 and move from there),
constant (one count per node) or from a time table (one row of counts per
model step; rows past the table inject nothing).

The constructors:

- :func:`chain_from_matrix`: a scipy.sparse matrix, a dense array, or a file
  (``.npz`` of ``scipy.sparse.save_npz``, Matrix Market ``.mtx``, ``.csv``):
  :mod:`spikec.diffusion.chain_files`;
- :func:`chain_from_graph`: a networkx graph whose edges carry transition
  probabilities (self-loops are stays; an undirected edge goes both ways);
- :func:`mesh_chain`: the lazy walk of diffusion on a mesh graph (irregular
  meshes): a walker at i moves to its neighbour j with probability
  ``D_ij c_ij dt``, ``c_ij`` the edge's conductance (a weight attribute, else
  ``1 / |x_i - x_j|^2`` from the nodes' ``pos``, else 1);
- :func:`grid_chain`: a regular grid of 1, 2 or 3 dimensions with D, v and k
  per node (:mod:`spikec.diffusion.grid`);
- :meth:`Problem.to_chain <spikec.diffusion.problem.Problem.to_chain>`: the
  chain of a regular-mesh problem.

The exact references are sparse matrix powers: the mean counts obey
``E[N_{m+1}] = E[N_m] P + S_m`` exactly (:meth:`Chain.exact_mean`), and one
walker's distribution is ``e_i P^m`` (:meth:`Chain.occupancy_probabilities`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import scipy.sparse as sp

from spikec.diffusion.grid import FORMS, coefficient, grid_outcomes
from spikec.diffusion.problem import MAX_NODES, MAX_STEPS, MAX_TABLE_BYTES, MAX_WALKERS, METHODS, Problem
from spikec.diffusion.routing import chain_outcomes, gate_probabilities
from spikec.errors import DiffusionError, did_you_mean

__all__ = ["Chain", "ROW_TOL", "chain_from_matrix", "chain_from_graph", "mesh_chain", "grid_chain",
           "problem_from_dict", "sample_chain"]

#: How far above 1 a row may sum (rounding of a row meant to sum to 1); such a row loses nothing.
ROW_TOL = 1e-9


def _counts(name: str, value: Any, shape: tuple[int, ...]) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise DiffusionError(f"{name} must be integers >= 0 (walkers per node)") from None
    if arr.ndim == 0:
        arr = np.broadcast_to(arr, shape)
    elif arr.size == math.prod(shape):
        arr = arr.reshape(shape)
    else:
        raise DiffusionError(f"{name} has shape {arr.shape}; want {shape}")
    bad = ~(np.isfinite(arr) & (arr >= 0) & (arr == np.round(arr)))
    if bad.any():
        at = np.unravel_index(int(np.flatnonzero(bad)[0]), shape)
        where = f"node {at[-1]}" if len(shape) == 1 else f"step {at[0]}, node {at[1]}"
        raise DiffusionError(f"{name} must be integers >= 0 (walkers per node): {where} has {arr[at]!r}")
    return arr.astype(np.int64)


@dataclass(frozen=True, eq=False)
class Chain:
    """A general random-walk problem (module docstring). ``loss`` (per node) is the
    probability of being lost, by default ``1 - row sum``; ``sources`` is None, one count
    per node (every model step) or a table (rows = model steps, columns = nodes);
    ``coords`` optional node coordinates (n, d); ``grid`` the grid shape when the nodes
    are a grid in C order; ``origin`` the file the matrix came from (for errors)."""

    matrix: sp.csr_matrix
    initial: np.ndarray
    steps: int
    dt: float = 1.0
    loss: np.ndarray | None = field(default=None, repr=False)
    sources: np.ndarray | None = field(default=None, repr=False)
    coords: np.ndarray | None = field(default=None, repr=False)
    grid: tuple[int, ...] | None = None
    method: str = "density"
    label: str = "chain"
    origin: str = ""
    #: Exit columns, boundary values and start points (``spikec.diffusion.exits.Exits.to_dict``) of
    #: a boundary-value problem, or None: set by ``spikec.diffusion.exits.boundary_chain``.
    exits: Mapping[str, Any] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        where = f"{self.origin}: " if self.origin else ""
        try:
            mat = sp.csr_matrix(self.matrix, dtype=float)
        except (TypeError, ValueError) as err:
            raise DiffusionError(f"{where}the transition matrix must be a sparse or dense matrix:"
                                 f" {err}") from None
        if mat.ndim != 2 or mat.shape[0] != mat.shape[1] or mat.shape[0] < 1:
            raise DiffusionError(f"{where}the transition matrix must be square and non-empty,"
                                 f" got {mat.shape}")
        n = mat.shape[0]
        if n > MAX_NODES:
            raise DiffusionError(f"{where}the chain has {n:,} nodes, over the limit of {MAX_NODES:,}")
        mat.sum_duplicates()
        mat.eliminate_zeros()
        mat.sort_indices()
        rows = np.repeat(np.arange(n), np.diff(mat.indptr))
        bad = ~np.isfinite(mat.data) | (mat.data < 0)
        if bad.any():
            e = int(np.flatnonzero(bad)[0])
            raise DiffusionError(f"{where}row {rows[e]} of the transition matrix:"
                                 f" P[{rows[e]}, {mat.indices[e]}]"
                                 f" = {float(mat.data[e])!r} is not a probability (finite, >= 0)")
        sums = np.asarray(mat.sum(axis=1)).reshape(-1)
        if self.loss is None:
            loss = 1.0 - sums
            loss[loss < ROW_TOL] = 0.0  # rounding of a row that sums to 1: nothing is lost
        else:
            loss = coefficient("loss", self.loss, n, low=0.0).copy()
        over = sums + loss > 1 + ROW_TOL
        if over.any():
            i = int(np.flatnonzero(over)[0])
            raise DiffusionError(f"{where}row {i} of the transition matrix sums to"
                                 f" {sums[i] + loss[i]:.12g} > 1"
                                 " (a row holds the probabilities of one node's walker: stay, move, be lost)")
        object.__setattr__(self, "matrix", mat)
        object.__setattr__(self, "loss", loss)
        object.__setattr__(self, "initial", _counts("the initial counts", self.initial, (n,)))
        steps = self.steps
        if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or not 0 <= steps <= MAX_STEPS:
            raise DiffusionError(f"steps must be an integer in 0..{MAX_STEPS:,}, got {steps!r}")
        object.__setattr__(self, "steps", int(steps))
        if not (isinstance(self.dt, (int, float, np.integer, np.floating)) and math.isfinite(self.dt)
                and self.dt > 0):
            raise DiffusionError(f"dt must be a number > 0, got {self.dt!r}")
        object.__setattr__(self, "dt", float(self.dt))
        if self.sources is not None:
            src = np.asarray(self.sources)
            if src.ndim > 2:
                raise DiffusionError(f"sources are one count per node or a table (model steps x nodes),"
                                     f" got shape {src.shape}")
            shape = (n,) if src.ndim <= 1 else (src.shape[0] if src.ndim == 2 else -1, n)
            if src.ndim == 2 and src.shape[1] != n:
                raise DiffusionError(f"a source table has one column per node ({n:,}), got {src.shape[1]:,}")
            object.__setattr__(self, "sources", _counts("the sources", src, shape))
        if self.walkers > MAX_WALKERS:
            raise DiffusionError(f"{self.walkers:,} walkers is over the limit of {MAX_WALKERS:,}")
        if self.coords is not None:
            coords = np.asarray(self.coords, dtype=float)
            if coords.shape[0] != n:
                raise DiffusionError(f"coords give {coords.shape[0]:,} nodes, the chain has {n:,}")
            object.__setattr__(self, "coords", coords.reshape(n, -1))
        if self.grid is not None:
            grid = tuple(int(g) for g in self.grid)
            if math.prod(grid) != n:
                raise DiffusionError(f"grid {grid} holds {math.prod(grid):,} nodes, the chain {n:,}")
            object.__setattr__(self, "grid", grid)
        if self.method not in METHODS:
            raise DiffusionError(f"method must be one of {', '.join(repr(m) for m in METHODS)}, got"
                                 f" {self.method!r}{did_you_mean(str(self.method), METHODS)}")
        if self.method == "particle" and self.sources is not None and self.sources.any():
            raise DiffusionError("sources need the density method (a particle circuit holds a fixed set of"
                                 " walkers)")

    # -- what the solvers and reports read (the names of Problem's) -----------------------

    @property
    def nodes(self) -> int:
        return int(self.matrix.shape[0])

    @property
    def shape(self) -> tuple[int, ...]:
        """The field's shape: one axis of nodes (``grid`` says how to reshape a grid's)."""
        return (self.nodes,)

    ndim = 1
    dx = 1.0

    @property
    def walkers(self) -> int:
        """Walkers at the start (injected ones not counted)."""
        return int(self.initial.sum())

    @property
    def injected(self) -> int:
        """Walkers the sources inject over the run."""
        return int(self.source_table().sum())

    @property
    def losses(self) -> np.ndarray:
        """Each node's probability of losing its walker in a step (``loss``, checked)."""
        assert self.loss is not None  # set by the constructor
        return self.loss

    @property
    def conserves(self) -> bool:
        """True when no walker can be lost."""
        return not bool(np.any(self.losses > 0))

    def positions(self) -> list[np.ndarray]:
        """The node index as the one axis (the coordinates are ``coords``)."""
        return [np.arange(self.nodes, dtype=float)]

    def times(self) -> np.ndarray:
        return np.arange(self.steps + 1) * self.dt

    def concentration(self, counts: np.ndarray) -> np.ndarray:
        """Counts per node over the walkers at the start (at least 1)."""
        return np.asarray(counts, dtype=float) / max(self.walkers, 1)

    def transition_matrix(self) -> sp.csr_matrix:
        return self.matrix.copy()

    def source_table(self, steps: int | None = None) -> np.ndarray:
        """Walkers injected at each model step 0..steps-1 per node: shape (steps, nodes)."""
        steps = self.steps if steps is None else steps
        out = np.zeros((steps, self.nodes), dtype=np.int64)
        if self.sources is not None:
            if self.sources.ndim == 1:
                out[:] = self.sources
            else:
                rows = min(steps, self.sources.shape[0])
                out[:rows] = self.sources[:rows]
        return out

    # -- routing (the circuits) ------------------------------------------------------------

    def outcome_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``(indptr, dest, prob, stay)``: each node's outcomes, its loss (dest -1) first, then
        its moves by destination; ``stay`` the diagonal."""
        return tuple(a.copy() for a in self._outcomes)  # type: ignore[return-value]

    def routing_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(indptr, dest, q)``: the routing gates of every node (:func:`gate_probabilities`)."""
        return tuple(a.copy() for a in self._routing)  # type: ignore[return-value]

    @cached_property
    def _outcomes(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        return chain_outcomes(self.matrix, self.losses)

    @cached_property
    def _routing(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        indptr, dest, prob, stay = self._outcomes
        return indptr, dest, gate_probabilities(indptr, prob, stay)

    def outcomes(self, node: int) -> list[tuple[float, int | None]]:
        """Node ``node``'s outcomes ``(probability, destination or None)``, as Problem's."""
        indptr, dest, prob, _ = self._outcomes
        a, b = int(indptr[node]), int(indptr[node + 1])
        return [(float(p), None if d < 0 else int(d)) for p, d in zip(prob[a:b], dest[a:b], strict=True)]

    def routing(self, node: int) -> list[tuple[float, int | None]]:
        """Node ``node``'s routing gates ``(q_j, destination or None)``, as Problem's."""
        indptr, dest, q = self._routing
        a, b = int(indptr[node]), int(indptr[node + 1])
        return [(float(p), None if d < 0 else int(d)) for p, d in zip(q[a:b], dest[a:b], strict=True)]

    # -- exact distributions ---------------------------------------------------------------

    def exact_mean(self, steps: int | None = None) -> np.ndarray:
        """Expected walkers per node at each model step, ``E[N_{m+1}] = E[N_m] P + S_m``:
        shape (steps + 1, nodes)."""
        steps = self.steps if steps is None else steps
        return self._propagate(self.initial.astype(float), steps, self.source_table(steps))

    def occupancy_probabilities(self, start: int, steps: int | None = None) -> np.ndarray:
        """One walker from ``start``: shape (steps + 1, nodes + 1), the last column lost."""
        steps = self.steps if steps is None else steps
        dist = np.zeros(self.nodes)
        dist[int(start)] = 1.0
        alive = self._propagate(dist, steps, None)
        lost = np.maximum(0.0, 1.0 - alive.sum(axis=1, keepdims=True))
        return np.hstack([alive, lost])

    def _propagate(self, dist: np.ndarray, steps: int, sources: np.ndarray | None) -> np.ndarray:
        if (steps + 1) * self.nodes * 8 > MAX_TABLE_BYTES:
            raise DiffusionError(f"steps = {steps:,} on {self.nodes:,} nodes: the exact distribution of"
                                 f" every step would take {(steps + 1) * self.nodes / 2**27:,.1f} GiB,"
                                 f" more than {MAX_TABLE_BYTES / 2**30:g} GiB; take fewer steps or nodes")
        ptr = self.matrix.T.tocsr()
        out = np.zeros((steps + 1, self.nodes))
        for m in range(steps + 1):
            out[m] = dist
            dist = ptr @ dist
            if sources is not None and m < steps:
                dist = dist + sources[m]
        return out

    # -- (de)serialization -----------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description (floats kept exactly: JSON writes their repr)."""
        m = self.matrix
        return {
            "kind": "chain", "nodes": self.nodes, "indptr": m.indptr.tolist(), "indices": m.indices.tolist(),
            "data": m.data.tolist(), "loss": self.losses.tolist(), "initial": self.initial.tolist(),
            "steps": self.steps, "dt": self.dt, "method": self.method, "label": self.label,
            "sources": None if self.sources is None else self.sources.tolist(),
            "coords": None if self.coords is None else self.coords.tolist(),
            "grid": None if self.grid is None else list(self.grid),
            **({} if self.exits is None else {"exits": dict(self.exits)}),
        }

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> Chain:
        """The inverse of :meth:`to_dict` (raises :class:`DiffusionError` on bad data)."""
        try:
            n = int(doc["nodes"])
            mat = sp.csr_matrix((np.asarray(doc["data"], dtype=float),
                                 np.asarray(doc["indices"], dtype=np.int64),
                                 np.asarray(doc["indptr"], dtype=np.int64)), shape=(n, n))
            return cls(mat, np.asarray(doc["initial"]), int(doc["steps"]), float(doc["dt"]),
                       loss=np.asarray(doc["loss"], dtype=float),
                       sources=None if doc.get("sources") is None else np.asarray(doc["sources"]),
                       coords=None if doc.get("coords") is None else np.asarray(doc["coords"], dtype=float),
                       grid=None if doc.get("grid") is None else tuple(doc["grid"]),
                       method=str(doc.get("method", "density")), label=str(doc.get("label", "chain")),
                       exits=doc.get("exits"))
        except (KeyError, TypeError, ValueError) as err:
            raise DiffusionError(f"bad chain description: {err}") from None

    def exit_columns(self) -> Any:
        """The :class:`~spikec.diffusion.exits.Exits` of a boundary-value problem, or None."""
        from spikec.diffusion.exits import Exits

        return None if self.exits is None else Exits.from_dict(self.exits)

    def describe(self) -> str:
        src = f", {self.injected:,} walkers injected" if self.sources is not None else ""
        return (f"{self.method} method, {self.label}: {self.nodes:,} nodes, {self.matrix.nnz:,} transitions,"
                f" dt = {self.dt:g}, {self.walkers:,} walkers{src}, {self.steps} steps")


def problem_from_dict(doc: Mapping[str, Any]) -> Problem | Chain:
    """A :class:`Problem` or a :class:`Chain` from its ``to_dict`` (a probe's info)."""
    return Chain.from_dict(doc) if doc.get("kind") == "chain" else Problem.from_dict(doc)


def _initial(initial: Any, walkers: int, start: int | None, n: int) -> Any:
    if initial is not None:
        return initial
    out = np.zeros(n, dtype=np.int64)
    out[(n - 1) // 2 if start is None else int(start)] = walkers
    return out


def chain_from_matrix(matrix: Any, steps: int, initial: Any = None, *, walkers: int = 0,
                      start: int | None = None, dt: float = 1.0, sources: Any = None,
                      coords: Any = None, method: str = "density", label: str = "") -> Chain:
    """A :class:`Chain` from a transition matrix: scipy.sparse, dense, or a file name
    (``.npz``, ``.mtx``, ``.csv``: :func:`spikec.diffusion.chain_files.read_matrix`).
    ``initial`` counts per node, or ``walkers`` at node ``start`` (default: the middle)."""
    origin = ""
    if isinstance(matrix, str):
        from spikec.diffusion.chain_files import read_matrix

        origin, matrix = matrix, read_matrix(matrix)
    n = int(np.shape(matrix)[0]) if np.ndim(matrix) or sp.issparse(matrix) else 0
    return Chain(matrix, _initial(initial, walkers, start, max(n, 1)), steps, dt, sources=sources,
                 coords=coords, method=method, label=label or (origin or "chain"), origin=origin)


def _graph_order(graph: Any) -> tuple[list[Any], np.ndarray | None]:
    nodes = list(graph.nodes)
    pos = [graph.nodes[u].get("pos") for u in nodes]
    coords = None if any(p is None for p in pos) else np.asarray(pos, dtype=float).reshape(len(nodes), -1)
    return nodes, coords


def _per_node(name: str, value: Any, nodes: list[Any]) -> Any:
    if isinstance(value, Mapping):
        return np.array([value.get(u, 0) for u in nodes])
    return value


def chain_from_graph(graph: Any, steps: int, initial: Any = None, *, weight: str = "p", walkers: int = 0,
                     start: Any = None, dt: float = 1.0, sources: Any = None,
                     method: str = "density") -> Chain:
    """A :class:`Chain` from a networkx graph whose edge attribute ``weight`` is the transition
    probability (a self-loop: staying; an undirected edge: both ways). Nodes are numbered in
    the graph's order; ``initial``/``sources`` may be dicts keyed by node, ``start`` a node."""
    nodes, coords = _graph_order(graph)
    if not nodes:
        raise DiffusionError("the graph has no nodes")
    import networkx as nx

    missing = [(u, v) for u, v, d in graph.edges(data=True) if weight not in d]
    if missing:
        raise DiffusionError(f"edge {missing[0]!r} has no transition probability '{weight}'")
    mat = sp.csr_matrix(nx.to_scipy_sparse_array(graph, nodelist=nodes, weight=weight, format="csr"))
    sums = np.asarray(mat.sum(axis=1)).reshape(-1)
    bad = ~np.isfinite(sums) | (sums > 1 + ROW_TOL) | (np.bincount(mat.nonzero()[0][mat.data < 0],
                                                                    minlength=len(nodes)) > 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DiffusionError(f"graph node {nodes[i]!r} (row {i}): its outgoing transition probabilities"
                             f" '{weight}' must be finite, >= 0 and sum to at most 1; they sum to"
                             f" {sums[i]:.12g}")
    where = None if start is None else nodes.index(start)
    first = _initial(_per_node("initial", initial, nodes), walkers, where, len(nodes))
    return Chain(mat, first,
                 steps, dt, sources=_per_node("sources", sources, nodes), coords=coords, method=method,
                 label=f"graph of {len(nodes):,} nodes")


def mesh_chain(graph: Any, D: Any, dt: float, steps: int, initial: Any = None, *, kill: Any = 0.0,
               weight: str | None = None, form: str = "divergence", walkers: int = 0, start: Any = None,
               sources: Any = None, method: str = "density") -> Chain:
    """The lazy walk of diffusion on a mesh graph (irregular meshes, any dimension).

    A walker at node i moves to neighbour j with probability ``D_ij c_ij dt``: ``c_ij`` is the
    edge attribute ``weight`` when given, else ``1 / |x_i - x_j|^2`` from the nodes' ``pos``,
    else 1; ``D_ij`` the mean of the two nodes' D (``form = "divergence"``) or node i's
    (``"fokker_planck"``). It is killed with probability ``k_i dt`` and stays otherwise. The
    mean then follows ``dc_j/dt = sum_i D_ij c_ij c_i - (sum_i D_ji c_ji + k_j) c_j`` by the
    explicit Euler step. Raises :class:`DiffusionError` naming the worst node and the
    largest ``dt`` when a walker would leave with probability over 1."""
    nodes, coords = _graph_order(graph)
    n = len(nodes)
    if not n:
        raise DiffusionError("the mesh graph has no nodes")
    if form not in FORMS:
        raise DiffusionError(f"form must be one of {', '.join(repr(f) for f in FORMS)}, got {form!r}")
    import networkx as nx

    d = coefficient("D", _per_node("D", D, nodes), n, low=0.0)
    k = coefficient("kill", _per_node("kill", kill, nodes), n, low=0.0)
    adj = sp.coo_matrix(nx.to_scipy_sparse_array(graph.to_undirected() if not graph.is_directed() else graph,
                                                 nodelist=nodes, weight=weight, format="coo"))
    off = adj.row != adj.col
    i, j, w = adj.row[off], adj.col[off], adj.data[off].astype(float)
    if weight is None:
        if coords is not None:
            length2 = np.sum((coords[i] - coords[j]) ** 2, axis=1)
            if (length2 <= 0).any():
                e = int(np.flatnonzero(length2 <= 0)[0])
                raise DiffusionError(f"mesh edge {nodes[i[e]]!r} - {nodes[j[e]]!r} has length 0")
            w = 1.0 / length2
        else:
            w = np.ones(len(i))
    if (~np.isfinite(w) | (w < 0)).any():
        e = int(np.flatnonzero(~np.isfinite(w) | (w < 0))[0])
        raise DiffusionError(f"mesh edge {nodes[i[e]]!r} - {nodes[j[e]]!r}: conductance {w[e]!r} is not >= 0")
    rate = ((d[i] + d[j]) / 2 if form == "divergence" else d[i]) * w
    p = rate * dt
    leave = np.bincount(i, weights=p, minlength=n) + k * dt
    if (leave > 1 + 1e-12).any():
        worst = int(np.argmax(leave))
        raise DiffusionError(
            f"dt = {dt:g} is too large: a walker at mesh node {nodes[worst]!r} (node {worst}) would leave it"
            f" with probability {leave[worst]:.4g} > 1; take dt <= {dt / leave[worst]:.4g}")
    stay = np.maximum(0.0, 1.0 - leave)
    mat = sp.csr_matrix((np.concatenate([p, stay]), (np.concatenate([i, np.arange(n)]),
                                                     np.concatenate([j, np.arange(n)]))), shape=(n, n))
    where = None if start is None else nodes.index(start)
    return Chain(mat, _initial(_per_node("initial", initial, nodes), walkers, where, n), steps, dt,
                 loss=k * dt, sources=_per_node("sources", sources, nodes), coords=coords, method=method,
                 label=f"mesh of {n:,} nodes")


def grid_chain(shape: tuple[int, ...], D: Any, dt: float, steps: int, initial: Any = None, *,
               dx: float = 1.0, boundary: Any = "reflecting", drift: Any = 0.0, kill: Any = 0.0,
               form: str = "divergence", walkers: int = 0, sources: Any = None,
               method: str = "density") -> Chain:
    """A regular grid of 1, 2 or 3 dimensions (C order) with D, drift (per axis) and kill
    per node (:func:`spikec.diffusion.grid.grid_outcomes`). ``boundary`` is one kind for every
    wall or one ``(low, high)`` pair per axis; ``walkers`` start at the middle node unless
    ``initial`` (counts per node, any shape holding them) is given."""
    shape = tuple(int(s) for s in shape)
    pairs = [(boundary, boundary)] * len(shape) if isinstance(boundary, str) else [tuple(b) for b in boundary]
    for low, high in pairs:
        if (low == "periodic") != (high == "periodic"):
            raise DiffusionError("a periodic boundary joins both ends of an axis, so both must be periodic")
    indptr, dest, prob = grid_outcomes(shape, D, dx, dt, boundary=pairs, drift=drift, kill=kill, form=form)
    n = math.prod(shape)
    mat, loss = outcome_matrix(n, indptr, dest, prob)
    if initial is None:
        initial = np.zeros(n, dtype=np.int64)
        initial[np.ravel_multi_index(tuple((s - 1) // 2 for s in shape), shape)] = walkers
    grids = np.meshgrid(*[np.arange(s) * dx for s in shape], indexing="ij")
    coords = np.stack([g.reshape(-1) for g in grids], axis=1)
    text = " x ".join(str(s) for s in shape)
    return Chain(mat, np.asarray(initial).reshape(-1), steps, dt, loss=loss, sources=sources, coords=coords,
                 grid=shape, method=method, label=f"{len(shape)}D grid {text}, dx = {dx:g}")


def outcome_matrix(n: int, indptr: np.ndarray, dest: np.ndarray,
                    prob: np.ndarray) -> tuple[sp.csr_matrix, np.ndarray]:
    """Outcome arrays -> (transition matrix with the stay ``1 - outcomes summed in order`` on
    the diagonal, loss per node)."""
    node = np.repeat(np.arange(n), np.diff(indptr))
    moved = np.zeros(n)
    rank = np.arange(len(dest)) - indptr[node]
    for r in range(int(rank.max()) + 1 if len(rank) else 0):
        at = rank == r
        moved[node[at]] += prob[at]
    lost = dest < 0
    loss = np.bincount(node[lost], weights=prob[lost], minlength=n)
    rows = np.concatenate([node[~lost], np.arange(n)])
    cols = np.concatenate([dest[~lost], np.arange(n)])
    vals = np.concatenate([prob[~lost], 1.0 - moved])
    return sp.csr_matrix((vals, (rows, cols)), shape=(n, n)), loss


def sample_chain(chain: Chain, trials: int, seed: int = 0) -> np.ndarray:
    """Direct numpy Monte Carlo of the chain with its sources (the throughput baseline):
    counts of shape (trials, steps + 1, nodes). Each step splits every node's walkers over
    its outcomes by conditional binomials, vectorized over nodes."""
    rng = np.random.default_rng(seed)
    indptr, dest, q = chain.routing_arrays()
    n = chain.nodes
    node = np.repeat(np.arange(n), np.diff(indptr))
    rank = np.arange(len(dest)) - indptr[node]
    table = chain.source_table()
    out = np.zeros((trials, chain.steps + 1, n), dtype=np.int64)
    counts = np.broadcast_to(chain.initial, (trials, n)).copy()
    for m in range(chain.steps + 1):
        out[:, m] = counts
        if m == chain.steps:
            break
        left = counts.copy()
        new = np.zeros_like(counts)
        for r in range(int(rank.max()) + 1 if len(rank) else 0):
            at = np.flatnonzero(rank == r)
            moved = rng.binomial(left[:, node[at]], q[at])
            left[:, node[at]] -= moved
            go = dest[at] >= 0
            np.add.at(new.T, dest[at][go], moved[:, go].T)  # nodes may share a destination
        counts = new + left + table[m]
    return out
