"""Estimated against measured memory of the runs named in issue 13.

Each case runs in its own subprocess. Measured is the peak resident set size
(``ru_maxrss``) minus the resident size just before the run, after the imports,
the network's construction and a warm-up run (so it is what the run itself
allocates); the estimate is the simulator's (``Simulator.memory_estimate``,
``memory_total``), ``solve``'s (``spikec.backends.diffusion.memory_estimate``) or
the CLI output stage's (``spikec.backends.results.output_bytes``, plus the run).

    python benchmarks/memory_estimate.py          # small versions (about a minute)
    python benchmarks/memory_estimate.py --full   # the sizes of the issue (GBs, minutes)

prints ``case | estimate | measured | ratio``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

CASES = {
    # name: (small args, full args)
    "poisson": ({"k": 10_000, "steps": 2_000}, {"k": 10_000, "steps": 20_000}),
    "always-firing": ({"n": 100_000, "steps": 20}, {"n": 100_000, "steps": 100}),
    "cli-output": ({"steps": 2_000_000}, {"steps": 20_000_000}),
    "solve": ({"nx": 10, "per": 100, "trials": 4}, {"nx": 40, "per": 625, "trials": 1}),
}

_CHILD = r'''
import json, resource, sys
import numpy as np
case, a = sys.argv[1], json.loads(sys.argv[2])

def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize()

from spikec.ir.network import Network
from spikec.backends.simulator import Simulator, memory_total, simulate
if case == "poisson":
    net = Network("p"); net.stimulate(net.add_inputs("i", a["k"]), rate=0.1)
    simulate(net, 2, record="all")
    est = memory_total(Simulator(net).memory_estimate(a["steps"], record="all"))
    base = rss(); simulate(net, a["steps"], record="all")
elif case == "always-firing":
    net = Network("f"); idx = net.add_neurons("n", a["n"], threshold=1.0, bias=1.0, decay=1.0)
    net.add_synapses(idx, np.roll(idx, 1), 0.0, 1)
    simulate(net, 2, record=[], engine="numpy")
    est = memory_total(Simulator(net).memory_estimate(a["steps"], record=[], engine="numpy"))
    base = rss(); simulate(net, a["steps"], record=[], engine="numpy")
elif case == "cli-output":
    from spikec.backends.results import output_bytes
    from spikec.ir.decoders import decode_probes
    net = Network("one"); net.add_neurons("n", 1, threshold=1.0, bias=1.0, decay=1.0)
    simulate(net, 2)
    base = rss()
    r = simulate(net, a["steps"])
    est = memory_total(Simulator(net).memory_estimate(a["steps"])) + output_bytes(net, r)
    doc = {"spikes": {n: r.spike_times(n) for n in r.spikes}, "probes": decode_probes(net, r.spikes)}
    text = json.dumps(doc) + "\n"
    data = text.encode()
else:
    from spikec.circuits.diffusion import diffusion_network
    from spikec.diffusion.problem import Problem
    from spikec.backends.diffusion import memory_estimate, solve
    nx = a["nx"]
    p = Problem(shape=(nx, nx), D=1.0, dx=1.0, dt=0.2, steps=4, initial=np.full((nx, nx), a["per"]),
                boundary=(("reflecting", "reflecting"),) * 2, drift=(0.0, 0.0))
    net = diffusion_network(p, "d")
    solve(net, trials=1, steps=4)
    est = memory_estimate(net, trials=a["trials"])
    base = rss(); solve(net, trials=a["trials"])
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"estimate": est, "measured": max(peak - base, 1)}))
'''


def main() -> None:
    """Run every case in a subprocess and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="the sizes of the issue")
    parser.add_argument("cases", nargs="*", default=list(CASES), help="cases to run")
    args = parser.parse_args()
    print(f"{'case':<15} | {'estimate':>12} | {'measured':>12} | ratio (measured / estimate)")
    for name in args.cases:
        params = CASES[name][1 if args.full else 0]
        out = subprocess.run([sys.executable, "-c", _CHILD, name, json.dumps(params)],
                             capture_output=True, text=True, check=True)
        got = json.loads(out.stdout.strip().splitlines()[-1])
        est, meas = got["estimate"], got["measured"]
        print(f"{name:<15} | {est / 2**20:9.1f} MiB | {meas / 2**20:9.1f} MiB | {meas / est:.2f}")


if __name__ == "__main__":
    main()
