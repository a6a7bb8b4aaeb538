"""Import NIR graphs (``pip install nir``) of binary threshold networks.

NIR nodes are continuous-time; spikec reads them with one time step per
step of the graph (dt = 1, as :mod:`spikec.backends.nir_export` writes
them). The graph must be one chain ``Input -> ... -> Output``. Each linear
node starts a spiking layer and the neuron node after it makes the layer
spike:

=====================  ============================================================
NIR node               spikec
=====================  ============================================================
``Affine``/``Linear``  dense synapses (``y = W x + b``; b becomes the neuron bias)
``Conv2d``             conv synapses (groups 1; stride, dilation, int/``same``/
                       ``valid`` padding; NIR's channels-first tensors are mapped
                       onto spikec's channels-last neuron order)
``SumPool2d``          weight-1 synapses over each window (zero padding)
``Flatten``            no neurons (C-order flatten of the NIR tensor)
``Threshold``          decay-1 neurons. NIR fires on ``v > t``, spikec on
                       ``v >= threshold``; in float64 ``v > t`` is exactly
                       ``v >= nextafter(t, +inf)``, which is the threshold used
``IF``                 decay-0 (integrating) neurons, same threshold mapping,
                       reset ``v_reset``; needs ``r = 1`` (a resistance would
                       round the weights) and one ``v_reset`` for the layer
``LIF``                decay-1 neurons when ``tau = 1``, ``r = 1``, ``v_leak = 0``
                       (then Euler's step clears the potential each step)
``Affine`` before      the decode key, when it has the form spikec's trainer
``Output``             writes: ``W = 2(2K - 1)``, ``b = -sum_i (2K - 1)`` for a 0/1
                       key K (its argmax is Whetstone's Softmax_Decode)
=====================  ============================================================

Refused with an error naming the node: branches and recurrence, nested
graphs, ``Delay``, ``Scale``, ``AvgPool2d``, ``CubaLIF`` and every other
node kind, grouped convolutions, an IF/LIF outside the exact cases above, and
a linear node not followed by a neuron node.

A file is checked before nir reads it (nir reads every array whole): the HDF5
checks of :func:`~spikec.backends.binary_net.open_hdf5` (no external links,
declared sizes within the limits), then each node's kind and the rank and
type of each field spikec reads; after reading, every value must be a finite
real number. Errors name the file and the node: ``g.nir: node 'lif1': ...``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
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
)
from spikec.backends.threshold_layers import MAX_WINDOW, LayerStack, Pads, conv2d_synapses, pool2d_synapses

__all__ = ["read_nir", "nir_to_binary_net", "strict_threshold"]


def _nir() -> Any:
    try:
        import nir
    except ImportError:
        raise ModelImportError("reading NIR graphs needs the nir package: pip install nir") from None
    return nir


_KINDS = "Affine, Linear, Conv2d, SumPool2d, Flatten, Threshold, IF and memoryless LIF"

#: The fields read from each node kind spikec imports, with the ranks they may have
#: (None: any). Each is a dataset of real numbers (a Conv2d's padding may be text).
_FIELDS: dict[str, dict[str, tuple[int, ...] | None]] = {
    "Input": {"shape": (1,)}, "Output": {"shape": (1,)},
    "Affine": {"weight": (2,), "bias": (0, 1)}, "Linear": {"weight": (2,)},
    "Conv2d": {"weight": (4,), "bias": (0, 1), "stride": (0, 1), "padding": (0, 1), "dilation": (0, 1),
               "groups": (0,)},
    "SumPool2d": {"kernel_size": (0, 1), "stride": (0, 1), "padding": (0, 1)},
    "Flatten": {"start_dim": (0,), "end_dim": (0,)},
    "Threshold": {"threshold": None},
    "IF": {"r": None, "v_threshold": None},
    "LIF": {"tau": None, "r": None, "v_leak": None, "v_threshold": None},
}
_OPTIONAL: dict[str, dict[str, tuple[int, ...] | None]] = {
    "Conv2d": {"input_shape": (1,)}, "IF": {"v_reset": None}, "LIF": {"v_reset": None},
    "Flatten": {"input_type": (1,)},
}


#: The least value of each integer field nir computes with while reading a node.
_LOWEST = {"stride": 1, "dilation": 1, "kernel_size": 1, "padding": 0, "groups": 1}


def _refuse_kind(kind: str) -> ModelImportError:
    if kind == "NIRGraph":
        return ModelImportError("a nested graph; spikec imports flat graphs (one chain from Input to Output)")
    return ModelImportError(f"spikec cannot import NIR {kind} nodes (it reads {_KINDS})")


def _scalar_text(ds: Any, where: str) -> str:
    h5py = _nir_h5py()
    if not isinstance(ds, h5py.Dataset) or ds.shape != () or ds.dtype.kind not in "SOU":
        raise ModelImportError(f"'{where}' is not a text dataset")
    try:
        raw = ds[()]
        return raw.decode("utf-8") if isinstance(raw, bytes) else str(raw)
    except (*H5_ERRORS, UnicodeDecodeError) as exc:
        raise ModelImportError(f"'{where}' cannot be read as text ({exc})") from None


def _nir_h5py() -> Any:
    import h5py

    return h5py


def _check_field(node: str, kind: str, field: str, ds: Any, ranks: tuple[int, ...] | None) -> None:
    h5py = _nir_h5py()
    if not isinstance(ds, h5py.Dataset):
        raise ModelImportError(f"node '{node}': '{field}' is a group, not a dataset")
    dk = ds.dtype.kind
    if kind == "Conv2d" and field == "padding" and dk in "SO":
        return  # 'same' / 'valid', checked by nir
    if dk == "c":
        raise ModelImportError(f"node '{node}': {field} has complex values; spikec reads real numbers")
    if dk not in "biuf" or (dk == "f" and ds.dtype.itemsize > 8):
        raise ModelImportError(f"node '{node}': {field} holds {ds.dtype} values, not real numbers")
    if ranks is not None and ds.ndim not in ranks:
        raise ModelImportError(f"node '{node}': {field} of shape {ds.shape}; a {kind} {field} has"
                               f" {' or '.join(map(str, ranks))} dimensions")
    if field in _LOWEST:  # nir divides by these while it reads the node: check them first
        if ds.size > 2:
            raise ModelImportError(f"node '{node}': {field} of shape {ds.shape}; expected one or two"
                                   " integers")
        try:
            values = np.asarray(ds[()], dtype=np.float64).reshape(-1)
        except H5_ERRORS as exc:
            raise ModelImportError(f"node '{node}': {field} cannot be read ({exc})") from None
        _pair(values, field, node, _LOWEST[field])


def _check_file(fh: Any) -> None:
    """The structure of a NIR file (after the HDF5 checks), before nir reads any of it."""
    h5py = _nir_h5py()
    top = fh.get("node")
    if not isinstance(top, h5py.Group) or not isinstance(top.get("nodes"), h5py.Group):
        raise ModelImportError("no '/node' graph with '/node/nodes'; not a NIR file")
    kind = _scalar_text(top.get("type"), "/node/type") if "type" in top else "NIRGraph"
    if kind != "NIRGraph":
        raise ModelImportError(f"'/node' is a {kind} node, not a NIRGraph")
    edges = top.get("edges")
    if not isinstance(edges, h5py.Dataset) or edges.dtype.kind not in "SOU" and edges.size:
        raise ModelImportError("dataset '/node/edges': expected a list of (from, to) node names")
    if edges.size and (edges.ndim != 2 or edges.shape[1] != 2):
        raise ModelImportError(f"dataset '/node/edges': shape {edges.shape}; expected (edges, 2)")
    for name, group in top["nodes"].items():
        if not isinstance(group, h5py.Group):
            raise ModelImportError(f"node '{name}': a dataset, not a node group")
        if "type" not in group:
            raise ModelImportError(f"node '{name}': no 'type'")
        kind = _scalar_text(group["type"], f"/node/nodes/{name}/type")
        if kind not in _FIELDS:
            exc = _refuse_kind(kind)
            raise ModelImportError(f"node '{name}': {exc.message}")
        for field, ranks in _FIELDS[kind].items():
            if field not in group:
                raise ModelImportError(f"node '{name}': a {kind} node needs '{field}'")
            _check_field(name, kind, field, group[field], ranks)
        for field, ranks in _OPTIONAL.get(kind, {}).items():
            if field in group:
                _check_field(name, kind, field, group[field], ranks)


def _real(value: Any, field: str, node: str, limits: ImportLimits | None = None) -> np.ndarray:
    """A node field as a float64 array of finite real numbers, or an error naming the node."""
    if isinstance(value, (str, bytes)):
        raise ModelImportError(f"node '{node}': {field} is text ({value[:40]!r}), not numbers")
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError):
        raise ModelImportError(f"node '{node}': {field} is not an array of numbers") from None
    if arr.dtype.kind == "c":
        raise ModelImportError(f"node '{node}': {field} has complex values; spikec reads real numbers")
    if arr.dtype.kind not in "biuf":
        raise ModelImportError(f"node '{node}': {field} holds {arr.dtype} values, not real numbers")
    (limits or ImportLimits.from_env()).values(arr.size, arr.nbytes, f"node '{node}': {field}")
    out = arr.astype(np.float64)
    bad = first_nonfinite(out)
    if bad is not None:
        raise ModelImportError(f"node '{node}': {field}: {bad}; values must be finite")
    return out


def strict_threshold(t: np.ndarray | float) -> np.ndarray:
    """spikec's ``>=`` threshold equal, in float64, to NIR's ``> t``."""
    return np.nextafter(np.asarray(t, dtype=np.float64), np.inf)


def _chain(graph: Any) -> list[str]:
    """Node names from the Input to the Output, refusing anything but one chain."""
    nir = _nir()
    if not isinstance(graph.nodes, dict) or not all(isinstance(n, str) for n in graph.nodes):
        raise ModelImportError("the graph's nodes are not a mapping of names to nodes")
    succ: dict[str, list[str]] = {name: [] for name in graph.nodes}
    pred: dict[str, list[str]] = {name: [] for name in graph.nodes}
    edges = list(graph.edges) if isinstance(graph.edges, (list, tuple)) else None
    if edges is None or not all(isinstance(e, (list, tuple)) and len(e) == 2 for e in edges):
        raise ModelImportError("the graph's edges are not a list of (from, to) pairs")
    for a, b in edges:
        for end in (a, b):
            if not isinstance(end, str):
                raise ModelImportError(f"an edge names {end!r}, not a node name")
            if end not in succ:
                raise ModelImportError(f"an edge names node '{end}', which the graph does not have")
        succ[a].append(b)
        pred[b].append(a)
    inputs = [n for n, node in graph.nodes.items() if isinstance(node, nir.Input)]
    if len(inputs) != 1:
        raise ModelImportError(f"the graph must have exactly one Input node, it has {len(inputs)}")
    order = [inputs[0]]
    while not isinstance(graph.nodes[order[-1]], nir.Output):
        here = order[-1]
        if len(succ[here]) != 1:
            raise ModelImportError(
                f"node '{here}' feeds {len(succ[here])} nodes ({', '.join(succ[here]) or 'none'});"
                " spikec imports graphs that are a single chain from Input to Output")
        nxt = succ[here][0]
        if len(pred[nxt]) != 1 or nxt in order:
            raise ModelImportError(
                f"node '{nxt}' has {len(pred[nxt])} inputs or closes a loop; spikec imports graphs"
                " that are a single chain from Input to Output")
        order.append(nxt)
    left = set(graph.nodes) - set(order)
    if left:
        raise ModelImportError(f"nodes not on the Input -> Output chain: {', '.join(sorted(left))}")
    return order


def _pair(value: Any, what: str, node: str, low: int = 1) -> tuple[int, int]:
    arr = _real(value, what, node).reshape(-1)
    if arr.size == 1:
        arr = np.repeat(arr, 2)
    if arr.size != 2 or np.any(arr != np.round(arr)) or np.any(arr < low) or np.any(arr > MAX_WINDOW):
        raise ModelImportError(f"node '{node}': {what} must be one or two integers from {low} to"
                               f" {MAX_WINDOW:,}, got {value!r}")
    return int(arr[0]), int(arr[1])


def _hwc(units: np.ndarray, node: str) -> np.ndarray:
    if units.ndim != 3:
        raise ModelImportError(f"node '{node}' needs a (channels, height, width) tensor, got shape"
                               f" {units.shape}")
    return units.transpose(1, 2, 0)


def _chw_units(shape: tuple[int, int, int]) -> np.ndarray:
    """The map of a layer numbered channels-last, in NIR's channels-first logical shape."""
    return np.arange(int(np.prod(shape))).reshape(shape).transpose(2, 0, 1)


