"""Trial ensembles on Dask (:mod:`spikec.backends.ensemble`): a sharded run equals one process.

Oracle: the same run in one process (``simulate`` / ``solve`` without a client), which
the simulator's own tests check against the reference interpreter. Clusters are
small (two workers, threads in this process, except the killed-worker test, which
needs worker processes) and every wait is bounded.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

distributed = pytest.importorskip("distributed")

import spikec  # noqa: E402
from spikec.backends import ensemble  # noqa: E402
from spikec.backends.diffusion import solve  # noqa: E402
from spikec.backends.simulator import simulate as simulate_one  # noqa: E402
from spikec.circuits.diffusion import diffusion_network  # noqa: E402
from spikec.diffusion import problem_from_params  # noqa: E402
from spikec.errors import SpikecError  # noqa: E402
from spikec.ir.decoders import decode_probes  # noqa: E402

TRIALS, STEPS = 11, 30


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=":0") as c:
        yield c


@pytest.fixture
def client(cluster: Any) -> Iterator[Any]:
    with distributed.Client(cluster) as c:
        yield c


def random_net(seed: int) -> spikec.Network:
    """A small random network with every source of randomness and order: Poisson and given
    inputs, stochastic and leaky neurons, delays, decoder and raw probes."""
    rng = np.random.default_rng(seed)
    net = spikec.Network()
    net.input("x")
    net.input("noise")
    net.stimulus("noise", rate=0.3)  # Poisson: drawn from each trial's own stream
    n = 8
    for i in range(n):
        net.neuron(f"y{i}", threshold=float(rng.uniform(0.5, 2)), decay=float(rng.choice([0, 0.25, 1])),
                   p=float(rng.choice([1.0, 0.5])), bias=float(rng.choice([0, 0.1])))
    names = ["x", "noise"] + [f"y{i}" for i in range(n)]
    for _ in range(30):
        pre, post = names[rng.integers(len(names))], f"y{rng.integers(n)}"
        net.synapse(pre, post, weight=float(rng.normal(0.6, 0.5)), delay=int(rng.integers(1, 4)))
    net.probe("y0", "y1", "y2", decoder="count", label="c")
    net.probe("y3", "y4", decoder="binary", label="b")
    net.probe("y5", label="raw")
    return net


def run_kw(seed: int) -> dict[str, Any]:
    rng = np.random.default_rng(seed + 100)
    return {"inputs": {"x": rng.random((TRIALS, STEPS)) < 0.3},  # one raster per trial: shards slice it
            "currents": {"y6": rng.normal(0, 0.2, (TRIALS, STEPS)), "y7": 0.05},
            "seed": seed, "trials": TRIALS, "trial_offset": 3}


@pytest.mark.parametrize("shard", [None, 1, 4, TRIALS])
@pytest.mark.parametrize("seed", [0, 1])
def test_rasters_identical_for_every_shard_size(client: Any, shard: int | None, seed: int) -> None:
    net, kw = random_net(seed), run_kw(seed)
    one = simulate_one(net, STEPS, potentials=True, record="all", **kw)
    dist = spikec.simulate(net, STEPS, potentials=True, record="all", client=client, shard_trials=shard, **kw)
    assert isinstance(dist, spikec.SimResult)
    assert np.array_equal(dist.spike_array(), one.spike_array())
    assert np.array_equal(dist.potentials_of(range(len(net))), one.potentials_of(range(len(net))))
    assert (dist.synaptic_events, dist.trials, dist.trial_offset) == (one.synaptic_events, TRIALS, 3)
    assert dist.spikes.keys() == one.spikes.keys()


@pytest.mark.parametrize("shard", [None, 2, 5])
def test_reductions_on_the_workers_equal_one_process(client: Any, shard: int | None) -> None:
    net, kw = random_net(2), run_kw(2)
    one = simulate_one(net, STEPS, **kw)
    red = spikec.simulate(net, STEPS, client=client, keep_raster=False, shard_trials=shard,
                          reduce=lambda r: np.count_nonzero(r.spike_array(), axis=(0, 2)), **kw)
    assert isinstance(red, ensemble.EnsembleResult)
    assert red.probes == decode_probes(net, one.spikes)
    assert np.array_equal(red.spike_counts, np.count_nonzero(one.spike_array(), axis=2))
    assert np.array_equal(red.counts_of("y5"), np.count_nonzero(one.spikes_of("y5"), axis=2))
    assert red.synaptic_events == one.synaptic_events
    # the reduce values come back per shard, in trial order, with the shards' trials
    assert sum(n for _, n in red.shards) == TRIALS and red.shards[0][0] == 3
    assert np.array_equal(np.concatenate(red.reduced), np.count_nonzero(one.spike_array(), axis=(0, 2)))


@pytest.mark.parametrize("workers", [1, 3])
def test_identical_for_every_worker_count(workers: int) -> None:
    net, kw = random_net(3), run_kw(3)
    one = simulate_one(net, STEPS, **kw)
    with distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=False,
                                  dashboard_address=":0") as c, distributed.Client(c) as cl:
        dist = spikec.simulate(net, STEPS, client=cl, **kw)
    assert np.array_equal(dist.spike_array(), one.spike_array())


def test_network_is_scattered_once_not_sent_per_shard(client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    scattered: list[Any] = []
    submitted: list[tuple[Any, ...]] = []
    scatter, submit = client.scatter, client.submit

    def spy_scatter(data: Any, **kw: Any) -> Any:
        scattered.append(data)
        return scatter(data, **kw)

    def spy_submit(fn: Any, *args: Any, **kw: Any) -> Any:
        submitted.append(args)
        return submit(fn, *args, **kw)

    monkeypatch.setattr(client, "scatter", spy_scatter)
    monkeypatch.setattr(client, "submit", spy_submit)
    net, kw = random_net(4), run_kw(4)
    spikec.simulate(net, STEPS, client=client, shard_trials=2, **kw)
    assert len(scattered) == 1 and scattered[0].net is net
    assert len(submitted) == 6
    for args in submitted:  # a future, then the shard's trials and its own slice of the inputs
        assert isinstance(args[0], distributed.Future)
        assert not any(isinstance(a, spikec.Network) for a in args)
        assert len(args[3]["x"]) == args[2]


def test_shards_fit_the_memory_limit(client: Any) -> None:
    net = random_net(5)
    sim = spikec.Simulator(net)
    limit = 300_000
    one = simulate_one(net, 400, trials=40, seed=5)
    dist = spikec.simulate(net, 400, trials=40, seed=5, client=client, max_memory=limit, keep_raster=False)
    assert isinstance(dist, ensemble.EnsembleResult)
    size = max(n for _, n in dist.shards)
    need = ensemble.memory_total(sim.memory_estimate(400, size, record=one.recorded))
    assert need <= limit and len(dist.shards) > 2
    assert np.array_equal(dist.spike_counts, np.count_nonzero(one.spike_array(), axis=2))
    with pytest.raises(SpikecError, match="over the memory of a shard"):
        spikec.simulate(net, 400, trials=40, client=client, max_memory=20_000, keep_raster=False)


def test_solver_fields_identical_on_the_workers(client: Any) -> None:
    p = problem_from_params({"nx": 5, "D": 1.0, "dx": 1.0, "dt": 0.2, "steps": 4, "walkers": 6})
    net = diffusion_network(p, "d")
    one = solve(net, trials=9, seed=5, trial_offset=2)
    for shard in (None, 1, 4):
        sol = solve(net, trials=9, seed=5, trial_offset=2, client=client, shard_trials=shard)
        assert np.array_equal(sol.counts, one.counts)
        assert np.array_equal(sol.neural_steps, one.neural_steps)


def test_progress_counts_shards_on_stderr(client: Any, capsys: pytest.CaptureFixture[str],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "tqdm", None)  # the fallback: one stderr line
    net, kw = random_net(6), run_kw(6)
    spikec.simulate(net, STEPS, client=client, progress=True, shard_trials=5, **kw)
    err = capsys.readouterr().err
    assert "trials 5/11" in err and "trials 11/11" in err


def test_cli_scheduler_gives_the_one_process_document(cluster: Any, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    from spikec.cli import main

    spk = Path(__file__).parents[1] / "examples" / "stochastic.spk"
    args = ["sim", str(spk), "--steps", "30", "--trials", "7", "--seed", "2", "--json"]
    assert main(args) == 0
    one = json.loads(capsys.readouterr().out)
    assert main([*args, "--scheduler", cluster.scheduler_address]) == 0
    assert json.loads(capsys.readouterr().out) == one


def test_without_dask_the_message_says_what_to_install(monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)
    net = random_net(0)
    with pytest.raises(SpikecError, match=r'pip install "spikec\[dist\]"'):
        spikec.simulate(net, 5, client=object())
    p = problem_from_params({"nx": 5, "D": 1.0, "dx": 1.0, "dt": 0.2, "steps": 2, "walkers": 2})
    with pytest.raises(SpikecError, match=r'pip install "spikec\[dist\]"'):
        solve(diffusion_network(p, "d"), client=object())
    from spikec.cli import main

    spk = Path(__file__).parents[1] / "examples" / "stochastic.spk"
    assert main(["sim", str(spk), "--steps", "5", "--workers", "2"]) == 1
    assert 'pip install "spikec[dist]"' in capsys.readouterr().err


def test_bad_options_are_refused(client: Any) -> None:
    net = random_net(0)
    with pytest.raises(SpikecError, match="keep_raster=False"):
        spikec.simulate(net, 5, client=client, reduce=len)
    with pytest.raises(SpikecError, match="apply to runs on a Dask client"):
        spikec.simulate(net, 5, keep_raster=False)
    with pytest.raises(SpikecError, match="shard_trials must be an integer >= 1"):
        spikec.simulate(net, 5, client=client, shard_trials=0)
    with pytest.raises(SpikecError, match="no input neuron named 'nope'"):
        spikec.simulate(net, 5, client=client, inputs={"nope": [1]})


def _kill_first_time(marker: str) -> Any:
    def reduce(result: Any) -> int:
        if result.trial_offset == 4 and not os.path.exists(marker):
            Path(marker).write_text("killed")
            os.kill(os.getpid(), signal.SIGKILL)  # this worker process dies mid-shard
        return int(result.spike_array().sum())
    return reduce


def test_a_killed_worker_is_retried_and_the_result_is_identical(tmp_path: Path) -> None:
    net, kw = random_net(7), run_kw(7)
    kw["trial_offset"] = 0
    one = simulate_one(net, STEPS, **kw)
    marker = str(tmp_path / "killed")

    def timeout(*_: Any) -> None:
        raise TimeoutError("the distributed run took over 60 s")

    old = signal.signal(signal.SIGALRM, timeout)
    signal.alarm(60)
    try:
        with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                      dashboard_address=":0", silence_logs=50) as c, \
                distributed.Client(c) as cl:
            red = spikec.simulate(net, STEPS, client=cl, keep_raster=False, shard_trials=2,
                                  reduce=_kill_first_time(marker), **kw)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    assert os.path.exists(marker)  # a worker really died
    assert isinstance(red, ensemble.EnsembleResult)
    assert red.probes == decode_probes(net, one.spikes)
    assert np.array_equal(red.spike_counts, np.count_nonzero(one.spike_array(), axis=2))
    assert red.synaptic_events == one.synaptic_events
    assert sum(red.reduced) == int(one.spike_array().sum())


@pytest.mark.slow
def test_cli_workers_start_a_local_cluster_with_the_same_answer(capsys: pytest.CaptureFixture[str]) -> None:
    # --workers starts worker processes (a few seconds), so this runs with --slow only
    from spikec.cli import main

    root = Path(__file__).parents[1] / "examples"
    sim = ["sim", str(root / "stochastic.spk"), "--steps", "40", "--trials", "9", "--seed", "4", "--json"]
    assert main(sim) == 0
    one = json.loads(capsys.readouterr().out)
    assert main([*sim, "--workers", "2"]) == 0
    assert json.loads(capsys.readouterr().out) == one
    solve_args = ["solve", str(root / "diffusion.spk"), "--trials", "3", "--seed", "1", "--json"]
    assert main(solve_args) == 0
    alone = json.loads(capsys.readouterr().out)
    assert main([*solve_args, "--workers", "2"]) == 0
    shared = json.loads(capsys.readouterr().out)
    assert shared["mean"] == alone["mean"] and shared["neural_steps"] == alone["neural_steps"]


def test_thread_limit_caps_the_kernel_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    """A Dask task holds one thread of its worker: runs inside thread_limit(1) start one kernel
    thread whatever SPIKEC_THREADS or the affinity say, and give the same result."""
    from spikec.backends import native

    monkeypatch.setenv("SPIKEC_THREADS", "4")
    assert native.cores() == 4
    with native.thread_limit(1):
        assert native.cores() == 1
        with native.thread_limit(None):
            assert native.cores() == 4
        assert native.cores() == 1
    assert native.cores() == 4
