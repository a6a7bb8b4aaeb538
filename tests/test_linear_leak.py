"""Linear-leak chip neurons and the floor-gates pass (``spikec.chip.linear_leak``).

The netlists for the TrueNorth-like target are run by a small interpreter of
the chip's update written here (integrate, leak, fire and reset to a value,
saturating floor), independent of spikec's simulator, and compared with
spikec's simulation of the *source* network: exhaustively on small gates
(every ordered pair of input patterns, over thresholds, biases, resets and
initial potentials), on every example the target takes, and on random
integer networks (hypothesis)."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import spikec
from spikec.backends.netlist import build_netlist, load_netlist, render_netlist, write_netlist
from spikec.chip.linear_leak import ChipNeuron, chip_neuron, gate_shift, sub_threshold_high
from spikec.chip.target import Target, load_target
from spikec.errors import SpikecError
from spikec.passes import CompileContext, CompileError, compile_for_target, parse_pipeline, run_pipeline
from strategies_chips import random_inputs

ROOT = Path(__file__).parent.parent
TRUENORTH = load_target("truenorth")


def truenorth_run(doc: dict[str, Any], steps: int, inputs: dict[str, list[int]]) -> dict[str, list[int]]:
    """Spike steps of every neuron of netlist ``doc`` run on the chip's own update, from its
    ``chip`` registers and synapse tables only. Asserts that every value is an integer and
    that the potential stays in the target's register."""
    bits = doc["target"]["potential_bits"]
    low, high = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    rows = {row["id"]: row for core in doc["cores"] for row in core["neurons"]}
    chips = {i: row["chip"] for i, row in rows.items() if not row.get("input")}
    synapses = []
    for core in doc["cores"]:
        cols = core["synapses"]
        for pre, post, w, d in zip(cols["pre"], cols["post"], cols["weight"], cols["delay"], strict=True):
            assert float(w).is_integer()
            synapses.append((pre, post, int(w), d))
    fired: dict[int, set[int]] = {i: set() for i in rows}
    for i, row in rows.items():
        if row.get("input"):
            fired[i] = set(inputs.get(row["name"], []))
    v = {i: chip["v0"] for i, chip in chips.items()}
    for t in range(steps):
        drive = dict.fromkeys(chips, 0)
        for pre, post, w, d in synapses:
            if t - d in fired[pre]:
                drive[post] += w
        now = []
        for i, chip in chips.items():
            u = v[i] + drive[i]  # integrate
            u += chip["leak"]  # linear leak
            assert low <= u <= high, (rows[i]["name"], t, u)
            if u >= chip["threshold"]:  # fire, reset to a value
                now.append(i)
                u = chip["reset"]
            elif chip["floor"] is not None and u < chip["floor"]:  # saturating floor
                u = chip["floor"]
            v[i] = u
        for i in now:
            fired[i].add(t)
    return {rows[i]["name"]: sorted(s) for i, s in fired.items()}


def netlist_doc(net: spikec.Network) -> tuple[dict[str, Any], list[str]]:
    """Compile ``net`` for TrueNorth; the netlist as written, and the observable names."""
    out, ctx = compile_for_target(net, TRUENORTH)
    text = render_netlist(build_netlist(out, ctx.placement, ctx.target, ctx.pipeline, ctx.diagnostics))
    return json.loads(text), sorted(ctx.observable(net))


def spikec_spikes(net: spikec.Network, steps: int, inputs: dict[str, list[int]], names: list[str]
                  ) -> dict[str, list[int]]:
    result = spikec.simulate(net, steps, inputs=inputs, record=names)
    return {name: [int(t) for t in result.spikes[name][0].nonzero()[0]] for name in names}


def assert_chip_matches_source(net: spikec.Network, steps: int, inputs: dict[str, list[int]]) -> dict:
    doc, names = netlist_doc(net)
    chip = truenorth_run(doc, steps, inputs)
    expected = spikec_spikes(net, steps, inputs, names)
    assert {n: chip[n] for n in names} == expected
    return doc


def gate(weights: tuple[int, ...], threshold: int, bias: int = 0, reset: int = 0, v0: int = 0
         ) -> spikec.Network:
    net = spikec.Network("gate")
    for i in range(len(weights)):
        net.input(f"x{i}")
    net.neuron("g", threshold=threshold, decay=1, bias=bias, reset=reset, v0=v0)
    for i, w in enumerate(weights):
        net.synapse(f"x{i}", "g", w)
    net.probe("g")
    return net


def every_pattern_pair(k: int) -> tuple[int, dict[str, list[int]]]:
    """Input rasters presenting every ordered pair of the 2**k input patterns, one per step."""
    patterns = list(itertools.product((0, 1), repeat=k))
    sequence = [p for a, b in itertools.product(patterns, repeat=2) for p in (a, b)]
    inputs = {f"x{i}": [t for t, p in enumerate(sequence) if p[i]] for i in range(k)}
    return len(sequence) + 2, inputs


