"""Stochastic neurons on chip noise: the [noise] tables, the realised probabilities of the
``noise-map`` pass (checked by enumerating the chip's noise values), the compiled circuits'
distributions, refusals, and SANA-FE runs of the noise stream against spikec's simulator."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import spikec
from spikec.chip.noise import plan_noise
from spikec.chip.target import load_target, parse_target
from spikec.errors import CompileError, TargetError
from spikec.passes import compile_for_target

_HEAD = 'format = "spikec-target"\nversion = 1\nname = "t"\n'


def _gate(p: float, weights: list[float], threshold: float = 1.0, bias: float = 0.0) -> spikec.Network:
    net = spikec.Network("g")
    for k in range(len(weights)):
        net.input(f"x{k}")
    net.neuron("y", threshold=threshold, decay=1.0, bias=bias, p=p)
    for k, w in enumerate(weights):
        net.synapse(f"x{k}", "y", w)
    net.probe("y")
    return net


def _enumerate(a: int, s: int, bits: int, theta: int, potential: int) -> float:
    """The chip's test counted over every noise value: fire when s U + r >= s θ + 2**k - a."""
    r = np.arange(2**bits)
    return float(np.mean(s * potential + r >= s * theta + 2**bits - a))


def test_noise_tables_parse_and_bad_ones_name_the_key() -> None:
    assert load_target("loihi").noise_kind == "membrane"
    assert load_target("loihi-nahuku").noise_bits == 8
    assert load_target("sanafe-truenorth").noise_reproducible is False
    with pytest.raises(TargetError, match=r"^error: <x>: noise\.kind: expected one of 'membrane',"):
        parse_target(_HEAD + '[noise]\nkind = "dice"\nbits = 8\n', "<x>")
    with pytest.raises(TargetError, match=r"^error: <x>: noise\.bits: expected an integer from 1 to 31,"
                       r" got 0$"):
        parse_target(_HEAD + '[noise]\nkind = "threshold"\nbits = 0\n', "<x>")
    with pytest.raises(TargetError, match=r"^error: <x>: noise\.exponent_min/exponent_max: only a"
                       r" \"membrane\""):
        parse_target(_HEAD + '[noise]\nkind = "threshold"\nbits = 8\nexponent_min = 1\n', "<x>")
    with pytest.raises(TargetError, match=r"^error: <x>: noise: unknown key 'bit'"):
        parse_target(_HEAD + '[noise]\nkind = "threshold"\nbit = 8\n', "<x>")


@pytest.mark.parametrize("target", ["loihi", "truenorth"])
def test_realised_probabilities_match_an_enumeration_of_the_noise(target: str) -> None:
    net = _gate(0.3, [1.0, -1.0, 2.0], threshold=3.0)  # potentials -1 .. 3: one over threshold
    chip = load_target(target)
    plan = plan_noise(net, chip, np.array([net.index("y")]))
    a, s, k = int(plan.levels[0]), int(plan.scale[0]), int(plan.bits[0])
    assert a == round(0.3 * 256) and k == 8
    for u in range(-1, 3):
        assert _enumerate(a, s, k, 3, u) == 0.0
    assert _enumerate(a, s, k, 3, 3) == plan.realised[0] == a / 256
    assert plan.error[0] == pytest.approx(abs(a / 256 - 0.3))


@settings(max_examples=40, deadline=None)
@given(p=st.floats(0.01, 0.99), weights=st.lists(st.sampled_from([-2.0, -1.0, 1.0, 2.0, 3.0]), min_size=1,
                                                   max_size=4), threshold=st.integers(1, 4))
