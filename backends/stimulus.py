"""Turning user inputs, file stimuli and injected currents into what the engines read.

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

__all__ = ["trial_rng", "BlockDraws", "InputPlan", "InputWindow", "plan_inputs", "plan_currents",
           "poisson_bytes"]

STIMULUS_STREAM = 0
NEURON_STREAM = 1
_POISSON_BLOCK = 1 << 20  # uniforms drawn at once for Poisson stimuli (per trial)
_SUGGEST_LIMIT = 20_000  # "did you mean" searches every name up to this many neurons


def trial_rng(seed: int, trial: int, stream: int) -> np.random.Generator:
    """The generator of ``stream`` for global trial index ``trial``."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(trial, stream)))


class BlockDraws:
    """One block of a run's neuron-stream uniforms, left undrawn: ``rows`` steps of ``width``
    uniforms (one per stochastic neuron) per trial, from ``rngs`` (each at the block's start).

    ``array(r0)`` draws rows ``r0..rows`` as the engines read them, shape (rows - r0, trials,
    width); ``states(r0)`` gives each trial's PCG64 state and increment at row r0 as uint64
    (trials, 4) (state hi, lo, increment hi, lo), from which the event kernel computes only the
    uniforms it needs; ``advance()`` moves every generator past the block, as drawing it would."""

    def __init__(self, rngs: list[np.random.Generator], rows: int, width: int) -> None:
        self.rngs, self.rows, self.width = rngs, rows, width

    def _at(self, rng: np.random.Generator, r0: int) -> np.random.PCG64:
        bits = np.random.PCG64()
        bits.state = dict(rng.bit_generator.state)  # type: ignore[assignment]
        bits.advance(r0 * self.width)
        return bits

    def array(self, r0: int = 0) -> np.ndarray:
        out = np.empty((self.rows - r0, len(self.rngs), self.width))
        for b, rng in enumerate(self.rngs):
            out[:, b, :] = np.random.Generator(self._at(rng, r0)).random((self.rows - r0, self.width))
        return out

    def states(self, r0: int = 0) -> np.ndarray:
        out = np.zeros((len(self.rngs), 4), dtype=np.uint64)
        mask = (1 << 64) - 1
        for b, rng in enumerate(self.rngs):
            st = self._at(rng, r0).state["state"]
            out[b] = [st["state"] >> 64, st["state"] & mask, st["inc"] >> 64, st["inc"] & mask]
        return out

    def advance(self) -> None:
        for rng in self.rngs:
            bits: Any = rng.bit_generator  # a PCG64 (trial_rng)
            bits.advance(self.rows * self.width)


