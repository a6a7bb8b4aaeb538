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
from spikec.ir.network import Network, PoissonRate, SpikeTimes

__all__ = ["trial_rng", "InputPlan", "plan_inputs", "plan_currents"]

STIMULUS_STREAM = 0
NEURON_STREAM = 1


def trial_rng(seed: int, trial: int, stream: int) -> np.random.Generator:
    """The generator of ``stream`` for global trial index ``trial``."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(trial, stream)))


@dataclass
class InputPlan:
    """Spike rasters of the input neurons: ``raster[t, b, k]`` for input ``names[k]``."""

    names: list[str]
    raster: np.ndarray  # (steps, trials, len(names)) bool


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
    """Rasters for every input neuron: from ``inputs``, else its file stimulus, else silent."""
    names = net.inputs()
    position = {n: k for k, n in enumerate(names)}
    raster = np.zeros((steps, trials, len(names)), dtype=bool)
    given = dict(inputs or {})
    for name in given:
        if name not in position:
            if name in net:
                raise SimulationError(f"input '{name}' is a neuron, not an input neuron")
            raise SimulationError(f"no input neuron named '{name}'{did_you_mean(name, names)}")
    poisson: list[tuple[int, float]] = []
    for name, k in position.items():
        if name in given:
            raster[:, :, k] = _raster_row(name, given[name], steps, trials).T
            continue
        stim = net.stimuli.get(name)
        if isinstance(stim, SpikeTimes):
            ts = [t for t in stim.times if t < steps]
            raster[ts, :, k] = True
        elif isinstance(stim, PoissonRate):
            poisson.append((k, stim.rate))
    if poisson and steps:
        cols = np.array([k for k, _ in poisson])
        rates = np.array([r for _, r in poisson])
        for b in range(trials):
            draws = trial_rng(seed, trial_offset + b, STIMULUS_STREAM).random((steps, len(cols)))
            raster[:, b, cols] = draws < rates
    return InputPlan(names, raster)


def plan_currents(
    net: Network, steps: int, trials: int, currents: Mapping[str, Any] | None
) -> tuple[list[str], np.ndarray]:
    """Injected currents as ``(names, I)`` with ``I[t, b, k]`` added to ``names[k]`` at step t.

    A value may be a number (every step), an array of shape (steps,) or (trials, steps).
    """
    names = list(currents or {})
    out = np.zeros((steps, trials, len(names)))
    for k, name in enumerate(names):
        if name not in net:
            raise SimulationError(
                f"current for unknown neuron '{name}'{did_you_mean(name, list(net))}"
            )
        if net[name].is_input:
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
    return names, out
