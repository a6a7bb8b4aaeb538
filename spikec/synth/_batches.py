"""The storage of :class:`~spikec.synth.threshold.ThresholdCircuit`: gates in batches.

A batch holds consecutive gates (by signal number) as arrays: their
thresholds, and their inputs as source numbers grouped by gate (CSR) with
weights kept in the smallest exact type, so a batch of millions of gates of
fan-in hundreds costs about five bytes per input.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["Batch", "compact", "merged", "repeated", "stages_of", "values_of", "EMIT_CHUNK"]

#: Most inputs handled in one piece (emitting, computing stages): bounds the temporaries.
EMIT_CHUNK = 1 << 20


@dataclass(slots=True)
class Batch:
    """Gates ``start .. start + count`` (signal numbers) and their inputs: gate k reads
    ``src[indptr[k]:indptr[k + 1]]`` with weights ``weight`` (one per input, stored in
    the smallest type that holds them exactly, or one for all). ``rows`` names them
    ``base[0..width)`` row by row; None: each has its own name."""

    start: int
    count: int
    theta: np.ndarray
    src: np.ndarray
    indptr: np.ndarray
    weight: np.ndarray | float
    rows: tuple[list[str], np.ndarray] | None

    def weights(self, lo: int = 0, hi: int | None = None) -> np.ndarray:
        """The weights of inputs ``lo .. hi``, as float64."""
        hi = len(self.src) if hi is None else hi
        if isinstance(self.weight, np.ndarray):
            return self.weight[lo:hi].astype(np.float64)
        return np.full(hi - lo, self.weight, dtype=np.float64)

    def gates_of(self, lo: int, hi: int) -> np.ndarray:
        """The gate (0 .. count) of inputs ``lo .. hi``."""
        return np.searchsorted(self.indptr, np.arange(lo, hi, dtype=np.int64), side="right") - 1

    @property
    def closed(self) -> bool:
        """Every source comes before the batch (no gate reads one of its own batch)."""
        return not len(self.src) or int(self.src.max()) < self.start

    def chunks(self) -> Iterator[tuple[int, int]]:
        """Gate ranges ``(k0, k1)`` of at most about :data:`EMIT_CHUNK` inputs each."""
        k0 = 0
        while k0 < self.count:
            k1 = int(np.searchsorted(self.indptr, self.indptr[k0] + EMIT_CHUNK, side="right")) - 1
            k1 = min(max(k1, k0 + 1), self.count)
            yield k0, k1
            k0 = k1


def compact(values: np.ndarray) -> np.ndarray | float:
    """Weights as one number when all are equal, else in the smallest type that holds
    them exactly (int8 .. int32, or float64)."""
    if not len(values):
        return 1.0
    lo, hi = float(values.min()), float(values.max())
    if lo == hi:
        return lo
    if values.dtype.kind in "iu" or np.all(values == np.round(values)):
        for kind in (np.int8, np.int16, np.int32):
            info = np.iinfo(kind)
            if info.min <= lo and hi <= info.max:
                return values.astype(kind, copy=False)
    return values.astype(np.float64)


def repeated(names: Sequence[str]) -> str:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            return name
        seen.add(name)
    return ""


def merged(src: np.ndarray, indptr: np.ndarray, weight: np.ndarray | float
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each gate's inputs with repeated sources merged (weights added, first place kept)
    and zero weights dropped, as :meth:`~spikec.synth.threshold.ThresholdCircuit.gate` does."""
    count = len(indptr) - 1
    if not len(src):
        return src, indptr, np.zeros(0, dtype=np.float64)
    gate = np.repeat(np.arange(count, dtype=np.int64), np.diff(indptr))
    w = np.broadcast_to(np.asarray(weight, dtype=np.float64), src.shape)
    order = np.lexsort((np.arange(len(src)), src, gate))
    g, s_ = gate[order], src[order]
    first = np.ones(len(src), dtype=bool)
    first[1:] = (g[1:] != g[:-1]) | (s_[1:] != s_[:-1])
    starts = np.flatnonzero(first)
    total = np.add.reduceat(w[order], starts)
    place = order[starts]  # where each merged input first appeared
    keep = total != 0
    back = np.argsort(place[keep], kind="stable")
    kept_gate = g[starts][keep][back]
    fans = np.bincount(kept_gate, minlength=count)
    out_ptr = np.zeros(count + 1, dtype=np.int64)
    np.cumsum(fans, out=out_ptr[1:])
    return s_[starts][keep][back], out_ptr, total[keep][back]


def stages_of(batches: Sequence[Batch], signals: int) -> np.ndarray:
    """Each signal's pipeline stage, as soon as possible: signals before the first batch
    (the inputs) 0, a gate one more than its latest input (int32)."""
    stage = np.zeros(signals, dtype=np.int32)
    for b in batches:
        closed = b.closed
        for _ in range(b.count + 1):  # a pass per level of gates reading their own batch
            changed = False
            for k0, k1 in b.chunks():
                lo, hi = int(b.indptr[k0]), int(b.indptr[k1])
                fans = np.diff(b.indptr[k0:k1 + 1])
                top = np.zeros(k1 - k0, dtype=np.int32)
                has = fans > 0
                if hi > lo:
                    top[has] = np.maximum.reduceat(stage[b.src[lo:hi]], b.indptr[k0:k1][has] - lo)
                new = 1 + top
                old = stage[b.start + k0:b.start + k1]
                changed = changed or not np.array_equal(old, new)
                stage[b.start + k0:b.start + k1] = new
            if closed or not changed:
                break
    return stage


def values_of(batches: Sequence[Batch], out: np.ndarray) -> np.ndarray:
    """Fill in the gates' rows of ``out`` (signal x input word, the inputs' rows given)."""
    for b in batches:
        weights = b.weights()
        for k in range(b.count):  # gates may read gates of their own batch
            lo, hi = int(b.indptr[k]), int(b.indptr[k + 1])
            total: np.ndarray | float = 0.0
            for x, w in zip(b.src[lo:hi].tolist(), weights[lo:hi].tolist(), strict=True):
                total = total + w * out[x].astype(np.float64)
            out[b.start + k] = np.asarray(total) >= b.theta[k]
    return out
