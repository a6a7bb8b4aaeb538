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

Both work on the network's columns: a cycle check (strongly connected
components), the neurons the inputs reach (a breadth-first search), chains
of single-input neurons resolved by pointer jumping, and Kahn's algorithm,
one array step per generation, over the neurons where paths merge. Only
an error walks every generation, in the order networkx's
``topological_sort`` gives (the first neuron named in an error is the one it
would meet first), and only an error about a cycle builds a networkx graph,
of the distinct synapse pairs involved.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse import csgraph

from spikec.errors import PipelineError
from spikec.ir.analysis import follow, forward_reachable, gather, in_synapses, reverse_reachable
from spikec.ir.network import Network, Neuron

__all__ = ["PipelineError", "is_memoryless", "pipeline_stages", "stage_array", "latency", "balance"]


def is_memoryless(neuron: Neuron) -> bool:
    """True for a deterministic gate that forgets everything each step."""
    return (neuron.is_input or (neuron.decay == 1.0 and neuron.reset == 0.0 and neuron.v0 == 0.0
                                and neuron.p == 1.0))


@dataclass(frozen=True)
class _Walk:
    """One topological walk of the neurons in ``mask``."""

    order: np.ndarray      # the neurons, in networkx's topological order
    reached: np.ndarray    # mask: some input reaches it within ``mask``
    stage: np.ndarray      # latest arrival from the inputs (-1: not reached)
    uneven: np.ndarray     # mask: reached along paths of different lengths


def _pairs(net: Network, mask: np.ndarray) -> tuple[np.ndarray, ...]:
    """The distinct synapse pairs inside ``mask``, in networkx's adjacency order (each
    source's targets in the order of their first synapse), with the shortest and longest
    delay of each pair; and a CSR index over the sources."""
    pre, post, delay = net.pre.astype(np.int64), net.post.astype(np.int64), net.delay
    inside = np.flatnonzero(mask[pre] & mask[post])
    uniq, first, inverse = np.unique(pre[inside] * len(net) + post[inside], return_index=True,
                                     return_inverse=True)
    low = np.full(len(uniq), np.iinfo(np.int64).max)
    high = np.zeros(len(uniq), dtype=np.int64)
    np.minimum.at(low, inverse, delay[inside])
    np.maximum.at(high, inverse, delay[inside])
    keep = np.argsort(first, kind="stable")  # grouped order of first occurrence
    src, dst = uniq[keep] // len(net), uniq[keep] % len(net)
    indptr = np.zeros(len(net) + 1, dtype=np.int64)
    np.cumsum(np.bincount(src, minlength=len(net)), out=indptr[1:])
    return src, dst, low[keep], high[keep], indptr


def _stages(net: Network, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool]:
    """``(reached, stage, uneven)`` for the neurons of ``mask``: which the inputs reach, the
    latest arrival from them (-1 where none) and whether some neuron is reached along paths
    of different lengths. Raises :class:`PipelineError` on a cycle."""
    n = len(net)
    src, dst, low, high, _ = _pairs(net, mask)
    graph = sp.csr_matrix((np.ones(len(src), dtype=np.int8), (src, dst)), shape=(n, n))
    labels = csgraph.connected_components(graph, directed=True, connection="strong")[1]
    if np.any(src == dst) or np.any(np.bincount(labels[mask], minlength=n) > 1):
        _raise_cycle(net, mask)
    is_input = net.is_input
    reached = forward_reachable(net, mask & is_input, mask)
    live = reached[src]
    src, dst, low, high = src[live], dst[live], low[live], high[live]
    if len(high) and int(high.max()) >= 2**62 // max(int(reached.sum()), 1):
        raise PipelineError("the paths into these neurons are too long to stage (delays near 2**62 steps)")
    indegree = np.bincount(dst, minlength=n)
    chain = reached & ~is_input & (indegree == 1)
    # A neuron with one source (pair) sits at that source's stage plus the delay: follow
    # chains of them up to a neuron where paths merge (or an input), their "head".
    parent = np.arange(n)
    step = np.zeros(n, dtype=np.int64)
    link = np.flatnonzero(chain[dst])
    parent[dst[link]] = src[link]
    step[dst[link]] = high[link]
    uneven = bool(np.any(low[link] != high[link]))
    head, offset, _ = follow(parent, step)
    # Kahn's algorithm over the heads, on the pairs into them re-rooted at their sources' heads.
    into = np.flatnonzero(~chain[dst])
    tail = head[src[into]]
    first = offset[src[into]] + low[into]
    last = offset[src[into]] + high[into]
    into = dst[into]
    order = np.argsort(tail, kind="stable")
    tail, into, first, last = tail[order], into[order], first[order], last[order]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(tail, minlength=n), out=indptr[1:])
    waiting = np.bincount(into, minlength=n)
    stage = np.where(reached & is_input, 0, -1).astype(np.int64)
    early = np.full(n, np.iinfo(np.int64).max)
    late = np.full(n, -1, dtype=np.int64)
    gen = np.flatnonzero(reached & is_input)
    while len(gen):
        edges = gather(indptr, gen)
        targets = into[edges]
        base = stage[tail[edges]]
        np.minimum.at(early, targets, base + first[edges])
        np.maximum.at(late, targets, base + last[edges])
        np.subtract.at(waiting, targets, 1)
        gen = np.unique(targets)
        gen = gen[waiting[gen] == 0]
        stage[gen] = late[gen]
        uneven |= bool(np.any(early[gen] != late[gen]))
    linked = chain & (head >= 0)
    stage[linked] = stage[head[linked]] + offset[linked]
    return reached, stage, uneven


