"""PyNN export (backends/pynn_export.py) run under pyNN.nest (NEST's iaf_psc_delta), compared
step by step with spikec's reference interpreter: every example, random deterministic
networks, the emitted script, and the refusals. Tests that need PyNN and NEST skip without
them; the mapping checks without them run always."""

from __future__ import annotations

import re
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_examples import PROGRAMS, read_run

import spikec
import spikec.cli
from spikec.backends import pynn_export
from spikec.backends.formats import emitter
from spikec.backends.reference import reference_simulate
from spikec.errors import ExportError
from spikec.ir.network import Network
from strategies import networks

# PyNN 0.13 still calls NEST's deprecated GetStatus/SetStatus
pytestmark = pytest.mark.filterwarnings(r"ignore:\s*(Get|Set)Status\(\) is deprecated:UserWarning")


def _nest() -> Any:
    with warnings.catch_warnings():  # PyNN warns that it cannot build its optional NEST extension
        warnings.simplefilter("ignore")
        return pytest.importorskip("pyNN.nest")


def _reference(net: Network, steps: int, inputs: Any = None, seed: int = 0) -> np.ndarray:
    return reference_simulate(net, steps, inputs, seed=seed).spikes_of(np.arange(len(net)))[:, 0, :]


def _random_net(seed: int, n_in: int = 3, n: int = 8, leaky: bool = False) -> tuple[Network, dict]:
    """Weights and values on a 1/4 grid, decays 0 and 1 (and dyadic or decimal leaks),
    resets (some >= threshold), biases, initial potentials, delays 1..4, recurrence."""
    rng = np.random.default_rng(seed)
    net = Network()
    net.add_inputs("x", n_in)
    decay = rng.choice([0.0, 1.0], n)
    if leaky:
        decay = np.where(rng.random(n) < 0.5, rng.choice([0.5, 0.25, 0.75, 0.125, 0.1, 0.3], n), decay)
    threshold = rng.integers(-4, 9, n) / 4.0
    threshold = np.where((decay > 0) & (decay < 1), np.abs(threshold) + 0.25, threshold)
    net.add_neurons("h", n, threshold=threshold, decay=decay, reset=rng.integers(-4, 6, n) / 4.0,
                    bias=np.where(rng.random(n) < 0.5, rng.integers(-3, 4, n) / 4.0, 0.0),
                    v0=np.where(rng.random(n) < 0.3, rng.integers(-4, 5, n) / 4.0, 0.0))
    k = int(rng.integers(n, 4 * n))
    pre = rng.integers(0, n_in + n, k)
    post = rng.integers(n_in, n_in + n, k)
    net.add_synapses(pre, post, rng.integers(-6, 9, k) / 4.0, rng.integers(1, 5, k))
    steps = 24
    inputs = {f"x[{i}]": np.flatnonzero(rng.random(steps) < 0.3).tolist() for i in range(n_in)}
    return net, inputs


# --- without NEST -------------------------------------------------------------------------------


def test_registered_as_an_emitter() -> None:
    fmt = emitter("net.py")
    assert fmt.name == "pynn" and fmt.load() is pynn_export.emit_pynn
    assert emitter("whatever.out", "pynn") is fmt


def test_leak_propagators_are_exact() -> None:
    """exp(-1 ms / tau_m), as NEST computes P33, is 1 - decay in float64."""
    import math

    net, _ = _random_net(3, leaky=True)
    arrays = pynn_export.pynn_arrays(net)
    cells = np.flatnonzero(~net.is_input)
    keep = [math.exp(-1.0 / t) for t in arrays["tau_m"][:-1].tolist()]
    assert keep == (1.0 - net.decay[cells]).tolist()


def test_nest_weight_scaling_round_trips() -> None:
    """Grid weights survive PyNN's (w * 1000) * 1e-3 exactly; most reals after correction
    (about 2% of reals are no double's image: those stay one ulp off)."""
    grid = np.arange(-2**14, 2**14) / 2.0**6
    np.testing.assert_array_equal((pynn_export._nest_weights(grid) * 1000.0) * 1e-3, grid)
    w = np.random.default_rng(0).normal(size=20000) * 10
    before = (w * 1000.0) * 1e-3 == w
    after = (pynn_export._nest_weights(w) * 1000.0) * 1e-3 == w
    assert (after >= before).all() and after.mean() > 0.97 > before.mean()


@pytest.mark.parametrize(("kw", "message"), [
    ({"p": 0.5}, r"neuron 'n' is stochastic \(p = 0.5\)"),
    ({"decay": 0.5, "threshold": 0.0}, r"neuron 'n' is leaky .* threshold 0.0 <= 0"),
    ({"decay": 0.9807371998012386}, r"neuron 'n' has decay 0.98.*: no tau_m gives"),
])
def test_refusals_name_the_neuron(kw: dict, message: str) -> None:
    net = Network()
    net.input("x")
    net.neuron("ok")
    net.neuron("n", **kw)
    net.synapse("x", "n")
    with pytest.raises(ExportError, match=r"^error: PyNN export: " + message):
        pynn_export.pynn_arrays(net)


