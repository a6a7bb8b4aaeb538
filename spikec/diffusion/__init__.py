"""Stochastic diffusion by spiking random walkers: problems, exact chains, references, solving.

- :mod:`~spikec.diffusion.problem`: :class:`Problem` (the equation, mesh,
  boundaries and walkers, checked), its exact Markov chain, the per-node
  routing the circuits are built from, :func:`chain_counts` (a direct Monte
  Carlo of the chain) and :class:`Readout` (how a circuit exposes its field);
- :mod:`~spikec.diffusion.reference`: the continuous references (heat kernel
  with images, theta-scheme finite differences) and the L2 error;
- :mod:`~spikec.diffusion.solver`: :func:`solve` runs a solver circuit on the
  simulator and returns a :class:`Solution`;
- :mod:`~spikec.diffusion.report`: what ``spikec solve`` prints and writes
  (tables, CSV, NPZ, plots).

The circuits themselves are library circuits: :mod:`spikec.circuits.diffusion`.
"""

from __future__ import annotations

from typing import Any

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
    "BOUNDARIES",
    "METHODS",
    "PROBLEM_PARAMS",
    "DiffusionError",
    "Problem",
    "Readout",
    "chain_counts",
    "problem_from_params",
    "count_field",
    "Solution",
    "solve",
    "field_probe",
]

_SOLVER = ("Solution", "solve", "field_probe")


def __getattr__(name: str) -> Any:
    # The solver loads the simulator; problems and circuits do not need it.
    if name in _SOLVER:
        from spikec.diffusion import solver

        return getattr(solver, name)
    raise AttributeError(f"module 'spikec.diffusion' has no attribute {name!r}")
