"""Reports on a placed network: sizes, per-core fill, inter-core traffic and an
energy estimate per time step from the target's per-event costs.

Activity is either one firing probability for every neuron (``activity``)
or measured rates (spikes per step of each neuron, e.g. from a simulation).
Per step, with ``r_i`` the rate of neuron i:

- spikes = sum r_i; synaptic events = sum r_i * out_degree(i);
- messages = sum r_i * (cores other than its own that i reaches);
- hops = sum r_i * (mesh distance from i's core to each of those cores),
  cores laid out row by row on the target's core grid per chip, chips on
  the board's chip grid (:mod:`spikec.chip.mesh`);
- energy = spikes * E.spike + events * E.synaptic_event + neurons *
  E.neuron_update + messages * E.message + hops * E.hop + E.step.

Everything is computed on the synapse and core arrays. Sums are taken in
the order the reports have always used (neurons in network order, synapses
grouped by source) with sequential float additions (``np.cumsum``), so a
report is the same to the last bit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from spikec.chip.mesh import mesh_distances
from spikec.chip.placement import Placement, distinct, route_arrays
from spikec.chip.target import Target
from spikec.errors import UsageError
from spikec.ir.network import Network

__all__ = ["CoreFill", "NetworkStats", "network_stats", "mesh_distance", "traffic"]


def mesh_distance(a: int, b: int, cores_per_chip: int | None, core_columns: int | None = None,
                  chip_columns: int | None = None) -> int:
    """Manhattan distance between cores ``a`` and ``b`` (:func:`spikec.chip.mesh.mesh_distances`)."""
    return int(mesh_distances(np.array([a]), np.array([b]), cores_per_chip, core_columns, chip_columns)[0])


def _sum(values: np.ndarray) -> float:
    """``values[0] + values[1] + ...`` left to right (what a Python loop adds up)."""
    return float(np.cumsum(values)[-1]) if len(values) else 0.0


def _rates(net: Network, rates: Mapping[str, float] | float) -> np.ndarray:
    """Each neuron's rate: one for all, or from a ``{name: rate}`` mapping (0 if absent).
    A rate is spikes per step, a firing probability: a number from 0 to 1."""
    if not isinstance(rates, Mapping):
        if isinstance(rates, bool) or not isinstance(rates, (int, float, np.integer, np.floating)):
            raise UsageError(f"activity must be a number from 0 to 1 (spikes per neuron per step),"
                             f" got {rates!r}")
        if not 0.0 <= float(rates) <= 1.0:  # NaN fails too
            raise UsageError(f"activity must be from 0 to 1 (spikes per neuron per step), got {rates!r}")
        return np.full(len(net), float(rates))
    out = np.zeros(len(net))
    known = [name for name in rates if name in net]
    try:
        values = np.array([rates[name] for name in known], dtype=float)
    except (TypeError, ValueError):
        raise UsageError("activity: every rate must be a number from 0 to 1") from None
    bad = np.flatnonzero(~((values >= 0.0) & (values <= 1.0)))
    if len(bad):
        raise UsageError(f"activity of neuron '{known[int(bad[0])]}' must be from 0 to 1"
                         f" (spikes per step), got {values[bad[0]]!r}")
    out[net.resolve(known)] = values
    return out


def _traffic(net: Network, core: np.ndarray, k: int, rate: np.ndarray, cores_per_chip: int | None,
             core_columns: int | None = None, chip_columns: int | None = None) -> tuple[float, float]:
    """``(messages, hops)`` per step from arrays; terms by source core, then source."""
    src, dst = route_arrays(net, core, k)
    if not len(src):
        return 0.0, 0.0
    heads = np.flatnonzero(np.append(True, src[1:] != src[:-1]))
    sources = src[heads]
    fan = np.diff(np.append(heads, len(src)))
    dist = np.add.reduceat(mesh_distances(core[src], dst, cores_per_chip, core_columns, chip_columns), heads)
    order = np.argsort(core[sources], kind="stable")
    r = rate[sources][order]
    return _sum(r * fan[order]), _sum(r * dist[order])


def traffic(net: Network, placement: Placement, rates: Mapping[str, float] | float = 1.0,
            cores_per_chip: int | None = None, core_columns: int | None = None,
            chip_columns: int | None = None) -> tuple[float, float]:
    """``(messages, hops)`` per step: spike messages that leave their core, and mesh hops."""
    core = placement.core_array(net)
    return _traffic(net, core, placement.num_cores, _rates(net, rates), cores_per_chip, core_columns,
                    chip_columns)


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


def _busiest_core(core: np.ndarray, post_core: np.ndarray, neuron_work: np.ndarray,
                  synapse_work: np.ndarray, k: int) -> float:
    """The largest per-core sum of its neurons' work (network order), then its synapses'
    work (synapse order), each core added up left to right."""
    cores = np.concatenate([core, post_core])
    work = np.concatenate([neuron_work, synapse_work])
    order = np.argsort(cores, kind="stable")
    bounds = np.searchsorted(cores[order], np.arange(k + 1))
    ordered = work[order]
    return max((_sum(ordered[bounds[c]:bounds[c + 1]]) for c in range(k)), default=0.0)


def network_stats(net: Network, placement: Placement, target: Target,
                  activity: float | Mapping[str, float] = 0.1) -> NetworkStats:
    """Sizes, per-core fill, traffic and energy per step of ``net`` placed on ``target``."""
    k = placement.num_cores
    core = placement.core_array(net)
    pre = net.pre.astype(np.int64)
    post_core = core[net.post]
    neurons = np.bincount(core, minlength=k)
    synapses = np.bincount(post_core, minlength=k)
    axons = np.bincount(distinct(pre * max(k, 1) + post_core) % max(k, 1), minlength=k)
    fill = [CoreFill(c, nn, ss, aa) for c, nn, ss, aa in
            zip(range(k), neurons.tolist(), synapses.tolist(), axons.tolist(), strict=True)]
    rate = _rates(net, activity)
    spikes = _sum(rate)
    events = _sum(rate[pre])
    messages, hops = _traffic(net, core, k, rate, target.cores_per_chip, target.core_columns,
                              target.chip_columns)
    n_inputs = int(np.count_nonzero(net.is_input))
    updated = net.num_neurons - n_inputs
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
    busiest = _busiest_core(core, post_core, lat.neuron_update + rate * lat.spike,
                            rate[pre] * lat.synaptic_event, k)
    latency = busiest + (messages * lat.message + hops * lat.hop) / max(k, 1) + lat.step
    return NetworkStats(
        target=target.name, neurons=net.num_neurons, inputs=n_inputs, synapses=net.num_synapses,
        cores=k, fill=fill, spikes_per_step=spikes, synaptic_events_per_step=events,
        messages_per_step=messages, hops_per_step=hops, energy_per_step=sum(breakdown.values()),
        latency_per_step=latency, energy_breakdown=breakdown,
    )
