"""The pass pipeline and every pass: registry, options, verification between
passes, timing, IR printing; each pass alone keeps spike trains identical
on random networks (hypothesis)."""

from __future__ import annotations

import io
from dataclasses import dataclass

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import spikec
from spikec.chip.target import Target, load_target
from spikec.errors import SpikecError
from spikec.ir.analysis import silent_neurons
from spikec.passes import (
    CompileContext,
    CompileError,
    LimitError,
    Pass,
    PassTiming,
    compile_for_target,
    default_pipeline,
    parse_pipeline,
    pass_registry,
    run_pipeline,
)
from spikec.passes.legalize import legalize_delays, split_fanout
from spikec.passes.simplify import dead_neurons, fold_relays, pure_relays
from strategies_chips import Run, runs, same_spikes

GENERIC = load_target("generic")


def compiled_matches(run: Run, pipeline: str, target: str = "generic", exact_stochastic: bool = True) -> None:
    """Run ``pipeline`` on ``run.net`` and compare the spikes of every observable neuron."""
    ctx = CompileContext(load_target(target))
    try:
        out = run_pipeline(run.net, parse_pipeline(pipeline), ctx)
    except (LimitError, CompileError):
        assume(False)
        return
    observable = ctx.observable(run.net)
    assert observable <= set(out.graph.nodes)
    names = sorted(observable)
    kw = dict(inputs=run.inputs, trials=run.trials, seed=run.seed, record=names)
    a = spikec.simulate(run.net, run.steps, **kw)
    b = spikec.simulate(out, run.steps, **kw)
    assert same_spikes(a, b, names) == []


@pytest.mark.parametrize(
    "name",
    [
        "never-fires",
        "relay-fold",
        "merge-synapses",
        "delay-legalize{max_delay=2}",
        "fanout-legalize{fan_out=3}",
        "dead-neurons",
    ],
)
@given(run=runs())
def test_each_pass_keeps_deterministic_spikes(name: str, run: Run) -> None:
    compiled_matches(run, name)


@pytest.mark.parametrize(
    "name",
    [
        "never-fires",
        "relay-fold",
        "merge-synapses",
        "delay-legalize{max_delay=1}",
        "fanout-legalize{fan_out=2}",
    ],
)
@given(run=runs(stochastic=True))
def test_passes_that_keep_neuron_order_keep_stochastic_spikes_bit_for_bit(name: str, run: Run) -> None:
    compiled_matches(run, name)


@given(run=runs())
def test_quantize_scales_exactly_when_the_bits_suffice(run: Run) -> None:
    ctx = CompileContext(Target("q9", weight_bits=9, threshold_bits=12))
    out = run_pipeline(run.net, parse_pipeline("quantize"), ctx)
    assert not ctx.diagnostics
    names = [n.name for n in run.net.neurons()]
    a = spikec.simulate(run.net, run.steps, inputs=run.inputs, record=names)
    b = spikec.simulate(out, run.steps, inputs=run.inputs, record=names)
    assert same_spikes(a, b, names) == []
    for s in out.synapses():
        assert s.weight.is_integer() and -256 <= s.weight <= 255


@given(run=runs())
def test_default_generic_pipeline_keeps_spikes(run: Run) -> None:
    compiled_matches(run, ",".join(p.spelled() for p in default_pipeline(GENERIC)))


@given(run=runs())
def test_floor_gates_keeps_spikes(run: Run) -> None:
    compiled_matches(run, "quantize,floor-gates", target="truenorth")


def test_floor_targets_shift_gates_after_quantize() -> None:
    names = [p.name for p in default_pipeline(load_target("truenorth"))]
    assert names[names.index("quantize") + 1:] == ["floor-gates", "place", "split-destinations"]
    assert "floor-gates" not in [p.name for p in default_pipeline(load_target("loihi"))]


def test_quantize_fits_the_bias_into_the_linear_leak() -> None:
    net = spikec.Network()
    net.input("x")
    net.neuron("count", threshold=1001, bias=300)
    net.neuron("gate", threshold=1001, bias=300, decay=1)  # its leak is bias - shift: floor-gates' job
    net.synapse("x", "count")
    net.synapse("x", "gate")
    ctx = CompileContext(load_target("truenorth"))
    out = run_pipeline(net, parse_pipeline("quantize"), ctx)
    assert (out["count"].bias, out["gate"].bias) == (255.0, 300.0)
    assert [str(d) for d in ctx.diagnostics] == [
        "quantize: neuron 'count': spikes could change: weights/threshold/leak need more than 9/18/9 bits"
        " at an exact scale; rounded at scale 0.85"]


