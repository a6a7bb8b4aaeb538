"""Boolean synthesis: a Boolean expression -> a circuit of threshold gates.

:func:`synthesize` turns a sympy Boolean expression (``(a & b) | ~c``,
``Xor``, ``Implies``, ...) over up to :data:`MAX_VARIABLES` variables into a
:class:`~spikec.synth.threshold.ThresholdCircuit` with one output ``y``:

1. A constant function becomes one gate with no inputs (it fires every
   step, or never).
2. A *threshold function* (linearly separable) becomes exactly one gate.
   :func:`threshold_weights` decides this exactly from the truth table: a
   mixed-integer linear program (scipy's HiGHS ``milp``) looks for integer
   weights ``w`` and threshold ``theta`` with ``w.x >= theta`` on the true
   rows and ``w.x <= theta - 1`` on the false ones, minimizing
   ``sum |w_i|``. Integers lose nothing: every threshold function has an
   integer realization, and with integers the margin of 1 is free.
3. Otherwise the function gets a two-level circuit (latency 2), the
   smallest of: the minimal sum of products (sympy's ``SOPform``: AND gates,
   then an OR gate), the minimal product of sums (``POSform``: OR gates,
   then an AND gate), and, for symmetric functions, a counting circuit
   (gates ``[sum x >= k]`` read by one output gate, which may also read the
   inputs directly; parity of n inputs takes floor(n/2) + 1 gates).
   Single-literal terms skip the first level. Negative literals are negative
   weights plus bias, never extra NOT gates.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy
from scipy.optimize import Bounds, LinearConstraint, milp
from sympy.logic import boolalg

from spikec.errors import BooleanError, SourceLocation
from spikec.synth.threshold import ThresholdCircuit

__all__ = [
    "MAX_VARIABLES",
    "BooleanError",
    "Synthesis",
    "parse_boolean",
    "truth_table",
    "threshold_weights",
    "synthesize",
    "all_threshold_functions",
]

#: Most distinct variables :func:`synthesize` accepts (its truth table has 2^n rows).
MAX_VARIABLES = 10


@dataclass(frozen=True)
class Synthesis:
    """The result of :func:`synthesize`.

    ``circuit`` has one input port per variable (named as the variable) and
    one output ``y``; ``form`` is ``"constant"``, ``"threshold"`` (one
    gate), ``"sop"``, ``"pos"`` or ``"symmetric"`` (two levels);
    ``simplified`` is sympy's simplest equivalent expression.
    """

    circuit: ThresholdCircuit
    form: str
    variables: tuple[sympy.Symbol, ...]
    simplified: Any

    @property
    def latency(self) -> int:
        """Steps from the inputs to ``y``: 1 for one gate, 2 for two levels."""
        return 2 if self.form in ("sop", "pos", "symmetric") else 1


#: Longest text :func:`parse_boolean` reads (characters), and deepest nesting it builds.
MAX_TEXT = 100_000
MAX_DEPTH = 100

_TOKEN = re.compile(r"\s*(?:(?P<name>[^\W\d]\w*)|(?P<number>\d+)|(?P<op>->|>>|<<|[&|^~(),])|(?P<bad>\S))")
# Binary operators: (precedence, right-associative). Python's precedence, so every form
# parse_expr read means what it did, plus the gate statement's '->', loosest.
_BINARY: dict[str, tuple[int, bool]] = {"->": (1, True), "|": (2, False), "^": (3, False),
                                        "&": (4, False), ">>": (5, False), "<<": (5, False)}
_CONSTANTS = {"true": True, "True": True, "1": True, "false": False, "False": False, "0": False}
# name -> (sympy function, fewest arguments, most arguments or None)
_FUNCTIONS: dict[str, tuple[Any, int, int | None]] = {
    "And": (sympy.And, 1, None), "Or": (sympy.Or, 1, None), "Xor": (sympy.Xor, 1, None),
    "Nand": (boolalg.Nand, 1, None), "Nor": (boolalg.Nor, 1, None), "Xnor": (boolalg.Xnor, 1, None),
    "Equivalent": (sympy.Equivalent, 1, None), "Not": (sympy.Not, 1, 1),
    "Implies": (sympy.Implies, 2, 2), "ITE": (sympy.ITE, 3, 3)}
_WORDS = {"and": "&", "or": "|", "not": "~"}


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # "name", "number", "op", "end"
    text: str
    pos: int  # offset in the text


# A parsed node before it becomes sympy: (operator or "atom", operands or the sympy atom, depth).
_Node = tuple[str, Any, int]


class _Parser:
    """Precedence climbing over the tokens of :func:`parse_boolean`; builds no Python
    objects but symbols, constants and nested operand lists (never eval)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = self._tokenize(text)
        self.i = 0

    def column(self, pos: int) -> int:
        return pos - (self.text.rfind("\n", 0, pos) + 1) + 1

    def error(self, message: str, pos: int) -> BooleanError:
        line = self.text.count("\n", 0, pos) + 1
        start = self.text.rfind("\n", 0, pos) + 1
        end = self.text.find("\n", pos)
        shown = self.text[start:end if end >= 0 else len(self.text)]
        where = SourceLocation("<expression>", line, pos - start + 1,
                               shown if len(shown) <= 200 else None)
        return BooleanError(message, where)

    def _tokenize(self, text: str) -> list[_Token]:
        tokens = []
        pos = 0
        while True:
            m = _TOKEN.match(text, pos)
            if m is None:  # only whitespace is left
                tokens.append(_Token("end", "", len(text)))
                return tokens
            kind = m.lastgroup or "bad"
            start, pos = m.start(kind), m.end()
            if kind == "bad":
                ch = m.group(kind)
                raise self.error(f"not a Boolean expression: {ch!r} is not a Boolean operator"
                                 " (operators: ~ & ^ | -> >> <<, parentheses, 0/1, true/false)", start)
            tokens.append(_Token(kind, m.group(kind), start))

    def peek(self) -> _Token:
        return self.tokens[self.i]

    def take(self) -> _Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def expect(self, text: str, after: str) -> _Token:
        tok = self.take()
        if tok.text != text or tok.kind != "op":
            raise self.error(f"cannot read the Boolean expression: expected '{text}' {after},"
                             f" found {_found(tok)}", tok.pos)
        return tok

    def parse(self) -> _Node:
        node = self.expression(0, 0)
        tok = self.peek()
        if tok.kind != "end":
            raise self.error(f"cannot read the Boolean expression: expected an operator, found"
                             f" {_found(tok)}", tok.pos)
        return node

    def expression(self, min_prec: int, nesting: int) -> _Node:
        """Operands joined by binary operators of precedence >= ``min_prec``."""
        left = self.unary(nesting)
        while True:
            tok = self.peek()
            rule = _BINARY.get(tok.text) if tok.kind == "op" else None
            if rule is None or rule[0] < min_prec:
                return left
            prec, right_assoc = rule
            self.take()
            if right_assoc:  # '->' nests to the right: recursion is bounded by the depth check
                right = self.expression(prec, nesting + 1)
            else:
                right = self.expression(prec + 1, nesting)
            left = self.combine(tok, left, right)

    def combine(self, tok: _Token, left: _Node, right: _Node) -> _Node:
        op = {"->": "implies", "|": "or", "^": "xor", "&": "and", ">>": "implies", "<<": "implied"}[tok.text]
        if op == "implied":  # a << b is b >> a
            op, left, right = "implies", right, left
        if op in ("or", "xor", "and"):  # sympy flattens these: a | b | c is one Or
            parts = [*(left[1] if left[0] == op else [left]), *(right[1] if right[0] == op else [right])]
            depth = max(left[2] - (left[0] == op), right[2] - (right[0] == op)) + 1
            node: _Node = (op, parts, depth)
        else:
            node = (op, [left, right], max(left[2], right[2]) + 1)
        if node[2] > MAX_DEPTH:
            raise self.error(f"the Boolean expression nests more than {MAX_DEPTH} levels deep", tok.pos)
        return node

    def unary(self, nesting: int) -> _Node:
        nots: list[_Token] = []
        while self.peek().kind == "op" and self.peek().text == "~":
            nots.append(self.take())
        node = self.atom(nesting)
        if len(nots) % 2:  # sympy.Not(sympy.Not(x)) is x, so only the parity counts
            node = ("not", [node], node[2] + 1)
            if node[2] > MAX_DEPTH:
                raise self.error(f"the Boolean expression nests more than {MAX_DEPTH} levels deep",
                                 nots[0].pos)
        return node

    def atom(self, nesting: int) -> _Node:
        tok = self.take()
        if nesting > MAX_DEPTH:
            raise self.error(f"the Boolean expression nests more than {MAX_DEPTH} levels deep", tok.pos)
        if tok.kind == "op" and tok.text == "(":
            node = self.expression(0, nesting + 1)
            self.expect(")", f"to close the '(' at column {self.column(tok.pos)}")
            return node
        if tok.text in _CONSTANTS:
            return ("atom", sympy.true if _CONSTANTS[tok.text] else sympy.false, 0)
        if tok.kind == "number":
            raise self.error(f"cannot read the Boolean expression: the constants are 0 and 1, got"
                             f" {tok.text[:20]}", tok.pos)
        if tok.kind != "name":
            raise self.error(f"cannot read the Boolean expression: expected an operand, found"
                             f" {_found(tok)}", tok.pos)
        if tok.text in _WORDS:
            raise self.error(f"cannot read the Boolean expression: write '{_WORDS[tok.text]}'"
                             f" for '{tok.text}'", tok.pos)
        if keyword.iskeyword(tok.text):
            raise self.error(f"cannot read the Boolean expression: '{tok.text}' is a reserved word,"
                             " not a variable", tok.pos)
        if tok.text in _FUNCTIONS:
            return self.call(tok, nesting)
        return ("atom", sympy.Symbol(tok.text), 0)

    def call(self, name: _Token, nesting: int) -> _Node:
        """``And(a, b, ...)`` and the other sympy Boolean functions, by name only."""
        self.expect("(", f"after '{name.text}'")
        args = [self.expression(0, nesting + 1)]
        while self.peek().kind == "op" and self.peek().text == ",":
            self.take()
            args.append(self.expression(0, nesting + 1))
        self.expect(")", f"to close the call of '{name.text}'")
        _, low, high = _FUNCTIONS[name.text]
        if len(args) < low or (high is not None and len(args) > high):
            count = f"{low}" if high == low else f"at least {low}"
            raise self.error(f"cannot read the Boolean expression: {name.text} takes {count}"
                             f" argument{'s' if low != 1 else ''}, got {len(args)}", name.pos)
        depth = max(a[2] for a in args) + 1
        if depth > MAX_DEPTH:
            raise self.error(f"the Boolean expression nests more than {MAX_DEPTH} levels deep", name.pos)
        return ("call:" + name.text, args, depth)


