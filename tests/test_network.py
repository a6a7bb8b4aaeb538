"""The IR builders: every check fires with a message naming the object."""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pytest

import spikec
from spikec import NetworkError, SourceLocation, VerifyError


def small() -> spikec.Network:
    net = spikec.Network("small")
    net.input("x")
    net.neuron("a", threshold=2, decay=1)
    net.neuron("b", threshold=1.5, bias=0.25, p=0.5, v0=0.125)
    net.synapse("x", "a", weight=2.0)
    net.synapse("a", "b", weight=-1.0, delay=3)
    net.synapse("a", "b", weight=1.0, delay=3)  # a parallel synapse
    return net


def test_builders_store_the_semantic_objects() -> None:
    net = small()
    assert net.num_neurons == 3 and net.num_synapses == 3 and len(net) == 3
    assert net.inputs() == ["x"]
    b = net["b"]
    assert (b.threshold, b.decay, b.reset, b.bias, b.p, b.v0) == (1.5, 0.0, 0.0, 0.25, 0.5, 0.125)
    assert isinstance(net["a"].threshold, float)
    syn = sorted((s.pre, s.post, s.weight, s.delay) for s in net.synapses())
    assert syn == [("a", "b", -1.0, 3), ("a", "b", 1.0, 3), ("x", "a", 2.0, 1)]
    assert "a" in net and "zz" not in net
    assert list(net) == ["x", "a", "b"]


def test_graph_is_usable_by_networkx() -> None:
    net = small()
    assert isinstance(net.graph, nx.MultiDiGraph)
    assert nx.shortest_path_length(net.graph, "x", "b", weight="delay") == 4


def test_defaults_match_the_semantics_table() -> None:
    net = spikec.Network()
    net.neuron("n")
    assert net["n"].params() == {
        "threshold": 1.0, "decay": 0.0, "reset": 0.0, "bias": 0.0, "p": 1.0, "v0": 0.0,
    }


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"decay": 1.5}, r"^error: neuron 'n': decay must be in \[0, 1\], got 1.5$"),
        ({"decay": -0.1}, r"^error: neuron 'n': decay must be in \[0, 1\], got -0.1$"),
        ({"p": 2}, r"^error: neuron 'n': p must be in \[0, 1\], got 2$"),
        ({"threshold": math.nan}, r"^error: neuron 'n': threshold must be finite, got nan$"),
        ({"bias": math.inf}, r"^error: neuron 'n': bias must be finite, got inf$"),
        ({"reset": "0"}, r"^error: neuron 'n': reset must be a real number, got '0'$"),
        ({"v0": True}, r"^error: neuron 'n': v0 must be a real number, got True$"),
    ],
)
def test_bad_neuron_parameters(params: dict[str, object], message: str) -> None:
    net = spikec.Network()
    with pytest.raises(VerifyError, match=message):
        net.neuron("n", **params)  # type: ignore[arg-type]
    assert "n" not in net  # nothing half-added


def test_numpy_scalars_are_accepted() -> None:
    net = spikec.Network()
    net.input("x")
    net.neuron("n", threshold=np.float32(2.0), decay=np.int64(1))
    net.synapse("x", "n", weight=np.float64(0.5), delay=np.int32(2))
    assert net["n"].threshold == 2.0
    assert next(net.synapses()).delay == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("x", "a", 1.0, 0), r"^error: synapse x -> a: delay must be an integer >= 1, got 0$"),
        (("x", "a", 1.0, -2), r"delay must be an integer >= 1, got -2$"),
        (("x", "a", 1.0, 1.5), r"delay must be an integer >= 1, got 1.5$"),
        (("x", "a", math.inf, 1), r"^error: synapse x -> a: weight must be finite, got inf$"),
        (("a", "x", 1.0, 1), r"'x' is an input neuron and cannot receive synapses$"),
        (("x", "q", 1.0, 1), r"^error: synapse x -> q: no neuron named 'q'$"),
        (("xx", "a", 1.0, 1), r"no neuron named 'xx' \(did you mean 'x'\?\)$"),
    ],
)
def test_bad_synapses(args: tuple[object, ...], message: str) -> None:
    net = small()
    before = net.num_synapses
    with pytest.raises(NetworkError, match=message):
        net.synapse(*args)  # type: ignore[arg-type]
    assert net.num_synapses == before


def test_errors_carry_locations() -> None:
    # the rendering of docs/language.md: indentation dropped, caret under column 19
    loc = SourceLocation("bad.spk", 3, 19, "  a -> b (delay = 0)")
    net = small()
    with pytest.raises(VerifyError) as info:
        net.synapse("x", "a", delay=0, loc=loc)
    assert str(info.value) == (
        "bad.spk:3:19: error: synapse x -> a: delay must be an integer >= 1, got 0\n"
        "    a -> b (delay = 0)\n"
        "                    ^"
    )


def test_duplicate_names_point_at_the_first_declaration() -> None:
    net = spikec.Network()
    net.neuron("a", loc=SourceLocation("f.spk", 1, 8))
    with pytest.raises(NetworkError, match=r"duplicate neuron name 'a' \(first declared at f.spk:1:8\)"):
        net.input("a")


