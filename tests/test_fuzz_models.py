"""Mutation fuzzing of the model importers (issue 13): small valid Keras HDF5 files and NIR
graphs, built here with h5py / nir, are mutated (dtypes, shapes, datasets replaced by groups
or scalars, model_config JSON corrupted, members deleted, bytes truncated or flipped) and
read back; only a SpikecError may escape. Seeded, so a failure names its seed."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from keras_files import write_model

from spikec.backends.keras_h5 import read_keras_h5
from spikec.backends.nir_import import read_nir
from spikec.errors import SpikecError

h5py = pytest.importorskip("h5py")
nir = pytest.importorskip("nir")


def keras_file(path: Path, rng: random.Random) -> Path:
    """A small valid model: dense or conv, optional batch norm and pooling, a decode key."""
    conv = rng.random() < 0.5
    layers: list[dict[str, Any]] = []
    weights: dict[str, dict[str, np.ndarray]] = {}
    if conv:
        layers.append({"class_name": "Conv2D", "config": {
            "name": "c", "filters": 2, "kernel_size": [2, 2], "padding": rng.choice(["same", "valid"]),
            "strides": [1, 1], "activation": "linear", "batch_input_shape": [None, 4, 4, 1]}})
        weights["c"] = {"kernel": np.ones((2, 2, 1, 2), np.float32), "bias": np.zeros(2, np.float32)}
        if rng.random() < 0.5:
            layers.append({"class_name": "MaxPooling2D", "config": {"name": "p", "pool_size": [2, 2]}})
        layers.append({"class_name": "Spiking_BRelu", "config": {"name": "a0", "sharpness": 1.0}})
        layers.append({"class_name": "Flatten", "config": {"name": "f"}})
        units = None
    else:
        layers.append({"class_name": "Dense", "config": {"name": "d0", "units": 3, "activation": "linear",
                                                         "batch_input_shape": [None, 4]}})
        weights["d0"] = {"kernel": np.ones((4, 3), np.float32), "bias": np.zeros(3, np.float32)}
        if rng.random() < 0.5:
            layers.append({"class_name": "BatchNormalization", "config": {"name": "bn", "epsilon": 1e-3}})
            names = ("gamma", "beta", "moving_mean", "moving_variance")
            weights["bn"] = {k: np.ones(3, np.float32) for k in names}
        layers.append({"class_name": "Spiking_BRelu", "config": {"name": "a0", "sharpness": 1.0}})
        units = 3
    layers.append({"class_name": "Dense", "config": {"name": "d1", "units": 4, "activation": "linear"}})
    weights["d1"] = {"kernel": np.ones((units or 1, 4), np.float32), "bias": np.zeros(4, np.float32)}
    layers.append({"class_name": "Spiking_Sigmoid", "config": {"name": "a1", "sharpness": 1.0}})
    key = [[1, 1, 0, 0], [0, 0, 1, 1]]
    layers.append({"class_name": "Softmax_Decode", "config": {"name": "k", "key": key}})
    if conv:  # the flattened size depends on padding and pooling: size the dense kernel to fit
        side = 4 if layers[0]["config"]["padding"] == "same" else 3
        side = side // 2 if layers[1]["class_name"] == "MaxPooling2D" else side
        weights["d1"]["kernel"] = np.ones((side * side * 2, 4), np.float32)
    config = {"class_name": "Sequential", "config": {"name": "s", "layers": layers}}
    return write_model(path, config, layers, weights)


def nir_file(path: Path, rng: random.Random) -> Path:
    """A small valid NIR chain: Affine/Linear with Threshold, IF or LIF; or Conv2d, SumPool2d,
    Flatten; sometimes with a Delay (refused, cleanly)."""
    if rng.random() < 0.5:
        nodes: list[tuple[str, Any]] = [("input", nir.Input(input_type={"input": np.array([3])}))]
        nodes.append(("fc", nir.Affine(weight=np.ones((2, 3)), bias=np.zeros(2))
                      if rng.random() < 0.5 else nir.Linear(weight=np.ones((2, 3)))))
        neuron = rng.choice(["t", "if", "lif"])
        nodes.append(("n", nir.Threshold(threshold=np.zeros(2)) if neuron == "t" else
                      nir.IF(r=np.ones(2), v_threshold=np.ones(2), v_reset=np.zeros(2)) if neuron == "if" else
                      nir.LIF(tau=np.ones(2), r=np.ones(2), v_leak=np.zeros(2), v_threshold=np.ones(2),
                              v_reset=np.zeros(2))))
        if rng.random() < 0.2:
            nodes.append(("delay", nir.Delay(delay=np.ones(2))))
        out = 2
    else:
        nodes = [("input", nir.Input(input_type={"input": np.array([1, 4, 4])})),
                 ("conv", nir.Conv2d(input_shape=(4, 4), weight=np.ones((2, 1, 2, 2)), stride=1, padding=0,
                                     dilation=1, groups=1, bias=np.zeros(2))),
                 ("t0", nir.Threshold(threshold=np.zeros((2, 3, 3)))),
                 ("pool", nir.SumPool2d(kernel_size=np.array([2, 2]), stride=np.array([1, 1]),
                                        padding=np.array([0, 0]))),
                 ("t1", nir.Threshold(threshold=np.zeros((2, 2, 2)))),
                 ("flat", nir.Flatten(input_type={"input": np.array([2, 2, 2])}, start_dim=0)),
                 ("fc", nir.Linear(weight=np.ones((2, 8)))), ("t2", nir.Threshold(threshold=np.zeros(2)))]
        out = 2
    nodes.append(("output", nir.Output(output_type={"output": np.array([out])})))
    names = [n for n, _ in nodes]
    graph = nir.NIRGraph(nodes=dict(nodes), edges=list(zip(names, names[1:], strict=False)), type_check=False)
    nir.write(path, graph)
    return path


_REPLACEMENTS: list[Any] = [
    np.float64(2.0), np.array([b"x", b"y"]), np.ones(3, np.complex128), np.ones((2, 2, 2)), np.zeros(0),
    np.array([np.nan, 1.0]), np.array([[1, 2]], np.int64), np.array(-1), np.array([0, 0]), "abc",
    np.zeros(2, dtype=[("a", "f4"), ("b", "i2")]), np.array([2**62]), np.ones((1, 7)), np.array(True),
]
_CONFIGS: list[Any] = [
    "[]", "5", '"s"', "{", "null", '{"class_name": "Sequential"}',
    '{"class_name": "Sequential", "config": 3}',
    '{"class_name": "Model", "config": {"layers": [1]}}', "[" * 5000, np.arange(3), b"\xff\xfe",
]


def _mutate_tree(path: Path, rng: random.Random) -> None:
    with h5py.File(path, "a") as fh:
        datasets: list[str] = []
        groups: list[str] = []
        fh.visititems(lambda name, obj: (datasets if isinstance(obj, h5py.Dataset) else groups).append(name))
        op = rng.choice(["replace", "group", "delete", "attr", "config", "link", "json"])
        if op in ("replace", "group", "delete", "link") and datasets:
            target = rng.choice(datasets + groups if op == "delete" else datasets)
            del fh[target]
            if op == "replace":
                fh[target] = rng.choice(_REPLACEMENTS)
            elif op == "group":
                fh.create_group(target)
            elif op == "link":
                fh[target] = rng.choice([h5py.ExternalLink("/etc/passwd", "/x"), h5py.SoftLink("/")])
        elif op == "attr" and groups:
            group = fh[rng.choice(groups)]
            group.attrs["weight_names"] = rng.choice([np.arange(3), [b"nope:0"], [b"\xff"], "x", [b"/"]])
        elif op == "config" and "model_config" in fh.attrs:
            fh.attrs["model_config"] = rng.choice(_CONFIGS)
        elif op == "json" and "model_config" in fh.attrs:
            try:
                config = json.loads(fh.attrs["model_config"])
            except (ValueError, TypeError, RecursionError):
                return  # an earlier mutation left no JSON
            _mutate_json(config, rng)
            fh.attrs["model_config"] = json.dumps(config)
        elif datasets:  # NIR has no model_config: change a node's type instead
            types = [d for d in datasets if d.endswith("/type")]
            if types:
                target = rng.choice(types)
                del fh[target]
                fh[target] = rng.choice([b"Mystery", b"NIRGraph", b"Delay", b"\xff", b"Input"])


_JSON_VALUES: list[Any] = [None, -1, 0, 10**12, 1.5, "x", [], {}, [None, 10**6, 10**6, 10**3], True, [[1]],
                           float("inf"), {"value": "k"}]


def _mutate_json(value: Any, rng: random.Random) -> None:
    """Replace one value somewhere in a decoded model_config."""
    for _ in range(8):
        if isinstance(value, dict) and value:
            key = rng.choice(list(value))
            if rng.random() < 0.3 or not isinstance(value[key], (dict, list)):
                value[key] = rng.choice(_JSON_VALUES)
                return
            value = value[key]
        elif isinstance(value, list) and value:
            i = rng.randrange(len(value))
            if rng.random() < 0.3 or not isinstance(value[i], (dict, list)):
                value[i] = rng.choice(_JSON_VALUES)
                return
            value = value[i]
        else:
            return


def _mutate_bytes(path: Path, rng: random.Random) -> None:
    data = bytearray(path.read_bytes())
    if rng.random() < 0.4:
        del data[rng.randrange(len(data)):]
    else:
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
    path.write_bytes(bytes(data))


def fuzz(tmp_path: Path, seeds: range) -> dict[str, int]:
    """Mutate and read one file per seed and format; returns counts of outcomes."""
    outcomes = {"read": 0, "refused": 0}
    for seed in seeds:
        for kind, make, read in (("keras", keras_file, read_keras_h5), ("nir", nir_file, read_nir)):
            rng = random.Random(f"{kind}{seed}")
            path = make(tmp_path / f"{kind}{seed % 4}.{'h5' if kind == 'keras' else 'nir'}", rng)
            for _ in range(rng.randint(0 if rng.random() < 0.25 else 1, 3)):
                _mutate_tree(path, rng)
            if rng.random() < 0.3:  # last: the file may no longer open
                _mutate_bytes(path, rng)
            try:
                read(path)
                outcomes["read"] += 1
            except SpikecError:
                outcomes["refused"] += 1
            except Exception as exc:  # noqa: BLE001 - the point of the test
                raise AssertionError(f"{kind} seed {seed}: {type(exc).__name__} escaped: {exc}") from exc
    return outcomes


def test_valid_files_import(tmp_path: Path) -> None:
    for seed in range(12):
        assert read_keras_h5(keras_file(tmp_path / "k.h5", random.Random(seed))).n_outputs == 4
        try:
            assert read_nir(nir_file(tmp_path / "g.nir", random.Random(seed))).n_outputs == 2
        except SpikecError as exc:
            assert "cannot import NIR Delay nodes" in str(exc)


def test_mutated_model_files_only_raise_spikec_errors(tmp_path: Path) -> None:
    outcomes = fuzz(tmp_path, range(60))
    assert outcomes["refused"] > 30


#: Seeds whose byte flips corrupt an HDF5 global heap so that libhdf5 itself spins forever
#: reading a variable-length string (nir896: '/node/type'; keras1633: the model_config
#: attribute). Not yet guarded; skipped so the long run ends.
KNOWN_HDF5_HANGS = {896, 1633}


@pytest.mark.slow
def test_mutated_model_files_long_run(tmp_path: Path) -> None:
    seeds = [s for s in range(60, 1633) if s not in KNOWN_HDF5_HANGS]
    outcomes = {"read": 0, "refused": 0}
    for seed in seeds:
        for key, count in fuzz(tmp_path, range(seed, seed + 1)).items():
            outcomes[key] += count
    assert sum(outcomes.values()) == 2 * len(seeds)
