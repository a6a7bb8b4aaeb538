"""The spikec IR: a network of integrate-and-fire neurons, stored as arrays.

Neurons are rows of columns: the six parameters of ``docs/semantics.md``
(``threshold, decay, reset, bias, p, v0``), whether the neuron is an input,
its tag set and source location (ids into tables of distinct values), and a
Poisson stimulus rate; names live once in a :class:`~spikec.ir.names.NameTable`.
Synapses are rows of ``pre, post, weight, delay, loc``, kept grouped by
presynaptic neuron (insertion order within a group, which is the order the
simulator adds same-step inputs in). A neuron costs about 70 bytes and a
synapse 28; :attr:`Network.nbytes` reports what a network holds.

Build one item at a time (:meth:`Network.neuron`, :meth:`~Network.input`,
:meth:`~Network.synapse`) or in bulk with a constant number of Python calls
whatever the size (:meth:`~Network.add_neurons`, :meth:`~Network.add_inputs`,
:meth:`~Network.connect`, :meth:`~Network.add_synapses`); each call checks
its arguments at once, vectorized, and raises :class:`~spikec.errors.NetworkError`
(:class:`~spikec.errors.VerifyError` for a value outside the semantics)
naming the object, adding nothing. Read the columns as read-only arrays
(``net.threshold``, ``net.pre``, ...), single neurons as :class:`Neuron`
values (``net["maj"]``), and the structure as a networkx graph
(:attr:`Network.graph`, built on demand and cached until the next edit).

The network also carries what a program says about running it: probes
(which neurons to record and how to decode them) and file stimuli (spike
times or Poisson rates for input neurons). :func:`spikec.verify` checks
every rule of the semantics.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import Any

import numpy as np

from spikec.errors import NetworkError, SourceLocation, VerifyError, did_you_mean
from spikec.ir.bulk import NetworkEdits
from spikec.ir.payloads import (
    DECODERS,
    DEFAULT_PARAMS,
    NEURON_PARAMS,
    DecodeKey,
    Neuron,
    PoissonRate,
    Probe,
    SpikeTimes,
    Stimulus,
    Synapse,
    _decode_key,
    _real,
    check_delay,
    natural_key,
)
from spikec.ir.store import Neurons

__all__ = [
    "Neuron", "Synapse", "Probe", "SpikeTimes", "PoissonRate", "Stimulus", "Network",
    "NEURON_PARAMS", "DEFAULT_PARAMS", "DECODERS", "DecodeKey", "natural_key", "Neurons",
]


class Network(NetworkEdits):
    """A network of integrate-and-fire neurons joined by delayed synapses.

    See the module docstring for how it is stored and built. Neuron indices
    (positions in network order) and synapse indices (positions in the
    grouped order) are valid until the next edit that removes something.
    """

    def neuron(self, name: str, threshold: float = 1.0, decay: float = 0.0, reset: float = 0.0,
               bias: float = 0.0, p: float = 1.0, v0: float = 0.0, *,
               loc: SourceLocation | None = None, tags: Iterable[str] = ()) -> str:
        """Add a neuron and return its name."""
        owner = f"neuron '{name}'"
        row: dict[str, Any] = {}
        for key, value in zip(NEURON_PARAMS, (threshold, decay, reset, bias, p, v0), strict=True):
            row[key] = _real(owner, key, value, loc)
        for key in ("decay", "p"):
            if not 0.0 <= row[key] <= 1.0:
                raise VerifyError(f"{owner}: {key} must be in [0, 1], got {row[key]:g}", loc)
        self._new_name(name, loc)
        row.update(input=False, tags=self._tags.id(frozenset(tags)), loc=self._locs.id(loc), rate=math.nan)
        self._nrn.append_row(row)
        self._names.add(name)
        self._edited()
        return name

    def input(self, name: str, *, loc: SourceLocation | None = None, tags: Iterable[str] = ()) -> str:
        """Add an input neuron (spikes given from outside) and return its name."""
        self._new_name(name, loc)
        self._nrn.append_row({**DEFAULT_PARAMS, "input": True, "tags": self._tags.id(frozenset(tags)),
                              "loc": self._locs.id(loc), "rate": math.nan})
        self._names.add(name)
        self._edited()
        return name

    def synapse(self, pre: str | int, post: str | int, weight: float = 1.0, delay: int = 1, *,
                loc: SourceLocation | None = None) -> int:
        """Add a synapse ``pre -> post`` (names or indices); return its index (valid until the
        next edit that reorders or removes synapses)."""
        owner = f"synapse {pre} -> {post}"
        a = self._one(pre, owner, loc)
        b = self._one(post, owner, loc)
        if self._nrn["input"][b]:
            raise VerifyError(f"{owner}: '{self._names.name(b)}' is an input neuron and cannot receive"
                              " synapses", loc)
        w = _real(owner, "weight", weight, loc)
        d = check_delay(owner, delay, loc)
        i = self._syn.append_row({"pre": a, "post": b, "weight": w, "delay": d, "loc": self._locs.id(loc)})
        if a < self._last_pre:
            self._sorted = False
        self._last_pre = a
        self._edited()
        return i

    def probe(self, *names: str, label: str | None = None, decoder: str | None = None,
              loc: SourceLocation | None = None, array: bool | None = None,
              key: Sequence[Sequence[float]] | np.ndarray | None = None,
              info: Mapping[str, Any] | None = None) -> Probe:
        """Record ``names`` (reported under ``label``, default the first name).

        ``array`` (default: more than one name) reports the neurons as
        ``label[i]``; ``key`` is the decode key a ``label`` probe needs (one
        row per class, one value per neuron); see :class:`Probe`.
        """
        if not names:
            raise NetworkError("probe needs at least one neuron", loc)
        self.resolve(list(names), "probe", loc)
        if decoder is not None and decoder not in DECODERS:
            raise NetworkError(f"unknown decoder '{decoder}'{did_you_mean(decoder, DECODERS)};"
                               f" expected one of {', '.join(DECODERS)}", loc)
        is_array = len(names) > 1 if array is None else bool(array)
        checked = _decode_key(label or names[0], decoder, key, len(names), loc, info)
        probe = Probe(label or names[0], tuple(names), decoder, loc, is_array, checked,
                      None if info is None else dict(info))
        self.probes.append(probe)
        self._edited()
        return probe

    def stimulus(self, name: str, times: Iterable[int] | None = None, *, rate: float | None = None,
                 loc: SourceLocation | None = None) -> None:
        """Drive input ``name`` at the given steps, or at Poisson ``rate`` per step."""
        i = self._one(name, "stimulus", loc)
        self.stimulate(np.array([i]), times, rate=rate, loc=loc, owner=f"stimulus '{name}'")

    def stimulate(self, neurons: Neurons, times: Iterable[int] | None = None, *, rate: Any = None,
                  loc: SourceLocation | None = None, owner: str = "stimulus") -> None:
        """Drive many inputs at once: every one at the same ``times``, or at Poisson ``rate``
        (one rate, or one per neuron). Replaces their earlier stimuli."""
        idx = self.resolve(neurons, owner, loc)
        not_input = np.flatnonzero(~self._nrn["input"][idx])
        if len(not_input):
            name = self._names.name(int(idx[not_input[0]]))
            raise VerifyError(f"stimulus: '{name}' is not an input neuron", loc)
        if (times is None) == (rate is None):
            raise NetworkError(f"{owner}: give either times or rate", loc)
        rates = self._nrn.writable("rate")
        if rate is not None:
            r = self._real_array(owner, "rate", rate, len(idx), loc)
            bad = np.flatnonzero((np.atleast_1d(r) < 0) | (np.atleast_1d(r) > 1))
            if len(bad):
                raise VerifyError(f"{owner}: rate must be in [0, 1], got {np.atleast_1d(r)[bad[0]]:g}", loc)
            rates[idx] = r
            for i in idx.tolist():
                self._times.pop(i, None)
        else:
            assert times is not None
            steps: list[int] = []
            for t in times:
                if isinstance(t, bool) or not isinstance(t, numbers.Integral) or t < 0:
                    raise VerifyError(f"{owner}: spike steps must be integers >= 0, got {t!r:.40}", loc)
                steps.append(int(t))
            shared = tuple(sorted(set(steps)))
            rates[idx] = math.nan
            for i in idx.tolist():
                self._times[i] = shared
        self._edited()

    @property
    def stimuli(self) -> Mapping[str, Stimulus]:
        """``{input name: SpikeTimes or PoissonRate}`` for every input with a file stimulus
        (read-only; change it with :meth:`stimulus`)."""
        def make() -> Mapping[str, Stimulus]:
            out: dict[str, Stimulus] = {}
            rate = self._nrn["rate"]
            with_rate = np.flatnonzero(~np.isnan(rate))
            items = sorted([(i, SpikeTimes(t)) for i, t in self._times.items()]
                           + [(i, PoissonRate(float(rate[i]))) for i in with_rate.tolist()],
                           key=lambda item: item[0])
            for i, stim in items:
                out[self._names.name(i)] = stim
            return MappingProxyType(out)

        result: Mapping[str, Stimulus] = self._cached("stimuli", make)
        return result

    @property
    def stimulus_rates(self) -> np.ndarray:
        """Each neuron's Poisson stimulus rate (NaN where it has none), read-only."""
        return self._nrn["rate"]

    @property
    def stimulus_times(self) -> Mapping[int, tuple[int, ...]]:
        """``{input index: spike steps}`` of the spike-time stimuli, read-only."""
        return MappingProxyType(self._times)

    def copy(self) -> Network:
        """An independent copy."""
        out = Network(self.name)
        out.probes = list(self.probes)
        out._names = self._names.copy()
        out._nrn = self._nrn.copy()
        out._syn = self._syn.copy()
        out._locs = self._locs.copy()
        out._tags = self._tags.copy()
        out._times = dict(self._times)
        out._sorted = self._sorted
        out._last_pre = self._last_pre
        return out

    def trim(self) -> None:
        """Give back the spare room the columns keep for growth (after building)."""
        self._nrn.trim()
        self._syn.trim()
        self._names.cols.trim()

    @property
    def graph(self) -> Any:
        """The network as a frozen ``networkx.MultiDiGraph``: nodes are neuron names with a
        :class:`Neuron` under ``"neuron"``, edges carry ``weight``, ``delay`` (and ``loc``
        when known). Built on demand and cached until the next edit; edit the network
        through its methods, not through the graph."""
        def make() -> Any:
            import networkx as nx

            g = nx.MultiDiGraph()
            names = self.names()
            g.add_nodes_from((n.name, {"neuron": n}) for n in self.neurons())
            locs = [self._locs.get(i) for i in self._syn["loc"].tolist()]
            g.add_edges_from(
                (names[a], names[b], {"weight": w, "delay": d} if lc is None else
                 {"weight": w, "delay": d, "loc": lc})
                for a, b, w, d, lc in zip(self.pre.tolist(), self.post.tolist(), self.weight.tolist(),
                                          self.delay.tolist(), locs, strict=True))
            return nx.freeze(g)

        self._sort_synapses()
        return self._cached("graph", make)

    def __eq__(self, other: object) -> bool:
        """Same neurons in the same order (names, parameters, tags), the same multiset of
        synapses, probes and stimuli."""
        if not isinstance(other, Network):
            return NotImplemented
        if len(self) != len(other) or self.num_synapses != other.num_synapses:
            return False
        if self.names() != other.names():
            return False
        for key in (*NEURON_PARAMS, "input"):
            if not np.array_equal(self._nrn[key], other._nrn[key]):
                return False
        if [self._tags.values[t] for t in self._nrn["tags"].tolist()] != [
                other._tags.values[t] for t in other._nrn["tags"].tolist()]:
            return False

        def edges(net: Network) -> tuple[np.ndarray, ...]:
            cols = (net.pre, net.post, net.delay, net.weight)
            order = np.lexsort(cols[::-1])
            return tuple(c[order] for c in cols)

        same_edges = all(np.array_equal(x, y) for x, y in zip(edges(self), edges(other), strict=True))
        return same_edges and self.probes == other.probes and dict(self.stimuli) == dict(other.stimuli)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        n_in = int(np.count_nonzero(self._nrn["input"]))
        return (f"<Network {self.name!r}: {self.num_neurons} neurons ({n_in} inputs),"
                f" {self.num_synapses} synapses>")
