"""Safe file I/O shared by every spikec file format.

Writes go to a temporary file in the target's directory, then replace the
target with one rename, so a failed or interrupted save never leaves a
partial file (and never clobbers the old one); the result has the mode an
ordinary write would give it, and a symbolic link is written through. :func:`read_json` turns a
missing, unreadable or malformed file into a :class:`NetworkFileError`
that names the file (with line, column and a caret for malformed JSON).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import stat
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from spikec.errors import NetworkFileError, SourceLocation, SpikecError, fmt_count

__all__ = [
    "atomic_file", "atomic_path", "write_text_atomic", "write_bytes_atomic", "read_json", "read_text_limited",
]


def _umask() -> int:
    """The process's file-mode creation mask (read without changing it where Linux allows)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """A temporary path beside ``path`` to write through: it replaces ``path`` (one rename)
    when the ``with`` block ends normally, and is deleted if the block raises (or is
    interrupted). For writers that need a file name (h5py); see :func:`atomic_file`.

    The file gets the mode an ordinary ``open(path, "w")`` would give it: an existing
    file's mode is kept, a new file gets ``0o666`` less the umask (``0644`` under umask
    ``022``). When ``path`` is a symbolic link, the file it points to is written (the
    link stays a link)."""
    target = Path(os.path.realpath(path)) if os.path.islink(path) else Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    try:
        info: os.stat_result | None = os.stat(target)
    except OSError:
        info = None
    if info is not None and stat.S_ISDIR(info.st_mode):
        raise IsADirectoryError(errno.EISDIR, "is a directory; give a file name", os.fspath(path))
    if info is not None and not stat.S_ISREG(info.st_mode):  # the rename would replace /dev/full itself
        raise OSError(errno.EINVAL, "not a regular file (a device, pipe or socket); give a file name",
                      os.fspath(path))
    mode = stat.S_IMODE(info.st_mode) if info is not None else 0o666 & ~_umask()
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    try:
        os.fchmod(fd, mode)
        os.close(fd)
        yield Path(tmp)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def atomic_file(path: str | os.PathLike[str]) -> Iterator[IO[bytes]]:
    """A binary file to write ``path`` through, with :func:`atomic_path`'s guarantees: it
    becomes ``path`` when the ``with`` block ends normally, and vanishes if it raises."""
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        yield fh


def write_text_atomic(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` through a temporary file and a rename."""
    write_bytes_atomic(path, text.encode("utf-8"))


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename."""
    with atomic_file(path) as fh:
        fh.write(data)


#: The largest JSON file :func:`read_json` reads, in bytes, unless ``SPIKEC_MAX_FILE_BYTES``
#: says otherwise: 2 GiB (a JSON network of a million synapses is 35-100 MB). Larger files,
#: and files that are not regular (``/dev/zero``, a pipe), are refused before reading.
MAX_JSON_BYTES = 2 * 1024**3

#: Brackets nested deeper than this are named in the error when Python's JSON parser runs
#: out of stack (it stops near ``sys.getrecursionlimit()``).
_JSON_DEPTH_SHOWN = 500


def read_json(path: str | os.PathLike[str]) -> Any:
    """Parse the JSON file at ``path``; a missing, unreadable, oversized (see
    :data:`MAX_JSON_BYTES`) or malformed file is a :class:`NetworkFileError` (malformed
    JSON with its line, column and a caret; also brackets nested too deeply for the
    parser and integers too long to read, at their line and column)."""
    source = os.fspath(path)
    text = read_text_limited(path, _max_json_bytes())
    try:
        doc = json.loads(text)
        odd = lone_surrogate(doc) if "\\ud" in text or "\\uD" in text else None
        if odd is not None:  # "\ud800" decodes to a string that no output can encode
            raise NetworkFileError(f"{source}: {odd}")
        return doc
    except json.JSONDecodeError as exc:
        raise NetworkFileError(f"invalid JSON: {exc.msg}", _json_location(source, text, exc.pos)) from None
    except RecursionError:
        pos, depth = _json_too_deep(text)
        raise NetworkFileError(f"invalid JSON: brackets nested more than {depth:,} deep",
                               _json_location(source, text, pos)) from None
    except ValueError as exc:  # Python refuses integers of more than sys.get_int_max_str_digits() digits
        most = sys.get_int_max_str_digits()
        digits = re.compile(rf"{_JSON_STRING}|(?<![\w.])-?(\d{{{most + 1},}})(?![\w.])")
        long = next((m for m in digits.finditer(text) if m.group(1)), None)
        if long is None:  # pragma: no cover - no other ValueError is known
            raise NetworkFileError(f"{source}: invalid JSON: {exc}") from None
        raise NetworkFileError(f"invalid JSON: an integer of {len(long.group(1)):,} digits (at most"
                               f" {most:,})", _json_location(source, text, long.start())) from None


def lone_surrogate(doc: Any) -> str | None:
    """``"PATH: ..."`` naming the first string (or key) of the parsed JSON ``doc`` that holds
    a lone UTF-16 surrogate (written ``"\\ud800"``), which is not text: printing or saving
    it fails. None when there is none."""
    stack: list[tuple[Any, str]] = [(doc, "")]
    while stack:
        value, where = stack.pop()
        if isinstance(value, str):
            if _SURROGATE.search(value):
                return f"{where or 'top level'}: {value!r:.60} holds a lone surrogate, which is not text"
        elif isinstance(value, list):
            stack.extend((v, f"{where}[{i}]") for i, v in reversed(list(enumerate(value))))
        elif isinstance(value, dict):
            for key in value:
                if _SURROGATE.search(key):
                    return f"{where or 'top level'}: key {key!r} holds a lone surrogate, which is not text"
            stack.extend((v, f"{where}.{k}" if where else k) for k, v in reversed(list(value.items())))
    return None


_SURROGATE = re.compile("[\ud800-\udfff]")


def _max_json_bytes() -> int:
    text = os.environ.get("SPIKEC_MAX_FILE_BYTES", "").strip().replace("_", "")
    if not text:
        return MAX_JSON_BYTES
    if not text.isdigit() or not 0 < int(text) < 2**63:
        raise NetworkFileError(f"SPIKEC_MAX_FILE_BYTES: expected a positive number of bytes,"
                               f" got {text!r:.40}")
    return int(text)


def _json_location(source: str, text: str, pos: int) -> SourceLocation:
    """The line and column of offset ``pos``. The line is shown only when it is short (a
    synapse column is one line of millions of numbers) and the file is a ``.json`` file by
    its resolved name: a link named ``x.json`` to another file never has a line of that
    file echoed."""
    line = text.count("\n", 0, pos) + 1
    start = text.rfind("\n", 0, pos) + 1
    stop = text.find("\n", pos)
    shown = text[start:stop if stop >= 0 else len(text)]
    echo = len(shown) <= 200 and os.path.realpath(source).lower().endswith(".json")
    return SourceLocation(source, line, pos - start + 1, shown if echo else None)


def _json_too_deep(text: str) -> tuple[int, int]:
    """Offset of the first bracket nested past :data:`_JSON_DEPTH_SHOWN` (or of the deepest
    one), and that depth: one pass over the brackets and string literals, in constant memory."""
    depth, deepest, at = 0, 0, 0
    for m in _JSON_BRACKETS.finditer(text):
        c = m.group()
        if c == "[" or c == "{":
            depth += 1
            if depth > _JSON_DEPTH_SHOWN:
                return m.start(), _JSON_DEPTH_SHOWN
            if depth > deepest:
                deepest, at = depth, m.start()
        elif c == "]" or c == "}":
            depth -= 1
    return at, max(deepest - 1, 0)


#: A JSON string literal; one left open runs to the end of the text, so that scanning
#: hostile text with many stray quotes stays linear.
_JSON_STRING = r'"(?:[^"\\]|\\.)*+(?:"|\\?\Z)'
_JSON_BRACKETS = re.compile(rf"{_JSON_STRING}|[\[\]{{}}]")


def read_text_limited(
    path: str | os.PathLike[str],
    max_bytes: int,
    *,
    what: str = "file",
    error: type[SpikecError] = NetworkFileError,
    encoding: str = "utf-8",
) -> str:
    """The text of the file at ``path``, refusing it before reading when it is not a
    regular file or holds more than ``max_bytes`` bytes (``/dev/zero``, a FIFO, a huge
    file), and naming the line and column of the first byte that is not ``encoding``
    (UTF-8; a leading byte-order mark is dropped). Every failure is an ``error`` naming
    the file; ``what`` says what the file was read as (``"source"``, ``"counts file"``)."""
    source = os.fspath(path)
    try:  # non-blocking, so that a FIFO is refused below instead of waiting for a writer
        fh = os.fdopen(os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)), "rb")
    except FileNotFoundError:
        raise error(f"{source}: no such {what}") from None
    except IsADirectoryError:
        raise error(f"{source}: is a directory, not a {what}") from None
    except OSError as exc:
        raise error(f"{source}: cannot read: {exc.strerror or exc}") from None
    with fh:
        try:
            info = os.fstat(fh.fileno())
        except OSError as exc:  # pragma: no cover - fstat of an open file
            raise error(f"{source}: cannot read: {exc.strerror or exc}") from None
        if stat.S_ISDIR(info.st_mode):
            raise error(f"{source}: is a directory, not a {what}")
        if not stat.S_ISREG(info.st_mode):
            raise error(f"{source}: not a regular file (a device, pipe or socket); a {what} must be one")
        if info.st_size > max_bytes:
            raise error(f"{source}: {fmt_count(info.st_size)} bytes is more than the"
                        f" {fmt_count(max_bytes)} bytes a {what} may hold")
        try:  # the size the file declares, then the rest (a /proc file declares 0): never
            # ask read() for max_bytes at once, which allocates that much up front
            data = fh.read(min(max_bytes, info.st_size) + 1)
            while len(data) <= max_bytes and (more := fh.read(min(max_bytes + 1 - len(data), 1 << 20))):
                data += more
        except OSError as exc:
            raise error(f"{source}: cannot read: {exc.strerror or exc}") from None
    if len(data) > max_bytes:  # the file grew while we read it
        raise error(f"{source}: more than the {fmt_count(max_bytes)} bytes a {what} may hold")
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        head = data[: exc.start]
        line = head.count(b"\n") + 1
        col = len(head[head.rfind(b"\n") + 1:].decode(encoding, "replace")) + 1  # in characters
        raise error(f"not {encoding.upper()} text (byte 0x{data[exc.start]:02x}); is this a {what}?",
                    SourceLocation(source, line, col, None)) from None
    return text[1:] if text.startswith("\ufeff") else text
