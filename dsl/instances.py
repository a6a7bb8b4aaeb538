"""Circuit instantiation: ``let u = circuit<params>(inputs)``.

Arguments bind by reference: inside the body, an input name *is* the
caller's neurons (no relay neuron, no extra step). The body runs in a
fresh scope whose parent is the scope of the circuit's own file, and the
neurons it declares are named under the instance (``u.carry``,
``outer.inner.y``). Circuits written in Python (:class:`GeneratorCircuit`,
model importers) are instantiated through a small builder with the same
naming and limits.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from spikec.dsl import syntax as s
from spikec.dsl.expressions import as_int, evaluate
from spikec.dsl.limits import INSTANCE_WORK
from spikec.dsl.refs import resolve_neurons
from spikec.dsl.values import (
    Frame,
    GeneratorCircuit,
    Indices,
    Instance,
    NeuronNames,
    Neurons,
    Number,
    Scope,
    SpkCircuit,
    describe,
    index_array,
    int_text,
)
from spikec.errors import ElaborationError, LimitError, NetworkError, SourceLocation, SpikecError
from spikec.ir.builder import Builder

if TYPE_CHECKING:
    from spikec.dsl.elaborate import Elaborator

__all__ = ["instantiate", "INSTANCE_WORK"]


def instantiate(el: Elaborator, circuit: SpkCircuit | GeneratorCircuit, call: s.Call,
                scope: Scope, name: str) -> Instance:
    """Make instance ``name`` of ``circuit`` as ``call`` asks, in the caller's ``scope``."""
    path = scope.frame.prefix + name
    if len(el.stack) >= el.limits.max_depth:
        names = el.stack if len(el.stack) <= 5 else [*el.stack[:3], "...", *el.stack[-2:]]
        chain = " -> ".join([*names, circuit.name])
        raise LimitError(
            f"circuit instances nested more than {el.limits.max_depth} deep ({chain}):"
            " does a circuit instantiate itself without a base case?"
            " (set SPIKEC_MAX_DEPTH to raise the limit)",
            call.loc,
        )
    el.budget.tick(INSTANCE_WORK, call.loc)
    cname = circuit.name
    param_names = ([p.name for p in circuit.definition.params]
                   if isinstance(circuit, SpkCircuit) else list(circuit.params))
    given = call.params or ()
    if len(given) != len(param_names):
        want = f"<{', '.join(param_names)}>" if param_names else "none"
        raise ElaborationError(
            f"circuit {cname} takes {len(param_names)} parameters ({want}), got {len(given)}",
            call.loc,
        )
    values = [evaluate(p, scope) for p in given]
    input_names = ([p.name for p in circuit.definition.inputs]
                   if isinstance(circuit, SpkCircuit) else [n for n, _ in circuit.inputs])
    if len(call.args) != len(input_names):
        raise ElaborationError(
            f"circuit {cname} takes {len(input_names)} inputs ({', '.join(input_names)}),"
            f" got {len(call.args)}",
            call.loc,
        )
    groups = [_argument(arg, scope, cname, i) for i, arg in enumerate(call.args)]
    if isinstance(circuit, SpkCircuit):
        # What the whole instance will make, nested instances included, before any of it.
        neurons, synapses, work = el.estimates.of(circuit, values)
        el.budget.check_instance((neurons, synapses, work - INSTANCE_WORK),
                                 f"instance '{path}' of circuit {cname}", call.loc)
    el.stack.append(cname)
    try:
        if isinstance(circuit, SpkCircuit):
            return _run_spk(el, circuit, call, path, values, groups)
        return _run_generator(el, circuit, call, path, values, groups)
    except SpikecError as err:
        # The innermost instance names itself (Python 3.11+ shows notes in tracebacks;
        # the message and location stay those of the offending line).
        if hasattr(err, "add_note") and not getattr(err, "__notes__", None):
            err.add_note(f"in instance '{path}' of circuit {cname}, made at {call.loc}")
        raise
    except RecursionError:  # SPIKEC_MAX_DEPTH set past what the stack can hold
        raise LimitError(
            f"circuit instances nested {len(el.stack)} deep need more stack than this compiler"
            " has; set SPIKEC_MAX_DEPTH lower to be stopped earlier", call.loc) from None
    finally:
        el.stack.pop()


def _argument(arg: s.Expr, scope: Scope, cname: str, i: int) -> Neurons:
    what = f"argument {i + 1} of {cname}"
    if not isinstance(arg, s.Ref):
        value = evaluate(arg, scope)
        raise ElaborationError(
            f"{what} must be neurons, got {describe(value)}; compile-time values go between"
            f" <...>, as in {cname}<...>(...)",
            arg.loc,
        )
    return resolve_neurons(arg, scope, what)


def _bind_input(port_name: str, size: int | None, group: Neurons, cname: str,
                loc: SourceLocation) -> Neurons:
    got = len(group.idx)
    if size is None:
        if got != 1:
            raise ElaborationError(
                f"input '{port_name}' of {cname} is one neuron, but got {got} neurons"
                f" ('{group.label}'); a circuit takes an array as {port_name}[n]",
                loc,
            )
        return Neurons(group.idx, False, group.is_input, port_name)
    if got != size:
        raise ElaborationError(
            f"input '{port_name}' of {cname} takes {int_text(size)} neurons ({port_name}[{int_text(size)}]),"
            f" got {got} ('{group.label}')",
            loc,
        )
    return Neurons(group.idx, True, group.is_input, port_name)


