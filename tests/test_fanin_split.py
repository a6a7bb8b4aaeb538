"""fanin-split: gates over a core's fan-in split exactly into unary partial counts.

Checked against the gate's definition (the count of arriving inputs against the
threshold, computed here from the raster), the original network simulated by the
reference interpreter (shifted by the latency the pass reports), and hand-derived
trees and shifts.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import spikec
from spikec.backends.netlist import build_netlist, netlist_from_dict, render_netlist
from spikec.backends.reference import reference_simulate
from spikec.chip.target import load_target
from spikec.errors import CompileError, LimitError
from spikec.passes.fanin import count_cutoff, split_fanins, unary_levels
from spikec.passes.manager import CompileContext, compile_for_target, parse_pipeline, run_pipeline

GENERIC = load_target("generic")


def _gate_300() -> spikec.Network:
    return spikec.loads("input x[300]\nneuron y (threshold = 150, decay = 1)\nx[*] -> y\nprobe y\n",
                        filename="fan.spk")


def test_cutoff_is_where_the_answer_last_changes() -> None:
    # w = 1, threshold 150: fires from 150 on; a start at reset 0 or v0 0 changes nothing.
    assert count_cutoff(1.0, 300, 150.0, 0.0, np.array([0.0])) == 150
    # a bias of 10 lowers the count needed to 140; a reset of -5 raises it to 145 after a spike.
    assert count_cutoff(1.0, 300, 150.0, 10.0, np.array([0.0, -5.0])) == 145
    # negative weight: fires while at most 3 inputs arrive (bias 4 >= threshold 1 needs c <= 3).
    assert count_cutoff(-1.0, 10, 1.0, 4.0, np.array([0.0])) == 4
    # never fires / always fires: nothing depends on the count.
    assert count_cutoff(1.0, 10, 100.0, 0.0, np.array([0.0])) == 0
    assert count_cutoff(1.0, 10, -1.0, 0.0, np.array([0.0])) == 0


def test_unary_levels_by_hand() -> None:
    # 300 inputs, cut-off 150, fan-in 256: codes of 256 -> 150 units and 44 -> 44 units: 194 <= 256.
    assert unary_levels(300, 150, 256) == [[(256, 150), (44, 44)]]
    # fits already: no tree
    assert unary_levels(256, 150, 256) == []
    # 20 inputs, cut-off 2, fan-in 4: five codes of 2 units (10 > 4), then pairs of codes -> 2 units
    # each (6 > 4), then once more (4 units).
    assert unary_levels(20, 2, 4) == [[(4, 2)] * 5, [(2, 2), (2, 2), (1, 2)], [(2, 2), (1, 2)]]
    # cut-off over half the fan-in: codes cannot merge.
    assert unary_levels(600, 300, 256) is None


def test_the_issue_gate_compiles_for_truenorth_and_counts_exactly() -> None:
    net = _gate_300()
    out, ctx = compile_for_target(net, load_target("truenorth"))
    assert out.in_degree().max() <= 256
    warnings = [d for d in ctx.diagnostics if d.pass_name == "fanin-split" and d.severity == "warning"]
    assert len(warnings) == 1 and "1 step(s) later" in warnings[0].message
    rng = np.random.default_rng(7)
    steps = 60
    counts = rng.integers(140, 161, size=steps - 3)  # around the threshold, both sides
    counts[:4] = [149, 150, 0, 300]
    raster = {f"x[{i}]": [] for i in range(300)}
    for t, c in enumerate(counts.tolist()):
        for i in rng.choice(300, size=c, replace=False).tolist():
            raster[f"x[{i}]"].append(t)
    expected = np.zeros(steps, dtype=bool)
    expected[np.arange(len(counts)) + 2] = counts >= 150  # input at t, y at t + 1, one step later: t + 2
    got = spikec.simulate(out, steps, inputs=raster, record=["y"]).spikes["y"][0]
    assert np.array_equal(got, expected)
    # the chip netlist, read back (its registers checked against the neurons), gives the same
    doc = json.loads(render_netlist(build_netlist(out, ctx.placement, ctx.target, ctx.pipeline,
                                                  ctx.diagnostics)))
    chip_net, _ = netlist_from_dict(doc, "fan.json")
    again = spikec.simulate(chip_net, steps, inputs=raster, record=["y"]).spikes["y"][0]
    assert np.array_equal(again, expected)


def test_long_delays_absorb_the_tree_and_nothing_moves() -> None:
    src = "input x[20]\nneuron y (threshold = 3, decay = 1)\nx[*] -> y (delay = 3)\nprobe y\n"
    net = spikec.loads(src)
    ctx = CompileContext(GENERIC)
    out = run_pipeline(net, parse_pipeline("fanin-split{fan_in=6}"), ctx)
    assert out.in_degree().max() <= 6
    assert out.num_neurons == net.num_neurons + 11 + 6  # codes 3+3+3+2, then 3+3
    assert not [d for d in ctx.diagnostics if d.severity == "warning"]
    rng = np.random.default_rng(3)
    raster = {f"x[{i}]": np.flatnonzero(rng.random(40) < 0.15).tolist() for i in range(20)}
    a = reference_simulate(net, 40, inputs=raster).spikes["y"]
    b = spikec.simulate(out, 40, inputs=raster, record=["y"]).spikes["y"]
    assert a.any() and np.array_equal(a, b)


def test_the_cone_moves_together_and_entering_synapses_wait() -> None:
    # y (split, 3 levels with fan-in 4: see test_unary_levels_by_hand) drives z, which also hears
    # x[0] directly: z must see y and x[0] in the same relation as before, so x[0] -> z is
    # lengthened by y's shift.
    src = ("input x[20]\nneuron y (threshold = 2, decay = 1)\nneuron z (threshold = 2, decay = 1)\n"
           "x[*] -> y\ny -> z\nx[0] -> z (delay = 2)\nprobe y\nprobe z\n")
    net = spikec.loads(src)
    work = net.copy()
    result = split_fanins(work, 4)
    assert result.levels == {"y": 3}
    # y needs 1 + 3 - 1 = 3 steps more; z follows it, and x[0] -> z waits 3 steps longer.
    assert result.shift[net.index("y")] == 3 and result.shift[net.index("z")] == 3
    assert result.shift[net.index("x[0]")] == 0
    rng = np.random.default_rng(5)
    steps = 50
    raster = {f"x[{i}]": np.flatnonzero(rng.random(steps) < 0.12).tolist() for i in range(20)}
    a = reference_simulate(net, steps, inputs=raster).spikes
    b = spikec.simulate(work, steps, inputs=raster, record=["y", "z"]).spikes
    for name in ("y", "z"):
        assert a[name].any()
        assert np.array_equal(a[name][:, : steps - 3], b[name][:, 3:]), name
        assert not b[name][:, :3].any()


def test_exact_refuses_a_latency_change() -> None:
    with pytest.raises(CompileError, match=r"neuron 'y' spikes 1 step\(s\) later .* --exact refuses"):
        compile_for_target(_gate_300(), load_target("truenorth"), exact=True)


@pytest.mark.parametrize(("src", "why"), [
    ("neuron y (threshold = 2, decay = 0.5)\nx[*] -> y\n", r"decay 0\.5: only memoryless gates"),
    ("neuron y (threshold = 2, decay = 1)\nx[0..10] -> y\nx[10..20] -> y (weight = 2)\n",
     r"its weights differ"),
    ("neuron y (threshold = 15, decay = 1)\nx[*] -> y\n",
     r"its firing depends on counts up to 15, more than half the fan-in"),
])
def test_gates_that_cannot_split_are_refused_naming_them(src: str, why: str) -> None:
    net = spikec.loads("input x[20]\n" + src)
    before = (net.num_neurons, net.num_synapses)
    with pytest.raises(LimitError, match=r"2:8: error: neuron 'y': 20 incoming synapses exceed the fan-in"
                       r" of 8 per neuron, and it cannot be split exactly: " + why):
        split_fanins(net, 8)
    assert (net.num_neurons, net.num_synapses) == before


def test_a_neuron_that_fires_alone_cannot_be_delayed() -> None:
    src = "input x[10]\nneuron y (threshold = 1, decay = 1, bias = 1)\nx[*] -> y\n"
    with pytest.raises(CompileError, match=r"neuron 'y' would spike 1 step\(s\) later .* fires or changes"
                       r" without input \(bias 1, v0 0, threshold 1\)"):
        split_fanins(spikec.loads(src), 4)


def test_a_cycle_through_a_split_gate_without_slack_is_refused() -> None:
    src = ("input x[10]\nneuron y (threshold = 1, decay = 1)\nneuron r (threshold = 1, decay = 1)\n"
           "x[*] -> y\ny -> r\nr -> y\n")
    with pytest.raises(CompileError, match=r"is on a cycle through a split gate"):
        split_fanins(spikec.loads(src), 4)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(5, 30), fan_in=st.integers(3, 8), threshold=st.integers(-1, 4),
       weight=st.sampled_from([1.0, 0.5, -1.0, 2.0]), bias=st.sampled_from([0.0, 0.5, 1.0, 2.0]),
       reset=st.sampled_from([0.0, -1.0, 0.5]), delays=st.lists(st.integers(1, 4), min_size=30, max_size=30),
       seed=st.integers(0, 2**16))
def test_random_gates_keep_their_spikes_up_to_the_reported_shift(
        n: int, fan_in: int, threshold: int, weight: float, bias: float, reset: float, delays: list[int],
        seed: int) -> None:
    net = spikec.Network()
    x = net.add_inputs("x", n)
    net.neuron("y", threshold=float(threshold), decay=1.0, bias=bias, reset=reset)
    net.neuron("z", threshold=1.0, decay=1.0)
    net.add_synapses(x, np.full(n, net.index("y")), weight, np.array(delays[:n]))
    net.add_synapses([net.index("y"), int(x[0])], [net.index("z")] * 2, 1.0, [1, 2])
    work = net.copy()
    try:
        result = split_fanins(work, fan_in)
    except LimitError:
        return  # a cut-off over half the fan-in: refused, checked by hand above
    except CompileError as exc:  # y fires without input and would have to be delayed
        assert bias >= threshold and "fires or changes without input" in str(exc)
        return
    assert work.in_degree().max() <= fan_in
    steps = 40
    rng = np.random.default_rng(seed)
    raster = {f"x[{i}]": np.flatnonzero(rng.random(steps) < 0.4).tolist() for i in range(n)}
    a = reference_simulate(net, steps, inputs=raster).spikes
    b = reference_simulate(work, steps, inputs=raster).spikes
    for name in ("y", "z"):
        s = int(result.shift[net.index(name)])
        assert np.array_equal(a[name][:, : steps - s], b[name][:, s:]), name
