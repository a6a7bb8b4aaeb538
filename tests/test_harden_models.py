"""Hostile model files (Keras HDF5, NIR) and frames files: every one is refused with a
located error (issue 13). Each test builds its file in tmp_path."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from keras_files import write_model

from spikec.backends.deepnet_eval import check_frames, check_labels, read_frames
from spikec.backends.keras_h5 import read_keras_h5
from spikec.backends.nir_import import nir_to_binary_net, read_nir
from spikec.errors import ModelImportError, SimulationError

h5py = pytest.importorskip("h5py")
nir = pytest.importorskip("nir")

# -- Keras HDF5 ---------------------------------------------------------------------------------


def layer(cls: str, name: str, **cfg: Any) -> dict[str, Any]:
    return {"class_name": cls, "config": {"name": name, **cfg}}


def layers(**first: Any) -> list[dict[str, Any]]:
    cfg = {"units": 2, "activation": "linear", "batch_input_shape": [None, 3], **first}
    return [layer("Dense", "d", **cfg), layer("Spiking_BRelu", "a", sharpness=1.0)]


def weights() -> dict[str, dict[str, Any]]:
    return {"d": {"kernel": np.ones((3, 2), np.float32), "bias": np.zeros(2, np.float32)}}


def write_h5(path: Path, model: list[dict[str, Any]] | None = None,
             w: dict[str, dict[str, Any]] | None = None, config: Any = None) -> Path:
    model = layers() if model is None else model
    w = weights() if w is None else w
    text = config if config is not None else json.dumps(
        {"class_name": "Sequential", "config": {"name": "s", "layers": model}})
    return write_model(path, text, model, w)


def refused(path: Path, pattern: str) -> None:
    with pytest.raises(ModelImportError, match=pattern):
        read_keras_h5(path)


KERNEL = r"m\.h5: dataset '/model_weights/d/d/kernel:0'"


def test_a_valid_file_still_imports(tmp_path: Path) -> None:
    assert read_keras_h5(write_h5(tmp_path / "m.h5")).n_outputs == 2


@pytest.mark.parametrize("value, pattern", [
    (np.ones((3, 2, 1), np.float32), rf"{KERNEL}: kernel of shape \(3, 2, 1\); a Dense kernel is"),
    (np.float32(1.0), rf"{KERNEL}: kernel of shape \(\); a Dense kernel is"),
    (np.ones((4, 2), np.float32), rf"{KERNEL}: kernel of shape \(4, 2\), but the layer is fed 3 values"),
    (np.array([b"ab", b"cd"]), rf"{KERNEL}: \|S2 values, not real numbers"),
    (np.ones((3, 2), np.complex64), rf"{KERNEL}: complex values \(complex64\)"),
    (np.zeros(2, dtype=[("a", "f4"), ("b", "i4")]), rf"{KERNEL}: .* values, not real numbers"),
    (np.full((3, 2), np.nan, np.float32), rf"{KERNEL}: value at index \(0, 0\) is nan; weights must be"),
    (np.full((3, 2), 2**60, np.int64), rf"{KERNEL}: integers beyond 2\*\*53"),
])
def test_bad_kernels_name_the_dataset(tmp_path: Path, value: Any, pattern: str) -> None:
    w = weights()
    w["d"]["kernel"] = value
    refused(write_h5(tmp_path / "m.h5", w=w), pattern)


def test_string_kernel_written_as_text(tmp_path: Path) -> None:
    w = weights()
    w["d"]["kernel"] = "weights"
    refused(write_h5(tmp_path / "m.h5", w=w), rf"{KERNEL}: object values, not real numbers")


def test_a_group_in_place_of_a_dataset(tmp_path: Path) -> None:
    path = write_h5(tmp_path / "m.h5", w={"d": {"bias": np.zeros(2, np.float32)}})
    with h5py.File(path, "a") as fh:
        fh["model_weights/d"].create_group("d/kernel:0")
        fh["model_weights/d"].attrs["weight_names"] = [b"d/kernel:0", b"d/bias:0"]
    refused(path, r"m\.h5: '/model_weights/d/d/kernel:0' is a group, not a dataset of numbers")


def test_bias_of_the_wrong_length(tmp_path: Path) -> None:
    w = weights()
    w["d"]["bias"] = np.zeros(5, np.float32)
    refused(write_h5(tmp_path / "m.h5", w=w),
            r"m\.h5: dataset '/model_weights/d/d/bias:0': bias of shape \(5,\); expected \(2,\)")


def test_weight_names_naming_a_missing_dataset(tmp_path: Path) -> None:
    path = write_h5(tmp_path / "m.h5")
    with h5py.File(path, "a") as fh:
        fh["model_weights/d"].attrs["weight_names"] = [b"d/kernel:0", b"d/nothing:0"]
    refused(path, r"m\.h5: attribute '/model_weights/d/weight_names' names 'd/nothing:0', which"
                  r" '/model_weights/d' does not have")


@pytest.mark.parametrize("config, pattern", [
    ("[1, 2]", r"m\.h5: attribute 'model_config': expected a JSON object \(a Keras model\), got list"),
    ('"text"', r"m\.h5: attribute 'model_config': expected a JSON object \(a Keras model\), got str"),
    ("5", r"m\.h5: attribute 'model_config': expected a JSON object \(a Keras model\), got int"),
    ("{", r"m\.h5: attribute 'model_config': not JSON"),
    ("[" * 100_000, r"m\.h5: attribute 'model_config': not JSON \(it nests too deeply\)"),
    ('{"a": ' * 500 + "1" + "}" * 500, r"m\.h5: attribute 'model_config': the JSON nests 65 levels deep"),
    ('{"class_name": "Sequential", "config": 5}', r"m\.h5: model_config: no list of layers"),
])
def test_bad_model_config(tmp_path: Path, config: str, pattern: str) -> None:
    refused(write_h5(tmp_path / "m.h5", config=config), pattern)


def test_model_config_of_numbers(tmp_path: Path) -> None:
    path = write_h5(tmp_path / "m.h5")
    with h5py.File(path, "a") as fh:
        fh.attrs["model_config"] = np.arange(4)
    refused(path, r"m\.h5: attribute 'model_config': expected JSON text, got int64 values")


def test_layer_config_that_is_not_an_object(tmp_path: Path) -> None:
    model = [{"class_name": "Dense", "config": [1, 2]}]
    refused(write_h5(tmp_path / "m.h5", model=[], w={}, config=json.dumps(
        {"class_name": "Sequential", "config": {"layers": model}})), r"its config is a list, not an object")


@pytest.mark.parametrize("shape, pattern", [
    (64, r"m\.h5: layer 'd': the model's input shape 64 is not a list of positive sizes"),
    ([None, "3"], r"m\.h5: layer 'd': the model's input shape \[None, '3'\] is not a list"),
    ([None, True], r"m\.h5: layer 'd': the model's input shape \[None, True\] is not a list"),
    ([None, 100_000, 100_000], r"m\.h5: the input \(100000, 100000\) would have 10,000,000,000 neurons;"
                               r" the limit is 20,000,000"),
])
def test_bad_input_shapes(tmp_path: Path, shape: Any, pattern: str) -> None:
    refused(write_h5(tmp_path / "m.h5", model=layers(batch_input_shape=shape)), pattern)


def test_huge_declared_dataset_is_refused_before_reading(tmp_path: Path) -> None:
    path = write_h5(tmp_path / "m.h5")
    with h5py.File(path, "a") as fh:
        del fh["model_weights/d/d/kernel:0"]
        fh["model_weights/d/d"].create_dataset("kernel:0", shape=(100_000, 100_000), dtype="f4",
                                               chunks=(1000, 1000), compression="gzip")
    assert path.stat().st_size < 1_000_000
    refused(path, rf"{KERNEL} declares 10,000,000,000 values \(40,000,000,000 bytes\); the limit is"
                  r" 64,000,000 values")


@pytest.mark.parametrize("target", ["/etc/passwd", "other.h5"])
def test_external_links_are_refused_not_followed(tmp_path: Path, target: str) -> None:
    if target == "other.h5":
        with h5py.File(tmp_path / target, "w") as other:
            other["kernel"] = np.ones((3, 2), np.float32)
        target = str(tmp_path / target)
    path = write_h5(tmp_path / "m.h5")
    with h5py.File(path, "a") as fh:
        del fh["model_weights/d/d/kernel:0"]
        fh["model_weights/d/d/kernel:0"] = h5py.ExternalLink(target, "/kernel")
    refused(path, r"m\.h5: '/model_weights/d/d/kernel:0' is an external link \(to '/kernel' in .*\);"
                  r" spikec reads only the file it is given")


def test_soft_links_virtual_datasets_and_external_storage(tmp_path: Path) -> None:
    path = write_h5(tmp_path / "m.h5")
    with h5py.File(path, "a") as fh:
        fh["model_weights/loop"] = h5py.SoftLink("/model_weights")
    refused(path, r"m\.h5: '/model_weights/loop' is a SoftLink; spikec follows hard links only")
    path = write_h5(tmp_path / "m.h5")
    with h5py.File(path, "a") as fh:
        layout = h5py.VirtualLayout(shape=(3, 2), dtype="f4")
        layout[:] = h5py.VirtualSource(str(tmp_path / "x.h5"), "k", shape=(3, 2))
        del fh["model_weights/d/d/kernel:0"]
        fh["model_weights/d/d"].create_virtual_dataset("kernel:0", layout)
    refused(path, rf"{KERNEL} is a virtual dataset")
    path = write_h5(tmp_path / "m.h5")
    with h5py.File(path, "a") as fh:
        del fh["model_weights/d/d/kernel:0"]
        fh["model_weights/d/d"].create_dataset("kernel:0", shape=(3, 2), dtype="u1",
                                               external=[("/etc/passwd", 0, 6)])
    refused(path, rf"{KERNEL} keeps its data in external files \('/etc/passwd'\)")


def test_deeply_nested_groups(tmp_path: Path) -> None:
    path = write_h5(tmp_path / "m.h5")
    with h5py.File(path, "a") as fh:
        fh.create_group("/deep" + "/g" * 40)
    refused(path, r"m\.h5: group '/deep(/g)+' is nested more than 32 levels deep")


@pytest.mark.parametrize("sharpness, pattern", [
    ("1", r"m\.h5: layer 'a': sharpness must be a finite number, got '1'"),
    ([1, 1], r"m\.h5: layer 'a': sharpness must be a finite number, got \[1, 1\]"),
    (float("nan"), r"m\.h5: layer 'a': sharpness must be a finite number, got nan"),
])
def test_sharpness_not_a_number(tmp_path: Path, sharpness: Any, pattern: str) -> None:
    model = layers()
    model[1]["config"]["sharpness"] = sharpness
    refused(write_h5(tmp_path / "m.h5", model=model), pattern)


def test_sharpness_weight_of_many_values(tmp_path: Path) -> None:
    w = {**weights(), "a": {"sharpness": np.ones(3, np.float32)}}
    refused(write_h5(tmp_path / "m.h5", w=w), r"m\.h5: dataset '/model_weights/a/a/sharpness:0': sharpness of"
                                               r" shape \(3,\); expected one number")


@pytest.mark.parametrize("key, pattern", [
    ("abc", r"m\.h5: layer 'k': the key is text \('abc'\), not a matrix of numbers"),
    ([[1, 0], [1]], r"m\.h5: layer 'k': the key is not a matrix of numbers \(ragged or text\)"),
    ([["a", "b"]], r"m\.h5: layer 'k': the key is not a matrix of numbers"),
])
def test_bad_decode_keys(tmp_path: Path, key: Any, pattern: str) -> None:
    model = [*layers(), layer("Softmax_Decode", "k", key=key)]
    refused(write_h5(tmp_path / "m.h5", model=model), pattern)


def test_bad_layer_parameters(tmp_path: Path) -> None:
    model = [layer("Conv2D", "d", filters=1, kernel_size=[1, 1], strides=[True, 1],
                   batch_input_shape=[None, 2, 2, 1]), layer("Spiking_BRelu", "a", sharpness=1.0)]
    w = {"d": {"kernel": np.ones((1, 1, 1, 1), np.float32)}}
    refused(write_h5(tmp_path / "m.h5", model=model, w=w), r"m\.h5: layer 'd': strides must be two integers")
    model[0]["config"]["strides"] = [1, 1]
    w["d"]["kernel"] = np.ones((1, 1, 2, 1), np.float32)
    refused(write_h5(tmp_path / "m.h5", model=model, w=w),
            rf"{KERNEL}: kernel of shape \(1, 1, 2, 1\), but the layer is fed 1 channels")


def test_conv_too_large_is_refused_before_building(tmp_path: Path) -> None:
    model = [layer("Conv2D", "d", filters=64, kernel_size=[9, 9], padding="same",
                   batch_input_shape=[None, 1000, 1000, 1]), layer("Spiking_BRelu", "a", sharpness=1.0)]
    w = {"d": {"kernel": np.ones((9, 9, 1, 64), np.float32)}}
    refused(write_h5(tmp_path / "m.h5", model=model, w=w),
            r"m\.h5: layer 'd': the layer would have 64,000,000 neurons; the limit is 20,000,000")


@pytest.mark.parametrize("make", ["missing", "directory", "text", "truncated", "empty"])
def test_not_an_hdf5_model(tmp_path: Path, make: str) -> None:
    path = tmp_path / "m.h5"
    if make == "directory":
        path.mkdir()
    elif make == "text":
        path.write_text("not hdf5")
    elif make == "empty":
        path.write_bytes(b"")
    elif make == "truncated":
        data = write_h5(tmp_path / "full.h5").read_bytes()
        path.write_bytes(data[: len(data) // 2])
    message = {"missing": "no such file", "directory": "is a directory, not a HDF5 file"}.get(
        make, "not a readable HDF5 file|cannot be read")
    refused(path, rf"m\.h5: ({message})")


# -- NIR ------------------------------------------------------------------------------------------


def io(shape: tuple[int, ...], out: int) -> tuple[tuple[str, Any], tuple[str, Any]]:
    return (("input", nir.Input(input_type={"input": np.array(shape)})),
            ("output", nir.Output(output_type={"output": np.array([out])})))


def chain(*nodes: tuple[str, Any]) -> Any:
    names = [n for n, _ in nodes]
    return nir.NIRGraph(nodes=dict(nodes), edges=list(zip(names, names[1:], strict=False)), type_check=False)


def write_nir(path: Path, *body: tuple[str, Any], shape: tuple[int, ...] = (2,)) -> Path:
    inp, out = io(shape, 2)
    nodes = body or (("fc", nir.Affine(weight=np.eye(2), bias=np.zeros(2))),
                     ("lif1", nir.Threshold(threshold=np.zeros(2))))
    nir.write(path, chain(inp, *nodes, out))
    return path


def refused_nir(path: Path, pattern: str) -> None:
    with pytest.raises(ModelImportError, match=pattern):
        read_nir(path)


def edit(path: Path, node: str, field: str, value: Any) -> Path:
    with h5py.File(path, "a") as fh:
        group = fh[f"node/nodes/{node}"]
        if field in group:
            del group[field]
        if isinstance(value, str) and value == "<group>":
            group.create_group(field)
        else:
            group[field] = value
    return path


def test_a_valid_nir_file_still_imports(tmp_path: Path) -> None:
    assert read_nir(write_nir(tmp_path / "g.nir")).n_outputs == 2


@pytest.mark.parametrize("field, value, pattern", [
    ("weight", np.ones(2), r"g\.nir: node 'fc': weight of shape \(2,\); a Affine weight has 2 dimensions"),
    ("weight", "<group>", r"g\.nir: node 'fc': 'weight' is a group, not a dataset"),
    ("weight", np.array([[b"a", b"b"]]), r"g\.nir: node 'fc': weight holds \|S1 values, not real numbers"),
    ("weight", np.eye(2, dtype=complex), r"g\.nir: node 'fc': weight has complex values"),
    ("weight", np.full((2, 2), np.inf), r"g\.nir: node 'fc': weight: value at index \(0, 0\) is inf"),
    ("bias", np.zeros(5), r"g\.nir: node 'fc': bias of shape \(5,\) for 2 outputs"),
    ("type", b"Mystery", r"g\.nir: node 'fc': spikec cannot import NIR Mystery nodes"),
    ("type", b"NIRGraph", r"g\.nir: node 'fc': a nested graph; spikec imports flat graphs"),
])
def test_bad_affine_nodes(tmp_path: Path, field: str, value: Any, pattern: str) -> None:
    refused_nir(edit(write_nir(tmp_path / "g.nir"), "fc", field, value), pattern)


def test_string_threshold(tmp_path: Path) -> None:
    path = edit(write_nir(tmp_path / "g.nir"), "lif1", "threshold", "high")
    refused_nir(path, r"g\.nir: node 'lif1': threshold holds object values, not real numbers")


def conv_graph(path: Path, **conv: Any) -> Path:
    args = {"input_shape": (4, 4), "weight": np.ones((1, 1, 2, 2)), "stride": 1, "padding": 0, "dilation": 1,
            "groups": 1, "bias": np.zeros(1), **conv}
    return write_nir(path, ("conv", nir.Conv2d(**args)), ("t", nir.Threshold(threshold=np.zeros((1, 3, 3)))),
                     ("flat", nir.Flatten(input_type={"input": np.array([1, 3, 3])}, start_dim=0)),
                     ("fc", nir.Linear(weight=np.ones((2, 9)))),
                     ("lif1", nir.Threshold(threshold=np.zeros(2))), shape=(1, 4, 4))


def test_conv_stride_zero_and_bad_groups(tmp_path: Path) -> None:
    assert read_nir(conv_graph(tmp_path / "g.nir")).n_outputs == 2
    path = edit(conv_graph(tmp_path / "g.nir"), "conv", "stride", np.array([0, 0]))
    refused_nir(path, r"g\.nir: node 'conv': stride must be one or two integers from 1 to")
    path = edit(conv_graph(tmp_path / "g.nir"), "conv", "groups", "abc")
    refused_nir(path, r"g\.nir: node 'conv': groups holds object values, not real numbers")
    path = edit(conv_graph(tmp_path / "g.nir"), "conv", "groups", 2)
    refused_nir(path, r"g\.nir: node 'conv': grouped convolution")


def test_in_memory_graph_with_bad_values() -> None:
    inp, out = io((2,), 2)
    fc = nir.Linear(weight=np.eye(2))
    fc.weight = "abc"  # type: ignore[assignment]
    with pytest.raises(ModelImportError, match=r"^error: node 'fc': weight is text \('abc'\), not numbers"):
        nir_to_binary_net(chain(inp, ("fc", fc), ("t", nir.Threshold(threshold=np.zeros(2))), out))
    conv = nir.Conv2d(input_shape=(4, 4), weight=np.ones((1, 1, 2, 2)), stride=1, padding=0, dilation=1,
                      groups=1, bias=np.zeros(1))
    conv.stride = (0, 0)
    inp, out = io((1, 4, 4), 2)
    with pytest.raises(ModelImportError, match=r"node 'conv': stride must be one or two integers from 1"):
        nir_to_binary_net(chain(inp, ("conv", conv), out))


def test_nested_graphs_are_refused_without_recursion(tmp_path: Path) -> None:
    path = write_nir(tmp_path / "g.nir")
    with h5py.File(path, "a") as fh:
        group = fh["node/nodes"].create_group("sub")
        group["type"] = b"NIRGraph"
        for _ in range(1100):
            group = group.create_group("nodes").create_group("sub")
            group["type"] = b"NIRGraph"
    refused_nir(path, r"g\.nir: group '/node/nodes/sub(/nodes/sub)+' is nested more than 32 levels deep")


def test_huge_declared_nir_array(tmp_path: Path) -> None:
    path = write_nir(tmp_path / "g.nir")
    with h5py.File(path, "a") as fh:
        del fh["node/nodes/fc/weight"]
        fh["node/nodes/fc"].create_dataset("weight", shape=(10**6, 10**6), dtype="f8", chunks=(1000, 1000),
                                           compression="gzip")
    refused_nir(path, r"g\.nir: dataset '/node/nodes/fc/weight' declares 1,000,000,000,000 values")


def test_huge_declared_input_shape(tmp_path: Path) -> None:
    path = edit(write_nir(tmp_path / "g.nir"), "input", "shape", np.array([10**6, 10**6, 3]))
    refused_nir(path, r"g\.nir: node 'input': the input would have 3,000,000,000,000 neurons")


@pytest.mark.parametrize("make", ["missing", "directory", "text", "truncated"])
def test_not_a_nir_file(tmp_path: Path, make: str) -> None:
    path = tmp_path / "g.nir"
    if make == "directory":
        path.mkdir()
    elif make == "text":
        path.write_text("nope")
    elif make == "truncated":
        data = write_nir(tmp_path / "full.nir").read_bytes()
        path.write_bytes(data[: len(data) // 2])
    refused_nir(path, r"g\.nir: (no such file|is a directory|not a readable NIR file|.*cannot be read)")


def test_nir_external_link(tmp_path: Path) -> None:
    path = write_nir(tmp_path / "g.nir")
    with h5py.File(path, "a") as fh:
        del fh["node/nodes/fc/weight"]
        fh["node/nodes/fc/weight"] = h5py.ExternalLink("/etc/passwd", "/x")
    refused_nir(path, r"g\.nir: '/node/nodes/fc/weight' is an external link")


# -- frames files -----------------------------------------------------------------------------


def test_frames_file_round_trip(tmp_path: Path) -> None:
    np.savez(tmp_path / "f.npz", images=np.ones((3, 4)), labels=np.array([0, 1, 2]))
    images, labels = read_frames(tmp_path / "f.npz")
    assert images.shape == (3, 4) and labels is not None and labels.tolist() == [0, 1, 2]


@pytest.mark.parametrize("make, pattern", [
    ("empty", r"f\.npz: not an \.npz file"),
    ("text", r"f\.npz: not an \.npz file"),
    ("no images", r"f\.npz: no 'images' array \(found: other\)"),
    ("nan", r"f\.npz: array 'images': value at index \(0, 0\) is nan; frames must be finite"),
    ("late inf", r"f\.npz: array 'images': value at index \(2, 1\) is inf"),
    ("float labels", r"f\.npz: array 'labels': label at index 1 is 1\.5; labels are integers"),
    ("text labels", r"f\.npz: array 'labels': expected numbers, got dtype <U1"),
    ("negative labels", r"f\.npz: array 'labels': label at index 0 is -1"),
    ("too few labels", r"f\.npz: array 'labels': 2 labels for 3 frames"),
    ("objects", r"f\.npz: array 'images': holds Python objects"),
    ("huge", r"f\.npz: array 'images': declares shape \(1000000, 1000000\) \(8,000,000,000,000 bytes\)"),
    ("truncated", r"f\.npz: (array 'images': (truncated|cannot be read)|not an \.npz file)"),
])
def test_bad_frames_files(tmp_path: Path, make: str, pattern: str) -> None:
    path = tmp_path / "f.npz"
    images = np.ones((3, 2))
    if make == "empty":
        path.write_bytes(b"")
    elif make == "text":
        path.write_text("frames")
    elif make == "no images":
        np.savez(path, other=images)
    elif make == "nan":
        np.savez(path, images=np.full((3, 2), np.nan))
    elif make == "late inf":
        images[2, 1] = np.inf
        np.savez(path, images=images)
    elif make.endswith("labels"):
        labels = {"float labels": [0, 1.5, 2], "text labels": ["a", "b", "c"], "negative labels": [-1, 0, 0],
                  "too few labels": [0, 1]}[make]
        np.savez(path, images=images, labels=np.array(labels))
    elif make == "objects":
        np.savez(path, images=np.array([None, 1], dtype=object))
    elif make == "huge":
        with zipfile.ZipFile(path, "w") as zf, zf.open("images.npy", "w") as fh:
            header = {"descr": "<f8", "fortran_order": False, "shape": (10**6, 10**6)}
            np.lib.format.write_array_header_1_0(fh, header)
    elif make == "truncated":
        np.savez(path, images=np.ones((100, 100)))
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    with pytest.raises(SimulationError, match=pattern):
        read_frames(path)


def test_classify_checks_frames_and_labels_given_as_arrays() -> None:
    with pytest.raises(SimulationError, match=r"^error: frames: value at index \(1, 0\) is nan"):
        check_frames(np.array([[0.0], [np.nan]]))
    with pytest.raises(SimulationError, match=r"labels: label at index 0 is 3; labels are integers from 0"):
        check_labels(np.array([3]), 1, classes=3)
