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

Every read is checked first (:func:`open_hdf5`, shared with the NIR
importer): external links, soft links, virtual datasets and external raw
storage are refused, never followed; every dataset's declared size is checked
against :class:`~spikec.backends.binary_net.ImportLimits` before it is read;
weights must be real numbers (complex, string and compound data are refused),
exactly representable in float64 and finite. Errors name the file and the
place: ``model.h5: dataset '/model_weights/d/d/kernel:0': ...``,
``model.h5: layer 'd': ...`` or ``model.h5: attribute 'model_config': ...``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from spikec.backends.binary_net import (
    H5_ERRORS,
    BinaryNet,
    ImportLimits,
    ModelImportError,
    first_nonfinite,
    open_hdf5,
    read_real,
)
from spikec.backends.threshold_layers import MAX_WINDOW, LayerStack, Pads, conv2d_synapses, same_padding
from spikec.errors import fmt_count

__all__ = ["read_keras_h5", "keras_layers"]

_IGNORED = {"Dropout", "InputLayer", "SpatialDropout2D", "GaussianNoise", "GaussianDropout"}

#: Largest ``model_config`` attribute read (bytes), and deepest JSON nesting accepted in it.
MAX_CONFIG_BYTES = 64 << 20
MAX_CONFIG_DEPTH = 64


def _h5py() -> Any:
    try:
        import h5py
    except ImportError:
        raise ModelImportError("reading Keras HDF5 models needs the h5py package: pip install h5py") from None
    return h5py


