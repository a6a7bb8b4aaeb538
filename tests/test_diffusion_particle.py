"""std.diffusion, particle method: hand-traced rasters on deterministic walks, legal
paths and exact conservation on every mesh, occupancies against the exact Markov
distribution (chi-square), reproducibility, the readout contract, and the resource
formula against the built network and hand counts."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from diffusion_checks import ALPHA, chi_square_p, occupancy_p_values
from spikec import Network
from spikec.backends.simulator import SimResult, simulate
from spikec.circuits._diffusion_particle import build_particle, particle_resources
from spikec.diffusion import Problem, Readout, count_field, problem_from_params
from spikec.ir.builder import Builder


def _problem(**params: Any) -> Problem:
    return problem_from_params({"method": "particle", **params})


def _build(problem: Problem) -> tuple[Network, Readout]:
    net = Network("particle")
    return net, build_particle(Builder(net), problem)


def _run(problem: Problem, trials: int, seed: int, steps: int | None = None, trial_offset: int = 0,
         record: str | list[str] | None = None) -> tuple[Network, Readout, SimResult]:
    net, readout = _build(problem)
    names = record if record is not None else list(readout.clocks + readout.counted)
    res = simulate(net, readout.steps_hint if steps is None else steps, seed=seed, trials=trials,
                   record=names, trial_offset=trial_offset)
    return net, readout, res


def _field(readout: Readout, res: SimResult, windows: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    stack = np.stack([res.spikes[n] for n in readout.clocks + readout.counted], axis=2)
    return count_field(stack, readout.node_row(), readout.shape, windows)


def _label(problem: Problem, node: int) -> str:
    return ",".join(str(int(i)) for i in np.unravel_index(node, problem.shape))


def _window(res: SimResult) -> int:
    """Neural steps per model step, read off the clock's spikes (0, D, 2 D, ...)."""
    ticks = np.flatnonzero(res.spikes["clock"][0])
    assert ticks[0] == 0 and len(ticks) >= 2
    gaps = np.diff(ticks)
    assert np.all(gaps == gaps[0])
    assert np.all(res.spikes["clock"] == res.spikes["clock"][0])  # the same in every trial
    return int(gaps[0])


def _paths(problem: Problem, res: SimResult) -> np.ndarray:
    """Each walker's node per model step (-1 once lost), shape (trials, steps + 1, walkers),
    decoded from its own ``walker[w].pos[...]`` neurons, not through the readout.
    Checks that a position neuron fires only at the first step of a window and that
    a walker is at one node at most."""
    window = _window(res)
    m = problem.steps
    names = [f"walker[{w}].pos[{_label(problem, n)}]" for w in range(problem.walkers)
             for n in range(problem.nodes)]
    spikes = np.stack([res.spikes[n] for n in names], axis=2)
    spikes = spikes.reshape(spikes.shape[0], spikes.shape[1], problem.walkers, problem.nodes)
    off_beat = np.arange(spikes.shape[1]) % window != 0
    assert not spikes[:, off_beat].any(), "a position neuron fired inside a window"
    at = spikes[:, ::window][:, : m + 1]
    assert at.shape[1] == m + 1
    assert at.sum(axis=3).max(initial=0) <= 1, "a walker at two nodes at once"
    return np.where(at.any(axis=3), at.argmax(axis=3), -1)


# -- hand-traced deterministic walks ----------------------------------------------------

# D dt/dx^2 = 1/2 and |v| dt/(2 dx) = 1/2: the walker moves one node along the drift
# every step, with probability 1 (the only gate of a node has p = 1).
DRIFT = {"nx": 3, "D": 0.5, "dx": 1.0, "dt": 1.0, "walkers": 1, "steps": 4}


