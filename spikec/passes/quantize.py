"""The ``quantize`` pass: a target's integer number formats, exactly or reported.

``quantize`` scales each neuron's incoming weights, threshold, reset, bias
and ``v0`` by one positive factor (which never changes its spikes, see
``docs/semantics.md``) to the smallest integers that represent them exactly
(:func:`spikec.ir.analysis.scale_for`); when they do not fit the target's
bits it rounds and reports the neuron (or refuses under ``exact``). It also
reports decays off the target's grid and potentials that may leave the
register.

Every neuron is scaled at once: a float is ``odd * 2**e``, so the exact
scale of a neuron is ``2**-low / gcd`` of its values' odd parts
(:func:`spikec.ir.analysis.integer_scales`) and each scaled value is exact
in float64. Rounding at a limited scale ``A / B`` is done in float64 and is
exact except within a few ulps of a half-integer; only those values (and
neurons whose limiting scale is a near tie) are redone with fractions.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from spikec.chip.target import Target
from spikec.errors import CompileError
from spikec.ir.analysis import (
    drive_bounds_all,
    integer_scales,
    potential_bounds_all,
    scale_for,
    scaled_values,
)
from spikec.ir.network import Network
from spikec.passes.manager import CompileContext, Pass, register_pass

__all__ = ["quantize_neurons", "quantize_neuron", "Quantize"]

_PARAMS = ("threshold", "reset", "bias", "v0")
_U = 2.0**-53


def _per_neuron_any(n: int, post: np.ndarray, bad: np.ndarray) -> np.ndarray:
    return np.bincount(post[bad], minlength=n) > 0


def _round_scaled(x: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``round(x * a / b)`` (half to even, as :func:`round` on a :class:`Fraction`) for float
    ``x``, ``b`` and integer-valued ``a``, exactly: in float64, with fractions only where the
    float quotient lies within its error of a half-integer."""
    y = (x / b) * a  # two roundings, and no overflow: |x| <= b
    frac = y - np.floor(y)
    unsure = np.abs(frac - 0.5) <= 16 * _U * np.abs(y) + 1e-300
    out = np.rint(y)
    for k in np.flatnonzero(unsure).tolist():
        out[k] = float(round(Fraction(float(x[k])) * Fraction(int(a[k])) / Fraction(float(b[k]))))
    return out


def quantize_neurons(net: Network, target: Target, idx: np.ndarray | None = None) -> list[tuple[int, str]]:
    """Scale neurons ``idx`` (default: every non-input neuron; their incoming weights,
    threshold, reset, bias, v0) onto the target's integers; return ``(neuron, reason)`` for
    each way their spikes could change, in neuron order (empty when all are exact)."""
    n = len(net)
    chosen = np.zeros(n, dtype=bool)
    chosen[np.flatnonzero(~net.is_input) if idx is None else idx] = True
    q = np.flatnonzero(chosen)
    syn = np.flatnonzero(chosen[net.post])
    post = net.post[syn].astype(np.int64)
    w = net.weight[syn]
    p = {k: net.param(k)[q] for k in _PARAMS}
    wlo, whi = target.int_range(target.weight_bits)
    tlo, thi = target.int_range(target.threshold_bits)
    # On a linear-leak chip the bias is the leak register; a gate on the floor gets
    # bias - shift there instead, which 'floor-gates' checks.
    leak_is_bias = (target.leak_bits is not None) & ~((net.decay[q] == 1.0) & target.floor)
    llo, lhi = target.int_range(target.leak_bits)
    blo, bhi = np.where(leak_is_bias, llo, tlo), np.where(leak_is_bias, lhi, thi)
    # The exact scale of each neuron and its values at that scale.
    values = np.concatenate([w, *(p[k] for k in _PARAMS)])
    groups = np.concatenate([post, *([q] * len(_PARAMS))])
    odd, low = integer_scales(groups, values, n)
    sw = scaled_values(w, odd[post], low[post])
    sp = {k: scaled_values(p[k], odd[q], low[q]) for k in _PARAMS}
    misfit = _per_neuron_any(n, post, (sw < wlo) | (sw > whi))[q]
    for key in ("threshold", "reset", "v0"):
        misfit |= (sp[key] < tlo) | (sp[key] > thi)
    misfit |= (sp["bias"] < blo) | (sp["bias"] > bhi)
    new_w, new_p = sw, sp
    reasons: list[tuple[int, int, str]] = []
    rounded = np.flatnonzero(misfit)
    if len(rounded):
        new_w, new_p = sw.copy(), {k: v.copy() for k, v in sp.items()}
        _round_misfits(net, target, q, rounded, post, w, p, (whi, thi, bhi), leak_is_bias,
                       new_w, new_p, reasons)
    decay = np.array(net.decay[q])
    if target.decay_bits is not None:
        grid = 2.0**target.decay_bits
        off = np.flatnonzero(decay * grid != np.floor(decay * grid))
        for k, d in zip(off.tolist(), decay[off].tolist(), strict=True):
            reasons.append((int(q[k]), 1, f"decay {d:g} is not a multiple of 1/{int(grid)}; rounded to"
                                          f" {float(np.rint(d * grid)) / grid:g}"))
        decay[off] = np.rint(decay[off] * grid) / grid
    if len(syn):
        net.set_synapses(syn, weight=new_w)
    net.set_params(q, decay=decay, **new_p)
    if target.potential_bits is not None:
        fractional = np.flatnonzero((decay > 0.0) & (decay < 1.0))
        for k in fractional.tolist():
            reasons.append((int(q[k]), 2, f"decay {decay[k]:g} leaves fractional potentials, which the chip"
                                          " rounds"))
        dmax, dmin = drive_bounds_all(net)
        lo, hi = potential_bounds_all(net, dmax[q], dmin[q], q)
        plo, phi = target.int_range(target.potential_bits)
        for k in np.flatnonzero((lo < plo) | (hi > phi)).tolist():
            reasons.append((int(q[k]), 3, f"its potential may reach [{lo[k]:g}, {hi[k]:g}], outside the"
                                          f" {target.potential_bits}-bit register [{plo:g}, {phi:g}]"))
    reasons.sort(key=lambda r: (r[0], r[1]))
    return [(i, text) for i, _, text in reasons]


