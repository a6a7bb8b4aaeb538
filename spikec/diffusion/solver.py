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

from spikec.backends.simulator import Simulator, _max_memory, _size, memory_total
from spikec.diffusion.problem import DiffusionError, Problem
from spikec.ir.decoders import count_field_rows, field_bytes
from spikec.ir.network import Network, Probe

__all__ = ["Solution", "solve", "field_probe", "memory_estimate"]

#: Longest run (neural steps) solve will try before giving up.
MAX_NEURAL_STEPS = 50_000_000


@dataclass
class Solution:
    """Walker counts of a solver run.

    ``counts`` has shape (trials, steps + 1, *shape); ``neural_steps[t]`` is
    the neural step at which trial t finished its last model step;
    ``synaptic_events`` and ``spikes`` are totals over all trials and the
    whole simulated run.
    """

    problem: Problem
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


def _problem(probe: Probe) -> tuple[Problem, int]:
    info = probe.info or {}
    if "problem" not in info:
        raise DiffusionError(f"probe '{probe.label}' does not say which problem it solves")
    return Problem.from_dict(info["problem"]), int(info.get("steps_hint", 1))


def solve(net: Network, label: str | None = None, trials: int = 1, seed: int = 0,
          trial_offset: int = 0, *, steps: int | None = None, engine: str = "auto",
          progress: bool = False, max_memory: int | None = None,
          exact_events: bool = False) -> Solution:
    """Run the solver circuit of ``net`` (its ``field`` probe ``label``) for ``trials``
    trials; see the module docstring. ``steps`` overrides the first estimate of
    neural steps. The synaptic events counted are those of the whole run, which
    may go on past the last model step; ``exact_events`` runs each batch again,
    stopping at its last trial's finish, to count only the events up to there."""
    probe = field_probe(net, label)
    problem, hint = _problem(probe)
    if isinstance(trials, bool) or not isinstance(trials, (int, np.integer)) or trials < 1:
        raise DiffusionError(f"trials must be an integer >= 1, got {trials!r}")
    sim = Simulator(net)
    probed = net.resolve(list(probe.neurons))  # indices: each run records and reads them as one array
    nodes = (probe.key or ((),))[0]
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
    events = spikes = 0
    done = 0
    while done < trials:
        batch = _batch(sim, probed, length, trials - done, windows, problem.nodes, budget - held, engine)
        result = sim.run(length, seed=seed, trials=batch, record=probed,
                         trial_offset=trial_offset + done, max_memory=budget - held, progress=progress,
                         engine=engine)
        data = result.spike_array()  # (neurons, trials, steps), in probed order: no copy
        got, complete, finish = count_field_rows(data, nodes, problem.shape, windows)
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
        end = int(finished[done:done + batch].max()) + 1
        if exact_events and end < length:
            result = sim.run(end, seed=seed, trials=batch, record=probed, trial_offset=trial_offset + done,
                             max_memory=budget - held, engine=engine)
        events += result.synaptic_events
        spikes += int(np.count_nonzero(result.spike_array()))
        done += batch
        del result, data
    return Solution(
        problem=problem, counts=counts, neural_steps=finished, seed=seed, trial_offset=trial_offset,
        synaptic_events=events, spikes=spikes, simulated_steps=length, neurons=len(net),
        synapses=net.num_synapses, seconds=time.perf_counter() - start,
    )


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