def test_hand_raster_reflecting() -> None:
    """Every spike of every neuron of the 3-node walk 0 -> 1 -> 2 -> 2 -> 2. Nodes 0 and 1
    have one gate (+x), node 2 none (the wall refuses +x), so a model step takes 2
    neural steps; the gate fires 1 step after its position and the next position
    1 step later; 6 clock spikes close model steps 0..4."""
    problem = _problem(**DRIFT, drift=1.0, source=0)
    net, readout, res = _run(problem, trials=3, seed=1, record="all")
    assert readout.steps_hint == 11 and readout.steps_exact
    fired = {name: np.flatnonzero(res.spikes[name][0]).tolist() for name in net.graph.nodes}
    assert fired == {
        "clock": [0, 2, 4, 6, 8, 10],
        "walker[0].pos[0]": [0],
        "walker[0].move[0][0]": [1],
        "walker[0].pos[1]": [2],
        "walker[0].move[1][0]": [3],
        "walker[0].pos[2]": [4, 6, 8, 10],
    }
    for name in net.graph.nodes:
        assert np.array_equal(res.spikes[name], np.broadcast_to(res.spikes[name][0], (3, 11)))


@pytest.mark.parametrize(("walls", "drift", "source", "path"), [
    ({"boundary": "reflecting"}, 1.0, 0, [0, 1, 2, 2, 2]),
    ({"boundary": "absorbing"}, 1.0, 0, [0, 1, 2, None, None]),
    ({"boundary": "periodic"}, 1.0, 0, [0, 1, 2, 0, 1]),
    ({"boundary": "reflecting"}, -1.0, 2, [2, 1, 0, 0, 0]),
    ({"boundary": "absorbing"}, -1.0, 1, [1, 0, None, None, None]),
    ({"boundary": "periodic"}, -1.0, 0, [0, 2, 1, 0, 2]),
    ({"left": "absorbing", "right": "reflecting"}, 1.0, 1, [1, 2, 2, 2, 2]),
    ({"left": "reflecting", "right": "absorbing"}, -1.0, 1, [1, 0, 0, 0, 0]),
])
def test_hand_paths_at_walls(walls: dict[str, str], drift: float, source: int,
                             path: list[int | None]) -> None:
    """A walker pushed along x with probability 1 meets each kind of wall as worked
    out by hand; the field is one-hot on its path and a lost walker falls silent."""
    problem = _problem(**DRIFT, **walls, drift=drift, source=source)
    net, readout, res = _run(problem, trials=2, seed=3, record="all")
    counts, complete = _field(readout, res)
    assert complete.all() and counts.shape == (2, 5, 3)
    expected = np.zeros((5, 3), dtype=np.int64)
    for m, node in enumerate(path):
        if node is not None:
            expected[m, node] = 1
    assert np.array_equal(counts[0], expected) and np.array_equal(counts[1], expected)
    if None in path:
        lost_at = path.index(None) * _window(res)
        walker = [name for name in net.graph.nodes if name.startswith("walker[0].")]
        # the loss gate fires inside the last window; after it nothing of the walker moves
        assert not any(res.spikes[name][:, lost_at:].any() for name in walker)


def test_hand_killing() -> None:
    """kill dt = 1 (and no diffusion): the walker is at its node in step 0 and gone after."""
    problem = _problem(nx=3, D=0.0, dt=1.0, kill=1.0, walkers=2, source=2, steps=3)
    net, readout, res = _run(problem, trials=2, seed=0, record="all")
    counts, complete = _field(readout, res)
    assert complete.all()
    assert counts[:, 0].tolist() == [[0, 0, 2]] * 2
    assert not counts[:, 1:].any()
    assert res.spikes["walker[1].move[2][0]"][0].tolist()[:3] == [False, True, False]


