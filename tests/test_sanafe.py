"""SANA-FE: the emitted network/mapping file, refusals of what its neuron
models cannot represent exactly, and runs inside SANA-FE giving the same
spikes as spikec's simulator (examples and random integer circuits)."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import spikec
from spikec.backends.sanafe import SanafeError, build_sanafe, render_sanafe, run_sanafe, write_sanafe
from spikec.chip.target import load_target
from spikec.errors import SpikecError
from spikec.passes import Placement, compile_for_target
from strategies_chips import combine, integer_networks, random_inputs, same_spikes

ROOT = Path(__file__).parent.parent
GOLDEN = Path(__file__).parent / "golden"


def agree(net: spikec.Network, target: str, steps: int, seed: int = 0) -> list[str]:
    """Compile for a SANA-FE target, run in SANA-FE, return the neurons whose spikes differ."""
    out, ctx = compile_for_target(net, load_target(target))
    inputs = random_inputs(net, steps, seed)
    got = run_sanafe(out, ctx.placement, ctx.target, steps, inputs)
    names = sorted(n.name for n in net.neurons())
    ref = spikec.simulate(net, steps, inputs=inputs, record=names)
    return same_spikes(ref, got, names)


def test_emitted_files_golden(tmp_path: Path) -> None:
    net = spikec.open_network(ROOT / "examples" / "majority.spk")
    out, ctx = compile_for_target(net, load_target("sanafe-loihi"))
    text = render_sanafe(build_sanafe(out, ctx.placement, ctx.target, steps=4, inputs={"x[0]": [0, 2]}))
    golden = GOLDEN / "netlist_sanafe_majority.yaml"
    if os.environ.get("SPIKEC_REGEN_GOLDEN"):
        golden.write_text(text)
    assert text == golden.read_text()
    paths = write_sanafe(tmp_path / "maj.yaml", build_sanafe(out, ctx.placement, ctx.target))
    assert [Path(p).name for p in paths] == ["maj.yaml", "maj.arch.yaml"]


def _one(
    decay: float = 0.0, reset: float = 0.0, p: float = 1.0, v0: float = 0.0
) -> tuple[spikec.Network, Placement]:
    net = spikec.Network()
    net.input("x")
    net.neuron("y", threshold=1, decay=decay, reset=reset, p=p, v0=v0)
    net.synapse("x", "y")
    return net, Placement({"x": 0, "y": 0}, 1)


@pytest.mark.parametrize(
    ("kw", "target", "message"),
    [
        (
            {"decay": 0.5},
            "sanafe-loihi",
            r"^error: neuron 'y': SANA-FE's Loihi model truncates the potential to 1/64"
            r" every step, so a decay of 0.5 \(neither 0 nor 1\) is not exact$",
        ),
        (
            {"decay": 1.0, "reset": -1.0},
            "sanafe-loihi",
            r"^error: neuron 'y': SANA-FE's Loihi model leaks the reset"
            r" value too; with decay 1 the reset -1 would be lost",
        ),
        ({"p": 0.5}, "sanafe-loihi", r"^error: neuron 'y': SANA-FE has no Bernoulli firing \(p = 0.5\)$"),
        (
            {"v0": 1.0},
            "sanafe-truenorth",
            r"^error: neuron 'y': SANA-FE's TrueNorth model has no multiplicative"
            r" leak and no initial potential",
        ),
        ({}, "loihi", r"^error: target 'loihi' models no SANA-FE architecture; use --target sanafe-loihi"),
    ],
)
def test_refusals(kw: dict, target: str, message: str) -> None:
    net, placement = _one(**kw)
    with pytest.raises(SanafeError, match=message):
        build_sanafe(net, placement, load_target(target))


def test_delays_must_be_legalized_and_int_range_is_checked() -> None:
    net, placement = _one()
    net.synapse("x", "y", 1, 2)
    with pytest.raises(
        SanafeError, match=r"^error: synapse x -> y: delay 2; SANA-FE's synapses deliver after 1"
    ):
        build_sanafe(net, placement, load_target("sanafe-loihi"))
    net, placement = _one()
    net.update("y", bias=1.0, threshold=1e9)
    with pytest.raises(SanafeError, match=r"^error: neuron 'y': at integer scale 1 its potential may reach"):
        build_sanafe(net, placement, load_target("sanafe-loihi"), steps=10**8)


# Only the tests below run SANA-FE itself; the emitter tests above need no install.
requires_sanafe = pytest.mark.skipif(
    importlib.util.find_spec("sanafe") is None, reason="needs the sanafe package (the chips extra)"
)


@requires_sanafe
def test_examples_run_identically_in_sanafe() -> None:
    nets = []
    for path in sorted((ROOT / "examples").glob("*.spk")):
        net = spikec.open_network(path)
        try:
            compile_for_target(net, load_target("sanafe-loihi"))
        except SpikecError:
            continue
        nets.append(net)
    assert len(nets) >= 4
    assert agree(combine(nets), "sanafe-loihi", 40) == []


@requires_sanafe
@settings(max_examples=2, deadline=None)
@given(nets=st.lists(integer_networks(), min_size=8, max_size=16))
def test_random_circuits_run_identically_in_sanafe_loihi(nets: list[spikec.Network]) -> None:
    assert agree(combine(nets), "sanafe-loihi", 30) == []


@requires_sanafe
@pytest.mark.slow
@settings(max_examples=10, deadline=None)
@given(
    loihi=st.lists(integer_networks(max_neurons=8), min_size=10, max_size=30),
    truenorth=st.lists(integer_networks(decays=(0.0,), v0=False, max_neurons=8), min_size=10, max_size=30),
)
@requires_sanafe
def test_many_random_circuits_run_identically_in_sanafe(
    loihi: list[spikec.Network], truenorth: list[spikec.Network]
) -> None:
    assert agree(combine(loihi), "sanafe-loihi", 40) == []
    assert agree(combine(truenorth), "sanafe-truenorth", 40) == []


@requires_sanafe
@settings(max_examples=3, deadline=None)
@given(nets=st.lists(integer_networks(decays=(0.0,), v0=False), min_size=8, max_size=16))
def test_random_circuits_run_identically_in_sanafe_truenorth(nets: list[spikec.Network]) -> None:
    assert agree(combine(nets), "sanafe-truenorth", 30) == []


@requires_sanafe
def test_energy_and_latency_are_reported() -> None:
    net = spikec.open_network(ROOT / "examples" / "majority.spk")
    out, ctx = compile_for_target(net, load_target("sanafe-loihi"))
    got = run_sanafe(out, ctx.placement, ctx.target, 8, {"x[0]": [0, 2], "x[1]": [0]})
    assert got.energy["total"] > 0 and got.sim_time > 0
    assert got.spike_times("maj") == [[1]] and got.spike_times("slow") == [[5]]
