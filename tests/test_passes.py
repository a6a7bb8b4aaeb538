"""The pass pipeline and every pass: registry, options, verification between
passes, timing, IR printing; each pass alone keeps spike trains identical
on random networks (hypothesis)."""

from __future__ import annotations

import io
import math
import time
from dataclasses import dataclass
from fractions import Fraction

import networkx as nx
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import spikec
from spikec.backends.reference import reference_simulate
from spikec.chip.target import Target, load_target
from spikec.errors import SourceLocation, SpikecError
from spikec.ir.analysis import drive_bounds_all, input_latency, scale_for, silent_neurons
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
from spikec.passes.simplify import dead_neurons, fold_relays, merge_parallel_synapses, pure_relays
from spikec.synth.balance import latency
from strategies import networks
from strategies_chips import Run, hub_networks, relay_runs, runs, same_spikes

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
    assert observable <= set(out.names())
    names = sorted(observable)
    kw = dict(inputs=run.inputs, trials=run.trials, seed=run.seed)
    a = spikec.simulate(run.net, run.steps, **kw, record=names)
    b = spikec.simulate(out, run.steps, **kw, record=names)
    assert same_spikes(a, b, names) == []
    assert same_spikes(a, reference_simulate(out, run.steps, **kw), names) == []


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
        # Corrupt the columns directly (the API refuses a synapse into an input).
        net._syn.append_row({"pre": net.index("n"), "post": net.index("x"), "weight": 1.0, "delay": 1,
                             "loc": -1})
        net._sorted = False
        net._edited()
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
        r" \(decay = 0.5\); only decay = 0 and decay = 1 \(a gate, on the potential floor\) map exactly$",
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
    assert set(out.names()) == set(run.net.names())


@pytest.mark.parametrize("name", ["never-fires", "relay-fold", "merge-synapses,relay-fold",
                                  "delay-legalize{max_delay=2},fanout-legalize{fan_out=2}"])
@given(run=relay_runs())
def test_passes_keep_spikes_on_relay_chains(name: str, run: Run) -> None:
    compiled_matches(run, name)


def test_relay_fold_appends_in_the_order_folding_one_at_a_time_does() -> None:
    # r2 feeds r1 but comes later: folding r1 first moves its synapses behind r2's, and
    # both then behind x's own (the order of same-step float sums).
    net = spikec.Network()
    net.input("x")
    net.neuron("q", threshold=2)
    net.neuron("r1", threshold=1, decay=1)
    net.neuron("r2", threshold=1, decay=1)
    for pre, post, w, d in [("x", "q", 0.5, 1), ("r2", "r1", 1, 3), ("r1", "q", 0.25, 1), ("x", "r2", 1, 2),
                            ("r2", "q", 0.125, 1), ("r1", "q", 0.0625, 2)]:
        net.synapse(pre, post, w, d)
    assert fold_relays(net, pure_relays(net, {"x", "q"})) == 2
    assert [(s.pre, s.weight, s.delay) for s in net.synapses()] == [
        ("x", 0.5, 1), ("x", 0.125, 3), ("x", 0.25, 6), ("x", 0.0625, 7)]


def test_relay_cycles_are_left_alone() -> None:
    net = spikec.Network()
    net.input("x")
    for name in ("a", "b", "c", "out"):
        net.neuron(name, threshold=1)
    for pre, post in [("a", "b"), ("b", "a"), ("b", "c"), ("c", "out"), ("x", "out")]:
        net.synapse(pre, post)
    assert fold_relays(net, pure_relays(net, {"x", "out"})) == 0
    assert net.num_neurons == 5


def test_merge_sums_exactly_or_not_at_all() -> None:
    net = spikec.Network()
    net.input("x")
    net.neuron("y")
    pairs = [(0.1, 1), (0.2, 1), (0.5, 2), (0.25, 2), (3.0, 3), (-3.0, 3), (0.0, 4), (2.0**60, 5), (1.0, 5)]
    for w, d in pairs:
        net.synapse("x", "y", w, d)
    assert merge_parallel_synapses(net) == (2, 2)  # 0.1 + 0.2 and 2**60 + 1 round; zeros are dropped
    assert sorted((s.delay, s.weight) for s in net.synapses()) == [
        (1, 0.1), (1, 0.2), (2, 0.75), (5, 1.0), (5, 2.0**60)]


