"""The event-driven engine: each step touches only the neurons that can change.

The numpy, native and numba engines update every neuron at every step, so a
circuit where a few neurons in a thousand do anything (a pipeline of gates,
the wave front of a shortest-path search, a diffusion solver's counters)
pays for all of them. This engine keeps, per trial, the set of neurons that
can change and updates only those, exactly as the other engines would.

Which neurons are touched at step t. A neuron is *quiet* when, with nothing
but its bias arriving, its next step would neither fire nor change its
potential: ``y = v + bias < threshold`` and ``y * (1 - decay) == v`` bit for
bit (a resting neuron at 0, a counter holding a value, a leaky neuron that
has decayed to exactly 0, a neuron sitting at its bias's fixed point). A
quiet neuron left alone stays exactly what the full update would make it,
and a stochastic one below threshold consumes no draw. So step t touches:

- the neurons that were not quiet after step t - 1 (leaking, over
  threshold, stochastic and able to fire, with a bias that moves them);
- the neurons with a synaptic contribution arriving at t (the engine queues
  a neuron on slot ``(t + d) mod L``'s list when a spike first writes its
  ring cell there);
- the neurons with an injected current and those whose potential is recorded.

Each touched neuron runs the four phases of :mod:`spikec.backends.simulator`
on the same ring buffer (bias pre-loaded, contributions added as they are
delivered); the neurons that fired at t, inputs included, deliver in
ascending order, each in synapse order. Every ring cell therefore receives
the same additions in the same order as in the other engines, and the
potentials are bit-identical. Stochastic neurons read their uniform from the
same per-step block of draws (one per stochastic neuron per step, in network
order), indexed by their position, so spikes are identical too. The cost of a
step is O(touched neurons + synaptic events + inputs), not O(neurons).

The kernel is C (``_event.c``), built and cached like the native kernel
(:func:`spikec.backends.native.load`); trials run in parallel on threads, at
most one per core this process may use. Without a C compiler ``engine="event"``
runs the numba kernel, else the numpy engine (identical results).

``engine="auto"`` (:func:`auto`): for runs large enough for a compiled kernel,
when the event kernel can be built, the engine first counts the neurons
that are not quiet at the start (plus those with currents or recorded
potentials); if they are more than a quarter of the network the native
kernel runs the whole run. Otherwise the event engine runs a first block of
steps (``_probe_steps``) and measures the neurons it touched per step and
trial; above a quarter of the network, the native kernel takes over the rest
of the run from the same state (both engines keep the same potentials and
ring), else the event engine finishes it. The choice is logged at DEBUG level
on the ``spikec.backends.event`` logger.
"""

from __future__ import annotations

import ctypes
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from spikec.backends import native
from spikec.backends.stimulus import BlockDraws

__all__ = ["EventEngine", "engine", "auto", "available", "unavailable", "quiet", "DENSE_FRACTION"]

log = logging.getLogger(__name__)

#: ``engine="auto"`` leaves the event engine when more than this fraction of the neurons is
#: touched per step (at the start, or measured over the first block of steps).
DENSE_FRACTION = 0.25

_P = ctypes.c_void_p
_I = ctypes.c_int64
_ARGTYPES = ([_I] * 7 + [_P] * 9 + [_P, _P, _P, _I] + [_P, _P, _I] + [_P] * 10 + [_I] + [_P] * 10)
_STATE: dict[str, Any] = {}


def _library() -> Any | None:
    if "fn" not in _STATE:
        _STATE["fn"], _STATE["why"] = native.load("_event.c", "spikec_event_trial", _ARGTYPES)
        if _STATE["fn"] is not None:
            _STATE["jumps"], _STATE["why"] = native.load("_event.c", "spikec_pcg_jumps", [_I, _P])
            if _STATE["jumps"] is None:
                _STATE["fn"] = None
    return _STATE["fn"]


def _drawn(draws: Any, r0: int) -> np.ndarray:
    """Rows r0.. of a block's uniforms as an array (for another engine)."""
    return draws.array(r0) if isinstance(draws, BlockDraws) else draws[r0:]


def available() -> bool:
    """Whether the C event kernel can be built and loaded here."""
    return _library() is not None


def unavailable() -> str:
    """Why the event kernel is not available ('' when it is)."""
    _library()
    why: str = _STATE.get("why", "")
    return why


