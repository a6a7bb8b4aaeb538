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
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from spikec.errors import NetworkFileError, SourceLocation, SpikecError
from spikec.ir.files import read_json, write_bytes_atomic, write_text_atomic
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
        return NetworkFileError(f"{self.source}: {where}: {message}")

    def get(self, obj: Any, key: str, kind: type | tuple[type, ...], where: str) -> Any:
        if not isinstance(obj, dict):
            raise self.fail(where, f"expected an object, got {type(obj).__name__}")
        if key not in obj:
            raise self.fail(where, f"missing '{key}'")
        value = obj[key]
        if not isinstance(value, kind) or (isinstance(value, bool) and bool not in _kinds(kind)):
            raise self.fail(f"{where}.{key}", f"expected {_kind_name(kind)}, got {value!r:.60}")
        return value


def _kinds(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def _kind_name(kind: type | tuple[type, ...]) -> str:
    names = {int: "an integer", float: "a number", str: "a string", list: "a list",
             dict: "an object", bool: "true or false"}
    return " or ".join(names.get(k, k.__name__) for k in _kinds(kind))


def network_from_dict(doc: Any, source: str = "<dict>") -> Network:
    """Build a :class:`Network` from a version-1 dict; errors name ``source`` and the JSON path."""
    r = _Reader(source)
    if not isinstance(doc, dict):
        raise r.fail("top level", f"expected an object, got {type(doc).__name__}")
    fmt = doc.get("format")
    if fmt != FORMAT:
        raise r.fail("format", f"expected '{FORMAT}', got {fmt!r}")
    version = doc.get("version")
    if version != VERSION:
        raise r.fail("version", f"this spikec reads version {VERSION}, got {version!r}")
    name = doc.get("name", "network")
    net = Network(str(name))
    neurons = r.get(doc, "neurons", list, "top level")
    names: list[str] = []
    try:
        for i, entry in enumerate(neurons):
            where = f"neurons[{i}]"
            nm = r.get(entry, "name", str, where)
            tags = r.get(entry, "tags", list, where) if "tags" in entry else []
            loc = None
            if entry.get("loc") is not None:
                lj = entry["loc"]
                loc = SourceLocation(
                    r.get(lj, "file", str, f"{where}.loc"),
                    r.get(lj, "line", int, f"{where}.loc"),
                    r.get(lj, "column", int, f"{where}.loc"),
                )
            if entry.get("input", False):
                net.input(nm, loc=loc, tags=tags)
            else:
                params = {
                    k: r.get(entry, k, (int, float), where) for k in NEURON_PARAMS if k in entry
                }
                unknown = set(entry) - set(NEURON_PARAMS) - {"name", "input", "tags", "loc"}
                if unknown:
                    raise r.fail(where, f"unknown field '{sorted(unknown)[0]}'")
                net.neuron(nm, **params, loc=loc, tags=tags)
            names.append(nm)
        syn = r.get(doc, "synapses", dict, "top level")
        cols = {k: r.get(syn, k, list, "synapses") for k in ("pre", "post", "weight", "delay")}
        lengths = {len(c) for c in cols.values()}
        if len(lengths) > 1:
            raise r.fail("synapses", "columns pre, post, weight, delay differ in length")
        index = {k: _index_column(r, cols[k], f"synapses.{k}", len(names)) for k in ("pre", "post")}
        weights = _number_column(r, cols["weight"], "synapses.weight")
        net.add_synapses(index["pre"], index["post"], weights, _delay_column(r, cols["delay"]))
        probes = doc.get("probes", [])
        if not isinstance(probes, list):
            raise r.fail("probes", "expected a list")
        for i, pj in enumerate(probes):
            probe_from_dict(net, pj, r, f"probes[{i}]")
        stimuli = doc.get("stimuli", {})
        if not isinstance(stimuli, dict):
            raise r.fail("stimuli", "expected an object")
        for nm, sj in stimuli.items():
            where = f"stimuli[{nm!r}]"
            if isinstance(sj, dict) and "rate" in sj:
                net.stimulus(nm, rate=r.get(sj, "rate", (int, float), where))
            else:
                net.stimulus(nm, r.get(sj, "times", list, where))
    except NetworkFileError:
        raise
    except SpikecError as exc:
        raise NetworkFileError(f"{source}: {exc.message}", exc.location) from None
    return net


def _index_column(r: _Reader, values: list[Any], where: str, n: int) -> np.ndarray:
    """A column of neuron indices as an int64 array; the first bad entry is named."""
    if all(type(v) is int for v in values):
        try:
            arr = np.array(values, dtype=np.int64)
        except OverflowError:
            arr = None
        if arr is not None:
            bad = np.flatnonzero((arr < 0) | (arr >= n))
            if not len(bad):
                return arr
            j = int(bad[0])
        else:
            j = next(k for k, v in enumerate(values) if not -(2**63) <= v < 2**63)
    else:
        j = next(k for k, v in enumerate(values) if type(v) is not int)
    raise r.fail(f"{where}[{j}]", f"expected a neuron index in [0, {n}), got {_short(values[j])}")


def _number_column(r: _Reader, values: list[Any], where: str) -> np.ndarray:
    """A column of finite numbers as float64; the first bad entry is named."""
    for j, v in enumerate(values):
        if type(v) is not float and type(v) is not int:
            raise r.fail(f"{where}[{j}]", f"expected a number, got {_short(v)}")
    try:
        return np.array(values, dtype=np.float64)
    except OverflowError:
        j = next(k for k, v in enumerate(values) if type(v) is int and abs(v) > 2**1023)
        raise r.fail(f"{where}[{j}]", "expected a finite number, got an integer too large for a"
                     " float") from None


def _delay_column(r: _Reader, values: list[Any]) -> np.ndarray:
    """A column of delays as int64 (the network checks they are >= 1, naming the synapse)."""
    for j, v in enumerate(values):
        if type(v) is not int:
            raise r.fail(f"synapses.delay[{j}]", f"expected an integer >= 1, got {_short(v)}")
        if v > MAX_DELAY:
            raise r.fail(f"synapses.delay[{j}]", f"expected an integer in [1, 2**63 - 1], got {_short(v)}")
    return np.array(values, dtype=np.int64)


def _short(value: Any) -> str:
    """A value for a message: its repr, cut short (huge integers by their size)."""
    if type(value) is int and value.bit_length() > 64:
        return f"a {value.bit_length()}-bit integer"
    return f"{value!r:.60}"


def probe_from_dict(net: Network, pj: Any, r: _Reader, where: str) -> None:
    """Add the probe ``pj`` (a ``probes`` entry of the format) to ``net``; ``r`` names
    the file in errors, ``where`` the entry."""
    if not isinstance(pj, dict):
        raise r.fail(where, f"expected an object, got {type(pj).__name__}")
    decoder = r.get(pj, "decoder", str, where) if pj.get("decoder") is not None else None
    array = r.get(pj, "array", bool, where) if "array" in pj else None
    decode_key = r.get(pj, "key", list, where) if "key" in pj else None
    info = r.get(pj, "info", dict, where) if "info" in pj else None
    neurons = r.get(pj, "neurons", list, where)
    if not all(isinstance(n, str) for n in neurons):
        raise r.fail(f"{where}.neurons", "expected a list of neuron names")
    net.probe(*neurons, label=r.get(pj, "label", str, where), decoder=decoder, array=array,
              key=decode_key, info=info)


def load_network(path: str | os.PathLike[str]) -> Network:
    """Read a network saved by :func:`save` (the format by the file's suffix: ``.npz``
    binary, else JSON); errors name the file and the bad field."""
    if is_npz(path):
        from spikec.ir.binary import load_npz

        return load_npz(path)
    return network_from_dict(read_json(path), os.fspath(path))
