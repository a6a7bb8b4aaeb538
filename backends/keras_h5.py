"""Import Whetstone-style Keras HDF5 models, read with h5py alone (no TensorFlow).

The file layout is Keras 2's ``model.save``: a ``model_config`` attribute
holding the model as JSON, and the weights under
``model_weights/<layer>/<layer>/<weight>:0`` (each layer group lists its
weights in a ``weight_names`` attribute). Sequential models (Keras 2.1's list
form and the later ``{"layers": [...]}`` form) and functional models that are
a single chain are read.

Layers and how they map (every spiking layer becomes decay-1 neurons, one
layer per step):

- ``Dense``, ``Conv2D`` (channels_last; strides, ``valid``/``same`` padding,
  dilation): the weights and bias of the next spiking layer. Their own
  ``activation`` must be ``linear``.
- ``BatchNormalization``: folded into the dense/conv layer before it as Keras
  applies it at inference, ``y * g / sqrt(var + eps) + (beta - mean * g / sqrt(var + eps))``.
- ``Spiking_BRelu``: fires when its input is >= 0.5 (threshold 0.5, the
  layer's bias as the neuron bias); ``Spiking_Sigmoid``: fires when its input
  is >= 0. A layer whose ``sharpness`` (config value, or a ``sharpness``
  weight when the file stores one) is not 1 is refused: it is not binary yet.
- ``MaxPooling2D``: on spikes it is an OR, a layer of weight-1 synapses with
  threshold 1; placed before the activation it is moved after it (exact, as
  thresholds are monotone).
- ``Flatten`` (channels-last order, which is the neuron order), ``Dropout``,
  ``InputLayer`` and ``Activation('linear')``: no neurons.
- ``Softmax_Decode``: its key (Whetstone's ``(classes, outputs)`` 0/1
  matrix, from the config or a ``key`` weight) becomes the decode key of the
  last spiking layer; it must be the last layer. A key stored the other way
  round, ``(outputs, classes)``, is recognised by its shape.

Anything else is refused with an error naming the layer.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from spikec.backends.binary_net import BinaryNet, ModelImportError
from spikec.backends.threshold_layers import LayerStack, Pads, conv2d_synapses, same_padding

__all__ = ["read_keras_h5", "keras_layers"]

_IGNORED = {"Dropout", "InputLayer", "SpatialDropout2D", "GaussianNoise", "GaussianDropout"}


def _h5py() -> Any:
    try:
        import h5py
    except ImportError:
        raise ModelImportError("reading Keras HDF5 models needs the h5py package: pip install h5py") from None
    return h5py


def _text(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def keras_layers(config: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The layers of a Keras ``model_config``, in order, as ``{"class_name", "config"}``
    dicts; a functional model must be one chain."""
    body = config.get("config")
    cls = config.get("class_name")
    if cls == "Sequential":
        layers = body if isinstance(body, list) else (body or {}).get("layers")
    elif cls in ("Model", "Functional"):
        layers = (body or {}).get("layers")
        if isinstance(layers, list):
            _check_chain(layers)
    else:
        raise ModelImportError(f"model_config: expected a Sequential or functional model, got {cls!r}")
    if not isinstance(layers, list) or not all(isinstance(x, dict) for x in layers):
        raise ModelImportError("model_config: no list of layers")
    return layers


def _inbound(layer: Mapping[str, Any]) -> list[str]:
    """Names of the layers feeding a functional layer (Keras 2 and Keras 3 forms)."""
    names: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            history = node.get("config", {}).get("keras_history") if "config" in node else None
            if isinstance(history, list) and history:
                names.append(str(history[0]))
                return
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            if node and isinstance(node[0], str) and len(node) >= 3 and isinstance(node[1], int):
                names.append(node[0])
                return
            for item in node:
                walk(item)

    walk(layer.get("inbound_nodes", []))
    return names


