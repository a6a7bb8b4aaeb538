"""The storage under :class:`~spikec.ir.network.Network`: columns, names, and reading them.

:class:`NetworkStore` holds the neuron and synapse columns, the name table,
the tables of source locations and tag sets, and the caches built from them
(the CSR index, the networkx view), and everything that reads them. The
public class :class:`~spikec.ir.network.Network` adds building and editing
on top (:mod:`spikec.ir.bulk` and :mod:`spikec.ir.network`).

Neuron indices are positions in network order; synapse indices are
positions in the grouped order (by presynaptic neuron, insertion order
within a group). Both are valid until the next edit that removes something
(appends out of source order are regrouped, stably, on the next read of a
synapse column).
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np

from spikec.errors import NetworkError, SourceLocation, VerifyError, did_you_mean
from spikec.ir.columns import Columns, Interned
from spikec.ir.names import NameTable, split_name
from spikec.ir.payloads import MAX_DELAY, NEURON_PARAMS, Neuron, Probe, Synapse, check_delay

__all__ = ["NetworkStore", "Neurons", "NEURON_COLUMNS", "SYNAPSE_COLUMNS"]

#: What names neurons in the bulk API: an index, a name, or many of either (a range,
#: an integer array, a sequence of names).
Neurons = int | str | range | np.ndarray | Sequence[int] | Sequence[str]

NEURON_COLUMNS = {**{k: np.float64 for k in NEURON_PARAMS}, "input": np.bool_, "tags": np.int32,
                  "loc": np.int32, "rate": np.float64}
SYNAPSE_COLUMNS = {"pre": np.int32, "post": np.int32, "weight": np.float64, "delay": np.int64,
                   "loc": np.int32}
_SUGGEST_LIMIT = 20_000  # "did you mean" searches all names up to this many neurons


class NetworkStore:
    """Columns, names and the readers of a network (see the module docstring)."""

    def __init__(self, name: str = "network") -> None:
        self.name = name
        self.probes: list[Probe] = []
        self._names = NameTable()
        self._nrn = Columns(NEURON_COLUMNS)
        self._syn = Columns(SYNAPSE_COLUMNS)
        self._locs: Interned[SourceLocation] = Interned()
        self._tags: Interned[frozenset[str]] = Interned()
        self._tags.id(frozenset())  # tag set 0 is the empty one
        self._times: dict[int, tuple[int, ...]] = {}  # input index -> stimulus spike steps
        self._sorted = True  # synapses grouped by presynaptic neuron
        self._last_pre = -1
        self._version = 0
        self._cache: dict[str, tuple[int, Any]] = {}

    def _edited(self) -> None:
        self._version += 1

    def _cached(self, key: str, make: Any) -> Any:
        found = self._cache.get(key)
        if found is not None and found[0] == self._version:
            return found[1]
        value = make()
        self._cache[key] = (self._version, value)
        return value

    @staticmethod
    def _real_array(owner: str, what: str, value: Any, count: int,
                    loc: SourceLocation | None) -> np.ndarray:
        """``value`` (a scalar or ``count`` values) as finite float64, or a located error."""
        if isinstance(value, (bool, np.bool_)) or (isinstance(value, np.ndarray) and value.dtype == bool):
            raise VerifyError(f"{owner}: {what} must be real numbers, got booleans", loc)
        try:
            arr = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError, OverflowError):
            raise VerifyError(f"{owner}: {what} must be real numbers, got {value!r:.60}", loc) from None
        if arr.ndim > 1 or (arr.ndim == 1 and len(arr) != count):
            raise NetworkError(f"{owner}: {what} must be one value or {count:,}, got shape {arr.shape}", loc)
        bad = np.flatnonzero(~np.isfinite(np.atleast_1d(arr)))
        if len(bad):
            raise VerifyError(f"{owner}: {what} must be finite, got {np.atleast_1d(arr)[bad[0]]!r}", loc)
        return arr

    def _delays(self, delay: Any, n: int, a: np.ndarray, b: np.ndarray,
                loc: SourceLocation | None) -> np.ndarray:
        """Delays as int64 in [1, MAX_DELAY], or a located error naming the first bad one."""
        if isinstance(delay, numbers.Integral) and not isinstance(delay, (bool, np.bool_)):
            check_delay(f"synapse {self._names.name(int(a[0]))} -> {self._names.name(int(b[0]))}",
                        delay, loc)
            return np.asarray(int(delay), dtype=np.int64)
        raw = np.asarray(delay)
        if raw.ndim > 1 or (raw.ndim == 1 and len(raw) != n):
            raise NetworkError(f"synapses: delay must be one value or {n:,}, got shape {raw.shape}", loc)
        flat = np.broadcast_to(raw, (n,))
        if raw.dtype == object or not (np.issubdtype(raw.dtype, np.integer) or
                                        np.issubdtype(raw.dtype, np.floating)):
            for k, x in enumerate(flat.tolist()):
                check_delay(f"synapse {self._names.name(int(a[k]))} -> {self._names.name(int(b[k]))}", x, loc)
            return np.asarray(raw, dtype=np.int64)
        if np.issubdtype(raw.dtype, np.floating):
            ok = np.isfinite(flat) & (flat == np.floor(flat)) & (flat >= 1) & (flat < float(MAX_DELAY))
        elif np.issubdtype(raw.dtype, np.unsignedinteger):
            ok = (flat >= 1) & (flat <= np.uint64(MAX_DELAY))
        else:
            ok = flat >= 1
        bad = np.flatnonzero(~ok)
        if len(bad):
            k = int(bad[0])
            x = flat[k].item()
            raise VerifyError(f"synapse {self._names.name(int(a[k]))} -> {self._names.name(int(b[k]))}: delay"
                              f" must be an integer >= 1, got {x!r}", loc)
        return raw.astype(np.int64)

    def _one(self, ref: str | int, owner: str, loc: SourceLocation | None) -> int:
        if isinstance(ref, str):
            i = self._names.find(ref)
            if i < 0:
                raise NetworkError(f"{owner}: no neuron named {ref!r}{self._suggest(ref)}", loc)
            return i
        if isinstance(ref, numbers.Integral) and not isinstance(ref, bool) and 0 <= ref < len(self):
            return int(ref)
        raise NetworkError(f"{owner}: no neuron named {ref!r:.60}", loc)

    def _suggest(self, name: str) -> str:
        base, _ = split_name(name)
        if len(self) <= _SUGGEST_LIMIT:
            return did_you_mean(name, self.names())
        return did_you_mean(base, self._names.bases)

    def resolve(self, ref: Neurons, owner: str = "lookup", loc: SourceLocation | None = None) -> np.ndarray:
        """The indices (int64) of the neurons ``ref`` names: one name or index, a range, an
        integer array, or a sequence of names or indices."""
        if isinstance(ref, (str, numbers.Integral)) and not isinstance(ref, bool):
            return np.array([self._one(ref, owner, loc)], dtype=np.int64)
        if isinstance(ref, range):
            if len(ref) and (min(ref[0], ref[-1]) < 0 or max(ref[0], ref[-1]) >= len(self)):
                raise NetworkError(f"{owner}: {ref} is outside the {len(self):,} neurons", loc)
            return np.arange(ref.start, ref.stop, ref.step, dtype=np.int64)
        if isinstance(ref, np.ndarray) and ref.dtype != object and not np.issubdtype(ref.dtype, np.str_):
            if ref.dtype == bool or not np.issubdtype(ref.dtype, np.integer):
                raise NetworkError(f"{owner}: expected neuron indices, got an array of {ref.dtype}", loc)
            idx = ref.astype(np.int64).reshape(-1)
            bad = np.flatnonzero((idx < 0) | (idx >= len(self)))
            if len(bad):
                raise NetworkError(f"{owner}: no neuron has index {int(idx[bad[0]])}", loc)
            return idx
        items = list(ref)  # type: ignore[arg-type]
        if all(isinstance(x, str) for x in items):
            idx = self._names.find_many(items)
            missing = np.flatnonzero(idx < 0)
            if len(missing):
                name = items[int(missing[0])]
                raise NetworkError(f"{owner}: no neuron named {name!r}{self._suggest(name)}", loc)
            return idx
        return self.resolve(np.asarray(items, dtype=np.int64) if items else np.zeros(0, np.int64), owner, loc)

    def find(self, names: Iterable[object]) -> np.ndarray:
        """The index of each of ``names`` (int64), -1 where it names no neuron (or is no string)."""
        find = self._names.find
        return np.fromiter((find(x) if isinstance(x, str) else -1 for x in names), dtype=np.int64)

    def index(self, name: str) -> int:
        """The index of neuron ``name`` (a :class:`NetworkError` suggests a close name)."""
        return self._one(name, "lookup", None)

    def name_of(self, i: int) -> str:
        """The name of neuron ``i``."""
        return self._names.name(i)

    def names(self, idx: Sequence[int] | np.ndarray | None = None) -> list[str]:
        """The names of neurons ``idx`` (default: all, in network order)."""
        return self._names.names(idx)

    def array(self, name: str) -> np.ndarray | None:
        """The indices of array ``name`` (``name[0]``, ``name[1]``, ... added together), or None."""
        return self._names.array_of(name)

    def _sort_synapses(self) -> None:
        if not self._sorted:
            self._syn.keep(np.argsort(self._syn["pre"], kind="stable"))
            self._sorted = True
            self._last_pre = int(self._syn["pre"][-1]) if len(self._syn) else -1
            self._edited()

    def _syn_col(self, name: str) -> np.ndarray:
        self._sort_synapses()
        return self._syn[name]

    threshold = property(lambda self: self._nrn["threshold"], doc="Each neuron's threshold (read-only).")

    decay = property(lambda self: self._nrn["decay"], doc="Each neuron's decay (read-only).")

    reset = property(lambda self: self._nrn["reset"], doc="Each neuron's reset potential (read-only).")

    bias = property(lambda self: self._nrn["bias"], doc="Each neuron's bias (read-only).")

    p = property(lambda self: self._nrn["p"], doc="Each neuron's firing probability (read-only).")

    v0 = property(lambda self: self._nrn["v0"], doc="Each neuron's initial potential (read-only).")

    is_input = property(lambda self: self._nrn["input"], doc="Whether each neuron is an input (read-only).")

    pre = property(lambda self: self._syn_col("pre"), doc="Each synapse's presynaptic neuron index.")

    post = property(lambda self: self._syn_col("post"), doc="Each synapse's postsynaptic neuron index.")

    weight = property(lambda self: self._syn_col("weight"), doc="Each synapse's weight (read-only).")

    delay = property(lambda self: self._syn_col("delay"), doc="Each synapse's delay in steps (read-only).")

    def param(self, name: str) -> np.ndarray:
        """Column ``name`` (one of :data:`NEURON_PARAMS`) as a read-only array."""
        if name not in NEURON_PARAMS:
            raise NetworkError(f"unknown parameter '{name}'{did_you_mean(name, NEURON_PARAMS)}")
        return self._nrn[name]

    def neuron_locations(self) -> list[SourceLocation | None]:
        """Each neuron's source location (None where unknown)."""
        get = self._locs.get
        return [get(i) for i in self._nrn["loc"].tolist()]

    def location_of(self, i: int) -> SourceLocation | None:
        """Neuron ``i``'s source location."""
        return self._locs.get(int(self._nrn["loc"][i]))

    def synapse_location(self, s: int) -> SourceLocation | None:
        """Synapse ``s``'s source location."""
        return self._locs.get(int(self._syn_col("loc")[s]))

    def tags_of(self, i: int) -> frozenset[str]:
        """Neuron ``i``'s tags."""
        tags = self._tags.get(int(self._nrn["tags"][i]))
        return tags if tags is not None else frozenset()

    def with_tag(self, tag: str) -> np.ndarray:
        """Indices of the neurons carrying ``tag``."""
        ids = [k for k, tags in enumerate(self._tags.values) if tag in tags]
        return np.flatnonzero(np.isin(self._nrn["tags"], ids))

    def csr(self) -> np.ndarray:
        """``indptr`` (N + 1): synapses of neuron i are ``indptr[i]:indptr[i + 1]`` in the
        grouped order of :attr:`pre`, :attr:`post`, ..."""
        def make() -> np.ndarray:
            out = np.zeros(len(self) + 1, dtype=np.int64)
            np.cumsum(np.bincount(self.pre, minlength=len(self)), out=out[1:])
            return out

        self._sort_synapses()
        result: np.ndarray = self._cached("csr", make)
        return result

    def in_csr(self) -> tuple[np.ndarray, np.ndarray]:
        """``(indptr, order)``: synapse indices grouped by postsynaptic neuron (grouped order
        within each group); neuron i's incoming synapses are ``order[indptr[i]:indptr[i + 1]]``.
        Cached until the next edit."""
        post = self.post  # reading a column regroups first, so the cache key is current

        def make() -> tuple[np.ndarray, np.ndarray]:
            order = np.argsort(post, kind="stable")
            indptr = np.zeros(len(self) + 1, dtype=np.int64)
            np.cumsum(np.bincount(post, minlength=len(self)), out=indptr[1:])
            return indptr, order

        result: tuple[np.ndarray, np.ndarray] = self._cached("in_csr", make)
        return result

    def in_degree(self) -> np.ndarray:
        """Incoming synapses per neuron."""
        return np.bincount(self._syn["post"], minlength=len(self))

    def out_degree(self) -> np.ndarray:
        """Outgoing synapses per neuron."""
        return np.bincount(self._syn["pre"], minlength=len(self))

    def neuron_at(self, i: int) -> Neuron:
        """Neuron ``i`` as a :class:`Neuron` value."""
        c = self._nrn
        values = {k: float(c[k][i]) for k in NEURON_PARAMS}
        return Neuron(self._names.name(i), **values, is_input=bool(c["input"][i]), loc=self.location_of(i),
                      tags=self.tags_of(i))

    def __getitem__(self, name: str) -> Neuron:
        return self.neuron_at(self._one(name, "lookup", None))

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self._names.find(name) >= 0

    def __len__(self) -> int:
        return len(self._names)

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def neurons(self) -> list[Neuron]:
        """Every neuron (inputs included), in network order, as :class:`Neuron` values."""
        c = self._nrn
        names = self.names()
        cols = [c[k].tolist() for k in NEURON_PARAMS]
        locs = self.neuron_locations()
        tags = [self._tags.values[t] for t in c["tags"].tolist()]
        return [Neuron(nm, *vals, is_input=inp, loc=lc, tags=tg)  # type: ignore[misc]
                for nm, *vals, inp, lc, tg in zip(names, *cols, c["input"].tolist(), locs, tags, strict=True)]

    def inputs(self) -> list[str]:
        """Names of the input neurons, in network order."""
        return self.names(self.input_indices())

    def input_indices(self) -> np.ndarray:
        """Indices of the input neurons, in network order."""
        return np.flatnonzero(self._nrn["input"])

    def synapses(self) -> Iterator[Synapse]:
        """Every synapse, grouped by presynaptic neuron in network order (insertion order
        within a group), as :class:`Synapse` values."""
        names = self.names()
        pre, post, w, d = self.pre, self.post, self.weight, self.delay
        locs = [self._locs.get(i) for i in self._syn["loc"].tolist()]
        for p, q, ww, dd, key, lc in zip(pre.tolist(), post.tolist(), w.tolist(), d.tolist(),
                                         self._parallel_keys().tolist(), locs, strict=True):
            yield Synapse(names[p], names[q], ww, dd, key, lc)

    def _parallel_keys(self) -> np.ndarray:
        """Each synapse's rank among the synapses joining the same pair (0, 1, ...)."""
        pre, post = self.pre.astype(np.int64), self.post.astype(np.int64)
        if not len(pre):
            return np.zeros(0, dtype=np.int64)
        pair = pre * max(len(self), 1) + post
        order = np.argsort(pair, kind="stable")
        sorted_pair = pair[order]
        starts = np.ones(len(pair), dtype=bool)
        starts[1:] = sorted_pair[1:] != sorted_pair[:-1]
        group_start = np.maximum.accumulate(np.where(starts, np.arange(len(pair)), 0))
        keys = np.empty(len(pair), dtype=np.int64)
        keys[order] = np.arange(len(pair)) - group_start
        return keys

    @property
    def num_neurons(self) -> int:
        """Number of neurons, inputs included."""
        return len(self)

    @property
    def num_synapses(self) -> int:
        """Number of synapses."""
        return len(self._syn)

    @property
    def nbytes(self) -> int:
        """Bytes the IR holds for this network: columns, names, locations and tags."""
        locs = sum(100 + len(loc.file) + len(loc.text or "") for loc in self._locs.values)
        tags = sum(200 + 60 * len(t) for t in self._tags.values)
        times = sum(100 + 8 * len(t) for t in self._times.values())
        return self._nrn.nbytes + self._syn.nbytes + self._names.nbytes + locs + tags + times
