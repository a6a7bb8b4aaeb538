"""Placement passes: ``place`` (partition onto cores) and ``split-destinations``
(one (core, delay) destination per neuron, for TrueNorth-like cores).

The work is done by :mod:`spikec.chip.placement`; these passes run it and
record the placement in the compile context.
"""

from __future__ import annotations

from dataclasses import dataclass

from spikec.chip.placement import check_core_limits, place_network, split_destinations
from spikec.chip.target import Target
from spikec.errors import CompileError
from spikec.ir.network import Network
from spikec.passes.manager import CompileContext, Pass, register_pass

__all__ = ["Place", "SplitDestinations"]

@register_pass
@dataclass
class Place(Pass):
    """Partition and place the network onto the target's cores."""

    name = "place"
    summary = "partition neurons onto cores under per-core limits, minimizing inter-core synapses"
    default_order = 100
    method: str = "auto"
    cores: int = 0
    seed: int = 0
    mesh: bool = True

    def run(self, net: Network, ctx: CompileContext) -> Network:
        """Compute ``ctx.placement``."""
        ctx.placement = place_network(net, ctx.target, self.cores, self.method, self.seed, self.mesh)
        return net


@register_pass
@dataclass
class SplitDestinations(Pass):
    """Replicate neurons so each sends to at most the target's destinations per neuron."""

    name = "split-destinations"
    summary = "replicate neurons on their own core so each has one (core, delay) destination"
    default_order = 110

    @classmethod
    def applies(cls, target: Target) -> bool:
        """Only targets whose neurons send to a limited number of destinations."""
        return target.dest_cores_per_neuron is not None

    def run(self, net: Network, ctx: CompileContext) -> Network:
        """Split destinations, then re-check the per-core limits."""
        if ctx.placement is None:
            raise CompileError("pass 'split-destinations' needs a placement: run 'place' first")
        limit = ctx.target.dest_cores_per_neuron
        if limit is None:
            return net
        added = split_destinations(net, ctx.placement, ctx, limit)
        if added:
            ctx.note(self.name, "network", f"added {added} replica neuron(s) for one-destination cores")
        check_core_limits(net, ctx.placement, ctx.target)
        return net
