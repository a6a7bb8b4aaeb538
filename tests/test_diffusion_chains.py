"""General chains, variable coefficients and sources for the density-method solver.

Oracles, each computed without the code under test: the exact distribution of the
chain from dense matrix powers (numpy.linalg.matrix_power) or the chain's own sparse
powers checked against them; the per-node ``Problem.outcomes``/``routing`` loops and
the pre-vectorization builder (copied below as ``_legacy_density``) for the regular
mesh; the face-by-face finite-difference operator of ``reference.variable_operator``;
hand-written rows and files; chi-square and Wald tests of simulated occupancy.
"""

from __future__ import annotations

from typing import Any

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import chi2

from diffusion_checks import ALPHA, chi_square_p, occupancy_p_values
from spikec.backends.diffusion import solve
from spikec.backends.simulator import simulate
from spikec.circuits.diffusion import build_density, density_resources, diffusion_network
from spikec.diffusion import (
    Chain,
    DiffusionError,
    chain_from_graph,
    chain_from_matrix,
    grid_chain,
    mesh_chain,
    problem_from_dict,
    problem_from_params,
    sample_chain,
)
from spikec.diffusion.reference import finite_difference, variable_fd, variable_operator
from spikec.errors import SpikecError
from spikec.ir.builder import Builder
from spikec.ir.network import Network

# -- helpers ---------------------------------------------------------------------------


def _random_chain(n: int, seed: int, density: float = 0.3, lose: float = 0.05) -> sp.csr_matrix:
    """A random substochastic matrix: random sparse rows plus a stay, scaled to 1 - lose."""
    rng = np.random.default_rng(seed)
    mat = sp.random(n, n, density=density, random_state=rng, format="csr") + 0.4 * sp.identity(n)
    sums = np.asarray(mat.sum(axis=1)).reshape(-1)
    return sp.csr_matrix(sp.diags((1.0 - lose) / sums) @ mat)


def _dense_occupancy(matrix: sp.csr_matrix, start: int, steps: int) -> np.ndarray:
    """One walker's distribution by dense matrix powers (nodes + a lost column)."""
    dense = matrix.toarray()
    out = []
    for m in range(steps + 1):
        row = np.linalg.matrix_power(dense, m)[start]
        out.append(np.append(row, 1.0 - row.sum()))
    return np.array(out)


def wald_p(chain: Chain, counts: np.ndarray, m: int) -> float:
    """p-value of the trial-pooled counts at step m (nodes + a lost bin) against their exact
    law: a sum over cohorts (walkers that start, or are injected, at one node at one step)
    of independent multinomials, with mean T sum n_c p_c and covariance T sum n_c (diag p_c
    - p_c p_c^T) from dense matrix powers. Bins expecting fewer than 5 are pooled; the
    statistic y' C^+ y is chi-square with rank(C) degrees of freedom (CLT over trials)."""
    trials, n = counts.shape[0], chain.nodes
    cohorts = [(int(c), int(i), m) for i, c in enumerate(chain.initial) if c]
    table = chain.source_table()
    for t in range(min(m, chain.steps)):
        cohorts += [(int(table[t, i]), int(i), m - t - 1) for i in np.flatnonzero(table[t])]
    dense = chain.matrix.toarray()
    mean = np.zeros(n + 1)
    cov = np.zeros((n + 1, n + 1))
    for count, node, age in cohorts:
        row = np.linalg.matrix_power(dense, age)[node]
        p = np.append(row, max(0.0, 1.0 - row.sum()))
        mean += count * p
        cov += count * (np.diag(p) - np.outer(p, p))
    present = sum(c for c, _, _ in cohorts)
    observed = counts[:, m].reshape(trials, -1).sum(axis=0)
    observed = np.append(observed, trials * present - observed.sum()).astype(float)
    impossible = mean < 1e-12
    assert observed[impossible].sum() == 0, "an impossible outcome happened"
    keep = trials * mean >= 5
    small = ~keep & ~impossible
    agg = np.vstack([np.eye(n + 1)[keep]] + ([small.astype(float)[None]] if small.any() else []))
    y = agg @ (observed - trials * mean)
    c = trials * agg @ cov @ agg.T
    rank = np.linalg.matrix_rank(c, tol=1e-9 * max(1.0, np.abs(c).max()))
    if rank == 0:
        return 1.0
    return float(chi2.sf(y @ np.linalg.pinv(c, rcond=1e-9) @ y, rank))


