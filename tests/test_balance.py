"""spikec.synth.balance: pipeline stages, and delay padding that makes them consistent."""

from __future__ import annotations

import numpy as np
import pytest

import spikec
from spikec.synth.balance import PipelineError, balance, is_memoryless, latency, pipeline_stages


def _synapse(net: spikec.Network, pre: str, post: str) -> int:
    """The index of the (only) synapse ``pre -> post``."""
    (s,) = np.flatnonzero((net.pre == net.index(pre)) & (net.post == net.index(post)))
    return int(s)


def _delay(net: spikec.Network, pre: str, post: str) -> int:
    return int(net.delay[_synapse(net, pre, post)])


def _set_delay(net: spikec.Network, pre: str, post: str, delay: int) -> None:
    net.set_synapses(np.array([_synapse(net, pre, post)]), delay=delay)


def _chain() -> spikec.Network:
    net = spikec.Network()
    net.input("a")
    net.input("b")
    net.neuron("h", threshold=2, decay=1)
    net.neuron("y", threshold=1, decay=1)
    net.neuron("z", threshold=1, decay=1)
    net.synapse("a", "h")
    net.synapse("b", "h")
    net.synapse("h", "y")
    net.synapse("a", "y")        # arrives one step early
    net.synapse("b", "z", delay=1)
    return net


def test_stages_of_a_balanced_network() -> None:
    net = _chain()
    _set_delay(net, "a", "y", 2)
    assert pipeline_stages(net) == {"a": 0, "b": 0, "h": 1, "y": 2, "z": 1}
    assert latency(net, ["y"]) == 2


def test_unbalanced_paths_are_named() -> None:
    with pytest.raises(PipelineError, match=r"neuron 'y' is reached from the inputs in 1 steps"
                                            r" \(through 'a'\) and in 2 steps \(through 'h'\)"):
        pipeline_stages(_chain())


def test_balance_pads_and_aligns() -> None:
    net = _chain()
    assert balance(net, ["y", "z"]) == 2
    assert _delay(net, "a", "y") == 2
    assert _delay(net, "b", "z") == 2
    assert latency(net, ["y", "z"]) == 2
    result = spikec.simulate(net, 5, inputs={"a": [0], "b": [0]})
    assert result.spike_times("y") == [[2]] and result.spike_times("z") == [[2]]


def test_balance_keeps_spikes_of_a_balanced_network() -> None:
    net = _chain()
    balance(net, ["y", "z"])
    before = spikec.simulate(net, 8, inputs={"a": [0, 3], "b": [1, 3]}).times
    assert balance(net, ["y", "z"]) == 2
    assert spikec.simulate(net, 8, inputs={"a": [0, 3], "b": [1, 3]}).times == before


def test_constants_do_not_constrain_stages() -> None:
    net = _chain()
    net.neuron("one", bias=1, decay=1)
    net.synapse("one", "z", weight=0.5, delay=5)
    balance(net, ["z"])
    assert "one" not in pipeline_stages(net, ["z"])
    with pytest.raises(PipelineError, match="no input reaches 'one'"):
        latency(net, ["one"])


def test_memoryless() -> None:
    net = _chain()
    net.neuron("counter", decay=0)
    assert is_memoryless(net["h"]) and is_memoryless(net["a"]) and not is_memoryless(net["counter"])


def test_outputs_on_different_stages() -> None:
    net = _chain()
    _set_delay(net, "a", "y", 2)
    with pytest.raises(PipelineError, match="'z' is at stage 1 but 'y' at stage 2; balance them"):
        latency(net, ["y", "z"])
