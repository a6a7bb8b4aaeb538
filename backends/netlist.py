"""The spikec netlist (JSON, schema ``spikec-netlist`` version 2): a placed network
as per-core neuron tables, synapse tables and routing tables.

Emitting builds a small model (:class:`Netlist` of :class:`CoreTable`) and
renders it; reading checks the schema and the consistency of the tables
(every synapse sits on its target's core, every spike that leaves a core
has a route) and rebuilds the :class:`~spikec.ir.network.Network` in its
original neuron order (``id``), so the simulator's random streams match.
The schema is documented in ``docs/targets.md``.

Version 2 adds, on targets with a linear leak (TrueNorth), each neuron's
chip registers as a ``chip`` object (``threshold``, ``leak``, ``floor``,
``reset``, ``v0``; :class:`spikec.chip.linear_leak.ChipNeuron`) next to its
spikec parameters, which stay the semantics of record: the reader checks
that the two agree. Version 1 files (no ``chip``) are still read.

Both directions work on the arrays: the emitter groups neurons, synapses and
routes by core with sorts on the columns, and the reader checks each column
of the file at once and rebuilds the network with a few bulk calls (arrays
of neurons by their base name, synapses as index arrays). Only the JSON rows
themselves (one per neuron) are made or read one by one.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from spikec.chip.linear_leak import chip_neuron
from spikec.chip.noise import noise_registers, threshold_noise_bits
from spikec.chip.placement import Placement, route_arrays
from spikec.chip.target import Target, target_from_summary
from spikec.errors import Diagnostic, NetworkFileError, SourceLocation, SpikecError
from spikec.ir.names import split_name
from spikec.ir.network import DEFAULT_PARAMS, NEURON_PARAMS, Network
from spikec.ir.payloads import MAX_DELAY
from spikec.ir.serialize import (
    _Reader,
    _short,
    check_count,
    delay_column,
    finish_from_dict,
    int_array,
    network_to_dict,
    number_column,
    read_json,
    write_text_atomic,
)

__all__ = ["NETLIST_FORMAT", "NETLIST_VERSION", "READ_VERSIONS", "CoreTable", "Netlist", "build_netlist",
           "render_netlist", "write_netlist", "emit_netlist", "netlist_from_dict", "load_netlist",
           "is_netlist"]

NETLIST_FORMAT = "spikec-netlist"
NETLIST_VERSION = 2
#: Versions the reader accepts (1: no per-neuron ``chip`` objects).
READ_VERSIONS = (1, 2)


@dataclass
class CoreTable:
    """One core: its neurons (rows of the network format, plus ``chip`` registers on
    linear-leak targets), the synapses ending on it (columns; ``pre``/``post`` are
    neuron ids), and its routing table."""

    core: int
    chip: int
    index: int
    neurons: list[dict[str, Any]] = field(default_factory=list)
    synapses: dict[str, list[Any]] = field(default_factory=lambda: {"pre": [], "post": [], "weight": [],
                                                                     "delay": []})
    routes: dict[int, list[int]] = field(default_factory=dict)


@dataclass
class Netlist:
    """The output model of the emitter."""

    name: str
    target: dict[str, Any]
    passes: list[str]
    cores: list[CoreTable]
    probes: list[dict[str, Any]]
    stimuli: dict[str, Any]
    diagnostics: list[str]


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a netlist is built or read: both make or walk
    millions of small acyclic containers (rows, columns, route lists), which its full passes
    would scan again and again for nothing (a third of the build time at 10M synapses)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def build_netlist(net: Network, placement: Placement, target: Target, passes: list[str] | None = None,
                  diagnostics: list[Diagnostic] | None = None) -> Netlist:
    """The netlist model of ``net`` placed by ``placement`` on ``target``. On a target with
    a linear leak each neuron row gets its chip registers (``chip``); a neuron without an
    exact chip form raises :class:`~spikec.passes.CompileError` naming it."""
    with _gc_paused():
        return _build(net, placement, target, passes, diagnostics)


def _build(net: Network, placement: Placement, target: Target, passes: list[str] | None,
           diagnostics: list[Diagnostic] | None) -> Netlist:
    """:func:`build_netlist`, with the collector paused."""
    doc = network_to_dict(net)
    core = placement.core_array(net)
    k = placement.num_cores
    per = target.cores_per_chip or max(k, 1)
    tables = [CoreTable(c, c // per, c % per) for c in range(k)]
    rows: list[dict[str, Any]] = doc["neurons"]
    if target.linear_leak:
        bits = threshold_noise_bits(target)
        rows = [row if row.get("input") else {**row, "chip": chip_neuron(net, row["name"], bits).to_dict()}
                for row in rows]
    for i, regs in _noise_rows(net, target).items():
        rows[i] = {**rows[i], "noise": regs}
    # Neurons by core, in network order within a core.
    by_core = np.argsort(core, kind="stable")
    bounds = np.searchsorted(core[by_core], np.arange(k + 1)).tolist()
    for c, table in enumerate(tables):
        table.neurons = [{"id": i, **rows[i]} for i in by_core[bounds[c]:bounds[c + 1]].tolist()]
    # Synapses by the core of their target, sorted by (post, pre, delay, weight) within a core.
    pre, post, weight, delay = net.pre, net.post, net.weight, net.delay
    order = np.lexsort((weight, delay, pre, post))
    order = order[np.argsort(core[post[order]], kind="stable")]
    bounds = np.searchsorted(core[post[order]], np.arange(k + 1)).tolist()
    for c, table in enumerate(tables):
        s = order[bounds[c]:bounds[c + 1]]
        table.synapses = {"pre": pre[s].tolist(), "post": post[s].tolist(), "weight": weight[s].tolist(),
                          "delay": delay[s].tolist()}
    # Routes: per source, the other cores it reaches, sorted; keyed by source within its core.
    src, dst = route_arrays(net, core, k)
    heads = np.flatnonzero(np.append(True, src[1:] != src[:-1])) if len(src) else src
    cuts = np.append(heads, len(src)).tolist()
    dests = dst.tolist()
    lists = [dests[a:b] for a, b in zip(cuts[:-1], cuts[1:], strict=True)]
    keys = src[heads]
    by_core = np.argsort(core[keys], kind="stable")
    bounds = np.searchsorted(core[keys][by_core], np.arange(k + 1)).tolist()
    key_list = keys.tolist()
    for c, table in enumerate(tables):
        table.routes = {key_list[j]: lists[j] for j in by_core[bounds[c]:bounds[c + 1]].tolist()}
    return Netlist(net.name, target.summary(), list(passes or []), tables, doc["probes"], doc["stimuli"],
                   [str(d) for d in diagnostics or []])


def render_netlist(model: Netlist) -> str:
    """Deterministic JSON text: one neuron per line, one line per synapse column."""
    out = ["{",
           f' "format": "{NETLIST_FORMAT}",',
           f' "version": {NETLIST_VERSION},',
           f' "name": {json.dumps(model.name)},',
           f' "target": {json.dumps(model.target, sort_keys=True)},',
           f' "passes": {json.dumps(model.passes)},',
           ' "cores": [']
    for i, core in enumerate(model.cores):
        neurons = ",\n".join("    " + json.dumps(row, allow_nan=False) for row in core.neurons)
        cols = ",\n".join(f'    "{k}": {json.dumps(v, allow_nan=False)}' for k, v in core.synapses.items())
        routes = json.dumps({str(k): v for k, v in core.routes.items()})
        out.append(f'  {{"core": {core.core}, "chip": {core.chip}, "index": {core.index},')
        out.append(f'   "neurons": [\n{neurons}\n   ],' if core.neurons else '   "neurons": [],')
        out.append(f'   "synapses": {{\n{cols}\n   }},')
        out.append(f'   "routes": {routes}}}' + ("," if i < len(model.cores) - 1 else ""))
    out.append(" ],")
    out.append(f' "probes": {json.dumps(model.probes)},')
    out.append(f' "stimuli": {json.dumps(model.stimuli, sort_keys=True)},')
    out.append(f' "diagnostics": {json.dumps(model.diagnostics)}')
    out.append("}")
    return "\n".join(out) + "\n"


def write_netlist(path: str | os.PathLike[str], model: Netlist) -> None:
    """Write the netlist atomically (temporary file, then rename)."""
    try:
        write_text_atomic(path, render_netlist(model))
    except OSError as exc:
        raise NetworkFileError(f"cannot write {os.fspath(path)}: {exc.strerror or exc}") from None


def emit_netlist(path: str | os.PathLike[str], net: Network, placement: Placement, target: Target,
                 passes: list[str] | None = None, diagnostics: list[Diagnostic] | None = None) -> list[str]:
    """The ``netlist`` emitter (:mod:`spikec.backends.formats`): build, render and write the
    JSON netlist, or, for a path ending in ``.npz``, the binary one
    (:mod:`spikec.backends.netlist_npz`, for networks too large for JSON)."""
    if os.fspath(path).lower().endswith(".npz"):
        from spikec.backends.netlist_npz import write_netlist_npz

        write_netlist_npz(path, net, placement, target, passes, diagnostics)
    else:
        write_netlist(path, build_netlist(net, placement, target, passes, diagnostics))
    return [os.fspath(path)]


def is_netlist(doc: Any) -> bool:
    """Whether a parsed JSON document claims to be a spikec netlist."""
    return isinstance(doc, dict) and doc.get("format") == NETLIST_FORMAT


class _Fail(_Reader):
    """Makes the reader's errors: ``fail(WHERE, MESSAGE)`` is ``SOURCE: WHERE: MESSAGE``;
    ``fail.get``, ``fail.number``, ... check one field (:class:`spikec.ir.serialize._Reader`)."""

    def __call__(self, where: str, message: str) -> NetworkFileError:
        return self.fail(where, message)


#: A route key: a neuron id written as a decimal integer of at most 19 digits.
_ROUTE_KEY = re.compile(r"(?:0|[1-9][0-9]{0,18})")


@dataclass
class _Tables:
    """What the per-core tables of a netlist hold, gathered in core order."""

    rows: list[dict[str, Any]] = field(default_factory=list)  # neuron rows, with their "id"
    core: list[int] = field(default_factory=list)  # each row's core
    pos: list[int] = field(default_factory=list)  # each row's place in its core's table
    chips: dict[int, Any] = field(default_factory=dict)
    noise: dict[int, Any] = field(default_factory=dict)
    columns: dict[str, list[Any]] = field(default_factory=lambda: {"pre": [], "post": [], "weight": [],
                                                                    "delay": []})
    lengths: list[int] = field(default_factory=list)  # synapses per core
    routes: dict[int, list[int]] = field(default_factory=dict)


def _read_tables(cores: list[Any], version: int, fail: _Fail) -> _Tables:
    """Check each core's tables (ids unique, columns of one length, synapses ending on the
    core's neurons, routes from its neurons to cores) and gather them."""
    out = _Tables()
    seen: set[Any] = set()
    for c, table in enumerate(cores):
        where = f"cores[{c}]"
        if not isinstance(table, dict) or type(table.get("core")) is not int or table["core"] != c:
            raise fail(where, f"expected an object with \"core\": {c}")
        neurons = _list(table, "neurons", where, fail)
        for j in [j for j, row in enumerate(neurons) if type(row) is not dict][:1]:
            raise fail(f"{where}.neurons[{j}]", f"expected an object, got {_short(neurons[j])}")
        ids: list[Any] = [row.get("id") for row in neurons]
        if not set(map(type, ids)) <= {int}:
            j = next(j for j, nid in enumerate(ids) if type(nid) is not int)
            raise fail(f"{where}.neurons[{j}].id", f"expected an integer neuron id, got {_short(ids[j])}")
        count = len(seen)
        seen.update(ids)
        if len(seen) != count + len(ids):
            prior = {row["id"] for row in out.rows}
            for j, nid in enumerate(ids):
                if nid in prior:
                    raise fail(f"{where}.neurons[{j}].id", f"neuron id {_short(nid)} is used twice")
                prior.add(nid)
        out.rows.extend(neurons)
        out.core.extend([c] * len(neurons))
        out.pos.extend(range(len(neurons)))
        if version != 1:
            out.chips.update({row["id"]: row["chip"] for row in neurons if "chip" in row})
            out.noise.update({row["id"]: row["noise"] for row in neurons if "noise" in row})
        syn = table.get("synapses")
        if not isinstance(syn, dict):
            raise fail(f"{where}.synapses", "expected an object of columns")
        for key, col in out.columns.items():
            if not isinstance(syn.get(key), list):
                raise fail(f"{where}.synapses", f"missing column '{key}'")
            col.extend(syn[key])
        if len({len(syn[k]) for k in out.columns}) > 1:
            raise fail(f"{where}.synapses", "columns pre, post, weight, delay differ in length")
        out.lengths.append(len(syn["post"]))
        _read_routes(table.get("routes", {}), ids, len(cores), f"{where}.routes", fail, out.routes)
        posts = syn["post"]
        arr = int_array(posts)
        good = np.isin(arr, ids) if arr is not None else None
        if good is None or not good.all():
            j = next(k for k, v in enumerate(posts) if type(v) is not int or not -(2**63) <= v < 2**63) \
                if good is None else int(np.flatnonzero(~good)[0])
            raise fail(f"{where}.synapses", f"synapse target {_short(posts[j])} is not a neuron of core {c}")
    return out