def _legacy_density(builder: Builder, problem: Any) -> None:
    """The density builder as it was before it was vectorized (one Python call per neuron
    and synapse), kept as the oracle of the regular mesh's circuit."""
    n = problem.nodes
    counts = problem.initial.reshape(-1)
    routes = [problem.routing(i) for i in range(n)]
    d1 = max(1, max((len(gates) for gates in routes), default=0))
    done = [builder.neuron(f"done[{b}]", threshold=float(n), decay=0.0, reset=0.0,
                           v0=float(n) if b == 1 else 0.0) for b in (0, 1)]
    c = [[builder.neuron(f"c{b}[{i}]", threshold=1.0, decay=0.0, reset=-1.0,
                         v0=-float(counts[i]) if b == 0 else 0.0) for i in range(n)] for b in (0, 1)]
    g = [[builder.neuron(f"g{b}[{i}]", threshold=1.0, decay=1.0) for i in range(n)] for b in (0, 1)]
    for b in (0, 1):
        start, other = done[1 - b], c[1 - b]
        for i in range(n):
            ci, gi = c[b][i], g[b][i]
            for pre, post, w, d in ((start, ci, 1.0, d1), (start, ci, 1.0, d1 + 1), (start, gi, 1.0, d1 + 1),
                                    (gi, gi, 1.0, 1), (ci, gi, -1.0, 1), (gi, ci, 1.0, 1),
                                    (ci, done[b], 1.0, 1), (gi, other[i], -1.0, 1)):
                builder.synapse(pre, post, w, d)
            fired: list[str] = []
            for j, (q, dest) in enumerate(routes[i]):
                gate = builder.neuron(f"r{b}[{i}][{j}]", threshold=1.0, decay=1.0, p=q)
                builder.synapse(gi, gate, 1.0, j + 1)
                for k, earlier in enumerate(fired):
                    builder.synapse(earlier, gate, -1.0, j - k)
                builder.synapse(gate, other[i], 1.0, 1)
                if dest is not None:
                    builder.synapse(gate, other[dest], -1.0, 1)
                fired.append(gate)


MESHES = [
    {},
    {"boundary": "absorbing", "kill": 0.3},
    {"ny": 4, "boundary": "periodic"},
    {"nx": 2, "boundary": "periodic", "drift": 0.3},
    {"nx": 1, "source": 0},
    {"ny": 3, "left": "absorbing", "right": "reflecting", "drift": 0.3, "drift_y": -0.2, "bottom": "periodic",
     "top": "periodic", "kill": 0.1},
]


def _mesh(kw: dict[str, Any]) -> Any:
    base: dict[str, Any] = {"nx": 5, "D": 1.0, "dx": 1.0, "dt": 0.1, "steps": 4, "walkers": 6, "source": 1}
    base.update(kw)
    return problem_from_params(base)


# -- the regular mesh is a special case --------------------------------------------------


@pytest.mark.parametrize("kw", MESHES)
def test_mesh_routing_arrays_are_the_per_node_loops_bit_for_bit(kw: dict[str, Any]) -> None:
    p = _mesh(kw)
    indptr, dest, q = p.routing_arrays()
    _, _, prob, _ = p.outcome_arrays()
    for i in range(p.nodes):
        a, b = indptr[i], indptr[i + 1]
        gates = zip(q[a:b], dest[a:b], strict=True)
        assert p.routing(i) == [(float(x), None if d < 0 else int(d)) for x, d in gates]
        outs = zip(prob[a:b], dest[a:b], strict=True)
        assert p.outcomes(i) == [(float(x), None if d < 0 else int(d)) for x, d in outs]
    loop = np.zeros((p.nodes, p.nodes))  # the matrix from the per-node outcomes, by hand
    for i in range(p.nodes):
        moved = 0.0
        for x, d in p.outcomes(i):
            moved += x
            if d is not None:
                loop[i, d] = x
        loop[i, i] = 1.0 - moved
    assert np.array_equal(p.transition_matrix().toarray(), loop)
    chain = p.to_chain()
    assert abs(chain.transition_matrix() - p.transition_matrix()).max() == 0
    for got, want in zip(chain.routing_arrays(), (indptr, dest, q), strict=True):
        assert np.array_equal(got, want)


