"""spikec.synth.boolean: synthesized circuits agree with sympy's own evaluation on every
assignment, and a threshold function always becomes a single gate."""

from __future__ import annotations

import random

import numpy as np
import pytest
import sympy
from sympy.logic import boolalg

from spikec.synth.boolean import (
    MAX_VARIABLES,
    BooleanError,
    all_threshold_functions,
    parse_boolean,
    synthesize,
    threshold_weights,
    truth_table,
)

_OPS = [sympy.And, sympy.Or, sympy.Xor, sympy.Implies, sympy.Equivalent]


def random_expression(rng: random.Random, symbols: list[sympy.Symbol], depth: int) -> object:
    if depth == 0 or rng.random() < 0.25:
        leaf = rng.choice(symbols)
        return sympy.Not(leaf) if rng.random() < 0.3 else leaf
    if rng.random() < 0.15:
        return sympy.Not(random_expression(rng, symbols, depth - 1))
    op = rng.choice(_OPS)
    return op(random_expression(rng, symbols, depth - 1), random_expression(rng, symbols, depth - 1))


def sympy_values(expr: object, variables: tuple[sympy.Symbol, ...]) -> list[bool]:
    """sympy's own evaluation on every assignment (variable i = bit i of the row)."""
    out = []
    for row in range(1 << len(variables)):
        env = {v: sympy.true if row >> i & 1 else sympy.false for i, v in enumerate(variables)}
        out.append(bool(expr.xreplace(env)))  # type: ignore[attr-defined]
    return out


def circuit_values(result: object, variables: tuple[sympy.Symbol, ...]) -> list[bool]:
    n = len(variables)
    rows = np.arange(1 << n)
    values = {v.name: (rows >> i) & 1 == 1 for i, v in enumerate(variables)}
    return result.circuit.evaluate(values)["y"].tolist()  # type: ignore[attr-defined]


@pytest.mark.parametrize("seed", range(40))
def test_random_expressions_match_sympy(seed: int) -> None:
    rng = random.Random(seed)
    n = 1 + seed % 8
    symbols = list(sympy.symbols(f"x0:{n}"))
    expr = random_expression(rng, symbols, depth=2 + seed % 4)
    variables = tuple(symbols)
    result = synthesize(expr, variables)
    assert circuit_values(result, variables) == sympy_values(expr, variables), expr
    table = truth_table(expr, variables)
    if threshold_weights(table) is not None:
        assert result.form in ("threshold", "constant") and len(result.circuit.gates) == 1
        assert result.latency == 1
    else:
        assert result.form in ("sop", "pos", "symmetric") and result.latency == 2
        assert len(result.circuit.gates) >= 2


def test_threshold_functions_are_counted_exactly() -> None:
    # The numbers of threshold functions of 0..3 variables (OEIS A000609).
    assert [len(all_threshold_functions(n)) for n in range(4)] == [2, 4, 14, 104]


@pytest.mark.slow
def test_threshold_functions_of_four_variables() -> None:
    assert len(all_threshold_functions(4)) == 1882


def test_every_function_of_three_variables_is_synthesized_right() -> None:
    variables = sympy.symbols("a b c")
    for code in range(256):
        minterms = [[r >> i & 1 for i in range(3)] for r in range(8) if code >> r & 1]
        expr = boolalg.SOPform(list(variables), minterms)
        result = synthesize(expr, variables)
        want = [bool(code >> r & 1) for r in range(8)]
        assert circuit_values(result, variables) == want, code
        single = threshold_weights(np.array(want)) is not None
        assert (len(result.circuit.gates) == 1) == single, code


@pytest.mark.parametrize(("text", "form", "gates"), [
    ("(a & b) | ~c", "threshold", 1),
    ("a >> b", "threshold", 1),
    ("~(a & b)", "threshold", 1),
    ("(a & b) | (a & c) | (b & c)", "threshold", 1),
    ("a ^ b", "symmetric", 2),
    ("a ^ b ^ c ^ d ^ e ^ f", "symmetric", 4),
    ("(a & b) | (c & d)", "sop", 3),
    ("a | ~a", "constant", 1),
    ("a & ~a", "constant", 1),
])
def test_known_functions(text: str, form: str, gates: int) -> None:
    result = synthesize(text)
    assert (result.form, len(result.circuit.gates)) == (form, gates)


def test_weights_are_small_integers() -> None:
    # x0 + x1 + 2 x2 >= 2 is realizable with weight sum 4, not less.
    a, b, c = sympy.symbols("a b c")
    found = threshold_weights(truth_table((a & b) | c, (a, b, c)))
    assert found == ([1, 1, 2], 2)


def test_negative_literals_use_bias_and_negative_weights() -> None:
    result = synthesize("~a & ~b")
    gate = result.circuit.gates["y"]
    assert all(w < 0 for _, w in gate.inputs) and gate.theta <= 0


def test_too_many_variables() -> None:
    symbols = sympy.symbols(f"v0:{MAX_VARIABLES + 1}")
    with pytest.raises(BooleanError, match=f"at most {MAX_VARIABLES} variables, got {MAX_VARIABLES + 1}"):
        synthesize(sympy.Or(*symbols))


def test_parse_errors() -> None:
    with pytest.raises(BooleanError, match="cannot read"):
        parse_boolean("a &")
    with pytest.raises(BooleanError, match="not a Boolean expression"):
        parse_boolean("a + b")


def test_ten_variables() -> None:
    symbols = sympy.symbols("v0:10")
    expr = sympy.Xor(*symbols[:5]) | sympy.And(*symbols[5:])
    result = synthesize(expr, symbols)
    assert circuit_values(result, symbols) == truth_table(expr, symbols).tolist()
