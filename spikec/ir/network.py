"""The spikec IR: a network of integrate-and-fire neurons.

A :class:`Network` wraps a :class:`networkx.MultiDiGraph`. Each node is a
neuron, keyed by its hierarchical name (``adder.bit[3].carry``), whose data
holds one frozen :class:`Neuron` under the key ``"neuron"``. Each edge is a
synapse whose data holds plain ``weight`` (float) and ``delay`` (int)
attributes, so networkx algorithms can use them directly (for example
``nx.shortest_path_length(net.graph, a, b, weight="delay")``), plus an
optional ``loc``. Several synapses may join the same pair.

The network also carries what a program says about running it: probes
(which neurons to record and how to decode them) and file stimuli (spike
times or Poisson rates for input neurons). Both are plain data; the
simulator reads them.

The full semantics is in ``docs/semantics.md``; :func:`spikec.ir.verify`
checks every rule of it.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import networkx as nx
import numpy as np

from spikec.errors import NetworkError, SourceLocation, VerifyError, did_you_mean

__all__ = [
    "Neuron",
    "Synapse",
    "Probe",
    "SpikeTimes",
    "PoissonRate",
    "Stimulus",
    "Network",
    "NEURON_PARAMS",
    "DEFAULT_PARAMS",
    "DECODERS",
    "DecodeKey",
]

#: Names of the neuron parameters, in their canonical order.
NEURON_PARAMS: tuple[str, ...] = ("threshold", "decay", "reset", "bias", "p", "v0")
#: Default value of each neuron parameter (``docs/semantics.md``).
DEFAULT_PARAMS: dict[str, float] = {
    "threshold": 1.0,
    "decay": 0.0,
    "reset": 0.0,
    "bias": 0.0,
    "p": 1.0,
    "v0": 0.0,
}
#: Probe decoders a network may name (``None`` means raw spikes). ``label`` needs a
#: decode key (see :class:`Probe`).
DECODERS: tuple[str, ...] = ("count", "first", "binary", "rate", "label", "field")
#: A decode key: ``key[c][i]`` is neuron i's vote for class c (0 or 1 in a Whetstone key).
DecodeKey = tuple[tuple[float, ...], ...]


@dataclass(frozen=True, slots=True)
class Neuron:
    """One integrate-and-fire neuron (or an input neuron when ``is_input``).

    Each step t, all non-input neurons at once::

        V <- V + bias + I_ext(t) + sum_{(j -> i, w, d)} w * s_j(t - d)   # integrate
        spike if V >= threshold, with probability p                       # fire
        V <- reset if spiked, else (1 - decay) * V                        # reset / leak

    with ``V = v0`` before step 0. An input neuron spikes exactly when its
    raster says so and has no dynamics; its parameters are unused.
    """

    name: str
    threshold: float = 1.0
    decay: float = 0.0
    reset: float = 0.0
    bias: float = 0.0
    p: float = 1.0
    v0: float = 0.0
    is_input: bool = False
    loc: SourceLocation | None = field(default=None, compare=False)
    tags: frozenset[str] = frozenset()

    def params(self) -> dict[str, float]:
        """The six semantic parameters as a dict."""
        return {k: getattr(self, k) for k in NEURON_PARAMS}

    def describe(self) -> str:
        """``"input 'x[0]'"`` or ``"neuron 'maj'"``, for messages."""
        return f"{'input' if self.is_input else 'neuron'} '{self.name}'"


@dataclass(frozen=True, slots=True)
class Synapse:
    """A synapse ``pre -> post``: a spike of ``pre`` at step t adds ``weight``
    to ``post``'s potential at step ``t + delay`` (``delay >= 1``).

    ``key`` tells apart parallel synapses between the same pair.
    """

    pre: str
    post: str
    weight: float = 1.0
    delay: int = 1
    key: int = 0
    loc: SourceLocation | None = field(default=None, compare=False)

    def describe(self) -> str:
        """``"synapse a -> b"``, for messages."""
        return f"synapse {self.pre} -> {self.post}"


@dataclass(frozen=True, slots=True)
class Probe:
    """A request to record ``neurons`` and report them under ``label``.

    ``decoder`` is ``None`` (raw spike trains) or one of :data:`DECODERS`,
    which turns the spikes into values (counts, first-spike steps, ...).
    ``array`` says the probe names an array (even of one neuron): its
    neurons are reported as ``label[0]``, ``label[1]``, ... and decoded
    values are lists, one entry per neuron.

    ``key`` is the decode key of a ``label`` probe (and ``None`` for every
    other decoder): one row per class, one column per probed neuron. At each
    step the class is ``argmax_c sum_i (2 s_i - 1)(2 key[c][i] - 1)``, the
    Softmax_Decode rule of Whetstone (ties go to the lowest class). A
    ``field`` probe (a diffusion solver's walkers per node and model step)
    has a one-row key, each neuron's mesh node (-1 for the neurons whose
    spikes cut the run into model steps), and the mesh shape in
    ``info["shape"]``.

    ``info`` is JSON-ready data about what the probe reads, kept with it
    through passes and files (a ``field`` probe holds its diffusion problem).
    """

    label: str
    neurons: tuple[str, ...]
    decoder: str | None = None
    loc: SourceLocation | None = field(default=None, compare=False)
    array: bool = False
    key: DecodeKey | None = None
    info: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class SpikeTimes:
    """A file stimulus: the input neuron spikes at exactly these steps, every trial."""

    times: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class PoissonRate:
    """A file stimulus: the input neuron spikes each step with probability ``rate``,
    drawn independently per step and per trial from the trial's random stream."""

    rate: float


