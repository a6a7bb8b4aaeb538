"""Growable columns of equal length: the storage under a network's neurons and synapses.

A :class:`Columns` holds named one-dimensional numpy arrays with room to
grow (the capacity grows by half again when full, so appending one row at a
time costs amortized O(1) and a bulk append of k rows one copy). Readers get
views of the filled part. :class:`Interned` gives small integer ids to
repeated Python values (source locations, tag sets), so a column can refer
to them in 4 bytes a row.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any, Generic, TypeVar

import numpy as np

__all__ = ["Columns", "Interned"]

T = TypeVar("T", bound=Hashable)


class Columns:
    """Named columns with one shared length ``len(self)``.

    ``self[name]`` is a read-only view of the filled rows; :meth:`writable`
    gives a writable one (the owner checks what it writes). The dtypes are
    fixed at creation.
    """

    __slots__ = ("_data", "_n", "_cap")

    def __init__(self, dtypes: Mapping[str, Any]) -> None:
        self._data: dict[str, np.ndarray] = {k: np.empty(0, dtype=v) for k, v in dtypes.items()}
        self._n = 0
        self._cap = 0

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, name: str) -> np.ndarray:
        view = self._data[name][: self._n]
        view.flags.writeable = False
        return view

    def writable(self, name: str) -> np.ndarray:
        """A writable view of the filled rows of column ``name``."""
        return self._data[name][: self._n]

    @property
    def names(self) -> tuple[str, ...]:
        """The column names, in creation order."""
        return tuple(self._data)

    def reserve(self, extra: int) -> None:
        """Make room for ``extra`` more rows now (one copy, instead of growing in steps)."""
        self._reserve(extra)

    def _reserve(self, extra: int) -> None:
        need = self._n + extra
        if need <= self._cap:
            return
        cap = max(need, self._cap + self._cap // 2 + 16) if self._n else need
        for name, arr in self._data.items():
            grown = np.empty(cap, dtype=arr.dtype)
            grown[: self._n] = arr[: self._n]
            self._data[name] = grown
        self._cap = cap

    def append_row(self, values: Mapping[str, Any]) -> int:
        """Append one row (a value per column); return its index."""
        self._reserve(1)
        i = self._n
        for name, arr in self._data.items():
            arr[i] = values[name]
        self._n = i + 1
        return i

    def append(self, n: int, values: Mapping[str, Any]) -> range:
        """Append ``n`` rows: each value is a scalar (every row) or an array of length ``n``;
        return the new rows' indices."""
        if n == 0:
            return range(self._n, self._n)
        self._reserve(n)
        start = self._n
        for name, arr in self._data.items():
            arr[start : start + n] = values[name]
        self._n = start + n
        return range(start, start + n)

    def keep(self, rows: np.ndarray) -> None:
        """Keep only ``rows`` (indices or a boolean mask), in that order; drops the spare room."""
        for name in list(self._data):  # one column at a time: the old one is freed before the next
            self._data[name] = np.ascontiguousarray(self._data[name][: self._n][rows])
        self._n = self._cap = len(next(iter(self._data.values()))) if self._data else 0

    def trim(self) -> None:
        """Give back the spare room (after building, before a long life)."""
        if self._cap > self._n:
            for name, arr in self._data.items():
                self._data[name] = arr[: self._n].copy()
            self._cap = self._n

    def copy(self) -> Columns:
        """An independent copy of the filled rows."""
        out = Columns({})
        out._data = {k: v[: self._n].copy() for k, v in self._data.items()}
        out._n = out._cap = self._n
        return out

    @property
    def nbytes(self) -> int:
        """Bytes the arrays hold, spare room included."""
        return sum(arr.nbytes for arr in self._data.values())


class Interned(Generic[T]):
    """Small integer ids for repeated values; ``-1`` stands for ``None``."""

    __slots__ = ("values", "_ids")

    def __init__(self) -> None:
        self.values: list[T] = []
        self._ids: dict[T, int] = {}

    def id(self, value: T | None) -> int:
        """The id of ``value`` (a new one the first time), ``-1`` for ``None``."""
        if value is None:
            return -1
        found = self._ids.get(value)
        if found is None:
            found = self._ids[value] = len(self.values)
            self.values.append(value)
        return found

    def get(self, i: int) -> T | None:
        """The value of id ``i`` (``None`` for ``-1``)."""
        return None if i < 0 else self.values[i]

    def copy(self) -> Interned[T]:
        """An independent copy (values are immutable)."""
        out: Interned[T] = Interned()
        out.values = list(self.values)
        out._ids = dict(self._ids)
        return out
