"""Stochastic diffusion by spiking random walkers: problems, exact chains, references.

- :mod:`~spikec.diffusion.problem`: :class:`Problem` (the equation, mesh,
  boundaries and walkers, checked), its exact Markov chain, the per-node
  routing the circuits are built from, :func:`chain_counts` (a direct Monte
  Carlo of the chain) and :class:`Readout` (how a circuit exposes its field);
- :mod:`~spikec.diffusion.chain`: :class:`Chain`, any substochastic Markov chain
  (a sparse matrix, a file, a networkx graph, a mesh graph, a 1D/2D/3D grid with D, v
  and k per node) with sources, and its exact distributions (sparse matrix powers);
  :mod:`~spikec.diffusion.grid` and :mod:`~spikec.diffusion.routing` build the
  per-node outcomes and routing gates of every node at once;
- :mod:`~spikec.diffusion.reference`: the continuous references (heat kernel
  with images, theta-scheme finite differences) and the L2 error;

Running a solver circuit is the simulator's work: :func:`spikec.backends.diffusion.solve`
returns a :class:`~spikec.backends.diffusion.Solution`; what ``spikec solve`` prints and
writes (tables, CSV, NPZ, plots) is :mod:`spikec.cli.report`. This package imports neither.

The circuits themselves are library circuits: :mod:`spikec.circuits.diffusion`.
"""

from __future__ import annotations

from spikec.diffusion.chain import (
    Chain,
    chain_from_graph,
    chain_from_matrix,
    grid_chain,
    mesh_chain,
    problem_from_dict,
    sample_chain,
)
from spikec.diffusion.problem import (
    BOUNDARIES,
    METHODS,
    PROBLEM_PARAMS,
    DiffusionError,
    Problem,
    Readout,
    chain_counts,
    problem_from_params,
)
from spikec.ir.decoders import count_field

__all__ = [
    "Chain",
    "chain_from_graph",
    "chain_from_matrix",
    "grid_chain",
    "mesh_chain",
    "problem_from_dict",
    "sample_chain",
    "BOUNDARIES",
    "METHODS",
    "PROBLEM_PARAMS",
    "DiffusionError",
    "Problem",
    "Readout",
    "chain_counts",
    "problem_from_params",
    "count_field",
]
