"""Ceilings that stop a runaway program before it exhausts memory or time.

Elaboration counts neurons, synapses and work (statements run plus loop
iterations) and refuses, *before allocating*, anything that would pass a
:class:`Limits` ceiling. A loop is also checked as a whole before its first
iteration, against a lower bound of what it will make (:func:`lower_bound`),
so ``for i in 0..10**6 { for j in 0..10**6 { x[i] -> y[j] } }`` fails at
once instead of after minutes; a library circuit is checked against its size
formula before any of it is built (:meth:`Budget.check`). Counts too long to
print (a loop bound of thousands of digits) are given by their number of
digits.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from spikec.dsl import syntax as s
from spikec.dsl.expressions import as_bool, as_int, evaluate
from spikec.dsl.values import GeneratorCircuit, Neurons, Scope, SpkCircuit, digit_count
from spikec.errors import ElaborationError, LimitError, SourceLocation
from spikec.ir.limits import DEFAULT_MAX_NEURONS, DEFAULT_MAX_SYNAPSES
from spikec.ir.limits import env_count as _env_count

__all__ = ["Limits", "Budget", "lower_bound", "count_text", "expr_names", "InstanceEstimates",
           "INSTANCE_WORK"]

#: Units of work one instantiation counts (see Limits.max_work), besides its statements.
INSTANCE_WORK = 20

_ENV = {
    "max_neurons": "SPIKEC_MAX_NEURONS",
    "max_synapses": "SPIKEC_MAX_SYNAPSES",
    "max_depth": "SPIKEC_MAX_DEPTH",
    "max_work": "SPIKEC_MAX_WORK",
    "max_source_bytes": "SPIKEC_MAX_SOURCE_BYTES",
}


@dataclass(frozen=True, slots=True)
class Limits:
    """The ceilings of one elaboration.

    The defaults keep a network within about 4 GiB: in the array IR
    (``Network.nbytes``) a neuron of an array costs about 75 bytes (up to
    200 with a name of its own) and a synapse 28, so 20 million neurons
    (1.5 GB) and 64 million synapses (1.8 GB) leave room for the columns'
    spare capacity and the elaborator's temporaries. That admits
    ``matmul_ge<256>`` (17.0 million neurons, 50.3 million synapses) and
    ``matmul<101>`` (61.8 million synapses). Each can be raised with an
    environment variable: ``SPIKEC_MAX_NEURONS``, ``SPIKEC_MAX_SYNAPSES``,
    ``SPIKEC_MAX_DEPTH`` (circuit instances nested in one another) and
    ``SPIKEC_MAX_WORK`` (statements run plus loop iterations, which bounds
    the time: the statements that cannot run as arrays cost a few
    microseconds each). ``SPIKEC_MAX_SOURCE_BYTES`` (64 MiB) bounds each
    source file read (the main file and every import), checked before it is
    read.
    """

    max_neurons: int = DEFAULT_MAX_NEURONS
    max_synapses: int = DEFAULT_MAX_SYNAPSES
    max_depth: int = 100
    max_work: int = 20_000_000
    max_source_bytes: int = 64 * 2**20

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Limits:
        """The defaults, overridden by any ``SPIKEC_MAX_*`` environment variable."""
        env = os.environ if environ is None else environ
        values: dict[str, int] = {}
        for field, var in _ENV.items():
            text = env.get(var)
            if text is None or not text.strip():
                continue
            values[field] = _env_count(var, text)
        return cls(**values)


def _hint(field: str) -> str:
    return f"set {_ENV[field]} to raise the limit"


#: Counts with more digits than this are shown by their number of digits.
_SHOWN_DIGITS = 30


def count_text(n: int) -> str:
    """``1,204`` for a count in a message, or ``a 4,301-digit number`` for one too long to
    print (Python refuses to turn integers of more than 4,300 digits into text)."""
    if n < 10**_SHOWN_DIGITS:
        return f"{n:,}"
    return f"a {digit_count(n):,}-digit number of"


class Budget:
    """Running counts of one elaboration, checked against its :class:`Limits`."""

    __slots__ = ("limits", "neurons", "synapses", "work")

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.neurons = 0
        self.synapses = 0
        self.work = 0

    def add_neurons(self, n: int, what: str, loc: SourceLocation) -> None:
        """Count ``n`` new neurons, or refuse if that passes the limit."""
        limit = self.limits.max_neurons
        if self.neurons + n > limit:
            raise LimitError(
                f"{what}: {count_text(self.neurons + n)} neurons in all would pass the limit of"
                f" {limit:,} ({_hint('max_neurons')})",
                loc,
            )
        self.neurons += n

    def add_synapses(self, n: int, what: str, loc: SourceLocation) -> None:
        """Count ``n`` new synapses, or refuse if that passes the limit."""
        limit = self.limits.max_synapses
        if self.synapses + n > limit:
            raise LimitError(
                f"{what}: {count_text(self.synapses + n)} synapses in all would pass the limit of"
                f" {limit:,} ({_hint('max_synapses')})",
                loc,
            )
        self.synapses += n

    def check(self, neurons: int, synapses: int, what: str, loc: SourceLocation) -> None:
        """Refuse, before it is built, something of ``neurons`` neurons and ``synapses``
        synapses that would pass a limit; counts nothing (its parts are counted as they
        are added)."""
        size = f"{what} has {count_text(neurons)} neurons and {count_text(synapses)} synapses"
        for total, limit, field, kind in (
                (self.neurons + neurons, self.limits.max_neurons, "max_neurons", "neurons"),
                (self.synapses + synapses, self.limits.max_synapses, "max_synapses", "synapses")):
            if total > limit:
                raise LimitError(
                    f"{size}: {count_text(total)} {kind} in all would pass the limit of"
                    f" {limit:,} ({_hint(field)})",
                    loc,
                )

    def tick(self, n: int, loc: SourceLocation) -> None:
        """Count ``n`` units of work (statements, loop iterations)."""
        self.work += n
        if self.work > self.limits.max_work:
            raise LimitError(
                f"elaboration passed {self.limits.max_work:,} steps (statements run plus loop"
                f" iterations): is a loop or a recursion far larger than intended?"
                f" ({_hint('max_work')})",
                loc,
            )

    def check_instance(self, bound: tuple[int, int, int], what: str, loc: SourceLocation) -> None:
        """Refuse an instance (``what``) whose lower bound of (neurons, synapses, work),
        nested instances included, passes a limit, before any of it is made."""
        neurons, synapses, work = bound
        for kind, total, limit, field in (
                ("neurons", self.neurons + neurons, self.limits.max_neurons, "max_neurons"),
                ("synapses", self.synapses + synapses, self.limits.max_synapses, "max_synapses")):
            if total > limit:
                raise LimitError(
                    f"{what} would bring the program to at least {count_text(total)} {kind},"
                    f" more than the limit of {limit:,} ({_hint(field)})", loc)
        if self.work + work > self.limits.max_work:
            raise LimitError(
                f"{what}: elaboration would have passed {self.limits.max_work:,} steps (statements"
                f" run plus loop iterations; it needs at least {count_text(self.work + work)}):"
                f" does a circuit instantiate itself more often than intended? ({_hint('max_work')})",
                loc)

    def check_loop(self, bound: tuple[int, int, int], loc: SourceLocation) -> None:
        """Refuse a loop whose lower bound of (neurons, synapses, work) passes a limit."""
        neurons, synapses, work = bound
        checks = (
            ("neurons", self.neurons + neurons, self.limits.max_neurons, "max_neurons"),
            ("synapses", self.synapses + synapses, self.limits.max_synapses, "max_synapses"),
            ("steps (statements run plus loop iterations)", self.work + work,
             self.limits.max_work, "max_work"),
        )
        for kind, total, limit, field in checks:
            if total > limit:
                raise LimitError(
                    f"this loop would bring the program to at least {count_text(total)} {kind},"
                    f" more than the limit of {limit:,} ({_hint(field)})",
                    loc,
                )


# ---- lower bounds of what statements make ------------------------------------------


def expr_names(expr: s.Expr) -> Iterable[str]:
    """Every name ``expr`` reads: references, the names in their indices, functions
    (walked with a stack of its own: a flat sum of thousands of terms is fine)."""
    stack: list[s.Expr] = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, s.Ref):
            yield node.name
            for acc in node.accessors:
                if isinstance(acc, s.Index):
                    stack.append(acc.index)
                elif isinstance(acc, s.Slice):
                    stack += (acc.start, acc.stop)
        elif isinstance(node, s.Binary):
            stack += (node.right, node.left)
        elif isinstance(node, s.Unary):
            stack.append(node.operand)
        elif isinstance(node, s.Call):
            yield node.func
            stack += (*(node.params or ()), *node.args)


def _known(expr: s.Expr, scope: Scope, shadow: set[str]) -> bool:
    return all(n not in shadow and scope.lookup(n) is not None for n in expr_names(expr))


def _int(expr: s.Expr, scope: Scope, shadow: set[str]) -> int | None:
    if not _known(expr, scope, shadow):
        return None
    try:
        return as_int(evaluate(expr, scope), "", expr.loc)
    except ElaborationError:
        return None


def _ref_size(ref: s.Ref, scope: Scope, shadow: set[str]) -> int:
    """How many neurons ``ref`` names at least (0 when unknown yet)."""
    if ref.name in shadow:
        return 0
    found = scope.lookup(ref.name)
    if found is None:
        return 0
    value = found[0]
    if not isinstance(value, Neurons):
        return 0
    if not ref.accessors:
        return len(value.idx)
    if len(ref.accessors) == 1 and value.array:
        acc = ref.accessors[0]
        if isinstance(acc, s.Index):
            return 1
        if isinstance(acc, s.Whole):
            return len(value.idx)
    return 0


def lower_bound(body: Iterable[s.Statement], scope: Scope, shadow: set[str] | None = None,
                instances: InstanceEstimates | None = None) -> tuple[int, int, int]:
    """At least how many (neurons, synapses, work units) running ``body`` in ``scope`` makes.

    Names in ``shadow`` (bound inside the body, or the loop variable) are
    treated as unknown; whatever is unknown counts as zero, so the result
    never overstates. ``instances`` estimates the circuit instances the body
    makes (else each counts only its own work).
    """
    shadow = set() if shadow is None else set(shadow)
    neurons = synapses = work = 0
    for stmt in body:
        work += 1
        if isinstance(stmt, (s.NeuronDecl, s.InputDecl)):
            size = 1 if stmt.size is None else _int(stmt.size, scope, shadow)
            neurons += max(size or 0, 0)
            shadow.add(stmt.name)
        elif isinstance(stmt, s.Connect):
            synapses += _ref_size(stmt.pre, scope, shadow) * _ref_size(stmt.post, scope, shadow)
        elif isinstance(stmt, s.For):
            start = _int(stmt.start, scope, shadow)
            stop = _int(stmt.stop, scope, shadow)
            if start is not None and stop is not None and stop > start:
                n = stop - start
                inner = lower_bound(stmt.body, scope, shadow | {stmt.var}, instances)
                neurons += n * inner[0]
                synapses += n * inner[1]
                work += n * (1 + inner[2])
        elif isinstance(stmt, s.If):
            cond = None
            if _known(stmt.cond, scope, shadow):
                try:
                    cond = as_bool(evaluate(stmt.cond, scope), "", stmt.cond.loc)
                except ElaborationError:
                    cond = None
            then = lower_bound(stmt.then, scope, shadow, instances)
            orelse = lower_bound(stmt.orelse, scope, shadow, instances)
            branch = then if cond is True else orelse if cond is False else tuple(
                map(min, then, orelse))
            neurons += branch[0]
            synapses += branch[1]
            work += branch[2]
        elif isinstance(stmt, (s.Let, s.KindDecl)):
            if isinstance(stmt, s.Let) and isinstance(stmt.value, s.Call) and instances is not None:
                made = instances.of_call(stmt.value, scope, shadow)
                neurons, synapses, work = neurons + made[0], synapses + made[1], work + made[2]
            shadow.add(stmt.name)
    return neurons, synapses, work


class InstanceEstimates:
    """Lower bounds of what instances of ``.spk`` circuits make, body and nested instances
    included, by circuit and parameter values (computed once each), so that a circuit
    that instantiates itself twice per level for 40 levels is refused at its first
    instance instead of after a trillion. Nesting past ``max_depth`` counts nothing (the
    instances would fail there anyway)."""

    def __init__(self, max_depth: int) -> None:
        self._max_depth = max_depth
        self._depth = 0
        self._memo: dict[tuple[int, tuple[tuple[type, object], ...]], tuple[int, int, int]] = {}

    def of(self, circuit: SpkCircuit, values: Sequence[object]) -> tuple[int, int, int]:
        """At least (neurons, synapses, work) of one instance of ``circuit`` with ``values``."""
        d = circuit.definition
        key = (id(d), tuple((type(v), v) for v in values))
        found = self._memo.get(key)
        if found is not None:
            return found
        if self._depth >= self._max_depth or len(values) != len(d.params):
            return 0, 0, INSTANCE_WORK
        self._memo[key] = (0, 0, INSTANCE_WORK)  # an instance within itself adds nothing more
        scope = Scope(circuit.module.scope)
        for param, value in zip(d.params, values, strict=True):
            scope.names[param.name] = (value, None)
        shadow: set[str] = set()
        for port in d.inputs:
            size = None if port.size is None else _int(port.size, scope, set())
            if port.size is not None and (size is None or not 0 <= size < 2**62):
                shadow.add(port.name)
            else:  # stands for the caller's neurons, which must have this size
                scope.names[port.name] = (Neurons(range(size or 1), size is not None, False,
                                                  port.name), None)
        self._depth += 1
        try:
            neurons, synapses, work = lower_bound(d.body, scope, shadow, self)
        except RecursionError:  # pragma: no cover - depth is bounded above
            neurons = synapses = work = 0
        finally:
            self._depth -= 1
        out = self._memo[key] = (neurons, synapses, work + INSTANCE_WORK)
        return out

    def of_call(self, call: s.Call, scope: Scope, shadow: set[str]) -> tuple[int, int, int]:
        """At least what ``let NAME = call`` makes when it instantiates a ``.spk`` circuit."""
        if call.func in shadow:
            return 0, 0, 0
        found = scope.lookup(call.func)
        if found is None or not isinstance(found[0], SpkCircuit):
            return (0, 0, INSTANCE_WORK) if found is not None and isinstance(
                found[0], GeneratorCircuit) else (0, 0, 0)
        values = []
        for param in call.params or ():
            if not _known(param, scope, shadow):
                return 0, 0, INSTANCE_WORK
            try:
                values.append(evaluate(param, scope))
            except ElaborationError:
                return 0, 0, 0
        return self.of(found[0], values)
