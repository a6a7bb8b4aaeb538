"""Tests for spikec.diffusion.reference: the heat kernel and the finite-difference references.

Each reference is checked against something computed another way: the
chain's exact mean (Problem.exact_mean), eigenfunction series of the
bounded heat equation, a free-space Gaussian folded onto the mesh, the
matrix exponential of the semi-discrete operator, and convergence rates.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from spikec.diffusion import DiffusionError, Problem, problem_from_params
from spikec.diffusion.reference import finite_difference, heat_kernel, l2_error

WALLS = [
    ("reflecting", "reflecting"),
    ("absorbing", "absorbing"),
    ("absorbing", "reflecting"),
    ("reflecting", "absorbing"),
    ("periodic", "periodic"),
]


def _problem(**params: Any) -> Problem:
    return problem_from_params(params)


def _walls(low: str, high: str, n: int, dx: float) -> tuple[float, float]:
    """The continuous walls of a lattice axis, as the module docstring places them."""
    a = -dx / 2 if low == "reflecting" else -dx
    b = (n - 0.5) * dx if high == "reflecting" else n * dx
    return a, b


def _series_kernel(x: np.ndarray, x0: float, t: float, D: float, low: str, high: str,
                   a: float, b: float, v: float = 0.0, modes: int = 4000) -> np.ndarray:
    """G(x, t | x0) from the eigenfunction expansion of the heat equation on [a, b]
    (or on the ring of period b - a): independent of the method of images."""
    length = b - a
    k = np.arange(modes)[:, None]
    if low == "periodic":
        wave = 2 * math.pi * np.arange(-modes, modes + 1)[:, None] / length
        terms = np.exp(1j * wave * (x[None, :] - x0 - v * t)) * np.exp(-D * wave**2 * t)
        return np.real(terms.sum(axis=0)) / length
    u, u0 = (x[None, :] - a) / length, (x0 - a) / length
    if (low, high) == ("reflecting", "reflecting"):
        freq = k * math.pi
        weight = np.where(k == 0, 1.0, 2.0)
        modes_x, modes_0 = np.cos(freq * u), np.cos(freq * u0)
    elif (low, high) == ("absorbing", "absorbing"):
        freq = (k + 1) * math.pi
        weight = np.full_like(freq, 2.0)
        modes_x, modes_0 = np.sin(freq * u), np.sin(freq * u0)
    elif (low, high) == ("absorbing", "reflecting"):
        freq = (k + 0.5) * math.pi
        weight = np.full_like(freq, 2.0)
        modes_x, modes_0 = np.sin(freq * u), np.sin(freq * u0)
    else:  # reflecting low, absorbing high
        freq = (k + 0.5) * math.pi
        weight = np.full_like(freq, 2.0)
        modes_x, modes_0 = np.cos(freq * u), np.cos(freq * u0)
    decay = np.exp(-D * (freq / length) ** 2 * t)
    return (weight * decay * modes_x * modes_0).sum(axis=0) / length


# -- finite differences ---------------------------------------------------------------


@pytest.mark.parametrize("walls", WALLS)
@pytest.mark.parametrize("drift, kill", [(0.0, 0.0), (0.3, 0.0), (-0.2, 0.4)])
def test_explicit_fd_is_the_chain_mean_1d(walls: tuple[str, str], drift: float, kill: float) -> None:
    p = _problem(nx=9, D=0.5, dx=1.0, dt=0.6, steps=25, left=walls[0], right=walls[1],
                 drift=drift, kill=kill, counts=[0, 3, 0, 7, 1, 0, 0, 2, 5])
    fd = finite_difference(p)
    exact = p.exact_mean()
    assert fd.shape == exact.shape == (26, 9)
    np.testing.assert_allclose(fd, exact, rtol=1e-12, atol=1e-12 * p.walkers)


@pytest.mark.parametrize("x_walls, y_walls", [
    (("periodic", "periodic"), ("absorbing", "reflecting")),
    (("reflecting", "reflecting"), ("periodic", "periodic")),
    (("absorbing", "absorbing"), ("reflecting", "absorbing")),
])
def test_explicit_fd_is_the_chain_mean_2d(x_walls: tuple[str, str], y_walls: tuple[str, str]) -> None:
    counts = np.zeros((5, 4), dtype=np.int64)
    counts[1, 2], counts[3, 0], counts[4, 3] = 10, 4, 6
    p = _problem(nx=5, ny=4, D=0.2, dx=1.0, dt=1.0, steps=15, left=x_walls[0], right=x_walls[1],
                 bottom=y_walls[0], top=y_walls[1], drift=0.1, drift_y=-0.15, kill=0.05, counts=counts)
    np.testing.assert_allclose(finite_difference(p), p.exact_mean(), rtol=1e-12, atol=1e-12 * p.walkers)


def _operator(p: Problem) -> sp.csr_matrix:
    return ((p.transition_matrix().T - sp.identity(p.nodes)) / p.dt).tocsr()


@pytest.mark.parametrize("walls", [("reflecting", "absorbing"), ("periodic", "periodic")])
def test_crank_nicolson_converges_to_the_matrix_exponential(walls: tuple[str, str]) -> None:
    p = _problem(nx=12, D=0.4, dx=1.0, dt=1.0, steps=6, left=walls[0], right=walls[1],
                 drift=0.2, kill=0.1, walkers=100, source=3)
    exact = spla.expm_multiply(_operator(p), p.initial.astype(float), start=0.0, stop=p.steps * p.dt,
                               num=p.steps + 1, endpoint=True)
    errors = [np.abs(finite_difference(p, theta=0.5, substeps=s) - exact).max() for s in (5, 10)]
    assert errors[1] < 1e-3 * p.walkers
    assert 3.5 < errors[0] / errors[1] < 4.5  # second order in time


def test_implicit_step_solves_its_system() -> None:
    p = _problem(nx=6, ny=5, D=0.2, dx=1.0, dt=1.0, steps=3, boundary="absorbing", bottom="periodic",
                 top="periodic", drift_y=0.3, walkers=50)
    fd = finite_difference(p, theta=1.0).reshape(p.steps + 1, -1)
    system = sp.identity(p.nodes) - p.dt * _operator(p)
    for m in range(p.steps):
        np.testing.assert_allclose(system @ fd[m + 1], fd[m], atol=1e-10)


# -- heat kernel: against independent formulas ------------------------------------------


@pytest.mark.parametrize("walls", WALLS[:4])
@pytest.mark.parametrize("t", [0.3, 2.0, 15.0])
def test_image_sum_equals_eigenfunction_series(walls: tuple[str, str], t: float) -> None:
    n, dx, D, source = 10, 0.5, 0.3, 2
    steps = math.ceil(t / 0.4)  # D dt / dx^2 <= 1/2
    p = _problem(nx=n, D=D, dx=dx, dt=t / steps, steps=steps, left=walls[0], right=walls[1],
                 walkers=1, source=source)
    a, b = _walls(*walls, n, dx)
    expected = _series_kernel(np.arange(n) * dx, source * dx, t, D, *walls, a, b) * dx
    np.testing.assert_allclose(heat_kernel(p)[-1], expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("t", [0.2, 3.0, 40.0])
def test_reflecting_kernel_is_a_folded_free_gaussian(t: float) -> None:
    """Fold a free-space Gaussian, sampled on an unbounded node lattice, onto the mesh:
    the reflecting walls half a node out send free node k to k mod 2n or its mirror."""
    n, dx, D, source = 7, 0.4, 0.5, 5
    steps = math.ceil(t / 0.15)  # D dt / dx^2 <= 1/2
    p = _problem(nx=n, D=D, dx=dx, dt=t / steps, steps=steps, walkers=1, source=source)
    free = np.arange(-400 * n, 400 * n)
    density = np.exp(-((free - source) * dx) ** 2 / (4 * D * t)) / math.sqrt(4 * math.pi * D * t)
    r = free % (2 * n)
    folded = np.zeros(n)
    np.add.at(folded, np.where(r < n, r, 2 * n - 1 - r), density * dx)
    np.testing.assert_allclose(heat_kernel(p)[-1], folded, rtol=1e-12, atol=1e-15)


def test_periodic_kernel_with_drift_equals_fourier_series() -> None:
    n, dx, D, v, source = 8, 0.25, 0.1, 0.7, 1
    p = _problem(nx=n, D=D, dx=dx, dt=0.25, steps=18, boundary="periodic", drift=v, walkers=1, source=source)
    x = np.arange(n) * dx
    kernel = heat_kernel(p)
    for m in (1, 7, 18):
        expected = _series_kernel(x, source * dx, m * p.dt, D, "periodic", "periodic", 0.0, n * dx, v=v)
        np.testing.assert_allclose(kernel[m], expected * dx, rtol=0, atol=1e-12)


def test_2d_kernel_is_the_product_of_axis_series() -> None:
    nx, ny, dx, D, t = 6, 5, 0.5, 0.2, 1.5
    counts = np.zeros((nx, ny), dtype=np.int64)
    counts[1, 3] = 1
    p = _problem(nx=nx, ny=ny, D=D, dx=dx, dt=t / 6, steps=6, left="absorbing", right="reflecting",
                 bottom="periodic", top="periodic", drift_y=-0.4, counts=counts)
    gx = _series_kernel(np.arange(nx) * dx, 1 * dx, t, D, "absorbing", "reflecting",
                        *_walls("absorbing", "reflecting", nx, dx))
    gy = _series_kernel(np.arange(ny) * dx, 3 * dx, t, D, "periodic", "periodic", 0.0, ny * dx, v=-0.4)
    np.testing.assert_allclose(heat_kernel(p)[-1], np.outer(gx, gy) * dx * dx, rtol=0, atol=1e-12)


# -- heat kernel: mass ---------------------------------------------------------------


@pytest.mark.parametrize("walls", [("reflecting", "reflecting"), ("periodic", "periodic")])
def test_kernel_conserves_mass_1d(walls: tuple[str, str]) -> None:
    p = _problem(nx=11, D=1.0, dx=0.5, dt=0.0625, steps=300, left=walls[0], right=walls[1],
                 counts=[4, 0, 0, 1, 0, 0, 0, 9, 0, 0, 3])
    mass = heat_kernel(p).sum(axis=1)
    assert mass[0] == p.walkers
    # From step 2 on the Gaussian spans >= 1 node (2 D t >= dx^2) and the midpoint rule is exact.
    np.testing.assert_allclose(mass[2:], p.walkers, rtol=1e-6)


def test_kernel_conserves_mass_2d_and_decays_with_killing() -> None:
    counts = np.zeros((6, 7), dtype=np.int64)
    counts[0, 0], counts[4, 5] = 5, 8
    params = dict(nx=6, ny=7, D=0.2, dx=1.0, dt=1.0, steps=40, bottom="periodic", top="periodic",
                  counts=counts)
    mass = heat_kernel(_problem(**params)).sum(axis=(1, 2))
    np.testing.assert_allclose(mass[3:], 13, rtol=1e-6)
    killed = heat_kernel(_problem(**params, kill=0.03)).sum(axis=(1, 2))
    np.testing.assert_allclose(killed[3:], 13 * np.exp(-0.03 * np.arange(3, 41)), rtol=1e-6)


@pytest.mark.parametrize("walls", [("absorbing", "absorbing"), ("absorbing", "reflecting")])
def test_kernel_loses_mass_through_absorbing_walls(walls: tuple[str, str]) -> None:
    p = _problem(nx=8, D=0.5, dx=1.0, dt=0.5, steps=400, left=walls[0], right=walls[1], walkers=20)
    mass = heat_kernel(p).sum(axis=1)
    assert np.all(np.diff(mass[1:]) < 0)
    assert mass[-1] < 0.1 * p.walkers
    # Late on only the slowest mode is left: the mass decays at its eigenvalue.
    a, b = _walls(*walls, 8, 1.0)
    slowest = (math.pi if walls[1] == "absorbing" else math.pi / 2) / (b - a)
    np.testing.assert_allclose(mass[-1] / mass[-11], math.exp(-0.5 * slowest**2 * 10 * p.dt), rtol=1e-3)


# -- convergence ------------------------------------------------------------------------


def _refined(n: int, *, T: float = 0.02, lam: float = 0.25) -> Problem:
    """A unit-length reflecting domain with a point source at x = 1/4, dt = lam dx^2 / D."""
    dx = 1.0 / n
    steps = round(T / (lam * dx * dx))
    return _problem(nx=n, D=1.0, dx=dx, dt=T / steps, steps=steps, walkers=1000, source=n // 4)


def test_crank_nicolson_is_second_order_in_space() -> None:
    errors = []
    for n in (16, 32, 64):
        p = _refined(n)
        errors.append(l2_error(finite_difference(p, theta=0.5, substeps=4), heat_kernel(p), p)[-1])
    ratios = np.array(errors[:-1]) / errors[1:]
    assert np.all((3.5 < ratios) & (ratios < 4.8)), ratios


def test_chain_mean_is_within_second_order_floor_of_kernel() -> None:
    errors = []
    for n in (16, 32, 64):
        p = _refined(n)
        error = l2_error(p.exact_mean(), heat_kernel(p), p)
        assert error[0] == 0
        errors.append(error[-1])
    ratios = np.array(errors[:-1]) / errors[1:]
    assert np.all((3.5 < ratios) & (ratios < 4.8)), ratios
    assert errors[-1] < 1e-3  # the concentration has L2 norm ~ 1.3 here


def _circular_mean(field: np.ndarray, x: np.ndarray, period: float) -> float:
    angle = np.angle(np.sum(field * np.exp(2j * math.pi * x / period)))
    return float(angle % (2 * math.pi) * period / (2 * math.pi))


def test_periodic_drift_moves_the_mean_by_vt() -> None:
    n, D, v = 32, 0.05, 1.0
    dx = 1.0 / n
    p = _problem(nx=n, D=D, dx=dx, dt=0.25 * dx * dx / D, steps=250, boundary="periodic", drift=v,
                 walkers=500, source=3)
    x = np.arange(n) * dx
    kernel, chain = heat_kernel(p), p.exact_mean()
    for m in (10, 120, 250):  # v t = 0.05 .. 1.22: the last has wrapped around
        expected = (3 * dx + v * m * p.dt) % 1.0
        assert _circular_mean(kernel[m], x, 1.0) == pytest.approx(expected, abs=1e-9)
        # The walk's drift on the ring is v (1 + O(dx^2)): here 0.3% fast.
        assert _circular_mean(chain[m], x, 1.0) == pytest.approx(expected, abs=0.005 * v * m * p.dt)
    # Once the Gaussian spans a few nodes, the walk is within a few percent of it.
    relative = l2_error(chain, kernel, p)[10:] / l2_error(kernel, np.zeros_like(kernel), p)[10:]
    assert relative.max() < 0.03


# -- errors and small contracts -----------------------------------------------------------


@pytest.mark.parametrize("walls", [("reflecting", "reflecting"), ("absorbing", "reflecting")])
def test_drift_with_walls_is_refused(walls: tuple[str, str]) -> None:
    p = _problem(nx=5, D=1.0, dt=0.2, steps=2, left=walls[0], right=walls[1], drift=0.5, walkers=3)
    message = r"^error: heat_kernel supports drift only on periodic axes: axis x has drift 0\.5"
    with pytest.raises(DiffusionError, match=message):
        heat_kernel(p)
    finite_difference(p)  # the finite differences take it


def test_drift_along_a_walled_y_axis_is_refused() -> None:
    p = _problem(nx=4, ny=4, D=1.0, dt=0.1, steps=2, left="periodic", right="periodic", drift=1.0,
                 drift_y=0.5, walkers=3)
    with pytest.raises(DiffusionError, match=r"axis y has drift 0\.5 and reflecting/reflecting walls"):
        heat_kernel(p)


def test_zero_diffusion_is_refused() -> None:
    p = _problem(nx=5, D=0.0, dt=0.2, steps=2, kill=0.1, walkers=3)
    with pytest.raises(DiffusionError, match=r"^error: heat_kernel needs D > 0"):
        heat_kernel(p)
    np.testing.assert_array_equal(heat_kernel(p, steps=0), p.initial[None].astype(float))


@pytest.mark.parametrize("kwargs, match", [
    ({"theta": 1.5}, r"^error: theta must be a number in \[0, 1\]"),
    ({"substeps": 0}, r"^error: substeps must be an integer >= 1"),
    ({"steps": -1}, r"^error: steps must be an integer >= 0"),
])
def test_bad_scheme_parameters(kwargs: dict[str, Any], match: str) -> None:
    p = _problem(nx=5, D=1.0, dt=0.2, steps=2, walkers=3)
    with pytest.raises(DiffusionError, match=match):
        finite_difference(p, **kwargs)


def test_l2_error_norm_and_shapes() -> None:
    p = _problem(nx=4, ny=3, D=1.0, dx=0.5, dt=0.01, steps=1, walkers=10)
    field = np.arange(24.0).reshape(2, 4, 3) / 2
    conc = field / (10 * 0.25)
    expected = np.sqrt((conc**2).sum(axis=(1, 2)) * 0.25)
    np.testing.assert_allclose(l2_error(field, np.zeros_like(field), p), expected)
    assert l2_error(field[1], field[1], p).shape == (1,)
    with pytest.raises(DiffusionError, match=r"^error: l2_error: fields must have shape"):
        l2_error(field.reshape(2, 12), field.reshape(2, 12), p)


def test_steps_argument_and_initial_row() -> None:
    p = _problem(nx=6, D=0.5, dt=0.3, steps=4, boundary="absorbing", walkers=7, source=2)
    kernel, fd = heat_kernel(p, steps=9), finite_difference(p, theta=0.5, steps=9)
    assert kernel.shape == fd.shape == (10, 6)
    np.testing.assert_array_equal(kernel[0], p.initial)
    np.testing.assert_array_equal(fd[0], p.initial)


def test_degenerate_meshes() -> None:
    empty = _problem(nx=4, ny=3, D=0.1, dt=0.5, steps=3, counts=np.zeros((4, 3), dtype=np.int64))
    np.testing.assert_array_equal(heat_kernel(empty), 0.0)
    np.testing.assert_array_equal(finite_difference(empty, theta=0.5), 0.0)
    single = _problem(nx=1, D=0.5, dt=1.0, steps=5, walkers=4)
    np.testing.assert_allclose(heat_kernel(single)[1:, 0], 4.0, rtol=1e-6)  # 2 D t >= dx^2
    np.testing.assert_allclose(finite_difference(single, theta=1.0)[:, 0], 4.0, rtol=1e-12)
