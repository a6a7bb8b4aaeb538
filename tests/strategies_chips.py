"""Hypothesis strategies for the chip compiler's tests: runs of random networks
with probes, integer-valued networks that chip models hold exactly, and a way
to batch several networks into one (one external simulator run for many)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from hypothesis import strategies as st

import spikec
from strategies import networks


@dataclass
class Run:
    """A network, input spikes (every trial), steps and the neurons to compare."""

    net: spikec.Network
    inputs: dict[str, list[int]]
    steps: int
    trials: int = 1
    seed: int = 0


@st.composite
def runs(draw: st.DrawFn, stochastic: bool = False, probes: bool = True, max_neurons: int = 7) -> Run:
    """A random network (some neurons probed, or none), inputs and a run length."""
    net = draw(networks(stochastic=stochastic, max_neurons=max_neurons))
    names = [n.name for n in net.neurons() if not n.is_input]
    if probes and draw(st.booleans()):
        chosen = draw(st.lists(st.sampled_from(names), min_size=1, max_size=len(names), unique=True))
        net.probe(*chosen, label="p")
    inputs = {x: draw(st.lists(st.integers(0, 20), max_size=6)) for x in net.inputs()}
    trials = draw(st.integers(1, 3)) if stochastic else 1
    return Run(net, inputs, draw(st.integers(1, 24)), trials, draw(st.integers(0, 2**16)))


@st.composite
def integer_networks(
    draw: st.DrawFn,
    decays: tuple[float, ...] = (0.0, 1.0),
    v0: bool = True,
    max_neurons: int = 6,
    max_delay: int = 4,
) -> spikec.Network:
    """Deterministic networks with integer values (what chip models hold exactly);
    a neuron with decay 1 has reset 0."""
    net = spikec.Network("int")
    inputs = [net.input(f"in[{i}]") for i in range(draw(st.integers(1, 3)))]
    names = []
    for i in range(draw(st.integers(1, max_neurons))):
        decay = draw(st.sampled_from(decays))
        names.append(
            net.neuron(
                f"n{i}",
                threshold=draw(st.integers(-1, 4)),
                decay=decay,
                reset=0 if decay else draw(st.integers(-2, 1)),
                bias=draw(st.sampled_from([0, 0, 0, 1, -1])),
                v0=draw(st.integers(-2, 2)) if v0 else 0,
            )
        )
    for _ in range(draw(st.integers(1, 3 * len(names) + 3))):
        net.synapse(
            draw(st.sampled_from(inputs + names)),
            draw(st.sampled_from(names)),
            weight=draw(st.integers(-3, 4)),
            delay=draw(st.integers(1, max_delay)),
        )
    return net


def combine(nets: list[spikec.Network]) -> spikec.Network:
    """One network holding ``nets`` side by side, names prefixed ``k/``."""
    out = spikec.Network("batch")
    for k, net in enumerate(nets):
        for n in net.neurons():
            if n.is_input:
                out.input(f"{k}/{n.name}")
            else:
                out.neuron(f"{k}/{n.name}", n.threshold, n.decay, n.reset, n.bias, n.p, n.v0)
        for s in net.synapses():
            out.synapse(f"{k}/{s.pre}", f"{k}/{s.post}", s.weight, s.delay)
    return out


def random_inputs(net: spikec.Network, steps: int, seed: int, rate: float = 0.3) -> dict[str, list[int]]:
    """Input spike steps at ``rate`` per step, from ``seed``."""
    rng = np.random.default_rng(seed)
    return {x: np.flatnonzero(rng.random(steps) < rate).tolist() for x in net.inputs()}


def same_spikes(a: Any, b: Any, names: list[str]) -> list[str]:
    """Names whose spike arrays differ between two results."""
    return [n for n in names if not np.array_equal(a.spikes[n], b.spikes[n])]
