"""The event-driven engine (spikec.backends.event) against the reference interpreter and numpy.

Every comparison is bit for bit: spikes, and potentials compared as float64 bit patterns
against the numpy engine (which adds in the same order) and by value against the reference
interpreter (the strategies' dyadic values make its sums exact). Runs are made both with
every potential recorded (every neuron is then touched at every step) and with spikes only
or a few potentials, which is where the active sets decide what is skipped.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import spikec
from spikec.backends import event
from spikec.backends.memory import memory_total
from spikec.backends.reference import reference_simulate
from spikec.backends.simulator import Simulator, _choose_engine
from spikec.errors import SpikecError
from strategies import Case, cases, quarters

pytestmark = pytest.mark.skipif(not event.available(), reason=f"no event kernel: {event.unavailable()}")


def run(net: spikec.Network, steps: int, engine: str, **kw: Any) -> spikec.SimResult:
    return spikec.simulate(net, steps, record="all", engine=engine, **kw)


def same(a: spikec.SimResult, b: spikec.SimResult, bits: bool = True) -> None:
    """Equal spikes, potentials and event counts (potentials bit for bit when ``bits``)."""
    np.testing.assert_array_equal(a.spike_array(), b.spike_array())
    for name, pa in a.potentials.items():
        pb = b.potentials[name]
        if bits:
            np.testing.assert_array_equal(pa.view(np.uint64), pb.view(np.uint64), err_msg=name)
        else:
            np.testing.assert_array_equal(pa, pb, err_msg=name)
    assert a.synaptic_events == b.synaptic_events


@st.composite
def sparse_cases(draw: st.DrawFn) -> Case:
    """A network where most neurons rest (bias 0, v0 0, positive threshold) and a few
    leak, carry a bias, start charged, are stochastic or over threshold; delays up to 30,
    file and Poisson stimuli, currents, several trials."""
    net = spikec.Network("sparse")
    n_in = draw(st.integers(0, 3))
    n = draw(st.integers(1, 24))
    ins = [net.input(f"in{i}") for i in range(n_in)]
    for name in ins:
        kind = draw(st.sampled_from(["times", "rate", "none"]))
        if kind == "times":
            net.stimulus(name, draw(st.lists(st.integers(0, 30), max_size=5)))
        elif kind == "rate":
            net.stimulus(name, rate=draw(st.sampled_from([0.1, 0.5, 1.0])))
    names = []
    for i in range(n):
        special = draw(st.integers(0, 3)) == 0
        names.append(net.neuron(
            f"n{i}",
            threshold=draw(st.sampled_from([1.0, 2.0, 0.5, -0.5] if special else [1.0, 2.0])),
            decay=draw(st.sampled_from([0.0, 0.5, 1.0, 0.25])),
            reset=draw(st.sampled_from([0.0, -1.0, 0.5, -0.0])),
            bias=draw(st.sampled_from([0.0, 0.25, -0.25, -0.0])) if special else 0.0,
            p=draw(st.sampled_from([1.0, 0.5, 0.0])),
            v0=draw(quarters) if special else draw(st.sampled_from([0.0, -0.0])),
        ))
    for _ in range(draw(st.integers(0, 3 * (n + n_in)))):
        pre = draw(st.sampled_from(ins + names))
        post = draw(st.sampled_from(names))
        net.synapse(pre, post, weight=draw(quarters), delay=draw(st.sampled_from([1, 1, 2, 3, 7, 30])))
    steps = draw(st.integers(0, 40))
    trials = draw(st.integers(1, 3))
    currents: dict[str, Any] = {}
    if steps and draw(st.booleans()):
        currents[draw(st.sampled_from(names))] = [draw(quarters) for _ in range(steps)]
    return Case(net, steps, trials, draw(st.integers(0, 2**32)), {}, currents)


def check_case(case: Case, trial_offset: int = 0) -> None:
    kw = dict(inputs=case.inputs, currents=case.currents, seed=case.seed, trials=case.trials,
              trial_offset=trial_offset)
    ref = reference_simulate(case.net, case.steps, **kw)
    cells = [n.name for n in case.net.neurons() if not n.is_input]
    for potentials in (True, False, cells[::3]):
        got = run(case.net, case.steps, "event", potentials=potentials, **kw)
        base = run(case.net, case.steps, "numpy", potentials=potentials, **kw)
        same(got, base)
        np.testing.assert_array_equal(got.spike_array(), ref.spike_array())
        for name, pot in got.potentials.items():
            if name in ref.potentials:  # the reference records no input's potential
                np.testing.assert_array_equal(pot, ref.potentials[name], err_msg=name)


@given(cases())
def test_event_equals_reference_and_numpy(case: Case) -> None:
    check_case(case)


@given(sparse_cases(), st.integers(0, 5))
def test_sparse_networks_with_stimuli_and_offsets(case: Case, trial_offset: int) -> None:
    check_case(case, trial_offset)


@given(sparse_cases(), st.sampled_from([0.1, 1 / 3, 0.7]))
def test_same_rounding_as_numpy_and_native(case: Case, scale: float) -> None:
    """Non-dyadic weights round: the event engine adds in the numpy/native order."""
    net = spikec.Network()
    for neuron in case.net.neurons():
        if neuron.is_input:
            net.input(neuron.name)
        else:
            net.neuron(neuron.name, **neuron.params())
    for s in case.net.synapses():
        net.synapse(s.pre, s.post, weight=s.weight * scale, delay=s.delay)
    names = case.net.names()
    for i in case.net.input_indices().tolist():
        net.stimulus(names[i], list(range(0, 40, 3)))
    kw: dict[str, Any] = dict(currents=case.currents, seed=case.seed, trials=case.trials)
    for potentials in (True, False):
        got = run(net, case.steps, "event", potentials=potentials, **kw)
        same(got, run(net, case.steps, "numpy", potentials=potentials, **kw))
        same(got, run(net, case.steps, "native", potentials=potentials, **kw))


def test_empty_network_and_zero_steps() -> None:
    net = spikec.Network()
    assert run(net, 5, "event").spike_array().shape == (0, 1, 5)
    net.neuron("a", bias=1.0)
    same(run(net, 0, "event"), run(net, 0, "numpy"))


def test_no_synapses_and_all_inputs() -> None:
    net = spikec.Network()
    for i in range(4):
        net.input(f"x{i}")
    inputs = {f"x{i}": list(range(i, 20, i + 1)) for i in range(4)}
    same(run(net, 20, "event", inputs=inputs, trials=2), run(net, 20, "numpy", inputs=inputs, trials=2))
    net2 = spikec.Network()
    for i in range(5):
        net2.neuron(f"n{i}", v0=float(i), decay=0.5, threshold=3.5)
    same(run(net2, 10, "event", potentials=True), run(net2, 10, "numpy", potentials=True))


def test_bias_neuron_fires_every_step() -> None:
    net = spikec.Network()
    net.neuron("clock", bias=1.0, threshold=1.0, decay=1.0)
    net.neuron("count", threshold=1e9)
    net.synapse("clock", "count", 1.0, 1)
    r = run(net, 50, "event", potentials=["count"])
    assert r.spike_times("clock") == [list(range(50))]
    assert r.potentials["count"][0].tolist() == [float(max(t, 0)) for t in range(50)]
    same(r, run(net, 50, "numpy", potentials=["count"]))


@pytest.mark.parametrize("delay", [1, 2, 63, 500])
def test_short_and_long_delays(delay: int) -> None:
    """A relay chain with one delay (ring length 2 up to 501) and a loop back."""
    net = spikec.Network()
    net.input("x")
    prev = "x"
    for i in range(6):
        net.neuron(f"r{i}", threshold=1.0, decay=1.0)
        net.synapse(prev, f"r{i}", 1.0, delay)
        prev = f"r{i}"
    net.synapse("r5", "r0", 0.5, 1)
    steps = 8 * delay + 5
    kw: dict[str, Any] = dict(inputs={"x": [0, 1, 3]}, trials=2)
    got = run(net, steps, "event", **kw)
    assert got.spike_times("r5")[0][:1] == [6 * delay]
    same(got, run(net, steps, "numpy", **kw))
    np.testing.assert_array_equal(got.spike_array(), reference_simulate(net, steps, **kw).spike_array())


def test_quiet_rule() -> None:
    v = np.array([0.0, -0.0, 1.0, 1.0, 2.0, 0.0])
    bias = np.array([0.0, 0.0, 0.0, 1.0, 0.0, 0.0])
    thr = np.array([1.0, 1.0, 5.0, 5.0, 1.0, 0.0])
    keep = np.array([1.0, 1.0, 0.5, 0.5, 1.0, 1.0])
    # at rest; -0.0 + 0.0 is +0.0 (a change); leaking; bias 1 fixed point of (v+1)/2; over
    # threshold; threshold 0 fires at rest
    assert event.quiet(v, bias, thr, keep).tolist() == [True, False, False, True, False, False]


def test_touches_only_active_neurons(monkeypatch: pytest.MonkeyPatch) -> None:
    """One spike down a 1000-neuron relay chain: about one neuron touched per step."""
    from spikec.backends import simulator

    engine = event.EventEngine()
    monkeypatch.setattr(simulator, "_choose_engine", lambda name, work, steps=0: engine)
    r = spikec.simulate(chain(1000), 300, inputs={"x": [0]})
    assert r.spike_times("c[299]") == [[]] and r.spike_times("c[298]") == [[299]]
    assert int(engine._arrays[-1].sum()) == 299  # touched: c[k] at step k + 1 only


def chain(n: int) -> spikec.Network:
    net = spikec.Network("pipeline")
    net.input("x")
    cells = net.add_neurons("c", n, threshold=1.0, decay=1.0)
    net.add_synapses(np.concatenate([[net.index("x")], cells[:-1]]), cells, 1.0, 1)
    return net


def dense(n: int, bias: float) -> spikec.Network:
    """sim_throughput's kind: random wiring, leak, every neuron driven every step."""
    rng = np.random.default_rng(0)
    net = spikec.Network("dense")
    ins = net.add_inputs("in", 20)
    cells = net.add_neurons("c", n, threshold=1.0, decay=0.25, bias=bias, v0=0.5)
    pre = rng.choice(np.concatenate([ins, cells]), 40 * n)
    net.add_synapses(np.sort(pre), rng.choice(cells, 40 * n), 0.25, rng.integers(1, 5, 40 * n))
    return net