def test_hand_resources() -> None:
    """Neurons and synapses counted by hand on three small meshes, equal to the formula
    and to the built network."""
    cases = [
        # p(+x) = 1: gates at nodes 0 and 1; synapses: clock, 3 self, 2 x (in, -self, arrival)
        (_problem(**DRIFT, drift=1.0, source=0), 6, 10, 2),
        # p(+-x) = 1/4, reflecting: gates 1, 2, 1; node 1: 2 in, 2 -self, 2 arrivals, 1 chain
        (_problem(nx=3, D=0.25, dt=1.0, walkers=1, steps=2), 8, 1 + 3 + 3 + 3 + 7, 3),
        # periodic with killing: 3 gates per node (loss, two neighbours): 3 in, 3 -self,
        # 2 arrivals, 3 chain each
        (_problem(nx=3, D=0.25, dt=1.0, kill=0.1, boundary="periodic", walkers=1, steps=2),
         13, 1 + 3 + 3 * 11, 4),
    ]
    for problem, neurons, synapses, window in cases:
        res = particle_resources(problem)
        assert (res["neurons"], res["synapses"], res["neural_steps_per_model_step"]) == (
            neurons, synapses, window)
        net, readout = _build(problem)
        assert (len(net), net.num_synapses) == (neurons, synapses)
        assert readout.steps_hint == res["neural_steps"] == (problem.steps + 1) * window + 1


# -- stochastic walks --------------------------------------------------------------------

MESHES: dict[str, dict[str, Any]] = {
    "1d-reflecting": {"nx": 7, "D": 0.3, "dt": 1.0, "source": 1},
    "1d-absorbing": {"nx": 7, "D": 0.3, "dt": 1.0, "source": 2, "boundary": "absorbing"},
    "1d-periodic": {"nx": 5, "D": 0.35, "dt": 1.0, "source": 0, "boundary": "periodic"},
    "1d-no-stay": {"nx": 6, "D": 0.5, "dt": 1.0, "source": 0},
    "1d-drift": {"nx": 7, "D": 0.3, "dt": 1.0, "drift": 0.2, "source": 3, "left": "absorbing",
                 "right": "reflecting"},
    "1d-kill": {"nx": 7, "D": 0.25, "dt": 1.0, "kill": 0.1, "source": 3},
    "2d-reflecting": {"nx": 4, "ny": 4, "D": 0.15, "dt": 1.0, "source": 1, "source_y": 2},
    "2d-absorbing": {"nx": 4, "ny": 4, "D": 0.2, "dt": 1.0, "source": 1, "source_y": 1,
                     "boundary": "absorbing"},
    "2d-periodic": {"nx": 3, "ny": 4, "D": 0.2, "dt": 1.0, "source": 0, "source_y": 3,
                    "boundary": "periodic"},
    "2d-drift-kill": {"nx": 4, "ny": 5, "D": 0.15, "dt": 1.0, "drift": 0.1, "drift_y": -0.1,
                      "kill": 0.05, "source": 2, "source_y": 1, "left": "periodic", "right": "periodic",
                      "bottom": "absorbing", "top": "reflecting"},
}


@pytest.mark.parametrize("mesh", sorted(MESHES))
def test_occupancy_matches_exact_distribution(mesh: str) -> None:
    """Walkers per node (and lost) at steps 1, 3 and 6, pooled over trials, follow the
    exact multinomial of ``occupancy_probabilities`` (chi-square, p > 0.001)."""
    problem = _problem(**MESHES[mesh], walkers=10, steps=6)
    _, readout, res = _run(problem, trials=300, seed=20240611)
    counts, complete = _field(readout, res)
    assert complete.all()
    p_values = occupancy_p_values(problem, counts, [1, 3, 6])
    assert min(p_values) > ALPHA, p_values


