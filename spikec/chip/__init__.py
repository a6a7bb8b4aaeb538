"""Chips: what a target can hold and cost, where neurons go, and chip neuron models.

- :mod:`~spikec.chip.target`: the target schema (:class:`Target`) and the
  built-in target files in ``spikec/chip/targets/``;
- :mod:`~spikec.chip.placement`: :class:`Placement`, partitioning onto cores,
  per-core limits, axon types, routing tables, one-destination replication;
- :mod:`~spikec.chip.linear_leak`: the TrueNorth linear-leak neuron and the
  exact mapping of decay-1 gates onto its floor;
- :mod:`~spikec.chip.stats`: per-core fill, traffic and energy.

Chip modules import only the IR; the passes that use them live in :mod:`spikec.passes`.
"""

from spikec.chip.placement import Placement
from spikec.chip.target import Target, builtin_targets, load_target

__all__ = ["Target", "load_target", "builtin_targets", "Placement"]
