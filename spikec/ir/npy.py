"""Checked reading of ``.npz`` archives (zips of ``.npy`` arrays) from untrusted files.

Every reader of ``.npz`` input goes through here: network and netlist files
(:mod:`spikec.ir.binary`), frames for ``spikec sim --frames``, currents for
``--currents``. Before a member's data is read, its zip entry must be plausible
(a compressed member cannot claim more than deflate gives, a stored one must
store what it claims: zip bombs are refused from the directory), its ``.npy``
header must parse without evaluating anything beyond a literal, hold no Python
objects (nothing is ever unpickled) and declare a size the caller accepts. The
file must be a regular file, opened without blocking (a FIFO is refused).
"""

from __future__ import annotations

import os
import stat
import struct
import tokenize
import warnings
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO, Any

import numpy as np

from spikec.errors import SpikecError, fmt_count

__all__ = [
    "DEFLATE_RATIO", "MEMBER_READ_ERRORS", "open_zip", "entry_problem", "read_npy_header", "read_arrays",
]

#: Deflate expands at most about 1032:1; a member claiming more is corrupt (or a bomb).
DEFLATE_RATIO = 1100

#: What reading a damaged member can raise: zipfile's errors, a truncated stream, and the
#: "compression method not supported" of an archive made by another tool.
MEMBER_READ_ERRORS = (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError)

#: ``check(name, shape, dtype)``: refuses (raises) an array from its declared header.
ShapeCheck = Callable[[str, tuple[int, ...], "np.dtype[Any]"], None]


@contextmanager
def open_zip(path: str | os.PathLike[str], where: str, error: type[SpikecError]) -> Iterator[zipfile.ZipFile]:
    """The zip archive at ``path``, a regular file opened without blocking; any failure
    to open it is an ``error`` starting with ``where``."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise error(f"{where}: no such file") from None
    except OSError as exc:
        raise error(f"{where}: cannot read: {exc.strerror or exc}") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        if stat.S_ISDIR(mode):
            raise error(f"{where}: is a directory, not an .npz file")
        raise error(f"{where}: not a regular file (a device, pipe or socket)")
    with os.fdopen(fd, "rb") as fh:
        try:
            zf = zipfile.ZipFile(fh)
        except (zipfile.BadZipFile, EOFError, ValueError, OverflowError, struct.error):
            raise error(f"{where}: not an .npz file (a zip of .npy arrays)") from None
        except OSError as exc:
            raise error(f"{where}: cannot read: {exc.strerror or exc}") from None
        with zf:
            yield zf


def entry_problem(info: zipfile.ZipInfo) -> str | None:
    """Why a zip entry's declared sizes cannot be true (None when they can)."""
    if info.compress_type != zipfile.ZIP_STORED and info.file_size > DEFLATE_RATIO * max(
            info.compress_size, 1 << 10):
        return "its stored size is impossible for its compressed size"
    if info.compress_type == zipfile.ZIP_STORED and info.file_size != info.compress_size:
        return f"a stored member of {info.file_size:,} bytes takes {info.compress_size:,}"
    return None


def read_npy_header(fh: IO[bytes]) -> tuple[tuple[int, ...], bool, np.dtype[Any]]:
    """``(shape, fortran_order, dtype)`` from a ``.npy`` stream positioned at its start.
    Raises ValueError with the reason for anything else (an unknown version, a header
    that is not a literal, Python objects)."""
    try:
        version = np.lib.format.read_magic(fh)
        with warnings.catch_warnings():  # numpy parses the header text: no warnings about its escapes
            warnings.simplefilter("ignore")
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(fh)
            elif version == (2, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(fh)
            else:
                raise ValueError(f"unsupported .npy version {version}")
    except (ValueError, SyntaxError, TypeError, tokenize.TokenError, RecursionError, EOFError) as exc:
        raise ValueError(f"not a .npy array: {str(exc)[:200]}") from None
    if dtype.hasobject:
        raise ValueError("holds Python objects (pickles are refused)")
    return tuple(int(n) for n in shape), bool(fortran), dtype


def read_arrays(path: str | os.PathLike[str], *, where: str, error: type[SpikecError], max_bytes: int,
                check: ShapeCheck | None = None, kinds: str = "biuf") -> dict[str, np.ndarray]:
    """Every array of the ``.npz`` file at ``path``, each checked before its data is read:
    a plausible zip entry, a ``.npy`` header of a dtype whose kind is in ``kinds``
    (default: booleans, integers, floats), at most ``max_bytes`` bytes, and whatever
    ``check`` refuses. Errors are ``error``, naming ``where`` (the file, or the option
    and the file) and the array."""
    out: dict[str, np.ndarray] = {}
    with open_zip(path, where, error) as zf:
        for info in zf.infolist():
            name = info.filename.removesuffix(".npy")
            what = f"{where}: array '{name}'"
            if not info.filename.endswith(".npy"):
                raise error(f"{where}: member '{info.filename}' is not a .npy array")
            problem = entry_problem(info)
            if problem:
                raise error(f"{what}: {problem}")
            try:
                with zf.open(info) as fh:
                    shape, fortran, dtype = read_npy_header(fh)
                    if dtype.kind not in kinds:
                        raise error(f"{what}: expected numbers, got dtype {dtype}")
                    count = 1
                    for n in shape:
                        count *= n
                    nbytes = count * dtype.itemsize
                    if nbytes > max_bytes:
                        raise error(f"{what}: declares shape {shape} ({fmt_count(nbytes)} bytes), over the"
                                    f" limit of {fmt_count(max_bytes)} bytes (SPIKEC_MAX_MEMORY)")
                    if check is not None:
                        check(name, shape, dtype)
                    array = np.empty(count, dtype=dtype)
                    got = fh.readinto(array.view(np.uint8)) if nbytes else 0  # type: ignore[attr-defined]
            except ValueError as exc:
                raise error(f"{what}: {exc}") from None
            except MEMBER_READ_ERRORS as exc:
                raise error(f"{what}: cannot read: {exc}") from None
            if got != nbytes:
                raise error(f"{what}: truncated ({fmt_count(got)} of {fmt_count(nbytes)} bytes)")
            out[name] = array.reshape(shape[::-1]).T if fortran else array.reshape(shape)
    if not out:
        raise error(f"{where}: holds no arrays")
    return out
