"""Whetstone-style Keras HDF5 import (spikec.backends.keras_h5) on hand-built files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from keras_files import write_model

import spikec
from spikec.backends.binary_net import ModelImportError
from spikec.dsl import compile_file
from spikec.ir.decoders import decode_probes

h5py = pytest.importorskip("h5py")

DATA = Path(__file__).parent / "data"


def write_h5(
    path: Path,
    layers: list[dict[str, Any]],
    weights: dict[str, dict[str, np.ndarray]],
    form: str = "sequential",
) -> Path:
    """A Keras 2 ``model.save`` layout, written by hand."""
    if form == "list":  # Keras 2.1
        config: dict[str, Any] = {"class_name": "Sequential", "config": layers}
    elif form == "functional":
        chained = []
        for i, layer in enumerate(layers):
            name = layer["config"]["name"]
            inbound = [] if i == 0 else [[[layers[i - 1]["config"]["name"], 0, 0, {}]]]
            chained.append({**layer, "name": name, "inbound_nodes": inbound})
        config = {"class_name": "Model", "config": {"name": "m", "layers": chained}}
    else:
        config = {"class_name": "Sequential", "config": {"name": "s", "layers": layers}}
    return write_model(path, config, layers, weights)


def layer(cls: str, name: str, **cfg: Any) -> dict[str, Any]:
    return {"class_name": cls, "config": {"name": name, **cfg}}


KEY = [[1, 1, 0, 0, 0, 0], [0, 0, 1, 1, 0, 0], [0, 0, 0, 0, 1, 1]]


def mlp(tmp_path: Path, form: str = "sequential", **extra: Any) -> tuple[Path, dict[str, Any]]:
    rng = np.random.default_rng(0)
    w = {
        "d1": {
            "kernel": rng.normal(size=(5, 4)).astype(np.float32),
            "bias": rng.normal(size=4).astype(np.float32),
        },
        "d2": {
            "kernel": rng.normal(size=(4, 6)).astype(np.float32),
            "bias": rng.normal(size=6).astype(np.float32),
        },
    }
    layers = [
        layer("Dense", "d1", units=4, activation="linear", batch_input_shape=[None, 5]),
        layer("Spiking_BRelu", "a1", sharpness=1.0),
        layer("Dropout", "drop", rate=0.5),
        layer("Dense", "d2", units=6, activation="linear"),
        layer("Spiking_BRelu", "a2", sharpness=1.0),
        layer("Softmax_Decode", "dec", key=extra.get("key", {"type": "ndarray", "value": KEY})),
    ]
    return write_h5(tmp_path / "mlp.h5", layers, w, form), w


@pytest.mark.parametrize("form", ["sequential", "list", "functional"])
def test_dense_model_maps_to_threshold_neurons(tmp_path: Path, form: str) -> None:
    path, w = mlp(tmp_path, form)
    model = spikec.import_model(path)
    assert [ly.name for ly in model.layers] == ["d1", "d2"] and model.latency == 2
    net = model.network()
    n = net["d1[2]"]
    assert (n.threshold, n.decay, n.bias) == (0.5, 1.0, float(w["d1"]["bias"][2]))
    weights = {(s.pre, s.post): s.weight for s in net.synapses()}
    assert weights[("x[3]", "d1[2]")] == float(w["d1"]["kernel"][3, 2])
    assert weights[("d1[1]", "out[5]")] == float(w["d2"]["kernel"][1, 5])
    assert model.key is not None and model.key.tolist() == KEY
    frames = np.random.default_rng(1).integers(0, 2, size=(30, 5))
    hidden = (frames @ w["d1"]["kernel"].astype(float) + w["d1"]["bias"]) >= 0.5
    out = (hidden @ w["d2"]["kernel"].astype(float) + w["d2"]["bias"]) >= 0.5
    assert np.array_equal(model.forward(frames)[1], out)  # no sum lands within rounding of 0.5


def test_key_stored_outputs_by_classes_is_recognised(tmp_path: Path) -> None:
    path, _ = mlp(tmp_path, key=np.array(KEY).T.tolist())
    key = spikec.import_model(path).key
    assert key is not None and key.tolist() == KEY


def test_sharpness_and_key_as_weights(tmp_path: Path) -> None:
    w = {
        "d": {"kernel": np.ones((2, 2), np.float32), "bias": np.zeros(2, np.float32)},
        "a": {"sharpness": np.array(1.0, np.float32)},
        "k": {"key": np.eye(2, dtype=np.float32)},
    }
    layers = [
        layer("Dense", "d", units=2, batch_input_shape=[None, 2]),
        layer("Spiking_BRelu", "a"),
        layer("Softmax_Decode", "k"),
    ]
    model = spikec.import_model(write_h5(tmp_path / "w.h5", layers, w))
    assert model.key is not None and model.key.tolist() == [[1, 0], [0, 1]]
    w["a"]["sharpness"] = np.array(0.75, np.float32)
    with pytest.raises(
        ModelImportError, match=r"layer 'a': sharpness is 0\.75, not 1; only a fully sharpened"
    ):
        spikec.import_model(write_h5(tmp_path / "w.h5", layers, w))


def conv_model(tmp_path: Path, pool_first: bool) -> tuple[Path, dict[str, Any]]:
    rng = np.random.default_rng(2)
    w = {
        "c": {
            "kernel": rng.normal(size=(3, 3, 2, 3)).astype(np.float32),
            "bias": rng.normal(size=3).astype(np.float32),
        },
        "bn": {
            "gamma": rng.normal(size=3).astype(np.float32),
            "beta": rng.normal(size=3).astype(np.float32),
            "moving_mean": rng.normal(size=3).astype(np.float32),
            "moving_variance": rng.uniform(0.5, 2, size=3).astype(np.float32),
        },
        "d": {
            "kernel": rng.normal(size=(27, 4)).astype(np.float32),
            "bias": rng.normal(size=4).astype(np.float32),
        },
    }
    pool = layer("MaxPooling2D", "mp", pool_size=[2, 2], strides=None, padding="valid")
    act = layer("Spiking_BRelu", "a", sharpness=1.0)
    layers = [
        layer("InputLayer", "in", batch_input_shape=[None, 6, 6, 2]),
        layer(
            "Conv2D",
            "c",
            filters=3,
            kernel_size=[3, 3],
            strides=[1, 1],
            padding="same",
            activation="linear",
            data_format="channels_last",
        ),
        layer("BatchNormalization", "bn", axis=-1, epsilon=0.001),
        *([pool, act] if pool_first else [act, pool]),
        layer("Flatten", "f"),
        layer("Dense", "d", units=4),
        layer("Spiking_Sigmoid", "s", sharpness=1.0),
    ]
    return write_h5(tmp_path / "conv.h5", layers, w), w


@pytest.mark.parametrize("pool_first", [False, True])
def test_conv_batchnorm_pool_against_a_direct_computation(tmp_path: Path, pool_first: bool) -> None:
    path, w = conv_model(tmp_path, pool_first)
    model = spikec.import_model(path)
    assert [(ly.name, ly.kind, ly.shape) for ly in model.layers] == [
        ("c", "conv", (6, 6, 3)),
        ("mp", "pool", (3, 3, 3)),
        ("d", "dense", (4,)),
    ]
    frames = np.random.default_rng(3).uniform(size=(60, 6, 6, 2))
    x = np.pad((frames >= 0.5).astype(float), ((0, 0), (1, 1), (1, 1), (0, 0)))
    conv = np.zeros((60, 6, 6, 3))
    for i in range(6):
        for j in range(6):
            conv[:, i, j] = (
                np.einsum("nhwc,hwco->no", x[:, i : i + 3, j : j + 3], w["c"]["kernel"]) + w["c"]["bias"]
            )
    bn = w["bn"]
    inv = bn["gamma"] / np.sqrt(bn["moving_variance"].astype(float) + 0.001)
    pooled = (conv * inv + (bn["beta"] - bn["moving_mean"] * inv)).reshape(60, 3, 2, 3, 2, 3).max(axis=(2, 4))
    a = pooled >= 0.5
    out = a.reshape(60, -1) @ w["d"]["kernel"].astype(float) + w["d"]["bias"] >= 0.0
    got = model.forward(frames)
    assert np.array_equal(got[1], a.reshape(60, -1)) and np.array_equal(got[2], out)
    result = spikec.simulate(model.network(), 60 + 3, **model.drive(frames), record="all")
    sim = np.stack([result.spikes[f"out[{k}]"][0] for k in range(4)], axis=1)[3:]
    assert np.array_equal(sim, got[2])


@pytest.mark.parametrize(
    ("layers", "message"),
    [
        (
            [layer("Dense", "d", units=2, activation="relu", batch_input_shape=[None, 2])],
            r"layer 'd' has activation 'relu'; a Whetstone model follows each dense or conv layer",
        ),
        (
            [layer("Dense", "d", units=2, batch_input_shape=[None, 2]), layer("LSTM", "l")],
            r"layer 'l': spikec cannot import LSTM layers",
        ),
        (
            [layer("Dense", "d", units=2, batch_input_shape=[None, 2])],
            r"layer 'd' is not followed by a spiking activation",
        ),
        (
            [
                layer("Dense", "d", units=2, batch_input_shape=[None, 2]),
                layer("Spiking_BRelu", "a", sharpness=1.0),
                layer("Softmax_Decode", "k", key=[[1, 0, 0]]),
            ],
            r"layer 'k': the key has shape \(1, 3\), but the last spiking layer has 2 outputs",
        ),
        (
            [
                layer(
                    "Conv2D",
                    "c",
                    filters=1,
                    kernel_size=[1, 1],
                    data_format="channels_first",
                    batch_input_shape=[None, 1, 2, 2],
                )
            ],
            r"layer 'c': data_format 'channels_first'; spikec reads channels_last models",
        ),
        (
            [
                layer("Dense", "d", units=2, batch_input_shape=[None, 2]),
                layer("BatchNormalization", "b0"),
                layer("Spiking_BRelu", "a", sharpness=1.0),
                layer("BatchNormalization", "b"),
            ],
            r"layer 'b' \(batch normalization\) must follow a dense or conv layer directly",
        ),
    ],
)
def test_refusals_name_the_layer(tmp_path: Path, layers: list[dict[str, Any]], message: str) -> None:
    ones = {"kernel": np.ones((2, 2), np.float32), "bias": np.zeros(2, np.float32)}
    bn = {"moving_mean": np.zeros(2, np.float32), "moving_variance": np.ones(2, np.float32)}
    w: dict[str, dict[str, np.ndarray]] = {
        "d": ones, "c": {"kernel": np.ones((1, 1, 1, 1), np.float32)}, "b0": bn, "b": bn}
    with pytest.raises(ModelImportError, match=message):
        spikec.import_model(write_h5(tmp_path / "bad.h5", layers, w))


def test_unreadable_files(tmp_path: Path) -> None:
    (tmp_path / "junk.h5").write_text("not hdf5")
    with pytest.raises(ModelImportError, match=r"junk\.h5: not a readable HDF5 file"):
        spikec.import_model(tmp_path / "junk.h5")
    with h5py.File(tmp_path / "weights.h5", "w") as fh:
        fh.create_group("dense_1")
    with pytest.raises(ModelImportError, match=r"no model_config attribute \(a weights-only file\?\)"):
        spikec.import_model(tmp_path / "weights.h5")
    with pytest.raises(ModelImportError, match=r"nothing\.h5: no such file"):
        spikec.import_model(tmp_path / "nothing.h5")
    with pytest.raises(ModelImportError, match=r"unknown model type '\.onnx'"):
        spikec.import_model(tmp_path / "net.onnx")


def test_import_model_in_a_program_with_a_label_probe(tmp_path: Path) -> None:
    path, _ = mlp(tmp_path)
    main = tmp_path / "main.spk"
    main.write_text(
        f'import model "{path.name}" as net\ninput px[5]\nlet m = net(px)\nprobe m.out, label(m.out)\n'
    )
    program = compile_file(main)
    model = spikec.import_model(path)
    assert program.num_synapses == model.network().num_synapses
    frames = np.random.default_rng(4).integers(0, 2, size=(12, 5))
    drive = model.drive(frames, inputs=[f"px[{i}]" for i in range(5)])
    result = spikec.simulate(program, 14, **drive)
    assert decode_probes(program, result.spikes)["label(m.out)"][0][2:] == model.predict(frames).tolist()
    saved = tmp_path / "net.json"
    spikec.save(program, saved)
    assert spikec.load_network(saved).probes == program.probes


def test_a_model_error_points_at_the_import(tmp_path: Path) -> None:
    path, _ = mlp(tmp_path, key=[[1, 0, 0]])
    (tmp_path / "main.spk").write_text(f'import model "{path.name}" as net\n')
    with pytest.raises(
        spikec.SpikecError, match=r"main\.spk:1:14: error: import model 'mlp\.h5': layer 'dec'"
    ):
        compile_file(tmp_path / "main.spk")


def test_committed_fixture_imports_like_its_nir_twin() -> None:
    pytest.importorskip("nir")
    for name in ("digits_dense", "digits_conv"):
        a = spikec.import_model(DATA / f"{name}.h5")
        assert a.network() == spikec.import_model(DATA / f"{name}.nir").network()