def _read_routes(raw: Any, ids: list[int], k: int, where: str, fail: _Fail,
                 out: dict[int, list[int]]) -> None:
    """A core's routing table: neuron id (of this core) -> a list of cores in ``[0, k)``."""
    if not isinstance(raw, dict):
        raise fail(where, f"expected an object, got {_short(raw)}")
    for key, dests in raw.items():
        if not _ROUTE_KEY.fullmatch(key):
            raise fail(where, f"neuron {key[:40]}: expected an id and a list of cores")
        if not isinstance(dests, list) or not all(type(d) is int and 0 <= d < k for d in dests):
            bad = dests if not isinstance(dests, list) else \
                next(d for d in dests if type(d) is not int or not 0 <= d < k)
            raise fail(f"{where}[{key!r}]", f"expected a list of cores in [0, {k}), got {_short(bad)}")
        out[int(key)] = dests
    if raw:
        own = set(ids)
        stray = [key for key in raw if int(key) not in own]
        if stray:
            raise fail(where, f"neuron {stray[0]} is not a neuron of this core")


@dataclass
class _Rows:
    """Neuron rows as columns, in id order."""

    names: list[str]
    inputs: list[bool]
    params: dict[str, np.ndarray]
    tags: list[Any]
    locs: list[SourceLocation | None]


