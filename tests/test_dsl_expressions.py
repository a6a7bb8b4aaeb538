"""The compile-time expression evaluator (spikec.dsl.expressions)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import spikec
from spikec.dsl import ElaborationError, Limits, compile_text
from spikec.dsl.elaborate import Elaborator
from spikec.dsl.modules import Module
from spikec.dsl.parser import parse


def value_of(expr: str) -> object:
    """The value ``let v = expr`` binds at the top level."""
    module = Module("t.spk", Path("."), "t", parse(f"let v = {expr}", "t.spk"))
    Elaborator(spikec.Network(), Limits(), {}).run_main(module)
    return module.scope.names["v"][0]


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("7 + 2 * 3", 13), ("7 / 2", 3.5), ("7 // 2", 3), ("-7 // 2", -4), ("7 % 3", 1),
        ("-7 % 3", 2), ("2 ** 10", 1024), ("2 ** -1", 0.5), ("(1 + 2) * 3", 9),
        ("min(3, 1, 2)", 1), ("max(3, 1.5)", 3), ("abs(-4)", 4), ("floor(2.7)", 2),
        ("ceil(2.1)", 3), ("round(2.5)", 3), ("round(-2.5)", -3), ("sqrt(16)", 4.0),
        ("exp(0)", 1.0), ("log(1)", 0.0), ("log(8, 2)", 3.0), ("log2(1024)", 10.0),
        ("comb(5, 2)", 10), ("1 < 2", True), ("2 <= 1", False), ("3 == 3.0", True),
        ("true != false", True), ("not true", False), ("true and false", False),
        ("false or true", True), ("false and 1 / 0 > 1", False), ("1_000 + 1", 1001),
    ],
)
def test_expression_values(expr: str, expected: object) -> None:
    got = value_of(expr)
    assert got == expected and type(got) is type(expected)


def test_loop_variables_are_read_afresh_each_pass() -> None:
    net = compile_text("input x[4]\nneuron y[4]\nfor i in 0..4 {\n"
                       "    x[i] -> y[(i * 3 + 1) % 4] (weight = i / 2, delay = 1 + i // 2)\n}")
    got = sorted((s.pre, s.post, s.weight, s.delay) for s in net.synapses())
    assert got == [("x[0]", "y[1]", 0.0, 1), ("x[1]", "y[0]", 0.5, 1),
                   ("x[2]", "y[3]", 1.0, 2), ("x[3]", "y[2]", 1.5, 2)]


def test_the_same_circuit_body_sees_each_instance_s_parameters() -> None:
    net = compile_text("circuit c<k>(a) -> (y) { neuron y (threshold = k * 2)  a -> y }\n"
                       "input x\nlet u = c<1>(x)\nlet v = c<2.5>(x)")
    assert (net["u.y"].threshold, net["v.y"].threshold) == (2.0, 5.0)


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ("1 / 0", "division by zero: the right side of '/' is 0"),
        ("2.0 ** 5000", "2.0 ** 5000 is too large"),
        ("10 ** 400 * 1.5", "the result of '*' is too large"),
        ("exp(1000)", "exp(): the result is too large"),
        ("log(8, 1)", "log(): the base must be positive and not 1, got 1"),
        ("1 and true", "the left side of 'and' must be a boolean (true or false), got the number 1"),
        ("not 3", "the operand of 'not' must be a boolean (true or false), got the number 3"),
        ("-true", "'-' needs numbers, got the boolean true"),
        ("comb(2.5, 1)", "argument of comb() must be an integer, got 2.5"),
        ("max()", "max() takes 1 or more arguments, got 0"),
        ("nope + 1", "unknown name 'nope'"),
    ],
)
def test_expression_errors(expr: str, message: str) -> None:
    with pytest.raises(ElaborationError, match=r"^t\.spk:1:\d+: error: " + re.escape(message)):
        compile_text(f"let v = {expr}", filename="t.spk")


def test_limits_do_not_apply_to_pure_values() -> None:
    net = compile_text("let big = comb(60, 30)\nneuron y (threshold = big)", limits=Limits(max_neurons=1))
    assert net["y"].threshold == 118264581564861424.0
