"""Save and load networks: JSON (schema ``spikec-network``, version 1) here, and the
binary NPZ format of :mod:`spikec.ir.binary` for names ending in ``.npz``.

:func:`save` and :func:`load_network` pick the format by the file name's suffix.
Both schemas are documented in ``docs/network-format.md``. The JSON one, in short::

    {"format": "spikec-network", "version": 1, "name": "...",
     "neurons": [{"name": "x[0]", "input": true},
                 {"name": "maj", "threshold": 2.0, "decay": 1.0, "reset": 0.0,
                  "bias": 0.0, "p": 1.0, "v0": 0.0, "tags": [], "loc": null}],
     "synapses": {"pre": [0], "post": [1], "weight": [1.0], "delay": [1]},
     "probes": [{"label": "maj", "neurons": ["maj"], "decoder": null}],
     "stimuli": {"x[0]": {"times": [0, 2]}, "x[1]": {"rate": 0.1}}}

A ``label`` probe also carries its decode key, ``"key": [[...], ...]`` (one
row per class). Synapses are stored as columns, ``pre``/``post`` being indices into
``neurons``. Floats are written with Python's shortest round-trip repr, so
save -> load reproduces every value bit for bit. Files are written to a
temporary name and renamed (:mod:`spikec.ir.files`, whose helpers this module
re-exports), so a failed save never leaves a partial file.

Reading audits every field: its type (a boolean is not a number), range,
finiteness and integer-ness, and the counts of neurons and synapses against the
limits (``SPIKEC_MAX_NEURONS``, ``SPIKEC_MAX_SYNAPSES``, as the front end's) before
anything is built; the file itself must be a regular file of at most
``SPIKEC_MAX_FILE_BYTES`` (:data:`spikec.ir.files.MAX_JSON_BYTES`). Every mistake is a
:class:`NetworkFileError` naming the file and the JSON path (``net.json:
synapses.delay[3]: ...``), or the line and column of malformed JSON; the network
read is verified.
"""

from __future__ import annotations

import functools
import json
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from spikec.errors import NetworkFileError, SourceLocation, SpikecError, UsageError
from spikec.ir.files import read_json, write_bytes_atomic, write_text_atomic
from spikec.ir.limits import size_limit
from spikec.ir.network import NEURON_PARAMS, Network, PoissonRate, Probe
from spikec.ir.payloads import MAX_DELAY

__all__ = [
    "save", "load_network", "read_json", "network_to_dict", "network_from_dict", "probe_to_dict",
    "probe_from_dict", "FORMAT", "VERSION", "write_text_atomic", "write_bytes_atomic", "is_npz",
]

FORMAT = "spikec-network"
VERSION = 1


def _loc_to_json(loc: SourceLocation | None) -> dict[str, Any] | None:
    if loc is None:
        return None
    return {"file": loc.file, "line": loc.line, "column": loc.column}


def network_to_dict(net: Network) -> dict[str, Any]:
    """The JSON-ready dict of ``net`` in the version-1 schema."""
    names = net.names()
    cols = {k: net.param(k).tolist() for k in NEURON_PARAMS}
    is_input = net.is_input.tolist()
    locs = net.neuron_locations()
    neurons: list[dict[str, Any]] = []
    for i, name in enumerate(names):
        entry: dict[str, Any] = {"name": name}
        if is_input[i]:
            entry["input"] = True
        else:
            entry.update({k: cols[k][i] for k in NEURON_PARAMS})
        tags = net.tags_of(i)
        if tags:
            entry["tags"] = sorted(tags)
        if locs[i] is not None:
            entry["loc"] = _loc_to_json(locs[i])
        neurons.append(entry)
    stimuli: dict[str, Any] = {}
    for name, stim in net.stimuli.items():
        if isinstance(stim, PoissonRate):
            stimuli[name] = {"rate": stim.rate}
        else:
            stimuli[name] = {"times": list(stim.times)}
    return {
        "format": FORMAT,
        "version": VERSION,
        "name": net.name,
        "neurons": neurons,
        "synapses": {"pre": net.pre.tolist(), "post": net.post.tolist(), "weight": net.weight.tolist(),
                     "delay": net.delay.tolist()},
        "probes": [probe_to_dict(p) for p in net.probes],
        "stimuli": stimuli,
    }


