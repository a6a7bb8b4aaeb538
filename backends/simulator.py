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
N x N matrix); each entry stores ``d * N + post`` so delivery is a gather
of the spiking rows plus one scatter-add into the ring buffer, shaped
``(trials, L, N)`` with ``L = max delay + 1``. The bias rides in the ring:
a consumed slot is refilled with the bias rather than zeros. The work per
step is O(trials x neurons + synaptic events), with no Python loop over
neurons, synapses or trials on the hot path.

Two engines implement these phases: a numpy engine (state shaped
``(trials, N)``; delivery is a gather of the spiking CSR rows and one
``np.add.at``) and a compiled numba kernel (:mod:`spikec.backends._kernel`,
one trial per core at a time). Both add every contribution in the same order, so
they agree bit for bit; ``engine="auto"`` picks numba for large runs.

Random draws: trial k's stochastic neurons read, each step, one uniform per
neuron with ``p < 1`` (in network order) from stream ``(k, 1)`` of
``SeedSequence(seed)`` (see :mod:`spikec.backends.stimulus`); draws are
made in blocks of steps, which yields the same numbers as one call per step.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from spikec.backends.stimulus import NEURON_STREAM, plan_currents, plan_inputs, trial_rng
from spikec.errors import SimulationError, did_you_mean
from spikec.ir.network import Network
from spikec.ir.verify import verify

__all__ = ["Simulator", "SimResult", "simulate", "DEFAULT_MAX_MEMORY", "ENGINES"]

#: Default ceiling on the memory one simulation may allocate (bytes); override with
#: ``max_memory=`` or the ``SPIKEC_MAX_MEMORY`` environment variable (e.g. ``8G``).
DEFAULT_MAX_MEMORY = 4 << 30

_DRAW_BLOCK = 1 << 22  # uniforms generated per block (per trial)


def _parse_size(text: str) -> int:
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
    t = text.strip().upper().removesuffix("B").removesuffix("I")
    mult = units.get(t[-1:], 1)
    try:
        return int(float(t[:-1] if t[-1:] in units else t) * mult)
    except ValueError:
        raise SimulationError(f"SPIKEC_MAX_MEMORY: cannot read {text!r} as a size") from None


def _size(n: float) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{int(n)} bytes"


@dataclass
class SimResult:
    """What a simulation recorded.

    ``spikes[name]`` is a bool array of shape (trials, steps);
    ``potentials[name]`` (when asked) a float array of the same shape holding
    the potential *after integration* at each step, the value compared with
    the threshold. ``synaptic_events`` counts spikes times outgoing synapses
    delivered within the run.
    """

    steps: int
    trials: int
    seed: int
    spikes: dict[str, np.ndarray]
    potentials: dict[str, np.ndarray] = field(default_factory=dict)
    trial_offset: int = 0
    synaptic_events: int = 0

    def spike_times(self, name: str) -> list[list[int]]:
        """Sorted spike steps of ``name``, one list per trial."""
        if name not in self.spikes:
            raise SimulationError(
                f"'{name}' was not recorded{did_you_mean(name, self.spikes)}"
            )
        return [np.flatnonzero(row).tolist() for row in self.spikes[name]]

    @property
    def times(self) -> dict[str, list[list[int]]]:
        """``{name: spike_times(name)}`` for every recorded neuron."""
        return {name: self.spike_times(name) for name in self.spikes}

    def __repr__(self) -> str:
        return (
            f"<SimResult steps={self.steps} trials={self.trials} seed={self.seed}"
            f" recorded={len(self.spikes)}>"
        )


@dataclass
class _Run:
    """The arrays of one run, shared by both engines."""

    steps: int
    trials: int
    cur_idx: np.ndarray
    cur: np.ndarray
    raster: np.ndarray
    rec_idx: np.ndarray
    pot_idx: np.ndarray
    rngs: list[np.random.Generator]
    indptr: np.ndarray
    post: np.ndarray
    delay: np.ndarray
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