def quiet(v: np.ndarray, bias: np.ndarray, thr: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Where a neuron at potential ``v`` stays exactly at ``v`` without firing when only its
    bias arrives: ``v + bias < thr`` and ``(v + bias) * keep`` has the bits of ``v``."""
    y = v + bias
    return ~(y >= thr) & ((y * keep).view(np.uint64) == np.ascontiguousarray(v).view(np.uint64))


def _probe_steps(steps: int) -> int:
    return max(16, min(256, steps // 16))


def _address(a: np.ndarray) -> int:
    if not a.flags.c_contiguous:
        raise ValueError("the event kernel needs C-contiguous arrays")
    return int(a.ctypes.data)


class EventEngine:
    """The event-driven engine for one run, called like a compiled kernel's ``run_block``
    (one call per block of steps, in order, from step 0; it keeps the active sets between
    calls). With ``adaptive`` it is the ``engine="auto"`` choice between itself and
    ``fallback``, a compiled kernel's ``run_block``; ``choice`` says what ran."""

    #: The simulator passes each block's inputs as an :class:`~spikec.backends.stimulus.InputWindow`
    #: (the kernel reads its events) and the ring buffer zeroed, not pre-loaded with the bias.
    sparse_inputs = True
    lazy_ring = True
    #: ... and each block's uniforms as a :class:`~spikec.backends.stimulus.BlockDraws` (the
    #: kernel computes only the draws of stochastic neurons over threshold).
    lazy_draws = True

    def __init__(self, fallback: Any = None, adaptive: bool = False) -> None:
        self.fallback = fallback
        self.adaptive = adaptive
        self.choice = ""
        self._state: list[list[int]] = []
        self._arrays: list[np.ndarray] = []
        self._table: np.ndarray | None = None

    @staticmethod
    def state_bytes(neurons: int, ring_len: int, trials: int) -> int:
        """Bytes of the event kernel's own state beyond the native kernel's, for the memory
        estimate: per trial its active lists and flags and the pending-cell marks of the
        ring (about ``5 L N + 36 N``)."""
        return trials * (5 * ring_len * neurons + 36 * neurons)

    def _start(self, v: np.ndarray, ring: np.ndarray, bias: np.ndarray, thr: np.ndarray,
               keep: np.ndarray, input_pos: np.ndarray, cur_pos: np.ndarray, pot_pos: np.ndarray) -> None:
        """Choose (adaptive), and make the per-trial state of the active sets."""
        trials, n = v.shape
        span = ring.shape[1]
        is_input = input_pos >= 0
        start = np.flatnonzero(~is_input & ~quiet(v[0], bias, thr, keep)).astype(np.int32)
        always = np.flatnonzero(~is_input & ((cur_pos >= 0) | (pot_pos >= 0))).astype(np.int32)
        self_active = len(np.union1d(start, always))
        self.choice = "event"
        if self.adaptive and self_active > DENSE_FRACTION * n:
            self.choice = "native"
            log.debug("engine auto: native (%d of %d neurons active without input)", self_active, n)
            return
        order = np.argsort(input_pos[is_input], kind="stable")
        inputs = np.flatnonzero(is_input)[order].astype(np.int32)  # raster column k -> neuron
        active = np.zeros((trials, n), dtype=np.int32)
        active[:, :len(start)] = start
        n_active = np.full(trials, len(start), dtype=np.int64)
        pend = np.zeros((trials, span), dtype=np.uint8)
        plist = np.empty((trials, span), dtype=np.int32)  # pages are touched only where used
        pcount = np.zeros((trials, span // n), dtype=np.int64)
        stamp = np.full((trials, n), -1, dtype=np.int64)
        scratch = np.empty((3, trials, n), dtype=np.int32)  # touch, fired, sort buffer
        touched = np.zeros(trials, dtype=np.int64)
        self._arrays = [inputs, always, active, n_active, pend, plist, pcount, stamp, scratch, touched]
        self._state = [[_address(active[b]), _address(n_active[b:b + 1]), _address(pend[b]),
                        _address(plist[b]), _address(pcount[b]), _address(stamp[b]),
                        _address(scratch[0, b]), _address(scratch[1, b]), _address(scratch[2, b]),
                        _address(touched[b:b + 1])] for b in range(trials)]

    def __call__(self, t0: int, t1: int, v: np.ndarray, ring: np.ndarray, bias: np.ndarray,
                 thr: np.ndarray, keep: np.ndarray, reset: np.ndarray, input_pos: np.ndarray,
                 stoch_pos: np.ndarray, p: np.ndarray, draws: np.ndarray, window: Any,
                 cur_pos: np.ndarray, cur: np.ndarray, rec_pos: np.ndarray, spikes_out: np.ndarray,
                 pot_pos: np.ndarray, pots_out: np.ndarray, indptr: np.ndarray, offset: np.ndarray,
                 weight: np.ndarray, events: np.ndarray) -> None:
        """Advance every trial from step t0 to t1: the arguments and effect of
        :func:`spikec.backends._kernel.run_block`, except that the inputs come as the block's
        :class:`~spikec.backends.stimulus.InputWindow` and the ring as :attr:`lazy_ring`."""
        args = [v, ring, bias, thr, keep, reset, input_pos, stoch_pos, p, draws, window, cur_pos, cur,
                rec_pos, spikes_out, pot_pos, pots_out, indptr, offset, weight, events]
        if t0 == 0 and not self.choice:
            self._start(v, ring, bias, thr, keep, input_pos, cur_pos, pot_pos)
            if self.choice != "event":
                self._hand_over(ring, bias)
        if self.choice != "event":
            args[9], args[10] = _drawn(draws, 0), window.raster
            self.fallback(t0, t1, *args)
            return
        if self.adaptive and t0 == 0:
            k = min(t1, _probe_steps(spikes_out.shape[2]))
            self._block(0, k, *args)
            touched = self._arrays[-1]
            per_step = float(touched.sum()) / (k * v.shape[0])
            if per_step > DENSE_FRACTION * v.shape[1]:
                self.choice = "native"
                self._hand_over(ring, bias)
            log.debug("engine auto: %s (%.1f of %d neurons touched per step over %d steps)",
                      self.choice, per_step, v.shape[1], k)
            if k < t1:
                if self.choice == "event":
                    self._block(k, t1, *args, row0=k)
                else:
                    args[9], args[10] = _drawn(draws, k), window.raster[k:]
                    self.fallback(k, t1, *args)
            return
        self._block(t0, t1, *args)

    def _jumps(self, width: int) -> np.ndarray:
        """The PCG64 jump table (A_k, G_k), k = 0..width, of ``_event.c`` (made once per run)."""
        if self._table is None or len(self._table) != width + 1:
            self._table = np.empty((width + 1, 4), dtype=np.uint64)
            _STATE["jumps"](width, _address(self._table))
        return self._table

    def _hand_over(self, ring: np.ndarray, bias: np.ndarray) -> None:
        """Pre-load the ring for another engine: the bias in every cell not marked pending."""
        trials = ring.shape[0]
        cells = ring.reshape(trials, -1, len(bias))
        if not self._arrays:
            cells[...] = bias
            return
        pend = self._arrays[4].reshape(cells.shape)
        np.copyto(cells, bias, where=pend == 0)

    def _block(self, t0: int, t1: int, v: np.ndarray, ring: np.ndarray, bias: np.ndarray,
               thr: np.ndarray, keep: np.ndarray, reset: np.ndarray, input_pos: np.ndarray,
               stoch_pos: np.ndarray, p: np.ndarray, draws: np.ndarray, window: Any,
               cur_pos: np.ndarray, cur: np.ndarray, rec_pos: np.ndarray, spikes_out: np.ndarray,
               pot_pos: np.ndarray, pots_out: np.ndarray, indptr: np.ndarray, offset: np.ndarray,
               weight: np.ndarray, events: np.ndarray, *, row0: int = 0) -> None:
        """The C kernel on every trial, trials in parallel on threads (``row0``: the window row
        of step t0)."""
        fn = _library()
        if fn is None:
            raise RuntimeError(f"the event kernel is not available: {unavailable()}")
        trials, n = v.shape
        ring_len = ring.shape[1] // n
        inputs, always = self._arrays[0], self._arrays[1]
        off32 = _address(offset) if offset.dtype == np.int32 else 0
        off64 = _address(offset) if offset.dtype == np.int64 else 0
        head = [t0, t1, 0, trials, n, ring_len, spikes_out.shape[2]]
        shared = [_address(x) for x in (bias, thr, keep, reset, p)]
        in_ptr, in_col = window.events
        in_ptr = in_ptr[row0 * trials:]
        width = draws.width if isinstance(draws, BlockDraws) else 0
        rng = draws.states(row0) if isinstance(draws, BlockDraws) else np.zeros((trials, 4), np.uint64)
        jumps = self._jumps(width)
        tail = [_address(in_ptr), _address(in_col), _address(stoch_pos), _address(rng),
                _address(jumps), width, _address(cur_pos), _address(cur), cur.shape[2], _address(rec_pos),
                _address(spikes_out.view(np.uint8)), _address(pot_pos), _address(pots_out),
                _address(indptr), off32, off64, _address(weight), _address(inputs), _address(always),
                len(always)]

        def one(b: int) -> int:
            got: int = fn(*head[:2], b, *head[3:], _address(v[b]), _address(ring[b]), *shared, *tail,
                          *self._state[b])
            return got

        workers = min(trials, native.cores())
        if workers <= 1:
            counts = [one(b) for b in range(trials)]
        else:
            with ThreadPoolExecutor(max_workers=workers) as pool:
                counts = list(pool.map(one, range(trials)))
        events += np.asarray(counts, dtype=np.int64)


def engine(fallback: Any = None, adaptive: bool = False) -> Any:
    """The kernel for ``engine="event"`` (or, ``adaptive``, for ``"auto"`` over ``fallback``):
    an :class:`EventEngine` when the C event kernel builds; else ``fallback``, the numba
    kernel when numba is installed, or None (the numpy engine). Results are identical."""
    if available():
        return EventEngine(fallback, adaptive)
    if fallback is not None:
        return fallback
    try:
        from spikec.backends._kernel import run_block
    except ImportError:
        return None
    return run_block


def auto(fallback: Any) -> Any:
    """What ``engine="auto"`` runs on a large run when ``fallback`` (a compiled kernel's
    ``run_block``) is available: the adaptive :class:`EventEngine` over it (module docstring)."""
    return engine(fallback, adaptive=True)
