"""Initial walker counts of a diffusion problem, given as numbers or read from a file
(``counts =``): a ``.npy``, ``.csv`` or ``.txt`` file, checked by name (and link target),
size and content before anything is allocated for it; errors never quote the file."""

from __future__ import annotations

import io
import math
import os
import re
from typing import Any

import numpy as np

from spikec.errors import DiffusionError, SourceLocation
from spikec.ir.files import read_text_limited
from spikec.ir.npy import read_npy_header

__all__ = ["read_counts", "MAX_COUNTS_BYTES"]

MAX_COUNTS_BYTES = 64 * 2**20  # the largest counts file read, in bytes


def read_counts(value: Any, shape: tuple[int, ...], base_dir: str | None) -> np.ndarray:
    """Initial walkers per node, shape ``shape``: ``value`` is numbers or a file name
    (relative to ``base_dir``); integers >= 0, or a :class:`DiffusionError`."""
    data = value
    if isinstance(value, str):
        path = value if base_dir is None or os.path.isabs(value) else os.path.join(base_dir, value)
        if not os.path.isfile(path):  # missing, or a device or pipe (opening a pipe blocks)
            why = "not found" if not os.path.exists(path) else "not a regular file"
            raise DiffusionError(f"counts file {why}: {path}")
        data = _counts_file(path, os.path.realpath(path))
    if np.iscomplexobj(data):
        raise DiffusionError("counts must be real numbers (walkers per node), got complex ones")
    try:
        arr = np.asarray(data, dtype=float)
    except (TypeError, ValueError, OverflowError):
        raise DiffusionError("counts must be numbers (walkers per node)") from None
    if arr.size == math.prod(shape) and arr.shape != shape:
        arr = arr.reshape(shape)
    if arr.shape != shape:
        raise DiffusionError(f"counts have shape {arr.shape}, the mesh is {shape}")
    if not np.all(np.isfinite(arr)) or np.any(arr < 0) or np.any(arr != np.round(arr)):
        raise DiffusionError("counts must be integers >= 0 (walkers per node)")
    return arr.astype(np.int64)


def _counts_file(path: str, resolved: str) -> np.ndarray:
    """The numbers of a .npy, .csv or .txt file (a mesh row per line), refused before reading past
    MAX_COUNTS_BYTES or for another name (or link target); errors never quote the file."""
    if not all(p.endswith((".npy", ".csv", ".txt")) for p in (path, resolved)):
        raise DiffusionError(f"counts file '{path}': must be a .npy, .csv or .txt file")
    text = read_text_limited(path, MAX_COUNTS_BYTES, what="counts file", error=DiffusionError,
                             encoding="latin-1" if path.endswith(".npy") else "utf-8")
    if path.endswith(".npy"):
        return _counts_npy(path, text.encode("latin-1"))
    rows: list[list[float]] = []
    entry = re.compile(r"[^,]+" if path.endswith(".csv") else r"\S+")
    for number, line in enumerate(text.split("\n"), start=1):
        row: list[float] = []
        for match in entry.finditer(line if line.strip() else ""):
            try:
                row.append(float(match.group()))
            except ValueError:
                column = match.start() + len(match.group()) - len(match.group().lstrip()) + 1
                raise DiffusionError("counts: expected a number of walkers (an integer >= 0) here",
                                     SourceLocation(path, number, column, None)) from None
        if row and rows and len(row) != len(rows[0]):
            raise DiffusionError(f"counts: this line has {len(row)} numbers, the first row {len(rows[0])}",
                                 SourceLocation(path, number, 1, None))
        rows += [row] if row else []
    return np.array(rows, dtype=float).reshape(len(rows), -1)


def _counts_npy(path: str, data: bytes) -> np.ndarray:
    """A .npy counts array, its header checked (real numbers, a size the file holds) before
    anything is allocated for it."""
    fh = io.BytesIO(data)
    try:
        shape, fortran, dtype = read_npy_header(fh)
    except ValueError as err:
        raise DiffusionError(f"counts file '{path}': {err}") from None
    if dtype.kind not in "biuf":
        raise DiffusionError(f"counts file '{path}': expected real numbers, got dtype {dtype}")
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes != len(data) - fh.tell():
        raise DiffusionError(f"counts file '{path}': its header declares shape {shape}"
                             f" ({nbytes:,} bytes), the file holds {len(data) - fh.tell():,}")
    arr = np.frombuffer(data, dtype=dtype, offset=fh.tell())
    return arr.reshape(shape[::-1]).T if fortran else arr.reshape(shape)
