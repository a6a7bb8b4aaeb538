"""Memory accounting of runs (issue 13): the estimate covers what a run allocates (Poisson
draws, the kernel's gather/scatter temporaries, recordings, decoders, the CLI output stage,
``solve``), a run over the limit is refused before it allocates, and the chunked code paths
give the same numbers as unchunked ones."""

from __future__ import annotations

import json
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from spikec.backends import simulator as simmod
from spikec.backends.diffusion import memory_estimate, solve
from spikec.backends.results import check_output, output_bytes
from spikec.backends.simulator import Simulator, memory_total, simulate
from spikec.backends.stimulus import STIMULUS_STREAM, trial_rng
from spikec.diffusion.problem import DiffusionError, Problem
from spikec.errors import SimulationError
from spikec.ir import decoders
from spikec.ir.decoders import count_field, decode_probes
from spikec.ir.network import Network

MB = 1 << 20


def _poisson(k: int) -> Network:
    net = Network("poisson")
    net.stimulate(net.add_inputs("i", k), rate=0.1)
    return net


def _firing(n: int) -> Network:
    net = Network("fire")
    idx = net.add_neurons("n", n, threshold=1.0, bias=1.0, decay=1.0)
    net.add_synapses(idx, np.roll(idx, 1), 0.0, 1)
    return net


def _one() -> Network:
    net = Network("one")
    net.add_neurons("n", 1, threshold=1.0, bias=1.0, decay=1.0)
    return net


def _mesh(nx: int, per: int) -> Any:
    from spikec.circuits.diffusion import diffusion_network

    p = Problem(shape=(nx, nx), D=1.0, dx=1.0, dt=0.2, steps=4, initial=np.full((nx, nx), per),
                boundary=(("reflecting", "reflecting"),) * 2, drift=(0.0, 0.0))
    return diffusion_network(p, "d")


def _peak(fn: Callable[[], Any]) -> tuple[int, Any]:
    tracemalloc.start()
    try:
        out: Any = None
        try:
            out = fn()
        except Exception as exc:  # noqa: BLE001 - returned for the caller to check
            out = exc
        return tracemalloc.get_traced_memory()[1], out
    finally:
        tracemalloc.stop()


# -- refused before allocating -------------------------------------------------------------


@pytest.mark.parametrize(("net", "steps", "part"), [
    (lambda: _poisson(10_000), 2_000, "input spikes"),
    (lambda: _firing(100_000), 50, "spike delivery"),
    (lambda: _one(), 20_000_000, "recorded spikes"),
])
def test_oversized_runs_are_refused_before_allocating(net: Callable[[], Network], steps: int,
                                                      part: str) -> None:
    network = net()
    sim = Simulator(network)
    limit = 4 * MB
    peak, err = _peak(lambda: sim.run(steps, max_memory=limit, engine="numpy"))
    assert isinstance(err, SimulationError)
    assert "needs about" in err.message and "over the limit of 4.0 MiB" in err.message and part in err.message
    assert "raise max_memory / SPIKEC_MAX_MEMORY" in err.message
    assert peak < limit / 2  # nothing of the run's size was allocated


def test_compiling_a_network_over_the_limit_is_refused_first() -> None:
    with pytest.raises(SimulationError, match="compiling 100,000 neurons and 100,000 synapses"):
        simulate(_firing(100_000), 1, max_memory=1 * MB)


def test_cli_output_stage_is_refused_before_it_builds_lists() -> None:
    net = _one()
    result = simulate(net, 2_000_000)
    assert output_bytes(net, result) > 100 * MB  # 2e6 spike steps as Python ints and JSON
    peak, err = _peak(lambda: check_output(net, result, max_memory=16 * MB))
    assert isinstance(err, SimulationError)
    assert "printing this result needs about" in err.message and "over the limit of 16.0 MiB" in err.message
    assert peak < 4 * MB


def test_solve_with_huge_trials_is_refused_at_once() -> None:
    net = _mesh(3, 2)
    peak, err = _peak(lambda: solve(net, trials=100_000_000))
    assert isinstance(err, DiffusionError)
    assert "100,000,000 trials" in err.message and "for their counts alone" in err.message
    assert "--trial-offset" in err.message
    assert peak < 16 * MB


def test_solve_refuses_when_one_trial_does_not_fit() -> None:
    with pytest.raises(DiffusionError, match="one trial of .* neural steps recording"):
        solve(_mesh(4, 5), trials=1, max_memory=64 << 10)


# -- the chunked paths give the same numbers --------------------------------------------------


