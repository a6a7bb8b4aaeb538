"""The compile-time expression evaluator (no host-language ``eval``).

Values are integers, reals and booleans with Python's arithmetic (``/`` is
true division, ``//`` and ``%`` floor), checked strictly: arithmetic takes
numbers, ``and``/``or``/``not`` and conditions take booleans, and any
result must be a finite real or an integer of at most :data:`MAX_INT_BITS`
bits. Every failure is an :class:`~spikec.dsl.errors.ElaborationError` at
the offending sub-expression.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from typing import Any

from spikec.dsl import syntax as s
from spikec.dsl.values import (
    GeneratorCircuit,
    Number,
    Scope,
    SpkCircuit,
    describe,
    format_number,
)
from spikec.errors import ElaborationError, SourceLocation, did_you_mean

__all__ = ["evaluate", "as_int", "as_real", "as_bool", "FUNCTIONS", "MAX_INT_BITS", "Compiled"]

#: An expression compiled to a function of the scope it is evaluated in.
Compiled = Callable[["Scope"], "Number"]

#: Largest integer (in bits) an expression may produce; guards `2 ** 10 ** 9`.
MAX_INT_BITS = 4096


def _fail(message: str, loc: SourceLocation) -> ElaborationError:
    return ElaborationError(message, loc)


def _checked(value: Number, loc: SourceLocation, what: str) -> Number:
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _fail(f"{what} is not a finite number", loc)
    elif isinstance(value, int) and not isinstance(value, bool):
        if value.bit_length() > MAX_INT_BITS:
            raise _fail(f"{what} is too large (more than {MAX_INT_BITS} bits)", loc)
    return value


def _number(value: Number, op: str, loc: SourceLocation) -> int | float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _fail(f"'{op}' needs numbers, got {describe(value)}", loc)
    return value


def as_bool(value: Number, what: str, loc: SourceLocation) -> bool:
    """``value`` if it is a boolean, else an error saying ``what`` needs one."""
    if not isinstance(value, bool):
        raise _fail(f"{what} must be a boolean (true or false), got {describe(value)}", loc)
    return value


def as_int(value: object, what: str, loc: SourceLocation) -> int:
    """``value`` as an int if it is integer-valued (``4`` or ``4.0``), else an error."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    shown = format_number(value) if isinstance(value, (int, float)) else describe(value)
    raise _fail(f"{what} must be an integer, got {shown}", loc)


