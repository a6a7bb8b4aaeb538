"""Safe file I/O shared by every spikec file format.

Writes go to a temporary file in the target's directory, then replace the
target with one rename, so a failed or interrupted save never leaves a
partial file (and never clobbers the old one). :func:`read_json` turns a
missing, unreadable or malformed file into a :class:`NetworkFileError`
that names the file (with line, column and a caret for malformed JSON).
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from spikec.errors import NetworkFileError, SourceLocation

__all__ = ["atomic_file", "write_text_atomic", "write_bytes_atomic", "read_json"]


@contextlib.contextmanager
def atomic_file(path: str | os.PathLike[str]) -> Iterator[IO[bytes]]:
    """A binary file to write ``path`` through: it becomes ``path`` (one rename) when the
    ``with`` block ends normally, and is deleted if the block raises."""
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text_atomic(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` through a temporary file and a rename."""
    write_bytes_atomic(path, text.encode("utf-8"))


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename."""
    with atomic_file(path) as fh:
        fh.write(data)


def read_json(path: str | os.PathLike[str]) -> Any:
    """Parse the JSON file at ``path``; a missing, unreadable or malformed file is a
    :class:`NetworkFileError` (malformed JSON with its line, column and a caret)."""
    source = os.fspath(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise NetworkFileError(f"{source}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise NetworkFileError(f"{source}: cannot read: {exc}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        lines = text.splitlines()
        line_text = lines[exc.lineno - 1] if 0 < exc.lineno <= len(lines) else None
        loc = SourceLocation(source, exc.lineno, exc.colno, line_text)
        raise NetworkFileError(f"invalid JSON: {exc.msg}", loc) from None
