"""JSON save/load: exact round trips, clear errors, no partial files."""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import spikec
from spikec import NetworkFileError, SourceLocation
from spikec.ir.binary import network_arrays
from spikec.ir.serialize import network_from_dict, network_to_dict
from strategies import networks

quarters = st.integers(-12, 12).map(lambda k: k / 4)
locations = st.one_of(st.none(), st.builds(SourceLocation, st.sampled_from(["a.spk", "lib/b.spk"]),
                                           st.integers(1, 99), st.integers(1, 40),
                                           st.one_of(st.none(), st.sampled_from(["let x = 1", "ü  z"]))))
tag_sets = st.frozensets(st.sampled_from(["in", "out", "layer=1", "ü"]), max_size=2)


@st.composite
def rich_networks(draw: st.DrawFn) -> spikec.Network:
    """A random network using everything a file holds: scalar names and arrays (built in
    bulk and one by one), tags, source locations, parallel synapses with locations, probes
    of every decoder kind, spike-time and Poisson stimuli, and removed neurons (whose names
    the table keeps)."""
    net = spikec.Network(draw(st.sampled_from(["rich", "net-ü", "x y"])))
    inputs = list(net.add_inputs("x", draw(st.integers(0, 3)), loc=draw(locations), tags=draw(tag_sets)))
    for i in range(draw(st.integers(0, 2))):
        inputs.append(net.index(net.input(f"in{i}", loc=draw(locations), tags=draw(tag_sets))))
    cells = []
    for k in range(draw(st.integers(1, 3))):
        n = draw(st.integers(1, 3))
        if draw(st.booleans()):
            cells += list(net.add_neurons(f"h{k}", n, threshold=draw(quarters), decay=draw(st.sampled_from(
                [0.0, 0.5, 1.0])), bias=draw(quarters), v0=draw(quarters), loc=draw(locations),
                tags=draw(tag_sets)))
        else:
            for i in range(n):
                name = draw(st.sampled_from([f"c{k}.n{i}", f"c{k}[{i}]", f"a[1][{k}{i}]"]))
                if name not in net:
                    cells.append(net.index(net.neuron(name, threshold=0.1 * draw(st.integers(-3, 9)),
                                                      decay=1 / 3, reset=draw(quarters),
                                                      p=draw(st.sampled_from([1.0, 0.5])),
                                                      loc=draw(locations), tags=draw(tag_sets))))
    everyone = inputs + cells
    for _ in range(draw(st.integers(0, 12))):
        net.synapse(draw(st.sampled_from(everyone)), draw(st.sampled_from(cells)), draw(quarters),
                    draw(st.integers(1, 4)), loc=draw(locations))
    if draw(st.booleans()) and len(cells) > 1:
        net.remove_neuron(net.name_of(cells[-1]))
    names = net.names()
    for i in net.input_indices().tolist():
        kind = draw(st.sampled_from(["none", "times", "rate"]))
        if kind == "times":
            net.stimulus(names[i], draw(st.lists(st.integers(0, 30), max_size=4)))
        elif kind == "rate":
            net.stimulus(names[i], rate=draw(st.sampled_from([0.0, 0.125, 0.3, 1.0])))
    for _ in range(draw(st.integers(0, 3))):
        picked = draw(st.lists(st.sampled_from(names), min_size=1, max_size=3, unique=True))
        decoder = draw(st.sampled_from([None, "count", "first", "binary", "rate", "label"]))
        key = None
        if decoder == "label":
            key = [[float(draw(st.integers(0, 1))) for _ in picked] for _ in range(2)]
        net.probe(*picked, label=draw(st.sampled_from([None, "p", "q(ü)"])), decoder=decoder, key=key,
                  info=draw(st.sampled_from([None, {"note": "x", "n": [1, 2.5]}])))
    return net


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


def same_everything(back: spikec.Network, net: spikec.Network, binary: bool) -> None:
    """Equal networks with the same text; the binary format also keeps every source location
    (with its line text) and the synapses' order and locations."""
    assert back == net
    assert back.name == net.name
    assert spikec.format_network(back) == spikec.format_network(net)
    assert [back.tags_of(i) for i in range(len(back))] == [net.tags_of(i) for i in range(len(net))]
    if binary:
        assert back.neuron_locations() == net.neuron_locations()
        assert [back.synapse_location(s) for s in range(back.num_synapses)] == [
            net.synapse_location(s) for s in range(net.num_synapses)]
        for column in ("pre", "post", "weight", "delay"):
            np.testing.assert_array_equal(getattr(back, column), getattr(net, column))
        assert back.probes == net.probes


