"""The spikec netlist: golden output, schema errors, and the round trip
compile -> write -> read back -> simulate giving the source's spikes, for
every example program and random networks, on every target that takes them."""

from __future__ import annotations

import dataclasses
import json
import os
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import spikec
from spikec.backends.netlist import (
    CoreTable,
    Netlist,
    build_netlist,
    emit_netlist,
    load_netlist,
    netlist_from_dict,
    render_netlist,
    write_netlist,
)
from spikec.chip.placement import Placement
from spikec.chip.target import Target, load_target
from spikec.errors import NetworkFileError, SourceLocation, SpikecError
from spikec.ir.serialize import network_to_dict
from spikec.passes import compile_for_target
from strategies_chips import Run, placed_networks, random_inputs, runs, same_spikes

ROOT = Path(__file__).parent.parent
GOLDEN = Path(__file__).parent / "golden"
EXAMPLES = sorted((ROOT / "examples").glob("*.spk"))
TARGETS = ["generic", "loihi", "truenorth", "sanafe-loihi", "sanafe-truenorth"]


def round_trip(net: spikec.Network, target: str, tmp: Path) -> tuple[spikec.Network, list[str]]:
    """Compile, write, read back; return the loaded network and the observable names."""
    out, ctx = compile_for_target(net, load_target(target))
    path = tmp / f"{target}.json"
    write_netlist(path, build_netlist(out, ctx.placement, ctx.target, ctx.pipeline, ctx.diagnostics))
    back, placement = load_netlist(path)
    assert back == out and placement.core == ctx.placement.core
    assert spikec.open_network(path) == out
    # the binary netlist holds the same network and placement
    npz = tmp / f"{target}.npz"
    assert emit_netlist(npz, out, ctx.placement, ctx.target, ctx.pipeline, ctx.diagnostics) == [str(npz)]
    binary, where = load_netlist(npz)
    assert binary == out and where.core == ctx.placement.core and where.num_cores == ctx.placement.num_cores
    assert spikec.open_network(npz) == out
    return back, sorted(ctx.observable(net))


def test_every_example_round_trips_on_every_target_that_takes_it(tmp_path: Path) -> None:
    assert EXAMPLES, "examples/*.spk"
    taken = 0
    for path in EXAMPLES:
        net = spikec.open_network(path)
        deterministic = all(n.p == 1.0 for n in net.neurons())
        for target in TARGETS:
            try:
                back, names = round_trip(net, target, tmp_path)
            except SpikecError as exc:  # refused: must say why, naming the object
                assert "neuron '" in exc.message or "core " in exc.message or "synapse " in exc.message
                continue
            taken += 1
            steps = 40
            for seed in range(3):
                inputs = random_inputs(net, steps, seed)
                kw = dict(inputs=inputs, record=names, seed=seed, trials=4)
                a = spikec.simulate(net, steps, **kw)
                b = spikec.simulate(back, steps, **kw)
                # noise-map may add gates (a changed draw order) or round p: a different distribution
                ps = [sorted(g.p[~g.is_input & (g.p < 1)].tolist()) for g in (net, back)]
                remapped = any(nm.endswith("~gate") for nm in back.names()) or ps[0] != ps[1]
                if deterministic or not (set(net.graph.nodes) - set(back.graph.nodes) or remapped):
                    assert same_spikes(a, b, names) == [], (path.name, target)
    assert taken >= len(EXAMPLES) * 2