# --- under pyNN.nest ----------------------------------------------------------------------------


@pytest.mark.parametrize("program", PROGRAMS, ids=[p.name for p in PROGRAMS])
def test_examples_give_identical_spikes(program: Path) -> None:
    sim = _nest()
    run = read_run(program.read_text())
    net = spikec.load(program, **run.params)
    inputs = run.inputs or None
    if (net.p[~net.is_input] < 1).any():
        first = net.name_of(int(np.flatnonzero(~net.is_input & (net.p < 1))[0]))
        message = rf"^error: PyNN export: neuron '{re.escape(first)}' is stochastic"
        with pytest.raises(ExportError, match=message):
            pynn_export.build(net, sim, run.steps, inputs, run.seed)
        return
    got = pynn_export.simulate_pynn(net, sim, run.steps, inputs, run.seed)
    np.testing.assert_array_equal(got, _reference(net, run.steps, inputs, run.seed))


@pytest.mark.parametrize("seed", range(12))
def test_random_networks_give_identical_spikes(seed: int) -> None:
    sim = _nest()
    net, inputs = _random_net(seed, leaky=seed % 3 == 2)
    got = pynn_export.simulate_pynn(net, sim, 24, inputs)
    np.testing.assert_array_equal(got, _reference(net, 24, inputs))


@settings(max_examples=25, deadline=None)
@given(net=networks(stochastic=False), steps=st.integers(0, 20), data=st.data())
def test_hypothesis_networks_give_identical_spikes_or_a_named_refusal(net: Network, steps: int,
                                                                        data: st.DataObject) -> None:
    sim = _nest()
    inputs = {name: data.draw(st.lists(st.integers(0, 25), max_size=6)) for name in net.inputs()}
    cells = ~net.is_input
    unfit = np.flatnonzero(cells & (net.decay > 0) & (net.decay < 1) & (net.threshold <= 0))
    if len(unfit):  # the strategy's decays (1/4, 1/2, 3/4) all have an exact tau_m
        message = rf"^error: PyNN export: neuron '{re.escape(net.name_of(int(unfit[0])))}' is leaky"
        with pytest.raises(ExportError, match=message):
            pynn_export.build(net, sim, steps, inputs)
        return
    got = pynn_export.simulate_pynn(net, sim, steps, inputs)
    np.testing.assert_array_equal(got, _reference(net, steps, inputs))


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(100, 300))
def test_many_random_networks_give_identical_spikes(seed: int) -> None:
    sim = _nest()
    net, inputs = _random_net(seed, n_in=4, n=20, leaky=seed % 2 == 0)
    got = pynn_export.simulate_pynn(net, sim, 24, inputs)
    np.testing.assert_array_equal(got, _reference(net, 24, inputs))


def test_documented_time_offset() -> None:
    """Under pyNN.nest spikec step t is recorded at t + SHIFT ms (the probe fires at SHIFT)."""
    sim = _nest()
    net = Network()
    net.input("x")
    net.neuron("n")
    net.synapse("x", "n", delay=2)
    built = pynn_export.build(net, sim, 8, {"x": [1, 4]})
    spikes = built.run()
    assert np.flatnonzero(spikes[net.index("n")]).tolist() == [3, 6]
    trains = built.neurons.get_data("spikes").segments[0].spiketrains
    times = {int(st.annotations["source_index"]): np.asarray(st, dtype=float).tolist() for st in trains}
    assert times == {0: [3.0 + pynn_export.SHIFT, 6.0 + pynn_export.SHIFT], 1: [float(pynn_export.SHIFT)]}


def test_emitted_script_runs(tmp_path: Path) -> None:
    _nest()
    program = next(p for p in PROGRAMS if p.name == "kofn.spk")
    net = spikec.load(program)
    script = tmp_path / "net.py"
    assert spikec.cli.main(["compile", str(program), "--emit", "pynn", "-o", str(script)]) == 0
    assert (tmp_path / "net.npz").is_file()
    out = tmp_path / "spikes.npz"
    argv = [sys.executable, str(script), "--simulator", "nest", "--steps", "8", "-o", str(out)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    with np.load(out) as f:
        spikes, names = f["spikes"], f["names"].tolist()
    ref = _reference(net, 8)  # the script holds the compiled network (same names here)
    assert names == net.names(np.flatnonzero(~net.is_input))
    np.testing.assert_array_equal(spikes, ref[~net.is_input])
    assert "d.y: 1" in done.stdout
