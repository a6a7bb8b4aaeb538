"""What each NIR node kind means at a step dt: neuron parameters of the spiking nodes
(:func:`neuron_params`) and the linear map of the others (:func:`linear_value`).

Spiking nodes, with a = dt/tau (``docs/nir.md`` derives these):

=============  =======  ==============  ====================  ==================
NIR            decay    input gain g    reset                 constant drive
=============  =======  ==============  ====================  ==================
``Threshold``  1        1               0                     (none)
``IF``         0        dt*r            v_reset               (none)
``LIF``        a        a*r             (1 - a)*v_reset       a*v_leak
``CubaLIF``    a_mem    a_mem*r*w_in    (1 - a_mem)*v_reset   a_mem*v_leak
=============  =======  ==============  ====================  ==================

(a CubaLIF only with tau_syn == dt), threshold ``nextafter(v_threshold, +inf)``.
When a time constant is stored in float32 (snnTorch, Norse), a is computed from
``float32(dt)``, the dt the producer divided by.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from spikec.backends.binary_net import ImportLimits, ModelImportError
from spikec.backends.nir_checks import pair, real
from spikec.backends.nir_compose import Value, affine_matrix, conv_matrix, plain, pool_matrix
from spikec.backends.threshold_layers import Pads

__all__ = ["NeuronParams", "neuron_params", "linear_value"]


@dataclass(frozen=True, eq=False)
class NeuronParams:
    """spikec parameters of one spiking node, in NIR's flat order (``gain`` multiplies
    every input, ``leak`` is the node's own constant drive per step)."""

    shape: tuple[int, ...]
    threshold: np.ndarray
    decay: np.ndarray
    reset: np.ndarray
    gain: np.ndarray
    leak: np.ndarray

    @property
    def size(self) -> int:
        """Number of neurons."""
        return int(np.prod(self.shape, dtype=np.int64))

    @classmethod
    def relay(cls, shape: tuple[int, ...]) -> NeuronParams:
        """A relay: fires when its one input spike arrives (weight 1, threshold 1, decay 1)."""
        n = int(np.prod(shape, dtype=np.int64))
        one, zero = np.ones(n), np.zeros(n)
        return cls(shape, one, one, zero, one, zero)

    def broadcast(self, shape: tuple[int, ...], node: str) -> NeuronParams:
        """The same parameters for a node of ``shape`` (parameters of one value broadcast)."""
        if tuple(shape) == self.shape:
            return self
        if self.size != 1:
            raise ModelImportError(
                f"node '{node}': parameters of shape {plain(self.shape)} for a tensor of shape {plain(shape)}"
            )
        n = int(np.prod(shape, dtype=np.int64))
        return NeuronParams(
            tuple(shape),
            *(np.repeat(a, n) for a in (self.threshold, self.decay, self.reset, self.gain, self.leak)),
        )


def _step(dt: float, tau_raw: Any, tau: np.ndarray) -> np.ndarray:
    """dt / tau, with dt rounded to float32 first when tau was stored in float32."""
    dtype = np.asarray(tau_raw).dtype
    base = float(np.float32(dt)) if dtype == np.float32 else dt
    return base / tau