class _RowPaths:
    """``where[k]``: the netlist path of neuron ``k``'s row (made only for an error)."""

    def __init__(self, core: np.ndarray, pos: np.ndarray) -> None:
        self.core = core
        self.pos = pos

    def __getitem__(self, k: int) -> str:
        return f"cores[{int(self.core[k])}].neurons[{int(self.pos[k])}]"


def _param_where(where: _RowPaths, key: str, k: int) -> str:
    return f"{where[k]}.{key}"


def _read_rows(rows: list[dict[str, Any]], where: _RowPaths, version: int, fail: _Fail) -> _Rows:
    """Check the neuron rows (the network format's fields, plus ``id`` and the version-2
    ``chip``) and collect them as columns. Each column is read with one comprehension and
    its types checked at once; a row is looked at alone only to name an error."""
    names: list[Any] = [row.get("name") for row in rows]
    if not set(map(type, names)) <= {str}:
        k = next(k for k, v in enumerate(names) if type(v) is not str)
        fail.get(rows[k], "name", str, where[k])
    raw_inputs = [row.get("input", False) for row in rows]
    if not set(map(type, raw_inputs)) <= {bool}:
        k = next(k for k, v in enumerate(raw_inputs) if type(v) is not bool)
        fail.get(rows[k], "input", bool, where[k])
    inputs: list[bool] = raw_inputs
    tags = [row.get("tags", ()) for row in rows]
    for k in [k for k, t in enumerate(tags) if type(t) is not tuple]:
        fail.strings(rows[k], "tags", where[k])
    locs: list[SourceLocation | None] = [None] * len(rows)
    for k, lj in enumerate(row.get("loc") for row in rows):
        if lj is None:
            continue
        if type(lj) is dict and type(lj.get("file")) is str and type(lj.get("line")) is int \
                and type(lj.get("column")) is int and 0 <= lj["line"] <= MAX_DELAY \
                and 0 <= lj["column"] <= MAX_DELAY:
            locs[k] = SourceLocation(lj["file"], lj["line"], lj["column"])
            continue
        fail.location(rows[k], where[k])
    params = {key: [row.get(key, DEFAULT_PARAMS[key]) for row in rows] for key in NEURON_PARAMS}
    registers = ("chip", "noise") if version != 1 else ()
    allowed = {"id", "name", "input", "tags", "loc", *NEURON_PARAMS, *registers}
    odd = not set().union(*rows) <= allowed or any(not set(map(type, col)) <= {int, float}
                                                    for col in params.values())
    if odd:  # name the first bad neuron row; inputs keep the defaults whatever they say
        for k, row in enumerate(rows):
            if inputs[k]:
                for key, col in params.items():
                    col[k] = DEFAULT_PARAMS[key]
                continue
            for key in NEURON_PARAMS:
                if key in row:
                    fail.get(row, key, (int, float), where[k])
            unknown = set(row) - allowed
            if unknown:
                raise fail(where[k], f"unknown field '{sorted(unknown)[0]}'")
    columns = {key: number_column(fail, col, functools.partial(_param_where, where, key))
               for key, col in params.items()}
    return _Rows(names, inputs, columns, tags, locs)


