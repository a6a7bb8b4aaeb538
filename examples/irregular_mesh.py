"""Diffusion on an irregular mesh: a Delaunay triangulation, solved by spiking random walkers.

Run:  python examples/irregular_mesh.py [--side 8] [--trials 20] [--steps 40]

Jittered points in the unit square are triangulated (scipy.spatial.Delaunay); the mesh
graph's edges carry the conductance 1 / length^2 (from the nodes' ``pos``), so a walker
at node i moves to neighbour j with probability ``D dt / |x_i - x_j|^2`` per model step
(:func:`spikec.diffusion.mesh_chain`). Walkers start at the node nearest the centre, a
source injects more there every model step, and a sink near one corner kills them
(``kill``). The density circuit is built from the chain's sparsity, one routing gate per
outgoing edge, and run for several trials; the script prints the chain, the circuit and
the spiking mean against the exact mean (sparse matrix powers with the sources added),
and the z-scores of the last step's per-node counts (pooled over trials) against their
exact mean and variance.
"""

from __future__ import annotations

import argparse

import networkx as nx
import numpy as np
from scipy.spatial import Delaunay
from scipy.stats import chi2

from spikec.backends.diffusion import solve
from spikec.circuits.diffusion import density_resources, diffusion_network
from spikec.diffusion import mesh_chain


def delaunay_graph(side: int, seed: int) -> nx.Graph:
    """The edges of a Delaunay triangulation of a jittered side x side grid of points in the
    unit square (no two points very close, so no edge very short), positions in ``pos``."""
    h = 1.0 / (side - 1)
    grid = np.stack(np.meshgrid(np.arange(side) * h, np.arange(side) * h, indexing="ij"), axis=-1)
    pts = grid.reshape(-1, 2) + np.random.default_rng(seed).uniform(-0.25 * h, 0.25 * h, (side * side, 2))
    graph = nx.Graph()
    graph.add_nodes_from((i, {"pos": tuple(p)}) for i, p in enumerate(pts))
    for tri in Delaunay(pts).simplices:
        graph.add_edges_from((int(tri[a]), int(tri[(a + 1) % 3])) for a in range(3))
    return graph


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--side", type=int, default=8, help="points per side of the jittered grid")
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--steps", type=int, default=40)
    args = parser.parse_args()

    graph = delaunay_graph(args.side, seed=1)
    pos = np.array([graph.nodes[i]["pos"] for i in graph.nodes])
    centre = int(np.argmin(np.sum((pos - 0.5) ** 2, axis=1)))
    kill = np.where(np.sum((pos - 0.85) ** 2, axis=1) < 0.04, 20.0, 0.0)  # a sink near (0.85, 0.85)
    # the largest dt the walk allows: a walker may leave its node with probability at most 1
    probe = mesh_chain(graph, D=1.0, dt=1e-12, steps=1, walkers=1, kill=kill)
    leave = (1.0 - probe.matrix.diagonal()) / 1e-12
    dt = 0.5 / leave.max()
    sources = np.zeros(graph.number_of_nodes(), dtype=np.int64)
    sources[centre] = 3
    chain = mesh_chain(graph, D=1.0, dt=dt, steps=args.steps, kill=kill, walkers=40, start=centre,
                       sources=sources)
    res = density_resources(chain)
    print(chain.describe())
    print(f"circuit: {res['neurons']:,} neurons, {res['synapses']:,} synapses, at most"
          f" {res['gates_per_node']} routing gates at a node")
    sol = solve(diffusion_network(chain), trials=args.trials, seed=0)
    exact = chain.exact_mean()
    mean = sol.mean()
    print(" step   walkers (spiking)   walkers (exact)   max |mean - exact| per node")
    for m in range(0, args.steps + 1, max(1, args.steps // 5)):
        worst = np.abs(mean[m] - exact[m]).max()
        print(f" {m:4d}   {mean[m].sum():17.2f}   {exact[m].sum():15.2f}   {worst:.3f}")
    # per-node counts at the last step against a Poisson-binomial normal approximation:
    # the variance of a node's count is the sum over walkers of p (1 - p)
    m = args.steps
    var = np.zeros(chain.nodes)
    for node, count in enumerate(chain.initial):
        if count:
            p = chain.occupancy_probabilities(node, m)[m, :-1]
            var += count * p * (1 - p)
    table = chain.source_table()
    for t in range(m):
        for node in np.flatnonzero(table[t]):
            p = chain.occupancy_probabilities(int(node), m - t - 1)[m - t - 1, :-1]
            var += table[t, node] * p * (1 - p)
    busy = exact[m] * sol.trials >= 5
    z = (sol.counts[:, m].sum(axis=0) - sol.trials * exact[m])[busy] / np.sqrt(sol.trials * var[busy])
    print(f"last step: mean z^2 over {int(busy.sum())} busy nodes = {np.mean(z**2):.2f} (about 1 when the"
          f" solver samples the chain; p of the largest |z| = {chi2.sf(np.max(z**2), 1) * busy.sum():.2g},"
          " Bonferroni)")


if __name__ == "__main__":
    main()