def chosen(net: spikec.Network, steps: int, caplog: pytest.LogCaptureFixture, **kw: Any) -> str:
    with caplog.at_level(logging.DEBUG, logger="spikec.backends.event"):
        caplog.clear()
        spikec.simulate(net, steps, engine="auto", **kw)
    words = [r.getMessage().split()[2] for r in caplog.records if r.getMessage().startswith("engine auto")]
    return words[0] if words else "none"


def test_auto_picks_event_on_a_sparse_pipeline(caplog: pytest.LogCaptureFixture,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SPIKEC_ENGINE", raising=False)
    assert chosen(chain(20_000), 200, caplog, inputs={"x": list(range(0, 200, 7))}) == "event"


def test_auto_leaves_event_on_dense_networks(caplog: pytest.LogCaptureFixture,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SPIKEC_ENGINE", raising=False)
    rates = {f"in[{i}]": list(range(400)) for i in range(20)}
    # every neuron leaks from v0 (static rule), or is driven every step (measured)
    assert chosen(dense(5000, 0.1), 400, caplog) == "native"
    assert chosen(dense(5000, 0.0), 400, caplog, inputs=rates) == "native"


def test_engine_is_selectable(monkeypatch: pytest.MonkeyPatch) -> None:
    assert isinstance(_choose_engine("event", 1), event.EventEngine)
    monkeypatch.setenv("SPIKEC_ENGINE", "event")
    assert isinstance(_choose_engine("auto", 1), event.EventEngine)
    net = chain(30)
    kw: dict[str, Any] = dict(inputs={"x": [0, 5]}, trials=3)
    same(Simulator(net).run(40, **kw), run(net, 40, "numpy", **kw))


def test_switch_after_the_probe_keeps_results(caplog: pytest.LogCaptureFixture,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """A dense stochastic run measured by the probe and finished by the native kernel."""
    monkeypatch.delenv("SPIKEC_ENGINE", raising=False)
    net = dense(3000, 0.0)
    for i in range(0, 3000, 7):
        net.neuron(f"s{i}", threshold=0.5, p=0.5)
        net.synapse(net.names()[20 + i], f"s{i}", 1.0, 2)
    rates = {f"in[{i}]": list(range(0, 800, 2)) for i in range(20)}
    kw: dict[str, Any] = dict(inputs=rates, trials=2, seed=3, record="all")
    assert chosen(net, 800, caplog, **kw) == "native"
    same(spikec.simulate(net, 800, engine="auto", **kw), spikec.simulate(net, 800, engine="event", **kw))
    same(spikec.simulate(net, 800, engine="auto", **kw), spikec.simulate(net, 800, engine="numpy", **kw))


def test_auto_runs_native_when_the_event_state_does_not_fit() -> None:
    """engine="auto" prefers the event engine for a quiet network, but when its active sets
    would pass max_memory and the native kernel's run fits, the native kernel runs it: the
    same spikes, no refusal."""
    from spikec.backends import native

    if native.library() is None:
        pytest.skip("no C compiler")
    net = spikec.Network("quiet")
    x = net.add_inputs("x", 10)
    y = net.add_neurons("y", 20_000, threshold=1.0)
    net.add_synapses(np.repeat(x, 2), y[:20], 1.0, 1)
    sim = Simulator(net)
    steps = 100
    with_event = memory_total(sim.memory_estimate(steps, record="all", engine="event"))
    with_native = memory_total(sim.memory_estimate(steps, record="all", engine="native"))
    assert with_event > with_native
    limit = (with_event + with_native) // 2
    inputs = {"x[3]": [0, 5]}
    auto = sim.run(steps, inputs=inputs, record="all", engine="auto", max_memory=limit)
    ref = sim.run(steps, inputs=inputs, record="all", engine="native")
    assert np.array_equal(auto.spike_array(), ref.spike_array()) and auto.spike_array().any()
    with pytest.raises(SpikecError, match="over the limit"):
        sim.run(steps, inputs=inputs, record="all", engine="event", max_memory=limit)
