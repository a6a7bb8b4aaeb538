"""The spikec netlist: golden output, schema errors, and the round trip
compile -> write -> read back -> simulate giving the source's spikes, for
every example program and random networks, on every target that takes them."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import spikec
from spikec.backends.netlist import (
    build_netlist,
    load_netlist,
    netlist_from_dict,
    render_netlist,
    write_netlist,
)
from spikec.chip.target import load_target
from spikec.errors import NetworkFileError, SpikecError
from spikec.passes import compile_for_target
from strategies_chips import Run, random_inputs, runs, same_spikes

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
                if deterministic or not (set(net.graph.nodes) - set(back.graph.nodes)):
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
