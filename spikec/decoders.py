"""Probe decoders: turning recorded spikes into values.

Each decoder takes the spikes of a probe's neurons as a bool array of shape
(trials, steps, k) and returns one JSON-ready value per trial:

- ``count``: spikes per neuron (an int when the probe names one neuron,
  else a list of ints, one per neuron);
- ``first``: step of the first spike per neuron, ``None`` if it never fired;
- ``rate``: spikes per neuron divided by the number of steps;
- ``binary``: the integer ``sum_i 2**i * s_i(t)`` (neuron i of the probe is
  bit i, little-endian) as ``[step, value]`` pairs for every step where any
  neuron of the probe fires.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from spikec.errors import SpikecError, did_you_mean
from spikec.network import DECODERS, Network, Probe

__all__ = ["decode", "decode_probes", "probe_spike_names", "DECODER_FUNCTIONS"]


def _per_neuron(values: np.ndarray, single: bool) -> list[Any]:
    rows = values.tolist()
    return [row[0] if single else row for row in rows]


def _count(spikes: np.ndarray) -> list[Any]:
    return _per_neuron(spikes.sum(axis=1), spikes.shape[2] == 1)


def _first(spikes: np.ndarray) -> list[Any]:
    fired = spikes.any(axis=1)
    first = np.argmax(spikes, axis=1)
    values = np.where(fired, first, -1).tolist()
    out = [[None if x < 0 else x for x in row] for row in values]
    return [row[0] if spikes.shape[2] == 1 else row for row in out]


def _rate(spikes: np.ndarray) -> list[Any]:
    steps = max(spikes.shape[1], 1)
    return _per_neuron(spikes.sum(axis=1) / steps, spikes.shape[2] == 1)


def _binary(spikes: np.ndarray) -> list[Any]:
    k = spikes.shape[2]
    if k > 62:
        # Python ints have no width limit; build them exactly.
        powers: Any = [1 << i for i in range(k)]
        out = []
        for trial in spikes:
            steps = np.flatnonzero(trial.any(axis=1))
            out.append([[int(t), sum(p for p, s in zip(powers, trial[t], strict=True) if s)] for t in steps])
        return out
    weights = np.left_shift(np.int64(1), np.arange(k, dtype=np.int64))
    values = spikes.astype(np.int64) @ weights  # (trials, steps)
    return [
        [[int(t), int(row[t])] for t in np.flatnonzero(trial.any(axis=1))]
        for trial, row in zip(spikes, values, strict=True)
    ]


DECODER_FUNCTIONS: dict[str, Callable[[np.ndarray], list[Any]]] = {
    "count": _count,
    "first": _first,
    "rate": _rate,
    "binary": _binary,
}
assert set(DECODER_FUNCTIONS) == set(DECODERS)


def decode(decoder: str, spikes: np.ndarray) -> list[Any]:
    """Apply ``decoder`` to spikes of shape (trials, steps, k); one value per trial."""
    fn = DECODER_FUNCTIONS.get(decoder)
    if fn is None:
        raise SpikecError(
            f"unknown decoder '{decoder}'{did_you_mean(decoder, DECODER_FUNCTIONS)}"
        )
    return fn(np.asarray(spikes, dtype=bool))


def probe_spike_names(probe: Probe) -> list[tuple[str, str]]:
    """``(reported name, neuron)`` pairs of a raw probe: the label itself for one
    neuron, ``label[i]`` for the i-th neuron of an array probe."""
    if not probe.array and len(probe.neurons) == 1:
        return [(probe.label, probe.neurons[0])]
    return [(f"{probe.label}[{i}]", n) for i, n in enumerate(probe.neurons)]


def decode_probes(net: Network, spikes: dict[str, np.ndarray]) -> dict[str, list[Any]]:
    """Decoded values of every decoder probe of ``net``, keyed by probe label.

    ``spikes`` maps neuron names to (trials, steps) bool arrays (a simulation
    result's ``spikes``) and must hold every probed neuron.
    """
    out: dict[str, list[Any]] = {}
    for probe in net.probes:
        if probe.decoder is None:
            continue
        stack = np.stack([spikes[n] for n in probe.neurons], axis=2)
        values = decode(probe.decoder, stack)
        if probe.array and len(probe.neurons) == 1 and probe.decoder != "binary":
            values = [[v] for v in values]  # an array of one neuron still gives lists
        out[probe.label] = values
    return out
