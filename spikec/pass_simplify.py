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

from spikec.network import Network, Neuron
from spikec.passes import CompileContext, Pass, register_pass

__all__ = [
    "potential_bounds",
    "drive_bounds",
    "silent_neurons",
    "dead_neurons",
    "pure_relays",
    "fold_relays",
    "merge_parallel_synapses",
    "NeverFires",
    "DeadNeurons",
    "RelayFold",
    "MergeSynapses",
]


def _stored_high_ignoring_fire(n: Neuron, drive_max: float) -> float:
    """Upper bound on the potential kept between steps, from the drive alone."""
    if n.decay == 0.0:
        return math.inf if drive_max > 0 else max(n.v0, n.reset)
    return max(n.v0, n.reset, (1.0 - n.decay) * drive_max / n.decay)


def potential_bounds(n: Neuron, drive_max: float, drive_min: float) -> tuple[float, float]:
    """Bounds ``(low, high)`` on the potential after integration, over all steps.

    ``drive_max``/``drive_min`` bound the bias plus synaptic input of one step.
    A deterministic neuron that does not fire keeps less than
    ``max(threshold, 0)`` (it leaks towards 0 from below the threshold), so its
    kept potential is at most ``max(v0, reset, threshold, 0)``; a neuron with
    ``p < 1`` may lose its draw, so only the drive bounds it. Either bound may
    be infinite (an integrator with one-sided drive).
    """
    stored_high = _stored_high_ignoring_fire(n, drive_max)
    if n.p == 1.0:
        stored_high = min(stored_high, max(n.v0, n.reset, n.threshold, 0.0))
    if n.decay == 0.0:
        stored_low = -math.inf if drive_min < 0 else min(n.v0, n.reset)
    else:
        stored_low = min(n.v0, n.reset, (1.0 - n.decay) * drive_min / n.decay)
    return stored_low + drive_min, stored_high + drive_max


def drive_bounds(net: Network, name: str, can_fire: dict[str, bool] | None = None) -> tuple[float, float]:
    """``(max, min)`` of bias plus synaptic input in one step, counting only sources
    in ``can_fire`` (default: every source)."""
    n: Neuron = net.graph.nodes[name]["neuron"]
    pos: list[float] = [n.bias]
    neg: list[float] = [n.bias]
    for pre, _, data in net.graph.in_edges(name, data=True):
        if can_fire is None or can_fire[pre]:
            w = data["weight"]
            (pos if w > 0 else neg).append(w)
    return math.fsum(pos), math.fsum(neg)


def _never_reaches(n: Neuron, drive_max: float) -> bool:
    if n.p == 0.0:
        return True
    stored = _stored_high_ignoring_fire(n, drive_max)
    high = stored + drive_max
    # Leave room for the rounding of the simulator's float sums.
    margin = 1e-9 * (abs(stored) + abs(drive_max) + abs(n.threshold)) + 1e-300
    return high + margin < n.threshold


def silent_neurons(net: Network) -> set[str]:
    """Non-input neurons that provably never fire (without injected currents).

    The proof grows the set of neurons that *can* fire from the inputs: a
    neuron joins it when an upper bound on its potential, counting the
    positive weights from members only, reaches its threshold (``p = 0``
    never joins). Whatever stays out never fires: at the first step any of
    them fired, all its spikes so far came from members, and its bound
    would have let it join. Cycles of neurons feeding only each other are
    proven silent too.
    """
    graph = net.graph
    can_fire = {name: d["neuron"].is_input for name, d in graph.nodes(data=True)}
    todo = [name for name, ok in can_fire.items() if not ok]
    queued = set(todo)
    while todo:
        name = todo.pop()
        queued.discard(name)
        if can_fire[name]:
            continue
        n = graph.nodes[name]["neuron"]
        if not _never_reaches(n, drive_bounds(net, name, can_fire)[0]):
            can_fire[name] = True
            for post in graph.successors(name):
                if not can_fire[post] and post not in queued:
                    todo.append(post)
                    queued.add(post)
    return {name for name, ok in can_fire.items() if not ok}


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
    drop_zero: bool = True

    def run(self, net: Network, ctx: CompileContext) -> Network:
        """Merge every exact group of parallel synapses."""
        merged, dropped = merge_parallel_synapses(net, self.drop_zero)
        if merged or dropped:
            ctx.note(self.name, "network",
                     f"merged {merged} group(s), dropped {dropped} zero-weight synapse(s)")
        return net
