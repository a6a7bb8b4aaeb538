"""Trial ensembles on Dask: one run's trials split into shards that run on workers.

Trial k of a run with ``trial_offset`` o uses the random streams of global
trial o + k (:mod:`spikec.backends.stimulus`), so a shard of trials
``first .. first + count - 1`` run with ``trial_offset=first`` reproduces
those trials of the single run exactly. :func:`simulate_ensemble` (what
``spikec.simulate(..., client=...)`` calls) and the diffusion solver's
``client=`` both go through :func:`run_shards`:

- the network (and what every shard shares) is scattered to the workers
  once; each worker process compiles it once (a :class:`Simulator` cached
  under the run's token), not once per shard;
- shard sizes come from the simulator's memory estimate, so one shard stays
  within ``SPIKEC_MAX_MEMORY`` divided by the threads of a worker;
- reductions run on the workers: with ``keep_raster=False`` a shard sends back
  spike counts per recorded neuron and trial, decoded probes, synaptic events
  and the value of an optional ``reduce`` function, never its raster;
- results are combined in trial order as shards finish, with a progress bar;
- a worker that dies mid-shard has its shard rerun by Dask on another worker,
  which gives the same numbers (a shard is a pure function of its trials).

``dask[distributed]`` is optional (``pip install "spikec[dist]"``); nothing
here imports it until a client is used.
"""

from __future__ import annotations

import contextlib
import math
import sys
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from spikec.backends.memory import max_memory as _max_memory
from spikec.backends.memory import memory_total
from spikec.backends.memory import size_text as _size
from spikec.backends.results import Recording, SimResult
from spikec.backends.simulator import Simulator, _count
from spikec.backends.stimulus import plan_currents, plan_inputs
from spikec.errors import SimulationError
from spikec.ir.network import Network

__all__ = ["EnsembleResult", "simulate_ensemble", "run_shards", "open_client", "require_distributed",
           "worker_threads", "split", "shard_size", "cached_simulator", "INSTALL"]

INSTALL = 'pip install "spikec[dist]"'
#: Shards per worker thread when the memory limit allows more trials per shard: enough to
#: balance uneven workers and to show progress, few enough that each shard's setup is cheap.
SHARDS_PER_THREAD = 4
_CACHE_SIZE = 4  # compiled networks a worker process keeps (most recent runs)
_SIMULATORS: dict[str, Simulator] = {}


def require_distributed(what: str = "client=") -> Any:
    """The ``distributed`` module, or a SimulationError saying how to install it."""
    try:
        import distributed
    except ImportError:
        raise SimulationError(f"{what} runs trials on Dask, which is not installed: {INSTALL}") from None
    return distributed


@contextlib.contextmanager
def open_client(workers: int | None = None, scheduler: str | None = None) -> Iterator[Any]:
    """A Dask client for the CLI's ``--workers N`` (a LocalCluster of N worker processes,
    one thread each) or ``--scheduler ADDRESS`` (a running scheduler); None without either."""
    if not workers and not scheduler:
        yield None
        return
    if workers and scheduler:
        raise SimulationError("give --workers (a local cluster) or --scheduler (a running one), not both")
    distributed = require_distributed("--workers" if workers else "--scheduler")
    import logging

    if scheduler:
        try:
            client = distributed.Client(scheduler, timeout="20s")
        except OSError as exc:
            raise SimulationError(f"--scheduler {scheduler}: cannot connect: {exc}") from None
        with client:
            yield client
        return
    # one thread per worker, and one thread for the native kernel inside it: no oversubscription
    cluster = distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                       dashboard_address=":0", silence_logs=logging.ERROR,
                                       env={"SPIKEC_THREADS": "1"})
    with cluster, distributed.Client(cluster) as client:
        yield client


def worker_threads(client: Any) -> tuple[int, int]:
    """(threads of the busiest worker, threads in all) of ``client``'s cluster, at least 1."""
    counts = list((client.nthreads() or {}).values())
    return max(counts or [1]), max(1, sum(counts))


