"""The spikec IR: networks of integrate-and-fire neurons, their checks, text and files.

- :mod:`~spikec.ir.network`: :class:`Network` (stored by :mod:`~spikec.ir.store`,
  built in bulk and edited by :mod:`~spikec.ir.bulk`, names in :mod:`~spikec.ir.names`)
  and its payloads (:mod:`~spikec.ir.payloads`: :class:`Neuron`, :class:`Synapse`,
  :class:`Probe`, stimuli);
- :mod:`~spikec.ir.verify`: :func:`verify`, every rule of ``docs/semantics.md``;
- :mod:`~spikec.ir.printer`: the canonical text (golden tests, ``--print-ir``);
- :mod:`~spikec.ir.serialize`: the JSON network format; :mod:`~spikec.ir.files`: safe file I/O;
- :mod:`~spikec.ir.analysis`: static facts (latency, potential and drive bounds,
  silent neurons, integer scales) that passes and backends share;
- :mod:`~spikec.ir.decoders`: probe decoders (spikes -> values);
- :mod:`~spikec.ir.builder`: the circuit builder every circuit generator adds through.

The IR imports nothing of spikec but :mod:`spikec.errors`.
"""

from spikec.ir.network import (
    DECODERS,
    DEFAULT_PARAMS,
    NEURON_PARAMS,
    Network,
    Neuron,
    PoissonRate,
    Probe,
    SpikeTimes,
    Stimulus,
    Synapse,
)
from spikec.ir.printer import format_network
from spikec.ir.serialize import load_network, save
from spikec.ir.verify import verify

__all__ = [
    "Network",
    "Neuron",
    "Synapse",
    "Probe",
    "SpikeTimes",
    "PoissonRate",
    "Stimulus",
    "NEURON_PARAMS",
    "DEFAULT_PARAMS",
    "DECODERS",
    "verify",
    "format_network",
    "save",
    "load_network",
]
