"""Building networks in bulk and editing them: the methods passes and generators use.

:class:`NetworkEdits` adds to :class:`~spikec.ir.store.NetworkStore` the
calls that take whole groups at once, with a constant number of Python
calls whatever their size: arrays of neurons (:meth:`~NetworkEdits.add_neurons`,
:meth:`~NetworkEdits.add_inputs`, :meth:`~NetworkEdits.add_named`), groups of
synapses (:meth:`~NetworkEdits.add_synapses`, :meth:`~NetworkEdits.connect`,
:meth:`~NetworkEdits.copy_synapses`), and the edits of passes (set, remove).
Every call checks its values vectorized and changes nothing when one is
invalid, naming the first bad object.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from spikec.errors import NetworkError, SourceLocation, VerifyError, did_you_mean
from spikec.ir.payloads import DEFAULT_PARAMS, NEURON_PARAMS, check_name
from spikec.ir.store import NetworkStore, Neurons

__all__ = ["NetworkEdits", "MAX_NEURONS"]

#: Neuron indices are int32 in the synapse columns.
MAX_NEURONS = 2**31 - 1


class NetworkEdits(NetworkStore):
    """Bulk building and editing (see the module docstring)."""

    def _new_name(self, name: Any, loc: SourceLocation | None) -> None:
        check_name(name, loc)
        i = self._names.find(name)
        if i >= 0:
            old = self._locs.get(int(self._nrn["loc"][i]))
            where = f" (first declared at {old})" if old is not None else ""
            raise NetworkError(f"duplicate neuron name '{name}'{where}", loc)
        if len(self._names) >= MAX_NEURONS:
            raise NetworkError(f"a network holds at most {MAX_NEURONS:,} neurons", loc)

    def reserve(self, neurons: int = 0, synapses: int = 0) -> None:
        """Make room for this many more neurons and synapses at once, so that building a
        large network in many calls copies its columns once instead of as they grow."""
        for what, n in (("neurons", neurons), ("synapses", synapses)):
            if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 0:
                raise NetworkError(f"reserve: {what} must be an integer >= 0, got {n!r:.40}")
        self._nrn.reserve(int(neurons))
        self._names.cols.reserve(int(neurons))
        self._syn.reserve(int(synapses))

    def add_neurons(self, name: str, n: int, *, loc: SourceLocation | None = None,
                    tags: Iterable[str] = (), **params: Any) -> np.ndarray:
        """Add ``n`` neurons ``name[0]`` .. ``name[n-1]``; each parameter is a scalar or an
        array of ``n`` values. Returns their indices."""
        count = self._count(name, n, loc)
        values = self._neuron_values(f"neurons '{name}'", lambda k: f"{name}[{k}]", params, count, loc)
        values.update(input=False, tags=self._tags.id(frozenset(tags)), loc=self._locs.id(loc),
                      rate=math.nan)
        return self._append_array(name, count, values)

    def _neuron_values(self, owner: str, name_of: Any, params: dict[str, Any], count: int,
                       loc: SourceLocation | None) -> dict[str, Any]:
        """The six parameter columns of ``count`` new neurons from ``params`` (scalars or one
        value each; defaults for the rest), checked: known names, finite reals, decay and p
        in [0, 1]. ``name_of(k)`` names the k-th new neuron in messages."""
        unknown = sorted(set(params) - set(NEURON_PARAMS))
        if unknown:
            hint = did_you_mean(unknown[0], NEURON_PARAMS)
            raise NetworkError(f"{owner}: unknown parameter '{unknown[0]}'{hint}", loc)
        values: dict[str, Any] = {
            key: self._real_array(owner, key, params.get(key, DEFAULT_PARAMS[key]), count, loc)
            for key in NEURON_PARAMS}
        for key in ("decay", "p"):
            flat = np.broadcast_to(values[key], (count,))
            bad = np.flatnonzero((flat < 0.0) | (flat > 1.0))
            if len(bad):
                raise VerifyError(f"neuron '{name_of(int(bad[0]))}': {key} must be in [0, 1], got"
                                  f" {flat[bad[0]]:g}", loc)
        return values

    def add_inputs(self, name: str, n: int, *, loc: SourceLocation | None = None,
                   tags: Iterable[str] = ()) -> np.ndarray:
        """Add ``n`` input neurons ``name[0]`` .. ``name[n-1]``; return their indices."""
        count = self._count(name, n, loc)
        values = {**DEFAULT_PARAMS, "input": True, "tags": self._tags.id(frozenset(tags)),
                  "loc": self._locs.id(loc), "rate": math.nan}
        return self._append_array(name, count, values)

    def add_arrays(self, bases: Sequence[str], widths: int | Sequence[int] | np.ndarray, *,
                   loc: SourceLocation | None = None, tags: Iterable[str] = (), **params: Any) -> np.ndarray:
        """Add arrays ``bases[r][0]`` .. ``bases[r][widths[r] - 1]`` one after another, as
        that many :meth:`add_neurons` calls would, in one append (parameters are scalars or
        one value per neuron, all arrays together; one width for all, or one per array).
        Everything is checked before anything is added. Returns the indices."""
        bases = list(bases)
        width = np.broadcast_to(np.asarray(widths, dtype=np.int64), (len(bases),))
        if len(set(bases)) != len(bases):
            seen: set[str] = set()
            twice = next(b for b in bases if b in seen or seen.add(b))  # type: ignore[func-returns-value]
            raise NetworkError(f"neurons: the array name '{twice}' is given twice", loc)
        for base, n in zip(bases, width.tolist(), strict=True):
            self._count(base, n, loc)
        total = int(width.sum())
        if len(self) + total > MAX_NEURONS:
            raise NetworkError(f"a network holds at most {MAX_NEURONS:,} neurons", loc)
        ends = np.cumsum(width)

        def name_of(k: int) -> str:
            row = int(np.searchsorted(ends, k, side="right"))
            return f"{bases[row]}[{k - int(ends[row] - width[row])}]"

        values = self._neuron_values(f"neurons '{bases[0]}'" if bases else "neurons", name_of, params, total,
                                     loc)
        values.update(input=False, tags=self._tags.id(frozenset(tags)), loc=self._locs.id(loc), rate=math.nan)
        rows = self._nrn.append(total, values)
        for base, n in zip(bases, width.tolist(), strict=True):
            self._names.add_array(base, n)
        self._edited()
        return np.arange(rows.start, rows.stop, dtype=np.int64)

    def add_named(self, names: Sequence[str], *, inputs: bool = False,
                  loc: SourceLocation | None | Sequence[SourceLocation | None] = None,
                  tags: Iterable[str] | Sequence[Iterable[str]] = (), **params: Any) -> np.ndarray:
        """Add neurons with the given names at once (inputs when ``inputs``); parameters
        are scalars or one value per neuron, ``loc`` one location or one per neuron, ``tags``
        one tag set or one per neuron. Returns their indices. Nothing is added if a name is
        taken or a value is invalid."""
        names = list(names)
        count = len(names)
        locs: list[SourceLocation | None] = (list(loc) if isinstance(loc, (list, tuple))
                                             else [loc] * count)  # type: ignore[list-item]
        first_loc = locs[0] if count else None
        seen: set[str] = set()
        for name, where in zip(names, locs, strict=True):
            self._new_name(name, where)
            if name in seen:
                raise NetworkError(f"duplicate neuron name '{name}'", where)
            seen.add(name)
        if len(self._names) + count > MAX_NEURONS:
            raise NetworkError(f"a network holds at most {MAX_NEURONS:,} neurons", first_loc)
        values = self._neuron_values(f"neuron '{names[0]}'" if count else "neurons", names.__getitem__,
                                     {} if inputs else params, count, first_loc)
        many_tags = isinstance(tags, (list, tuple)) and bool(tags) and not isinstance(tags[0], str)
        tag_ids: Any = (np.array([self._tags.id(frozenset(t)) for t in tags], dtype=np.int32)
                        if many_tags else self._tags.id(frozenset(tags)))  # type: ignore[arg-type]
        loc_ids = np.array([self._locs.id(x) for x in locs], dtype=np.int32)
        values.update(input=inputs, tags=tag_ids, loc=loc_ids, rate=math.nan)
        rows = self._nrn.append(count, values)
        for name in names:
            self._names.add(name)
        self._edited()
        return np.arange(rows.start, rows.stop, dtype=np.int64)

    def _count(self, name: str, n: Any, loc: SourceLocation | None) -> int:
        check_name(name, loc)
        if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 0:
            raise NetworkError(f"neurons '{name}': the count must be an integer >= 0, got {n!r:.40}", loc)
        if len(self._names) + int(n) > MAX_NEURONS:
            raise NetworkError(f"neurons '{name}': a network holds at most {MAX_NEURONS:,} neurons", loc)
        taken = self._names.taken_array(name, int(n))
        if taken is not None:
            i = self._names.find(taken)
            old = self._locs.get(int(self._nrn["loc"][i]))
            where = f" (first declared at {old})" if old is not None else ""
            raise NetworkError(f"duplicate neuron name '{taken}'{where}", loc)
        return int(n)

    def _append_array(self, name: str, count: int, values: dict[str, Any]) -> np.ndarray:
        rows = self._nrn.append(count, values)
        self._names.add_array(name, count)
        self._edited()
        return np.arange(rows.start, rows.stop, dtype=np.int64)

    def add_synapses(self, pre: Neurons, post: Neurons, weight: Any = 1.0, delay: Any = 1, *,
                     loc: SourceLocation | None = None,
                     locs: Sequence[SourceLocation | None] | None = None,
                     loc_index: np.ndarray | None = None) -> range:
        """Add ``pre[i] -> post[i]`` for every i (names or indices; weights and delays scalars
        or one per synapse). All synapses get source location ``loc``, or, with ``locs`` (a
        few distinct locations) and ``loc_index`` (one entry per synapse), synapse i gets
        ``locs[loc_index[i]]``. Nothing is added if any synapse is invalid. Returns the new
        synapses' indices."""
        a = self.resolve(pre, "synapse source", loc)
        b = self.resolve(post, "synapse target", loc)
        if len(a) != len(b):
            raise NetworkError(f"add_synapses: {len(a)} sources but {len(b)} targets", loc)
        loc_ids: Any = None
        if locs is not None:
            which = np.asarray(loc_index if loc_index is not None else np.zeros(len(a), dtype=np.int64))
            if which.shape != (len(a),) or (len(which) and (which.min() < 0 or which.max() >= len(locs))):
                raise NetworkError(f"add_synapses: loc_index must hold one index into locs per synapse"
                                   f" ({len(a)})", loc)
            table = np.array([self._locs.id(x) for x in locs], dtype=np.int32)
            loc_ids = table[which]
            loc = locs[int(which[0])] if len(which) else loc
        return self._append_synapses(a, b, weight, delay, loc, loc_ids)

    def connect(self, pre: Neurons, post: Neurons, weight: Any = 1.0, delay: Any = 1, *,
                one_to_one: bool = False, loc: SourceLocation | None = None) -> range:
        """Connect groups of neurons (names or indices) in one call; returns the new synapses'
        indices.

        - all-to-all (the default): ``pre[i] -> post[j]`` for every pair, ``pre``-major;
          ``weight`` and ``delay`` are scalars or ``(len(pre), len(post))`` arrays;
        - a scipy.sparse ``weight`` of that shape: one synapse per stored entry (duplicate
          entries summed, as scipy does), row-major, with ``delay`` a scalar, a dense
          matrix, or a sparse matrix storing the same entries;
        - ``one_to_one=True``: ``pre[i] -> post[i]`` (one side may be a single neuron),
          ``weight`` and ``delay`` scalars or one per synapse.
        """
        a = self.resolve(pre, "connect: source", loc)
        b = self.resolve(post, "connect: target", loc)
        if one_to_one:
            if len(a) == 1 and len(b) != 1:
                a = np.repeat(a, len(b))
            elif len(b) == 1 and len(a) != 1:
                b = np.repeat(b, len(a))
            if len(a) != len(b):
                raise NetworkError(f"connect: one-to-one needs groups of one size, got {len(a)} and {len(b)}",
                                   loc)
            return self._append_synapses(a, b, weight, delay, loc)
        shape = (len(a), len(b))
        if hasattr(weight, "tocsr"):
            rows, cols, values, delay = _sparse_entries(weight, delay, shape, loc)
            return self._append_synapses(a[rows], b[cols], values, delay, loc)
        for what, value in (("weight", weight), ("delay", delay)):
            if np.ndim(value) not in (0, 2) or (np.ndim(value) == 2 and np.shape(value) != shape):
                raise NetworkError(f"connect: {what} must be one value or a {shape} array, got shape"
                                   f" {np.shape(value)}", loc)
        if len(a) * len(b) > np.iinfo(np.int64).max // 64:
            raise NetworkError(f"connect: {len(a):,} x {len(b):,} synapses is too many", loc)
        pairs_a = np.repeat(a, len(b))
        pairs_b = np.tile(b, len(a))
        w = np.asarray(weight).reshape(-1) if np.ndim(weight) == 2 else weight
        d = np.asarray(delay).reshape(-1) if np.ndim(delay) == 2 else delay
        return self._append_synapses(pairs_a, pairs_b, w, d, loc)

    def _append_synapses(self, a: np.ndarray, b: np.ndarray, weight: Any, delay: Any,
                         loc: SourceLocation | None, loc_ids: Any = None) -> range:
        n = len(a)
        if n == 0:
            return range(len(self._syn), len(self._syn))
        is_input = self._nrn["input"]
        hit = np.flatnonzero(is_input[b])
        if len(hit):
            name = self._names.name(int(b[hit[0]]))
            raise VerifyError(f"synapse {self._names.name(int(a[hit[0]]))} -> {name}: '{name}' is an input"
                              " neuron and cannot receive synapses", loc)
        w = self._real_array("synapses", "weight", weight, n, loc)
        d = self._delays(delay, n, a, b, loc)
        ids = self._locs.id(loc) if loc_ids is None else loc_ids
        rows = self._syn.append(n, {"pre": a, "post": b, "weight": w, "delay": d, "loc": ids})
        first = int(a[0])
        if first < self._last_pre or (n > 1 and bool(np.any(a[1:] < a[:-1]))):
            self._sorted = False
        self._last_pre = int(a[-1])
        self._edited()
        return rows

    def copy_synapses(self, synapses: np.ndarray | range, *, pre: Any = None, post: Any = None,
                      weight: Any = None, delay: Any = None) -> range:
        """Append copies of existing synapses (indices in the grouped order), each column
        kept or replaced (a scalar, or one value per copy); source locations are kept.
        Returns the new synapses' indices."""
        self._sort_synapses()
        ids = np.arange(len(self._syn), dtype=np.int64)[synapses] if isinstance(synapses, range) \
            else np.asarray(synapses, dtype=np.int64)
        n = len(ids)
        cols = self._syn

        def column(name: str, given: Any) -> np.ndarray:
            if given is None:
                return cols[name][ids]
            return np.broadcast_to(np.asarray(given), (n,))

        a = column("pre", pre).astype(np.int64)
        b = column("post", post).astype(np.int64)
        for side, idx in (("source", a), ("target", b)):
            bad = np.flatnonzero((idx < 0) | (idx >= len(self)))
            if len(bad):
                raise NetworkError(f"copy_synapses: no neuron has index {int(idx[bad[0]])} (the {side})")
        hit = np.flatnonzero(self._nrn["input"][b])
        if len(hit):
            name = self._names.name(int(b[hit[0]]))
            raise VerifyError(f"synapse {self._names.name(int(a[hit[0]]))} -> {name}: '{name}' is an input"
                              " neuron and cannot receive synapses")
        w = self._real_array("synapses", "weight", column("weight", weight), n, None)
        d = self._delays(column("delay", delay), n, a, b, None) if n else np.zeros(0, dtype=np.int64)
        locs = cols["loc"][ids]
        rows = cols.append(n, {"pre": a, "post": b, "weight": w, "delay": d, "loc": locs})
        if n and (int(a[0]) < self._last_pre or bool(np.any(a[1:] < a[:-1]))):
            self._sorted = False
        if n:
            self._last_pre = int(a[-1])
        self._edited()
        return rows

    def update(self, name: str, **params: float) -> None:
        """Change parameters of neuron ``name`` (checked like :meth:`neuron`)."""
        i = self._one(name, "update", None)
        unknown = set(params) - set(NEURON_PARAMS)
        if unknown:
            bad = sorted(unknown)[0]
            hint = did_you_mean(bad, NEURON_PARAMS)
            raise NetworkError(f"neuron '{name}': unknown parameter '{bad}'{hint}")
        self.set_params(np.array([i]), **params)

    def set_params(self, neurons: Neurons, **params: Any) -> None:
        """Change parameters of many neurons at once (scalars or one value per neuron);
        checked, and nothing changes if a value is invalid."""
        idx = self.resolve(neurons, "set_params")
        unknown = sorted(set(params) - set(NEURON_PARAMS))
        if unknown:
            raise NetworkError(f"unknown parameter '{unknown[0]}'{did_you_mean(unknown[0], NEURON_PARAMS)}")
        checked = {}
        for key, value in params.items():
            first = self._names.name(int(idx[0])) if len(idx) else "?"
            arr = self._real_array(f"neuron '{first}'", key, value, len(idx), self.location_of(int(idx[0]))
                                   if len(idx) else None)
            if key in ("decay", "p"):
                flat = np.broadcast_to(arr, (len(idx),))
                bad = np.flatnonzero((flat < 0) | (flat > 1))
                if len(bad):
                    raise VerifyError(f"neuron '{self._names.name(int(idx[bad[0]]))}': {key} must be in"
                                      f" [0, 1], got {flat[bad[0]]:g}")
            checked[key] = arr
        for key, arr in checked.items():
            self._nrn.writable(key)[idx] = arr
        self._edited()

    def set_synapses(self, synapses: np.ndarray | range, *, weight: Any = None, delay: Any = None) -> None:
        """Change the weights and/or delays of synapses (indices in the grouped order)."""
        self._sort_synapses()
        ids = np.arange(len(self._syn))[synapses] if isinstance(synapses, range) else np.asarray(synapses)
        if weight is not None:
            w = self._real_array("synapses", "weight", weight, len(ids), None)
            self._syn.writable("weight")[ids] = w
        if delay is not None:
            d = self._delays(delay, len(ids), self._syn["pre"][ids], self._syn["post"][ids], None)
            self._syn.writable("delay")[ids] = d
        self._edited()

    def remove_synapses(self, synapses: np.ndarray) -> None:
        """Remove synapses: indices in the grouped order, or a boolean mask over them."""
        self._sort_synapses()
        drop = np.asarray(synapses)
        if drop.dtype == bool and drop.shape == (len(self._syn),):
            keep = ~drop
        else:
            keep = np.ones(len(self._syn), dtype=bool)
            keep[drop] = False
        if not keep.all():
            self._syn.keep(keep)  # a mask: no index array the size of the network
            self._last_pre = int(self._syn["pre"][-1]) if len(self._syn) else -1
            self._edited()

    def remove_neuron(self, name: str) -> None:
        """Remove a neuron with its synapses, probe entries and stimulus."""
        self.remove_neurons([self._one(name, "remove_neuron", None)])

    def remove_neurons(self, neurons: Neurons | np.ndarray) -> None:
        """Remove neurons (names, indices or a boolean mask over all neurons) with their
        synapses, probe entries and stimuli; the others keep their order."""
        if isinstance(neurons, np.ndarray) and neurons.dtype == bool:
            drop = np.flatnonzero(neurons)
        else:
            drop = self.resolve(neurons, "remove_neurons")
        if not len(drop):
            return
        keep = np.ones(len(self), dtype=bool)
        keep[drop] = False
        new_index = np.cumsum(keep) - 1
        self._sort_synapses()
        pre, post = self._syn["pre"], self._syn["post"]
        kept_syn = np.flatnonzero(keep[pre] & keep[post])
        gone = set(self._names.names(drop))
        self._syn.keep(kept_syn)
        self._syn.writable("pre")[:] = new_index[self._syn["pre"]]
        self._syn.writable("post")[:] = new_index[self._syn["post"]]
        self._last_pre = int(self._syn["pre"][-1]) if len(self._syn) else -1
        kept = np.flatnonzero(keep)
        self._nrn.keep(kept)
        self._names.keep(kept)
        self._times = {int(new_index[i]): t for i, t in self._times.items() if keep[i]}
        probes = []
        for probe in self.probes:
            cols = [k for k, n in enumerate(probe.neurons) if n not in gone]
            if len(cols) == len(probe.neurons):
                probes.append(probe)
            elif cols:
                key = probe.key
                if key is not None:  # the probe loses the neurons' columns of its key
                    key = tuple(tuple(row[k] for k in cols) for row in key)
                probes.append(replace(probe, neurons=tuple(probe.neurons[k] for k in cols), key=key))
        self.probes = probes
        self._edited()