Stimulus = SpikeTimes | PoissonRate


def _real(owner: str, what: str, value: Any, loc: SourceLocation | None) -> float:
    """Check that ``value`` is a finite real number and return it as a float."""
    if type(value) is float and math.isfinite(value):  # the common case, checked cheaply
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise VerifyError(f"{owner}: {what} must be a real number, got {value!r}", loc)
    try:
        out = float(value)
    except OverflowError:
        out = math.inf
    if not math.isfinite(out):
        raise VerifyError(f"{owner}: {what} must be finite, got {out!r}", loc)
    return out


def _decode_key(label: str, decoder: str | None, key: Any, width: int,
                loc: SourceLocation | None, info: Mapping[str, Any] | None = None) -> DecodeKey | None:
    """Check a probe's decode key: required by ``label`` and ``field``, refused by the
    other decoders."""
    if decoder == "field":
        return _field_key(label, key, width, loc, info)
    if decoder != "label":
        if key is not None:
            raise NetworkError(f"probe '{label}': only a label probe takes a decode key", loc)
        return None
    if key is None:
        raise NetworkError(
            f"probe '{label}': the label decoder needs a decode key (one row per class)", loc)
    try:
        rows = np.asarray(key, dtype=float)
    except (TypeError, ValueError):
        raise NetworkError(f"probe '{label}': the decode key must be a matrix of numbers", loc) from None
    if rows.ndim != 2 or rows.shape[0] < 1 or rows.shape[1] != width:
        raise NetworkError(
            f"probe '{label}': the decode key must have one row per class and {width} columns"
            f" (one per probed neuron), got shape {rows.shape}", loc)
    if not np.all(np.isfinite(rows)):
        raise NetworkError(f"probe '{label}': the decode key must be finite", loc)
    return tuple(tuple(row) for row in rows.tolist())


def _field_key(label: str, key: Any, width: int, loc: SourceLocation | None,
               info: Mapping[str, Any] | None) -> DecodeKey:
    """Check a ``field`` probe: a key row with each neuron's node (-1 for a clock, at
    least one) and the mesh shape (1 or 2 positive sizes) in ``info["shape"]``."""
    shape = (info or {}).get("shape")
    if (not isinstance(shape, (list, tuple)) or not 1 <= len(shape) <= 2
            or not all(isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in shape)):
        raise NetworkError(f"probe '{label}': a field probe needs info['shape'], the mesh shape"
                           f" (1 or 2 positive integers), got {shape!r}", loc)
    try:
        rows = np.asarray(key, dtype=float)
    except (TypeError, ValueError):
        rows = np.zeros((0, 0))
    nodes = rows[0] if rows.ndim == 2 and rows.shape == (1, width) else np.zeros(0)
    if (len(nodes) != width or not np.all(np.isfinite(nodes)) or np.any(nodes != np.round(nodes))
            or np.any(nodes < -1) or np.any(nodes >= math.prod(shape)) or not np.any(nodes < 0)):
        raise NetworkError(
            f"probe '{label}': a field probe needs a key of one row of {width} node indices"
            " (-1 for the clock neurons, at least one)", loc)
    return (tuple(nodes.tolist()),)


def check_neuron(neuron: Neuron) -> None:
    """Raise :class:`VerifyError` unless ``neuron`` obeys the parameter table."""
    check_name(neuron.name, neuron.loc)
    owner = neuron.describe()
    for key in NEURON_PARAMS:
        _real(owner, key, getattr(neuron, key), neuron.loc)
    for key in ("decay", "p"):
        value = getattr(neuron, key)
        if not 0.0 <= value <= 1.0:
            raise VerifyError(f"{owner}: {key} must be in [0, 1], got {value:g}", neuron.loc)


