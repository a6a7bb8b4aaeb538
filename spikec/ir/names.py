"""Hierarchical neuron names, each stored once.

Neuron ``i`` is named by a *base* and an optional *element*: ``x[3]`` is
base ``x``, element 3; ``adder.bit[2].carry`` is base ``adder.bit[2].carry``
with no element. The table keeps two int32 columns (base id, element or -1)
and each distinct base string once, so an array of a million neurons costs
8 bytes a neuron, not a million strings. The split is a pure function of
the name (:func:`split_name`), so a name added one at a time and the same
name made by an array are the same name.

Lookups go through *runs*: consecutive neurons of one base whose elements
count up by one (an array is one run). Each base keeps its runs sorted by
first element, so finding ``x[k]`` or checking that ``x[a..b]`` is free is a
bisection. After neurons are removed the runs are rebuilt from the columns.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence

import numpy as np

from spikec.ir.columns import Columns

__all__ = ["NameTable", "split_name", "join_name"]

_MAX_ELEMENT_DIGITS = 9  # elements up to 999,999,999 fit the int32 column


def split_name(name: str) -> tuple[str, int]:
    """``("x", 3)`` for ``"x[3]"``; ``(name, -1)`` when the name does not end in a plain index."""
    if name.endswith("]"):
        lb = name.rfind("[")
        digits = name[lb + 1 : -1]
        if (lb >= 0 and digits.isascii() and digits.isdigit() and len(digits) <= _MAX_ELEMENT_DIGITS
                and (digits == "0" or digits[0] != "0")):
            return name[:lb], int(digits)
    return name, -1


def join_name(base: str, elem: int) -> str:
    """The inverse of :func:`split_name`."""
    return base if elem < 0 else f"{base}[{elem}]"


class _Runs:
    """The runs of one base, sorted by first element: parallel lists (first element,
    first index, length)."""

    __slots__ = ("e0", "i0", "n")

    def __init__(self) -> None:
        self.e0: list[int] = []
        self.i0: list[int] = []
        self.n: list[int] = []

    def find(self, elem: int) -> int:
        """The index of element ``elem``, or -1."""
        k = bisect.bisect_right(self.e0, elem) - 1
        if k >= 0 and elem < self.e0[k] + self.n[k]:
            return self.i0[k] + elem - self.e0[k]
        return -1

    def overlaps(self, first: int, count: int) -> int:
        """An element of ``[first, first + count)`` already present, or -1."""
        k = bisect.bisect_right(self.e0, first) - 1
        if k >= 0 and first < self.e0[k] + self.n[k]:
            return first
        if k + 1 < len(self.e0) and self.e0[k + 1] < first + count:
            return self.e0[k + 1]
        return -1

    def add(self, first: int, index: int, count: int) -> None:
        """Record elements ``first..first+count`` at indices ``index..``; extends the run
        they continue when there is one."""
        k = bisect.bisect_right(self.e0, first) - 1
        if k >= 0 and self.e0[k] + self.n[k] == first and self.i0[k] + self.n[k] == index:
            self.n[k] += count
            return
        self.e0.insert(k + 1, first)
        self.i0.insert(k + 1, index)
        self.n.insert(k + 1, count)


class NameTable:
    """The names of a network's neurons, by index (see the module docstring)."""

    __slots__ = ("bases", "_base_id", "cols", "_scalar", "_runs")

    def __init__(self) -> None:
        self.bases: list[str] = []
        self._base_id: dict[str, int] = {}
        self.cols = Columns({"base": np.int32, "elem": np.int32})
        self._scalar: dict[int, int] = {}
        self._runs: dict[int, _Runs] = {}

    def __len__(self) -> int:
        return len(self.cols)

    def _base(self, base: str) -> int:
        found = self._base_id.get(base)
        if found is None:
            found = self._base_id[base] = len(self.bases)
            self.bases.append(base)
        return found

    # -- lookups ----------------------------------------------------------------------

    def find(self, name: str) -> int:
        """The index of ``name``, or -1."""
        base, elem = split_name(name)
        b = self._base_id.get(base)
        if b is None:
            return -1
        if elem < 0:
            return self._scalar.get(b, -1)
        runs = self._runs.get(b)
        return -1 if runs is None else runs.find(elem)

    def find_many(self, names: Iterable[str]) -> np.ndarray:
        """The index of each name (-1 where unknown), as an int64 array."""
        find = self.find
        return np.fromiter((find(n) for n in names), dtype=np.int64)

    def name(self, i: int) -> str:
        """The name of neuron ``i``."""
        cols = self.cols
        return join_name(self.bases[int(cols["base"][i])], int(cols["elem"][i]))

    def names(self, idx: Sequence[int] | np.ndarray | None = None) -> list[str]:
        """The names of neurons ``idx`` (default: all), in that order."""
        base = self.cols["base"]
        elem = self.cols["elem"]
        if idx is not None:
            base, elem = base[idx], elem[idx]
        bases = self.bases
        return [bases[b] if e < 0 else f"{bases[b]}[{e}]" for b, e in zip(base.tolist(), elem.tolist(),
                                                                             strict=True)]

    def array_of(self, base: str) -> np.ndarray | None:
        """The indices of ``base[0]``, ``base[1]``, ... when they form one array from
        element 0 (``None`` otherwise)."""
        b = self._base_id.get(base)
        runs = self._runs.get(b) if b is not None else None
        if runs is None or len(runs.e0) != 1 or runs.e0[0] != 0:
            return None
        return np.arange(runs.i0[0], runs.i0[0] + runs.n[0], dtype=np.int64)

    # -- adding -------------------------------------------------------------------------

    def taken(self, name: str) -> bool:
        """Whether ``name`` is a neuron's name."""
        return self.find(name) >= 0

    def taken_array(self, base: str, count: int) -> str | None:
        """The first of ``base[0]``..``base[count-1]`` already taken, or None."""
        b = self._base_id.get(base)
        runs = self._runs.get(b) if b is not None else None
        if runs is None:
            return None
        hit = runs.overlaps(0, count)
        return None if hit < 0 else join_name(base, hit)

    def add(self, name: str) -> int:
        """Add one name (the caller checked it is free); return its index."""
        base, elem = split_name(name)
        b = self._base(base)
        i = self.cols.append_row({"base": b, "elem": elem})
        if elem < 0:
            self._scalar[b] = i
        else:
            self._runs.setdefault(b, _Runs()).add(elem, i, 1)
        return i

    def add_array(self, base: str, count: int) -> range:
        """Add ``base[0]``..``base[count-1]`` (the caller checked they are free)."""
        b = self._base(base)
        rows = self.cols.append(count, {"base": b, "elem": np.arange(count, dtype=np.int32)})
        if count:
            self._runs.setdefault(b, _Runs()).add(0, rows.start, count)
        return rows

    # -- editing ------------------------------------------------------------------------

    def keep(self, rows: np.ndarray) -> None:
        """Keep only neurons ``rows`` (indices, in order); rebuild the lookups."""
        self.cols.keep(rows)
        self._rebuild()

    def _rebuild(self) -> None:
        base = self.cols["base"].astype(np.int64)
        elem = self.cols["elem"].astype(np.int64)
        self._scalar = {}
        self._runs = {}
        scalar = np.flatnonzero(elem < 0)
        self._scalar = dict(zip(base[scalar].tolist(), scalar.tolist(), strict=True))
        idx = np.flatnonzero(elem >= 0)
        if not len(idx):
            return
        b, e = base[idx], elem[idx]
        starts = np.ones(len(idx), dtype=bool)
        starts[1:] = (b[1:] != b[:-1]) | (e[1:] != e[:-1] + 1) | (idx[1:] != idx[:-1] + 1)
        first = np.flatnonzero(starts)
        lengths = np.diff(np.append(first, len(idx)))
        for bb, ee, ii, nn in zip(b[first].tolist(), e[first].tolist(), idx[first].tolist(),
                                  lengths.tolist(), strict=True):
            self._runs.setdefault(bb, _Runs()).add(ee, ii, nn)

    def copy(self) -> NameTable:
        """An independent copy."""
        out = NameTable()
        out.bases = list(self.bases)
        out._base_id = dict(self._base_id)
        out.cols = self.cols.copy()
        out._scalar = dict(self._scalar)
        out._runs = {}
        for b, runs in self._runs.items():
            r = _Runs()
            r.e0, r.i0, r.n = list(runs.e0), list(runs.i0), list(runs.n)
            out._runs[b] = r
        return out

    @property
    def nbytes(self) -> int:
        """Approximate bytes held: the columns, the base strings and the lookups."""
        strings = sum(len(s) + 49 for s in self.bases) + 8 * len(self.bases)
        lookups = 100 * (len(self._scalar) + len(self._base_id)) + sum(
            3 * 36 * len(r.e0) for r in self._runs.values())
        return self.cols.nbytes + strings + lookups