def cached_simulator(token: str, net: Network) -> Simulator:
    """The network of run ``token`` compiled once per worker process."""
    sim = _SIMULATORS.get(token)
    if sim is None:
        while len(_SIMULATORS) >= _CACHE_SIZE:
            _SIMULATORS.pop(next(iter(_SIMULATORS)))
        sim = _SIMULATORS[token] = Simulator(net)
    return sim


def split(trials: int, size: int, offset: int = 0) -> list[tuple[int, int]]:
    """``(first global trial, count)`` of shards of at most ``size`` trials."""
    return [(offset + a, min(size, trials - a)) for a in range(0, trials, size)]


def shard_size(need: Callable[[int], int], trials: int, budget: int, threads: int,
               what: str, shard_trials: int | None = None) -> int:
    """Trials per shard: at most ``shard_trials`` (default: about
    :data:`SHARDS_PER_THREAD` shards per worker thread) and as many as fit ``budget``
    bytes, with ``need(t)`` the bytes of a shard of t trials (linear in t)."""
    one = need(1)
    if one > budget:
        raise SimulationError(
            f"one trial of {what} needs about {_size(one)}, over the memory of a shard ({_size(budget)},"
            " SPIKEC_MAX_MEMORY divided by the threads of a worker); raise max_memory / SPIKEC_MAX_MEMORY"
            " or use workers with fewer threads")
    per_trial = max(need(2) - one, 1)
    fits = int(1 + (budget - one) // per_trial)
    size = shard_trials if shard_trials is not None else math.ceil(trials / (SHARDS_PER_THREAD * threads))
    size = max(1, min(size, fits, trials))
    while size > 1 and need(size) > budget:  # the engine (and so the estimate) may change with size
        size //= 2
    return size


class _Progress:
    """Trials done, as shards finish: a tqdm bar, or one stderr line rewritten in place."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.total, self.done, self.bar, self.enabled = total, 0, None, enabled
        if not enabled:
            return
        try:
            from tqdm import tqdm
        except ImportError:
            return
        self.bar = tqdm(total=total, unit="trial", leave=False, dynamic_ncols=True)

    def update(self, n: int) -> None:
        self.done += n
        if self.bar is not None:
            self.bar.update(n)
        elif self.enabled:
            sys.stderr.write(f"\rtrials {self.done:,}/{self.total:,}")
            sys.stderr.flush()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        elif self.enabled:
            sys.stderr.write("\n")


def run_shards(client: Any, shared: Any, fn: Callable[..., Any], shards: Sequence[tuple[Any, ...]],
               on_result: Callable[[int, Any], None], progress: bool = False) -> None:
    """Run ``fn(shared, *shard)`` for every shard on ``client``'s workers and hand each
    result to ``on_result(shard index, result)`` as it arrives (one shard's result in the
    client's memory at a time). ``shared`` is scattered once to every worker; the second
    item of a shard is its trial count (for progress). A shard's error is raised here
    after the others are cancelled."""
    distributed = require_distributed()
    shared_future = client.scatter(shared, broadcast=True, hash=False)
    token = uuid.uuid4().hex[:12]
    futures = [client.submit(fn, shared_future, *shard, key=f"spikec-shard-{token}-{i}", pure=False)
               for i, shard in enumerate(shards)]
    index = {f.key: i for i, f in enumerate(futures)}
    bar = _Progress(sum(int(s[1]) for s in shards), progress)
    try:
        for future in distributed.as_completed(futures):
            i = index[future.key]
            on_result(i, future.result())
            future.release()
            bar.update(int(shards[i][1]))
    finally:
        bar.close()
        client.cancel([*futures, shared_future])


@dataclass
class _Shared:
    """What every shard of a simulation shares (scattered once)."""

    net: Network
    token: str
    steps: int
    seed: int
    record: np.ndarray
    potentials: np.ndarray
    engine: str
    max_memory: int
    keep_raster: bool
    decode: bool
    reduce: Callable[[SimResult], Any] | None


class _RowsOf(dict):
    """``{name: (trials, steps)}`` read from a result on first use (decode_probes reads
    only the probed neurons)."""

    def __init__(self, result: SimResult) -> None:
        super().__init__()
        self.result = result

    def __missing__(self, name: str) -> np.ndarray:
        value = self[name] = self.result.spikes_of(name)[0]
        return value


def _simulate_shard(shared: _Shared, first: int, count: int, inputs: Mapping[str, Any] | None,
                    currents: Mapping[str, Any] | None) -> tuple[Any, ...]:
    """One shard on a worker: its raster (``keep_raster``) or its reductions."""
    from spikec.backends.native import thread_limit

    sim = cached_simulator(shared.token, shared.net)
    with thread_limit(1):  # a task holds one of its worker's threads: no more kernel threads
        result = sim.run(shared.steps, inputs=inputs, currents=currents, seed=shared.seed, trials=count,
                         record=shared.record,
                         potentials=shared.potentials if len(shared.potentials) else False,
                         trial_offset=first, max_memory=shared.max_memory, engine=shared.engine)
    if shared.keep_raster:
        assert result._pot is not None
        return result.spike_array(), result._pot.data, result.synaptic_events
    from spikec.ir.decoders import decode_probes

    counts = np.count_nonzero(result.spike_array(), axis=2)
    probes = decode_probes(shared.net, _RowsOf(result)) if shared.decode else {}
    value = shared.reduce(result) if shared.reduce is not None else None
    return counts, probes, result.synaptic_events, value


@dataclass
class EnsembleResult:
    """What a sharded run with ``keep_raster=False`` reduced on its workers.

    ``spike_counts[k, b]`` is the number of spikes of recorded neuron ``recorded[k]``
    in trial b; ``probes`` the decoded values of the decoder probes, one per trial
    (as :func:`spikec.ir.decoders.decode_probes` gives them for the whole run);
    ``synaptic_events`` the total of every shard; ``reduced`` the value of the run's
    ``reduce`` function on each shard, in trial order, with ``shards`` the
    ``(first global trial, trials)`` of each.
    """

    steps: int
    trials: int
    seed: int
    trial_offset: int
    synaptic_events: int
    spike_counts: np.ndarray
    recorded: np.ndarray
    probes: dict[str, list[Any]]
    shards: list[tuple[int, int]]
    reduced: list[Any] = field(default_factory=list)
    _rec: Recording | None = field(default=None, repr=False)

    def counts_of(self, neurons: Any) -> np.ndarray:
        """Spike counts of ``neurons`` (a name, names or indices): (neurons, trials)."""
        assert self._rec is not None
        return self._rec.data[self._rec.rows(neurons)]


def _per_trial(value: Any, kind: str) -> bool:
    """Whether an ``inputs``/``currents`` value has one entry per trial (so shards slice it)."""
    if isinstance(value, np.ndarray):
        return value.ndim == 2
    if kind == "currents" or isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        return False
    items = list(value)
    return bool(items) and all(hasattr(x, "__iter__") and not isinstance(x, str) for x in items)


def _slice(given: Mapping[str, Any] | None, kind: str, trials: int, a: int, b: int) -> dict[str, Any] | None:
    if given is None:
        return None
    out = {}
    for name, value in given.items():
        if kind == "currents" and not isinstance(value, np.ndarray):
            value = np.asarray(value, dtype=float) if isinstance(value, (list, tuple)) else value
        if _per_trial(value, kind):
            if len(value) != trials:
                raise SimulationError(f"{kind[:-1]} '{name}': {len(value)} rows for {trials} trials")
            value = value[a:b]
        out[name] = value
    return out


def simulate_ensemble(net: Network, steps: int, inputs: Mapping[str, Any] | None = None,
                      currents: Mapping[str, Any] | None = None, seed: int = 0, trials: int = 1,
                      record: Any = None, *, potentials: Any = False, trial_offset: int = 0,
                      max_memory: int | None = None, progress: bool = False, engine: str = "auto",
                      client: Any, keep_raster: bool = True, shard_trials: int | None = None,
                      reduce: Callable[[SimResult], Any] | None = None) -> SimResult | EnsembleResult:
    """:func:`spikec.simulate` on a Dask ``client``: a :class:`SimResult` identical to one
    process (``keep_raster=True``), or an :class:`EnsembleResult` of what the workers
    reduced (``keep_raster=False``; ``reduce(shard_result)`` runs on each shard too)."""
    require_distributed()
    if reduce is not None and keep_raster:
        raise SimulationError("reduce= runs on the workers in place of sending rasters:"
                              " give keep_raster=False")
    if shard_trials is not None and (isinstance(shard_trials, bool) or not isinstance(shard_trials, int)
                                     or shard_trials < 1):
        raise SimulationError(f"shard_trials must be an integer >= 1, got {shard_trials!r}")
    steps = _count("steps", steps, 0)
    trials = _count("trials", trials, 1)
    trial_offset = _count("trial_offset", trial_offset, 0)
    sim = Simulator(net)
    # names resolved and arguments checked here (one trial's inputs planned), before anything is sent
    rec_idx = sim._record(record)
    pot_idx = (rec_idx if potentials is True else np.zeros(0, dtype=np.int64) if potentials is False
               else sim._resolve(potentials, "potentials"))
    plan_inputs(net, steps, 1, _slice(inputs, "inputs", trials, 0, 1), seed, trial_offset)
    plan_currents(net, steps, 1, _slice(currents, "currents", trials, 0, 1))
    limit = max_memory if max_memory is not None else _max_memory()
    n_rec, n_pot = len(rec_idx), len(pot_idx)
    held = (n_rec + 8 * n_pot) * trials * steps if keep_raster else 8 * n_rec * trials
    if held > limit:
        raise SimulationError(
            f"the combined result of {trials:,} trials needs {_size(held)} on the client, over the limit"
            f" of {_size(limit)}; use keep_raster=False (counts and decoded probes reduced on the"
            " workers), record fewer neurons, or raise max_memory / SPIKEC_MAX_MEMORY")
    per_worker, threads = worker_threads(client)
    n_cur = len(currents or {})
    decode = record is None or (isinstance(record, str) and record == "all")

    def need(t: int) -> int:
        parts = sim.memory_estimate(steps, t, record=rec_idx, potentials=pot_idx if n_pot else False,
                                    currents=n_cur,
                                    engine=engine)
        reduced = 0 if keep_raster else 8 * n_rec * t + (n_rec * t * steps if decode else 0)
        return memory_total(parts) + reduced

    budget = limit // per_worker
    size = shard_size(need, trials, budget, threads, f"{len(net):,} neurons x {steps:,} steps", shard_trials)
    shards = split(trials, size, trial_offset)
    shared = _Shared(net, uuid.uuid4().hex, steps, seed, rec_idx, pot_idx, engine, budget, keep_raster,
                     decode, reduce)
    jobs = [(first, count, _slice(inputs, "inputs", trials, a, a + count),
             _slice(currents, "currents", trials, a, a + count))
            for first, count in shards for a in [first - trial_offset]]
    events = 0
    if keep_raster:
        spikes = np.zeros((n_rec, trials, steps), dtype=bool)
        pots = np.zeros((n_pot, trials, steps))

        def take(i: int, out: tuple[Any, ...]) -> None:
            nonlocal events
            a = shards[i][0] - trial_offset
            spikes[:, a:a + shards[i][1]] = out[0]
            pots[:, a:a + shards[i][1]] = out[1]
            events += int(out[2])

        run_shards(client, shared, _simulate_shard, jobs, take, progress)
        return SimResult(steps, trials, seed, Recording(spikes, rec_idx, net), Recording(pots, pot_idx, net),
                         trial_offset, events)
    counts = np.zeros((n_rec, trials), dtype=np.int64)
    parts: list[dict[str, list[Any]]] = [{} for _ in shards]
    reduced: list[Any] = [None] * len(shards)

    def gather(i: int, out: tuple[Any, ...]) -> None:
        nonlocal events
        a = shards[i][0] - trial_offset
        counts[:, a:a + shards[i][1]] = out[0]
        parts[i], reduced[i] = out[1], out[3]
        events += int(out[2])

    run_shards(client, shared, _simulate_shard, jobs, gather, progress)
    probes = {label: [v for part in parts for v in part[label]] for label in (parts[0] if parts else {})}
    return EnsembleResult(steps, trials, seed, trial_offset, events, counts, rec_idx, probes, shards,
                          reduced if reduce is not None else [], Recording(counts, rec_idx, net))