def _walk(net: Network, mask: np.ndarray) -> _Walk:
    """Kahn's algorithm on the neurons of ``mask``, one generation per round, each
    generation in the order networkx's ``topological_generations`` builds it (the error
    path: it costs a few array calls per generation)."""
    n = len(net)
    _, dst, low, high, indptr = _pairs(net, mask)
    indegree = np.bincount(dst, minlength=n)
    is_input = net.is_input
    reached = mask & is_input
    stage = np.where(reached, 0, -1).astype(np.int64)
    first = np.full(n, np.iinfo(np.int64).max)
    last = np.full(n, -1, dtype=np.int64)
    first[reached] = 0
    last[reached] = 0
    gen = np.flatnonzero(mask & (indegree == 0))
    done: list[np.ndarray] = []
    while len(gen):
        done.append(gen)
        edges = gather(indptr, gen)
        heads = dst[edges]
        tails = np.repeat(gen, indptr[gen + 1] - indptr[gen])
        live = reached[tails]
        np.minimum.at(first, heads[live], stage[tails[live]] + low[edges[live]])
        np.maximum.at(last, heads[live], stage[tails[live]] + high[edges[live]])
        reached[heads[live]] = True
        np.subtract.at(indegree, heads, 1)
        # A target joins the next generation at its last synapse pair from this one.
        at = np.flatnonzero(indegree[heads] == 0)
        kids, where = np.unique(heads[at][::-1], return_index=True)
        gen = kids[np.argsort(len(at) - 1 - where, kind="stable")]
        stage[gen] = np.where(reached[gen], last[gen], -1)
    order = np.concatenate(done) if done else np.zeros(0, dtype=np.int64)
    uneven = reached & ~is_input & (first != last)
    return _Walk(order, reached, stage, uneven)


def _raise_cycle(net: Network, mask: np.ndarray) -> None:
    import networkx as nx

    src, dst, *_ = _pairs(net, mask)
    g = nx.DiGraph()
    g.add_nodes_from(np.flatnonzero(mask).tolist())
    g.add_edges_from(zip(src.tolist(), dst.tolist(), strict=True))
    cycle = [net.name_of(u) for u, _ in nx.find_cycle(g)]
    shown = " -> ".join([*cycle, cycle[0]])
    raise PipelineError(
        f"the paths into these neurons go around a cycle ({shown}); only feed-forward"
        " circuits have pipeline stages")


def _cone(net: Network, neurons: Iterable[str] | None) -> tuple[np.ndarray, np.ndarray]:
    """The targets' indices (first occurrences, in order) and the mask of them and every
    neuron with a path into one of them (all neurons when ``neurons`` is None)."""
    if neurons is None:
        return np.zeros(0, dtype=np.int64), np.ones(len(net), dtype=bool)
    targets = net.resolve(list(dict.fromkeys(neurons)), "pipeline stages")
    seeds = np.zeros(len(net), dtype=bool)
    seeds[targets] = True
    return targets, reverse_reachable(net, seeds)


