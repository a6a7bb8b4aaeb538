"""Inter-core spike traffic of spikec's placement against a naive in-order placement,
and the time the chip back end takes on large circuits.

Run:  python benchmarks/placement_traffic.py [--target loihi]
      python benchmarks/placement_traffic.py --speed 1000000,10000000 [--fan 10] [--chips 1]

Circuits: (1) modular: 64 modules of 200 neurons with 90% of synapses inside
a module, neurons listed interleaved (the order a generator might produce);
(2) a 2-D grid of 160 x 160 neurons with 3x3 local connectivity (a
convolution-like layer), listed row by row; (3) a random sparse network
(no structure to find). Traffic is the number of spike messages leaving
their core per step if every neuron fired once (each neuron counts once
per remote core it reaches), and the mesh hops they travel: for the in-order
placement, METIS partitioning alone (``mesh=False``: parts numbered as
METIS gives them) and partitioning mapped onto the mesh (the default,
:func:`spikec.chip.mesh.map_to_mesh`).

``--speed`` times, on random circuits of ``--fan`` synapses per neuron to
neurons within 128 places (as benchmarks/compile_speed.py builds them, but
in bulk), each step after the passes: ``place``, building and rendering the
spikec netlist, reading it back (JSON parsed beforehand), and the stats.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from typing import Any

import numpy as np

import spikec
from spikec.backends.netlist import build_netlist, netlist_from_dict, render_netlist
from spikec.chip.placement import place_network
from spikec.chip.stats import network_stats, traffic
from spikec.chip.target import Target, load_target
from spikec.errors import LimitError


def modular(modules: int = 64, size: int = 200, fan: int = 10, seed: int = 0) -> spikec.Network:
    """Modules of dense local wiring, a few synapses between modules, interleaved names."""
    rng = np.random.default_rng(seed)
    net = spikec.Network("modular")
    n = modules * size
    net.add_named([f"m{i % modules}[{i // modules}]" for i in range(n)], decay=1.0)
    module = np.arange(n) % modules
    pre = rng.integers(0, n, n * fan)
    local = rng.random(n * fan) < 0.9
    same = rng.integers(0, size, n * fan) * modules + module[pre]
    post = np.where(local, same, rng.integers(0, n, n * fan))
    net.add_synapses(pre, post)
    return net


def grid(side: int = 160) -> spikec.Network:
    """A side x side grid, each neuron feeding its 3x3 neighbourhood."""
    net = spikec.Network("grid")
    net.add_named([f"g[{r}][{c}]" for r in range(side) for c in range(side)], decay=1.0)
    r, c = np.divmod(np.arange(side * side), side)
    pre, post = [], []
    for dr in (-1, 0, 1):  # neighbours in the order (dr, dc) of each source
        for dc in (-1, 0, 1):
            ok = (r + dr >= 0) & (r + dr < side) & (c + dc >= 0) & (c + dc < side) & bool(dr or dc)
            pre.append(np.flatnonzero(ok))
            post.append(np.flatnonzero(ok) + dr * side + dc)
    src, dst = np.concatenate(pre), np.concatenate(post)
    order = np.argsort(src, kind="stable")
    net.add_synapses(src[order], dst[order])
    return net


def random_net(n: int = 12800, fan: int = 10, seed: int = 0) -> spikec.Network:
    """Uniformly random synapses."""
    rng = np.random.default_rng(seed)
    net = spikec.Network("random")
    net.add_neurons("r", n, decay=1.0)
    net.add_synapses(rng.integers(0, n, n * fan), rng.integers(0, n, n * fan))
    return net


def local_circuit(synapses: int, fan: int = 10, seed: int = 0) -> spikec.Network:
    """``synapses`` random synapses, ``fan`` per neuron, each to a neuron within 128 places
    (integer weights, delays 1-8, decay-1 gates, 5% inputs)."""
    rng = np.random.default_rng(seed)
    n = max(synapses // fan, 10)
    n_in = max(n // 20, 1)
    net = spikec.Network(f"local{synapses}")
    net.add_inputs("in", n_in)
    net.add_neurons("n", n - n_in, threshold=rng.integers(1, 4, n - n_in).astype(float), decay=1.0)
    pre = rng.integers(0, n, synapses)
    post = n_in + (pre + rng.integers(-128, 129, synapses)) % (n - n_in)
    net.add_synapses(pre, post, rng.integers(-2, 4, synapses).astype(float), rng.integers(1, 9, synapses))
    return net


def _cpu(step: Any, *args: Any) -> tuple[Any, float]:
    """``step(*args)`` and the CPU seconds it took."""
    t0 = time.process_time()
    out = step(*args)
    return out, time.process_time() - t0


def speed(sizes: list[int], fan: int, target: Target) -> None:
    """Print the CPU time of each chip back-end step per circuit size (CPU, not wall, time:
    the steps are single-threaded and the machine may be shared)."""
    print(f"{'synapses':>11} {'neurons':>9} {'cores':>5}  {'place':>7} {'build':>7} {'render':>7} {'read':>7}"
          f" {'stats':>7}  (CPU seconds)")
    for size in sizes:
        net = local_circuit(size, fan)
        placed, t_place = _cpu(place_network, net, target)
        model, t_build = _cpu(build_netlist, net, placed, target)
        text, t_render = _cpu(render_netlist, model)
        doc = json.loads(text)
        del text, model
        _, t_read = _cpu(netlist_from_dict, doc)
        del doc
        _, t_stats = _cpu(network_stats, net, placed, target)
        times = (t_place, t_build, t_render, t_read, t_stats)
        print(f"{net.num_synapses:>11,} {net.num_neurons:>9,} {placed.num_cores:>5}  "
              + " ".join(f"{t:>7.2f}" for t in times), flush=True)


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", default="loihi")
    parser.add_argument("--speed", default="", help="circuit sizes (synapses) to time the back end on")
    parser.add_argument("--fan", type=int, default=10, help="synapses per neuron of the --speed circuits")
    parser.add_argument("--chips", type=int, default=0, help="chips of the target (0: as the file says)")
    args = parser.parse_args()
    target = load_target(args.target)
    if args.chips:
        target = dataclasses.replace(target, chips=args.chips)
    if args.speed:
        speed([int(s) for s in args.speed.split(",")], args.fan, target)
        return
    header = (
        f"{'circuit':<9} {'neurons':>8} {'synapses':>9} {'cores':>5}  {'in-order msgs':>13}"
        f" {'placed msgs':>11}  {'in-order hops':>13} {'partition hops':>14}"
        f" {'mesh hops':>10} {'mesh/part':>9}  {'place s':>7} {'mesh s':>7}"
    )
    print(header)
    grid_of = (target.cores_per_chip, target.core_columns, target.chip_columns)
    for net in (modular(), grid(), random_net()):
        try:
            naive = place_network(net, target, method="inorder")
            m0, h0 = traffic(net, naive, 1.0, *grid_of)
        except LimitError:  # in-order filling can break a per-core limit (axons)
            m0 = h0 = float("nan")
        t0 = time.perf_counter()
        parted = place_network(net, target, mesh=False)
        t1 = time.perf_counter()
        placed = place_network(net, target)
        t2 = time.perf_counter()
        m1, h1 = traffic(net, parted, 1.0, *grid_of)
        m2, h2 = traffic(net, placed, 1.0, *grid_of)
        assert m1 == m2  # the mapping renames cores: the same messages, shorter paths
        print(
            f"{net.name:<9} {net.num_neurons:>8,} {net.num_synapses:>9,} {placed.num_cores:>5}  {m0:>13,.0f}"
            f" {m1:>11,.0f}  {h0:>13,.0f} {h1:>14,.0f} {h2:>10,.0f}"
            f" {h2 / h1:>9.2f}  {t1 - t0:>7.2f} {(t2 - t1) - (t1 - t0):>7.2f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
