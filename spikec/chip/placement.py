"""Partitioning and placement onto cores, per-core limits, routing tables,
and the one-destination legalization of TrueNorth-like targets.

Placement partitions the neurons into as few cores as the per-core limits
allow, minimizing the synapses that cross cores (each crossing pair is a
spike message), with :mod:`spikec.chip.partition` (METIS, or a networkx
fallback). Each neuron weighs what it costs the limit it presses hardest on
(a neuron, or its incoming synapses against the core's synapse memory), so
the balanced parts METIS makes respect both. When a partition still breaks
a per-core limit (METIS's 1% imbalance, or axons, which it does not see) the
placer retries with more cores, up to the target's total.

``split-destinations`` makes every neuron send to at most one (core, delay)
destination, as TrueNorth's neurons (one axon each) need: a deterministic
neuron with more destinations gets exact replicas on its own core (same
parameters, same inputs, so the same spikes; sources already reach that
core, so they gain no destination), one per extra destination.

Everything here works on the synapse columns and a placement's core array;
name-keyed results (:func:`routing_tables`, ...) are made from arrays at the end.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any, Protocol

import numpy as np

from spikec.chip.partition import (
    METHODS,
    distinct,
    partition_csr,
    partition_parts,
    renumber,
    symmetric_csr,
)
from spikec.chip.target import Target
from spikec.errors import CompileError, LimitError, fmt_count
from spikec.ir.network import Network

__all__ = [
    "METHODS",
    "partition_parts",
    "place_network",
    "core_limit_violation",
    "check_core_limits",
    "assign_axon_types",
    "routing_tables",
    "route_arrays",
    "edge_order",
    "distinct",
    "destinations",
    "split_destinations",
    "Placement",
]

_RETRIES = 12
_REPLICA_TAG = "spikec.replica"


class _Recorder(Protocol):
    """Where :func:`split_destinations` records the neurons it adds (a compile context)."""

    added: set[str]


class Placement:
    """Which core holds each neuron, and the number of cores used.

    Held as an array: :meth:`core_array` gives the core of each neuron of a
    network, in network order. :func:`place_network` builds one for a network
    (``Placement(cores, num_cores, net)``, which also names the neurons for
    :attr:`core`); ``Placement({name: core, ...}, num_cores)`` builds a small
    one by hand, resolved against the network at each use. Core ``c`` is core
    ``c % cores_per_chip`` of chip ``c // cores_per_chip``.
    """

    def __init__(self, core: Mapping[str, int] | np.ndarray | Sequence[int], num_cores: int,
                 net: Network | None = None) -> None:
        self._names: list[str] | None
        if isinstance(core, Mapping):
            self._names = list(core)
            self._cores = np.fromiter((int(c) for c in core.values()), dtype=np.int64, count=len(core))
        else:
            self._names = None
            self._cores = np.array(core, dtype=np.int64).reshape(-1)
        self._net = net
        self.num_cores = int(num_cores)

    def rebind(self, net: Network, cores: np.ndarray) -> None:
        """Hold ``cores``, one per neuron of ``net`` (after a pass added neurons), named by ``net``."""
        self._names = None
        self._cores = np.array(cores, dtype=np.int64).reshape(-1)
        self._net = net

    def core_array(self, net: Network) -> np.ndarray:
        """The core of each neuron of ``net`` (int64, network order, read-only). Raises
        :class:`CompileError` unless the placement places exactly ``net``'s neurons."""
        if self._names is None:
            k = len(self._cores)
            if k < len(net):
                raise CompileError(f"neuron '{net.name_of(k)}' is not placed on any core")
            if k > len(net):
                raise CompileError(f"placement places {fmt_count(k)} neurons; the network has"
                                   f" {fmt_count(len(net))}")
            out = self._cores.view()
        else:
            known = np.fromiter((name in net for name in self._names), dtype=bool, count=len(self._names))
            out = np.zeros(len(net), dtype=np.int64)
            placed = np.zeros(len(net), dtype=bool)
            idx = net.resolve([n for n, ok in zip(self._names, known.tolist(), strict=True) if ok])
            out[idx] = self._cores[known]
            placed[idx] = True
            missing = np.flatnonzero(~placed)
            if len(missing):
                raise CompileError(f"neuron '{net.name_of(int(missing[0]))}' is not placed on any core")
            if not known.all():
                extra = sorted(n for n, ok in zip(self._names, known.tolist(), strict=True) if not ok)[0]
                raise CompileError(f"placement names neuron '{extra}', which is not in the network")
        out.flags.writeable = False
        return out

    def check(self, net: Network) -> None:
        """Raise :class:`CompileError` unless every neuron of ``net`` sits on a core in
        ``[0, num_cores)`` and no other neuron is placed."""
        cores = self.core_array(net)
        bad = np.flatnonzero((cores < 0) | (cores >= self.num_cores))
        if len(bad):
            i = int(bad[0])
            raise CompileError(f"neuron '{net.name_of(i)}' is placed on core {int(cores[i])}, outside"
                               f" 0..{self.num_cores - 1}")

    def _listing(self) -> tuple[list[str], np.ndarray]:
        """The placed neurons' names and cores, in the placement's order."""
        if self._names is not None:
            return self._names, self._cores
        if self._net is None:
            raise CompileError("this placement names no neurons: build it with its network,"
                               " Placement(cores, num_cores, net)")
        names = self._net.names(np.arange(min(len(self._cores), len(self._net))))
        return names, self._cores[: len(names)]

    @property
    def core(self) -> Mapping[str, int]:
        """``{neuron name: core}``, a read-only view (building it costs a Python string per
        neuron: internal code uses :meth:`core_array`)."""
        names, cores = self._listing()
        return MappingProxyType(dict(zip(names, cores.tolist(), strict=True)))

    def neurons_of(self) -> list[list[str]]:
        """The neurons of each core, in the placement's order (network order) within a core."""
        names, cores = self._listing()
        if len(cores) and (cores.min() < 0 or cores.max() >= self.num_cores):
            raise CompileError(f"placement puts a neuron outside cores 0..{self.num_cores - 1}")
        order = np.argsort(cores, kind="stable")
        if not self.num_cores:
            return []
        bounds = np.cumsum(np.bincount(cores, minlength=self.num_cores))[:-1]
        return [[names[i] for i in part.tolist()] for part in np.split(order, bounds)]

    def format(self) -> str:
        """One line per core listing its neurons (``--print-ir-after-all``)."""
        lines = [f"core {c}: {', '.join(names) if names else '-'}"
                 for c, names in enumerate(self.neurons_of())]
        return "\n".join(lines) + "\n"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Placement):
            return NotImplemented
        return self.num_cores == other.num_cores and self.core == other.core

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"<Placement: {len(self._cores):,} neurons on {self.num_cores:,} cores>"


