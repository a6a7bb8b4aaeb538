"""Legalization passes: make a network fit a target's neuron features, delay
range and fan-out/fan-in limits, exactly or not at all (number formats are
:mod:`spikec.passes.quantize`).

- ``check-features`` refuses neurons the target cannot run (stochastic,
  unless the target's ``[noise]`` runs them, :mod:`spikec.chip.noise`;
  leaky, with an initial potential, a reset other than 0 on a reset-to-zero
  chip) after the exact rewrites that remove the need: a stochastic neuron
  that never fires becomes deterministic, and a leak that never acts (every
  non-zero potential fires and resets to 0) is dropped. On a chip with a
  potential floor, decay-1 gates are left to ``floor-gates``
  (:mod:`spikec.chip.linear_leak`).
- ``delay-legalize`` turns each delay over the target's maximum into a chain
  of relay neurons shared by the synapses of one source: relay ``j`` fires
  exactly ``j * D`` steps after the source, and the synapse leaves the
  last relay with the remaining delay. A delay whose chain would not fit
  the target's neurons is refused before anything is built.
- ``fanout-legalize`` gives a neuron with too many outgoing synapses a tree of
  splitter neurons; each splitter level costs one step, taken from the
  moved synapses' delays, so a synapse of delay 1 cannot move (refused with
  the reason). Fan-in cannot be split exactly (a potential sums real
  weights; a spiking partial sum loses them), so it is checked and refused.

All three work on the columns: feature checks are masks; relay chains and
splitter trees are computed for every source at once (a splitter tree one
level per round) and added with a constant number of bulk calls.

Relays and splitters are deterministic neurons appended to the network, so
they never change the random streams of stochastic neurons.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spikec.chip.target import Target
from spikec.errors import CompileError, LimitError, fmt_count
from spikec.ir.analysis import adjacency_order, gather, ranges, silent_mask
from spikec.ir.network import Network
from spikec.passes.manager import CompileContext, Pass, register_pass
from spikec.passes.simplify import note_neurons

__all__ = [
    "add_relays",
    "legalize_delays",
    "split_fanout",
    "split_fanouts",
    "check_fan_in",
    "neuron_capacity",
    "CheckFeatures",
    "DelayLegalize",
    "FanoutLegalize",
]

_RELAY_TAG = "spikec.relay"
_NETWORK_LIMIT = 2**31 - 1  # neurons a network can hold (indices are int32)
_MAX_LEVELS = 1000  # splitter levels (one step of delay each) before giving up


def add_relays(net: Network, ctx: CompileContext | None, bases: list[str]) -> np.ndarray:
    """Add relay neurons (each fires exactly when its one weight-1 input arrives), named after
    ``bases`` (``base.2``, ``base.3``, ... when a name is taken); return their indices."""
    names: list[str] = []
    taken: set[str] = set()
    for base in bases:
        name = base
        k = 2
        while name in taken or name in net:
            name = f"{base}.{k}"
            k += 1
        taken.add(name)
        names.append(name)
    idx = net.add_named(names, threshold=1.0, tags=frozenset({_RELAY_TAG}))
    if ctx is not None:
        ctx.added.update(names)
    return idx


def neuron_capacity(target: Target) -> int | None:
    """Neurons ``target`` holds in all (``None``: unlimited)."""
    if target.max_cores is None or target.neurons_per_core is None:
        return None
    return target.max_cores * target.neurons_per_core


def _target_of(ctx: CompileContext, override: int | None) -> int | None:
    return override if override is not None and override > 0 else ctx.target.delay_max


def _synapse(net: Network, s: int) -> str:
    return f"synapse {net.name_of(int(net.pre[s]))} -> {net.name_of(int(net.post[s]))}"


def legalize_delays(net: Network, max_delay: int, ctx: CompileContext | None = None,
                    min_delay: int = 1, capacity: int | None = None, target_name: str | None = None) -> int:
    """Replace every delay over ``max_delay`` by a relay chain; return relays added.

    Raises :class:`LimitError` naming a synapse whose delay is below ``min_delay``, or whose
    chain (with all the others) would not fit ``capacity`` neurons (default: what a network
    holds), before changing anything.
    """
    delay = net.delay
    if min_delay > 1:
        short = np.flatnonzero(delay < min_delay)
        if len(short):
            s = int(adjacency_order(net, short)[0])
            raise LimitError(f"{_synapse(net, s)}: delay {int(delay[s])} is below the target's minimum of"
                             f" {min_delay}", net.synapse_location(s))
    long = np.flatnonzero(delay > max_delay)
    if not len(long):
        return 0
    long = adjacency_order(net, long)  # the order chains grow in, synapse by synapse
    hops = (delay[long] - 1) // max_delay
    src = net.pre[long].astype(np.int64)  # ascending: synapses are grouped by source
    first = np.ones(len(long), dtype=bool)
    first[1:] = src[1:] != src[:-1]
    sources = src[first]
    chain = np.maximum.reduceat(hops, np.flatnonzero(first))
    _check_room(net, long, hops, chain, max_delay, capacity, target_name)
    # Relays of each source in a row (sources in network order): relay j of source k is
    # offset[k] + j - 1, as adding them edge by edge would number them.
    offset = np.zeros(len(sources), dtype=np.int64)
    np.cumsum(chain[:-1], out=offset[1:])
    names = net.names(sources)
    bases = [f"{nm}~delay[{j}]" for nm, h in zip(names, chain.tolist(), strict=True) for j in range(1, h + 1)]
    relays = add_relays(net, ctx, bases)
    which = np.cumsum(first) - 1
    new_pre = relays[offset[which] + hops - 1]
    new_delay = delay[long] - hops * max_delay
    starts = np.repeat(offset, chain)
    step = np.arange(len(relays))
    # Edge by edge, relay j's link to relay j + 1 is added when the first synapse needing
    # j + 1 relays is moved: the synapses moved to relay j before that come first in its
    # row, the later ones after it (the order fan-out splitting meets them in).
    span = 2**32  # > any chain length (the room check caps them at 2**31)
    reach = np.maximum.accumulate(hops + which * span) - which * span
    early = reach == hops
    for part in (early, None, ~early):
        if part is None:
            links = np.flatnonzero(step > starts)
            net.add_synapses(relays[links - 1], relays[links], 1.0, max_delay)
            continue
        ids = np.flatnonzero(part)
        ids = ids[np.argsort(new_pre[ids], kind="stable")]  # relays' rows, appended in order
        net.copy_synapses(long[ids], pre=new_pre[ids], delay=new_delay[ids])
    net.remove_synapses(long)  # the appended rows all sort after the originals, which keep their indices
    net.add_synapses(sources, relays[offset], 1.0, max_delay)
    return len(relays)


def _check_room(net: Network, long: np.ndarray, hops: np.ndarray, chain: np.ndarray, max_delay: int,
                capacity: int | None, target_name: str | None) -> None:
    """Refuse, naming the longest synapse, relay chains that need more neurons than there is room."""
    room = (capacity if capacity is not None else _NETWORK_LIMIT) - len(net)
    k = int(np.argmax(net.delay[long]))  # the longest delay, which needs the longest chain
    s = int(long[k])
    total = sum(chain.tolist())
    if total <= room:
        return
    holder = f"target '{target_name}'" if target_name and capacity is not None else "a network"
    cap = capacity if capacity is not None else _NETWORK_LIMIT
    need = (f"needs a chain of {fmt_count(int(hops[k]))} relay neurons" if int(hops[k]) > room else
            f"and the other long delays need {fmt_count(total)} relay neurons in all")
    raise LimitError(
        f"{_synapse(net, s)}: delay {fmt_count(int(net.delay[s]))} {need} at a maximum delay of"
        f" {fmt_count(max_delay)} per synapse, but {holder} holds {fmt_count(cap)} neurons and the network"
        f" has {fmt_count(len(net))} already", net.synapse_location(s))


class _Rows:
    """Columns collected round by round, concatenated at the end."""

    def __init__(self, *names: str) -> None:
        self.parts: dict[str, list[np.ndarray]] = {k: [] for k in names}

    def add(self, **cols: np.ndarray) -> None:
        """Append one round's arrays, one per column."""
        for key, value in cols.items():
            self.parts[key].append(value)

    def done(self) -> dict[str, np.ndarray]:
        """Every column, its rounds concatenated."""
        return {k: np.concatenate(v) if v else np.zeros(0, dtype=np.int64) for k, v in self.parts.items()}


