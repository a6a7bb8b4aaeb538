"""The simulator against hand-computed traces, the reference interpreter, and statistics.

Behavioural tests are written once and run on every engine (the fast
simulator and the reference interpreter), as each rule of
``docs/semantics.md`` must hold on both.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

import spikec
from spikec import LimitError, SimulationError
from spikec.backends.reference import reference_simulate
from strategies import Case, cases

Engine = Callable[..., spikec.SimResult]


def with_engine(engine: str) -> Engine:
    def run(net: spikec.Network, steps: int, **kw: Any) -> spikec.SimResult:
        return spikec.simulate(net, steps, record="all", potentials=True, engine=engine, **kw)

    return run


numpy_engine = with_engine("numpy")
numba_engine = with_engine("numba")
native_engine = with_engine("native")
ENGINES = {"numpy": numpy_engine, "numba": numba_engine, "native": native_engine,
           "reference": reference_simulate}


@pytest.fixture(params=sorted(ENGINES))
def engine(request: pytest.FixtureRequest) -> Engine:
    return ENGINES[request.param]


def one(threshold: float = 1.0, **params: float) -> spikec.Network:
    """An input 'x' feeding a neuron 'y' through weight 1, delay 1."""
    net = spikec.Network()
    net.input("x")
    net.neuron("y", threshold=threshold, **params)
    net.synapse("x", "y")
    return net


class TestHandTraces:
    def test_threshold_is_inclusive(self, engine: Engine) -> None:
        r = engine(one(threshold=1.0, decay=1.0), 4, inputs={"x": [0, 2]})
        assert r.spike_times("y") == [[1, 3]]

    def test_below_threshold_does_not_fire(self, engine: Engine) -> None:
        r = engine(one(threshold=1.0 + 2**-40, decay=1.0), 4, inputs={"x": [0, 2]})
        assert r.spike_times("y") == [[]]

    def test_perfect_integrator_counts(self, engine: Engine) -> None:
        # threshold 3, no leak: fires on the third arrival (steps 1, 2, 3), then resets.
        r = engine(one(threshold=3.0), 8, inputs={"x": [0, 1, 2, 3, 4, 5]})
        assert r.spike_times("y") == [[3, 6]]
        assert r.potentials["y"][0].tolist() == [0, 1, 2, 3, 1, 2, 3, 0]

    def test_leak_after_a_non_spike(self, engine: Engine) -> None:
        # decay 0.5: V after integration = 1, 1.5, 0.75, 0.375 ...
        net = one(threshold=10.0, decay=0.5)
        r = engine(net, 5, inputs={"x": [0, 1]})
        assert r.potentials["y"][0].tolist() == [0.0, 1.0, 1.5, 0.75, 0.375]

    def test_reset_after_a_spike(self, engine: Engine) -> None:
        # reset = 0.5: after the spike at 1 the potential restarts at 0.5, not 0.
        r = engine(one(threshold=1.0, reset=0.5), 4, inputs={"x": [0, 1]})
        assert r.spike_times("y") == [[1, 2]]
        assert r.potentials["y"][0].tolist() == [0.0, 1.0, 1.5, 0.5]

    def test_bias_every_step(self, engine: Engine) -> None:
        net = spikec.Network()
        net.neuron("y", threshold=1.0, bias=0.25)
        r = engine(net, 9)
        assert r.spike_times("y") == [[3, 7]]

    def test_v0_is_the_potential_before_step_0(self, engine: Engine) -> None:
        net = spikec.Network()
        net.neuron("y", threshold=1.0, bias=0.25, v0=0.75)
        r = engine(net, 6)
        assert r.spike_times("y") == [[0, 4]]

    def test_injected_current(self, engine: Engine) -> None:
        net = spikec.Network()
        net.neuron("y", threshold=1.0, decay=1.0)
        r = engine(net, 4, currents={"y": [0.5, 1.0, 2.0, 0.99]})
        assert r.spike_times("y") == [[1, 2]]

    def test_delay_moves_arrival(self, engine: Engine) -> None:
        net = spikec.Network()
        net.input("x")
        net.neuron("y", decay=1.0)
        net.synapse("x", "y", delay=3)
        r = engine(net, 8, inputs={"x": [0, 4]})
        assert r.spike_times("y") == [[3, 7]]

    def test_parallel_synapses_add(self, engine: Engine) -> None:
        # two synapses of weight 1 with the same delay reach threshold 2 together;
        # with different delays they arrive apart and a memoryless gate never fires.
        net = spikec.Network()
        net.input("x")
        net.neuron("same", threshold=2.0, decay=1.0)
        net.neuron("apart", threshold=2.0, decay=1.0)
        net.synapse("x", "same")
        net.synapse("x", "same")
        net.synapse("x", "apart", delay=1)
        net.synapse("x", "apart", delay=2)
        r = engine(net, 5, inputs={"x": [0]})
        assert r.spike_times("same") == [[1]]
        assert r.spike_times("apart") == [[]]

    def test_inhibition(self, engine: Engine) -> None:
        net = spikec.Network()
        net.input("a")
        net.input("b")
        net.neuron("y", decay=1.0)
        net.synapse("a", "y", weight=1.0)
        net.synapse("b", "y", weight=-1.0)
        r = engine(net, 4, inputs={"a": [0, 1], "b": [1]})
        assert r.spike_times("y") == [[1]]

    def test_stochastic_loser_keeps_leaked_potential(self, engine: Engine) -> None:
        # p = 0 never fires: the potential keeps integrating (leak 0) as if below threshold.
        r = engine(one(threshold=1.0, p=0.0), 4, inputs={"x": [0, 1, 2]})
        assert r.spike_times("y") == [[]]
        assert r.potentials["y"][0].tolist() == [0.0, 1.0, 2.0, 3.0]
        r = engine(one(threshold=1.0, p=0.0, decay=0.5), 4, inputs={"x": [0]})
        assert r.potentials["y"][0].tolist() == [0.0, 1.0, 0.5, 0.25]

    def test_input_spike_acts_one_step_later_at_earliest(self, engine: Engine) -> None:
        r = engine(one(decay=1.0), 3, inputs={"x": [0]})
        assert r.spike_times("x") == [[0]]
        assert r.spike_times("y") == [[1]]

    def test_per_trial_inputs(self, engine: Engine) -> None:
        r = engine(one(decay=1.0), 4, trials=3, inputs={"x": [[0], [], [1, 2]]})
        assert r.spike_times("y") == [[1], [], [2, 3]]

    def test_majority_of_language_spec(self, engine: Engine) -> None:
        net = spikec.Network()
        for i in range(3):
            net.input(f"x[{i}]")
        net.neuron("maj", threshold=2, decay=1)
        for i in range(3):
            net.synapse(f"x[{i}]", "maj")
        net.neuron("slow", threshold=1, decay=1)
        net.synapse("maj", "slow", weight=1, delay=4)
        r = engine(net, 8, inputs={"x[0]": [0, 2], "x[1]": [0]})
        assert r.spike_times("maj") == [[1]]
        assert r.spike_times("slow") == [[5]]


@given(cases())
def test_engines_equal_reference(case: Case) -> None:
    """numpy, native and numba engines agree with the reference bit for bit (spikes and potentials)."""
    kw = dict(inputs=case.inputs, currents=case.currents, seed=case.seed, trials=case.trials)
    ref = reference_simulate(case.net, case.steps, **kw)
    for engine in (numpy_engine, native_engine, numba_engine):
        got = engine(case.net, case.steps, **kw)
        for name in ref.spikes:
            np.testing.assert_array_equal(got.spikes[name], ref.spikes[name], err_msg=name)
        for name in ref.potentials:
            np.testing.assert_array_equal(got.potentials[name], ref.potentials[name], err_msg=name)
        assert got.synaptic_events == sum(
            int(ref.spikes[s.pre].sum()) for s in case.net.synapses() if s.delay < case.steps
        ) or case.steps == 0


@given(cases(), st.sampled_from([0.1, 1 / 3, 0.7]))
def test_engines_agree_on_non_dyadic_values(case: Case, scale: float) -> None:
    """The engines add in the same order, so they agree even where sums round."""
    net = spikec.Network()
    for neuron in case.net.neurons():
        if neuron.is_input:
            net.input(neuron.name)
        else:
            params = neuron.params()
            params["threshold"] *= scale
            net.neuron(neuron.name, **params)
    for s in case.net.synapses():
        net.synapse(s.pre, s.post, weight=s.weight * scale, delay=s.delay)
    kw = dict(inputs=case.inputs, seed=case.seed, trials=case.trials)
    a = numpy_engine(net, case.steps, **kw)
    for other in (numba_engine, native_engine):
        b = other(net, case.steps, **kw)
        for name in a.spikes:
            np.testing.assert_array_equal(a.spikes[name], b.spikes[name], err_msg=name)
            if name in a.potentials:
                np.testing.assert_array_equal(a.potentials[name], b.potentials[name], err_msg=name)


@given(cases())
def test_trial_sharding_is_identical(case: Case) -> None:
    """Trials run in two shards (via trial_offset) equal the single run."""
    if case.trials < 2:
        return
    per_trial = {k: v for k, v in case.inputs.items() if v and isinstance(v[0], list)}
    shared = {k: v for k, v in case.inputs.items() if k not in per_trial}
    whole = spikec.simulate(case.net, case.steps, inputs=case.inputs, currents=case.currents,
                            seed=case.seed, trials=case.trials, record="all")
    cut = 1
    parts = []
    for lo, hi in ((0, cut), (cut, case.trials)):
        inputs = {**shared, **{k: v[lo:hi] for k, v in per_trial.items()}}
        parts.append(spikec.simulate(case.net, case.steps, inputs=inputs,
                                     currents=case.currents, seed=case.seed,
                                     trials=hi - lo, trial_offset=lo, record="all"))
    for name, arr in whole.spikes.items():
        np.testing.assert_array_equal(arr, np.concatenate([p.spikes[name] for p in parts]))


def stochastic_net(p: float) -> spikec.Network:
    net = spikec.Network()
    net.neuron("s", threshold=0.0, decay=1.0, p=p)  # over threshold every step
    return net


@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
def test_stochastic_rate_within_binomial_bounds(p: float) -> None:
    steps, trials = 2000, 8
    r = spikec.simulate(stochastic_net(p), steps, trials=trials, seed=7)
    k = int(r.spikes["s"].sum())
    n = steps * trials
    # two-sided exact binomial test; a correct simulator fails it 1 time in 10^6
    assert stats.binomtest(k, n, p).pvalue > 1e-6


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(20))
def test_stochastic_draws_are_independent_across_steps(seed: int) -> None:
    """Runs of spikes of a p=0.5 neuron: the lag-1 pair counts fit independence (chi-square)."""
    r = spikec.simulate(stochastic_net(0.5), 20000, seed=seed)
    s = r.spikes["s"][0].astype(int)
    pairs = np.bincount(2 * s[:-1] + s[1:], minlength=4)
    assert stats.chisquare(pairs).pvalue > 1e-4


def test_same_seed_reproduces_and_other_seed_differs() -> None:
    net = stochastic_net(0.5)
    a = spikec.simulate(net, 200, trials=4, seed=3).spikes["s"]
    b = spikec.simulate(net, 200, trials=4, seed=3).spikes["s"]
    c = spikec.simulate(net, 200, trials=4, seed=4).spikes["s"]
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    # trials of one run are independent streams, not copies
    assert not np.array_equal(a[0], a[1])


def test_draw_blocks_do_not_change_results(monkeypatch: pytest.MonkeyPatch) -> None:
    from spikec.backends import simulator

    net = stochastic_net(0.3)
    a = spikec.simulate(net, 300, trials=2, seed=1).spikes["s"]
    monkeypatch.setattr(simulator, "_DRAW_BLOCK", 7)
    for engine in ("numpy", "numba"):
        b = spikec.simulate(net, 300, trials=2, seed=1, engine=engine).spikes["s"]
        np.testing.assert_array_equal(a, b)


def test_file_poisson_stimulus_rate_and_override() -> None:
    net = spikec.Network()
    net.input("x")
    net.stimulus("x", rate=0.2)
    r = spikec.simulate(net, 5000, seed=2)
    assert stats.binomtest(int(r.spikes["x"].sum()), 5000, 0.2).pvalue > 1e-6
    # an API input overrides the file stimulus
    r = spikec.simulate(net, 10, inputs={"x": [3]})
    assert r.spike_times("x") == [[3]]


def test_file_spike_times_stimulus() -> None:
    net = one(decay=1.0)
    net.stimulus("x", [0, 4])
    assert spikec.simulate(net, 6).spike_times("y") == [[1, 5]]


def test_bool_raster_inputs() -> None:
    raster = np.zeros((2, 5), dtype=bool)
    raster[0, 1] = raster[1, 3] = True
    r = spikec.simulate(one(decay=1.0), 5, trials=2, inputs={"x": raster})
    assert r.spike_times("y") == [[2], [4]]


def test_long_delays_beyond_the_run_are_harmless() -> None:
    net = spikec.Network()
    net.input("x")
    net.neuron("y", decay=1.0)
    net.synapse("x", "y", delay=10**9)  # would be a huge ring buffer if kept
    net.synapse("x", "y", delay=2)
    assert spikec.simulate(net, 5, inputs={"x": [0]}).spike_times("y") == [[2]]


def test_record_subset_and_events() -> None:
    net = one(decay=1.0)
    r = spikec.simulate(net, 5, inputs={"x": [0, 1]}, record=["y"])
    assert list(r.spikes) == ["y"]
    assert r.spikes["y"].shape == (1, 5)
    assert r.synaptic_events == 2


def test_record_defaults_to_probes() -> None:
    net = one(decay=1.0)
    net.probe("y")
    assert list(spikec.simulate(net, 3).spikes) == ["y"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"steps": -1}, r"^error: steps must be an integer >= 0, got -1$"),
        ({"trials": 0}, r"^error: trials must be an integer >= 1, got 0$"),
        ({"inputs": {"z": [1]}}, r"^error: no input neuron named 'z'$"),
        ({"inputs": {"xx": [1]}}, r"did you mean 'x'"),
        ({"inputs": {"y": [1]}}, r"^error: input 'y' is a neuron, not an input neuron$"),
        ({"inputs": {"x": [-1]}}, r"^error: input 'x': spike steps must be >= 0, got -1$"),
        ({"inputs": {"x": [0.5]}}, r"spike steps must be integers, got 0.5"),
        ({"inputs": {"x": [[0], [1]]}}, r"2 per-trial spike lists for 1 trials"),
        ({"currents": {"x": 1.0}}, r"input neurons have no potential"),
        ({"currents": {"y": [1.0, 2.0]}}, r"shape \(2,\) is none of"),
        ({"record": ["q"]}, r"^error: record: no neuron named 'q'$"),
        ({"engine": "fortran"},
         r"^error: unknown engine 'fortran'; expected one of auto, numpy, native, numba, event$"),
        ({"max_memory": 10}, r"needs about .* over the limit of 10 bytes;"),
    ],
)
def test_bad_runs_are_refused(kwargs: dict[str, Any], message: str) -> None:
    args = {"steps": 5, **kwargs}
    with pytest.raises(SimulationError, match=message):
        spikec.simulate(one(), **args)


def test_memory_limit_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPIKEC_MAX_MEMORY", "1K")
    with pytest.raises(SimulationError, match="over the limit"):
        spikec.simulate(one(), 1000, trials=10)
    monkeypatch.setenv("SPIKEC_MAX_MEMORY", "lots")
    expected = "SPIKEC_MAX_MEMORY: expected a size in bytes such as 8G, 512M or 1e9, got 'lots'"
    with pytest.raises(LimitError, match=expected):
        spikec.simulate(one(), 10)
    for bad in ("1e400", "inf", "-1", "0", "nan"):
        monkeypatch.setenv("SPIKEC_MAX_MEMORY", bad)
        with pytest.raises(LimitError, match="SPIKEC_MAX_MEMORY"):
            spikec.simulate(one(), 10)
    monkeypatch.setenv("SPIKEC_MAX_MEMORY", "2GiB")
    assert spikec.simulate(one(), 10).steps == 10


def test_zero_steps() -> None:
    r = spikec.simulate(one(), 0)
    assert r.spikes["y"].shape == (1, 0)
    assert r.spike_times("y") == [[]]


def test_astronomical_delays_and_weights() -> None:
    net = spikec.Network()
    net.input("x")
    net.neuron("y", decay=1.0)
    net.synapse("x", "y", delay=2**63 - 1)  # the longest delay the IR holds: valid, never arrives
    net.synapse("x", "y", delay=1)
    assert spikec.simulate(net, 3, inputs={"x": [0]}).spike_times("y") == [[1]]
    for engine in ("numpy", "numba"):
        assert spikec.simulate(net, 3, inputs={"x": [0]}, engine=engine).spike_times("y") == [[1]]
    with pytest.raises(spikec.VerifyError, match="delay must be at most 2\\*\\*63 - 1 steps"):
        net.synapse("x", "y", delay=10**30)
    with pytest.raises(spikec.VerifyError, match="weight must be finite, got inf"):
        net.synapse("x", "y", weight=10**400)


def test_progress_bar_counts_every_step_and_changes_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from spikec.backends import simulator

    class Bar:
        def __init__(self, total: int) -> None:
            self.total, self.n, self.closed = total, 0, False

        def update(self, k: int) -> None:
            self.n += k

        def close(self) -> None:
            self.closed = True

    bars: list[Bar] = []
    monkeypatch.setattr(simulator, "_progress_bar", lambda steps: bars.append(Bar(steps)) or bars[-1])
    net = stochastic_net(0.5)
    for engine in ("numpy", "numba"):
        a = spikec.simulate(net, 500, trials=2, seed=9, engine=engine)
        b = spikec.simulate(net, 500, trials=2, seed=9, engine=engine, progress=True)
        np.testing.assert_array_equal(a.spikes["s"], b.spikes["s"])
    assert [(x.total, x.n, x.closed) for x in bars] == [(500, 500, True)] * 2


@pytest.mark.parametrize("engine", ["numba", "native"])
def test_compiled_engines_on_an_empty_network(monkeypatch: pytest.MonkeyPatch, engine: str) -> None:
    monkeypatch.setenv("SPIKEC_ENGINE", engine)
    r = spikec.simulate(spikec.Network(), 5, trials=2)
    assert r.spikes == {} and r.synaptic_events == 0
    only_inputs = spikec.Network()
    only_inputs.input("x")
    assert spikec.simulate(only_inputs, 4, inputs={"x": [1]}, engine=engine).spike_times("x") == [[1]]


def test_native_engine_builds_once_and_falls_back_without_a_compiler(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:
    from spikec.backends import native

    net = spikec.Network()
    net.add_inputs("x", 3)
    net.add_neurons("y", 3, threshold=2.0, decay=0.5)
    net.connect(net.array("x"), net.array("y"), weight=0.75, delay=2)
    want = spikec.simulate(net, 20, inputs={"x[0]": [0, 1, 5], "x[2]": [3]}, trials=3, engine="numpy",
                           record="all", potentials=True)
    monkeypatch.setattr(native, "_STATE", {})
    monkeypatch.setenv("SPIKEC_CACHE_DIR", str(tmp_path / "cache"))
    got = spikec.simulate(net, 20, inputs={"x[0]": [0, 1, 5], "x[2]": [3]}, trials=3, engine="native",
                          record="all", potentials=True)
    np.testing.assert_array_equal(got.recorded, want.recorded)
    np.testing.assert_array_equal(got.potentials_of(range(6)), want.potentials_of(range(6)))
    assert len(list((tmp_path / "cache").glob("native-*.so"))) == 1
    # a fresh cache and no compiler: "native" says why, "auto" runs numba or numpy instead
    monkeypatch.setattr(native, "_STATE", {})
    monkeypatch.setenv("SPIKEC_CACHE_DIR", str(tmp_path / "empty"))
    monkeypatch.setattr(native, "_compiler", lambda: None)
    with pytest.raises(spikec.SimulationError, match="engine 'native' is not available: no C compiler found"):
        spikec.simulate(net, 5, engine="native")
    auto = spikec.simulate(net, 20, inputs={"x[0]": [0, 1, 5], "x[2]": [3]}, trials=3, record="all")
    np.testing.assert_array_equal(auto.recorded, want.recorded)
    monkeypatch.setattr(native, "_STATE", {})


def test_compiling_and_running_make_no_python_object_per_neuron_or_synapse(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Simulator(net) and run() read the columns: the per-item views of the network are off limits."""
    net = spikec.Network()
    x = net.add_inputs("x", 50)
    y = net.add_neurons("y", 200, threshold=np.linspace(1, 3, 200), decay=0.5, p=0.75)
    rng = np.random.default_rng(0)
    net.add_synapses(rng.choice(np.concatenate([x, y]), 3000), rng.choice(y, 3000),
                     rng.integers(-4, 5, 3000) / 4, rng.integers(1, 6, 3000))
    net.stimulate(x[:25], rate=0.25)
    net.stimulate(x[25:], [0, 3, 7])
    expected = spikec.simulate(net, 30, seed=4, trials=2, record="all", potentials=True)

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("per-neuron or per-synapse Python view used")

    for method in ("neurons", "synapses", "names", "neuron_at", "neuron_locations"):
        monkeypatch.setattr(spikec.Network, method, refuse)
    monkeypatch.setattr(spikec.Network, "graph", property(refuse))
    for engine in ("numpy", "numba"):
        r = spikec.Simulator(net).run(30, seed=4, trials=2, record="all", potentials=y, engine=engine)
        np.testing.assert_array_equal(r.recorded, np.arange(len(net)))
        np.testing.assert_array_equal(r.spikes_of(r.recorded), np.stack(list(expected.spikes.values())))
        np.testing.assert_array_equal(r.potentials_of(y), expected.potentials_of(y))
    monkeypatch.undo()
    assert list(r.spikes) == net.names()