@pytest.mark.parametrize("weights", [(1, 1, 1), (2, -1, 1), (1, 1, -2), (3, -2, -2), (-1, -3), (4, 2, -3)])
def test_every_small_gate_runs_on_the_chip_exactly(weights: tuple[int, ...]) -> None:
    steps, inputs = every_pattern_pair(len(weights))
    reach = sum(abs(w) for w in weights)
    for threshold in range(-reach - 1, reach + 3):
        for bias, reset, v0 in itertools.product((-1, 0, 2), (0, -1, 3), (0, 2)):
            net = gate(weights, threshold, bias, reset, v0)
            doc = assert_chip_matches_source(net, steps, inputs)
            (row,) = [r for c in doc["cores"] for r in c["neurons"] if r["name"] == "g"]
            assert row["chip"]["floor"] in (0, None)
            assert -256 <= row["chip"]["leak"] <= 255


def test_a_gate_far_above_its_bias_uses_the_input_sums() -> None:
    # Fires only when both inputs do; b + 1 - θ = -399 does not fit the 9-bit leak, but no
    # input sum lies in (255, 400), so a shift of 256 leaves a leak of -256 and threshold 144.
    net = gate((255, -254, 254), 400)
    doc = assert_chip_matches_source(net, *every_pattern_pair(3))
    (row,) = [r for c in doc["cores"] for r in c["neurons"] if r["name"] == "g"]
    assert row["chip"] == {"threshold": 144, "leak": -256, "floor": 0, "reset": 0, "v0": 0}


def test_examples_run_on_the_chip_exactly(tmp_path: Path) -> None:
    taken = set()
    for path in sorted((ROOT / "examples").glob("*.spk")):
        net = spikec.open_network(path)
        try:
            doc, names = netlist_doc(net)
        except SpikecError as exc:  # refused: must say why, naming the object
            assert "neuron '" in exc.message or "core " in exc.message
            continue
        if (net.p < 1.0).any():  # stochastic: in distribution only (tests/test_truenorth_noise.py)
            continue
        taken.add(path.stem)
        out, ctx = compile_for_target(net, TRUENORTH)
        write_netlist(tmp_path / "n.json", build_netlist(out, ctx.placement, ctx.target, ctx.pipeline))
        back, _ = load_netlist(tmp_path / "n.json")
        for seed in range(3):
            inputs = random_inputs(net, 40, seed)
            expected = spikec_spikes(net, 40, inputs, names)
            chip = truenorth_run(doc, 40, inputs)
            assert {n: chip[n] for n in names} == expected, (path.name, seed)
            assert spikec_spikes(back, 40, inputs, names) == expected, (path.name, seed)
    assert {"majority", "half_adder", "ripple_adder", "kofn", "boolean_gates", "coincidence"} <= taken


@st.composite
def integer_gate_networks(draw: st.DrawFn) -> spikec.Network:
    """Small deterministic integer networks of decay-0 neurons and decay-1 gates, with any
    reset, bias and v0 (the gates' resets too)."""
    net = spikec.Network("int")
    inputs = [net.input(f"in[{i}]") for i in range(draw(st.integers(1, 3)))]
    names = []
    for i in range(draw(st.integers(1, 6))):
        names.append(net.neuron(
            f"n{i}", threshold=draw(st.integers(-1, 5)), decay=draw(st.sampled_from([0.0, 1.0, 1.0])),
            reset=draw(st.integers(-2, 2)), bias=draw(st.integers(-2, 2)), v0=draw(st.integers(-2, 2))))
    for _ in range(draw(st.integers(1, 3 * len(names) + 3))):
        net.synapse(draw(st.sampled_from(inputs + names)), draw(st.sampled_from(names)),
                    weight=draw(st.integers(-4, 4)), delay=draw(st.integers(1, 4)))
    return net


@settings(max_examples=60, deadline=None)
@given(net=integer_gate_networks(), seed=st.integers(0, 2**16))
def test_random_integer_networks_run_on_the_chip_exactly(net: spikec.Network, seed: int) -> None:
    try:
        doc, names = netlist_doc(net)
    except SpikecError:
        assume(False)
        return
    inputs = random_inputs(net, 30, seed, rate=0.4)
    chip = truenorth_run(doc, 30, inputs)
    assert {n: chip[n] for n in names} == spikec_spikes(net, 30, inputs, names)