def check_name(name: Any, loc: SourceLocation | None = None) -> None:
    """A neuron name is a non-empty string without whitespace or control characters."""
    if not isinstance(name, str) or not name:
        raise VerifyError(f"neuron names must be non-empty strings, got {name!r}", loc)
    if any(ch.isspace() or not ch.isprintable() for ch in name):
        raise VerifyError(f"neuron name {name!r} must not contain spaces or control characters", loc)


def check_delay(owner: str, delay: Any, loc: SourceLocation | None) -> int:
    """A delay is an integer >= 1; return it as a Python int."""
    if type(delay) is int and delay >= 1:  # the common case, checked cheaply
        return delay
    if isinstance(delay, bool) or not isinstance(delay, numbers.Integral) or delay < 1:
        raise VerifyError(f"{owner}: delay must be an integer >= 1, got {delay!r}", loc)
    return int(delay)


def natural_key(name: str) -> tuple[Any, ...]:
    """Sort key that orders ``x[2]`` before ``x[10]``."""
    out: list[Any] = []
    num = ""
    text = ""
    for ch in name:
        if ch.isdigit():
            if text:
                out.append(text)
                text = ""
            num += ch
        else:
            if num:
                out.append(int(num))
                num = ""
            text += ch
    if num:
        out.append(int(num))
    if text:
        out.append(text)
    # Alternate kinds can collide (str vs int) at the same position; tag each part.
    return tuple((0, p) if isinstance(p, int) else (1, p) for p in out)