def test_random_gates_never_fire_below_threshold_and_realise_the_table(p: float, weights: list[float],
                                                                      threshold: int) -> None:
    net = _gate(p, weights, threshold=float(threshold))
    plan = plan_noise(net, load_target("truenorth"), np.array([net.index("y")]))
    if not np.isfinite(plan.gap[0]) or plan.high[0] < plan.theta[0]:
        return
    a, s, k = int(plan.levels[0]), int(plan.scale[0]), int(plan.bits[0])
    theta, low, high = int(plan.theta[0]), int(plan.low[0]), int(plan.high[0])
    for u in range(low, theta):
        assert _enumerate(a, s, k, theta, u) == 0.0
    assert _enumerate(a, s, k, theta, theta) == pytest.approx(float(plan.realised[0]))
    assert _enumerate(a, s, k, theta, high) == pytest.approx(float(plan.top[0]))
    worst = max(abs(_enumerate(a, s, k, theta, u) - p) for u in range(theta, high + 1))
    assert float(plan.error[0]) == pytest.approx(worst)


def test_diffusion_realised_table_and_the_compiled_ir() -> None:
    net = spikec.load("examples/diffusion.spk")
    out, ctx = compile_for_target(net, load_target("loihi"))
    notes = [d.render() for d in ctx.diagnostics if d.pass_name == "noise-map"]
    assert notes == [
        "note: noise-map: neuron 'heat.r0[0]': p = 0.25 realised 0.25 = 64/2**8; error 5.55e-17"
        " (42 neurons like it)",
        "note: noise-map: neuron 'heat.r0[1]': p = 0.333333 realised 0.332031 = 85/2**8; error 0.0013"
        " (42 neurons like it)"]
    stochastic = out.p[~out.is_input & (out.p < 1)]
    assert sorted(set(stochastic.tolist())) == [0.25, 85 / 256]


def test_stochastic_example_is_a_gate_and_a_relay_with_the_same_distribution() -> None:
    net = spikec.load("examples/stochastic.spk")
    out, ctx = compile_for_target(net, load_target("loihi"))
    assert "relay~gate" in out and float(out.p[out.index("relay")]) == 0.5
    assert any(d.severity == "warning" and "1 step(s) later" in d.message for d in ctx.diagnostics)
    steps, trials = 400, 20
    got = spikec.simulate(out, steps, trials=trials, seed=5, record=["relay", "relay~gate"])
    gate = got.spikes["relay~gate"][:, :-1]
    relay = got.spikes["relay"][:, 1:]
    assert not (relay & ~gate).any()  # the relay fires only the step after its gate
    fired, chances = int(relay.sum()), int(gate.sum())
    # binomial(chances, 0.5): within 4 standard deviations
    assert abs(fired - chances / 2) <= 4 * np.sqrt(chances / 4)
    ref = spikec.simulate(net, steps, trials=trials, seed=6, record=["relay"])
    assert abs(fired - int(ref.spikes["relay"].sum())) <= 4 * np.sqrt(2 * chances / 4) + 10


def test_exact_and_max_p_error_refuse_naming_the_neuron() -> None:
    net = spikec.load("examples/diffusion.spk")
    with pytest.raises(CompileError, match=r"^examples/diffusion\.spk:20:1: error: neuron 'heat\.r0\[0\]':"
                       r" target 'loihi' fires it with probability 0\.25 at threshold, not p ="
                       r" 0\.24999999999999994 \(error 5\.55e-17, --exact"):
        compile_for_target(net, load_target("loihi"), exact=True)
    from spikec.passes import default_pipeline

    passes = default_pipeline(load_target("loihi"))
    for p in passes:
        if p.name == "noise-map":
            p.max_p_error = 1e-3  # type: ignore[attr-defined]
    with pytest.raises(CompileError, match=r"^examples/diffusion\.spk:20:1: error: neuron 'heat\.r0\[1\]':"
                       r" .* not p = 0\.333333 \(error 0\.0013, above --max-p-error 0\.001\)\n"):
        compile_for_target(net, load_target("loihi"), passes)
    compile_for_target(net, load_target("sanafe-loihi"), exact=True)  # the stream is exact