def test_results_by_index_and_by_name() -> None:
    net = spikec.Network()
    x = net.add_inputs("x", 3)
    net.neuron("y", threshold=2, decay=1)
    net.connect(x, "y")
    r = spikec.simulate(net, 4, inputs={"x[0]": [0, 1], "x[1]": [1], "x[2]": [2]}, record=x[::-1])
    assert list(r.spikes) == ["x[2]", "x[1]", "x[0]"]
    np.testing.assert_array_equal(r.recorded, x[::-1])
    np.testing.assert_array_equal(r.spikes_of(["x[0]", "x[2]"]), r.spikes_of(np.array([0, 2])))
    assert r.spikes_of("x[1]")[0, 0].tolist() == [False, True, False, False]
    with pytest.raises(SimulationError, match=r"^error: 'y' was not recorded$"):
        r.spikes_of("y")
    with pytest.raises(SimulationError, match=r"^error: neuron 3 was not recorded$"):
        r.spikes_of([3])
    with pytest.raises(SimulationError, match=r"^error: 'x\[9\]' was not recorded \(did you mean"):
        r.spike_times("x[9]")
    both = spikec.simulate(net, 4, inputs={"x[0]": [0], "x[1]": [0]}, record="y", potentials=True)
    assert both.potentials_of(["y"])[0, 0].tolist() == [0.0, 2.0, 0.0, 0.0]
    assert both.spike_times("y") == [[1]]


