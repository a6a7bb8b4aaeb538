"""Backends: the simulator, and the emitters and importers of other formats.

- the simulator (:mod:`~spikec.backends.simulator`, its compiled kernel, the
  stimulus planner and the slow reference interpreter);
- emitters of compiled networks: spikec netlists, SANA-FE, NIR;
- importers of trained models: Keras HDF5, NIR (into layered threshold nets).

:mod:`~spikec.backends.formats` is the table of emitters and importers the
CLI and API read. Backends read :class:`spikec.ir.Network` objects and chip
data (:mod:`spikec.chip`); they never import the language front end, the
passes or the CLI.
"""

from __future__ import annotations

from typing import Any

__all__ = ["simulate", "Simulator", "SimResult", "DEFAULT_MAX_MEMORY"]


def __getattr__(name: str) -> Any:
    # The simulator loads numpy; reading the format table (the CLI's start) does not need it.
    if name in __all__:
        from spikec.backends import simulator

        return getattr(simulator, name)
    raise AttributeError(f"module 'spikec.backends' has no attribute {name!r}")
