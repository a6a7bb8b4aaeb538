"""The ``fanin-split`` pass: threshold gates with more inputs than a core accepts, split exactly.

A memoryless gate ``y`` (``decay = 1``) whose incoming synapses all have one
weight ``w`` fires at a step exactly when the number ``c`` of its inputs that
arrive then satisfies ``s + b + w + ... + w (c terms) >= threshold`` (``s`` the
potential it starts the step with: 0, its ``reset`` after a spike, or ``v0``
at step 0). That test is a step function of ``c``, so it only needs ``c``
truncated at a cut-off ``K`` (the largest count where the answer can still
change, computed with the simulator's own float sums).

The pass counts in *unary form*. Inputs are cut into groups of at most
``fan_in``; for each group ``g`` the neurons ``[c_g >= j]`` (``j = 1 ..
min(n_g, K)``: threshold ``j``, weight-1 synapses from the group, decay 1)
hold ``min(c_g, K)`` as a count of spikes. A next level packs whole codes
(at most ``fan_in`` units) into new codes ``[sum >= j]``, which hold
``min(sum of the counts, K)`` again, until at most ``fan_in`` units are
left; they feed ``y`` with weight ``w``. Every unit sees its inputs at one
step, so ``y`` sees ``min(c, K)`` where it saw ``c``: identical spikes.

Each level adds one step. The pass retimes the network so nothing else
changes: the delays into each group are shortened by the tree's depth
where they are long enough; where they are not, ``y`` and what it drives
(its forward cone) spike later by the least number of steps that keeps
every synapse's delay >= 1 (difference constraints solved by longest
paths), synapses entering the cone from outside are lengthened to match,
and the pass reports each observable neuron whose spikes moved (a
warning; refused under ``--exact``). A neuron can only be delayed if it
is quiet without input (its bias and ``v0`` neither fire it nor move its
potential): otherwise the pass refuses, naming it. A cycle through a split gate whose
delays cannot absorb the tree is refused naming the gate.

Cost: a gate with ``n`` inputs and cut-off ``K`` gets about ``K * n / fan_in``
unary neurons per level and ``n * min(fan_in, K)`` synapses at the first. The
truncation is what makes it shrink: when ``K`` is above about half the
fan-in, codes cannot be merged and the gate is refused (naming it, with its
counts). Gates with mixed weights, leaky or integrating gates (their
potential carries over steps) are refused as before.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spikec.errors import CompileError, LimitError
from spikec.ir.network import Network
from spikec.passes.manager import CompileContext, Pass, register_pass

__all__ = ["FaninSplit", "FaninSplitResult", "count_cutoff", "report_shift", "split_fanins", "unary_levels"]

#: The most tree levels a split may need (each level at least halves the units).
_MAX_LEVELS = 64


def count_cutoff(w: float, n: int, threshold: float, bias: float, starts: np.ndarray) -> int:
    """The least ``K`` such that, for every start potential in ``starts`` and every count
    ``c`` in ``0..n``, ``start + bias + (c copies of w) >= threshold`` equals the same test
    on ``min(c, K)``. The sums are the simulator's: running float64 additions."""
    sums = np.concatenate([[0.0], np.cumsum(np.full(n, w))])  # sums[c] = w + ... + w (c terms)
    k = 0
    for s in np.unique(starts).tolist():
        fires = (s + bias + sums) >= threshold
        change = np.flatnonzero(fires[1:] != fires[:-1])  # fires[c] != fires[c + 1]
        if len(change):
            k = max(k, int(change[-1]) + 1)
    return k


def unary_levels(n: int, cutoff: int, fan_in: int) -> list[list[tuple[int, int]]] | None:
    """The tree for ``n`` inputs: for each level, its codes as ``(members, units)`` (a
    first-level code's members are inputs, a later one's are codes of the level below, in
    order); the last level's units feed the gate. ``None`` when the codes cannot shrink to
    ``fan_in`` units. No levels when ``n <= fan_in``."""
    levels: list[list[tuple[int, int]]] = []
    sizes = [1] * n  # what feeds the current level: inputs (1 unit each), then codes
    while sum(sizes) > fan_in:
        if len(levels) >= _MAX_LEVELS:
            return None
        codes: list[tuple[int, int]] = []
        members, total = 0, 0
        for size in sizes:
            if members and total + size > fan_in:
                codes.append((members, min(total, cutoff)))
                members, total = 0, 0
            members, total = members + 1, total + size
        codes.append((members, min(total, cutoff)))
        new = [units for _, units in codes]
        if sum(new) >= sum(sizes):
            return None
        levels.append(codes)
        sizes = new
    return levels


def _start_potentials(net: Network, i: int) -> np.ndarray:
    return np.array([0.0, float(net.reset[i]), float(net.v0[i])])