@pytest.mark.parametrize("kw", MESHES[:4])
def test_mesh_circuit_is_the_legacy_circuit_and_spikes_the_same(kw: dict[str, Any]) -> None:
    p = _mesh(kw)
    old, new = Network("d"), Network("d")
    _legacy_density(Builder(old, "d."), p)
    build_density(Builder(new, "d."), p)
    for col in ("threshold", "decay", "reset", "bias", "p", "v0"):
        assert np.array_equal(getattr(old, col), getattr(new, col)), col
    syn = [sorted(zip(x.pre.tolist(), x.post.tolist(), x.weight.tolist(), x.delay.tolist(), strict=True))
           for x in (old, new)]
    assert syn[0] == syn[1]
    a, b = simulate(old, 200, seed=3, trials=3), simulate(new, 200, seed=3, trials=3)
    assert np.array_equal(a.spike_array(), b.spike_array())
    # the same walk given as a general chain: the same network, the same field
    mesh_net, chain_net = diffusion_network(p), diffusion_network(p.to_chain())
    c, e = simulate(chain_net, 200, seed=3, trials=3), simulate(mesh_net, 200, seed=3, trials=3)
    assert np.array_equal(c.spike_array(), e.spike_array())
    assert np.array_equal(chain_net.v0, new.v0) and np.array_equal(chain_net.p, new.p)


# -- validation ------------------------------------------------------------------------------


@pytest.mark.parametrize("rows, message", [
    ([[0.5, 0.6], [0.0, 1.0]], "row 0 of the transition matrix sums to 1.1"),
    ([[0.5, 0.0], [-0.1, 0.5]], r"row 1 of the transition matrix: P\[1, 0\] = -0.1"),
    ([[0.5, np.nan], [0.0, 1.0]], "row 0 of the transition matrix: P"),
    ([[0.5, 0.5, 0.0]], "square"),
])
def test_bad_rows_are_named(rows: list[list[float]], message: str) -> None:
    with pytest.raises(DiffusionError, match=message):
        chain_from_matrix(sp.csr_matrix(np.array(rows)), steps=1, walkers=1, start=0)


def test_rows_summing_to_one_up_to_rounding_lose_nothing() -> None:
    mat = sp.csr_matrix(np.array([[0.1, 0.2, 0.7], [1 / 3, 1 / 3, 1 / 3], [0.0, 0.0, 1.0]]))
    chain = chain_from_matrix(mat, steps=3, walkers=2, start=0)
    assert chain.conserves and np.all(chain.loss == 0)
    lossy = chain_from_matrix(mat * 0.9, steps=3, walkers=2, start=0)
    assert np.allclose(lossy.loss, 0.1) and not lossy.conserves


def test_files_give_the_same_chain_and_errors_name_the_file(tmp_path: Any) -> None:
    import scipy.io

    mat = _random_chain(6, 1)
    sp.save_npz(tmp_path / "p.npz", mat)
    scipy.io.mmwrite(str(tmp_path / "p.mtx"), mat)
    np.savetxt(tmp_path / "dense.csv", mat.toarray(), delimiter=",", fmt="%.17g")
    coo = mat.tocoo()
    edges = [f"{i},{j},{float(v)!r}" for i, j, v in zip(coo.row, coo.col, coo.data, strict=True)]
    lines = ["row,col,p", "# nodes = 6", *edges]
    (tmp_path / "edges.csv").write_text("\n".join(lines) + "\n")
    for name in ("p.npz", "p.mtx", "dense.csv", "edges.csv"):
        chain = chain_from_matrix(str(tmp_path / name), steps=2, walkers=3, start=1)
        assert abs(chain.matrix - mat).max() == 0, name
    (tmp_path / "bad.csv").write_text("0.5,0.5\n0.2,x\n")
    with pytest.raises(DiffusionError) as info:
        chain_from_matrix(str(tmp_path / "bad.csv"), steps=1, walkers=1)
    assert info.value.render().startswith(f"{tmp_path / 'bad.csv'}:2:5:")
    (tmp_path / "over.csv").write_text("0.5,0.5\n0.9,0.2\n")
    with pytest.raises(DiffusionError, match=r"over.csv: row 1 of the transition matrix sums to 1.1"):
        chain_from_matrix(str(tmp_path / "over.csv"), steps=1, walkers=1)
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(DiffusionError, match="junk.npz: not a sparse matrix"):
        chain_from_matrix(str(tmp_path / "junk.npz"), steps=1, walkers=1)
    with pytest.raises(DiffusionError, match="not found"):
        chain_from_matrix(str(tmp_path / "none.mtx"), steps=1, walkers=1)


