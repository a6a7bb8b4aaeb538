"""Layered threshold nets (spikec.backends.binary_net): the numpy reference forward pass
equals the simulated spikes bit for bit, streaming, current injection, circuits."""

from __future__ import annotations

import numpy as np
import pytest

import spikec
from spikec.backends.binary_net import BinaryNet, ModelImportError, ThresholdLayer
from spikec.backends.threshold_layers import LayerStack, conv2d_synapses, same_padding
from spikec.ir.decoders import decode_probes


def random_net(seed: int, conv: bool) -> BinaryNet:
    """A random stack whose sums round differently in different orders."""
    rng = np.random.default_rng(seed)
    shape: tuple[int, ...] = (6, 6, 2) if conv else (12,)
    stack = LayerStack("rand", shape, np.arange(int(np.prod(shape))).reshape(shape))
    if conv:
        units = stack.spatial("c")
        syn, out = conv2d_synapses(
            units, rng.choice([0.1, 0.2, 0.3, -0.1, 0.7], size=(3, 3, 2, 3)), (1, 1), (1, 1, 1, 1)
        )
        stack.linear("c", "conv", syn, np.broadcast_to(rng.choice([0.1, -0.2], size=3), out).reshape(-1), out)
        stack.activate("c", 0.6)
        stack.max_pool("p", (2, 2), (2, 2), (0, 0, 0, 0))
        stack.flatten()
    n_in = stack.units.size
    stack.dense(
        "d1", rng.choice([0.1, 0.2, 0.3, -0.3, 0.0], size=(n_in, 10)), rng.choice([0.1, 0.0], size=10)
    )
    stack.activate("a1", 0.6)
    stack.dense("d2", rng.normal(size=(10, 6)), rng.normal(size=6))
    stack.activate("a2", 0.0)
    key = np.zeros((3, 6))
    for c in range(3):
        key[c, 2 * c : 2 * c + 2] = 1
    return stack.finish(key, "random")


def layer_spikes(net: BinaryNet, frames: np.ndarray, engine: str) -> list[np.ndarray]:
    result = spikec.simulate(
        net.network(), len(frames) + net.latency, **net.drive(frames), record="all", engine=engine
    )
    first = 0 if net.input_mode == "current" else 1
    out = []
    for i, layer in enumerate(net.layers):
        rows = np.stack([result.spikes[f"{net.local_name(i)}[{k}]"][0] for k in range(layer.size)], axis=1)
        out.append(rows[first + i : first + i + len(frames)])
    return out


@pytest.mark.parametrize("engine", ["numpy", "numba"])
@pytest.mark.parametrize("conv", [False, True])
@pytest.mark.parametrize("mode", ["spikes", "current"])
def test_forward_equals_simulation_bit_for_bit(engine: str, conv: bool, mode: str) -> None:
    for seed in range(3):
        net = random_net(seed, conv).with_input_mode(mode)
        frames = np.random.default_rng(seed).uniform(size=(40, *net.input_shape))
        ref = net.forward(frames)
        sim = layer_spikes(net, frames, engine)
        for a, b in zip(ref, sim, strict=True):
            assert np.array_equal(a, b)
        assert any(r.any() and not r.all() for r in ref)


def test_reference_sums_in_the_simulator_order() -> None:
    # bias 0.1 then weights 0.2, 0.3: (0.1 + 0.2) + 0.3 = 0.6000000000000001 reaches the
    # threshold, while a matmul-style (0.2 + 0.3) + 0.1 = 0.6 would not.
    thr = (0.1 + 0.2) + 0.3
    assert (0.2 + 0.3) + 0.1 < thr
    layer = ThresholdLayer(
        "d",
        "dense",
        (1,),
        np.array([0, 1]),
        np.array([0, 0]),
        np.array([0.2, 0.3]),
        np.array([0.1]),
        np.array([thr]),
    )
    net = BinaryNet("order", (2,), (layer,))
    frames = np.ones((1, 2))
    assert net.forward(frames)[0].tolist() == [[True]]
    result = spikec.simulate(net.network(), 2, **net.drive(frames))
    assert result.spike_times("out[0]") == [[1]]


