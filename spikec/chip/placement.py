"""Partitioning and placement onto cores, per-core limits, routing tables,
and the one-destination legalization of TrueNorth-like targets.

Placement partitions the neurons into as few cores as the per-core limits
allow, minimizing the synapses that cross cores (each crossing pair is a
spike message). The partitioner is METIS (``pymetis``) when installed, with
the synapse count between two neurons as the edge weight; without it,
networkx's Kernighan-Lin bisection, applied recursively. When a partition
breaks a per-core limit (METIS balances neurons, not synapses or axons)
the placer retries with more cores, up to the target's total.

``split-destinations`` makes every neuron send to at most one (core, delay)
destination, as TrueNorth's neurons (one axon each) need: a deterministic
neuron with more destinations gets exact replicas on its own core (same
parameters, same inputs, so the same spikes; sources already reach that
core, so they gain no destination), one per extra destination.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from typing import Protocol

import networkx as nx
import numpy as np

from spikec.chip.target import Target
from spikec.errors import CompileError, LimitError, fmt_count
from spikec.ir.network import Network, Neuron

__all__ = [
    "METHODS",
    "partition_parts",
    "place_network",
    "core_limit_violation",
    "check_core_limits",
    "assign_axon_types",
    "routing_tables",
    "destinations",
    "split_destinations",
    "Placement",
]

#: Placement methods: "auto" (METIS when installed, else Kernighan-Lin), "metis",
#: "kl" (networkx), "inorder" (fill cores in network order, the naive baseline).
METHODS = ("auto", "metis", "kl", "inorder")
_RETRIES = 12


class _Recorder(Protocol):
    """Where :func:`split_destinations` records the neurons it adds (a compile context)."""

    added: set[str]


@dataclass
class Placement:
    """Which core holds each neuron (``core[name]``), and the number of cores used.

    Core ``c`` is core ``c % cores_per_chip`` of chip ``c // cores_per_chip``.
    """

    core: dict[str, int]
    num_cores: int

    def neurons_of(self) -> list[list[str]]:
        """The neurons of each core, in network order within a core."""
        out: list[list[str]] = [[] for _ in range(self.num_cores)]
        for name, c in self.core.items():
            out[c].append(name)
        return out

    def check(self, net: Network) -> None:
        """Raise :class:`CompileError` unless every neuron of ``net`` sits on a core in
        ``[0, num_cores)`` and no other name is placed."""
        for name in net:
            core = self.core.get(name)
            if core is None:
                raise CompileError(f"neuron '{name}' is not placed on any core")
            if not 0 <= core < self.num_cores:
                raise CompileError(
                    f"neuron '{name}' is placed on core {core}, outside 0..{self.num_cores - 1}")
        extra = set(self.core) - set(net)
        if extra:
            raise CompileError(f"placement names neuron '{sorted(extra)[0]}', which is not in the network")

    def format(self) -> str:
        """One line per core listing its neurons (``--print-ir-after-all``)."""
        lines = [f"core {c}: {', '.join(names) if names else '-'}"
                 for c, names in enumerate(self.neurons_of())]
        return "\n".join(lines) + "\n"


def _edge_arrays(net: Network) -> tuple[dict[str, int], np.ndarray, np.ndarray, np.ndarray]:
    """Neuron index, and (pre, post, delay) index arrays of every synapse."""
    index = {name: i for i, name in enumerate(net.graph.nodes)}
    pre: list[int] = []
    post: list[int] = []
    delay: list[int] = []
    for a, nbrs in net.graph.adjacency():
        ia = index[a]
        for b, keyed in nbrs.items():
            ib = index[b]
            for data in keyed.values():
                pre.append(ia)
                post.append(ib)
                delay.append(data["delay"])
    return (index, np.array(pre, dtype=np.int64), np.array(post, dtype=np.int64),
            np.array(delay, dtype=np.int64))


def _symmetric_csr(n: int, pre: np.ndarray, post: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Undirected CSR (xadj, adjncy, weights): weight = synapses joining the pair either way."""
    mask = pre != post
    a = np.minimum(pre[mask], post[mask])
    b = np.maximum(pre[mask], post[mask])
    pairs, counts = np.unique(a * n + b, return_counts=True) if len(a) else (np.zeros(0, np.int64),) * 2
    u, v = np.divmod(pairs, n) if n else (pairs, pairs)
    rows = np.concatenate([u, v])
    cols = np.concatenate([v, u])
    w = np.concatenate([counts, counts])
    order = np.lexsort((cols, rows))
    rows, cols, w = rows[order], cols[order], w[order]
    xadj = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=xadj[1:])
    return xadj, cols.astype(np.int64), w.astype(np.int64)


