"""The binary network format for large networks: one NPZ file (``spikec-network-npz``, v1).

``spikec.save(net, "net.npz")`` writes it and ``spikec.load_network`` reads it
back exactly (``loaded == net``, the same printer text, the same spikes); the
schema is documented in ``docs/network-format.md``. The file is a plain
NPZ archive: the network's columns as ``.npy`` arrays, and a
``header`` array holding UTF-8 JSON for what is small or irregular (format,
version, name, sizes, the tables of source locations and tag sets, probes,
spike-time stimuli). It is written as ``numpy.savez`` writes (stored members)
but with fixed timestamps, so the same network always gives the same bytes.
No pickles: ``numpy.load(path, allow_pickle=False)`` reads it, and so does
:func:`load_npz`, member by member.

Reading checks each member's ``.npy`` header (dtype, shape) against the sizes
the JSON header declares, and those against the member's stored size (and a
compressed member's claimed size against what deflate can give), then the
counts against the limits (``SPIKEC_MAX_NEURONS``, ``SPIKEC_MAX_SYNAPSES``),
before allocating anything; the ``header`` and ``names.text`` members, which no
count sizes, may hold at most :data:`MAX_TEXT_BYTES`. Values are checked too
(finite parameters and weights, rates NaN or in [0, 1], delays >= 1). Every
schema error is a :class:`NetworkFileError` naming the file and the array.
The network is then built from the columns with no Python loop per neuron or
synapse, and verified.
"""

from __future__ import annotations

import json
import os
import re
import stat
import struct
import sys
import zipfile
from collections.abc import Mapping
from typing import IO, Any

import numpy as np

from spikec.errors import NetworkFileError, SourceLocation, SpikecError
from spikec.ir.files import atomic_file, lone_surrogate
from spikec.ir.names import NameTable
from spikec.ir.network import DEFAULT_PARAMS, NEURON_PARAMS, Network
from spikec.ir.npy import MEMBER_READ_ERRORS, entry_problem, open_zip, read_npy_header
from spikec.ir.serialize import _Reader, check_count, probe_from_dict, probe_to_dict

__all__ = ["FORMAT", "VERSION", "save_npz", "load_npz", "read_npz", "name_columns", "is_network_npz"]

FORMAT = "spikec-network-npz"
VERSION = 1

_MAX_NEURONS = 2**31 - 1
_MAX_ELEMENT = 999_999_999  # names.py keeps elements of at most 9 digits
#: The most bytes the two members whose size no count fixes (``header``, ``names.text``)
#: may hold; the others are sized by the header's counts, themselves within the limits.
MAX_TEXT_BYTES = 2**31 - 1
_EPOCH = (1980, 1, 1, 0, 0, 0)  # every member's timestamp: the same network, the same bytes

#: Member -> (dtype, length): "N" neurons, "E" synapses, "T" bytes of name text.
_ARRAYS: dict[str, tuple[str, str]] = {
    **{f"neurons.{k}": ("<f8", "N") for k in NEURON_PARAMS},
    "neurons.input": ("|b1", "N"),
    "neurons.tags": ("<i4", "N"),
    "neurons.loc": ("<i4", "N"),
    "neurons.rate": ("<f8", "N"),
    "names.base": ("<i4", "N"),
    "names.elem": ("<i4", "N"),
    "names.text": ("|u1", "T"),
    "synapses.pre": ("<i4", "E"),
    "synapses.post": ("<i4", "E"),
    "synapses.weight": ("<f8", "E"),
    "synapses.delay": ("<i8", "E"),
    "synapses.loc": ("<i4", "E"),
}
# A base that reads as an array element ("x[3]") cannot name a neuron on its own.
_ELEMENT_LIKE = re.compile(rb"(?m)^.*\[(?:0|[1-9][0-9]{0,8})\]$")


# -- the columns the IR keeps (what Network should expose publicly) ------------------------

def name_columns(net: Network) -> tuple[list[str], np.ndarray, np.ndarray]:
    """The name table as columns: the distinct base strings, and each neuron's base id and
    element (-1 for none), so neuron i is ``bases[base[i]]`` or ``bases[base[i]][elem[i]]``.
    The arrays are read-only views and the list is the table's own: do not change them."""
    table = net._names
    return table.bases, table.cols["base"], table.cols["elem"]


