"""``std.graph``: shortest paths by spike propagation.

A graph becomes a network with one neuron per vertex and one synapse per
edge, the edge's length (an integer >= 1) as the synaptic delay. A vertex
neuron (``threshold = 1``, ``decay = 0``) fires on the first spike that
reaches it and then never again: its reset, ``-(number of synapses into
it)``, is below anything the rest of its inputs can add, since every
neighbour fires at most once. Driving the source vertex's ``start`` input
at step 0 (it reaches the vertex one step later), vertex v first fires at
step ``1 + dist(source, v)``: the wave front of spikes is Dijkstra's
algorithm, run in parallel by the synapses. Several starts at once give
distances to the nearest of them; a vertex the wave never reaches never
fires. This is a one-shot computation (each vertex fires once per trial),
not a pipeline: run one query per trial.

Python: :func:`shortest_path_network` builds the network of a networkx
graph and :func:`distances` reads the distances from a simulation;
:func:`shortest_path_circuit` makes a circuit for ``.spk`` programs. In
``.spk``, ``import std.graph`` gives the ``vertex`` kind (``graph.spk``) for
writing graphs by hand, and ``grid<rows, cols>``: breadth-first search on a
rows x cols grid (unit lengths, 4 neighbours).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import networkx as nx
import numpy as np

from spikec.ir.builder import Builder, CircuitBuilder
from spikec.ir.network import Network

from ._library import CircuitError, int_param

__all__ = ["CIRCUITS", "ShortestPathCircuit", "shortest_path_circuit", "shortest_path_network",
           "distances", "grid", "grid_edges", "grid_size"]


def _edges(graph: nx.Graph, weight: str) -> tuple[list[Hashable], list[tuple[int, int, int]]]:
    """Vertices in graph order and edges as (u, v, length) on their indices; an
    undirected edge goes both ways."""
    vertices = list(graph.nodes)
    index = {v: i for i, v in enumerate(vertices)}
    edges = []
    for u, v, data in graph.edges(data=True):
        length = data.get(weight, 1)
        if isinstance(length, bool) or not isinstance(length, (int, np.integer)) or length < 1:
            if not (isinstance(length, float) and length.is_integer() and length >= 1):
                raise CircuitError(
                    f"edge {u!r} -> {v!r}: a length is an integer >= 1 (a synaptic delay),"
                    f" got {length!r}")
        edges.append((index[u], index[v], int(length)))
        if not graph.is_directed():
            edges.append((index[v], index[u], int(length)))
    return vertices, edges


def _build(builder: CircuitBuilder, starts: Sequence[str], n: int,
           edges: Sequence[tuple[int, int, int]] | np.ndarray) -> list[str] | np.ndarray:
    """Vertex neurons ``v[0..n)``, a synapse from each start, one per edge (rows of
    ``(u, v, length)``). Through a :class:`Builder`, in three bulk calls (and the vertices'
    network indices are returned); through any other builder one at a time (their names)."""
    table = np.asarray(edges, dtype=np.int64).reshape(-1, 3)
    fan_in = 1 + np.bincount(table[:, 1], minlength=n)  # the start synapse and the edges
    if isinstance(builder, Builder):
        v = builder.neurons("v", n, threshold=1.0, decay=0.0, reset=-fan_in.astype(np.float64))
        given = getattr(starts, "idx", None)
        start_idx = (np.asarray(given, dtype=np.int64) if given is not None
                     else builder.net.resolve(list(starts)))
        builder.synapses(start_idx, v, 1.0, 1)
        if len(table):
            builder.synapses(v[table[:, 0]], v[table[:, 1]], 1.0, table[:, 2])
        return v
    names = [builder.neuron(f"v[{i}]", threshold=1.0, decay=0.0, reset=-float(fan_in[i]))
             for i in range(n)]
    for i in range(n):
        builder.synapse(starts[i], names[i], 1.0, 1)
    for u, w, length in table.tolist():
        builder.synapse(names[u], names[w], 1.0, length)
    return names


def grid_edges(rows: int, cols: int) -> np.ndarray:
    """The synapses of a rows x cols grid as ``(u, v, 1)`` rows, in the order networkx's
    ``grid_2d_graph`` lists its edges (each vertex's lower, then right neighbour), each
    undirected edge both ways."""
    u = np.arange(rows * cols, dtype=np.int64)
    down = np.where(u // cols < rows - 1, u + cols, -1)
    right = np.where(u % cols < cols - 1, u + 1, -1)
    pairs = np.stack([np.repeat(u, 2), np.stack([down, right], axis=1).reshape(-1)], axis=1)
    pairs = pairs[pairs[:, 1] >= 0]
    both = np.stack([pairs, pairs[:, ::-1]], axis=1).reshape(-1, 2)
    return np.concatenate([both, np.ones((len(both), 1), dtype=np.int64)], axis=1)


def grid_size(rows: int, cols: int) -> tuple[int, int]:
    """Neurons and synapses of ``grid<rows, cols>``."""
    return rows * cols, 5 * rows * cols - 2 * rows - 2 * cols


class ShortestPathCircuit:
    """A fixed graph as a circuit ``NAME(start[n]) -> (v[n])`` (GeneratorCircuit protocol).

    Vertex i is the i-th of ``graph.nodes``; ``vertices`` lists them.
    """

    params: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ("v",)
    array_outputs: tuple[str, ...] = ("v",)

    def __init__(self, graph: nx.Graph, name: str = "sssp", weight: str = "weight") -> None:
        self.name = name
        self.vertices, self._edges = _edges(graph, weight)
        self.inputs: tuple[tuple[str, int | None], ...] = (("start", len(self.vertices)),)

    def build(self, builder: CircuitBuilder, params: Mapping[str, Any],
              inputs: Mapping[str, Sequence[str]]) -> dict[str, Any]:
        """Add the vertex neurons and edge synapses."""
        return {"v": _build(builder, inputs["start"], len(self.vertices), self._edges)}


def shortest_path_circuit(graph: nx.Graph, name: str = "sssp",
                          weight: str = "weight") -> ShortestPathCircuit:
    """The graph as a circuit for ``.spk`` (edge lengths from the ``weight`` attribute,
    default 1)."""
    return ShortestPathCircuit(graph, name, weight)


def shortest_path_network(graph: nx.Graph, weight: str = "weight") -> Network:
    """A network with inputs ``start[i]`` and vertex neurons ``v[i]`` (vertex i being the
    i-th of ``graph.nodes``), probed as ``first(v)``."""
    vertices, edges = _edges(graph, weight)
    net = Network("sssp")
    net.add_inputs("start", len(vertices))
    starts = [f"start[{i}]" for i in range(len(vertices))]
    made = _build(Builder(net), starts, len(vertices), edges)
    if len(made):
        net.probe(*net.names(np.asarray(made)), label="first(v)", decoder="first", array=True)
    return net


def distances(spikes: Mapping[str, np.ndarray], vertices: Sequence[str],
              start_step: int = 0) -> list[list[int | None]]:
    """Distance of each vertex per trial from recorded spikes (``SimResult.spikes``):
    first spike step - 1 - ``start_step``, or None when it never fired."""
    out: list[list[int | None]] = []
    trials = spikes[vertices[0]].shape[0] if vertices else 0
    for trial in range(trials):
        row: list[int | None] = []
        for name in vertices:
            fired = np.flatnonzero(spikes[name][trial])
            row.append(int(fired[0]) - 1 - start_step if fired.size else None)
        out.append(row)
    return out


class _Grid:
    """``grid<rows, cols>(start[rows*cols]) -> (v[rows*cols])``: BFS on a grid."""

    name = "grid"
    params: tuple[str, ...] = ("rows", "cols")
    outputs: tuple[str, ...] = ("v",)
    array_outputs: tuple[str, ...] = ("v",)

    def __init__(self) -> None:
        self.inputs = (("start", self._size),)

    @staticmethod
    def _shape(params: Mapping[str, Any]) -> tuple[int, int]:
        return int_param("rows", params["rows"], 1, 4096), int_param("cols", params["cols"], 1, 4096)

    def _size(self, params: Mapping[str, Any]) -> int:
        rows, cols = self._shape(params)
        return rows * cols

    def build(self, builder: CircuitBuilder, params: Mapping[str, Any],
              inputs: Mapping[str, Sequence[str]]) -> dict[str, Any]:
        """Vertex r*cols + c is cell (r, c). A builder with limits refuses a grid too large
        for them before anything is made."""
        rows, cols = self._shape(params)
        check_size = getattr(builder, "check_size", None)
        if check_size is not None:
            check_size(*grid_size(rows, cols), f"circuit grid<{rows}, {cols}>")
        return {"v": _build(builder, inputs["start"], rows * cols, grid_edges(rows, cols))}


grid = _Grid()

#: The circuits ``import std.graph`` adds to the ``vertex`` kind of ``graph.spk``.
CIRCUITS = {"grid": grid}
