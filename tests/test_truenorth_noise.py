"""Stochastic neurons on TrueNorth's stochastic threshold (``truenorth``, ``sanafe-truenorth``).

The chip form is checked against the chip's own equations, enumerated here: for every
subset of a gate's inputs and every value of the random mask, the chip registers in the
netlist fire exactly for the share of draws the compiled neuron's p states (and never below
threshold), and clear the potential whenever they do not fire. SANA-FE's TrueNorth model
draws from std::rand (not seedable), so its runs are checked against the exact binomial.
"""

from __future__ import annotations

import importlib.util
import itertools
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import spikec
from spikec.backends.netlist import build_netlist, netlist_from_dict, render_netlist
from spikec.chip.noise import threshold_levels
from spikec.chip.target import load_target
from spikec.errors import SpikecError
from spikec.passes import compile_for_target


def _chip_rows(out: spikec.Network, ctx: object) -> dict[str, dict]:
    doc = json.loads(render_netlist(build_netlist(out, ctx.placement, ctx.target, ctx.pipeline)))  # type: ignore[attr-defined]
    netlist_from_dict(doc, "tn.json")  # the reader checks every register against the parameters
    return {row["name"]: row for core in doc["cores"] for row in core["neurons"]}


def _tick(chip: dict, v: int, x: int, r: int) -> tuple[bool, int]:
    """One tick of the TrueNorth neuron with a stochastic threshold (SANA-FE's order):
    integrate, leak, fire when V + r >= threshold, else floor when V + r <= floor."""
    v = v + x + chip["leak"]
    if v + r >= chip["threshold"]:
        return True, chip["reset"]
    if chip["floor"] is not None and v + r <= chip["floor"]:
        return False, chip["floor"]
    return False, v


@settings(max_examples=40, deadline=None)
@given(p=st.sampled_from([0.5, 0.25, 0.75, 0.125, 3 / 8, 1 / 3, 0.9]),
       weights=st.lists(st.sampled_from([1, 2, -1, 3]), min_size=1, max_size=6),
       threshold=st.integers(1, 4), bias=st.integers(-1, 1))
def test_the_chip_form_fires_with_the_compiled_probability(p: float, weights: list[int], threshold: int,
                                                            bias: int) -> None:
    net = spikec.Network("g")
    xs = [net.input(f"x{i}") for i in range(len(weights))]
    net.neuron("y", threshold=float(threshold), decay=1.0, bias=float(bias), p=p)
    for x, w in zip(xs, weights, strict=True):
        net.synapse(x, "y", float(w))
    net.probe("y")
    try:
        out, ctx = compile_for_target(net, load_target("truenorth"), passes=None)
    except SpikecError:
        assume(False)
        return
    rows = _chip_rows(out, ctx)
    y = rows["y"]
    assume("mask" in y["chip"])  # a gate split into gate + relay puts the noise on the relay
    chip, q = y["chip"], y["p"]
    mask = chip["mask"]
    w_in = [int(w) for w, post in zip(out.weight, out.post, strict=True) if out.name_of(int(post)) == "y"]
    theta, b = out.threshold[out.index("y")], out.bias[out.index("y")]
    for subset in itertools.product((0, 1), repeat=len(w_in)):
        x = sum(w for w, on in zip(w_in, subset, strict=True) if on)
        fired = [_tick(chip, 0, x, r) for r in range(mask + 1)]
        share = sum(f for f, _ in fired) / (mask + 1)
        over = b + x >= theta
        if over:
            assert share >= q  # q at threshold, more above it (the reported error)
        else:
            assert share == 0.0
        assert all(v == 0 for f, v in fired if not f)  # a step without a spike clears the gate
    a, k = threshold_levels(np.array([q]), 8)
    assert q == a[0] / 2 ** k[0]
    assert abs(q - p) <= 2.0**-9 or p == 0.9  # 8 random bits: the nearest of 256 levels


def test_one_value_over_threshold_realises_exactly_its_p() -> None:
    # the random-walk routing gate's form: one input of weight 1, inhibitions of -1, threshold 1
    net = spikec.Network("r")
    net.input("w")
    net.input("inh")
    net.neuron("r", threshold=1.0, decay=1.0, p=0.25)
    net.synapse("w", "r", 1.0)
    net.synapse("inh", "r", -1.0)
    net.probe("r")
    out, ctx = compile_for_target(net, load_target("truenorth"))
    chip = _chip_rows(out, ctx)["r"]["chip"]
    for x, want in ((1, 0.25), (0, 0.0), (-1, 0.0)):
        share = sum(_tick(chip, 0, x * int(out.weight[0]), r)[0] for r in range(chip["mask"] + 1))
        assert share / (chip["mask"] + 1) == want


