"""Chip noise: how a target makes a neuron fire at random, and the firing probability it realises.

spikec's stochastic neuron fires, once its potential ``U`` reaches the
threshold ``θ``, with probability ``p`` (one uniform draw per step). Chips
draw differently (a target's ``[noise]`` table, :mod:`spikec.chip.target`):

``threshold`` (TrueNorth's stochastic threshold): fire when
``s U + r >= T``, ``r`` uniform on ``0 .. 2**k - 1`` (``PRNG & mask``), a
fresh value each step used for the comparison only.

``membrane`` (Loihi's compartment noise): ``r`` (uniform, ``k`` bits, with
an offset) is added to the potential before the comparison. For a neuron
that clears its potential every step (``decay = 1``) that is the same test;
a neuron that keeps its potential would keep the noise too, so only decay-1
neurons map.

``stream`` (SANA-FE's noise file): the chip adds whatever value the file
holds. spikec writes it from its own draws (0 when the uniform is below
``p``, a value that keeps the neuron under threshold otherwise), so the
chip fires with exactly ``p``: only decay-1 neurons, and the spread of
potentials over threshold must fit the ``k`` bits.

**Realised probability** (``threshold`` and ``membrane``). Scale the neuron
to its smallest integers (as ``quantize`` does: positive scaling never
changes spikes); let ``g`` be the gap from the highest reachable potential
below ``θ`` to ``θ`` (the bound analyses give the range ``[low, high]``, so
``g = max(1, θ - high)``). With ``a = round(p 2**k)`` levels, an integer
chip scale ``s >= a / g`` and ``T = s θ + 2**k - a``:

- below threshold ``s U + r <= s (θ - g) + 2**k - 1 < T``: never fires;
- at ``U = θ + d`` (``d >= 0``) it fires for ``min(2**k, a + s d)`` of the
  ``2**k`` values of ``r``: ``q(θ) = a / 2**k``, and more above.

So a neuron with one reachable potential over threshold (the random-walk
routing gates) realises ``a / 2**k``, exact iff ``p 2**k`` is an integer;
with several, ``q`` grows with ``U`` (``spikec.passes.noise`` rewrites
decay-1 ones into a gate and a one-input stochastic relay instead). When
``s`` times the weights does not fit the target's weight bits, fewer levels
are used (a shorter mask on ``threshold`` chips, ``a`` capped at ``s g`` on
``membrane`` ones) and the error grows; :func:`plan_noise` reports it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from spikec.chip.target import Target
from spikec.ir.analysis import (
    drive_bounds_all,
    in_synapses,
    integer_scales,
    potential_bounds_all,
    scaled_values,
)
from spikec.ir.network import Network

__all__ = ["NoisePlan", "plan_noise", "levels", "fire_probability", "unmappable", "noise_registers",
           "threshold_levels", "scale_threshold_neurons", "threshold_chip_form", "threshold_noise_bits"]


@dataclass
class NoisePlan:
    """How each stochastic neuron maps onto a target's noise (arrays over ``idx``).

    ``theta``, ``low``, ``high``: threshold and reachable potentials at the neuron's integer
    scale (``high`` may be ``inf``); ``gap``: ``θ`` minus the highest potential below it;
    ``bits``: the random bits used (``k``, per neuron: a mask may be shortened); ``levels``:
    ``a`` (``-1`` for a ``stream``); ``scale``: the chip's factor ``s``; ``realised``: the
    probability at ``U = θ``; ``top``: at ``U = high``; ``error``: the largest
    ``|q(U) - p|`` over the reachable ``U >= θ``; ``problem``: why a neuron cannot map
    (``None`` where it can)."""

    kind: str
    idx: np.ndarray
    p: np.ndarray
    theta: np.ndarray
    low: np.ndarray
    high: np.ndarray
    gap: np.ndarray
    bits: np.ndarray
    levels: np.ndarray
    scale: np.ndarray
    realised: np.ndarray
    top: np.ndarray
    error: np.ndarray
    problem: list[str | None]

    @property
    def multi(self) -> np.ndarray:
        """Mask: more than one reachable potential over threshold."""
        return np.asarray(self.high > self.theta)


def levels(p: np.ndarray, bits: np.ndarray | int) -> np.ndarray:
    """``a = round(p 2**bits)`` (halves up), as int64: the draws out of ``2**bits`` that fire."""
    return np.floor(np.ldexp(np.asarray(p, dtype=np.float64), np.asarray(bits, dtype=np.int32)) + 0.5
                    ).astype(np.int64)


def fire_probability(a: np.ndarray | int, s: np.ndarray | int, above: np.ndarray | float,
                     bits: np.ndarray | int) -> np.ndarray:
    """``q = min(2**bits, a + s d) / 2**bits`` at ``d = above`` (``U - θ >= 0``; ``inf`` gives 1)."""
    full = np.ldexp(1.0, np.asarray(bits, dtype=np.int32))
    with np.errstate(invalid="ignore"):
        count = np.minimum(full, np.asarray(a, dtype=np.float64) + np.asarray(s) * np.asarray(above, float))
    return np.asarray(np.where(np.isnan(count), full, count) / full)


def _integer_scale(net: Network, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(odd, low)`` of :func:`~spikec.ir.analysis.integer_scales` over every neuron, from the
    values ``quantize`` scales (incoming weights, threshold, reset, bias, v0), and the largest
    scaled incoming ``|weight|`` of each neuron of ``idx``."""
    n = len(net)
    order, indptr = in_synapses(net)
    post = net.post[order].astype(np.int64)
    params = [net.threshold[idx], net.reset[idx], net.bias[idx], net.v0[idx]]
    groups = np.concatenate([post, np.tile(idx, 4)])
    odd, low = integer_scales(groups, np.concatenate([net.weight[order], *params]), n)
    w = np.abs(scaled_values(net.weight[order], odd[post], low[post]))
    wmax = np.zeros(n)
    np.maximum.at(wmax, post, w)
    return odd, low, wmax[idx]


