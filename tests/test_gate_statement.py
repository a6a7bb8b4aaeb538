"""The ``gate`` and ``balance`` statements of .spk."""

from __future__ import annotations

import random
from typing import Any

import pytest
import sympy
from test_boolean import random_expression

import spikec
from circuit_checks import all_words, check_circuit, ports
from spikec.dsl import ElaborationError, ParseError
from spikec.synth.balance import PipelineError, latency, pipeline_stages

_SPK = {sympy.And: "&", sympy.Or: "|", sympy.Xor: "^", sympy.Implies: "->"}


def to_spk(expr: Any) -> str:
    """A sympy expression written in .spk gate syntax (fully parenthesized)."""
    if isinstance(expr, sympy.Symbol):
        index = int(expr.name[1:])
        return f"x[{index}]"
    if isinstance(expr, sympy.Not):
        return f"~({to_spk(expr.args[0])})"
    if isinstance(expr, sympy.Equivalent):
        return f"~({' ^ '.join(f'({to_spk(a)})' for a in expr.args[:2])})" if len(expr.args) == 2 \
            else to_spk(sympy.And(*(sympy.Equivalent(expr.args[0], a) for a in expr.args[1:])))
    if expr is sympy.true or expr is sympy.false:
        return "true" if expr is sympy.true else "false"
    op = _SPK[type(expr)]
    return "(" + f" {op} ".join(f"({to_spk(a)})" for a in expr.args) + ")"


def evaluate(expr: object, word: int, n: int) -> int:
    env = {sympy.Symbol(f"x{i}"): sympy.true if word >> i & 1 else sympy.false for i in range(n)}
    return int(bool(expr.xreplace(env)))  # type: ignore[attr-defined]


@pytest.mark.parametrize("seed", range(15))
def test_random_gates_compute_their_expression(seed: int) -> None:
    rng = random.Random(1000 + seed)
    n = 2 + seed % 7
    symbols = list(sympy.symbols(f"x0:{n}"))
    expr = random_expression(rng, symbols, depth=3)
    net = spikec.loads(f"input x[{n}]\ngate y = {to_spk(expr)}\nprobe y")
    words = all_words({"x": n})
    if "y" not in pipeline_stages(net, ["y"]):  # a constant: no input reaches it
        value = evaluate(expr, 0, n)
        assert all(evaluate(expr, w["x"], n) == value for w in words)
        assert spikec.simulate(net, 3).spike_times("y") == [[0, 1, 2] if value else []]
        return
    check_circuit(net, ports("", {"x": n}), {"y": ["y"]}, latency(net, ["y"]),
                  lambda w: {"y": evaluate(expr, w["x"], n)}, words)


def test_threshold_function_is_one_neuron() -> None:
    net = spikec.loads("input a\ninput b\ninput c\ngate y = (a & b) | ~c\nprobe y")
    assert net.num_neurons == 4 and net.num_synapses == 3
    assert net["y"].decay == 1 and net["y"].bias == 1
    check_circuit(net, ports("", {"a": None, "b": None, "c": None}), {"y": ["y"]}, 1,
                  lambda w: {"y": int((w["a"] and w["b"]) or not w["c"])},
                  all_words({"a": 1, "b": 1, "c": 1}))


def test_xor_takes_two_levels_with_hidden_gates_named_under_the_target() -> None:
    net = spikec.loads("input a\ninput b\ngate y = a ^ b\nprobe y")
    assert set(net) == {"a", "b", "y", "y.h[0]"}
    assert latency(net, ["y"]) == 2


def test_gate_defines_array_elements_in_a_loop() -> None:
    net = spikec.loads(
        "let n = 4\ninput a[n]\ninput b[n]\nneuron s[n] (threshold = 7)\n"
        "for i in 0..n { gate s[i] = a[i] ^ b[i] }\nprobe binary(s)")
    assert net["s[0]"].threshold == 1 and net["s[0]"].decay == 1
    check_circuit(net, ports("", {"a": 4, "b": 4}), {"s": [f"s[{i}]" for i in range(4)]}, 2,
                  lambda w: {"s": w["a"] ^ w["b"]}, all_words({"a": 4, "b": 4}))