def probe_to_dict(p: Probe) -> dict[str, Any]:
    """A probe as JSON-ready data (the ``probes`` entries of the network format)."""
    return {"label": p.label, "neurons": list(p.neurons), "decoder": p.decoder, "array": p.array,
            **({} if p.key is None else {"key": [list(row) for row in p.key]}),
            **({} if p.info is None else {"info": dict(p.info)})}


def _dumps(doc: dict[str, Any]) -> str:
    """JSON text with one neuron per line and one line per synapse column."""
    parts = ["{"]
    items = list(doc.items())
    for i, (key, value) in enumerate(items):
        comma = "," if i < len(items) - 1 else ""
        if key == "neurons":
            rows = ",\n".join("  " + json.dumps(n, allow_nan=False) for n in value)
            parts.append(f' "neurons": [\n{rows}\n ]{comma}' if value else f' "neurons": []{comma}')
        elif key == "synapses":
            cols = ",\n".join(f'  "{k}": {json.dumps(v, allow_nan=False)}' for k, v in value.items())
            parts.append(f' "synapses": {{\n{cols}\n }}{comma}')
        else:
            parts.append(f" {json.dumps(key)}: {json.dumps(value, allow_nan=False)}{comma}")
    parts.append("}")
    return "\n".join(parts) + "\n"