def _scaled(x: np.ndarray, odd: np.ndarray, low: np.ndarray) -> np.ndarray:
    finite = np.isfinite(x)
    out = np.array(x, dtype=np.float64)
    out[finite] = scaled_values(x[finite], odd[finite], low[finite])
    return out


def _reduced_bounds(net: Network, idx: np.ndarray) -> tuple[np.ndarray, ...]:
    """``(odd, low, θ, lo, hi, wmax)`` of the neurons ``idx`` at their smallest integers: the
    scale (:func:`_integer_scale`), the threshold and the reachable potential range there (the
    bound analyses), and the largest scaled incoming weight."""
    odd_all, low_all, wmax = _integer_scale(net, idx)
    odd, low = odd_all[idx], low_all[idx]
    dmax, dmin = drive_bounds_all(net)
    lo, hi = potential_bounds_all(net, dmax[idx], dmin[idx], idx)
    theta = scaled_values(net.threshold[idx], odd, low)
    return odd, low, theta, _scaled(lo, odd, low), _scaled(hi, odd, low), wmax


def plan_noise(net: Network, target: Target, idx: np.ndarray) -> NoisePlan:
    """The mapping of the stochastic neurons ``idx`` onto ``target``'s noise (see the module
    docstring); neurons that cannot map get their ``problem``."""
    kind, k = target.noise_kind, target.noise_bits
    if kind is None or k is None:
        raise ValueError(f"target '{target.name}' has no [noise] table")
    idx = np.asarray(idx, dtype=np.int64)
    odd, lowexp, theta, lo, hi, wmax = _reduced_bounds(net, idx)
    p = np.array(net.p[idx], dtype=np.float64)
    gap = np.where(lo < theta, np.maximum(1.0, theta - hi), np.inf)
    decay = net.decay[idx]
    bits = np.full(len(idx), k, dtype=np.int64)
    problem: list[str | None] = [None] * len(idx)
    if kind == "stream":
        a = np.full(len(idx), -1, dtype=np.int64)
        s = np.ones(len(idx), dtype=np.int64)
        realised, top, error = p.copy(), p.copy(), np.zeros(len(idx))
        spread = hi - theta + 1
        for j in np.flatnonzero((decay != 1.0) | ~(spread <= 2.0**k)).tolist():
            problem[j] = (_persists(float(decay[j])) if decay[j] != 1.0 else
                          f"its potential over threshold spans {spread[j]:g} values at integer scale, more"
                          f" than the {k}-bit noise can push back under it")
        return NoisePlan(kind, idx, p, theta, lo, hi, gap, bits, a, s, realised, top, error, problem)
    whi = target.int_range(target.weight_bits)[1]
    room = np.where(wmax > 0, np.floor(whi / np.maximum(wmax, 1e-300)), np.inf)  # largest s that fits
    finite_gap = np.where(np.isfinite(gap), gap, 1.0)
    if kind == "threshold":
        # The mask width (<= k) with the least error at U = θ among those whose scale fits.
        best_a, best_bits, best_err = levels(p, k), bits.copy(), np.full(len(idx), np.inf)
        for kk in range(k, 0, -1):
            a_k = levels(p, kk)
            fits = np.ceil(a_k / finite_gap) <= room
            err = np.abs(a_k / 2.0**kk - p)
            better = fits & (err < best_err)
            best_a, best_bits, best_err = (np.where(better, a_k, best_a), np.where(better, kk, best_bits),
                                           np.where(better, err, best_err))
        nothing = ~np.isfinite(best_err)  # no width fits: cap the levels at what the scale allows
        a = np.where(nothing, np.minimum(levels(p, k), np.floor(room) * finite_gap), best_a).astype(np.int64)
        bits = best_bits.astype(np.int64)
    else:
        a = np.minimum(levels(p, k), np.maximum(room, 0) * finite_gap).astype(np.int64)
    s = np.maximum(1, np.ceil(a / finite_gap)).astype(np.int64)
    realised = fire_probability(a, s, 0.0, bits)
    top = fire_probability(a, s, hi - theta, bits)
    error = np.maximum(np.abs(realised - p), np.abs(top - p))
    if kind == "membrane":
        for j in np.flatnonzero(decay != 1.0).tolist():
            problem[j] = _persists(float(decay[j]))
    else:
        for j in np.flatnonzero((decay != 1.0) & (decay != 0.0)).tolist():
            problem[j] = (f"decay {float(decay[j]):g} leaves fractional potentials; a stochastic threshold"
                          " maps decay 0 and decay 1 neurons only")
    return NoisePlan(kind, idx, p, theta, lo, hi, gap, bits, a, s, realised, top, error, problem)


