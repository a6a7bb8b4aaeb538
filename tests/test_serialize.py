"""JSON save/load: exact round trips, clear errors, no partial files."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import given

import spikec
from spikec import NetworkFileError, SourceLocation
from spikec.ir.serialize import network_to_dict
from strategies import networks


def rich() -> spikec.Network:
    net = spikec.Network("rich")
    net.input("x[0]", tags=["in"])
    net.input("x[1]")
    net.neuron("y", threshold=0.1 + 0.2, decay=1 / 3, reset=-1e-300, bias=2.5e-7, p=0.3,
               v0=-7.0, loc=SourceLocation("a.spk", 2, 5), tags=["out", "layer=1"])
    net.synapse("x[0]", "y", weight=1 / 7, delay=4)
    net.synapse("x[0]", "y", weight=-1 / 7, delay=4)
    net.synapse("x[1]", "y", weight=3.0)
    net.probe("y")
    net.probe("x[0]", "x[1]", label="count(x)", decoder="count")
    net.stimulus("x[0]", [0, 5])
    net.stimulus("x[1]", rate=0.125)
    return net


def test_round_trip_is_exact(tmp_path: Path) -> None:
    net = rich()
    path = tmp_path / "net.json"
    spikec.save(net, path)
    back = spikec.load_network(path)
    assert back == net
    assert back["y"].threshold == 0.1 + 0.2  # bit-exact float
    assert back["y"].loc == SourceLocation("a.spk", 2, 5)
    assert back["y"].tags == frozenset({"out", "layer=1"})
    assert spikec.format_network(back) == spikec.format_network(net)
    doc = json.loads(path.read_text())
    assert doc["format"] == "spikec-network" and doc["version"] == 1


@given(networks())
def test_random_round_trips(net: spikec.Network) -> None:
    doc = json.loads(json.dumps(network_to_dict(net)))
    assert spikec.ir.serialize.network_from_dict(doc) == net


def test_loaded_network_simulates_identically(tmp_path: Path) -> None:
    net = rich()
    spikec.save(net, tmp_path / "n.json")
    back = spikec.load_network(tmp_path / "n.json")
    a = spikec.simulate(net, 30, seed=5, trials=3, record="all")
    b = spikec.simulate(back, 30, seed=5, trials=3, record="all")
    assert a.times == b.times


def write(tmp_path: Path, doc: object) -> Path:
    path = tmp_path / "bad.json"
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return path


def base_doc() -> dict:
    return network_to_dict(rich())


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.update(format="other"), r"bad.json: format: expected 'spikec-network', got 'other'$"),
        (lambda d: d.update(version=2), r"bad.json: version: this spikec reads version 1, got 2$"),
        (lambda d: d.pop("neurons"), r"bad.json: top level: missing 'neurons'$"),
        (lambda d: d["neurons"][2].pop("name"), r"bad.json: neurons\[2\]: missing 'name'$"),
        (lambda d: d["neurons"][2].update(threshold="high"),
         r"bad.json: neurons\[2\].threshold: expected an integer or a number, got 'high'$"),
        (lambda d: d["neurons"][2].update(decay=2.0),
         r"bad.json: neuron 'y': decay must be in \[0, 1\], got 2$"),
        (lambda d: d["neurons"][2].update(colour="red"), r"neurons\[2\]: unknown field 'colour'$"),
        (lambda d: d["synapses"]["delay"].__setitem__(0, 0),
         r"bad.json: synapse x\[0\] -> y: delay must be an integer >= 1, got 0$"),
        (lambda d: d["synapses"]["pre"].__setitem__(1, 9),
         r"synapses.pre\[1\]: expected a neuron index in \[0, 3\), got 9$"),
        (lambda d: d["synapses"]["weight"].pop(), r"columns pre, post, weight, delay differ in length"),
        (lambda d: d["neurons"].append({"name": "y"}), r"bad.json: duplicate neuron name 'y'"),
        (lambda d: d["probes"][0].update(neurons=["zz"]), r"probe: no neuron named 'zz'"),
        (lambda d: d["stimuli"].update({"y": {"times": [1]}}), r"'y' is not an input neuron"),
    ],
)
def test_bad_files_name_the_field(tmp_path: Path, mutate: object, message: str) -> None:
    doc = base_doc()
    mutate(doc)  # type: ignore[operator]
    with pytest.raises(NetworkFileError, match=message):
        spikec.load_network(write(tmp_path, doc))


def test_invalid_json_points_at_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, '{\n "format": "spikec-network",\n "version": 1,,\n}')
    with pytest.raises(NetworkFileError) as info:
        spikec.load_network(path)
    assert str(info.value).startswith(f"{path}:3:15: error: invalid JSON: Expecting property name")
    assert '"version": 1,,' in str(info.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(NetworkFileError, match=r"nope.json: no such file$"):
        spikec.load_network(tmp_path / "nope.json")


def test_failed_save_leaves_no_file(tmp_path: Path) -> None:
    net = rich()
    net.graph.add_edge("x[0]", "y", weight=1.0, delay=0)  # invalid: save verifies first
    with pytest.raises(spikec.VerifyError):
        spikec.save(net, tmp_path / "out.json")
    assert os.listdir(tmp_path) == []


def test_save_replaces_atomically(tmp_path: Path) -> None:
    path = tmp_path / "out.json"
    path.write_text("old")
    spikec.save(rich(), path)
    assert spikec.load_network(path) == rich()
    assert sorted(os.listdir(tmp_path)) == ["out.json"]
    with pytest.raises(NetworkFileError, match="cannot write"):
        spikec.save(rich(), tmp_path / "no-such-dir" / "x.json")