def test_reset_to_zero_targets_refuse_other_resets() -> None:
    net = spikec.Network()
    net.input("x")
    net.neuron("y", reset=-1)
    net.synapse("x", "y")
    ctx = CompileContext(Target("z", reset_mode="zero"))
    with pytest.raises(CompileError, match=r"^error: neuron 'y': target 'z' resets potentials to 0 only"
                                           r" \(reset = -1\)$"):
        run_pipeline(net, parse_pipeline("check-features"), ctx)


def test_registry_lists_every_pass_and_unknown_names_fail() -> None:
    assert {
        "never-fires",
        "dead-neurons",
        "relay-fold",
        "merge-synapses",
        "check-features",
        "delay-legalize",
        "fanout-legalize",
        "quantize",
        "place",
        "split-destinations",
        "floor-gates",
    } <= set(pass_registry())
    with pytest.raises(
        CompileError,
        match=r"^error: unknown pass 'relay-flod' \(did you mean 'relay-fold'\?\); valid"
        r" passes: check-features, dead-neurons, ",
    ):
        parse_pipeline("relay-flod")
    with pytest.raises(
        CompileError,
        match=r"^error: pass 'quantize': unknown option 'exakt' \(did you mean 'exact'\?\);"
        r" valid options: exact$",
    ):
        parse_pipeline("quantize{exakt=true}")
    with pytest.raises(CompileError, match=r"^error: pass 'place': option cores: cannot read 'x' as int$"):
        parse_pipeline("place{cores=x}")


def test_options_parse_and_spell_back() -> None:
    passes = parse_pipeline("delay-legalize{max_delay=3}, place{method=kl,cores=2} ,quantize{exact=true}")
    assert [p.spelled() for p in passes] == [
        "delay-legalize{max_delay=3}",
        "place{method=kl,cores=2}",
        "quantize{exact=true}",
    ]


@dataclass
class _Broken(Pass):
    name = "broken-for-test"

    def run(self, net: spikec.Network, ctx: CompileContext) -> spikec.Network:
        net.graph.add_edge("n", "x", weight=1.0, delay=1)
        return net


def _small() -> spikec.Network:
    net = spikec.Network("small")
    net.input("x")
    net.neuron("n")
    net.synapse("x", "n")
    return net


def test_pipeline_verifies_between_passes() -> None:
    with pytest.raises(
        CompileError, match=r"^error: after pass 'broken-for-test': synapse n -> x: 'x' is an input"
    ):
        run_pipeline(_small(), [_Broken()], CompileContext(GENERIC))
    out = run_pipeline(_small(), [_Broken()], CompileContext(GENERIC), verify_each=False)
    assert out.num_synapses == 2


def test_pipeline_times_and_prints_and_leaves_the_input_alone() -> None:
    net = _small()
    timings: list[PassTiming] = []
    text = io.StringIO()
    out, ctx = compile_for_target(
        net, GENERIC, parse_pipeline("merge-synapses"), print_ir=text, on_timing=timings.append
    )
    assert [t.name for t in timings] == ["merge-synapses", "place"]
    assert all(t.seconds >= 0 and t.neurons == 2 for t in timings)
    assert text.getvalue().startswith("// ----- IR after merge-synapses -----\nnetwork small: 2 neurons")
    assert "core 0: x, n\n" in text.getvalue()
    assert out == net and out is not net and ctx.placement is not None


def test_never_fires_proves_silence_through_a_chain() -> None:
    net = spikec.Network()
    net.input("x")
    net.neuron("a", threshold=3, decay=1)  # at most 2 per step: never fires
    net.neuron("b", threshold=1, decay=0)  # fed only by a
    net.neuron("c", threshold=1, decay=0.5, bias=0.25)  # leaks to 0.25 * 0.5 / 0.5 = 0.25 + 0.25 < 1
    net.neuron("d", threshold=1, p=0.0)
    net.synapse("x", "a", 2)
    net.synapse("a", "b", 5)
    for pre in ("b", "c", "d"):
        net.synapse(pre, "a", 1)
    assert silent_neurons(net) == {"a", "b", "c", "d"}
    net.neuron("e", threshold=1, decay=0, bias=0.001)  # an integrator with positive drive may fire
    assert "e" not in silent_neurons(net)


def test_dead_neurons_and_relays() -> None:
    net = spikec.Network()
    net.input("x")
    for name in ("r1", "r2", "out", "dead"):
        net.neuron(name, threshold=1, decay=1)
    net.synapse("x", "r1", 1, 2)
    net.synapse("r1", "r2", 1, 3)
    net.synapse("r2", "out", 0.5, 1)
    net.synapse("r1", "dead")
    net.probe("out")
    observable = {"x", "out"}
    assert dead_neurons(net, observable) == ["dead"]
    net.remove_neuron("dead")
    assert pure_relays(net, observable) == ["r1", "r2"]
    fold_relays(net, pure_relays(net, observable))
    assert [(s.pre, s.post, s.weight, s.delay) for s in net.synapses()] == [("x", "out", 0.5, 6)]