def _persists(decay: float) -> str:
    return (f"decay {decay:g}: noise added to the potential stays in a neuron that does not clear it every"
            " step; only decay-1 stochastic neurons map onto membrane noise")


def unmappable(net: Network, target: Target, idx: np.ndarray) -> tuple[int, str] | None:
    """The first neuron of ``idx`` (network order) ``target``'s noise cannot run, with the
    reason, or ``None``. Without a ``[noise]`` table every neuron is unmappable."""
    idx = np.asarray(idx, dtype=np.int64)
    if not len(idx):
        return None
    if target.noise_kind is None:
        return int(idx[0]), f"target '{target.name}' has no noise ([noise] table)"
    plan = plan_noise(net, target, idx)
    for j, why in enumerate(plan.problem):
        if why is not None:
            return int(idx[j]), why
    return None


def noise_registers(net: Network, target: Target, idx: np.ndarray) -> list[dict[str, int | float]]:
    """Each stochastic neuron's noise registers, as a netlist carries them: the chip's scale
    ``s`` of the neuron's integers, the random ``bits`` and, on ``threshold``/``membrane``
    chips, the noise threshold offset ``t = 2**bits - a`` (the chip fires when
    ``s U + r >= s θ + t``), with the realised probability at threshold."""
    plan = plan_noise(net, target, idx)
    out: list[dict[str, int | float]] = []
    for j in range(len(plan.idx)):
        row: dict[str, int | float] = {"bits": int(plan.bits[j]), "scale": int(plan.scale[j]),
                                       "p": float(plan.realised[j])}
        if plan.kind != "stream":
            row["offset"] = int(2 ** int(plan.bits[j]) - plan.levels[j])
        else:
            row["push"] = int(-(plan.high[j] - plan.theta[j] + 1)) if math.isfinite(plan.high[j]) else 0
        out.append(row)
    return out