def test_networkx_transition_graph_is_its_matrix() -> None:
    g = nx.DiGraph()
    g.add_weighted_edges_from([("a", "a", 0.5), ("a", "b", 0.5), ("b", "c", 0.9), ("c", "a", 1.0)],
                              weight="p")
    chain = chain_from_graph(g, steps=3, walkers=4, start="b", sources={"c": 1})
    assert chain.matrix.toarray().tolist() == [[0.5, 0.5, 0.0], [0.0, 0.0, 0.9], [1.0, 0.0, 0.0]]
    assert chain.initial.tolist() == [0, 4, 0] and chain.sources.tolist() == [0, 0, 1]
    assert np.allclose(chain.loss, [0.0, 0.1, 0.0])
    g.add_edge("b", "a", p=0.2)  # b now sums to 1.1
    with pytest.raises(DiffusionError, match="graph node 'b' \\(row 1\\): .* sum to 1.1"):
        chain_from_graph(g, steps=1, walkers=1)
    with pytest.raises(DiffusionError, match="has no transition probability 'p'"):
        chain_from_graph(nx.path_graph(3), steps=1, walkers=1)


def test_dt_bound_and_drift_are_named_at_the_worst_node() -> None:
    d = np.ones(10)
    d[7] = 4.0
    with pytest.raises(DiffusionError, match=r"node 7 at x = 7 would leave it with probability .*take dt <="
                       ) as info:
        grid_chain((10,), D=d, dt=0.3, steps=2, walkers=1)
    bound = float(info.value.message.rsplit("<= ", 1)[1])
    grid_chain((10,), D=d, dt=bound * (1 - 1e-9), steps=2, walkers=1)  # the bound named is the bound
    v = np.zeros((4, 4, 2))
    v[2, 3, 1] = 50.0
    with pytest.raises(DiffusionError, match=r"drift along y at node 11 \(index \(2, 3\)\)"):
        grid_chain((4, 4), D=1.0, dt=0.05, steps=2, drift=v.reshape(16, 2), walkers=1)
    g = nx.path_graph(4)
    with pytest.raises(DiffusionError, match="mesh node 1 .* take dt <= 0.5"):
        mesh_chain(g, D=1.0, dt=0.6, steps=1, walkers=1)
    with pytest.raises(DiffusionError, match="kill must be finite and >= 0: node 2"):
        grid_chain((4,), D=1.0, dt=0.1, steps=1, kill=[0, 0, -1, 0], walkers=1)


# -- exact references ---------------------------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 9), st.integers(0, 10**6), st.floats(0.0, 0.3), st.integers(0, 6))
def test_sparse_powers_are_dense_powers(n: int, seed: int, lose: float, steps: int) -> None:
    chain = chain_from_matrix(_random_chain(n, seed, lose=lose), steps=steps, walkers=1, start=n - 1)
    assert np.allclose(chain.occupancy_probabilities(n - 1), _dense_occupancy(chain.matrix, n - 1, steps),
                       atol=1e-12)


def test_exact_mean_with_sources_is_the_recursion() -> None:
    mat = _random_chain(7, 3)
    table = np.arange(21).reshape(3, 7) % 3
    chain = chain_from_matrix(mat, steps=5, initial=[1, 0, 2, 0, 0, 0, 4], sources=table)
    dense = mat.toarray()
    state = chain.initial.astype(float)
    for m in range(6):
        assert np.allclose(chain.exact_mean()[m], state)
        state = state @ dense + (table[m] if m < 3 else 0)
    assert np.allclose(finite_difference(chain), chain.exact_mean(), atol=1e-12)