def _found(tok: _Token) -> str:
    if tok.text in _WORDS:
        return f"'{tok.text}' (write '{_WORDS[tok.text]}')"
    return "the end" if tok.kind == "end" else f"'{tok.text[:40]}'"


def _to_sympy(node: _Node) -> Any:
    """Build the sympy expression of a parsed node (recursion bounded by MAX_DEPTH)."""
    op, value, _ = node
    if op == "atom":
        return value
    args = [_to_sympy(a) for a in value]
    if op.startswith("call:"):
        return _FUNCTIONS[op[5:]][0](*args)
    fn = {"or": sympy.Or, "xor": sympy.Xor, "and": sympy.And, "implies": sympy.Implies,
          "not": sympy.Not}[op]
    return fn(*args)


def parse_boolean(text: str) -> Any:
    """Read ``"(a & b) | ~c"`` as a sympy Boolean expression, without evaluating any Python.

    The operators, loosest first: ``->`` (implies, right-associative), ``|``
    (or), ``^`` (xor), ``&`` (and), ``>>`` (``a >> b`` is a implies b) and
    ``<<`` (``a << b`` is b implies a), then ``~`` (not): Python's precedence,
    which is what sympy's parser gave them. Parentheses group; ``0``/``1``,
    ``false``/``true`` and ``False``/``True`` are constants; a name is a
    variable; ``And(...)``, ``Or``, ``Not``, ``Xor``, ``Nand``, ``Nor``,
    ``Xnor``, ``Implies``, ``Equivalent`` and ``ITE`` may be called by name.
    A mistake raises :class:`BooleanError` located at the offending token
    (``<expression>:line:column``); texts longer than :data:`MAX_TEXT` or
    nesting deeper than :data:`MAX_DEPTH` are refused.
    """
    if not isinstance(text, str):
        raise BooleanError(f"a Boolean expression is text, got {type(text).__name__}")
    if len(text) > MAX_TEXT:
        raise BooleanError(f"the Boolean expression is {len(text):,} characters long, over the"
                           f" limit of {MAX_TEXT:,}")
    parser = _Parser(text)
    return _to_sympy(parser.parse())