def neuron_params(kind: str, node: Any, name: str, dt: float, limits: ImportLimits) -> NeuronParams:
    """The spikec neuron parameters of a spiking node at step ``dt`` (or an error naming
    the node where that discretisation is not exact)."""

    def field(f: str, default: float | None = None) -> np.ndarray:
        value = getattr(node, f, None)
        if value is None:
            if default is None:
                raise ModelImportError(f"node '{name}': a {kind} node needs '{f}'")
            return np.asarray(default, dtype=np.float64)
        return real(value, f, name, limits)

    if kind == "Threshold":
        thr = field("threshold")
        one = np.ones_like(thr)
        arrays = [thr, one, np.zeros_like(thr), one, np.zeros_like(thr)]
    elif kind == "IF":
        r, thr, v_reset = field("r"), field("v_threshold"), field("v_reset", 0.0)
        arrays = [thr, np.zeros(1), v_reset, dt * r, np.zeros(1)]
    else:
        tau_field = "tau" if kind == "LIF" else "tau_mem"
        tau = field(tau_field)
        if np.any(tau <= 0):
            raise ModelImportError(f"node '{name}': {tau_field} must be > 0, got {float(tau.min())}")
        a = _step(dt, getattr(node, tau_field), tau)
        if np.any(a > 1):
            worst = float(a.max())
            raise ModelImportError(
                f"node '{name}': dt/{tau_field} = {worst:g} > 1 at dt = {dt:g}: forward Euler overshoots"
                f" (the potential would flip sign each step); import with a dt <= {tau_field}"
            )
        r, v_leak, thr, v_reset = field("r"), field("v_leak"), field("v_threshold"), field("v_reset", 0.0)
        gain = a * r
        if kind == "CubaLIF":
            tau_syn = field("tau_syn")
            if np.any(tau_syn <= 0) or np.any(_step(dt, node.tau_syn, tau_syn) != 1.0):
                raise ModelImportError(
                    f"node '{name}': a CubaLIF maps exactly only with tau_syn == dt (a memoryless synapse);"
                    f" tau_syn = {float(np.max(tau_syn)):g} at dt = {dt:g} keeps a second state variable,"
                    " which spikec neurons do not have"
                )
            gain = gain * field("w_in", 1.0)
        arrays = [thr, a, (1.0 - a) * v_reset, gain, a * v_leak]
    try:
        shape = np.broadcast_shapes(*(x.shape for x in arrays))
        full = [np.broadcast_to(x, shape).reshape(-1).astype(np.float64) for x in arrays]
    except ValueError:
        raise ModelImportError(
            f"node '{name}': its parameters have shapes that do not fit together"
            f" ({', '.join(plain(x.shape) for x in arrays)})"
        ) from None
    thr_full, decay, reset, gain_full, leak = full
    return NeuronParams(
        tuple(int(d) for d in shape) or (1,), np.nextafter(thr_full, np.inf), decay, reset, gain_full, leak
    )


def _image(inp: Value, node: str, channels: int | None, declared: Any, dims: int) -> tuple[int, ...]:
    """The input as (C, H, W) (dims 2) or (C, N) (dims 1), checking a declared input_shape."""
    shape = inp.shape
    spatial = None
    if declared is not None:
        spatial = tuple(int(d) for d in real(declared, "input_shape", node).reshape(-1))
        if len(spatial) != dims:
            raise ModelImportError(f"node '{node}': input_shape {plain(spatial)}; expected {dims} numbers")
    if (
        len(shape) != dims + 1
        and spatial is not None
        and channels is not None
        and inp.size == channels * int(np.prod(spatial))
    ):
        shape = (channels, *spatial)
    if len(shape) != dims + 1:
        what = "(channels, height, width)" if dims == 2 else "(channels, length)"
        raise ModelImportError(f"node '{node}' needs a {what} tensor, got shape {plain(inp.shape)}")
    if channels is not None and shape[0] != channels:
        raise ModelImportError(
            f"node '{node}': a convolution over {channels} channels is fed a tensor of"
            f" shape {plain(shape)} ({shape[0]} channels)"
        )
    if spatial is not None and spatial != tuple(shape[1:]):
        fed = "x".join(str(d) for d in shape[1:])
        raise ModelImportError(
            f"node '{node}': input_shape {plain(spatial)} (the input before padding) but"
            f" it is fed {fed} {'images' if dims == 2 else 'sequences'} (tensor"
            f" {plain(shape)})"
        )
    return tuple(int(d) for d in shape)


