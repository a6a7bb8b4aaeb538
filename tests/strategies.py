"""Hypothesis strategies for random networks and their inputs.

Values are dyadic (multiples of 1/4, decays in {0, 1/4, 1/2, 3/4, 1}) so that
every sum the semantics asks for is exact in float64 for the short runs
used here; engines that add in different orders must then agree bit for bit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

import spikec

quarters = st.integers(-12, 12).map(lambda k: k / 4)
decays = st.sampled_from([0.0, 0.25, 0.5, 0.75, 1.0])
probabilities = st.sampled_from([1.0, 1.0, 1.0, 0.5, 0.25, 0.0])


@dataclass
class Case:
    """A random network plus a run: inputs, currents, steps, trials, seed."""

    net: spikec.Network
    steps: int
    trials: int
    seed: int
    inputs: dict[str, Any]
    currents: dict[str, Any]


@st.composite
def networks(draw: st.DrawFn, stochastic: bool = True, max_neurons: int = 7) -> spikec.Network:
    """A random network with inputs, multi-edges and every parameter exercised."""
    net = spikec.Network("random")
    n_in = draw(st.integers(0, 3))
    n = draw(st.integers(1, max_neurons))
    inputs = [net.input(f"in[{i}]") for i in range(n_in)]
    names = []
    for i in range(n):
        names.append(
            net.neuron(
                f"n{i}",
                threshold=draw(st.integers(-2, 8).map(lambda k: k / 2)),
                decay=draw(decays),
                reset=draw(quarters),
                bias=draw(st.sampled_from([0.0, 0.0, 0.25, 0.5, -0.25, 1.0])),
                p=draw(probabilities) if stochastic else 1.0,
                v0=draw(quarters),
            )
        )
    n_syn = draw(st.integers(0, 3 * (n + n_in)))
    for _ in range(n_syn):
        pre = draw(st.sampled_from(inputs + names))
        post = draw(st.sampled_from(names))
        net.synapse(pre, post, weight=draw(quarters), delay=draw(st.integers(1, 5)))
    return net


@st.composite
def cases(draw: st.DrawFn, stochastic: bool = True) -> Case:
    """A network with a run: per-trial input spikes, some injected currents."""
    net = draw(networks(stochastic=stochastic))
    steps = draw(st.integers(0, 20))
    trials = draw(st.integers(1, 3))
    inputs: dict[str, Any] = {}
    for name in net.inputs():
        if draw(st.booleans()):
            inputs[name] = draw(st.lists(st.integers(0, 25), max_size=6))
        else:
            inputs[name] = [
                draw(st.lists(st.integers(0, 25), max_size=6)) for _ in range(trials)
            ]
    currents: dict[str, Any] = {}
    others = [n.name for n in net.neurons() if not n.is_input]
    if others and steps and draw(st.booleans()):
        target = draw(st.sampled_from(others))
        currents[target] = [draw(quarters) for _ in range(steps)]
    return Case(net, steps, trials, draw(st.integers(0, 2**32)), inputs, currents)