def _columns(n: int) -> np.ndarray:
    """(2^n, n) bool matrix: row r holds the bits of r, variable i = bit i."""
    rows = np.arange(1 << n, dtype=np.int64)
    return ((rows[:, None] >> np.arange(n)) & 1).astype(bool)


def _eval(expr: Any, env: Mapping[Any, np.ndarray], size: int) -> np.ndarray:
    if expr is sympy.true:
        return np.ones(size, dtype=bool)
    if expr is sympy.false:
        return np.zeros(size, dtype=bool)
    if isinstance(expr, sympy.Symbol):
        return env[expr]
    args = [_eval(a, env, size) for a in expr.args]
    if isinstance(expr, boolalg.Not):
        return ~args[0]
    if isinstance(expr, boolalg.And):
        return np.logical_and.reduce(args)
    if isinstance(expr, boolalg.Or):
        return np.logical_or.reduce(args)
    if isinstance(expr, boolalg.Xor):
        return np.logical_xor.reduce(args)
    if isinstance(expr, boolalg.Nand):
        return ~np.logical_and.reduce(args)
    if isinstance(expr, boolalg.Nor):
        return ~np.logical_or.reduce(args)
    if isinstance(expr, boolalg.Xnor):
        return ~np.logical_xor.reduce(args)
    if isinstance(expr, boolalg.Implies):
        return ~args[0] | args[1]
    if isinstance(expr, boolalg.Equivalent):
        return np.logical_and.reduce([a == args[0] for a in args])
    if isinstance(expr, boolalg.ITE):
        return np.where(args[0], args[1], args[2])
    raise BooleanError(f"cannot evaluate {type(expr).__name__} in a Boolean expression: {expr}")


