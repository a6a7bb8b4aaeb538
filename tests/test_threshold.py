"""spikec.synth.threshold: symbolic threshold circuits, their stages and their neurons."""

from __future__ import annotations

import numpy as np
import pytest

import spikec
from spikec.errors import NetworkError
from spikec.ir.builder import Builder
from spikec.synth.threshold import ThresholdCircuit, gate_params


def _half_adder() -> ThresholdCircuit:
    c = ThresholdCircuit({"a": None, "b": None})
    carry = c.gate("carry", [("a", 1), ("b", 1)], 2)
    total = c.gate("sum", [("a", 1), ("b", 1), (carry, -2)], 1)
    c.output("s", [total, carry])
    return c


def test_gate_params_use_bias_for_low_thresholds() -> None:
    assert gate_params(3) == {"threshold": 3.0, "decay": 1.0}
    assert gate_params(-1) == {"threshold": 1.0, "decay": 1.0, "bias": 2.0}


def test_outputs_are_aligned_with_a_relay_when_read_by_other_gates() -> None:
    c = _half_adder()
    c.align_outputs()
    assert c.outputs["s"] == ["sum", "carry.relay"]
    layout = c.layout()
    assert layout.latency == 2 and layout.stages["carry.relay"] == 2


def test_emit_and_simulate_a_pipeline() -> None:
    net = spikec.Network()
    a, b = net.input("a"), net.input("b")
    made = _half_adder().emit(Builder(net, "h."), {"a": [a], "b": [b]})
    assert made == {"s": ["h.sum", "h.carry.relay"]}
    result = spikec.simulate(net, 6, inputs={"a": [0, 1, 2], "b": [0, 2, 3]})
    assert result.spike_times("h.sum") == [[3, 5]]          # words 1 (a), 3 (b): odd
    assert result.spike_times("h.carry.relay") == [[2, 4]]  # words 0 and 2: both


def test_evaluate_ports_and_prune() -> None:
    c = _half_adder()
    c.gate("unused", [("a", 1)], 1)
    assert c.prune() == 1 and "unused" not in c.gates
    got = c.evaluate_ports({"a": np.array([0, 1, 0, 1]), "b": np.array([0, 0, 1, 1])})
    assert got["s"].tolist() == [0, 1, 1, 2]


def test_building_errors() -> None:
    c = ThresholdCircuit({"a": 2})
    with pytest.raises(NetworkError, match="gate 'g' reads unknown signal 'b'"):
        c.gate("g", [("b", 1)], 1)
    c.gate("g", [("a[0]", 1), ("a[0]", 1), ("a[1]", 0)], 2)
    assert c.gates["g"].inputs == (("a[0]", 2.0),)
    with pytest.raises(NetworkError, match="signal 'g' is defined twice"):
        c.gate("g", [], 1)
    with pytest.raises(NetworkError, match="port 'a' takes 2 neurons, got 1"):
        c.emit(Builder(spikec.Network()), {"a": ["x"]})