def _levels(net: Network, roots: np.ndarray, fan_out: int) -> dict[str, np.ndarray]:
    """The splitter trees of ``roots``, one level per round, exactly as distributing each
    root's synapses recursively would build them (see :func:`split_fanouts`): tree nodes
    (``parent``, ``chunk``, ``level``; the roots first), the synapses each node sends
    (``syn``, ``node``, ``seq``: its place in the node's row, ``delay``) and the nodes
    whose delay-1 synapses alone exceed the fan-out (``fail_*``)."""
    indptr = net.csr()
    # A root's synapses in networkx's adjacency order, which decides ties among equal delays.
    items = adjacency_order(net, gather(indptr, roots))
    node = np.repeat(np.arange(len(roots)), indptr[roots + 1] - indptr[roots])
    cur = net.delay[items].copy()
    nodes = _Rows("parent", "chunk", "level")
    nodes.add(parent=np.full(len(roots), -1), chunk=np.full(len(roots), -1), level=np.zeros(len(roots), int))
    sent = _Rows("syn", "node", "seq", "delay")
    fails = _Rows("fail_node", "fail_direct", "fail_more")
    n_nodes, level = len(roots), 0
    while len(items):
        if level >= _MAX_LEVELS:
            raise LimitError(f"fanout-legalize: a splitter tree would need more than {_MAX_LEVELS} levels")
        lo = int(node.min())
        local = node - lo
        count = np.bincount(local)
        pos = np.arange(len(items)) - (np.cumsum(count) - count)[local]
        leaf = (count <= fan_out)[local]  # fits: every synapse stays direct, in order
        sent.add(syn=items[leaf], node=node[leaf], seq=pos[leaf], delay=cur[leaf])
        inner = ~leaf
        items, node, cur, pos, local = items[inner], node[inner], cur[inner], pos[inner], local[inner]
        direct = cur == 1
        n_direct = np.bincount(local[direct], minlength=len(count))
        more = count - n_direct
        room = fan_out - n_direct
        failed = (count > fan_out) & (room < 1)
        fails.add(fail_node=np.flatnonzero(failed) + lo, fail_direct=n_direct[failed], fail_more=more[failed])
        # Keep as many movable synapses direct as leaves room for the splitters they need:
        # the fewest splitters c with ceil((more - (room - c)) / fan_out) <= c.
        need = np.maximum(1, -((room - more) // (fan_out - 1)))
        children = np.where(need > room, room, need)
        keep = np.where(need > room, 0, room - need)
        ok = ~failed[local]
        items, node, cur, pos, local, direct = items[ok], node[ok], cur[ok], pos[ok], local[ok], direct[ok]
        before = np.cumsum(n_direct) - n_direct
        sent.add(syn=items[direct], node=node[direct], delay=cur[direct],
                 seq=np.cumsum(direct)[direct] - 1 - before[local[direct]])
        mv = ~direct
        items, node, cur, pos, local = items[mv], node[mv], cur[mv], pos[mv], local[mv]
        order = np.lexsort((pos, -cur, local))  # by node, longest delay first, then item order
        items, node, cur, local = items[order], node[order], cur[order], local[order]
        mcount = np.bincount(local, minlength=len(count))
        rank = np.arange(len(items)) - (np.cumsum(mcount) - mcount)[local]
        split = mcount - keep  # movable synapses that go behind splitters
        kept = rank >= split[local]
        sent.add(syn=items[kept], node=node[kept], delay=cur[kept],
                 seq=n_direct[local[kept]] + rank[kept] - split[local[kept]])
        behind = ~kept
        items, node, local, rank = items[behind], node[behind], local[behind], rank[behind]
        cur = cur[behind] - 1
        chunk = rank // (-(-split // np.maximum(children, 1)))[local]
        # Children in (parent, chunk) order; their synapse lists keep the sorted order.
        width = int(chunk.max()) + 1 if len(chunk) else 1
        pairs, child = np.unique(local.astype(np.int64) * width + chunk, return_inverse=True)
        node = n_nodes + child
        nodes.add(parent=pairs // width + lo, chunk=pairs % width, level=np.full(len(pairs), level + 1))
        n_nodes += len(pairs)
        level += 1
    return {**nodes.done(), **sent.done(), **fails.done()}


def _paths(parent: np.ndarray, chunk: np.ndarray, level: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each tree node's root and its path of chunk indices from the root (-1 past its depth)."""
    depth = int(level.max()) if len(level) else 0
    path = np.full((len(parent), max(depth, 1)), -1, dtype=np.int64)
    cur = np.arange(len(parent))
    for _ in range(depth):
        up = parent[cur] >= 0
        path[up, level[cur[up]] - 1] = chunk[cur[up]]
        cur = np.where(up, parent[cur], cur)
    return cur, path


def split_fanouts(net: Network, roots: np.ndarray, fan_out: int, ctx: CompileContext | None = None
                  ) -> np.ndarray:
    """Give each neuron of ``roots`` (indices, ascending) at most ``fan_out`` outgoing synapses
    using splitter trees; return the splitters added per root. Raises :class:`LimitError`,
    before changing anything, when the delays leave no room.

    At each node of a tree (the root, then each splitter) with more synapses than
    ``fan_out``: the delay-1 synapses stay direct; the others, longest delay first, go
    behind as few splitters as leave room, the shortest staying direct while there is room
    for them, each splitter level taking one step off their delays. Splitters are numbered
    and named (``root~split[level.i]``) in the order a depth-first build would add them.
    """
    roots = np.asarray(roots, dtype=np.int64)
    if not len(roots):
        return np.zeros(0, dtype=np.int64)
    tree = _levels(net, roots, fan_out)
    parent, chunk, level = tree["parent"], tree["chunk"], tree["level"]
    root_of, path = _paths(parent, chunk, level)
    # Preorder: by root, then path (a prefix first); the first failing node is the one a
    # depth-first build meets first.
    preorder = np.lexsort((*[path[:, c] for c in range(path.shape[1] - 1, -1, -1)], root_of))
    if len(tree["fail_node"]):
        rank = np.empty(len(parent), dtype=np.int64)
        rank[preorder] = np.arange(len(parent))
        k = int(np.argmin(rank[tree["fail_node"]]))
        bad = int(tree["fail_node"][k])
        name = net.name_of(int(roots[root_of[bad]]))
        depth = int(level[bad])
        what = f"neuron '{name}'" if depth == 0 else f"neuron '{name}' (after {depth} splitter level(s))"
        raise LimitError(
            f"{what}: {fmt_count(int(tree['fail_direct'][k]))} outgoing synapses with delay 1 and"
            f" {fmt_count(int(tree['fail_more'][k]))} more exceed the fan-out of {fmt_count(fan_out)}; a"
            " splitter neuron costs one step of delay, so only synapses with delay >= 2 can move behind one",
            net.location_of(int(roots[root_of[bad]])))
    splitters = preorder[level[preorder] > 0]
    root_names = net.names(roots)
    where = zip(root_of[splitters].tolist(), level[splitters].tolist(), chunk[splitters].tolist(),
                strict=True)
    bases = [f"{root_names[r]}~split[{lv - 1}.{c}]" for r, lv, c in where]
    neuron = np.empty(len(parent), dtype=np.int64)
    neuron[: len(roots)] = roots
    old_degree = net.out_degree()[roots]
    neuron[splitters] = add_relays(net, ctx, bases)
    # Each node's synapses: its direct ones in order, then one to each of its splitters.
    out = np.lexsort((tree["seq"], neuron[tree["node"]]))
    syn = tree["syn"][out]
    net.copy_synapses(syn, pre=neuron[tree["node"][out]], delay=tree["delay"][out])
    indptr = net.csr()  # the originals come first in each root's (regrouped) row
    net.remove_synapses(ranges(indptr[roots], old_degree))
    kids = np.flatnonzero(level > 0)
    kids = kids[np.lexsort((chunk[kids], neuron[parent[kids]]))]
    net.add_synapses(neuron[parent[kids]], neuron[kids], 1.0, 1)
    return np.bincount(root_of[splitters], minlength=len(roots))


def split_fanout(net: Network, name: str, fan_out: int, ctx: CompileContext | None = None) -> int:
    """Give ``name`` at most ``fan_out`` outgoing synapses using a splitter tree; return
    splitters added. Raises :class:`LimitError` when the delays leave no room."""
    return int(split_fanouts(net, np.array([net.index(name)]), fan_out, ctx)[0])


def check_fan_in(net: Network, fan_in: int) -> None:
    """Raise :class:`LimitError` naming the first neuron with more than ``fan_in`` incoming synapses."""
    degree = net.in_degree()
    over = np.flatnonzero(degree > fan_in)
    if len(over):
        i = int(over[0])
        raise LimitError(
            f"neuron '{net.name_of(i)}': {fmt_count(int(degree[i]))} incoming synapses exceed the fan-in of"
            f" {fmt_count(fan_in)} per neuron; spikec cannot split a neuron's input sum exactly"
            " (merge parallel synapses or restructure the circuit)", net.location_of(i))


def _leak_never_acts(net: Network) -> np.ndarray:
    """Mask: the potential is 0 at every step's end unless the neuron fires and resets to 0:
    no bias, v0 or reset, and every incoming weight reaches the threshold alone (and any sum
    of them does too, as all are positive)."""
    below = net.weight < net.threshold[net.post]
    has_below = np.bincount(net.post[below], minlength=len(net)) > 0
    return np.asarray((net.bias == 0.0) & (net.v0 == 0.0) & (net.reset == 0.0) & (net.p == 1.0)
                      & (net.threshold > 0) & ~has_below)


@register_pass
@dataclass
class CheckFeatures(Pass):
    """Refuse neurons the target cannot run, after the exact rewrites that avoid it."""

    name = "check-features"
    summary = "refuse stochastic / leaky / v0 neurons the target lacks (after exact rewrites)"
    default_order = 50

    def run(self, net: Network, ctx: CompileContext) -> Network:
        """Rewrite what can be rewritten exactly; raise for the rest."""
        target = ctx.target
        neuron = ~net.is_input
        stochastic = neuron & (net.p < 1.0)
        if not target.stochastic and stochastic.any():
            firing = stochastic & ~silent_mask(net)
            if firing.any() and target.noise_kind is not None:
                # Neurons the target's noise runs ('noise-map' mapped them) are accepted.
                from spikec.chip.noise import unmappable

                bad = unmappable(net, target, np.flatnonzero(firing))
                if bad is not None:
                    i, why = bad
                    raise CompileError(f"neuron '{net.name_of(i)}': target '{target.name}' cannot run this"
                                       f" stochastic neuron (p = {float(net.p[i]):g}) on its noise: {why}",
                                       net.location_of(i))
                firing = np.zeros_like(firing)
                stochastic = stochastic & silent_mask(net)
            if firing.any():
                i = int(np.flatnonzero(firing)[0])
                raise CompileError(
                    f"neuron '{net.name_of(i)}': target '{target.name}' has no stochastic neurons"
                    f" (p = {float(net.p[i]):g}); spikec's Bernoulli firing cannot be mapped exactly",
                    net.location_of(i))
            # Never over threshold, so never draws: a silent deterministic neuron.
            net.remove_synapses(stochastic[net.pre] | stochastic[net.post])
            idx = np.flatnonzero(stochastic)
            net.set_params(idx, p=1.0, threshold=1.0, bias=0.0, v0=0.0, reset=0.0, decay=0.0)
            note_neurons(ctx, self.name, net, idx, ["never fires; made deterministic"] * len(idx))
        leaky = neuron & (net.decay != 0.0) if not target.leak else np.zeros(len(net), dtype=bool)
        quiet = leaky & _leak_never_acts(net)
        leak_bad = leaky & ~quiet & ~((net.decay == 1.0) & target.floor)
        reset_bad = neuron & (net.reset != 0.0) if target.reset_mode == "zero" else np.zeros_like(leaky)
        v0_bad = neuron & (net.v0 != 0.0) if not target.initial_potential else np.zeros_like(leaky)
        bad = leak_bad | reset_bad | v0_bad
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            self._refuse(net, target, i, bool(leak_bad[i]), bool(reset_bad[i]))
        idx = np.flatnonzero(quiet)
        if len(idx):
            net.set_params(idx, decay=0.0)
            note_neurons(ctx, self.name, net, idx, ["its leak never acts; decay set to 0"] * len(idx))
        return net

    @staticmethod
    def _refuse(net: Network, target: Target, i: int, leak: bool, reset: bool) -> None:
        name, loc = net.name_of(i), net.location_of(i)
        if leak:
            maps = ("decay = 0 and decay = 1 (a gate, on the potential floor) map" if target.floor
                    else "decay = 0 maps")
            raise CompileError(
                f"neuron '{name}': target '{target.name}' has no multiplicative leak"
                f" (decay = {float(net.decay[i]):g}); only {maps} exactly", loc)
        if reset:
            raise CompileError(f"neuron '{name}': target '{target.name}' resets potentials to 0 only"
                               f" (reset = {float(net.reset[i]):g})", loc)
        raise CompileError(f"neuron '{name}': target '{target.name}' cannot set an initial potential"
                           f" (v0 = {float(net.v0[i]):g})", loc)


@register_pass
@dataclass
class DelayLegalize(Pass):
    """Turn delays over the target's maximum into relay chains."""

    name = "delay-legalize"
    summary = "replace delays longer than the target's maximum by chains of relay neurons"
    default_order = 60
    max_delay: int = 0

    def run(self, net: Network, ctx: CompileContext) -> Network:
        """Legalize every synapse's delay."""
        limit = _target_of(ctx, self.max_delay)
        if limit is None:
            return net
        added = legalize_delays(net, limit, ctx, ctx.target.delay_min, neuron_capacity(ctx.target),
                                ctx.target.name)
        if added:
            ctx.note(self.name, "network", f"added {added} relay neuron(s) for delays over {limit}")
        return net


@register_pass
@dataclass
class FanoutLegalize(Pass):
    """Split fan-out with splitter trees; check fan-in."""

    name = "fanout-legalize"
    summary = "give neurons over the fan-out limit splitter trees; refuse fan-in over the limit"
    default_order = 70
    fan_out: int = 0
    fan_in: int = 0

    def run(self, net: Network, ctx: CompileContext) -> Network:
        """Legalize fan-out, then check fan-in."""
        fan_out = self.fan_out or ctx.target.fan_out
        fan_in = self.fan_in or ctx.target.fan_in
        if fan_out is not None:
            if fan_out < 2:
                raise CompileError(
                    f"fanout-legalize: a fan-out limit of {fan_out} leaves no room for splitters")
            over = np.flatnonzero(net.out_degree() > fan_out)
            if len(over):
                added = split_fanouts(net, over, fan_out, ctx)
                note_neurons(ctx, self.name, net, over,
                             [f"added {a} splitter neuron(s)" for a in added.tolist()])
        if fan_in is not None:
            check_fan_in(net, fan_in)
        return net
