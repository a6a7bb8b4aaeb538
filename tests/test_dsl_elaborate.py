"""Elaboration of .spk programs into Networks (spikec.dsl.elaborate and friends)."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import spikec
from spec_examples import MAJORITY
from spikec.dsl import (
    ElaborationError,
    Limits,
    ParamError,
    compile_text,
)
from spikec.ir.decoders import decode_probes, probe_spike_names

KOFN_AND_HALF_ADDER = """\
circuit kofn<n, k>(x[n]) -> (y) {
    neuron y (threshold = k, decay = 1)
    x[*] -> y
}

circuit half_adder(a, b) -> (sum, carry) {
    neuron carry (threshold = 2, decay = 1)    // a AND b, one step after the inputs
    neuron sum (threshold = 1, decay = 1)      // a XOR b, two steps after the inputs
    a -> carry
    b -> carry
    a -> sum (delay = 2)
    b -> sum (delay = 2)
    carry -> sum (weight = -2)                 // inhibition lands with the delayed inputs
}

input bits[8]
let h = half_adder(bits[0], bits[1])
let v = kofn<8, 5>(bits)
probe h.sum, h.carry, v
"""


def build(text: str, params: Mapping[str, object] | None = None, *,
          limits: Limits | None = None) -> spikec.Network:
    return compile_text(text, params, filename="t.spk", limits=limits)


def reported(net: spikec.Network) -> dict[str, str]:
    """Reported name -> neuron, for the raw probes (as the CLI reports them)."""
    out: dict[str, str] = {}
    for probe in net.probes:
        if probe.decoder is None:
            out.update(probe_spike_names(probe))
    return out


def trial_inputs(names: Sequence[str], patterns: Sequence[Sequence[int]], step: int = 0
                 ) -> dict[str, list[list[int]]]:
    """One trial per pattern: input names[i] spikes at ``step`` when pattern[i] is 1."""
    return {name: [[step] if pattern[i] else [] for pattern in patterns]
            for i, name in enumerate(names)}


# ---- the examples of docs/language.md -------------------------------------------------


def test_majority_example(tmp_path: Path) -> None:
    path = tmp_path / "majority.spk"
    path.write_text(MAJORITY)
    net = spikec.load(path)
    assert net.name == "majority"
    result = spikec.simulate(net, 8, inputs={"x[0]": [0, 2], "x[1]": [0]})
    assert result.spike_times("maj") == [[1]]
    assert result.spike_times("slow") == [[5]]
    assert reported(net) == {"maj": "maj", "slow": "slow"}


def test_half_adder_truth_table() -> None:
    net = build(KOFN_AND_HALF_ADDER)
    patterns = list(itertools.product((0, 1), repeat=2))
    result = spikec.simulate(net, 5, inputs=trial_inputs(["bits[0]", "bits[1]"], patterns),
                             trials=len(patterns))
    for trial, (a, b) in enumerate(patterns):
        assert result.spike_times("h.carry")[trial] == ([1] if a and b else [])
        assert result.spike_times("h.sum")[trial] == ([2] if a ^ b else [])


def test_kofn_exhaustive() -> None:
    net = build(KOFN_AND_HALF_ADDER)
    patterns = list(itertools.product((0, 1), repeat=8))
    names = [f"bits[{i}]" for i in range(8)]
    result = spikec.simulate(net, 3, inputs=trial_inputs(names, patterns), trials=256)
    for trial, pattern in enumerate(patterns):
        assert result.spike_times("v.y")[trial] == ([1] if sum(pattern) >= 5 else [])


def test_circuit_example_names_and_probes() -> None:
    net = build(KOFN_AND_HALF_ADDER)
    assert sorted(n for n in net if "." in n) == ["h.carry", "h.sum", "v.y"]
    assert reported(net) == {"h.sum": "h.sum", "h.carry": "h.carry", "v": "v.y"}
    # Arguments bind by reference: 8 inputs + 3 gate neurons, nothing in between.
    assert net.num_neurons == 11
    assert {(s.pre, s.post) for s in net.synapses() if s.post == "h.carry"} == {
        ("bits[0]", "h.carry"), ("bits[1]", "h.carry")}


# ---- neurons, synapses, values -----------------------------------------------------


def test_neuron_parameters_and_defaults() -> None:
    net = build("neuron a\nneuron b (threshold = 2.5, decay = 0.25, reset = -1, bias = 0.5,"
                " p = 0.75, v0 = 3)")
    assert net["a"].params() == {"threshold": 1.0, "decay": 0.0, "reset": 0.0, "bias": 0.0,
                                 "p": 1.0, "v0": 0.0}
    assert net["b"].params() == {"threshold": 2.5, "decay": 0.25, "reset": -1.0, "bias": 0.5,
                                 "p": 0.75, "v0": 3.0}


def test_kinds_give_defaults() -> None:
    net = build("kind gate (decay = 1, threshold = 3)\ngate y (threshold = 2)\ngate z[2]")
    assert (net["y"].decay, net["y"].threshold) == (1.0, 2.0)
    assert (net["z[1]"].decay, net["z[1]"].threshold) == (1.0, 3.0)


def test_all_to_all_and_slices() -> None:
    net = build("input x[3]\nneuron y[2]\nx -> y\nx[1..3] -> y[0] (weight = 2)\nx[*] -> y[1]")
    pairs = sorted((s.pre, s.post, s.weight) for s in net.synapses())
    assert len(pairs) == 6 + 2 + 3
    assert ("x[2]", "y[0]", 2.0) in pairs and ("x[0]", "y[0]", 2.0) not in pairs


def test_parallel_synapses_are_kept() -> None:
    net = build("input x\nneuron y\nx -> y\nx -> y (delay = 3)")
    assert sorted(s.delay for s in net.synapses()) == [1, 3]


def test_values_as_sizes_weights_and_delays() -> None:
    net = build("let n = 3\nlet w = 0.5\ninput x[n * 2]\nneuron y[sqrt(4)]\n"
                "x[n] -> y[n - 2] (weight = -w, delay = n // 2 + 1)")
    (syn,) = list(net.synapses())
    assert (syn.pre, syn.post, syn.weight, syn.delay) == ("x[3]", "y[1]", -0.5, 2)


def test_if_else_and_nested_loops() -> None:
    net = build(
        "input x[4]\nneuron y[4]\n"
        "for i in 0..4 {\n"
        "    for j in i..4 {\n"
        "        if i == j { x[i] -> y[j] (weight = 2) }\n"
        "        else if j == i + 1 { x[i] -> y[j] }\n"
        "        else { }\n"
        "    }\n"
        "}\n"
    )
    pairs = sorted((s.pre, s.post, s.weight) for s in net.synapses())
    assert len(pairs) == 4 + 3
    assert ("x[0]", "y[1]", 1.0) in pairs and ("x[2]", "y[2]", 2.0) in pairs


def test_blocks_scope_their_names() -> None:
    net = build("let t = 5\nfor i in 0..2 { let t = i * 10 }\nneuron y (threshold = t)")
    assert net["y"].threshold == 5.0
    with pytest.raises(ElaborationError, match=r"^t\.spk:2:23: error: unknown name 'u'"):
        build("if true { let u = 1 }\nneuron y (threshold = u)")


def test_let_aliases_neurons() -> None:
    net = build("input x[2]\nlet first = x[0]\nneuron y\nfirst -> y\nprobe first")
    assert [(s.pre, s.post) for s in net.synapses()] == [("x[0]", "y")]
    assert reported(net) == {"first": "x[0]"}


# ---- circuits --------------------------------------------------------------------------


NESTED = """\
circuit inner<w>(a) -> (y) {
    neuron y (decay = 1)
    a -> y (weight = w)
}
circuit outer(a, b) -> (out[2], sum) {
    let p = inner<1>(a)
    let q = inner<2>(b)
    neuron out[2] (decay = 1)
    p -> out[0]
    q.y -> out[1]
    neuron sum (threshold = 2, decay = 1)
    out[*] -> sum
    probe q.y
}
input a
input b
let m = outer(a, b)
probe m.out, m.sum, m.p.y, count(m.out)
"""


def test_nested_instances_are_named_hierarchically() -> None:
    net = build(NESTED)
    assert sorted(n for n in net if "." in n) == [
        "m.out[0]", "m.out[1]", "m.p.y", "m.q.y", "m.sum"]
    assert reported(net) == {
        "m.q.y": "m.q.y", "m.out[0]": "m.out[0]", "m.out[1]": "m.out[1]", "m.sum": "m.sum",
        "m.p.y": "m.p.y"}
    count = [p for p in net.probes if p.decoder == "count"]
    assert [(p.label, p.neurons) for p in count] == [("count(m.out)", ("m.out[0]", "m.out[1]"))]
    assert {(s.pre, s.post, s.weight) for s in net.synapses() if s.pre == "b"} == {
        ("b", "m.q.y", 2.0)}


def test_instance_arrays_and_recursion() -> None:
    net = build(
        "circuit cell(a) -> (y) { neuron y (decay = 1)  a -> y }\n"
        "circuit chain<n>(a) -> (y) {\n"
        "    if n == 1 { let c = cell(a) } else { let c = chain<n - 1>(a) }\n"
        "    neuron y (decay = 1)\n"
        "}\n"
        "input x[3]\n"
        "for i in 0..3 { let bit[i] = cell(x[i]) }\n"
        "neuron all (threshold = 3, decay = 1)\n"
        "for i in 0..3 { bit[i] -> all }\n"
        "let deep = chain<3>(x[0])\n"
        "probe bit[1].y\n"
    )
    assert {"bit[0].y", "bit[1].y", "bit[2].y"} <= set(net)
    assert "deep.y" in net and "deep.c.c.c.y" in net
    assert reported(net) == {"bit[1].y": "bit[1].y"}


def test_single_output_stands_for_its_instance() -> None:
    net = build("circuit c(a) -> (y) { neuron y  a -> y }\ninput x\nlet u = c(x)\n"
                "neuron z\nu -> z\nprobe u")
    assert ("u.y", "z") in {(s.pre, s.post) for s in net.synapses()}
    assert reported(net) == {"u": "u.y"}


def test_circuits_see_their_file_not_the_callers_blocks() -> None:
    net = build("let w = 3\ncircuit c(a) -> (y) { neuron y (threshold = w)  a -> y }\n"
                "input x\nlet u = c(x)")
    assert net["u.y"].threshold == 3.0


def test_circuit_may_connect_into_a_callers_neuron() -> None:
    net = build("circuit tap(src, dst) { src -> dst (weight = 5) }\ninput x\nneuron y\n"
                "let t = tap(x, y)")
    assert [(s.pre, s.post, s.weight) for s in net.synapses()] == [("x", "y", 5.0)]


# ---- stimulus, probes, params ---------------------------------------------------------


def test_stimuli() -> None:
    net = build("input x[4]\ninput y[2]\ninput z\n"
                "stimulus x[0] = at(0, 3, 7)\n"
                "stimulus x = bits(13) at 2\n"
                "stimulus y = poisson(0.25)\n"
                "stimulus z = at()\n")
    times = {n: getattr(s, "times", None) for n, s in net.stimuli.items()}
    assert times["x[0]"] == (0, 2, 3, 7)  # at() and bits() merge
    assert "x[1]" not in times and times["x[2]"] == (2,) and times["x[3]"] == (2,)
    assert times["z"] == ()
    assert net.stimuli["y[1]"] == spikec.PoissonRate(0.25)
    result = spikec.simulate(net, 8, record="all")
    assert result.spike_times("x[0]") == [[0, 2, 3, 7]]
    override = spikec.simulate(net, 8, inputs={"x[0]": [5]}, record="all")
    assert override.spike_times("x[0]") == [[5]]


def test_probes_with_decoders() -> None:
    net = build("input x[3]\nstimulus x = bits(5) at 1\nstimulus x[1] = at(4)\n"
                "probe count(x), first(x), binary(x), rate(x[0]), x")
    assert [(p.label, p.decoder) for p in net.probes] == [
        ("count(x)", "count"), ("first(x)", "first"), ("binary(x)", "binary"),
        ("rate(x[0])", "rate"), ("x", None)]
    result = spikec.simulate(net, 5)
    values = decode_probes(net, result.spikes)
    assert values["count(x)"] == [[1, 1, 1]]
    assert values["first(x)"] == [[1, 4, 1]]
    assert values["binary(x)"] == [[[1, 5], [4, 2]]]
    assert values["rate(x[0])"] == [0.2]
    assert reported(net) == {"x[0]": "x[0]", "x[1]": "x[1]", "x[2]": "x[2]"}


def test_params_override_top_level_lets() -> None:
    text = "let n = 2\nlet k = 1\ninput x[n]\nneuron y (threshold = k)\nx -> y"
    assert build(text, {"n": 5}).num_neurons == 6
    assert build(text, {"n": "2 ** 2", "k": "1.5"})["y"].threshold == 1.5
    flagged = "let big = false\nneuron y\nif big { neuron z }"
    assert "z" in build(flagged, {"big": True}) and "z" in build(flagged, {"big": "true"})
    assert "z" not in build(flagged)
    with pytest.raises(ParamError, match=r"^error: parameter 'nn': t\.spk has no top-level"
                                         r" 'let nn' \(did you mean 'n'\?\); its top-level"
                                         r" lets: n, k$"):
        build(text, {"nn": 3})
    with pytest.raises(ParamError, match=r"parameter 'n': cannot read 'lots' as a number"):
        build(text, {"n": "lots"})
    with pytest.raises(ParamError, match=r"parameter 'n' must be a number or boolean"):
        build(text, {"n": [1]})


def test_api_load_and_loads_pass_params(tmp_path: Path) -> None:
    path = tmp_path / "p.spk"
    path.write_text("let n = 2\ninput x[n]")
    assert spikec.load(path, n=4).num_neurons == 4
    assert spikec.loads("let n = 2\ninput x[n]", n=3).num_neurons == 3


# ---- locations and limits -----------------------------------------------------------


def test_every_neuron_and_synapse_has_a_location() -> None:
    net = build(KOFN_AND_HALF_ADDER)
    for neuron in net.neurons():
        assert neuron.loc is not None and neuron.loc.file == "t.spk" and neuron.loc.text
    for syn in net.synapses():
        assert syn.loc is not None and syn.loc.text is not None
        assert "->" in syn.loc.text
    assert net["h.carry"].loc.line == 7  # type: ignore[union-attr]
    assert net["bits[3]"].loc.line == 16  # type: ignore[union-attr]


def test_simulation_agrees_with_reference() -> None:
    from spikec.backends.reference import reference_simulate

    net = build(NESTED + "stimulus a = at(0, 2)\nstimulus b = at(1)\n")
    fast = spikec.simulate(net, 6, record="all")
    slow = reference_simulate(net, 6)
    for name in net:
        assert np.array_equal(fast.spikes[name], slow.spikes[name]), name


class _Feeder:
    """A Python circuit that reads its input ``x`` and drives the caller's ``y`` (as
    the GeneratorCircuit protocol allows: synapses take full names), returning its
    output as network indices."""

    name = "feed"
    params: tuple[str, ...] = ()
    inputs = (("x", 2), ("y", None))
    outputs = ("o",)

    def __init__(self) -> None:
        self.given: dict[str, object] = {}

    def build(self, builder: Any, params: Any, inputs: Any) -> dict[str, Any]:
        self.given = {port: (list(names), getattr(names, "idx", None)) for port, names in inputs.items()}
        o = builder.neurons("o", 2)
        builder.synapses(inputs["x"].idx, o)
        builder.synapse(inputs["x"][0], inputs["y"][0], 1.0, 1)
        return {"o": o}


def test_python_circuits_get_names_with_indices_and_may_return_indices(tmp_path: Path) -> None:
    from spikec.dsl import register_model_loader
    from spikec.dsl.models import MODEL_LOADERS

    feeder = _Feeder()
    (tmp_path / "c.feed").write_text("")
    register_model_loader(".feed", lambda path, name: feeder)
    try:
        text = ('import model "c.feed" as feed\ninput a[2]\nneuron y\nneuron z\nlet u = feed(a, y)\n'
                "u.o[1] -> z\nprobe u.o\n")
        net = compile_text(text, filename=str(tmp_path / "t.spk"))
        assert feeder.given == {"x": (["a[0]", "a[1]"], range(0, 2)), "y": (["y"], range(2, 3))}
        assert net.probes[0].neurons == ("u.o[0]", "u.o[1]")
        assert ("u.o[1]", "z") in {(s.pre, s.post) for s in net.synapses()}
        with pytest.raises(ElaborationError, match="'y' already has incoming synapses"):
            compile_text(text + "gate y = a[0] & a[1]\n", filename=str(tmp_path / "t.spk"))
        net = compile_text(text + "gate z2 = a[0] & a[1]\ngate q = z2 | a[1]\n",
                           filename=str(tmp_path / "t.spk"))
        assert net["z2"].threshold == 2 and net["q"].threshold == 1
    finally:
        MODEL_LOADERS.pop(".feed", None)
