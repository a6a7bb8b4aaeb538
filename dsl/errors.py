"""Errors of the ``.spk`` front end.

Each one is a :class:`~spikec.errors.SpikecError` carrying the
:class:`~spikec.errors.SourceLocation` of the offending text, so it renders
as ``file:line:col: error: message`` with the line and a caret.
"""

from __future__ import annotations

from spikec.errors import SpikecError

__all__ = [
    "DslError",
    "ParseError",
    "ElaborationError",
    "SpkImportError",
    "LimitError",
    "ParamError",
]


class DslError(SpikecError):
    """Base class of every error the ``.spk`` front end reports."""


class ParseError(DslError):
    """The text is not a ``.spk`` program (a syntax error)."""


class ElaborationError(DslError):
    """The program parses but means nothing: unknown name, bad value, wrong size, ..."""


class SpkImportError(ElaborationError):
    """An ``import`` names a file or library module that cannot be read, or a cycle."""


class LimitError(ElaborationError):
    """The program would exceed a configured limit (neurons, synapses, depth, work)."""


class ParamError(ElaborationError):
    """A ``params`` override (``--param NAME=VALUE``) names no top-level ``let`` or is no value."""