def test_results_keep_the_names_of_the_run() -> None:
    """Neuron names are read from a snapshot taken at the run, not from the edited network."""
    net = one(decay=1.0)
    r = spikec.simulate(net, 3, inputs={"x": [0]}, record="all")
    net.remove_neuron("x")
    net.neuron("z")
    assert r.spike_times("y") == [[1]] and list(r.spikes) == ["x", "y"]


def test_a_simulator_refuses_a_network_edited_after_it_was_made() -> None:
    net = one()
    sim = spikec.Simulator(net)
    net.neuron("z")
    with pytest.raises(SimulationError, match="edited after this Simulator was made"):
        sim.run(3)


@given(st.integers(1, 6), st.integers(1, 3), st.integers(1, 12), st.data())
def test_input_plan_equals_a_cell_by_cell_raster(k: int, trials: int, steps: int,
                                                 data: st.DataObject) -> None:
    """plan_inputs writes every given spike in one scatter: the raster equals one built cell by
    cell from the same lists (every-trial lists, per-trial lists, bool rasters, steps past the run)."""
    from spikec.backends.stimulus import plan_inputs

    net = spikec.Network("inputs")
    net.add_inputs("x", k)
    times = st.lists(st.integers(0, steps + 3), max_size=8)
    given: dict[str, Any] = {}
    expected = np.zeros((steps, trials, k), dtype=bool)
    for i in range(k):
        form = data.draw(st.sampled_from(["every", "per-trial", "raster", "none"]))
        if form == "every":
            ts = data.draw(times)
            given[f"x[{i}]"] = ts
            for t in ts:
                if t < steps:
                    expected[t, :, i] = True
        elif form == "per-trial":
            lists = [data.draw(times) for _ in range(trials)]
            given[f"x[{i}]"] = lists
            for b, ts in enumerate(lists):
                for t in ts:
                    if t < steps:
                        expected[t, b, i] = True
        elif form == "raster":
            row = np.array(data.draw(st.lists(st.booleans(), min_size=steps, max_size=steps)), dtype=bool)
            given[f"x[{i}]"] = row
            expected[:, :, i] = row[:, None]
    plan = plan_inputs(net, steps, trials, given, 0, 0)
    assert np.array_equal(plan.raster, expected)
