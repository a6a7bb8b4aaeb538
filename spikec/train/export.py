"""Exporting trained sharpened nets: Keras 2 HDF5 (the Whetstone layout) and NIR.

:func:`export_h5` writes ``model_config`` JSON plus
``model_weights/<layer>/<layer>/<w>:0`` float32 datasets, as Whetstone models
do; :func:`export_nir` writes a NIR graph. :func:`spikec.import_model` reads
both into the same network.
"""

from __future__ import annotations

import json
import os
from typing import Any

import numpy as np
import torch
from torch import nn

from spikec.errors import TrainError
from spikec.ir.files import atomic_path
from spikec.train.model import SharpNet, SpikingBReLU, _Layer

__all__ = ["export_h5", "export_nir"]


def _dense_rows_hwc(weight: np.ndarray, spatial: tuple[int, int, int] | None) -> np.ndarray:
    """A dense kernel (in, out) with rows reordered from torch's channels-first flatten to
    Keras' channels-last flatten (when the dense layer follows a flattened image)."""
    kernel = weight.T
    if spatial is None:
        return kernel
    c, h, w = spatial
    return kernel.reshape(c, h, w, -1).transpose(1, 2, 0, 3).reshape(c * h * w, -1)


def _walk(model: SharpNet) -> list[tuple[_Layer, tuple[int, ...]]]:
    """Each layer with the channels-first shape of its output (no batch axis)."""
    shapes: list[tuple[_Layer, tuple[int, ...]]] = []
    x = torch.zeros((1, *model.input_shape))
    if x.dim() == 4:
        x = x.permute(0, 3, 1, 2)
    with torch.no_grad():
        for layer in model.specs:
            x = layer.module(x)
            shapes.append((layer, tuple(x.shape[1:])))
    return shapes


def _f32(t: torch.Tensor) -> np.ndarray:
    return t.detach().cpu().numpy().astype(np.float32)


def export_h5(model: SharpNet, path: str | os.PathLike[str]) -> None:
    """Write the model in the Whetstone/Keras 2 HDF5 layout (float32 weights)."""
    import h5py

    config: list[dict[str, Any]] = []
    weights: dict[str, dict[str, np.ndarray]] = {}
    before: tuple[int, ...] = (tuple(model.input_shape[2:]) + tuple(model.input_shape[:2])
                               if len(model.input_shape) == 3 else tuple(model.input_shape))
    spatial: tuple[int, int, int] | None = None
    for layer, shape in _walk(model):
        cfg: dict[str, Any] = {"name": layer.name, "trainable": True}
        m = layer.module
        if layer.kind == "dense":
            assert isinstance(m, nn.Linear)
            cls = "Dense"
            cfg.update(units=m.out_features, activation="linear", use_bias=True)
            weights[layer.name] = {"kernel": _dense_rows_hwc(_f32(m.weight), spatial), "bias": _f32(m.bias)}
            spatial = None
        elif layer.kind == "conv":
            assert isinstance(m, nn.Conv2d) and m.bias is not None
            cls = "Conv2D"
            cfg.update(filters=m.out_channels, kernel_size=list(m.kernel_size), strides=[1, 1],
                       padding="same", data_format="channels_last", dilation_rate=[1, 1],
                       activation="linear", use_bias=True)
            weights[layer.name] = {"kernel": _f32(m.weight).transpose(2, 3, 1, 0), "bias": _f32(m.bias)}
        elif layer.kind == "brelu":
            assert isinstance(m, SpikingBReLU)
            cls = "Spiking_BRelu"
            cfg["sharpness"] = float(m.sharpness)
        elif layer.kind == "maxpool":
            cls = "MaxPooling2D"
            cfg.update(pool_size=[2, 2], strides=[2, 2], padding="valid", data_format="channels_last")
        elif layer.kind == "dropout":
            assert isinstance(m, nn.Dropout)
            cls = "Dropout"
            cfg["rate"] = float(m.p)
        else:
            cls = "Flatten"
            cfg["data_format"] = "channels_last"
            c, h, w = before
            spatial = (c, h, w)
        if not config:
            cfg["batch_input_shape"] = [None, *model.input_shape]
        config.append({"class_name": cls, "config": cfg})
        before = shape
    key = model.decode.key.numpy().astype(np.float64)
    config.append({"class_name": "Softmax_Decode",
                   "config": {"name": "softmax_decode_1", "trainable": True,
                              "key": {"type": "ndarray", "value": key.tolist()}}})
    doc = {"class_name": "Sequential", "config": {"name": "sequential_1", "layers": config}}
    with atomic_path(path) as tmp, h5py.File(tmp, "w") as fh:
        fh.attrs["model_config"] = json.dumps(doc).encode("utf-8")
        fh.attrs["backend"] = b"tensorflow"
        fh.attrs["keras_version"] = b"2.2.4"  # the layout followed; written by spikec.train
        root = fh.create_group("model_weights")
        root.attrs["layer_names"] = [c["config"]["name"].encode("utf-8") for c in config]
        root.attrs["backend"] = b"tensorflow"
        root.attrs["keras_version"] = b"2.2.4"
        for entry in config:
            name = entry["config"]["name"]
            group = root.create_group(name)
            stored = weights.get(name, {})
            group.attrs["weight_names"] = [f"{name}/{k}:0".encode() for k in stored]
            for k, value in stored.items():
                group.create_dataset(f"{name}/{k}:0", data=value)