def truth_table(expr: Any, variables: Sequence[sympy.Symbol]) -> np.ndarray:
    """The values of ``expr`` on all 2^n assignments (row r: variable i = bit i of r)."""
    n = len(variables)
    cols = _columns(n)
    env = {v: cols[:, i] for i, v in enumerate(variables)}
    return np.broadcast_to(_eval(expr, env, 1 << n), (1 << n,)).copy()


def _unate_signs(table: np.ndarray, n: int) -> list[int] | None:
    """+1 / -1 / 0 per variable (increasing, decreasing, irrelevant), or None when
    some variable is neither: such a function is not a threshold function."""
    signs = []
    rows = np.arange(1 << n)
    for i in range(n):
        low = table[rows[(rows >> i) & 1 == 0]]
        high = table[rows[(rows >> i) & 1 == 0] | (1 << i)]
        up = bool(np.any(high & ~low))
        down = bool(np.any(low & ~high))
        if up and down:
            return None
        signs.append(1 if up else -1 if down else 0)
    return signs


def threshold_weights(table: np.ndarray) -> tuple[list[int], int] | None:
    """Integer weights and threshold realizing a truth table as one threshold gate.

    ``table`` has 2^n entries (row r: variable i = bit i of r). Returns
    ``(w, theta)`` with ``f(x) = [w.x >= theta]`` and ``sum |w_i|`` as small
    as possible, or None when the function is not a threshold function.
    """
    table = np.asarray(table, dtype=bool)
    n = int(table.size).bit_length() - 1
    if table.size != 1 << n:
        raise BooleanError(f"a truth table has 2^n rows, got {table.size}")
    signs = _unate_signs(table, n)
    if signs is None:
        return None
    cols = _columns(n).astype(np.float64)
    # Unknowns: w_0..w_{n-1}, theta. True rows: w.x - theta >= 0; false rows: <= -1.
    a = np.hstack([cols, -np.ones((1 << n, 1))])
    lower = np.where(table, 0.0, -np.inf)
    upper = np.where(table, np.inf, -1.0)
    lo = [0.0 if s > 0 else -np.inf if s < 0 else 0.0 for s in signs] + [-np.inf]
    hi = [np.inf if s > 0 else 0.0 for s in signs] + [np.inf]
    cost = np.array([float(s) for s in signs] + [0.0])  # sum |w_i|, signs known
    res = milp(cost, constraints=LinearConstraint(a, lower, upper), integrality=np.ones(n + 1),
               bounds=Bounds(lo, hi))
    if res.status != 0 or res.x is None:
        return None
    weights = [int(round(x)) for x in res.x[:n]]
    theta = int(round(res.x[n]))
    got = cols @ np.array(weights, dtype=np.float64) >= theta
    if not np.array_equal(got, table):  # a solver tolerance slip; never seen, but never trusted
        return None
    return weights, theta


