"""Inputs by window and draws computed on demand: what the engines read, checked independently.

- :class:`~spikec.backends.stimulus.InputPlan` holds given and file spikes as sorted keys and
  draws Poisson stimuli window by window. Any partition of a run into windows gives the raster
  built cell by cell from the same inputs (Poisson cells from one ``random((steps, k))`` per
  trial of the stimulus stream), and each window's events decode to its raster.
- :class:`~spikec.backends.stimulus.BlockDraws` leaves a block of uniforms undrawn; its rows and
  generator states are those of numpy's own draws, and the event kernel's own uniforms (jumped
  to from those states) give the spikes numpy's ``random`` gives.
- Runs split into many blocks (tiny block sizes) agree bit for bit between the event engine,
  the numpy engine and the reference interpreter, with given inputs of every form, Poisson and
  file stimuli and stochastic neurons.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import spikec
from spikec.backends import event
from spikec.backends import simulator as simulator_module
from spikec.backends.reference import reference_simulate
from spikec.backends.stimulus import NEURON_STREAM, STIMULUS_STREAM, BlockDraws, plan_inputs, trial_rng
from spikec.errors import SimulationError
from strategies import networks

needs_event = pytest.mark.skipif(not event.available(), reason=f"no event kernel: {event.unavailable()}")


@st.composite
def stimulated(draw: st.DrawFn) -> tuple[spikec.Network, int, int, int, dict[str, Any], np.ndarray]:
    """A network of inputs with given spikes of every form, file times and Poisson rates, and
    the raster they mean, built cell by cell."""
    net = spikec.Network("inputs")
    k = draw(st.integers(1, 6))
    steps = draw(st.integers(1, 30))
    trials = draw(st.integers(1, 3))
    seed = draw(st.integers(0, 2**16))
    net.add_inputs("x", k)
    names = [f"x[{i}]" for i in range(k)]
    expected = np.zeros((steps, trials, k), dtype=bool)
    times = st.lists(st.integers(0, steps + 3), max_size=8)
    given_: dict[str, Any] = {}
    rates: dict[int, float] = {}
    for i, name in enumerate(names):
        form = draw(st.sampled_from(["every", "per-trial", "raster", "raster-per-trial", "file", "rate",
                                     "none"]))
        if form == "every":
            ts = draw(times)
            given_[name] = ts
            expected[[t for t in ts if t < steps], :, i] = True
        elif form == "per-trial":
            lists = [draw(times) for _ in range(trials)]
            given_[name] = lists
            for b, ts in enumerate(lists):
                expected[[t for t in ts if t < steps], b, i] = True
        elif form == "raster":
            row = np.array(draw(st.lists(st.booleans(), min_size=steps, max_size=steps)), dtype=bool)
            given_[name] = row
            expected[:, :, i] = row[:, None]
        elif form == "raster-per-trial":
            cells = np.array(draw(st.lists(st.booleans(), min_size=steps * trials, max_size=steps * trials)))
            given_[name] = cells.reshape(trials, steps)
            expected[:, :, i] = cells.reshape(trials, steps).T
        elif form == "file":
            ts = draw(times)
            net.stimulus(name, ts)
            expected[[t for t in ts if t < steps], :, i] = True
        elif form == "rate":
            rates[i] = draw(st.sampled_from([0.1, 0.5, 0.9]))
            net.stimulus(name, rate=rates[i])
    if rates:  # one random((steps, k)) per trial over the Poisson inputs, in network order
        cols = sorted(rates)
        p = np.array([rates[c] for c in cols])
        for b in range(trials):
            expected[:, b, cols] = trial_rng(seed, b, STIMULUS_STREAM).random((steps, len(cols))) < p
    return net, steps, trials, seed, given_, expected


@given(stimulated(), st.data())
def test_windows_of_any_partition_are_the_raster(case: tuple[Any, ...], data: st.DataObject) -> None:
    net, steps, trials, seed, given_, expected = case
    plan = plan_inputs(net, steps, trials, given_, seed, 0)
    assert np.array_equal(plan.raster, expected)
    cuts = sorted(set(data.draw(st.lists(st.integers(1, steps), max_size=4)) + [steps]))
    t0 = 0
    for t1 in cuts:
        window = plan.window(t0, t1)
        if data.draw(st.booleans()):
            ptr, col = window.events  # events first (from the keys when there is no Poisson input)
            raster = window.raster
        else:
            raster = window.raster
            ptr, col = window.events
        assert np.array_equal(raster, expected[t0:t1])
        decoded = np.zeros_like(raster)
        rows = np.repeat(np.arange(len(ptr) - 1), np.diff(ptr))
        decoded.reshape(-1, raster.shape[2])[rows, col] = True
        assert np.array_equal(decoded, raster)
        for r in range(len(ptr) - 1):  # ascending columns within each step and trial
            assert np.all(np.diff(col[ptr[r]:ptr[r + 1]]) > 0)
        t0 = t1


@pytest.mark.parametrize("dense", [True, False])
def test_dense_and_sparse_plans_read_alike(dense: bool) -> None:
    """Inputs busy at most steps are kept as one raster, sparse ones as keys; both read the same."""
    net = spikec.Network("both")
    net.add_inputs("x", 8)
    rng = np.random.default_rng(4)
    steps, trials = 50, 2
    rows = rng.random((8, trials, steps)) < (0.7 if dense else 0.02)
    plan = plan_inputs(net, steps, trials, {f"x[{i}]": rows[i] for i in range(8)}, 0, 0)
    assert (plan.dense is not None) == dense
    np.testing.assert_array_equal(plan.raster, rows.transpose(2, 1, 0))
    ptr, col = plan.window(10, 30).events
    assert len(col) == rows[:, :, 10:30].sum() and ptr[-1] == len(col)


def test_poisson_windows_must_come_in_order() -> None:
    net = spikec.Network("p")
    net.input("x")
    net.stimulus("x", rate=0.5)
    plan = plan_inputs(net, 10, 1, None, 0, 0)
    first = plan.window(0, 4).raster
    assert first.shape == (4, 1, 1)
    with pytest.raises(ValueError, match="in order"):
        _ = plan.window(6, 8).raster


def test_file_spikes_over_the_budget_are_refused_before_they_are_made() -> None:
    net = spikec.Network("big")
    net.add_inputs("x", 1000)
    for i in range(1000):
        net.stimulus(f"x[{i}]", list(range(0, 1000)))
    with pytest.raises(SimulationError, match=r"\(1,000,000,000 given and file spikes over 1,000 trials"):
        plan_inputs(net, 1000, 1000, None, 0, 0, max_bytes=1 << 29)
    with pytest.raises(SimulationError, match="given and file spikes"):
        spikec.simulate(net, 1000, trials=1000, record=[], max_memory=1 << 29)


@given(st.integers(1, 40), st.integers(1, 9), st.integers(1, 3), st.integers(0, 2**32), st.data())
@settings(max_examples=40)
def test_block_draws_are_numpys_draws(rows: int, width: int, trials: int, seed: int,
                                      data: st.DataObject) -> None:
    rngs = [trial_rng(seed, b, NEURON_STREAM) for b in range(trials)]
    fresh = [trial_rng(seed, b, NEURON_STREAM) for b in range(trials)]
    want = np.stack([g.random((rows, width)) for g in fresh], axis=1)  # (rows, trials, width)
    r0 = data.draw(st.integers(0, rows - 1))
    block = BlockDraws(rngs, rows, width)
    np.testing.assert_array_equal(block.array(r0), want[r0:])
    states = block.states(r0)
    for b in range(trials):
        g = trial_rng(seed, b, NEURON_STREAM)
        g.random(r0 * width)
        st_ = g.bit_generator.state["state"]
        assert int(states[b, 0]) << 64 | int(states[b, 1]) == st_["state"]
        assert int(states[b, 2]) << 64 | int(states[b, 3]) == st_["inc"]
    block.advance()  # as if drawn: the next block continues the stream
    np.testing.assert_array_equal(rngs[0].random(5), fresh[0].random(5))


@needs_event
@pytest.mark.parametrize("p", [0.5, 0.125, 0.9])
def test_event_kernel_uniforms_are_the_stream(p: float) -> None:
    """Neurons held over threshold by their bias fire exactly where numpy's uniforms of the
    trial's neuron stream (one per stochastic neuron per step, network order) are below p."""
    net = spikec.Network("coins")
    for i in range(7):
        net.neuron(f"c{i}", threshold=1.0, bias=2.0, reset=0.0, p=p if i != 3 else 1.0)
    steps, trials, seed = 300, 3, 11
    got = spikec.simulate(net, steps, trials=trials, seed=seed, engine="event", trial_offset=2)
    stochastic = [i for i in range(7) if i != 3]
    for b in range(trials):
        u = trial_rng(seed, 2 + b, NEURON_STREAM).random((steps, len(stochastic)))
        spikes = got.spikes_of([f"c{i}" for i in range(7)])[:, b, :]
        np.testing.assert_array_equal(spikes[stochastic], (u < p).T)
        assert spikes[3].all()