@pytest.mark.parametrize("shape", [(7,), (4, 5), (3, 4, 3)])
@pytest.mark.parametrize("form", ["divergence", "fokker_planck"])
def test_variable_coefficient_walk_mean_is_the_face_by_face_fd_scheme(shape: tuple[int, ...],
                                                                       form: str) -> None:
    rng = np.random.default_rng(len(shape))
    n = int(np.prod(shape))
    d = rng.uniform(0.2, 1.0, n)
    v = rng.uniform(-0.3, 0.3, (n, len(shape)))
    k = rng.uniform(0.0, 0.4, n)
    walls = [("absorbing", "reflecting"), ("periodic", "periodic"), ("reflecting", "absorbing")][: len(shape)]
    dt = 0.05
    initial = rng.integers(0, 5, n)
    chain = grid_chain(shape, D=d, dt=dt, steps=12, initial=initial, dx=0.9, boundary=walls, drift=v, kill=k,
                       form=form, sources=(initial > 3).astype(int))
    fd = variable_fd(shape, d, 0.9, dt, 12, initial, boundary=walls, drift=v, kill=k, form=form,
                     sources=(initial > 3).astype(int))
    assert np.allclose(chain.exact_mean(), fd, rtol=1e-12, atol=1e-12)
    op = variable_operator(shape, d, 0.9, boundary=walls, drift=v, kill=k, form=form)
    assert abs(op - (chain.matrix.T - sp.identity(n)) / dt).max() < 1e-9
    # Crank-Nicolson converges to the semi-discrete solution exp(A t) c0 at second order
    exact = sp.linalg.expm_multiply(op * (12 * dt), initial.astype(float))
    errors = [np.abs(variable_fd(shape, d, 0.9, dt, 12, initial, boundary=walls, drift=v, kill=k, form=form,
                                 theta=0.5, substeps=s)[-1] - exact).max() for s in (2, 4)]
    assert errors[1] < 1e-3 * initial.sum()
    assert 3.5 < errors[0] / errors[1] < 4.5


def test_constant_coefficients_agree_with_problem_both_forms() -> None:
    p = _mesh(MESHES[-1])
    for form in ("divergence", "fokker_planck"):
        c = grid_chain(p.shape, D=p.D, dt=p.dt, steps=p.steps, initial=p.initial, dx=p.dx,
                       boundary=p.boundary,
                       drift=np.asarray(p.drift), kill=p.kill, form=form)
        assert abs(c.matrix - p.transition_matrix()).max() == 0
    op = variable_operator(p.shape, p.D, p.dx, boundary=p.boundary, drift=np.asarray(p.drift), kill=p.kill)
    assert abs(op - (p.transition_matrix().T - sp.identity(p.nodes)) / p.dt).max() < 1e-12


def test_probe_info_round_trip_and_resources() -> None:
    mat = _random_chain(9, 5)
    for sources in (None, np.array([0, 2, 0, 0, 1, 0, 0, 0, 0]), np.eye(9, dtype=int)[:4] * 2):
        chain = chain_from_matrix(mat, steps=4, walkers=3, start=2, sources=sources)
        back = problem_from_dict(chain.to_dict())
        assert isinstance(back, Chain) and abs(back.matrix - chain.matrix).max() == 0
        assert np.array_equal(back.loss, chain.loss)
        assert np.array_equal(back.source_table(), chain.source_table())
        net = diffusion_network(chain)
        res = density_resources(chain)
        assert (res["neurons"], res["synapses"]) == (len(net), net.num_synapses)


# -- the spiking solver against the exact chain -------------------------------------------------


def test_random_sparse_chain_occupancy_matches_exactly() -> None:
    chain = chain_from_matrix(_random_chain(10, 7, density=0.35), steps=4, walkers=5, start=3)
    sol = solve(diffusion_network(chain), trials=300, seed=2)
    assert min(occupancy_p_values(chain, sol.counts, [1, 2, 3, 4])) > ALPHA
    exact = _dense_occupancy(chain.matrix, 3, 4)  # the same test against dense powers
    pooled = sol.counts[:, 4].sum(axis=0)
    assert chi_square_p(np.append(pooled, 300 * 5 - pooled.sum()), exact[4]) > ALPHA


def test_constant_and_table_sources_conserve_and_match() -> None:
    mat = _random_chain(6, 11, lose=0.0)
    table = np.zeros((3, 6), dtype=int)
    table[0, 1], table[2, [0, 5]] = 3, (1, 2)
    for sources in (np.array([0, 1, 0, 0, 2, 0]), table):
        chain = chain_from_matrix(mat, steps=5, walkers=2, start=2, sources=sources)
        sol = solve(diffusion_network(chain), trials=200, seed=9)
        inj = np.concatenate([[0], np.cumsum(chain.source_table().sum(axis=1))])
        assert (sol.counts.sum(axis=2) == 2 + inj[None, :]).all()  # every walker accounted for
        assert min(wald_p(chain, sol.counts, m) for m in range(1, 6)) > ALPHA