@pytest.mark.parametrize("name", ["", "a b", "tab\tname", 5])
def test_bad_names(name: object) -> None:
    with pytest.raises(VerifyError, match="name"):
        spikec.Network().neuron(name)  # type: ignore[arg-type]


def test_add_synapses_in_bulk_checks_everything_first() -> None:
    net = small()
    net.add_synapses(["x", "a"], ["a", "b"], weight=[0.5, 0.25], delay=2)
    assert net.num_synapses == 5
    with pytest.raises(VerifyError, match=r"synapse x -> b: delay must be an integer >= 1, got 0"):
        net.add_synapses(["x", "x"], ["a", "b"], delay=[1, 0])
    with pytest.raises(VerifyError, match=r"delay must be an integer >= 1, got 1.5"):
        net.add_synapses(["x"], ["a"], delay=[1.5])
    with pytest.raises(NetworkError, match="no neuron named 'nope'"):
        net.add_synapses(["x"], ["nope"])
    with pytest.raises(VerifyError, match="'x' is an input neuron"):
        net.add_synapses(["a"], ["x"])
    with pytest.raises(NetworkError, match="2 sources but 1 targets"):
        net.add_synapses(["a", "a"], ["b"])
    assert net.num_synapses == 5


def test_probe_and_stimulus_checks() -> None:
    net = small()
    net.probe("a", "b", label="ab", decoder="count")
    with pytest.raises(NetworkError, match=r"unknown decoder 'cout' \(did you mean 'count'\?\)"):
        net.probe("a", decoder="cout")
    with pytest.raises(NetworkError, match="no neuron named 'c'"):
        net.probe("c")
    with pytest.raises(VerifyError, match="'a' is not an input neuron"):
        net.stimulus("a", [1])
    with pytest.raises(VerifyError, match=r"rate must be in \[0, 1\], got 1.5"):
        net.stimulus("x", rate=1.5)
    with pytest.raises(VerifyError, match="spike steps must be integers >= 0, got -1"):
        net.stimulus("x", [-1])
    net.stimulus("x", [3, 1, 3])
    assert net.stimuli["x"] == spikec.SpikeTimes((1, 3))


def test_update_remove_copy_and_equality() -> None:
    net = small()
    twin = net.copy()
    assert twin == net
    net.update("a", threshold=3)
    assert net["a"].threshold == 3.0 and twin["a"].threshold == 2.0
    assert twin != net
    with pytest.raises(VerifyError, match=r"decay must be in \[0, 1\]"):
        net.update("a", decay=2)
    with pytest.raises(NetworkError, match=r"unknown parameter 'thresold' \(did you mean 'threshold'\?\)"):
        net.update("a", thresold=1)
    net.probe("a", "b", label="both")
    net.remove_neuron("a")
    assert "a" not in net and net.num_synapses == 0
    assert net.probes[0].neurons == ("b",)


def corrupt(net: spikec.Network, column: str, row: int, value: object) -> spikec.Network:
    """Write past the checks, as a buggy pass or a damaged file could."""
    table = net._syn if column in ("pre", "post", "weight", "delay") else net._nrn
    if table is net._syn:
        net._sort_synapses()
    table.writable(column)[row] = value
    net._edited()
    return net


def test_verify_catches_corrupted_columns() -> None:
    net = small()
    spikec.verify(net)
    # synapses are kept grouped by source: x -> a is row 0, then a -> b twice
    with pytest.raises(VerifyError, match=r"^error: synapse a -> b: delay must be an integer >= 1, got 0$"):
        spikec.verify(corrupt(small(), "delay", 1, 0))
    with pytest.raises(VerifyError, match="'x' is an input neuron"):
        spikec.verify(corrupt(small(), "post", 1, 0))
    with pytest.raises(VerifyError, match=r"outside the 3 neurons of the network"):
        spikec.verify(corrupt(small(), "post", 1, 7))
    with pytest.raises(VerifyError, match=r"^error: neuron 'b': threshold must be finite, got nan$"):
        spikec.verify(corrupt(small(), "threshold", 2, math.nan))
    with pytest.raises(VerifyError, match=r"neuron 'a': decay must be in \[0, 1\], got 2"):
        spikec.verify(corrupt(small(), "decay", 1, 2.0))
    with pytest.raises(VerifyError, match="synapse x -> a: weight must be finite, got inf"):
        spikec.verify(corrupt(small(), "weight", 0, math.inf))
    with pytest.raises(VerifyError, match="expects a spikec.Network, got dict"):
        spikec.verify({})  # type: ignore[arg-type]


def test_graph_is_a_frozen_view() -> None:
    net = small()
    graph = net.graph
    assert graph is net.graph  # cached
    with pytest.raises(nx.NetworkXError, match="Frozen"):
        graph.add_edge("x", "b", weight=1.0, delay=1)
    net.synapse("x", "b")
    assert net.graph is not graph and net.graph.number_of_edges() == 4


def test_simulate_verifies_first() -> None:
    net = corrupt(small(), "delay", 0, 0)
    with pytest.raises(VerifyError):
        spikec.simulate(net, 3)


def test_repr() -> None:
    assert repr(small()) == "<Network 'small': 3 neurons (1 inputs), 3 synapses>"
