"""Hostile JSON networks, JSON netlists, NPZ networks and NPZ netlists (issue 13): each is
refused with a :class:`NetworkFileError` naming the file and the place (the JSON path, the
line and column of malformed JSON, or the NPZ array), and sizes are checked against the
limits before anything is built."""

from __future__ import annotations

import io
import json
import os
import re
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import spikec
from spikec.backends.netlist import build_netlist, load_netlist, netlist_from_dict, render_netlist
from spikec.backends.netlist_npz import write_netlist_npz
from spikec.chip.placement import Placement
from spikec.chip.target import load_target
from spikec.errors import LimitError, NetworkFileError
from spikec.ir import binary
from spikec.ir.files import read_json
from spikec.ir.serialize import network_to_dict


def small() -> spikec.Network:
    """Two inputs, two neurons, three synapses, a probe and both kinds of stimulus."""
    net = spikec.Network("small")
    net.add_inputs("x", 2)
    net.neuron("y", threshold=2.0, tags=["out"])
    net.neuron("z")
    net.synapse("x[0]", "y", 1.0, 1)
    net.synapse("x[1]", "y", 1.0, 2)
    net.synapse("y", "z", 0.5, 1)
    net.probe("y", label="y", decoder="count")
    net.stimulus("x[0]", [0, 2])
    net.stimulus("x[1]", rate=0.25)
    return net


def refused(path: Path, load: Callable[[Path], Any], place: str, message: str) -> NetworkFileError:
    """Loading ``path`` raises NetworkFileError reading ``error: PATH: PLACE: MESSAGE``
    (``message`` a regex), or, for a ``line:col`` place, ``PATH:line:col: error: MESSAGE``."""
    with pytest.raises(NetworkFileError) as info:
        load(path)
    text = str(info.value).splitlines()[0]
    if re.fullmatch(r"\d+:\d+", place):
        head = f"{path}:{place}: error: "
    else:
        head = f"error: {path}: {place}: "
    assert text.startswith(head), text
    assert re.match(message, text[len(head) :]), text
    return info.value


# -- JSON networks ------------------------------------------------------------------------


def network_file(
    tmp_path: Path, edit: Callable[[dict[str, Any]], Any] | None = None, text: str | None = None
) -> Path:
    doc = network_to_dict(small())
    if edit is not None:
        edit(doc)
    path = tmp_path / "net.json"
    path.write_text(text if text is not None else json.dumps(doc))
    return path