def test_delay_chains_are_shared_per_source() -> None:
    net = spikec.Network()
    net.input("x")
    for i in range(3):
        net.neuron(f"y{i}")
        net.synapse("x", f"y{i}", 1, 3 + 4 * i)
    assert legalize_delays(net, 4) == 2
    assert sorted((s.pre, s.post, s.delay) for s in net.synapses()) == [
        ("x", "x~delay[1]", 4),
        ("x", "y0", 3),
        ("x~delay[1]", "x~delay[2]", 4),
        ("x~delay[1]", "y1", 3),
        ("x~delay[2]", "y2", 3),
    ]


def test_fanout_refuses_with_the_reason() -> None:
    net = spikec.Network()
    net.input("x")
    for i in range(4):
        net.neuron(f"y{i}")
        net.synapse("x", f"y{i}")
    with pytest.raises(
        LimitError,
        match=r"^error: neuron 'x': 4 outgoing synapses with delay 1 and 0 more exceed the"
        r" fan-out of 3; a splitter neuron costs one step of delay",
    ):
        split_fanout(net, "x", 3)


def test_fan_in_and_features_are_refused_naming_the_neuron() -> None:
    net = spikec.Network()
    for i in range(5):
        net.input(f"x{i}")
    net.neuron("sum", threshold=2, decay=0.5)
    for i in range(5):
        net.synapse(f"x{i}", "sum")
    with pytest.raises(
        LimitError, match=r"^error: neuron 'sum': 5 incoming synapses exceed the fan-in of 4 per neuron"
    ):
        run_pipeline(net, parse_pipeline("fanout-legalize{fan_in=4}"), CompileContext(GENERIC))
    with pytest.raises(
        SpikecError,
        match=r"^error: neuron 'sum': target 'truenorth' has no multiplicative leak"
        r" \(decay = 0.5\); only decay = 0 and decay = 1 \(a gate, on the potential floor\) map exactly$",
    ):
        compile_for_target(net, load_target("truenorth"))
    with pytest.raises(
        SpikecError,
        match=r"^error: neuron 'sum': target 'sanafe-truenorth' has no multiplicative leak"
        r" \(decay = 0.5\); only decay = 0 maps exactly$",
    ):
        compile_for_target(net, load_target("sanafe-truenorth"))


def test_check_features_rewrites_exactly_what_it_can() -> None:
    net = spikec.Network()
    net.input("x")
    net.neuron("or", threshold=1, decay=1)  # every input fires it: its leak never acts
    net.neuron("never", threshold=5, decay=1, p=0.5)
    net.synapse("x", "or")
    net.synapse("x", "never")
    ctx = CompileContext(load_target("truenorth"))
    out = run_pipeline(net, parse_pipeline("check-features"), ctx)
    assert out["or"].decay == 0.0 and out["never"].p == 1.0
    assert [d.subject for d in ctx.diagnostics] == ["neuron 'never'", "neuron 'or'"]


def test_quantize_scales_exactly_and_reports_rounding() -> None:
    net = spikec.Network()
    net.input("x")
    net.neuron("a", threshold=0.75, reset=-0.25)
    net.neuron("b", threshold=1000, decay=0.1)
    net.synapse("x", "a", 0.5)
    net.synapse("x", "b", 1.0)
    net.synapse("a", "b", 1 / 3)
    ctx = CompileContext(load_target("loihi"))
    out = run_pipeline(net, parse_pipeline("quantize"), ctx)
    assert out["a"].threshold == 3.0 and out["a"].reset == -1.0
    assert [s.weight for s in out.synapses() if s.post == "a"] == [2.0]
    assert all(d.subject == "neuron 'b'" for d in ctx.diagnostics) and ctx.diagnostics
    with pytest.raises(CompileError, match=r"^error: neuron 'b': spikes could change on target 'loihi': "):
        run_pipeline(net, parse_pipeline("quantize{exact=true}"), CompileContext(load_target("loihi")))


@given(st.data())
def test_dead_neurons_without_probes_removes_nothing(data: st.DataObject) -> None:
    run = data.draw(runs(probes=False))
    out = run_pipeline(run.net, parse_pipeline("dead-neurons,relay-fold"), CompileContext(GENERIC))
    assert set(out.graph.nodes) == set(run.net.graph.nodes)