def test_frames_streamed_one_per_step_give_one_label_per_step() -> None:
    net = random_net(5, conv=True)
    frames = np.random.default_rng(1).uniform(size=(25, 6, 6, 2))
    network = net.network()
    result = spikec.simulate(network, len(frames) + net.latency, **net.drive(frames))
    labels = decode_probes(network, result.spikes)["label(out)"][0]
    assert len(labels) == len(frames) + net.latency
    assert labels[net.latency :] == net.predict(frames).tolist()
    assert net.latency == 4  # one step per layer: conv, its OR pool, two dense
    assert [layer.kind for layer in net.layers] == ["conv", "pool", "dense", "dense"]


def test_current_injection_latency_and_drive() -> None:
    net = random_net(0, conv=False)
    cur = net.with_input_mode("current")
    assert (net.latency, cur.latency) == (2, 1)
    drive = cur.drive(np.zeros((4, 12)))
    assert set(drive) == {"currents"} and sorted(drive["currents"])[0] == "d1[0]"
    assert drive["currents"]["d1[0]"].shape == (4 + 1,)
    assert not cur.network().inputs()
    with pytest.raises(ModelImportError, match=r"a \.spk circuit takes its input as spikes"):
        cur.circuit("m")


def test_frames_of_the_wrong_size_are_refused() -> None:
    with pytest.raises(ModelImportError, match=r"takes frames of shape \(12,\) \(or 12 values\)"):
        random_net(0, conv=False).forward(np.zeros((3, 5)))


def test_integrating_layers_have_no_forward_pass() -> None:
    layer = ThresholdLayer(
        "d", "dense", (1,), np.array([0]), np.array([0]), np.array([0.6]), np.zeros(1), np.ones(1), decay=0.0
    )
    net = BinaryNet("if", (1,), (layer,))
    with pytest.raises(ModelImportError, match="integrating"):
        net.forward(np.ones((2, 1)))
    # two input spikes of 0.6 reach 1.2 >= 1 on the second: an integrator
    result = spikec.simulate(net.network(), 4, inputs={"x[0]": [0, 1]})
    assert result.spike_times("out[0]") == [[2]]