def column(key: str, index: int, value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda d: d["synapses"][key].__setitem__(index, value)


@pytest.mark.parametrize(
    ("edit", "place", "message"),
    [
        (
            column("delay", 0, 2**63),
            "synapses.delay[0]",
            r"expected an integer in \[1, 2\*\*63 - 1\], got 9223372036854775808$",
        ),
        (
            column("delay", 1, 2**70),
            "synapses.delay[1]",
            r"expected an integer in \[1, 2\*\*63 - 1\], got a 71-bit integer$",
        ),
        (column("delay", 0, -(2**64)), "synapses.delay[0]", r"expected an integer in \[1, 2\*\*63 - 1\]"),
        (
            column("delay", 0, [1]),
            "synapses.delay[0]",
            r"expected an integer in \[1, 2\*\*63 - 1\], got \[1\]$",
        ),
        (
            column("delay", 2, True),
            "synapses.delay[2]",
            r"expected an integer in \[1, 2\*\*63 - 1\], got True$",
        ),
        (column("delay", 0, 1.0), "synapses.delay[0]", r"expected an integer"),
        (
            column("weight", 1, 10**400),
            "synapses.weight[1]",
            r"expected a finite number, got a 1329-bit integer$",
        ),
        (column("weight", 0, False), "synapses.weight[0]", r"expected a number, got False$"),
        (column("weight", 0, [1.0]), "synapses.weight[0]", r"expected a number, got \[1.0\]$"),
        (column("pre", 0, [0]), "synapses.pre[0]", r"expected a neuron index in \[0, 4\), got \[0\]$"),
        (column("post", 0, True), "synapses.post[0]", r"expected a neuron index in \[0, 4\), got True$"),
        (
            column("post", 0, 2**64),
            "synapses.post[0]",
            r"expected a neuron index in \[0, 4\), got a 65-bit integer$",
        ),
        (
            lambda d: d["neurons"][2].update(tags=[[1]]),
            "neurons[2].tags[0]",
            r"expected a string, got \[1\]$",
        ),
        (lambda d: d["neurons"][2].update(tags="out"), "neurons[2].tags", r"expected a list, got 'out'$"),
        (lambda d: d["neurons"][0].pop("name"), "neurons[0]", r"missing 'name'$"),
        (lambda d: d["neurons"][0].update(name=5), "neurons[0].name", r"expected a string, got 5$"),
        (lambda d: d["neurons"][0].update(input=5), "neurons[0].input", r"expected true or false, got 5$"),
        (lambda d: d["neurons"][0].update(input="yes"), "neurons[0].input", r"expected true or false"),
        (
            lambda d: d["neurons"][2].update(threshold=10**400),
            "neurons[2].threshold",
            r"expected a finite number",
        ),
        (
            lambda d: d["neurons"][2].update(bias=True),
            "neurons[2].bias",
            r"expected an integer or a number, got True$",
        ),
        (
            lambda d: d["neurons"][2].update(loc={"file": "a", "line": 2**70, "column": 1}),
            "neurons[2].loc.line",
            r"expected an integer in \[0, 2\*\*63 - 1\], got a 71-bit integer$",
        ),
        (
            lambda d: d["neurons"][2].update(loc={"file": "a", "line": True, "column": 1}),
            "neurons[2].loc.line",
            r"expected an integer, got True$",
        ),
        (lambda d: d["neurons"][2].update(loc=[1]), "neurons[2].loc", r"expected an object, got list$"),
        (lambda d: d.update(neurons={"a": 1}), "neurons", r"expected a list"),
        (lambda d: d.update(name=[5]), "name", r"expected a string, got \[5\]$"),
        (lambda d: d.update(version=True), "version", r"this spikec reads version 1, got True$"),
        (lambda d: d.update(version=1.0), "version", r"this spikec reads version 1, got 1.0$"),
        (lambda d: d.update(probes=5), "probes", r"expected a list, got 5$"),
        (lambda d: d.update(probes=[1]), "probes[0]", r"expected an object, got int$"),
        (lambda d: d["probes"][0].update(decoder=5), "probes[0].decoder", r"expected a string, got 5$"),
        (lambda d: d["probes"][0].update(decoder="nope"), "probes[0]", r"unknown decoder 'nope'"),
        (lambda d: d["probes"][0].update(neurons=[1]), "probes[0].neurons[0]", r"expected a string, got 1$"),
        (lambda d: d["probes"][0].update(neurons="y"), "probes[0].neurons", r"expected a list, got 'y'$"),
        (lambda d: d["probes"][0].update(array=1), "probes[0].array", r"expected true or false, got 1$"),
        (
            lambda d: d["probes"][0].update(decoder="label", key=[[[1]]]),
            "probes[0].key[0][0]",
            r"expected a number, got \[1\]$",
        ),
        (
            lambda d: d["probes"][0].update(decoder="label", key=[5]),
            "probes[0].key[0]",
            r"expected a list of numbers, got 5$",
        ),
        (
            lambda d: d["probes"][0].update(decoder="label", key=[[10**400]]),
            "probes[0].key[0][0]",
            r"expected a finite number",
        ),
        (lambda d: d["probes"][0].update(info=[1]), "probes[0].info", r"expected an object, got \[1\]$"),
        (lambda d: d.update(stimuli=[1]), "stimuli", r"expected an object, got \[1\]$"),
        (lambda d: d["stimuli"].update({"x[0]": 5}), "stimuli['x[0]']", r"expected an object, got int$"),
        (
            lambda d: d["stimuli"].update({"x[0]": {"times": [[1]]}}),
            "stimuli['x[0]'].times[0]",
            r"expected an integer >= 0, got \[1\]$",
        ),
        (
            lambda d: d["stimuli"].update({"x[0]": {"times": [True]}}),
            "stimuli['x[0]'].times[0]",
            r"expected an integer >= 0, got True$",
        ),
        (
            lambda d: d["stimuli"].update({"x[1]": {"rate": 10**400}}),
            "stimuli['x[1]'].rate",
            r"expected a finite number",
        ),
        (
            lambda d: d["stimuli"].update({"x[1]": {"rate": 2}}),
            "stimuli['x[1]'].rate",
            r"expected a number in \[0, 1\], got 2.0$",
        ),
        (
            lambda d: d["stimuli"].update({"nope": {"rate": 0.5}}),
            "stimuli['nope']",
            r"stimulus: no neuron named 'nope'",
        ),
    ],
)
def test_bad_json_networks_name_the_json_path(tmp_path: Path, edit: Any, place: str, message: str) -> None:
    path = network_file(tmp_path, edit)
    refused(path, spikec.load_network, place, message)
    refused(path, spikec.open_network, place, message)


def test_non_finite_numbers_written_as_text_name_the_json_path(tmp_path: Path) -> None:
    text = json.dumps(network_to_dict(small()))
    refused(
        network_file(tmp_path, text=text.replace('"weight": [1.0', '"weight": [1e400', 1)),
        spikec.load_network,
        "synapses.weight[0]",
        r"expected a finite number, got inf$",
    )
    refused(
        network_file(tmp_path, text=text.replace('"weight": [1.0', '"weight": [NaN', 1)),
        spikec.load_network,
        "synapses.weight[0]",
        r"expected a finite number, got nan$",
    )
    refused(
        network_file(tmp_path, text=text.replace('"threshold": 2.0', '"threshold": -Infinity', 1)),
        spikec.load_network,
        "neurons[2].threshold",
        r"expected a finite number, got -inf$",
    )
    refused(
        network_file(tmp_path, text=text.replace('"rate": 0.25', '"rate": NaN', 1)),
        spikec.load_network,
        "stimuli['x[1]'].rate",
        r"expected a finite number, got nan$",
    )


def test_deep_nesting_and_long_integers_are_located(tmp_path: Path) -> None:
    path = network_file(tmp_path, text="[" * 100_000)
    refused(path, spikec.open_network, "1:501", r"invalid JSON: brackets nested more than 500 deep$")
    text = json.dumps(network_to_dict(small()))
    path = network_file(tmp_path, text=text.replace('"version": 1', '"version":\n  ' + "1" * 5000, 1))
    refused(path, spikec.load_network, "2:3", r"invalid JSON: an integer of 5,000 digits \(at most 4,300\)$")
    path = network_file(tmp_path, text=text.replace('"pre": [0', '"pre": [-' + "7" * 4301, 1))
    refused(
        path,
        spikec.load_network,
        r"1:\d+".replace(r"\d+", str(text.index('"pre": [0') + 9)),
        r"invalid JSON: an integer of 4,301 digits",
    )
    # a digit string inside a string literal is text, not an integer
    assert spikec.load_network(network_file(tmp_path, text=text.replace('"small"', '"' + "9" * 5000 + '"')))


def test_a_malformed_line_is_shown_only_when_short(tmp_path: Path) -> None:
    error = refused(
        network_file(tmp_path, text='{"a": [' + "1, " * 1000 + "}"), read_json, "1:3008", r"invalid JSON"
    )
    assert error.location is not None and error.location.text is None
    error = refused(network_file(tmp_path, text='{\n "a": [1,,\n}'), read_json, "2:10", r"invalid JSON")
    assert error.location is not None and error.location.text == ' "a": [1,,'


def test_files_that_are_not_regular_or_too_large_are_refused_before_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    link = tmp_path / "zero.json"
    link.symlink_to("/dev/zero")
    with pytest.raises(NetworkFileError, match=rf"^error: {re.escape(str(link))}: not a regular file"):
        spikec.open_network(link)
    (tmp_path / "dir.json").mkdir()
    with pytest.raises(NetworkFileError, match=r"dir.json: is a directory"):
        spikec.load_network(tmp_path / "dir.json")
    path = network_file(tmp_path)
    monkeypatch.setenv("SPIKEC_MAX_FILE_BYTES", "100")
    with pytest.raises(
        NetworkFileError,
        match=rf"^error: {re.escape(str(path))}: [\d,]+ bytes is more than the 100"
        r" bytes a file may hold$",
    ):
        spikec.load_network(path)
    monkeypatch.setenv("SPIKEC_MAX_FILE_BYTES", "lots")
    with pytest.raises(NetworkFileError, match=r"SPIKEC_MAX_FILE_BYTES: expected a positive number of bytes"):
        spikec.load_network(path)


def test_non_utf8_json_is_located(tmp_path: Path) -> None:
    path = tmp_path / "net.json"
    path.write_bytes(b'{\n "name": "\xff"}')
    with pytest.raises(NetworkFileError, match=rf"^{re.escape(str(path))}:2:11: error: not UTF-8 text"):
        spikec.load_network(path)


def test_counts_past_the_limits_are_refused_before_building(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = network_file(tmp_path)
    monkeypatch.setenv("SPIKEC_MAX_SYNAPSES", "2")
    refused(
        path,
        spikec.load_network,
        "synapses",
        r"3 synapses is more than the limit of 2 \(set SPIKEC_MAX_SYNAPSES to raise it\)$",
    )
    monkeypatch.setenv("SPIKEC_MAX_SYNAPSES", "3")
    assert spikec.load_network(path) == small()
    monkeypatch.setenv("SPIKEC_MAX_NEURONS", "3")
    refused(
        path,
        spikec.load_network,
        "neurons",
        r"4 neurons is more than the limit of 3 \(set SPIKEC_MAX_NEURONS to raise it\)$",
    )
    monkeypatch.setenv("SPIKEC_MAX_NEURONS", "1e400")
    bad_limit = (
        r"^error: SPIKEC_MAX_NEURONS: expected a positive integer \(such as 20000000 or 2e7\), got '1e400'$"
    )
    with pytest.raises(LimitError, match=bad_limit):
        spikec.load_network(path)
    monkeypatch.setenv("SPIKEC_MAX_NEURONS", "2.5")
    with pytest.raises(LimitError, match=r"SPIKEC_MAX_NEURONS: expected a positive integer"):
        spikec.load_network(path)
    monkeypatch.setenv("SPIKEC_MAX_NEURONS", "4e0")
    assert len(spikec.load_network(path)) == 4


def test_a_synapse_into_an_input_is_refused_on_load(tmp_path: Path) -> None:
    path = network_file(tmp_path, column("post", 0, 1))
    with pytest.raises(
        NetworkFileError, match=r"net.json: synapse x\[0\] -> x\[1\]: 'x\[1\]' is an input neuron"
    ):
        spikec.load_network(path)


# -- JSON netlists ------------------------------------------------------------------------


def netlist_doc() -> dict[str, Any]:
    """``small`` on two cores (x[0], y on core 0; x[1], z on core 1) of the generic target."""
    net = small()
    placement = Placement(np.array([0, 1, 0, 1]), 2, net)
    return json.loads(render_netlist(build_netlist(net, placement, load_target("generic"))))


def netlist_file(
    tmp_path: Path, edit: Callable[[dict[str, Any]], Any] | None = None, text: str | None = None
) -> Path:
    doc = netlist_doc()
    if edit is not None:
        edit(doc)
    path = tmp_path / "nl.json"
    path.write_text(text if text is not None else json.dumps(doc))
    return path


def core(c: int, key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda d: d["cores"][c].__setitem__(key, value)


def syn(c: int, key: str, index: int, value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda d: d["cores"][c]["synapses"][key].__setitem__(index, value)


def row(c: int, index: int, **fields: Any) -> Callable[[dict[str, Any]], None]:
    return lambda d: d["cores"][c]["neurons"][index].update(fields)


def test_the_netlist_fixture_has_routes() -> None:
    doc = netlist_doc()
    assert doc["cores"][0]["routes"] == {"2": [1]} and doc["cores"][1]["routes"] == {"1": [0]}
    net, placement = netlist_from_dict(doc, "nl.json")
    assert net == small() and placement.num_cores == 2


@pytest.mark.parametrize(
    ("edit", "place", "message"),
    [
        (
            core(0, "routes", {"abc": [1]}),
            "cores[0].routes",
            r"neuron abc: expected an id and a list of cores$",
        ),
        (
            core(0, "routes", {"2.0": [1]}),
            "cores[0].routes",
            r"neuron 2.0: expected an id and a list of cores$",
        ),
        (
            core(0, "routes", {"-2": [1]}),
            "cores[0].routes",
            r"neuron -2: expected an id and a list of cores$",
        ),
        (
            core(0, "routes", {" 2": [1]}),
            "cores[0].routes",
            r"neuron  2: expected an id and a list of cores$",
        ),
        (core(0, "routes", {"9" * 5000: [1]}), "cores[0].routes", r"neuron 9{40}: expected an id"),
        (
            core(0, "routes", {"2": [[1]]}),
            "cores[0].routes['2']",
            r"expected a list of cores in \[0, 2\), got \[1\]$",
        ),
        (
            core(0, "routes", {"2": 1}),
            "cores[0].routes['2']",
            r"expected a list of cores in \[0, 2\), got 1$",
        ),
        (
            core(0, "routes", {"2": [True]}),
            "cores[0].routes['2']",
            r"expected a list of cores in \[0, 2\), got True$",
        ),
        (
            core(0, "routes", {"2": [2**70]}),
            "cores[0].routes['2']",
            r"expected a list of cores in \[0, 2\), got a 71",
        ),
        (
            core(0, "routes", {"2": [1], "1": [0]}),
            "cores[0].routes",
            r"neuron 1 is not a neuron of this core$",
        ),
        (core(0, "routes", [1]), "cores[0].routes", r"expected an object, got \[1\]$"),
        (syn(0, "post", 0, [2]), "cores[0].synapses", r"synapse target \[2\] is not a neuron of core 0$"),
        (syn(0, "pre", 0, [0]), "cores[0].synapses.pre[0]", r"unknown source neuron id \[0\]$"),
        (
            syn(0, "post", 0, 2**63),
            "cores[0].synapses",
            r"synapse target 9223372036854775808 is not a neuron of core 0$",
        ),
        (syn(0, "pre", 0, 2**64), "cores[0].synapses.pre[0]", r"unknown source neuron id a 65-bit integer$"),
        (
            syn(0, "delay", 0, 2**63),
            "cores[0].synapses.delay[0]",
            r"expected an integer in \[1, 2\*\*63 - 1\]",
        ),
        (
            syn(0, "delay", 0, [1]),
            "cores[0].synapses.delay[0]",
            r"expected an integer in \[1, 2\*\*63 - 1\], got \[1\]$",
        ),
        (
            syn(0, "delay", 0, True),
            "cores[0].synapses.delay[0]",
            r"expected an integer in \[1, 2\*\*63 - 1\], got True$",
        ),
        (
            syn(1, "weight", 0, 10**400),
            "cores[1].synapses.weight[0]",
            r"expected a finite number, got a 1329-bit",
        ),
        (syn(1, "weight", 0, [1]), "cores[1].synapses.weight[0]", r"expected a number, got \[1\]$"),
        (row(0, 0, name=None), "cores[0].neurons[0].name", r"expected a string, got None$"),
        (lambda d: d["cores"][0]["neurons"][1].pop("name"), "cores[0].neurons[1]", r"missing 'name'$"),
        (
            lambda d: d["cores"][0]["neurons"].__setitem__(0, 5),
            "cores[0].neurons[0]",
            r"expected an object, got 5$",
        ),
        (row(0, 0, id=[0]), "cores[0].neurons[0].id", r"expected an integer neuron id, got \[0\]$"),
        (row(0, 0, id=True), "cores[0].neurons[0].id", r"expected an integer neuron id, got True$"),
        (row(1, 0, id=0), "cores[1].neurons[0].id", r"neuron id 0 is used twice$"),
        (row(0, 0, input=5), "cores[0].neurons[0].input", r"expected true or false, got 5$"),
        (row(0, 1, tags=[[1]]), "cores[0].neurons[1].tags[0]", r"expected a string, got \[1\]$"),
        (
            row(0, 1, threshold=10**400),
            "cores[0].neurons[1].threshold",
            r"expected a finite number, got a 1329",
        ),
        (
            row(0, 1, threshold=True),
            "cores[0].neurons[1].threshold",
            r"expected an integer or a number, got True$",
        ),
        (
            row(0, 1, loc={"file": "f", "line": -1, "column": 1}),
            "cores[0].neurons[1].loc.line",
            r"expected an integer in \[0, 2\*\*63 - 1\], got -1$",
        ),
        (lambda d: d.update(probes=5), "probes", r"expected a list, got 5$"),
        (lambda d: d.update(probes=[1]), "probes[0]", r"expected an object, got int$"),
        (lambda d: d["probes"][0].update(decoder=5), "probes[0].decoder", r"expected a string, got 5$"),
        (lambda d: d["probes"][0].update(neurons=["nope"]), "probes[0]", r"probe: no neuron named 'nope'"),
        (
            lambda d: d["stimuli"].update({"x[0]": {"times": [[0]]}}),
            "stimuli['x[0]'].times[0]",
            r"expected an integer >= 0, got \[0\]$",
        ),
        (
            lambda d: d["stimuli"].update({"y": {"rate": 0.5}}),
            "stimuli['y']",
            r"stimulus: 'y' is not an input neuron$",
        ),
        (lambda d: d.update(name=[1]), "name", r"expected a string, got \[1\]$"),
        (lambda d: d.update(target=[1]), "target", r"expected an object, got \[1\]$"),
        (lambda d: d.update(version=2.0), "version", r"this spikec reads versions 1 and 2, got 2.0$"),
        (lambda d: d.update(version=True), "version", r"this spikec reads versions 1 and 2, got True$"),
        (lambda d: d["cores"][1].update(core=True), "cores[1]", r'expected an object with "core": 1$'),
        (lambda d: d.update(cores={"0": 1}), "cores", r"expected a list, got \{'0': 1\}$"),
    ],
)
def test_bad_json_netlists_name_the_json_path(tmp_path: Path, edit: Any, place: str, message: str) -> None:
    path = netlist_file(tmp_path, edit)
    refused(path, load_netlist, place, message)
    refused(path, spikec.open_network, place, message)


def test_netlist_text_errors_and_limits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = render_netlist(
        build_netlist(small(), Placement(np.array([0, 1, 0, 1]), 2, small()), load_target("generic"))
    )
    head = '{"format": "spikec-netlist", "cores": '
    refused(
        netlist_file(tmp_path, text=head + "[" * 100_000),
        load_netlist,
        f"1:{len(head) + 500}",
        r"invalid JSON: brackets nested more than 500 deep$",
    )
    refused(
        netlist_file(tmp_path, text=text.replace('"version": 2', '"version": ' + "2" * 5000)),
        load_netlist,
        "3:13",
        r"invalid JSON: an integer of 5,000 digits",
    )
    refused(
        netlist_file(tmp_path, text=text.replace('"weight": [1.0', '"weight": [NaN', 1)),
        load_netlist,
        "cores[0].synapses.weight[0]",
        r"expected a finite number, got nan$",
    )
    path = netlist_file(tmp_path)
    monkeypatch.setenv("SPIKEC_MAX_SYNAPSES", "2")
    refused(path, load_netlist, "cores", r"3 synapses is more than the limit of 2 \(set SPIKEC_MAX_SYNAPSES")
    monkeypatch.setenv("SPIKEC_MAX_NEURONS", "3")
    refused(path, load_netlist, "cores", r"4 neurons is more than the limit of 3 \(set SPIKEC_MAX_NEURONS")


# -- NPZ networks and netlists ------------------------------------------------------------


def members_of(net: spikec.Network, tmp_path: Path, netlist: bool = False) -> dict[str, bytes]:
    path = tmp_path / "seed.npz"
    if netlist:
        write_netlist_npz(
            path, net, Placement(np.zeros(len(net), dtype=np.int64), 1, net), load_target("truenorth")
        )
    else:
        spikec.save(net, path)
    with zipfile.ZipFile(path) as zf:
        return {info.filename: zf.read(info) for info in zf.infolist()}


def npy(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, array, allow_pickle=True)
    return buf.getvalue()


def member(members: dict[str, bytes], name: str) -> np.ndarray:
    return np.lib.format.read_array(io.BytesIO(members[f"{name}.npy"]), allow_pickle=False)


def header(members: dict[str, bytes]) -> dict[str, Any]:
    return json.loads(member(members, "header").tobytes())


def write(tmp_path: Path, members: dict[str, bytes], compression: int = zipfile.ZIP_STORED) -> Path:
    path = tmp_path / "net.npz"
    with zipfile.ZipFile(path, "w", compression) as zf:
        for name, raw in members.items():
            zf.writestr(name, raw)
    return path


def edited(members: dict[str, bytes], name: str, array: np.ndarray | bytes) -> dict[str, bytes]:
    return {**members, f"{name}.npy": array if isinstance(array, bytes) else npy(array)}


def with_header(members: dict[str, bytes], **fields: Any) -> dict[str, bytes]:
    doc = header(members)
    doc.update(fields)
    return edited(members, "header", np.frombuffer(json.dumps(doc).encode(), dtype=np.uint8))


def entry(members: dict[str, bytes], name: str, index: int, value: Any) -> dict[str, bytes]:
    array = member(members, name).copy()
    array[index] = value
    return edited(members, name, array)


@pytest.fixture
def net_members(tmp_path: Path) -> dict[str, bytes]:
    return members_of(small(), tmp_path)


def text_header(members: dict[str, bytes], text: bytes) -> dict[str, bytes]:
    return edited(members, "header", np.frombuffer(text, dtype=np.uint8))


@pytest.mark.parametrize(
    ("edit", "place", "message"),
    [
        (lambda m: text_header(m, b"[1]"), "header", r"expected a JSON object$"),
        (lambda m: text_header(m, b"5"), "header", r"expected a JSON object$"),
        (
            lambda m: text_header(m, b"[" * 100_000),
            "array 'header'",
            r"not UTF-8 JSON: brackets nested too deeply$",
        ),
        (
            lambda m: text_header(m, b'{"format": ' + b"1" * 5000 + b"}"),
            "array 'header'",
            r"not UTF-8 JSON: an integer of more than 4,300 digits$",
        ),
        (lambda m: text_header(m, b"\xff"), "array 'header'", r"not UTF-8 JSON"),
        (
            lambda m: edited(m, "header", np.array([1, None], dtype=object)),
            "array 'header'",
            r"holds Python objects \(pickles are refused\)$",
        ),
        (
            lambda m: edited(m, "synapses.weight", member(m, "synapses.weight").astype(complex)),
            "array 'synapses.weight'",
            r"expected dtype <f8, got <c16$",
        ),
        (
            lambda m: edited(m, "synapses.weight", member(m, "synapses.weight").astype(str)),
            "array 'synapses.weight'",
            r"expected dtype <f8, got <U32$",
        ),
        (
            lambda m: edited(m, "synapses.delay", member(m, "synapses.delay").astype(">i8")),
            "array 'synapses.delay'",
            r"expected dtype <i8, got >i8$",
        ),
        (
            lambda m: edited(m, "names.text", np.array(["x", "y"])),
            "array 'names.text'",
            r"expected dtype \|u1, got <U1$",
        ),
        (
            lambda m: {k: v for k, v in m.items() if k != "synapses.post.npy"},
            "array 'synapses.post'",
            r"missing$",
        ),
        (
            lambda m: entry(m, "neurons.threshold", 2, np.nan),
            "array 'neurons.threshold'",
            r"entry 2 \(neuron 'y'\): expected a finite number, got nan$",
        ),
        (
            lambda m: entry(m, "neurons.v0", 3, -np.inf),
            "array 'neurons.v0'",
            r"entry 3 \(neuron 'z'\): expected a finite number, got -inf$",
        ),
        (
            lambda m: entry(m, "neurons.rate", 1, np.inf),
            "array 'neurons.rate'",
            r"entry 1 \(input 'x\[1\]'\): expected NaN \(no rate\) or a rate in \[0, 1\], got inf$",
        ),
        (lambda m: entry(m, "neurons.rate", 1, -0.5), "array 'neurons.rate'", r"entry 1 \(input 'x\[1\]'\)"),
        (
            lambda m: entry(m, "synapses.weight", 2, np.inf),
            "synapse y -> z",
            r"weight must be finite, got inf \(array 'synapses.weight', entry 2\)$",
        ),
        (
            lambda m: entry(m, "synapses.delay", 1, -(2**63)),
            "synapse x\\[1\\] -> y".replace("\\", ""),
            r"delay must be an integer >= 1, got -9223372036854775808 \(array 'synapses.delay', entry 1\)$",
        ),
        (lambda m: with_header(m, synapses=True), "header.synapses", r"expected an integer >= 0, got True$"),
        (lambda m: with_header(m, neurons=4.0), "header.neurons", r"expected an integer >= 0"),
        (lambda m: with_header(m, name=[1]), "header.name", r"expected a string, got \[1\]$"),
        (lambda m: with_header(m, probes=5), "header.probes", r"expected a list, got 5$"),
        (lambda m: with_header(m, probes=[1]), "header.probes[0]", r"expected an object, got int$"),
        (lambda m: with_header(m, tags=[[1]]), "header.tags[0]", r"expected a list of strings, got \[1\]$"),
        (
            lambda m: with_header(m, locations=[[1, 2, 3, None]]),
            "header.locations[0]",
            r"expected \[file, line",
        ),
        (lambda m: with_header(m, stimulus_times=5), "header.stimulus_times", r"expected a list$"),
        (
            lambda m: with_header(m, stimulus_times=[{"steps": [1], "neurons": [True]}]),
            "header.stimulus_times[0].neurons",
            r"expected neuron indices in \[0, 4\)$",
        ),
    ],
)
def test_bad_npz_networks_name_the_array(
    tmp_path: Path, net_members: dict[str, bytes], edit: Any, place: str, message: str
) -> None:
    path = write(tmp_path, edit(net_members))
    refused(path, spikec.load_network, place, message)
    refused(path, spikec.open_network, place, message)


def test_declared_sizes_are_refused_from_the_npy_header(
    tmp_path: Path, net_members: dict[str, bytes]
) -> None:
    raw = net_members["synapses.weight.npy"]
    huge = re.sub(rb"\(3,\)", b"(1000000000000,)", raw, count=1)
    path = write(tmp_path, {**net_members, "synapses.weight.npy": huge})
    refused(
        path,
        spikec.load_network,
        "array 'synapses.weight'",
        r"expected shape \(3,\), got shape \(1000000000000,\)$",
    )
    # the names text has no count in the header: its declared size must match what is stored
    raw = net_members["names.text.npy"]
    text = member(net_members, "names.text")
    huge = re.sub(rb"\(%d,\)" % len(text), b"(1000000000000,)", raw, count=1)
    path = write(tmp_path, {**net_members, "names.text.npy": huge})
    refused(
        path,
        spikec.load_network,
        "array 'names.text'",
        r"holds \d+ bytes of data, its header says 1000000000000$",
    )
    garbage = (
        b"\x93NUMPY\x01\x00\x40\x00{'descr': '<f8', 'fortran_order': False, 'shape': (" + b" " * 40 + b"\n"
    )
    path = write(tmp_path, {**net_members, "synapses.weight.npy": garbage})
    refused(path, spikec.load_network, "array 'synapses.weight'", r"not a .npy array")


def test_synapse_counts_past_the_limit_are_refused_before_reading(
    tmp_path: Path, net_members: dict[str, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, net_members)
    monkeypatch.setenv("SPIKEC_MAX_SYNAPSES", "2")
    refused(
        path,
        spikec.load_network,
        "header.synapses",
        r"3 synapses is more than the limit of 2 \(set SPIKEC_MAX_SYNAPSES to raise it\)$",
    )
    monkeypatch.setenv("SPIKEC_MAX_NEURONS", "3")
    refused(path, spikec.load_network, "header.neurons", r"4 neurons is more than the limit of 3")


def _patch_sizes(data: bytes, name: str, size: int) -> bytes:
    """The zip ``data`` with member ``name``'s uncompressed size in the central directory
    replaced by ``size`` (a zip bomb's claim)."""
    at = data.index(b"PK\x01\x02")
    out = bytearray(data)
    while True:
        at = out.index(b"PK\x01\x02", at)
        n_name = struct.unpack_from("<H", out, at + 28)[0]
        if out[at + 46 : at + 46 + n_name].decode() == name:
            struct.pack_into("<I", out, at + 24, size)
            return bytes(out)
        at += 46


def test_zip_bombs_are_refused_from_the_declared_sizes(
    tmp_path: Path, net_members: dict[str, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    data = write(tmp_path, net_members, zipfile.ZIP_DEFLATED).read_bytes()
    bomb = tmp_path / "bomb.npz"
    bomb.write_bytes(_patch_sizes(data, "names.text.npy", 0xFFFF_FFF0))
    refused(
        bomb, spikec.load_network, "array 'names.text'", r"its stored size is impossible for its compressed"
    )
    data = write(tmp_path, net_members).read_bytes()
    bomb.write_bytes(_patch_sizes(data, "names.text.npy", 0xFFFF_FFF0))
    refused(
        bomb, spikec.load_network, "array 'names.text'", r"a stored member of 4,294,967,280 bytes takes \d+"
    )
    monkeypatch.setattr(binary, "MAX_TEXT_BYTES", 10)
    refused(
        write(tmp_path, net_members),
        spikec.load_network,
        "array 'header'",
        r"[\d,]+ bytes is more than the 10 it may hold$",
    )


def test_pickles_are_never_loaded(tmp_path: Path, net_members: dict[str, bytes]) -> None:
    marker = tmp_path / "pwned"
    evil = np.array([_Evil(str(marker))], dtype=object)
    path = write(tmp_path, edited(net_members, "neurons.loc", evil))
    refused(
        path, spikec.load_network, "array 'neurons.loc'", r"holds Python objects \(pickles are refused\)$"
    )
    path = write(tmp_path, edited(net_members, "header", evil))
    refused(path, spikec.load_network, "array 'header'", r"holds Python objects")
    assert not marker.exists()


class _Evil:
    """Unpickling this writes a file."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self) -> tuple[Any, ...]:
        return (Path(self.path).write_text, ("x",))


def test_truncated_and_empty_archives_are_refused(tmp_path: Path, net_members: dict[str, bytes]) -> None:
    data = write(tmp_path, net_members).read_bytes()
    path = tmp_path / "cut.npz"
    for cut in (0, 10, len(data) // 2, len(data) - 10):
        path.write_bytes(data[:cut])
        with pytest.raises(NetworkFileError, match=rf"^error: {re.escape(str(path))}: "):
            spikec.load_network(path)
    path = write(tmp_path, {k: v[:20] if k == "synapses.pre.npy" else v for k, v in net_members.items()})
    refused(path, spikec.load_network, "array 'synapses.pre'", r"not a .npy array")


@pytest.fixture
def netlist_members(tmp_path: Path) -> dict[str, bytes]:
    net = spikec.Network("tn")
    net.add_inputs("x", 2)
    net.neuron("y", threshold=2.0)
    net.synapse("x[0]", "y", 1.0, 1)
    net.synapse("x[1]", "y", 1.0, 1)
    return members_of(net, tmp_path, netlist=True)


def netlist_header(members: dict[str, bytes], **fields: Any) -> dict[str, bytes]:
    doc = header(members)
    doc["netlist"].update(fields)
    return edited(members, "header", np.frombuffer(json.dumps(doc).encode(), dtype=np.uint8))


@pytest.mark.parametrize(
    ("edit", "place", "message"),
    [
        (lambda m: netlist_header(m, target=5), "header.netlist.target", r"expected an object, got 5$"),
        (lambda m: netlist_header(m, target=[1]), "header.netlist.target", r"expected an object, got \[1\]$"),
        (
            lambda m: netlist_header(m, cores=2**70),
            "header.netlist.cores",
            r"expected an integer in \[1, 3\] \(at most one core per neuron\), got a 71-bit integer$",
        ),
        (lambda m: netlist_header(m, cores=True), "header.netlist.cores", r"expected an integer in \[1, 3\]"),
        (
            lambda m: netlist_header(m, version=True),
            "header.netlist.version",
            r"this spikec reads version 2, got True$",
        ),
        (
            lambda m: edited(m, "netlist.core", member(m, "netlist.core").astype(float)),
            "array 'netlist.core'",
            r"expected dtype <i4, got <f8$",
        ),
        (
            lambda m: edited(m, "netlist.chip.leak", np.array([None] * 3, dtype=object)),
            "array 'netlist.chip.leak'",
            r"holds Python objects",
        ),
        (
            lambda m: {k: v for k, v in m.items() if k != "netlist.chip.floor.npy"},
            "array 'netlist.chip.floor'",
            r"missing$",
        ),
        (
            lambda m: entry(m, "netlist.core", 0, 5),
            "array 'netlist.core'",
            r"neuron 'x\[0\]' is on core 5, outside 0..0$",
        ),
    ],
)
def test_bad_npz_netlists_name_the_array(
    tmp_path: Path, netlist_members: dict[str, bytes], edit: Any, place: str, message: str
) -> None:
    assert load_netlist(write(tmp_path, netlist_members))[1].num_cores == 1
    refused(write(tmp_path, edit(netlist_members)), load_netlist, place, message)


def test_npz_files_that_are_not_regular_are_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.npz"
    os.mkfifo(fifo)
    with pytest.raises(NetworkFileError, match=rf"^error: {re.escape(str(fifo))}: not a regular file"):
        spikec.load_network(fifo)  # would wait for a writer if it were opened for reading
    assert not binary.is_network_npz(fifo)
    zero = tmp_path / "zero.npz"
    zero.symlink_to("/dev/zero")
    with pytest.raises(NetworkFileError, match=rf"^error: {re.escape(str(zero))}: not a regular file"):
        load_netlist(zero)
    (tmp_path / "dir.npz").mkdir()
    with pytest.raises(NetworkFileError, match=r"dir.npz: "):
        spikec.open_network(tmp_path / "dir.npz")


def test_npz_locations_hold_lines_and_columns_of_integers_at_least_0(
    tmp_path: Path, net_members: dict[str, bytes]
) -> None:
    for bad in ([["f.spk", -1, 1, None]], [["f.spk", 1, 2**64, None]], [["f.spk", True, 1, None]]):
        path = write(tmp_path, with_header(net_members, locations=bad))
        refused(
            path, spikec.load_network, "header.locations[0]", r"expected \[file, line, column, text or null\]"
        )


@pytest.mark.parametrize(
    ("edit", "place"),
    [
        (lambda d: d.update(name="\ud800"), "name"),
        (lambda d: d["neurons"][2].update(tags=["ok", "x\udc80"]), "neurons[2].tags[1]"),
        (
            lambda d: d["neurons"][2].update(loc={"file": "\udfff.spk", "line": 1, "column": 1}),
            "neurons[2].loc.file",
        ),
        (lambda d: d["probes"][0].update(label="\ud801"), "probes[0].label"),
    ],
)
def test_lone_surrogates_are_refused_where_they_are(tmp_path: Path, edit: Any, place: str) -> None:
    # "\ud800" in JSON reads as a string no output can encode (printing the network would fail)
    path = network_file(tmp_path, edit)
    lone = r"'.*\\ud[89a-f][0-9a-f]{2}.*' holds a lone surrogate, which is not text$"
    refused(path, spikec.open_network, place, lone)
    path = netlist_file(tmp_path, lambda d: d["stimuli"].update({"x\udc00": {"rate": 0.5}}))
    refused(path, load_netlist, "stimuli", r"key 'x\\udc00' holds a lone surrogate, which is not text$")
    # a pair is one character, and fine
    assert spikec.load_network(network_file(tmp_path, lambda d: d["neurons"][2].update(tags=["\U0001f600"])))


def test_lone_surrogates_in_an_npz_header_are_refused(tmp_path: Path, net_members: dict[str, bytes]) -> None:
    path = write(tmp_path, with_header(net_members, name="n\ud800"))
    lone = r"name: 'n\\ud800' holds a lone surrogate, which is not text$"
    refused(path, spikec.load_network, "array 'header'", lone)