def _tables(net: Network) -> tuple[list[SourceLocation], list[frozenset[str]], dict[str, np.ndarray]]:
    """The location and tag tables and the id columns into them (neurons and synapses)."""
    net.pre  # noqa: B018 -- group the synapses first, so their loc column is in the grouped order
    ids = {"neurons.tags": net._nrn["tags"], "neurons.loc": net._nrn["loc"], "synapses.loc": net._syn["loc"]}
    return list(net._locs.values), list(net._tags.values), ids


# -- writing ------------------------------------------------------------------------------

def _json_bytes(value: Any) -> np.ndarray:
    return np.frombuffer(json.dumps(value, allow_nan=False, separators=(",", ":")).encode("utf-8"),
                         dtype=np.uint8)


def network_arrays(net: Network, header_extra: Mapping[str, Any] | None = None) -> dict[str, np.ndarray]:
    """The members of the NPZ file of ``net`` (``header`` and the columns); ``header_extra``
    adds keys to the header (a netlist's section)."""
    bases, base, elem = name_columns(net)
    text = "\n".join(bases)
    if text.count("\n") != max(len(bases) - 1, 0):  # the IR refuses such names: a separator stays one
        raise NetworkFileError("a neuron name holds a line break")
    locs, tags, ids = _tables(net)
    groups: dict[tuple[int, ...], list[int]] = {}
    for i, steps in net.stimulus_times.items():
        groups.setdefault(steps, []).append(i)
    header = {
        "format": FORMAT, "version": VERSION, "name": net.name, "neurons": len(net),
        "synapses": net.num_synapses, "bases": len(bases),
        "locations": [[x.file, x.line, x.column, x.text] for x in locs],
        "tags": [sorted(t) for t in tags],
        "probes": [probe_to_dict(p) for p in net.probes],
        "stimulus_times": [{"steps": list(steps), "neurons": idx} for steps, idx in groups.items()],
        **(header_extra or {}),
    }
    arrays: dict[str, np.ndarray] = {"header": _json_bytes(header)}
    for k in NEURON_PARAMS:
        arrays[f"neurons.{k}"] = net.param(k)
    arrays.update({
        "neurons.input": net.is_input, "neurons.rate": net.stimulus_rates,
        "names.base": base, "names.elem": elem,
        "names.text": np.frombuffer(text.encode("utf-8"), dtype=np.uint8),
        "synapses.pre": net.pre, "synapses.post": net.post, "synapses.weight": net.weight,
        "synapses.delay": net.delay, **ids,
    })
    return {k: np.ascontiguousarray(v, dtype=_ARRAYS[k][0] if k in _ARRAYS else None)
            for k, v in arrays.items()}