def test_model_circuit_in_a_program(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    from spikec.dsl import compile_text, register_model_loader
    from spikec.dsl.models import MODEL_LOADERS

    monkeypatch.setattr("spikec.dsl.models.MODEL_LOADERS", dict(MODEL_LOADERS))
    net = random_net(2, conv=False)
    register_model_loader(".fake", lambda path, name: net.circuit(name))
    import pathlib

    d = pathlib.Path(str(tmp_path))
    (d / "m.fake").write_text("")
    (d / "main.spk").write_text(
        'import model "m.fake" as mlp\ninput px[12]\nlet m = mlp(px)\nprobe m.out, label(m.out)\n'
    )
    from spikec.dsl import compile_file

    program = compile_file(d / "main.spk")
    probe = next(p for p in program.probes if p.decoder == "label")
    assert probe.key == net.decode_key() and probe.neurons == tuple(f"m.out[{i}]" for i in range(6))
    frames = np.random.default_rng(3).uniform(size=(10, 12))
    drive = net.drive(frames, inputs=[f"px[{i}]" for i in range(12)])
    result = spikec.simulate(program, 10 + net.latency, **drive)
    assert (
        decode_probes(program, result.spikes)["label(m.out)"][0][net.latency :]
        == net.predict(frames).tolist()
    )
    with pytest.raises(Exception, match=r"the label decoder reads the output of an imported model"):
        compile_text("input x[2]\nprobe label(x)\n")


def test_same_padding_matches_tensorflow() -> None:
    assert same_padding(8, 3, 1) == (1, 1)
    assert same_padding(8, 4, 1) == (1, 2)
    assert same_padding(7, 3, 2) == (1, 1)
    assert same_padding(8, 3, 2) == (0, 1)


def test_conv_synapses_against_a_direct_convolution() -> None:
    rng = np.random.default_rng(0)
    x = rng.integers(0, 2, size=(7, 5, 2)).astype(float)
    kernel = rng.normal(size=(3, 2, 2, 4))
    for stride, pads, dil in (((1, 1), (1, 1, 0, 1), (1, 1)), ((2, 1), (0, 0, 0, 0), (1, 2))):
        syn, (oh, ow, co) = conv2d_synapses(np.arange(70).reshape(7, 5, 2), kernel, stride, pads, dil)
        out = np.zeros(oh * ow * co)
        np.add.at(out, syn.post, x.reshape(-1)[syn.pre] * syn.weight)
        padded = np.pad(x, ((pads[0], pads[1]), (pads[2], pads[3]), (0, 0)))
        want = np.zeros((oh, ow, co))
        for i in range(oh):
            for j in range(ow):
                for ky in range(3):
                    for kx in range(2):
                        want[i, j] += (
                            padded[i * stride[0] + ky * dil[0], j * stride[1] + kx * dil[1]] @ kernel[ky, kx]
                        )
        assert np.allclose(out, want.reshape(-1))


def test_label_probes_carry_a_checked_key() -> None:
    net = spikec.Network()
    for i in range(3):
        net.input(f"x[{i}]")
    names = [f"x[{i}]" for i in range(3)]
    with pytest.raises(spikec.NetworkError, match=r"the label decoder needs a decode key"):
        net.probe(*names, decoder="label")
    with pytest.raises(spikec.NetworkError, match=r"one row per class and 3 columns .* got shape \(1, 2\)"):
        net.probe(*names, decoder="label", key=[[1, 0]])
    with pytest.raises(spikec.NetworkError, match=r"only a label probe takes a decode key"):
        net.probe(*names, decoder="count", key=[[1, 0, 0]])
    probe = net.probe(*names, label="label(x)", decoder="label", key=[[1, 1, 0], [0, 0, 1]])
    assert probe.key == ((1.0, 1.0, 0.0), (0.0, 0.0, 1.0))
    # step 0: x0 alone -> scores (1, -1); step 1: x2 alone -> (-3, 3); step 2: silent -> (-1, 1)
    result = spikec.simulate(net, 3, inputs={"x[0]": [0], "x[2]": [1]})
    assert decode_probes(net, result.spikes) == {"label(x)": [[0, 1, 1]]}
    net.remove_neuron("x[1]")
    assert net.probes[0].key == ((1.0, 0.0), (0.0, 1.0))


def one_at_a_time(model: BinaryNet) -> spikec.Network:
    """The network as the importer built it before the bulk calls: a neuron, a synapse at a time."""
    net = spikec.Network(model.name)
    below = [net.input(f"x[{i}]") for i in range(model.n_inputs)] if model.input_mode == "spikes" else []
    for i, layer in enumerate(model.layers):
        made = [net.neuron(f"{model.local_name(i)}[{k}]", threshold=float(layer.threshold[k]),
                           decay=layer.decay, reset=layer.reset, bias=float(layer.bias[k]))
                for k in range(layer.size)]
        if i or model.input_mode == "spikes":
            for a, b, w in zip(layer.pre.tolist(), layer.post.tolist(), layer.weight.tolist(), strict=True):
                net.synapse(below[a], made[b], w)
        below = made
    out = made
    net.probe(*out, label="out", array=True)
    if model.key is not None:
        net.probe(*out, label="label(out)", decoder="label", array=True, key=model.key)
    return net


@pytest.mark.parametrize("conv", [False, True])
@pytest.mark.parametrize("mode", ["spikes", "current"])
def test_building_takes_one_bulk_call_per_layer(monkeypatch: pytest.MonkeyPatch, conv: bool,
                                                mode: str) -> None:
    """The network is the one a neuron-by-neuron build gives (same order, names, synapses),
    made with one neurons() and one synapses() call per layer and no single-item call."""
    from spikec.ir.builder import Builder

    model = random_net(1, conv).with_input_mode(mode)
    calls: dict[str, int] = {"neurons": 0, "synapses": 0}
    for method in calls:
        def counted(self: Builder, *args: object, _orig: object = getattr(Builder, method), _m: str = method,
                    **kwargs: object) -> object:
            calls[_m] += 1
            return _orig(self, *args, **kwargs)  # type: ignore[operator]
        monkeypatch.setattr(Builder, method, counted)
    for method in ("neuron", "synapse", "input"):
        monkeypatch.setattr(Builder, method, lambda *a, **k: pytest.fail("a single-item builder call"))
    net = model.network()
    monkeypatch.undo()
    assert calls == {"neurons": len(model.layers), "synapses": len(model.layers) - (mode == "current")}
    expected = one_at_a_time(model)
    assert net == expected and net.names() == expected.names()
    assert spikec.format_network(net) == spikec.format_network(expected)
    np.testing.assert_array_equal(net.post, expected.post)  # same synapse order within each group