def _text(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


# -- model_config -----------------------------------------------------------------------------


def _config(fh: Any) -> dict[str, Any]:
    where = "attribute 'model_config'"
    try:
        present = "model_config" in fh.attrs
    except H5_ERRORS as exc:
        raise ModelImportError(f"the root's attributes cannot be read ({exc})") from None
    if not present:
        raise ModelImportError("no model_config attribute (a weights-only file?); spikec needs a file"
                               " written by model.save()")
    try:
        attr = fh.attrs.get_id("model_config")
        size, kind = attr.get_storage_size(), attr.dtype.kind
        raw = fh.attrs["model_config"] if size <= MAX_CONFIG_BYTES and kind in "SUO" else None
    except H5_ERRORS as exc:
        raise ModelImportError(f"{where}: cannot be read ({exc})") from None
    if kind not in "SUO":
        raise ModelImportError(f"{where}: expected JSON text, got {attr.dtype} values")
    if size > MAX_CONFIG_BYTES:
        raise ModelImportError(f"{where}: {fmt_count(size)} bytes; the limit is"
                               f" {fmt_count(MAX_CONFIG_BYTES)}")
    if isinstance(raw, np.ndarray) and raw.size == 1:
        raw = raw.reshape(-1)[0]
    if not isinstance(raw, (bytes, str)):
        raise ModelImportError(f"{where}: expected JSON text, got {type(raw).__name__}")
    try:
        config = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        why = "it nests too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise ModelImportError(f"{where}: not JSON ({why})") from None
    depth = _depth(config)
    if depth > MAX_CONFIG_DEPTH:
        raise ModelImportError(f"{where}: the JSON nests {depth} levels deep; the limit is"
                               f" {MAX_CONFIG_DEPTH}")
    if not isinstance(config, dict):
        raise ModelImportError(f"{where}: expected a JSON object (a Keras model), got"
                               f" {type(config).__name__}")
    return config


def _depth(value: Any) -> int:
    """Nesting depth of decoded JSON, without recursion (stops past the limit)."""
    deepest, level = 0, [value]
    while level and deepest <= MAX_CONFIG_DEPTH:
        deepest += 1
        nxt: list[Any] = []
        for item in level:
            if isinstance(item, dict):
                nxt.extend(item.values())
            elif isinstance(item, list):
                nxt.extend(item)
        level = nxt
    return deepest - (0 if level else 1)


def _cfg(layer: Mapping[str, Any]) -> dict[str, Any]:
    cfg = layer.get("config", {})
    if not isinstance(cfg, dict):
        raise ModelImportError(f"layer '{layer.get('name', '?')}': its config is a {type(cfg).__name__},"
                               " not an object")
    return cfg


def _layer_name(layer: Mapping[str, Any]) -> Any:
    return layer.get("name") or _cfg(layer).get("name")


def keras_layers(config: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The layers of a Keras ``model_config``, in order, as ``{"class_name", "config"}``
    dicts; a functional model must be one chain."""
    if not isinstance(config, Mapping):
        raise ModelImportError(f"model_config: expected a JSON object, got {type(config).__name__}")
    body = config.get("config")
    cls = config.get("class_name")
    layers: Any = None
    if cls == "Sequential":
        layers = body if isinstance(body, list) else body.get("layers") if isinstance(body, dict) else None
    elif cls in ("Model", "Functional"):
        layers = body.get("layers") if isinstance(body, dict) else None
        if isinstance(layers, list) and all(isinstance(x, dict) for x in layers):
            _check_chain(layers)
    else:
        raise ModelImportError(f"model_config: expected a Sequential or functional model, got {cls!r}")
    if not isinstance(layers, list) or not all(isinstance(x, dict) for x in layers):
        raise ModelImportError("model_config: no list of layers")
    for x in layers:
        _cfg(x)
    return layers


def _inbound(layer: Mapping[str, Any]) -> list[str]:
    """Names of the layers feeding a functional layer (Keras 2 and Keras 3 forms)."""
    names: list[str] = []

    def walk(node: Any) -> None:  # recursion bounded by MAX_CONFIG_DEPTH
        if isinstance(node, dict):
            cfg = node.get("config")
            history = cfg.get("keras_history") if isinstance(cfg, dict) else None
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
        if feeds != [_layer_name(before)]:
            raise ModelImportError(
                f"layer '{_layer_name(layer)}' is fed by {feeds or 'nothing'}: spikec imports functional"
                " models that are a single chain of layers")


def _input_shape(layers: Sequence[Mapping[str, Any]], limits: ImportLimits) -> tuple[int, ...]:
    for layer in layers:
        cfg = _cfg(layer)
        shape = cfg.get("batch_input_shape") or cfg.get("batch_shape")
        if shape:
            dims = shape[1:] if isinstance(shape, list) else None
            if not dims or any(isinstance(d, bool) or not isinstance(d, int) or d < 1 for d in dims):
                raise ModelImportError(f"layer '{_layer_name(layer)}': the model's input shape {shape!r} is"
                                       " not a list of positive sizes after the batch size")
            limits.units(int(np.prod(dims, dtype=object)), f"the input {tuple(dims)}")
            return tuple(dims)
    raise ModelImportError("model_config: no layer gives the input shape (batch_input_shape)")


# -- weights ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Stored:
    """One weight dataset: where it is and its values."""

    path: str
    value: np.ndarray

    def fail(self, message: str) -> ModelImportError:
        return ModelImportError(f"dataset '{self.path}': {message}")


def _member(group: Any, name: str, where: str) -> Any:
    try:
        return group.get(name)
    except H5_ERRORS as exc:
        raise ModelImportError(f"'{where}/{name}': cannot be read ({exc})") from None


def _weight_names(group: Any, where: str) -> list[str]:
    label = f"attribute '{where}/weight_names'"
    try:
        if "weight_names" not in group.attrs:
            return []
        attr = group.attrs.get_id("weight_names")
        if attr.shape is None or 0 in attr.shape:  # an empty list (h5py stores it as float64)
            return []
        if attr.dtype.kind not in "SUO" or attr.get_storage_size() > MAX_CONFIG_BYTES:
            raise ModelImportError(f"{label}: expected a list of dataset names, got {attr.dtype} values")
        raw = np.asarray(group.attrs["weight_names"]).reshape(-1)
    except H5_ERRORS as exc:
        raise ModelImportError(f"{label}: cannot be read ({exc})") from None
    if not all(isinstance(x, (bytes, str)) for x in raw):
        raise ModelImportError(f"{label}: expected a list of dataset names")
    try:
        return [_text(x) for x in raw]
    except UnicodeDecodeError:
        raise ModelImportError(f"{label}: the names are not UTF-8 text") from None


def _weights(root: Any, name: str) -> dict[str, _Stored]:
    """A layer's weights by short name (``kernel``, ``bias``, ``gamma``, ``sharpness``, ``key``)."""
    h5py = _h5py()
    base = root.name.rstrip("/")
    group = _member(root, name, base)
    if group is None:
        return {}
    where = f"{base}/{name}"
    if not isinstance(group, h5py.Group):
        raise ModelImportError(f"'{where}' is a dataset; expected the group of layer '{name}''s weights")
    out: dict[str, _Stored] = {}
    names = _weight_names(group, where)
    if names:
        for full in names:
            ds = _member(group, full, where)
            if ds is None:
                raise ModelImportError(f"attribute '{where}/weight_names' names '{full}', which"
                                       f" '{where}' does not have")
            path = f"{where}/{full}"
            out[full.split("/")[-1].split(":")[0]] = _Stored(path, read_real(ds, path))
        return out
    found: list[tuple[str, Any]] = []
    try:
        group.visititems(lambda path, obj: found.append((path, obj)) if isinstance(obj, h5py.Dataset)
                         else None)
    except H5_ERRORS as exc:
        raise ModelImportError(f"group '{where}': cannot be read ({exc})") from None
    for path, ds in found:
        out[path.split("/")[-1].split(":")[0]] = _Stored(f"{where}/{path}", read_real(ds, f"{where}/{path}"))
    return out


# -- layer parameters ---------------------------------------------------------------------------


def _pair(value: Any, what: str, layer: str) -> tuple[int, int]:
    items = list(value) if isinstance(value, (list, tuple)) else [value, value]
    if len(items) != 2 or not all(isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= MAX_WINDOW
                                  for v in items):
        raise ModelImportError(f"layer '{layer}': {what} must be two integers from 1 to {MAX_WINDOW:,},"
                               f" got {value!r}")
    return items[0], items[1]


def _number(value: Any, what: str, layer: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(float(value)):
        raise ModelImportError(f"layer '{layer}': {what} must be a finite number, got {value!r}")
    return float(value)


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


def _key(cfg: Mapping[str, Any], weights: Mapping[str, _Stored], outputs: int, layer: str) -> np.ndarray:
    stored = weights.get("key")
    raw: Any = stored.value if stored is not None else cfg.get("key")
    if isinstance(raw, dict):
        raw = raw.get("value")
    if raw is None:
        raise ModelImportError(f"layer '{layer}' (Softmax_Decode) has no key")
    where = f"dataset '{stored.path}'" if stored is not None else f"layer '{layer}'"
    if isinstance(raw, (str, bytes)):
        raise ModelImportError(f"{where}: the key is text ({raw[:40]!r}), not a matrix of numbers")
    try:
        key = np.asarray(raw, dtype=np.float64)
    except (ValueError, TypeError, OverflowError):
        raise ModelImportError(f"{where}: the key is not a matrix of numbers (ragged or text)") from None
    if key.ndim != 2 or outputs not in key.shape:
        raise ModelImportError(
            f"{where}: the key has shape {key.shape}, but the last spiking layer has {outputs} outputs")
    if key.shape[1] != outputs:  # stored (outputs, classes)
        key = key.T
    bad = first_nonfinite(key)
    if bad is not None:
        raise ModelImportError(f"{where}: the key has non-finite entries ({bad})")
    return key


def _vector(w: _Stored, size: int, what: str) -> np.ndarray:
    if w.value.shape != (size,):
        raise w.fail(f"{what} of shape {w.value.shape}; expected ({size},)")
    return w.value


class _Reader:
    """Walks the layers of one model into a :class:`LayerStack`."""

    def __init__(self, name: str, layers: list[dict[str, Any]],
                 weights: Callable[[str], dict[str, _Stored]], limits: ImportLimits) -> None:
        self.layers = layers
        self.weights = weights
        self.shape = _input_shape(layers, limits)
        n = int(np.prod(self.shape))
        self.stack = LayerStack(name, self.shape, np.arange(n).reshape(self.shape), limits)
        self.key: np.ndarray | None = None

    def run(self, source: str) -> BinaryNet:
        handlers: dict[str, Callable[[str, dict[str, Any]], None]] = {
            "Dense": self._dense, "Conv2D": self._conv, "Convolution2D": self._conv,
            "BatchNormalization": self._batchnorm, "MaxPooling2D": self._maxpool,
            "MaxPool2D": self._maxpool, "Flatten": self._flatten, "Activation": self._activation,
            "Spiking_BRelu": self._brelu, "Spiking_Sigmoid": self._sigmoid,
            "Softmax_Decode": self._decode,
        }
        for i, layer in enumerate(self.layers):
            cls = str(layer.get("class_name"))
            cfg = _cfg(layer)
            name = str(cfg.get("name") or layer.get("name") or f"layer{i}")
            if self.key is not None:
                raise ModelImportError(f"layer '{name}' comes after Softmax_Decode, which must be last")
            if cls in _IGNORED:
                continue
            handler = handlers.get(cls)
            if handler is None:
                raise ModelImportError(
                    f"layer '{name}': spikec cannot import {cls} layers (it reads Dense, Conv2D,"
                    " BatchNormalization, MaxPooling2D, Flatten, Dropout, Spiking_BRelu,"
                    " Spiking_Sigmoid and Softmax_Decode)")
            try:
                handler(name, cfg)
            except ModelImportError as exc:
                if f"'{name}'" in exc.message or exc.message.startswith(("dataset '", "attribute '", "'/")):
                    raise
                raise ModelImportError(f"layer '{name}': {exc.message}") from None
        return self.stack.finish(self.key, source)

    def _need(self, name: str, what: str) -> dict[str, _Stored]:
        found = self.weights(name)
        if what not in found:
            raise ModelImportError(f"layer '{name}': no '{what}' weights in model_weights/{name}")
        return found

    def _dense(self, name: str, cfg: dict[str, Any]) -> None:
        _linear_activation(cfg, name)
        w = self._need(name, "kernel")
        kernel = w["kernel"].value
        if kernel.ndim != 2:
            raise w["kernel"].fail(f"kernel of shape {kernel.shape}; a Dense kernel is (inputs, units)")
        use_bias = cfg.get("use_bias", True) and "bias" in w
        bias = _vector(w["bias"], kernel.shape[1], "bias") if use_bias else np.zeros(kernel.shape[1])
        if self.stack.pending is None and self.stack.units.ndim != 1:
            raise ModelImportError(f"dense layer '{name}' is fed a tensor of shape"
                                   f" {self.stack.units.shape}; add a Flatten layer before it")
        if kernel.shape[0] != self.stack.units.size:
            raise w["kernel"].fail(f"kernel of shape {kernel.shape}, but the layer is fed"
                                   f" {self.stack.units.size} values")
        self.stack.dense(name, kernel, bias)

    def _conv(self, name: str, cfg: dict[str, Any]) -> None:
        _linear_activation(cfg, name)
        _channels_last(cfg, name)
        w = self._need(name, "kernel")
        kernel = w["kernel"].value
        if kernel.ndim != 4:
            raise w["kernel"].fail(f"kernel of shape {kernel.shape}; a Conv2D kernel is"
                                   " (height, width, in channels, filters)")
        if cfg.get("groups", 1) != 1:
            raise ModelImportError(f"layer '{name}': grouped convolutions are not supported")
        stride = _pair(cfg.get("strides", (1, 1)), "strides", name)
        dilation = _pair(cfg.get("dilation_rate", (1, 1)), "dilation_rate", name)
        units = self.stack.spatial(name)
        kh, kw = kernel.shape[:2]
        if units.shape[2] != kernel.shape[2]:
            raise w["kernel"].fail(f"kernel of shape {kernel.shape}, but the layer is fed"
                                   f" {units.shape[2]} channels")
        pads = _pads(cfg.get("padding", "valid"), units.shape, (kh, kw), stride, dilation, name)
        syn, shape = conv2d_synapses(units, kernel, stride, pads, dilation, self.stack.limits)
        use_bias = cfg.get("use_bias", True) and "bias" in w
        bias = _vector(w["bias"], kernel.shape[3], "bias") if use_bias else np.zeros(kernel.shape[3])
        self.stack.linear(name, "conv", syn, np.broadcast_to(bias, shape).reshape(-1), shape)

    def _batchnorm(self, name: str, cfg: dict[str, Any]) -> None:
        axis = cfg.get("axis", -1)
        axis = axis[0] if isinstance(axis, list) and len(axis) == 1 else axis
        p = self.stack.pending
        ndim = p.out_units.ndim if p is not None else self.stack.units.ndim
        if isinstance(axis, bool) or axis not in (-1, ndim):
            raise ModelImportError(f"layer '{name}': batch normalization over axis {axis!r}; spikec folds"
                                   " it only over the channel (last) axis")
        w = self._need(name, "moving_mean")
        if "moving_variance" not in w:
            raise ModelImportError(f"layer '{name}': no 'moving_variance' weights in model_weights/{name}")
        channels = (p.out_units if p is not None else self.stack.units).shape[-1]
        mean = _vector(w["moving_mean"], channels, "moving_mean")
        var = _vector(w["moving_variance"], channels, "moving_variance")
        gamma = _vector(w["gamma"], channels, "gamma") if "gamma" in w else np.ones_like(mean)
        beta = _vector(w["beta"], channels, "beta") if "beta" in w else np.zeros_like(mean)
        eps = _number(cfg.get("epsilon", 1e-3), "epsilon", name)
        if np.any(var + eps <= 0.0):
            raise w["moving_variance"].fail(f"variance + epsilon ({eps:g}) is not positive everywhere")
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
        if stored is not None:
            if stored.value.size != 1:
                raise stored.fail(f"sharpness of shape {stored.value.shape}; expected one number")
            value = float(stored.value.reshape(-1)[0])
        elif cfg.get("sharpness") is None:
            raise ModelImportError(f"layer '{name}': no sharpness in its config or weights")
        else:
            value = _number(cfg.get("sharpness"), "sharpness", name)
        if value != 1.0:
            raise ModelImportError(
                f"layer '{name}': sharpness is {value:g}, not 1; only a fully sharpened"
                " activation is a spiking threshold (train until every layer is sharp)")

    def _brelu(self, name: str, cfg: dict[str, Any]) -> None:
        self._sharp(name, cfg)
        self.stack.activate(name, 0.5)

    def _sigmoid(self, name: str, cfg: dict[str, Any]) -> None:
        self._sharp(name, cfg)
        self.stack.activate(name, 0.0)

    def _decode(self, name: str, cfg: dict[str, Any]) -> None:
        self.stack.finish(None, "")  # the layer before must spike
        self.key = _key(cfg, self.weights(name), self.stack.layers[-1].size, name)


def read_keras_h5(path: str | os.PathLike[str]) -> BinaryNet:
    """Read a Whetstone-style Keras HDF5 model into a :class:`BinaryNet` (spike input).

    Any file that is not such a model (missing, a directory, not HDF5, damaged, hostile)
    gives a :class:`ModelImportError` whose message starts with the file and names the
    place: ``model.h5: dataset '/model_weights/d/d/kernel:0': ...``."""
    shown = os.fspath(path)
    limits = ImportLimits.from_env()
    try:
        with open_hdf5(path, limits) as fh:
            config = _config(fh)
            root = _member(fh, "model_weights", "") or fh
            reader = _Reader(Path(shown).stem, keras_layers(config), lambda layer: _weights(root, layer),
                             limits)
            return reader.run(shown)
    except ModelImportError as exc:
        raise ModelImportError(f"{shown}: {exc.message}") from None