def _literal(lit: Any) -> tuple[sympy.Symbol, bool]:
    if isinstance(lit, boolalg.Not):
        return lit.args[0], False
    return lit, True


def _two_level(terms: list[Any], names: Mapping[sympy.Symbol, str], conjunctive: bool,
               inputs: Mapping[str, int | None]) -> ThresholdCircuit:
    """Sum of products (``conjunctive=False``: terms are ANDs, output ORs them) or
    product of sums (terms are ORs, output ANDs them)."""
    circuit = ThresholdCircuit(inputs)
    out: list[tuple[str, float]] = []
    theta_out = len(terms) if conjunctive else 1
    for term in terms:
        lits = [_literal(x) for x in (term.args if isinstance(term, (boolalg.And, boolalg.Or))
                                      else (term,))]
        if len(lits) == 1:
            var, positive = lits[0]
            out.append((names[var], 1 if positive else -1))
            theta_out -= 0 if positive else 1
            continue
        weights = [(names[v], 1 if pos else -1) for v, pos in lits]
        negatives = sum(1 for _, pos in lits if not pos)
        positives = len(lits) - negatives
        theta = 1 - negatives if conjunctive else positives
        out.append((circuit.gate(f"h[{len(circuit.gates)}]", weights, theta), 1))
    circuit.output("y", circuit.gate("y", out, theta_out))
    return circuit


def _symmetric_profile(table: np.ndarray, n: int) -> list[bool] | None:
    """f as a function of the number of true inputs, or None if f is not symmetric."""
    counts = _columns(n).sum(axis=1)
    profile: list[bool] = []
    for k in range(n + 1):
        vals = table[counts == k]
        if vals.min() != vals.max():
            return None
        profile.append(bool(vals[0]))
    return profile


def _counting(profile: list[bool], variables: Sequence[str],
              inputs: Mapping[str, int | None]) -> ThresholdCircuit:
    """A symmetric function f(s), s = number of true inputs, in two levels.

    The output reads the inputs with weight ``a`` (-1, 0 or 1) and gates
    ``g_k = [s >= k]``: its potential is ``b + a*s + sum_k c_k g_k``. Walking
    s upwards, a gate is added wherever the potential would land on the wrong
    side; the best ``a`` is kept.
    """
    best: tuple[int, int, list[tuple[int, int]]] | None = None
    for a in (0, 1, -1):
        b = 1 if profile[0] else 0
        gates: list[tuple[int, int]] = []
        level = b
        for s in range(1, len(profile)):
            level += a
            want = profile[s]
            if (level >= 1) != want:
                c = (1 - level) if want else (0 - level)
                gates.append((s, c))
                level += c
        if best is None or len(gates) < len(best[2]):
            best = (a, b, gates)
    assert best is not None
    a, b, gates = best
    circuit = ThresholdCircuit(inputs)
    out: list[tuple[str, float]] = [(v, a) for v in variables] if a else []
    for k, c in gates:
        out.append((circuit.gate(f"h[{len(circuit.gates)}]", [(v, 1) for v in variables], k), c))
    # Fires when b + (weighted sum) >= 1.
    circuit.output("y", circuit.gate("y", out, 1 - b))
    return circuit