def as_real(value: object, what: str, loc: SourceLocation) -> float:
    """``value`` as a float if it is a number (not a boolean), else an error."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            out = float(value)
        except OverflowError:
            raise _fail(f"{what} is too large", loc) from None
        if not math.isfinite(out):
            raise _fail(f"{what} must be finite, got {format_number(out)}", loc)
        return out
    raise _fail(f"{what} must be a number, got {describe(value)}", loc)


# ---- operators -------------------------------------------------------------------


def _operand(x: int | float) -> str:
    return f"({format_number(x)})" if x < 0 else format_number(x)


def _power(a: int | float, b: int | float, loc: SourceLocation) -> Number:
    if isinstance(a, int) and isinstance(b, int) and b > 0 and abs(a) > 1:
        if b * a.bit_length() > MAX_INT_BITS + a.bit_length():
            raise _fail(f"{a} ** {b} is too large (more than {MAX_INT_BITS} bits)", loc)
    try:
        out = a**b
    except ZeroDivisionError:
        raise _fail("0 raised to a negative power (division by zero)", loc) from None
    except OverflowError:
        raise _fail(f"{_operand(a)} ** {_operand(b)} is too large", loc) from None
    if isinstance(out, complex):
        raise _fail(f"{_operand(a)} ** {_operand(b)} is not a real number", loc)
    return out


def _divide(op: str, a: int | float, b: int | float, right: s.Expr) -> Number:
    if b == 0:
        raise _fail(f"division by zero: the right side of '{op}' is 0", right.loc)
    if op == "/":
        return a / b
    if op == "//":
        return a // b
    return a % b


_ARITH: dict[str, Callable[[Any, Any], Number]] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
}
_ORDER: dict[str, Callable[[Any, Any], bool]] = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


# Integer operations that cannot fail except by growing too large.
_INT_FAST: dict[str, Callable[[int, int], Number]] = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "<": operator.lt,
    "<=": operator.le, ">": operator.gt, ">=": operator.ge, "==": operator.eq, "!=": operator.ne,
}
_INT_DIVIDE: dict[str, Callable[[int, int], int]] = {"%": operator.mod, "//": operator.floordiv}


def _binary_values(node: s.Binary, a: Number, b: Number) -> Number:
    """``a op b`` with every check; the compiled fast path handles plain integers."""
    op = node.op
    if op in ("==", "!="):
        if isinstance(a, bool) != isinstance(b, bool) or isinstance(a, str) != isinstance(b, str):
            raise _fail(f"cannot compare {describe(a)} with {describe(b)}", node.loc)
        return (a == b) == (op == "==")
    x = _number(a, op, node.left.loc)
    y = _number(b, op, node.right.loc)
    compare = _ORDER.get(op)
    if compare is not None:
        return compare(x, y)
    try:
        arith = _ARITH.get(op)
        if arith is not None:
            out = arith(x, y)
        elif op == "**":
            out = _power(x, y, node.loc)
        else:
            out = _divide(op, x, y, node.right)
    except OverflowError:
        raise _fail(f"the result of '{op}' is too large", node.loc) from None
    return _checked(out, node.loc, "the result")


#: Chains of binary operations longer than this run as a loop (shorter ones as nested
#: closures, which is faster for the short expressions of loops).
_SHORT_CHAIN = 16


def _compile_binary(node: s.Binary) -> Compiled:
    """A long chain ``a + b - c ...`` (left operands that are binary operations themselves)
    is compiled and run as a loop over its operators, so a flat sum of any length never
    recurses deeper than its operands do."""
    chain: list[s.Binary] = [node]
    while isinstance(chain[-1].left, s.Binary) and len(chain) <= _SHORT_CHAIN:
        chain.append(chain[-1].left)
    if len(chain) <= _SHORT_CHAIN:
        return _nested(node, _compile(node.left))
    while isinstance(chain[-1].left, s.Binary):
        chain.append(chain[-1].left)
    chain.reverse()  # innermost (leftmost) operation first
    first = _compile(chain[0].left)
    steps = [_step(link) for link in chain]

    def run(scope: Scope) -> Number:
        value = first(scope)
        for step in steps:
            value = step(value, scope)
        return value

    return run


def _nested(node: s.Binary, left: Compiled) -> Compiled:
    """``node`` as a closure that computes its left operand with ``left``."""
    right, op = _compile(node.right), node.op
    if op in ("and", "or"):
        stop = op == "or"  # the left value that decides the result alone
        lwhat, rwhat = f"the left side of '{op}'", f"the right side of '{op}'"
        lloc, rloc = node.left.loc, node.right.loc

        def logic(scope: Scope) -> Number:
            if as_bool(left(scope), lwhat, lloc) is stop:
                return stop
            return as_bool(right(scope), rwhat, rloc)

        return logic
    fast = _INT_FAST.get(op)
    divide = _INT_DIVIDE.get(op)
    limit = MAX_INT_BITS

    def binary(scope: Scope) -> Number:  # _step's integer fast path, without a call more
        a = left(scope)
        b = right(scope)
        if type(a) is int and type(b) is int:
            if fast is not None:
                out = fast(a, b)
            elif divide is not None and b:
                out = divide(a, b)
            else:
                return _binary_values(node, a, b)
            if type(out) is int and out.bit_length() > limit:
                raise _fail(f"the result is too large (more than {limit} bits)", node.loc)
            return out
        return _binary_values(node, a, b)

    return binary


def _step(node: s.Binary) -> Callable[[Number, Scope], Number]:
    """``node`` applied to the value of its left operand (already computed)."""
    right, op = _compile(node.right), node.op
    if op in ("and", "or"):
        stop = op == "or"  # the left value that decides the result alone
        lwhat, rwhat = f"the left side of '{op}'", f"the right side of '{op}'"
        lloc, rloc = node.left.loc, node.right.loc

        def logic(a: Number, scope: Scope) -> Number:
            if as_bool(a, lwhat, lloc) is stop:
                return stop
            return as_bool(right(scope), rwhat, rloc)

        return logic
    fast = _INT_FAST.get(op)
    divide = _INT_DIVIDE.get(op)
    limit = MAX_INT_BITS

    def binary(a: Number, scope: Scope) -> Number:
        b = right(scope)
        if type(a) is int and type(b) is int:  # the index arithmetic of loops
            if fast is not None:
                out = fast(a, b)
            elif divide is not None and b:
                out = divide(a, b)
            else:
                return _binary_values(node, a, b)
            if type(out) is int and out.bit_length() > limit:
                raise _fail(f"the result is too large (more than {limit} bits)", node.loc)
            return out
        return _binary_values(node, a, b)

    return binary


def _compile_unary(node: s.Unary) -> Compiled:
    operand, op, loc = _compile(node.operand), node.op, node.operand.loc
    if op == "not":
        return lambda scope: not as_bool(operand(scope), "the operand of 'not'", loc)
    if op == "-":
        return lambda scope: -_number(operand(scope), op, loc)
    return lambda scope: _number(operand(scope), op, loc)


def _ref(node: s.Ref, scope: Scope) -> Number:
    found = scope.lookup(node.name)
    if found is None:
        raise _fail(
            f"unknown name '{node.name}'{did_you_mean(node.name, scope.visible())}", node.loc
        )
    value = found[0]
    if not isinstance(value, (bool, int, float, str)):
        raise _fail(f"expected a number here, but '{node.name}' is {describe(value)}", node.loc)
    if node.accessors:
        raise _fail(
            f"'{node.name}' is {describe(value)}; numbers have no elements or outputs",
            node.accessors[0].loc,
        )
    return value


def _compile_ref(node: s.Ref) -> Compiled:
    if node.accessors:
        return lambda scope: _ref(node, scope)
    name = node.name

    def ref(scope: Scope) -> Number:
        found = scope.lookup(name)
        if found is not None and type(found[0]) in _NUMBER_TYPES:
            return found[0]
        return _ref(node, scope)

    return ref


_NUMBER_TYPES = (int, float, bool, str)


# ---- functions ---------------------------------------------------------------------


def _round(x: float) -> int:
    """Round half away from zero (``round(2.5) == 3``, ``round(-2.5) == -3``)."""
    return int(math.floor(abs(x) + 0.5)) * (1 if x >= 0 else -1)


def _log(x: float, *base: float) -> float:
    if x <= 0:
        raise ValueError(f"needs a positive number, got {format_number(x)}")
    if not base:
        return math.log(x)
    if base[0] <= 0 or base[0] == 1:
        raise ValueError(f"the base must be positive and not 1, got {format_number(base[0])}")
    return math.log(x) / math.log(base[0])


def _comb(n: int, k: int) -> int:
    if n < 0 or k < 0:
        raise ValueError(f"needs integers >= 0, got {n} and {k}")
    small = min(k, n - k)
    if small > 0 and small * math.log2(max(n, 2)) > 2 * MAX_INT_BITS:
        raise ValueError(f"the result is too large (more than {MAX_INT_BITS} bits)")
    return math.comb(n, k)


def _sqrt(x: float) -> float:
    if x < 0:
        raise ValueError(f"needs a number >= 0, got {format_number(x)}")
    return math.sqrt(x)


def _log2(x: float) -> float:
    if x <= 0:
        raise ValueError(f"needs a positive number, got {format_number(x)}")
    return math.log2(x)


#: name -> (fewest arguments, most arguments or None, function, integer arguments?)
FUNCTIONS: dict[str, tuple[int, int | None, Callable[..., Number], bool]] = {
    "min": (1, None, lambda *xs: min(xs), False),
    "max": (1, None, lambda *xs: max(xs), False),
    "abs": (1, 1, abs, False),
    "floor": (1, 1, math.floor, False),
    "ceil": (1, 1, math.ceil, False),
    "round": (1, 1, _round, False),
    "sqrt": (1, 1, _sqrt, False),
    "exp": (1, 1, math.exp, False),
    "log": (1, 2, _log, False),
    "log2": (1, 1, _log2, False),
    "comb": (2, 2, _comb, True),
}


def _check_call(node: s.Call, scope: Scope) -> tuple[Callable[..., Number], bool]:
    """The function ``node`` calls and whether it takes integers, or an error."""
    found = scope.lookup(node.func)
    if found is not None and isinstance(found[0], (SpkCircuit, GeneratorCircuit)):
        raise _fail(
            f"circuit '{node.func}' makes neurons, not a number; bind an instance with"
            f" 'let NAME = {node.func}(...)' on its own",
            node.loc,
        )
    spec = FUNCTIONS.get(node.func)
    if spec is None or node.params is not None:
        circuits = scope.visible_of(SpkCircuit, GeneratorCircuit)
        if node.params is not None:
            hint = did_you_mean(node.func, circuits)
            raise _fail(f"unknown circuit '{node.func}'{hint}", node.loc)
        hint = did_you_mean(node.func, list(FUNCTIONS) + circuits)
        raise _fail(
            f"unknown circuit or function '{node.func}'{hint}; the functions are"
            f" {', '.join(FUNCTIONS)}",
            node.loc,
        )
    low, high, fn, integers = spec
    n = len(node.args)
    if n < low or (high is not None and n > high):
        want = f"{low}" if low == high else f"{low} or more" if high is None else f"{low} to {high}"
        plural = "" if want == "1" else "s"
        raise _fail(f"{node.func}() takes {want} argument{plural}, got {n}", node.loc)
    return fn, integers


def _compile_call(node: s.Call) -> Compiled:
    args = [(_compile(arg), arg.loc) for arg in node.args]
    what = f"argument of {node.func}()"

    def call(scope: Scope) -> Number:
        fn, integers = _check_call(node, scope)
        values = [
            as_int(arg(scope), what, loc) if integers else _number(arg(scope), f"{node.func}()", loc)
            for arg, loc in args
        ]
        try:
            out = fn(*values)
        except ValueError as err:
            raise _fail(f"{node.func}(): {err}", node.loc) from None
        except OverflowError:
            raise _fail(f"{node.func}(): the result is too large", node.loc) from None
        return _checked(out, node.loc, f"{node.func}()")

    return call


def _constant(value: Number) -> Compiled:
    return lambda scope: value


_COMPILERS: dict[type, Callable[[Any], Compiled]] = {
    s.Number: lambda node: _constant(node.value),
    s.Boolean: lambda node: _constant(node.value),
    s.String: lambda node: _constant(node.value),
    s.Ref: _compile_ref,
    s.Binary: _compile_binary,
    s.Unary: _compile_unary,
    s.Call: _compile_call,
}


def _compile(expr: s.Expr) -> Compiled:
    """A closure computing ``expr`` in a scope: the tree is walked once, not per use."""
    return _COMPILERS[type(expr)](expr)


def evaluate(expr: s.Expr, scope: Scope) -> Number:
    """The value of ``expr`` with names looked up in ``scope``.

    Each expression is compiled once per module (``Module.compiled``), so a
    loop body's expressions cost closure calls, not a tree walk, per pass.
    """
    cache = scope.frame.module.compiled
    fn = cache.get(id(expr))
    if fn is None:
        fn = cache[id(expr)] = _compile(expr)
    return fn(scope)