ENGINES = ("auto", "numpy", "numba")
# Below this much work (neurons x steps x trials) "auto" uses numpy: loading the
# compiled kernel costs more than it saves.
_KERNEL_WORK = 2_000_000


def _choose_engine(engine: str, work: int) -> Any:
    """The compiled kernel function, or None for the numpy engine."""
    engine = os.environ.get("SPIKEC_ENGINE", engine) if engine == "auto" else engine
    if engine not in ENGINES:
        raise SimulationError(
            f"unknown engine '{engine}'{did_you_mean(engine, ENGINES)};"
            f" expected one of {', '.join(ENGINES)}"
        )
    if engine == "numpy" or (engine == "auto" and work < _KERNEL_WORK):
        return None
    try:
        from spikec.backends._kernel import run_block
    except ImportError:
        if engine == "numba":
            raise SimulationError(
                "engine 'numba' needs the numba package: pip install numba"
            ) from None
        return None
    return run_block


class Simulator:
    """A network compiled to arrays, ready to run many times.

    ``Simulator(net).run(steps, ...)`` is what :func:`simulate` does; keep
    the object to skip recompiling when running the same network again.
    """

    def __init__(self, net: Network) -> None:
        verify(net)
        self.net = net
        neurons = net.neurons()
        self.names = [n.name for n in neurons]
        self.index = {name: i for i, name in enumerate(self.names)}
        n = len(neurons)
        self.n = n
        self.is_input = np.array([x.is_input for x in neurons], dtype=bool)
        # Input neurons never cross an infinite threshold; their raster sets their spikes.
        self.threshold = np.array(
            [np.inf if x.is_input else x.threshold for x in neurons], dtype=float
        )
        self.keep = np.array([1.0 - x.decay for x in neurons], dtype=float)
        self.reset = np.array([x.reset for x in neurons], dtype=float)
        self.bias = np.array([0.0 if x.is_input else x.bias for x in neurons], dtype=float)
        self.v0 = np.array([0.0 if x.is_input else x.v0 for x in neurons], dtype=float)
        p = np.array([1.0 if x.is_input else x.p for x in neurons], dtype=float)
        self.stochastic = np.flatnonzero(p < 1.0)
        self.p_stochastic = p[self.stochastic]
        self.input_idx = np.array([self.index[name] for name in net.inputs()], dtype=np.int64)

        # Walk the adjacency once: nodes come in index order, so synapses come
        # out grouped by presynaptic neuron (CSR order) with no sort.
        counts = np.zeros(n, dtype=np.int64)
        post: list[int] = []
        weight: list[float] = []
        delay: list[int] = []
        index = self.index
        for a, nbrs in net.graph.adjacency():
            before = len(post)
            for b, keyed in nbrs.items():
                ib = index[b]
                for data in keyed.values():
                    post.append(ib)
                    weight.append(data["weight"])
                    delay.append(data["delay"])
            counts[index[a]] = len(post) - before
        # Synapses stay in network order within each row: measured on the benchmark
        # network, sorting rows by (delay, post) or by post made delivery slower.
        self.pre = np.repeat(np.arange(n, dtype=np.int64), counts)
        self.post = np.array(post, dtype=np.int64)
        # A delay past 2**62 steps can never deliver; clamp so it fits in int64.
        self.delay = np.minimum(np.array(delay, dtype=object), 2**62).astype(np.int64) if any(
            d > 2**62 for d in delay
        ) else np.array(delay, dtype=np.int64)
        self.weight = np.array(weight, dtype=float)

    def _csr(self, steps: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
        """CSR arrays (indptr, post, delay, weight) of the synapses that can deliver
        within ``steps`` steps, and the ring length L = max delay + 1."""
        keep = self.delay < steps
        pre, post, w, d = self.pre, self.post, self.weight, self.delay
        if not keep.all():
            pre, post, w, d = pre[keep], post[keep], w[keep], d[keep]
        ring_len = (int(d.max()) if len(d) else 0) + 1
        indptr = np.zeros(self.n + 1, dtype=np.int64)
        np.cumsum(np.bincount(pre, minlength=self.n), out=indptr[1:])
        return indptr, post, d, w, ring_len

    def run(
        self,
        steps: int,
        inputs: Mapping[str, Any] | None = None,
        currents: Mapping[str, Any] | None = None,
        seed: int = 0,
        trials: int = 1,
        record: str | Iterable[str] | None = None,
        potentials: bool | Iterable[str] = False,
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
        rec_names = self._record_names(record)
        if potentials is True:
            pot_names = list(rec_names)
        elif potentials is False:
            pot_names = []
        else:
            pot_names = self._check_names(list(potentials), "potentials")
        indptr, post, delay, weight, ring_len = self._csr(steps)
        n = self.n
        need = (
            8 * trials * n * (ring_len + 3)
            + steps * trials * (len(rec_names) + 8 * len(pot_names) + len(self.input_idx))
            + 8 * steps * trials * len(currents or {})
        )
        limit = max_memory if max_memory is not None else _max_memory()
        if need > limit:
            raise SimulationError(
                f"this simulation needs about {_size(need)} ({trials} trials x {n} neurons x"
                f" {ring_len} delay slots, {len(rec_names)} recorded neurons x {steps} steps),"
                f" over the limit of {_size(limit)}; record fewer neurons, run fewer trials"
                " at once, or raise max_memory / SPIKEC_MAX_MEMORY"
            )
        kernel = _choose_engine(engine, n * steps * trials)

        plan = plan_inputs(self.net, steps, trials, inputs, seed, trial_offset)
        cur_names, cur = plan_currents(self.net, steps, trials, currents)
        run = _Run(
            steps=steps,
            trials=trials,
            cur_idx=np.array([self.index[x] for x in cur_names], dtype=np.int64),
            cur=cur,
            raster=plan.raster,
            rec_idx=np.array([self.index[x] for x in rec_names], dtype=np.int64),
            pot_idx=np.array([self.index[x] for x in pot_names], dtype=np.int64),
            rngs=[trial_rng(seed, trial_offset + b, NEURON_STREAM) for b in range(trials)],
            indptr=indptr,
            post=post,
            delay=delay,
            weight=weight,
            ring_len=ring_len,
            bar=_progress_bar(steps) if progress else None,
        )
        if kernel is None:
            self._run_numpy(run)
        else:
            self._run_kernel(run, kernel)
        if run.bar is not None:
            run.bar.close()
        spikes = {name: run.spikes_out[k] for k, name in enumerate(rec_names)}
        pots = {name: run.pots_out[k] for k, name in enumerate(pot_names)}
        return SimResult(steps, trials, seed, spikes, pots, trial_offset, run.events)

    def _draw(self, run: _Run, rows: int) -> np.ndarray:
        """The next ``rows`` steps of uniforms: shape (rows, trials, stochastic neurons)."""
        draws = np.empty((rows, run.trials, len(self.stochastic)))
        for b, rng in enumerate(run.rngs):
            draws[:, b, :] = rng.random((rows, len(self.stochastic)))
        return draws

    def _blocks(self, run: _Run) -> Iterable[tuple[int, int]]:
        """Step ranges of one draw block each (smaller when a progress bar is shown)."""
        block = max(1, _DRAW_BLOCK // max(1, len(self.stochastic) * run.trials))
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
        offset = run.delay * n + run.post
        trial_base = np.arange(trials, dtype=np.int64) * ln
        thr, keep = self.threshold, self.keep
        leaky = not np.all(keep == 1.0)
        reset = np.broadcast_to(self.reset, (trials, n))
        stoch = self.stochastic
        indptr, weight = run.indptr, run.weight
        for t0, t1 in self._blocks(run):
            draws = self._draw(run, t1 - t0) if len(stoch) else None
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
                    fired[:, self.input_idx] = run.raster[t]
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
                starts = indptr[j]
                counts = indptr[j + 1] - starts
                total = int(counts.sum())
                if not total:
                    continue
                run.events += total
                ends = np.cumsum(counts)
                pos = np.arange(total, dtype=np.int64)
                pos += np.repeat(starts - ends + counts, counts)
                target = offset[pos] + t * n
                target %= ln
                target += np.repeat(trial_base[trial_of], counts)
                np.add.at(ring_flat, target, weight[pos])

    def _run_kernel(self, run: _Run, kernel: Any) -> None:
        """The compiled engine (:mod:`spikec.backends._kernel`): trials in parallel."""
        n, trials = self.n, run.trials
        v = np.broadcast_to(self.v0, (trials, n)).copy()
        ring = np.broadcast_to(self.bias, (trials, run.ring_len, n)).copy()
        ring = ring.reshape(trials, run.ring_len * n)

        def positions(idx: np.ndarray) -> np.ndarray:
            pos = np.full(n, -1, dtype=np.int64)
            pos[idx] = np.arange(len(idx))
            return pos

        p = np.ones(n)
        p[self.stochastic] = self.p_stochastic
        # delay * N + post in 4 bytes when it fits: the synapse table is read every step
        span = run.ring_len * n
        offset_type = np.int32 if span < 2**31 else np.int64
        offset = (run.delay * n + run.post).astype(offset_type)
        events = np.zeros(trials, dtype=np.int64)
        no_draws = np.zeros((0, trials, 0))
        for t0, t1 in self._blocks(run):
            draws = self._draw(run, t1 - t0) if len(self.stochastic) else no_draws
            kernel(
                t0, t1, v, ring, self.bias, self.threshold, self.keep, self.reset,
                positions(self.input_idx), positions(self.stochastic), p, draws, run.raster,
                positions(run.cur_idx), run.cur, positions(run.rec_idx), run.spikes_out,
                positions(run.pot_idx), run.pots_out, run.indptr, offset, run.weight, events,
            )
        run.events += int(events.sum())

    def _check_names(self, names: Sequence[str], what: str) -> list[str]:
        for name in names:
            if name not in self.index:
                raise SimulationError(
                    f"{what}: no neuron named '{name}'{did_you_mean(name, self.names)}"
                )
        return list(dict.fromkeys(names))

    def _record_names(self, record: str | Iterable[str] | None) -> list[str]:
        if record == "all":
            return list(self.names)
        if record is None:
            if self.net.probes:
                return list(dict.fromkeys(n for p in self.net.probes for n in p.neurons))
            return list(self.names)
        if isinstance(record, str):
            return self._check_names([record], "record")
        return self._check_names(list(record), "record")


def _count(what: str, value: Any, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise SimulationError(f"{what} must be an integer >= {low}, got {value!r}")
    return int(value)


def _max_memory() -> int:
    env = os.environ.get("SPIKEC_MAX_MEMORY")
    return _parse_size(env) if env else DEFAULT_MAX_MEMORY


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
    record: str | Iterable[str] | None = None,
    *,
    potentials: bool | Iterable[str] = False,
    trial_offset: int = 0,
    max_memory: int | None = None,
    progress: bool = False,
    engine: str = "auto",
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
      network has no probes), ``"all"``, or a list of names.
    - ``potentials``: ``True`` to record the potentials of the recorded
      neurons, or a list of names.
    - ``max_memory``: refuse (before allocating) a run needing more bytes.
    - ``progress``: show a progress bar over steps (tqdm).
    - ``engine``: ``"numba"`` (compiled kernel), ``"numpy"``, or ``"auto"``
      (numba for large runs when installed; the ``SPIKEC_ENGINE`` environment
      variable overrides ``"auto"``). Both engines give identical results.
    """
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
