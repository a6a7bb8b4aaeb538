"""Partitioning neurons into parts that cut few synapses: METIS, or a networkx fallback.

:func:`partition_parts` splits a network's neurons into ``parts`` groups
minimizing the synapses between groups (each crossing pair is a spike
message on a chip). It uses METIS (``pymetis``) fed a symmetric CSR built
with numpy, with the synapse count of each pair as edge weight and
optional vertex weights (the placer weighs each neuron by the per-core limit
it presses hardest on); without pymetis, networkx's Kernighan-Lin bisection,
applied recursively (slow past about 10^5 synapses).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from spikec.errors import CompileError

__all__ = ["METHODS", "partition_parts", "partition_csr", "symmetric_csr", "renumber", "distinct"]

#: Placement methods: "auto" (METIS when installed, else Kernighan-Lin), "metis",
#: "kl" (networkx), "inorder" (fill cores in network order, the naive baseline).
METHODS = ("auto", "metis", "kl", "inorder")


def distinct(keys: np.ndarray, counts: bool = False) -> Any:
    """``np.unique(keys)`` (and the counts) for keys mostly in order, as keys of synapses grouped
    by source are: a stable sort (timsort: near linear on such runs) and a look at neighbours."""
    ordered = np.sort(keys, kind="stable")
    start = np.ones(len(ordered), dtype=bool)
    start[1:] = ordered[1:] != ordered[:-1]
    if not counts:
        return ordered[start]
    heads = np.flatnonzero(start)
    return ordered[heads], np.diff(np.append(heads, len(ordered)))


def symmetric_csr(n: int, pre: np.ndarray, post: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Undirected CSR (xadj, adjncy, weights), int64 as METIS takes them without a copy:
    weight = synapses joining the pair either way; no self-loops; neighbours ascending."""
    pre = np.asarray(pre, dtype=np.int64)
    post = np.asarray(post, dtype=np.int64)
    mask = pre != post
    a = np.minimum(pre[mask], post[mask])
    b = np.maximum(pre[mask], post[mask])
    pairs, counts = distinct(a * n + b, counts=True)
    u, v = np.divmod(pairs, max(n, 1))
    rows = np.concatenate([u, v])
    cols = np.concatenate([v, u])
    w = np.concatenate([counts, counts]).astype(np.int64)
    order = np.argsort(rows * n + cols, kind="stable")
    xadj = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=xadj[1:])
    return xadj, cols[order], w[order]


def partition_parts(n: int, pre: np.ndarray, post: np.ndarray, parts: int, method: str = "auto",
                    seed: int = 0) -> np.ndarray:
    """Part (0..parts-1) of each of ``n`` neurons, cutting few synapses (``pre[i] -> post[i]``)."""
    if method not in METHODS:
        raise CompileError(f"unknown placement method '{method}'; expected one of {', '.join(METHODS)}")
    if parts <= 1 or n <= 1 or method == "inorder":
        return partition_csr(n, None, parts, method, seed)
    return partition_csr(n, symmetric_csr(n, pre, post), parts, method, seed)


def partition_csr(n: int, csr: tuple[np.ndarray, np.ndarray, np.ndarray] | None, parts: int, method: str,
                   seed: int, vweights: np.ndarray | None = None) -> np.ndarray:
    """:func:`partition_parts` on a graph already in CSR form (``None``: not needed)."""
    if parts <= 1 or n <= 1:
        return np.zeros(n, dtype=np.int64)
    if method == "inorder":
        size = math.ceil(n / parts)
        return np.arange(n, dtype=np.int64) // size
    assert csr is not None
    xadj, adjncy, weights = csr
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
                parts, pymetis.CSRAdjacency(xadj, adjncy), eweights=weights, vweights=vweights,
                options=pymetis.Options(seed=seed, ufactor=10),
            )
            return np.array(result.vertex_part, dtype=np.int64)
    return _kl_parts(n, xadj, adjncy, weights, parts, seed)


def _kl_parts(n: int, xadj: np.ndarray, adjncy: np.ndarray, weights: np.ndarray, parts: int,
              seed: int) -> np.ndarray:
    """Recursive Kernighan-Lin bisection (networkx) into pieces of at most ceil(n / parts).
    The fallback without pymetis: a Python graph, so slow past ~10^5 synapses."""
    import networkx as nx

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


def renumber(parts: np.ndarray) -> np.ndarray:
    """Parts renumbered 0.. in order of their first neuron (deterministic, no empty cores)."""
    values, first = np.unique(parts, return_index=True)
    mapping = np.empty(int(parts.max()) + 1 if len(parts) else 0, dtype=np.int64)
    mapping[values[np.argsort(first)]] = np.arange(len(values))
    return mapping[parts]


# -- per-core limits ----------------------------------------------------------------------
