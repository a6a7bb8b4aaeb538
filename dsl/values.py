"""What names stand for during elaboration, and the scopes that hold them.

A name is bound to a compile-time number or boolean, to :class:`Neurons`
(one neuron or an array, possibly a slice of one), to a circuit
:class:`Instance` (or an :class:`InstanceArray` of them), to a
:class:`Kind` (a named parameter set) or to a circuit (:class:`SpkCircuit`,
or any :class:`GeneratorCircuit` written in Python).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, runtime_checkable

from spikec.dsl import syntax as s
from spikec.errors import SourceLocation
from spikec.ir.builder import CircuitBuilder

if TYPE_CHECKING:
    from spikec.dsl.modules import Module

__all__ = [
    "Number", "Neurons", "Instance", "InstanceArray", "Kind", "SpkCircuit", "GeneratorCircuit",
    "CircuitBuilder", "Value", "Scope", "Frame", "describe", "format_number",
]

Number = int | float | bool


class Neurons(NamedTuple):
    """A group of neurons named by a reference: one neuron, an array or a slice.

    ``array`` is False for a single neuron (``neuron y``, or one element
    ``x[2]``) and True for an array or a slice, even of length one, which
    can still be indexed. ``label`` is how messages and probes call the
    group (``x``, ``x[2]``, ``h.sum``). (A named tuple rather than a frozen
    dataclass: one is built per element reference in loops, and tuples are
    cheaper to build.)
    """

    names: tuple[str, ...]
    array: bool
    is_input: bool
    label: str


@dataclass(slots=True)
class Instance:
    """A circuit instance: its outputs by name, and its body scope (for probes)."""

    path: str
    circuit: str
    outputs: dict[str, Neurons]
    scope: Scope | None = None

    def sole_output(self) -> Neurons | None:
        """The output when the circuit has exactly one, else None."""
        if len(self.outputs) == 1:
            return next(iter(self.outputs.values()))
        return None


@dataclass(slots=True)
class InstanceArray:
    """Instances bound with ``let NAME[i] = circuit(...)``, by index."""

    name: str
    items: dict[int, Instance] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Kind:
    """``kind NAME (...)``: defaults for the neurons declared as ``NAME y (...)``."""

    name: str
    params: Mapping[str, float]
    loc: SourceLocation


@dataclass(frozen=True, slots=True)
class SpkCircuit:
    """A circuit written in ``.spk``; its body runs in the scope of its own file."""

    definition: s.CircuitDef
    module: Module

    @property
    def name(self) -> str:
        """The circuit's name."""
        return self.definition.name


@runtime_checkable
class GeneratorCircuit(Protocol):
    """A circuit written in Python (a model importer, a library generator).

    ``inputs`` lists each input's name and size (``None``: one neuron; a
    callable computes the size from the parameter values); an optional
    ``array_outputs`` names outputs that are arrays even when they hold one
    neuron. ``build`` receives the parameter values and the full names of the
    neurons passed for each input, adds its neurons through ``builder`` and
    returns the full names of each output's neurons (a list, even for one).
    """

    name: str
    params: Sequence[str]
    inputs: Sequence[tuple[str, int | None | Callable[[Mapping[str, Number]], int | None]]]
    outputs: Sequence[str]

    def build(
        self,
        builder: CircuitBuilder,
        params: Mapping[str, Number],
        inputs: Mapping[str, Sequence[str]],
    ) -> Mapping[str, Sequence[str]]:
        """Add the circuit's neurons and synapses; return its outputs' neuron names."""
        ...


Value = Number | Neurons | Instance | InstanceArray | Kind | SpkCircuit | GeneratorCircuit


@dataclass(slots=True)
class Frame:
    """One elaboration frame: the file's top level or one circuit instance.

    ``prefix`` is prepended to the names of neurons declared in it
    (``""`` or ``"u."``); ``scope`` is its outermost scope, where
    ``let NAME[i] = ...`` collects instances made in nested blocks.
    """

    prefix: str
    module: Module
    scope: Scope = field(init=False)


class Scope:
    """Names bound in one block, chained to the enclosing block's scope."""

    __slots__ = ("names", "parent", "frame")

    def __init__(self, parent: Scope | None, frame: Frame | None = None) -> None:
        self.names: dict[str, tuple[Value, SourceLocation | None]] = {}
        self.parent = parent
        self.frame: Frame = frame if frame is not None else parent.frame  # type: ignore[union-attr]

    def lookup(self, name: str) -> tuple[Value, SourceLocation | None] | None:
        """The binding of ``name`` here or in an enclosing scope, or None."""
        scope: Scope | None = self
        while scope is not None:
            found = scope.names.get(name)
            if found is not None:
                return found
            scope = scope.parent
        return None

    def visible_of(self, *kinds: type) -> list[str]:
        """The visible names bound to a value of one of ``kinds`` (for "did you mean")."""
        out = []
        for name in dict.fromkeys(self.visible()):
            found = self.lookup(name)
            if found is not None and isinstance(found[0], kinds):
                out.append(name)
        return out

    def visible(self) -> list[str]:
        """Every name visible here (for "did you mean")."""
        out: list[str] = []
        scope: Scope | None = self
        while scope is not None:
            out.extend(scope.names)
            scope = scope.parent
        return out


def format_number(value: Number) -> str:
    """A number as .spk would write it: ``true``, ``3``, ``0.25``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return f"{value:.1f}"
    return repr(value) if isinstance(value, float) else str(value)


_DESCRIBERS: dict[type, Callable[[Any], str]] = {
    Neurons: lambda v: (
        f"{len(v.names)} {'inputs' if v.is_input else 'neurons'} '{v.label}'" if v.array
        else f"{'input' if v.is_input else 'neuron'} '{v.label}'"
    ),
    Instance: lambda v: f"instance '{v.path}' of circuit {v.circuit}",
    InstanceArray: lambda v: f"array of instances '{v.name}'",
    Kind: lambda v: f"kind '{v.name}'",
    SpkCircuit: lambda v: f"circuit '{v.name}'",
}


def describe(value: Value) -> str:
    """Words for a value in messages: ``the number 3``, ``neuron 'y'``, ``circuit 'kofn'``."""
    if isinstance(value, (bool, int, float)):
        kind = "boolean" if isinstance(value, bool) else "number"
        return f"the {kind} {format_number(value)}"
    if isinstance(value, str):
        return f"the text {value!r}"
    describer = _DESCRIBERS.get(type(value))
    if describer is not None:
        return describer(value)
    if isinstance(value, GeneratorCircuit):
        return f"circuit '{value.name}'"
    return repr(value)
