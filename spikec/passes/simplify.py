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

All four work on the columns: masks, one CSR gather per wave of the
never-fires proof, a breadth-first search in scipy for dead neurons,
pointer jumping for relay chains and one sort for parallel synapses.

Removing a stochastic neuron changes which uniform each remaining
stochastic neuron reads (the draws go in network order), so on stochastic
networks ``dead-neurons`` keeps the spikes identical in distribution, not
bit for bit; the other passes never remove or reorder stochastic neurons.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from spikec.errors import CompileError, NetworkError
from spikec.ir.analysis import (
    _grid_exact,
    follow,
    gather,
    pack_keys,
    reverse_reachable,
    silent_mask,
    sort_packed,
)
from spikec.ir.network import Network
from spikec.ir.payloads import MAX_DELAY
from spikec.passes.manager import CompileContext, Pass, register_pass

__all__ = [
    "dead_neurons",
    "dead_mask",
    "note_neurons",
    "pure_relays",
    "pure_relay_mask",
    "fold_relays",
    "merge_parallel_synapses",
    "NeverFires",
    "DeadNeurons",
    "RelayFold",
    "MergeSynapses",
]


def note_neurons(ctx: CompileContext, pass_name: str, net: Network, idx: np.ndarray,
                 messages: Sequence[str]) -> None:
    """Record one note per neuron of ``idx`` (``messages[k]`` about ``idx[k]``), each with
    the neuron's source location."""
    for name, i, message in zip(net.names(idx), idx.tolist(), messages, strict=True):
        ctx.note(pass_name, f"neuron '{name}'", message, loc=net.location_of(i))


def _mask_of(net: Network, names: Collection[str]) -> np.ndarray:
    mask = np.zeros(len(net), dtype=bool)
    listed = list(names)
    try:
        mask[net.resolve(listed)] = True
    except NetworkError:  # names of neurons a pass removed or never had: not observable here
        known = [x for x in listed if x in net]
        mask[net.resolve(known)] = True
    return mask


def dead_mask(net: Network, observable: np.ndarray) -> np.ndarray:
    """Mask of the neurons from which no synapse path reaches ``observable`` (a mask)."""
    return ~reverse_reachable(net, observable)


def dead_neurons(net: Network, observable: Collection[str]) -> list[str]:
    """Neurons (in network order) from which no synapse path reaches ``observable``."""
    return net.names(np.flatnonzero(dead_mask(net, _mask_of(net, observable))))


def pure_relay_mask(net: Network, observable: np.ndarray) -> np.ndarray:
    """Mask of the unobservable neurons that fire exactly one delay after their single source.

    Conditions: not an input, ``p = 1``, exactly one incoming synapse, from
    another neuron, with weight ``w >= threshold > 0``, and ``bias = v0 =
    reset = 0``; so the potential is 0 except on the step the source's spike
    arrives, when it is ``w`` and the neuron fires and resets to 0.
    """
    candidate = (~net.is_input & ~observable & (net.p == 1.0) & (net.bias == 0.0) & (net.v0 == 0.0)
                 & (net.reset == 0.0) & (net.threshold > 0.0) & (net.in_degree() == 1))
    syn = np.flatnonzero(candidate[net.post])  # each candidate's one incoming synapse
    idx = net.post[syn]
    ok = (net.pre[syn] != idx) & (net.weight[syn] >= net.threshold[idx])
    out = np.zeros(len(net), dtype=bool)
    out[idx[ok]] = True
    return out


def pure_relays(net: Network, observable: Collection[str]) -> list[str]:
    """Names (in network order) of the neurons :func:`pure_relay_mask` finds."""
    return net.names(np.flatnonzero(pure_relay_mask(net, _mask_of(net, observable))))


def _attach(parent: np.ndarray, index: np.ndarray, levels: int) -> np.ndarray:
    """For each relay, its nearest ancestor relay with a larger network index (-1: none), by
    binary lifting: the relay whose folded list it joins in the one-at-a-time fold."""
    big = np.iinfo(np.int64).max
    anc = [parent]
    top = [np.where(parent >= 0, index[np.maximum(parent, 0)], big)]
    for _ in range(levels):
        a, m = anc[-1], top[-1]
        ok = a >= 0
        anc.append(np.where(ok, a[np.maximum(a, 0)], -1))
        top.append(np.where(ok, np.maximum(m, m[np.maximum(a, 0)]), big))
    cur = np.arange(len(parent))
    for a, m in zip(reversed(anc), reversed(top), strict=True):
        skip = (a[cur] >= 0) & (m[cur] < index)
        cur = np.where(skip, a[cur], cur)
    return parent[cur]


