"""Pipeline stages and delay balancing of feed-forward networks.

A network is a *pure pipeline* when every neuron is a memoryless gate
(``decay = 1``, ``reset = 0``, ``v0 = 0``, ``p = 1``) and all paths from the
input neurons to any one neuron are equally long, counting synaptic delays.
That length is the neuron's *stage*: it computes on the input word given
``stage`` steps earlier, so a new word can enter every step. Neurons fed by
no path from an input (constants) have no stage and do not constrain one.

:func:`pipeline_stages` computes the stages (or says which neuron breaks
the rule); :func:`balance` pads synaptic delays so that they exist and
that a group of neurons (the outputs that belong together) share one.
Balancing changes timing on purpose, so it is a transformation the
program asks for (the ``.spk`` statement ``balance``), not an optimization
pass that must keep spike trains.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence

import networkx as nx

from spikec.errors import PipelineError
from spikec.ir.network import Network, Neuron

__all__ = ["PipelineError", "is_memoryless", "pipeline_stages", "latency", "balance"]


def is_memoryless(neuron: Neuron) -> bool:
    """True for a deterministic gate that forgets everything each step."""
    return (neuron.is_input or (neuron.decay == 1.0 and neuron.reset == 0.0 and neuron.v0 == 0.0
                                and neuron.p == 1.0))


def _cone(net: Network, targets: Iterable[str]) -> set[str]:
    """``targets`` and every neuron with a path into one of them."""
    graph = net.graph
    seen: set[str] = set()
    stack = list(targets)
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        stack.extend(p for p in graph.predecessors(node) if p not in seen)
    return seen


def _order(net: Network, nodes: Collection[str]) -> list[str]:
    sub = net.graph.subgraph(nodes)
    try:
        return list(nx.topological_sort(sub))
    except nx.NetworkXUnfeasible:
        cycle = [u for u, _, *_ in nx.find_cycle(sub)]
        shown = " -> ".join([*cycle, cycle[0]])
        raise PipelineError(
            f"the paths into these neurons go around a cycle ({shown}); only feed-forward"
            " circuits have pipeline stages") from None


def _reached(net: Network, order: Sequence[str]) -> set[str]:
    """Neurons of ``order`` (topological) that some input neuron reaches."""
    reached: set[str] = set()
    graph = net.graph
    for node in order:
        if net[node].is_input or any(p in reached for p in graph.predecessors(node)):
            reached.add(node)
    return reached


def pipeline_stages(net: Network, neurons: Iterable[str] | None = None) -> dict[str, int]:
    """The stage of every neuron that the inputs reach (of ``neurons`` and what feeds
    them, or of the whole network), inputs at stage 0.

    Raises :class:`PipelineError` naming a neuron reached along paths of
    different lengths, or a cycle. Memory (``decay != 1``) is not checked
    here; see :func:`is_memoryless`.
    """
    nodes = set(net.graph.nodes) if neurons is None else _cone(net, neurons)
    order = _order(net, nodes)
    reached = _reached(net, order)
    stages: dict[str, int] = {}
    graph = net.graph
    for node in order:
        if node not in reached:
            continue
        if net[node].is_input:
            stages[node] = 0
            continue
        arrivals = {(stages[pre] + data["delay"], pre)
                    for pre, _, data in graph.in_edges(node, data=True) if pre in reached}
        times = sorted({t for t, _ in arrivals})
        if len(times) > 1:
            early = min(arrivals)
            late = max(arrivals)
            raise PipelineError(
                f"neuron '{node}' is reached from the inputs in {early[0]} steps (through"
                f" '{early[1]}') and in {late[0]} steps (through '{late[1]}'); balance the"
                " paths into it")
        stages[node] = times[0]
    return stages


def latency(net: Network, neurons: Sequence[str]) -> int:
    """The common stage of ``neurons`` (their latency from the inputs).

    Raises :class:`PipelineError` when the paths are not balanced, when the
    neurons sit on different stages, or when no input reaches them.
    """
    stages = pipeline_stages(net, neurons)
    found = {name: stages.get(name) for name in neurons}
    missing = [name for name, st in found.items() if st is None]
    if missing:
        raise PipelineError(f"no input reaches '{missing[0]}'")
    values = sorted({st for st in found.values() if st is not None})
    if len(values) != 1:
        lo = min(found, key=lambda k: found[k] or 0)
        hi = max(found, key=lambda k: found[k] or 0)
        raise PipelineError(
            f"'{lo}' is at stage {found[lo]} but '{hi}' at stage {found[hi]}; balance them")
    return values[0]


def balance(net: Network, neurons: Sequence[str]) -> int:
    """Pad synaptic delays so that every path from the inputs to ``neurons`` has one
    length; return the common stage of ``neurons`` afterwards.

    Every neuron feeding ``neurons`` (directly or not) is placed on its
    latest input's stage plus one delay, as soon as possible; each synapse
    into those neurons is lengthened to ``stage(post) - stage(pre)``; then
    ``neurons`` themselves wait for the slowest of them. Synapses elsewhere
    are untouched, so neurons outside the cone that read a padded neuron
    see it later. Raises :class:`PipelineError` for an input in
    ``neurons`` that would need delaying, a neuron in ``neurons`` that
    feeds another one, or a cycle.
    """
    targets = list(dict.fromkeys(neurons))
    if not targets:
        return 0
    cone = _cone(net, targets)
    order = _order(net, cone)
    reached = _reached(net, order)
    graph = net.graph
    target_set = set(targets)
    for name in targets:
        feeds = nx.descendants(graph.subgraph(cone), name) & target_set
        if feeds:
            raise PipelineError(
                f"cannot balance '{name}' with '{sorted(feeds)[0]}', which it feeds;"
                " balance them separately")
    stages: dict[str, int] = {}
    for node in order:
        if node not in reached:
            continue
        if net[node].is_input:
            stages[node] = 0
            continue
        stages[node] = max(stages[pre] + data["delay"]
                           for pre, _, data in graph.in_edges(node, data=True) if pre in reached)
    reached_targets = [t for t in targets if t in stages]
    if not reached_targets:
        raise PipelineError(f"no input reaches '{targets[0]}'; there is nothing to balance")
    common = max(stages[t] for t in reached_targets)
    for name in reached_targets:
        if stages[name] < common and net[name].is_input:
            raise PipelineError(
                f"'{name}' is an input and cannot be delayed; balance the neurons it feeds instead")
        stages[name] = common
    for node in order:
        if node not in stages or net[node].is_input:
            continue
        for pre, _, data in graph.in_edges(node, data=True):
            if pre in stages:
                data["delay"] = stages[node] - stages[pre]
    return common
