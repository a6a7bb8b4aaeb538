"""Static facts about a network, computed from its structure and parameters alone.

- :func:`input_latency`: the earliest step each neuron can feel an input;
- :func:`drive_bounds`, :func:`potential_bounds`: bounds on one step's input and
  on the potential a neuron can reach (passes, emitters and the quantizer use them);
- :func:`silent_neurons`: neurons that provably never fire;
- :func:`scale_for`, :func:`integer_scales`: the positive factor that makes a
  neuron's values integers;
- structure on the synapse columns: :func:`in_synapses` (a cached CSR by target),
  :func:`gather` / :func:`ranges` (CSR rows of many neurons), :func:`stable_order`,
  :func:`follow` (pointer jumping up chains), :func:`adjacency_order`, and
  :func:`reverse_reachable` / :func:`forward_reachable` (breadth-first search in
  ``scipy.sparse.csgraph``).

Each works on the whole network at once, vectorized over the columns
(``*_all`` / ``*_array`` variants return one value per neuron; the others
keep the one-neuron signatures backends call). Sums of weights are the
exact, correctly rounded sums :func:`math.fsum` gives: taken with numpy when
every partial sum is provably exact (values on a common binary grid, which
covers integer and dyadic networks), and with ``math.fsum`` only for the
neurons where it is not. Passes and backends both read these; none of them
edits a network.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import scipy.sparse as sp
from scipy.sparse import csgraph

from spikec.ir.network import Network, Neuron

__all__ = [
    "input_latency", "input_latency_array", "drive_bounds", "drive_bounds_all", "potential_bounds",
    "potential_bounds_all", "silent_neurons", "silent_mask", "scale_for", "integer_scales", "scaled_values",
    "dyadic", "in_synapses", "ranges", "gather", "stable_order", "follow", "adjacency_order",
    "reverse_reachable", "forward_reachable", "pack_keys", "sort_packed",
]

_NO_LOW = 1 << 20  # "low exponent" of 0.0: above every finite float's


# -- structure ----------------------------------------------------------------------------

def in_synapses(net: Network) -> tuple[np.ndarray, np.ndarray]:
    """``(order, indptr)``: synapse indices grouped by postsynaptic neuron (grouped order
    within each group); neuron i's incoming synapses are ``order[indptr[i]:indptr[i + 1]]``
    (:meth:`Network.in_csr`, cached until the next edit)."""
    indptr, order = net.in_csr()
    return order, indptr


def ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """The concatenated integer ranges ``starts[k] : starts[k] + counts[k]``, in order."""
    total = int(counts.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    offsets = np.repeat(starts - np.cumsum(counts) + counts, counts)
    return offsets + np.arange(total, dtype=np.int64)


def gather(indptr: np.ndarray, nodes: np.ndarray) -> np.ndarray:
    """The concatenated CSR rows ``indptr[v]:indptr[v + 1]`` of ``nodes``, in that order."""
    starts = indptr[nodes]
    return ranges(starts, indptr[nodes + 1] - starts)


def pack_keys(*keys: np.ndarray) -> np.ndarray | None:
    """Integer ``keys`` (the first is the primary one) packed into one int64 key per row
    that sorts as the keys do, or None when their ranges do not fit in 62 bits."""
    packed = np.zeros(len(keys[0]), dtype=np.int64)
    room = 1
    for key in keys:
        low, high = int(key.min()), int(key.max())
        width = high - low + 1
        room *= width
        if room >= 2**62:
            return None
        packed *= width
        packed += key  # in place: no int64 copy of the key
        packed -= low
    return packed


def sort_packed(packed: np.ndarray) -> np.ndarray:
    """The stable sort order of ``packed``; no sort at all when it is already in order
    (synapses built from a sorted matrix, or regrouped before)."""
    if len(packed) < 2 or bool(np.all(packed[1:] >= packed[:-1])):
        return np.arange(len(packed), dtype=np.int64)
    return np.argsort(packed, kind="stable")


def stable_order(*keys: np.ndarray) -> np.ndarray:
    """The stable sort order by integer ``keys`` (the first is the primary one), as
    ``np.lexsort(keys[::-1])`` gives; one packed int64 sort when the keys' ranges fit."""
    if not len(keys[0]):
        return np.zeros(0, dtype=np.int64)
    packed = pack_keys(*keys)
    return np.lexsort(keys[::-1]) if packed is None else sort_packed(packed)