# -- partitioning -------------------------------------------------------------------------


def core_limit_violation(net: Network, placement: Placement, target: Target) -> str | None:
    """The first per-core limit ``placement`` breaks, as a message, or ``None``."""
    return _violation(net, placement.core_array(net), placement.num_cores, target)


def _violation(net: Network, core: np.ndarray, k: int, target: Target) -> str | None:
    """:func:`core_limit_violation` for ``core`` (one core per neuron) on ``k`` cores."""
    if target.max_cores is not None and k > target.max_cores:
        have = fmt_count(target.max_cores)
        return f"placement uses {fmt_count(k)} cores; target '{target.name}' has {have}"
    pre = net.pre.astype(np.int64)
    core_post = core[net.post]
    checks = []
    if target.neurons_per_core is not None:
        checks.append(("neurons", lambda: np.bincount(core, minlength=k), target.neurons_per_core))
    if target.synapses_per_core is not None:
        checks.append(("synapses", lambda: np.bincount(core_post, minlength=k), target.synapses_per_core))
    if target.axons_per_core is not None:
        checks.append(("axons", lambda: np.bincount(distinct(pre * k + core_post) % k, minlength=k),
                       target.axons_per_core))
    for what, count, limit in checks:
        counts = count()
        over = np.flatnonzero(counts > limit)
        if len(over):
            c = int(over[0])
            return f"core {c}: {fmt_count(int(counts[c]))} {what} exceed the {fmt_count(limit)} per core"
    if target.axon_types is not None:
        try:
            _axon_types(net, core, target.axon_types)
        except LimitError as exc:
            return exc.message
    return None


