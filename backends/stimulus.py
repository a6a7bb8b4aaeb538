"""Turning user inputs, file stimuli and injected currents into dense per-step arrays.

Shared by the fast simulator and the reference interpreter: both must read
``inputs=``/``currents=`` the same way, so this is argument handling, not
semantics.

Random streams. Every stochastic draw of trial ``k`` (global trial index,
``trial_offset + local index``) comes from children of
``numpy.random.SeedSequence(seed)``: the stream with spawn key ``(k, 0)``
draws Poisson stimuli, the one with key ``(k, 1)`` draws the firing of
stochastic neurons. A trial's draws therefore never depend on how many
trials run beside it, which makes sharded runs identical to one run.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from spikec.errors import SimulationError, did_you_mean
from spikec.ir.network import Network

__all__ = ["trial_rng", "InputPlan", "plan_inputs", "plan_currents", "poisson_bytes"]

STIMULUS_STREAM = 0
NEURON_STREAM = 1
_POISSON_BLOCK = 1 << 20  # uniforms drawn at once for Poisson stimuli (per trial)
_SUGGEST_LIMIT = 20_000  # "did you mean" searches every name up to this many neurons


def trial_rng(seed: int, trial: int, stream: int) -> np.random.Generator:
    """The generator of ``stream`` for global trial index ``trial``."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(trial, stream)))


@dataclass
class InputPlan:
    """Spike rasters of the input neurons: ``raster[t, b, k]`` for the input of index
    ``neurons[k]`` (every input, in network order)."""

    neurons: np.ndarray
    raster: np.ndarray  # (steps, trials, len(neurons)) bool


def _as_times(name: str, value: Any, steps: int) -> np.ndarray:
    """The spike steps ``value`` (integers >= 0) of input ``name`` that fall before ``steps``,
    as int64: one vectorized check for an integer array or list, else one per item (for
    the message that names the bad item)."""
    arr = value
    if isinstance(value, (list, tuple, range)):
        try:
            arr = np.asarray(value)
        except (ValueError, OverflowError):
            pass
    if isinstance(arr, np.ndarray) and arr.ndim == 1 and arr.dtype.kind in "iu":
        if len(arr) and arr.min() < 0:
            raise SimulationError(f"input '{name}': spike steps must be >= 0, got {int(arr[arr < 0][0])}")
        return arr[arr < steps].astype(np.int64, copy=False)
    out = []
    for t in value.tolist() if isinstance(value, np.ndarray) else value:
        if isinstance(t, bool) or not isinstance(t, numbers.Integral):
            raise SimulationError(f"input '{name}': spike steps must be integers, got {t!r}")
        if t < 0:
            raise SimulationError(f"input '{name}': spike steps must be >= 0, got {t}")
        if t < steps:
            out.append(int(t))
    return np.array(out, dtype=np.int64)


def _bad_raster(name: str, value: np.ndarray, steps: int, trials: int) -> SimulationError:
    return SimulationError(f"input '{name}': raster has shape {value.shape}, expected ({steps},)"
                           f" or ({trials}, {steps})")


def _spike_cells(name: str, value: Any, steps: int,
                 trials: int) -> tuple[np.ndarray, np.ndarray] | np.ndarray:
    """One input's spikes: a (trials, steps) bool array for a raster, else the (trial, step)
    index arrays of its spikes (a list of steps for every trial, or one list per trial)."""
    if isinstance(value, np.ndarray) and value.dtype == bool:
        if value.shape == (steps,):
            return np.broadcast_to(value, (trials, steps))
        if value.shape == (trials, steps):
            return value
        raise _bad_raster(name, value, steps, trials)
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise SimulationError(
            f"input '{name}': expected spike steps (a list of integers), one list per trial,"
            f" or a boolean raster; got {value!r:.60}"
        )
    items = value if isinstance(value, np.ndarray) else list(value)
    if len(items) and all(hasattr(x, "__iter__") and not isinstance(x, str) for x in items):
        if len(items) != trials:
            raise SimulationError(f"input '{name}': {len(items)} per-trial spike lists for {trials} trials")
        per_trial = [_as_times(name, times, steps) for times in items]
        counts = [len(ts) for ts in per_trial]
        return np.repeat(np.arange(trials), counts), np.concatenate(per_trial) if per_trial else np.zeros(0)
    ts = _as_times(name, items, steps)
    return np.repeat(np.arange(trials), len(ts)), np.tile(ts, trials)


