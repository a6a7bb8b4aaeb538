"""User-facing errors, source locations and diagnostics: the one error family.

Every mistake a user can make (a bad parameter, an unknown neuron, a malformed
file, a network a chip cannot hold) raises a :class:`SpikecError` subclass
defined here. It carries an optional :class:`SourceLocation` and renders as::

    file:line:col: error: message
        the source line
              ^

The family, by where the mistake is made::

    SpikecError
    ├── UsageError          a malformed command-line or API argument
    ├── NetworkError        a network built wrongly through the API
    │   ├── VerifyError     a network that breaks the neuron semantics
    │   └── PipelineError   not a delay-balanced feed-forward pipeline
    ├── NetworkFileError    a network or netlist file that cannot be read
    ├── SimulationError     a simulation asked for something impossible
    ├── DslError            the .spk front end
    │   ├── ParseError      not a .spk program (syntax)
    │   └── ElaborationError  parses but means nothing
    │       ├── SpkImportError  an import that cannot be read, or a cycle
    │       └── ParamError      a --param override that names no top-level let
    ├── LimitError          past a size limit (elaboration ceilings, a chip's capacity)
    ├── CompileError        a network that cannot be compiled for a target as asked
    │   └── TargetError     a target file that is missing or malformed
    ├── ExportError         a network a file format cannot express exactly
    ├── ModelImportError    a model file that cannot be read or imported exactly
    ├── DiffusionError      a diffusion problem that cannot be solved as stated
    ├── BooleanError        a Boolean expression that cannot be synthesized
    ├── CircuitError        a library circuit asked for with bad parameters
    └── TrainError          a training request that cannot be met

Internal errors (bugs) are ordinary Python exceptions and keep their traceback.

:class:`Diagnostic` is the non-fatal counterpart: a note or warning from a
pass about one object, with an optional location, printed as
``file:line:col: note: pass: subject: message``.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "SourceLocation",
    "Diagnostic",
    "SEVERITIES",
    "SpikecError",
    "UsageError",
    "NetworkError",
    "VerifyError",
    "PipelineError",
    "NetworkFileError",
    "SimulationError",
    "DslError",
    "ParseError",
    "ElaborationError",
    "SpkImportError",
    "ParamError",
    "LimitError",
    "CompileError",
    "TargetError",
    "ExportError",
    "ModelImportError",
    "DiffusionError",
    "BooleanError",
    "CircuitError",
    "TrainError",
    "did_you_mean",
    "fmt_count",
]


@dataclass(frozen=True, slots=True)
class SourceLocation:
    """A position in a source file: 1-based line and column.

    ``text`` is the whole source line when it is known; it is shown under the
    message with a caret below ``column``.
    """

    file: str
    line: int
    column: int
    text: str | None = None

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


def _render(kind: str, message: str, location: SourceLocation | None) -> str:
    """``file:line:col: kind: message`` plus the source line and a caret."""
    if location is None:
        return f"{kind}: {message}"
    head = f"{location}: {kind}: {message}"
    text = location.text
    if text is None:
        return head
    # Show the line without its indentation, four spaces in, caret shifted to match.
    line = text.rstrip("\r\n").expandtabs(1)
    stripped = line.lstrip()
    column = max(location.column - (len(line) - len(stripped)), 1)
    caret = " " * (column - 1) + "^"
    return f"{head}\n    {stripped}\n    {caret}"


class SpikecError(Exception):
    """Base class of every user error spikec reports.

    ``str(error)`` is the full rendering (location, message, source line and
    caret); ``error.message`` is the bare message.
    """

    def __init__(self, message: str, location: SourceLocation | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.location = location

    def render(self) -> str:
        """Return ``file:line:col: error: message`` plus the source line and a caret."""
        return _render("error", self.message, self.location)

    def __str__(self) -> str:
        return self.render()


class UsageError(SpikecError):
    """A malformed command-line or API argument (``--input``, ``--param``, a count)."""


class NetworkError(SpikecError):
    """A network was built wrongly through the API (duplicate or unknown name, ...)."""


class VerifyError(NetworkError):
    """A network breaks a rule of the neuron semantics (see ``docs/semantics.md``)."""


class PipelineError(NetworkError):
    """A network (or part of one) is not a delay-balanced feed-forward pipeline."""


class NetworkFileError(SpikecError):
    """A network file is missing, unreadable, or not in the documented schema."""


class SimulationError(SpikecError):
    """A simulation was asked for something impossible (bad input, too large, ...)."""


class DslError(SpikecError):
    """Base class of every error the ``.spk`` front end reports."""


class ParseError(DslError):
    """The text is not a ``.spk`` program (a syntax error)."""


class ElaborationError(DslError):
    """The program parses but means nothing: unknown name, bad value, wrong size, ..."""


class SpkImportError(ElaborationError):
    """An ``import`` names a file or library module that cannot be read, or a cycle."""


class ParamError(ElaborationError):
    """A ``params`` override (``--param NAME=VALUE``) names no top-level ``let`` or is no value."""


class LimitError(SpikecError):
    """Something would pass a size limit: the elaboration ceilings (neurons, synapses,
    nesting depth, work; ``SPIKEC_MAX_*``) or a target's capacity (cores, fan-in,
    per-core neurons and synapses). The message names the limit, the value and the object."""


class CompileError(SpikecError):
    """A network cannot be compiled for a target as asked."""


class TargetError(CompileError):
    """A target file is missing, malformed, or names an unknown target."""


class ExportError(SpikecError):
    """A network that a file format (NIR, SANA-FE) cannot express exactly."""


class ModelImportError(SpikecError):
    """A model file that cannot be read, or that spikec cannot import exactly."""


class DiffusionError(SpikecError):
    """A diffusion problem that is ill-posed or that the solvers cannot run exactly."""


class BooleanError(SpikecError):
    """A Boolean expression that cannot be parsed or synthesized."""


class CircuitError(SpikecError):
    """A library circuit was asked for with parameters it cannot take."""


class TrainError(SpikecError):
    """A training or export request that cannot be met."""


#: Severities of a :class:`Diagnostic`, mildest first.
SEVERITIES: tuple[str, ...] = ("note", "warning")


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """A non-fatal message from a pass (``pass_name``) about one object (``subject``:
    ``neuron 'x'``, ``core 3``, ``network``), with the object's source location when
    known; ``severity`` is ``"note"`` (what a pass did) or ``"warning"`` (a spike could
    change)."""

    pass_name: str
    subject: str
    message: str
    location: SourceLocation | None = None
    severity: str = "note"

    def __str__(self) -> str:
        return f"{self.pass_name}: {self.subject}: {self.message}"

    def render(self) -> str:
        """``file:line:col: note: pass: subject: message`` (the location when known)."""
        return _render(self.severity, str(self), self.location)


def fmt_count(n: int | float) -> str:
    """``1,204`` for messages about sizes and limits."""
    return f"{int(n):,}" if float(n).is_integer() else f"{n:,}"


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """Return ``" (did you mean 'x'?)"`` for the closest candidate, or ``""``."""
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""
