"""The bulk API of the array IR: the same network whether built item by item or in
bulk, the networkx view agreeing with the arrays, names stored once, and the IR's
own byte accounting at a million synapses."""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given
from hypothesis import strategies as st

import spikec
from spikec import NetworkError, VerifyError
from spikec.backends.reference import reference_simulate
from spikec.ir.names import NameTable, split_name

quarters = st.integers(-12, 12).map(lambda k: k / 4)


@st.composite
def specs(draw: st.DrawFn) -> dict[str, object]:
    """A random layered spec: input array, neuron arrays with per-neuron parameters,
    groups of synapses (all-to-all, one-to-one or sparse), in a random order."""
    n_in = draw(st.integers(1, 4))
    sizes = draw(st.lists(st.integers(1, 4), min_size=1, max_size=3))
    params = [
        {"threshold": draw(st.lists(st.integers(1, 6).map(float), min_size=n, max_size=n)),
         "decay": draw(st.sampled_from([0.0, 0.5, 1.0])),
         "bias": draw(st.lists(st.sampled_from([0.0, 0.25, -0.5]), min_size=n, max_size=n))}
        for n in sizes
    ]
    groups = []
    arrays = ["x"] + [f"h{k}" for k in range(len(sizes))]
    lengths = [n_in, *sizes]
    for _ in range(draw(st.integers(0, 6))):
        a = draw(st.integers(0, len(arrays) - 1))
        b = draw(st.integers(1, len(arrays) - 1))
        kind = draw(st.sampled_from(["all", "one", "sparse"]))
        na, nb = lengths[a], lengths[b]
        if kind == "one" and na != nb:
            kind = "all"
        w = draw(st.lists(quarters, min_size=na * nb, max_size=na * nb))
        d = draw(st.lists(st.integers(1, 4), min_size=na * nb, max_size=na * nb))
        mask = draw(st.lists(st.booleans(), min_size=na * nb, max_size=na * nb))
        groups.append((arrays[a], arrays[b], kind, w, d, mask))
    return {"n_in": n_in, "sizes": sizes, "params": params, "groups": groups, "lengths": dict(zip(
        arrays, lengths, strict=True))}


def build_items(spec: dict[str, object]) -> spikec.Network:
    net = spikec.Network("spec")
    for i in range(spec["n_in"]):  # type: ignore[call-overload]
        net.input(f"x[{i}]")
    for k, (n, p) in enumerate(zip(spec["sizes"], spec["params"], strict=True)):  # type: ignore[call-overload]
        for i in range(n):
            net.neuron(f"h{k}[{i}]", threshold=p["threshold"][i], decay=p["decay"], bias=p["bias"][i])
    lengths = spec["lengths"]
    for a, b, kind, w, d, mask in spec["groups"]:  # type: ignore[attr-defined]
        na, nb = lengths[a], lengths[b]  # type: ignore[index]
        for i in range(na):
            for j in range(nb):
                if kind == "one" and i != j:
                    continue
                if kind == "sparse" and not mask[i * nb + j]:
                    continue
                net.synapse(f"{a}[{i}]", f"{b}[{j}]", w[i * nb + j], d[i * nb + j])
    return net


def build_bulk(spec: dict[str, object]) -> spikec.Network:
    net = spikec.Network("spec")
    idx = {"x": net.add_inputs("x", spec["n_in"])}  # type: ignore[arg-type]
    for k, (n, p) in enumerate(zip(spec["sizes"], spec["params"], strict=True)):  # type: ignore[call-overload]
        idx[f"h{k}"] = net.add_neurons(f"h{k}", n, threshold=np.array(p["threshold"]), decay=p["decay"],
                                       bias=np.array(p["bias"]))
    for a, b, kind, w, d, mask in spec["groups"]:  # type: ignore[attr-defined]
        na, nb = len(idx[a]), len(idx[b])
        W = np.array(w).reshape(na, nb)
        D = np.array(d).reshape(na, nb)
        if kind == "all":
            net.connect(idx[a], idx[b], weight=W, delay=D)
        elif kind == "one":
            net.connect(idx[a], idx[b], weight=np.diag(W).copy(), delay=np.diag(D).copy(), one_to_one=True)
        else:
            m = np.array(mask).reshape(na, nb)
            rows, cols = np.nonzero(m)
            # explicit entries, zero weights included
            matrix = sp.coo_matrix((W[rows, cols], (rows, cols)), shape=(na, nb))
            dmat = sp.coo_matrix((D[rows, cols], (rows, cols)), shape=(na, nb))
            if len(rows) and np.all(W[rows, cols] != 0):
                net.connect(idx[a], idx[b], weight=matrix.tocsr(), delay=dmat)
            else:
                net.add_synapses(idx[a][rows], idx[b][cols], W[rows, cols], D[rows, cols])
    return net


