"""Running a diffusion solver circuit and reading its field.

:func:`solve` simulates a network holding a ``field`` probe (made by the
``diffusion`` statement of ``std.diffusion``, or by
:func:`spikec.circuits.diffusion.build` with :meth:`Network.probe`) until
every trial has finished all its model steps, and returns a
:class:`Solution`: walkers per node, per model step and per trial.

A density-method circuit takes a random number of neural steps per model
step (the most walkers at one node, plus a constant), so the run length is
not known in advance. ``solve`` starts from the circuit's estimate and, if
any trial has not finished, runs again with twice the steps. Random draws
are made step by step from per-trial streams, so a longer run repeats the
shorter one exactly: the answer does not depend on the first estimate.
Trials are run in batches that fit the memory limit; a batch is a
``trial_offset`` shard, which reproduces the single run exactly.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from spikec.backends.memory import max_memory as _max_memory
from spikec.backends.memory import memory_total
from spikec.backends.memory import size_text as _size
from spikec.backends.simulator import Simulator
from spikec.diffusion.chain import Chain, problem_from_dict
from spikec.diffusion.problem import DiffusionError, Problem
from spikec.ir.decoders import count_exit_rows, count_field_rows, field_bytes
from spikec.ir.network import Network, Probe

__all__ = ["Solution", "solve", "field_probe", "memory_estimate", "walker_step_cost"]

#: Longest run (neural steps) solve will try before giving up.
MAX_NEURAL_STEPS = 50_000_000


@dataclass
class Solution:
    """Walker counts of a solver run.

    ``counts`` has shape (trials, steps + 1, *shape); ``neural_steps[t]`` is
    the neural step at which trial t finished its last model step; ``problem`` is a
    regular-mesh :class:`Problem` or a general :class:`Chain` (counts then have one axis
    of nodes);
    ``synaptic_events`` and ``spikes`` are totals over all trials and the
    whole simulated run. ``exits`` (density method, a problem that loses walkers) has
    shape (trials, steps, nodes): ``exits[t, m, i]`` walkers of trial t lost from node i in
    the move from model step m to m + 1 (the exit time is m + 1), read from the loss gates'
    spikes (the ``exits(NAME)`` probe); None when nothing was recorded.
    """

    problem: Problem | Chain
    counts: np.ndarray
    neural_steps: np.ndarray
    seed: int
    trial_offset: int
    synaptic_events: int
    spikes: int
    simulated_steps: int
    neurons: int
    synapses: int
    seconds: float
    exits: np.ndarray | None = None

    @property
    def trials(self) -> int:
        return int(self.counts.shape[0])

    def mean(self) -> np.ndarray:
        """Walkers per node averaged over trials: shape (steps + 1, *shape)."""
        return np.asarray(self.counts.mean(axis=0))

    def concentration(self) -> np.ndarray:
        """The trial-averaged field as a concentration (see :meth:`Problem.concentration`)."""
        return self.problem.concentration(self.mean())

    def walker_steps(self) -> int:
        """Walker moves made: walkers alive at each model step before the last, over trials."""
        return int(self.counts[:, :-1].sum())


def field_probe(net: Network, label: str | None = None) -> Probe:
    """The ``field`` probe named ``label`` (or the only one) of ``net``."""
    probes = [p for p in net.probes if p.decoder == "field"]
    if label is not None:
        chosen = [p for p in probes if p.label in (label, f"field({label})")]
        if not chosen:
            have = ", ".join(p.label for p in probes) or "none"
            raise DiffusionError(f"no diffusion field '{label}' in this network (it has: {have})")
        return chosen[0]
    if not probes:
        raise DiffusionError("this network has no diffusion field: state a problem with"
                             " 'diffusion NAME (...)' after 'import std.diffusion'")
    if len(probes) > 1:
        raise DiffusionError("this network has several diffusion fields ("
                             + ", ".join(p.label for p in probes) + "); name one")
    return probes[0]


def exits_probe(net: Network, probe: Probe) -> Probe | None:
    """The ``exits(NAME)`` probe of field probe ``probe`` (its loss gates' raw spikes), or None."""
    return next((p for p in net.probes if (p.info or {}).get("exits_of") == probe.label), None)


def _lost(net: Network, probe: Probe) -> tuple[np.ndarray, np.ndarray, int] | None:
    """The loss gates of the field probe's circuit (neuron indices), the node of each, and the
    neural steps from a release to its loss gate's spike."""
    ex = exits_probe(net, probe)
    if ex is None:
        return None
    info = ex.info or {}
    nodes = np.asarray(info.get("nodes", []), dtype=np.int64)
    if len(nodes) != len(ex.neurons):
        raise DiffusionError(f"probe '{ex.label}' gives {len(nodes)} nodes for {len(ex.neurons)} loss gates")
    return net.resolve(list(ex.neurons)), nodes, int(info.get("lag", 1))


def _problem(probe: Probe) -> tuple[Problem | Chain, int]:
    info = probe.info or {}
    if "problem" not in info:
        raise DiffusionError(f"probe '{probe.label}' does not say which problem it solves")
    return problem_from_dict(info["problem"]), int(info.get("steps_hint", 1))


def solve(net: Network, label: str | None = None, trials: int = 1, seed: int = 0,
          trial_offset: int = 0, *, steps: int | None = None, engine: str = "auto",
          progress: bool = False, max_memory: int | None = None,
          exact_events: bool = False, client: Any = None, shard_trials: int | None = None) -> Solution:
    """Run the solver circuit of ``net`` (its ``field`` probe ``label``) for ``trials``
    trials; see the module docstring. ``steps`` overrides the first estimate of
    neural steps. The synaptic events counted are those of the whole run, which
    may go on past the last model step; ``exact_events`` runs each batch again,
    stopping at its last trial's finish, to count only the events up to there.

    ``client`` (a ``dask.distributed`` Client) runs the trials in shards of
    ``shard_trials`` (default: sized from the memory limit and the workers) on its
    workers, each shard's field counted there: the counts and finish steps are those
    of one process; the events, spikes and simulated steps are each shard's own run
    (they depend on how trials are batched, in one process too)."""
    probe = field_probe(net, label)
    problem, hint = _problem(probe)
    if isinstance(trials, bool) or not isinstance(trials, (int, np.integer)) or trials < 1:
        raise DiffusionError(f"trials must be an integer >= 1, got {trials!r}")
    sim = Simulator(net)
    windows = problem.steps + 1
    budget = _max_memory() if max_memory is None else max_memory
    start = time.perf_counter()
    length = max(1, int(steps if steps is not None else hint))
    held = 8 * trials * (windows * problem.nodes + 1)  # counts and finish steps of every trial
    if held > budget:
        raise DiffusionError(
            f"{trials:,} trials of {windows:,} model steps x {problem.nodes:,} nodes need"
            f" {_size(held)} for their counts alone, over the limit of {_size(budget)}; run fewer"
            " trials per call (trial_offset= / --trial-offset shards add up to one run) or raise"
            " max_memory / SPIKEC_MAX_MEMORY")
    counts = np.zeros((trials, windows, *problem.shape), dtype=np.int64)
    finished = np.zeros(trials, dtype=np.int64)
    lost = _lost(net, probe)
    exits = None if lost is None else np.zeros((trials, problem.steps, problem.nodes), dtype=np.int64)
    if client is None:
        events, spikes, length = _run_trials(sim, probe, problem, counts, finished, seed, trial_offset,
                                             length, budget - held, engine, progress, exact_events,
                                             lost=lost, exits=exits)
    else:
        events, spikes, length = _solve_distributed(client, net, sim, probe, problem, counts, finished, seed,
                                                    trial_offset, length, budget, engine, progress,
                                                    exact_events, shard_trials, exits)
    return Solution(
        problem=problem, counts=counts, neural_steps=finished, seed=seed, trial_offset=trial_offset,
        synaptic_events=events, spikes=spikes, simulated_steps=length, neurons=len(net),
        synapses=net.num_synapses, seconds=time.perf_counter() - start, exits=exits,
    )


def _run_trials(sim: Simulator, probe: Probe, problem: Problem | Chain, counts: np.ndarray,
                finished: np.ndarray,
                seed: int, trial_offset: int, length: int, budget: int, engine: str, progress: bool,
                exact_events: bool, *, lost: tuple[np.ndarray, np.ndarray, int] | None = None,
                exits: np.ndarray | None = None) -> tuple[int, int, int]:
    """Fill ``counts`` and ``finished`` (one row per trial, from global trial ``trial_offset``)
    in batches that fit ``budget`` bytes; returns (events, spikes, last run length). With
    ``lost`` (loss gates and their nodes) the gates are recorded too and ``exits`` filled
    (:func:`spikec.ir.decoders.count_exit_rows`, from the same recording)."""
    probed = sim.net.resolve(list(probe.neurons))  # indices: each run records and reads them as one array
    field_rows = len(probed)
    if lost is not None and exits is not None:
        probed = np.concatenate([probed, lost[0]])  # the field's rows first, then the loss gates
    nodes = (probe.key or ((),))[0]
    clock_rows = np.flatnonzero(np.asarray(nodes, dtype=float) < 0)
    windows = problem.steps + 1
    trials = len(finished)
    events = spikes = 0
    done = 0
    extra = 0 if exits is None else problem.nodes  # the exit tallies: counted as more nodes
    while done < trials:
        batch = _batch(sim, probed, length, trials - done, windows, problem.nodes + extra, budget, engine)
        result = sim.run(length, seed=seed, trials=batch, record=probed,
                         trial_offset=trial_offset + done, max_memory=budget, progress=progress,
                         engine=engine)
        data = result.spike_array()  # (neurons, trials, steps), in probed order: no copy
        got, complete, finish = count_field_rows(data[:field_rows], nodes, problem.shape, windows)
        if not complete.all():
            if length * 2 > MAX_NEURAL_STEPS:
                raise DiffusionError(
                    f"the solver did not finish {problem.steps} model steps within {length:,} neural"
                    " steps; is a supervisor neuron missing or the circuit changed?")
            length *= 2
            del result, data, got  # before the longer run allocates
            continue
        counts[done:done + batch] = got
        finished[done:done + batch] = finish
        del got
        if exits is not None and lost is not None:  # the move out of the last step is not one of the run's
            exits[done:done + batch] = count_exit_rows(data, clock_rows, np.arange(field_rows, len(probed)),
                                                       lost[1], problem.nodes, problem.steps, lost[2])
        end = int(finished[done:done + batch].max()) + 1
        if exact_events and end < length:
            result = sim.run(end, seed=seed, trials=batch, record=probed, trial_offset=trial_offset + done,
                             max_memory=budget, engine=engine)
        events += result.synaptic_events
        spikes += int(np.count_nonzero(result.spike_array()))
        done += batch
        del result, data
    return events, spikes, length


@dataclass
class _Shared:
    """What every shard of a distributed solve shares (scattered once to the workers)."""

    net: Network
    token: str
    label: str
    problem: Problem | Chain
    seed: int
    length: int
    budget: int
    engine: str
    exact_events: bool


def _solve_shard(shared: _Shared, first: int,
                 count: int) -> tuple[np.ndarray, np.ndarray, int, int, int, np.ndarray | None]:
    """One shard on a worker: its trials' counts and finish steps, events, spikes, run length,
    and its exit tallies (None without loss gates)."""
    from spikec.backends.ensemble import cached_simulator

    sim = cached_simulator(shared.token, shared.net)
    probe = field_probe(shared.net, shared.label)
    counts = np.zeros((count, shared.problem.steps + 1, *shared.problem.shape), dtype=np.int64)
    finished = np.zeros(count, dtype=np.int64)
    lost = _lost(shared.net, probe)
    exits = None if lost is None else np.zeros((count, shared.problem.steps, shared.problem.nodes),
                                               dtype=np.int64)
    held = 8 * count * (counts[0].size + 1) + (0 if exits is None else exits.nbytes)
    from spikec.backends.native import thread_limit

    with thread_limit(1):  # a task holds one of its worker's threads: no more kernel threads
        events, spikes, length = _run_trials(sim, probe, shared.problem, counts, finished, shared.seed,
                                             first, shared.length, shared.budget - held, shared.engine,
                                             False, shared.exact_events, lost=lost, exits=exits)
    return counts, finished, events, spikes, length, exits


def _solve_distributed(client: Any, net: Network, sim: Simulator, probe: Probe, problem: Problem | Chain,
                       counts: np.ndarray, finished: np.ndarray, seed: int, trial_offset: int, length: int,
                       budget: int, engine: str, progress: bool, exact_events: bool,
                       shard_trials: int | None, exits: np.ndarray | None = None) -> tuple[int, int, int]:
    """:func:`_run_trials` in shards on ``client``'s workers (:mod:`spikec.backends.ensemble`)."""
    import uuid

    from spikec.backends import ensemble

    ensemble.require_distributed()
    probed = net.resolve(list(probe.neurons))
    lost = _lost(net, probe)
    if lost is not None:  # a shard records the loss gates too
        probed = np.concatenate([probed, lost[0]])
    windows = problem.steps + 1
    per_worker, threads = ensemble.worker_threads(client)
    per_task = budget // per_worker
    trials = len(finished)

    def need(t: int) -> int:  # a shard's first batch and its own counts
        parts = sim.memory_estimate(length, t, record=probed, engine=engine)
        decode = field_bytes(len(probed), t, length, windows, problem.nodes)
        own = 8 * t * (windows * problem.nodes + 1) * (1 if lost is None else 2)
        return max(memory_total(parts), parts["recorded spikes"] + decode) + own

    size = ensemble.shard_size(need, trials, per_task, threads,
                               f"{length:,} neural steps recording {len(probed):,} neurons", shard_trials)
    shards = ensemble.split(trials, size, trial_offset)
    shared = _Shared(net, uuid.uuid4().hex, probe.label, problem, seed, length, per_task, engine,
                     exact_events)
    totals = [0, 0, length]

    def take(i: int, out: tuple[np.ndarray, np.ndarray, int, int, int, np.ndarray | None]) -> None:
        a = shards[i][0] - trial_offset
        counts[a:a + shards[i][1]] = out[0]
        finished[a:a + shards[i][1]] = out[1]
        if exits is not None and out[5] is not None:
            exits[a:a + shards[i][1]] = out[5]
        totals[0] += out[2]
        totals[1] += out[3]
        totals[2] = max(totals[2], out[4])

    ensemble.run_shards(client, shared, _solve_shard, shards, take, progress)
    return totals[0], totals[1], totals[2]


def memory_estimate(net: Network, label: str | None = None, trials: int = 1, *,
                    steps: int | None = None, engine: str = "auto", max_memory: int | None = None) -> int:
    """Bytes :func:`solve` allocates for its first run length: the counts of every trial
    plus the largest batch of trials it would run at once (simulation and decoding)."""
    probe = field_probe(net, label)
    problem, hint = _problem(probe)
    sim = Simulator(net)
    probed = net.resolve(list(probe.neurons))
    windows = problem.steps + 1
    budget = _max_memory() if max_memory is None else max_memory
    length = max(1, int(steps if steps is not None else hint))
    held = 8 * trials * (windows * problem.nodes + 1)
    batch = _batch(sim, probed, length, trials, windows, problem.nodes, max(budget - held, 0), engine)
    parts = sim.memory_estimate(length, batch, record=probed, engine=engine)
    decode = field_bytes(len(probed), batch, length, windows, problem.nodes)
    return held + max(memory_total(parts), parts["recorded spikes"] + decode)


def _batch(sim: Simulator, probed: np.ndarray, length: int, left: int, windows: int, nodes: int,
           budget: int, engine: str) -> int:
    """The most trials (up to ``left``) whose run of ``length`` steps and field decoding fit in
    ``budget`` bytes: the simulator's estimate and the decoding's are linear in the trials."""

    def need(trials: int) -> int:
        parts = sim.memory_estimate(length, trials, record=probed, engine=engine)
        decode = field_bytes(len(probed), trials, length, windows, nodes)
        # the run's state is freed before the decoding, which reads only the recording
        return max(memory_total(parts), parts["recorded spikes"] + decode)

    one = need(1)
    if one > budget:
        raise DiffusionError(
            f"one trial of {length:,} neural steps recording {len(probed):,} neurons needs about"
            f" {_size(one)} with its decoding, over the limit of {_size(budget)} (after the"
            " counts of every trial); run fewer trials per call or raise max_memory /"
            " SPIKEC_MAX_MEMORY")
    per_trial = max(need(2) - one, 1)
    return int(max(1, min(left, 1 + (budget - one) // per_trial)))


def resources(sol: Solution) -> dict[str, Any]:
    """Cost figures of a run: per node, per model step and per walker step."""
    p = sol.problem
    model_steps = max(p.steps, 1)
    walker_steps = max(sol.walker_steps(), 1)
    return {
        "neurons": sol.neurons,
        "synapses": sol.synapses,
        "neurons_per_node": sol.neurons / p.nodes,
        "synapses_per_node": sol.synapses / p.nodes,
        "neural_steps_per_model_step": float(np.mean(sol.neural_steps)) / model_steps,
        "synaptic_events_per_walker_step": sol.synaptic_events / walker_steps,
    }


def walker_step_cost(sol: Solution, net: Network, target: Any = "loihi", *, placement: Any = None,
                     engine: str = "auto", max_memory: int | None = None) -> dict[str, Any]:
    """What the run ``sol`` of ``net`` costs on ``target`` (a built-in name, a ``.toml`` path or a
    :class:`~spikec.chip.target.Target`), per walker step, by the target's energy model
    (:func:`spikec.chip.stats.network_stats`, the model ``spikec stats`` prints).

    Every trial is counted up to the neural step at which it finished its last model step
    (``sol.neural_steps[t]``, inclusive): each trial is run again that long recording every
    neuron (the per-trial random streams repeat the solve's spikes exactly), which gives each
    neuron's spikes. Over those ``T = sum_t (neural_steps[t] + 1)`` neural steps the model
    charges each spike ``E.spike``, each spike times its neuron's outgoing synapses
    ``E.synaptic_event``, every non-input neuron ``E.neuron_update`` per step, the messages
    and hops of the spikes between the cores of ``placement`` (default: the target's own
    placement of ``net``) and ``E.step`` per step: ``network_stats`` with each neuron's
    measured rate (its spikes over ``T``), times ``T``. Dividing by the walker steps
    (:meth:`Solution.walker_steps`) gives the figures per walker step.

    Returns the totals (``spikes``, ``synaptic_events``, ``neuron_updates``, ``messages``,
    ``hops``, ``neural_steps``, ``energy`` in J and its ``energy_breakdown``), ``per_walker_step``
    (the same per walker step) and ``target``."""
    from spikec.chip.placement import place_network
    from spikec.chip.stats import network_stats
    from spikec.chip.target import Target, load_target

    tgt = target if isinstance(target, Target) else load_target(str(target))
    if len(net) != sol.neurons or net.num_synapses != sol.synapses:
        raise DiffusionError(f"this network ({len(net):,} neurons, {net.num_synapses:,} synapses) is not"
                             f" the one solved ({sol.neurons:,} neurons, {sol.synapses:,} synapses)")
    sim = Simulator(net)
    budget = _max_memory() if max_memory is None else max_memory
    finish = np.asarray(sol.neural_steps, dtype=np.int64)
    fired = np.zeros(len(net), dtype=np.int64)
    done = 0
    while done < sol.trials:
        length = int(finish[done:].max()) + 1

        def need(t: int, length: int = length) -> int:
            return memory_total(sim.memory_estimate(length, t, record="all", engine=engine))

        if need(1) > budget:
            raise DiffusionError(f"counting the energy runs one trial of {length:,} neural steps recording"
                                 f" all {len(net):,} neurons, about {_size(need(1))}, over the limit of"
                                 f" {_size(budget)}; raise max_memory / SPIKEC_MAX_MEMORY")
        per_trial = max(need(2) - need(1), 1)
        batch = int(max(1, min(sol.trials - done, 1 + (budget - need(1)) // per_trial)))
        length = int(finish[done:done + batch].max()) + 1
        result = sim.run(length, seed=sol.seed, trials=batch, record="all",
                         trial_offset=sol.trial_offset + done, max_memory=budget, engine=engine)
        data = result.spike_array()  # (neurons, trials, steps), network order
        for t in range(batch):  # one trial at a time: its own finish
            fired += np.count_nonzero(data[:, t, :finish[done + t] + 1], axis=1)
        done += batch
        del result, data
    steps = int((finish + 1).sum())
    if placement is None:
        placement = place_network(net, tgt)
    rates = fired / max(steps, 1)
    st = network_stats(net, placement, tgt, dict(zip(net.names(), rates.tolist(), strict=True)))
    out_degree = np.bincount(net.pre, minlength=len(net)).astype(np.int64)
    updated = int(len(net) - np.count_nonzero(net.is_input))
    totals: dict[str, Any] = {
        "spikes": int(fired.sum()),
        "synaptic_events": int(fired @ out_degree),
        "neuron_updates": updated * steps,
        "messages": st.messages_per_step * steps,
        "hops": st.hops_per_step * steps,
        "neural_steps": steps,
    }
    breakdown = {k: v * steps for k, v in st.energy_breakdown.items()}
    totals["energy"] = float(sum(breakdown.values()))
    ws = max(sol.walker_steps(), 1)
    per = {k: float(v) / ws for k, v in totals.items()}
    per["energy_breakdown"] = {k: v / ws for k, v in breakdown.items()}  # type: ignore[assignment]
    return {"target": tgt.name, "walker_steps": sol.walker_steps(), "cores": placement.num_cores,
            **totals, "energy_breakdown": breakdown, "per_walker_step": per}