def test_variable_coefficients_with_sources_match_in_2d() -> None:
    rng = np.random.default_rng(4)
    d = rng.uniform(0.3, 1.0, 12)
    chain = grid_chain((4, 3), D=d, dt=0.1, steps=4, walkers=4, boundary=[("absorbing", "reflecting"),
                                                                           ("periodic", "periodic")],
                       drift=rng.uniform(-0.5, 0.5, (12, 2)), kill=rng.uniform(0, 0.5, 12),
                       sources=(np.arange(12) == 7).astype(int))
    sol = solve(diffusion_network(chain), trials=250, seed=1)
    assert min(wald_p(chain, sol.counts, m) for m in range(1, 5)) > ALPHA


def test_numpy_sampler_follows_the_exact_mean() -> None:
    chain = chain_from_matrix(_random_chain(8, 2), steps=4, walkers=6, start=0, sources=np.full(8, 1))
    runs = sample_chain(chain, 2000, seed=3)
    assert min(wald_p(chain, runs, m) for m in range(1, 5)) > ALPHA
    # the test has power: a walk 15% lazier (same support and losses) is refused
    sums = np.asarray(chain.matrix.sum(axis=1)).ravel()
    lazier = sp.csr_matrix(0.85 * chain.matrix + 0.15 * sp.diags(sums))
    other = chain_from_matrix(lazier, steps=4, walkers=6, start=0, sources=np.full(8, 1))
    assert wald_p(other, runs, 4) < 1e-6


def _delaunay(points: int, seed: int) -> nx.Graph:
    from scipy.spatial import Delaunay

    pts = np.random.default_rng(seed).uniform(0, 1, (points, 2))
    tri = Delaunay(pts)
    g = nx.Graph()
    for i, p in enumerate(pts):
        g.add_node(i, pos=tuple(p))
    for simplex in tri.simplices:
        for a in range(3):
            g.add_edge(int(simplex[a]), int(simplex[(a + 1) % 3]))
    return g


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(3))
def test_irregular_delaunay_mesh_occupancy(seed: int) -> None:
    g = _delaunay(25, seed)
    rates = mesh_chain(g, D=1.0, dt=1e-9, steps=1, walkers=1)  # to find the dt bound
    leave = (1.0 - rates.matrix.diagonal()) / 1e-9
    chain = mesh_chain(g, D=1.0, dt=0.8 / leave.max(), steps=5, kill=np.linspace(0, 2, 25), walkers=6,
                       start=3)
    sol = solve(diffusion_network(chain), trials=2000, seed=seed)
    assert min(occupancy_p_values(chain, sol.counts, [1, 3, 5])) > ALPHA


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(3))
def test_3d_grid_with_variable_coefficients_and_table_sources(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 27
    table = np.zeros((4, n), dtype=int)
    table[1, 13], table[3, 0] = 2, 1
    chain = grid_chain((3, 3, 3), D=rng.uniform(0.2, 1.0, n), dt=0.08, steps=5, walkers=5,
                       boundary=[("absorbing", "reflecting"), ("periodic", "periodic"),
                                 ("reflecting", "reflecting")],
                       drift=rng.uniform(-0.3, 0.3, (n, 3)), kill=0.2, sources=table, form="fokker_planck")
    sol = solve(diffusion_network(chain), trials=2000, seed=seed)
    assert min(wald_p(chain, sol.counts, m) for m in range(1, 6)) > ALPHA


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(4))
def test_random_sparse_chains_across_seeds(seed: int) -> None:
    chain = chain_from_matrix(_random_chain(15, 100 + seed, density=0.25, lose=0.1), steps=6, walkers=8,
                              start=seed, sources=np.eye(15, dtype=int)[seed + 5])
    sol = solve(diffusion_network(chain), trials=2000, seed=seed)
    assert min(wald_p(chain, sol.counts, m) for m in range(1, 7)) > ALPHA


# -- the .spk statement ---------------------------------------------------------------------------

