#!/usr/bin/env python
"""Trials on Dask workers against one process: the ``sim_throughput`` network.

Runs ``--trials`` trials (default 64) of the network of
``benchmarks/sim_throughput.py`` (its inputs: one raster per trial) in one
process on one thread, then with ``spikec.simulate(..., client=...)`` on
local Dask clusters of 1, 2 and 4 worker processes (one thread each, the
native kernel on one thread: ``SPIKEC_THREADS=1``), reductions on the workers
(``keep_raster=False``). Each cluster runs ``--repeat`` times after a warm-up run
(which starts the workers' Python and loads the kernel), each run beside a
one-process run (so a busy spell of the shared machine slows both alike); a row
shows its fastest run, the one-process row the fastest of all one-process runs,
measured side by side in this one invocation; the synaptic events of every run are
checked against the one-process run.

The table shows each run's time as a ratio to an *ideal split* of the
one-process time over ``min(workers, cores)``: 1.00 is perfect scaling, the
goal is at most 1.2 for two workers. Run ``python benchmarks/dask_trials.py
--quick`` for a smoke test of a few seconds.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

os.environ["SPIKEC_THREADS"] = "1"  # one kernel thread per process, here and on the workers
sys.path.insert(0, str(Path(__file__).resolve().parent))

from sim_throughput import BenchConfig, input_rasters, make_network  # noqa: E402


def build(cfg: BenchConfig) -> Any:
    """The spikec network of ``cfg``, built as sim_throughput builds it."""
    import spikec

    spec = make_network(cfg)
    names = spec.names()
    net = spikec.Network("sim_throughput")
    for i in range(spec.n_cells):
        net.neuron(names[i], bias=spec.bias, v0=float(spec.v0[i]))
    for k in range(spec.n_inputs):
        net.input(names[spec.n_cells + k])
    name_arr = np.array(names, dtype=object)
    net.add_synapses(name_arr[spec.pre].tolist(), name_arr[spec.post].tolist(), spec.weight, spec.delay)
    return net


def main(argv: list[str] | None = None) -> int:
    """Measure and print the table."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--neurons", type=int, default=10_000)
    p.add_argument("--synapses", type=int, default=1_000_000)
    p.add_argument("--steps", type=int, default=1_000)
    p.add_argument("--trials", type=int, default=64)
    p.add_argument("--workers", default="1,2,4", help="worker counts, comma-separated")
    p.add_argument("--repeat", type=int, default=3,
                   help="timed runs per cluster, each beside a one-process run (the fastest is shown)")
    p.add_argument("--engine", default="native")
    p.add_argument("--quick", action="store_true", help="smoke test: 1,000 neurons, 50,000 synapses,"
                   " 200 steps")
    args = p.parse_args(argv)
    if args.quick:
        args.neurons, args.synapses, args.steps, args.repeat = 1_000, 50_000, 200, 1
    import distributed

    import spikec

    cfg = BenchConfig(args.neurons, args.synapses, args.steps, 0)
    net = build(cfg)
    rasters = input_rasters(cfg, args.trials)
    names = net.inputs()
    inputs = {name: rasters[:, k, :] for k, name in enumerate(names)}
    kw: dict[str, Any] = {"inputs": inputs, "trials": args.trials, "record": [], "engine": args.engine}
    cores = len(os.sched_getaffinity(0))
    print(f"network: {cfg.neurons} neurons, {cfg.synapses} synapses, {cfg.steps} steps, {args.trials} trials,"
          f" engine {args.engine}; {cores} cores; load average {os.getloadavg()[0]:.2f}", flush=True)

    spikec.simulate(net, 1, **{**kw, "inputs": {n: r[:, :1] for n, r in inputs.items()}})  # warm-up
    counts = [int(x) for x in args.workers.split(",") if x.strip()]
    times: dict[int, list[float]] = {w: [] for w in [0, *counts]}
    results: dict[int, Any] = {}

    def timed(w: int, **extra: Any) -> None:
        t0 = time.perf_counter()
        results[w] = spikec.simulate(net, cfg.steps, **kw, **extra)
        times[w].append(time.perf_counter() - t0)

    for w in counts:  # one cluster at a time; its runs alternate with one-process runs
        cluster = distributed.LocalCluster(n_workers=w, threads_per_worker=1, processes=True,
                                           dashboard_address=":0", silence_logs=logging.ERROR,
                                           env={"SPIKEC_THREADS": "1"})
        with cluster, distributed.Client(cluster) as client:
            # warm-up: the workers import spikec and load the kernel
            spikec.simulate(net, cfg.steps, client=client, keep_raster=False, **kw)
            for _ in range(args.repeat):
                timed(0)
                timed(w, client=client, keep_raster=False)
        print(f"  dask, {w} worker(s): {min(times[w]):.3f} s", flush=True)
    one_s, one = min(times[0]), results[0]
    rows = [("one process", 1, one_s, "")]
    for w in counts:
        res = results[w]
        same = "identical events" if res.synaptic_events == one.synaptic_events else "EVENTS DIFFER"
        rows.append((f"dask, {w} worker{'s' if w > 1 else ''}", w, min(times[w]),
                     f"{len(res.shards)} shards, {same}"))
    print("all run times (s), in order: " + "; ".join(
        f"{'one process' if w == 0 else f'{w} workers'} " + ", ".join(f"{t:.2f}" for t in ts)
        for w, ts in times.items()))

    print("\n| run | workers | run s | speedup | ideal split s | ratio to ideal | notes |")
    print("|---|---|---|---|---|---|---|")
    for label, w, secs, notes in rows:
        ideal = one_s / min(w, cores)
        print(f"| {label} | {w} | {secs:.3f} | {one_s / secs:.2f}x | {ideal:.3f} | {secs / ideal:.2f}"
              f" | {notes} |")
    print(f"\nrun s: the fastest of {args.repeat} run(s) per cluster, each beside a one-process run;"
          " ideal split = one-process time / min(workers, cores)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
