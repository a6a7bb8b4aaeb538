"""Chip targets as data: what a chip can hold and what its events cost.

A target is a TOML file (``spikec/chip/targets/NAME.toml`` for the built-in ones,
or any path ending in ``.toml``)::

    format = "spikec-target"
    version = 1
    name = "truenorth"
    description = "..."
    base = "loihi"               # optional: start from a built-in target, override keys below

    [chip]                       # omitted keys mean "no limit"
    chips = 1                    # chips available
    cores_per_chip = 4096
    neurons_per_core = 256
    synapses_per_core = 65536
    axons_per_core = 256         # distinct (source neuron, delay) inputs of a core
    axon_types = 4               # weights per neuron are one of this many per-axon-type values
    fan_in = 256                 # incoming synapses of one neuron
    fan_out = 256                # outgoing synapses of one neuron
    dest_cores_per_neuron = 1    # cores one neuron's spikes may reach (and one delay per core)
    delay_min = 1
    delay_max = 15
    core_columns = 64            # the core mesh: cores per row (default: sqrt(cores_per_chip))
    chip_columns = 4             # chips per row of the board's grid (default: all in one row)

    [numbers]                    # omitted keys mean "real numbers, as the IR"
    weight_bits = 9              # signed integers in [-2**8, 2**8 - 1]
    threshold_bits = 18          # threshold, reset, bias and v0, signed
    potential_bits = 20          # the potential register, signed
    decay_bits = 12              # decay must be k / 2**12
    leak_bits = 9                # the linear leak (spikec's bias on such chips), signed

    [neuron]
    stochastic = false           # p < 1 allowed?
    leak = false                 # 0 < decay allowed? (a multiplicative leak)
    initial_potential = true     # v0 != 0 allowed?
    linear_leak = true           # V += leak every tick, before the threshold check
    floor = true                 # a potential floor: a neuron below it that does not fire is set to it
    reset_mode = "value"         # after a spike V <- reset ("value") or V <- 0 only ("zero")

    [energy]                     # joules per event
    synaptic_event = 0.0         # one spike arriving at one synapse
    neuron_update = 0.0          # one neuron updated for one step
    spike = 0.0                  # one neuron firing
    message = 0.0                # one spike message sent to another core
    hop = 0.0                    # one message crossing one link of the core mesh
    step = 0.0                   # fixed cost of one time step (synchronization)

    [latency]                    # seconds per event, same keys as [energy]

    [sanafe]                     # optional: the SANA-FE architecture this target models
    arch = "loihi"

    [noise]                      # optional: how the chip makes a neuron fire at random (p < 1)
    kind = "membrane"            # "membrane": a uniform integer r (bits wide) added to the potential;
                                 # "threshold": fire when V + (r & (2**bits - 1)) >= threshold;
                                 # "stream": a file of noise values spikec writes (SANA-FE)
    bits = 8                     # random bits per draw (1 to 31)
    exponent_min = 0             # "membrane": the noise scale 2**e the chip can set (e in this range)
    exponent_max = 7
    reproducible = true          # false: the chip's generator cannot be seeded (checks are statistical)

:func:`load_target` reads and checks one; :func:`builtin_targets` lists the
shipped ones. Errors name the file and the key.
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from spikec.errors import SourceLocation, TargetError, did_you_mean
from spikec.ir.files import read_text_limited

__all__ = ["Target", "TargetError", "EventCosts", "load_target", "builtin_targets", "target_from_summary",
           "TARGET_FORMAT", "RESET_MODES", "NOISE_KINDS"]

TARGET_FORMAT = "spikec-target"
_VERSION = 1

_CHIP_KEYS = (
    "chips", "cores_per_chip", "neurons_per_core", "synapses_per_core", "axons_per_core",
    "axon_types", "fan_in", "fan_out", "dest_cores_per_neuron", "delay_min", "delay_max",
    "core_columns", "chip_columns",
)
_NUMBER_KEYS = ("weight_bits", "threshold_bits", "potential_bits", "decay_bits", "leak_bits")
_NEURON_KEYS = ("stochastic", "leak", "initial_potential", "linear_leak", "floor", "reset_mode")
#: What a neuron's potential becomes after a spike: its ``reset`` ("value") or 0 ("zero").
RESET_MODES = ("value", "zero")
_NOISE_KEYS = ("kind", "bits", "exponent_min", "exponent_max", "reproducible")
#: How a target's chip draws at random (``[noise] kind``); see :mod:`spikec.chip.noise`.
NOISE_KINDS = ("membrane", "threshold", "stream")
_COST_KEYS = ("synaptic_event", "neuron_update", "spike", "message", "hop", "step")
#: A target file larger than this is refused before it is read (built-in ones are ~2 KB).
MAX_TARGET_BYTES = 1 << 20
#: Largest value of a ``[chip]`` count (no chip comes near; keeps products of them exact).
_MAX_COUNT = 2**40
#: Widest ``[numbers]`` register, in bits (spikec computes in float64).
_MAX_BITS = 64
_TOML_AT = re.compile(r"\(at line (\d+), column (\d+)\)$")


@dataclass(frozen=True, slots=True)
class EventCosts:
    """Cost of each kind of event (joules for energy, seconds for latency)."""

    synaptic_event: float = 0.0
    neuron_update: float = 0.0
    spike: float = 0.0
    message: float = 0.0
    hop: float = 0.0
    step: float = 0.0


@dataclass(frozen=True)
class Target:
    """A chip's limits, number formats, neuron features and event costs.

    ``None`` for a limit means "unlimited"; ``None`` for a bit width means
    the chip stores real numbers as the IR does (no quantization).

    Neuron features: ``stochastic`` (``p < 1``), ``leak`` (a multiplicative
    leak, ``0 < decay``), ``initial_potential`` (``v0 != 0``), and the
    TrueNorth-style ones: ``linear_leak`` (a signed constant, of
    ``leak_bits`` bits, added to the potential every tick before the
    threshold check: spikec's bias), ``floor`` (a per-neuron potential floor:
    a neuron that does not fire and ends below it is set to it; spikec maps
    ``decay = 1`` gates onto a floor at 0, see :mod:`spikec.chip.linear_leak`) and
    ``reset_mode`` (``"value"``: ``V <- reset`` after a spike; ``"zero"``:
    the chip resets to 0 only).

    Noise (``[noise]``, all ``None`` without one): ``noise_kind`` (one of
    :data:`NOISE_KINDS`), ``noise_bits`` (random bits per draw),
    ``noise_exponents`` (the scales ``2**e`` a membrane noise can take) and
    ``noise_reproducible`` (whether the chip's generator can be seeded);
    :mod:`spikec.chip.noise` maps ``p < 1`` neurons onto them.
    """

    name: str
    description: str = ""
    chips: int | None = 1
    cores_per_chip: int | None = None
    neurons_per_core: int | None = None
    synapses_per_core: int | None = None
    axons_per_core: int | None = None
    axon_types: int | None = None
    fan_in: int | None = None
    fan_out: int | None = None
    dest_cores_per_neuron: int | None = None
    delay_min: int = 1
    delay_max: int | None = None
    #: The core mesh: cores per row of a chip's grid (None: the square root of cores_per_chip,
    #: rounded up) and chips per row of the board's grid (None: the chips in one row).
    core_columns: int | None = None
    chip_columns: int | None = None
    weight_bits: int | None = None
    threshold_bits: int | None = None
    potential_bits: int | None = None
    decay_bits: int | None = None
    leak_bits: int | None = None
    stochastic: bool = True
    leak: bool = True
    initial_potential: bool = True
    linear_leak: bool = False
    floor: bool = False
    reset_mode: str = "value"
    energy: EventCosts = field(default_factory=EventCosts)
    latency: EventCosts = field(default_factory=EventCosts)
    sanafe_arch: str | None = None
    noise_kind: str | None = None
    noise_bits: int | None = None
    noise_exponents: tuple[int, int] | None = None
    noise_reproducible: bool = True
    source: str = "<builtin>"

    @property
    def max_cores(self) -> int | None:
        """Cores over all chips, or ``None`` when unlimited."""
        if self.cores_per_chip is None or self.chips is None:
            return None
        return self.cores_per_chip * self.chips

    @property
    def integer(self) -> bool:
        """Whether the chip stores weights and thresholds as integers."""
        return self.weight_bits is not None or self.threshold_bits is not None

    def int_range(self, bits: int | None) -> tuple[float, float]:
        """The signed range ``[-2**(bits-1), 2**(bits-1) - 1]`` (infinite when ``bits`` is None)."""
        if bits is None:
            return (-math.inf, math.inf)
        half = 2 ** (bits - 1)
        return (-float(half), float(half - 1))

    def summary(self) -> dict[str, Any]:
        """The limits as a JSON-ready dict (``None`` = unlimited), for netlists and reports."""
        keys = _CHIP_KEYS + _NUMBER_KEYS + _NEURON_KEYS
        out: dict[str, Any] = {"name": self.name, **{k: getattr(self, k) for k in keys}}
        if self.noise_kind is not None:
            out["noise"] = {"kind": self.noise_kind, "bits": self.noise_bits,
                            "exponents": list(self.noise_exponents) if self.noise_exponents else None,
                            "reproducible": self.noise_reproducible}
        return out


def target_from_summary(summary: dict[str, Any], source: str = "netlist") -> Target:
    """The limits, number formats, neuron features and noise of a :meth:`Target.summary` (as
    a netlist carries it), enough to recompute what a netlist holds per neuron; a key with
    the wrong type raises :class:`TargetError` naming it."""
    values: dict[str, Any] = {"name": str(summary.get("name", "?")), "source": source}
    for key in _CHIP_KEYS + _NUMBER_KEYS:
        value = summary.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise TargetError(f"{source}: target.{key}: expected an integer or null, got {_shown(value)}")
        if key in summary:
            values[key] = value if value is not None or key != "delay_min" else 1
    for key in _NEURON_KEYS:
        if key in summary:
            values[key] = summary[key]
    noise = summary.get("noise")
    if isinstance(noise, dict):
        kind, bits = noise.get("kind"), noise.get("bits")
        if kind not in NOISE_KINDS or type(bits) is not int or not 1 <= bits <= 31:
            raise TargetError(f"{source}: target.noise: expected a kind of {', '.join(NOISE_KINDS)} and"
                              f" bits from 1 to 31, got {_shown(noise)}")
        exponents = noise.get("exponents")
        pair = tuple(exponents) if isinstance(exponents, list) and len(exponents) == 2 else None
        values.update(noise_kind=kind, noise_bits=bits, noise_exponents=pair,
                      noise_reproducible=noise.get("reproducible") is not False)
    return Target(**values)


def builtin_targets() -> list[str]:
    """Names of the targets shipped in ``spikec/chip/targets``, sorted."""
    folder = resources.files("spikec.chip").joinpath("targets")
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml"))


def load_target(name_or_path: str | os.PathLike[str]) -> Target:
    """Load a built-in target by name (``"loihi"``) or a target file by path (``*.toml``)."""
    text_name = os.fspath(name_or_path)
    if text_name.endswith(".toml") or os.sep in text_name:
        names = builtin_targets()
        if not Path(text_name).exists() and Path(text_name).stem in names and os.sep not in text_name:
            raise TargetError(f"{text_name}: no such target file (the built-in target is"
                              f" --target {Path(text_name).stem})")
        text = read_text_limited(text_name, MAX_TARGET_BYTES, what="target file", error=TargetError)
        return parse_target(text, text_name)
    names = builtin_targets()
    if text_name not in names:
        raise TargetError(
            f"unknown target '{text_name}'{did_you_mean(text_name, names)};"
            f" expected one of {', '.join(names)} or a .toml file"
        )
    resource = resources.files("spikec.chip").joinpath("targets", f"{text_name}.toml")
    return parse_target(resource.read_text(encoding="utf-8"), f"<builtin target {text_name}>")


def parse_target(text: str, source: str = "<string>") -> Target:
    """Build a :class:`Target` from TOML text; errors name ``source`` and the key."""
    doc = _with_base(_read_toml(text, source), source)
    return _target_from_doc(doc, source)


def _read_toml(text: str, source: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        at = _TOML_AT.search(str(exc))
        if at is None:  # "at end of document": no line to point at
            raise TargetError(f"{source}: invalid TOML: {exc}") from None
        # The place, not the line: a file given as a target may be anything (/etc/passwd).
        loc = SourceLocation(source, int(at.group(1)), int(at.group(2)))
        raise TargetError(f"invalid TOML: {str(exc)[: at.start()].rstrip()}", loc) from None
    except RecursionError:
        raise TargetError(f"{source}: invalid TOML: arrays or tables nest too deeply") from None
    except ValueError:  # an integer past Python's 4,300-digit limit on int parsing
        raise TargetError(f"{source}: invalid TOML: an integer of more than 4,300 digits") from None


def _with_base(doc: dict[str, Any], source: str, depth: int = 0) -> dict[str, Any]:
    """``doc`` on top of its ``base`` target (a built-in one): every table of the base,
    with the keys ``doc`` states replacing the base's."""
    base = doc.pop("base", None)
    if base is None:
        return doc
    names = builtin_targets()
    if not isinstance(base, str) or base not in names:
        raise TargetError(f"{source}: base: expected a built-in target ({', '.join(names)}), got {base!r}"
                          f"{did_you_mean(base, names) if isinstance(base, str) else ''}")
    if depth > 8:
        raise TargetError(f"{source}: base: targets based on one another more than 8 deep (a cycle?)")
    resource = resources.files("spikec.chip").joinpath("targets", f"{base}.toml")
    under = _with_base(_read_toml(resource.read_text(encoding="utf-8"), f"<builtin target {base}>"),
                       f"<builtin target {base}>", depth + 1)
    merged: dict[str, Any] = {**under}
    for key, value in doc.items():
        if isinstance(value, dict) and isinstance(under.get(key), dict):
            merged[key] = {**under[key], **value}
        else:
            merged[key] = value
    return merged


def _target_from_doc(doc: dict[str, Any], source: str) -> Target:
    if doc.get("format") != TARGET_FORMAT:
        raise TargetError(f"{source}: format: expected '{TARGET_FORMAT}', got {_shown(doc.get('format'))}")
    if isinstance(doc.get("version"), bool) or doc.get("version") != _VERSION:
        raise TargetError(
            f"{source}: version: this spikec reads version {_VERSION}, got {_shown(doc.get('version'))}")
    known = {"format", "version", "name", "description", "chip", "numbers", "neuron", "energy",
             "latency", "sanafe", "noise"}
    _no_unknown(doc, known, source, "top level")
    name = doc.get("name")
    if not isinstance(name, str) or not name:
        raise TargetError(f"{source}: name: expected a non-empty string, got {_shown(name)}")
    values: dict[str, Any] = {"name": name, "source": source}
    desc = doc.get("description", "")
    if not isinstance(desc, str):
        raise TargetError(f"{source}: description: expected a string, got {_shown(desc)}")
    values["description"] = desc
    sections = (("chip", _CHIP_KEYS), ("numbers", _NUMBER_KEYS))
    for section, keys in sections:
        table = _table(doc, section, source)
        _no_unknown(table, set(keys), source, section)
        for key, value in table.items():
            low = 0 if key in ("delay_min",) else 1
            high = _MAX_BITS if section == "numbers" else _MAX_COUNT
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise TargetError(f"{source}: {section}.{key}: expected an integer >= {low},"
                                  f" got {_shown(value)}")
            if value > high:
                raise TargetError(f"{source}: {section}.{key}: expected an integer from {low} to"
                                  f" {high:,}, got {_shown(value)}")
            values[key] = value
    if "chips" not in _table(doc, "chip", source):
        values["chips"] = 1 if "cores_per_chip" in _table(doc, "chip", source) else None
    table = _table(doc, "neuron", source)
    _no_unknown(table, set(_NEURON_KEYS), source, "neuron")
    for key, value in table.items():
        if key == "reset_mode":
            if value not in RESET_MODES:
                raise TargetError(
                    f"{source}: neuron.reset_mode: expected one of {', '.join(map(repr, RESET_MODES))},"
                    f" got {_shown(value)}")
        elif not isinstance(value, bool):
            raise TargetError(f"{source}: neuron.{key}: expected true or false, got {_shown(value)}")
        values[key] = value
    for section in ("energy", "latency"):
        table = _table(doc, section, source)
        _no_unknown(table, set(_COST_KEYS), source, section)
        costs: dict[str, float] = {}
        for key, value in table.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
                raise TargetError(f"{source}: {section}.{key}: expected a number >= 0, got {_shown(value)}")
            if not math.isfinite(value):
                raise TargetError(f"{source}: {section}.{key}: expected a finite number, got {_shown(value)}")
            costs[key] = float(value)
        values[section] = EventCosts(**costs)
    table = _table(doc, "sanafe", source)
    _no_unknown(table, {"arch"}, source, "sanafe")
    if "arch" in table:
        if table["arch"] not in ("loihi", "truenorth"):
            raise TargetError(
                f"{source}: sanafe.arch: expected 'loihi' or 'truenorth', got {_shown(table['arch'])}")
        values["sanafe_arch"] = table["arch"]
    values.update(_noise(_table(doc, "noise", source), source))
    target = Target(**values)
    if target.delay_max is not None and target.delay_max < max(target.delay_min, 1):
        raise TargetError(f"{source}: chip.delay_max ({target.delay_max}) is below delay_min")
    return target


def _noise(table: dict[str, Any], source: str) -> dict[str, Any]:
    """The ``[noise]`` table's fields of :class:`Target` (none for an absent or empty table)."""
    _no_unknown(table, set(_NOISE_KEYS), source, "noise")
    if not table:
        return {}
    kind = table.get("kind")
    if kind not in NOISE_KINDS:
        raise TargetError(f"{source}: noise.kind: expected one of {', '.join(map(repr, NOISE_KINDS))},"
                          f" got {_shown(kind)}")
    ints: dict[str, int] = {}
    for key, low, high in (("bits", 1, 31), ("exponent_min", -31, 31), ("exponent_max", -31, 31)):
        if key not in table:
            continue
        value = table[key]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise TargetError(f"{source}: noise.{key}: expected an integer from {low} to {high},"
                              f" got {_shown(value)}")
        ints[key] = value
    if "bits" not in ints:
        raise TargetError(f"{source}: noise.bits: a [noise] table must say how many random bits a draw has")
    has_exp = "exponent_min" in ints or "exponent_max" in ints
    if has_exp and kind != "membrane":
        raise TargetError(f"{source}: noise.exponent_min/exponent_max: only a \"membrane\" noise has a"
                          f" scale, not {kind!r}")
    exponents = None
    if kind == "membrane":
        exponents = (ints.get("exponent_min", 0), ints.get("exponent_max", 0))
        if exponents[0] > exponents[1]:
            raise TargetError(f"{source}: noise.exponent_max ({exponents[1]}) is below exponent_min"
                              f" ({exponents[0]})")
    reproducible = table.get("reproducible", True)
    if not isinstance(reproducible, bool):
        raise TargetError(f"{source}: noise.reproducible: expected true or false, got {_shown(reproducible)}")
    return {"noise_kind": kind, "noise_bits": ints["bits"], "noise_exponents": exponents,
            "noise_reproducible": reproducible}


def _table(doc: dict[str, Any], key: str, source: str) -> dict[str, Any]:
    table = doc.get(key, {})
    if not isinstance(table, dict):
        raise TargetError(f"{source}: {key}: expected a table ([{key}]), got {_shown(table)}")
    return table


def _shown(value: Any) -> str:
    """``value`` for a message, cut short (a TOML value may be a long array or string)."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _no_unknown(table: dict[str, Any], known: set[str], source: str, where: str) -> None:
    for key in sorted(table):
        if key not in known:
            raise TargetError(
                f"{source}: {where}: unknown key '{key}'{did_you_mean(key, known)}"
            )