def synthesize(expr: Any, variables: Sequence[sympy.Symbol] | None = None) -> Synthesis:
    """Compile a Boolean expression into threshold gates; see the module docstring.

    ``expr`` is a sympy Boolean or text (:func:`parse_boolean`); ``variables``
    fixes the input ports (default: the free symbols, sorted by name). Every
    variable becomes an input port of the circuit, named as the variable,
    even when the function does not depend on it.
    """
    if isinstance(expr, str):
        expr = parse_boolean(expr)
    if variables is None:
        variables = sorted(expr.free_symbols, key=lambda v: v.name)
    variables = tuple(variables)
    missing = expr.free_symbols - set(variables)
    if missing:
        raise BooleanError(f"variables {sorted(str(m) for m in missing)} are not inputs")
    n = len(variables)
    if n > MAX_VARIABLES:
        raise BooleanError(
            f"a Boolean expression may use at most {MAX_VARIABLES} variables, got {n};"
            " split it into several gates")
    names = {v: v.name for v in variables}
    inputs: dict[str, int | None] = {v.name: None for v in variables}
    try:
        table = truth_table(expr, variables)
    except RecursionError:
        raise BooleanError(f"the Boolean expression nests too deeply (parse_boolean allows {MAX_DEPTH}"
                           " levels)") from None
    if table.all() or not table.any():
        circuit = ThresholdCircuit(inputs)
        circuit.output("y", circuit.gate("y", [], 0 if table.all() else 1))
        return Synthesis(circuit, "constant", variables, sympy.true if table.all() else sympy.false)
    minterms = [list(map(int, bits)) for bits, val in zip(_columns(n), table, strict=True) if val]
    sop = boolalg.SOPform(list(variables), minterms)
    found = threshold_weights(table)
    if found is not None:
        weights, theta = found
        circuit = ThresholdCircuit(inputs)
        circuit.output("y", circuit.gate("y", [(names[v], w) for v, w in zip(variables, weights,
                                                                             strict=True)], theta))
        return Synthesis(circuit, "threshold", variables, sop)
    candidates: list[tuple[int, int, str, ThresholdCircuit]] = []
    sop_terms = list(sop.args) if isinstance(sop, boolalg.Or) else [sop]
    pos = boolalg.POSform(list(variables), minterms)
    pos_terms = list(pos.args) if isinstance(pos, boolalg.And) else [pos]
    for form, circuit in (("sop", _two_level(sop_terms, names, False, inputs)),
                          ("pos", _two_level(pos_terms, names, True, inputs))):
        candidates.append((circuit.num_gates, circuit.num_synapses, form, circuit))
    profile = _symmetric_profile(table, n)
    if profile is not None:
        circuit = _counting(profile, [names[v] for v in variables], inputs)
        candidates.append((circuit.num_gates, circuit.num_synapses, "symmetric", circuit))
    _, _, form, circuit = min(candidates, key=lambda c: (c[0], c[1]))
    return Synthesis(circuit, form, variables, sop)


def all_threshold_functions(n: int) -> list[int]:
    """Truth tables (as integers, bit r = f(row r)) of every threshold function of
    ``n <= 3`` variables; for tests and tables."""
    out = []
    for code in range(1 << (1 << n)):
        table = np.array([(code >> r) & 1 for r in range(1 << n)], dtype=bool)
        if threshold_weights(table) is not None:
            out.append(code)
    return out

