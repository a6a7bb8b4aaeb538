"""spikec.synth.boolean.parse_boolean reads Boolean text with its own parser (issue 13): no
eval, errors located at the bad token, bounded nesting and size, and every form sympy's
parser accepted still means the same function."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import sympy

from spikec.errors import BooleanError
from spikec.synth.boolean import MAX_DEPTH, MAX_TEXT, parse_boolean, synthesize, truth_table


def test_hostile_text_runs_nothing(tmp_path: Path) -> None:
    target = tmp_path / "x"
    text = f"(__import__('pathlib').Path('{target}').write_text('y') > 0) | a"
    with pytest.raises(BooleanError, match=r"^<expression>:1:13: error: not a Boolean expression") as err:
        synthesize(text)
    assert not target.exists()
    assert err.value.location is not None and err.value.location.column == 13


def _implies(a: bool, b: bool) -> bool:
    return (not a) or b


# (text, variables, an independent Python evaluation)
FORMS: list[tuple[str, str, Callable[..., bool]]] = [
    ("(a & b) | ~c", "abc", lambda a, b, c: (a and b) or not c),
    ("a >> b", "ab", lambda a, b: _implies(a, b)),
    ("a << b", "ab", lambda a, b: _implies(b, a)),
    ("a >> b >> c", "abc", lambda a, b, c: _implies(_implies(a, b), c)),
    ("a >> b & c", "abc", lambda a, b, c: _implies(a, b) and c),
    ("~a >> b", "ab", lambda a, b: _implies(not a, b)),
    ("a ^ b & c", "abc", lambda a, b, c: a != (b and c)),
    ("a|b&c^d", "abcd", lambda a, b, c, d: a or ((b and c) != d)),
    ("a ^ b ^ c ^ d", "abcd", lambda a, b, c, d: (a + b + c + d) % 2 == 1),
    ("~(a & b)", "ab", lambda a, b: not (a and b)),
    ("~~a | b", "ab", lambda a, b: a or b),
    ("true | a", "a", lambda a: True),
    ("False & a", "a", lambda a: False),
    ("And(a, b, c)", "abc", lambda a, b, c: a and b and c),
    ("Or(a, Not(b))", "ab", lambda a, b: a or not b),
    ("Xor(a, b, c)", "abc", lambda a, b, c: (a + b + c) % 2 == 1),
    ("Implies(a, b)", "ab", lambda a, b: _implies(a, b)),
    ("Equivalent(a, b)", "ab", lambda a, b: a == b),
    ("ITE(a, b, c)", "abc", lambda a, b, c: b if a else c),
    ("Nand(a, b)", "ab", lambda a, b: not (a and b)),
    ("Nor(a, b)", "ab", lambda a, b: not (a or b)),
    ("(a & (b | c)) | (x_1 & ~_y)", "abcx_1 _y", lambda a, b, c, x, y: (a and (b or c)) or (x and not y)),
    # the gate statement's forms, new here: '->' loosest and right-associative, 0 and 1
    ("a -> b -> c", "abc", lambda a, b, c: _implies(a, _implies(b, c))),
    ("a | b -> c", "abc", lambda a, b, c: _implies(a or b, c)),
    ("1 & a | 0", "a", lambda a: a),
]


@pytest.mark.parametrize(("text", "names", "fn"), FORMS)
def test_every_form_means_the_same_function(text: str, names: str, fn: Callable[..., bool]) -> None:
    variables = [sympy.Symbol(n) for n in (["a", "b", "c", "x_1", "_y"] if "x_1" in names else list(names))]
    expr = parse_boolean(text)
    got = truth_table(expr, variables).tolist()
    want = [bool(fn(*(bool(row >> i & 1) for i in range(len(variables)))))
            for row in range(1 << len(variables))]
    assert got == want, text


@pytest.mark.parametrize(("text", "column", "match"), [
    ("a &", 4, "expected an operand, found the end"),
    ("a + b", 3, "not a Boolean expression: '\\+'"),
    ("(a | b", 7, "expected '\\)' to close the '\\(' at column 1"),
    ("a and b", 3, "write '&'"),
    ("not a", 1, "write '~'"),
    ("a & 2", 5, "the constants are 0 and 1"),
    ("Not(a, b)", 1, "Not takes 1 argument, got 2"),
    ("And", 4, "expected '\\(' after 'And'"),
    ("a b", 3, "expected an operator, found 'b'"),
    ("a\n  & | b", 5, "expected an operand, found '\\|'"),
])
def test_errors_name_the_column(text: str, column: int, match: str) -> None:
    with pytest.raises(BooleanError, match=match) as err:
        parse_boolean(text)
    assert err.value.location is not None and err.value.location.column == column
    assert str(err.value).startswith(f"<expression>:{err.value.location.line}:{column}: error: ")


def test_second_line_is_located() -> None:
    with pytest.raises(BooleanError, match=r"^<expression>:2:5: error: cannot read") as err:
        parse_boolean("a\n  & | b")
    assert err.value.location is not None and err.value.location.line == 2


@pytest.mark.parametrize("text", [
    "(" * 10_000 + "a" + ")" * 10_000,
    "Not(" * 10_000 + "a" + ")" * 10_000,
    " -> ".join(["a"] * 10_000),
    " >> ".join(["a"] * 10_000),
    "a & (b | " * 5_000 + "c" + ")" * 5_000,
])
def test_deep_nesting_is_refused_not_a_recursion_error(text: str) -> None:
    with pytest.raises(BooleanError, match=f"nests more than {MAX_DEPTH} levels deep"):
        parse_boolean(text)


def test_many_negations_and_flat_chains_parse() -> None:
    assert parse_boolean("~" * 10_001 + "a") == sympy.Not(sympy.Symbol("a"))
    variables = sympy.symbols("v0:10")
    start = time.perf_counter()
    expr = parse_boolean(" | ".join(f"v{i % 10}" for i in range(5_000)))
    assert expr == sympy.Or(*variables) and time.perf_counter() - start < 10


def test_huge_text_is_refused_before_reading() -> None:
    with pytest.raises(BooleanError, match=f"over the limit of {MAX_TEXT:,}"):
        parse_boolean("a | " * (MAX_TEXT // 4 + 1))


def test_not_text_is_refused() -> None:
    with pytest.raises(BooleanError, match="is text, got int"):
        parse_boolean(5)  # type: ignore[arg-type]


def test_exhaustive_small_expressions_match_python() -> None:
    # every expression op(x, op(y, z)) and ~ of it over a, b, c, checked against Python
    ops = {"&": lambda p, q: p and q, "|": lambda p, q: p or q, "^": lambda p, q: p != q,
           ">>": lambda p, q: (not p) or q, "->": lambda p, q: (not p) or q}
    for o1, o2 in itertools.product(ops, repeat=2):
        text = f"~(a {o1} (b {o2} c))"
        table = truth_table(parse_boolean(text), sympy.symbols("a b c")).tolist()
        want = [not ops[o1](bool(r & 1), ops[o2](bool(r >> 1 & 1), bool(r >> 2 & 1))) for r in range(8)]
        assert table == want, text
