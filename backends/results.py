"""What a simulation returns: :class:`SimResult`, the recorded spikes and potentials.

Recordings are laid out (neuron, trial, step), so each neuron's record is a
contiguous (trials, steps) view; ``result.spikes`` and ``result.potentials``
are dicts by name built on first use from a snapshot of the network's names
taken at the run, and ``spikes_of`` / ``potentials_of`` read many neurons at
once by name or index.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from spikec.errors import SimulationError, did_you_mean
from spikec.ir.binary import name_columns
from spikec.ir.network import Network

__all__ = ["SimResult", "Recording", "output_bytes", "check_output"]


class Recording:
    """One recorded quantity: ``data[k]`` (trials, steps) belongs to neuron ``neurons[k]``
    (its index at the run). Names come from a snapshot of the name table taken then,
    turned into strings only when asked for."""

    __slots__ = ("data", "neurons", "_size", "_bases", "_base", "_elem", "_names", "_row", "_pos")

    def __init__(self, data: np.ndarray, neurons: np.ndarray, net: Network) -> None:
        bases, base, elem = name_columns(net)
        self.data = data
        self.neurons = neurons
        self._size = len(net)
        self._bases = list(bases) if len(neurons) else []
        self._base, self._elem = base[neurons], elem[neurons]
        self._names: list[str] | None = None
        self._row: dict[str, int] | None = None
        self._pos: np.ndarray | None = None

    def names(self) -> list[str]:
        if self._names is None:
            bases = self._bases
            self._names = [bases[b] if e < 0 else f"{bases[b]}[{e}]"
                           for b, e in zip(self._base.tolist(), self._elem.tolist(), strict=True)]
        return self._names

    def as_dict(self) -> dict[str, np.ndarray]:
        return dict(zip(self.names(), self.data, strict=True))

    def rows(self, ref: Any) -> np.ndarray:
        """Rows of the neurons ``ref`` names: a name, names, or neuron indices (at the run)."""
        if isinstance(ref, (str, int, np.integer)):
            ref = [ref]
        if isinstance(ref, (range, np.ndarray)) or (isinstance(ref, Sequence) and len(ref) and
                                                     not isinstance(ref[0], str)):
            idx = np.asarray(ref, dtype=np.int64).reshape(-1)
            if self._pos is None:
                self._pos = np.full(self._size, -1, dtype=np.int64)
                self._pos[self.neurons] = np.arange(len(self.neurons))
            bad = (idx < 0) | (idx >= self._size)
            rows = np.where(bad, -1, self._pos[np.where(bad, 0, idx)])
            missing = np.flatnonzero(rows < 0)
            if len(missing):
                raise SimulationError(f"neuron {int(idx[missing[0]])} was not recorded")
            return rows
        if self._row is None:
            self._row = {name: k for k, name in enumerate(self.names())}
        names = list(ref)
        out = np.fromiter((self._row.get(name, -1) for name in names), dtype=np.int64, count=len(names))
        missing = np.flatnonzero(out < 0)
        if len(missing):
            name = names[int(missing[0])]
            raise SimulationError(f"'{name}' was not recorded{did_you_mean(name, self._row)}")
        return out


class SimResult:
    """What a simulation recorded.

    ``spikes[name]`` is a bool array of shape (trials, steps);
    ``potentials[name]`` (when asked) a float array of the same shape holding
    the potential *after integration* at each step, the value compared with
    the threshold. ``synaptic_events`` counts spikes times outgoing synapses
    delivered within the run. The dicts are built on first use; for many
    neurons at once read :meth:`spikes_of` / :meth:`potentials_of`, which
    return one array (neurons, trials, steps) without a Python object per neuron.
    """

    def __init__(self, steps: int, trials: int, seed: int,
                 spikes: Mapping[str, np.ndarray] | Recording,
                 potentials: Mapping[str, np.ndarray] | Recording | None = None,
                 trial_offset: int = 0, synaptic_events: int = 0) -> None:
        self.steps = steps
        self.trials = trials
        self.seed = seed
        self.trial_offset = trial_offset
        self.synaptic_events = synaptic_events
        self._rec = spikes if isinstance(spikes, Recording) else None
        self._pot = potentials if isinstance(potentials, Recording) else None
        self._spikes = None if self._rec is not None else dict(spikes)  # type: ignore[arg-type]
        self._potentials = None if self._pot is not None else dict(potentials or {})  # type: ignore[arg-type]

    @property
    def spikes(self) -> dict[str, np.ndarray]:
        """``{name: (trials, steps) bool}`` of every recorded neuron."""
        if self._spikes is None:
            assert self._rec is not None
            self._spikes = self._rec.as_dict()
        return self._spikes

    @property
    def potentials(self) -> dict[str, np.ndarray]:
        """``{name: (trials, steps) float}`` of the neurons whose potentials were recorded."""
        if self._potentials is None:
            assert self._pot is not None
            self._potentials = self._pot.as_dict()
        return self._potentials

    @property
    def recorded(self) -> np.ndarray:
        """The network indices (at the run) of the recorded neurons, in record order."""
        if self._rec is None:
            raise SimulationError("this result holds no neuron indices (it was made from names)")
        return self._rec.neurons

    def spikes_of(self, neurons: Any) -> np.ndarray:
        """The spikes of ``neurons`` (a name, names, or network indices) as one bool array
        (neurons, trials, steps)."""
        return self._select(self._rec, self.spikes if self._rec is None else {}, neurons, bool)

    def potentials_of(self, neurons: Any) -> np.ndarray:
        """The recorded potentials of ``neurons`` as one array (neurons, trials, steps)."""
        return self._select(self._pot, self.potentials if self._pot is None else {}, neurons, float)

    def _select(self, rec: Recording | None, given: Mapping[str, np.ndarray], neurons: Any,
                dtype: type) -> np.ndarray:
        if rec is not None:
            return rec.data[rec.rows(neurons)]
        names = [neurons] if isinstance(neurons, str) else list(neurons)
        missing = [n for n in names if n not in given]
        if missing:
            raise SimulationError(f"'{missing[0]}' was not recorded{did_you_mean(str(missing[0]), given)}")
        shape = (0, self.trials, self.steps)
        return np.stack([given[n] for n in names]) if names else np.zeros(shape, dtype=dtype)

    def spike_array(self) -> np.ndarray:
        """Every recorded spike as one bool array (recorded neurons, trials, steps) in record
        order (:attr:`recorded`), without a copy."""
        if self._rec is None:
            raise SimulationError("this result holds no spike array (it was made from names)")
        return self._rec.data

    def spike_times(self, name: str) -> list[list[int]]:
        """Sorted spike steps of ``name``, one list per trial."""
        return [np.flatnonzero(row).tolist() for row in self.spikes_of(name)[0]]

    @property
    def times(self) -> dict[str, list[list[int]]]:
        """``{name: spike_times(name)}`` for every recorded neuron."""
        return {name: [np.flatnonzero(row).tolist() for row in rows] for name, rows in self.spikes.items()}

    def __repr__(self) -> str:
        count = len(self._rec.neurons) if self._rec is not None else len(self.spikes)
        return f"<SimResult steps={self.steps} trials={self.trials} seed={self.seed} recorded={count}>"


def _spike_list_bytes(per_row: np.ndarray, big: np.ndarray, steps: int) -> int:
    """Bytes of ``spike_times`` lists of rows with ``per_row`` spikes per (row, trial), ``big``
    of them past step 256, and their JSON text: a list per row and trial, 8 bytes a spike
    and an int object past 256, the text three times (the document, stdout, the file)."""
    spikes = int(per_row.sum())
    digits = len(str(max(steps - 1, 0))) + 2
    longest = int(per_row.max()) if per_row.size else 0  # the flatnonzero of one row
    return 64 * per_row.size + 8 * spikes + 32 * int(big.sum()) + 3 * digits * spikes + 8 * longest


def output_bytes(net: Network, result: SimResult, every: bool = False) -> int:
    """Bytes the output stage of ``spikec sim`` allocates for ``result`` of ``net``: the
    spike lists of the raw probes (of every recorded neuron when ``every`` or when the
    network has no probes), every decoder probe's values, the recorded potentials as lists,
    and their JSON text. Counted
    from the recorded spikes (no copy of them), before any of it is built."""
    from spikec.ir.decoders import decode_bytes

    data = result.spike_array()
    rec = result._rec
    assert rec is not None
    per_row = np.count_nonzero(data, axis=2)  # (recorded, trials)
    big = np.count_nonzero(data[:, :, 257:], axis=2) if result.steps > 257 else np.zeros_like(per_row)
    raw: list[str] = [n for p in net.probes if p.decoder is None for n in p.neurons]
    if not net.probes or every:
        total = _spike_list_bytes(per_row, big, result.steps)
    else:
        rows = rec.rows(raw) if raw else np.zeros(0, dtype=np.int64)
        total = _spike_list_bytes(per_row[rows], big[rows], result.steps)
    for probe in net.probes:
        if probe.decoder is None:
            continue
        rows = rec.rows(list(probe.neurons))
        spikes = int(per_row[rows].sum())
        key: Any = probe.key or []
        classes = len(key) if probe.decoder == "label" else 0
        nodes = windows = 0
        if probe.decoder == "field" and probe.info and "shape" in probe.info and key:
            nodes = int(np.prod([int(n) for n in probe.info["shape"]]))
            clocks = rows[np.asarray(key[0], dtype=float) < 0]
            windows = int(per_row[clocks].sum(axis=0).max()) if len(clocks) else 0
        values = decode_bytes(probe.decoder, len(rows), result.trials, result.steps, spikes,
                              classes, nodes, windows)
        total += values + 3 * 4 * result.trials * (result.steps + windows * nodes)
    if result._pot is not None:  # potentials as lists of floats (24 + 8 bytes) and ~20 chars x 3
        total += 92 * result._pot.data.size
    return total


def check_output(net: Network, result: SimResult, every: bool = False,
                 max_memory: int | None = None) -> None:
    """Refuse (SimulationError) to build the output of ``spikec sim`` when it and the
    recordings it reads would pass ``max_memory`` (default ``SPIKEC_MAX_MEMORY``): the
    estimate, the limit and what to change."""
    from spikec.backends.memory import max_memory as _max_memory
    from spikec.backends.memory import size_text as _size

    limit = max_memory if max_memory is not None else _max_memory()
    held = result.spike_array().nbytes
    need = held + output_bytes(net, result, every)
    if need > limit:
        raise SimulationError(
            f"printing this result needs about {_size(need)} ({result.steps:,} steps x"
            f" {result.trials} trial{'s' if result.trials != 1 else ''} of spike lists and decoded"
            f" probes), over the limit of"
            f" {_size(limit)}; probe fewer neurons, read them with a decoder such as 'count'"
            " instead of as spike lists, run fewer steps, or raise SPIKEC_MAX_MEMORY")