def test_gate_in_a_circuit_body_declares_its_output() -> None:
    net = spikec.loads(
        "circuit full_adder(a, b, c) -> (sum, carry) {\n"
        "    gate carry = (a & b) | (a & c) | (b & c)\n"
        "    gate sum = a ^ b ^ c\n"
        "}\n"
        "input x[3]\nneuron y\nlet f = full_adder(x[0], x[1], x[2])\nprobe f.sum, f.carry")
    assert net.num_neurons == 3 + 1 + 3  # inputs, y, carry + sum (two neurons)
    check_circuit(net, ports("", {"x": 3}), {"s": ["f.sum"]}, 2,
                  lambda w: {"s": bin(w["x"]).count("1") % 2}, all_words({"x": 3}))
    check_circuit(net, ports("", {"x": 3}), {"c": ["f.carry"]}, 1,
                  lambda w: {"c": int(bin(w["x"]).count("1") >= 2)}, all_words({"x": 3}))


def test_constants_and_a_kind_called_gate() -> None:
    net = spikec.loads("kind gate (decay = 1)\ninput a\ngate g (threshold = 2)\ngate z[2]\n"
                       "gate one = a | ~a\ngate zero = false\nprobe one, zero")
    result = spikec.simulate(net, 3)
    assert result.spike_times("one") == [[0, 1, 2]] and result.spike_times("zero") == [[]]
    assert net["g"].threshold == 2 and "z[1]" in net


@pytest.mark.parametrize(("source", "message"), [
    ("input a\ninput b[2]\ngate y = a & b", "a gate operand is one neuron, but 'b' has 2"),
    ("input a\ngate a = ~a", "'a' is an input; a gate cannot drive it"),
    ("input a\nlet y = 2\ngate y = a", "the target of 'gate' must be neurons"),
    ("input a\ninput b\ngate b[0] = a", "'b' is a single neuron, not an array"),
    ("input a\ninput b\nneuron y\na -> y\ngate y = a & b",
     "'y' already has incoming synapses; a gate defines a neuron that has none yet"),
    ("input a\ninput b\nlet c = 3\ngate y = a & c", "a gate operand must be neurons"),
    ("input x[11]\ngate y = " + " & ".join(f"x[{i}]" for i in range(11)),
     "a Boolean expression may use at most 10 variables, got 11"),
])
def test_gate_errors(source: str, message: str) -> None:
    with pytest.raises(ElaborationError, match=message):
        spikec.loads(source)


def test_gate_syntax_errors() -> None:
    with pytest.raises(ParseError, match="a gate expression takes the constants 0 and 1, found 2"):
        spikec.loads("input a\ngate y = a & 2")
    with pytest.raises(ParseError, match="'balance' is a reserved word"):
        spikec.loads("let balance = 1")


BALANCE_SRC = """
import std.arith
input a[4]
input b[4]
input c[5]
let s = cla_add<4>(a, b)             // s.s at stage 2
let ge = geq<5>(s.s, c[*])           // unbalanced: c arrives at stage 0, s.s at 2
"""


def test_balance_pads_the_early_inputs() -> None:
    src = BALANCE_SRC + "balance ge\nprobe ge\n"
    net = spikec.loads(src)
    assert latency(net, ["ge.y"]) == 3
    words = all_words({"a": 2, "b": 2, "c": 3})
    check_circuit(net, ports("", {"a": 4, "b": 4, "c": 5}), {"y": ["ge.y"]}, 3,
                  lambda w: {"y": int(w["a"] + w["b"] >= w["c"])}, words)


def test_without_balance_the_paths_differ() -> None:
    net = spikec.loads(BALANCE_SRC)
    with pytest.raises(PipelineError, match=r"neuron 'ge.y' is reached from the inputs in 1 steps"
                                            r" \(through 'c\[0\]'\) and in 3 steps"):
        pipeline_stages(net, ["ge.y"])


def test_balance_aligns_a_group() -> None:
    net = spikec.loads("input a\ninput b\ngate x = a & b\ngate y = a ^ b\nbalance x, y\nprobe x, y")
    stages = pipeline_stages(net, ["x", "y"])
    assert stages["x"] == stages["y"] == 2


@pytest.mark.parametrize(("source", "message"), [
    ("input a\nneuron x\nneuron y\na -> x\nx -> y\ny -> x\nbalance y",
     r"balance: the paths into these neurons go around a cycle \(x -> y -> x\)"),
    ("input a\ninput b\nneuron x\nb -> x (delay = 2)\nbalance a, x",
     "balance: 'a' is an input and cannot be delayed"),
    ("input a\nneuron x\nneuron y\na -> x\nx -> y\nbalance x, y",
     "balance: cannot balance 'x' with 'y', which it feeds"),
])
def test_balance_errors(source: str, message: str) -> None:
    with pytest.raises(ElaborationError, match=message):
        spikec.loads(source)
