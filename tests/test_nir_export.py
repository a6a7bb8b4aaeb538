"""NIR export: graph structure, refusals, file round trip, and identical
spikes in a real consumer (Norse's NIR reader) on circuits NIR expresses."""

from __future__ import annotations

import re
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import spikec
from spikec.backends.nir_export import NirExportError, layers_of, network_to_nir, write_nir
from spikec.ir.analysis import scale_for

nir = pytest.importorskip("nir")


def feedforward(
    seed: int, sizes: tuple[int, ...] = (4, 3, 2), decays: tuple[float, ...] = (0.0, 1.0)
) -> spikec.Network:
    """A layered network (delay-1 synapses between consecutive layers), integer values."""
    rng = np.random.default_rng(seed)
    net = spikec.Network("ff")
    prev = [net.input(f"x[{i}]") for i in range(sizes[0])]
    for k, size in enumerate(sizes[1:], start=1):
        decay = float(rng.choice(decays))
        layer = [
            net.neuron(f"l{k}[{i}]", threshold=float(rng.integers(1, 4)), decay=decay) for i in range(size)
        ]
        for post in layer:
            first = int(rng.integers(0, len(prev)))
            for j, pre in enumerate(prev):
                if j == first or rng.random() < 0.8:
                    net.synapse(pre, post, weight=float(rng.integers(-1, 3)))
        prev = layer
    return net


def test_full_export_keeps_delays_as_delay_nodes() -> None:
    net = spikec.Network()
    net.input("x")
    net.neuron("a", threshold=1.5, reset=0.5)
    net.neuron("b", threshold=2)
    net.synapse("x", "a", 0.5, 1)
    net.synapse("a", "b", 1.0, 3)
    net.synapse("b", "a", -1.0, 3)
    g = network_to_nir(net)
    assert sorted(g.nodes) == [
        "bias",
        "in_delay1",
        "in_w1",
        "input",
        "neurons",
        "output",
        "rec_delay3",
        "rec_w3",
    ]
    assert ("rec_w3", "rec_delay3") in g.edges and ("rec_delay3", "neurons") in g.edges
    pop = g.nodes["neurons"]
    assert isinstance(pop, nir.IF)
    assert pop.v_threshold.tolist() == [2.5, 1.5]  # a scaled by 2 (3 - 1/2), b by 1 (2 - 1/2)
    assert g.nodes["rec_w3"].weight.tolist() == [[0.0, -2.0], [1.0, 0.0]]
    assert g.nodes["rec_delay3"].delay.tolist() == [3.0, 3.0]


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"p": 0.5}, r"^error: neuron 'a': NIR has no stochastic neurons \(p = 0.5\)$"),
        ({"v0": 1.0}, r"^error: neuron 'a': NIR has no initial potential \(v0 = 1\)$"),
        (
            {"decay": 0.5, "reset": 1.0},
            r"^error: neuron 'a': NIR leaks the reset value; with decay 0.5 only reset 0",
        ),
        ({"threshold": 1e30}, r"^error: neuron 'a': its values scaled to integers exceed 2\*\*24"),
    ],
)
def test_refusals(kw: dict, message: str) -> None:
    net = spikec.Network()
    net.input("x")
    net.neuron("a", **kw)
    net.synapse("x", "a")
    with pytest.raises(NirExportError, match=message):
        network_to_nir(net)


def test_layered_export_needs_layers(tmp_path: Path) -> None:
    net = feedforward(0)
    assert [len(layer) for layer in layers_of(net)] == [3, 2]
    write_nir(tmp_path / "ff.nir", net, layered=True)
    g = nir.read(str(tmp_path / "ff.nir"))
    assert {"input", "affine1", "layer1", "affine2", "layer2", "output"} == set(g.nodes)
    net.update("l1[0]", bias=1.0)
    with pytest.raises(NirExportError, match=r"^error: layered NIR export: neuron 'l1\[0\]' has a bias"):
        network_to_nir(net, layered=True)
    net.synapse("x[0]", "l2[0]")
    with pytest.raises(
        NirExportError,
        match=r"^error: layered NIR export: synapse x\[0\] -> l2\[0\] \(delay 1\)"
        r" does not go from one layer to the next",
    ):
        layers_of(net)


def run_norse(graph: object, inputs: np.ndarray) -> np.ndarray:
    """Step Norse's module of a NIR graph; returns output spikes (steps, n).

    Skips the calling test (only) when torch or Norse is not installed.
    """
    torch = pytest.importorskip("torch")
    norse_torch = pytest.importorskip("norse.torch")
    module = norse_torch.from_nir(graph, dt=1.0, ignore_warnings=True)
    state = None
    out = []
    for t in range(inputs.shape[0]):
        z, state = module(torch.tensor(inputs[t], dtype=torch.float32), state)
        out.append(z.detach().numpy().copy())
    return np.array(out) > 0


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**16), sizes=st.lists(st.integers(1, 5), min_size=2, max_size=4))
def test_norse_runs_layered_circuits_with_identical_spikes(seed: int, sizes: list[int]) -> None:
    net = feedforward(seed, tuple(sizes))
    depth = len(sizes) - 1
    steps = 30
    rng = np.random.default_rng(seed)
    raster = rng.random((steps, sizes[0])) < 0.4
    inputs = {f"x[{i}]": np.flatnonzero(raster[:, i]).tolist() for i in range(sizes[0])}
    last = layers_of(net)[-1]
    ref = spikec.simulate(net, steps + depth, inputs=inputs, record=last)
    got = run_norse(network_to_nir(net, layered=True), raster.astype(np.float32))
    # Norse evaluates a layer in the step its input arrives: layer k is k steps early.
    expected = np.array([ref.spikes[name][0][depth:] for name in last]).T
    assert np.array_equal(got, expected)