@st.composite
def driven(draw: st.DrawFn) -> tuple[spikec.Network, int, int, int, dict[str, Any]]:
    """A random network whose inputs are given in every form, plus file and Poisson stimuli."""
    net = draw(networks(max_neurons=9))
    steps = draw(st.integers(1, 25))
    trials = draw(st.integers(1, 3))
    times = st.lists(st.integers(0, steps), max_size=6)
    given_: dict[str, Any] = {}
    for name in net.inputs():
        form = draw(st.sampled_from(["every", "per-trial", "raster", "rate", "file"]))
        if form == "every":
            given_[name] = draw(times)
        elif form == "per-trial":
            given_[name] = [draw(times) for _ in range(trials)]
        elif form == "raster":
            given_[name] = np.array(draw(st.lists(st.booleans(), min_size=steps, max_size=steps)))
        elif form == "rate":
            net.stimulus(name, rate=draw(st.sampled_from([0.25, 0.75])))
        else:
            net.stimulus(name, draw(times))
    return net, steps, trials, draw(st.integers(0, 2**32)), given_


@needs_event
@given(driven(), st.sampled_from([1, 2, 7]))
@settings(max_examples=60, deadline=None)
def test_many_blocks_agree_with_numpy_and_the_reference(case: tuple[Any, ...], rows: int) -> None:
    net, steps, trials, seed, given_ = case
    kw: dict[str, Any] = dict(inputs=given_, seed=seed, trials=trials, record="all")
    ref = reference_simulate(net, steps, inputs=given_, seed=seed, trials=trials)
    saved = simulator_module._DRAW_BLOCK, simulator_module._INPUT_BLOCK
    n_draw = max(1, int(np.count_nonzero(net.param("p") < 1)))
    n_in = max(1, len(net.inputs()))
    try:  # blocks of `rows` steps
        simulator_module._DRAW_BLOCK = rows * n_draw * trials
        simulator_module._INPUT_BLOCK = rows * n_in * trials
        got = {e: spikec.simulate(net, steps, engine=e, potentials=True, **kw) for e in ("event", "numpy")}
    finally:
        simulator_module._DRAW_BLOCK, simulator_module._INPUT_BLOCK = saved
    np.testing.assert_array_equal(got["event"].spike_array(), ref.spike_array())
    np.testing.assert_array_equal(got["numpy"].spike_array(), ref.spike_array())
    for name, pot in got["event"].potentials.items():
        np.testing.assert_array_equal(pot.view(np.uint64), got["numpy"].potentials[name].view(np.uint64))