@given(rich_networks())
def test_rich_random_networks_round_trip_through_json(net: spikec.Network) -> None:
    same_everything(network_from_dict(json.loads(json.dumps(network_to_dict(net)))), net, binary=False)


@given(rich_networks())
def test_rich_random_networks_round_trip_through_npz(net: spikec.Network) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "net.npz"
        spikec.save(net, path)
        back = spikec.load_network(path)
        same_everything(back, net, binary=True)
        spikec.save(back, Path(tmp) / "again.npz")
        assert (Path(tmp) / "again.npz").read_bytes() == path.read_bytes()  # deterministic files
        with np.load(path, allow_pickle=False) as plain:  # a plain NPZ: numpy reads it as it is
            np.testing.assert_array_equal(plain["synapses.weight"], net.weight)
    a = spikec.simulate(net, 12, seed=3, trials=2, record="all", potentials=True)
    b = spikec.simulate(back, 12, seed=3, trials=2, record="all", potentials=True)
    assert a.times == b.times
    for name, pot in a.potentials.items():
        np.testing.assert_array_equal(pot, b.potentials[name])


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
    net._syn.writable("delay")[0] = 0  # invalid, past the checks: save verifies first
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


# -- the binary format: every schema error names the file and the array -------------------

def write_npz(tmp_path: Path, arrays: dict[str, np.ndarray], header: dict[str, Any] | None = None) -> Path:
    if header is not None:
        arrays["header"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)  # type: ignore[arg-type]
    return path