def adjacency_order(net: Network, ids: np.ndarray) -> np.ndarray:
    """Synapses ``ids`` in the order networkx iterated a source's synapses: by source, then by
    the source's first synapse to each target, then in insertion order (the order the
    passes written for the networkx IR met them in, which decides some ties)."""
    ids = np.asarray(ids, dtype=np.int64)
    pre, post = net.pre.astype(np.int64), net.post.astype(np.int64)
    rows = gather(net.csr(), np.unique(pre[ids]))
    keys, first = np.unique(pre[rows] * len(net) + post[rows], return_index=True)
    lead = rows[first][np.searchsorted(keys, pre[ids] * len(net) + post[ids])]
    return ids[np.lexsort((ids, lead))]


def _reachable(n: int, src: np.ndarray, dst: np.ndarray, seeds: np.ndarray) -> np.ndarray:
    """Nodes reachable from ``seeds`` (a mask) along edges ``src -> dst``, seeds included."""
    seed_idx = np.flatnonzero(seeds)
    if not len(seed_idx):
        return np.zeros(n, dtype=bool)
    # A virtual node n points at every seed: one breadth-first search in C.
    rows = np.concatenate([src, np.full(len(seed_idx), n)])
    cols = np.concatenate([dst, seed_idx])
    graph = sp.csr_matrix((np.ones(len(rows), dtype=np.int8), (rows, cols)), shape=(n + 1, n + 1))
    order = csgraph.breadth_first_order(graph, n, directed=True, return_predecessors=False)
    out = np.zeros(n + 1, dtype=bool)
    out[order] = True
    return out[:n]


def reverse_reachable(net: Network, seeds: np.ndarray) -> np.ndarray:
    """Mask of the neurons with a synapse path into a neuron of ``seeds`` (a mask), seeds included."""
    return _reachable(len(net), net.post.astype(np.int64), net.pre.astype(np.int64), seeds)


def forward_reachable(net: Network, seeds: np.ndarray, within: np.ndarray | None = None) -> np.ndarray:
    """Mask of the neurons a synapse path from ``seeds`` reaches (seeds included), using only
    neurons of ``within`` (a mask; default all)."""
    pre, post = net.pre.astype(np.int64), net.post.astype(np.int64)
    if within is not None:
        keep = within[pre] & within[post]
        pre, post, seeds = pre[keep], post[keep], seeds & within
    return _reachable(len(net), pre, post, seeds)


def input_latency_array(net: Network) -> np.ndarray:
    """Each neuron's earliest step to feel an input spike sent at step 0 (see
    :func:`input_latency`); ``-1`` where no input reaches it."""
    n = len(net)
    sources = net.input_indices()
    out = np.full(n, -1, dtype=np.int64)
    if not len(sources):
        return out
    pre, post, delay = net.pre.astype(np.int64), net.post.astype(np.int64), net.delay
    if len(delay) and int(delay.max()) >= 2**53 // max(n, 1):
        return _latency_exact(net, sources)  # path lengths past float64's integers
    order = stable_order(pre, post, delay)  # the shortest of parallel synapses first
    pair = pre * n + post
    first = np.ones(len(order), dtype=bool)
    first[1:] = pair[order][1:] != pair[order][:-1]
    keep = order[first]
    graph = sp.csr_matrix((delay[keep].astype(np.float64), (pre[keep], post[keep])), shape=(n, n))
    dist = csgraph.dijkstra(graph, directed=True, indices=sources, min_only=True)
    reached = np.isfinite(dist)
    out[reached] = dist[reached].astype(np.int64)
    return out


def _latency_exact(net: Network, sources: np.ndarray) -> np.ndarray:
    """Latencies with Python integers (delays so long that float64 path sums could round)."""
    import networkx as nx

    n = len(net)
    g = nx.DiGraph()
    g.add_nodes_from(range(n))
    for a, b, d in zip(net.pre.tolist(), net.post.tolist(), net.delay.tolist(), strict=True):
        if not g.has_edge(a, b) or g[a][b]["delay"] > d:
            g.add_edge(a, b, delay=d)
    out = np.full(n, -1, dtype=np.int64)
    for node, d in nx.multi_source_dijkstra_path_length(g, sources.tolist(), weight="delay").items():
        out[node] = min(d, np.iinfo(np.int64).max)
    return out