@given(specs())
def test_bulk_equals_item_by_item(spec: dict[str, object]) -> None:
    one, bulk = build_items(spec), build_bulk(spec)
    assert one == bulk
    assert spikec.format_network(one) == spikec.format_network(bulk)
    assert [(s.pre, s.post, s.weight, s.delay, s.key) for s in one.synapses()] == [
        (s.pre, s.post, s.weight, s.delay, s.key) for s in bulk.synapses()]
    inputs = {f"x[{i}]": [0, 2, 3] for i in range(spec["n_in"])}  # type: ignore[call-overload]
    a = spikec.simulate(one, 12, inputs=inputs, record="all")
    b = spikec.simulate(bulk, 12, inputs=inputs, record="all")
    ref = reference_simulate(one, 12, inputs=inputs)
    for name in one:
        assert np.array_equal(a.spikes[name], b.spikes[name])
        assert np.array_equal(a.spikes[name], ref.spikes[name])


@given(specs())
def test_graph_view_agrees_with_the_arrays(spec: dict[str, object]) -> None:
    net = build_bulk(spec)
    g = net.graph
    assert list(g.nodes) == net.names()
    assert all(g.nodes[n]["neuron"] == net[n] for n in net)
    edges = sorted((a, b, d["weight"], d["delay"]) for a, b, d in g.edges(data=True))
    names = net.names()
    cols = sorted((names[a], names[b], w, d) for a, b, w, d in zip(
        net.pre.tolist(), net.post.tolist(), net.weight.tolist(), net.delay.tolist(), strict=True))
    assert edges == cols
    assert g.in_degree(names[-1]) == net.in_degree()[-1]


def test_synapses_stay_grouped_by_source_in_insertion_order() -> None:
    net = spikec.Network()
    net.add_inputs("x", 2)
    net.add_neurons("y", 2)
    net.synapse("x[1]", "y[0]", 1.0)
    net.synapse("x[0]", "y[1]", 2.0)
    net.synapse("x[1]", "y[0]", 3.0)
    net.synapse("x[0]", "y[0]", 4.0)
    assert net.pre.tolist() == [0, 0, 1, 1]
    assert net.weight.tolist() == [2.0, 4.0, 1.0, 3.0]
    assert [s.key for s in net.synapses()] == [0, 0, 0, 1]
    assert net.csr().tolist() == [0, 2, 4, 4, 4]


def test_bulk_calls_check_everything_and_add_nothing_on_error() -> None:
    net = spikec.Network()
    x = net.add_inputs("x", 3)
    y = net.add_neurons("y", 2, threshold=[1.0, 2.0])
    with pytest.raises(VerifyError, match=r"neuron 'z\[1\]': decay must be in \[0, 1\], got 2"):
        net.add_neurons("z", 2, decay=[0.5, 2.0])
    with pytest.raises(NetworkError, match=r"threshold must be one value or 3, got shape \(2,\)"):
        net.add_neurons("z", 3, threshold=[1.0, 2.0])
    with pytest.raises(NetworkError, match=r"duplicate neuron name 'y\[0\]'"):
        net.add_neurons("y", 5)
    with pytest.raises(NetworkError, match=r"duplicate neuron name 'x\[2\]'"):
        net.neuron("x[2]")
    with pytest.raises(VerifyError, match=r"'x\[0\]' is an input neuron"):
        net.connect(y, x)
    with pytest.raises(VerifyError, match=r"synapse x\[1\] -> y\[0\]: delay must be an integer >= 1, got 0"):
        net.connect(x, y, delay=np.array([[1, 1], [0, 1], [1, 1]]))
    with pytest.raises(VerifyError, match="weight must be finite"):
        net.connect(x, y, weight=math.inf)
    with pytest.raises(NetworkError, match=r"the weight matrix has shape \(2, 2\), the groups \(3, 2\)"):
        net.connect(x, y, weight=sp.eye(2, format="csr"))
    with pytest.raises(NetworkError, match="one-to-one needs groups of one size, got 3 and 2"):
        net.connect(x, y, one_to_one=True)
    with pytest.raises(NetworkError, match=r"no neuron named 'y\[7\]'"):
        net.connect(["y[7]"], y)
    with pytest.raises(NetworkError, match="no neuron has index 99"):
        net.connect(np.array([99]), y)
    with pytest.raises(VerifyError, match=r"delay must be at most 2\*\*63 - 1 steps"):
        net.synapse("x[0]", "y[0]", delay=2**70)
    assert net.num_synapses == 0 and len(net) == 5
    assert net.connect(x[:1], y, one_to_one=True) == range(0, 2)  # one side of one neuron
    assert net.post.tolist() == [3, 4]


def test_names_are_stored_once_and_split_canonically() -> None:
    assert split_name("x[12]") == ("x", 12)
    assert split_name("adder.bit[3].carry") == ("adder.bit[3].carry", -1)
    assert split_name("x[03]") == ("x[03]", -1)  # not a canonical index: a plain name
    assert split_name("m[1][2]") == ("m[1]", 2)
    table = NameTable()
    table.add_array("x", 1000)
    assert len(table.bases) == 1 and table.find("x[999]") == 999 and table.find("x[1000]") == -1
    table.add("x[1000]")  # one more element continues the run
    assert table.find("x[1000]") == 1000 and table.array_of("x") is not None
    net = spikec.Network()
    net.add_neurons("a", 4)
    net.neuron("b")
    net.remove_neurons([1, 2])
    assert net.names() == ["a[0]", "a[3]", "b"] and net.index("a[3]") == 1 and "a[1]" not in net


