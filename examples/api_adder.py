"""A 4-bit ripple-carry adder built from threshold neurons with the Python API.

Run:  python examples/api_adder.py [--bits 4]

Every pair (a, b) of n-bit numbers is one trial of a single simulation
(2^(2n) trials at once); the script decodes the sum bits, checks each
against Python's integer addition and prints a few rows and the verdict.

Circuit (all gates memoryless, decay = 1):
- carry[i+1] = [a_i + b_i + carry[i] >= 2]            (majority), fires at step i + 1;
- sum[i]     = [a_i + b_i + carry[i] - 2 carry[i+1] >= 1] (parity), every sum bit
  delay-balanced to fire at step n + 1, so one output word appears on one step.
"""

from __future__ import annotations

import argparse
import itertools

import numpy as np

import spikec


def ripple_adder(n: int) -> spikec.Network:
    """An n-bit adder: inputs a[i], b[i] spike at step 0, sum s[0..n] fires at step n + 1."""
    net = spikec.Network(f"adder{n}")
    for x in "ab":
        for i in range(n):
            net.input(f"{x}[{i}]")
    out_step = n + 1
    for i in range(1, n + 1):
        # carry[i] = majority(a[i-1], b[i-1], carry[i-1]); it fires at step i
        net.neuron(f"c[{i}]", threshold=2, decay=1)
        for x in "ab":
            net.synapse(f"{x}[{i - 1}]", f"c[{i}]", delay=i)
        if i > 1:
            net.synapse(f"c[{i - 1}]", f"c[{i}]", delay=1)
    for i in range(n):
        net.neuron(f"s[{i}]", threshold=1, decay=1)
        for x in "ab":
            net.synapse(f"{x}[{i}]", f"s[{i}]", delay=out_step)
        if i > 0:
            net.synapse(f"c[{i}]", f"s[{i}]", delay=out_step - i)
        net.synapse(f"c[{i + 1}]", f"s[{i}]", weight=-2, delay=out_step - i - 1)
    net.neuron(f"s[{n}]", threshold=1, decay=1)  # the top bit is the last carry
    net.synapse(f"c[{n}]", f"s[{n}]", delay=out_step - n)
    net.probe(*[f"s[{i}]" for i in range(n + 1)], label="binary(s)", decoder="binary")
    return net


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bits", type=int, default=4)
    n = parser.parse_args().bits
    net = ripple_adder(n)
    pairs = list(itertools.product(range(2**n), repeat=2))
    inputs = {
        f"{x}[{i}]": [[0] if (pair[k] >> i) & 1 else [] for pair in pairs]
        for k, x in enumerate("ab")
        for i in range(n)
    }
    steps = n + 3
    result = spikec.simulate(net, steps, inputs=inputs, trials=len(pairs))
    bits = np.stack([result.spikes[f"s[{i}]"] for i in range(n + 1)], axis=2)  # (trials, steps, n+1)
    fire_steps = np.flatnonzero(bits.any(axis=(0, 2)))
    sums = (bits[:, n + 1, :].astype(int) << np.arange(n + 1)).sum(axis=1)
    wrong = [(a, b, int(s)) for (a, b), s in zip(pairs, sums, strict=True) if a + b != s]
    print(f"{net.name}: {net.num_neurons} neurons, {net.num_synapses} synapses;"
          f" {len(pairs)} additions as {len(pairs)} trials of one {steps}-step simulation")
    print(f"sum bits fire only at step(s) {fire_steps.tolist()} (latency n + 1 = {n + 1})")
    print("\n   a +  b = spiking sum")
    for idx in np.linspace(0, len(pairs) - 1, 8).astype(int):
        a, b = pairs[idx]
        print(f"  {a:2d} + {b:2d} = {int(sums[idx]):3d}")
    print(f"\n{len(pairs) - len(wrong)}/{len(pairs)} sums equal Python's a + b"
          + ("" if not wrong else f"; first wrong: {wrong[0]}"))
    raise SystemExit(1 if wrong else 0)


if __name__ == "__main__":
    main()
