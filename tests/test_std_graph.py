"""std.graph: the first spike time of a vertex is its distance, checked against
networkx's Dijkstra on seeded random weighted graphs."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

import spikec
from spikec.circuits.graph import (
    CircuitError,
    distances,
    grid,
    shortest_path_circuit,
    shortest_path_network,
)
from spikec.ir.decoders import decode_probes


def _random_graph(n: int, p: float, seed: int, directed: bool = True) -> nx.Graph:
    graph = nx.gnp_random_graph(n, p, seed=seed, directed=directed)
    rng = np.random.default_rng(seed)
    for u, v in graph.edges:
        graph.edges[u, v]["length"] = int(rng.integers(1, 10))
    return graph


def _all_sources(graph: nx.Graph) -> tuple[list[list[int | None]], list[list[int | None]]]:
    """(spiking distances, Dijkstra distances), one row per source: every vertex is the
    source of one trial of a single simulation."""
    n = graph.number_of_nodes()
    net = shortest_path_network(graph, weight="length")
    inputs = {f"start[{i}]": [[0] if trial == i else [] for trial in range(n)] for i in range(n)}
    longest = sum(d["length"] for _, _, d in graph.edges(data=True))
    result = spikec.simulate(net, longest + 2, inputs=inputs, trials=n)
    got = distances(result.spikes, [f"v[{i}]" for i in range(n)])
    nodes = list(graph.nodes)
    want = []
    for s in nodes:
        lengths = nx.single_source_dijkstra_path_length(graph, s, weight="length")
        want.append([lengths.get(v) for v in nodes])
    return got, want


@pytest.mark.parametrize("seed", range(6))
def test_random_directed_graphs_match_dijkstra(seed: int) -> None:
    got, want = _all_sources(_random_graph(20 + 5 * seed, 0.12, seed))
    assert got == want


@pytest.mark.parametrize("seed", range(3))
def test_random_undirected_graphs_match_dijkstra(seed: int) -> None:
    got, want = _all_sources(_random_graph(25, 0.1, 100 + seed, directed=False))
    assert got == want


@pytest.mark.slow
def test_a_larger_graph_matches_dijkstra() -> None:
    got, want = _all_sources(_random_graph(150, 0.04, 7))
    assert got == want


def test_every_vertex_fires_once() -> None:
    graph = _random_graph(30, 0.3, 1)  # dense: many spikes reach each vertex
    net = shortest_path_network(graph, weight="length")
    result = spikec.simulate(net, 200, inputs={"start[0]": [0]})
    assert all(result.spikes[f"v[{i}]"].sum() <= 1 for i in range(30))


def test_a_graph_file_as_a_circuit_through_the_model_loader_hook(
        tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    from spikec.dsl import MODEL_LOADERS

    monkeypatch.setitem(MODEL_LOADERS, ".edgelist", lambda path, name: shortest_path_circuit(
        nx.read_weighted_edgelist(path, create_using=nx.DiGraph, nodetype=int), name))
    (tmp_path / "roads.edgelist").write_text("0 1 4\n1 2 1\n0 2 7\n2 3 2\n")
    main = tmp_path / "main.spk"
    main.write_text('import model "roads.edgelist" as roads\ninput s[4]\nlet g = roads(s)\n'
                    "probe first(g)\n")
    net = spikec.load(main)
    result = spikec.simulate(net, 12, inputs={"s[0]": [0]})
    assert decode_probes(net, result.spikes)["first(g)"] == [[1, 5, 6, 8]]


def test_grid_is_breadth_first_search() -> None:
    net = spikec.loads("import std.graph\ninput s[12]\nlet g = grid<3, 4>(s)\nprobe first(g)")
    result = spikec.simulate(net, 10, inputs={"s[5]": [0]})  # cell (1, 1)
    first = decode_probes(net, result.spikes)["first(g)"][0]
    assert first == [1 + abs(r - 1) + abs(c - 1) for r in range(3) for c in range(4)]
    assert grid.name == "grid"


def test_vertex_kind_for_hand_written_graphs() -> None:
    net = spikec.loads(
        "import std.graph\ninput start\nvertex v[4]\nstart -> v[0]\n"
        "v[0] -> v[1] (delay = 3)\nv[1] -> v[2] (delay = 1)\nv[0] -> v[2] (delay = 5)\n"
        "v[2] -> v[0] (delay = 1)\nprobe first(v)")
    result = spikec.simulate(net, 20, inputs={"start": [0]})
    assert decode_probes(net, result.spikes)["first(v)"] == [[1, 4, 5, None]]
    assert result.spikes["v[0]"].sum() == 1  # the cycle back to v[0] does not fire it again


def test_lengths_must_be_delays() -> None:
    graph = nx.DiGraph()
    graph.add_edge("a", "b", weight=0)
    with pytest.raises(CircuitError, match=r"edge 'a' -> 'b': a length is an integer >= 1"):
        shortest_path_network(graph)
    graph.edges["a", "b"]["weight"] = 2.5
    with pytest.raises(CircuitError, match="got 2.5"):
        shortest_path_network(graph)
