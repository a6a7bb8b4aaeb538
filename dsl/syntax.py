"""Syntax nodes of the ``.spk`` language, built by :mod:`spikec.dsl.parser`.

Every node is a small frozen dataclass carrying the
:class:`~spikec.errors.SourceLocation` of its first character (``loc``),
source line included, so any later error can point at it. The elaborator
shares that one object among all neurons and synapses a statement creates.
"""

from __future__ import annotations

from dataclasses import dataclass

from spikec.errors import SourceLocation

__all__ = [
    "Number", "Boolean", "Ref", "Attr", "Index", "Slice", "Whole", "Accessor", "Call", "Unary",
    "Binary", "Expr", "Name", "Param", "InputDecl", "NeuronDecl", "KindDecl", "Connect", "Let",
    "For", "If", "Port", "CircuitDef", "ImportFile", "ImportLib", "ImportModel", "StimAt",
    "StimCall", "Stimulus", "ProbeItem", "Probe", "BoolVar", "BoolConst", "BoolNot", "BoolOp",
    "BoolExpr", "Gate", "Balance", "Statement", "Program",
]


# ---- expressions ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Number:
    """An integer or real literal: ``8``, ``1_000``, ``0.25``, ``1e-3``."""

    value: int | float
    loc: SourceLocation


@dataclass(frozen=True, slots=True)
class Boolean:
    """``true`` or ``false``."""

    value: bool
    loc: SourceLocation


@dataclass(frozen=True, slots=True)
class Attr:
    """``.name`` after a reference: an instance's output (``u.carry``)."""

    name: str
    loc: SourceLocation


@dataclass(frozen=True, slots=True)
class Index:
    """``[expr]`` after a reference: one element."""

    index: Expr
    loc: SourceLocation


@dataclass(frozen=True, slots=True)
class Slice:
    """``[start..stop]`` after a reference: elements start..stop-1."""

    start: Expr
    stop: Expr
    loc: SourceLocation


@dataclass(frozen=True, slots=True)
class Whole:
    """``[*]`` after a reference: the whole array."""

    loc: SourceLocation


Accessor = Attr | Index | Slice | Whole


@dataclass(frozen=True, slots=True)
class Ref:
    """A name with accessors: ``x``, ``x[i]``, ``x[*]``, ``x[a..b]``, ``u.port[i]``."""

    name: str
    accessors: tuple[Accessor, ...]
    loc: SourceLocation


@dataclass(frozen=True, slots=True)
class Call:
    """``f(args)`` (a function or a circuit) or ``c<params>(args)`` (a circuit)."""

    func: str
    params: tuple[Expr, ...] | None
    args: tuple[Expr, ...]
    loc: SourceLocation


@dataclass(frozen=True, slots=True)
class Unary:
    """``-x``, ``+x`` or ``not x``."""

    op: str
    operand: Expr
    loc: SourceLocation


@dataclass(frozen=True, slots=True)
class Binary:
    """``left op right`` for arithmetic, comparison, ``and`` and ``or``."""

    op: str
    left: Expr
    right: Expr
    loc: SourceLocation


@dataclass(frozen=True, slots=True)
class String:
    """A text literal: ``"reflecting"`` (a parameter value of a keyword circuit)."""

    value: str
    loc: SourceLocation


Expr = Number | Boolean | String | Ref | Call | Unary | Binary


# ---- statements -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Name:
    """A bare name where one is declared (circuit parameters)."""

    name: str
    loc: SourceLocation


@dataclass(frozen=True, slots=True)
class Param:
    """``name = value`` in a parameter list; ``loc`` is the name's."""

    name: str
    value: Expr
    loc: SourceLocation


@dataclass(frozen=True, slots=True)
class InputDecl:
    """``input NAME`` or ``input NAME[size]``."""

    name: str
    size: Expr | None
    loc: SourceLocation
    name_loc: SourceLocation


@dataclass(frozen=True, slots=True)
class NeuronDecl:
    """``neuron NAME[size] (params)``, or ``KIND NAME[size] (params)`` when ``kind`` is set."""

    name: str
    size: Expr | None
    params: tuple[Param, ...]
    kind: str | None
    loc: SourceLocation
    name_loc: SourceLocation


@dataclass(frozen=True, slots=True)
class KindDecl:
    """``kind NAME (params)``: a named set of neuron parameter defaults."""

    name: str
    params: tuple[Param, ...]
    loc: SourceLocation
    name_loc: SourceLocation


@dataclass(frozen=True, slots=True)
class Connect:
    """``pre -> post (weight = w, delay = d)``."""

    pre: Ref
    post: Ref
    params: tuple[Param, ...]
    loc: SourceLocation