def test_a_stochastic_integrator_keeps_its_potential_when_it_loses_the_draw() -> None:
    net = spikec.Network("i")
    net.input("x")
    net.neuron("n", threshold=3.0, decay=0.0, p=0.5)
    net.synapse("x", "n", 1.0)
    net.probe("n")
    out, ctx = compile_for_target(net, load_target("truenorth"))
    chip = _chip_rows(out, ctx)["n"]["chip"]
    assert chip["floor"] is None and chip["mask"] == 1
    # at V = 3 (threshold): half the draws fire; below, none; a lost draw keeps V
    fired = [_tick(chip, 2, 1, r) for r in (0, 1)]
    assert [f for f, _ in fired] == [False, True] and fired[0][1] == 3
    assert not any(_tick(chip, 1, 1, r)[0] for r in (0, 1))


def test_examples_compile_for_truenorth_with_their_noise() -> None:
    out, ctx = compile_for_target(spikec.load("examples/stochastic.spk"), load_target("truenorth"))
    rows = _chip_rows(out, ctx)
    assert rows["relay"]["chip"]["mask"] == 1 and rows["relay"]["p"] == 0.5


@pytest.mark.skipif(importlib.util.find_spec("sanafe") is None, reason="needs the sanafe package")
def test_sanafe_truenorth_runs_the_stochastic_example_with_the_right_probability() -> None:
    from spikec.backends.sanafe import run_sanafe

    steps = 1500
    out, ctx = compile_for_target(spikec.load("examples/stochastic.spk"), load_target("sanafe-truenorth"))
    got = run_sanafe(out, ctx.placement, ctx.target, steps)
    gate = got.spikes["relay~gate"][0]
    relay = got.spikes["relay"][0]
    # the relay fires only the step after its gate, then with probability 1/2 (std::rand & 1)
    assert not (relay[1:] & ~gate[:-1]).any() and not relay[0]
    n = int(gate[:-1].sum())
    k = int((relay[1:] & gate[:-1]).sum())
    assert n > 500
    assert abs(k - n / 2) < 4 * np.sqrt(n / 4), (k, n)
    # the deterministic part is spike for spike spikec's (the same stimuli, spikec's streams)
    ref = spikec.simulate(out, steps, record=["relay~gate", "integrator"])
    assert np.array_equal(ref.spikes["relay~gate"][0], gate)


def test_cli_run_compares_in_distribution_on_an_unseedable_chip(capsys: pytest.CaptureFixture[str],
                                                                 tmp_path: Path) -> None:
    pytest.importorskip("sanafe")
    from spikec.cli import main

    code = main(["run", "examples/stochastic.spk", "--target", "sanafe-truenorth", "--steps", "200",
                 "--compare"])
    text = capsys.readouterr().out
    assert code == 0 and "match spikec's only in distribution" in text and "relay" in text


def test_sanafe_truenorth_writes_the_random_mask() -> None:
    from spikec.backends.sanafe import build_sanafe, render_sanafe
    from spikec.chip.placement import Placement

    net = spikec.Network()
    net.input("x")
    net.neuron("y", threshold=1, decay=0.0, p=0.5)
    net.synapse("x", "y")
    text = render_sanafe(build_sanafe(net, Placement({"x": 0, "y": 0}, 1), load_target("sanafe-truenorth")))
    # decay 0, p = 1/2 on one random bit: threshold 1 + 2 - 1 = 2, mask 1, no floor
    assert "{threshold: 2, reset: 0, bias: 0, random_mask: 1}" in text


def test_a_netlist_with_an_absurd_mask_width_is_refused_naming_it() -> None:
    from spikec.errors import NetworkFileError

    out, ctx = compile_for_target(spikec.load("examples/stochastic.spk"), load_target("truenorth"))
    doc = json.loads(render_netlist(build_netlist(out, ctx.placement, ctx.target, ctx.pipeline)))
    doc["target"]["noise"]["bits"] = 2**63 - 1  # found by tests/test_fuzz_json.py
    with pytest.raises(NetworkFileError, match=r"target.noise.bits: expected an integer from 1 to 31"):
        netlist_from_dict(doc, "tn.json")
