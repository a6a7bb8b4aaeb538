"""Reports on a placed network: sizes, per-core fill, inter-core traffic and an
energy estimate per time step from the target's per-event costs.

Activity is either one firing probability for every neuron (``activity``)
or measured rates (spikes per step of each neuron, e.g. from a simulation).
Per step, with ``r_i`` the rate of neuron i:

- spikes = sum r_i; synaptic events = sum r_i * out_degree(i);
- messages = sum r_i * (cores other than its own that i reaches);
- hops = sum r_i * (mesh distance from i's core to each of those cores),
  cores laid out row by row on a square mesh per chip (cores on different
  chips count one extra hop);
- energy = spikes * E.spike + events * E.synaptic_event + neurons *
  E.neuron_update + messages * E.message + hops * E.hop + E.step.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from spikec.chip.placement import Placement, routing_tables
from spikec.chip.target import Target
from spikec.ir.network import Network

__all__ = ["CoreFill", "NetworkStats", "network_stats", "mesh_distance", "traffic"]


def mesh_distance(a: int, b: int, cores_per_chip: int | None) -> int:
    """Manhattan distance between cores ``a`` and ``b`` (square mesh per chip)."""
    per = cores_per_chip or max(a, b) + 1
    width = max(1, math.ceil(math.sqrt(per)))
    chip_a, la = divmod(a, per)
    chip_b, lb = divmod(b, per)
    ax, ay = la % width, la // width
    bx, by = lb % width, lb // width
    return abs(ax - bx) + abs(ay - by) + abs(chip_a - chip_b)


def traffic(net: Network, placement: Placement, rates: Mapping[str, float] | float = 1.0,
            cores_per_chip: int | None = None) -> tuple[float, float]:
    """``(messages, hops)`` per step: spike messages that leave their core, and mesh hops."""
    messages = 0.0
    hops = 0.0
    for table in routing_tables(net, placement):
        for name, dests in table.items():
            r = rates if isinstance(rates, float | int) else rates.get(name, 0.0)
            messages += r * len(dests)
            src = placement.core[name]
            hops += r * sum(mesh_distance(src, c, cores_per_chip) for c in dests)
    return messages, hops


@dataclass
class CoreFill:
    """One core's load."""

    core: int
    neurons: int
    synapses: int
    axons: int


@dataclass
class NetworkStats:
    """What ``spikec stats`` prints."""

    target: str
    neurons: int
    inputs: int
    synapses: int
    cores: int
    fill: list[CoreFill] = field(default_factory=list)
    spikes_per_step: float = 0.0
    synaptic_events_per_step: float = 0.0
    messages_per_step: float = 0.0
    hops_per_step: float = 0.0
    energy_per_step: float = 0.0
    latency_per_step: float = 0.0
    energy_breakdown: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        out = dict(self.__dict__)
        out["fill"] = [f.__dict__ for f in self.fill]
        return out


def network_stats(net: Network, placement: Placement, target: Target,
                  activity: float | Mapping[str, float] = 0.1) -> NetworkStats:
    """Sizes, per-core fill, traffic and energy per step of ``net`` placed on ``target``."""
    k = placement.num_cores
    neurons = [0] * k
    synapses = [0] * k
    axons: list[set[str]] = [set() for _ in range(k)]
    for c in placement.core.values():
        neurons[c] += 1
    for pre, post in net.graph.edges():
        c = placement.core[post]
        synapses[c] += 1
        axons[c].add(pre)
    fill = [CoreFill(c, neurons[c], synapses[c], len(axons[c])) for c in range(k)]

    def rate(name: str) -> float:
        return float(activity) if isinstance(activity, float | int) else float(activity.get(name, 0.0))

    spikes = sum(rate(n) for n in net.graph.nodes)
    events = sum(rate(pre) for pre, _ in net.graph.edges())
    rates: Mapping[str, float] | float = activity if isinstance(activity, Mapping) else float(activity)
    messages, hops = traffic(net, placement, rates, target.cores_per_chip)
    updated = net.num_neurons - len(net.inputs())
    e, lat = target.energy, target.latency
    breakdown = {
        "spikes": spikes * e.spike,
        "synaptic_events": events * e.synaptic_event,
        "neuron_updates": updated * e.neuron_update,
        "messages": messages * e.message,
        "hops": hops * e.hop,
        "step": e.step,
    }
    # Cores work in parallel: the step takes as long as the busiest core, plus the network.
    per_core = [0.0] * k
    for name, c in placement.core.items():
        per_core[c] += lat.neuron_update + rate(name) * lat.spike
    for pre, post in net.graph.edges():
        per_core[placement.core[post]] += rate(pre) * lat.synaptic_event
    latency = max(per_core, default=0.0) + (messages * lat.message + hops * lat.hop) / max(k, 1) + lat.step
    return NetworkStats(
        target=target.name, neurons=net.num_neurons, inputs=len(net.inputs()), synapses=net.num_synapses,
        cores=k, fill=fill, spikes_per_step=spikes, synaptic_events_per_step=events,
        messages_per_step=messages, hops_per_step=hops, energy_per_step=sum(breakdown.values()),
        latency_per_step=latency, energy_breakdown=breakdown,
    )