def _check_even(net: Network, mask: np.ndarray) -> None:
    """Raise :class:`PipelineError` for the first neuron (in networkx's topological order)
    reached along paths of different lengths, naming its earliest and latest arrivals."""
    walk = _walk(net, mask)
    bad = walk.order[walk.uneven[walk.order]]
    node = int(bad[0])
    order, indptr = in_synapses(net)
    ids = order[indptr[node]:indptr[node + 1]]
    pairs = zip(net.pre[ids].tolist(), net.delay[ids].tolist(), strict=True)
    arrivals = {(int(walk.stage[p]) + int(d), net.name_of(int(p))) for p, d in pairs if walk.reached[p]}
    early, late = min(arrivals), max(arrivals)
    raise PipelineError(
        f"neuron '{net.name_of(node)}' is reached from the inputs in {early[0]} steps (through"
        f" '{early[1]}') and in {late[0]} steps (through '{late[1]}'); balance the"
        " paths into it")


def _even_stages(net: Network, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(reached, stage)`` of a pipeline; raises :class:`PipelineError` if it is not one."""
    reached, stage, uneven = _stages(net, mask)
    if uneven:
        _check_even(net, mask)
    return reached, stage


def stage_array(net: Network, neurons: Iterable[str] | None = None) -> np.ndarray:
    """:func:`pipeline_stages` as one value per neuron (-1: no stage, or outside the cone)."""
    return _even_stages(net, _cone(net, neurons)[1])[1]


def pipeline_stages(net: Network, neurons: Iterable[str] | None = None) -> dict[str, int]:
    """The stage of every neuron that the inputs reach (of ``neurons`` and what feeds
    them, or of the whole network), inputs at stage 0, in network order.

    Raises :class:`PipelineError` naming a neuron reached along paths of
    different lengths, or a cycle. Memory (``decay != 1``) is not checked
    here; see :func:`is_memoryless`.
    """
    reached, stage = _even_stages(net, _cone(net, neurons)[1])
    idx = np.flatnonzero(reached)
    return dict(zip(net.names(idx), stage[idx].tolist(), strict=True))


def latency(net: Network, neurons: Sequence[str]) -> int:
    """The common stage of ``neurons`` (their latency from the inputs).

    Raises :class:`PipelineError` when the paths are not balanced, when the
    neurons sit on different stages, or when no input reaches them.
    """
    targets, mask = _cone(net, neurons)
    stage = _even_stages(net, mask)[1]
    names = list(dict.fromkeys(neurons))
    found = {name: (st if st >= 0 else None) for name, st in zip(names, stage[targets].tolist(), strict=True)}
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
    if not list(neurons):
        return 0
    targets, cone = _cone(net, neurons)
    reached, stage, _ = _stages(net, cone)
    is_target = np.zeros(len(net), dtype=bool)
    is_target[targets] = True
    pre, post = net.pre, net.post
    after = np.zeros(len(net), dtype=bool)
    after[post[is_target[pre] & cone[post]]] = True
    if np.any(forward_reachable(net, after, cone) & is_target):
        for t in targets.tolist():
            seed = np.zeros(len(net), dtype=bool)
            seed[t] = True
            feeds = forward_reachable(net, seed, cone) & is_target
            feeds[t] = False
            if feeds.any():
                raise PipelineError(
                    f"cannot balance '{net.name_of(t)}' with '{sorted(net.names(np.flatnonzero(feeds)))[0]}',"
                    " which it feeds; balance them separately")
    reached_targets = targets[reached[targets]]
    if not len(reached_targets):
        raise PipelineError(f"no input reaches '{net.name_of(int(targets[0]))}'; there is nothing to balance")
    common = int(stage[reached_targets].max())
    early_inputs = reached_targets[(stage[reached_targets] < common) & net.is_input[reached_targets]]
    if len(early_inputs):
        raise PipelineError(f"'{net.name_of(int(early_inputs[0]))}' is an input and cannot be delayed;"
                            " balance the neurons it feeds instead")
    stage[reached_targets] = common
    padded = np.flatnonzero(cone[post] & reached[post] & ~net.is_input[post] & reached[pre])
    if len(padded):
        net.set_synapses(padded, delay=stage[post[padded]] - stage[pre[padded]])
    return common
