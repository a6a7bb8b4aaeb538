"""Exit tallies, boundary values and first-passage times of the density solver.

Oracles, computed here from the matrices and not through spikec.diffusion.exits: the
5-point-stencil walk's Q and per-wall R written by hand, dense numpy solves of
(I - Q) u = R g, dense matrix powers for P(T = m, node) = e_s Q^(m-1) diag(loss), discrete
harmonic polynomials (exact solutions of the discrete Laplace problem) and the Fourier
series of the continuous square; chi-square tests of simulated exits against them.
"""

from __future__ import annotations

import importlib.util
import io
import math
import os

import numpy as np
import pytest
import scipy.sparse as sp

from diffusion_checks import ALPHA, chi_square_p
from spikec.backends.diffusion import solve
from spikec.circuits.diffusion import diffusion_network
from spikec.cli.report_exits import boundary_estimates, exits_report
from spikec.diffusion import DiffusionError, chain_from_matrix, problem_from_params
from spikec.diffusion.exits import exact_values, exit_distribution, wall_exits, with_boundary_values
from spikec.diffusion.params import statement_problem

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _stencil(n: int, p: float) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Dense Q of the n x n grid walk (p per direction, absorbing walls) and R per wall,
    built node by node from the definition."""
    Q = np.zeros((n * n, n * n))
    R = {w: np.zeros(n * n) for w in ("left", "right", "bottom", "top")}
    for i in range(n):
        for j in range(n):
            a = i * n + j
            Q[a, a] = 1 - 4 * p
            for di, dj, wall in ((-1, 0, "left"), (1, 0, "right"), (0, -1, "bottom"), (0, 1, "top")):
                ii, jj = i + di, j + dj
                if 0 <= ii < n and 0 <= jj < n:
                    Q[a, ii * n + jj] += p
                else:
                    R[wall][a] += p
    return Q, R


def _ghost_values(n: int, g: object) -> dict[str, np.ndarray]:
    """g at the ghost node beyond each wall, per boundary node (0 elsewhere)."""
    idx = np.arange(n * n)
    x, y = (idx // n).astype(float), (idx % n).astype(float)
    return {"left": g(-1.0 + 0 * x, y), "right": g(n + 0 * x, y), "bottom": g(x, -1.0 + 0 * y),  # type: ignore
            "top": g(x, n + 0 * y)}  # type: ignore[operator]


def test_exact_solve_matches_hand_built_system_and_harmonic_polynomial() -> None:
    n, p = 7, 0.2
    problem = problem_from_params({"nx": n, "ny": n, "D": 1.0, "dt": p, "steps": 10, "boundary": "absorbing",
                                   "walkers": 1})

    def g(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return x * x - y * y + 3 * x * y - 2 * x + 1

    chain = with_boundary_values(problem, g, start=[(3, 3), (0, 6)], walkers=5)
    ex = chain.exit_columns()
    Q, R = _stencil(n, p)
    gv = _ghost_values(n, g)
    rhs = sum(R[w] * gv[w] for w in R)
    dense = np.linalg.solve(np.eye(n * n) - Q, rhs)
    got = exact_values(chain.matrix[:n * n, :n * n], ex.matrix(), ex.value)
    np.testing.assert_allclose(got, dense, atol=1e-12)
    idx = np.arange(n * n)
    np.testing.assert_allclose(dense, g(idx // n * 1.0, idx % n * 1.0), atol=1e-11)  # discrete harmonic
    assert chain.nodes == 2 * n * n and chain.initial.sum() == 10


def test_fourier_series_of_the_square() -> None:
    """The discrete solution with u = 1 on top approaches the continuous one (O(h^2))."""
    n = 19
    problem = problem_from_params({"nx": n, "ny": n, "D": 1.0, "dt": 0.25, "steps": 1,
                                   "boundary": "absorbing", "walkers": 1})
    cols = wall_exits(problem.shape, 1.0, 1.0, 0.25, problem.boundary)
    value = (np.asarray(cols["label"]) == "top").astype(float)
    from spikec.diffusion.exits import exit_matrix

    u = exact_values(problem.transition_matrix(), exit_matrix(n * n, cols["node"], cols["prob"]), value)
    side = n + 1.0
    for i, j in ((9, 9), (4, 14), (14, 4)):
        x, y = (i + 1) / side, (j + 1) / side
        series = sum(4 / (k * math.pi) * math.sin(k * math.pi * x) * math.sinh(k * math.pi * y)
                     / math.sinh(k * math.pi) for k in range(1, 200, 2))
        assert abs(u[i * n + j] - series) < 0.01
    assert abs(u[9 * n + 9] - 0.25) < 1e-12  # symmetry: exactly a quarter at the centre


def test_first_passage_by_matrix_powers() -> None:
    P = sp.csr_matrix(np.array([[0.5, 0.3, 0.0], [0.2, 0.5, 0.2], [0.0, 0.4, 0.45]]))
    loss = 1 - np.asarray(P.sum(axis=1)).ravel()
    R = sp.csr_matrix(np.diag(loss))
    first, inside = exit_distribution(P, R, [0, 2], 30)
    dense = P.toarray()
    for k, s in enumerate((0, 2)):
        for m in range(1, 31):
            want = np.linalg.matrix_power(dense, m - 1)[s] * loss
            np.testing.assert_allclose(first[k, m - 1], want, atol=1e-14)
        assert abs(inside[k] - np.linalg.matrix_power(dense, 30)[s].sum()) < 1e-14


def test_conservation_in_every_trial_with_sources_and_kill() -> None:
    P = sp.csr_matrix(np.array([[0.5, 0.3, 0.0], [0.2, 0.5, 0.3], [0.0, 0.4, 0.45]]))
    chain = chain_from_matrix(P, steps=12, walkers=15, start=1, sources=[1, 0, 2])
    sol = solve(diffusion_network(chain), trials=12, seed=4)
    assert sol.exits is not None and sol.exits.shape == (12, 12, 3)
    inside = sol.counts.sum(axis=2)
    injected = chain.source_table().sum(axis=1)
    np.testing.assert_array_equal(inside[:, 1:], inside[:, :-1] - sol.exits.sum(axis=2) + injected)
    assert not sol.exits[:, :, 1].any()  # node 1 loses nothing
    text = io.StringIO()
    assert exits_report(sol, text)["exits"]["conserved"]


def test_no_exit_probe_when_nothing_is_lost() -> None:
    problem = problem_from_params({"nx": 5, "D": 1.0, "dt": 0.25, "steps": 3, "walkers": 4})
    net = diffusion_network(problem)
    assert [p.label for p in net.probes] == ["field(d)"]
    assert solve(net, trials=2).exits is None


def _small_bvp(kill: float = 0.3, kill_value: float = 0.5, steps: int = 150) -> object:
    params = {"nx": 5, "ny": 4, "D": 1.0, "dt": 0.2, "steps": steps, "boundary": "absorbing", "kill": kill,
              "right": "reflecting", "walkers": 60, "kill_value": kill_value,
              "boundary_values": "left = 1, bottom = -1, top = 2", "start": "2, 1; 4, 3"}
    return statement_problem(params)


def _dense_bvp(kill: float, kill_value: float) -> np.ndarray:
    """Q, R of the 5 x 4 walk by hand (right wall reflecting: the move is a stay) and u."""
    nx, ny, p = 5, 4, 0.2
    n = nx * ny
    Q = np.zeros((n, n))
    rhs = np.zeros(n)
    for i in range(nx):
        for j in range(ny):
            a = i * ny + j
            Q[a, a] = 1 - 4 * p - kill * 0.2
            rhs[a] += kill * 0.2 * kill_value
            for di, dj, g in ((-1, 0, 1.0), (1, 0, None), (0, -1, -1.0), (0, 1, 2.0)):
                ii, jj = i + di, j + dj
                if 0 <= ii < nx and 0 <= jj < ny:
                    Q[a, ii * ny + jj] += p
                elif g is None:
                    Q[a, a] += p
                else:
                    rhs[a] += p * g
    return np.linalg.solve(np.eye(n) - Q, rhs)


def test_feynman_kac_estimates_within_their_error() -> None:
    chain = _small_bvp()
    u = _dense_bvp(0.3, 0.5)
    ex = chain.exit_columns()
    np.testing.assert_allclose(exact_values(chain.matrix[:20, :20], ex.matrix(), ex.value), u, atol=1e-12)
    sol = solve(diffusion_network(chain), trials=10, seed=2)
    rows = boundary_estimates(sol)
    assert [r["start"] for r in rows] == [2 * 4 + 1, 4 * 4 + 3]
    for r in rows:
        assert r["inside"] == 0 and r["exact"] == pytest.approx(u[r["start"]], abs=1e-12)
        assert abs(r["estimate"] - r["exact"]) < 4 * r["std_error"]
        assert r["interval"][0] <= r["exact"] <= r["interval"][1]
        assert r["first_passage_p"] > ALPHA


def test_honest_interval_with_walkers_still_inside() -> None:
    chain = _small_bvp(kill=0.0, kill_value=0.0, steps=4)
    sol = solve(diffusion_network(chain), trials=6, seed=1)
    u = _dense_bvp(0.0, 0.0)
    for r in boundary_estimates(sol):
        assert r["inside_fraction"] > 0.05
        lo, hi = r["interval"]
        assert lo <= u[r["start"]] <= hi
        assert hi - lo > r["inside_fraction"] * 3 * 0.9  # at least the unknown share of [-1, 2]


def _exit_law(dense: np.ndarray, loss: np.ndarray, start: int, steps: int) -> np.ndarray:
    """P(exit from node i by step <= steps) per node, and still inside, by dense powers."""
    out = np.zeros(len(loss) + 1)
    row = np.eye(len(loss))[start]
    for _ in range(steps):
        out[:-1] += row * loss
        row = row @ dense
    out[-1] = row.sum()
    return out


def test_exit_nodes_and_times_chi_square_on_a_random_chain() -> None:
    rng = np.random.default_rng(5)
    n = 6
    mat = sp.random(n, n, density=0.5, random_state=rng).toarray() + 0.5 * np.eye(n)
    mat = mat / mat.sum(axis=1, keepdims=True) * (1 - rng.uniform(0.02, 0.15, n))
    chain = chain_from_matrix(sp.csr_matrix(mat), steps=25, walkers=40, start=2)
    sol = solve(diffusion_network(chain), trials=10, seed=7)
    loss = 1 - mat.sum(axis=1)
    per_node = sol.exits.sum(axis=(0, 1))
    inside = 400 - per_node.sum()
    assert chi_square_p(np.append(per_node, inside), _exit_law(mat, loss, 2, 25)) > ALPHA
    times = sol.exits.sum(axis=(0, 2))
    exact = np.array([np.linalg.matrix_power(mat, m)[2] @ loss for m in range(25)])
    assert chi_square_p(np.append(times, inside), np.append(exact, 1 - exact.sum())) > ALPHA


def test_statement_errors() -> None:
    base = {"nx": 5, "ny": 5, "D": 1.0, "dt": 0.2, "steps": 5, "boundary": "absorbing", "walkers": 3}
    with pytest.raises(DiffusionError, match="top"):
        statement_problem({**base, "boundary_values": "left = 1, right = 0, bottom = 0"})
    with pytest.raises(DiffusionError, match="no exit 'up'"):
        statement_problem({**base, "boundary_values": "left = 1, right = 0, bottom = 0, top = 0, up = 2"})
    with pytest.raises(DiffusionError, match="outside the mesh"):
        statement_problem({**base, "boundary_values": 1, "start": "7, 1"})
    with pytest.raises(DiffusionError, match="need 'boundary_values'"):
        statement_problem({**base, "start": "1, 1"})
    counts = {k: v for k, v in base.items() if k != "walkers"}
    with pytest.raises(DiffusionError, match="remove 'counts'"):
        statement_problem({**counts, "counts": "c.npy", "boundary_values": 1})


def test_statement_expression_is_evaluated_at_the_ghost_nodes() -> None:
    chain = statement_problem({"nx": 4, "ny": 3, "D": 1.0, "dt": 0.2, "steps": 5, "boundary": "absorbing",
                               "walkers": 3, "boundary_values": "10 * x + y", "start": "1, 1"})
    ex = chain.exit_columns()
    x, y = ex.where[:, 0], ex.where[:, 1]
    np.testing.assert_allclose(ex.value, 10 * x + y)
    left = np.array(ex.label) == "left"
    assert np.all(x[left] == -1) and np.all(x[np.array(ex.label) == "right"] == 4)


def _example(name: str) -> object:
    spec = importlib.util.spec_from_file_location(name, os.path.join(ROOT, "examples", f"{name}.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_jump_diffusion_matrix_and_exact_values() -> None:
    jd = _example("jump_diffusion")
    P = jd.jump_matrix(21, 5).toarray()  # type: ignore[attr-defined]
    assert P[10, 15] == 0.02 and P[10, 5] == 0.02 and P[10, 11] == 0.2 and P[3, 3] == pytest.approx(0.56)
    assert P[18].sum() == pytest.approx(1 - 0.02)  # the +5 jump leaves past the right end
    chain = jd.jump_problem(21, 5, steps=10, walkers=2, starts=(5, 10))  # type: ignore[attr-defined]
    ex = chain.exit_columns()
    loss = 1 - P.sum(axis=1)
    right = (np.arange(21) >= 10).astype(float)
    u = np.linalg.solve(np.eye(21) - P, loss * right)
    np.testing.assert_allclose(exact_values(chain.matrix[:21, :21], ex.matrix(), ex.value), u, atol=1e-12)
    assert u[10] == pytest.approx(0.5, abs=1e-12)  # symmetric about the middle


def test_jump_diffusion_chi_square_against_the_exact_chain() -> None:
    jd = _example("jump_diffusion")
    chain = jd.jump_problem(31, 6, steps=40, walkers=60, starts=(8, 15))  # type: ignore[attr-defined]
    sol = solve(diffusion_network(chain), trials=30, seed=11)
    P = jd.jump_matrix(31, 6).toarray()  # type: ignore[attr-defined]
    loss = 1 - P.sum(axis=1)
    for k, s in enumerate((8, 15)):
        block = sol.counts[:, :, k * 31:(k + 1) * 31]
        for m in (5, 20, 40):  # occupancy against dense powers
            row = np.linalg.matrix_power(P, m)[s]
            per = block[:, m].sum(axis=0)
            assert chi_square_p(np.append(per, 30 * 60 - per.sum()), np.append(row, 1 - row.sum())) > ALPHA
        ex = sol.exits[:, :, k * 31:(k + 1) * 31]
        per_node = ex.sum(axis=(0, 1))
        assert chi_square_p(np.append(per_node, 1800 - per_node.sum()), _exit_law(P, loss, s, 40)) > ALPHA


def test_laplace_example_against_the_exact_solve() -> None:
    from spikec.api import load

    net = load(os.path.join(ROOT, "examples", "laplace_square.spk"))
    sol = solve(net, trials=20, seed=5)
    Q, R = _stencil(9, 0.25)
    u = np.linalg.solve(np.eye(81) - Q, R["top"])
    for r in boundary_estimates(sol):
        assert r["exact"] == pytest.approx(u[r["start"]], abs=1e-12)
        assert abs(r["estimate"] - r["exact"]) < 4 * r["std_error"]
        assert r["first_passage_p"] > ALPHA and r["inside"] == 0