@dataclass(frozen=True, slots=True)
class Let:
    """``let NAME = expr`` or, for arrays of instances, ``let NAME[i] = circuit(...)``."""

    name: str
    index: Expr | None
    value: Expr
    loc: SourceLocation
    name_loc: SourceLocation


@dataclass(frozen=True, slots=True)
class For:
    """``for VAR in start..stop { body }`` (stop excluded)."""

    var: str
    start: Expr
    stop: Expr
    body: tuple[Statement, ...]
    loc: SourceLocation
    var_loc: SourceLocation


@dataclass(frozen=True, slots=True)
class If:
    """``if cond { then } else { orelse }`` (``else if`` nests an If in ``orelse``)."""

    cond: Expr
    then: tuple[Statement, ...]
    orelse: tuple[Statement, ...]
    loc: SourceLocation


@dataclass(frozen=True, slots=True)
class Port:
    """A circuit input or output: ``a`` or ``x[n]``."""

    name: str
    size: Expr | None
    loc: SourceLocation


@dataclass(frozen=True, slots=True)
class CircuitDef:
    """``circuit NAME<params>(inputs) -> (outputs) { body }``."""

    name: str
    params: tuple[Name, ...]
    inputs: tuple[Port, ...]
    outputs: tuple[Port, ...]
    body: tuple[Statement, ...]
    loc: SourceLocation
    name_loc: SourceLocation


@dataclass(frozen=True, slots=True)
class ImportFile:
    """``import "path.spk"`` (relative to the importing file)."""

    path: str
    loc: SourceLocation
    path_loc: SourceLocation


@dataclass(frozen=True, slots=True)
class ImportLib:
    """``import std.NAME`` (the bundled circuit library)."""

    parts: tuple[str, ...]
    loc: SourceLocation


@dataclass(frozen=True, slots=True)
class ImportModel:
    """``import model "net.nir" (dt = 1e-4) as NAME``: a trained network as a circuit;
    ``options`` are the ``(name = expr)`` pairs (only ``dt``, for NIR graphs)."""

    path: str
    alias: str
    loc: SourceLocation
    path_loc: SourceLocation
    options: tuple[Param, ...] = ()


@dataclass(frozen=True, slots=True)
class StimAt:
    """``at(t1, t2, ...)``: spikes at those steps."""

    times: tuple[Expr, ...]
    loc: SourceLocation


@dataclass(frozen=True, slots=True)
class StimCall:
    """``bits(v) at t``, ``poisson(p)``: a named stimulus with arguments."""

    func: str
    args: tuple[Expr, ...]
    when: Expr | None
    loc: SourceLocation


@dataclass(frozen=True, slots=True)
class Stimulus:
    """``stimulus TARGET = source``."""

    target: Ref
    source: StimAt | StimCall
    loc: SourceLocation


@dataclass(frozen=True, slots=True)
class ProbeItem:
    """One probed thing: ``A`` (raw spikes) or ``decoder(A, ...)``."""

    decoder: str | None
    refs: tuple[Ref, ...]
    loc: SourceLocation


@dataclass(frozen=True, slots=True)
class Probe:
    """``probe A, count(B), ...``."""

    items: tuple[ProbeItem, ...]
    loc: SourceLocation


# ---- Boolean gates and delay balancing ---------------------------------------------


@dataclass(frozen=True, slots=True)
class BoolVar:
    """A neuron as a Boolean variable: did it spike (for this input word)?"""

    ref: Ref
    loc: SourceLocation


@dataclass(frozen=True, slots=True)
class BoolConst:
    """``true``/``false`` (or ``1``/``0``) in a gate expression."""

    value: bool
    loc: SourceLocation


@dataclass(frozen=True, slots=True)
class BoolNot:
    """``~x``."""

    operand: BoolExpr
    loc: SourceLocation


@dataclass(frozen=True, slots=True)
class BoolOp:
    """``left op right`` with op one of ``&``, ``|``, ``^``, ``->``."""

    op: str
    left: BoolExpr
    right: BoolExpr
    loc: SourceLocation


BoolExpr = BoolVar | BoolConst | BoolNot | BoolOp


@dataclass(frozen=True, slots=True)
class Gate:
    """``gate TARGET = expr``: a Boolean expression compiled into threshold neurons."""

    target: Ref
    expr: BoolExpr
    loc: SourceLocation


@dataclass(frozen=True, slots=True)
class Balance:
    """``balance A, B, ...``: pad delays so the named neurons share one pipeline stage."""

    refs: tuple[Ref, ...]
    loc: SourceLocation


Statement = (
    InputDecl | NeuronDecl | KindDecl | Connect | Let | For | If | CircuitDef | ImportFile
    | ImportLib | ImportModel | Stimulus | Probe | Gate | Balance
)


@dataclass(frozen=True, slots=True)
class Program:
    """A parsed file: its statements in order, and its display name."""

    statements: tuple[Statement, ...]
    file: str