def check_core_limits(net: Network, placement: Placement, target: Target) -> None:
    """Raise :class:`LimitError` for the first per-core limit ``placement`` breaks."""
    message = core_limit_violation(net, placement, target)
    if message is not None:
        raise LimitError(message)


def edge_order(net: Network) -> np.ndarray:
    """The synapse indices in edge order: grouped by source, the pairs in order of their
    first synapse, parallel synapses together in insertion order (the order of the
    networkx graph, which the greedy axon typing and the SANA-FE edge list follow)."""
    pair = net.pre.astype(np.int64) * max(len(net), 1) + net.post
    _, first, inverse = np.unique(pair, return_index=True, return_inverse=True)
    return np.argsort(first[inverse.reshape(-1)], kind="stable")


def _group_starts(*keys: np.ndarray) -> np.ndarray:
    """Where a run of equal key tuples starts, for rows already sorted by the keys."""
    start = np.zeros(len(keys[0]), dtype=bool)
    start[:1] = True
    for key in keys:
        start[1:] |= key[1:] != key[:-1]
    return start


def _axon_types(net: Network, core: np.ndarray, types: int) -> tuple[np.ndarray, ...]:
    """Greedy axon types as arrays ``(pre, delay, core, type)`` per axon, in the order the
    axons first appear in edge order; see :func:`assign_axon_types`.

    The greedy is sequential within a core, but cores share no neuron, so round ``r``
    types the ``r``-th axon of every core at once (rounds = axons of the fullest core)."""
    e = net.num_synapses
    if e == 0:
        return tuple(np.zeros(0, dtype=np.int64) for _ in range(4))
    order = edge_order(net)
    p = net.pre[order].astype(np.int64)
    q = net.post[order].astype(np.int64)
    w = net.weight[order]
    d = net.delay[order]
    c = core[q]
    pos = np.arange(e)
    by_key = np.lexsort((pos, q, d, p))
    repeat = ~_group_starts(p[by_key], d[by_key], q[by_key])
    if repeat.any():
        s = int(pos[by_key][repeat].min())
        raise LimitError(f"core {int(c[s])}: neuron '{net.name_of(int(q[s]))}' has two synapses from axon"
                         f" '{net.name_of(int(p[s]))}' (delay {int(d[s])}); a crossbar holds one")
    # Axons (pre, delay, core) numbered by their first synapse in edge order.
    by_axon = np.lexsort((pos, c, d, p))
    first = _group_starts(p[by_axon], d[by_axon], c[by_axon])
    group = np.cumsum(first) - 1
    axon_first = by_axon[first]
    rank = np.empty(len(axon_first), dtype=np.int64)
    rank[np.argsort(axon_first, kind="stable")] = np.arange(len(axon_first))
    axon = np.empty(e, dtype=np.int64)
    axon[by_axon] = rank[group]  # each synapse's axon, in greedy order
    n_axons = len(axon_first)
    a_pre, a_delay, a_core = (np.empty(n_axons, dtype=np.int64) for _ in range(3))
    a_pre[axon], a_delay[axon], a_core[axon] = p, d, c
    # The r-th axon of each core goes in round r.
    by_core = np.lexsort((np.arange(n_axons), a_core))
    starts = np.flatnonzero(_group_starts(a_core[by_core]))
    within = np.arange(n_axons) - np.repeat(starts, np.diff(np.append(starts, n_axons)))
    a_round = np.empty(n_axons, dtype=np.int64)
    a_round[by_core] = within
    syn = np.lexsort((axon, a_round[axon]))
    round_bounds = np.searchsorted(a_round[axon][syn], np.arange(int(a_round.max()) + 2))
    table = np.full((len(net), types), np.nan)  # each neuron's weight for each type (NaN: free)
    a_type = np.full(n_axons, -1, dtype=np.int64)
    slot = np.unique(a_core, return_inverse=True)[1].reshape(-1)  # each axon's core, numbered 0..
    dead = np.zeros(int(slot.max()) + 1, dtype=bool)  # cores that failed: the greedy stopped there
    failed: list[int] = []
    for r in range(len(round_bounds) - 1):
        sel = syn[round_bounds[r]:round_bounds[r + 1]]
        ax, qs, ws = axon[sel], q[sel], w[sel]
        live = ~dead[slot[ax]]
        ax, qs, ws = ax[live], qs[live], ws[live]
        if not len(ax):
            continue
        heads = np.flatnonzero(_group_starts(ax))
        ids = ax[heads]
        local = np.cumsum(_group_starts(ax)) - 1
        chosen = np.full(len(ids), -1, dtype=np.int64)
        for t in range(types):
            held = table[qs, t]
            clash = ~(np.isnan(held) | (held == ws))
            fits = np.bincount(local, weights=clash, minlength=len(ids)) == 0
            chosen = np.where((chosen < 0) & fits, t, chosen)
        lost = chosen < 0
        if lost.any():
            failed.extend(ids[lost].tolist())
            dead[slot[ids[lost]]] = True
        take = ~lost[local]
        table[qs[take], chosen[local[take]]] = ws[take]
        a_type[ids[~lost]] = chosen[~lost]
    if failed:
        f = min(failed)
        raise LimitError(
            f"core {int(a_core[f])}: axon '{net.name_of(int(a_pre[f]))}' (delay {int(a_delay[f])}) needs more"
            f" than {types} axon types: its weights clash with every type of the neurons it reaches")
    return a_pre, a_delay, a_core, a_type


