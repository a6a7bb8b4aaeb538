"""The density-method diffusion solver: exactness against the Markov chain it samples.

Oracles: the exact distribution of the chain (``Problem.occupancy_probabilities``,
computed from the transition matrix, independent of the circuit), hand traces,
conservation laws, and the same run split into shards.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from diffusion_checks import ALPHA, occupancy_p_values
from spikec import Network
from spikec.backends.diffusion import solve
from spikec.backends.simulator import simulate
from spikec.circuits.diffusion import density_resources, diffusion_network
from spikec.diffusion import DiffusionError, Problem, count_field, problem_from_params
from spikec.dsl import compile_text
from spikec.errors import SpikecError


def _net(problem: Problem) -> Network:
    return diffusion_network(problem, "d")


def _problem(**kw: object) -> Problem:
    base: dict[str, object] = {"nx": 5, "D": 1.0, "dx": 1.0, "dt": 0.2, "steps": 4, "walkers": 6}
    base.update(kw)
    return problem_from_params(base)


def _chi_square(counts: np.ndarray, problem: Problem) -> float:
    """Smallest p-value over model steps 1..steps of the pooled counts against the
    exact multinomial of the chain (all walkers start at one node)."""
    return min(occupancy_p_values(problem, counts, list(range(1, problem.steps + 1))))


def test_hand_trace_one_walker_drifting_right() -> None:
    # p(+x) = D dt/dx^2 + v dt/(2 dx) = 0.5 + 0.5 = 1 and p(-x) = 0: the path is certain
    p = problem_from_params({"nx": 3, "D": 0.5, "dx": 1.0, "dt": 1.0, "drift": 1.0, "steps": 3,
                             "walkers": 1, "source": 0, "boundary": "reflecting"})
    assert p.probabilities()["+x"] == 1.0 and p.probabilities()["-x"] == 0.0
    sol = solve(_net(p), trials=2, seed=0)
    # node 0 -> 1 -> 2 -> 2 (the wall refuses the move and the walker stays)
    expected = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [0, 0, 1]])
    assert (sol.counts == expected).all()
    # A model step takes d1 + 1 + n_max neural steps, d1 = 1 (one gate per node, +x) and
    # n_max = 1: the supervisor fires at 0 (boot), 3, 6, 9 and 12, closing step 3.
    assert (sol.neural_steps == 12).all()


def test_timing_of_a_model_step_follows_the_busiest_node() -> None:
    # 7 walkers at one node, no movement possible (D = 0 is refused, so use a tiny dt)
    p = problem_from_params({"nx": 1, "D": 1.0, "dt": 0.1, "steps": 2, "walkers": 7,
                             "boundary": "reflecting"})
    assert p.outcomes(0) == []  # one node, reflecting: nothing can happen but staying
    sol = solve(_net(p), trials=1)
    assert (sol.counts[0, :, 0] == 7).all()
    # d1 = 1; each model step takes d1 + 1 + 7 = 9 neural steps; the boot spike is at 0
    assert sol.neural_steps[0] == 9 * 3


@pytest.mark.parametrize("boundary", ["reflecting", "periodic"])
@pytest.mark.parametrize("ny", [1, 3])
def test_walkers_are_conserved_at_every_model_step(boundary: str, ny: int) -> None:
    p = _problem(nx=4, ny=ny, dt=0.1, boundary=boundary, walkers=9, drift=0.5, steps=6)
    for seed in range(3):
        sol = solve(_net(p), trials=40, seed=seed)
        totals = sol.counts.reshape(40, p.steps + 1, -1).sum(axis=2)
        assert (totals == 9).all()


@pytest.mark.parametrize("kw", [
    {"boundary": "reflecting"},
    {"boundary": "absorbing"},
    {"boundary": "periodic"},
    {"left": "absorbing", "right": "reflecting", "drift": 0.6},
    {"boundary": "periodic", "drift": -0.8},
    {"boundary": "reflecting", "kill": 0.5},
    {"ny": 3, "boundary": "reflecting", "drift_y": 0.5},
    {"ny": 3, "left": "periodic", "right": "periodic", "bottom": "absorbing", "top": "reflecting",
     "drift": 0.4},
])
def test_occupancy_matches_the_exact_markov_distribution(kw: dict[str, object]) -> None:
    p = _problem(nx=5, dt=0.2 if kw.get("ny") is None else 0.1, steps=4, walkers=5, source=1, **kw)
    sol = solve(_net(p), trials=300, seed=11)
    assert _chi_square(sol.counts, p) > ALPHA
    if p.conserves:
        assert (sol.counts.reshape(300, p.steps + 1, -1).sum(axis=2) == 5).all()


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(6))
def test_occupancy_chi_square_across_seeds(seed: int) -> None:
    p = _problem(nx=6, ny=2, dt=0.1, steps=5, walkers=8, source=2, left="absorbing", right="reflecting",
                 bottom="periodic", top="periodic", drift=0.5, kill=0.2)
    sol = solve(_net(p), trials=400, seed=seed)
    assert _chi_square(sol.counts, p) > ALPHA


def test_same_seed_same_field_and_shards_add_up() -> None:
    p = _problem(nx=6, walkers=10, boundary="absorbing", drift=0.3)
    net = _net(p)
    whole = solve(net, trials=30, seed=5)
    again = solve(net, trials=30, seed=5, steps=7)  # a far too short first guess
    assert (whole.counts == again.counts).all()
    parts = [solve(net, trials=n, seed=5, trial_offset=o) for o, n in ((0, 11), (11, 4), (15, 15))]
    assert (np.concatenate([s.counts for s in parts]) == whole.counts).all()
    other = solve(net, trials=30, seed=6)
    assert not (other.counts == whole.counts).all()


def test_field_decoder_and_probe_survive_a_json_round_trip(tmp_path: object) -> None:
    from spikec.ir.decoders import decode_probes
    from spikec.ir.serialize import load_network, save

    p = _problem(nx=4, walkers=3)
    net = _net(p)
    path = f"{tmp_path}/d.json"
    save(net, path)
    back = load_network(path)
    assert back == net and back.probes[0].info == net.probes[0].info
    res = simulate(back, 80, seed=2, trials=2)
    decoded = decode_probes(back, res.spikes)["field(d)"]
    sol = solve(net, trials=2, seed=2)
    for trial in range(2):
        windows = decoded[trial]
        assert len(windows) >= p.steps + 1
        assert np.array_equal(np.array(windows[: p.steps + 1]), sol.counts[trial])


def test_count_field_reads_windows_by_hand() -> None:
    # clock at steps 0, 3, 5; counted neuron of node 1 at 1, 2, 4; node 0 at 3 and 6
    spikes = np.zeros((1, 7, 3), dtype=bool)
    spikes[0, [0, 3, 5], 0] = True
    spikes[0, [1, 2, 4], 2] = True
    spikes[0, [3, 6], 1] = True
    counts, complete = count_field(spikes, (-1, 0, 1), (2,))
    assert counts.tolist() == [[[0, 2], [1, 1]]]
    assert complete.tolist() == [[True, True]]


def test_resources_formula_matches_the_built_network() -> None:
    for kw in ({}, {"boundary": "absorbing", "kill": 0.3}, {"ny": 4, "boundary": "periodic"},
               {"nx": 1}, {"ny": 3, "left": "absorbing", "right": "reflecting", "drift": 0.3}):
        p = _problem(dt=0.1, **kw)
        net = _net(p)
        res = density_resources(p)
        assert res["neurons"] == len(net)
        assert res["synapses"] == net.num_synapses


def test_neurons_per_node_match_the_published_density_circuit_budget() -> None:
    # 1D interior nodes have k = 2 outgoing transitions: 2 * (2 + k) neurons per node,
    # the 2 * max(k, 2) + 4 = 8 of the published circuit; 2D: 12 for k = 4.
    p1 = _problem(nx=50, boundary="periodic")
    assert density_resources(p1)["neurons"] == 8 * 50 + 2
    p2 = _problem(nx=6, ny=6, dt=0.1, boundary="periodic")
    assert density_resources(p2)["neurons"] == 12 * 36 + 2


SPK = """
import std.diffusion
diffusion heat (nx = 9, D = 1.0, dx = 0.5, dt = 0.05, steps = 5,
                boundary = "absorbing", walkers = 20, source = 4)
