"""What names stand for during elaboration, and the scopes that hold them.

A name is bound to a compile-time number or boolean, to :class:`Neurons`
(one neuron or an array, possibly a slice of one), to a circuit
:class:`Instance` (or an :class:`InstanceArray` of them), to a
:class:`Kind` (a named parameter set) or to a circuit (:class:`SpkCircuit`,
or any :class:`GeneratorCircuit` written in Python).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, overload, runtime_checkable

import numpy as np

from spikec.dsl import syntax as s
from spikec.errors import SourceLocation
from spikec.ir.builder import CircuitBuilder

if TYPE_CHECKING:
    from spikec.dsl.modules import Module
    from spikec.ir.network import Network

__all__ = [
    "Number", "Neurons", "Indices", "index_array", "join_indices", "NeuronNames", "Instance",
    "InstanceArray", "Kind", "SpkCircuit", "GeneratorCircuit",
    "CircuitBuilder", "Value", "Scope", "Frame", "describe", "format_number", "int_text",
    "digit_count", "group_key",
]

Number = int | float | bool


#: Network indices of a group of neurons, in order: a range for an array or a slice of
#: one, an int64 array otherwise (the outputs of a Python circuit, several refs).
Indices = range | np.ndarray


class Neurons(NamedTuple):
    """A group of neurons named by a reference: one neuron, an array or a slice.

    ``idx`` holds the neurons' indices in the network (a ``range`` for
    arrays and their slices, so naming ``x[2..9]`` costs nothing); names
    are made from it only where text is needed (probes, messages).
    ``array`` is False for a single neuron (``neuron y``, or one element
    ``x[2]``) and True for an array or a slice, even of length one, which
    can still be indexed. ``label`` is how messages and probes call the
    group (``x``, ``x[2]``, ``h.sum``). (A named tuple rather than a frozen
    dataclass: one is built per element reference in loops, and tuples are
    cheaper to build.)
    """

    idx: Indices
    array: bool
    is_input: bool
    label: str

    @property
    def size(self) -> int:
        """How many neurons the group holds."""
        return len(self.idx)


def index_array(idx: Indices) -> np.ndarray:
    """``idx`` as an int64 array."""
    if isinstance(idx, range):
        return np.arange(idx.start, idx.stop, idx.step, dtype=np.int64)
    return np.asarray(idx, dtype=np.int64)


def join_indices(parts: Sequence[Indices]) -> Indices:
    """The groups ``parts`` one after another: a range when they are consecutive ranges."""
    if len(parts) == 1:
        return parts[0]
    ranges = [p for p in parts if isinstance(p, range) and p.step == 1 and len(p)]
    if len(ranges) == sum(1 for p in parts if len(p)):  # only consecutive ranges?
        if all(a.stop == b.start for a, b in zip(ranges, ranges[1:], strict=False)):
            return range(ranges[0].start, ranges[-1].stop) if ranges else range(0)
    return np.concatenate([index_array(p) for p in parts])


def group_key(idx: Indices) -> tuple[int, int] | bytes:
    """A hashable key of a group of neurons: the same neurons in the same order give the
    same key, whether held as a range or as an array."""
    arr = index_array(idx)
    if len(arr) and np.array_equal(arr, np.arange(arr[0], arr[0] + len(arr))):
        return int(arr[0]), len(arr)
    return arr.tobytes()


class NeuronNames(Sequence[str]):
    """The full names of a group of neurons, made on demand (what a Python circuit
    receives for each of its inputs); ``idx`` gives their network indices."""

    __slots__ = ("_net", "idx")

    def __init__(self, net: Network, idx: Indices) -> None:
        self._net = net
        self.idx = idx

    def __len__(self) -> int:
        return len(self.idx)

    @overload
    def __getitem__(self, i: int) -> str: ...

    @overload
    def __getitem__(self, i: slice) -> list[str]: ...

    def __getitem__(self, i: int | slice) -> str | list[str]:
        if isinstance(i, slice):
            return self._net.names(index_array(self.idx)[i])
        return self._net.name_of(int(self.idx[i]))

    def __iter__(self) -> Iterator[str]:
        return iter(self._net.names(index_array(self.idx)))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (list, tuple, NeuronNames)):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"NeuronNames({list(self)!r})" if len(self) <= 8 else f"<NeuronNames of {len(self)} neurons>"


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
    neurons passed for each input (a :class:`NeuronNames`: a sequence of
    names whose ``idx`` gives the network indices), adds its neurons through
    ``builder`` and returns each output's neurons: their full names (a list,
    even for one) or their network indices (an integer array or a range).
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
    ) -> Mapping[str, Sequence[str] | np.ndarray | range]:
        """Add the circuit's neurons and synapses; return its outputs' neurons."""
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
    """A number as .spk would write it: ``true``, ``3``, ``0.25`` (an integer too long to
    print as ``a 1,234-digit number``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return f"{value:.1f}"
    return repr(value) if isinstance(value, float) else int_text(value)


#: Integers with more digits than this are given in messages by their number of digits.
_SHOWN_DIGITS = 30


def digit_count(n: int) -> int:
    """How many decimal digits ``abs(n)`` has, without turning it into text (Python refuses
    to for more than 4,300 digits)."""
    n = abs(n)
    low = max(int(n.bit_length() * 0.30102999566398120) - 1, 0)  # log10(2), rounded down
    while 10 ** (low + 1) <= n:
        low += 1
    return low + 1


def int_text(n: int) -> str:
    """``n`` as text for a message, or ``a 4,301-digit number`` when it is too long."""
    if abs(n) < 10**_SHOWN_DIGITS:
        return str(n)
    return f"{'minus ' if n < 0 else ''}a {digit_count(n):,}-digit number"


_DESCRIBERS: dict[type, Callable[[Any], str]] = {
    Neurons: lambda v: (
        f"{len(v.idx)} {'inputs' if v.is_input else 'neurons'} '{v.label}'" if v.array
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