def _sparse_entries(weight: Any, delay: Any, shape: tuple[int, int],
                    loc: SourceLocation | None) -> tuple[np.ndarray, np.ndarray, np.ndarray, Any]:
    """The stored entries of a scipy.sparse weight matrix in row-major order (rows, columns,
    values) and each entry's delay; a canonical CSR matrix is read without sorting."""
    if weight.shape != shape:
        raise NetworkError(f"connect: the weight matrix has shape {weight.shape}, the groups {shape}", loc)
    w = _canonical_csr(weight)
    rows = np.repeat(np.arange(shape[0], dtype=np.int64), np.diff(w.indptr))
    cols = w.indices.astype(np.int64, copy=False)
    if hasattr(delay, "tocsr"):
        if delay.shape != shape:
            raise NetworkError(f"connect: the delay matrix has shape {delay.shape}, the groups {shape}", loc)
        d = _canonical_csr(delay)
        if not (np.array_equal(d.indptr, w.indptr) and np.array_equal(d.indices, w.indices)):
            raise NetworkError("connect: the delay matrix must store the same entries as the weight matrix",
                               loc)
        delay = d.data
    elif np.ndim(delay) == 2:
        dense = np.asarray(delay)
        if dense.shape != shape:
            raise NetworkError(f"connect: the delay matrix has shape {dense.shape}, the groups {shape}", loc)
        delay = dense[rows, cols]
    elif np.ndim(delay) != 0:
        raise NetworkError(f"connect: with a sparse weight matrix the delay is one value or a matrix, got"
                           f" shape {np.shape(delay)}", loc)
    return rows, cols, w.data, delay


def _canonical_csr(matrix: Any) -> Any:
    """``matrix`` as CSR with sorted, unique column indices per row (duplicates summed)."""
    csr = matrix.tocsr()
    if not csr.has_canonical_format:
        csr = csr.copy()
        csr.sum_duplicates()
    return csr