def partition_parts(n: int, pre: np.ndarray, post: np.ndarray, parts: int, method: str = "auto",
                    seed: int = 0) -> np.ndarray:
    """Part (0..parts-1) of each of ``n`` neurons, cutting few synapses (``pre[i] -> post[i]``)."""
    if method not in METHODS:
        raise CompileError(f"unknown placement method '{method}'; expected one of {', '.join(METHODS)}")
    if parts <= 1 or n <= 1:
        return np.zeros(n, dtype=np.int64)
    if method == "inorder":
        size = math.ceil(n / parts)
        return np.arange(n, dtype=np.int64) // size
    xadj, adjncy, weights = _symmetric_csr(n, pre, post)
    if method in ("auto", "metis"):
        try:
            import pymetis
        except ImportError:
            if method == "metis":
                raise CompileError("placement method 'metis' needs pymetis: pip install pymetis") from None
        else:
            if len(adjncy) == 0:
                return np.arange(n, dtype=np.int64) * parts // n
            result = pymetis.part_graph(
                parts, pymetis.CSRAdjacency(xadj.tolist(), adjncy.tolist()),
                eweights=weights.tolist(), options=pymetis.Options(seed=seed, ufactor=10),
            )
            return np.asarray(result.vertex_part, dtype=np.int64)
    return _kl_parts(n, xadj, adjncy, weights, parts, seed)


def _kl_parts(n: int, xadj: np.ndarray, adjncy: np.ndarray, weights: np.ndarray, parts: int,
              seed: int) -> np.ndarray:
    """Recursive Kernighan-Lin bisection (networkx) into pieces of at most ceil(n / parts)."""
    graph = nx.Graph()
    graph.add_nodes_from(range(n))
    rows = np.repeat(np.arange(n), np.diff(xadj))
    keep = rows < adjncy
    graph.add_weighted_edges_from(zip(rows[keep].tolist(), adjncy[keep].tolist(), weights[keep].tolist(),
                                      strict=True))
    cap = math.ceil(n / parts)
    out = np.zeros(n, dtype=np.int64)
    stack = [list(range(n))]
    next_part = 0
    while stack:
        nodes = stack.pop()
        if len(nodes) <= cap:
            out[nodes] = next_part
            next_part += 1
            continue
        a, b = nx.community.kernighan_lin_bisection(graph.subgraph(nodes), weight="weight", seed=seed)
        stack.extend([sorted(b), sorted(a)])
    return out


def _renumber(parts: np.ndarray) -> np.ndarray:
    """Parts renumbered 0.. in order of their first neuron (deterministic, no empty cores)."""
    _, first = np.unique(parts, return_index=True)
    order = np.argsort(first)
    mapping = np.empty(int(parts.max()) + 1 if len(parts) else 0, dtype=np.int64)
    mapping[np.unique(parts)[order]] = np.arange(len(order))
    return mapping[parts]


def core_limit_violation(net: Network, placement: Placement, target: Target) -> str | None:
    """The first per-core limit ``placement`` breaks, as a message, or ``None``."""
    _, pre, post, _ = _edge_arrays(net)
    core = np.array([placement.core[name] for name in net.graph.nodes], dtype=np.int64)
    k = placement.num_cores
    if target.max_cores is not None and k > target.max_cores:
        have = fmt_count(target.max_cores)
        return f"placement uses {fmt_count(k)} cores; target '{target.name}' has {have}"
    checks = []
    if target.neurons_per_core is not None:
        checks.append(("neurons", np.bincount(core, minlength=k), target.neurons_per_core))
    if target.synapses_per_core is not None:
        checks.append(("synapses", np.bincount(core[post], minlength=k), target.synapses_per_core))
    if target.axons_per_core is not None:
        axons = np.unique(pre * k + core[post]) % k if len(pre) else np.zeros(0, np.int64)
        checks.append(("axons", np.bincount(axons, minlength=k), target.axons_per_core))
    for what, counts, limit in checks:
        over = np.flatnonzero(counts > limit)
        if len(over):
            c = int(over[0])
            return f"core {c}: {fmt_count(int(counts[c]))} {what} exceed the {fmt_count(limit)} per core"
    if target.axon_types is not None:
        try:
            assign_axon_types(net, placement, target.axon_types)
        except LimitError as exc:
            return exc.message
    return None


def check_core_limits(net: Network, placement: Placement, target: Target) -> None:
    """Raise :class:`LimitError` for the first per-core limit ``placement`` breaks."""
    message = core_limit_violation(net, placement, target)
    if message is not None:
        raise LimitError(message)


def assign_axon_types(net: Network, placement: Placement, types: int) -> dict[tuple[str, int, int], int]:
    """Give each axon ``(source, delay, core)`` one of ``types`` types so that every neuron's
    weight from an axon is its weight for that type (TrueNorth's crossbar). Greedy, in
    network order; raises :class:`LimitError` naming the core when it finds no type."""
    by_axon: dict[tuple[str, int, int], dict[str, float]] = defaultdict(dict)
    for pre, post, data in net.graph.edges(data=True):
        axon = (pre, data["delay"], placement.core[post])
        if post in by_axon[axon]:
            raise LimitError(
                f"core {axon[2]}: neuron '{post}' has two synapses from axon '{pre}' (delay {data['delay']});"
                " a crossbar holds one")
        by_axon[axon][post] = data["weight"]
    table: dict[str, dict[int, float]] = defaultdict(dict)
    out: dict[tuple[str, int, int], int] = {}
    for axon, row in by_axon.items():
        for t in range(types):
            if all(table[post].get(t, w) == w for post, w in row.items()):
                for post, w in row.items():
                    table[post][t] = w
                out[axon] = t
                break
        else:
            raise LimitError(
                f"core {axon[2]}: axon '{axon[0]}' (delay {axon[1]}) needs more than {types} axon types:"
                " its weights clash with every type of the neurons it reaches")
    return out