SPK3D = """
import std.diffusion
diffusion heat (nx = 4, ny = 3, nz = 3, dx = 0.5, dt = 0.01, D = "1 + 0.5 * sin(pi * x) + z",
                boundary = "absorbing", front = "reflecting", back = "periodic", kill = "0.1 * y",
                walkers = 6, steps = 4, sources = 1, form = "fokker_planck")
"""


def test_spk_3d_statement_with_expressions_and_sources_is_its_grid_chain() -> None:
    from spikec.dsl import compile_text

    with pytest.raises(SpikecError, match="both must be periodic"):
        compile_text(SPK3D, filename="heat.spk")
    net = compile_text(SPK3D.replace('back = "periodic"', 'back = "reflecting"'), filename="heat.spk")
    chain = problem_from_dict(net.probes[0].info["problem"])  # type: ignore[index]
    x, y, z = np.meshgrid(np.arange(4) * 0.5, np.arange(3) * 0.5, np.arange(3) * 0.5, indexing="ij")
    want = grid_chain((4, 3, 3), D=(1 + 0.5 * np.sin(np.pi * x) + z).ravel(), dt=0.01, steps=4, walkers=6,
                      dx=0.5, boundary=[("absorbing", "absorbing"), ("absorbing", "absorbing"),
                                        ("reflecting", "reflecting")],
                      kill=(0.1 * y).ravel(), sources=np.eye(36, dtype=int)[1 * 9 + 1 * 3 + 1],
                      form="fokker_planck")
    assert isinstance(chain, Chain) and abs(chain.matrix - want.matrix).max() == 0
    assert np.array_equal(chain.source_table(), want.source_table())
    sol = solve(net, trials=150, seed=3)
    assert min(wald_p(chain, sol.counts, m) for m in range(1, 5)) > ALPHA


def test_spk_chain_statement_reads_a_matrix_file(tmp_path: Any) -> None:
    from spikec.dsl import compile_text

    mat = _random_chain(6, 8)
    sp.save_npz(tmp_path / "p.npz", mat)
    table = np.array([[0, 1, 0, 0, 0, 0], [2, 0, 0, 0, 0, 1]])
    np.savetxt(tmp_path / "src.csv", table, delimiter=",", fmt="%d")
    spk = tmp_path / "walk.spk"
    spk.write_text('import std.diffusion\ndiffusion w (chain = "p.npz", steps = 3, walkers = 4, source = 2,'
                   ' sources = "src.csv")\n')
    net = compile_text(spk.read_text(), filename=str(spk))
    chain = problem_from_dict(net.probes[0].info["problem"])  # type: ignore[index]
    assert isinstance(chain, Chain) and abs(chain.matrix - mat).max() == 0
    assert chain.source_table().tolist() == [[0, 1, 0, 0, 0, 0], [2, 0, 0, 0, 0, 1], [0] * 6]
    assert chain.initial.tolist() == [0, 0, 4, 0, 0, 0]


@pytest.mark.parametrize("text, where, message", [
    ('D = "1 + q"', '"1 + q"', "D: 'q' is not allowed in an expression"),
    ('D = "1 - 2 * x"', None, "D must be finite and >= 0: node 1 has -1.0"),
    ('D = "x +"', '"x +"', "neither a file"),
    ('kill = "k.csv"', '"k.csv"', "kill file not found"),
    ('front = "reflecting"', None, "'front' needs a mesh with that axis"),
    ('nz = 2', None, "'nz' needs 'ny' too"),
    ('sources = -1', "-1", "sources must be a number of walkers >= 0"),
    ('boundary = "refecting", nz = 2, ny = 2', None, "did you mean 'reflecting'"),
])
def test_bad_extended_statements_are_located(text: str, where: str | None, message: str) -> None:
    from spikec.dsl import compile_text

    source = ("import std.diffusion\n"
              f"diffusion heat (nx = 3, D = 1.0, dt = 0.1, steps = 2, walkers = 3, {text})\n")
    if text.startswith("D ="):
        source = source.replace("D = 1.0, ", "")
    with pytest.raises(SpikecError) as info:
        compile_text(source, filename="bad.spk")
    rendered = info.value.render()
    assert message in rendered and rendered.startswith("bad.spk:2:")
    if where is not None:
        assert rendered.startswith(f"bad.spk:2:{source.splitlines()[1].index(where) + 1}:")


