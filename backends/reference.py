"""A deliberately plain interpreter of ``docs/semantics.md``, for testing.

It walks neurons, synapses and trials one at a time with Python scalars and
a dict of pending deliveries keyed by arrival step: slow, short and easy to
check by eye against the semantics page. The test suite runs every
executing backend against it on random networks. Random draws follow the
same documented streams as the fast simulator (one uniform per stochastic
neuron per step, in network order, from stream ``(trial, 1)``), drawn here
one step at a time, so stochastic networks can be compared exactly too.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any

import numpy as np

from spikec.backends.simulator import SimResult
from spikec.backends.stimulus import NEURON_STREAM, plan_currents, plan_inputs, trial_rng
from spikec.ir.network import Network
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
    """Simulate every neuron of ``net``; returns spikes and potentials of all of them."""
    verify(net)
    neurons = net.neurons()
    plan = plan_inputs(net, steps, trials, inputs, seed, trial_offset)
    cur_names, cur = plan_currents(net, steps, trials, currents)
    stochastic = [n.name for n in neurons if not n.is_input and n.p < 1.0]
    spikes = {n.name: np.zeros((trials, steps), dtype=bool) for n in neurons}
    pots = {n.name: np.zeros((trials, steps)) for n in neurons if not n.is_input}
    out_synapses = defaultdict(list)
    for s in net.synapses():
        out_synapses[s.pre].append((s.post, s.weight, s.delay))

    for b in range(trials):
        rng = trial_rng(seed, trial_offset + b, NEURON_STREAM)
        potential = {n.name: n.v0 for n in neurons if not n.is_input}
        pending: dict[int, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        for t in range(steps):
            arriving = pending.pop(t, {})
            uniforms = dict(zip(stochastic, rng.random(len(stochastic)).tolist(), strict=True))
            fired_now = []
            for n in neurons:
                if n.is_input:
                    k = plan.names.index(n.name)
                    if plan.raster[t, b, k]:
                        fired_now.append(n.name)
                    continue
                v = potential[n.name] + n.bias + arriving.get(n.name, 0.0)
                if n.name in cur_names:
                    v += cur[t, b, cur_names.index(n.name)]
                pots[n.name][b, t] = v
                spike = v >= n.threshold
                if spike and n.p < 1.0:
                    spike = uniforms[n.name] < n.p
                if spike:
                    fired_now.append(n.name)
                    potential[n.name] = n.reset
                else:
                    potential[n.name] = (1.0 - n.decay) * v
            for name in fired_now:
                spikes[name][b, t] = True
                for post, weight, delay in out_synapses[name]:
                    pending[t + delay][post] += weight
    return SimResult(steps, trials, seed, spikes, pots, trial_offset)
