"""Feed-forward threshold circuits: gates, pipeline stages, and their neurons.

A :class:`ThresholdCircuit` is a symbolic netlist of threshold gates over
named 0/1 signals: the circuit's input ports and the outputs of other
gates. Each :class:`Gate` computes::

    y = [ sum_i w_i * x_i >= theta ]

on the values its inputs carry *for the same input word*. Emitting the
circuit turns each gate into one memoryless neuron (``decay = 1``) and
places it on a pipeline *stage*: the inputs are at stage 0, a gate at
``1 + max(stage of its inputs)``, and each synapse gets the delay
``stage(gate) - stage(source)``, so every path from the inputs to a gate
has the same length. The outputs are then aligned on one stage, the
circuit's *latency* L: a new input word may enter every step, and word k
(given at step k) leaves at step k + L.

A gate with ``theta <= 0`` fires without input; it becomes a neuron with
``threshold = 1`` and ``bias = 1 - theta`` (negative literals are negative
weights plus bias, never an inhibitory "always on" neuron).

Storage is arrays, so a circuit of millions of gates costs bytes per gate
and per input, not Python objects: signals are numbered (inputs first, then
gates in the order they were made) with their names in a
:class:`~spikec.ir.names.NameTable`, and gates come in *batches* holding
their thresholds and inputs (source numbers grouped by gate). :meth:`gate`
adds one gate; :meth:`add_gates` adds rows of gates named ``base[0]``,
``base[1]``, ... at once, and :meth:`emit` builds every batch with a few
bulk calls of the :class:`~spikec.ir.builder.Builder`.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from spikec.errors import NetworkError
from spikec.ir.builder import Builder, CircuitBuilder
from spikec.ir.names import NameTable
from spikec.synth._batches import Batch as _Batch
from spikec.synth._batches import compact as _compact
from spikec.synth._batches import merged as _merged
from spikec.synth._batches import repeated as _repeated
from spikec.synth._batches import stages_of, values_of

__all__ = [
    "Gate",
    "ThresholdCircuit",
    "Layout",
    "gate_params",
    "gate_columns",
    "port_signals",
]

@dataclass(frozen=True, slots=True)
class Gate:
    """A threshold gate ``name = [sum_i w_i * x_i >= theta]`` over 0/1 signals."""

    name: str
    inputs: tuple[tuple[str, float], ...]
    theta: float

    def fires(self, values: Mapping[str, np.ndarray]) -> np.ndarray:
        """The gate's output for arrays of input values (one entry per input word)."""
        total: np.ndarray | float = 0.0
        for source, weight in self.inputs:
            total = total + weight * values[source].astype(np.float64)
        shape = next(iter(values.values())).shape if values else ()
        return np.broadcast_to(np.asarray(total) >= self.theta, shape).copy()


def gate_params(theta: float) -> dict[str, float]:
    """Neuron parameters of a memoryless gate that fires when its input sum reaches ``theta``."""
    if theta >= 1:
        return {"threshold": float(theta), "decay": 1.0}
    return {"threshold": 1.0, "decay": 1.0, "bias": float(1 - theta)}


def gate_columns(theta: np.ndarray) -> dict[str, Any]:
    """:func:`gate_params` of many gates at once: one value per gate (or one for all)."""
    theta = np.asarray(theta, dtype=np.float64)
    if theta.size and theta.min() == theta.max():  # one value for all (stored once)
        t = float(theta.flat[0])
        return {"threshold": t if t >= 1 else 1.0, "decay": 1.0, "bias": 0.0 if t >= 1 else 1.0 - t}
    low = theta < 1
    return {"threshold": np.where(low, 1.0, theta), "decay": 1.0, "bias": np.where(low, 1.0 - theta, 0.0)}


def port_signals(port: str, size: int | None) -> list[str]:
    """Signal names of a port: ``[port]`` for one neuron, ``port[0]``, ... for an array."""
    return [port] if size is None else [f"{port}[{i}]" for i in range(size)]


@dataclass(frozen=True, slots=True)
class Layout:
    """Pipeline stages of every signal and the circuit's latency (stage of its outputs)."""

    stages: dict[str, int]
    latency: int