@dataclass
class InputWindow:
    """The input spikes of steps ``t0 .. t1`` (a window of an :class:`InputPlan`), in the form an
    engine needs: ``raster`` (rows, trials, K) bool, or as events, ``ptr`` ((rows * trials + 1,)
    int64) and ``col`` (int32): step ``t0 + r``, trial ``b`` spikes the inputs of columns
    ``col[ptr[r * trials + b]:ptr[r * trials + b + 1]]`` (ascending). Each form is made on
    first use, from the plan's spike keys (and, for Poisson stimuli, from the dense window)."""

    plan: InputPlan
    t0: int
    t1: int
    _raster: np.ndarray | None = None
    _events: tuple[np.ndarray, np.ndarray] | None = None

    @property
    def raster(self) -> np.ndarray:
        if self._raster is None:
            self._raster = self.plan._dense(self.t0, self.t1)
        return self._raster

    @property
    def events(self) -> tuple[np.ndarray, np.ndarray]:
        if self._events is None:
            plan = self.plan
            cells = (self.t1 - self.t0) * plan.trials
            k = max(1, len(plan.neurons))
            if len(plan.poisson) or plan.dense is not None or self._raster is not None:
                flat = np.flatnonzero(self.raster)
            else:
                flat = plan._keys_in(self.t0, self.t1) - self.t0 * plan.trials * k
            ptr = np.zeros(cells + 1, dtype=np.int64)
            np.cumsum(np.bincount(flat // k, minlength=cells), out=ptr[1:])
            self._events = (ptr, (flat % k).astype(np.int32))
        return self._events


@dataclass
class InputPlan:
    """The spikes of every input neuron (``neurons[k]`` is column k, every input in network
    order), for ``steps`` steps of ``trials`` trials. Given spikes and file spike times are
    held as sorted keys ``(t * trials + b) * K + k`` (memory O(spikes), not O(steps x inputs));
    Poisson stimuli are drawn window by window, in order, from each trial's stimulus stream
    (``window(t0, t1)`` must follow ``window(.., t0)``; ``raster`` starts the streams over)."""

    neurons: np.ndarray
    steps: int
    trials: int
    keys: np.ndarray  # int64, sorted, unique (empty when ``dense`` holds the spikes)
    poisson: np.ndarray  # columns with a Poisson stimulus
    rates: np.ndarray  # their spike probability per step
    seed: int = 0
    trial_offset: int = 0
    dense: np.ndarray | None = None
    _rngs: list[np.random.Generator] | None = None
    _next: int = 0

    def window(self, t0: int, t1: int) -> InputWindow:
        """The spikes of steps t0 .. t1 (see :class:`InputWindow`)."""
        return InputWindow(self, t0, t1)

    @property
    def raster(self) -> np.ndarray:
        """Every step's spikes as one (steps, trials, K) bool array (the Poisson streams start
        over, so this is the same raster each time)."""
        self._rngs, self._next = None, 0
        return self._dense(0, self.steps)

    @property
    def spike_count(self) -> int:
        """Given and file spikes (Poisson ones are drawn as the run goes)."""
        return len(self.keys) if self.dense is None else int(np.count_nonzero(self.dense))

    def _keys_in(self, t0: int, t1: int) -> np.ndarray:
        per_step = self.trials * max(1, len(self.neurons))
        lo, hi = np.searchsorted(self.keys, [t0 * per_step, t1 * per_step])
        return self.keys[lo:hi]

    def _dense(self, t0: int, t1: int) -> np.ndarray:
        k = len(self.neurons)
        if self.dense is not None:  # a view unless Poisson spikes are added to it
            out = self.dense[t0:t1].copy() if len(self.poisson) else self.dense[t0:t1]
        else:
            out = np.zeros((t1 - t0, self.trials, k), dtype=bool)
            out.reshape(-1)[self._keys_in(t0, t1) - t0 * self.trials * k] = True
        if len(self.poisson) and t1 > t0:
            if self._rngs is None or t0 != self._next:
                if t0 != 0:
                    raise ValueError(f"Poisson inputs are drawn in order: window at {t0}, not {self._next}")
                self._rngs = [trial_rng(self.seed, self.trial_offset + b, STIMULUS_STREAM)
                              for b in range(self.trials)]
            # one (steps, k) draw per trial, a block of rows at a time: the same numbers
            block = _poisson_rows(self.steps, len(self.poisson))
            for b, rng in enumerate(self._rngs):
                for r0 in range(t0, t1, block):
                    r1 = min(t1, r0 + block)
                    draw = rng.random((r1 - r0, len(self.poisson))) < self.rates
                    out[r0 - t0:r1 - t0, b, self.poisson] |= draw
            self._next = t1
        return out


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
    """One input's spikes: a (steps,) (every trial) or (trials, steps) bool array for a raster,
    else the (trial, step) index arrays of its spikes (a list of steps for every trial, or one
    list per trial)."""
    if isinstance(value, np.ndarray) and value.dtype == bool:
        if value.shape == (steps,):
            return value
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
    max_bytes: int | None = None,
) -> InputPlan:
    """The spikes of every input neuron: from ``inputs``, else its file stimulus, else silent.

    The Poisson stimuli are drawn, per trial, as one ``random((steps, k))`` over the k
    inputs with a rate and no given spikes, in network order (window by window, see
    :class:`InputPlan`). The given and file spikes are kept as sorted keys or, when a dense raster
    (steps x trials x inputs bytes) is smaller than 16 bytes a spike, as that raster; over
    ``max_bytes`` it is refused before it is allocated. Keys are counted at ``_KEY_BYTES`` each:
    8 held, and 28 while a window's events are made from them (a window may hold them all)."""
    neurons = net.input_indices()
    k_in = max(1, len(neurons))
    column = np.full(len(net), -1, dtype=np.int64)
    column[neurons] = np.arange(len(neurons))
    given = dict(inputs or {})
    names = list(given)
    idx = net.find(names)
    bad = np.flatnonzero((idx < 0) | (column[idx] < 0))
    if len(bad):
        name = names[int(bad[0])]
        if idx[bad[0]] < 0:
            raise SimulationError(f"no input neuron named '{name}'{did_you_mean(str(name), net.inputs())}")
        raise SimulationError(f"input '{name}' is a neuron, not an input neuron")
    found = sorted(zip(column[idx].tolist(), names, strict=True))
    is_given = np.zeros(len(neurons), dtype=bool)
    keys: list[np.ndarray] = []
    b_all = np.arange(trials, dtype=np.int64)
    shared: list[tuple[int, np.ndarray]] = []  # rasters of every trial, read together below
    for k, name in found:
        got = _spike_cells(name, given[name], steps, trials)
        is_given[k] = True
        if isinstance(got, tuple):
            b, t = got
            keys.append((t.astype(np.int64) * trials + b) * k_in + k)
        elif got.ndim == 1 or trials == 1:
            shared.append((k, got.reshape(-1)))
        else:
            b, t = np.nonzero(got)
            keys.append((t * trials + b) * k_in + k)
    at_once = max(1, min(256, _STACK_BYTES // max(1, steps)))
    chunks = [shared[a:a + at_once] for a in range(0, len(shared), at_once)]  # each <= 16 MiB stacked
    shared_count = trials * sum(int(np.count_nonzero(r)) for _, r in shared)
    # File spike times: inputs given one stimulus together share its tuple, so group by it.
    groups: dict[int, tuple[tuple[int, ...], list[int]]] = {}
    for i, times in net.stimulus_times.items():
        groups.setdefault(id(times), (times, []))[1].append(i)
    file_parts: list[tuple[np.ndarray, np.ndarray]] = []
    for times, members in groups.values():
        cols = column[np.array(members, dtype=np.int64)]
        cols = np.sort(cols[~is_given[cols]])
        ts = np.unique(np.array([t for t in times if t < steps], dtype=np.int64))
        if len(cols) and len(ts):
            file_parts.append((ts, cols))
    count = (sum(len(x) for x in keys) + shared_count
             + trials * sum(len(ts) * len(cols) for ts, cols in file_parts))
    dense_bytes = steps * trials * len(neurons)
    need = dense_bytes if dense_bytes < 16 * count else _KEY_BYTES * count
    if max_bytes is not None and need > max_bytes:
        raise SimulationError(
            f"the input spikes ({count:,} given and file spikes over {trials:,} trials) need about"
            f" {need:,} bytes, over the limit of {max_bytes:,}; run fewer steps or trials at once"
            " (trial_offset= shards a run exactly), or raise max_memory / SPIKEC_MAX_MEMORY")
    dense = None
    merged = np.zeros(0, dtype=np.int64)
    if dense_bytes < 16 * count:  # dense inputs: scattered into a raster, nothing sorted
        dense = np.zeros((steps, trials, len(neurons)), dtype=bool)
        for part in keys:
            dense.reshape(-1)[part] = True
        for chunk in chunks:  # copied as rows
            dense[:, :, [k for k, _ in chunk]] = np.stack([r for _, r in chunk], axis=1)[:, None, :]
        for ts, cols in file_parts:
            dense[np.ix_(ts, b_all, cols)] = True
    else:
        for chunk in chunks:  # one nonzero over a block of rasters
            row, t = np.divmod(np.flatnonzero(np.stack([r for _, r in chunk])), steps)
            col = np.array([k for k, _ in chunk], dtype=np.int64)[row]
            keys.append((((t * trials)[:, None] + b_all) * k_in + col[:, None]).reshape(-1))
        for ts, cols in file_parts:
            cell = ts[:, None] * trials + b_all[None, :]
            keys.append((cell.reshape(-1, 1) * k_in + cols[None, :]).reshape(-1))
        if keys:
            merged = np.sort(np.concatenate(keys))
        if len(merged) > 1:  # a step given twice is one spike
            merged = merged[np.concatenate(([True], merged[1:] != merged[:-1]))]
    rates = net.stimulus_rates[neurons]
    poisson = np.flatnonzero(~np.isnan(rates) & ~is_given)
    return InputPlan(neurons, steps, trials, merged, poisson, rates[poisson], seed, trial_offset, dense)


_KEY_BYTES = 36
_STACK_BYTES = 1 << 24  # every-trial rasters stacked for one nonzero, at most this many bytes


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
