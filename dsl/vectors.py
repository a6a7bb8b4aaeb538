"""Compile-time expressions evaluated for many loop iterations at once.

:mod:`spikec.dsl.loops` runs a loop of connections as arrays: each name
bound in the loop body (the loop variables, numeric ``let``s) holds one
value per iteration. :func:`evaluate_rows` computes an expression for all
iterations with numpy and must give exactly what
:func:`spikec.dsl.expressions.evaluate` gives one iteration at a time, or
refuse by raising :class:`Fallback` (the caller then runs the iterations one
at a time, which produces any error at its place). It refuses whenever
numpy might differ from Python's arithmetic: integers are kept below 2**62
(no int64 overflow) and below 2**53 where they meet a float (exact
conversions), only the operators and functions whose numpy versions round
as Python does are taken (``+ - * / // % **`` on integers, ``+ - * /`` on
floats, comparisons, ``and or not``, ``min max abs floor ceil round
sqrt``), and any row that Python would refuse (a division by zero, a
boolean in arithmetic, an infinite result) refuses the whole array.
Sub-expressions that do not depend on the body's names are computed once,
by the ordinary evaluator.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from spikec.dsl import syntax as s
from spikec.dsl.expressions import FUNCTIONS, evaluate
from spikec.dsl.limits import expr_names
from spikec.dsl.values import GeneratorCircuit, Scope, SpkCircuit
from spikec.errors import ElaborationError

__all__ = ["Fallback", "Rows", "evaluate_rows", "as_index", "as_weight", "as_delay",
           "INT_BOUND", "EXACT_BOUND"]

#: Integers computed as arrays stay below this in magnitude (int64 with room to spare).
INT_BOUND = 2**62
#: Integers that meet a float stay below this (int64 -> float64 is exact).
EXACT_BOUND = 2**53

#: A value for every row: a Python scalar (the same in all) or a 1-d array (int64,
#: float64 or bool).
Value = Any


class Fallback(Exception):  # noqa: N818 - a signal, not an error
    """The rows cannot be computed as arrays exactly as one at a time."""


class Rows:
    """The names bound inside a loop body for ``n`` rows (iterations), innermost
    block last, and the scope the loop runs in for every other name."""

    __slots__ = ("n", "blocks", "outer", "names")

    def __init__(self, n: int, blocks: list[dict[str, Value]], outer: Scope,
                 names: dict[int, frozenset[str]]) -> None:
        self.n = n
        self.blocks = blocks
        self.outer = outer
        #: The names each expression reads, by ``id`` of its node (the program is alive
        #: while these rows are, so the ids are its nodes').
        self.names = names

    def lookup(self, name: str) -> tuple[bool, Value]:
        """``(True, value)`` when ``name`` is bound in the body, else ``(False, None)``."""
        for block in reversed(self.blocks):
            if name in block:
                return True, block[name]
        return False, None

    def bound(self, names: Iterable[str]) -> bool:
        """Whether any of ``names`` is bound in the body."""
        return any(name in block for name in names for block in self.blocks)

    def take(self, rows: np.ndarray) -> Rows:
        """The same bindings for a selection (or repetition) of the rows."""
        blocks = [{k: v[rows] if isinstance(v, np.ndarray) else v for k, v in b.items()}
                  for b in self.blocks]
        return Rows(len(rows), blocks, self.outer, self.names)

    def free_names(self, expr: s.Expr) -> frozenset[str]:
        """The names ``expr`` reads."""
        found = self.names.get(id(expr))
        if found is None:
            found = self.names[id(expr)] = frozenset(expr_names(expr))
        return found


def _kind(value: Value) -> str:
    """``"int"``, ``"float"`` or ``"bool"``; anything else cannot be done as arrays."""
    if isinstance(value, (np.ndarray, np.generic)):
        kind = {"i": "int", "f": "float", "b": "bool"}.get(value.dtype.kind)
        if kind is None:
            raise Fallback
        return kind
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    raise Fallback


def _largest(value: Value) -> int | float:
    """The largest magnitude in ``value``."""
    if isinstance(value, (np.ndarray, np.generic)):
        if not np.size(value):
            return 0
        top = np.abs(value).max()
        return int(top) if np.asarray(value).dtype.kind == "i" else float(top)
    return abs(value)


def _int_array(value: Value) -> Value:
    """An integer value checked to stay in int64."""
    if _largest(value) >= INT_BOUND:
        raise Fallback
    return value


def _as_float(value: Value) -> Value:
    """An int or float value as float64 (exact conversions only)."""
    if _kind(value) == "int":
        if _largest(value) >= EXACT_BOUND:
            raise Fallback
        return value.astype(np.float64) if isinstance(value, np.ndarray) else float(value)
    return value


def _finite(value: Value) -> Value:
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        if not np.isfinite(value).all():
            raise Fallback
    elif isinstance(value, float) and not math.isfinite(value):
        raise Fallback
    return value


def _number(value: Value) -> str:
    kind = _kind(value)
    if kind == "bool":
        raise Fallback  # Python refuses booleans in arithmetic
    return kind


def _any(value: Value) -> bool:
    return bool(np.any(value))


def _arith(op: str, a: Value, b: Value) -> Value:
    ka, kb = _number(a), _number(b)
    if ka == kb == "int":
        x, y = _int_array(a), _int_array(b)
        if op in ("+", "-"):
            if _largest(x) + _largest(y) >= INT_BOUND:
                raise Fallback
            return x + y if op == "+" else x - y
        if op == "*":
            if _largest(x) * _largest(y) >= INT_BOUND:
                raise Fallback
            return x * y
        if op in ("//", "%"):
            if _any(np.asarray(y) == 0):
                raise Fallback
            return x // y if op == "//" else x % y
        if op == "/":
            if _any(np.asarray(y) == 0):
                raise Fallback
            return _finite(np.true_divide(_as_float(a), _as_float(b)))
        if op == "**":
            if _any(np.asarray(y) < 0):
                return _power_of_two(x, y)
            base, power = _largest(x), _largest(y)
            if base >= 2 and power * int(base).bit_length() >= 62:
                raise Fallback
            return np.power(x, y)
        raise Fallback
    if op not in ("+", "-", "*", "/"):
        raise Fallback  # // % ** on floats: numpy's rounding is not promised to be Python's
    x, y = _as_float(a), _as_float(b)
    if op == "/" and _any(np.asarray(y) == 0):
        raise Fallback
    with np.errstate(all="ignore"):
        out = {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.true_divide}[op](x, y)
    return _finite(out)


def _power_of_two(x: Value, y: Value) -> Value:
    """``x ** y`` for integers with some ``y`` negative: Python's float ``pow``, done
    exactly here only when every ``|x|`` is a power of two (``2 ** (j - i)``, the weights of
    binary numbers), whose powers are exact floats."""
    ax = np.abs(np.asarray(x))
    if _any(ax == 0) or _any((ax & (ax - 1)) != 0):
        raise Fallback
    exp = np.log2(ax).astype(np.int64) * np.asarray(y)
    if _any(np.abs(exp) > 1000):
        raise Fallback
    sign = np.where((np.asarray(x) < 0) & (np.asarray(y) % 2 == 1), -1.0, 1.0)
    return np.ldexp(sign, exp)


def _compare(op: str, a: Value, b: Value) -> Value:
    ka, kb = _kind(a), _kind(b)
    if op in ("==", "!="):
        if (ka == "bool") != (kb == "bool"):
            raise Fallback
    elif "bool" in (ka, kb):
        raise Fallback
    if ka != kb:
        a, b = _as_float(a), _as_float(b)
    out = {"==": np.equal, "!=": np.not_equal, "<": np.less, "<=": np.less_equal, ">": np.greater,
           ">=": np.greater_equal}[op](a, b)
    return out


def _logic(op: str, a: Value, b: Value) -> Value:
    if _kind(a) != "bool" or _kind(b) != "bool":
        raise Fallback
    return np.logical_or(a, b) if op == "or" else np.logical_and(a, b)


def _binary(node: s.Binary, rows: Rows) -> Value:
    """A chain of binary operations (``a + b - c ...``), left to right, as a loop."""
    chain = [node]
    while isinstance(chain[-1].left, s.Binary):
        chain.append(chain[-1].left)
    a = evaluate_rows(chain[-1].left, rows)
    for link in reversed(chain):
        b = evaluate_rows(link.right, rows)
        op = link.op
        if op in ("and", "or"):
            a = _plain(_logic(op, a, b))
        elif op in ("==", "!=", "<", "<=", ">", ">="):
            a = _plain(_compare(op, a, b))
        else:
            a = _plain(_arith(op, a, b))
    return a


def _unary(node: s.Unary, rows: Rows) -> Value:
    value = evaluate_rows(node.operand, rows)
    if node.op == "not":
        if _kind(value) != "bool":
            raise Fallback
        return np.logical_not(value)
    _number(value)
    if node.op == "-":
        return -_int_array(value) if _kind(value) == "int" else -value
    return value


def _round_half_away(x: Value) -> Value:
    x = _as_float(x)
    return np.where(np.asarray(x) >= 0, 1, -1) * np.floor(np.abs(x) + 0.5)


def _to_int(value: Value) -> Value:
    """Integer-valued floats (results of floor, ceil, round) as int64, in bounds."""
    if _largest(value) >= INT_BOUND:
        raise Fallback
    return np.asarray(value).astype(np.int64)


def _same_kind(args: Sequence[Value]) -> str:
    kinds = {_number(a) for a in args}
    if len(kinds) != 1:
        raise Fallback  # min/max keep the winner's type, which may change from row to row
    return kinds.pop()


def _pick(args: Sequence[Value], better: Callable[[Value, Value], Value]) -> Value:
    """``min``/``max`` as Python computes them: the first argument that no later one
    beats (``better(x, best)``), so ties keep the earlier value (and its sign, for zeros)."""
    kinds = {_number(a) for a in args}
    if len(kinds) != 1:
        raise Fallback  # min/max keep the winner's type, which may change from row to row
    best = args[0]
    for x in args[1:]:
        best = np.where(better(x, best), x, best)
    return best


def _rounded(value: Value, how: Callable[[Value], Value]) -> Value:
    return value if _number(value) == "int" else _to_int(how(value))


_FUNCS: dict[str, Callable[[Sequence[Value]], Value]] = {
    "min": lambda args: _pick(args, np.less),
    "max": lambda args: _pick(args, np.greater),
    "abs": lambda args: np.abs(_int_array(args[0])) if _number(args[0]) == "int" else np.abs(args[0]),
    "floor": lambda args: _rounded(args[0], np.floor),
    "ceil": lambda args: _rounded(args[0], np.ceil),
    "round": lambda args: _number(args[0]) and _to_int(_round_half_away(args[0])),
    "sqrt": lambda args: _sqrt(args[0]),
}


def _sqrt(x: Value) -> Value:
    _number(x)
    y = _as_float(x)
    if _any(np.asarray(y) < 0):
        raise Fallback
    return np.sqrt(y)


def _call(node: s.Call, rows: Rows) -> Value:
    found = rows.outer.lookup(node.func)
    inside, _ = rows.lookup(node.func)
    if node.params is not None or (not inside and found is not None
                                   and isinstance(found[0], (SpkCircuit, GeneratorCircuit))):
        raise Fallback
    spec = FUNCTIONS.get(node.func)
    fn = _FUNCS.get(node.func)
    if spec is None or fn is None:
        raise Fallback
    low, high, _, _ = spec
    if len(node.args) < low or (high is not None and len(node.args) > high):
        raise Fallback
    return fn([evaluate_rows(arg, rows) for arg in node.args])


def _plain(value: Value) -> Value:
    """numpy scalars and 0-d arrays as Python scalars; arrays as they are."""
    if isinstance(value, np.ndarray):
        return value.item() if value.ndim == 0 else value
    if isinstance(value, np.generic):
        return value.item()
    return value


def evaluate_rows(expr: s.Expr, rows: Rows) -> Value:
    """The value of ``expr`` in every row (a scalar when it is the same in all);
    :class:`Fallback` when it cannot be computed exactly as arrays."""
    return _plain(_evaluate_rows(expr, rows))


def _evaluate_rows(expr: s.Expr, rows: Rows) -> Value:
    if isinstance(expr, (s.Number, s.Boolean)):
        return expr.value
    if not rows.bound(rows.free_names(expr)):
        try:
            value = evaluate(expr, rows.outer)
        except ElaborationError:
            raise Fallback from None
        _kind(value)
        return value
    if isinstance(expr, s.Ref):
        if expr.accessors:
            raise Fallback
        inside, value = rows.lookup(expr.name)
        if not inside:
            raise Fallback
        return value
    if isinstance(expr, s.Binary):
        return _binary(expr, rows)
    if isinstance(expr, s.Unary):
        return _unary(expr, rows)
    if isinstance(expr, s.Call):
        return _call(expr, rows)
    raise Fallback


def as_index(value: Value) -> Value:
    """``as_int`` of each row (integers, or integer-valued floats): int64 rows or a
    Python int."""
    kind = _kind(value)
    if kind == "float":
        arr = np.asarray(value, dtype=np.float64)
        if not (np.isfinite(arr).all() and (arr == np.floor(arr)).all()):
            raise Fallback
        out = arr
    elif kind == "int":
        if not isinstance(value, np.ndarray) and abs(value) >= INT_BOUND:
            raise Fallback  # a Python integer past int64
        out = np.asarray(value)
    else:
        raise Fallback
    if _largest(out) >= INT_BOUND:
        raise Fallback
    return _plain(out.astype(np.int64))


def as_weight(value: Value) -> Value:
    """``as_real`` of each row: a finite float."""
    _number(value)
    return _plain(_finite(_as_float(value)))


def as_delay(value: Value) -> Value:
    """The checks of a synapse delay in each row: an integer (or an integer-valued
    float) >= 1, as int64."""
    out = as_index(value)
    if _any(np.asarray(out) < 1):
        raise Fallback
    return out