def is_npz(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` names the binary format (its suffix is ``.npz``)."""
    return Path(path).suffix.lower() == ".npz"


def save(net: Network, path: str | os.PathLike[str]) -> None:
    """Write ``net`` to ``path``, atomically: the binary format (:mod:`spikec.ir.binary`)
    when the name ends in ``.npz``, else JSON (schema ``spikec-network`` v1)."""
    if not isinstance(path, (str, os.PathLike)):
        raise UsageError(f"save: expected a file path (str or os.PathLike), got {type(path).__name__}")
    if is_npz(path):
        from spikec.ir.binary import save_npz

        save_npz(net, path)
        return
    from spikec.ir.verify import verify

    verify(net)
    text = _dumps(network_to_dict(net))
    try:
        write_text_atomic(path, text)
    except OSError as exc:
        raise NetworkFileError(f"cannot write {os.fspath(path)}: {exc.strerror or exc}") from None


class _Reader:
    """Schema checks that name the JSON path of the offending value."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, message: str) -> NetworkFileError:
        """The error ``SOURCE: WHERE: MESSAGE``."""
        return NetworkFileError(f"{self.source}: {where}: {message}")

    def wrap(self, where: str, exc: SpikecError) -> NetworkFileError:
        """A network-building error raised while reading the value at ``where``, named by
        its place in the file (the network's own source location is dropped: the mistake
        is in this file)."""
        return self.fail(where, exc.message)

    def get(self, obj: Any, key: str, kind: type | tuple[type, ...], where: str) -> Any:
        """``obj[key]``, which must be of ``kind`` (a bool only where ``bool`` is one)."""
        if not isinstance(obj, dict):
            raise self.fail(where, f"expected an object, got {type(obj).__name__}")
        if key not in obj:
            raise self.fail(where, f"missing '{key}'")
        value = obj[key]
        if not isinstance(value, kind) or (isinstance(value, bool) and bool not in _kinds(kind)):
            raise self.fail(_at(where, key), f"expected {_kind_name(kind)}, got {_short(value)}")
        return value

    def number(self, obj: Any, key: str, where: str) -> float:
        """``obj[key]`` as a finite float (an integer too large for a float is refused)."""
        value = self.get(obj, key, (int, float), where)
        try:
            x = float(value)
        except OverflowError:
            raise self.fail(_at(where, key), f"expected a finite number, got {_short(value)}") from None
        if not math.isfinite(x):
            raise self.fail(_at(where, key), f"expected a finite number, got {x!r}")
        return x

    def integer(self, obj: Any, key: str, where: str, low: int = 0, high: int = MAX_DELAY) -> int:
        """``obj[key]``, an integer in ``[low, high]`` (not a bool)."""
        value = self.get(obj, key, int, where)
        if not low <= value <= high:
            raise self.fail(_at(where, key), f"expected an integer in [{low}, {_bound(high)}], got"
                            f" {_short(value)}")
        return int(value)

    def strings(self, obj: Any, key: str, where: str) -> list[str]:
        """``obj[key]``, a list of strings."""
        values = self.get(obj, key, list, where)
        if not all(type(v) is str for v in values):
            j = next(k for k, v in enumerate(values) if type(v) is not str)
            raise self.fail(f"{_at(where, key)}[{j}]", f"expected a string, got {_short(values[j])}")
        return values

    def location(self, obj: dict[str, Any], where: str) -> SourceLocation | None:
        """``obj["loc"]``: null, or ``{file, line, column}`` with integers >= 0."""
        lj = obj.get("loc")
        if lj is None:
            return None
        at = f"{where}.loc"
        return SourceLocation(self.get(lj, "file", str, at), self.integer(lj, "line", at),
                              self.integer(lj, "column", at))


def _at(where: str, key: str) -> str:
    """The JSON path of ``key`` in the object at ``where`` (``"top level"``: the document)."""
    return key if where == "top level" else f"{where}.{key}"


def _bound(n: int) -> str:
    return "2**63 - 1" if n == MAX_DELAY else f"{n:,}"


def _kinds(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def _kind_name(kind: type | tuple[type, ...]) -> str:
    names = {int: "an integer", float: "a number", str: "a string", list: "a list",
             dict: "an object", bool: "true or false"}
    return " or ".join(names.get(k, k.__name__) for k in _kinds(kind))


#: The default ceilings of a network read from a file, as the front end's (``spikec.dsl.limits``).
def file_limit(var: str) -> int:
    """The neuron (``SPIKEC_MAX_NEURONS``) or synapse (``SPIKEC_MAX_SYNAPSES``) ceiling of a
    network read from a file (:func:`spikec.ir.limits.size_limit`: the front end's)."""
    return size_limit(var)


def check_count(source: str, where: str, count: int, what: str, var: str) -> None:
    """Refuse ``count`` neurons or synapses (``what``) past the ceiling ``var``, naming
    ``source`` and ``where``, before anything is built for them."""
    limit = file_limit(var)
    if count > limit:
        raise NetworkFileError(f"{source}: {where}: {count:,} {what} is more than the limit of {limit:,}"
                               f" (set {var} to raise it)")


def finish_from_dict(net: Network, doc: dict[str, Any], r: Any) -> None:
    """Read ``doc``'s probes and stimuli into ``net`` (errors at their JSON path through the
    reader ``r``), then verify the network: the last steps of reading a network or netlist."""
    probes = doc.get("probes", [])
    if not isinstance(probes, list):
        raise r.fail("probes", f"expected a list, got {_short(probes)}")
    for i, pj in enumerate(probes):
        try:
            probe_from_dict(net, pj, r, f"probes[{i}]")
        except NetworkFileError:
            raise
        except SpikecError as exc:
            raise r.wrap(f"probes[{i}]", exc) from None
    stimuli_from_dict(net, doc.get("stimuli", {}), r)
    from spikec.ir.verify import verify

    verify(net)


def network_from_dict(doc: Any, source: str = "<dict>") -> Network:
    """Build a :class:`Network` from a version-1 dict; errors name ``source`` and the JSON path.
    Counts are checked against the limits (``SPIKEC_MAX_NEURONS``, ``SPIKEC_MAX_SYNAPSES``)
    before anything is built, and the network is verified."""
    r = _Reader(source)
    if not isinstance(doc, dict):
        raise r.fail("top level", f"expected an object, got {type(doc).__name__}")
    fmt = doc.get("format")
    if fmt != FORMAT:
        raise r.fail("format", f"expected '{FORMAT}', got {_short(fmt)}")
    version = doc.get("version")
    if type(version) is not int or version != VERSION:
        raise r.fail("version", f"this spikec reads version {VERSION}, got {_short(version)}")
    net = Network(r.get(doc, "name", str, "top level") if "name" in doc else "network")
    neurons = r.get(doc, "neurons", list, "top level")
    check_count(source, "neurons", len(neurons), "neurons", "SPIKEC_MAX_NEURONS")
    syn = r.get(doc, "synapses", dict, "top level")
    cols = {k: r.get(syn, k, list, "synapses") for k in ("pre", "post", "weight", "delay")}
    if len({len(c) for c in cols.values()}) > 1:
        raise r.fail("synapses", "columns pre, post, weight, delay differ in length")
    check_count(source, "synapses", len(cols["pre"]), "synapses", "SPIKEC_MAX_SYNAPSES")
    try:
        _add_rows(net, r, neurons)
        index = {k: _index_column(r, cols[k], f"synapses.{k}", len(neurons)) for k in ("pre", "post")}
        weights = number_column(r, cols["weight"], lambda j: f"synapses.weight[{j}]")
        delays = delay_column(r, cols["delay"], lambda j: f"synapses.delay[{j}]")
        net.add_synapses(index["pre"], index["post"], weights, delays)
        finish_from_dict(net, doc, r)
    except NetworkFileError:
        raise
    except SpikecError as exc:
        raise NetworkFileError(f"{source}: {exc.message}", exc.location) from None
    return net


def _add_rows(net: Network, r: _Reader, neurons: list[Any]) -> None:
    """Add the neuron rows in order (one API call each: names, tags and locations are
    irregular; large networks use the NPZ format)."""
    allowed = {*NEURON_PARAMS, "name", "input", "tags", "loc"}
    for i, entry in enumerate(neurons):
        where = f"neurons[{i}]"
        nm = r.get(entry, "name", str, where)
        tags = r.strings(entry, "tags", where) if "tags" in entry else []
        loc = r.location(entry, where)
        if r.get(entry, "input", bool, where) if "input" in entry else False:
            net.input(nm, loc=loc, tags=tags)
            continue
        params = {k: r.number(entry, k, where) for k in NEURON_PARAMS if k in entry}
        unknown = set(entry) - allowed
        if unknown:
            raise r.fail(where, f"unknown field '{sorted(unknown)[0]}'")
        net.neuron(nm, **params, loc=loc, tags=tags)


def _index_column(r: _Reader, values: list[Any], where: str, n: int) -> np.ndarray:
    """A column of neuron indices as an int64 array; the first bad entry is named."""
    arr = int_array(values)
    if arr is not None:
        bad = np.flatnonzero((arr < 0) | (arr >= n))
        if not len(bad):
            return arr
        j = int(bad[0])
    else:
        j = next(k for k, v in enumerate(values) if type(v) is not int or not -(2**63) <= v < 2**63)
    raise r.fail(f"{where}[{j}]", f"expected a neuron index in [0, {n}), got {_short(values[j])}")


def int_array(values: list[Any]) -> np.ndarray | None:
    """``values`` as int64 when all are integers (not booleans) that fit, else None."""
    if not set(map(type, values)) <= {int}:
        return None
    try:
        return np.array(values, dtype=np.int64)
    except OverflowError:
        return None


def number_column(r: _Reader, values: list[Any], where: Callable[[int], str]) -> np.ndarray:
    """A column of finite numbers (not booleans) as float64; the first bad entry is named
    by ``where(j)``, its JSON path."""
    if not set(map(type, values)) <= {int, float}:
        j = next(k for k, v in enumerate(values) if type(v) is not float and type(v) is not int)
        raise r.fail(where(j), f"expected a number, got {_short(values[j])}")
    try:
        arr = np.array(values, dtype=np.float64)
    except OverflowError:
        j = next(k for k, v in enumerate(values) if _too_large(v))
        raise r.fail(where(j), f"expected a finite number, got {_short(values[j])}") from None
    bad = np.flatnonzero(~np.isfinite(arr))
    if len(bad):
        j = int(bad[0])
        raise r.fail(where(j), f"expected a finite number, got {float(arr[j])!r}")
    return arr


def _too_large(value: Any) -> bool:
    try:
        float(value)
    except OverflowError:
        return True
    return False


def delay_column(r: _Reader, values: list[Any], where: Callable[[int], str]) -> np.ndarray:
    """A column of delays as int64; the first entry that is not an integer that fits is
    named by ``where(j)`` (the network checks that they are >= 1, naming the synapse)."""
    arr = int_array(values)
    if arr is None:
        j = next(k for k, v in enumerate(values) if type(v) is not int or not -(2**63) <= v <= MAX_DELAY)
        raise r.fail(where(j), f"expected an integer in [1, 2**63 - 1], got {_short(values[j])}")
    return arr


def _short(value: Any) -> str:
    """A value for a message: its repr, cut short (huge integers by their size)."""
    if type(value) is int and value.bit_length() > 64:
        return f"a {value.bit_length()}-bit integer"
    if isinstance(value, (list, dict)) and len(value) > 8:
        return f"a {type(value).__name__} of {len(value):,} entries"
    return f"{value!r:.60}"


def _key_rows(r: _Reader, pj: dict[str, Any], where: str) -> list[list[float]]:
    """A probe's decode key: a list of rows of finite numbers."""
    rows = r.get(pj, "key", list, where)
    for i, row in enumerate(rows):
        if not isinstance(row, list):
            raise r.fail(f"{where}.key[{i}]", f"expected a list of numbers, got {_short(row)}")
        number_column(r, row, functools.partial("{}.key[{}][{}]".format, where, i))
    return rows


def probe_from_dict(net: Network, pj: Any, r: _Reader, where: str) -> None:
    """Add the probe ``pj`` (a ``probes`` entry of the format) to ``net``; ``r`` names
    the file in schema errors, ``where`` the entry (the network's own errors, an unknown
    neuron or a decode key of the wrong shape, are raised as they are)."""
    if not isinstance(pj, dict):
        raise r.fail(where, f"expected an object, got {type(pj).__name__}")
    decoder = r.get(pj, "decoder", str, where) if pj.get("decoder") is not None else None
    array = r.get(pj, "array", bool, where) if "array" in pj else None
    decode_key = _key_rows(r, pj, where) if "key" in pj else None
    info = r.get(pj, "info", dict, where) if "info" in pj else None
    neurons = r.strings(pj, "neurons", where)
    label = r.get(pj, "label", str, where)
    net.probe(*neurons, label=label, decoder=decoder, array=array, key=decode_key, info=info)


def stimuli_from_dict(net: Network, stimuli: Any, r: _Reader, where: str = "stimuli") -> None:
    """Add the stimuli of the format (``{input: {"times": [...]}`` or ``{"rate": p}}``) to
    ``net``: one bulk call for the rates and one per distinct list of times. An error names
    the entry at fault (``stimuli['x[0]']``)."""
    if not isinstance(stimuli, dict):
        raise r.fail(where, f"expected an object, got {_short(stimuli)}")
    rated: dict[str, float] = {}
    timed: dict[tuple[int, ...], list[str]] = {}
    for name, sj in stimuli.items():
        at = f"{where}[{name!r}]"
        if isinstance(sj, dict) and "rate" in sj:
            rate = r.number(sj, "rate", at)
            if not 0.0 <= rate <= 1.0:
                raise r.fail(f"{at}.rate", f"expected a number in [0, 1], got {rate!r}")
            rated[name] = rate
        else:
            times = r.get(sj, "times", list, at)
            if not all(type(t) is int and t >= 0 for t in times):
                j = next(k for k, t in enumerate(times) if type(t) is not int or t < 0)
                raise r.fail(f"{at}.times[{j}]", f"expected an integer >= 0, got {_short(times[j])}")
            timed.setdefault(tuple(times), []).append(name)
    try:
        if rated:
            net.stimulate(net.resolve(list(rated), "stimulus"), rate=np.array(list(rated.values())))
        for steps, names in timed.items():
            net.stimulate(net.resolve(names, "stimulus"), steps, owner=f"stimulus '{names[0]}'")
    except SpikecError as exc:
        for name in [*rated, *(nm for names in timed.values() for nm in names)]:
            try:  # only to find the entry at fault: the network is dropped
                net.stimulate(net.resolve([name], "stimulus"), rate=0.0)
            except SpikecError as one:
                raise r.wrap(f"{where}[{name!r}]", one) from None
        raise r.wrap(where, exc) from None


def load_network(path: str | os.PathLike[str]) -> Network:
    """Read a network saved by :func:`save` (the format by the file's suffix: ``.npz``
    binary, else JSON); errors name the file and the bad field."""
    if is_npz(path):
        from spikec.ir.binary import load_npz

        return load_npz(path)
    return network_from_dict(read_json(path), os.fspath(path))