def _padding(
    node: Any, name: str, kernel: tuple[int, int], stride: tuple[int, int], dilation: tuple[int, int]
) -> Pads:
    padding = node.padding
    if isinstance(padding, bytes):
        padding = padding.decode("utf-8", "replace")
    if isinstance(padding, str):
        if padding == "valid":
            return (0, 0, 0, 0)
        if padding != "same":
            raise ModelImportError(
                f"node '{name}': padding must be 'same', 'valid' or integers, got {padding!r}"
            )
        if stride != (1, 1):
            raise ModelImportError(f"node '{name}': 'same' padding needs stride 1")
        th, tw = dilation[0] * (kernel[0] - 1), dilation[1] * (kernel[1] - 1)
        return (th // 2, th - th // 2, tw // 2, tw - tw // 2)
    ph, pw = pair(padding, "padding", name, low=0)
    return (ph, ph, pw, pw)


def _conv(node: Any, name: str, inp: Value, dims: int, limits: ImportLimits) -> Value:
    groups = real(node.groups, "groups", name)
    if groups.size != 1 or float(groups.reshape(-1)[0]) != 1.0:
        raise ModelImportError(f"node '{name}': grouped convolution (groups = {groups.reshape(-1).tolist()})")
    weight = real(node.weight, "weight", name, limits)
    if weight.ndim != dims + 2:
        what = "(out, in, kh, kw)" if dims == 2 else "(out, in, k)"
        raise ModelImportError(f"node '{name}': weight of shape {plain(weight.shape)}; expected {what}")
    shape = _image(inp, name, weight.shape[1], getattr(node, "input_shape", None), dims)
    if dims == 1:
        weight = weight[:, :, None, :]
        img: tuple[int, int, int] = (shape[0], 1, shape[1])
        stride = (1, pair(node.stride, "stride", name)[0])
        dilation = (1, pair(node.dilation, "dilation", name)[0])
        pads = _padding(node, name, (1, weight.shape[3]), stride, dilation)
        pads = (0, 0, pads[2], pads[3])
    else:
        img = (shape[0], shape[1], shape[2])
        stride, dilation = pair(node.stride, "stride", name), pair(node.dilation, "dilation", name)
        pads = _padding(node, name, (weight.shape[2], weight.shape[3]), stride, dilation)
    matrix, out, macs = conv_matrix(weight, img, stride, pads, dilation, limits)
    if dims == 1:
        out = (out[0], out[2])
    value = inp.reshaped(shape).apply(matrix, out, f"node '{name}'", limits, macs)
    bias = real(node.bias, "bias", name, limits).reshape(-1)
    if bias.size not in (1, out[0]):
        raise ModelImportError(f"node '{name}': bias of shape {plain(bias.shape)} for {out[0]} channels")
    if np.any(bias):
        full = np.broadcast_to(np.broadcast_to(bias, (out[0],)).reshape(-1, *([1] * (len(out) - 1))), out)
        value.consts[0] = value.consts.get(0, 0.0) + full.reshape(-1)
    return value


def _flatten(node: Any, name: str, inp: Value) -> Value:
    shape = inp.shape
    declared = getattr(node, "input_type", None)
    given = declared.get("input") if isinstance(declared, dict) else None
    if given is not None:
        dims = tuple(int(d) for d in real(given, "input_type", name).reshape(-1))
        if int(np.prod(dims, dtype=np.int64)) != inp.size:
            raise ModelImportError(
                f"node '{name}': declares an input of shape {plain(dims)} but is fed a"
                f" tensor of shape {plain(shape)}"
            )
    nd = len(shape)
    start = int(real(node.start_dim, "start_dim", name).reshape(-1)[0])
    end = int(real(node.end_dim, "end_dim", name).reshape(-1)[0])
    if not (-nd <= start < nd and -nd <= end < nd) or start % nd > end % nd:
        raise ModelImportError(
            f"node '{name}': start_dim {start} and end_dim {end} do not fit a tensor of"
            f" shape {plain(shape)} (NIR's dims leave out the batch)"
        )
    a, b = start % nd, end % nd
    out = (*shape[:a], int(np.prod(shape[a : b + 1], dtype=np.int64)), *shape[b + 1 :])
    return inp.reshaped(out)


def linear_value(kind: str, node: Any, name: str, inp: Value, dt: float, limits: ImportLimits) -> Value:
    """The output of linear node ``name`` of ``kind`` fed ``inp``."""
    if kind == "Identity":
        return inp
    if kind == "Flatten":
        return _flatten(node, name, inp)
    if kind in ("Affine", "Linear"):
        weight = real(node.weight, "weight", name, limits)
        if weight.ndim != 2:
            raise ModelImportError(
                f"node '{name}': weight of shape {plain(weight.shape)}; expected (out, in)"
            )
        matrix, shape = affine_matrix(weight, inp.shape, name)
        value = inp.apply(
            matrix, shape, f"node '{name}'", limits, weight.size * (inp.size // weight.shape[1])
        )
        if kind == "Affine":
            bias = real(node.bias, "bias", name, limits).reshape(-1)
            if bias.size not in (1, weight.shape[0]):
                raise ModelImportError(
                    f"node '{name}': bias of shape {plain(bias.shape)} for {weight.shape[0]} outputs"
                )
            if np.any(bias):
                full = np.broadcast_to(np.broadcast_to(bias, (weight.shape[0],)), shape).reshape(-1)
                value.consts[0] = value.consts.get(0, 0.0) + full
    elif kind == "Scale":
        scale = real(node.scale, "scale", name, limits)
        try:
            full = np.broadcast_to(scale, inp.shape).reshape(-1)
        except ValueError:
            raise ModelImportError(
                f"node '{name}': scale of shape {plain(scale.shape)} for a tensor of shape {plain(inp.shape)}"
            ) from None
        value = inp.apply(sp.diags(full, format="csr"), inp.shape, f"node '{name}'", limits, inp.size)
    elif kind in ("Conv2d", "Conv1d"):
        value = _conv(node, name, inp, 2 if kind == "Conv2d" else 1, limits)
    elif kind in ("SumPool2d", "AvgPool2d"):
        shape = _image(inp, name, None, None, 2)
        kernel = pair(node.kernel_size, "kernel_size", name)
        stride = pair(node.stride, "stride", name)
        ph, pw = pair(node.padding, "padding", name, low=0)
        weight = 1.0 if kind == "SumPool2d" else 1.0 / (kernel[0] * kernel[1])
        matrix, out = pool_matrix(
            (shape[0], shape[1], shape[2]), kernel, stride, (ph, ph, pw, pw), weight, limits
        )
        value = inp.reshaped(shape).apply(matrix, out, f"node '{name}'", limits)
    elif kind == "Delay":
        steps = real(node.delay, "delay", name) / dt
        whole = np.round(steps)
        if np.any(whole < 0) or np.any(np.abs(steps - whole) > 1e-9 * np.maximum(1.0, np.abs(steps))):
            bad = float(steps.reshape(-1)[np.argmax(np.abs(steps - whole).reshape(-1))])
            raise ModelImportError(
                f"node '{name}': a delay of {bad:g} steps at dt = {dt:g}; spikec delays"
                " are whole numbers of steps >= 0"
            )
        try:
            lags = np.broadcast_to(whole, inp.shape).reshape(-1).astype(np.int64)
        except ValueError:
            raise ModelImportError(
                f"node '{name}': delay of shape {plain(whole.shape)} for a tensor of shape {plain(inp.shape)}"
            ) from None
        if len(np.unique(lags)) > 1024:
            raise ModelImportError(f"node '{name}': more than 1,024 different delays in one node")
        return inp.lagged(lags)
    else:
        raise ModelImportError(f"node '{name}': spikec cannot import NIR {kind} nodes")
    value.via, value.kind = name, kind
    return value