def save_npz(net: Network, path: str | os.PathLike[str], *, header: Mapping[str, Any] | None = None,
             arrays: Mapping[str, np.ndarray] | None = None) -> None:
    """Write ``net`` to ``path`` in the binary format, atomically (verified first).
    ``header`` adds keys to the JSON header and ``arrays`` members to the archive (a
    netlist's placement); they may not replace the network's own."""
    from spikec.ir.verify import verify

    verify(net)
    members = network_arrays(net, header)
    clash = sorted(set(members) & set(arrays or {}))
    if clash:
        raise ValueError(f"member '{clash[0]}' belongs to the network")
    arrays = {**members, **{k: np.ascontiguousarray(v) for k, v in (arrays or {}).items()}}
    try:
        with atomic_file(path) as fh, zipfile.ZipFile(fh, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
            for key, value in arrays.items():  # as numpy.savez does, with a fixed timestamp
                with zf.open(zipfile.ZipInfo(f"{key}.npy", _EPOCH), "w", force_zip64=True) as member:
                    np.lib.format.write_array(member, value, allow_pickle=False)
    except OSError as exc:
        raise NetworkFileError(f"cannot write {os.fspath(path)}: {exc.strerror or exc}") from None


# -- reading ------------------------------------------------------------------------------

class _Archive:
    """The members of an NPZ file, each checked before it is read."""

    def __init__(self, zf: zipfile.ZipFile, source: str) -> None:
        self.zf = zf
        self.source = source

    def fail(self, what: str, message: str) -> NetworkFileError:
        return NetworkFileError(f"{self.source}: {what}: {message}")

    def has(self, name: str) -> bool:
        return f"{name}.npy" in self.zf.NameToInfo

    def array(self, name: str, dtype: str, length: int | None = None, *, read: bool = True) -> np.ndarray:
        """Member ``name``: a 1-D array of ``dtype`` (and ``length`` when given). With
        ``read=False`` only its ``.npy`` header and sizes are checked (an empty array is
        returned), so a file can be refused before any member is read."""
        what = f"array '{name}'"
        try:
            info = self.zf.getinfo(f"{name}.npy")
        except KeyError:
            raise self.fail(what, "missing") from None
        problem = entry_problem(info)
        if problem:
            raise self.fail(what, problem)
        if length is None and info.file_size > MAX_TEXT_BYTES:
            raise self.fail(what, f"{info.file_size:,} bytes is more than the {MAX_TEXT_BYTES:,} it may hold")
        try:
            with self.zf.open(info) as fh:
                shape, found = self._header(fh, what)
                want = np.dtype(dtype)
                if found != want:
                    raise self.fail(what, f"expected dtype {want.str}, got {found.str}")
                if len(shape) != 1 or (length is not None and shape[0] != length):
                    expected = "a 1-D array" if length is None else f"shape ({length},)"
                    raise self.fail(what, f"expected {expected}, got shape {shape}")
                nbytes = shape[0] * want.itemsize
                if info.file_size != fh.tell() + nbytes:
                    raise self.fail(what, f"holds {info.file_size - fh.tell()} bytes of data, its header says"
                                    f" {nbytes}")
                if not read:
                    return np.zeros(0, dtype=want)
                data = fh.read(nbytes)
        except MEMBER_READ_ERRORS as exc:
            raise self.fail(what, f"cannot read: {exc}") from None
        if len(data) != nbytes:
            raise self.fail(what, "truncated")
        return np.frombuffer(data, dtype=want)

    def _header(self, fh: IO[bytes], what: str) -> tuple[tuple[int, ...], np.dtype[Any]]:
        try:
            shape, _, dtype = read_npy_header(fh)
        except ValueError as exc:
            raise self.fail(what, str(exc)) from None
        return shape, dtype

    def json(self, name: str) -> Any:
        raw = self.array(name, "|u1").tobytes()
        try:
            doc = json.loads(raw.decode("utf-8"))
            odd = lone_surrogate(doc) if b"\\ud" in raw or b"\\uD" in raw else None
            if odd is not None:
                raise self.fail(f"array '{name}'", odd)
            return doc
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise self.fail(f"array '{name}'", f"not UTF-8 JSON: {exc}") from None
        except RecursionError:
            raise self.fail(f"array '{name}'", "not UTF-8 JSON: brackets nested too deeply") from None
        except ValueError:  # the only other failure: an integer of more digits than Python reads
            raise self.fail(f"array '{name}'", "not UTF-8 JSON: an integer of more than"
                            f" {sys.get_int_max_str_digits():,} digits") from None


def is_network_npz(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is an NPZ file with a spikec network header (False for others)."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):  # a FIFO would block the open
            return False
        with zipfile.ZipFile(path) as zf:
            return "header.npy" in zf.NameToInfo
    except (OSError, zipfile.BadZipFile, EOFError, ValueError, OverflowError, struct.error):
        return False


def load_npz(path: str | os.PathLike[str]) -> Network:
    """Read a network written by :func:`save_npz`; errors name the file and the array."""
    return read_npz(path)[0]


def read_npz(path: str | os.PathLike[str], extra: Mapping[str, tuple[str, str]] | None = None,
             ) -> tuple[Network, dict[str, Any], dict[str, np.ndarray]]:
    """The network of an NPZ file, its JSON header, and those of the members named in
    ``extra`` (name -> (dtype, length: ``"N"`` neurons or ``"E"`` synapses)) that the file
    holds, each checked as the network's own are (a malformed one is a
    :class:`NetworkFileError`; a missing one is left out)."""
    source = os.fspath(path)
    with open_zip(path, source, NetworkFileError) as zf:
        return _read_archive(zf, source, extra)


def _read_archive(zf: zipfile.ZipFile, source: str, extra: Mapping[str, tuple[str, str]] | None,
                  ) -> tuple[Network, dict[str, Any], dict[str, np.ndarray]]:
    """:func:`read_npz` on the opened archive."""
    with zf:
        archive = _Archive(zf, source)
        if not archive.has("header"):
            raise NetworkFileError(f"{source}: not a spikec network: no 'header' array")
        net, header = _read(archive)
        sizes = {"N": len(net), "E": net.num_synapses}
        found = {k: archive.array(k, dtype, sizes[size]) for k, (dtype, size) in (extra or {}).items()
                 if archive.has(k)}
        return net, header, found


def _count(a: _Archive, header: dict[str, Any], key: str, limit: int | None = None) -> int:
    value = header.get(key)
    if type(value) is not int or value < 0 or (limit is not None and value > limit):
        bound = f" at most {limit:,}" if limit is not None else ""
        raise a.fail(f"header.{key}", f"expected an integer >= 0{bound}, got {value!r:.40}")
    return value


def _read(a: _Archive) -> tuple[Network, dict[str, Any]]:
    header = a.json("header")
    if not isinstance(header, dict):
        raise a.fail("header", "expected a JSON object")
    if header.get("format") != FORMAT:
        raise a.fail("header.format", f"expected '{FORMAT}', got {header.get('format')!r:.60}")
    if header.get("version") != VERSION:
        found = header.get("version")
        raise a.fail("header.version", f"this spikec reads version {VERSION}, got {found!r:.40}")
    r = _Reader(a.source)
    name = r.get(header, "name", str, "header")
    n = _count(a, header, "neurons", _MAX_NEURONS)
    e = _count(a, header, "synapses")
    n_bases = _count(a, header, "bases")
    sizes = {"N": n, "E": e, "T": None}
    for k, (dtype, size) in _ARRAYS.items():  # every member's header and size, before reading any
        a.array(k, dtype, sizes[size], read=False)
    check_count(a.source, "header.neurons", n, "neurons", "SPIKEC_MAX_NEURONS")
    check_count(a.source, "header.synapses", e, "synapses", "SPIKEC_MAX_SYNAPSES")
    cols = {k: a.array(k, dtype, sizes[size]) for k, (dtype, size) in _ARRAYS.items()}
    locs = _locations(a, r.get(header, "locations", list, "header"))
    tags = _tag_sets(a, r.get(header, "tags", list, "header"))
    table = _names(a, cols, n_bases)
    _check_ids(a, cols, len(locs), len(tags), n, e)
    _check_values(a, cols, table)
    try:
        net = _network(name, cols, table, locs, tags)
        _stimuli(a, r, net, header.get("stimulus_times", []))
        probes = r.get(header, "probes", list, "header")
        for i, pj in enumerate(probes):
            probe_from_dict(net, pj, r, f"header.probes[{i}]")
        from spikec.ir.verify import verify

        verify(net)
    except NetworkFileError:
        raise
    except SpikecError as exc:
        raise NetworkFileError(f"{a.source}: {exc.message}", exc.location) from None
    return net, header


def _locations(a: _Archive, rows: list[Any]) -> list[SourceLocation | None]:
    out: list[SourceLocation | None] = []
    for k, row in enumerate(rows):
        ok = (isinstance(row, list) and len(row) == 4 and isinstance(row[0], str)
              and type(row[1]) is int and type(row[2]) is int and (row[3] is None or isinstance(row[3], str))
              and 0 <= row[1] < 2**63 and 0 <= row[2] < 2**63)
        if not ok:
            raise a.fail(f"header.locations[{k}]", "expected [file, line, column, text or null] (line and"
                         f" column integers >= 0), got {row!r:.60}")
        out.append(SourceLocation(row[0], row[1], row[2], row[3]))
    return out


def _tag_sets(a: _Archive, rows: list[Any]) -> list[frozenset[str]]:
    out = []
    for k, row in enumerate(rows):
        if not isinstance(row, list) or not all(isinstance(t, str) for t in row):
            raise a.fail(f"header.tags[{k}]", f"expected a list of strings, got {row!r:.60}")
        out.append(frozenset(row))
    return out


def _names(a: _Archive, cols: Mapping[str, np.ndarray], n_bases: int) -> list[str]:
    """The base strings, checked with the id columns: every neuron gets a valid, unique name."""
    raw = cols["names.text"].tobytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise a.fail("array 'names.text'", f"not UTF-8: {exc}") from None
    bases = text.split("\n") if n_bases else []
    if n_bases == 0 and text:
        raise a.fail("array 'names.text'", "holds text but the header says there are no names")
    if len(bases) != n_bases:
        raise a.fail("array 'names.text'", f"holds {len(bases)} names, the header says {n_bases}")
    flat = text.replace("\n", "")
    if not flat.isprintable() or re.search(r"\s", flat):
        shown = next(b for b in bases if not b.isprintable() or re.search(r"\s", b))
        raise a.fail("array 'names.text'", f"name {shown!r:.60} holds spaces or control characters")
    if len(set(bases)) != len(bases):
        seen: set[str] = set()
        dup = next(b for b in bases if b in seen or seen.add(b))  # type: ignore[func-returns-value]
        raise a.fail("array 'names.text'", f"name '{dup}' is listed twice")
    base, elem = cols["names.base"], cols["names.elem"]
    for what, outside in (("names.base", (base < 0) | (base >= n_bases)),
                          ("names.elem", (elem < -1) | (elem > _MAX_ELEMENT))):
        if outside.any():
            k = int(np.flatnonzero(outside)[0])
            value = int(cols[what][k])
            raise a.fail(f"array '{what}'", f"entry {k}: {value} is not a name id" if what == "names.base"
                         else f"entry {k}: element {value} is outside [-1, {_MAX_ELEMENT}]")
    scalar = elem < 0
    if not len(base):
        return bases
    # a name on its own (no element) must be non-empty and must not read as an array element
    newlines = np.flatnonzero(np.frombuffer(raw, dtype=np.uint8) == 10)
    odd = [int(np.searchsorted(newlines, m.start())) for m in _ELEMENT_LIKE.finditer(raw)]
    if "" in bases:
        odd.append(bases.index(""))
    bad_scalar = scalar & np.isin(base, np.array(odd, dtype=np.int64))
    if bad_scalar.any():
        k = int(np.flatnonzero(bad_scalar)[0])
        raise a.fail("array 'names.base'",
                     f"entry {k}: {bases[int(base[k])]!r} cannot be a neuron name on its own")
    key = base.astype(np.int64) * (_MAX_ELEMENT + 2) + elem.astype(np.int64)
    order = np.argsort(key, kind="stable")
    same = np.flatnonzero(key[order][1:] == key[order][:-1])
    if len(same):
        k = int(order[same[0] + 1])
        shown = bases[int(base[k])] + ("" if elem[k] < 0 else f"[{int(elem[k])}]")
        raise a.fail("array 'names.base'", f"duplicate neuron name '{shown}' (entry {k})")
    return bases


def _check_ids(a: _Archive, cols: Mapping[str, np.ndarray], n_locs: int, n_tags: int, n: int, e: int) -> None:
    """Ids into the tables and neuron indices in range; inputs keep default parameters."""
    checks = [("neurons.tags", 0, n_tags), ("neurons.loc", -1, n_locs), ("synapses.loc", -1, n_locs),
              ("synapses.pre", 0, n), ("synapses.post", 0, n)]
    for what, low, high in checks:
        col = cols[what]
        bad = (col < low) | (col >= high)
        if bad.any():
            k = int(np.flatnonzero(bad)[0])
            raise a.fail(f"array '{what}'", f"entry {k}: {int(col[k])} is outside [{low}, {high})")
    is_input = cols["neurons.input"]
    if (is_input.view(np.uint8) > 1).any():
        k = int(np.flatnonzero(is_input.view(np.uint8) > 1)[0])
        raise a.fail("array 'neurons.input'", f"entry {k} is neither true nor false")
    for key in NEURON_PARAMS:
        col = cols[f"neurons.{key}"]
        odd = is_input & ~((col == DEFAULT_PARAMS[key]) & ~np.signbit(col))
        if odd.any():
            k = int(np.flatnonzero(odd)[0])
            raise a.fail(f"array 'neurons.{key}'", f"entry {k} is an input neuron, whose {key} must be the"
                         f" default {DEFAULT_PARAMS[key]:g}, got {col[k]!r}")


def _check_values(a: _Archive, cols: Mapping[str, np.ndarray], bases: list[str]) -> None:
    """Finite parameters, rates NaN (none) or in [0, 1], finite weights and delays >= 1,
    each refused naming its array and entry."""
    def who(k: int) -> str:
        base, elem = bases[int(cols["names.base"][k])], int(cols["names.elem"][k])
        return base if elem < 0 else f"{base}[{elem}]"

    for key in NEURON_PARAMS:
        col = cols[f"neurons.{key}"]
        bad = np.flatnonzero(~np.isfinite(col))
        if len(bad):
            k = int(bad[0])
            raise a.fail(f"array 'neurons.{key}'", f"entry {k} (neuron '{who(k)}'): expected a finite number,"
                         f" got {float(col[k])!r}")
    rate = cols["neurons.rate"]
    bad = np.flatnonzero(~np.isnan(rate) & ~((rate >= 0.0) & (rate <= 1.0)))
    if len(bad):
        k = int(bad[0])
        raise a.fail("array 'neurons.rate'", f"entry {k} (input '{who(k)}'): expected NaN (no rate) or a rate"
                     f" in [0, 1], got {float(rate[k])!r}")
    pre, post = cols["synapses.pre"], cols["synapses.post"]
    for key, odd, rule in (("weight", ~np.isfinite(cols["synapses.weight"]), "weight must be finite"),
                           ("delay", cols["synapses.delay"] < 1, "delay must be an integer >= 1")):
        if odd.any():
            k = int(np.flatnonzero(odd)[0])
            value = cols[f"synapses.{key}"][k].item()
            raise a.fail(f"synapse {who(int(pre[k]))} -> {who(int(post[k]))}",
                         f"{rule}, got {value!r} (array 'synapses.{key}', entry {k})")


def _network(name: str, cols: Mapping[str, np.ndarray], bases: list[str],
             locs: list[SourceLocation | None], tags: list[frozenset[str]]) -> Network:
    """A Network holding the checked columns (built in place: O(1) Python calls per column)."""
    net = Network(name)
    # the file's table ids -> this network's (a trailing -1 maps "no location", id -1, to itself)
    loc_ids = np.array([net._locs.id(x) for x in locs] + [-1], dtype=np.int32)
    tag_ids = np.array([net._tags.id(t) for t in tags] or [0], dtype=np.int32)
    table = NameTable()
    table.bases = list(bases)
    table._base_id = {b: i for i, b in enumerate(bases)}
    table.cols.append(len(cols["names.base"]), {"base": cols["names.base"], "elem": cols["names.elem"]})
    table.keep(np.arange(len(table.cols)))  # builds the lookups from the columns
    net._names = table
    n = len(cols["names.base"])
    net._nrn.append(n, {**{k: cols[f"neurons.{k}"] for k in NEURON_PARAMS}, "input": cols["neurons.input"],
                        "tags": tag_ids[cols["neurons.tags"]], "loc": loc_ids[cols["neurons.loc"]],
                        "rate": cols["neurons.rate"]})
    pre = cols["synapses.pre"]
    net._syn.append(len(pre), {"pre": pre, "post": cols["synapses.post"], "weight": cols["synapses.weight"],
                               "delay": cols["synapses.delay"], "loc": loc_ids[cols["synapses.loc"]]})
    net._sorted = bool(np.all(pre[1:] >= pre[:-1]))
    net._last_pre = int(pre[-1]) if len(pre) else -1
    net._edited()
    return net


def _stimuli(a: _Archive, r: _Reader, net: Network, groups: Any) -> None:
    """Spike-time stimuli, one :meth:`Network.stimulate` call per group of inputs."""
    if not isinstance(groups, list):
        raise a.fail("header.stimulus_times", "expected a list")
    rates = net.stimulus_rates
    for k, group in enumerate(groups):
        where = f"header.stimulus_times[{k}]"
        steps = r.get(group, "steps", list, where)
        idx = r.get(group, "neurons", list, where)
        if not all(type(i) is int and 0 <= i < len(net) for i in idx):
            raise a.fail(f"{where}.neurons", f"expected neuron indices in [0, {len(net)})")
        arr = np.array(idx, dtype=np.int64)
        both = np.flatnonzero(~np.isnan(rates[arr]))
        if len(both):
            raise a.fail(where, f"input '{net.name_of(int(arr[both[0]]))}' has both a rate and spike times")
        net.stimulate(arr, steps)