# -- the stochastic threshold in a linear-leak chip form (TrueNorth) -------------------------------
#
# On a ``threshold`` chip with a linear leak and a floor the chip neuron adds ``r`` (uniform on
# ``0 .. 2**k - 1``, ``PRNG & mask``) to its potential ``C`` for the firing test ``C + r >= T``
# and, for a gate, for the floor test ``C + r <= 0`` (which sets ``C`` to 0). At chip scale (the
# compiled neuron's integers multiplied by ``s``, ``scale_threshold_neurons``), with ``a`` draws
# out of ``2**k`` firing (``p = a / 2**k``) and the neuron's highest potential below threshold
# at least ``a`` under it:
#
# - decay 1 (a gate): ``T = 1``, ``leak = b + a + 1 - 2**k - θ``, floor 0. At ``U = θ + d`` the
#   chip holds ``C = U - θ + a + 1 - 2**k`` and fires for ``min(2**k, a + d)`` values of ``r``:
#   ``q(θ) = a / 2**k``; below threshold ``C + r <= 0`` always; a step without a spike leaves
#   ``C + r <= 0`` (integers), which the floor clears to 0, as decay 1 does.
# - decay 0: ``T = θ + 2**k - a``, ``leak = b``, no floor: it fires for ``a`` of the ``2**k``
#   values at ``U = θ`` and never below ``θ - a + 1``; a lost draw keeps the potential, as spikec.


def threshold_levels(p: np.ndarray, bits: int) -> tuple[np.ndarray, np.ndarray]:
    """``(a, k)`` per neuron: the fewest random bits ``k <= bits`` with ``p 2**k`` an integer
    ``a`` (``p`` realised exactly), else ``k = bits`` and ``a = round(p 2**bits)``."""
    p = np.asarray(p, dtype=np.float64)
    k = np.full(len(p), bits, dtype=np.int64)
    for kk in range(bits, -1, -1):
        whole = np.ldexp(p, kk)
        k = np.where(whole == np.floor(whole), kk, k)
    return levels(p, k), k


def _gaps(net: Network, idx: np.ndarray) -> np.ndarray:
    """``θ`` minus the highest reachable potential below it, in the neuron's own units: at its
    smallest integers (as ``quantize`` leaves it) the gap is at least 1, or ``θ`` minus the top
    of the reachable range when that is below ``θ``, times the neuron's factor over those
    integers (``s`` once it is at its chip scale); ``inf`` for a neuron that never reaches
    its threshold."""
    odd, low, theta, lo, hi, _ = _reduced_bounds(net, idx)
    exponent = np.clip(low, -2000, 2000).astype(np.int32)
    factor = np.where(odd == 0, 1.0, np.ldexp(odd.astype(np.float64), exponent))
    return np.where(lo < theta, np.maximum(1.0, theta - hi) * factor, np.inf)


