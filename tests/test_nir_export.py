"""NIR export: graph structure, refusals, file round trip, and identical
spikes in a real consumer (Norse's NIR reader) on circuits NIR expresses."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import spikec
from spikec.backends.nir_export import NirExportError, layers_of, network_to_nir, write_nir

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
