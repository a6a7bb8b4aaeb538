"""The ``floor-gates`` pass: decay-1 gates on a linear-leak chip's potential floor.

On a chip with a linear leak and a floor (TrueNorth), a memoryless gate
(``decay = 1``) is mapped exactly by shifting its threshold and bias so
that a floor at 0 clears it every step; :mod:`spikec.chip.linear_leak`
holds the chip neuron model and the proof, this pass applies it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spikec.chip.linear_leak import gate_shifts, shift_gates
from spikec.chip.noise import scale_threshold_neurons, threshold_noise_bits
from spikec.chip.target import Target
from spikec.ir.network import Network
from spikec.passes.manager import CompileContext, Pass, register_pass

__all__ = ["FloorGates"]


@register_pass
@dataclass
class FloorGates(Pass):
    """Map every decay-1 gate onto the target's potential floor at 0 by shifting its threshold
    and bias (exact, or refused naming the neuron)."""

    name = "floor-gates"
    summary = "shift decay-1 gates' threshold and bias so a floor at 0 clears them (linear-leak chips)"
    default_order = 90

    @classmethod
    def applies(cls, target: Target) -> bool:
        """Only chips with a potential floor."""
        return target.floor

    def run(self, net: Network, ctx: CompileContext) -> Network:
        """Shift each decay-1 neuron by :func:`~spikec.chip.linear_leak.gate_shift` (all at once,
        see :func:`~spikec.chip.linear_leak.gate_shifts`); a no-op on targets without a floor."""
        if not ctx.target.floor:
            return net
        noisy = threshold_noise_bits(ctx.target) is not None
        rand = np.flatnonzero(~net.is_input & (net.p < 1.0)) if noisy else np.zeros(0, dtype=np.int64)
        if len(rand):  # their stochastic threshold has its own chip form, at its own scale
            scales = scale_threshold_neurons(net, ctx.target, rand)
            ctx.note(self.name, "network", f"{len(rand)} stochastic neuron(s) on the stochastic threshold"
                     f" (values scaled by up to {int(scales.max())})")
        gates = np.flatnonzero(~net.is_input & (net.decay == 1.0) & (net.p == 1.0 if noisy else True))
        if not len(gates):
            return net
        shifts = gate_shifts(net, gates, ctx.target)
        shift_gates(net, gates, shifts)
        ctx.note(self.name, "network", f"{len(gates)} decay-1 gate(s) on the floor at 0"
                 f" ({int(np.count_nonzero(shifts))} with threshold and bias shifted)")
        return net
