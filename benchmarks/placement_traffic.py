"""Inter-core spike traffic of spikec's placement against a naive in-order placement.

Run:  python benchmarks/placement_traffic.py [--target loihi]

Circuits: (1) modular: 64 modules of 200 neurons with 90% of synapses inside
a module, neurons listed interleaved (the order a generator might produce);
(2) a 2-D grid of 160 x 160 neurons with 3x3 local connectivity (a
convolution-like layer), listed row by row; (3) a random sparse network
(no structure to find). Traffic is the number of spike messages leaving
their core per step if every neuron fired once (each neuron counts once
per remote core it reaches), and the mesh hops they travel.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import spikec
from spikec.chip.placement import place_network
from spikec.chip.stats import traffic
from spikec.chip.target import load_target


def modular(modules: int = 64, size: int = 200, fan: int = 10, seed: int = 0) -> spikec.Network:
    """Modules of dense local wiring, a few synapses between modules, interleaved names."""
    rng = np.random.default_rng(seed)
    net = spikec.Network("modular")
    names = [net.neuron(f"m{i % modules}[{i // modules}]", decay=1) for i in range(modules * size)]
    n = len(names)
    module = np.arange(n) % modules
    pre = rng.integers(0, n, n * fan)
    local = rng.random(n * fan) < 0.9
    same = rng.integers(0, size, n * fan) * modules + module[pre]
    post = np.where(local, same, rng.integers(0, n, n * fan))
    net.add_synapses([names[i] for i in pre], [names[i] for i in post])
    return net


def grid(side: int = 160) -> spikec.Network:
    """A side x side grid, each neuron feeding its 3x3 neighbourhood."""
    net = spikec.Network("grid")
    names = [[net.neuron(f"g[{r}][{c}]", decay=1) for c in range(side)] for r in range(side)]
    pre, post = [], []
    for r in range(side):
        for c in range(side):
            for dr in (-1, 0, 1):
                for dc in (-1, 0, 1):
                    if 0 <= r + dr < side and 0 <= c + dc < side and (dr or dc):
                        pre.append(names[r][c])
                        post.append(names[r + dr][c + dc])
    net.add_synapses(pre, post)
    return net


def random_net(n: int = 12800, fan: int = 10, seed: int = 0) -> spikec.Network:
    """Uniformly random synapses."""
    rng = np.random.default_rng(seed)
    net = spikec.Network("random")
    names = [net.neuron(f"r[{i}]", decay=1) for i in range(n)]
    net.add_synapses(
        [names[i] for i in rng.integers(0, n, n * fan)], [names[i] for i in rng.integers(0, n, n * fan)]
    )
    return net


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", default="loihi")
    args = parser.parse_args()
    target = load_target(args.target)
    header = (
        f"{'circuit':<9} {'neurons':>8} {'synapses':>9} {'cores':>5}  {'in-order msgs':>13}"
        f" {'placed msgs':>11} {'reduction':>9}  {'in-order hops':>13} {'placed hops':>11}  {'place s':>7}"
    )
    print(header)
    for net in (modular(), grid(), random_net()):
        naive = place_network(net, target, method="inorder")
        t0 = time.perf_counter()
        placed = place_network(net, target)
        seconds = time.perf_counter() - t0
        m0, h0 = traffic(net, naive, 1.0, target.cores_per_chip)
        m1, h1 = traffic(net, placed, 1.0, target.cores_per_chip)
        print(
            f"{net.name:<9} {net.num_neurons:>8,} {net.num_synapses:>9,} {placed.num_cores:>5}  {m0:>13,.0f}"
            f" {m1:>11,.0f} {100 * (1 - m1 / m0):>8.1f}%  {h0:>13,.0f} {h1:>11,.0f}  {seconds:>7.2f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