def test_removal_keeps_order_probes_and_stimuli() -> None:
    net = spikec.Network()
    x = net.add_inputs("x", 3)
    y = net.add_neurons("y", 3)
    net.connect(x, y, one_to_one=True, weight=[1.0, 2.0, 3.0])
    net.connect(y[:1], y[1:])
    net.stimulate(x, rate=[0.1, 0.2, 0.3])
    net.stimulus("x[2]", [4, 1])
    net.probe("y[0]", "y[1]", "y[2]", label="y", decoder="count")
    net.remove_neurons(["x[1]", "y[1]"])
    assert net.names() == ["x[0]", "x[2]", "y[0]", "y[2]"]
    assert [(s.pre, s.post, s.weight) for s in net.synapses()] == [
        ("x[0]", "y[0]", 1.0), ("x[2]", "y[2]", 3.0), ("y[0]", "y[2]", 1.0)]
    assert dict(net.stimuli) == {"x[0]": spikec.PoissonRate(0.1), "x[2]": spikec.SpikeTimes((1, 4))}
    assert net.probes[0].neurons == ("y[0]", "y[2]")
    spikec.verify(net)


def test_a_million_synapses_within_the_ir_budget() -> None:
    """The IR's own accounting: at most 40 bytes a synapse and 200 a neuron."""
    net = spikec.Network("big")
    x = net.add_inputs("x", 1000)
    y = net.add_neurons("y", 9000, threshold=2.0, decay=1.0)
    rng = np.random.default_rng(0)
    pre = rng.integers(0, 10_000, 1_000_000)
    post = rng.integers(1000, 10_000, 1_000_000)
    net.add_synapses(pre, post, rng.integers(-4, 5, 1_000_000) / 4, rng.integers(1, 9, 1_000_000))
    assert net.num_synapses == 1_000_000 and len(net) == len(x) + len(y)
    net.trim()
    neurons_only = spikec.Network("neurons")
    neurons_only.add_inputs("x", 1000)
    neurons_only.add_neurons("y", 9000)
    neuron_bytes = neurons_only.nbytes
    assert neuron_bytes / 10_000 <= 200
    assert (net.nbytes - neuron_bytes) / net.num_synapses <= 40
    spikec.verify(net)


def test_graph_is_a_multidigraph_usable_by_networkx() -> None:
    net = spikec.Network()
    net.add_inputs("x", 2)
    net.add_neurons("y", 2)
    net.connect("x[0]", ["y[0]", "y[1]"], delay=2)
    net.connect("y[0]", "y[1]", delay=3)
    assert isinstance(net.graph, nx.MultiDiGraph)
    assert nx.shortest_path_length(net.graph, "x[0]", "y[1]", weight="delay") == 2


def test_add_arrays_equals_one_add_neurons_per_array() -> None:
    from spikec import SourceLocation

    loc = SourceLocation("f.spk", 3, 1)
    one = spikec.Network()
    two = spikec.Network()
    widths = [3, 1, 2]
    thresholds = np.arange(6, dtype=float) + 1
    offset = 0
    for base, n in zip(["p[0]", "p[1]", "q"], widths, strict=True):
        one.add_neurons(base, n, threshold=thresholds[offset:offset + n], loc=loc)
        offset += n
    added = two.add_arrays(["p[0]", "p[1]", "q"], widths, threshold=thresholds, loc=loc)
    assert added.tolist() == list(range(6))
    assert one == two and two.names() == ["p[0][0]", "p[0][1]", "p[0][2]", "p[1][0]", "q[0]", "q[1]"]
    with pytest.raises(VerifyError, match=r"neuron 'q\[1\]': decay must be in \[0, 1\], got 3"):
        spikec.Network().add_arrays(["p", "q"], [2, 2], decay=[0, 0, 0, 3.0])
    with pytest.raises(NetworkError, match="the array name 'p' is given twice"):
        spikec.Network().add_arrays(["p", "p"], 2)
    with pytest.raises(NetworkError, match=r"duplicate neuron name 'q\[0\]'"):
        two.add_arrays(["r", "q"], 1)
    assert len(two) == 6


def test_one_location_per_synapse() -> None:
    from spikec import SourceLocation

    a, b = SourceLocation("f.spk", 1, 1), SourceLocation("f.spk", 2, 5)
    net = spikec.Network()
    x = net.add_inputs("x", 2)
    y = net.add_neurons("y", 2)
    net.add_synapses([x[0], x[0], x[1]], [y[0], y[1], y[1]], locs=[a, b], loc_index=np.array([1, 0, 1]))
    assert [s.loc for s in net.synapses()] == [b, a, b]
    assert [net.synapse_location(s) for s in range(3)] == [b, a, b]
    with pytest.raises(NetworkError, match="loc_index must hold one index into locs per synapse"):
        net.add_synapses([x[0]], [y[0]], locs=[a], loc_index=np.array([1]))
    net.reserve(neurons=10, synapses=100)  # room only: nothing is added
    assert len(net) == 4 and net.num_synapses == 3
