"""SANA-FE: the emitted network/mapping file, refusals of what its neuron
models cannot represent exactly, and runs inside SANA-FE giving the same
spikes as spikec's simulator (examples and random integer circuits)."""

from __future__ import annotations

import dataclasses
import importlib.util
import math
import os
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import spikec
from spikec.backends.sanafe import SanafeError, build_sanafe, render_sanafe, run_sanafe, write_sanafe
from spikec.chip.target import load_target
from spikec.errors import SpikecError
from spikec.ir.analysis import drive_bounds, potential_bounds, scale_for
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
        ({"p": 0.5}, "sanafe-loihi", r"^error: neuron 'y': its noise stream cannot run it: decay 0: noise"
                                     r" added to the potential stays in a neuron that does not clear it"),
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


# -- the array emitter against the per-neuron one it replaced --------------------------------


def _oracle_sanafe(net: spikec.Network, core: dict[str, int], arch: str, steps: int | None) -> str:
    """The SANA-FE text as the per-neuron emitter wrote it (Fractions, graph edges)."""
    if all(n.is_input for n in net.neurons()):
        raise SanafeError(f"network '{net.name}' has no (non-input) neurons; SANA-FE needs at least one")
    inputs, neurons, mappings, names = [], [], [], {}
    address: dict[str, str] = {}
    scales: dict[str, Fraction] = {}
    slots: dict[int, int] = {}
    for n in net.neurons():
        where = f"{core[n.name] // 4}.{core[n.name] % 4}" if arch == "loihi" else f"{core[n.name]}.0"
        if n.is_input:
            addr = f"in.{len(inputs)}"
            stim = net.stimuli.get(n.name)
            times = list(stim.times) if stim is not None else []  # type: ignore[union-attr]
            length = steps if steps is not None else (max(times) + 1 if times else 0)
            inputs.append((addr, {"spikes": [int(t in times) for t in range(length)]}))
            slot = slots.get(core[n.name], 0)
            slots[core[n.name]] = slot + 1
            mappings.append((addr, where, f"{arch}_inputs[{slot}]"))
        else:
            if n.p != 1.0:
                raise SanafeError(f"neuron '{n.name}': SANA-FE has no Bernoulli firing (p = {n.p:g})")
            addr = f"n.{len(neurons)}"
            if arch == "loihi":
                if n.decay not in (0.0, 1.0):
                    raise SanafeError(f"neuron '{n.name}': SANA-FE's Loihi model truncates the potential"
                                      f" to 1/64 every step, so a decay of {n.decay:g} (neither 0 nor 1)"
                                      " is not exact")
                if n.decay == 1.0 and n.reset != 0.0:
                    raise SanafeError(f"neuron '{n.name}': SANA-FE's Loihi model leaks the reset value"
                                      f" too; with decay 1 the reset {n.reset:g} would be lost (only reset 0"
                                      " is exact)")
                weights = [w for _, _, w in net.graph.in_edges(n.name, data="weight")]
                scale = scale_for(weights + [n.threshold, n.reset, n.bias, n.v0])
                low, high = potential_bounds(n, *drive_bounds(net, n.name))
                reach = max(abs(low), abs(high))
                if not math.isfinite(reach) and steps is not None:
                    reach = abs(n.v0) + abs(n.reset) + steps * (abs(n.bias) + sum(abs(w) for w in weights))
                if math.isfinite(reach) and reach * scale >= 2**31 / 64:
                    raise SanafeError(f"neuron '{n.name}': at integer scale {float(scale):g} its potential"
                                      f" may reach {float(reach * scale):g}, past SANA-FE's int range for"
                                      " 64 * V (2**31)")
                s = [float(Fraction(x) * scale) for x in (n.threshold, n.reset, n.bias, n.v0)]
                attrs = {"threshold": s[0] - 0.5, "reset": s[1], "bias": s[2], "leak_decay": 1.0 - n.decay,
                         "potential": s[3]}
            else:
                if n.decay != 0.0 or n.v0 != 0.0:
                    raise SanafeError(f"neuron '{n.name}': SANA-FE's TrueNorth model has no multiplicative"
                                      " leak and no initial potential (decay and v0 must be 0)")
                scale = Fraction(1)
                attrs = {"threshold": n.threshold, "reset": n.reset, "bias": n.bias}
            scales[n.name] = scale
            neurons.append((addr, attrs))
            mappings.append((addr, where, None))
        address[n.name] = addr
        names[addr] = n.name
    edges = []
    for pre, post, data in net.graph.edges(data=True):
        if data["delay"] != 1:
            raise SanafeError(f"synapse {pre} -> {post}: delay {data['delay']}; SANA-FE's synapses deliver"
                              " after 1 step only (run the delay-legalize pass)")
        edges.append((address[pre], address[post], float(Fraction(data["weight"]) * scales[post])))

    def num(x: float) -> str:
        return str(int(x)) if float(x).is_integer() and abs(x) < 2**53 else repr(float(x))

    lines = [f"# SANA-FE network generated by spikec for the {arch} architecture.",
             "# Addresses (group.index) of the spikec neurons:"]
    lines += [f"#   {a} = {nm}" for a, nm in names.items()]
    lines += ["network:", f"  name: {net.name}", "  groups:"]
    for group, rows in (("in", inputs), ("n", neurons)):
        if rows:
            lines += [f"    - name: {group}", "      attributes: {log_spikes: true}", "      neurons:"]
            for a, attrs in rows:
                body = ", ".join(f"{k}: [{', '.join(map(str, v))}]" if isinstance(v, list)
                                 else f"{k}: {num(v)}" for k, v in attrs.items())
                lines.append(f"        - {a.split('.')[1]}: {{{body}}}")
    lines.append("  edges:" if edges else "  edges: []")
    lines += [f"    - {a} -> {b}: {{weight: {num(w)}}}" for a, b, w in edges]
    lines.append("mappings:")
    for a, c, unit in mappings:
        extra = f', soma: "{unit}"' if unit else ""
        lines.append(f"  - {a}: {{core: {c}{extra}}}")
    return "\n".join(lines) + "\n"


