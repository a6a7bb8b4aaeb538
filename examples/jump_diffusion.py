"""Jump-diffusion with nonlocal jumps: a lazy walk plus rare jumps of +-L, solved by spiking walkers.

Run:  python examples/jump_diffusion.py [--nodes 41] [--jump 8] [--trials 10] [--walkers 100]

A walker on nodes 0..n-1 moves one node left or right with probability ``p`` each, jumps
``L`` nodes left or right with probability ``q`` each, and stays otherwise; a move or a
jump past either end leaves the line (absorbed). This is the explicit scheme of a
jump-diffusion ``du/dt = D u'' + lambda (u(x + L) + u(x - L) - 2 u(x))`` killed outside
the interval. The transition matrix is written by hand (scipy.sparse), so the density
circuit routes each node's walkers through a gate per outgoing edge: the jumps are just
two more destinations (:func:`spikec.diffusion.chain_from_matrix`).

The boundary-value problem: a walker that leaves past the right end is worth 1, past the
left end 0, so ``u(x)`` is the probability of leaving to the right (a nonlocal gambler's
ruin). A node near the right end can only leave to the right (``L < n / 2``), so each node's
loss has one value: the boundary values are one number per node. The script runs several
start points as copies of the chain in one circuit and prints the estimates against the
exact sparse solve of ``(I - Q) u = R g``, with the first-passage test of ``spikec solve``.
"""

from __future__ import annotations

import argparse

import numpy as np
import scipy.sparse as sp

from spikec.backends.diffusion import solve
from spikec.circuits.diffusion import diffusion_network
from spikec.diffusion import Chain, chain_from_matrix
from spikec.diffusion.exits import with_boundary_values


def jump_matrix(nodes: int = 41, jump: int = 8, p: float = 0.2, q: float = 0.02) -> sp.csr_matrix:
    """The substochastic matrix of the walk (module docstring): rows lose what leaves the line."""
    if not 1 < jump < nodes / 2 or 2 * (p + q) > 1:
        raise ValueError("need 1 < jump < nodes / 2 and 2 (p + q) <= 1")
    i = np.arange(nodes)
    rows, cols, vals = [i], [i], [np.full(nodes, 1.0 - 2 * (p + q))]
    for step, prob in ((1, p), (-1, p), (jump, q), (-jump, q)):
        to = i + step
        inside = (to >= 0) & (to < nodes)
        rows.append(i[inside])
        cols.append(to[inside])
        vals.append(np.full(int(inside.sum()), prob))
    return sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                         shape=(nodes, nodes))


def right_values(nodes: int) -> np.ndarray:
    """Boundary value per node: 1 where a walker leaves past the right end, 0 past the left."""
    return (np.arange(nodes) >= nodes // 2).astype(float)


def jump_problem(nodes: int = 41, jump: int = 8, steps: int = 1500, walkers: int = 100,
                 starts: tuple[int, ...] = (10, 20, 30)) -> Chain:
    """The boundary-value chain: one copy per start point, ``walkers`` each."""
    chain = chain_from_matrix(jump_matrix(nodes, jump), steps, walkers=walkers, start=starts[0],
                              label=f"jump-diffusion on {nodes} nodes, jumps of +-{jump}")
    return with_boundary_values(chain, right_values(nodes), list(starts), walkers)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=41)
    parser.add_argument("--jump", type=int, default=8)
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--walkers", type=int, default=100)
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    from spikec.cli.report_exits import boundary_estimates

    problem = jump_problem(args.nodes, args.jump, args.steps, args.walkers)
    net = diffusion_network(problem)
    print(f"{problem.describe()}\ncircuit: {len(net):,} neurons, {net.num_synapses:,} synapses")
    sol = solve(net, trials=args.trials, seed=args.seed)
    print(f"{'start':>6} {'estimate':>9} {'95% interval':>20} {'exact':>8} {'z':>6} {'inside':>7}"
          f" {'first passage p':>16} {'mean T':>7} {'exact':>7}")
    for r in boundary_estimates(sol):
        lo, hi = r["interval"]
        print(f"{r['start']:>6} {r['estimate']:9.4f} [{lo:8.4f}, {hi:8.4f}] {r['exact']:8.4f} {r['z']:6.2f}"
              f" {r['inside_fraction']:7.2%} {r['first_passage_p']:16.3g} {r['mean_exit_step']:7.2f}"
              f" {r['exact_mean_exit_step_within_run']:7.2f}")


if __name__ == "__main__":
    main()