def _run_spk(el: Elaborator, circuit: SpkCircuit, call: s.Call, path: str,
             values: Sequence[Number], groups: Sequence[Neurons]) -> Instance:
    d = circuit.definition
    frame = Frame(path + ".", circuit.module)
    body = frame.scope = Scope(circuit.module.scope, frame)
    for param, value in zip(d.params, values, strict=True):
        el.check_new_name(param.name, body, param.loc)
        body.names[param.name] = (value, param.loc)
    for port, group, arg in zip(d.inputs, groups, call.args, strict=True):
        size = None
        if port.size is not None:
            size = as_int(evaluate(port.size, body), f"the size of input '{port.name}'",
                          port.size.loc)
        el.check_new_name(port.name, body, port.loc)
        body.names[port.name] = (_bind_input(port.name, size, group, d.name, arg.loc), port.loc)
    el.exec_block(d.body, body)
    outputs: dict[str, Neurons] = {}
    for port in d.outputs:
        found = body.names.get(port.name)
        if found is None:
            raise ElaborationError(
                f"circuit {d.name}: output '{port.name}' is not defined at the top level of"
                " its body",
                port.loc,
            )
        value = found[0]
        if isinstance(value, Instance) and value.sole_output() is not None:
            value = value.sole_output()
        if not isinstance(value, Neurons):
            raise ElaborationError(
                f"circuit {d.name}: output '{port.name}' must be neurons, but it is"
                f" {describe(value)}",
                port.loc,
            )
        if port.size is not None:
            size = as_int(evaluate(port.size, body), f"the size of output '{port.name}'",
                          port.size.loc)
            if len(value.idx) != size:
                raise ElaborationError(
                    f"circuit {d.name}: output '{port.name}' is declared with {int_text(size)} neurons"
                    f" but has {len(value.idx)}",
                    port.loc,
                )
        outputs[port.name] = value
    return Instance(path, d.name, outputs, body)


def _builder(el: Elaborator, path: str, loc: SourceLocation) -> Builder:
    """The builder a Python circuit instance ``path`` adds through: names under
    ``path.``, the instantiating statement's location, the elaboration budget."""
    return Builder(el.net, path + ".", loc=loc, budget=el.budget, on_probe=el.add_probe)


def _param_loc(message: str, params: Sequence[s.Param], default: SourceLocation) -> SourceLocation:
    """The location of the parameter an error message is about (its value), else ``default``."""
    for param in params:
        name = param.name
        if message.startswith((f"{name} ", f"{name}:", f"the {name} ")) or f"'{name}'" in message:
            return param.value.loc
    return default


def instantiate_keyword(el: Elaborator, circuit: Any, params: Mapping[str, Any],
                        given: Sequence[s.Param], path: str, loc: SourceLocation) -> Instance:
    """An instance of a keyword circuit (``diffusion heat (nx = 41, ...)``) named ``path``."""
    try:
        made: Mapping[str, Any] = circuit.build(_builder(el, path, loc), params, {})
    except SpikecError as err:
        if err.location is not None:
            raise
        raise ElaborationError(f"{circuit.name} {path}: {err.message}",
                               _param_loc(err.message, given, loc)) from None
    outputs: dict[str, Neurons] = {}
    for out in circuit.outputs:
        idx = _output_indices(el, made.get(out, ()))
        if idx is None:
            raise ElaborationError(f"{circuit.name} {path} did not build its output '{out}'", loc)
        outputs[out] = Neurons(idx, True, False, out)
    return Instance(path, circuit.name, outputs, None)


def _output_indices(el: Elaborator, made: Any) -> Indices | None:
    """The network indices of what a Python circuit returned for an output (full names,
    indices or a :class:`NeuronNames`), or None when they are not all neurons."""
    if isinstance(made, NeuronNames):
        return made.idx
    if isinstance(made, range) or (isinstance(made, np.ndarray) and made.dtype.kind in "iu"):
        idx = index_array(made)
        if len(idx) and (idx.min() < 0 or idx.max() >= len(el.net)):
            return None
        return made if isinstance(made, range) else idx
    names = list(made)
    if not all(isinstance(n, str) for n in names):
        return None
    try:
        return el.net.resolve(names) if names else np.zeros(0, dtype=np.int64)
    except NetworkError:
        return None


def _run_generator(el: Elaborator, circuit: GeneratorCircuit, call: s.Call, path: str,
                   values: Sequence[Number], groups: Sequence[Neurons]) -> Instance:
    inputs: dict[str, NeuronNames] = {}
    params = dict(zip(circuit.params, values, strict=True))
    for (port_name, size), group, arg in zip(circuit.inputs, groups, call.args, strict=True):
        try:
            # A size may depend on the parameters: size(params) -> int | None.
            wanted = size(params) if callable(size) else size
        except SpikecError as err:
            raise ElaborationError(f"circuit {circuit.name}: {err.message}", call.loc) from None
        bound = _bind_input(port_name, wanted, group, circuit.name, arg.loc)
        inputs[port_name] = NeuronNames(el.net, bound.idx)
    try:
        made: Mapping[str, Any] = circuit.build(_builder(el, path, call.loc), params, inputs)
    except SpikecError as err:
        if err.location is not None:
            raise
        raise ElaborationError(f"circuit {circuit.name}: {err.message}", call.loc) from None
    outputs: dict[str, Neurons] = {}
    for out in circuit.outputs:
        idx = _output_indices(el, made.get(out, ()))
        if idx is None or not len(idx):
            raise ElaborationError(
                f"circuit {circuit.name} did not build its output '{out}'", call.loc
            )
        array = len(idx) != 1 or out in getattr(circuit, "array_outputs", ())
        outputs[out] = Neurons(idx, array, False, out)
    return Instance(path, circuit.name, outputs, None)
