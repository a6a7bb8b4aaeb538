"""Transition matrices from files, for :class:`~spikec.diffusion.chain.Chain`.

- ``.npz``: a sparse matrix saved by ``scipy.sparse.save_npz`` (read without pickles);
- ``.mtx``: Matrix Market (``scipy.io.mmread``), coordinate or array;
- ``.csv`` / ``.txt``: either the dense matrix, one row of numbers per line, or an edge
  list of ``row,col,p`` lines (0-based) after a header line naming those three columns
  (``row,col,p``, ``i,j,p`` or ``from,to,p``); the size of an edge list is its largest
  index + 1 unless a ``# nodes = N`` comment line says more.

Each file is refused before it is read when it is not a regular file or holds more than
:data:`MAX_MATRIX_BYTES`; every error is a :class:`DiffusionError` naming the file (and,
for text, the line and column).
"""

from __future__ import annotations

import os
import re
import zipfile

import numpy as np
import scipy.sparse as sp

from spikec.errors import DiffusionError, SourceLocation
from spikec.ir.files import read_text_limited

__all__ = ["read_matrix", "MAX_MATRIX_BYTES"]

MAX_MATRIX_BYTES = 256 * 2**20

_HEADERS = {("row", "col", "p"), ("i", "j", "p"), ("from", "to", "p")}


def read_matrix(path: str) -> sp.csr_matrix:
    """The transition matrix in ``path`` (module docstring), as CSR floats."""
    if not os.path.isfile(path):
        why = "not found" if not os.path.exists(path) else "not a regular file"
        raise DiffusionError(f"transition matrix file {why}: {path}")
    size = os.path.getsize(path)
    if size > MAX_MATRIX_BYTES:
        raise DiffusionError(f"{path}: {size:,} bytes is over the limit of {MAX_MATRIX_BYTES:,} for a"
                             " transition matrix file")
    ext = os.path.splitext(path)[1].lower()
    if ext == ".npz":
        try:
            mat = sp.load_npz(path)
        except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError) as err:
            raise DiffusionError(f"{path}: not a sparse matrix saved by scipy.sparse.save_npz"
                                 f" ({err})") from None
    elif ext == ".mtx":
        import scipy.io

        try:
            mat = scipy.io.mmread(path)
        except (OSError, ValueError, IndexError, TypeError) as err:
            raise DiffusionError(f"{path}: not a Matrix Market file ({err})") from None
    elif ext in (".csv", ".txt"):
        return _text_matrix(path, ext)
    else:
        raise DiffusionError(f"{path}: a transition matrix is a .npz, .mtx, .csv or .txt file")
    if np.iscomplexobj(mat):
        raise DiffusionError(f"{path}: the transition matrix holds complex numbers")
    return sp.csr_matrix(mat, dtype=float)


def _numbers(path: str, number: int, line: str, pattern: re.Pattern[str]) -> list[float]:
    row: list[float] = []
    for match in pattern.finditer(line):
        try:
            row.append(float(match.group()))
        except ValueError:
            column = match.start() + len(match.group()) - len(match.group().lstrip()) + 1
            raise DiffusionError("transition matrix: expected a number here",
                                 SourceLocation(path, number, column, None)) from None
    return row


def _text_matrix(path: str, ext: str) -> sp.csr_matrix:
    text = read_text_limited(path, MAX_MATRIX_BYTES, what="transition matrix file", error=DiffusionError)
    entry = re.compile(r"[^,]+" if ext == ".csv" else r"\S+")
    lines = text.split("\n")
    first = next((i for i, ln in enumerate(lines) if ln.strip() and not ln.lstrip().startswith("#")), None)
    if first is None:
        raise DiffusionError(f"{path}: the transition matrix file is empty")
    header = tuple(t.strip().lower() for t in entry.findall(lines[first]))
    declared = 0
    for ln in lines:
        found = re.match(r"\s*#\s*nodes\s*=\s*(\d+)\s*$", ln)
        if found:
            declared = int(found.group(1))
    if header in _HEADERS:
        triples: list[list[float]] = []
        for number, line in enumerate(lines[first + 1:], start=first + 2):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            row = _numbers(path, number, line, entry)
            if len(row) != 3 or row[0] != int(row[0]) or row[1] != int(row[1]) or min(row[:2]) < 0:
                raise DiffusionError("transition matrix: an edge line is 'row,col,p' with row and col"
                                     " integers >= 0", SourceLocation(path, number, 1, None))
            triples.append(row)
        arr = np.asarray(triples, dtype=float).reshape(-1, 3)
        n = max(declared, int(arr[:, :2].max()) + 1 if len(arr) else 0)
        if n == 0:
            raise DiffusionError(f"{path}: the edge list has no edges (add '# nodes = N')")
        ij = arr[:, :2].astype(np.int64)
        return sp.csr_matrix((arr[:, 2], (ij[:, 0], ij[:, 1])), shape=(n, n))
    rows: list[list[float]] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        row = _numbers(path, number, line, entry)
        if rows and len(row) != len(rows[0]):
            raise DiffusionError(f"transition matrix: this line has {len(row)} numbers, the first row"
                                 f" {len(rows[0])}", SourceLocation(path, number, 1, None))
        rows.append(row)
    if len(rows) != len(rows[0]):
        raise DiffusionError(f"{path}: a dense transition matrix is square; this one has {len(rows)} rows of"
                             f" {len(rows[0])} numbers (an edge list needs a 'row,col,p' header)")
    return sp.csr_matrix(np.asarray(rows, dtype=float))
