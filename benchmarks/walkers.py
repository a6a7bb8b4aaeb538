"""Diffusion walker steps per second: the density-method circuit on each engine against a
vectorized numpy Monte Carlo of the same chain, side by side in one run.

    python benchmarks/walkers.py            # 10^2..10^5 walkers (minutes)
    python benchmarks/walkers.py --quick    # 10^2, 10^3 walkers, few model steps (CI)

Problems: 1D, 21 nodes (reflecting walls, D dt / dx^2 = 1/4) and 2D, 40 x 40 nodes
(reflecting, 1/8 per direction); the walkers start spread evenly over the nodes (the
density circuit's neural steps per model step grow with the most walkers at one node, so a
point source of 10^5 walkers is a much longer run).

The Monte Carlo baseline (``monte_carlo``) is independent of the circuit: one array of walker
positions, one uniform per walker per model step, the next node looked up in the
row-cumulated ``Problem.transition_matrix()`` (rows offset by their index, so one
``searchsorted`` moves every walker; a draw past the row's sum is a lost walker). The
circuit's field is checked against it loosely (the last step's walkers per node within 6 sigma).

Columns: walker steps per second of ``solve`` (one trial, spikec.backends.diffusion) per
engine, and the ratio Monte Carlo / engine (the goal: at most 5 at 10^4 walkers).
"""

from __future__ import annotations

import argparse
import importlib.util
import time

import numpy as np

from spikec.backends.diffusion import solve
from spikec.circuits.diffusion import diffusion_network
from spikec.diffusion import Problem, problem_from_params


def problem(dims: int, walkers: int, steps: int) -> Problem:
    if dims == 1:
        shape, params = (21,), {"nx": 21, "dt": 0.000625}
    else:
        shape, params = (40, 40), {"nx": 40, "ny": 40, "dt": 0.0003125}
    nodes = int(np.prod(shape))
    counts = np.full(nodes, walkers // nodes)
    counts[: walkers - counts.sum()] += 1
    return problem_from_params({**params, "dx": 0.05, "D": 1.0, "steps": steps, "boundary": "reflecting",
                                "counts": counts.reshape(shape)})


def monte_carlo(p: Problem, seed: int = 0) -> tuple[np.ndarray, float]:
    """Walkers per node after each model step (shape (steps + 1, nodes)) and the seconds."""
    t0 = time.perf_counter()
    m = p.transition_matrix().tocsr()
    m.sort_indices()
    rows = np.repeat(np.arange(m.shape[0]), np.diff(m.indptr))
    cum = np.cumsum(m.data) - np.repeat(np.concatenate([[0.0], np.cumsum(m.data)[m.indptr[1:-1] - 1]]),
                                        np.diff(m.indptr)) + rows  # row i's cdf, offset by i
    rng = np.random.default_rng(seed)
    pos = np.repeat(np.arange(p.nodes), p.initial.reshape(-1))
    out = np.zeros((p.steps + 1, p.nodes), dtype=np.int64)
    out[0] = np.bincount(pos, minlength=p.nodes)
    for s in range(p.steps):
        k = np.searchsorted(cum, pos + rng.random(len(pos)), side="right")
        alive = k < m.indptr[pos + 1]  # past the row's sum: the walker is lost
        pos = m.indices[k[alive]]
        out[s + 1] = np.bincount(pos, minlength=p.nodes)
    return out, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small sizes (CI)")
    ap.add_argument("--engines", default="numpy,native,numba,event")
    ap.add_argument("--walkers", default="", help="comma-separated walker counts (default 10^2..10^5)")
    args = ap.parse_args()
    engines = [e for e in args.engines.split(",") if e != "numba" or importlib.util.find_spec("numba")]
    walkers = [100, 1_000] if args.quick else [100, 1_000, 10_000, 100_000]
    if args.walkers:
        walkers = [int(x) for x in args.walkers.split(",")]
    steps = 5 if args.quick else 20
    print(f"walker steps per second ({steps} model steps, one trial); MC = vectorized numpy Monte Carlo")
    head = " ".join(f"{e + ' w-st/s':>14}" for e in engines)
    print(f"\n {'mesh':>7} {'walkers':>8} {'MC w-st/s':>12} {head} {'MC/best':>8} {'best':>7}  check")
    for dims in (1, 2):
        for w in walkers:
            if dims == 2 and w < 1600 and not args.quick:
                continue  # fewer walkers than nodes
            p = problem(dims, w, steps)
            net = diffusion_network(p)
            mc, mc_s = monte_carlo(p)
            ws = w * steps
            rates: dict[str, float] = {}
            counts = None
            for e in engines:
                if e == "numpy" and w * steps > 200_000:
                    continue  # minutes per row
                solve(net, trials=1, seed=0, engine=e, steps=50)  # load the kernel outside the timing
                t0 = time.perf_counter()
                sol = solve(net, trials=1, seed=1, engine=e)
                rates[e] = sol.walker_steps() / (time.perf_counter() - t0)
                counts = sol.counts[0].reshape(steps + 1, -1) if counts is None else counts
            best = max(rates, key=rates.__getitem__)
            # last step: same total, per-node differences within 6 sigma of two Poisson-like counts
            z = (counts[-1] - mc[-1]) / np.sqrt(counts[-1] + mc[-1] + 1) if counts is not None else None
            ok = z is not None and counts[-1].sum() == mc[-1].sum() and float(np.abs(z).max()) < 6
            cells = " ".join(f"{rates[e]:14,.0f}" if e in rates else f"{'-':>14}" for e in engines)
            mesh = "21" if dims == 1 else "40x40"
            print(f" {mesh:>7} {w:8,d} {ws / mc_s:12,.0f} {cells} {ws / mc_s / rates[best]:8.1f} {best:>7}"
                  f"  {'field ~ MC' if ok else 'FIELD DIFFERS'}")


if __name__ == "__main__":
    main()