def _uniform(values: Any, what: str, node: str) -> float:
    arr = _real(values, what, node).reshape(-1)
    if arr.size and not np.all(arr == arr[0]):
        raise ModelImportError(f"node '{node}': spikec needs one {what} for the whole layer")
    return float(arr[0]) if arr.size else 0.0


class _Reader:
    def __init__(self, name: str, graph: Any) -> None:
        self.nir = _nir()
        self.graph = graph
        self.limits = ImportLimits.from_env()
        self.order = _chain(graph)
        first = self.order[0]
        declared = getattr(graph.nodes[first], "input_type", None)
        given = declared.get("input") if isinstance(declared, dict) else None
        dims = _real(given, "shape", first).reshape(-1)
        if not dims.size or np.any(dims < 1) or np.any(dims != np.round(dims)):
            raise ModelImportError(f"node '{first}': the Input node has no usable shape ({dims.tolist()})")
        self.limits.units(int(np.prod(dims.astype(object))), f"node '{first}': the input")
        shape = tuple(int(d) for d in dims)
        if len(shape) == 3:
            c, h, w = shape
            units = _chw_units((h, w, c))
            frame: tuple[int, ...] = (h, w, c)
        elif len(shape) == 1:
            units, frame = np.arange(shape[0]), shape
        else:
            raise ModelImportError(f"the Input node has shape {shape}; spikec reads (n,) or (C, H, W)")
        self.stack = LayerStack(name, frame, units, self.limits)
        self.key: np.ndarray | None = None

    def run(self, source: str) -> BinaryNet:
        body = self.order[1:-1]
        nir = self.nir
        if body and isinstance(self.graph.nodes[body[-1]], nir.Affine):
            *body, readout = body
        else:
            readout = None
        for name in body:
            with _at(name):
                self._node(name, self.graph.nodes[name])
        if readout is not None:
            with _at(readout):
                self.stack.finish(None, source)
                self.key = _readout_key(readout, self.graph.nodes[readout], self.stack.layers[-1].size)
        return self.stack.finish(self.key, source)

    def _node(self, name: str, node: Any) -> None:
        nir = self.nir
        stack = self.stack
        if isinstance(node, (nir.Affine, nir.Linear)):
            weight = _real(node.weight, "weight", name, self.limits)
            if weight.ndim != 2:
                raise ModelImportError(f"node '{name}': weight of shape {weight.shape}; expected (out, in)")
            bias = _real(getattr(node, "bias", 0.0), "bias", name, self.limits)
            if bias.size not in (1, weight.shape[0]):
                raise ModelImportError(f"node '{name}': bias of shape {bias.shape} for {weight.shape[0]}"
                                       " outputs")
            if stack.units.ndim != 1:
                raise ModelImportError(f"node '{name}' is fed a tensor of shape {stack.units.shape};"
                                       " add a Flatten node before it")
            stack.dense(name, weight.T, np.broadcast_to(bias.reshape(-1), (weight.shape[0],)))
        elif isinstance(node, nir.Conv2d):
            self._conv(name, node)
        elif isinstance(node, nir.SumPool2d):
            units = _hwc(stack.units, name)
            pool = _pair(node.kernel_size, "kernel_size", name)
            stride = _pair(node.stride, "stride", name)
            ph, pw = _pair(node.padding, "padding", name, low=0)
            syn, shape = pool2d_synapses(units, pool, stride, (ph, ph, pw, pw), self.limits)
            stack.linear(name, "pool", syn, np.zeros(1), shape, _chw_units(shape))
        elif isinstance(node, nir.Flatten):
            stack.flatten()
        elif isinstance(node, nir.Threshold):
            stack.activate(name, strict_threshold(_real(node.threshold, "threshold", name)))
        elif isinstance(node, nir.IF):
            if not np.all(_real(node.r, "r", name) == 1.0):
                raise ModelImportError(f"node '{name}': IF with r != 1; spikec maps IF nodes with r = 1")
            reset = _uniform(node.v_reset, "v_reset", name)
            threshold = strict_threshold(_real(node.v_threshold, "v_threshold", name))
            stack.activate(name, threshold, decay=0.0, reset=reset)
        elif isinstance(node, nir.LIF):
            memoryless = (np.all(_real(node.tau, "tau", name) == 1.0)
                          and np.all(_real(node.r, "r", name) == 1.0)
                          and np.all(_real(node.v_leak, "v_leak", name) == 0.0))
            if not memoryless:
                raise ModelImportError(
                    f"node '{name}': a LIF node maps exactly only with tau = 1, r = 1, v_leak = 0 (a"
                    " memoryless threshold gate at one step per dt); this one leaks")
            stack.activate(name, strict_threshold(_real(node.v_threshold, "v_threshold", name)))
        else:
            raise ModelImportError(f"node '{name}': {_refuse_kind(type(node).__name__).message}")

    def _conv(self, name: str, node: Any) -> None:
        groups = _real(node.groups, "groups", name)
        if groups.size != 1 or float(groups.reshape(-1)[0]) != 1.0:
            raise ModelImportError(f"node '{name}': grouped convolution (groups = {node.groups!r})")
        units = _hwc(self.stack.units, name)
        weight = _real(node.weight, "weight", name, self.limits)
        if weight.ndim != 4:
            raise ModelImportError(
                f"node '{name}': weight of shape {weight.shape}; expected (out, in, kh, kw)")
        if node.input_shape is not None:
            declared = _real(node.input_shape, "input_shape", name).reshape(-1)
            if declared.tolist() != list(units.shape[:2]):
                raise ModelImportError(f"node '{name}': input_shape {tuple(declared.tolist())} but it is fed"
                                       f" {units.shape[0]}x{units.shape[1]} images")
        kernel = weight.transpose(2, 3, 1, 0)
        stride = _pair(node.stride, "stride", name)
        dilation = _pair(node.dilation, "dilation", name)
        pads: Pads
        if isinstance(node.padding, str):
            if node.padding not in ("valid", "same"):
                raise ModelImportError(f"node '{name}': padding must be 'same', 'valid' or integers, got"
                                       f" {node.padding!r}")
            if node.padding == "valid":
                pads = (0, 0, 0, 0)
            elif stride != (1, 1):
                raise ModelImportError(f"node '{name}': 'same' padding needs stride 1")
            else:
                th, tw = dilation[0] * (kernel.shape[0] - 1), dilation[1] * (kernel.shape[1] - 1)
                pads = (th // 2, th - th // 2, tw // 2, tw - tw // 2)
        else:
            ph, pw = _pair(node.padding, "padding", name, low=0)
            pads = (ph, ph, pw, pw)
        bias = _real(node.bias, "bias", name, self.limits)
        if bias.size not in (1, kernel.shape[3]):
            raise ModelImportError(f"node '{name}': bias of shape {bias.shape} for {kernel.shape[3]}"
                                   " channels")
        syn, shape = conv2d_synapses(units, kernel, stride, pads, dilation, self.limits)
        bias = np.broadcast_to(bias.reshape(-1), (shape[2],))
        self.stack.linear(name, "conv", syn, np.broadcast_to(bias, shape).reshape(-1), shape,
                          _chw_units(shape))


def _readout_key(name: str, node: Any, outputs: int) -> np.ndarray:
    weight = _real(node.weight, "weight", name)
    bias = _real(node.bias, "bias", name).reshape(-1)
    if weight.ndim != 2 or weight.shape[1] != outputs:
        raise ModelImportError(f"node '{name}': readout weight of shape {weight.shape}, but the last"
                               f" spiking layer has {outputs} units")
    key = (weight / 2.0 + 1.0) / 2.0
    signed = 2.0 * key - 1.0
    if not (np.all((key == 0.0) | (key == 1.0)) and np.array_equal(bias, -signed.sum(axis=1))):
        raise ModelImportError(
            f"node '{name}': an Affine after the last spiking layer is read as a decode key only in"
            " the form W = 2(2K - 1), b = -sum(2K - 1) for a 0/1 key K")
    return key


def nir_to_binary_net(graph: Any, name: str = "nir", source: str = "") -> BinaryNet:
    """Map an in-memory ``nir.NIRGraph`` to a :class:`BinaryNet` (spike input)."""
    if not isinstance(graph, _nir().NIRGraph):
        raise ModelImportError(f"expected a nir.NIRGraph, got {type(graph).__name__}")
    return _Reader(name, graph).run(source)


@contextmanager
def _at(node: str) -> Iterator[None]:
    """Name ``node`` in an error raised inside, unless the message names it already."""
    try:
        yield
    except ModelImportError as exc:
        if f"'{node}'" in exc.message:
            raise
        raise ModelImportError(f"node '{node}': {exc.message}") from None


def read_nir(path: str | os.PathLike[str]) -> BinaryNet:
    """Read a ``.nir`` file into a :class:`BinaryNet`.

    Any file that is not such a graph (missing, a directory, not HDF5, damaged, hostile)
    gives a :class:`ModelImportError` starting with the file and naming the node:
    ``g.nir: node 'lif1': ...``."""
    nir = _nir()
    shown = os.fspath(path)
    try:
        with open_hdf5(path, what="NIR file") as fh:
            try:
                _check_file(fh)
            except (OSError, KeyError, RuntimeError) as exc:  # h5py on a damaged file
                raise ModelImportError(f"not a readable NIR file ({exc})") from None
        try:
            graph = nir.read(path, type_check=False)  # spikec checks each node's shapes itself
        except Exception as exc:  # nir's own checks are asserts and ad-hoc errors on bad input
            raise ModelImportError(f"not a readable NIR file ({type(exc).__name__}: {exc})") from None
        return nir_to_binary_net(graph, Path(shown).stem, shown)
    except ModelImportError as exc:
        raise ModelImportError(f"{shown}: {exc.message}") from None
