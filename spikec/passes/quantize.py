"""The ``quantize`` pass: a target's integer number formats, exactly or reported.

``quantize`` scales each neuron's incoming weights, threshold, reset, bias
and ``v0`` by one positive factor (which never changes its spikes, see
``docs/semantics.md``) to the smallest integers that represent them exactly
(:func:`spikec.ir.analysis.scale_for`); when they do not fit the target's
bits it rounds and reports the neuron (or refuses under ``exact``). It also
reports decays off the target's grid and potentials that may leave the
register.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

from spikec.chip.target import Target
from spikec.errors import CompileError
from spikec.ir.analysis import drive_bounds, potential_bounds, scale_for
from spikec.ir.network import Network, Neuron
from spikec.passes.manager import CompileContext, Pass, register_pass

__all__ = ["quantize_neuron", "Quantize"]


def _times(x: float, scale: Fraction) -> float:
    """``x * scale`` exactly (rounded once to float), fast for integer ``x`` and ``1/g`` scales."""
    if scale.numerator == 1 and x.is_integer() and abs(x) < 2**53:
        q, r = divmod(int(x), scale.denominator)
        if r == 0:
            return float(q)
    return float(Fraction(x) * scale)


def quantize_neuron(net: Network, name: str, target: Target) -> list[str]:
    """Scale neuron ``name`` (its incoming weights, threshold, reset, bias, v0) onto the
    target's integers; return the reasons its spikes could change (empty when exact)."""
    graph = net.graph
    n: Neuron = graph.nodes[name]["neuron"]
    in_edges = list(graph.in_edges(name, keys=True, data="weight"))
    weights = [w for *_, w in in_edges]
    params = [n.threshold, n.reset, n.bias, n.v0]
    wlo, whi = target.int_range(target.weight_bits)
    tlo, thi = target.int_range(target.threshold_bits)
    # On a linear-leak chip the bias is the leak register; a gate on the floor gets
    # bias - shift there instead, which 'floor-gates' checks.
    leak_is_bias = target.leak_bits is not None and not (n.decay == 1.0 and target.floor)
    blo, bhi = target.int_range(target.leak_bits) if leak_is_bias else (tlo, thi)
    reasons: list[str] = []
    scale = scale_for(weights + params)
    wmax = max((abs(w) for w in weights), default=0.0)
    pmax = max(abs(p) for p in params)

    def fits(s: Fraction) -> bool:
        return all(wlo <= _times(w, s) <= whi for w in weights) and all(
            tlo <= _times(p, s) <= thi for p in (n.threshold, n.reset, n.v0)) and (
            blo <= _times(n.bias, s) <= bhi)

    exact = fits(scale)
    if not exact:
        limits = [Fraction(int(whi)) / Fraction(wmax)] if wmax and math.isfinite(whi) else []
        if pmax and math.isfinite(thi):
            limits.append(Fraction(int(thi)) / Fraction(pmax))
        if n.bias and math.isfinite(bhi):
            limits.append(Fraction(int(bhi)) / Fraction(abs(n.bias)))
        scale = min(limits) if limits else scale
        bits = f"{target.weight_bits}/{target.threshold_bits}"
        what = (f"weights/threshold/leak need more than {bits}/{target.leak_bits}" if leak_is_bias
                else f"weights/threshold need more than {bits}")
        reasons.append(f"{what} bits at an exact scale; rounded at scale {float(scale):.6g}")

    def q(x: float) -> float:
        return _times(x, scale) if exact else float(round(Fraction(x) * scale))

    new_w = [q(w) for w in weights]
    for (pre, _, key, _), w in zip(in_edges, new_w, strict=True):
        graph.edges[pre, name, key]["weight"] = w
    updates = dict(threshold=q(n.threshold), reset=q(n.reset), bias=q(n.bias), v0=q(n.v0))
    if target.decay_bits is not None:
        grid = 2 ** target.decay_bits
        d = Fraction(n.decay) * grid
        if d.denominator != 1:
            updates["decay"] = float(round(d)) / grid
            reasons.append(
                f"decay {n.decay:g} is not a multiple of 1/{grid}; rounded to {updates['decay']:g}")
    net.update(name, **updates)
    n = graph.nodes[name]["neuron"]
    if target.potential_bits is not None:
        if 0.0 < n.decay < 1.0:
            reasons.append(f"decay {n.decay:g} leaves fractional potentials, which the chip rounds")
        low, high = potential_bounds(n, *drive_bounds(net, name))
        plo, phi = target.int_range(target.potential_bits)
        if low < plo or high > phi:
            reasons.append(
                f"its potential may reach [{low:g}, {high:g}], outside the {target.potential_bits}-bit"
                f" register [{plo:g}, {phi:g}]")
    return reasons


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
        for name, data in list(net.graph.nodes(data=True)):
            if data["neuron"].is_input:
                continue
            reasons = quantize_neuron(net, name, target)
            for reason in reasons:
                if strict:
                    raise CompileError(
                        f"neuron '{name}': spikes could change on target '{target.name}': {reason}"
                        " (refused under --exact)")
                ctx.note(self.name, f"neuron '{name}'", f"spikes could change: {reason}")
        return net
