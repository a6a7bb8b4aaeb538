"""Compile time of the default pipeline for 10k, 100k and 1M-synapse circuits.

Run:  python benchmarks/compile_speed.py [--sizes 10000,100000,1000000] [--target loihi]

Each circuit is a random sparse network of 10 synapses per neuron, each to
a neuron within 128 places (integer weights, delays 1-8, decay 1 gates, 5%
inputs), built with add_synapses.
Prints the time of each pass and the total per size, and the scaling
exponent k of total time ~ synapses**k from a log-log fit (k = 1 is linear).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import spikec
from spikec.chip.target import load_target
from spikec.passes import PassTiming, compile_for_target


def circuit(synapses: int, seed: int = 0) -> spikec.Network:
    """A random sparse circuit with ``synapses`` synapses and synapses / 10 neurons."""
    rng = np.random.default_rng(seed)
    n = max(synapses // 10, 10)
    n_in = max(n // 20, 1)
    net = spikec.Network(f"random{synapses}")
    names = [net.input(f"in[{i}]") for i in range(n_in)]
    for i in range(n - n_in):
        names.append(net.neuron(f"n[{i}]", threshold=float(rng.integers(1, 4)), decay=1.0))
    # Local wiring (each neuron reaches neurons within +-128 places), as layered
    # circuits have: a uniformly random network of this size would exceed Loihi's
    # 4,096 axons per core, and the compiler would refuse it.
    pre = rng.integers(0, n, synapses)
    post = n_in + (pre + rng.integers(-128, 129, synapses)) % (n - n_in)
    net.add_synapses(
        [names[i] for i in pre],
        [names[i] for i in post],
        rng.integers(-2, 4, synapses).astype(float),
        rng.integers(1, 9, synapses),
    )
    net.probe(*names[-max(n // 100, 1) :], label="out")
    return net


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--target", default="loihi")
    args = parser.parse_args()
    target = load_target(args.target)
    sizes = [int(s) for s in args.sizes.split(",")]
    rows = []
    for size in sizes:
        t0 = time.perf_counter()
        net = circuit(size)
        build = time.perf_counter() - t0
        timings: list[PassTiming] = []
        t0 = time.perf_counter()
        out, ctx = compile_for_target(net, target, on_timing=timings.append)
        total = time.perf_counter() - t0
        rows.append((size, net.num_neurons, build, total, timings, out, ctx))
        print(
            f"{size:>9,} synapses: build {build:6.2f} s, compile {total:7.2f} s"
            f" ({1e6 * total / size:5.2f} us/synapse), {ctx.placement.num_cores} cores",
            flush=True,
        )
    print()
    names = [t.name for t in rows[0][4]]
    print(f"{'pass':<18}" + "".join(f"{r[0]:>14,}" for r in rows))
    for i, name in enumerate(names):
        print(f"{name:<18}" + "".join(f"{r[4][i].seconds:>13.3f}s" for r in rows))
    print(f"{'total (+verify)':<18}" + "".join(f"{r[3]:>13.3f}s" for r in rows))
    if len(rows) > 1:
        k = np.polyfit(np.log([r[0] for r in rows]), np.log([r[3] for r in rows]), 1)[0]
        print(f"\nscaling: total time ~ synapses^{k:.2f}")


if __name__ == "__main__":
    main()