def test_chip_forms_of_integrators_and_gates() -> None:
    net = spikec.Network()
    net.input("x")
    net.neuron("count", threshold=3, bias=1, reset=-1, v0=2)
    net.neuron("and", threshold=2, decay=1)
    net.neuron("leaky", threshold=2, decay=0.5)
    net.synapse("x", "count")
    net.synapse("x", "and")
    assert chip_neuron(net, "count") == ChipNeuron(threshold=3, leak=1, reset=-1, v0=2, floor=None)
    with pytest.raises(
        CompileError,
        match=r"^error: neuron 'and': a decay-1 gate on the floor at 0 must not keep a potential above 0"
        r" without firing, but it can reach 1 \(run 'floor-gates' to shift its threshold and bias\)$",
    ):
        chip_neuron(net, "and")
    assert sub_threshold_high(net, "and") == 1 and gate_shift(net, "and", TRUENORTH) == 1
    net.update("and", threshold=1, bias=-1)
    assert chip_neuron(net, "and") == ChipNeuron(threshold=1, leak=-1, reset=0, v0=0, floor=0)
    with pytest.raises(
        CompileError, match=r"^error: neuron 'leaky': decay 0.5 has no linear-leak form; only decay 0 and 1"
    ):
        chip_neuron(net, "leaky")
    expected = {"threshold": 1, "leak": -1, "floor": 0, "reset": 0, "v0": 0}
    assert ChipNeuron(1, -1, 0, 0, 0).to_dict() == expected


def test_floor_gates_refuses_what_it_cannot_map_naming_the_neuron() -> None:
    with pytest.raises(
        CompileError,
        match=r"^error: neuron 'g': target 'truenorth' cannot map this decay-1 gate exactly: the floor at 0"
        r" needs a leak of at most -509 \(bias 0 minus 509, the highest potential it reaches without"
        r" firing\), below the 9-bit leak's minimum of -256$",
    ):
        compile_for_target(gate((255, 254, 253), 700), TRUENORTH)
    half = gate((1, 1), 2)
    x0_to_g = np.flatnonzero((half.pre == half.index("x0")) & (half.post == half.index("g")))
    half.set_synapses(x0_to_g, weight=0.5)
    with pytest.raises(
        CompileError,
        match=r"^error: neuron 'g': a chip neuron holds integers, got weight 0.5 from 'x0' \(run 'quantize'"
        r" first\)$",
    ):
        run_pipeline(half, parse_pipeline("floor-gates"), CompileContext(TRUENORTH))
    coin = gate((1, 1), 2)
    coin.update("g", p=0.5)
    with pytest.raises(
        CompileError,
        match=r"^error: neuron 'g': a stochastic decay-1 gate \(p = 0.5\) cannot use the floor: a lost draw",
    ):
        run_pipeline(coin, parse_pipeline("floor-gates"), CompileContext(Target("s", floor=True)))
    # A register too small for the shifted potential leaves no shift at all.
    tiny = Target("tiny", weight_bits=9, threshold_bits=18, potential_bits=4, leak_bits=9, floor=True)
    with pytest.raises(
        CompileError,
        match=r"^error: neuron 'g': target 'tiny' cannot map this decay-1 gate exactly: no shift s >= 30 puts"
        r" its leak 0 - s in \[-256, 255\], its threshold 31 - s in \[-131072, 131071\] and its potential"
        r" range \[-30 - s, 30 - s\] in \[-8, 7\]$",
    ):
        run_pipeline(gate((30, -30), 31), parse_pipeline("floor-gates"), CompileContext(tiny))


def test_floor_gates_is_a_no_op_without_a_floor_and_notes_what_it_did() -> None:
    net = gate((1, 1, 1), 2)
    ctx = CompileContext(load_target("generic"))
    assert run_pipeline(net, parse_pipeline("floor-gates"), ctx) == net and not ctx.diagnostics
    ctx = CompileContext(TRUENORTH)
    out = run_pipeline(net, parse_pipeline("floor-gates"), ctx)
    assert (out["g"].threshold, out["g"].bias, out["g"].decay) == (1.0, -1.0, 1.0)
    assert [str(d) for d in ctx.diagnostics] == [
        "floor-gates: network: 1 decay-1 gate(s) on the floor at 0 (1 with threshold and bias shifted)"]


def test_registers_too_wide_for_int64_are_a_compile_error() -> None:
    """A whole-number parameter past the int64 registers is refused naming the neuron, not
    cast (which numpy does with a warning and a wrong value)."""
    import warnings

    from spikec.chip.linear_leak import chip_neurons
    from spikec.errors import CompileError

    net = spikec.Network("wide")
    net.input("x")
    net.neuron("y", threshold=1e300, decay=0.0)
    net.synapse("x", "y", 1.0, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "invalid value encountered in cast"
        with pytest.raises(CompileError, match=r"neuron 'y': threshold = 1e\+300 does not fit"):
            chip_neurons(net)