def test_membrane_noise_refuses_a_neuron_that_keeps_its_potential() -> None:
    net = spikec.Network("i")
    net.input("x")
    net.neuron("y", threshold=2.0, decay=0.0, p=0.5)
    net.synapse("x", "y", 1.0)
    with pytest.raises(CompileError, match=r"^error: neuron 'y': target 'loihi' cannot run this stochastic"
                       r" neuron \(p = 0\.5\) on its noise: decay 0: noise added to the potential stays"):
        compile_for_target(net, load_target("loihi"))


def test_cli_max_p_error(capsys: pytest.CaptureFixture[str], tmp_path) -> None:  # type: ignore[no-untyped-def]
    from spikec.cli import main

    out = str(tmp_path / "d.json")
    assert main(["compile", "--target", "loihi", "examples/diffusion.spk", "-o", out, "--max-p-error",
                 "0.01"]) == 0
    assert main(["compile", "--target", "loihi", "examples/diffusion.spk", "-o", out, "--max-p-error",
                 "0.001"]) != 0
    assert "above --max-p-error 0.001" in capsys.readouterr().err


@pytest.mark.parametrize("example,steps", [("examples/stochastic.spk", 120), ("examples/diffusion.spk", 160)])
def test_sanafe_loihi_noise_stream_reproduces_spikecs_simulator(example: str, steps: int) -> None:
    pytest.importorskip("sanafe")
    from spikec.backends.sanafe import run_sanafe

    out, ctx = compile_for_target(spikec.load(example), load_target("sanafe-loihi"))
    got = run_sanafe(out, ctx.placement, ctx.target, steps, seed=3)
    ref = spikec.simulate(out, steps, seed=3, record="all")
    assert sum(int(v.sum()) for v in got.spikes.values()) > 0
    for name, spikes in got.spikes.items():
        assert (ref.spikes[name][0] == spikes[0]).all(), name


def test_cli_run_compares_a_stochastic_circuit_on_its_seed(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("sanafe")
    from spikec.cli import main

    code = main(["run", "examples/stochastic.spk", "--target", "sanafe-loihi", "--steps", "40", "--seed", "5",
                 "--compare", "--json"])
    doc = __import__("json").loads(capsys.readouterr().out)
    assert code == 0 and doc["differs"] == []
    # the relay's spikes are those of spikec's simulator of the compiled network on seed 5
    out, _ = compile_for_target(spikec.load("examples/stochastic.spk"), load_target("sanafe-loihi"))
    ref = spikec.simulate(out, 40, seed=5, record=["relay"])
    assert doc["spikes"]["relay"] == np.flatnonzero(ref.spikes["relay"][0]).tolist()


def test_loihi_netlists_carry_the_noise_registers_and_check_them(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import json

    from spikec.backends.netlist import build_netlist, netlist_from_dict, render_netlist
    from spikec.errors import NetworkFileError

    out, ctx = compile_for_target(spikec.load("examples/diffusion.spk"), load_target("loihi"))
    doc = json.loads(render_netlist(build_netlist(out, ctx.placement, ctx.target, ctx.pipeline)))
    rows = {r["name"]: r for c in doc["cores"] for r in c["neurons"]}
    gates = [r for r in rows.values() if r["p"] < 1]
    assert gates and all("noise" in r for r in gates)
    assert not any("noise" in r for r in rows.values() if r["p"] == 1)
    for r in gates:  # the routing gate at integer scale: potentials 1 (a walker) or <= 0
        reg = r["noise"]
        s, full, offset = reg["scale"], 2 ** reg["bits"], reg["offset"]
        fires_at = {u: sum(s * u + x >= s * 1 + offset for x in range(full)) / full for u in (1, 0, -1)}
        assert fires_at == {1: r["p"], 0: 0.0, -1: 0.0}
    netlist_from_dict(doc, "d.json")  # reads back
    gates[0]["noise"]["offset"] += 1
    with pytest.raises(NetworkFileError, match=r"noise registers .* do not match its parameters"):
        netlist_from_dict(doc, "d.json")