def _runs(rows: _Rows) -> list[tuple[int, int, str | None]]:
    """Split the rows into runs ``(a, b, base)`` to add with one call each: rows ``a..b-1``
    of one kind named ``base[0]``, ``base[1]``, ... with one location and tag set (an
    array, added by name base), or (``base`` None) any other names of one kind."""
    names, inputs, locs, tags = rows.names, rows.inputs, rows.locs, rows.tags
    runs: list[tuple[int, int, str | None]] = []
    i, n = 0, len(names)
    while i < n:
        base, elem = split_name(names[i])
        j = i + 1
        if elem == 0:
            while (j < n and inputs[j] == inputs[i] and names[j] == f"{base}[{j - i}]" and locs[j] == locs[i]
                   and tags[j] == tags[i]):
                j += 1
        if j - i > 1:
            runs.append((i, j, base))
        elif runs and runs[-1][2] is None and runs[-1][1] == i and inputs[i] == inputs[i - 1]:
            runs[-1] = (runs[-1][0], j, None)
        else:
            runs.append((i, j, None))
        i = j
    return runs


def _add_neurons(net: Network, rows: _Rows) -> None:
    """Add the neurons in order with one bulk call per run (see :func:`_runs`): arrays by
    their base name, which costs nothing per name, the rest with ``add_named``."""
    for a, b, base in _runs(rows):
        is_input = rows.inputs[a]
        params = {} if is_input else {k: v[a:b] for k, v in rows.params.items()}
        if base is None:
            net.add_named(rows.names[a:b], inputs=is_input, loc=rows.locs[a:b], tags=rows.tags[a:b], **params)
        elif is_input:
            net.add_inputs(base, b - a, loc=rows.locs[a], tags=rows.tags[a])
        else:
            net.add_neurons(base, b - a, loc=rows.locs[a], tags=rows.tags[a], **params)


