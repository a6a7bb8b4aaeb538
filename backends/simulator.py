"""The fast, cycle-accurate simulator of ``docs/semantics.md``.

One step t has four phases, for all non-input neurons and all trials at once:

1. **integrate**: ``V += bias + I_ext(t) + (synaptic input arriving at t)``;
2. **fire**: ``spike = V >= threshold``, and for a neuron with ``p < 1`` also
   ``u < p`` with ``u`` uniform from the trial's neuron stream; input
   neurons instead spike as their raster says;
3. **reset/leak**: ``V = reset`` where spiked, else ``V *= 1 - decay``;
4. **deliver**: each spike of neuron j at t adds ``w`` to ring-buffer slot
   ``(t + d) mod L`` of the target, for each synapse ``(j -> i, w, d)``.

Data layout. Synapses sit in CSR order by presynaptic neuron (no dense
N x N matrix), which is the order the IR keeps them in, so compiling a
network is a few array copies of its columns; each entry stores ``d * N + post`` so delivery is a gather
of the spiking rows plus one scatter-add into the ring buffer, shaped
``(trials, L, N)`` with ``L = max delay + 1``. The bias rides in the ring:
a consumed slot is refilled with the bias rather than zeros. The work per
step is O(trials x neurons + synaptic events), with no Python loop over
neurons, synapses or trials on the hot path.

Three engines implement these phases: a numpy engine (state shaped
``(trials, N)``; delivery is a gather of the spiking CSR rows and one
``np.add.at``), a native C kernel (:mod:`spikec.backends.native`, built with
the system C compiler on first use and cached) and a numba kernel
(:mod:`spikec.backends._kernel`); the compiled kernels run one trial per core
at a time. All add every contribution in the same order, so they agree bit
for bit; ``engine="auto"`` picks the native kernel for large runs (numba when
there is no C compiler and the run is long enough to pay for loading numba).

Random draws: trial k's stochastic neurons read, each step, one uniform per
neuron with ``p < 1`` (in network order) from stream ``(k, 1)`` of
``SeedSequence(seed)`` (see :mod:`spikec.backends.stimulus`); draws are
made in blocks of steps, which yields the same numbers as one call per step.
The event engine computes only the uniforms of stochastic neurons over threshold,
from the block's generator state (``backends/_event.c``). Inputs come a block at a
time (:class:`~spikec.backends.stimulus.InputPlan`): a raster, or per-step spike lists.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from spikec.backends.engines import ENGINES, cell_bytes, choose_engine
from spikec.backends.memory import DEFAULT_MAX_MEMORY, memory_total
from spikec.backends.memory import max_memory as _max_memory
from spikec.backends.memory import refuse as _refuse
from spikec.backends.results import Recording, SimResult
from spikec.backends.stimulus import (
    NEURON_STREAM,
    BlockDraws,
    InputPlan,
    plan_currents,
    plan_inputs,
    poisson_bytes,
    trial_rng,
)
from spikec.errors import NetworkError, SimulationError
from spikec.ir.network import Network
from spikec.ir.verify import verify

__all__ = ["Simulator", "SimResult", "simulate", "memory_total", "DEFAULT_MAX_MEMORY", "ENGINES"]

_choose_engine = choose_engine  # looked up here at each run (tests replace it)

_DRAW_BLOCK = 1 << 22  # uniforms generated per block (per trial)
_INPUT_BLOCK = 1 << 24  # bytes of one block's dense input raster (steps x trials x inputs)
# Python objects per trial: its numpy Generator (about 1 KB) and, on a compiled kernel, its task on
# the thread pool and the event engine's per-trial lists (RSS measured at 100,000 trials: 1.2 KB
# numpy, 3.0 KB native, 3.5 KB event).
_GENERATOR_BYTES = 3000
_EVENT_CHUNK = 1 << 20  # synaptic events per scatter-add of the numpy engine (bounds its temporaries)


@dataclass
class _Run:
    """The arrays of one run, shared by both engines."""

    steps: int
    trials: int
    cur_idx: np.ndarray
    cur: np.ndarray
    inputs: InputPlan
    rec_idx: np.ndarray
    pot_idx: np.ndarray
    rngs: list[np.random.Generator]
    indptr: np.ndarray
    offset: np.ndarray  # delay * N + post, per synapse in CSR order
    weight: np.ndarray
    ring_len: int
    bar: Any
    events: int = 0
    spikes_out: np.ndarray = field(init=False)
    pots_out: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        # (neuron, trial, step): each neuron's record is a contiguous (trials, steps) view
        self.spikes_out = np.zeros((len(self.rec_idx), self.trials, self.steps), dtype=bool)
        self.pots_out = np.zeros((len(self.pot_idx), self.trials, self.steps))


class Simulator:
    """A network compiled to arrays, ready to run many times.

    ``Simulator(net).run(steps, ...)`` is what :func:`simulate` does; keep
    the object to skip recompiling when running the same network again. It
    compiles the network as it is now: after editing the network, make a new one.
    """

    def __init__(self, net: Network) -> None:
        if not isinstance(net, Network):
            raise SimulationError(f"Simulator needs a Network, got {type(net).__name__}")
        verify(net)
        self.net = net
        self.n = len(net)
        self.num_synapses = net.num_synapses
        # Every array is a copy: later edits of the network do not reach a compiled Simulator.
        is_input = np.array(net.is_input)
        self.is_input = is_input
        # Input neurons never cross an infinite threshold; their raster sets their spikes.
        self.threshold = np.where(is_input, np.inf, net.threshold)
        self.keep = 1.0 - net.decay
        self.reset = np.array(net.reset)
        self.bias = np.where(is_input, 0.0, net.bias)
        self.v0 = np.where(is_input, 0.0, net.v0)
        p = np.where(is_input, 1.0, net.p)
        self.stochastic = np.flatnonzero(p < 1.0)
        self.p_stochastic = p[self.stochastic]
        self.input_idx = net.input_indices()
        # The IR keeps synapses grouped by presynaptic neuron, insertion order within a
        # group: the CSR order, and the order same-step inputs are added in. Measured on
        # the benchmark network, sorting rows by (delay, post) or by post made delivery slower.
        self.indptr = np.array(net.csr(), dtype=np.int64)
        self.post = net.post.astype(np.int64)
        self.delay = np.array(net.delay)  # a run keeps the synapses with delay < steps only
        self.weight = np.array(net.weight, dtype=np.float64)
        self._max_delay = int(self.delay.max()) if len(self.delay) else 0
        self._max_fanout = int(np.diff(self.indptr).max()) if self.n else 0
        self._offset: dict[Any, np.ndarray] = {}
        self._probed: tuple[tuple[int, ...], np.ndarray] | None = None

    def _csr(self, steps: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
        """CSR arrays (indptr, post, delay, weight) of the synapses that can deliver
        within ``steps`` steps, and the ring length L = max delay + 1."""
        if self._max_delay < steps:
            return self.indptr, self.post, self.delay, self.weight, self._max_delay + 1
        keep = self.delay < steps
        kept_before = np.zeros(len(keep) + 1, dtype=np.int64)
        np.cumsum(keep, out=kept_before[1:])
        d = self.delay[keep]
        ring_len = (int(d.max()) if len(d) else 0) + 1
        return kept_before[self.indptr], self.post[keep], d, self.weight[keep], ring_len

    def _offsets(self, post: np.ndarray, delay: np.ndarray, dtype: Any) -> np.ndarray:
        """``delay * N + post`` as ``dtype``; kept between runs when every synapse delivers."""
        full = post is self.post
        if full and dtype in self._offset:
            return self._offset[dtype]
        out = delay.astype(np.int64)  # built in place: one int64 temporary per synapse
        out *= self.n
        out += post
        out = out.astype(dtype, copy=False)
        if full:
            self._offset[dtype] = out
        return out

    def _held(self) -> int:
        """Bytes of the arrays this Simulator holds (the compiled network)."""
        arrays = [self.is_input, self.threshold, self.keep, self.reset, self.bias, self.v0,
                  self.stochastic, self.p_stochastic, self.input_idx, self.indptr, self.post,
                  self.delay, self.weight, *self._offset.values()]
        return sum(a.nbytes for a in arrays)

    def _estimate(self, steps: int, trials: int, n_rec: int, n_pot: int, n_cur: int,
                  kernel: Any) -> dict[str, int]:
        """Bytes a run allocates, by part (what :meth:`run` compares with ``max_memory``).

        Each part is what the code below allocates at its peak: the kept synapse
        table and its ``delay * N + post`` cells, the input rasters with one block
        of Poisson draws, currents, recordings, the state and ring, one block of
        uniforms, and (numpy engine) the per-step gather and scatter temporaries
        with every neuron firing and the largest chunk of events."""
        n, e, t = self.n, self.num_synapses, trials
        ns, k_in = len(self.stochastic), len(self.input_idx)
        if self._max_delay < steps:
            kept, ring_len, table = e, self._max_delay + 1, 0
        else:
            keep = self.delay < steps
            kept = int(np.count_nonzero(keep))
            ring_len = int(np.max(self.delay, where=keep, initial=0)) + 1
            table = e + 8 * (n + 1) + 24 * kept  # the mask, new indptr, post, delay, weight
        offset_bytes = 4 if kernel and ring_len * n < 2**31 else 8
        if table or offset_bytes not in (a.itemsize for a in self._offset.values()):
            table += 8 * kept + (offset_bytes * kept if offset_bytes == 4 else 0)
        rows = min(steps, max(1, _DRAW_BLOCK // max(1, ns * t))) if ns else 0
        poisson = poisson_bytes(self.net, steps)
        parts = {
            "compiled network": self._held(),
            "synapse table": table,
            "input spikes": self._block_rows(steps, t, kernel) * t * k_in * cell_bytes(kernel) + 8 * n,
            "Poisson draws": poisson,
            "currents": 8 * steps * t * n_cur,
            "recorded spikes": steps * t * n_rec + 16 * n_rec,
            "recorded potentials": 8 * steps * t * n_pot + 16 * n_pot,
            "state and delay ring": 8 * t * n * (ring_len + 1) + 8 * t,
            # a block of uniforms, and each trial's Python objects (a second generator for Poisson inputs)
            "random draws": 8 * rows * ns * (t + 1) + 2 * t * ns + _GENERATOR_BYTES * t * (1 + bool(poisson)),
        }
        if kernel:
            parts["state and delay ring"] += 8 * 7 * n  # the kernel's position tables and p
            event_state = getattr(kernel, "state_bytes", None)  # the event engine's active sets
            if event_state is not None:
                parts["state and delay ring"] += event_state(n, ring_len, t)
        else:
            # fired (twice while replaced), the gathered rows of every firing neuron-trial,
            # and one chunk of events (positions, cells, trial bases, weights)
            events = min(t * kept, _EVENT_CHUNK + self._max_fanout)
            parts["spike delivery"] = 2 * t * n + 48 * t * n + 32 * events
            parts["state and delay ring"] += 8 * t * (n_pot + n_cur) + t * n_rec
        return parts

    def memory_estimate(self, steps: int, trials: int = 1,
                        record: str | Iterable[str] | np.ndarray | range | None = None,
                        potentials: bool | Iterable[str] | np.ndarray | range = False,
                        currents: int = 0, engine: str = "auto") -> dict[str, int]:
        """Bytes :meth:`run` with these arguments would allocate, by part (``currents``
        is the number of neurons given currents); the run refuses when their peak
        (:func:`memory_total`) is over ``max_memory``."""
        steps = _count("steps", steps, 0)
        trials = _count("trials", trials, 1)
        rec_idx = self._record(record)
        n_pot = len(rec_idx) if potentials is True else 0 if potentials is False else len(
            self._resolve(potentials, "potentials"))
        kernel = _choose_engine(engine, self.n * steps * trials, steps)
        parts = self._estimate(steps, trials, len(rec_idx), n_pot, currents, kernel)
        if memory_total(parts) > _max_memory() and getattr(kernel, "adaptive", False) and kernel.fallback:
            parts = self._estimate(steps, trials, len(rec_idx), n_pot, currents, kernel.fallback)
        return parts

    def run(
        self,
        steps: int,
        inputs: Mapping[str, Any] | None = None,
        currents: Mapping[str, Any] | None = None,
        seed: int = 0,
        trials: int = 1,
        record: str | Iterable[str] | np.ndarray | range | None = None,
        potentials: bool | Iterable[str] | np.ndarray | range = False,
        trial_offset: int = 0,
        max_memory: int | None = None,
        progress: bool = False,
        engine: str = "auto",
    ) -> SimResult:
        """Run ``steps`` steps of ``trials`` trials; see :func:`simulate`."""
        steps = _count("steps", steps, 0)
        trials = _count("trials", trials, 1)
        trial_offset = _count("trial_offset", trial_offset, 0)
        seed = _count("seed", seed, 0)
        if len(self.net) != self.n or self.net.num_synapses != self.num_synapses:
            raise SimulationError("the network was edited after this Simulator was made; make a new one")
        rec_idx = self._record(record)
        if potentials is True:
            pot_idx = rec_idx
        elif potentials is False:
            pot_idx = np.zeros(0, dtype=np.int64)
        else:
            pot_idx = self._resolve(potentials, "potentials")
        kernel = _choose_engine(engine, self.n * steps * trials, steps)
        parts = self._estimate(steps, trials, len(rec_idx), len(pot_idx), len(currents or {}), kernel)
        limit = max_memory if max_memory is not None else _max_memory()
        if memory_total(parts) > limit and getattr(kernel, "adaptive", False) and kernel.fallback is not None:
            # "auto": the event engine's active sets do not fit, the native kernel runs the same steps
            kernel = kernel.fallback
            parts = self._estimate(steps, trials, len(rec_idx), len(pot_idx), len(currents or {}), kernel)
        _refuse(parts, limit, f"{trials} trial{'s' if trials != 1 else ''} x {self.n:,} neurons x {steps:,}"
                f" steps, {len(rec_idx):,} recorded neurons")
        indptr, post, delay, weight, ring_len = self._csr(steps)
        n = self.n
        # int32 cells when they fit: the kernel reads the synapse table every step
        offset_type = np.int32 if kernel is not None and ring_len * n < 2**31 else np.int64
        plan = plan_inputs(self.net, steps, trials, inputs, seed, trial_offset,
                           max(0, limit - memory_total(parts)))
        cur_idx, cur = plan_currents(self.net, steps, trials, currents)
        run = _Run(
            steps=steps,
            trials=trials,
            cur_idx=cur_idx,
            cur=cur,
            inputs=plan,
            rec_idx=rec_idx,
            pot_idx=pot_idx,
            rngs=[trial_rng(seed, trial_offset + b, NEURON_STREAM) for b in range(trials)],
            indptr=indptr,
            offset=self._offsets(post, delay, offset_type),
            weight=weight,
            ring_len=ring_len,
            bar=_progress_bar(steps) if progress else None,
        )
        if kernel is None or n == 0:  # the kernel needs a neuron (its ring has N columns)
            self._run_numpy(run)
        else:
            self._run_kernel(run, kernel)
        if run.bar is not None:
            run.bar.close()
        return SimResult(steps, trials, seed, Recording(run.spikes_out, rec_idx, self.net),
                         Recording(run.pots_out, pot_idx, self.net), trial_offset, run.events)

    def _draw(self, run: _Run, rows: int) -> np.ndarray:
        """The next ``rows`` steps of uniforms: shape (rows, trials, stochastic neurons)."""
        draws = np.empty((rows, run.trials, len(self.stochastic)))
        for b, rng in enumerate(run.rngs):
            draws[:, b, :] = rng.random((rows, len(self.stochastic)))
        return draws

    def _block_rows(self, steps: int, trials: int, kernel: Any, plan: InputPlan | None = None) -> int:
        """Steps per block: one block of uniforms and one of the input window at most."""
        ns, k_in = len(self.stochastic), len(self.input_idx)
        return max(1, min(steps, _DRAW_BLOCK // (ns * trials) if ns else steps,
                          _INPUT_BLOCK // (k_in * trials * cell_bytes(kernel, plan)) if k_in else steps))

    def _blocks(self, run: _Run, kernel: Any = None) -> Iterable[tuple[int, int]]:
        """Step ranges of one block each (smaller when a progress bar is shown)."""
        block = self._block_rows(run.steps, run.trials, kernel, run.inputs)
        if run.bar is not None:
            block = min(block, max(1, run.steps // 100))
        for t0 in range(0, run.steps, block):
            t1 = min(run.steps, t0 + block)
            yield t0, t1
            if run.bar is not None:
                run.bar.update(t1 - t0)

    def _run_numpy(self, run: _Run) -> None:
        """The numpy engine: state (trials, N), ring (trials, L, N)."""
        n, trials, ring_len = self.n, run.trials, run.ring_len
        v = np.broadcast_to(self.v0, (trials, n)).copy()
        ring = np.broadcast_to(self.bias, (trials, ring_len, n)).copy()
        ring_flat = ring.reshape(-1)
        ln = ring_len * n
        offset = run.offset
        trial_base = np.arange(trials, dtype=np.int64) * ln
        thr, keep = self.threshold, self.keep
        leaky = not np.all(keep == 1.0)
        reset = np.broadcast_to(self.reset, (trials, n))
        stoch = self.stochastic
        indptr, weight = run.indptr, run.weight
        draws: np.ndarray | None = None
        for t0, t1 in self._blocks(run):
            draws = None  # freed before the next block is drawn
            draws = self._draw(run, t1 - t0) if len(stoch) else None
            raster = run.inputs.window(t0, t1).raster
            for t in range(t0, t1):
                # 1. integrate (bias is pre-loaded in the ring slot)
                cur_slot = ring[:, t % ring_len, :]
                v += cur_slot
                cur_slot[...] = self.bias
                if len(run.cur_idx):
                    v[:, run.cur_idx] += run.cur[t]
                if len(run.pot_idx):
                    run.pots_out[:, :, t] = v[:, run.pot_idx].T
                # 2. fire
                fired = v >= thr
                if draws is not None:
                    fired[:, stoch] &= draws[t - t0] < self.p_stochastic
                if len(self.input_idx):
                    fired[:, self.input_idx] = raster[t - t0]
                if len(run.rec_idx):
                    run.spikes_out[:, :, t] = fired[:, run.rec_idx].T
                # 3. reset / leak
                if leaky:
                    v *= keep
                np.copyto(v, reset, where=fired)
                # 4. deliver: gather the rows of the spiking neurons, scatter-add
                active = np.flatnonzero(fired)
                if not len(active):
                    continue
                trial_of, j = np.divmod(active, n)
                del active
                starts = indptr[j]
                counts = indptr[j + 1] - starts
                ends = np.cumsum(counts)
                total = int(ends[-1])
                if not total:
                    continue
                run.events += total
                # In chunks of about _EVENT_CHUNK events, in order: the same sums, bounded temporaries.
                a0 = 0
                while a0 < len(j):
                    base = int(ends[a0 - 1]) if a0 else 0
                    a1 = max(a0 + 1, int(np.searchsorted(ends, base + _EVENT_CHUNK, side="right")))
                    c = counts[a0:a1]
                    m = int(ends[a1 - 1]) - base
                    if m:
                        pos = np.arange(m, dtype=np.int64)
                        pos += np.repeat(starts[a0:a1] - (ends[a0:a1] - base) + c, c)
                        target = offset[pos]
                        target += t * n
                        target %= ln
                        target += np.repeat(trial_base[trial_of[a0:a1]], c)
                        np.add.at(ring_flat, target, weight[pos])
                    a0 = a1

    def _run_kernel(self, run: _Run, kernel: Any) -> None:
        """The compiled engine (:mod:`spikec.backends._kernel`): trials in parallel."""
        n, trials = self.n, run.trials
        v = np.broadcast_to(self.v0, (trials, n)).copy()
        if getattr(kernel, "lazy_ring", False):  # the event engine: O(N) set-up (see backends/_event.c)
            ring = np.zeros((trials, run.ring_len * n))
        else:
            ring = np.broadcast_to(self.bias, (trials, run.ring_len, n)).copy()
            ring = ring.reshape(trials, run.ring_len * n)

        def positions(idx: np.ndarray) -> np.ndarray:
            pos = np.full(n, -1, dtype=np.int64)
            pos[idx] = np.arange(len(idx))
            return pos

        p = np.ones(n)
        p[self.stochastic] = self.p_stochastic
        events = np.zeros(trials, dtype=np.int64)
        no_draws = np.zeros((0, trials, 0))
        sparse_inputs = getattr(kernel, "sparse_inputs", False)
        lazy_draws = getattr(kernel, "lazy_draws", False) and len(self.stochastic)
        idx = (self.input_idx, self.stochastic, run.cur_idx, run.rec_idx, run.pot_idx)
        tables = [positions(i) for i in idx]
        for t0, t1 in self._blocks(run, kernel):
            draws: Any = (BlockDraws(run.rngs, t1 - t0, len(self.stochastic)) if lazy_draws  # kernel draws
                          else self._draw(run, t1 - t0) if len(self.stochastic) else no_draws)
            window = run.inputs.window(t0, t1)
            kernel(
                t0, t1, v, ring, self.bias, self.threshold, self.keep, self.reset,
                tables[0], tables[1], p, draws, window if sparse_inputs else window.raster,
                tables[2], run.cur, tables[3], run.spikes_out, tables[4], run.pots_out, run.indptr,
                run.offset, run.weight, events,
            )
            if lazy_draws:
                draws.advance()
            del draws, window  # before the next block is drawn
        run.events += int(events.sum())

    def _resolve(self, ref: Any, what: str) -> np.ndarray:
        """Indices of the neurons ``ref`` names (first occurrences, in order)."""
        try:
            idx = self.net.resolve(ref, what)
        except NetworkError as exc:
            raise SimulationError(exc.message) from None
        _, first = np.unique(idx, return_index=True)
        return idx[np.sort(first)] if len(first) != len(idx) else idx

    def _record(self, record: Any) -> np.ndarray:
        if isinstance(record, str) and record == "all":
            return np.arange(self.n, dtype=np.int64)
        if record is None:
            key = tuple(map(id, self.net.probes))
            if self._probed is None or self._probed[0] != key:  # names looked up once per probe set
                probed = [n for p in self.net.probes for n in p.neurons]
                idx = self._resolve(probed, "record") if probed else np.arange(self.n, dtype=np.int64)
                self._probed = (key, idx)
            return self._probed[1]
        return self._resolve(record, "record")


def _count(what: str, value: Any, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise SimulationError(f"{what} must be an integer >= {low}, got {value!r}")
    return int(value)


def _check_arguments(net: Any, inputs: Any, currents: Any, max_memory: Any) -> None:
    """Refuse arguments of the wrong kind before anything is compiled (SimulationError)."""
    if not isinstance(net, Network):
        raise SimulationError(f"simulate needs a Network (spikec.load(...) makes one), got"
                              f" {type(net).__name__}")
    for what, value in (("inputs", inputs), ("currents", currents)):
        if value is not None and not isinstance(value, Mapping):
            raise SimulationError(f"{what} must be a mapping of neuron names, got {type(value).__name__}")
    whole = isinstance(max_memory, (int, np.integer)) and not isinstance(max_memory, bool)
    if max_memory is not None and (not whole or max_memory < 1):
        raise SimulationError(f"max_memory must be a positive number of bytes, got {max_memory!r}")


def _progress_bar(steps: int) -> Any:
    from tqdm import tqdm

    return tqdm(total=steps, unit="step", leave=False, dynamic_ncols=True)


def simulate(
    net: Network,
    steps: int,
    inputs: Mapping[str, Any] | None = None,
    currents: Mapping[str, Any] | None = None,
    seed: int = 0,
    trials: int = 1,
    record: str | Iterable[str] | np.ndarray | range | None = None,
    *,
    potentials: bool | Iterable[str] | np.ndarray | range = False,
    trial_offset: int = 0,
    max_memory: int | None = None,
    progress: bool = False,
    engine: str = "auto",
    client: Any = None,
) -> SimResult:
    """Simulate ``net`` for ``steps`` steps and return a :class:`SimResult`.

    - ``inputs``: ``{input name: spikes}`` where spikes is a list of steps
      (every trial), a list of such lists (one per trial), or a bool raster
      of shape (steps,) or (trials, steps). Inputs not given use the
      network's file stimulus, if any; others stay silent.
    - ``currents``: ``{neuron name: I}`` with I a number, an array of shape
      (steps,) or (trials, steps), added to the potential at each step.
    - ``seed``, ``trials``, ``trial_offset``: trial k of the run uses the
      random streams of global trial ``trial_offset + k``, so a run split
      into shards by ``trial_offset`` reproduces the single run exactly.
    - ``record``: ``None`` (the probed neurons, or every neuron when the
      network has no probes), ``"all"``, a name, a list of names, or neuron
      indices (an integer array or range).
    - ``potentials``: ``True`` to record the potentials of the recorded
      neurons, or names / indices as for ``record``.
    - ``max_memory``: refuse (before allocating) a run needing more bytes.
    - ``progress``: show a progress bar over steps (tqdm).
    - ``engine``: ``"native"`` (the C kernel, built on first use), ``"event"``
      (exact event-driven: touches only neurons that can change), ``"numba"``,
      ``"numpy"``, or ``"auto"`` (numpy for small, short runs; else the
      event engine unless more than a quarter of the neurons is touched per
      step, then native: see :func:`_choose_engine`; the ``SPIKEC_ENGINE``
      environment variable overrides ``"auto"``). Every engine gives
      identical results.
    - ``client``: a Dask Client: trials run in shards on its workers, same result (``ensemble.py``).
    """
    _check_arguments(net, inputs, currents, max_memory)
    if client is not None:
        from spikec.backends.ensemble import simulate_ensemble
        return simulate_ensemble(net, steps, inputs, currents, seed, trials, record, potentials=potentials,
                                 trial_offset=trial_offset, max_memory=max_memory, progress=progress,
                                 engine=engine, client=client)
    # compiling copies the network's columns (about 40 bytes per synapse): check that first
    _refuse({"compiled network": 56 * len(net) + 40 * net.num_synapses},
            max_memory if max_memory is not None else _max_memory(),
            f"compiling {len(net):,} neurons and {net.num_synapses:,} synapses")
    return Simulator(net).run(
        steps,
        inputs=inputs,
        currents=currents,
        seed=seed,
        trials=trials,
        record=record,
        potentials=potentials,
        trial_offset=trial_offset,
        max_memory=max_memory,
        progress=progress,
        engine=engine,
    )
