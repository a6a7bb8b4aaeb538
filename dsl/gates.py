"""The ``gate`` and ``balance`` statements.

``gate y = (a & b) | ~c`` reads each operand as a Boolean variable (did
that neuron spike for this input word?), synthesizes the expression with
:func:`spikec.synth.boolean.synthesize` (one threshold neuron when the function
is a threshold function, else two levels) and adds the neurons: ``y``
itself, and any first-level gates as ``y.h[0]``, ``y.h[1]``, ... ``y`` may
be a new name (declared here) or an existing, still unconnected, neuron of
this frame, such as an element ``s[i]`` of an array declared before a loop.

``balance A, B, ...`` pads synaptic delays (:func:`spikec.synth.balance.balance`)
so that every path from the inputs to the named neurons has one length.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sympy

from spikec.dsl import syntax as s
from spikec.dsl.refs import resolve_neurons
from spikec.dsl.values import Neurons, Scope
from spikec.errors import ElaborationError, SourceLocation
from spikec.synth.balance import PipelineError, balance
from spikec.synth.boolean import BooleanError, synthesize
from spikec.synth.threshold import gate_params

if TYPE_CHECKING:
    from spikec.dsl.elaborate import Elaborator

__all__ = ["elaborate_gate", "elaborate_balance"]

_OPS = {"&": sympy.And, "|": sympy.Or, "^": sympy.Xor, "->": sympy.Implies}


def _bound_in_frame(name: str, scope: Scope) -> bool:
    """Is ``name`` bound in ``scope`` or an enclosing block of the same frame?"""
    here: Scope | None = scope
    while here is not None and here.frame is scope.frame:
        if name in here.names:
            return True
        here = here.parent
    return False


def _target(el: Elaborator, stmt: s.Gate, scope: Scope) -> tuple[str, bool]:
    """The output neuron's full name, and whether it already exists."""
    ref = stmt.target
    if not ref.accessors and not _bound_in_frame(ref.name, scope):
        el.check_new_name(ref.name, scope, ref.loc)
        return scope.frame.prefix + ref.name, False
    group = resolve_neurons(ref, scope, "the target of 'gate'")
    if len(group.names) != 1:
        raise ElaborationError(
            f"the target of 'gate' is one neuron, but '{group.label}' has {len(group.names)};"
            " write one gate per element (gate y[i] = ... in a loop)", ref.loc)
    name = group.names[0]
    if group.is_input:
        raise ElaborationError(f"'{group.label}' is an input; a gate cannot drive it", ref.loc)
    if el.net.graph.in_degree(name):
        raise ElaborationError(
            f"'{group.label}' already has incoming synapses; a gate defines a neuron that has"
            " none yet", ref.loc)
    return name, True


def _expression(expr: s.BoolExpr, scope: Scope, symbols: dict[str, sympy.Symbol]) -> object:
    if isinstance(expr, s.BoolConst):
        return sympy.true if expr.value else sympy.false
    if isinstance(expr, s.BoolNot):
        return sympy.Not(_expression(expr.operand, scope, symbols))
    if isinstance(expr, s.BoolOp):
        left = _expression(expr.left, scope, symbols)
        right = _expression(expr.right, scope, symbols)
        return _OPS[expr.op](left, right)
    group = resolve_neurons(expr.ref, scope, "a gate operand")
    if len(group.names) != 1:
        raise ElaborationError(
            f"a gate operand is one neuron, but '{group.label}' has {len(group.names)}", expr.loc)
    name = group.names[0]
    if name not in symbols:
        symbols[name] = sympy.Symbol(f"v{len(symbols)}")
    return symbols[name]


def elaborate_gate(el: Elaborator, stmt: s.Gate, scope: Scope) -> None:
    """Run ``gate TARGET = expr``: synthesize and add the neurons."""
    symbols: dict[str, sympy.Symbol] = {}
    expr = _expression(stmt.expr, scope, symbols)
    target, exists = _target(el, stmt, scope)
    try:
        result = synthesize(expr, list(symbols.values()))
    except BooleanError as err:
        raise ElaborationError(err.message, stmt.loc) from None
    circuit = result.circuit
    circuit.align_outputs()
    layout = circuit.layout()
    full = {sym.name: name for name, sym in symbols.items()}
    hidden = [g for g in circuit.gates if g != "y"]
    el.budget.add_neurons(len(hidden) + (0 if exists else 1), f"gate {target}", stmt.loc)
    el.budget.add_synapses(circuit.num_synapses, f"gate {target}", stmt.loc)
    net = el.net
    loc: SourceLocation = stmt.loc
    for local in hidden:
        full[local] = net.neuron(f"{target}.{local}", **gate_params(circuit.gates[local].theta),
                                 loc=loc)
    params = gate_params(circuit.gates["y"].theta)
    if exists:
        net.update(target, **{"bias": 0.0, "reset": 0.0, "p": 1.0, "v0": 0.0, **params})
    else:
        net.neuron(target, **params, loc=loc)
        scope.names[stmt.target.name] = (
            Neurons((target,), False, False, stmt.target.name), stmt.target.loc)
    full["y"] = target
    for gate in circuit.gates.values():
        stage = layout.stages[gate.name]
        for source, weight in gate.inputs:
            net.synapse(full[source], full[gate.name], weight, stage - layout.stages[source], loc=loc)


def elaborate_balance(el: Elaborator, stmt: s.Balance, scope: Scope) -> None:
    """Run ``balance A, B, ...``."""
    names: list[str] = []
    for ref in stmt.refs:
        names.extend(resolve_neurons(ref, scope, "a neuron to balance", internals=True).names)
    try:
        balance(el.net, names)
    except PipelineError as err:
        raise ElaborationError(f"balance: {err.message}", stmt.loc) from None
