"""The canonical text printer: golden output, independent of build order."""

from __future__ import annotations

import os
from pathlib import Path

import spikec
from spikec.ir.network import natural_key
from spikec.ir.printer import format_number

GOLDEN = Path(__file__).parent / "golden"


def adder_bits(order: list[int]) -> spikec.Network:
    net = spikec.Network("bits")
    for i in order:
        net.input(f"a[{i}]")
    for i in order:
        net.neuron(f"s[{i}]", threshold=1 + i / 4, decay=1, tags=["sum"] if i == 0 else [])
    for i in order:
        net.synapse(f"a[{i}]", f"s[{i}]", weight=0.5, delay=i + 1)
    net.synapse("s[10]", "s[2]", weight=-2)
    net.probe("s[0]", "s[1]", label="count(s)", decoder="count")
    net.stimulus("a[0]", [2, 0])
    net.stimulus("a[1]", rate=0.5)
    return net


def test_golden_and_order_independent() -> None:
    text = spikec.format_network(adder_bits([0, 1, 2, 10]))
    assert spikec.format_network(adder_bits([10, 2, 0, 1])) == text
    golden = GOLDEN / "printer_bits.txt"
    if os.environ.get("SPIKEC_REGEN_GOLDEN"):
        golden.write_text(text)
    assert text == golden.read_text()


def test_natural_order() -> None:
    names = ["x[10]", "x[2]", "x[1].y", "x", "b", "x[1]", "a10", "a9"]
    assert sorted(names, key=natural_key) == ["a9", "a10", "b", "x", "x[1]", "x[1].y", "x[2]", "x[10]"]


def test_numbers_print_exactly() -> None:
    assert format_number(2.0) == "2"
    assert format_number(-0.5) == "-0.5"
    assert format_number(0.1 + 0.2) == "0.30000000000000004"
    assert format_number(1e20) == "1e+20"