def scale_threshold_neurons(net: Network, target: Target, idx: np.ndarray) -> np.ndarray:
    """Multiply each stochastic neuron of ``idx`` (compiled to integers) by the chip scale
    ``s = ceil(a / gap)`` its stochastic threshold needs (threshold, bias, reset, v0 and its
    incoming weights: a positive scaling never changes spikes or their probabilities); returns
    ``s``. Raises :class:`~spikec.errors.CompileError` naming a neuron whose scaled weights do not
    fit the target's weight bits."""
    from spikec.errors import CompileError

    idx = np.asarray(idx, dtype=np.int64)
    bits = int(target.noise_bits or 0)
    a, _ = threshold_levels(net.p[idx], bits)
    gap = _gaps(net, idx)
    s = np.where(np.isfinite(gap), np.maximum(1, np.ceil(a / np.where(np.isfinite(gap), gap, 1.0))), 1)
    s = s.astype(np.int64)
    order, indptr = in_synapses(net)
    counts = indptr[idx + 1] - indptr[idx]
    syn = order[np.repeat(indptr[idx], counts) + np.arange(int(counts.sum())) -
                np.repeat(np.cumsum(counts) - counts, counts)]
    factor = np.repeat(s, counts).astype(np.float64)
    weights = net.weight[syn] * factor
    top = target.int_range(target.weight_bits)[1]
    too_big = np.abs(weights) > top
    if too_big.any():
        j = int(np.repeat(np.arange(len(idx)), counts)[np.flatnonzero(too_big)[0]])
        i = int(idx[j])
        raise CompileError(f"neuron '{net.name_of(i)}': its stochastic threshold needs its values scaled"
                           f" by {int(s[j])} (p = {float(net.p[i]):g} on {2 ** bits} levels), which puts a"
                           f" weight past the target's {target.weight_bits}-bit weights", net.location_of(i))
    net.set_synapses(syn, weight=weights)
    net.set_params(idx, **{key: net.param(key)[idx] * s for key in ("threshold", "bias", "reset", "v0")})
    return s


def threshold_chip_form(net: Network, idx: np.ndarray, bits: int) -> dict[str, np.ndarray]:
    """The chip registers (see above) of the stochastic neurons ``idx`` at chip scale: arrays
    ``threshold``, ``leak``, ``reset``, ``v0``, ``floor`` (bool) and ``mask``; raises
    :class:`~spikec.errors.CompileError` naming a neuron that is not at its chip scale (run the
    ``floor-gates`` pass) or whose decay has no such form."""
    from spikec.errors import CompileError

    idx = np.asarray(idx, dtype=np.int64)
    a, k = threshold_levels(net.p[idx], bits)
    decay, theta, bias = net.decay[idx], net.threshold[idx], net.bias[idx]
    gap = _gaps(net, idx)
    bad = np.flatnonzero((decay != 0.0) & (decay != 1.0) | (gap < a))
    if len(bad):
        j = int(bad[0])
        i = int(idx[j])
        why = (f"decay {float(decay[j]):g}: a stochastic threshold maps decay 0 and decay 1 neurons only"
               if decay[j] not in (0.0, 1.0) else
               f"its potential comes within {gap[j]:g} of its threshold, but p = {float(net.p[i]):g} on"
               f" {2 ** int(k[j])} levels needs a gap of {int(a[j])} (run 'floor-gates' to scale it)")
        raise CompileError(f"neuron '{net.name_of(i)}': {why}", net.location_of(i))
    full = np.left_shift(np.int64(1), k)
    gate = decay == 1.0
    th = theta.astype(np.int64)
    b = bias.astype(np.int64)
    return {"threshold": np.where(gate, 1, th + full - a), "leak": np.where(gate, b + a + 1 - full - th, b),
            "reset": net.reset[idx].astype(np.int64), "v0": net.v0[idx].astype(np.int64),
            "floor": gate, "mask": full - 1}


def threshold_noise_bits(target: Target | dict | None) -> int | None:
    """The random bits of ``target``'s stochastic threshold (a :class:`Target` or a netlist's
    target summary), or ``None`` when it has none."""
    if target is None:
        return None
    if isinstance(target, dict):
        noise = target.get("noise")
        if not (isinstance(noise, dict) and noise.get("kind") == "threshold"):
            return None
        bits = noise.get("bits")
        if type(bits) is not int or not 1 <= bits <= 31:
            from spikec.errors import TargetError

            raise TargetError(f"target.noise.bits: expected an integer from 1 to 31, got {str(bits)[:40]}")
        return bits
    return target.noise_bits if target.noise_kind == "threshold" else None