def test_poisson_draws_in_blocks_are_the_one_draw(monkeypatch: pytest.MonkeyPatch) -> None:
    from spikec.backends import stimulus

    monkeypatch.setattr(stimulus, "_POISSON_BLOCK", 37)
    net = _poisson(10)
    res = simulate(net, 50, trials=2, seed=3, trial_offset=1, record="all")
    for b in range(2):
        want = trial_rng(3, 1 + b, STIMULUS_STREAM).random((50, 10)) < 0.1
        assert np.array_equal(res.spike_array()[:, b, :], want.T)


def test_delivery_in_chunks_matches_the_kernel(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(0)
    net = Network("r")
    idx = net.add_neurons("n", 300, threshold=1.0, bias=0.3, decay=0.1)
    pre, post = rng.integers(0, 300, 3000), rng.integers(0, 300, 3000)
    net.add_synapses(idx[pre], idx[post], rng.normal(0.2, 0.3, 3000), rng.integers(1, 5, 3000))
    want = simulate(net, 60, trials=3, record="all", potentials=True, engine="numpy")
    monkeypatch.setattr(simmod, "_EVENT_CHUNK", 7)
    got = simulate(net, 60, trials=3, record="all", potentials=True, engine="numpy")
    assert np.array_equal(want.spike_array(), got.spike_array())
    assert np.array_equal(want.potentials_of(range(300)), got.potentials_of(range(300)))
    assert got.synaptic_events == want.synaptic_events > 0


def test_field_counts_in_blocks_match(monkeypatch: pytest.MonkeyPatch) -> None:
    net = _mesh(4, 3)
    sol = solve(net, trials=3, seed=2)
    monkeypatch.setattr(decoders, "FIELD_CELLS", 5)
    small = solve(net, trials=3, seed=2, max_memory=sol.counts.nbytes + 3 * MB)
    assert np.array_equal(sol.counts, small.counts)
    assert np.array_equal(sol.neural_steps, small.neural_steps)


def test_decoders_unchanged_by_the_lean_binary() -> None:
    rng = np.random.default_rng(1)
    spikes = rng.random((2, 30, 5)) < 0.3
    out = decoders.decode("binary", spikes)
    for b in range(2):
        want = [[t, int(sum(1 << i for i in range(5) if spikes[b, t, i]))]
                for t in range(30) if spikes[b, t].any()]
        assert out[b] == want
    counts, complete = count_field(np.zeros((1, 4, 2), dtype=bool), [-1, 0], (1,))
    assert counts.shape == (1, 0, 1) and complete.shape == (1, 0)


# -- the estimate is close to what is allocated (tracemalloc) ----------------------------------


def _ratio_of_run(net: Network, steps: int, engine: str, **kw: Any) -> float:
    simulate(net, 2, engine=engine, **kw)  # imports and kernels loaded outside the measurement
    peak, _ = _peak(lambda: simulate(net, steps, engine=engine, **kw))
    est = memory_total(Simulator(net).memory_estimate(steps, kw.get("trials", 1), record=kw.get("record"),
                                                      engine=engine))
    return peak / est


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["numpy", "native"])
@pytest.mark.parametrize(("make", "steps", "kw"), [
    (lambda: _poisson(10_000), 500, {"record": "all"}),
    (lambda: _firing(100_000), 50, {"record": []}),
    (lambda: _firing(20_000), 50, {"record": "all", "trials": 4}),
    (lambda: _one(), 2_000_000, {}),
])
def test_run_estimate_within_bounds(make: Callable[[], Network], steps: int, kw: dict[str, Any],
                                    engine: str) -> None:
    ratio = _ratio_of_run(make(), steps, engine, **kw)
    assert 0.5 <= ratio <= 1.25, ratio


@pytest.mark.slow
def test_output_stage_estimate_within_bounds() -> None:
    net = _one()
    result = simulate(net, 1_000_000)

    def build() -> str:
        doc = {"spikes": {n: result.spike_times(n) for n in result.spikes},
               "probes": decode_probes(net, result.spikes)}
        text = json.dumps(doc) + "\n"
        return text.encode().decode()

    peak, _ = _peak(build)
    ratio = peak / output_bytes(net, result)
    assert 0.5 <= ratio <= 1.25, ratio


@pytest.mark.slow
def test_solve_estimate_within_bounds() -> None:
    net = _mesh(10, 100)
    est = memory_estimate(net, trials=4)
    peak, sol = _peak(lambda: solve(net, trials=4))
    assert not isinstance(sol, Exception)
    assert 0.5 <= peak / est <= 1.25, peak / est
