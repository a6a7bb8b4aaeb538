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
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from spikec.backends.binary_net import BinaryNet, ModelImportError
from spikec.backends.threshold_layers import LayerStack, Pads, conv2d_synapses, pool2d_synapses

__all__ = ["read_nir", "nir_to_binary_net", "strict_threshold"]


def _nir() -> Any:
    try:
        import nir
    except ImportError:
        raise ModelImportError("reading NIR graphs needs the nir package: pip install nir") from None
    return nir


def strict_threshold(t: np.ndarray | float) -> np.ndarray:
    """spikec's ``>=`` threshold equal, in float64, to NIR's ``> t``."""
    return np.nextafter(np.asarray(t, dtype=np.float64), np.inf)


def _chain(graph: Any) -> list[str]:
    """Node names from the Input to the Output, refusing anything but one chain."""
    nir = _nir()
    succ: dict[str, list[str]] = {name: [] for name in graph.nodes}
    pred: dict[str, list[str]] = {name: [] for name in graph.nodes}
    for a, b in graph.edges:
        for end in (a, b):
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


def _pair(value: Any, what: str, node: str) -> tuple[int, int]:
    arr = np.asarray(value).reshape(-1)
    if arr.size == 1:
        arr = np.repeat(arr, 2)
    if arr.size != 2 or np.any(arr != np.round(arr)):
        raise ModelImportError(f"node '{node}': {what} must be one or two integers, got {value!r}")
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
    arr = np.asarray(values, dtype=np.float64).reshape(-1)
    if arr.size and not np.all(arr == arr[0]):
        raise ModelImportError(f"node '{node}': spikec needs one {what} for the whole layer")
    return float(arr[0]) if arr.size else 0.0


