"""Save and load networks as JSON (schema ``spikec-network``, version 1).

The schema is documented in ``docs/network-format.md``. In short::

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
temporary name and renamed, so a failed save never leaves a partial file.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from spikec.errors import NetworkFileError, SourceLocation, SpikecError
from spikec.ir.network import NEURON_PARAMS, Network, PoissonRate

__all__ = [
    "save", "load_network", "read_json", "network_to_dict", "network_from_dict", "FORMAT", "VERSION",
]

FORMAT = "spikec-network"
VERSION = 1


def _loc_to_json(loc: SourceLocation | None) -> dict[str, Any] | None:
    if loc is None:
        return None
    return {"file": loc.file, "line": loc.line, "column": loc.column}


def network_to_dict(net: Network) -> dict[str, Any]:
    """The JSON-ready dict of ``net`` in the version-1 schema."""
    index: dict[str, int] = {}
    neurons: list[dict[str, Any]] = []
    for i, n in enumerate(net.neurons()):
        index[n.name] = i
        entry: dict[str, Any] = {"name": n.name}
        if n.is_input:
            entry["input"] = True
        else:
            entry.update({k: float(getattr(n, k)) for k in NEURON_PARAMS})
        if n.tags:
            entry["tags"] = sorted(n.tags)
        if n.loc is not None:
            entry["loc"] = _loc_to_json(n.loc)
        neurons.append(entry)
    pre: list[int] = []
    post: list[int] = []
    weight: list[float] = []
    delay: list[int] = []
    for a, b, data in net.graph.edges(data=True):
        pre.append(index[a])
        post.append(index[b])
        weight.append(float(data["weight"]))
        delay.append(int(data["delay"]))
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
        "synapses": {"pre": pre, "post": post, "weight": weight, "delay": delay},
        "probes": [
            {"label": p.label, "neurons": list(p.neurons), "decoder": p.decoder, "array": p.array,
             **({} if p.key is None else {"key": [list(row) for row in p.key]}),
             **({} if p.info is None else {"info": dict(p.info)})}
            for p in net.probes
        ],
        "stimuli": stimuli,
    }


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


def write_text_atomic(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename."""
    write_bytes_atomic(path, text.encode("utf-8"))


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename."""
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save(net: Network, path: str | os.PathLike[str]) -> None:
    """Write ``net`` to ``path`` as JSON (schema ``spikec-network`` v1), atomically."""
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
        for key in ("pre", "post"):
            for j, idx in enumerate(cols[key]):
                if isinstance(idx, bool) or not isinstance(idx, int) or not 0 <= idx < len(names):
                    raise r.fail(
                        f"synapses.{key}[{j}]",
                        f"expected a neuron index in [0, {len(names)}), got {idx!r}",
                    )
        for j, w in enumerate(cols["weight"]):
            if isinstance(w, bool) or not isinstance(w, (int, float)):
                raise r.fail(f"synapses.weight[{j}]", f"expected a number, got {w!r}")
        net.add_synapses(
            [names[i] for i in cols["pre"]],
            [names[i] for i in cols["post"]],
            cols["weight"],
            cols["delay"],
        )
        for i, pj in enumerate(doc.get("probes", [])):
            where = f"probes[{i}]"
            decoder = pj.get("decoder") if isinstance(pj, dict) else None
            array = r.get(pj, "array", bool, where) if "array" in pj else None
            decode_key = r.get(pj, "key", list, where) if "key" in pj else None
            info = r.get(pj, "info", dict, where) if "info" in pj else None
            net.probe(
                *r.get(pj, "neurons", list, where),
                label=r.get(pj, "label", str, where),
                decoder=decoder,
                array=array,
                key=decode_key,
                info=info,
            )
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


def read_json(path: str | os.PathLike[str]) -> Any:
    """Parse the JSON file at ``path``; a missing, unreadable or malformed file is a
    :class:`NetworkFileError` (malformed JSON with its line, column and a caret)."""
    source = os.fspath(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise NetworkFileError(f"{source}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise NetworkFileError(f"{source}: cannot read: {exc}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        lines = text.splitlines()
        line_text = lines[exc.lineno - 1] if 0 < exc.lineno <= len(lines) else None
        loc = SourceLocation(source, exc.lineno, exc.colno, line_text)
        raise NetworkFileError(f"invalid JSON: {exc.msg}", loc) from None


def load_network(path: str | os.PathLike[str]) -> Network:
    """Read a network saved by :func:`save`; errors name the file and the bad field."""
    return network_from_dict(read_json(path), os.fspath(path))