def plan_inputs(
    net: Network,
    steps: int,
    trials: int,
    inputs: Mapping[str, Any] | None,
    seed: int,
    trial_offset: int,
) -> InputPlan:
    """Rasters for every input neuron: from ``inputs``, else its file stimulus, else silent.

    The Poisson stimuli are drawn, per trial, as one ``random((steps, k))`` over the k
    inputs with a rate and no given spikes, in network order."""
    neurons = net.input_indices()
    column = np.full(len(net), -1, dtype=np.int64)
    column[neurons] = np.arange(len(neurons))
    raster = np.zeros((steps, trials, len(neurons)), dtype=bool)
    given = dict(inputs or {})
    found: list[tuple[int, str]] = []
    for name in given:
        i = net.index(name) if isinstance(name, str) and name in net else -1
        if i < 0:
            raise SimulationError(f"no input neuron named '{name}'{did_you_mean(str(name), net.inputs())}")
        if column[i] < 0:
            raise SimulationError(f"input '{name}' is a neuron, not an input neuron")
        found.append((int(column[i]), name))
    is_given = np.zeros(len(neurons), dtype=bool)
    cells: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # (steps, trials, columns) of given spikes
    rows: list[tuple[int, np.ndarray]] = []  # inputs given as rasters: (column, (trials, steps))
    for k, name in sorted(found):
        got = _spike_cells(name, given[name], steps, trials)
        if isinstance(got, tuple):
            cells.append((got[1], got[0], np.full(len(got[0]), k)))
        else:
            rows.append((k, got))
        is_given[k] = True
    _write_rows(raster, rows)
    if cells:  # one scatter for every input given as spike steps
        t_all, b_all, k_all = (np.concatenate(part) for part in zip(*cells, strict=True))
        raster[t_all.astype(np.int64), b_all, k_all] = True
    # File spike times: inputs given one stimulus together share its tuple, so group by it.
    groups: dict[int, tuple[tuple[int, ...], list[int]]] = {}
    for i, times in net.stimulus_times.items():
        groups.setdefault(id(times), (times, []))[1].append(i)
    for times, members in groups.values():
        cols = column[np.array(members, dtype=np.int64)]
        cols = cols[~is_given[cols]]
        ts = np.array([t for t in times if t < steps], dtype=np.int64)
        if len(cols) and len(ts):
            raster[np.ix_(ts, np.arange(trials), cols)] = True
    rates = net.stimulus_rates[neurons]
    poisson = np.flatnonzero(~np.isnan(rates) & ~is_given)
    if len(poisson) and steps:
        p = rates[poisson]
        # Rows of one (steps, k) draw, a block of steps at a time: the same numbers, and the
        # uniforms of one block only (see poisson_bytes).
        block = _poisson_rows(steps, len(poisson))
        for b in range(trials):
            rng = trial_rng(seed, trial_offset + b, STIMULUS_STREAM)
            for t0 in range(0, steps, block):
                t1 = min(steps, t0 + block)
                raster[t0:t1, b, poisson] = rng.random((t1 - t0, len(poisson))) < p
    return InputPlan(neurons, raster)


def _write_rows(raster: np.ndarray, rows: list[tuple[int, np.ndarray]]) -> None:
    """Copy rasters given per input into columns of ``raster`` (steps, trials, inputs): runs of
    consecutive columns at once, in blocks of at most _ROW_BLOCK columns and 16 MiB, so the copy moves
    contiguous column blocks instead of one strided column per input."""
    most = max(1, min(_ROW_BLOCK, _ROW_BLOCK_BYTES // max(1, raster.shape[0] * raster.shape[1])))
    start = 0
    while start < len(rows):
        stop = start + 1
        while (stop < len(rows) and stop - start < most
               and rows[stop][0] == rows[stop - 1][0] + 1):
            stop += 1
        k0 = rows[start][0]
        block = np.stack([r for _, r in rows[start:stop]], axis=-1)  # (trials, steps, columns)
        raster[:, :, k0:k0 + stop - start] = block.transpose(1, 0, 2)
        start = stop


_ROW_BLOCK = 256
_ROW_BLOCK_BYTES = 1 << 24  # the copy's temporary block, at most 16 MiB


def _poisson_rows(steps: int, k: int) -> int:
    return min(steps, max(1, _POISSON_BLOCK // max(k, 1)))


def poisson_bytes(net: Network, steps: int) -> int:
    """Bytes :func:`plan_inputs` allocates beyond the raster for the Poisson stimuli of
    ``net``: one block of uniforms and its comparison (at most about 9 MiB)."""
    k = int(np.count_nonzero(~np.isnan(net.stimulus_rates[net.input_indices()])))
    return 9 * _poisson_rows(steps, k) * k + 8 * k if k and steps else 0


def plan_currents(
    net: Network, steps: int, trials: int, currents: Mapping[str, Any] | None
) -> tuple[np.ndarray, np.ndarray]:
    """Injected currents as ``(neurons, I)`` with ``I[t, b, k]`` added to neuron index
    ``neurons[k]`` at step t.

    A value may be a number (every step), an array of shape (steps,) or (trials, steps).
    """
    names = list(currents or {})
    out = np.zeros((steps, trials, len(names)))
    idx = np.zeros(len(names), dtype=np.int64)
    is_input = net.is_input
    for k, name in enumerate(names):
        if not isinstance(name, str) or name not in net:
            shown = did_you_mean(str(name), net.names()) if len(net) <= _SUGGEST_LIMIT else ""
            raise SimulationError(f"current for unknown neuron '{name}'{shown}")
        idx[k] = net.index(name)
        if is_input[idx[k]]:
            raise SimulationError(f"current for '{name}': input neurons have no potential")
        assert currents is not None
        try:
            arr = np.asarray(currents[name], dtype=float)
        except (TypeError, ValueError):
            raise SimulationError(f"current for '{name}': expected numbers") from None
        if not np.all(np.isfinite(arr)):
            raise SimulationError(f"current for '{name}': values must be finite")
        if arr.ndim == 0:
            out[:, :, k] = float(arr)
        elif arr.shape == (steps,):
            out[:, :, k] = arr[:, None]
        elif arr.shape == (trials, steps):
            out[:, :, k] = arr.T
        else:
            raise SimulationError(
                f"current for '{name}': shape {arr.shape} is none of (), ({steps},),"
                f" ({trials}, {steps})"
            )
    return idx, out
