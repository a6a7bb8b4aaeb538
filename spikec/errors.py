"""User-facing errors and source locations.

Every mistake a user can make (a bad parameter, an unknown neuron, a malformed
file) raises a :class:`SpikecError` subclass. It carries an optional
:class:`SourceLocation` and renders as::

    file:line:col: error: message
        the source line
              ^

Internal errors (bugs) are ordinary Python exceptions and keep their traceback.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "SourceLocation",
    "SpikecError",
    "NetworkError",
    "VerifyError",
    "NetworkFileError",
    "SimulationError",
    "did_you_mean",
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
        if self.location is None:
            return f"error: {self.message}"
        head = f"{self.location}: error: {self.message}"
        text = self.location.text
        if text is None:
            return head
        # Show the line without its indentation, four spaces in, caret shifted to match.
        line = text.rstrip("\r\n").expandtabs(1)
        stripped = line.lstrip()
        column = max(self.location.column - (len(line) - len(stripped)), 1)
        caret = " " * (column - 1) + "^"
        return f"{head}\n    {stripped}\n    {caret}"

    def __str__(self) -> str:
        return self.render()


class NetworkError(SpikecError):
    """A network was built wrongly through the API (duplicate or unknown name, ...)."""


class VerifyError(NetworkError):
    """A network breaks a rule of the neuron semantics (see ``docs/semantics.md``)."""


class NetworkFileError(SpikecError):
    """A network file is missing, unreadable, or not in the documented schema."""


class SimulationError(SpikecError):
    """A simulation was asked for something impossible (bad input, too large, ...)."""


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """Return ``" (did you mean 'x'?)"`` for the closest candidate, or ``""``."""
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""