class _Gates(Mapping[str, Gate]):
    """The gates of a circuit by name, as :class:`Gate` values made on demand."""

    def __init__(self, circuit: ThresholdCircuit) -> None:
        self._c = circuit

    def __getitem__(self, name: str) -> Gate:
        i = self._c._names.find(name)
        if i < self._c._n_inputs:
            raise KeyError(name)
        return self._c._gate(i)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self._c._names.find(name) >= self._c._n_inputs

    def __iter__(self) -> Iterator[str]:
        c = self._c
        return iter(c._names.names(np.arange(c._n_inputs, len(c._names))))

    def __len__(self) -> int:
        return len(self._c._names) - self._c._n_inputs


class ThresholdCircuit:
    """A feed-forward circuit of threshold gates with named input and output ports.

    Build it with :meth:`gate` or :meth:`add_gates` (gates may only read
    signals that already exist, so the circuit is acyclic by construction)
    and :meth:`output`, then :meth:`emit` it. :meth:`evaluate` computes it
    directly, for tests. ``gates`` maps each gate's name to a :class:`Gate`.
    """

    def __init__(self, inputs: Mapping[str, int | None]) -> None:
        self.input_ports: dict[str, int | None] = dict(inputs)
        self._names = NameTable()
        for port, size in self.input_ports.items():
            if size is None:
                self._names.add(port)
            else:
                self._names.add_array(port, size)
        self._n_inputs = len(self._names)
        self._batches: list[_Batch] = []
        self._open: tuple[list[float], list[int], list[int], list[float]] = ([], [], [], [])
        self._outputs: dict[str, np.ndarray] = {}
        self._array_outputs: set[str] = set()
        self.gates: Mapping[str, Gate] = _Gates(self)
        self._stage_cache: tuple[int, np.ndarray] | None = None  # (signals, stages)

    @property
    def inputs(self) -> list[str]:
        """The input signals' names, port by port."""
        return self._names.names(np.arange(self._n_inputs))

    @property
    def outputs(self) -> dict[str, list[str]]:
        """Each output port's signals, by name."""
        return {port: self._names.names(ids) for port, ids in self._outputs.items()}

    @property
    def num_signals(self) -> int:
        """Inputs and gates: the signal number the next gate gets."""
        return len(self._names)

    def signals(self, names: Iterable[str]) -> np.ndarray:
        """The numbers of signals ``names`` (for :meth:`add_gates`)."""
        names = list(names)
        ids = self._names.find_many(names)
        missing = np.flatnonzero(ids < 0)
        if len(missing):
            raise NetworkError(f"threshold circuit: unknown signal '{names[int(missing[0])]}'")
        return ids

    def port(self, name: str) -> np.ndarray:
        """The signal numbers of input port ``name``, in order."""
        size = self.input_ports[name]
        found = self._names.array_of(name) if size is not None else None
        if found is not None and len(found) == size:
            return found
        return self.signals(port_signals(name, size))

    # ---- building ------------------------------------------------------------------

    def gate(self, name: str, inputs: Iterable[tuple[str, float]], theta: float) -> str:
        """Add gate ``name = [sum w * x >= theta]`` and return its name.

        Repeated sources are merged (weights add); zero weights are dropped.
        """
        names = self._names
        if names.find(name) >= 0:
            raise NetworkError(f"threshold circuit: signal '{name}' is defined twice")
        merged: dict[int, float] = {}
        for source, weight in inputs:
            i = names.find(source)
            if i < 0:
                raise NetworkError(f"threshold circuit: gate '{name}' reads unknown signal '{source}'")
            merged[i] = merged.get(i, 0.0) + weight
        pairs = [(src, w) for src, w in merged.items() if w != 0]
        names.add(name)
        thetas, srcs, fans, weights = self._open
        thetas.append(theta)
        srcs.extend(src for src, _ in pairs)
        weights.extend(w for _, w in pairs)
        fans.append(len(pairs))
        return name

    def add_gates(self, bases: Sequence[str], widths: int | Sequence[int] | np.ndarray,
                  sources: np.ndarray, fan: int | Sequence[int] | np.ndarray, theta: Any,
                  weights: Any = 1.0, *, distinct: bool = False) -> np.ndarray:
        """Add rows of gates at once: row r is gates ``bases[r][0] .. bases[r][w - 1]`` with
        ``w`` its width (``widths``, one for all rows or one per row). Gate k (counting
        row by row) reads ``fan[k]`` signals (one count for all, or one per gate) taken in
        order from ``sources`` (signal numbers, :meth:`signals`; a gate may read gates made
        before it in the same call), with ``weights`` (one, or one per source) and
        threshold ``theta`` (one, or one per gate). ``distinct`` promises that no gate reads
        a signal twice (else repeats are merged, as in :meth:`gate`); zero weights are
        dropped. Returns the new gates' signal numbers."""
        rows = list(bases)
        width = np.broadcast_to(np.asarray(widths, dtype=np.int64), (len(rows),))
        if len(set(rows)) != len(rows):
            raise NetworkError("threshold circuit: two rows of gates have one name")
        for base, n in zip(rows, width.tolist(), strict=True):
            taken = self._names.taken_array(base, n)
            if taken is not None:
                raise NetworkError(f"threshold circuit: signal '{taken}' is defined twice")
        batch = self._batch(int(width.sum()), sources, fan, theta, weights, distinct)
        for base, n in zip(rows, width.tolist(), strict=True):
            self._names.add_array(base, n)
        batch.rows = (rows, width.copy())
        self._batches.append(batch)
        return np.arange(batch.start, batch.start + batch.count, dtype=np.int64)

    def add_named_gates(self, names: Sequence[str], sources: np.ndarray,
                        fan: int | Sequence[int] | np.ndarray, theta: Any, weights: Any = 1.0, *,
                        distinct: bool = False) -> np.ndarray:
        """:meth:`add_gates` for gates with names of any form, one per gate (made one at
        a time, which costs a little more per gate)."""
        names = list(names)
        found = self._names.find_many(names)
        if np.any(found >= 0) or len(set(names)) != len(names):
            twice = next((n for n, i in zip(names, found.tolist(), strict=True) if i >= 0), None)
            raise NetworkError(f"threshold circuit: signal '{twice or _repeated(names)}' is defined twice")
        batch = self._batch(len(names), sources, fan, theta, weights, distinct)
        for name in names:
            self._names.add(name)
        self._batches.append(batch)
        return np.arange(batch.start, batch.start + batch.count, dtype=np.int64)

    def _batch(self, count: int, sources: np.ndarray, fan: int | Sequence[int] | np.ndarray,
               theta: Any, weights: Any, distinct: bool) -> _Batch:
        """The checked batch of ``count`` new gates (not yet added)."""
        self._flush()
        start = len(self._names)
        src = np.asarray(sources).reshape(-1)
        fans = np.broadcast_to(np.asarray(fan, dtype=np.int64), (count,))
        indptr = np.zeros(count + 1, dtype=np.int64)
        np.cumsum(fans, out=indptr[1:])
        if indptr[-1] != len(src):
            raise NetworkError(f"threshold circuit: the gates read {int(indptr[-1])} signals, got {len(src)}")
        if src.dtype.kind not in "iu":
            raise NetworkError("threshold circuit: sources must be signal numbers")
        if len(src) and (int(src.min()) < 0 or int(src.max()) >= start):
            has = fans > 0  # gates may read earlier gates of the same call
            latest = np.maximum.reduceat(src, indptr[:-1][has]).astype(np.int64)
            if int(src.min()) < 0 or np.any(latest >= start + np.flatnonzero(has)):
                raise NetworkError("threshold circuit: a gate reads an unknown or later signal")
        src = src.astype(np.int32, copy=False)
        given = np.asarray(theta, dtype=np.float64)
        thetas = np.broadcast_to(given.copy() if given.ndim else given, (count,))
        w = np.asarray(weights)
        w = w.reshape(-1) if w.ndim else w
        if w.dtype.kind not in "iuf" or (w.ndim and w.size != len(src)):
            raise NetworkError(f"threshold circuit: weights must be one number or {len(src)}, got"
                               f" shape {w.shape}")
        if w.dtype.kind == "f" and not np.all(np.isfinite(w)):
            raise NetworkError("threshold circuit: weights must be finite")
        w = np.broadcast_to(w, src.shape)
        if not distinct or bool(np.any(w == 0)):
            src, indptr, w = _merged(src, indptr, w.astype(np.float64))
        return _Batch(start, count, thetas, src, indptr, _compact(np.asarray(w)), None)

    def _flush(self) -> None:
        """Turn the gates made one at a time since the last batch into a batch."""
        thetas, srcs, fans, weights = self._open
        if not thetas:
            return
        count = len(thetas)
        indptr = np.zeros(count + 1, dtype=np.int64)
        np.cumsum(fans, out=indptr[1:])
        start = len(self._names) - count
        self._batches.append(_Batch(start, count, np.asarray(thetas, dtype=np.float64),
                                    np.asarray(srcs, dtype=np.int32), indptr,
                                    _compact(np.asarray(weights, dtype=np.float64)), None))
        self._open = ([], [], [], [])

    def relay(self, name: str, source: str) -> str:
        """A gate that copies ``source`` (one step later, or later still once aligned)."""
        return self.gate(name, [(source, 1)], 1)

    def output(self, port: str, signals: str | Sequence[str] | np.ndarray) -> None:
        """Declare output ``port``: one signal, or a list of them (an array, even of one);
        names, or signal numbers."""
        if isinstance(signals, str):
            names = [signals]
        elif isinstance(signals, np.ndarray):
            ids = signals.astype(np.int64).reshape(-1)
            if len(ids) and (ids.min() < 0 or ids.max() >= len(self._names)):
                raise NetworkError(f"threshold circuit: output '{port}' names an unknown signal")
            self._outputs[port] = ids
            self._array_outputs.add(port)
            return
        else:
            names = list(signals)
            self._array_outputs.add(port)
        ids = self._names.find_many(names)
        missing = np.flatnonzero(ids < 0)
        if len(missing):
            raise NetworkError(f"threshold circuit: output '{port}' names unknown signal"
                               f" '{names[int(missing[0])]}'")
        self._outputs[port] = ids

    # ---- reading the batches ------------------------------------------------------------

    def _all(self) -> list[_Batch]:
        self._flush()
        return self._batches

    def _gate(self, i: int) -> Gate:
        batches = self._all()
        b = batches[bisect.bisect_right([x.start for x in batches], i) - 1]
        k = i - b.start
        lo, hi = int(b.indptr[k]), int(b.indptr[k + 1])
        src = b.src[lo:hi].tolist()
        w = b.weights(lo, hi).tolist()
        names = self._names.names(src) if src else []
        return Gate(self._names.name(i), tuple(zip(names, w, strict=True)), float(b.theta[k]))

    def _consumer_counts(self) -> np.ndarray:
        counts = np.zeros(len(self._names), dtype=np.int64)
        for b in self._all():
            counts += np.bincount(b.src, minlength=len(self._names))
        return counts

    def prune(self) -> int:
        """Remove the gates that no output depends on; return how many went."""
        n = len(self._names)
        live = np.zeros(n, dtype=bool)
        for ids in self._outputs.values():
            live[ids] = True
        for b in reversed(self._all()):
            if live[b.start:b.start + b.count].all():
                live[b.src] = True
                continue
            fans = np.diff(b.indptr)
            while True:  # a gate may read gates of its own batch: until nothing changes
                mask = np.repeat(live[b.start:b.start + b.count], fans)
                before = live[b.start:b.start + b.count].copy()
                live[b.src[mask]] = True
                if b.closed or np.array_equal(before, live[b.start:b.start + b.count]):
                    break
        live[: self._n_inputs] = True
        dead = int(n - np.count_nonzero(live))
        if dead:
            self._keep(live)
        return dead

    def _keep(self, keep: np.ndarray) -> None:
        """Keep only the signals where ``keep`` (all that the kept gates read)."""
        new_id = np.cumsum(keep) - 1
        batches = []
        for b in self._batches:
            kept = keep[b.start:b.start + b.count]
            if not kept.any():
                continue
            edge = np.repeat(kept, np.diff(b.indptr))
            fans = np.diff(b.indptr)[kept]
            indptr = np.zeros(len(fans) + 1, dtype=np.int64)
            np.cumsum(fans, out=indptr[1:])
            weight = b.weight[edge] if isinstance(b.weight, np.ndarray) else b.weight
            whole = bool(kept.all())
            batches.append(_Batch(int(new_id[b.start + int(np.argmax(kept))]), int(kept.sum()),
                                  b.theta[kept], new_id[b.src[edge]].astype(np.int32), indptr, weight,
                                  b.rows if whole else None))
        self._batches = batches
        self._stage_cache = None
        self._names.keep(np.flatnonzero(keep))
        self._outputs = {port: new_id[ids] for port, ids in self._outputs.items()}

    # ---- stages ----------------------------------------------------------------------

    def consumers(self) -> dict[str, int]:
        """How many gates read each signal."""
        counts = self._consumer_counts()
        read = np.flatnonzero(counts)
        return dict(zip(self._names.names(read), counts[read].tolist(), strict=True))

    def _stages(self) -> np.ndarray:
        """Each signal's stage, as soon as possible: inputs 0, a gate one more than its
        latest input."""
        batches = self._all()
        cached = self._stage_cache
        if cached is not None and cached[0] == len(self._names):
            return cached[1].copy()
        stage = stages_of(batches, len(self._names))
        self._stage_cache = (len(self._names), stage)
        return stage.copy()

    def _out_ids(self) -> np.ndarray:
        parts = list(self._outputs.values())
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)

    def align_outputs(self) -> None:
        """Make every output a gate that can be held back to the latency without
        delaying anything else: an output that is an input, or that other gates
        read, gets a relay gate named ``SIGNAL.relay``."""
        outs = self._out_ids()
        if not len(outs):
            return
        stages = self._stages()
        latency = max(int(stages[outs].max()), 1)
        used = self._consumer_counts()
        for port, ids in self._outputs.items():
            late = (stages[ids] < latency) & ((ids < self._n_inputs) | (used[ids] > 0))
            if not late.any():
                continue
            ids = ids.copy()
            for k in np.flatnonzero(late).tolist():
                sig = self._names.name(int(ids[k]))
                relay = f"{sig}.relay"
                found = self._names.find(relay)
                if found < self._n_inputs:
                    self.relay(relay, sig)
                    found = len(self._names) - 1
                ids[k] = found
            self._outputs[port] = ids

    def _layout(self) -> tuple[np.ndarray, int]:
        stages = self._stages()
        outs = self._out_ids()
        if len(outs):
            latency = max(int(stages[outs].max()), 1)
            gates = outs[outs >= self._n_inputs]
            stages[gates] = latency
        else:
            latency = int(stages.max()) if len(stages) else 0
        return stages, latency

    def layout(self) -> Layout:
        """Stages of all signals, with every output held back to the latency.

        Call :meth:`align_outputs` first (``emit`` does) so that holding an
        output back delays nothing else.
        """
        stages, latency = self._layout()
        return Layout(dict(zip(self._names.names(), stages.tolist(), strict=True)), latency)

    # ---- using it ----------------------------------------------------------------------

    def emit(self, builder: CircuitBuilder, inputs: Mapping[str, Sequence[str]],
             names: Mapping[str, str] | None = None) -> dict[str, list[str]]:
        """Add the circuit's neurons and synapses through ``builder``.

        ``inputs`` maps each input port to the full names of the neurons that
        drive it; ``names`` optionally renames gates (local names). Returns
        the full neuron names of each output port.
        """
        if names or not isinstance(builder, Builder):
            return self._emit_each(builder, inputs, names or {})
        made = self.emit_indices(builder, inputs)
        return {port: builder.net.names(idx) for port, idx in made.items()}

    def _input_indices(self, net: Any, inputs: Mapping[str, Sequence[str]]) -> np.ndarray:
        where = []
        for port, size in self.input_ports.items():
            given = inputs[port]
            want = 1 if size is None else size
            if len(given) != want:
                raise NetworkError(f"threshold circuit: port '{port}' takes {want} neurons, got {len(given)}")
            idx = getattr(given, "idx", None)
            where.append(np.asarray(idx, dtype=np.int64) if idx is not None else net.resolve(list(given)))
        return np.concatenate(where) if where else np.zeros(0, dtype=np.int64)

    def emit_indices(self, builder: Builder, inputs: Mapping[str, Sequence[str]]) -> dict[str, np.ndarray]:
        """:meth:`emit` through a :class:`~spikec.ir.builder.Builder`, in bulk (one call
        per batch or row of gates, synapses in chunks); returns each output's network
        indices."""
        self.align_outputs()
        stages, _ = self._layout()
        net = builder.net
        where = np.empty(len(self._names), dtype=np.int64)
        where[: self._n_inputs] = self._input_indices(net, inputs)
        batches = self._all()
        make_room = getattr(builder, "reserve", None)
        if make_room is not None:
            make_room(len(self._names) - self._n_inputs, sum(len(b.src) for b in batches))
        for b in batches:
            params = gate_columns(b.theta)
            if b.rows is None:
                local = self._names.names(np.arange(b.start, b.start + b.count))
                where[b.start:b.start + b.count] = builder.named(local, **params)
            else:
                bases, widths = b.rows
                where[b.start:b.start + b.count] = builder.neuron_rows(bases, widths, **params)
        for b in batches:
            for k0, k1 in b.chunks():
                lo, hi = int(b.indptr[k0]), int(b.indptr[k1])
                if hi == lo:
                    continue
                src, dst = b.src[lo:hi], b.start + b.gates_of(lo, hi)
                builder.synapses(where[src], where[dst], b.weights(lo, hi), stages[dst] - stages[src])
        return {port: where[ids] for port, ids in self._outputs.items()}

    def _emit_each(self, builder: CircuitBuilder, inputs: Mapping[str, Sequence[str]],
                   rename: Mapping[str, str]) -> dict[str, list[str]]:
        """:meth:`emit` one neuron and one synapse at a time (any :class:`CircuitBuilder`)."""
        self.align_outputs()
        stages, _ = self._layout()
        full: list[str] = []
        for port, size in self.input_ports.items():
            given = list(inputs[port])
            want = port_signals(port, size)
            if len(given) != len(want):
                raise NetworkError(
                    f"threshold circuit: port '{port}' takes {len(want)} neurons, got {len(given)}")
            full.extend(given)
        names = self._names.names()
        for b in self._all():
            for k in range(b.count):
                name = names[b.start + k]
                full.append(builder.neuron(rename.get(name, name), **gate_params(float(b.theta[k]))))
        for b in self._all():
            weights = b.weights().tolist()
            src = b.src.tolist()
            for k, e in zip(b.gates_of(0, len(src)).tolist(), range(len(src)), strict=True):
                g = b.start + k
                builder.synapse(full[src[e]], full[g], weights[e], int(stages[g] - stages[src[e]]))
        return {port: [full[i] for i in ids.tolist()] for port, ids in self._outputs.items()}

    def is_array_output(self, port: str) -> bool:
        """True when ``port`` was declared as a list of signals."""
        return port in self._array_outputs

    def _values(self, values: Mapping[str, np.ndarray]) -> np.ndarray:
        """Every signal's value (rows) for input words (columns)."""
        names = self.inputs
        width = np.shape(values[names[0]]) if names else (0,)
        out = np.zeros((len(self._names), *width), dtype=bool)
        for i, name in enumerate(names):
            out[i] = np.asarray(values[name], dtype=bool)
        return values_of(self._all(), out)

    def evaluate(self, values: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Every signal's value for the given input values (bool arrays of one shape)."""
        out = self._values(values)
        return dict(zip(self._names.names(), out, strict=True))

    def evaluate_ports(self, words: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Evaluate on integer words: ``words[port]`` holds one unsigned integer per
        row (bit i drives ``port[i]``); returns each output port as integers the same way."""
        values: dict[str, np.ndarray] = {}
        for port, size in self.input_ports.items():
            word = np.asarray(words[port], dtype=object)
            for i, sig in enumerate(port_signals(port, size)):
                values[sig] = np.array([(int(x) >> i) & 1 == 1 for x in word], dtype=bool)
        signals = self._values(values)
        result: dict[str, np.ndarray] = {}
        rows = len(next(iter(words.values())))
        for port, ids in self._outputs.items():
            acc = np.zeros(rows, dtype=object)
            for i, sig in enumerate(ids.tolist()):
                acc = acc + signals[sig].astype(object) * (1 << i)
            result[port] = acc
        return result

    @property
    def num_gates(self) -> int:
        """Number of gates (neurons once emitted), after output alignment."""
        self.align_outputs()
        return len(self._names) - self._n_inputs

    @property
    def num_synapses(self) -> int:
        """Number of synapses once emitted, after output alignment."""
        self.align_outputs()
        return sum(len(b.src) for b in self._all())
