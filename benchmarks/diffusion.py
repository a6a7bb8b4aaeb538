"""Diffusion solvers: convergence with walkers, throughput, energy.

    python benchmarks/diffusion.py            # full tables (a few minutes)
    python benchmarks/diffusion.py --quick    # smaller, for CI

1. Convergence. A 1D heat problem (reflecting walls, point source) solved by
   the density-method circuit with W walkers, W over several decades. For each
   W the RMS over trials of the L2 error of the concentration at the last
   model step, against the heat kernel and against the exact chain mean. The
   error against the kernel falls like W^-1/2 until it meets the
   discretization floor (chain mean vs kernel), which is the finite-difference
   solution's own error (the explicit scheme is the chain mean). The fitted
   slope uses the W whose error is at least 3x the floor.
2. Throughput. Walker steps per second of the spiking simulation (numba
   engine) against a direct numpy Monte Carlo of the same chain
   (multinomial moves per node, vectorized over trials), and the cost per
   walker step on the Loihi target by its energy model
   (spikec.backends.diffusion.walker_step_cost, the figure `spikec solve`
   prints: every trial counted up to its last model step; spikes 69.3 pJ,
   synaptic events 35.5 pJ, neuron updates 72.8 pJ each, from
   spikec/chip/targets/loihi.toml).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from spikec.backends.diffusion import solve, walker_step_cost
from spikec.circuits.diffusion import density_resources, diffusion_network
from spikec.diffusion import Problem, chain_counts, problem_from_params
from spikec.diffusion.reference import finite_difference, heat_kernel, l2_error


def heat(walkers: int, steps: int) -> Problem:
    return problem_from_params({"nx": 21, "dx": 0.05, "D": 1.0, "dt": 0.000625, "steps": steps,
                                "boundary": "reflecting", "walkers": walkers})


def convergence(decades: list[int], steps: int, budget: int) -> None:
    print("1. L2 error of the concentration at the last step vs walkers"
          f" (21 nodes, reflecting, {steps} model steps)\n")
    base = heat(1, steps)
    kernel = heat_kernel(base)[-1]
    chain = base.exact_mean()[-1]
    fd = finite_difference(base, theta=0.5, substeps=16)[-1]
    floor = float(l2_error(chain[None], kernel[None], base)[0])
    fd_floor = float(l2_error(fd[None], kernel[None], base)[0])
    print(f"   discretization floor: chain mean (= explicit FD) vs heat kernel {floor:.3e};"
          f" Crank-Nicolson FD vs heat kernel {fd_floor:.3e}\n")
    print(f"   {'walkers':>9} {'trials':>6} {'L2 vs kernel':>13} {'L2 vs chain':>12} {'seconds':>8}")
    xs, ys = [], []
    for w in decades:
        p = heat(w, steps)
        trials = int(max(4, min(40, budget // w)))
        sol = solve(diffusion_network(p), trials=trials, seed=1)
        conc = sol.counts[:, -1]
        ek = np.sqrt(np.mean([l2_error(c[None] / 1.0, w * kernel[None], p)[0] ** 2 for c in conc]))
        ec = np.sqrt(np.mean([l2_error(c[None] / 1.0, w * chain[None], p)[0] ** 2 for c in conc]))
        print(f"   {w:9,d} {trials:6d} {ek:13.3e} {ec:12.3e} {sol.seconds:8.2f}")
        if ek >= 3 * floor:
            xs.append(np.log10(w))
            ys.append(np.log10(ek))
    if len(xs) >= 2:
        slope = np.polyfit(xs, ys, 1)[0]
        print(f"\n   fitted slope of log10(L2 vs kernel) on log10(walkers), over {xs[-1] - xs[0]:.0f}"
              f" decades where the error is >= 3x the floor: {slope:.3f} (theory -0.5)")


def throughput(walkers: list[int], steps: int, trials: int) -> None:
    print("\n2. Throughput: walker steps per second, spiking circuit vs numpy Monte Carlo of the chain;"
          " cost per walker step on loihi (its energy model, every trial up to its last model step)\n")
    print(f"   {'walkers':>9} {'trials':>6} {'spiking w-steps/s':>18} {'numpy w-steps/s':>16}"
          f" {'neural steps/model step':>24} {'spikes':>7} {'syn. events':>12} {'neuron updates':>15}"
          f" {'pJ/w-step':>10}")
    for w in walkers:
        p = heat(w, steps)
        net = diffusion_network(p)
        solve(net, trials=1, seed=0, engine="numba")  # compile the kernel outside the timing
        t0 = time.perf_counter()
        sol = solve(net, trials=trials, seed=2, engine="numba")
        spiking = time.perf_counter() - t0
        ws = sol.walker_steps()
        t0 = time.perf_counter()
        chain_counts(p, trials, seed=2)
        direct = time.perf_counter() - t0
        per = walker_step_cost(sol, net, "loihi")["per_walker_step"]
        per_step = float(np.mean(sol.neural_steps)) / p.steps
        print(f"   {w:9,d} {trials:6d} {ws / spiking:18,.0f} {ws / direct:16,.0f} {per_step:24.1f}"
              f" {per['spikes']:7.2f} {per['synaptic_events']:12.2f} {per['neuron_updates']:15.1f}"
              f" {per['energy'] * 1e12:10.0f}")
    r = density_resources(heat(1, 1))
    print(f"\n   circuit: {r['neurons_per_node']:.2f} neurons and {r['synapses_per_node']:.1f} synapses"
          f" per node (21 nodes, 2 supervisors); a model step takes {r['neural_steps_per_model_step']}"
          " neural steps")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small sizes (CI)")
    args = ap.parse_args()
    if args.quick:
        convergence([10, 100, 1000], steps=20, budget=4000)
        throughput([100], steps=20, trials=2)
    else:
        convergence([10, 100, 1_000, 10_000, 100_000], steps=40, budget=200_000)
        throughput([100, 1_000, 10_000], steps=40, trials=1)


if __name__ == "__main__":
    main()