def _synapse_where(lengths: list[int], j: int, key: str) -> str:
    """The netlist path of synapse ``j`` (in core order)'s column ``key``."""
    c = int(np.searchsorted(np.cumsum(lengths), j, side="right"))
    return f"cores[{c}].synapses.{key}[{j - sum(lengths[:c])}]"


def _read_synapses(t: _Tables, core_of: np.ndarray, names: list[str], k: int,
                   fail: _Fail) -> tuple[np.ndarray, ...]:
    """The synapse columns as arrays; every source is a neuron, every spike that leaves a
    core has a route, weights are finite numbers and delays integers."""
    n = len(core_of)
    cols = t.columns
    post = np.array(cols["post"], dtype=np.int64)  # checked per core
    pre = int_array(cols["pre"])
    pre_ok = np.zeros(len(post), dtype=bool) if pre is None else (pre >= 0) & (pre < n)
    if pre is None:
        pre_ok[:] = [type(v) is int and 0 <= v < n for v in cols["pre"]]
    pre = np.where(pre_ok, pre if pre is not None else 0, 0)
    src, dst = core_of[pre], core_of[post]
    route_keys = np.unique(np.array([s * k + d for s, dests in t.routes.items() if s < n for d in dests],
                                    dtype=np.int64))
    remote = np.flatnonzero(src != dst)
    routed = np.ones(len(post), dtype=bool)
    if len(remote):  # look each remote synapse's (source, core) up in the sorted routes
        key = pre[remote] * k + dst[remote]
        at = np.minimum(np.searchsorted(route_keys, key), max(len(route_keys) - 1, 0))
        routed[remote] = route_keys[at] == key if len(route_keys) else False
    bad = np.flatnonzero(~pre_ok | ~routed)
    if len(bad):
        j = int(bad[0])
        if not pre_ok[j]:
            raise fail(_synapse_where(t.lengths, j, "pre"),
                       f"unknown source neuron id {_short(cols['pre'][j])}")
        raise fail(f"cores[{int(src[j])}].routes",
                   f"neuron '{names[pre[j]]}' has a synapse to core {int(dst[j])} but no route there")
    weight = number_column(fail, cols["weight"], lambda j: _synapse_where(t.lengths, j, "weight"))
    delay = delay_column(fail, cols["delay"], lambda j: _synapse_where(t.lengths, j, "delay"))
    return pre, post, weight, delay


