"""Probe decoders against hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest

import spikec
from spikec import SpikecError
from spikec.ir.decoders import decode, decode_probes, probe_spike_names


def raster() -> np.ndarray:
    # trial 0: n0 fires at 1 and 3, n2 at 1; trial 1: n1 at 4
    s = np.zeros((2, 5, 3), dtype=bool)
    s[0, [1, 3], 0] = True
    s[0, 1, 2] = True
    s[1, 4, 1] = True
    return s


def test_count_first_rate_binary() -> None:
    s = raster()
    assert decode("count", s) == [[2, 0, 1], [0, 1, 0]]
    assert decode("first", s) == [[1, None, 1], [None, 4, None]]
    assert decode("rate", s) == [[0.4, 0.0, 0.2], [0.0, 0.2, 0.0]]
    # bit i is neuron i: step 1 of trial 0 has n0 and n2 -> 1 + 4
    assert decode("binary", s) == [[[1, 5], [3, 1]], [[4, 2]]]


def test_single_neuron_gives_scalars() -> None:
    s = raster()[:, :, :1]
    assert decode("count", s) == [2, 0]
    assert decode("first", s) == [1, None]


def test_binary_wider_than_64_bits_is_exact() -> None:
    s = np.zeros((1, 2, 70), dtype=bool)
    s[0, 0, 69] = s[0, 0, 0] = True
    assert decode("binary", s) == [[[0, 2**69 + 1]]]


def test_unknown_decoder() -> None:
    with pytest.raises(SpikecError, match=r"unknown decoder 'rates' \(did you mean 'rate'\?\)"):
        decode("rates", raster())


def test_probes_of_a_network() -> None:
    net = spikec.Network()
    for i in range(4):
        net.input(f"x[{i}]")
    net.probe("x[0]", "x[1]", "x[2]", "x[3]", label="binary(x)", decoder="binary")
    net.probe("x[0]", "x[1]", label="x")
    # bits(13) = 1101 little-endian: x[0], x[2], x[3]
    r = spikec.simulate(net, 2, inputs={"x[0]": [0], "x[2]": [0], "x[3]": [0]}, record="all")
    assert decode_probes(net, r.spikes) == {"binary(x)": [[[0, 13]]]}
    assert probe_spike_names(net.probes[1]) == [("x[0]", "x[0]"), ("x[1]", "x[1]")]


def test_one_element_array_probe_reports_indexed_names() -> None:
    net = spikec.Network()
    net.input("x[0]")
    raw = net.probe("x[0]", label="x", array=True)
    counted = net.probe("x[0]", label="count(x)", decoder="count", array=True)
    single = net.probe("x[0]", label="x0")
    assert probe_spike_names(raw) == [("x[0]", "x[0]")]
    assert probe_spike_names(single) == [("x0", "x[0]")]
    r = spikec.simulate(net, 3, inputs={"x[0]": [1]})
    assert decode_probes(net, r.spikes)["count(x)"] == [[1]]
    assert counted.array and not single.array
