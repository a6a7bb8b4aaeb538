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

import numpy as np
import sympy

from spikec.dsl import syntax as s
from spikec.dsl.refs import resolve_neurons
from spikec.dsl.values import Neurons, Scope, index_array
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


def _target(el: Elaborator, stmt: s.Gate, scope: Scope) -> tuple[str, int | None]:
    """The output neuron's full name, and its index when it already exists."""
    ref = stmt.target
    if not ref.accessors and not _bound_in_frame(ref.name, scope):
        el.check_new_name(ref.name, scope, ref.loc)
        return scope.frame.prefix + ref.name, None
    group = resolve_neurons(ref, scope, "the target of 'gate'")
    if len(group.idx) != 1:
        raise ElaborationError(
            f"the target of 'gate' is one neuron, but '{group.label}' has {len(group.idx)};"
            " write one gate per element (gate y[i] = ... in a loop)", ref.loc)
    i = int(group.idx[0])
    if group.is_input:
        raise ElaborationError(f"'{group.label}' is an input; a gate cannot drive it", ref.loc)
    if el.has_synapses_into(i):
        raise ElaborationError(
            f"'{group.label}' already has incoming synapses; a gate defines a neuron that has"
            " none yet", ref.loc)
    return el.net.name_of(i), i


def _expression(expr: s.BoolExpr, scope: Scope, symbols: dict[int, sympy.Symbol]) -> object:
    if isinstance(expr, s.BoolConst):
        return sympy.true if expr.value else sympy.false
    if isinstance(expr, s.BoolNot):
        return sympy.Not(_expression(expr.operand, scope, symbols))
    if isinstance(expr, s.BoolOp):
        left = _expression(expr.left, scope, symbols)
        right = _expression(expr.right, scope, symbols)
        return _OPS[expr.op](left, right)
    group = resolve_neurons(expr.ref, scope, "a gate operand")
    if len(group.idx) != 1:
        raise ElaborationError(
            f"a gate operand is one neuron, but '{group.label}' has {len(group.idx)}", expr.loc)
    i = int(group.idx[0])
    if i not in symbols:
        symbols[i] = sympy.Symbol(f"v{len(symbols)}")
    return symbols[i]


def elaborate_gate(el: Elaborator, stmt: s.Gate, scope: Scope) -> None:
    """Run ``gate TARGET = expr``: synthesize and add the neurons."""
    symbols: dict[int, sympy.Symbol] = {}
    expr = _expression(stmt.expr, scope, symbols)
    target, existing = _target(el, stmt, scope)
    try:
        result = synthesize(expr, list(symbols.values()))
    except BooleanError as err:
        raise ElaborationError(err.message, stmt.loc) from None
    circuit = result.circuit
    circuit.align_outputs()
    layout = circuit.layout()
    full = {sym.name: i for i, sym in symbols.items()}
    hidden = [g for g in circuit.gates if g != "y"]
    el.budget.add_neurons(len(hidden) + (0 if existing is not None else 1), f"gate {target}", stmt.loc)
    el.budget.add_synapses(circuit.num_synapses, f"gate {target}", stmt.loc)
    net = el.net
    loc: SourceLocation = stmt.loc
    gates = circuit.gates
    if hidden:
        thetas = [gates[local].theta for local in hidden]
        made = net.add_named([f"{target}.{local}" for local in hidden], loc=loc,
                             **_gate_columns(thetas))
        full.update(zip(hidden, made.tolist(), strict=True))
    params = gate_params(gates["y"].theta)
    if existing is not None:
        net.update(target, **{"bias": 0.0, "reset": 0.0, "p": 1.0, "v0": 0.0, **params})
        full["y"] = existing
    else:
        net.neuron(target, **params, loc=loc)
        full["y"] = len(net) - 1
        i = full["y"]
        scope.names[stmt.target.name] = (
            Neurons(range(i, i + 1), False, False, stmt.target.name), stmt.target.loc)
    pre: list[int] = []
    post: list[int] = []
    weights: list[float] = []
    delays: list[int] = []
    for gate in gates.values():
        stage = layout.stages[gate.name]
        for source, weight in gate.inputs:
            pre.append(full[source])
            post.append(full[gate.name])
            weights.append(weight)
            delays.append(stage - layout.stages[source])
    if pre:
        before = net.num_synapses
        net.add_synapses(np.array(pre), np.array(post), np.array(weights, dtype=np.float64),
                         np.array(delays, dtype=np.int64), loc=loc)
        el.count_synapses_into(np.array(post), 1, before)


def _gate_columns(thetas: list[float]) -> dict[str, np.ndarray | float]:
    """The neuron parameters of memoryless gates with thresholds ``thetas`` (as
    :func:`gate_params`, one value per gate)."""
    theta = np.asarray(thetas, dtype=np.float64)
    low = theta < 1
    return {"threshold": np.where(low, 1.0, theta), "decay": 1.0, "bias": np.where(low, 1.0 - theta, 0.0)}


def elaborate_balance(el: Elaborator, stmt: s.Balance, scope: Scope) -> None:
    """Run ``balance A, B, ...``."""
    names: list[str] = []
    for ref in stmt.refs:
        group = resolve_neurons(ref, scope, "a neuron to balance", internals=True)
        names.extend(el.net.names(index_array(group.idx)))
    try:
        balance(el.net, names)
    except PipelineError as err:
        raise ElaborationError(f"balance: {err.message}", stmt.loc) from None