def _silent_oracle(net: spikec.Network) -> set[str]:
    """The least fixed point of 'can fire', one neuron at a time with exact sums."""
    neurons = net.neurons()
    can = {n.name: n.is_input for n in neurons}
    changed = True
    while changed:
        changed = False
        for n in neurons:
            if can[n.name] or n.p == 0.0:
                continue
            drive = math.fsum([n.bias, *(s.weight for s in net.synapses()
                                         if s.post == n.name and can[s.pre] and s.weight > 0)])
            kept = (math.inf if drive > 0 else max(n.v0, n.reset)) if n.decay == 0 else max(
                n.v0, n.reset, (1 - n.decay) * drive / n.decay)
            margin = 1e-9 * (abs(kept) + abs(drive) + abs(n.threshold)) + 1e-300
            if not kept + drive + margin < n.threshold:
                can[n.name] = changed = True
    return {name for name, ok in can.items() if not ok}


@settings(max_examples=60, deadline=None)
@given(net=networks(), floats=st.lists(st.floats(-3, 3, allow_subnormal=False), max_size=30))
def test_analyses_match_one_neuron_at_a_time(net: spikec.Network, floats: list[float]) -> None:
    if floats and net.num_synapses:  # weights off every common grid take the exact fallback
        ids = np.arange(min(len(floats), net.num_synapses))
        net.set_synapses(ids, weight=np.array(floats[: len(ids)]))
    assert silent_neurons(net) == _silent_oracle(net)
    high, low = drive_bounds_all(net)
    for i, n in enumerate(net.neurons()):
        w = [s.weight for s in net.synapses() if s.post == n.name]
        assert (high[i], low[i]) == (math.fsum([n.bias, *(x for x in w if x > 0)]),
                                     math.fsum([n.bias, *(x for x in w if not x > 0)]))
    if net.inputs():
        expected = nx.multi_source_dijkstra_path_length(net.graph, net.inputs(), weight="delay")
        assert input_latency(net) == expected


def _split_oracle(net: spikec.Network, root: str, fan_out: int) -> tuple[list[str], dict[str, list]]:
    """The splitter tree built recursively, synapse by synapse (the networkx-era algorithm)."""
    mine = [(s.post, s.weight, s.delay) for s in net.synapses() if s.pre == root]
    first = {post: k for k, (post, _, _) in reversed(list(enumerate(mine)))}
    items = sorted(mine, key=lambda it: first[it[0]])  # networkx: by target, then insertion
    names: list[str] = []
    rows: dict[str, list] = {}

    def distribute(src: str, items: list, depth: int) -> None:
        if len(items) <= fan_out:
            rows.setdefault(src, []).extend(items)
            return
        direct = [it for it in items if it[2] == 1]
        movable = sorted((it for it in items if it[2] > 1), key=lambda it: -it[2])
        room = fan_out - len(direct)
        if room < 1:
            raise LimitError("no room")
        children = 1
        while room - children >= 0 and math.ceil(max(len(movable) - room + children, 0) / fan_out) > children:
            children += 1
        children, keep = (room, 0) if room - children < 0 else (children, room - children)
        rows.setdefault(src, []).extend(direct + (movable[len(movable) - keep:] if keep else []))
        moved = movable[: len(movable) - keep] if keep else movable
        size = math.ceil(len(moved) / children)
        for i in range(children):
            if moved[i * size:(i + 1) * size]:
                base = name = f"{root}~split[{depth}.{i}]"
                k = 2
                while name in names:
                    name, k = f"{base}.{k}", k + 1
                names.append(name)
                rows[src].append((name, 1.0, 1))
                distribute(name, [(p, w, d - 1) for p, w, d in moved[i * size:(i + 1) * size]], depth + 1)

    distribute(root, items, 0)
    return names, rows


@settings(max_examples=150, deadline=None)
@given(net=hub_networks(), fan_out=st.integers(2, 6))
def test_fanout_trees_match_the_recursive_construction(net: spikec.Network, fan_out: int) -> None:
    try:
        names, rows = _split_oracle(net, "x", fan_out)
    except LimitError:
        with pytest.raises(LimitError, match="^error: neuron 'x'"):
            split_fanout(net, "x", fan_out)
        return
    before = net.num_neurons
    assert split_fanout(net, "x", fan_out) == len(names)
    assert net.names()[before:] == names
    got: dict[str, list] = {}
    for s in net.synapses():
        got.setdefault(s.pre, []).append((s.post, s.weight, s.delay))
    assert got == rows


