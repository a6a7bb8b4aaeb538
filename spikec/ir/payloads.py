"""The IR's payloads: neurons, synapses, probes and stimuli as small frozen values,
and the checks of single values that every way into a network shares.

A :class:`~spikec.ir.network.Network` stores neurons and synapses as arrays;
these dataclasses are what it hands out one at a time (``net["maj"]``,
``net.synapses()``) and what probes and stimuli are made of. Their
docstrings state the semantics of ``docs/semantics.md``.
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from spikec.errors import NetworkError, SourceLocation, VerifyError

__all__ = [
    "Neuron",
    "Synapse",
    "Probe",
    "SpikeTimes",
    "PoissonRate",
    "Stimulus",
    "NEURON_PARAMS",
    "DEFAULT_PARAMS",
    "DECODERS",
    "DecodeKey",
    "MAX_DELAY",
    "check_name",
    "check_delay",
    "check_neuron",
    "natural_key",
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

    ``key`` tells apart parallel synapses between the same pair (0, 1, ...
    in the order they were added).
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


_SPACE = re.compile(r"\s")


def check_name(name: Any, loc: SourceLocation | None = None) -> None:
    """A neuron name is a non-empty string without whitespace or control characters."""
    if not isinstance(name, str) or not name:
        raise VerifyError(f"neuron names must be non-empty strings, got {name!r}", loc)
    if not name.isprintable() or _SPACE.search(name):
        raise VerifyError(f"neuron name {name!r:.80} must not contain spaces or control characters", loc)


#: The longest delay a synapse may have (steps; it is stored as a signed 64-bit integer).
MAX_DELAY = 2**63 - 1


def check_delay(owner: str, delay: Any, loc: SourceLocation | None) -> int:
    """A delay is an integer in ``[1, MAX_DELAY]``; return it as a Python int."""
    if type(delay) is int and 1 <= delay <= MAX_DELAY:  # the common case, checked cheaply
        return delay
    if isinstance(delay, bool) or not isinstance(delay, numbers.Integral) or int(delay) < 1:
        shown = f"{delay!r}" if not isinstance(delay, int) or delay.bit_length() < 64 else "a huge integer"
        raise VerifyError(f"{owner}: delay must be an integer >= 1, got {shown:.60}", loc)
    if int(delay) > MAX_DELAY:
        raise VerifyError(f"{owner}: delay must be at most 2**63 - 1 steps, got a"
                          f" {int(delay).bit_length()}-bit integer", loc)
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
