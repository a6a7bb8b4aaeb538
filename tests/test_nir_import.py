"""NIR import (spikec.backends.nir_import) on hand-built graphs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import spikec
from spikec.backends.binary_net import ModelImportError
from spikec.backends.nir_import import nir_to_binary_net, strict_threshold

nir = pytest.importorskip("nir")


def chain(*nodes: tuple[str, Any]) -> Any:
    names = [n for n, _ in nodes]
    return nir.NIRGraph(nodes=dict(nodes), edges=list(zip(names, names[1:], strict=False)), type_check=False)


def io(shape: tuple[int, ...], out: int) -> tuple[tuple[str, Any], tuple[str, Any]]:
    return (
        ("input", nir.Input(input_type={"input": np.array(shape)})),
        ("output", nir.Output(output_type={"output": np.array([out])})),
    )


def test_strict_threshold_is_exact_in_float64() -> None:
    t = 0.5
    s = float(strict_threshold(t))
    for v in (0.5, np.nextafter(0.5, 1.0), np.nextafter(0.5, 0.0), 0.49, 0.51):
        assert (v > t) == (v >= s)


def test_affine_threshold_chain_with_a_readout_key() -> None:
    rng = np.random.default_rng(0)
    w1, b1 = rng.normal(size=(4, 5)), rng.normal(size=4)
    w2 = rng.normal(size=(6, 4))
    key = np.zeros((3, 6))
    for c in range(3):
        key[c, 2 * c : 2 * c + 2] = 1
    signed = 2 * key - 1
    inp, out = io((5,), 3)
    graph = chain(
        inp,
        ("fc1", nir.Affine(weight=w1, bias=b1)),
        ("t1", nir.Threshold(threshold=np.full(4, 0.25))),
        ("fc2", nir.Linear(weight=w2)),
        ("t2", nir.Threshold(threshold=np.zeros(6))),
        ("readout", nir.Affine(weight=2 * signed, bias=-signed.sum(axis=1))),
        out,
    )
    model = nir_to_binary_net(graph, "g")
    assert model.key is not None and np.array_equal(model.key, key)
    net = model.network()
    assert net["fc1[0]"].threshold == np.nextafter(0.25, 1.0) and net["fc1[0]"].bias == b1[0]
    frames = rng.integers(0, 2, size=(40, 5))
    h = frames @ w1.T + b1 > 0.25
    o = h @ w2.T > 0.0
    assert np.array_equal(model.forward(frames)[1], o)
    assert model.predict(frames).tolist() == np.argmax((2 * o - 1) @ signed.T, axis=1).tolist()


def test_conv_sumpool_flatten_in_channels_first() -> None:
    rng = np.random.default_rng(1)
    wc, bc = rng.normal(size=(3, 2, 3, 3)), rng.normal(size=3)  # (out, in, kh, kw)
    wd = rng.normal(size=(4, 3 * 2 * 2))
    inp, out = io((2, 5, 4), 4)
    graph = chain(
        inp,
        (
            "conv",
            nir.Conv2d(input_shape=(5, 4), weight=wc, stride=1, padding=1, dilation=1, groups=1, bias=bc),
        ),
        ("t1", nir.Threshold(threshold=np.full((3, 5, 4), 0.5))),
        (
            "pool",
            nir.SumPool2d(kernel_size=np.array([2, 2]), stride=np.array([2, 2]), padding=np.array([0, 0])),
        ),
        ("t2", nir.Threshold(threshold=np.full((3, 2, 2), 0.5))),
        ("flat", nir.Flatten(input_type={"input": np.array([3, 2, 2])}, start_dim=0)),
        ("fc", nir.Affine(weight=wd, bias=np.zeros(4))),
        ("t3", nir.Threshold(threshold=np.zeros(4))),
        out,
    )
    model = nir_to_binary_net(graph)
    assert [ly.shape for ly in model.layers] == [(5, 4, 3), (2, 2, 3), (4,)]
    frames_chw = rng.integers(0, 2, size=(30, 2, 5, 4)).astype(float)
    padded = np.pad(frames_chw, ((0, 0), (0, 0), (1, 1), (1, 1)))
    conv = np.zeros((30, 3, 5, 4))
    for i in range(5):
        for j in range(4):
            conv[:, :, i, j] = np.einsum("ncij,ocij->no", padded[:, :, i : i + 3, j : j + 3], wc) + bc
    a1 = conv > 0.5
    a2 = a1[:, :, :4, :4].reshape(30, 3, 2, 2, 2, 2).sum(axis=(3, 5)) > 0.5
    a3 = a2.reshape(30, -1) @ wd.T > 0.0
    got = model.forward(frames_chw.transpose(0, 2, 3, 1))  # spikec frames are channels-last
    assert np.array_equal(got[0], a1.transpose(0, 2, 3, 1).reshape(30, -1))
    assert np.array_equal(got[2], a3)


def test_if_nodes_integrate() -> None:
    inp, out = io((1,), 1)
    graph = chain(
        inp,
        ("fc", nir.Linear(weight=np.array([[0.6]]))),
        ("if", nir.IF(r=np.ones(1), v_threshold=np.ones(1), v_reset=np.array([-0.25]))),
        out,
    )
    model = nir_to_binary_net(graph)
    n = model.network()["out[0]"]
    assert (n.decay, n.reset, n.threshold) == (0.0, -0.25, float(np.nextafter(1.0, 2.0)))
    result = spikec.simulate(model.network(), 6, inputs={"x[0]": [0, 1, 2, 3, 4]})
    # 0.6, 1.2 > 1 fires (reset -0.25), 0.35, 0.95, 1.55 fires
    assert result.spike_times("out[0]") == [[2, 5]]


def test_memoryless_lif_maps_to_a_threshold_gate() -> None:
    inp, out = io((2,), 2)
    lif = nir.LIF(tau=np.ones(2), r=np.ones(2), v_leak=np.zeros(2), v_threshold=np.full(2, 0.5))
    model = nir_to_binary_net(chain(inp, ("fc", nir.Linear(weight=np.eye(2))), ("lif", lif), out))
    assert model.layers[0].decay == 1.0 and model.memoryless


def test_leaky_lif_if_with_resistance_and_delay_now_import() -> None:
    inp, out = io((2,), 2)
    lif = nir.LIF(tau=np.full(2, 2.0), r=np.ones(2), v_leak=np.zeros(2), v_threshold=np.ones(2))
    model = nir_to_binary_net(chain(inp, ("fc", nir.Linear(weight=np.eye(2))), ("lif", lif), out))
    n = model.network()["out[0]"]
    assert (n.decay, n.reset) == (0.5, 0.0)
    model = nir_to_binary_net(
        chain(
            inp,
            ("fc", nir.Linear(weight=np.eye(2))),
            ("if", nir.IF(r=np.full(2, 2.0), v_threshold=np.ones(2))),
            out,
        )
    )
    assert model.layers[0].weight.tolist() == [2.0, 2.0]  # dt * r * W
    model = nir_to_binary_net(
        chain(
            inp,
            ("fc", nir.Linear(weight=np.eye(2))),
            ("t", nir.Threshold(threshold=np.zeros(2))),
            ("d", nir.Delay(delay=np.ones(2))),
            out,
        )
    )
    assert model.latency == 1 and model.n_outputs == 2


@pytest.mark.parametrize(
    ("nodes", "message"),
    [
        (
            [
                ("fc", nir.Linear(weight=np.eye(2))),
                ("t", nir.Threshold(threshold=np.zeros(2))),
                ("ro", nir.Affine(weight=np.eye(2), bias=np.zeros(2))),
            ],
            r"node 'ro': an Affine after the last spiking layer is read as a decode key only in the form",
        ),
        (
            [("fc", nir.Linear(weight=np.eye(2))), ("fc2", nir.Linear(weight=2 * np.eye(2)))],
            r"the Output node 'output' reads a weighted sum \(Linear 'fc2'\), not the spikes of one",
        ),
    ],
)
def test_refusals_name_the_node(nodes: list[tuple[str, Any]], message: str) -> None:
    inp, out = io((2,), 2)
    with pytest.raises(ModelImportError, match=message):
        nir_to_binary_net(chain(inp, *nodes, out))


def test_branches_import() -> None:
    inp, out = io((2,), 2)
    nodes = dict(
        [
            inp,
            ("a", nir.Linear(weight=np.eye(2))),
            ("b", nir.Linear(weight=np.eye(2))),
            ("t", nir.Threshold(threshold=np.full(2, 1.5))),
            out,
        ]
    )
    graph = nir.NIRGraph(
        nodes=nodes,
        edges=[("input", "a"), ("input", "b"), ("a", "t"), ("b", "t"), ("t", "output")],
        type_check=False,
    )
    model = nir_to_binary_net(graph)  # two identity paths merge: weight 2 > 1.5
    result = spikec.simulate(model.network(), 3, inputs={"x[0]": [0], "x[1]": [1]})
    assert result.spike_times("out[0]") == [[1]] and result.spike_times("out[1]") == [[2]]


def test_read_from_a_file(tmp_path: Path) -> None:
    inp, out = io((2,), 2)
    graph = chain(
        inp,
        ("fc", nir.Affine(weight=np.eye(2), bias=np.array([0.5, 0.0]))),
        ("t", nir.Threshold(threshold=np.full(2, np.nextafter(0.5, 0.0)))),
        out,
    )
    nir.write(tmp_path / "g.nir", graph)
    model = spikec.import_model(tmp_path / "g.nir")
    assert model.name == "g" and model.layers[0].threshold.tolist() == [0.5, 0.5]
    assert model.forward(np.array([[0, 0], [0, 1]])).__getitem__(0).tolist() == [[True, False], [True, True]]
    (tmp_path / "bad.nir").write_text("nope")
    with pytest.raises(ModelImportError, match=r"bad\.nir: not a readable NIR file"):
        spikec.import_model(tmp_path / "bad.nir")