class _Reader:
    def __init__(self, name: str, graph: Any) -> None:
        self.nir = _nir()
        self.graph = graph
        self.order = _chain(graph)
        shape = tuple(int(d) for d in np.asarray(graph.nodes[self.order[0]].input_type["input"]).reshape(-1))
        if not shape or any(d < 1 for d in shape):
            raise ModelImportError(f"the Input node has no usable shape ({shape})")
        if len(shape) == 3:
            c, h, w = shape
            units = _chw_units((h, w, c))
            frame: tuple[int, ...] = (h, w, c)
        elif len(shape) == 1:
            units, frame = np.arange(shape[0]), shape
        else:
            raise ModelImportError(f"the Input node has shape {shape}; spikec reads (n,) or (C, H, W)")
        self.stack = LayerStack(name, frame, units)
        self.key: np.ndarray | None = None

    def run(self, source: str) -> BinaryNet:
        body = self.order[1:-1]
        nir = self.nir
        if body and isinstance(self.graph.nodes[body[-1]], nir.Affine):
            *body, readout = body
        else:
            readout = None
        for name in body:
            self._node(name, self.graph.nodes[name])
        if readout is not None:
            self.stack.finish(None, source)
            self.key = _readout_key(readout, self.graph.nodes[readout], self.stack.layers[-1].size)
        return self.stack.finish(self.key, source)

    def _node(self, name: str, node: Any) -> None:
        nir = self.nir
        stack = self.stack
        if isinstance(node, (nir.Affine, nir.Linear)):
            weight = np.asarray(node.weight, dtype=np.float64)
            if weight.ndim != 2:
                raise ModelImportError(f"node '{name}': weight of shape {weight.shape}; expected (out, in)")
            bias = np.asarray(getattr(node, "bias", 0.0), dtype=np.float64)
            if stack.units.ndim != 1:
                raise ModelImportError(f"node '{name}' is fed a tensor of shape {stack.units.shape};"
                                       " add a Flatten node before it")
            stack.dense(name, weight.T, np.broadcast_to(bias, (weight.shape[0],)))
        elif isinstance(node, nir.Conv2d):
            self._conv(name, node)
        elif isinstance(node, nir.SumPool2d):
            units = _hwc(stack.units, name)
            pool = _pair(node.kernel_size, "kernel_size", name)
            stride = _pair(node.stride, "stride", name)
            ph, pw = _pair(node.padding, "padding", name)
            syn, shape = pool2d_synapses(units, pool, stride, (ph, ph, pw, pw))
            stack.linear(name, "pool", syn, np.zeros(1), shape, _chw_units(shape))
        elif isinstance(node, nir.Flatten):
            stack.flatten()
        elif isinstance(node, nir.Threshold):
            stack.activate(name, strict_threshold(node.threshold))
        elif isinstance(node, nir.IF):
            if not np.all(np.asarray(node.r) == 1.0):
                raise ModelImportError(f"node '{name}': IF with r != 1; spikec maps IF nodes with r = 1")
            reset = _uniform(node.v_reset, "v_reset", name)
            stack.activate(name, strict_threshold(node.v_threshold), decay=0.0, reset=reset)
        elif isinstance(node, nir.LIF):
            memoryless = (np.all(np.asarray(node.tau) == 1.0) and np.all(np.asarray(node.r) == 1.0)
                          and np.all(np.asarray(node.v_leak) == 0.0))
            if not memoryless:
                raise ModelImportError(
                    f"node '{name}': a LIF node maps exactly only with tau = 1, r = 1, v_leak = 0 (a"
                    " memoryless threshold gate at one step per dt); this one leaks")
            stack.activate(name, strict_threshold(node.v_threshold))
        else:
            raise ModelImportError(
                f"node '{name}': spikec cannot import NIR {type(node).__name__} nodes (it reads Affine,"
                " Linear, Conv2d, SumPool2d, Flatten, Threshold, IF and memoryless LIF)")

    def _conv(self, name: str, node: Any) -> None:
        if int(node.groups) != 1:
            raise ModelImportError(f"node '{name}': grouped convolution (groups = {node.groups})")
        units = _hwc(self.stack.units, name)
        weight = np.asarray(node.weight, dtype=np.float64)
        if weight.ndim != 4:
            raise ModelImportError(
                f"node '{name}': weight of shape {weight.shape}; expected (out, in, kh, kw)")
        if node.input_shape is not None and tuple(int(d) for d in node.input_shape) != units.shape[:2]:
            raise ModelImportError(f"node '{name}': input_shape {tuple(node.input_shape)} but it is fed"
                                   f" {units.shape[0]}x{units.shape[1]} images")
        kernel = weight.transpose(2, 3, 1, 0)
        stride = _pair(node.stride, "stride", name)
        dilation = _pair(node.dilation, "dilation", name)
        pads: Pads
        if isinstance(node.padding, str):
            if node.padding == "valid":
                pads = (0, 0, 0, 0)
            elif stride != (1, 1):
                raise ModelImportError(f"node '{name}': 'same' padding needs stride 1")
            else:
                th, tw = dilation[0] * (kernel.shape[0] - 1), dilation[1] * (kernel.shape[1] - 1)
                pads = (th // 2, th - th // 2, tw // 2, tw - tw // 2)
        else:
            ph, pw = _pair(node.padding, "padding", name)
            pads = (ph, ph, pw, pw)
        syn, shape = conv2d_synapses(units, kernel, stride, pads, dilation)
        bias = np.broadcast_to(np.asarray(node.bias, dtype=np.float64), (shape[2],))
        self.stack.linear(name, "conv", syn, np.broadcast_to(bias, shape).reshape(-1), shape,
                          _chw_units(shape))


def _readout_key(name: str, node: Any, outputs: int) -> np.ndarray:
    weight = np.asarray(node.weight, dtype=np.float64)
    bias = np.asarray(node.bias, dtype=np.float64).reshape(-1)
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


def read_nir(path: str | os.PathLike[str]) -> BinaryNet:
    """Read a ``.nir`` file into a :class:`BinaryNet`."""
    nir = _nir()
    shown = os.fspath(path)
    try:
        graph = nir.read(path)
    except (OSError, KeyError, ValueError, TypeError) as exc:
        raise ModelImportError(f"{shown}: not a readable NIR file ({exc})") from None
    return nir_to_binary_net(graph, Path(shown).stem, shown)