def header_of(arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    return json.loads(arrays["header"].tobytes())


def edit(arrays: dict[str, np.ndarray], key: str, index: int, value: Any) -> None:
    column = arrays[key].copy()
    column[index] = value
    arrays[key] = column


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda a, h: a.pop("synapses.weight"), r"^error: .*bad.npz: array 'synapses.weight': missing$"),
        (lambda a, h: a.update({"neurons.threshold": a["neurons.threshold"].astype(np.float32)}),
         r"array 'neurons.threshold': expected dtype <f8, got <f4$"),
        (lambda a, h: a.update({"synapses.delay": np.append(a["synapses.delay"], 1)}),
         r"array 'synapses.delay': expected shape \(3,\), got shape \(4,\)$"),
        (lambda a, h: a.update({"neurons.bias": a["neurons.bias"][:, None]}),
         r"array 'neurons.bias': expected shape \(3,\), got shape \(3, 1\)$"),
        (lambda a, h: a.update({"neurons.loc": np.array([None, 1, 2], dtype=object)}),
         r"array 'neurons.loc': holds Python objects \(pickles are refused\)$"),
        (lambda a, h: h.update(format="other"),
         r"bad.npz: header.format: expected 'spikec-network-npz', got 'other'$"),
        (lambda a, h: h.update(version=2), r"bad.npz: header.version: this spikec reads version 1, got 2$"),
        (lambda a, h: h.update(neurons=-1), r"bad.npz: header.neurons: expected an integer >= 0 at most"),
        (lambda a, h: h.update(neurons=4),
         r"array 'neurons.threshold': expected shape \(4,\), got shape \(3,\)$"),
        (lambda a, h: h.update(synapses=10**15),
         r"array 'synapses.pre': expected shape \(1000000000000000,\)"),
        (lambda a, h: h.pop("name"), r"bad.npz: header: missing 'name'$"),
        (lambda a, h: h.update(locations=[["a.spk", 2]]),
         r"header.locations\[0\]: expected \[file, line, column"),
        (lambda a, h: h.update(tags=[[1]]), r"header.tags\[0\]: expected a list of strings, got \[1\]$"),
        (lambda a, h: h.update(bases=5), r"array 'names.text': holds 2 names, the header says 5$"),
        (lambda a, h: edit(a, "names.elem", 1, 0),
         r"array 'names.base': duplicate neuron name 'x\[0\]' \(entry 1\)$"),
        (lambda a, h: edit(a, "names.base", 0, 7), r"array 'names.base': entry 0: 7 is not a name id$"),
        (lambda a, h: edit(a, "names.elem", 2, 10**9), r"array 'names.elem': entry 2: element 1000000000 is"),
        (lambda a, h: a.update({"names.text": np.frombuffer(b"x\nx y", dtype=np.uint8)}),
         r"array 'names.text': name 'x y' holds spaces or control characters$"),
        (lambda a, h: a.update({"names.text": np.frombuffer(b"x\nx", dtype=np.uint8)}),
         r"array 'names.text': name 'x' is listed twice$"),
        (lambda a, h: a.update({"names.text": np.frombuffer(b"x\ny[2]", dtype=np.uint8)}),
         r"array 'names.base': entry 2: 'y\[2\]' cannot be a neuron name on its own$"),
        (lambda a, h: a.update({"names.text": np.frombuffer(b"x\n\xff", dtype=np.uint8)}),
         r"array 'names.text': not UTF-8"),
        (lambda a, h: edit(a, "neurons.tags", 2, 9),
         r"array 'neurons.tags': entry 2: 9 is outside \[0, 3\)$"),
        (lambda a, h: edit(a, "synapses.loc", 0, 5),
         r"array 'synapses.loc': entry 0: 5 is outside \[-1, 1\)$"),
        (lambda a, h: edit(a, "synapses.pre", 1, 9),
         r"array 'synapses.pre': entry 1: 9 is outside \[0, 3\)$"),
        (lambda a, h: edit(a, "neurons.threshold", 0, 2.0),
         r"array 'neurons.threshold': entry 0 is an input neuron, whose threshold must be the default 1"),
        (lambda a, h: a.update({"neurons.input": np.array([2, 1, 0], dtype=np.uint8).view(bool)}),
         r"array 'neurons.input': entry 0 is neither true nor false$"),
        (lambda a, h: edit(a, "synapses.post", 0, 1),
         r"bad.npz: synapse x\[0\] -> x\[1\]: 'x\[1\]' is an input neuron and cannot receive synapses"),
        (lambda a, h: edit(a, "synapses.delay", 2, 0),
         r"bad.npz: synapse x\[1\] -> y: delay must be an integer"),
        (lambda a, h: edit(a, "synapses.weight", 0, np.nan),
         r"bad.npz: synapse x\[0\] -> y: weight must be finite"),
        (lambda a, h: edit(a, "neurons.decay", 2, 2.0),
         r"bad.npz: neuron 'y': decay must be in \[0, 1\], got 2$"),
        (lambda a, h: edit(a, "neurons.rate", 2, 0.5), r"bad.npz: stimulus 'y': not an input neuron$"),
        (lambda a, h: h["stimulus_times"][0].update(neurons=[1]),
         r"header.stimulus_times\[0\]: input 'x\[1\]' has both a rate and spike times$"),
        (lambda a, h: h["stimulus_times"][0].update(steps=[-1]),
         r"bad.npz: stimulus: spike steps must be integers"),
        (lambda a, h: h["probes"][0].update(neurons=["zz"]), r"bad.npz: probe: no neuron named 'zz'"),
    ],
)
def test_bad_npz_files_name_the_array(tmp_path: Path, mutate: Any, message: str) -> None:
    arrays = network_arrays(rich())
    header = header_of(arrays)
    mutate(arrays, header)
    with pytest.raises(NetworkFileError, match=message) as info:
        spikec.load_network(write_npz(tmp_path, arrays, header))
    assert "Traceback" not in str(info.value)


def test_npz_files_that_are_not_networks(tmp_path: Path) -> None:
    with pytest.raises(NetworkFileError, match=r"nope.npz: no such file$"):
        spikec.load_network(tmp_path / "nope.npz")
    (tmp_path / "text.npz").write_text("hello")
    with pytest.raises(NetworkFileError, match=r"text.npz: not an \.npz file \(a zip of \.npy arrays\)$"):
        spikec.load_network(tmp_path / "text.npz")
    np.savez(tmp_path / "frames.npz", images=np.zeros((2, 3)))
    with pytest.raises(NetworkFileError, match=r"frames.npz: not a spikec network: no 'header' array$"):
        spikec.load_network(tmp_path / "frames.npz")
    arrays = network_arrays(rich())
    arrays["header"] = np.frombuffer(b"{not json", dtype=np.uint8)
    with pytest.raises(NetworkFileError, match=r"bad.npz: array 'header': not UTF-8 JSON"):
        spikec.load_network(write_npz(tmp_path, arrays))


