"""spikec.synth.threshold: symbolic threshold circuits, their stages and their neurons."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import spikec
from spikec.errors import NetworkError
from spikec.ir.builder import Builder
from spikec.synth.threshold import Gate, ThresholdCircuit, gate_params


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


# ---- gates in bulk -----------------------------------------------------------------------

quarter_weights = st.sampled_from([-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 1.0, 2.0, 3.0])


@st.composite
def gate_plans(draw: st.DrawFn) -> tuple[dict[str, int | None], list[tuple[str, Any]]]:
    """Inputs and groups of gates: ("one", name, inputs, theta) made by gate(), or
    ("rows", bases, width, per-gate (inputs, theta)) made by add_gates."""
    ports: dict[str, int | None] = {"a": draw(st.integers(1, 4)), "s": None}
    signals = [f"a[{i}]" for i in range(ports["a"] or 0)] + ["s"]
    groups: list[tuple[str, Any]] = []
    for g in range(draw(st.integers(1, 6))):
        def gate_inputs(known: list[str]) -> list[tuple[str, float]]:
            return draw(st.lists(st.tuples(st.sampled_from(known), quarter_weights), max_size=5))
        theta = st.sampled_from([-1.0, 0.0, 0.5, 1.0, 2.0, 3.0])
        if draw(st.booleans()):
            name = f"g{g}"
            groups.append(("one", (name, gate_inputs(signals), draw(theta))))
            signals.append(name)
        else:
            bases = [f"r{g}x{r}" for r in range(draw(st.integers(1, 3)))]
            width = draw(st.integers(0, 3))
            gates = []
            for base in bases:
                for k in range(width):
                    gates.append((gate_inputs(signals), draw(theta)))
                    signals.append(f"{base}[{k}]")  # later gates of the call may read it
            groups.append(("rows", (bases, width, gates)))
    outputs = draw(st.lists(st.sampled_from(signals), min_size=1, max_size=4))
    groups.append(("out", outputs))
    return ports, groups


def _build(plan: tuple[dict[str, int | None], list[tuple[str, Any]]], bulk: bool) -> ThresholdCircuit:
    ports, groups = plan
    c = ThresholdCircuit(ports)
    for kind, spec in groups:
        if kind == "one":
            c.gate(*spec)
        elif kind == "rows":
            bases, width, gates = spec
            if bulk:
                # names of gates made in this call are not signals yet: number them by hand
                start = c.num_signals
                names = [f"{b}[{k}]" for b in bases for k in range(width)]
                local = {n: start + i for i, n in enumerate(names)}
                ids = np.array([local.get(s, -1) if s in local else int(c.signals([s])[0])
                                for inputs, _ in gates for s, _ in inputs], dtype=np.int64)
                c.add_gates(bases, width, ids, [len(inputs) for inputs, _ in gates],
                            [theta for _, theta in gates], [w for inputs, _ in gates for _, w in inputs])
            else:
                k = 0
                for base in bases:
                    for j in range(width):
                        inputs, theta = gates[k]
                        c.gate(f"{base}[{j}]", inputs, theta)
                        k += 1
        else:
            c.output("y", spec)
    return c


def _content(net: spikec.Network) -> tuple[Any, ...]:
    return (spikec.format_network(net), net.names(), net.pre.tolist(), net.post.tolist(),
            net.weight.tolist(), net.delay.tolist())


class _OneAtATime:
    """A builder with only the CircuitBuilder protocol (no bulk calls)."""

    def __init__(self, net: spikec.Network, prefix: str) -> None:
        self.net, self.prefix = net, prefix

    def neuron(self, name: str, **params: float) -> str:
        return self.net.neuron(self.prefix + name, **params)

    def synapse(self, pre: str, post: str, weight: float = 1.0, delay: int = 1) -> None:
        self.net.synapse(pre, post, weight, delay)


@settings(max_examples=150, deadline=None)
@given(gate_plans())
def test_gates_in_bulk_are_the_gates_one_at_a_time(plan: Any) -> None:
    one, bulk = _build(plan, bulk=False), _build(plan, bulk=True)
    assert list(one.gates) == list(bulk.gates)
    assert [one.gates[g] for g in one.gates] == [bulk.gates[g] for g in bulk.gates]
    assert one.prune() == bulk.prune()
    assert list(one.gates) == list(bulk.gates)
    one.align_outputs()
    bulk.align_outputs()
    assert one.outputs == bulk.outputs and one.layout() == bulk.layout()
    words = {sig: np.array([(k >> i) & 1 for k in range(16)], dtype=bool)
             for i, sig in enumerate(one.inputs)}
    got_one, got_bulk = one.evaluate(words), bulk.evaluate(words)
    assert got_one.keys() == got_bulk.keys()
    assert all(np.array_equal(got_one[k], got_bulk[k]) for k in got_one)
    nets = []
    for circuit, builder in ((one, None), (bulk, None), (bulk, _OneAtATime)):
        net = spikec.Network()
        net.add_inputs("a", circuit.input_ports["a"])
        net.input("s")
        given = {"a": [f"a[{i}]" for i in range(circuit.input_ports["a"] or 0)], "s": ["s"]}
        made = circuit.emit(Builder(net, "u.") if builder is None else builder(net, "u."), given)
        nets.append((_content(net), made))
    assert nets[0] == nets[1] == nets[2]


def test_add_gates_merges_and_checks_like_gate() -> None:
    c = ThresholdCircuit({"a": 3})
    a = c.port("a")
    made = c.add_gates(["g"], 2, np.array([a[0], a[0], a[1], a[2], a[1]]), [3, 2], [1.0, 2.0],
                       [1.0, 1.0, 0.0, 2.0, -2.0])
    assert made.tolist() == [3, 4]
    assert c.gates["g[0]"] == Gate("g[0]", (("a[0]", 2.0),), 1.0)
    assert c.gates["g[1]"] == Gate("g[1]", (("a[2]", 2.0), ("a[1]", -2.0)), 2.0)
    with pytest.raises(NetworkError, match="reads an unknown or later signal"):
        c.add_gates(["h"], 1, np.array([9]), 1, 1.0)
    with pytest.raises(NetworkError, match="signal 'g\\[0\\]' is defined twice"):
        c.add_gates(["g"], 1, np.array([0]), 1, 1.0)
    with pytest.raises(NetworkError, match="the gates read 2 signals, got 1"):
        c.add_gates(["h"], 2, np.array([0]), 1, 1.0)
    chain = c.add_gates(["q"], 3, np.array([0, 5, 6]), 1, 1.0, distinct=True)  # q[k] reads q[k-1]
    c.output("y", chain[-1:])
    assert c.layout().stages["q[2]"] == 3