@pytest.mark.parametrize("seed", [0, 1])
def test_high_degree_nodes_inhibit_through_relays_exactly(seed: int) -> None:
    from spikec.circuits.diffusion import RELAY_DEGREE

    n = 14
    rng = np.random.default_rng(seed)
    dense = rng.uniform(0.1, 1.0, (n, n)) * (rng.uniform(size=(n, n)) < np.linspace(1.0, 0.1, n)[:, None])
    dense += np.eye(n)
    mat = sp.csr_matrix(dense * (0.9 / dense.sum(axis=1))[:, None])
    chain = chain_from_matrix(mat, steps=3, walkers=6, start=seed)
    degree = np.diff(chain.routing_arrays()[0])
    assert degree.max() >= RELAY_DEGREE and degree.min() < RELAY_DEGREE  # both kinds of node
    net = diffusion_network(chain)
    res = density_resources(chain)
    assert (res["neurons"], res["synapses"]) == (len(net), net.num_synapses)
    relays = sum(int(d) - 2 for d in degree if d >= RELAY_DEGREE)
    assert res["neurons"] == 2 + 4 * n + 2 * int(degree.sum()) + 2 * relays
    sol = solve(net, trials=400, seed=seed)
    assert min(occupancy_p_values(chain, sol.counts, [1, 2, 3])) > ALPHA


def test_particle_method_runs_a_general_chain_exactly() -> None:
    from spikec.circuits._diffusion_particle import particle_resources

    chain = chain_from_matrix(_random_chain(6, 21, density=0.4), steps=3, walkers=2, start=1,
                              method="particle")
    net = diffusion_network(chain)
    assert particle_resources(chain)["neurons"] == len(net)
    sol = solve(net, trials=600, seed=5)
    assert min(occupancy_p_values(chain, sol.counts, [1, 2, 3])) > ALPHA
    with pytest.raises(DiffusionError, match="sources need the density method"):
        chain_from_matrix(_random_chain(6, 21), steps=3, walkers=2, method="particle", sources=np.ones(6))


KINDS = ["absorbing", "reflecting", "periodic"]


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 5), st.integers(1, 4), st.sampled_from(KINDS), st.sampled_from(KINDS),
       st.sampled_from(KINDS), st.floats(-0.9, 0.9), st.floats(-0.9, 0.9), st.floats(0.0, 1.0),
       st.floats(0.05, 0.2))
def test_mesh_arrays_equal_the_loops_for_random_meshes(nx: int, ny: int, left: str, right: str, bottom: str,
                                                       vx: float, vy: float, kill: float, dt: float) -> None:
    params: dict[str, Any] = {"nx": nx, "D": 1.0, "dt": dt, "steps": 1, "walkers": 1, "source": 0,
                              "left": left, "right": left if left == "periodic" else right,
                              "drift": vx, "kill": kill}
    if right == "periodic" and left != "periodic":
        params["right"] = "reflecting"
    if ny > 1:
        params.update(ny=ny, bottom=bottom, top=bottom, drift_y=vy, source_y=0)
    p = problem_from_params(params)
    indptr, dest, q = p.routing_arrays()
    got = [[(float(x), None if d < 0 else int(d)) for x, d in zip(q[a:b], dest[a:b], strict=True)]
           for a, b in zip(indptr[:-1], indptr[1:], strict=True)]
    assert got == [p.routing(i) for i in range(p.nodes)]


def test_problem_from_params_states_general_chains_too() -> None:
    c = problem_from_params({"nx": 3, "ny": 2, "nz": 2, "D": "1 + x", "dt": 0.05, "steps": 2, "walkers": 3,
                             "sources": 1})
    assert isinstance(c, Chain) and c.grid == (3, 2, 2) and c.source_table().sum() == 2
    plain = problem_from_params({"nx": 3, "D": 1.0, "dt": 0.1, "steps": 1, "walkers": 1})
    assert not isinstance(plain, Chain)


def test_an_integer_past_float_range_is_an_error_not_a_crash() -> None:
    # found by tests/test_fuzz_spk.py: float() of a 300-digit integer overflows
    import spikec

    with pytest.raises(spikec.SpikecError, match=r"dx must be finite, got an integer of 401 digits"):
        spikec.loads("import std.diffusion\ndiffusion heat (nx = 5, D = 1.0, dx = 1" + "0" * 400
                     + ", dt = 0.1, steps = 2, walkers = 3)\n")