"""


def test_spk_statement_builds_and_probes_the_field() -> None:
    net = compile_text(SPK, filename="heat.spk")
    probe = net.probes[0]
    assert probe.label == "field(heat)" and probe.decoder == "field"
    p = Problem.from_dict(probe.info["problem"])  # type: ignore[index]
    assert p.shape == (9,) and p.walkers == 20 and p.boundary == (("absorbing", "absorbing"),)
    direct = _net(p)
    assert len(direct) == len(net) and direct.num_synapses == net.num_synapses
    a = solve(net, trials=5, seed=1)
    b = solve(direct, trials=5, seed=1)
    assert (a.counts == b.counts).all()


@pytest.mark.parametrize("text, where, message", [
    ('dt = 0.8', "0.8", "dt = 0.8 is too large"),
    ('boundary = "refecting"', '"refecting"', "did you mean 'reflecting'"),
    ('drift = 40', "40", "too strong"),
    ('walkers = -1', "-1", "walkers must be in"),
    ('bogus = 1', None, "unknown parameter 'bogus'"),
    ('counts = "missing.csv"', '"missing.csv"', "counts file not found"),
])
def test_bad_problem_statements_are_located(text: str, where: str | None, message: str) -> None:
    source = ("import std.diffusion\n"
              f"diffusion heat (nx = 9, D = 1.0, dt = 0.1, steps = 5, walkers = 3, {text})\n")
    if text.startswith("dt"):
        source = source.replace("dt = 0.1, ", "")
    if "walkers = -1" in text or "counts" in text:
        source = source.replace("walkers = 3, ", "")
    with pytest.raises(SpikecError) as info:
        compile_text(source, filename="bad.spk")
    rendered = info.value.render()
    assert message in rendered
    assert rendered.startswith("bad.spk:2:")
    if where is not None:
        column = source.splitlines()[1].index(where) + 1
        assert rendered.startswith(f"bad.spk:2:{column}:")


def test_problem_checks() -> None:
    with pytest.raises(DiffusionError, match="both must be periodic"):
        _problem(left="periodic", right="reflecting")
    with pytest.raises(DiffusionError, match="needs a 2D mesh"):
        _problem(top="absorbing")
    with pytest.raises(DiffusionError, match="missing parameter 'dt'"):
        problem_from_params({"nx": 3, "D": 1, "steps": 1, "walkers": 1})
    with pytest.raises(SpikecError, match="field probe is made by the diffusion statement"):
        compile_text(SPK + "probe field(heat)\n", filename="x.spk")
    with pytest.raises(SpikecError, match="cannot compare"):
        compile_text('let a = "x" == 1\n', filename="x.spk")


def test_solve_command_writes_what_the_api_computes(tmp_path: Any,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    from spikec.cli import main

    spk = tmp_path / "heat.spk"
    spk.write_text(SPK)
    csv, npz = tmp_path / "f.csv", tmp_path / "f.npz"
    assert main(["solve", str(spk), "--trials", "4", "--seed", "3", "--csv", str(csv), "--npz", str(npz),
                 "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    sol = solve(compile_text(SPK, filename="heat.spk"), trials=4, seed=3)
    with np.load(npz) as data:
        assert np.array_equal(data["counts"], sol.counts)
        assert np.allclose(data["ref_chain"], sol.problem.exact_mean())
    assert np.allclose(summary["mean"], sol.mean())
    rows = np.loadtxt(csv, delimiter=",", skiprows=1)
    assert rows.shape == ((sol.problem.steps + 1) * 9, 8)  # step, time, x, mean, conc, 3 references
    assert np.allclose(rows[:, 3].reshape(sol.problem.steps + 1, 9), sol.mean())


@pytest.mark.parametrize("flag, value, message", [
    ("--plot", "x.gif", "unknown image format"),
    ("--csv", "missing/x.csv", "no directory"),
])
def test_solve_refuses_bad_outputs_before_running(tmp_path: Any, flag: str, value: str, message: str,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    from spikec.cli import main

    spk = tmp_path / "heat.spk"
    spk.write_text(SPK)
    assert main(["solve", str(spk), flag, str(tmp_path / value)]) == 1
    assert message in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["heat.spk"]
