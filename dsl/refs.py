"""Resolving references: ``x``, ``x[i]``, ``x[*]``, ``x[a..b]``, ``u.port``, ``bit[3].carry``.

:func:`resolve` applies a reference's accessors to what its name is bound
to and returns the value together with its canonical text (indices
evaluated: ``x[2]``, ``h.sum``), which probes use as their label.
"""

from __future__ import annotations

from spikec.dsl import syntax as s
from spikec.dsl.expressions import as_int, evaluate
from spikec.dsl.values import Indices, Instance, InstanceArray, Neurons, Scope, Value, describe, int_text
from spikec.errors import ElaborationError, SourceLocation, did_you_mean

__all__ = ["resolve", "resolve_neurons", "lookup"]


def lookup(name: str, scope: Scope, loc: SourceLocation) -> Value:
    """The value bound to ``name``, or an "unknown name" error with a suggestion."""
    found = scope.lookup(name)
    if found is None:
        raise ElaborationError(f"unknown name '{name}'{did_you_mean(name, scope.visible())}", loc)
    return found[0]


def _output(value: Instance, label: str, acc: s.Attr, internals: bool) -> Value:
    out: Value | None = value.outputs.get(acc.name)
    if out is None and internals and value.scope is not None:
        found = value.scope.names.get(acc.name)
        out = found[0] if found is not None else None
    if out is None:
        names = list(value.outputs)
        listed = ", ".join(names) if names else "none"
        raise ElaborationError(
            f"instance '{label}' of circuit {value.circuit} has no output '{acc.name}'"
            f"{did_you_mean(acc.name, names)}; its outputs: {listed}",
            acc.loc,
        )
    return out


def _element(value: Value, label: str, acc: s.Index | s.Slice | s.Whole,
             scope: Scope) -> tuple[Value, str]:
    if isinstance(value, InstanceArray) and isinstance(acc, s.Index):
        i = as_int(evaluate(acc.index, scope), "an index", acc.index.loc)
        item = value.items.get(i)
        if item is None:
            bound = ", ".join(str(k) for k in sorted(value.items)) or "none yet"
            raise ElaborationError(
                f"'{label}[{int_text(i)}]' is not bound; indices bound so far: {bound}", acc.loc
            )
        return item, f"{label}[{i}]"
    if isinstance(value, Instance):
        sole = value.sole_output()
        if sole is None:
            raise ElaborationError(
                f"instance '{label}' has {len(value.outputs)} outputs"
                f" ({', '.join(value.outputs)}); name one, as in {label}.NAME[...]",
                acc.loc,
            )
        value = sole
    if not isinstance(value, Neurons) or not value.array:
        what = "a single neuron" if isinstance(value, Neurons) else describe(value)
        raise ElaborationError(f"'{label}' is {what}, not an array; it cannot be indexed",
                               acc.loc)
    n = len(value.idx)
    if isinstance(acc, s.Whole):
        return value, f"{label}[*]"
    if isinstance(acc, s.Index):
        i = as_int(evaluate(acc.index, scope), "an index", acc.index.loc)
        if not 0 <= i < n:
            raise ElaborationError(
                f"index {int_text(i)} is out of range for '{label}', which has {n} neurons"
                + (f" ({label}[0] to {label}[{n - 1}])" if n else ""),
                acc.index.loc,
            )
        return Neurons(_element_of(value.idx, i), False, value.is_input, f"{label}[{i}]"), f"{label}[{i}]"
    a = as_int(evaluate(acc.start, scope), "a slice start", acc.start.loc)
    b = as_int(evaluate(acc.stop, scope), "a slice end", acc.stop.loc)
    text = f"{label}[{int_text(a)}..{int_text(b)}]"
    if not 0 <= a <= b <= n:
        why = "its start is after its end" if a > b else f"'{label}' has {n} neurons"
        raise ElaborationError(f"slice {text} is out of range: {why}", acc.loc)
    return Neurons(value.idx[a:b], True, value.is_input, text), text


def _element_of(idx: Indices, i: int) -> range:
    """Element ``i`` of a group, as a one-neuron range."""
    k = int(idx[i])
    return range(k, k + 1)


def resolve(ref: s.Ref, scope: Scope, *, internals: bool = False) -> tuple[Value, str]:
    """The value ``ref`` names, and its canonical text.

    ``internals=True`` (probes) also lets ``u.NAME`` reach any name bound in
    the body of instance ``u``, not only its outputs.
    """
    value = lookup(ref.name, scope, ref.loc)
    label = ref.name
    for acc in ref.accessors:
        if isinstance(acc, s.Attr):
            if isinstance(value, Instance):
                value = _output(value, label, acc, internals)
                label = f"{label}.{acc.name}"
                continue
            raise ElaborationError(
                f"'{label}' is {describe(value)}; only circuit instances have outputs"
                f" ('.{acc.name}')",
                acc.loc,
            )
        value, label = _element(value, label, acc, scope)
    return value, label


def resolve_neurons(ref: s.Ref, scope: Scope, what: str,
                    *, internals: bool = False) -> Neurons:
    """Resolve ``ref`` to neurons (an instance with one output stands for it).

    ``what`` names the role in messages ("the source of '->'", "a probe").
    """
    accessors = ref.accessors
    if len(accessors) < 2:
        # Fast path for `x` and `x[i]`, the bulk of connections made in loops;
        # anything unusual falls through to the general path and its messages.
        found = scope.lookup(ref.name)
        group = found[0] if found is not None else None
        if isinstance(group, Neurons):
            if not accessors:
                if group.label == ref.name:
                    return group
            elif group.array and isinstance(accessors[0], s.Index):
                i = evaluate(accessors[0].index, scope)
                if type(i) is int and 0 <= i < len(group.idx):
                    k = int(group.idx[i])
                    return Neurons(range(k, k + 1), False, group.is_input, f"{ref.name}[{i}]")
    value, label = resolve(ref, scope, internals=internals)
    if isinstance(value, Instance):
        sole = value.sole_output()
        if sole is None:
            outs = ", ".join(f"{label}.{o}" for o in value.outputs) or "none"
            raise ElaborationError(
                f"{what}: instance '{label}' of circuit {value.circuit} has"
                f" {len(value.outputs)} outputs; name one of: {outs}",
                ref.loc,
            )
        value = sole
    if not isinstance(value, Neurons):
        raise ElaborationError(f"{what} must be neurons, but '{label}' is {describe(value)}",
                               ref.loc)
    if value.label != label:
        value = Neurons(value.idx, value.array, value.is_input, label)
    return value