def test_delay_legalize_refuses_delays_the_target_cannot_hold() -> None:
    net = spikec.Network()
    net.input("x")
    net.neuron("y")
    net.synapse("x", "y", 1.0, 1_000_000_000)
    start = time.perf_counter()
    with pytest.raises(LimitError, match=r"^error: synapse x -> y: delay 1,000,000,000 needs a chain of"
                                         r" 16,129,032 relay neurons at a maximum delay of 62 per synapse,"
                                         r" but target 'loihi' holds 131,072 neurons and the network has 2"
                                         r" already$"):
        compile_for_target(net, load_target("loihi"))
    assert time.perf_counter() - start < 10  # refused before building anything
    many = spikec.Network()
    many.add_inputs("x", 3000)
    many.neuron("y")
    many.add_synapses(np.arange(3000), np.full(3000, 3000), 1.0, np.arange(3000) + 62 * 44)
    with pytest.raises(LimitError, match=r"^error: synapse x\[2999\] -> y: delay 5,727 and the other"
                                         r" long delays need 203,039 relay neurons in all at a maximum delay"
                                         r" of 62"):
        run_pipeline(many, parse_pipeline("delay-legalize"), CompileContext(load_target("loihi")))
    net.set_synapses(np.array([0]), delay=10**10)
    with pytest.raises(LimitError, match=r"^error: synapse x -> y: delay 10,000,000,000 needs a chain of"
                                         r" 4,999,999,999 relay neurons at a maximum delay of 2 per synapse,"
                                         r" but a network holds 2,147,483,647 neurons"):
        legalize_delays(net, 2, min_delay=1, capacity=None)
    assert net.num_neurons == 2


def test_notes_carry_the_neurons_source_location() -> None:
    here = SourceLocation("net.spk", 3, 1)
    net = spikec.Network()
    net.input("x")
    net.neuron("never", threshold=5, decay=1, loc=here)
    net.neuron("out")
    net.synapse("x", "never")
    net.synapse("never", "out")
    ctx = CompileContext(GENERIC)
    run_pipeline(net, parse_pipeline("never-fires"), ctx)
    assert [(d.subject, d.location) for d in ctx.diagnostics] == [("neuron 'never'", here)]
    assert ctx.diagnostics[0].render().startswith("net.spk:3:1: note: never-fires: neuron 'never'")


def test_long_chains_cost_no_pass_per_link() -> None:
    n = 20_000
    net = spikec.Network()
    net.input("x")
    chain = net.add_neurons("r", n, threshold=1.0, decay=1.0)[::-1]  # links in reverse index order
    net.neuron("out")
    net.add_synapses(np.concatenate([[0], chain]), np.concatenate([chain, [n + 1]]), 1.0, 2)
    net.probe("out")
    assert silent_neurons(net) == set()
    assert latency(net, ["out"]) == 2 * (n + 1)
    out = run_pipeline(net, parse_pipeline("never-fires,dead-neurons,relay-fold"), CompileContext(GENERIC))
    assert [(s.pre, s.post, s.delay) for s in out.synapses()] == [("x", "out", 2 * (n + 1))]


@given(run=runs())
def test_quantize_uses_the_exact_scale_of_scale_for(run: Run) -> None:
    ctx = CompileContext(Target("q9", weight_bits=9, threshold_bits=12))
    out = run_pipeline(run.net, parse_pipeline("quantize"), ctx)
    for n in run.net.neurons():
        if n.is_input:
            continue
        weights = [s.weight for s in run.net.synapses() if s.post == n.name]
        scale = scale_for([*weights, n.threshold, n.reset, n.bias, n.v0])
        assert [s.weight for s in out.synapses() if s.post == n.name] == [float(Fraction(w) * scale)
                                                                          for w in weights]
        assert out[n.name].threshold == float(Fraction(n.threshold) * scale)


@given(networks(stochastic=False, max_neurons=6), st.integers(1, 6))
def test_merge_in_chunks_of_sources_equals_merge_at_once(net: spikec.Network, chunk: int) -> None:
    """merge-synapses works through the synapses a few sources at a time (bounded memory);
    any chunk size gives the network merging everything at once gives."""
    import spikec.passes.simplify as simplify

    whole, parts = net.copy(), net.copy()
    assert merge_parallel_synapses(whole) is not None
    saved = simplify._MERGE_CHUNK
    simplify._MERGE_CHUNK = chunk
    try:
        merge_parallel_synapses(parts)
    finally:
        simplify._MERGE_CHUNK = saved
    assert parts == whole
    assert [(s.pre, s.post, s.weight, s.delay) for s in parts.synapses()] == [
        (s.pre, s.post, s.weight, s.delay) for s in whole.synapses()]