def _plan(net: Network, gates: np.ndarray, fan_in: int) -> list[tuple[int, list[list[tuple[int, int]]]]]:
    """Each gate's tree, or a :class:`CompileError` naming the first gate that cannot split."""
    indptr, order = net.in_csr()
    plans = []
    for i in gates.tolist():
        name = net.name_of(i)
        syn = order[indptr[i]:indptr[i + 1]]
        weights = net.weight[syn]
        n = len(syn)
        problem = None
        if float(net.decay[i]) != 1.0:
            problem = (f"decay {float(net.decay[i]):g}: only memoryless gates (decay 1) split exactly,"
                       " the potential of others carries across steps")
        elif not np.all(weights == weights[0]):
            problem = (f"its weights differ ({float(weights.min()):g} to {float(weights.max()):g}); a split"
                       " into counts needs one weight")
        if problem is None:
            cutoff = count_cutoff(float(weights[0]), n, float(net.threshold[i]), float(net.bias[i]),
                                  _start_potentials(net, i))
            levels = unary_levels(n, max(cutoff, 1), fan_in)
            if levels is None:
                problem = (f"its firing depends on counts up to {cutoff:,}, more than half the fan-in, so"
                           " counts in unary form cannot be merged")
            else:
                plans.append((i, levels))
                continue
        raise LimitError(f"neuron '{name}': {n:,} incoming synapses exceed the fan-in of {fan_in:,} per"
                         f" neuron, and it cannot be split exactly: {problem}", net.location_of(i))
    return plans


def _retime(net: Network, depth: np.ndarray) -> np.ndarray:
    """The least shifts ``r >= 0`` (steps each neuron's spikes move later) with
    ``delay + r[post] - r[pre] - depth[post] * [gate input] >= 1`` on every synapse, where
    ``depth`` is each split gate's tree depth (0 elsewhere): longest paths, relaxed one
    frontier at a time. A cycle that cannot absorb a tree raises naming a neuron on it."""
    n = len(net)
    pre, post, delay = net.pre.astype(np.int64), net.post.astype(np.int64), net.delay
    need = 1 + depth[post] - delay  # r[post] >= r[pre] + need
    r = np.zeros(n, dtype=np.int64)
    np.maximum.at(r, post, np.maximum(need, 0))  # from r[pre] = 0
    bound = int(depth.sum())
    indptr = net.csr()
    frontier = np.flatnonzero(r > 0)
    while len(frontier):
        counts = indptr[frontier + 1] - indptr[frontier]
        first = indptr[frontier] - np.cumsum(counts) + counts
        edges = np.repeat(first, counts) + np.arange(int(counts.sum()))
        before = r.copy()
        np.maximum.at(r, post[edges], r[pre[edges]] + need[edges])
        if r.max(initial=0) > bound:
            k = int(np.argmax(r))
            raise CompileError(f"fanin-split: neuron '{net.name_of(k)}' is on a cycle through a split gate"
                               " whose delays cannot absorb the splitting tree's steps", net.location_of(k))
        frontier = np.flatnonzero(r != before)
    return r


@dataclass
class FaninSplitResult:
    """What :func:`split_fanins` did: each split gate's tree depth (levels) by name, and
    ``shift[i]``, the steps neuron ``i`` (an index from before the split: new neurons are
    appended) now spikes later."""

    levels: dict[str, int]
    shift: np.ndarray


def report_shift(net: Network, shift: np.ndarray, ctx: CompileContext | None, pass_name: str,
                 why: str) -> None:
    """Warn that observable neurons spike later (``shift`` steps, each), naming the first and
    counting the rest; under ``--exact`` refuse instead."""
    if ctx is None:
        return
    moved = np.flatnonzero((shift > 0) & ctx.observable_mask(net)[:len(shift)])
    if not len(moved):
        return
    first = int(moved[0])
    message = (f"spikes {int(shift[first])} step(s) later{why}"
               + (f" (with {len(moved) - 1:,} more observable neurons)" if len(moved) > 1 else ""))
    if ctx.exact:
        raise CompileError(f"{pass_name}: neuron '{net.name_of(first)}' {message}; --exact refuses a change"
                           " of latency", net.location_of(first))
    ctx.note(pass_name, f"neuron '{net.name_of(first)}'", message, net.location_of(first), severity="warning")


