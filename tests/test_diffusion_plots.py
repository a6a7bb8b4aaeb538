"""The figures of ``spikec solve`` read back from the matplotlib objects (data, axes, legends,
colorbars, scales), not pixels; the coordinates in the CSV/NPZ; ``--convergence``."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from spikec.backends.diffusion import solve  # noqa: E402
from spikec.circuits.diffusion import diffusion_network  # noqa: E402
from spikec.cli import report  # noqa: E402
from spikec.cli.solve_figures import convergence_figure, field_figure  # noqa: E402
from spikec.diffusion import grid_chain, problem_from_params  # noqa: E402
from spikec.diffusion.reference import heat_kernel  # noqa: E402

LINE = {"nx": 11, "dx": 0.1, "D": 1.0, "dt": 0.0025, "steps": 9, "boundary": "absorbing", "walkers": 40}


def _solved(problem: Any, trials: int = 4, seed: int = 1) -> tuple[Any, dict[str, np.ndarray]]:
    sol = solve(diffusion_network(problem), trials=trials, seed=seed)
    return sol, report.references(problem)


def _legend(ax: Any) -> list[str]:
    return [t.get_text() for t in ax.get_legend().get_texts()]


def test_1d_lines_are_the_solution_and_the_references_each_in_the_legend() -> None:
    p = problem_from_params(LINE)
    sol, refs = _solved(p)
    fig = field_figure(sol, refs)
    ax, err = fig.axes[:2]
    assert ax.get_xlabel() == "x" and "concentration" in ax.get_ylabel()
    x = np.arange(11) * 0.1
    scale = 40 * 0.1  # walkers * dx: counts -> concentration
    by_label = {line.get_label(): line for line in ax.get_lines()}
    kernel = heat_kernel(p)
    shown = [3, 6, 9]
    for m in shown:
        t = f"t = {m * 0.0025:.4g}"
        dots = by_label[f"spiking mean of 4 trials, {t}"]
        assert np.allclose(dots.get_xdata(), x)
        assert np.allclose(dots.get_ydata(), sol.counts[:, m].mean(axis=0) / scale)
        assert np.allclose(by_label[f"heat kernel, {t}"].get_ydata(), kernel[m] / scale)
        assert np.allclose(by_label[f"exact chain mean, {t}"].get_ydata(), p.exact_mean()[m] / scale)
    bands = [c for c in ax.collections if c.get_label().startswith("spiking mean +- 1 s.d.")]
    assert len(bands) == len(shown)
    for band, m in zip(bands, shown, strict=True):  # the band spans mean -+ one s.d. across trials
        conc = sol.counts[:, m] / scale
        lo, hi = conc.mean(axis=0) - conc.std(axis=0, ddof=1), conc.mean(axis=0) + conc.std(axis=0, ddof=1)
        verts = band.get_paths()[0].vertices
        for i, xi in enumerate(x):
            ys = verts[np.isclose(verts[:, 0], xi), 1]
            assert np.isclose(ys.min(), lo[i]) and np.isclose(ys.max(), hi[i])
    labels = set(_legend(ax))
    assert labels == set(by_label) | {b.get_label() for b in bands}  # every series, nothing else
    assert err.get_yscale() == "log"
    chain_err = [line for line in err.get_lines() if line.get_label().endswith("vs exact chain mean")][0]
    assert np.isclose(chain_err.get_xdata()[0], 0.0025)  # from step 1: step 0 is exact
    from spikec.diffusion.reference import l2_error

    assert np.allclose(chain_err.get_ydata(), l2_error(sol.mean(), p.exact_mean(), p)[1:])
    title = fig.get_suptitle()
    assert "D = 1" in title and "dt = 0.0025" in title and "4 trials" in title


def test_2d_images_put_x_horizontal_with_labels_and_colorbars() -> None:
    p = problem_from_params({"nx": 7, "ny": 4, "dx": 0.1, "D": 1.0, "dt": 0.001, "steps": 4,
                             "boundary": "reflecting", "walkers": 30})
    sol, refs = _solved(p, trials=2)
    fig = field_figure(sol, refs)
    spiking, exact = [a.images[0] for a in fig.axes if a.images]
    field = sol.counts[:, -1].mean(axis=0) / (30 * 0.1**2)  # (nx, ny)
    arr = np.asarray(spiking.get_array())
    assert arr.shape == (4, 7)  # rows are y, columns x
    assert np.allclose(arr, field.T)
    left, right, bottom, top = spiking.get_extent()
    assert np.allclose([left, right, bottom, top], [-0.05, 0.65, -0.05, 0.35])
    assert spiking.origin == "lower"
    assert np.allclose(np.asarray(exact.get_array()), heat_kernel(p)[-1].T / (30 * 0.01))
    for im in (spiking, exact):
        assert im.colorbar is not None and "concentration" in im.colorbar.ax.get_ylabel()
        assert im.axes.get_xlabel() == "x" and im.axes.get_ylabel() == "y"
    assert "7 x 4 nodes" in fig.get_suptitle() and "D = 1" in fig.get_suptitle()
    assert [a for a in fig.axes if a.get_yscale() == "log"]


def test_3d_chain_shows_the_middle_z_slice_at_its_coordinates() -> None:
    chain = grid_chain((5, 4, 3), D=1.0, dt=0.02, steps=3, dx=0.5, walkers=25, boundary="absorbing")
    sol, refs = _solved(chain, trials=2)
    fig = field_figure(sol, refs)
    im = fig.axes[0].images[0]
    field = sol.counts[:, -1].mean(axis=0).reshape(5, 4, 3)[:, :, 1] / 25
    assert np.allclose(np.asarray(im.get_array()), field.T)
    assert np.allclose(im.get_extent(), [-0.25, 2.25, -0.25, 1.75])
    assert "z = 0.5" in fig.axes[0].get_title() and im.colorbar is not None


def test_chain_without_grid_uses_its_coordinates_or_the_node_index() -> None:
    nx = pytest.importorskip("networkx")
    from spikec.diffusion import mesh_chain

    g = nx.grid_2d_graph(3, 3)
    pos = {n: (float(n[0]) * 2.0, float(n[1])) for n in g}
    nx.set_node_attributes(g, pos, "pos")
    walk = mesh_chain(g, D=0.05, dt=1.0, steps=3, walkers=9, weight=None)
    sol, refs = _solved(walk, trials=2)
    fig = field_figure(sol, refs)
    pts = fig.axes[0].collections[0]
    assert np.allclose(pts.get_offsets(), walk.coords[:, :2])
    assert np.allclose(np.asarray(pts.get_array()), sol.counts[:, -1].mean(axis=0) / 9)
    assert fig.axes[0].get_xlabel() == "x" and pts.colorbar is not None
    import scipy.sparse as sp

    from spikec.diffusion import chain_from_matrix

    plain = chain_from_matrix(sp.csr_matrix(np.array([[0.6, 0.4], [0.3, 0.7]])), steps=2, walkers=5, start=0)
    sol, refs = _solved(plain, trials=2)
    ax = field_figure(sol, refs).axes[0]
    assert ax.get_xlabel() == "node index"
    dots = [line for line in ax.get_lines() if line.get_label().startswith("spiking mean")][-1]
    assert np.allclose(dots.get_xdata(), [0, 1])


def test_csv_and_npz_carry_a_chains_coordinates(tmp_path: Any) -> None:
    chain = grid_chain((3, 2, 2), D=1.0, dt=0.02, steps=2, dx=0.5, walkers=6)
    sol, refs = _solved(chain, trials=2)
    report.write_csv(str(tmp_path / "f.csv"), sol, refs)
    report.write_npz(str(tmp_path / "f.npz"), sol, refs)
    header = (tmp_path / "f.csv").read_text().splitlines()[0].split(",")
    assert header[:6] == ["step", "time", "node", "x", "y", "z"]
    rows = np.loadtxt(tmp_path / "f.csv", delimiter=",", skiprows=1)
    assert rows.shape[0] == 3 * 12
    assert np.allclose(rows[:12, 3:6], chain.coords) and np.allclose(rows[:12, 2], np.arange(12))
    assert np.allclose(rows[:, 6].reshape(3, 12), sol.mean())
    with np.load(tmp_path / "f.npz") as data:
        assert np.allclose(data["coords"][:, 1:], chain.coords)
        assert list(data["coord_names"]) == ["node", "x", "y", "z"]
        assert list(data["grid"]) == [3, 2, 2]


def test_convergence_figure_is_log_log_with_the_inverse_sqrt_line() -> None:
    m = np.array([10.0, 100.0, 1000.0])
    e = np.array([1.0, 0.33, 0.1])
    fig = convergence_figure(m, e, -0.5, 0.5, "title", "error")
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert ax.get_xlabel() == "walkers M"
    ref = [line for line in ax.get_lines() if "sqrt(M)" in line.get_label()][0]
    x, y = ref.get_xdata(), ref.get_ydata()
    assert np.allclose(np.diff(np.log(y)) / np.diff(np.log(x)), -0.5)
    assert np.allclose(ax.get_lines()[0].get_ydata(), e)
    assert "fit: slope -0.500" in _legend(ax)


def test_solve_convergence_fits_minus_one_half_and_writes_a_png(tmp_path: Any,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    from spikec.cli import main

    spk = tmp_path / "heat.spk"
    spk.write_text('import std.diffusion\ndiffusion heat (nx = 11, dx = 0.1, D = 1.0, dt = 0.0025,'
                   ' boundary = "absorbing", walkers = 40, steps = 6)\n')
    png = tmp_path / "conv.png"
    assert main(["solve", str(spk), "--convergence", "--convergence-walkers", "10,40,160,640", "--json",
                 "--plot", str(png)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["walkers"] == [10, 40, 160, 640] and result["trials"] == 8
    assert abs(result["slope"] + 0.5) < 0.1
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    field_png = tmp_path / "field.png"
    assert main(["solve", str(spk), "--trials", "2", "--plot", str(field_png), "--target", "none"]) == 0
    assert field_png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"wrote {field_png}" in capsys.readouterr().out