def test_auto_runs_long_runs_of_small_networks_compiled() -> None:
    """numpy's loop costs about the same per step however small the network, so "auto" keeps it
    for small, short runs only; the long run's spikes are the same either way."""
    from spikec.backends import native
    from spikec.backends.simulator import _choose_engine

    assert _choose_engine("auto", 1_000, 10) is None
    if native.library() is None:
        pytest.skip(f"no native kernel: {native.unavailable()}")
    assert _choose_engine("auto", 1_000, 5_000) is not None
    net = spikec.Network("tiny")
    net.neuron("a", threshold=1.0, bias=0.25, reset=0.0)
    net.neuron("b", threshold=2.0)
    net.synapse("a", "b", weight=1.0, delay=3)
    got = spikec.simulate(net, 5_000, record="all")
    want = spikec.simulate(net, 5_000, record="all", engine="numpy")
    np.testing.assert_array_equal(got.spike_array(), want.spike_array())
    assert got.spikes_of("a")[0, 0].sum() == 5_000 // 4  # a fires every 4th step


def test_the_estimate_counts_each_trials_generator() -> None:
    """A run of many trials of a tiny network is mostly per-trial Python objects: the estimate
    grows per trial by at least what a trial's generator takes (measured with tracemalloc)."""
    import tracemalloc

    from spikec.backends.memory import memory_total

    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    held = [trial_rng(0, b, NEURON_STREAM) for b in range(2000)]
    per_generator = (tracemalloc.get_traced_memory()[0] - before) / len(held)
    tracemalloc.stop()
    net = spikec.Network("tiny")
    net.neuron("y", threshold=1.0, p=0.5)
    sim = spikec.Simulator(net)
    one, many = (memory_total(sim.memory_estimate(4, t, record=[])) for t in (1, 10_001))
    assert (many - one) / 10_000 >= per_generator > 100
