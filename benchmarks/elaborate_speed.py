"""How fast the .spk front end parses and elaborates large programs.

The program below is written with loops: 100,000 neurons (100 inputs and
99,900 leaky neurons) and 1,000,000 synapses (10 per neuron, one
connection statement each, with computed targets, weights and delays).
Its loops run as arrays (``spikec.dsl.loops``); ``--slow`` runs them one
iteration at a time instead, for comparison (the same network).

    python benchmarks/elaborate_speed.py            # the full size
    python benchmarks/elaborate_speed.py --scale 0.1
    python benchmarks/elaborate_speed.py --slow     # loops one iteration at a time
    python benchmarks/elaborate_speed.py --cases    # also the large cases below

prints a table: parse time, elaboration time, neurons, synapses, the bytes
the network holds (``Network.nbytes``) and the process's peak resident
memory (which includes the Python interpreter and the imported libraries,
about 100 MiB before any work). ``--cases`` adds one row per large case
(each elaborated with the default limits): a 9-million-synapse all-to-all
connection, 2 million inputs, a million Poisson inputs, ``matmul_ge<64>``
and ``sort<64, 64>`` of the circuit library.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time

from spikec.dsl import Limits, compile_text, elaborate, parse

PROGRAM = """\
// benchmark: {neurons} neurons, {synapses} synapses, built with loops
let n = {neurons}
let k = 10
let m = n - 100
input x[100]
neuron h[m] (threshold = 2, decay = 0.5)
for i in 0..100 {{
    for j in 0..k {{
        x[i] -> h[(i * 997 + j) % m]
    }}
}}
for i in 0..m {{
    for j in 1..k + 1 {{
        h[i] -> h[(i + j * 37) % m] (weight = 0.5, delay = 1 + j % 3)
    }}
}}
probe count(h[0..10])
"""

#: name -> program of the large cases (default limits).
CASES = {
    "all-to-all 3000 x 3000": "neuron a[3000]\nneuron b[3000]\na -> b\n",
    "input x[1999000]": "input x[1999000]\n",
    "1M poisson inputs": "input x[1000000]\nstimulus x = poisson(0.1)\n",
    "matmul_ge<64, 1>": "import std.matmul\ninput a[4096]\ninput b[4096]\nlet m = matmul_ge<64, 1>(a, b)\n",
    "sort<64, 64>": "import std.arith\ninput x[4096]\nlet s = sort<64, 64>(x)\n",
}


def _peak_rss_mib() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports KiB, macOS bytes.
    return peak / (1 << 20) if sys.platform == "darwin" else peak / 1024


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0,
                        help="fraction of the full size (default 1.0)")
    parser.add_argument("--slow", action="store_true", help="run loops one iteration at a time")
    parser.add_argument("--cases", action="store_true", help="also elaborate the large cases")
    args = parser.parse_args(argv)
    neurons = max(200, int(100_000 * args.scale))
    text = PROGRAM.format(neurons=neurons, synapses=neurons * 10)

    t0 = time.perf_counter()
    program = parse(text, "elaborate_speed.spk")
    t1 = time.perf_counter()
    net = elaborate(program, limits=Limits(max_neurons=10**7, max_synapses=10**8, max_work=10**9),
                    fast_loops=not args.slow)
    t2 = time.perf_counter()

    rows = [
        ("parse", f"{(t1 - t0) * 1e3:.1f} ms"),
        ("elaborate", f"{t2 - t1:.2f} s"),
        ("neurons", f"{net.num_neurons:,}"),
        ("synapses", f"{net.num_synapses:,}"),
        ("per synapse", f"{(t2 - t1) / max(net.num_synapses, 1) * 1e6:.2f} us"),
        ("network bytes", f"{net.nbytes / (1 << 20):.0f} MiB"),
    ]
    if args.cases:
        del net
        for name, case in CASES.items():
            start = time.perf_counter()
            made = compile_text(case, fast_loops=not args.slow)
            took = time.perf_counter() - start
            rows.append((name, f"{took:.2f} s, {made.num_neurons:,} neurons, {made.num_synapses:,} synapses,"
                               f" {made.nbytes / (1 << 20):.0f} MiB"))
            del made
    rows.append(("peak memory (RSS)", f"{_peak_rss_mib():.0f} MiB"))
    width = max(len(name) for name, _ in rows)
    print(f"{'measure':<{width}}  value")
    print(f"{'-' * width}  {'-' * 12}")
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