class Network:
    """A network of integrate-and-fire neurons joined by delayed synapses.

    Build it with :meth:`neuron`, :meth:`input` and :meth:`synapse`; each
    call checks its arguments at once and raises :class:`NetworkError` (or
    :class:`VerifyError` for a value outside the semantics) naming the
    object. ``graph`` is the underlying ``networkx.MultiDiGraph``; code that
    edits it directly should run :func:`spikec.ir.verify` afterwards.
    """

    def __init__(self, name: str = "network") -> None:
        self.name = name
        self.graph: nx.MultiDiGraph = nx.MultiDiGraph()
        self.probes: list[Probe] = []
        self.stimuli: dict[str, Stimulus] = {}

    # -- building -----------------------------------------------------------

    def neuron(
        self,
        name: str,
        threshold: float = 1.0,
        decay: float = 0.0,
        reset: float = 0.0,
        bias: float = 0.0,
        p: float = 1.0,
        v0: float = 0.0,
        *,
        loc: SourceLocation | None = None,
        tags: Iterable[str] = (),
    ) -> str:
        """Add a neuron and return its name."""
        owner = f"neuron '{name}'"
        neuron = Neuron(
            name,
            threshold=_real(owner, "threshold", threshold, loc),
            decay=_real(owner, "decay", decay, loc),
            reset=_real(owner, "reset", reset, loc),
            bias=_real(owner, "bias", bias, loc),
            p=_real(owner, "p", p, loc),
            v0=_real(owner, "v0", v0, loc),
            loc=loc,
            tags=frozenset(tags),
        )
        check_neuron(neuron)
        self._add(neuron)
        return name

    def input(
        self, name: str, *, loc: SourceLocation | None = None, tags: Iterable[str] = ()
    ) -> str:
        """Add an input neuron (spikes given from outside) and return its name."""
        neuron = Neuron(name, is_input=True, loc=loc, tags=frozenset(tags))
        check_name(name, loc)
        self._add(neuron)
        return name

    def _add(self, neuron: Neuron) -> None:
        if neuron.name in self.graph:
            old = self[neuron.name]
            where = f" (first declared at {old.loc})" if old.loc is not None else ""
            raise NetworkError(f"duplicate neuron name '{neuron.name}'{where}", neuron.loc)
        self.graph.add_node(neuron.name, neuron=neuron)

    def synapse(
        self,
        pre: str,
        post: str,
        weight: float = 1.0,
        delay: int = 1,
        *,
        loc: SourceLocation | None = None,
    ) -> int:
        """Add a synapse ``pre -> post`` and return its key among parallel synapses."""
        owner = f"synapse {pre} -> {post}"
        self._require(pre, owner, loc)
        target = self._require(post, owner, loc)
        if target.is_input:
            raise VerifyError(
                f"{owner}: '{post}' is an input neuron and cannot receive synapses", loc
            )
        w = _real(owner, "weight", weight, loc)
        d = check_delay(owner, delay, loc)
        attrs: dict[str, Any] = {"weight": w, "delay": d}
        if loc is not None:
            attrs["loc"] = loc
        return int(self.graph.add_edge(pre, post, **attrs))

    def add_synapses(
        self,
        pre: Sequence[str],
        post: Sequence[str],
        weight: float | Sequence[float] | np.ndarray = 1.0,
        delay: int | Sequence[int] | np.ndarray = 1,
        *,
        loc: SourceLocation | None = None,
    ) -> None:
        """Add many synapses at once (``pre[i] -> post[i]``); checks are vectorized.

        ``weight`` and ``delay`` may be scalars or sequences as long as ``pre``;
        ``loc`` (one location shared by all, e.g. the statement that made them)
        is optional. Nothing is added if any synapse is invalid.
        """
        n = len(pre)
        if len(post) != n:
            raise NetworkError(f"add_synapses: {n} pre names but {len(post)} post names")
        w = np.broadcast_to(np.asarray(weight, dtype=float), (n,))
        d_raw = np.broadcast_to(np.asarray(delay), (n,))
        if n and not np.issubdtype(d_raw.dtype, np.integer):
            bad = next(x for x in d_raw.tolist() if not isinstance(x, int))
            raise VerifyError(f"add_synapses: delay must be an integer >= 1, got {bad!r}")
        d = d_raw.astype(np.int64)
        if n:
            if not np.all(np.isfinite(w)):
                i = int(np.flatnonzero(~np.isfinite(w))[0])
                raise VerifyError(f"synapse {pre[i]} -> {post[i]}: weight must be finite, got {w[i]}")
            if np.any(d < 1):
                i = int(np.flatnonzero(d < 1)[0])
                raise VerifyError(
                    f"synapse {pre[i]} -> {post[i]}: delay must be an integer >= 1, got {int(d[i])}"
                )
        for name in set(pre):
            self._require(name, f"synapse {name} -> ...", None)
        for name in set(post):
            if self._require(name, f"synapse ... -> {name}", None).is_input:
                raise VerifyError(
                    f"synapse ... -> {name}: '{name}' is an input neuron and cannot receive synapses"
                )
        extra = {} if loc is None else {"loc": loc}
        self.graph.add_edges_from(
            (a, b, {"weight": wi, "delay": di, **extra})
            for a, b, wi, di in zip(pre, post, w.tolist(), d.tolist(), strict=True)
        )

    def probe(
        self,
        *names: str,
        label: str | None = None,
        decoder: str | None = None,
        loc: SourceLocation | None = None,
        array: bool | None = None,
        key: Sequence[Sequence[float]] | np.ndarray | None = None,
        info: Mapping[str, Any] | None = None,
    ) -> Probe:
        """Record ``names`` (reported under ``label``, default the first name).

        ``array`` (default: more than one name) reports the neurons as
        ``label[i]``; ``key`` is the decode key a ``label`` probe needs (one
        row per class, one value per neuron); see :class:`Probe`.
        """
        if not names:
            raise NetworkError("probe needs at least one neuron", loc)
        for name in names:
            self._require(name, "probe", loc)
        if decoder is not None and decoder not in DECODERS:
            raise NetworkError(
                f"unknown decoder '{decoder}'{did_you_mean(decoder, DECODERS)};"
                f" expected one of {', '.join(DECODERS)}",
                loc,
            )
        is_array = len(names) > 1 if array is None else bool(array)
        checked = _decode_key(label or names[0], decoder, key, len(names), loc, info)
        probe = Probe(label or names[0], tuple(names), decoder, loc, is_array, checked,
                      None if info is None else dict(info))
        self.probes.append(probe)
        return probe

    def stimulus(
        self,
        name: str,
        times: Iterable[int] | None = None,
        *,
        rate: float | None = None,
        loc: SourceLocation | None = None,
    ) -> None:
        """Drive input ``name`` at the given steps, or at Poisson ``rate`` per step."""
        neuron = self._require(name, "stimulus", loc)
        if not neuron.is_input:
            raise VerifyError(f"stimulus: '{name}' is not an input neuron", loc)
        if (times is None) == (rate is None):
            raise NetworkError(f"stimulus '{name}': give either times or rate", loc)
        if rate is not None:
            r = _real(f"stimulus '{name}'", "rate", rate, loc)
            if not 0.0 <= r <= 1.0:
                raise VerifyError(f"stimulus '{name}': rate must be in [0, 1], got {r:g}", loc)
            self.stimuli[name] = PoissonRate(r)
        else:
            assert times is not None
            steps: list[int] = []
            for t in times:
                if isinstance(t, bool) or not isinstance(t, numbers.Integral) or t < 0:
                    raise VerifyError(
                        f"stimulus '{name}': spike steps must be integers >= 0, got {t!r}", loc
                    )
                steps.append(int(t))
            self.stimuli[name] = SpikeTimes(tuple(sorted(set(steps))))

    # -- editing (for passes) -------------------------------------------------

    def update(self, name: str, **params: float) -> None:
        """Change parameters of neuron ``name`` (checked like :meth:`neuron`)."""
        old = self._require(name, "update", None)
        unknown = set(params) - set(NEURON_PARAMS)
        if unknown:
            bad = sorted(unknown)[0]
            raise NetworkError(
                f"neuron '{name}': unknown parameter '{bad}'{did_you_mean(bad, NEURON_PARAMS)}"
            )
        values: dict[str, Any] = {k: _real(old.describe(), k, v, old.loc) for k, v in params.items()}
        new = replace(old, **values)
        check_neuron(new)
        self.graph.nodes[name]["neuron"] = new

    def remove_neuron(self, name: str) -> None:
        """Remove a neuron with its synapses, probes entries and stimulus."""
        self._require(name, "remove_neuron", None)
        self.graph.remove_node(name)
        self.stimuli.pop(name, None)
        kept = []
        for probe in self.probes:
            rest = tuple(n for n in probe.neurons if n != name)
            if rest:
                key = probe.key
                if key is not None:  # the probe loses the neuron's column of its key
                    cols = [i for i, n in enumerate(probe.neurons) if n != name]
                    key = tuple(tuple(row[i] for i in cols) for row in key)
                kept.append(replace(probe, neurons=rest, key=key))
        self.probes = kept

    def copy(self) -> Network:
        """An independent copy (neurons are immutable, so this is cheap)."""
        out = Network(self.name)
        out.graph = self.graph.copy()
        out.probes = list(self.probes)
        out.stimuli = dict(self.stimuli)
        return out

    # -- reading ----------------------------------------------------------------

    def _require(self, name: str, owner: str, loc: SourceLocation | None) -> Neuron:
        data = self.graph.nodes.get(name) if isinstance(name, str) else None
        if data is None:
            hint = did_you_mean(name, self.graph.nodes) if isinstance(name, str) else ""
            raise NetworkError(f"{owner}: no neuron named {name!r}{hint}", loc)
        neuron: Neuron = data["neuron"]
        return neuron

    def __getitem__(self, name: str) -> Neuron:
        return self._require(name, "lookup", None)

    def __contains__(self, name: object) -> bool:
        return name in self.graph

    def __len__(self) -> int:
        return int(self.graph.number_of_nodes())

    def __iter__(self) -> Iterator[str]:
        return iter(self.graph.nodes)

    def neurons(self) -> list[Neuron]:
        """Every neuron (inputs included), in insertion order."""
        return [data["neuron"] for _, data in self.graph.nodes(data=True)]

    def inputs(self) -> list[str]:
        """Names of the input neurons, in insertion order."""
        return [n for n, data in self.graph.nodes(data=True) if data["neuron"].is_input]

    def synapses(self) -> Iterator[Synapse]:
        """Every synapse, grouped by presynaptic neuron in insertion order."""
        for pre, post, key, data in self.graph.edges(keys=True, data=True):
            yield Synapse(pre, post, data["weight"], data["delay"], key, data.get("loc"))

    @property
    def num_neurons(self) -> int:
        """Number of neurons, inputs included."""
        return len(self)

    @property
    def num_synapses(self) -> int:
        """Number of synapses."""
        return int(self.graph.number_of_edges())

    def __eq__(self, other: object) -> bool:
        """Same neurons (parameters, tags), same multiset of synapses, probes, stimuli."""
        if not isinstance(other, Network):
            return NotImplemented
        if self.neurons() != other.neurons():
            return False

        def edges(net: Network) -> list[tuple[str, str, float, int]]:
            return sorted((s.pre, s.post, s.weight, s.delay) for s in net.synapses())

        return (
            edges(self) == edges(other)
            and self.probes == other.probes
            and self.stimuli == other.stimuli
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        n_in = len(self.inputs())
        return (
            f"<Network {self.name!r}: {self.num_neurons} neurons ({n_in} inputs),"
            f" {self.num_synapses} synapses>"
        )