def netlist_from_dict(doc: Any, source: str = "<dict>") -> tuple[Network, Placement]:
    """Rebuild the network and its placement from a netlist dict; errors name ``source``,
    the core and the neuron. The network is built in bulk, in its original neuron order,
    after its counts are checked against the limits (``SPIKEC_MAX_NEURONS``,
    ``SPIKEC_MAX_SYNAPSES``)."""
    with _gc_paused():
        return _read(doc, source)


def _read(doc: Any, source: str) -> tuple[Network, Placement]:
    """:func:`netlist_from_dict`, with the collector paused."""
    fail = _Fail(source)
    if not is_netlist(doc):
        found = doc.get("format") if isinstance(doc, dict) else doc
        raise fail("format", f"expected '{NETLIST_FORMAT}', got {_short(found)}")
    version = doc.get("version")
    if type(version) is not int or version not in READ_VERSIONS:
        readable = " and ".join(map(str, READ_VERSIONS))
        raise fail("version", f"this spikec reads versions {readable}, got {_short(version)}")
    name = fail.get(doc, "name", str, "top level") if "name" in doc else "netlist"
    target = fail.get(doc, "target", dict, "top level") if doc.get("target") is not None else None
    cores = doc.get("cores")
    if not isinstance(cores, list):
        raise fail("cores", f"expected a list, got {_short(cores)}")
    tables = _read_tables(cores, version, fail)
    n = len(tables.rows)
    check_count(source, "cores", n, "neurons", "SPIKEC_MAX_NEURONS")
    check_count(source, "cores", len(tables.columns["pre"]), "synapses", "SPIKEC_MAX_SYNAPSES")
    ids = int_array([row["id"] for row in tables.rows])
    order = np.argsort(ids) if ids is not None else None
    if ids is None or order is None or not np.array_equal(ids[order], np.arange(n)):
        raise fail("cores", f"neuron ids must be 0..{n - 1}")
    core_of = np.array(tables.core, dtype=np.int64)[order]
    where = _RowPaths(core_of, np.array(tables.pos, dtype=np.int64)[order])
    rows = _read_rows([tables.rows[i] for i in order.tolist()], where, version, fail)
    pre, post, weight, delay = _read_synapses(tables, core_of, rows.names, len(cores), fail)
    net = Network(name)
    try:
        _add_neurons(net, rows)
        net.add_synapses(pre, post, weight, delay)
        finish_from_dict(net, doc, fail)
    except NetworkFileError:
        raise
    except SpikecError as exc:
        raise NetworkFileError(f"{source}: {exc.message}", exc.location) from None
    _check_chips(net, target, version, tables.chips, core_of, fail)
    if version != 1:
        _check_noise(net, target, tables.noise, core_of, fail)
    return net, Placement(core_of, len(cores), net)


