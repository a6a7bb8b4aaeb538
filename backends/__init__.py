"""Backends: the simulator, and emitters/importers of other formats.

Backends read :class:`spikec.Network` objects; they never import the
language front end (``spikec.dsl``).
"""

from spikec.backends.simulator import DEFAULT_MAX_MEMORY, SimResult, Simulator, simulate

__all__ = ["simulate", "Simulator", "SimResult", "DEFAULT_MAX_MEMORY"]