def assign_axon_types(net: Network, placement: Placement, types: int) -> dict[tuple[str, int, int], int]:
    """Give each axon ``(source, delay, core)`` one of ``types`` types so that every neuron's
    weight from an axon is its weight for that type (TrueNorth's crossbar). Greedy, in
    network order; raises :class:`LimitError` naming the core when it finds no type."""
    a_pre, a_delay, a_core, a_type = _axon_types(net, placement.core_array(net), types)
    keys = zip(net.names(a_pre), a_delay.tolist(), a_core.tolist(), strict=True)
    return dict(zip(keys, a_type.tolist(), strict=True))


# -- placing ------------------------------------------------------------------------------


def place_network(net: Network, target: Target, cores: int = 0, method: str = "auto",
                  seed: int = 0, mesh: bool = True) -> Placement:
    """Place ``net`` on as few cores of ``target`` as its per-core limits allow.

    ``cores`` forces a number of cores (0 = choose); ``method`` is one of
    :data:`METHODS`; ``mesh`` maps the parts onto the core mesh to shorten the
    hop-weighted traffic (:func:`spikec.chip.mesh.map_to_mesh`; not for ``inorder``).
    Raises :class:`LimitError` naming the limit, the value and the core when no
    placement within the target's cores fits.
    """
    n = net.num_neurons
    if n == 0:
        return Placement(np.zeros(0, dtype=np.int64), 0, net)
    if method not in METHODS:
        raise CompileError(f"unknown placement method '{method}'; expected one of {', '.join(METHODS)}")
    e = net.num_synapses
    npc = target.neurons_per_core or n
    need = math.ceil(n / npc)
    weights = None
    if target.synapses_per_core:
        spc = target.synapses_per_core
        # A core holds at most npc neurons and spc synapses ending on it. Weighing neuron i
        # max(in_i * npc, spc) makes a part of total weight <= npc * spc satisfy both (a sum
        # of maxima bounds each sum), so METIS, balancing weight, balances the binding limit.
        weights = np.maximum(net.in_degree().astype(np.int64) * npc, spc)
        need = max(need, math.ceil(int(weights.sum()) / (npc * spc)), math.ceil(e / spc))
    max_cores = target.max_cores
    if cores == 0 and max_cores is not None and need > max_cores:
        raise LimitError(
            f"network: {fmt_count(n)} neurons and {fmt_count(e)} synapses need at least"
            f" {fmt_count(need)} cores; target '{target.name}' has {fmt_count(max_cores)}")
    if cores and max_cores is not None and cores > max_cores:
        raise LimitError(f"place: cores={fmt_count(cores)} is more than the {fmt_count(max_cores)} cores"
                         f" of target '{target.name}'")
    k = min(cores, n) if cores else need  # a part per neuron at most: more would be empty
    if not cores and need >= 100:  # room for METIS's 1% imbalance (ufactor 10) once it is a core
        k = math.ceil(need * 1.011)
        k = min(k, max_cores) if max_cores is not None else k
    csr: Any = None
    last = ""
    for _ in range(_RETRIES):
        if csr is None and k > 1 and n > 1 and method != "inorder":
            csr = symmetric_csr(n, net.pre, net.post)
        parts = renumber(partition_csr(n, csr, k, method, seed, weights))
        used = int(parts.max()) + 1
        violation = _violation(net, parts, used, target)
        if violation is None:
            if mesh and method != "inorder":
                from spikec.chip.mesh import map_to_mesh

                parts = map_to_mesh(net, parts, used, target, seed)
            return Placement(parts, used, net)
        last = violation
        if cores or (max_cores is not None and k >= max_cores):
            break
        k = k + max(1, k // 4)
        if max_cores is not None:
            k = min(k, max_cores)
    raise LimitError(last)


# -- destinations and routes --------------------------------------------------------------


def _destination_groups(net: Network, core: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct (source, core, delay) destinations of the synapses, sorted; and each
    synapse's destination number."""
    pre = net.pre.astype(np.int64)
    dst = core[net.post]
    delay = net.delay
    order = np.lexsort((delay, dst, pre))
    start = _group_starts(pre[order], dst[order], delay[order])
    group = np.empty(len(pre), dtype=np.int64)
    group[order] = np.cumsum(start) - 1
    heads = order[start]
    return np.stack([pre[heads], dst[heads], delay[heads]]), group


def destinations(net: Network, placement: Placement) -> dict[str, set[tuple[int, int]]]:
    """The (core, delay) destinations of each neuron's spikes."""
    (src, dst, delay), _ = _destination_groups(net, placement.core_array(net))
    out: dict[str, set[tuple[int, int]]] = {name: set() for name in net.names()}
    for name, c, d in zip(net.names(src), dst.tolist(), delay.tolist(), strict=True):
        out[name].add((c, d))
    return out


def route_arrays(net: Network, core: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """``(source, core)`` of each route: a neuron with synapses on another core, once per
    such core; sorted by source, then core."""
    pre = net.pre.astype(np.int64)
    dst = core[net.post]
    remote = dst != core[pre]
    keys = distinct(pre[remote] * max(k, 1) + dst[remote])
    return np.divmod(keys, max(k, 1))


def routing_tables(net: Network, placement: Placement) -> list[dict[str, list[int]]]:
    """Per core: each local neuron with synapses elsewhere -> the sorted other cores it sends to."""
    core = placement.core_array(net)
    src, dst = route_arrays(net, core, placement.num_cores)
    tables: list[dict[str, list[int]]] = [{} for _ in range(placement.num_cores)]
    if not len(src):
        return tables
    starts = np.flatnonzero(_group_starts(src))
    heads = src[starts]
    for name, s, cores in zip(net.names(heads), heads.tolist(), np.split(dst, starts[1:]), strict=True):
        tables[int(core[s])][name] = cores.tolist()
    return tables


def split_destinations(net: Network, placement: Placement, ctx: _Recorder | None = None,
                       limit: int = 1) -> int:
    """Give each neuron at most ``limit`` (core, delay) destinations by replicating it on its
    own core; return replicas added. Inputs (fed by the host) are exempt; a stochastic
    neuron with too many destinations is refused (a replica would draw differently), and
    then nothing changes."""
    core = placement.core_array(net).copy()
    n = len(net)
    (g_src, _, _), group = _destination_groups(net, core)
    starts = np.flatnonzero(_group_starts(g_src))
    sizes = np.diff(np.append(starts, len(g_src)))
    counts = np.zeros(n, dtype=np.int64)
    counts[g_src[starts]] = sizes
    rank = np.arange(len(g_src)) - np.repeat(starts, sizes)
    needs = (counts > limit) & ~net.is_input
    stochastic = np.flatnonzero(needs & (net.p < 1.0))
    if len(stochastic):
        i = int(stochastic[0])
        raise CompileError(
            f"neuron '{net.name_of(i)}': sends to {int(counts[i])} (core, delay) destinations but the target"
            f" allows {limit}; a stochastic neuron cannot be replicated exactly", net.location_of(i))
    extra = needs[g_src] & (rank >= limit)  # the destinations a replica takes over
    if not extra.any():
        return 0
    src = g_src[extra]  # one replica per extra destination, by source, then destination
    names = []
    for name, i in zip(net.names(src), rank[extra].tolist(), strict=True):
        rep = f"{name}~dest[{i}]"
        while rep in net:
            rep += "'"
        names.append(rep)
    params = {k: net.param(k)[src] for k in ("threshold", "decay", "reset", "bias", "p", "v0")}
    replica = net.add_named(names, loc=[net.location_of(i) for i in src.tolist()],
                            tags=[net.tags_of(i) | {_REPLICA_TAG} for i in src.tolist()], **params)
    _rewire(net, g_src, group, extra, replica, src, np.maximum(counts - limit, 0) * needs)
    placement.rebind(net, np.concatenate([core, core[src]]))
    if ctx is not None:
        ctx.added.update(names)
    return len(names)


def _rewire(net: Network, g_src: np.ndarray, group: np.ndarray, extra: np.ndarray, replica: np.ndarray,
            src: np.ndarray, reps: np.ndarray) -> None:
    """Make every synapse ``a -> b`` leave the neuron that owns its destination ``(a, core b,
    delay)`` (``a`` or its replica) and reach ``b`` and each replica of ``b``.

    Synapses that keep their source and target stay; the others are appended as copies
    (their weight, delay and location kept) in synapse order, so the synapses joining
    any one pair keep their order, and then the moved originals are removed."""
    n_old = len(reps)
    owner = g_src.copy()
    owner[extra] = replica
    first = np.zeros(len(net), dtype=np.int64)
    heads, at = np.unique(src, return_index=True)
    first[heads] = replica[at]  # each replicated neuron's first replica (they are contiguous)
    reps = np.concatenate([reps, np.zeros(len(net) - n_old, dtype=np.int64)])
    pre = net.pre.astype(np.int64)
    post = net.post.astype(np.int64)
    new_pre = owner[group]
    moved = new_pre != pre
    copies = moved + reps[post]  # k = 0 (the synapse itself, if moved), then one per replica
    ids = np.repeat(np.arange(len(pre)), copies)
    k = np.arange(len(ids)) - np.repeat(np.cumsum(copies) - copies, copies) + ~moved[ids]
    targets = np.where(k == 0, post[ids], first[post[ids]] + k - 1)
    before = net.csr().copy()
    counts = np.diff(before)
    net.copy_synapses(ids, pre=new_pre[ids], post=targets)
    # Regrouping is stable: each source's original synapses still come first, in order.
    now = net.pre.astype(np.int64)
    within = np.arange(len(now)) - net.csr()[now]
    original = within < np.append(counts, np.zeros(len(net) - n_old, dtype=np.int64))[now]
    drop = np.zeros(len(now), dtype=bool)
    drop[original] = moved[before[now[original]] + within[original]]
    net.remove_synapses(drop)