@given(run=runs(), target=st.sampled_from(TARGETS))
def test_random_networks_round_trip(run: Run, target: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    try:
        back, names = round_trip(run.net, target, tmp_path_factory.mktemp("n"))
    except SpikecError:
        assume(False)
        return
    a = spikec.simulate(run.net, run.steps, inputs=run.inputs, record=names)
    b = spikec.simulate(back, run.steps, inputs=run.inputs, record=names)
    assert same_spikes(a, b, names) == []


def _adder_netlist() -> str:
    # a relative file name: the golden must not depend on where the checkout lives
    source = (ROOT / "examples" / "ripple_adder.spk").read_text()
    net = spikec.loads(source, filename="examples/ripple_adder.spk")
    out, ctx = compile_for_target(net, load_target("loihi"))
    return render_netlist(build_netlist(out, ctx.placement, ctx.target, ctx.pipeline, ctx.diagnostics))


def test_netlist_golden() -> None:
    text = _adder_netlist()
    golden = GOLDEN / "netlist_ripple_adder_loihi.json"
    if os.environ.get("SPIKEC_REGEN_GOLDEN"):
        golden.write_text(text)
    assert text == golden.read_text()
    assert json.loads(text)["format"] == "spikec-netlist"


def _doc() -> dict:
    net = spikec.Network("two")
    net.input("x")
    net.neuron("y")
    net.synapse("x", "y", 2.0, 3)
    out, ctx = compile_for_target(net, load_target("generic"), [])
    doc = json.loads(render_netlist(build_netlist(out, ctx.placement, ctx.target)))
    return doc


def test_schema_errors_name_the_core_and_neuron() -> None:
    doc = _doc()
    doc["cores"].append(
        {
            "core": 1,
            "chip": 0,
            "index": 1,
            "neurons": [],
            "synapses": {"pre": [], "post": [], "weight": [], "delay": []},
            "routes": {},
        }
    )
    moved = doc["cores"][0]["neurons"].pop(1)
    doc["cores"][1]["neurons"].append(moved)
    with pytest.raises(
        NetworkFileError,
        match=r"^error: f.json: cores\[0\].synapses: synapse target 1 is not a"
        r" neuron of core 0$",
    ):
        netlist_from_dict(doc, "f.json")
    syn = doc["cores"][0]["synapses"]
    doc["cores"][1]["synapses"], doc["cores"][0]["synapses"] = syn, doc["cores"][1]["synapses"]
    with pytest.raises(
        NetworkFileError,
        match=r"^error: f.json: cores\[0\].routes: neuron 'x' has a synapse to"
        r" core 1 but no route there$",
    ):
        netlist_from_dict(doc, "f.json")
    doc["cores"][0]["routes"] = {"0": [1]}
    net, placement = netlist_from_dict(doc, "f.json")
    assert placement.core == {"x": 0, "y": 1} and net.num_synapses == 1
    doc["version"] = 7
    with pytest.raises(
        NetworkFileError, match=r"^error: f.json: version: this spikec reads versions 1 and 2, got 7$"
    ):
        netlist_from_dict(doc, "f.json")


def test_version_1_netlists_are_still_read() -> None:
    doc = _doc()
    assert doc["version"] == 2
    doc["version"] = 1
    net, placement = netlist_from_dict(doc, "old.json")
    assert net.num_synapses == 1 and placement.core == {"x": 0, "y": 0}


def _half_adder_truenorth_netlist() -> str:
    source = (ROOT / "examples" / "half_adder.spk").read_text()
    net = spikec.loads(source, filename="examples/half_adder.spk")
    out, ctx = compile_for_target(net, load_target("truenorth"))
    return render_netlist(build_netlist(out, ctx.placement, ctx.target, ctx.pipeline, ctx.diagnostics))


def _truenorth_doc() -> dict:
    return json.loads(_half_adder_truenorth_netlist())


def test_truenorth_netlist_golden() -> None:
    text = _half_adder_truenorth_netlist()
    golden = GOLDEN / "netlist_half_adder_truenorth.json"
    if os.environ.get("SPIKEC_REGEN_GOLDEN"):
        golden.write_text(text)
    assert text == golden.read_text()
    rows = [row for core in json.loads(text)["cores"] for row in core["neurons"]]
    assert all(("chip" in row) != bool(row.get("input")) for row in rows)


def test_chip_registers_must_match_the_neuron() -> None:
    doc = _truenorth_doc()
    row = next(r for c in doc["cores"] for r in c["neurons"] if r["name"] == "h.carry")
    assert row["chip"] == {"threshold": 1, "leak": -1, "floor": 0, "reset": 0, "v0": 0}
    row["chip"]["leak"] = 0
    with pytest.raises(
        NetworkFileError,
        match=r"^error: tn.json: cores\[0\].neurons: neuron 'h.carry': chip registers \{\"threshold\": 1,"
        r" \"leak\": 0, .*\} do not match its parameters, which give \{\"threshold\": 1, \"leak\": -1, ",
    ):
        netlist_from_dict(doc, "tn.json")
    # A gate whose floor would keep a potential above 0 is not a chip form at all.
    row["chip"] = {"threshold": 2, "leak": 0, "floor": 0, "reset": 0, "v0": 0}
    row["threshold"], row["bias"] = 2.0, 0.0
    with pytest.raises(
        NetworkFileError,
        match=r"^error: tn.json: cores\[0\].neurons: neuron 'h.carry': a decay-1 gate on the floor at 0"
        r" must not keep a potential above 0 without firing, but it can reach 1 ",
    ):
        netlist_from_dict(doc, "tn.json")
    del row["chip"]
    with pytest.raises(
        NetworkFileError,
        match=r"^error: tn.json: cores\[0\].neurons: neuron 'h.carry': target 'truenorth' has a linear"
        r" leak, but the neuron has no 'chip' registers$",
    ):
        netlist_from_dict(doc, "tn.json")


def test_write_is_atomic(tmp_path: Path) -> None:
    doc = _doc()
    net, placement = netlist_from_dict(doc)
    with pytest.raises(NetworkFileError, match=r"^error: cannot write "):
        write_netlist(tmp_path / "missing" / "x.json", build_netlist(net, placement, load_target("generic")))
    assert list(tmp_path.iterdir()) == []


def test_malformed_netlist_points_at_line_and_column(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{\n "format": "spikec-netlist",\n "version": 1,,\n}')
    with pytest.raises(spikec.NetworkFileError) as info:
        load_netlist(bad)
    assert str(info.value).startswith(f"{bad}:3:15: error: invalid JSON: Expecting property name")
    with pytest.raises(spikec.NetworkFileError, match=r"bad.json:3:15: error: invalid JSON"):
        spikec.open_network(bad)


def _oracle_netlist(net: spikec.Network, core: dict[str, int], k: int, target: Target) -> str:
    """The netlist text as the per-synapse emitter wrote it (the oracle of the array one)."""
    doc = network_to_dict(net)
    per = target.cores_per_chip or max(k, 1)
    tables = [CoreTable(c, c // per, c % per) for c in range(k)]
    names = [row["name"] for row in doc["neurons"]]
    for i, row in enumerate(doc["neurons"]):
        tables[core[row["name"]]].neurons.append({"id": i, **row})
    syn = doc["synapses"]
    for post, pre, delay, weight in sorted(zip(syn["post"], syn["pre"], syn["delay"], syn["weight"],
                                               strict=True)):
        columns = tables[core[names[post]]].synapses
        for key, value in (("pre", pre), ("post", post), ("weight", weight), ("delay", delay)):
            columns[key].append(value)
        src, dst = core[names[pre]], core[names[post]]
        if src != dst and dst not in tables[src].routes.setdefault(pre, []):
            tables[src].routes[pre].append(dst)
    for table in tables:
        table.routes = {key: sorted(v) for key, v in sorted(table.routes.items())}
    model = Netlist(net.name, target.summary(), ["p"], tables, doc["probes"], doc["stimuli"], [])
    return render_netlist(model)


@given(case=placed_networks(), target=st.sampled_from(["generic", "loihi"]))
def test_netlist_arrays_match_the_per_synapse_oracle(case: tuple, target: str) -> None:
    net, cores, k = case
    core = dict(zip(net.names(), cores.tolist(), strict=True))
    # the per-synapse emitter predates the noise registers (tests/test_noise.py checks those)
    chip = dataclasses.replace(load_target(target), noise_kind=None, noise_bits=None)
    text = render_netlist(build_netlist(net, Placement(cores, k, net), chip, ["p"]))
    assert text == _oracle_netlist(net, core, k, chip)
    back, placement = netlist_from_dict(json.loads(text), "r.json")
    assert back == net and placement.core == core and placement.num_cores == k


def test_netlist_reads_arrays_back_as_arrays_and_other_names_one_by_one() -> None:
    net = spikec.Network("arrays")
    here = SourceLocation("a.spk", 1, 1)
    net.add_inputs("in", 3)
    net.add_neurons("v", 3, threshold=[1.0, 2.0, 3.0], loc=here)
    net.neuron("v[3]", tags=["odd"])  # continues the names, not the tags: added by name
    net.neuron("w[1]")
    net.neuron("w[0]")
    net.add_neurons("u", 2, decay=0.5)
    net.input("late[0]")
    net.neuron("late[1]")
    net.add_synapses(np.arange(3), np.arange(3, 6), 1.0)
    doc = json.loads(render_netlist(build_netlist(net, Placement(np.zeros(len(net), np.int64), 1, net),
                                                  load_target("generic"))))
    back, _ = netlist_from_dict(doc, "a.json")
    assert back == net and back.names() == net.names()
    assert np.array_equal(back.array("v"), [3, 4, 5, 6]) and back.location_of(5) == here
    assert back.tags_of(6) == frozenset({"odd"}) and np.array_equal(back.array("u"), [9, 10])


def test_netlist_reads_tags_locations_and_interleaved_inputs() -> None:
    net = spikec.Network("mixed")
    here = SourceLocation("a.spk", 3, 7)
    net.neuron("a", threshold=2.5, loc=here, tags=["t", "u"])
    net.input("x", loc=here)
    net.neuron("b", decay=1.0, tags=["t"])
    net.input("y")
    net.neuron("c", p=0.5)
    net.synapse("x", "a", 0.1, 3)
    net.synapse("y", "c", -2.0)
    net.synapse("a", "b", 1.0, 2)
    net.synapse("a", "b", 1.0, 2)
    net.stimulus("x", [0, 4])
    net.stimulus("y", rate=0.25)
    net.probe("a", "b", label="out")
    placement = Placement(np.array([1, 0, 1, 0, 0]), 2, net)
    doc = json.loads(render_netlist(build_netlist(net, placement, load_target("generic"))))
    back, again = netlist_from_dict(doc, "m.json")
    assert back == net and again.core == placement.core
    assert back.location_of(0) == here and back.tags_of(0) == frozenset({"t", "u"})
    row = doc["cores"][1]["neurons"][1]
    assert row["name"] == "b"
    row["decay"] = 2.0
    with pytest.raises(NetworkFileError, match=r"^error: m.json: neuron 'b': decay must be in \[0, 1\]"):
        netlist_from_dict(doc, "m.json")
    row["decay"] = "x"
    with pytest.raises(NetworkFileError, match=r"^error: m.json: cores\[1\].neurons\[1\].decay: expected an"):
        netlist_from_dict(doc, "m.json")
    row["decay"] = 1.0
    row["colour"] = "red"
    with pytest.raises(NetworkFileError, match=r"^error: m.json: cores\[1\].neurons\[1\]: unknown field"):
        netlist_from_dict(doc, "m.json")
    del row["colour"]
    doc["cores"][0]["synapses"]["weight"][0] = "heavy"
    with pytest.raises(NetworkFileError, match=r"^error: m.json: cores\[0\].synapses.weight\[0\]: expected"):
        netlist_from_dict(doc, "m.json")
    doc["cores"][0]["synapses"]["weight"][0] = 1.0
    doc["cores"][0]["routes"] = {"x": [1]}
    with pytest.raises(NetworkFileError, match=r"^error: m.json: cores\[0\].routes: neuron x: expected an"):
        netlist_from_dict(doc, "m.json")


def test_binary_netlist_errors_name_the_array(tmp_path: Path) -> None:
    from spikec.ir.binary import read_npz, save_npz

    net = spikec.load(EXAMPLES[0].parent / "ripple_adder.spk")
    out, ctx = compile_for_target(net, load_target("truenorth"))
    path = tmp_path / "tn.npz"
    emit_netlist(path, out, ctx.placement, ctx.target, ctx.pipeline, ctx.diagnostics)
    loaded, header, arrays = read_npz(path, {"netlist.core": ("<i4", "N"), "netlist.chip.leak": ("<i8", "N")})
    assert header["netlist"]["target"]["name"] == "truenorth" and len(arrays) == 2

    def rewrite(**changes: np.ndarray) -> Path:
        _, head, found = read_npz(path, {k: ("<i4", "N") if k == "netlist.core" else
                                         ("|b1", "N") if k.endswith("floor") else ("<i8", "N")
                                         for k in ("netlist.core", "netlist.chip.threshold",
                                                   "netlist.chip.leak", "netlist.chip.reset",
                                                   "netlist.chip.v0", "netlist.chip.floor")})
        found.update(changes)
        bad = tmp_path / "bad.npz"
        save_npz(loaded, bad, header={"netlist": head["netlist"]}, arrays=found)
        return bad

    core = arrays["netlist.core"].copy()
    core[3] = 10**6
    with pytest.raises(NetworkFileError, match=r"array 'netlist.core': neuron '.*' is on core 1000000,"
                       r" outside 0\.\."):
        load_netlist(rewrite(**{"netlist.core": core}))
    leak = arrays["netlist.chip.leak"].copy()
    first = int(np.flatnonzero(~loaded.is_input)[0])
    leak[first] += 1
    with pytest.raises(NetworkFileError, match=rf"array 'netlist.chip.leak': neuron"
                       rf" '{re.escape(loaded.name_of(first))}' holds 0, its parameters give -1$"):
        load_netlist(rewrite(**{"netlist.chip.leak": leak}))
    plain = tmp_path / "plain.npz"
    spikec.save(loaded, plain)
    with pytest.raises(NetworkFileError, match=r"header.netlist: not a spikec netlist"):
        load_netlist(plain)