_NICE = [0.0, 0.0, 1.0, 2.0, 3.0, -1.0, 0.5, 0.25, 0.75, 6.0]
_ODD = [0.1, 1 / 3, 1e-3, 2.0**40, 2.5]


@st.composite
def sanafe_cases(draw: st.DrawFn, truenorth: bool = False) -> tuple[spikec.Network, dict[str, int],
                                                                   int | None]:
    """Small networks with real values (non-dyadic ones in some), mostly what SANA-FE's
    Loihi (or TrueNorth) model takes exactly, a random core per neuron and a run length."""
    values = st.sampled_from(_NICE + (_ODD if draw(st.booleans()) else []))
    net = spikec.Network("sanafe")
    ins = [net.input(f"in[{i}]") for i in range(draw(st.integers(0, 3)))]
    names = []
    for i in range(draw(st.integers(1, 6))):
        decay = draw(st.sampled_from([0.0] * 19 + [1.0] if truenorth else [0.0] * 4 + [1.0] * 3 + [0.5]))
        names.append(net.neuron(
            f"n{i}", threshold=draw(values), decay=decay,
            reset=0.0 if decay == 1.0 and draw(st.integers(0, 5)) else draw(values), bias=draw(values),
            v0=draw(st.sampled_from([0.0] * (19 if truenorth else 6) + [1.0, 0.25])),
            p=draw(st.sampled_from([1.0] * 19 + [0.5]))))
    for _ in range(draw(st.integers(0, 12))):
        weight = draw(st.one_of(values, st.sampled_from([-0.5, -2.0])))
        net.synapse(draw(st.sampled_from(ins + names)), draw(st.sampled_from(names)), weight,
                    draw(st.sampled_from([1] * 19 + [2])))
    for x in ins:
        if draw(st.booleans()):
            net.stimulus(x, draw(st.lists(st.integers(0, 6), max_size=3)))
    core = {n: draw(st.integers(0, 7)) for n in net.names()}
    return net, core, draw(st.sampled_from([None, 3, 40]))


@given(data=st.data(), target=st.sampled_from(["sanafe-loihi", "sanafe-truenorth"]))
def test_sanafe_arrays_match_the_per_neuron_oracle(data: st.DataObject, target: str) -> None:
    net, core, steps = data.draw(sanafe_cases(truenorth=target == "sanafe-truenorth"))
    # the per-neuron emitter predates the floor mapping of gates (tests/test_target_table.py)
    # and the noise streams (tests/test_noise.py)
    chip = dataclasses.replace(load_target(target), floor=False, noise_kind=None)
    try:
        expected = _oracle_sanafe(net, core, chip.sanafe_arch or "", steps)
    except SanafeError as exc:
        with pytest.raises(SanafeError) as info:
            build_sanafe(net, Placement(core, 8), chip, steps)
        assert info.value.message == exc.message
        return
    assert render_sanafe(build_sanafe(net, Placement(core, 8), chip, steps)) == expected