def _preorder(parent: np.ndarray, group: np.ndarray, index: np.ndarray) -> np.ndarray:
    """Preorder rank of each node of a forest (``parent`` -1 at the top), children in order of
    ``index``, the top nodes of each ``group`` forming one tree; by Euler-tour successors and
    list ranking (pointer jumping)."""
    r = len(parent)
    key = np.where(parent >= 0, parent, r + group)
    order = np.lexsort((index, key))
    same = np.zeros(r, dtype=bool)
    same[:-1] = key[order][1:] == key[order][:-1]
    nxt_sib = np.full(r, -1)
    nxt_sib[order[:-1][same[:-1]]] = order[1:][same[:-1]]
    first_child = np.full(r + 1, -1)
    starts = np.ones(r, dtype=bool)
    starts[1:] = ~same[:-1]
    heads = order[starts]
    inner = key[heads] < r
    first_child[key[heads][inner]] = heads[inner]
    # The nearest ancestor-or-self with a next sibling (r: none), then the tour's successor.
    ptr = np.append(np.where(nxt_sib >= 0, np.arange(r), np.where(parent >= 0, parent, r)), r)
    while True:
        new = ptr[ptr]
        if np.array_equal(new, ptr):
            break
        ptr = new
    escape = np.where(ptr[:r] < r, nxt_sib[np.minimum(ptr[:r], r - 1)], -1)
    succ = np.where(first_child[:r] >= 0, first_child[:r], escape)
    rank = np.ones(r, dtype=np.int64)
    while True:
        act = np.flatnonzero(succ >= 0)
        if not len(act):
            break
        rank[act] += rank[succ[act]]
        succ[act] = succ[succ[act]]
    return -rank  # the first node has the longest way to the end


def fold_relays(net: Network, relays: Sequence[str] | np.ndarray) -> int:
    """Replace each relay ``pre -(d)-> r -(w2, d2)-> q`` by ``pre -(w2, d + d2)-> q``; return how
    many were folded. Chains of relays fold into one longer delay; relays on a cycle of relays
    (which never fire) are left alone.

    The new synapses come in the order folding the relays one at a time, in network order,
    would append them (what keeps same-step float sums bit-identical): a relay's synapses
    join the list of the nearest relay above it with a larger index, which moves on when that
    one folds; that is a preorder walk of those "joins" links.
    """
    mask = relays if isinstance(relays, np.ndarray) and relays.dtype == bool else None
    if mask is None:
        mask = np.zeros(len(net), dtype=bool)
        named = list(relays) if not isinstance(relays, np.ndarray) else relays
        mask[net.resolve(named, "fold_relays")] = True
    idx = np.flatnonzero(mask)
    if not len(idx):
        return 0
    if np.any(net.in_degree()[idx] != 1):
        raise ValueError("fold_relays: every relay needs exactly one incoming synapse")
    pos = np.full(len(net), -1, dtype=np.int64)
    pos[idx] = np.arange(len(idx))
    in_syn = np.flatnonzero(mask[net.post])
    in_syn = in_syn[np.argsort(pos[net.post[in_syn]])]
    source = net.pre[in_syn].astype(np.int64)
    up = np.arange(len(net))
    up[idx] = source
    step = np.zeros(len(net), dtype=np.int64)
    step[idx] = net.delay[in_syn]
    top, dist, rounds = follow(up, step, MAX_DELAY)  # saturated sums overflow below
    root, dist = top[idx], dist[idx]
    if np.any(root < 0):  # relays fed by a cycle of relays: keep them as they are
        keep = idx[root >= 0]
        return fold_relays(net, _mask_from(len(net), keep)) if len(keep) else 0
    parent = pos[source]
    joins = _attach(parent, idx, rounds + 1)
    rank = _preorder(joins, root, idx)
    out = gather(net.csr(), idx)
    post = net.post[out]
    out = out[~mask[post]]
    owner = pos[net.pre[out]]
    emit = out[np.lexsort((out, rank[owner]))]
    owner = pos[net.pre[emit]]
    extra = net.delay[emit]
    past = np.flatnonzero(extra > MAX_DELAY - dist[owner])
    if len(past):
        s = int(emit[past[0]])
        raise CompileError(f"relay-fold: synapse {net.name_of(int(root[owner[past[0]]]))} ->"
                           f" {net.name_of(int(net.post[s]))}: the folded delay would pass 2**63 - 1 steps",
                           net.synapse_location(s))
    net.copy_synapses(emit, pre=root[owner], delay=dist[owner] + extra)
    net.remove_neurons(mask)
    return len(idx)


def _mask_from(n: int, idx: np.ndarray) -> np.ndarray:
    out = np.zeros(n, dtype=bool)
    out[idx] = True
    return out


#: Synapses handled at once by merge-synapses: its temporaries are a few tens of bytes a
#: synapse, so it works through the columns in chunks of whole source neurons.
_MERGE_CHUNK = 1 << 22


