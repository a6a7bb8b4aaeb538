"""Mesh-aware placement: distances on the target's core grid, and the mapping of parts onto it.

Distances are checked by hand; the mapping keeps every part whole (a renaming of the
partition, so per-core limits hold as before) and is compared, on a grid circuit, with
the partition's own numbering by brute-force hop counts over every route.
"""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np

import spikec
from spikec.chip.mesh import core_positions, map_to_mesh, mesh_distances
from spikec.chip.placement import check_core_limits, place_network, route_arrays
from spikec.chip.stats import mesh_distance, network_stats
from spikec.chip.target import load_target


def test_distances_by_hand() -> None:
    # 16 cores per chip, 4 per row: core 5 is (1, 1), core 15 is (3, 3)
    assert mesh_distance(0, 5, 16) == 2
    assert mesh_distance(0, 15, 16) == 6
    # 8 per row: core 9 is (1, 1) as well
    assert mesh_distance(0, 9, 16, core_columns=8) == 2
    # chips in one row by default: core 16 is chip 1, (0, 0): one hop between chips
    assert mesh_distance(0, 16, 16) == 1
    # chips two per row: chip 3 is at (1, 1) on the board: two hops
    assert mesh_distance(0, 48, 16, chip_columns=2) == 2
    pos = core_positions(np.array([0, 5, 48]), 16, None, 2)
    assert pos.tolist() == [[0, 0, 0, 0], [1, 1, 0, 0], [0, 0, 1, 1]]
    assert mesh_distances(np.array([0, 5]), np.array([15, 5]), 16).tolist() == [6, 0]


def _grid_net(side: int = 40) -> spikec.Network:
    net = spikec.Network("grid")
    net.add_neurons("g", side * side, decay=1.0)
    r, c = np.divmod(np.arange(side * side), side)
    pre, post = [], []
    for dr, dc in itertools.product((-1, 0, 1), repeat=2):
        ok = (r + dr >= 0) & (r + dr < side) & (c + dc >= 0) & (c + dc < side) & bool(dr or dc)
        pre.append(np.flatnonzero(ok))
        post.append(np.flatnonzero(ok) + dr * side + dc)
    net.add_synapses(np.concatenate(pre), np.concatenate(post))
    return net


def _hops_brute(net: spikec.Network, core: np.ndarray, per: int, columns: int) -> int:
    """Every (source neuron, other core it reaches) once, its Manhattan distance, in Python."""
    routes = {(int(a), int(core[b])) for a, b in zip(net.pre, net.post, strict=True)
              if core[a] != core[b]}
    total = 0
    for a, dst in routes:
        src = int(core[a])
        total += abs(src % columns - dst % columns) + abs(src // columns - dst // columns)
    return total


def test_the_mapping_renames_parts_and_shortens_hops_on_a_grid() -> None:
    target = dataclasses.replace(load_target("generic"), neurons_per_core=64, cores_per_chip=64,
                                 core_columns=8)
    net = _grid_net()
    parted = place_network(net, target, mesh=False)
    placed = place_network(net, target)
    a, b = parted.core_array(net), placed.core_array(net)
    # a renaming: each old core maps to exactly one new core and back
    pairs = set(zip(a.tolist(), b.tolist(), strict=True))
    assert len(pairs) == len({x for x, _ in pairs}) == len({y for _, y in pairs}) == parted.num_cores
    check_core_limits(net, placed, target)
    before = _hops_brute(net, a, 64, 8)
    after = _hops_brute(net, b, 64, 8)
    assert after < before
    # the stats report the same hops as the brute-force count (activity 1: every neuron fires)
    assert network_stats(net, placed, target, activity=1.0).hops_per_step == after
    src, dst = route_arrays(net, b, placed.num_cores)
    assert len(src) == len({(int(s), int(d)) for s, d in zip(src, dst, strict=True)})


def test_two_parts_or_fewer_are_left_alone() -> None:
    target = load_target("generic")
    net = _grid_net(6)
    core = np.zeros(len(net), dtype=np.int64)
    assert map_to_mesh(net, core, 1, target) is core
