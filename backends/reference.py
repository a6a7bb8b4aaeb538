"""A deliberately plain interpreter of ``docs/semantics.md``, for testing.

It walks neurons (by index), synapses and trials one at a time with Python
scalars read from the network's columns and a dict of pending deliveries
keyed by arrival step: slow, short and easy to check by eye against the
semantics page. The test suite runs every executing backend against it on
random networks. Random draws follow the same documented streams as the
fast simulator (one uniform per stochastic neuron per step, in network
order, from stream ``(trial, 1)``), drawn here one step at a time, so
stochastic networks can be compared exactly too.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any

import numpy as np

from spikec.backends.results import Recording, SimResult
from spikec.backends.stimulus import NEURON_STREAM, plan_currents, plan_inputs, trial_rng
from spikec.ir.network import NEURON_PARAMS, Network
from spikec.ir.verify import verify

__all__ = ["reference_simulate"]


def reference_simulate(
    net: Network,
    steps: int,
    inputs: Mapping[str, Any] | None = None,
    currents: Mapping[str, Any] | None = None,
    seed: int = 0,
    trials: int = 1,
    trial_offset: int = 0,
) -> SimResult:
    """Simulate every neuron of ``net``; returns spikes of all and potentials of the
    non-input neurons."""
    verify(net)
    n = len(net)
    threshold, decay, reset, bias, p, v0 = (net.param(k).tolist() for k in NEURON_PARAMS)
    is_input = net.is_input.tolist()
    plan = plan_inputs(net, steps, trials, inputs, seed, trial_offset)
    raster_column = {i: k for k, i in enumerate(plan.neurons.tolist())}
    cur_idx, cur = plan_currents(net, steps, trials, currents)
    current_column = {i: k for k, i in enumerate(cur_idx.tolist())}
    stochastic = [i for i in range(n) if not is_input[i] and p[i] < 1.0]
    spikes = np.zeros((n, trials, steps), dtype=bool)
    pots = np.zeros((n, trials, steps))
    out_synapses: dict[int, list[tuple[int, float, int]]] = defaultdict(list)
    for pre, post, weight, delay in zip(net.pre.tolist(), net.post.tolist(), net.weight.tolist(),
                                        net.delay.tolist(), strict=True):
        out_synapses[pre].append((post, weight, delay))

    for b in range(trials):
        rng = trial_rng(seed, trial_offset + b, NEURON_STREAM)
        potential = list(v0)
        pending: dict[int, dict[int, float]] = defaultdict(lambda: defaultdict(float))
        for t in range(steps):
            arriving = pending.pop(t, {})
            uniforms = dict(zip(stochastic, rng.random(len(stochastic)).tolist(), strict=True))
            fired_now = []
            for i in range(n):
                if is_input[i]:
                    if plan.raster[t, b, raster_column[i]]:
                        fired_now.append(i)
                    continue
                v = potential[i] + bias[i] + arriving.get(i, 0.0)
                if i in current_column:
                    v += cur[t, b, current_column[i]]
                pots[i, b, t] = v
                spike = v >= threshold[i]
                if spike and p[i] < 1.0:
                    spike = uniforms[i] < p[i]
                if spike:
                    fired_now.append(i)
                    potential[i] = reset[i]
                else:
                    potential[i] = (1.0 - decay[i]) * v
            for i in fired_now:
                spikes[i, b, t] = True
                for post, weight, delay in out_synapses[i]:
                    pending[t + delay][post] += weight
    cells = np.flatnonzero(~net.is_input)
    return SimResult(steps, trials, seed, Recording(spikes, np.arange(n), net),
                     Recording(pots[cells], cells, net), trial_offset)