def merge_parallel_synapses(net: Network, drop_zero: bool = True) -> tuple[int, int]:
    """Merge synapses with the same (pre, post, delay) whose weights sum exactly.

    Returns ``(merged groups, dropped zero-weight synapses)``. A group whose
    float sum would round is left alone (adding the parts one by one and
    adding their sum could then differ in the last bit). The merged synapse
    takes the place of the group's first one. Sums on a common binary grid
    (integer and dyadic weights) are exact by construction and merged in
    bulk; only the other groups are checked one by one with fractions. A
    group never spans two source neurons, so the synapses (kept grouped by
    source) are worked through in chunks of whole sources.
    """
    if not net.num_synapses:
        return 0, 0
    indptr = net.csr()
    weight = net.weight
    drop = np.zeros(net.num_synapses, dtype=bool)
    firsts: list[np.ndarray] = []
    totals: list[np.ndarray] = []
    start = 0
    while start < len(weight):
        stop = int(indptr[np.searchsorted(indptr, start + _MERGE_CHUNK, side="right") - 1])
        stop = max(stop, int(indptr[np.searchsorted(indptr, start, side="right")]))  # at least one source
        first, total = _merge_chunk(net, start, stop, drop)
        firsts.append(first)
        totals.append(total)
        start = stop
    first = np.concatenate(firsts)
    total = np.concatenate(totals)
    merged = len(first)
    dropped = 0
    if drop_zero:
        zero = weight == 0.0
        zero[first] = total == 0.0
        zero &= ~drop
        dropped = int(zero.sum())
        drop |= zero
        del zero
    del weight  # a view of the column: let remove_synapses free it
    if merged:
        net.set_synapses(first, weight=total)
    if drop.any():
        net.remove_synapses(drop)
    return merged, dropped


def _merge_chunk(net: Network, start: int, stop: int, drop: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Merge the parallel synapses among synapses ``start:stop`` (whole sources): mark the
    merged-away ones in ``drop``; return the groups' first synapses and their sums."""
    pre, post, delay = net.pre[start:stop], net.post[start:stop], net.delay[start:stop]
    weight = net.weight[start:stop]
    n = stop - start
    key_change = np.ones(n, dtype=bool)
    packed = pack_keys(pre, post, delay)
    if packed is not None:
        order = sort_packed(packed)  # stable: a group keeps its insertion order
        packed = packed[order]
        np.not_equal(packed[1:], packed[:-1], out=key_change[1:])
        del packed
    else:
        order = np.lexsort((delay, post, pre))
        key_change[1:] = ((pre[order][1:] != pre[order][:-1]) | (post[order][1:] != post[order][:-1])
                          | (delay[order][1:] != delay[order][:-1]))
    group = np.cumsum(key_change)
    group -= 1
    n_groups = int(group[-1]) + 1
    size = np.bincount(group, minlength=n_groups)
    w = weight[order]
    total = np.bincount(group, w, minlength=n_groups)
    exact = _grid_exact(group, w, n_groups, None)
    unsure = np.flatnonzero(~exact & (size > 1))
    if len(unsure):
        starts = np.flatnonzero(key_change)
        values = w.tolist()
        for g in unsure.tolist():
            part = values[starts[g]:starts[g] + size[g]]
            total[g] = math.fsum(part)
            exact[g] = Fraction(total[g]) == sum((Fraction(x) for x in part), Fraction(0))
    merge = exact & (size > 1)
    drop[start + order[merge[group] & ~key_change]] = True
    return start + order[key_change][merge], total[merge]


@register_pass
@dataclass
class NeverFires(Pass):
    """Prove neurons silent by bounding their potential; drop their outgoing synapses."""

    name = "never-fires"
    summary = "remove the outgoing synapses of neurons whose potential provably stays below threshold"
    default_order = 10

    def run(self, net: Network, ctx: CompileContext) -> Network:
        """Remove outgoing synapses of every provably silent neuron."""
        silent = silent_mask(net)
        doomed = silent[net.pre]
        if doomed.any():
            counts = np.bincount(net.pre[doomed], minlength=len(net))
            noted = np.flatnonzero(counts)
            note_neurons(ctx, self.name, net, noted,
                         [f"can never reach its threshold; removed {c} outgoing synapse(s)"
                          for c in counts[noted].tolist()])
            net.remove_synapses(doomed)
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
        dead = dead_mask(net, ctx.observable_mask(net))
        count = int(dead.sum())
        if count:
            net.remove_neurons(dead)
            ctx.note(self.name, "network", f"removed {count} neuron(s) that reach no probe")
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
        count = fold_relays(net, pure_relay_mask(net, ctx.observable_mask(net)))
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