def _round_misfits(net: Network, target: Target, q: np.ndarray, rounded: np.ndarray, post: np.ndarray,
                   w: np.ndarray, p: dict[str, np.ndarray], highs: tuple[float, float, np.ndarray],
                   leak_is_bias: np.ndarray, new_w: np.ndarray, new_p: dict[str, np.ndarray],
                   reasons: list[tuple[int, int, str]]) -> None:
    """Scale the neurons ``q[rounded]``, whose exact integers do not fit, by the largest
    factor that fits (the smallest of the weight, threshold and leak limits) and round;
    write their values into ``new_w`` / ``new_p`` and their reasons into ``reasons``."""
    n = len(net)
    whi, thi, bhi = highs
    pos = np.full(n, -1, dtype=np.int64)
    pos[q[rounded]] = np.arange(len(rounded))
    wmax = np.zeros(n)
    np.maximum.at(wmax, post, np.abs(w))
    wmax = wmax[q[rounded]]
    pmax = np.max(np.abs(np.stack([p[k][rounded] for k in _PARAMS])), axis=0)
    bias = np.abs(p["bias"][rounded])
    bh = np.broadcast_to(bhi, (len(q),))[rounded]
    num = np.stack([np.full(len(rounded), whi), np.full(len(rounded), thi), bh])
    den = np.stack([wmax, pmax, bias])
    usable = (den > 0) & np.isfinite(num)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(usable, num / den, np.inf)
    pick = np.argmin(ratio, axis=0)
    cols = np.arange(len(rounded))
    best = ratio[pick, cols]
    second = np.partition(ratio, 1, axis=0)[1] if len(ratio) > 1 else np.full(len(rounded), np.inf)
    # A near tie between two limits, or no limit at all: choose with fractions.
    slow = ~np.isfinite(best) | (second - best <= 8 * _U * best)
    a, b = num[pick, cols], den[pick, cols]
    bits = f"{target.weight_bits}/{target.threshold_bits}"
    mine = pos[post] >= 0
    fast_w = mine & ~slow[np.maximum(pos[post], 0)]
    k_of_w = pos[post[fast_w]]
    new_w[fast_w] = _round_scaled(w[fast_w], a[k_of_w], b[k_of_w])
    fast = np.flatnonzero(~slow)
    for key in _PARAMS:
        new_p[key][rounded[fast]] = _round_scaled(p[key][rounded[fast]], a[fast], b[fast])
    scale_text = {int(k): f"{float(a[k] / b[k]):.6g}" for k in fast.tolist()}
    for k in np.flatnonzero(slow).tolist():
        scale_text[k] = _round_with_fractions(int(rounded[k]), w, p, num[:, k], den[:, k], usable[:, k],
                                              mine & (pos[post] == k), new_w, new_p)
    for k, r in enumerate(rounded.tolist()):
        what = (f"weights/threshold/leak need more than {bits}/{target.leak_bits}" if leak_is_bias[r]
                else f"weights/threshold need more than {bits}")
        reasons.append((int(q[r]), 0, f"{what} bits at an exact scale; rounded at scale {scale_text[k]}"))


def _round_with_fractions(r: int, w: np.ndarray, p: dict[str, np.ndarray], num: np.ndarray, den: np.ndarray,
                          usable: np.ndarray, own: np.ndarray, new_w: np.ndarray, new_p: dict[str, np.ndarray]
                          ) -> str:
    """One neuron of :func:`_round_misfits` done with fractions; returns its scale as shown."""
    limits = [Fraction(int(x)) / Fraction(float(y)) for x, y, ok in zip(num, den, usable, strict=True) if ok]
    scale = min(limits) if limits else scale_for([*w[own].tolist(), *(float(p[k][r]) for k in _PARAMS)])
    ids = np.flatnonzero(own)
    new_w[ids] = [float(round(Fraction(x) * scale)) for x in w[ids].tolist()]
    for key in _PARAMS:
        new_p[key][r] = float(round(Fraction(float(p[key][r])) * scale))
    return f"{float(scale):.6g}"


def quantize_neuron(net: Network, name: str, target: Target) -> list[str]:
    """Scale neuron ``name`` (its incoming weights, threshold, reset, bias, v0) onto the
    target's integers; return the reasons its spikes could change (empty when exact)."""
    return [text for _, text in quantize_neurons(net, target, np.array([net.index(name)]))]


@register_pass
@dataclass
class Quantize(Pass):
    """Scale each neuron to the target's integer formats; report (or refuse) inexact ones."""

    name = "quantize"
    summary = "scale each neuron by a positive factor onto the target's weight/threshold bits"
    default_order = 80
    exact: bool = False

    def run(self, net: Network, ctx: CompileContext) -> Network:
        """Quantize every non-input neuron."""
        target = ctx.target
        if not target.integer and target.decay_bits is None and target.potential_bits is None:
            return net
        strict = self.exact or ctx.exact
        for i, reason in quantize_neurons(net, target):
            name, loc = net.name_of(i), net.location_of(i)
            if strict:
                raise CompileError(
                    f"neuron '{name}': spikes could change on target '{target.name}': {reason}"
                    " (refused under --exact)", loc)
            ctx.note(self.name, f"neuron '{name}'", f"spikes could change: {reason}", loc=loc)
        return net

