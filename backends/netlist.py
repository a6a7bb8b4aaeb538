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
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any

from spikec.chip.linear_leak import chip_neuron
from spikec.chip.placement import Placement
from spikec.chip.target import Target
from spikec.errors import Diagnostic, NetworkFileError, SpikecError
from spikec.ir.network import Network
from spikec.ir.serialize import network_from_dict, network_to_dict, read_json, write_text_atomic

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


def build_netlist(net: Network, placement: Placement, target: Target, passes: list[str] | None = None,
                  diagnostics: list[Diagnostic] | None = None) -> Netlist:
    """The netlist model of ``net`` placed by ``placement`` on ``target``. On a target with
    a linear leak each neuron row gets its chip registers (``chip``); a neuron without an
    exact chip form raises :class:`~spikec.passes.CompileError` naming it."""
    doc = network_to_dict(net)
    per = target.cores_per_chip or max(placement.num_cores, 1)
    tables = [CoreTable(c, c // per, c % per) for c in range(placement.num_cores)]
    for i, row in enumerate(doc["neurons"]):
        if target.linear_leak and not row.get("input"):
            row = {**row, "chip": chip_neuron(net, row["name"]).to_dict()}
        tables[placement.core[row["name"]]].neurons.append({"id": i, **row})
    syn = doc["synapses"]
    rows = sorted(zip(syn["post"], syn["pre"], syn["delay"], syn["weight"], strict=True))
    names = [row["name"] for row in doc["neurons"]]
    for post, pre, delay, weight in rows:
        columns = tables[placement.core[names[post]]].synapses
        columns["pre"].append(pre)
        columns["post"].append(post)
        columns["weight"].append(weight)
        columns["delay"].append(delay)
        src = placement.core[names[pre]]
        dst = placement.core[names[post]]
        if src != dst:
            dests = tables[src].routes.setdefault(pre, [])
            if dst not in dests:
                dests.append(dst)
    for table in tables:
        table.routes = {k: sorted(v) for k, v in sorted(table.routes.items())}
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
    """The ``netlist`` emitter (:mod:`spikec.backends.formats`): build, render and write."""
    write_netlist(path, build_netlist(net, placement, target, passes, diagnostics))
    return [os.fspath(path)]


def is_netlist(doc: Any) -> bool:
    """Whether a parsed JSON document claims to be a spikec netlist."""
    return isinstance(doc, dict) and doc.get("format") == NETLIST_FORMAT


def netlist_from_dict(doc: Any, source: str = "<dict>") -> tuple[Network, Placement]:
    """Rebuild the network and its placement from a netlist dict; errors name ``source``,
    the core and the neuron."""

    def fail(where: str, message: str) -> NetworkFileError:
        return NetworkFileError(f"{source}: {where}: {message}")

    if not is_netlist(doc):
        found = doc.get("format") if isinstance(doc, dict) else doc
        raise fail("format", f"expected '{NETLIST_FORMAT}', got {found!r}")
    version = doc.get("version")
    if isinstance(version, bool) or version not in READ_VERSIONS:
        readable = " and ".join(map(str, READ_VERSIONS))
        raise fail("version", f"this spikec reads versions {readable}, got {version!r}")
    cores = doc.get("cores")
    if not isinstance(cores, list):
        raise fail("cores", "expected a list")
    rows: dict[int, dict[str, Any]] = {}
    core_of: dict[int, int] = {}
    chips: dict[int, Any] = {}
    columns: dict[str, list[Any]] = {"pre": [], "post": [], "weight": [], "delay": []}
    routes: dict[int, set[int]] = {}
    for c, table in enumerate(cores):
        where = f"cores[{c}]"
        if not isinstance(table, dict) or table.get("core") != c:
            raise fail(where, f"expected an object with \"core\": {c}")
        for row in _list(table, "neurons", where, fail):
            nid = row.get("id") if isinstance(row, dict) else None
            if isinstance(nid, bool) or not isinstance(nid, int) or nid in rows:
                raise fail(f"{where}.neurons", f"neuron ids must be unique integers, got {nid!r}")
            rows[nid] = {k: v for k, v in row.items() if k != "id" and (k != "chip" or version == 1)}
            core_of[nid] = c
            if "chip" in row and version != 1:
                chips[nid] = row["chip"]
        syn = table.get("synapses")
        if not isinstance(syn, dict):
            raise fail(f"{where}.synapses", "expected an object of columns")
        for key in columns:
            col = syn.get(key)
            if not isinstance(col, list):
                raise fail(f"{where}.synapses", f"missing column '{key}'")
            columns[key].extend(col)
        if len({len(syn[k]) for k in columns}) > 1:
            raise fail(f"{where}.synapses", "columns pre, post, weight, delay differ in length")
        raw_routes = table.get("routes", {})
        if not isinstance(raw_routes, dict):
            raise fail(f"{where}.routes", "expected an object")
        for key, dests in raw_routes.items():
            if not isinstance(dests, list):
                raise fail(f"{where}.routes", f"neuron {key}: expected a list of cores")
            routes[int(key)] = set(dests)
        for post in syn["post"]:
            if post not in rows or core_of[post] != c:
                raise fail(f"{where}.synapses", f"synapse target {post!r} is not a neuron of core {c}")
    if sorted(rows) != list(range(len(rows))):
        raise fail("cores", f"neuron ids must be 0..{len(rows) - 1}")
    names = [rows[i]["name"] for i in range(len(rows))]
    for pre, post in zip(columns["pre"], columns["post"], strict=True):
        if not isinstance(pre, int) or pre not in rows:
            raise fail("synapses", f"unknown source neuron id {pre!r}")
        src, dst = core_of[pre], core_of[post]
        if src != dst and dst not in routes.get(pre, ()):
            raise fail(f"cores[{src}].routes",
                       f"neuron '{names[pre]}' has a synapse to core {dst} but no route there")
    flat = {
        "format": "spikec-network", "version": 1, "name": doc.get("name", "netlist"),
        "neurons": [rows[i] for i in range(len(rows))],
        "synapses": columns,
        "probes": doc.get("probes", []),
        "stimuli": doc.get("stimuli", {}),
    }
    net = network_from_dict(flat, source)
    target = doc.get("target")
    if version != 1 and isinstance(target, dict) and target.get("linear_leak") is True:
        for nid in range(len(rows)):
            if nid not in chips and not rows[nid].get("input"):
                raise fail(f"cores[{core_of[nid]}].neurons",
                           f"neuron '{names[nid]}': target '{target.get('name')}' has a linear leak, but the"
                           " neuron has no 'chip' registers")
    for nid, chip in sorted(chips.items()):
        where = f"cores[{core_of[nid]}].neurons"
        if rows[nid].get("input"):
            raise fail(where, f"input '{names[nid]}' has no chip registers, got 'chip'")
        try:
            expected = chip_neuron(net, names[nid]).to_dict()
        except SpikecError as exc:
            raise fail(where, exc.message) from None
        if chip != expected:
            raise fail(where, f"neuron '{names[nid]}': chip registers {json.dumps(chip)} do not match its"
                              f" parameters, which give {json.dumps(expected)}")
    placement = Placement({names[i]: core_of[i] for i in range(len(rows))}, len(cores))
    return net, placement


def _list(table: dict[str, Any], key: str, where: str, fail: Any) -> list[Any]:
    value = table.get(key)
    if not isinstance(value, list):
        raise fail(f"{where}.{key}", "expected a list")
    return value


def load_netlist(path: str | os.PathLike[str]) -> tuple[Network, Placement]:
    """Read a netlist file written by :func:`write_netlist`."""
    return netlist_from_dict(read_json(path), os.fspath(path))