def test_npz_sizes_are_checked_before_reading(tmp_path: Path) -> None:
    """A member whose .npy header promises more data than it holds, or a compressed member
    claiming an impossible size, is refused before anything that size is allocated."""
    arrays = network_arrays(rich())
    path = write_npz(tmp_path, arrays)
    with zipfile.ZipFile(path) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    raw = members["synapses.weight.npy"]
    members["synapses.weight.npy"] = raw[:-8]  # one weight short
    short = tmp_path / "short.npz"
    with zipfile.ZipFile(short, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    with pytest.raises(NetworkFileError, match=r"array 'synapses.weight': holds 16 bytes of data, its header"
                       r" says 24$"):
        spikec.load_network(short)
    bomb = tmp_path / "bomb.npz"
    members["synapses.weight.npy"] = raw
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    data = bytearray(bomb.read_bytes())
    entry = data.find(b"PK\x01\x02")
    while entry >= 0:
        name_len = int.from_bytes(data[entry + 28:entry + 30], "little")
        if data[entry + 46:entry + 46 + name_len] == b"synapses.weight.npy":
            data[entry + 24:entry + 28] = (2**32 - 2).to_bytes(4, "little")  # uncompressed size: ~4 GiB
        entry = data.find(b"PK\x01\x02", entry + 4)
    bomb.write_bytes(bytes(data))
    with pytest.raises(NetworkFileError, match=r"array 'synapses.weight': its stored size is impossible"):
        spikec.load_network(bomb)
    compressed = tmp_path / "compressed.npz"
    np.savez_compressed(compressed, **arrays)  # type: ignore[arg-type]
    assert spikec.load_network(compressed) == rich()


def test_npz_save_is_atomic(tmp_path: Path) -> None:
    path = tmp_path / "out.npz"
    path.write_text("old")
    spikec.save(rich(), path)
    assert spikec.load_network(path) == rich()
    assert sorted(os.listdir(tmp_path)) == ["out.npz"]
    net = rich()
    net._syn.writable("delay")[0] = 0  # invalid, past the checks: save verifies first
    with pytest.raises(spikec.VerifyError):
        spikec.save(net, tmp_path / "bad.npz")
    assert sorted(os.listdir(tmp_path)) == ["out.npz"]
    with pytest.raises(NetworkFileError, match="cannot write"):
        spikec.save(rich(), tmp_path / "no-such-dir" / "x.npz")


def test_a_large_network_round_trips_exactly_through_npz(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    net = spikec.Network("large")
    x = net.add_inputs("x", 500, loc=SourceLocation("big.spk", 1, 1))
    h = net.add_neurons("h", 20_000, threshold=rng.integers(1, 5, 20_000) / 2, decay=rng.random(20_000),
                        bias=rng.normal(0, 0.1, 20_000), p=np.where(rng.random(20_000) < 0.1, 0.5, 1.0),
                        tags=["hidden"])
    net.add_named([f"s{i}" for i in range(300)], threshold=0.5)
    everyone = np.arange(len(net))
    net.add_synapses(rng.choice(everyone, 300_000), rng.choice(h, 300_000), rng.normal(0, 0.3, 300_000),
                     rng.integers(1, 9, 300_000), loc=SourceLocation("big.spk", 7, 3, "connect"))
    net.stimulate(x[:250], rate=0.05)
    net.stimulate(x[250:], range(0, 40, 3))
    net.probe(*net.names(h[:50]), label="hidden", decoder="count")
    path = tmp_path / "large.npz"
    spikec.save(net, path)
    back = spikec.load_network(path)
    same_everything(back, net, binary=True)
    a = spikec.simulate(net, 40, seed=9, record=h[::97])
    b = spikec.simulate(back, 40, seed=9, record=h[::97])
    np.testing.assert_array_equal(a.spikes_of(h[::97]), b.spikes_of(h[::97]))
