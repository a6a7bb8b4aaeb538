"""``verify(net)``: check a network against every rule of the semantics.

The builders of :class:`~spikec.ir.network.Network` already check each object
as it is added; ``verify`` re-checks the whole network, so a network edited
through ``net.graph`` directly, loaded from disk, or rewritten by a pass is
held to the same rules. The simulator and every emitter call it first.
"""

from __future__ import annotations

import numpy as np

from spikec.errors import VerifyError
from spikec.ir.network import (
    DECODERS,
    Network,
    Neuron,
    PoissonRate,
    SpikeTimes,
    _real,
    check_delay,
    check_neuron,
)

__all__ = ["verify"]


def verify(net: Network) -> None:
    """Raise :class:`~spikec.errors.VerifyError` naming the first object that
    breaks a rule of ``docs/semantics.md``; return ``None`` if all is well.

    Rules: every node carries a :class:`Neuron` whose name is its key;
    parameters are finite reals with ``decay`` and ``p`` in [0, 1]; input
    neurons receive no synapses; every synapse has a finite real weight and
    an integer delay >= 1; probes name existing neurons and known decoders;
    stimuli drive existing input neurons with valid steps or rates.
    """
    if not isinstance(net, Network):
        raise VerifyError(f"verify expects a spikec.Network, got {type(net).__name__}")
    graph = net.graph
    for name, data in graph.nodes(data=True):
        neuron = data.get("neuron")
        if not isinstance(neuron, Neuron):
            raise VerifyError(f"node {name!r} has no neuron data (added to the graph directly?)")
        if neuron.name != name:
            raise VerifyError(f"node {name!r} holds the data of neuron '{neuron.name}'", neuron.loc)
        check_neuron(neuron)
    _verify_synapses(net)
    for probe in net.probes:
        for name in probe.neurons:
            if name not in graph:
                raise VerifyError(f"probe '{probe.label}': no neuron named '{name}'", probe.loc)
        if probe.decoder is not None and probe.decoder not in DECODERS:
            raise VerifyError(f"probe '{probe.label}': unknown decoder '{probe.decoder}'", probe.loc)
    for name, stim in net.stimuli.items():
        if name not in graph or not graph.nodes[name]["neuron"].is_input:
            raise VerifyError(f"stimulus '{name}': not an input neuron")
        if isinstance(stim, SpikeTimes):
            if any(not isinstance(t, int) or t < 0 for t in stim.times):
                raise VerifyError(f"stimulus '{name}': spike steps must be integers >= 0")
        elif isinstance(stim, PoissonRate):
            if not 0.0 <= stim.rate <= 1.0:
                raise VerifyError(f"stimulus '{name}': rate must be in [0, 1], got {stim.rate:g}")
        else:
            raise VerifyError(f"stimulus '{name}': unknown stimulus {stim!r}")


_REAL_TYPES = frozenset({float, int, np.float64, np.float32, np.int64, np.int32})
_INT_TYPES = frozenset({int, np.int64, np.int32, np.int16, np.int8})


def _verify_synapses(net: Network) -> None:
    """Check every synapse: one vectorized pass, and a per-synapse pass that names
    the culprit only when the fast pass finds something wrong."""
    graph = net.graph
    inputs = {n.name for n in net.neurons() if n.is_input}
    weights: list[object] = []
    delays: list[object] = []
    for _pre, nbrs in graph.adjacency():
        for post, keyed in nbrs.items():
            if post in inputs:
                _check_each_synapse(net)
            for data in keyed.values():
                weights.append(data.get("weight"))
                delays.append(data.get("delay"))
    if not weights:
        return
    try:
        ok = set(map(type, weights)) <= _REAL_TYPES and set(map(type, delays)) <= _INT_TYPES
        ok = ok and bool(np.isfinite(np.array(weights, dtype=float)).all())
        ok = ok and int(np.array(delays, dtype=np.int64).min()) >= 1
    except (OverflowError, ValueError, TypeError):
        ok = False
    if not ok:
        _check_each_synapse(net)


def _check_each_synapse(net: Network) -> None:
    graph = net.graph
    for pre, post, data in graph.edges(data=True):
        loc = data.get("loc")
        owner = f"synapse {pre} -> {post}"
        if graph.nodes[post]["neuron"].is_input:
            raise VerifyError(f"{owner}: '{post}' is an input neuron and cannot receive synapses", loc)
        if "weight" not in data or "delay" not in data:
            raise VerifyError(f"{owner}: missing weight or delay", loc)
        _real(owner, "weight", data["weight"], loc)
        check_delay(owner, data["delay"], loc)
