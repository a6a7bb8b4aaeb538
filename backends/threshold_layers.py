"""Synapses of dense, convolution and pooling layers, and the stack that turns a
model's operations into a :class:`~spikec.backends.binary_net.BinaryNet`.

Importers walk a model's layers and call :class:`LayerStack`: a linear
operation (dense, conv, sum pool) leaves a *pending* layer, which affine
folds (batch normalization) may still change, and an activation turns it
into a :class:`~spikec.backends.binary_net.ThresholdLayer`. A max pool on
binary values is an OR (a sum pool with threshold 1); a max pool placed
before the activation is moved after it, which is exact because a threshold
is monotone: ``[max(a) >= t] = max([a >= t])``.

Tensors are tracked as *unit maps*: an integer array in the model's own
(logical) shape whose entries are the unit numbers of the layer below. The
spatial operations take channels-last maps ``(height, width, channels)``;
a channels-first importer transposes its maps before calling them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from spikec.backends.binary_net import (
    BinaryNet,
    ImportLimits,
    ModelImportError,
    ThresholdLayer,
    first_nonfinite,
)

__all__ = [
    "Synapses",
    "dense_synapses",
    "conv2d_synapses",
    "pool2d_synapses",
    "same_padding",
    "LayerStack",
]

Pads = tuple[int, int, int, int]  # top, bottom, left, right


@dataclass(frozen=True)
class Synapses:
    """Synapses ``pre -> post`` with weights, sorted by (pre, post), zero weights dropped;
    ``macs`` counts every connection (zero weights included) as the float net does."""

    pre: np.ndarray
    post: np.ndarray
    weight: np.ndarray
    macs: int


def _sorted(pre: np.ndarray, post: np.ndarray, weight: np.ndarray) -> Synapses:
    macs = len(pre)
    keep = weight != 0.0
    pre, post, weight = pre[keep], post[keep], weight[keep]
    order = np.lexsort((post, pre))
    return Synapses(pre[order].astype(np.int64), post[order].astype(np.int64),
                    weight[order].astype(np.float64), macs)


def dense_synapses(in_units: np.ndarray, weight: np.ndarray, limits: ImportLimits | None = None) -> Synapses:
    """All-to-all: input element f (unit ``in_units[f]``) to output o with ``weight[f, o]``;
    refused past ``limits`` (default :meth:`ImportLimits.from_env`) before any is built."""
    if weight.ndim != 2:
        raise ModelImportError(f"a dense weight matrix of shape {weight.shape}; expected (inputs, units)")
    n_in, n_out = weight.shape
    units = np.asarray(in_units).reshape(-1)
    if len(units) != n_in:
        raise ModelImportError(f"a dense layer with {n_in} inputs is fed {len(units)} values")
    limits = limits or ImportLimits.from_env()
    limits.units(n_out, "the dense layer")
    limits.synapses(n_in * n_out, "the dense layer")
    pre = np.repeat(units, n_out)
    post = np.tile(np.arange(n_out), n_in)
    return _sorted(pre, post, np.asarray(weight, dtype=np.float64).reshape(-1))


def same_padding(size: int, kernel: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    """TensorFlow's ``"same"`` padding (before, after) of one axis: the output has
    ``ceil(size / stride)`` elements, and any odd padding goes after."""
    out = -(-size // stride)
    total = max((out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0)
    return total // 2, total - total // 2


#: Largest stride, dilation, padding or window side accepted (a sanity bound: any real
#: layer is far below it, and it keeps the index arithmetic inside int64).
MAX_WINDOW = 1 << 24

_Tap = tuple[int, int, np.ndarray, np.ndarray, np.ndarray]


def _window_args(kernel: tuple[int, int], stride: tuple[int, int], pads: Pads,
                 dilation: tuple[int, int]) -> None:
    for what, values, low in (("window", kernel, 1), ("stride", stride, 1), ("dilation", dilation, 1),
                              ("padding", pads, 0)):
        if any(not low <= int(v) <= MAX_WINDOW for v in values):
            raise ModelImportError(f"{what} {tuple(int(v) for v in values)}: each must be an integer from"
                                   f" {low} to {MAX_WINDOW:,}")


def _windows(shape: tuple[int, int], kernel: tuple[int, int], stride: tuple[int, int],
             pads: Pads, dilation: tuple[int, int], channels: int, fan: int,
             limits: ImportLimits | None) -> tuple[int, int, list[_Tap]]:
    """Output size and, per kernel tap (ky, kx), the flat output positions and the input
    rows/columns they read (positions falling in the padding are left out). The layer
    (``channels`` outputs per position, ``fan`` synapses per tap and position) is checked
    against ``limits`` before any index array is made."""
    _window_args(kernel, stride, pads, dilation)
    h, w = shape
    kh, kw = kernel
    sh, sw = stride
    top, bottom, left, right = pads
    dh, dw = dilation
    oh = (h + top + bottom - dh * (kh - 1) - 1) // sh + 1
    ow = (w + left + right - dw * (kw - 1) - 1) // sw + 1
    if oh < 1 or ow < 1:
        raise ModelImportError(
            f"a {kh}x{kw} window (stride {sh}x{sw}) does not fit a {h}x{w} input")
    limits = limits or ImportLimits.from_env()
    limits.units(oh * ow * channels, "the layer")
    rows = np.arange(oh)[None, :] * sh - top + np.arange(kh)[:, None] * dh  # (kh, oh)
    cols = np.arange(ow)[None, :] * sw - left + np.arange(kw)[:, None] * dw  # (kw, ow)
    ok_rows, ok_cols = (rows >= 0) & (rows < h), (cols >= 0) & (cols < w)
    limits.synapses(int(ok_rows.sum()) * int(ok_cols.sum()) * fan, "the layer")
    taps = []
    for ky in range(kh):
        ok_r = ok_rows[ky]
        for kx in range(kw):
            ok_c = ok_cols[kx]
            r_out, c_out = np.meshgrid(np.flatnonzero(ok_r), np.flatnonzero(ok_c), indexing="ij")
            taps.append((ky, kx, (r_out * ow + c_out).ravel(), rows[ky][r_out].ravel(),
                         cols[kx][c_out].ravel()))
    return oh, ow, taps


def conv2d_synapses(in_units: np.ndarray, kernel: np.ndarray, stride: tuple[int, int],
                    pads: Pads, dilation: tuple[int, int] = (1, 1),
                    limits: ImportLimits | None = None) -> tuple[Synapses, tuple[int, int, int]]:
    """A 2-D convolution of a channels-last unit map ``(H, W, C)`` with a kernel
    ``(kh, kw, C, C_out)`` (Keras layout); returns the synapses and the output shape
    ``(OH, OW, C_out)``, whose units are numbered channels-last. Refused past ``limits``
    (default :meth:`ImportLimits.from_env`) before any synapse is built."""
    if kernel.ndim != 4 or in_units.ndim != 3:
        raise ModelImportError(f"a convolution kernel of shape {kernel.shape}; expected (kh, kw, in, out)")
    h, w, c = in_units.shape
    kh, kw, cin, cout = kernel.shape
    if cin != c:
        raise ModelImportError(f"a convolution over {cin} channels is fed {c} channels")
    if cout < 1:
        raise ModelImportError(f"a convolution kernel of shape {kernel.shape} has no output channels")
    oh, ow, taps = _windows((h, w), (kh, kw), stride, pads, dilation, cout, cin * cout, limits)
    pres, posts, weights = [], [], []
    kernel = np.asarray(kernel, dtype=np.float64)
    for ky, kx, out_pos, rows, cols in taps:
        pre = in_units[rows, cols, :]  # (P, C)
        post = out_pos[:, None] * cout + np.arange(cout)[None, :]  # (P, C_out)
        shape = (len(out_pos), cin, cout)
        pres.append(np.broadcast_to(pre[:, :, None], shape).ravel())
        posts.append(np.broadcast_to(post[:, None, :], shape).ravel())
        weights.append(np.broadcast_to(kernel[ky, kx][None, :, :], shape).ravel())
    syn = _sorted(np.concatenate(pres), np.concatenate(posts), np.concatenate(weights))
    return syn, (oh, ow, cout)


def pool2d_synapses(in_units: np.ndarray, pool: tuple[int, int], stride: tuple[int, int],
                    pads: Pads, limits: ImportLimits | None = None) -> tuple[Synapses, tuple[int, int, int]]:
    """A sum pool (weight 1 from every input of the window, channel by channel) of a
    channels-last unit map; returns the synapses and the output shape (refused past
    ``limits`` first)."""
    h, w, c = in_units.shape
    oh, ow, taps = _windows((h, w), pool, stride, pads, (1, 1), c, c, limits)
    pres, posts = [], []
    for _, _, out_pos, rows, cols in taps:
        pres.append(in_units[rows, cols, :].ravel())
        posts.append((out_pos[:, None] * c + np.arange(c)[None, :]).ravel())
    pre = np.concatenate(pres)
    syn = _sorted(pre, np.concatenate(posts), np.ones(len(pre)))
    return Synapses(syn.pre, syn.post, syn.weight, 0), (oh, ow, c)


@dataclass
class _Pending:
    """A linear layer waiting for its activation."""

    name: str
    kind: str
    syn: Synapses
    bias: np.ndarray
    out_units: np.ndarray  # logical shape -> unit number of this layer
    shape: tuple[int, ...]  # the units' own shape (numbered in C order of it)
    pool: tuple[str, tuple[int, int], tuple[int, int], Pads] | None = None


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class UniqueNames:
    """Unique spikec array names from a model's layer names: a name that is not an
    identifier becomes ``layer<name>`` (non-word characters as ``_``), a taken one gets
    ``_2``, ``_3``, ..."""

    def __init__(self, reserved: set[str]) -> None:
        self.used = set(reserved)

    def take(self, wanted: str) -> str:
        """A new unique name for ``wanted``."""
        base = wanted if _NAME.fullmatch(wanted) else "layer" + re.sub(r"\W", "_", wanted)
        name, k = base, 1
        while name in self.used:
            k += 1
            name = f"{base}_{k}"
        self.used.add(name)
        return name


class LayerStack:
    """Collects a model's layers in order and builds the :class:`BinaryNet`.

    ``input_units`` is the unit map of the frame in the model's logical
    shape (``np.arange(n).reshape(shape)`` for a channels-last model).
    """

    def __init__(self, model: str, input_shape: tuple[int, ...], input_units: np.ndarray,
                 limits: ImportLimits | None = None) -> None:
        self.model = model
        self.limits = limits or ImportLimits.from_env()
        self.input_shape = input_shape
        self.units = input_units
        self.layers: list[ThresholdLayer] = []
        self.pending: _Pending | None = None
        self._names = UniqueNames({"out", "x"})

    # -- naming --------------------------------------------------------------------

    def _name(self, wanted: str) -> str:
        return self._names.take(wanted)

    # -- linear operations -----------------------------------------------------------

    def linear(self, name: str, kind: str, syn: Synapses, bias: np.ndarray, shape: tuple[int, ...],
               out_units: np.ndarray | None = None) -> None:
        """Start a layer of units shaped ``shape`` from synapses out of the current map;
        ``out_units`` is its map in the model's logical shape (default: ``shape`` itself)."""
        if self.pending is not None:
            raise ModelImportError(
                f"layer '{name}' follows '{self.pending.name}' with no spiking activation between"
                " them; spikec imports one activation after each dense, conv or pooling layer")
        n = int(np.prod(shape))
        units = np.arange(n).reshape(shape) if out_units is None else out_units
        bias = np.asarray(bias, dtype=np.float64)
        if bias.size not in (1, n):
            raise ModelImportError(f"layer '{name}': {bias.size} bias values for {n} units")
        bias = np.broadcast_to(bias.reshape(-1), (n,)).copy()
        self.pending = _Pending(name, kind, syn, bias, units, tuple(int(d) for d in shape))

    def dense(self, name: str, weight: np.ndarray, bias: np.ndarray) -> None:
        """A dense layer ``y = x @ weight + bias`` on the flattened current map."""
        if self.units.ndim != 1:
            raise ModelImportError(
                f"dense layer '{name}' is fed a tensor of shape {self.units.shape}; flatten it first")
        syn = dense_synapses(self.units, weight, self.limits)
        self.linear(name, "dense", syn, bias, (weight.shape[1],))

    def spatial(self, name: str) -> np.ndarray:
        """The current map as channels-last ``(H, W, C)``, or an error naming ``name``."""
        if self.units.ndim != 3:
            raise ModelImportError(
                f"layer '{name}' needs an image (height, width, channels), got shape {self.units.shape}")
        return self.units

    # -- folds and activations ------------------------------------------------------------

    def affine(self, name: str, scale: np.ndarray, shift: np.ndarray) -> None:
        """Fold ``y <- y * scale + shift`` (per channel: the last axis of the pending map)
        into the pending layer, as Keras applies batch normalization at inference."""
        p = self.pending
        if p is None:
            raise ModelImportError(
                f"layer '{name}' (batch normalization) must follow a dense or conv layer directly;"
                " spikec folds it into that layer")
        if p.pool is not None:
            raise ModelImportError(
                f"layer '{name}' (batch normalization) comes after max pooling '{p.pool[0]}' of a"
                " non-binary value; spikec cannot fold it exactly")
        channels = p.out_units.shape[-1]
        if scale.shape != (channels,) or shift.shape != (channels,):
            raise ModelImportError(f"layer '{name}': expected {channels} channels, got {scale.shape}")
        bad = first_nonfinite(np.concatenate((scale, shift)))
        if bad is not None:
            raise ModelImportError(f"layer '{name}': the folded scale or shift is not finite ({bad})")
        channel_of = np.empty(p.out_units.size, dtype=np.int64)
        channel_of[p.out_units.reshape(-1, channels)] = np.arange(channels)[None, :]
        s = np.asarray(scale, dtype=np.float64)
        t = np.asarray(shift, dtype=np.float64)
        syn = p.syn
        p.syn = Synapses(syn.pre, syn.post, syn.weight * s[channel_of[syn.post]], syn.macs)
        p.bias = p.bias * s[channel_of] + t[channel_of]

    def max_pool(self, name: str, pool: tuple[int, int], stride: tuple[int, int], pads: Pads) -> None:
        """Max pooling: an OR layer on binary values, or moved past a pending activation."""
        if self.pending is not None:
            if self.pending.pool is not None:
                raise ModelImportError(f"layer '{name}': two max poolings before one activation")
            self.pending.pool = (name, pool, stride, pads)
            self._pool_shape_check(name, self.pending.out_units, pool, stride, pads)
            return
        self._or_layer(name, self.spatial(name), pool, stride, pads)

    def _pool_shape_check(self, name: str, units: np.ndarray, pool: tuple[int, int],
                          stride: tuple[int, int], pads: Pads) -> None:
        if units.ndim != 3:
            raise ModelImportError(f"layer '{name}' needs an image, got shape {units.shape}")
        pool2d_synapses(units, pool, stride, pads, self.limits)  # raises if the window does not fit

    def _or_layer(self, name: str, units: np.ndarray, pool: tuple[int, int], stride: tuple[int, int],
                  pads: Pads) -> None:
        syn, shape = pool2d_synapses(units, pool, stride, pads, self.limits)
        n = int(np.prod(shape))
        self.layers.append(ThresholdLayer(
            self._name(name), "pool", shape, syn.pre, syn.post, syn.weight, np.zeros(n), np.ones(n)))
        self.units = np.arange(n).reshape(shape)

    def sum_pool(self, name: str, pool: tuple[int, int], stride: tuple[int, int], pads: Pads) -> None:
        """A sum pool (a linear layer with weights 1) on the current channels-last map."""
        syn, shape = pool2d_synapses(self.spatial(name), pool, stride, pads, self.limits)
        self.linear(name, "pool", syn, np.zeros(1), shape)

    def flatten(self) -> None:
        """Flatten the current (or pending) map in C order of its logical shape."""
        if self.pending is not None:
            self.pending.out_units = self.pending.out_units.reshape(-1)
        else:
            self.units = self.units.reshape(-1)

    def activate(self, name: str, threshold: float | np.ndarray, decay: float = 1.0,
                 reset: float = 0.0) -> None:
        """Make the pending layer spike: unit u fires when its sum >= ``threshold`` (a scalar,
        or an array in the pending map's logical shape)."""
        p = self.pending
        if p is None:
            raise ModelImportError(
                f"activation '{name}' has no dense, conv or pooling layer before it to act on")
        n = p.out_units.size
        given = np.asarray(threshold, dtype=np.float64)
        try:
            full = np.broadcast_to(given, p.out_units.shape)
        except ValueError:
            raise ModelImportError(f"activation '{name}': threshold of shape {given.shape} for a layer"
                                   f" of shape {p.out_units.shape}") from None
        bad = first_nonfinite(full)
        if bad is not None:
            raise ModelImportError(f"activation '{name}': the threshold is not finite ({bad})")
        thr = np.empty(n)
        thr[p.out_units.reshape(-1)] = full.reshape(-1)
        self.layers.append(ThresholdLayer(
            self._name(p.name), p.kind, p.shape, p.syn.pre, p.syn.post, p.syn.weight, p.bias, thr,
            float(decay), float(reset), p.syn.macs))
        self.units = p.out_units
        self.pending = None
        if p.pool is not None:
            pool_name, pool, stride, pads = p.pool
            self._or_layer(pool_name, self.spatial(pool_name), pool, stride, pads)

    def finish(self, key: np.ndarray | None, source: str, notes: tuple[str, ...] = ()) -> BinaryNet:
        """The finished net; the last operation must have been an activation."""
        if self.pending is not None:
            raise ModelImportError(
                f"layer '{self.pending.name}' is not followed by a spiking activation; the last"
                " layer of an imported model must spike")
        return BinaryNet(self.model, self.input_shape, tuple(self.layers), key, "spikes", source, notes)