def _check_quiescent(net: Network, shift: np.ndarray) -> None:
    """A neuron that spikes later starts its dynamics that many steps early, with nothing
    arriving yet: exact only when those idle steps neither fire it nor move its potential
    (``v0 + bias < threshold`` and ``(1 - decay)(v0 + bias) == v0``)."""
    moved = np.flatnonzero(shift > 0)
    v = net.v0[moved] + net.bias[moved]
    busy = (v >= net.threshold[moved]) | ((1.0 - net.decay[moved]) * v != net.v0[moved])
    if busy.any():
        k = int(moved[np.flatnonzero(busy)[0]])
        raise CompileError(
            f"fanin-split: neuron '{net.name_of(k)}' would spike {int(shift[k])} step(s) later after fan-in"
            f" splitting, but it fires or changes without input (bias {float(net.bias[k]):g}, v0"
            f" {float(net.v0[k]):g}, threshold {float(net.threshold[k]):g}), so it cannot be delayed;"
            " lengthen the delays into the split gate instead", net.location_of(k))


def split_fanins(net: Network, fan_in: int, ctx: CompileContext | None = None,
                 pass_name: str = "fanin-split") -> FaninSplitResult:
    """Split every gate over ``fan_in`` (see the module docstring). Edits ``net`` in place;
    nothing is changed when a gate cannot split (the error names it)."""
    gates = np.flatnonzero(net.in_degree() > fan_in)
    if not len(gates):
        return FaninSplitResult({}, np.zeros(len(net), dtype=np.int64))
    plans = _plan(net, gates, fan_in)
    depth = np.zeros(len(net), dtype=np.int64)
    for i, levels in plans:
        depth[i] = len(levels)
    shift = _retime(net, depth)
    _check_quiescent(net, shift)
    pre, post = net.pre.astype(np.int64), net.post.astype(np.int64)
    if shift.any():
        report_shift(net, shift, ctx, pass_name, " after fan-in splitting")
    # new delays: every synapse absorbs the shifts; a split gate's inputs also the tree's depth
    new_delay = net.delay + shift[post] - shift[pre] - depth[post]
    taken = depth[post] > 0
    feeds = {i: np.flatnonzero(post == i) for i, _ in plans}
    sources = {i: (pre[s], new_delay[s], float(net.weight[s[0]])) for i, s in feeds.items()}
    net.set_synapses(np.flatnonzero(~taken), delay=new_delay[~taken])
    net.remove_synapses(taken)
    for i, levels in plans:
        _build_tree(net, i, levels, *sources[i], ctx)
    return FaninSplitResult({net.name_of(i): len(levels) for i, levels in plans}, shift)


def _build_tree(net: Network, gate: int, levels: list[list[tuple[int, int]]], sources: np.ndarray,
                delays: np.ndarray, w: float, ctx: CompileContext | None) -> None:
    """Add the unary codes of one gate, level by level, and connect the last level to it."""
    name = net.name_of(gate)
    feed = sources  # what feeds the level: input neurons (one unit each), then code units
    feed_codes = [np.array([k]) for k in range(len(sources))]  # units of each member of the level
    feed_delay = delays
    for depth, codes in enumerate(levels, start=1):
        total = sum(units for _, units in codes)
        # threshold j for the j-th unit of each code
        thresholds = np.concatenate([np.arange(1, units + 1) for _, units in codes]).astype(np.float64)
        made = net.add_neurons(f"{name}~count{depth}", total, threshold=thresholds, decay=1.0)
        if ctx is not None:
            ctx.added.update(net.names(made))
        pre_parts, post_parts, delay_parts = [], [], []
        member = 0
        unit = 0
        new_codes = []
        for members, units in codes:
            src = np.concatenate(feed_codes[member:member + members])
            dst = made[unit:unit + units]
            pre_parts.append(np.repeat(feed[src], units))
            post_parts.append(np.tile(dst, len(src)))
            delay_parts.append(np.repeat(feed_delay[src], units))
            new_codes.append(np.arange(unit, unit + units))
            member += members
            unit += units
        net.add_synapses(np.concatenate(pre_parts), np.concatenate(post_parts), 1.0,
                         np.concatenate(delay_parts))
        feed, feed_codes, feed_delay = made, new_codes, np.ones(total, dtype=np.int64)
    net.add_synapses(feed, np.full(len(feed), gate), w, 1)


@register_pass
@dataclass
class FaninSplit(Pass):
    """Split threshold gates over the target's fan-in into trees of unary partial counts."""

    name = "fanin-split"
    summary = "split memoryless gates over the fan-in into exact trees of unary partial counts (retimed)"
    default_order = 55
    fan_in: int = 0

    def run(self, net: Network, ctx: CompileContext) -> Network:
        """Split each gate with more incoming synapses than the fan-in."""
        fan_in = self.fan_in or ctx.target.fan_in
        if fan_in is None:
            return net
        if fan_in < 2:
            raise CompileError(f"fanin-split: a fan-in limit of {fan_in} leaves no room for partial counts")
        split = split_fanins(net, fan_in, ctx, self.name)
        for gate, levels in split.levels.items():
            ctx.note(self.name, f"neuron '{gate}'", f"fan-in split into {levels} level(s) of unary partial"
                     " counts")
        return net
