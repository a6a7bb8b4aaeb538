"""Mesh-aware mapping of placed parts onto a chip's cores.

Cores sit on a mesh, row by row on a grid per chip (``[chip] core_columns``
wide, by default the square root of ``cores_per_chip`` rounded up), chips
on a grid of their own (``chip_columns`` per row; a message between chips
pays the chip grid's Manhattan distance as extra hops). A message's cost
is the Manhattan distance it travels (:func:`mesh_distances`, used by
``spikec stats``).

:func:`map_to_mesh` renames the parts of a partition (core ids 0..k-1)
so that parts that exchange many messages sit close: *dual recursive
bisection* (as in Scotch's mapping): the set of cores is cut in two across
its longest extent, the parts in two of exactly those sizes along the
Fiedler vector of their traffic graph (networkx), and both halves
recurse; the half with more traffic to the cores already on one side
goes to that side. A placement keeps the same cores and neurons per core,
so per-core limits are untouched; only the hop-weighted traffic changes.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import scipy.sparse as sp

from spikec.chip.target import Target
from spikec.ir.network import Network

__all__ = ["core_positions", "mesh_distances", "map_to_mesh", "hop_traffic"]


def _grid(cores_per_chip: int | None, columns: int | None, k: int) -> tuple[int, int]:
    per = cores_per_chip or max(k, 1)
    width = columns or max(1, math.isqrt(per - 1) + 1) if per > 1 else 1
    return per, width


def core_positions(cores: np.ndarray, cores_per_chip: int | None, core_columns: int | None = None,
                   chip_columns: int | None = None, k: int = 0) -> np.ndarray:
    """``(x, y, chip_x, chip_y)`` of each core id (rows of an int64 array)."""
    cores = np.asarray(cores, dtype=np.int64)
    per, width = _grid(cores_per_chip, core_columns, k or (int(cores.max()) + 1 if len(cores) else 1))
    chip, local = np.divmod(cores, per)
    cw = chip_columns or max(int(chip.max()) + 1 if len(chip) else 1, 1)
    return np.stack([local % width, local // width, chip % cw, chip // cw], axis=1)


def mesh_distances(a: np.ndarray, b: np.ndarray, cores_per_chip: int | None, core_columns: int | None = None,
                   chip_columns: int | None = None) -> np.ndarray:
    """Hops from core ``a[i]`` to core ``b[i]``: Manhattan distance on the chip's core grid plus
    the chip grid's Manhattan distance between their chips."""
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    if not len(a):
        return np.zeros(0, dtype=np.int64)
    top = int(max(a.max(), b.max())) + 1
    pa = core_positions(a, cores_per_chip, core_columns, chip_columns, top)
    pb = core_positions(b, cores_per_chip, core_columns, chip_columns, top)
    if cores_per_chip is None:  # one chip as large as the cores used: the pair's own square mesh
        per = np.maximum(a, b) + 1
        width = np.maximum(1, np.ceil(np.sqrt(per)).astype(np.int64))
        if core_columns:
            width = np.full(len(a), core_columns)
        return np.abs(a % width - b % width) + np.abs(a // width - b // width)
    return np.abs(pa - pb).sum(axis=1)


def _traffic_matrix(net: Network, core: np.ndarray, k: int) -> sp.csr_matrix:
    """Messages between parts (one per neuron and destination core), symmetrized."""
    from spikec.chip.placement import route_arrays

    src, dst = route_arrays(net, core, k)
    m = sp.coo_matrix((np.ones(len(src)), (core[src], dst)), shape=(k, k)).tocsr()
    return (m + m.T).tocsr()


def hop_traffic(net: Network, core: np.ndarray, k: int, target: Target) -> float:
    """Messages times hops per step when every neuron fires once (the mapping's objective)."""
    from spikec.chip.placement import route_arrays

    src, dst = route_arrays(net, core, k)
    return float(mesh_distances(core[src], dst, target.cores_per_chip, target.core_columns,
                                target.chip_columns).sum())


def _split_parts(traffic: sp.csr_matrix, parts: np.ndarray, first: int, seed: int) -> tuple[np.ndarray, ...]:
    """``parts`` cut into ``first`` and the rest along the Fiedler vector of their traffic."""
    import networkx as nx

    sub = traffic[parts][:, parts]
    if sub.nnz == 0 or len(parts) <= 2:
        return parts[:first], parts[first:]
    g = nx.from_scipy_sparse_array(sub)
    order: list[Any] = []
    # components largest first, each in Fiedler order, so a cut keeps components whole where it can
    for comp in sorted(nx.connected_components(g), key=len, reverse=True):
        nodes = sorted(comp)
        if len(nodes) <= 2:
            order.extend(nodes)
            continue
        sg = g.subgraph(nodes)
        try:
            order.extend(nx.spectral_ordering(sg, weight="weight", method="tracemin_lu", seed=seed))
        except (nx.NetworkXError, np.linalg.LinAlgError, ArithmeticError):
            order.extend(nodes)
    ranked = parts[np.asarray(order, dtype=np.int64)]
    return ranked[:first], ranked[first:]


def map_to_mesh(net: Network, core: np.ndarray, k: int, target: Target, seed: int = 0) -> np.ndarray:
    """New core ids for a placement ``core`` (each neuron's part, 0..k-1) that keep each part
    whole and put parts with much traffic between them near on the mesh."""
    if k <= 2:
        return core
    traffic = _traffic_matrix(net, core, k)
    pos = core_positions(np.arange(k), target.cores_per_chip, target.core_columns, target.chip_columns, k)
    assign = np.full(k, -1, dtype=np.int64)
    stack: list[tuple[np.ndarray, np.ndarray]] = [(np.arange(k), np.arange(k))]
    while stack:
        parts, cores = stack.pop()
        if len(parts) == 1:
            assign[parts[0]] = cores[0]
            continue
        p = pos[cores]
        axis = int(np.argmax(p.max(axis=0) - p.min(axis=0)))
        order = np.lexsort([p[:, j] for j in range(p.shape[1]) if j != axis][::-1] + [p[:, axis]])
        cores = cores[order]
        half = len(cores) // 2
        a, b = _split_parts(traffic, parts, half, seed)
        # orientation: a half that talks more to parts already mapped on the high side goes high
        placed = np.flatnonzero(assign >= 0)
        if len(placed) and len(a) == len(b):
            centre = pos[cores].mean(axis=0)[axis]
            side = np.sign(pos[assign[placed], axis] - centre)
            pull_a = float(np.asarray(traffic[a][:, placed].sum(axis=0)).ravel() @ side)
            pull_b = float(np.asarray(traffic[b][:, placed].sum(axis=0)).ravel() @ side)
            if pull_a > pull_b:
                a, b = b, a
        stack.append((a, cores[:half]))
        stack.append((b, cores[half:]))
    return assign[core]