def _check_chain(layers: Sequence[Mapping[str, Any]]) -> None:
    for before, layer in zip(layers, layers[1:], strict=False):
        feeds = _inbound(layer)
        name = layer.get("name") or layer.get("config", {}).get("name")
        if feeds != [before.get("name") or before.get("config", {}).get("name")]:
            raise ModelImportError(
                f"layer '{name}' is fed by {feeds or 'nothing'}: spikec imports functional models"
                " that are a single chain of layers")


def _input_shape(layers: Sequence[Mapping[str, Any]]) -> tuple[int, ...]:
    for layer in layers:
        cfg = layer.get("config", {})
        shape = cfg.get("batch_input_shape") or cfg.get("batch_shape")
        if shape:
            dims = shape[1:]
            if any(not isinstance(d, int) or d < 1 for d in dims):
                raise ModelImportError(f"the model's input shape {shape} is not fully known")
            return tuple(dims)
    raise ModelImportError("model_config: no layer gives the input shape (batch_input_shape)")


def _weights(root: Any, name: str) -> dict[str, np.ndarray]:
    """A layer's weights by short name (``kernel``, ``bias``, ``gamma``, ``sharpness``, ``key``)."""
    group = root.get(name)
    if group is None:
        return {}
    out: dict[str, np.ndarray] = {}
    names = [_text(x) for x in group.attrs.get("weight_names", [])]
    if names:
        for full in names:
            out[full.split("/")[-1].split(":")[0]] = np.asarray(group[full])
        return out

    def visit(path: str, obj: Any) -> None:
        if hasattr(obj, "shape"):
            out[path.split("/")[-1].split(":")[0]] = np.asarray(obj)

    group.visititems(visit)
    return out


def _pair(value: Any, what: str, layer: str) -> tuple[int, int]:
    items = list(value) if isinstance(value, (list, tuple)) else [value, value]
    if len(items) != 2 or not all(isinstance(v, int) and v >= 1 for v in items):
        raise ModelImportError(f"layer '{layer}': {what} must be two positive integers, got {value!r}")
    return items[0], items[1]


def _pads(padding: Any, shape: tuple[int, ...], kernel: tuple[int, int], stride: tuple[int, int],
          dilation: tuple[int, int], layer: str) -> Pads:
    if padding == "valid":
        return (0, 0, 0, 0)
    if padding == "same":
        top, bottom = same_padding(shape[0], kernel[0], stride[0], dilation[0])
        left, right = same_padding(shape[1], kernel[1], stride[1], dilation[1])
        return (top, bottom, left, right)
    raise ModelImportError(f"layer '{layer}': padding must be 'valid' or 'same', got {padding!r}")


def _channels_last(cfg: Mapping[str, Any], layer: str) -> None:
    if cfg.get("data_format", "channels_last") not in ("channels_last", None):
        raise ModelImportError(
            f"layer '{layer}': data_format {cfg.get('data_format')!r}; spikec reads channels_last models")


def _linear_activation(cfg: Mapping[str, Any], layer: str) -> None:
    act = cfg.get("activation", "linear")
    if act not in ("linear", None):
        raise ModelImportError(
            f"layer '{layer}' has activation {act!r}; a Whetstone model follows each dense or conv"
            " layer with a spiking activation layer (Spiking_BRelu, Spiking_Sigmoid)")


def _key(cfg: Mapping[str, Any], weights: Mapping[str, np.ndarray], outputs: int, layer: str) -> np.ndarray:
    raw: Any = weights.get("key")
    if raw is None:
        raw = cfg.get("key")
        if isinstance(raw, dict):
            raw = raw.get("value")
    if raw is None:
        raise ModelImportError(f"layer '{layer}' (Softmax_Decode) has no key")
    key = np.asarray(raw, dtype=np.float64)
    if key.ndim != 2 or outputs not in key.shape:
        raise ModelImportError(
            f"layer '{layer}': the key has shape {key.shape}, but the last spiking layer has"
            f" {outputs} outputs")
    if key.shape[1] != outputs:  # stored (outputs, classes)
        key = key.T
    if not np.all(np.isfinite(key)):
        raise ModelImportError(f"layer '{layer}': the key has non-finite entries")
    return key