def place_network(net: Network, target: Target, cores: int = 0, method: str = "auto",
                  seed: int = 0) -> Placement:
    """Place ``net`` on as few cores of ``target`` as its per-core limits allow.

    ``cores`` forces a number of cores (0 = choose); ``method`` is one of
    :data:`METHODS`. Raises :class:`LimitError` naming the limit, the value
    and the core when no placement within the target's cores fits.
    """
    n = net.num_neurons
    if n == 0:
        return Placement({}, 0)
    names = list(net.graph.nodes)
    _, pre, post, _ = _edge_arrays(net)
    npc = target.neurons_per_core or n
    need = math.ceil(n / npc)
    if target.synapses_per_core:
        need = max(need, math.ceil(len(pre) / target.synapses_per_core))
    max_cores = target.max_cores
    if cores == 0 and max_cores is not None and need > max_cores:
        raise LimitError(
            f"network: {fmt_count(n)} neurons and {fmt_count(len(pre))} synapses need at least"
            f" {fmt_count(need)} cores; target '{target.name}' has {fmt_count(max_cores)}")
    k = cores or need
    last = ""
    for _ in range(_RETRIES):
        parts = _renumber(partition_parts(n, pre, post, k, method, seed))
        placement = Placement(dict(zip(names, parts.tolist(), strict=True)), int(parts.max()) + 1)
        violation = core_limit_violation(net, placement, target)
        if violation is None:
            return placement
        last = violation
        if cores or (max_cores is not None and k >= max_cores):
            break
        k = k + max(1, k // 4)
        if max_cores is not None:
            k = min(k, max_cores)
    raise LimitError(last)


def destinations(net: Network, placement: Placement) -> dict[str, set[tuple[int, int]]]:
    """The (core, delay) destinations of each neuron's spikes."""
    out: dict[str, set[tuple[int, int]]] = {name: set() for name in net.graph.nodes}
    for pre, post, d in net.graph.edges(data="delay"):
        out[pre].add((placement.core[post], d))
    return out


def routing_tables(net: Network, placement: Placement) -> list[dict[str, list[int]]]:
    """Per core: each local neuron with synapses elsewhere -> the sorted other cores it sends to."""
    tables: list[dict[str, list[int]]] = [{} for _ in range(placement.num_cores)]
    remote: dict[str, set[int]] = defaultdict(set)
    for pre, post in net.graph.edges():
        c = placement.core[post]
        if c != placement.core[pre]:
            remote[pre].add(c)
    for name in net.graph.nodes:
        if name in remote:
            tables[placement.core[name]][name] = sorted(remote[name])
    return tables


def split_destinations(net: Network, placement: Placement, ctx: _Recorder | None = None,
                       limit: int = 1) -> int:
    """Give each neuron at most ``limit`` (core, delay) destinations by replicating it on its
    own core; return replicas added. Inputs (fed by the host) are exempt; a stochastic
    neuron with too many destinations is refused (a replica would draw differently)."""
    graph = net.graph
    dests = destinations(net, placement)
    owner: dict[tuple[str, tuple[int, int]], str] = {}
    replicas: dict[str, list[str]] = defaultdict(list)
    for name, groups in dests.items():
        n: Neuron = graph.nodes[name]["neuron"]
        ordered = sorted(groups)
        if n.is_input or len(ordered) <= limit:
            for g in ordered:
                owner[(name, g)] = name
            continue
        if n.p < 1.0:
            raise CompileError(
                f"neuron '{name}': sends to {len(ordered)} (core, delay) destinations but the target"
                f" allows {limit}; a stochastic neuron cannot be replicated exactly", n.loc)
        for i, g in enumerate(ordered):
            if i < limit:
                owner[(name, g)] = name
                continue
            rep = f"{name}~dest[{i}]"
            while rep in graph:
                rep += "'"
            graph.add_node(rep, neuron=Neuron(rep, n.threshold, n.decay, n.reset, n.bias, n.p, n.v0,
                                              loc=n.loc, tags=n.tags | {"spikec.replica"}))
            placement.core[rep] = placement.core[name]
            replicas[name].append(rep)
            owner[(name, g)] = rep
            if ctx is not None:
                ctx.added.add(rep)
    if not replicas:
        return 0
    old = list(graph.edges(keys=True, data=True))
    graph.remove_edges_from([(a, b, k) for a, b, k, _ in old])
    for a, b, _, data in old:
        group = (placement.core[b], data["delay"])
        for copy in [b, *replicas.get(b, [])]:
            graph.add_edge(owner[(a, group)], copy, **data)
    return sum(len(r) for r in replicas.values())
