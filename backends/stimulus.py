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


def _as_times(name: str, value: Any) -> list[int]:
    out = []
    for t in value:
        if isinstance(t, bool) or not isinstance(t, numbers.Integral):
            raise SimulationError(f"input '{name}': spike steps must be integers, got {t!r}")
        if t < 0:
            raise SimulationError(f"input '{name}': spike steps must be >= 0, got {t}")
        out.append(int(t))
    return out


def _raster_row(name: str, value: Any, steps: int, trials: int) -> np.ndarray:
    """One input's spikes as a (trials, steps) bool array."""
    if isinstance(value, np.ndarray) and value.dtype == bool:
        if value.shape[-1:] != (steps,):
            raise SimulationError(
                f"input '{name}': raster has shape {value.shape}, expected ({steps},)"
                f" or ({trials}, {steps})"
            )
        if value.ndim == 1:
            return np.broadcast_to(value, (trials, steps))
        if value.shape == (trials, steps):
            return value
        raise SimulationError(
            f"input '{name}': raster has shape {value.shape}, expected ({steps},)"
            f" or ({trials}, {steps})"
        )
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise SimulationError(
            f"input '{name}': expected spike steps (a list of integers), one list per trial,"
            f" or a boolean raster; got {value!r:.60}"
        )
    items = list(value)
    row = np.zeros((trials, steps), dtype=bool)
    if items and all(hasattr(x, "__iter__") and not isinstance(x, str) for x in items):
        if len(items) != trials:
            raise SimulationError(
                f"input '{name}': {len(items)} per-trial spike lists for {trials} trials"
            )
        for b, times in enumerate(items):
            ts = [t for t in _as_times(name, times) if t < steps]
            row[b, ts] = True
        return row
    ts = [t for t in _as_times(name, items) if t < steps]
    row[:, ts] = True
    return row


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
    for k, name in sorted(found):
        raster[:, :, k] = _raster_row(name, given[name], steps, trials).T
        is_given[k] = True
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