def export_nir(model: SharpNet, path: str | os.PathLike[str]) -> None:
    """Write the fully sharpened model as a NIR graph: Affine/Conv2d/SumPool2d nodes, each
    followed by a Threshold (``> nextafter(t, -inf)``, which is ``>= t`` in float64), and an
    Affine readout ``2(2K - 1) a - sum(2K - 1)`` holding the decode key."""
    import nir

    if any(s != 1.0 for s in model.sharpness()):
        raise TrainError(f"the model is not fully sharpened (sharpness {model.sharpness()});"
                         " NIR thresholds describe sharp activations only")
    nodes: dict[str, Any] = {}
    shape = ((model.input_shape[2], *model.input_shape[:2]) if len(model.input_shape) == 3
             else tuple(model.input_shape))
    nodes["input"] = nir.Input(input_type={"input": np.array(shape)})
    order = ["input"]
    for layer, out_shape in _walk(model):
        m = layer.module
        if layer.kind == "dropout":  # the identity at inference
            continue
        if layer.kind == "dense":
            assert isinstance(m, nn.Linear)
            nodes[layer.name] = nir.Affine(weight=_f32(m.weight), bias=_f32(m.bias))
        elif layer.kind == "conv":
            assert isinstance(m, nn.Conv2d) and m.bias is not None
            k = m.kernel_size[0]
            nodes[layer.name] = nir.Conv2d(input_shape=tuple(shape[1:]), weight=_f32(m.weight), stride=1,
                                           padding=(k // 2, k // 2), dilation=1, groups=1, bias=_f32(m.bias))
        elif layer.kind == "brelu":
            nodes[layer.name] = nir.Threshold(threshold=np.full(out_shape, np.nextafter(0.5, -np.inf)))
        elif layer.kind == "maxpool":
            nodes[layer.name] = nir.SumPool2d(kernel_size=np.array([2, 2]), stride=np.array([2, 2]),
                                              padding=np.array([0, 0]))
            # max of spikes is their OR: the window's sum reaches 1
            or_threshold = np.full(out_shape, np.nextafter(1.0, -np.inf))
            nodes[f"{layer.name}_or"] = nir.Threshold(threshold=or_threshold)
            order += [layer.name, f"{layer.name}_or"]
            shape = out_shape
            continue
        else:
            nodes[layer.name] = nir.Flatten(input_type={"input": np.array(shape)}, start_dim=0)
        order.append(layer.name)
        shape = out_shape
    key = model.decode.key.numpy().astype(np.float64)
    signed = 2.0 * key - 1.0
    nodes["softmax_decode_1"] = nir.Affine(weight=2.0 * signed, bias=-signed.sum(axis=1))
    nodes["output"] = nir.Output(output_type={"output": np.array([key.shape[0]])})
    order += ["softmax_decode_1", "output"]
    graph = nir.NIRGraph(nodes=nodes, edges=list(zip(order, order[1:], strict=False)), type_check=False)
    with atomic_path(path) as tmp:
        nir.write(tmp, graph)
