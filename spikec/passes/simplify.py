"""Simplifying passes: never-fires analysis, dead-neuron elimination, relay
folding and parallel-synapse merging.

Each keeps the spike trains of every neuron it leaves in the network
identical on deterministic networks, assuming no injected current
(``currents=``) reaches a neuron the pass proves silent or removes:

- ``never-fires`` bounds the potential a neuron can reach (from its bias,
  ``v0``, reset and the positive weights of neurons that can fire) and,
  when the bound stays below the threshold, removes the neuron's outgoing
  synapses, which can then never deliver.
- ``dead-neurons`` removes neurons that no path of synapses joins to an
  observable neuron (probed, ``keep=``, or every neuron of a network
  without probes; inputs are always kept).
- ``relay-fold`` replaces a pure relay (one incoming synapse whose spike
  always makes it fire, nothing else that moves its potential) by extra
  delay on its outgoing synapses.
- ``merge-synapses`` joins parallel synapses with the same (pre, post,
  delay) into one carrying the summed weight, when that sum is exact, and
  drops synapses of weight 0.

Removing a stochastic neuron changes which uniform each remaining
stochastic neuron reads (the draws go in network order), so on stochastic
networks ``dead-neurons`` keeps the spikes identical in distribution, not
bit for bit; the other passes never remove or reorder stochastic neurons.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from fractions import Fraction

from spikec.ir.analysis import silent_neurons
from spikec.ir.network import Network, Neuron
from spikec.passes.manager import CompileContext, Pass, register_pass

__all__ = [
    "dead_neurons",
    "pure_relays",
    "fold_relays",
    "merge_parallel_synapses",
    "NeverFires",
    "DeadNeurons",
    "RelayFold",
    "MergeSynapses",
]


def dead_neurons(net: Network, observable: set[str]) -> list[str]:
    """Neurons (in network order) from which no synapse path reaches ``observable``."""
    graph = net.graph
    live = set(observable)
    stack = list(observable)
    while stack:
        for pre in graph.predecessors(stack.pop()):
            if pre not in live:
                live.add(pre)
                stack.append(pre)
    return [name for name in graph.nodes if name not in live]


def pure_relays(net: Network, observable: set[str]) -> list[str]:
    """Unobservable neurons that fire exactly one delay after their single source.

    Conditions: not an input, ``p = 1``, exactly one incoming synapse, from
    another neuron, with weight ``w >= threshold > 0``, and ``bias = v0 =
    reset = 0``; so the potential is 0 except on the step the source's spike
    arrives, when it is ``w`` and the neuron fires and resets to 0.
    """
    graph = net.graph
    out = []
    for name, data in graph.nodes(data=True):
        n: Neuron = data["neuron"]
        if n.is_input or name in observable or n.p != 1.0:
            continue
        if n.bias != 0.0 or n.v0 != 0.0 or n.reset != 0.0 or not n.threshold > 0.0:
            continue
        if graph.in_degree(name) != 1:
            continue
        (pre, _, w), = graph.in_edges(name, data="weight")
        if pre != name and w >= n.threshold:
            out.append(name)
    return out


def fold_relays(net: Network, relays: list[str]) -> int:
    """Replace each relay ``pre -(d)-> r -(w2, d2)-> q`` by ``pre -(w2, d + d2)-> q``;
    return how many were folded. Chains of relays fold into one longer delay."""
    graph = net.graph
    for r in relays:
        (pre, _, d), = graph.in_edges(r, data="delay")
        for _, post, data in list(graph.out_edges(r, data=True)):
            attrs = {"weight": data["weight"], "delay": d + data["delay"]}
            if "loc" in data:
                attrs["loc"] = data["loc"]
            graph.add_edge(pre, post, **attrs)
        graph.remove_node(r)
    return len(relays)


def merge_parallel_synapses(net: Network, drop_zero: bool = True) -> tuple[int, int]:
    """Merge synapses with the same (pre, post, delay) whose weights sum exactly.

    Returns ``(merged groups, dropped zero-weight synapses)``. A group whose
    float sum would round is left alone (adding the parts one by one and
    adding their sum could then differ in the last bit).
    """
    graph = net.graph
    merged = dropped = 0
    for pre, nbrs in list(graph.adjacency()):
        for post, keyed in list(nbrs.items()):
            if len(keyed) == 1 and not drop_zero:
                continue
            by_delay: dict[int, list[int]] = defaultdict(list)
            for key, data in keyed.items():
                by_delay[data["delay"]].append(key)
            for keys in by_delay.values():
                weights = [graph.edges[pre, post, k]["weight"] for k in keys]
                total = math.fsum(weights)
                exact = len(keys) == 1 or _sum_is_exact(weights, total)
                if len(keys) > 1 and exact:
                    for k in keys[1:]:
                        graph.remove_edge(pre, post, k)
                    graph.edges[pre, post, keys[0]]["weight"] = total
                    merged += 1
                    keys = keys[:1]
                if drop_zero:
                    for k in keys:
                        if graph.edges[pre, post, k]["weight"] == 0.0:
                            graph.remove_edge(pre, post, k)
                            dropped += 1
    return merged, dropped


def _sum_is_exact(weights: list[float], total: float) -> bool:
    """Whether ``total`` is the exact real sum of ``weights`` (no rounding in the merge)."""
    return Fraction(total) == sum((Fraction(w) for w in weights), Fraction(0))


@register_pass
@dataclass
class NeverFires(Pass):
    """Prove neurons silent by bounding their potential; drop their outgoing synapses."""

    name = "never-fires"
    summary = "remove the outgoing synapses of neurons whose potential provably stays below threshold"
    default_order = 10

    def run(self, net: Network, ctx: CompileContext) -> Network:
        """Remove outgoing synapses of every provably silent neuron."""
        for name in sorted(silent_neurons(net), key=list(net.graph.nodes).index):
            out = list(net.graph.out_edges(name, keys=True))
            if out:
                net.graph.remove_edges_from(out)
                ctx.note(self.name, f"neuron '{name}'",
                         f"can never reach its threshold; removed {len(out)} outgoing synapse(s)")
        return net


@register_pass
@dataclass
class DeadNeurons(Pass):
    """Remove neurons that cannot influence an observable neuron."""

    name = "dead-neurons"
    summary = "remove neurons with no synapse path to a probed (or kept) neuron"
    default_order = 20

    def run(self, net: Network, ctx: CompileContext) -> Network:
        """Remove every dead neuron."""
        dead = dead_neurons(net, ctx.observable(net))
        net.graph.remove_nodes_from(dead)
        if dead:
            ctx.note(self.name, "network", f"removed {len(dead)} neuron(s) that reach no probe")
        return net


@register_pass
@dataclass
class RelayFold(Pass):
    """Fold pure relay neurons into synaptic delay."""

    name = "relay-fold"
    summary = "replace pure relay neurons by extra delay on their outgoing synapses"
    default_order = 30

    def run(self, net: Network, ctx: CompileContext) -> Network:
        """Fold every pure relay that is not observable."""
        count = fold_relays(net, pure_relays(net, ctx.observable(net)))
        if count:
            ctx.note(self.name, "network", f"folded {count} relay neuron(s) into delays")
        return net


@register_pass
@dataclass
class MergeSynapses(Pass):
    """Merge parallel synapses; drop zero-weight ones."""

    name = "merge-synapses"
    summary = "join synapses with the same (pre, post, delay) when their weights sum exactly"
    default_order = 40
    drop_zero: bool = True

    def run(self, net: Network, ctx: CompileContext) -> Network:
        """Merge every exact group of parallel synapses."""
        merged, dropped = merge_parallel_synapses(net, self.drop_zero)
        if merged or dropped:
            ctx.note(self.name, "network",
                     f"merged {merged} group(s), dropped {dropped} zero-weight synapse(s)")
        return net