def fraction_oracle(net: spikec.Network) -> tuple[dict[str, Fraction], str | None]:
    """The export's scales the plain way (per neuron, with fractions), and the error it must
    raise (the first neuron, in network order, that NIR cannot express), or None."""
    scales: dict[str, Fraction] = {}
    incoming: dict[str, list[float]] = {n: [] for n in net.names()}
    for s in net.synapses():
        incoming[s.post].append(s.weight)
    for n in net.neurons():
        if n.is_input:
            continue
        values = incoming[n.name] + [n.threshold, n.reset, n.bias]
        scale = scale_for(values)
        if n.p != 1.0:
            return scales, f"neuron '{n.name}': NIR has no stochastic neurons"
        if n.v0 != 0.0:
            return scales, f"neuron '{n.name}': NIR has no initial potential"
        if n.decay != 0.0 and n.reset != 0.0:
            return scales, f"neuron '{n.name}': NIR leaks the reset value"
        if any(abs(Fraction(x) * scale) >= 2**24 for x in values):
            return scales, f"neuron '{n.name}': its values scaled to integers exceed 2**24"
        scales[n.name] = scale
    return scales, None


# mostly values that scale to small integers, now and then ones that cannot (0.1 = m / 2**55
# with a 52-bit odd m: an exact integer scale makes it too large for float32)
_SMALL = [0.0, 1.0, -2.0, 0.5, 3.0, 12.0, 0.375, -1.25, 2.0**-12, 6.0e3, 0.75, -0.25]
_LARGE = [0.1, 1 / 3, 1e-3, 2.0**-30, 6.0e5, 2.0**23, 1e30, 5e-324]
odd_values = st.sampled_from(_SMALL * 12 + _LARGE)
decays = st.sampled_from([0.0] * 5 + [0.5])
probabilities = st.sampled_from([1.0] * 9 + [0.5])


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_integer_scaling_matches_fractions(data: st.DataObject) -> None:
    """The vectorized scaling equals scale_for with fractions, neuron by neuron, refusals included."""
    net = spikec.Network("scaled")
    n_in = data.draw(st.integers(0, 3))
    n = data.draw(st.integers(1, 5))
    names = [net.input(f"x[{i}]") for i in range(n_in)]
    for i in range(n):
        names.append(net.neuron(f"n{i}", threshold=data.draw(odd_values), reset=data.draw(odd_values),
                                bias=data.draw(odd_values), decay=data.draw(decays),
                                p=data.draw(probabilities)))
    for _ in range(data.draw(st.integers(0, 12))):
        post = data.draw(st.sampled_from(names[n_in:]))
        net.synapse(data.draw(st.sampled_from(names)), post, data.draw(odd_values),
                    data.draw(st.integers(1, 3)))
    scales, error = fraction_oracle(net)
    if error is not None:
        with pytest.raises(NirExportError, match=f"^error: {re.escape(error)}"):
            network_to_nir(net)
        return
    try:
        g = network_to_nir(net)
    except NirExportError as exc:
        assert "mixes decay 0" in str(exc)
        return
    cells = [x for x in net.neurons() if not x.is_input]
    pop = g.nodes["neurons"]
    assert pop.v_threshold.tolist() == [float(Fraction(x.threshold) * scales[x.name]) - 0.5 for x in cells]
    assert pop.v_reset.tolist() == [float(Fraction(x.reset) * scales[x.name]) for x in cells]
    assert g.nodes["bias"].bias.tolist() == [float(Fraction(x.bias) * scales[x.name]) for x in cells]
    row = {x.name: i for i, x in enumerate(cells)}
    col = {**{x: i for i, x in enumerate(net.inputs())}, **row}
    expected: dict[str, np.ndarray] = {}
    for s in net.synapses():
        kind = "in" if s.pre in net.inputs() else "rec"
        shape = (len(cells), n_in if kind == "in" else len(cells))
        w = expected.setdefault(f"{kind}_w{s.delay}", np.zeros(shape))
        w[row[s.post], col[s.pre]] += float(Fraction(s.weight) * scales[s.post])
    assert sorted(k for k in g.nodes if "_w" in k) == sorted(expected)
    for key, w in expected.items():
        assert g.nodes[key].weight.tolist() == w.tolist(), key


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**16), st.lists(st.integers(1, 4), min_size=2, max_size=5))
def test_layers_match_a_topological_walk(seed: int, sizes: list[int]) -> None:
    """Layers from the vectorized longest-path walk equal networkx's, on layered networks
    and on the same networks with one extra synapse (often a skip or a cycle)."""
    import networkx as nx

    net = feedforward(seed, tuple(sizes))
    rng = np.random.default_rng(seed)
    for extra in (False, True):
        if extra:
            names = net.names()
            net.synapse(names[int(rng.integers(len(names)))],
                        net.names(np.flatnonzero(~net.is_input))[int(rng.integers(sum(sizes[1:])))])
        graph = net.graph
        if not nx.is_directed_acyclic_graph(graph):
            with pytest.raises(NirExportError, match="has a cycle"):
                layers_of(net)
            continue
        depth = {x: 0 for x in net.inputs()}
        for x in nx.topological_sort(graph):
            if x not in depth:
                depth[x] = 1 + max((depth[p] for p in graph.predecessors(x)), default=0)
        ok = all(d == 1 and depth[b] == depth[a] + 1 for a, b, d in graph.edges(data="delay"))
        if not ok:
            with pytest.raises(NirExportError, match="does not go from one layer to the next"):
                layers_of(net)
            continue
        cells = [x for x in net.names() if x not in net.inputs()]
        expected = [[x for x in cells if depth[x] == k] for k in range(1, max(depth[x] for x in cells) + 1)]
        assert layers_of(net) == expected