@pytest.mark.parametrize("mesh", ["1d-drift", "2d-drift-kill"])
def test_transitions_match_outcomes(mesh: str) -> None:
    """Each walker's moves, read off its own position neurons and pooled per source
    node, follow that node's outcomes (chi-square per node, p > 0.001); moves the
    problem does not allow never happen and a lost walker never comes back."""
    problem = _problem(**MESHES[mesh], walkers=8, steps=8)
    _, _, res = _run(problem, trials=200, seed=7)
    paths = _paths(problem, res)
    before, after = paths[:, :-1].reshape(-1), paths[:, 1:].reshape(-1)
    assert not np.any((before == -1) & (after != -1)), "a lost walker came back"
    n = problem.nodes
    for node in np.unique(before[before >= 0]):
        moved = after[before == node]
        observed = np.bincount(np.where(moved < 0, n, moved), minlength=n + 1)
        probs = np.zeros(n + 1)
        for p, dest in problem.outcomes(int(node)):
            probs[n if dest is None else dest] += p
        probs[node] = 1.0 - probs.sum()
        if observed.sum() >= 50:
            assert chi_square_p(observed, probs) > ALPHA, node
        else:
            assert observed[probs < 1e-12].sum() == 0


@pytest.mark.parametrize("mesh", ["1d-reflecting", "1d-periodic", "1d-no-stay", "2d-reflecting",
                                  "2d-periodic"])
def test_walkers_conserved(mesh: str) -> None:
    """Without absorbing walls or killing, every walker is at exactly one node in every
    model step of every trial: the field sums to the walkers (and so does each walker's
    own register), over several seeds, from walkers spread over the mesh."""
    params = {k: v for k, v in MESHES[mesh].items() if k not in ("source", "source_y")}
    shape = (params["nx"],) + ((params["ny"],) if "ny" in params else ())
    rng = np.random.default_rng(5)
    initial = rng.integers(0, 3, size=shape)
    problem = _problem(**params, counts=initial, steps=7)
    for seed in range(4):
        _, readout, res = _run(problem, trials=40, seed=seed)
        counts, complete = _field(readout, res)
        assert complete.all()
        totals = counts.reshape(counts.shape[0], counts.shape[1], -1).sum(axis=2)
        assert np.all(totals == problem.walkers)
        assert np.array_equal(counts[:, 0], np.broadcast_to(initial, counts[:, 0].shape))
        assert np.all(_paths(problem, res) >= 0)


@pytest.mark.parametrize("mesh", ["1d-absorbing", "1d-kill", "2d-absorbing", "2d-drift-kill"])
def test_losses_are_final(mesh: str) -> None:
    """With losses, the walkers left never increase and the field always equals the
    walkers decoded one by one from their own registers."""
    problem = _problem(**MESHES[mesh], walkers=6, steps=8)
    _, readout, res = _run(problem, trials=60, seed=11)
    counts, _ = _field(readout, res)
    totals = counts.reshape(60, problem.steps + 1, -1).sum(axis=2)
    assert np.all(np.diff(totals, axis=1) <= 0)
    paths = _paths(problem, res)
    decoded = np.zeros((60, problem.steps + 1, problem.nodes), dtype=np.int64)
    t, m, w = np.nonzero(paths >= 0)
    np.add.at(decoded, (t, m, paths[t, m, w]), 1)
    assert np.array_equal(counts.reshape(decoded.shape), decoded)


def test_same_seed_same_field_and_sharding() -> None:
    """The same seed gives the same field; trials split with ``trial_offset`` equal one
    run; another seed gives another field."""
    problem = _problem(**MESHES["2d-drift-kill"], walkers=5, steps=5)
    _, readout, whole = _run(problem, trials=6, seed=42)
    field, _ = _field(readout, whole)
    again, _ = _field(readout, _run(problem, trials=6, seed=42)[2])
    assert np.array_equal(field, again)
    first, _ = _field(readout, _run(problem, trials=2, seed=42)[2])
    rest, _ = _field(readout, _run(problem, trials=4, seed=42, trial_offset=2)[2])
    assert np.array_equal(np.concatenate([first, rest]), field)
    other, _ = _field(readout, _run(problem, trials=6, seed=43)[2])
    assert not np.array_equal(other, field)