class _Reader:
    """Walks the layers of one model into a :class:`LayerStack`."""

    def __init__(self, name: str, layers: list[dict[str, Any]],
                 weights: Callable[[str], dict[str, np.ndarray]]) -> None:
        self.layers = layers
        self.weights = weights
        self.shape = _input_shape(layers)
        n = int(np.prod(self.shape))
        self.stack = LayerStack(name, self.shape, np.arange(n).reshape(self.shape))
        self.key: np.ndarray | None = None

    def run(self, source: str) -> BinaryNet:
        handlers: dict[str, Callable[[str, dict[str, Any]], None]] = {
            "Dense": self._dense, "Conv2D": self._conv, "Convolution2D": self._conv,
            "BatchNormalization": self._batchnorm, "MaxPooling2D": self._maxpool,
            "MaxPool2D": self._maxpool, "Flatten": self._flatten, "Activation": self._activation,
            "Spiking_BRelu": self._brelu, "Spiking_Sigmoid": self._sigmoid,
        }
        for i, layer in enumerate(self.layers):
            cls = str(layer.get("class_name"))
            cfg = layer.get("config", {})
            name = str(cfg.get("name") or layer.get("name") or f"layer{i}")
            if self.key is not None:
                raise ModelImportError(f"layer '{name}' comes after Softmax_Decode, which must be last")
            if cls in _IGNORED:
                continue
            if cls == "Softmax_Decode":
                self.stack.finish(None, source)  # the layer before must spike
                self.key = _key(cfg, self.weights(name), self.stack.layers[-1].size, name)
                continue
            handler = handlers.get(cls)
            if handler is None:
                raise ModelImportError(
                    f"layer '{name}': spikec cannot import {cls} layers (it reads Dense, Conv2D,"
                    " BatchNormalization, MaxPooling2D, Flatten, Dropout, Spiking_BRelu,"
                    " Spiking_Sigmoid and Softmax_Decode)")
            handler(name, cfg)
        return self.stack.finish(self.key, source)

    def _need(self, name: str, what: str) -> dict[str, np.ndarray]:
        found = self.weights(name)
        if what not in found:
            raise ModelImportError(f"layer '{name}': no '{what}' weights in model_weights/{name}")
        return found

    def _dense(self, name: str, cfg: dict[str, Any]) -> None:
        _linear_activation(cfg, name)
        w = self._need(name, "kernel")
        kernel = w["kernel"].astype(np.float64)
        bias = w["bias"].astype(np.float64) if cfg.get("use_bias", True) and "bias" in w else 0.0
        if self.stack.pending is None and self.stack.units.ndim != 1:
            raise ModelImportError(f"dense layer '{name}' is fed a tensor of shape"
                                   f" {self.stack.units.shape}; add a Flatten layer before it")
        self.stack.dense(name, kernel, np.broadcast_to(bias, (kernel.shape[1],)))

    def _conv(self, name: str, cfg: dict[str, Any]) -> None:
        _linear_activation(cfg, name)
        _channels_last(cfg, name)
        w = self._need(name, "kernel")
        kernel = w["kernel"].astype(np.float64)
        if cfg.get("groups", 1) != 1:
            raise ModelImportError(f"layer '{name}': grouped convolutions are not supported")
        stride = _pair(cfg.get("strides", (1, 1)), "strides", name)
        dilation = _pair(cfg.get("dilation_rate", (1, 1)), "dilation_rate", name)
        units = self.stack.spatial(name)
        kh, kw = kernel.shape[:2]
        pads = _pads(cfg.get("padding", "valid"), units.shape, (kh, kw), stride, dilation, name)
        syn, shape = conv2d_synapses(units, kernel, stride, pads, dilation)
        use_bias = cfg.get("use_bias", True) and "bias" in w
        bias = w["bias"].astype(np.float64) if use_bias else np.zeros(kernel.shape[3])
        self.stack.linear(name, "conv", syn, np.broadcast_to(bias, shape).reshape(-1), shape)

    def _batchnorm(self, name: str, cfg: dict[str, Any]) -> None:
        axis = cfg.get("axis", -1)
        axis = axis[0] if isinstance(axis, list) and len(axis) == 1 else axis
        p = self.stack.pending
        ndim = p.out_units.ndim if p is not None else self.stack.units.ndim
        if axis not in (-1, ndim):
            raise ModelImportError(f"layer '{name}': batch normalization over axis {axis}; spikec folds"
                                   " it only over the channel (last) axis")
        w = self._need(name, "moving_mean")
        mean, var = w["moving_mean"].astype(np.float64), w["moving_variance"].astype(np.float64)
        gamma = w["gamma"].astype(np.float64) if "gamma" in w else np.ones_like(mean)
        beta = w["beta"].astype(np.float64) if "beta" in w else np.zeros_like(mean)
        eps = float(cfg.get("epsilon", 1e-3))
        inv = gamma / np.sqrt(var + eps)
        self.stack.affine(name, inv, beta - mean * inv)

    def _maxpool(self, name: str, cfg: dict[str, Any]) -> None:
        _channels_last(cfg, name)
        pool = _pair(cfg.get("pool_size", (2, 2)), "pool_size", name)
        stride = _pair(cfg.get("strides") or pool, "strides", name)
        p = self.stack.pending
        units = p.out_units if p is not None else self.stack.spatial(name)
        if units.ndim != 3:
            raise ModelImportError(f"layer '{name}' needs an image, got shape {units.shape}")
        pads = _pads(cfg.get("padding", "valid"), units.shape, pool, stride, (1, 1), name)
        self.stack.max_pool(name, pool, stride, pads)

    def _flatten(self, name: str, cfg: dict[str, Any]) -> None:
        _channels_last(cfg, name)
        self.stack.flatten()

    def _activation(self, name: str, cfg: dict[str, Any]) -> None:
        if cfg.get("activation") not in ("linear", None):
            raise ModelImportError(
                f"layer '{name}': activation {cfg.get('activation')!r} is not binary; use"
                " Spiking_BRelu or Spiking_Sigmoid")

    def _sharp(self, name: str, cfg: dict[str, Any]) -> None:
        stored = self.weights(name).get("sharpness")
        value = float(np.asarray(stored).reshape(-1)[0]) if stored is not None else cfg.get("sharpness")
        if value is None:
            raise ModelImportError(f"layer '{name}': no sharpness in its config or weights")
        if float(value) != 1.0:
            raise ModelImportError(
                f"layer '{name}': sharpness is {float(value):g}, not 1; only a fully sharpened"
                " activation is a spiking threshold (train until every layer is sharp)")

    def _brelu(self, name: str, cfg: dict[str, Any]) -> None:
        self._sharp(name, cfg)
        self.stack.activate(name, 0.5)

    def _sigmoid(self, name: str, cfg: dict[str, Any]) -> None:
        self._sharp(name, cfg)
        self.stack.activate(name, 0.0)


def read_keras_h5(path: str | os.PathLike[str]) -> BinaryNet:
    """Read a Whetstone-style Keras HDF5 model into a :class:`BinaryNet` (spike input)."""
    h5py = _h5py()
    shown = os.fspath(path)
    try:
        fh = h5py.File(path, "r")
    except (OSError, ValueError) as exc:
        raise ModelImportError(f"{shown}: not a readable HDF5 file ({exc})") from None
    with fh:
        raw = fh.attrs.get("model_config")
        if raw is None:
            raise ModelImportError(
                f"{shown}: no model_config attribute (a weights-only file?); spikec needs a file"
                " written by model.save()")
        try:
            config = json.loads(_text(raw))
        except ValueError as exc:
            raise ModelImportError(f"{shown}: model_config is not JSON ({exc})") from None
        root = fh["model_weights"] if "model_weights" in fh else fh
        reader = _Reader(Path(shown).stem, keras_layers(config), lambda layer: _weights(root, layer))
        return reader.run(shown)