def _noise_rows(net: Network, target: Target) -> dict[int, dict[str, int | float]]:
    """The noise registers (:func:`spikec.chip.noise.noise_registers`) of every stochastic
    neuron on a target whose noise is ``membrane`` or ``stream`` (a ``threshold`` noise is in
    the chip registers' ``mask``), by neuron index."""
    if target.noise_kind not in ("membrane", "stream"):
        return {}
    idx = np.flatnonzero(~net.is_input & (net.p < 1.0))
    if not len(idx):
        return {}
    return dict(zip(idx.tolist(), noise_registers(net, target, idx), strict=True))


def _check_noise(net: Network, target: dict[str, Any] | None, noise: dict[int, Any], core_of: np.ndarray,
                 fail: _Fail) -> None:
    """Each stochastic neuron on a ``membrane`` or ``stream`` target carries the noise registers
    its parameters give; no other neuron carries any."""
    try:
        tgt = target_from_summary(target) if target is not None else None
    except SpikecError as exc:
        raise fail("target", exc.message) from None
    expected = _noise_rows(net, tgt) if tgt is not None else {}
    for nid in sorted(set(noise) | set(expected)):
        where = f"cores[{core_of[nid]}].neurons"
        name = net.name_of(nid)
        if nid not in noise:
            raise fail(where, f"neuron '{name}' is stochastic on target {_short((target or {}).get('name'))},"
                              " but has no 'noise' registers")
        if nid not in expected:
            raise fail(where, f"neuron '{name}': 'noise' registers on a neuron the target draws nothing for")
        if noise[nid] != expected[nid]:
            raise fail(where, f"neuron '{name}': noise registers {json.dumps(noise[nid])} do not match its"
                              f" parameters, which give {json.dumps(expected[nid])}")


def _check_chips(net: Network, target: dict[str, Any] | None, version: int, chips: dict[int, Any],
                 core_of: np.ndarray, fail: _Fail) -> None:
    """Version 2 on a linear-leak target: every neuron has chip registers, and each
    ``chip`` object is the chip form of its row."""
    if version != 1 and target is not None and target.get("linear_leak") is True:
        has = np.zeros(len(net), dtype=bool)
        has[list(chips)] = True
        missing = np.flatnonzero(~has & ~net.is_input)
        if len(missing):
            i = int(missing[0])
            raise fail(f"cores[{core_of[i]}].neurons",
                       f"neuron '{net.name_of(i)}': target {_short(target.get('name'))} has a linear leak,"
                       " but the neuron has no 'chip' registers")
    for nid, chip in sorted(chips.items()):
        where = f"cores[{core_of[nid]}].neurons"
        name = net.name_of(nid)
        if net.is_input[nid]:
            raise fail(where, f"input '{name}' has no chip registers, got 'chip'")
        try:
            expected = chip_neuron(net, name, threshold_noise_bits(target)).to_dict()
        except SpikecError as exc:
            raise fail(where, exc.message) from None
        if chip != expected:
            found = json.dumps(chip)
            found = found if len(found) < 200 else found[:200] + " ..."
            raise fail(where, f"neuron '{name}': chip registers {found} do not match its parameters,"
                              f" which give {json.dumps(expected)}")


def _list(table: dict[str, Any], key: str, where: str, fail: Any) -> list[Any]:
    value = table.get(key)
    if not isinstance(value, list):
        raise fail(f"{where}.{key}", f"expected a list, got {_short(value)}")
    return value


def load_netlist(path: str | os.PathLike[str]) -> tuple[Network, Placement]:
    """Read a netlist file written by :func:`emit_netlist` (JSON, or NPZ by its extension);
    errors name the file and the JSON path (or the array)."""
    if os.fspath(path).lower().endswith(".npz"):
        from spikec.backends.netlist_npz import load_netlist_npz

        return load_netlist_npz(path)
    return netlist_from_dict(read_json(path), os.fspath(path))