def test_readout_windows_exact() -> None:
    """``steps_hint`` neural steps close exactly the windows of model steps 0..steps:
    one step fewer leaves the last one open. The probe key lists the clock first."""
    problem = _problem(**MESHES["2d-periodic"], walkers=3, steps=4)
    net, readout, res = _run(problem, trials=5, seed=2)
    assert readout.clocks == ("clock",) and readout.shape == (3, 4) and readout.steps_exact
    assert len(readout.counted) == len(readout.nodes) == 3 * 12
    assert readout.node_row()[:2] == (-1.0, 0.0)
    counts, complete = _field(readout, res)
    assert counts.shape == (5, 5, 3, 4) and complete.all()
    assert np.all(counts.sum(axis=(2, 3)) == 3)
    short = simulate(net, readout.steps_hint - 1, seed=2, trials=5,
                     record=list(readout.clocks + readout.counted))
    head, done = _field(readout, short, windows=problem.steps + 1)
    assert done[:, :-1].all() and not done[:, -1].any()
    assert np.array_equal(head[:, :-1], counts[:, :-1])


def test_no_walkers_and_no_steps() -> None:
    """No walker: only the clock, an empty field. No model step: one window."""
    empty = _problem(nx=4, D=0.2, dt=1.0, walkers=0, steps=3)
    net, readout, res = _run(empty, trials=2, seed=0)
    assert len(net) == 1 and readout.counted == ()
    counts, complete = _field(readout, res)
    assert complete.all() and counts.shape == (2, 4, 4) and not counts.any()
    once = _problem(nx=4, D=0.2, dt=1.0, walkers=3, source=1, steps=0)
    _, readout, res = _run(once, trials=2, seed=0)
    counts, complete = _field(readout, res)
    assert complete.all() and counts.tolist() == [[[0, 3, 0, 0]]] * 2


@pytest.mark.parametrize("mesh", sorted(MESHES))
def test_resources_match_built_network(mesh: str) -> None:
    """The resource formula equals the built network, and the clock's period."""
    problem = _problem(**MESHES[mesh], walkers=3, steps=2)
    net, readout, res = _run(problem, trials=1, seed=0)
    figures = particle_resources(problem)
    assert figures["neurons"] == len(net)
    assert figures["synapses"] == net.num_synapses
    assert figures["neural_steps_per_model_step"] == _window(res)
    assert figures["neural_steps"] == readout.steps_hint
    assert figures["neurons_per_walker"] * 3 + 1 == len(net)


def test_a_larger_build_has_the_stated_size() -> None:
    """200 walkers on 41 nodes: 24,601 neurons (build time is measured in benchmarks, not here)."""
    problem = _problem(nx=41, D=1.0, dx=0.1, dt=0.004, walkers=200, steps=50, boundary="absorbing")
    net, readout = _build(problem)
    assert len(net) == particle_resources(problem)["neurons"] == 1 + 200 * 41 * 3
    assert len(readout.counted) == 200 * 41


# -- larger statistical checks (--slow) -------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("mesh", sorted(MESHES))
def test_occupancy_every_step_slow(mesh: str) -> None:
    """Every model step of a longer walk, with more trials (chi-square, p > 0.001)."""
    problem = _problem(**MESHES[mesh], walkers=20, steps=12)
    _, readout, res = _run(problem, trials=1000, seed=77)
    counts, complete = _field(readout, res)
    assert complete.all()
    p_values = occupancy_p_values(problem, counts, list(range(1, problem.steps + 1)))
    assert min(p_values) > ALPHA / problem.steps, p_values


@pytest.mark.slow
def test_occupancy_larger_2d_slow() -> None:
    """A 9 x 9 mesh with drift, killing and mixed walls, against the exact distribution."""
    problem = _problem(nx=9, ny=9, D=0.12, dt=1.0, drift=0.08, drift_y=0.04, kill=0.02, walkers=30,
                       steps=10, left="absorbing", right="reflecting", bottom="reflecting",
                       top="absorbing", source=4, source_y=3)
    _, readout, res = _run(problem, trials=500, seed=99)
    counts, complete = _field(readout, res)
    assert complete.all()
    p_values = occupancy_p_values(problem, counts, [2, 5, 10])
    assert min(p_values) > ALPHA, p_values
