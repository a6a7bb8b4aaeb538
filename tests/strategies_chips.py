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


@st.composite
def placed_networks(
    draw: st.DrawFn, max_neurons: int = 8, max_cores: int = 4, stochastic: bool = True
) -> tuple[spikec.Network, np.ndarray, int]:
    """A random network (multi-edges, several delays), a random core for each neuron and
    the number of cores (some cores may hold nothing)."""
    net = draw(networks(stochastic=stochastic, max_neurons=max_neurons))
    k = draw(st.integers(1, max_cores))
    cores = draw(st.lists(st.integers(0, k - 1), min_size=len(net), max_size=len(net)))
    return net, np.array(cores, dtype=np.int64), k


@st.composite
def relay_runs(draw: st.DrawFn, cycles: bool = True) -> Run:
    """A run of a network rich in pure relays: chains of them in any index order (and, with
    ``cycles``, relays feeding each other), several synapses per pair, some probed neurons."""
    net = spikec.Network("relays")
    order = draw(st.permutations(range(draw(st.integers(2, 12)))))
    kinds = {i: draw(st.sampled_from(["relay", "relay", "gate"])) for i in order}
    n_in = draw(st.integers(1, 2))
    names = [net.input(f"in[{i}]") for i in range(n_in)]
    for i in order:
        names.append(net.neuron(f"n{i}", threshold=1.0 if kinds[i] == "relay" else 2.0,
                                decay=draw(st.sampled_from([0.0, 1.0]))))
    relays = [f"n{i}" for i in order if kinds[i] == "relay"]
    gates = [f"n{i}" for i in order if kinds[i] == "gate"]
    depth = {name: k for k, name in enumerate(names)} if cycles else {
        name: k for k, name in enumerate(names[:n_in] + draw(st.permutations(names[n_in:])))}
    for r in relays:
        sources = [x for x in names if x != r and (cycles or depth[x] < depth[r])]
        if sources:
            net.synapse(draw(st.sampled_from(sources)), r, draw(st.sampled_from([1.0, 2.0])),
                        draw(st.integers(1, 4)))
    for pre in names:
        for _ in range(draw(st.integers(0, 3)) if gates else 0):
            weight = draw(st.integers(-8, 8)) / 4
            net.synapse(pre, draw(st.sampled_from(gates)), weight, draw(st.integers(1, 3)))
    if gates and draw(st.booleans()):
        net.probe(*gates[:2], label="p")
    inputs = {x: draw(st.lists(st.integers(0, 20), max_size=6)) for x in net.inputs()}
    return Run(net, inputs, draw(st.integers(1, 30)))


@st.composite
def hub_networks(draw: st.DrawFn) -> spikec.Network:
    """One input with many outgoing synapses (repeated targets, delays 1-6) to split."""
    net = spikec.Network("hub")
    net.input("x")
    targets = [net.neuron(f"y{i}", threshold=1.0) for i in range(draw(st.integers(1, 4)))]
    for k in range(draw(st.integers(1, 40))):
        net.synapse("x", draw(st.sampled_from(targets)), float(k), draw(st.sampled_from([1, 2, 2, 3, 4, 6])))
    return net
