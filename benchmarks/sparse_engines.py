"""Sparse-activity circuits on every simulator engine, side by side in one run.

    python benchmarks/sparse_engines.py            # full sizes (about a minute)
    python benchmarks/sparse_engines.py --quick    # small sizes (CI)

Cases (each run once per engine, after one untimed warm-up run that builds and loads
the kernels; every engine's spikes are checked identical to the first's):

- ``adder stream (dense)``: one ``cla_add<64>`` from ``std.arith`` (examples/pipelined_adder.spk
  at 64 bits), a new random pair of numbers entering every step: most gates work every step.
- ``adder bank (sparse)``: 64 ``cla_add<32>`` adders side by side, the stream of pairs
  dealt round-robin, one pair per step in all (each adder takes a pair every 64 steps).
- ``shortest paths``: ``std.graph`` on a random graph with 10^5 directed edges (50,000
  undirected, lengths 1..10, then 1..100) from one source: the spike wave front is Dijkstra's
  search, each edge's length a synaptic delay, so longer edges spread the same spikes over more
  steps. The distances are checked against networkx.

Columns: seconds per run and the speed-up over ``native`` (what ``engine="auto"`` ran for
runs of this size before the event engine). ``auto`` is today's choice.
"""

from __future__ import annotations

import argparse
import importlib.util
import time
from collections.abc import Callable
from typing import Any

import networkx as nx
import numpy as np

import spikec
from spikec.backends.simulator import Simulator
from spikec.circuits.graph import shortest_path_network


def adder_bank(units: int, bits: int) -> spikec.Network:
    lines = ["import std.arith"]
    for k in range(units):
        lines += [f"input a{k}[{bits}]", f"input b{k}[{bits}]", f"let u{k} = cla_add<{bits}>(a{k}, b{k})"]
    lines.append("probe " + ", ".join(f"u{k}.s" for k in range(units)))
    return spikec.loads("\n".join(lines), "<adder bank>")


def adder_inputs(units: int, bits: int, steps: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Unit k takes a random pair at steps k, k + units, ...; each bit is 1 with probability 1/2."""
    rng = np.random.default_rng(seed)
    out = {}
    for k in range(units):
        for x in "ab":
            for i in range(bits):
                r = np.zeros(steps, dtype=bool)
                r[k::units] = rng.random(len(r[k::units])) < 0.5
                out[f"{x}{k}[{i}]"] = r
    return out


def graph_case(edges: int, seed: int = 0, longest: int = 10) -> tuple[spikec.Network, int, dict[str, Any],
                                                                     Callable[..., str]]:
    rng = np.random.default_rng(seed)
    n = edges // 5
    g = nx.gnm_random_graph(n, edges // 2, seed=seed)
    for u, v in g.edges:
        g.edges[u, v]["weight"] = int(rng.integers(1, longest + 1))
    net = shortest_path_network(g)
    exact = nx.single_source_dijkstra_path_length(g, 0)
    steps = max(exact.values()) + 3
    vertices = net.resolve([f"v[{i}]" for i in range(n)])

    def check(result: spikec.SimResult) -> str:
        spikes = result.spikes_of(vertices)[:, 0, :]
        fired = spikes.any(axis=1)
        first = np.where(fired, spikes.argmax(axis=1) - 1, -1)
        want = np.full(n, -1)
        want[list(exact)] = list(exact.values())
        return "distances = Dijkstra" if np.array_equal(first, want) else "DISTANCES WRONG"

    return net, steps, {"inputs": {"start[0]": [0]}, "record": vertices}, check


def engines(wanted: list[str]) -> list[str]:
    if importlib.util.find_spec("numba") is None:
        wanted = [e for e in wanted if e != "numba"]
    return wanted


def bench(name: str, net: spikec.Network, steps: int, kw: dict[str, Any], names: list[str],
          check: Callable[[spikec.SimResult], str] | None = None) -> None:
    sim = Simulator(net)
    print(f"\n{name}: {len(net):,} neurons, {net.num_synapses:,} synapses, {steps:,} steps")
    print(f"   {'engine':>8} {'seconds':>9} {'vs native':>10} {'spikes':>11}  check")
    times: dict[str, float] = {}
    first: np.ndarray | None = None
    for engine in names:
        sim.run(steps, engine=engine, **kw)  # build / load / compile outside the timing
        t0 = time.perf_counter()
        result = sim.run(steps, engine=engine, **kw)
        times[engine] = time.perf_counter() - t0
        data = result.spike_array()
        if first is None:
            first = data
        note = "identical" if np.array_equal(data, first) else "SPIKES DIFFER"
        if check is not None:
            note += ", " + check(result)
        ratio = times.get("native", float("nan")) / times[engine]
        print(f"   {engine:>8} {times[engine]:9.4f} {ratio:9.1f}x {int(data.sum()):11,d}  {note}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small sizes (CI)")
    ap.add_argument("--engines", default="numpy,native,numba,event,auto")
    args = ap.parse_args()
    names = engines(args.engines.split(","))
    if "native" in names:  # the reference column first
        names.remove("native")
        names.insert(0, "native")
    steps = 2_000 if args.quick else 20_000
    net = adder_bank(1, 64)
    bench("adder stream (dense): cla_add<64>, a pair every step", net, steps,
          {"inputs": adder_inputs(1, 64, steps), "record": "all"}, names)
    units, bits = (16, 32) if args.quick else (64, 32)
    net = adder_bank(units, bits)
    bench(f"adder bank (sparse): {units} x cla_add<{bits}>, one pair per step round-robin", net, steps,
          {"inputs": adder_inputs(units, bits, steps), "record": "all"}, names)
    for longest in (10, 100):  # longer edges: the same spikes spread over more (mostly idle) steps
        net, gsteps, kw, check = graph_case(10_000 if args.quick else 100_000, longest=longest)
        bench(f"shortest paths (std.graph), lengths 1..{longest}", net, gsteps, kw, names, check)


if __name__ == "__main__":
    main()