def input_latency(net: Network) -> dict[str, int]:
    """Earliest step at which each neuron can feel an input spike sent at step 0.

    It is the shortest path from any input neuron, summing synaptic delays
    (an input itself has latency 0). Neurons no input reaches are absent;
    the others are listed by latency, then network order. This is a lower
    bound: whether the neuron actually fires then depends on weights and
    thresholds.
    """
    lat = input_latency_array(net)
    idx = np.flatnonzero(lat >= 0)
    idx = idx[np.argsort(lat[idx], kind="stable")]
    return dict(zip(net.names(idx), lat[idx].tolist(), strict=True))


# -- exact sums ---------------------------------------------------------------------------

def dyadic(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(odd, low)`` with ``x == odd * 2.0**low`` exactly: ``odd`` an odd int64 (``|odd| <
    2**53``), ``low`` the exponent of the lowest set bit; ``(0, 2**20)`` for zeros."""
    mant, exp = np.frexp(np.asarray(x, dtype=np.float64))
    whole = (mant * 2.0**53).astype(np.int64)
    lowest = whole & -whole
    shift = np.frexp(lowest.astype(np.float64))[1].astype(np.int64) - 1
    zero = whole == 0
    shift[zero] = 0
    odd = whole >> shift
    low = exp.astype(np.int64) - 53 + shift
    low[zero] = _NO_LOW
    return odd, low


def _grid_exact(groups: np.ndarray, values: np.ndarray, n: int, base: np.ndarray | None) -> np.ndarray:
    """Per group: is every partial sum of ``base`` and the group's ``values``, in any order,
    exact in float64? True when all lie on the grid of the group's lowest set bit and their
    absolute sum is at most 2**53 grid steps (that sum of non-negative grid values is itself
    exact until it passes the bound, so the test is exact)."""
    whole = bool(np.all(values == np.floor(values)))
    whole = whole and (base is None or bool(np.all(base == np.floor(base))))
    mag = np.zeros(n) if base is None else np.abs(base)
    if len(values):
        mag = mag + np.bincount(groups, np.abs(values), minlength=n)
    if whole:  # integers: exact while the sum of magnitudes stays within 2**53
        return np.asarray(mag <= 2.0**53)
    low = np.full(n, _NO_LOW, dtype=np.int64) if base is None else dyadic(base)[1]
    if len(values):
        np.minimum.at(low, groups, dyadic(values)[1])
    with np.errstate(over="ignore"):
        limit = np.ldexp(1.0, np.clip(low + 53, -1100, 1100).astype(np.int32))
    return np.asarray(mag <= limit)


def _exact_sums(groups: np.ndarray, values: np.ndarray, n: int, base: np.ndarray) -> np.ndarray:
    """``math.fsum([base[i], *values of group i])`` for every group i, vectorized where the
    float sum is provably exact and with ``math.fsum`` for the other groups."""
    total = base + np.bincount(groups, values, minlength=n)
    exact = _grid_exact(groups, values, n, base)
    if not exact.all():
        bad = np.flatnonzero(~exact)
        order = np.argsort(groups, kind="stable")
        sorted_groups = groups[order]
        starts = np.searchsorted(sorted_groups, bad, side="left")
        ends = np.searchsorted(sorted_groups, bad, side="right")
        vals = values[order].tolist()
        base_list = base[bad].tolist()
        total[bad] = [math.fsum([b, *vals[s:e]]) for b, s, e in
                      zip(base_list, starts.tolist(), ends.tolist(), strict=True)]
    return total


# -- drive and potential bounds -----------------------------------------------------------

def drive_bounds_all(net: Network, can_fire: np.ndarray | None = None, idx: np.ndarray | None = None
                     ) -> tuple[np.ndarray, np.ndarray]:
    """``(max, min)`` per neuron (of ``idx``, default all) of bias plus synaptic input in one
    step: the bias plus the positive (negative) weights, counting only sources in the mask
    ``can_fire`` (default: every source); exact sums, as :func:`math.fsum` gives."""
    if idx is None:
        syn = np.arange(net.num_synapses)
        group = net.post.astype(np.int64)
        bias = np.array(net.bias, dtype=np.float64)
    else:
        idx = np.asarray(idx, dtype=np.int64)
        order, indptr = in_synapses(net)
        syn = order[gather(indptr, idx)]
        group = np.repeat(np.arange(len(idx)), indptr[idx + 1] - indptr[idx])
        bias = np.array(net.bias[idx], dtype=np.float64)
    w = net.weight[syn]
    positive = w > 0
    use = np.ones(len(w), dtype=bool) if can_fire is None else np.asarray(can_fire)[net.pre[syn]]
    up, down = use & positive, use & ~positive
    high = _exact_sums(group[up], w[up], len(bias), bias)
    low = _exact_sums(group[down], w[down], len(bias), bias)
    return high, low


def drive_bounds(net: Network, name: str, can_fire: dict[str, bool] | np.ndarray | None = None
                 ) -> tuple[float, float]:
    """``(max, min)`` of neuron ``name``'s bias plus synaptic input in one step, counting only
    sources in ``can_fire`` (a mask or ``{name: bool}``; default: every source)."""
    i = net.index(name)
    order, indptr = in_synapses(net)
    ids = order[indptr[i]:indptr[i + 1]]
    pre, w = net.pre[ids], net.weight[ids]
    if can_fire is not None:
        fires = (np.asarray(can_fire)[pre] if isinstance(can_fire, np.ndarray)
                 else np.array([can_fire[p] for p in net.names(pre)], dtype=bool))
        w = w[fires]
    bias = float(net.bias[i])
    return math.fsum([bias, *w[w > 0].tolist()]), math.fsum([bias, *w[~(w > 0)].tolist()])


def _stored_high(decay: np.ndarray, v0: np.ndarray, reset: np.ndarray, drive_max: np.ndarray) -> np.ndarray:
    """Upper bound on the potential kept between steps, from the drive alone."""
    kept = np.maximum(v0, reset)
    with np.errstate(divide="ignore", invalid="ignore"):
        leaky = np.maximum(kept, (1.0 - decay) * drive_max / decay)
    integrator = np.where(drive_max > 0, np.inf, kept)
    return np.where(decay == 0.0, integrator, leaky)


def potential_bounds_all(net: Network, drive_max: np.ndarray, drive_min: np.ndarray,
                         idx: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """:func:`potential_bounds` for neurons ``idx`` (default all), from their drive bounds
    (one value per neuron of ``idx``)."""
    sel = slice(None) if idx is None else idx
    decay, v0, reset = net.decay[sel], net.v0[sel], net.reset[sel]
    threshold, p = net.threshold[sel], net.p[sel]
    high = _stored_high(decay, v0, reset, drive_max)
    high = np.where(p == 1.0, np.minimum(high, np.maximum(np.maximum(v0, reset), np.maximum(threshold, 0.0))),
                    high)
    kept = np.minimum(v0, reset)
    with np.errstate(divide="ignore", invalid="ignore"):
        leaky = np.minimum(kept, (1.0 - decay) * drive_min / decay)
    low = np.where(decay == 0.0, np.where(drive_min < 0, -np.inf, kept), leaky)
    return low + drive_min, high + drive_max


def potential_bounds(n: Neuron, drive_max: float, drive_min: float) -> tuple[float, float]:
    """Bounds ``(low, high)`` on the potential after integration, over all steps.

    ``drive_max``/``drive_min`` bound the bias plus synaptic input of one step.
    A deterministic neuron that does not fire keeps less than
    ``max(threshold, 0)`` (it leaks towards 0 from below the threshold), so its
    kept potential is at most ``max(v0, reset, threshold, 0)``; a neuron with
    ``p < 1`` may lose its draw, so only the drive bounds it. Either bound may
    be infinite (an integrator with one-sided drive).
    """
    if n.decay == 0.0:
        stored_high = math.inf if drive_max > 0 else max(n.v0, n.reset)
        stored_low = -math.inf if drive_min < 0 else min(n.v0, n.reset)
    else:
        stored_high = max(n.v0, n.reset, (1.0 - n.decay) * drive_max / n.decay)
        stored_low = min(n.v0, n.reset, (1.0 - n.decay) * drive_min / n.decay)
    if n.p == 1.0:
        stored_high = min(stored_high, max(n.v0, n.reset, n.threshold, 0.0))
    return stored_low + drive_min, stored_high + drive_max


# -- silent neurons -----------------------------------------------------------------------

def _never_reaches(net: Network, idx: np.ndarray, drive_max: np.ndarray) -> np.ndarray:
    """Whether neurons ``idx`` provably stay below threshold with at most ``drive_max`` per step."""
    threshold = net.threshold[idx]
    stored = _stored_high(net.decay[idx], net.v0[idx], net.reset[idx], drive_max)
    high = stored + drive_max
    # Leave room for the rounding of the simulator's float sums.
    margin = 1e-9 * (np.abs(stored) + np.abs(drive_max) + np.abs(threshold)) + 1e-300
    return np.asarray((net.p[idx] == 0.0) | (high + margin < threshold))


def follow(parent: np.ndarray, step: np.ndarray | None = None, limit: int = np.iinfo(np.int64).max
           ) -> tuple[np.ndarray, np.ndarray, int]:
    """Pointer jumping up a forest: ``parent[v] == v`` marks a root. Returns each node's root
    (-1 on or below a cycle), the sum of ``step`` from the node up to its root (saturating at
    ``limit``; the roots' own steps are not counted) and the rounds taken (about log2 of the
    longest chain), in O(n log depth) array work."""
    n = len(parent)
    root = np.array(parent, dtype=np.int64)
    total = np.zeros(n, dtype=np.int64) if step is None else np.where(root == np.arange(n), 0, step)
    rounds = 0
    while True:
        active = np.flatnonzero(root[root] != root)
        if not len(active):
            break
        if rounds > math.log2(n + 1) + 1:  # only cycles are left
            root[active] = -1
            break
        up = root[active]
        past = total[active] > limit - total[up]
        with np.errstate(over="ignore"):
            total[active] = np.where(past, limit, total[active] + total[up])
        root[active] = root[up]
        rounds += 1
    # Jumping around a cycle can land a node on itself: only the given roots are roots.
    found = root >= 0
    found[found] = parent[root[found]] == root[found]
    root[~found] = -1
    return root, total, rounds


def silent_mask(net: Network) -> np.ndarray:
    """Mask of the non-input neurons that provably never fire (see :func:`silent_neurons`).

    The set of neurons that can fire grows from the inputs in waves: each wave
    adds the positive weights of the neurons that joined last to their
    targets' bounds (gathered from the CSR rows of those neurons only) and
    tests just those targets, so the total work is O(synapses) plus a few
    array calls per wave. A neuron with a single positive input (a relay, a
    chain link) joins exactly when its source does, if that input alone lets
    it fire: chains of them are resolved up front by pointer jumping and
    join with their head, so a chain of relays costs no waves. A bound is a
    float sum grown in wave order; where it is not provably exact it carries
    an error bound, and a neuron whose test the error could flip is decided
    by the exact sum.
    """
    n = len(net)
    is_input = np.array(net.is_input, dtype=bool)
    pre, post, w = net.pre, net.post, net.weight
    bias = np.array(net.bias, dtype=np.float64)
    positive = w > 0
    everyone = np.arange(n)
    alone = ~is_input & ~_never_reaches(net, everyone, bias)
    single = ~is_input & ~alone & (np.bincount(post[positive], minlength=n) == 1)
    link = np.flatnonzero(positive & single[post])  # each single neuron's one positive input
    v, u = post[link].astype(np.int64), pre[link].astype(np.int64)
    passes = ~_never_reaches(net, v, bias[v] + w[link])
    parent = everyone.copy()
    parent[v[passes]] = u[passes]
    head = ~single
    root = follow(parent)[0]
    alias = np.flatnonzero(single & (root >= 0))
    alias = alias[head[root[alias]]]
    alias = alias[np.argsort(root[alias], kind="stable")]
    alias_ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(root[alias], minlength=n), out=alias_ptr[1:])
    exact = _grid_exact(post[positive].astype(np.int64), w[positive], n, bias)
    all_exact = bool(exact.all())
    acc, mag, terms = bias.copy(), np.abs(bias), np.ones(n)
    joined = is_input.copy()  # heads that can fire
    member = is_input.copy()  # every neuron that can fire, found so far
    indptr = net.csr()
    frontier = np.flatnonzero(is_input)
    first = True
    while True:
        new = np.concatenate([frontier, alias[gather(alias_ptr, frontier)]])
        member[new] = True
        ids = gather(indptr, new)
        ids = ids[positive[ids]]
        ids = ids[head[post[ids]]]
        targets = post[ids].astype(np.int64)
        np.add.at(acc, targets, w[ids])
        if not all_exact:
            np.add.at(mag, targets, w[ids])
            np.add.at(terms, targets, 1.0)
        # The first wave tests every head (its bias alone may do); later ones the touched.
        candidates = np.flatnonzero(head & ~joined) if first else np.unique(targets)
        candidates = candidates[~joined[candidates]]
        first = False
        if not len(candidates):
            break
        joins = ~_never_reaches(net, candidates, acc[candidates])
        if not all_exact:
            loose = ~exact[candidates]
            joins[loose] = _decide(net, candidates[loose], acc, mag, terms, member)
        frontier = candidates[joins]
        if not len(frontier):
            break
        joined[frontier] = True
    return ~member


def _decide(net: Network, idx: np.ndarray, acc: np.ndarray, mag: np.ndarray, terms: np.ndarray,
            can: np.ndarray) -> np.ndarray:
    """Whether neurons ``idx`` (with inexact float bounds) can fire: decided on the error
    interval of the float bound, and by the exact sum where the interval straddles the
    threshold test (which is monotone in the drive)."""
    err = terms[idx] * 2.0**-50 * mag[idx]
    hi = np.nextafter(acc[idx] + err, np.inf)
    lo = np.nextafter(acc[idx] - err, -np.inf)
    out = ~_never_reaches(net, idx, lo)
    unsure = out != ~_never_reaches(net, idx, hi)
    if unsure.any():
        order, indptr = in_synapses(net)
        pre, w = net.pre, net.weight
        for k in np.flatnonzero(unsure).tolist():
            i = int(idx[k])
            ids = order[indptr[i]:indptr[i + 1]]
            ids = ids[can[pre[ids]] & (w[ids] > 0)]
            total = math.fsum([float(net.bias[i]), *w[ids].tolist()])
            out[k] = not bool(_never_reaches(net, np.array([i]), np.array([total]))[0])
    return out


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
    return set(net.names(np.flatnonzero(silent_mask(net))))


# -- integer scales -----------------------------------------------------------------------

def scale_for(values: list[float]) -> Fraction:
    """The positive factor that maps ``values`` onto the smallest integers with the same ratios
    (1 for an all-zero list)."""
    if all(v.is_integer() and abs(v) < 2**53 for v in values):
        g = 0
        for v in values:
            g = math.gcd(g, int(v))
        return Fraction(1, g) if g else Fraction(1)
    fr = [Fraction(v) for v in values if v != 0]
    if not fr:
        return Fraction(1)
    num = 0
    den = 1
    for f in fr:
        num = math.gcd(num, f.numerator)
        den = den * f.denominator // math.gcd(den, f.denominator)
    return Fraction(den, num)


def integer_scales(groups: np.ndarray, values: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`scale_for` of every group at once: ``(odd, low)`` with the scale of group i
    equal to ``2**-low[i] / odd[i]`` (``odd`` 0 for a group of zeros, whose scale is 1).

    Every float is ``m * 2**e`` with ``m`` odd, so the smallest integers with the values'
    ratios divide out the gcd of the odd parts and the lowest power of two; ``value *
    scale`` is then ``(m / odd) * 2**(e - low)``, exact in float64 (see :func:`dyadic`).
    """
    m, e = dyadic(values)
    odd = np.zeros(n, dtype=np.int64)
    np.gcd.at(odd, groups, np.abs(m))
    low = np.full(n, _NO_LOW, dtype=np.int64)
    np.minimum.at(low, groups, e)
    return odd, low


def scaled_values(values: np.ndarray, odd: np.ndarray, low: np.ndarray) -> np.ndarray:
    """``values * 2**-low / odd`` (one scale per value, from :func:`integer_scales`), exactly
    (rounded once, to ``inf`` past float64's range)."""
    m, e = dyadic(values)
    safe = np.where(odd == 0, 1, odd)
    q = m // safe
    shift = np.where(m == 0, 0, e - np.where(odd == 0, 0, low))
    with np.errstate(over="ignore"):
        return np.ldexp(q.astype(np.float64), np.clip(shift, -2000, 2000).astype(np.int32))
