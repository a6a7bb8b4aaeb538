"""Real NIR producers against spikec's importer (issue 14, item 4).

Each test builds a model in a producer (Norse ``to_nir``, sinabs ``to_nir``, snnTorch
``export_to_nir``), exports it live, writes it with ``nir.write`` and imports the file with
``spikec.import_model(path, dt=...)``. The reference is always the producer's own simulation of
its own model (never spikec's): with the contract's time shift (docs/nir.md), the producer's
output spike at step k is spikec's ``out`` spike at step ``k + model.latency``.

Exactness: inputs are random spike rasters with fixed seeds; weights, biases and thresholds are
multiples of 1/8 (IF potentials then stay on the 1/8 grid: exact in float32 and float64 alike,
so the producers' float32 and spikec's float64 cannot differ) or, where a producer rounds a
parameter (snnTorch's float32 tau), the test checks that the producer's membrane stays at least
``MARGIN`` away from the threshold, so a rounding of ~1e-7 cannot flip a comparison.

Where a producer's semantics differ from NIR's (sinabs fires on ``v >= threshold``; snnTorch's
RLeaky "zero" reset discards the next step's input), the tests pin the documented deviation
(docs/interchange.md) on a hand-computed trace of NIR's equations.

The published NIR paper files (tests/data/nir_paper/, BSD-3-Clause, see its README) are
imported and compared with Norse's reading of the same file in float64 or with a hand Euler
trace, or refused by name. nirtorch's own executor (``nir_to_torch``) checks branch, merge and
cycle timing, and Norse reads spikec's layered export of leaky neurons back from a file.

Optional extras: each test skips when its producer is not installed (``pytest.importorskip``).
"""

from __future__ import annotations

import warnings
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import spikec
from spikec.errors import SpikecError

nir = pytest.importorskip("nir")
torch = pytest.importorskip("torch")

PAPER = Path(__file__).parent / "data" / "nir_paper"
MARGIN = 1e-4
OFF_GRID = np.float32(0.01)  # added to leaky thresholds: not dyadic, so no 2^-k potential hits it


# ----------------------------------------------------------------------------- helpers
def flat_units(x: np.ndarray) -> np.ndarray:
    """(steps, *shape) -> (steps, n) in spikec's unit order: 1-D as is, (C, H, W) channels-last."""
    if x.ndim == 4:
        x = x.transpose(0, 2, 3, 1)
    return x.reshape(x.shape[0], -1)


def write(graph: Any, path: Path) -> Path:
    """nir.write ``graph`` (types inferred first: sinabs leaves them open) and return the path."""
    graph.infer_types()
    nir.write(str(path), graph)
    return path


def spikec_run(path: Path, raster: np.ndarray, dt: float | None = None) -> tuple[np.ndarray, Any]:
    """Import ``path`` and simulate it on ``raster`` (steps, *input shape) in NIR element order.

    Returns the output spikes (steps, n_out) in spikec unit order, already shifted by the model's
    latency (row k = producer step k), and the model; the outputs must be silent before that.
    """
    model = spikec.import_model(path, dt=dt) if dt is not None else spikec.import_model(path)
    steps = raster.shape[0]
    x = flat_units(raster.astype(bool))
    assert x.shape[1] == model.n_inputs
    inputs = {f"x[{i}]": np.flatnonzero(x[:, i]).tolist() for i in range(x.shape[1])}
    outs = [f"out[{j}]" for j in range(model.n_outputs)]
    result = spikec.simulate(model.network(), steps + model.latency, inputs=inputs, record=outs)
    spikes = result.spikes_of(outs)[:, 0]
    assert not spikes[:, :model.latency].any(), "an output spiked before the model's latency"
    return spikes[:, model.latency:model.latency + steps].T, model


def assert_same(got: np.ndarray, want: np.ndarray) -> None:
    """Identical spike rasters, with the first differing (step, unit) in the message."""
    assert got.shape == want.shape, (got.shape, want.shape)
    bad = np.argwhere(got != want)
    assert not len(bad), f"first difference at (step, unit) {tuple(bad[0])}: spikec {got[tuple(bad[0])]}"


def grid(rng: np.random.Generator, shape: tuple[int, ...], low: int, high: int) -> np.ndarray:
    """Random multiples of 1/8 in [low/8, high/8] (float32-exact)."""
    return (rng.integers(low, high + 1, size=shape) / 8).astype(np.float32)


def raster_of(seed: int, steps: int, shape: tuple[int, ...], p: float = 0.4) -> np.ndarray:
    return np.random.default_rng(seed).random((steps, *shape)) < p


# ----------------------------------------------------------------------------- Norse
def norse_run(model: Any, raster: np.ndarray) -> np.ndarray:
    """Step a Norse SequentialState on ``raster`` (one unbatched frame per step)."""
    state = None
    out = []
    with torch.no_grad():
        for frame in raster:
            z, state = model(torch.tensor(frame, dtype=torch.float32), state)
            out.append(z.numpy().copy())
    return flat_units(np.array(out)) > 0


def norse_export(model: Any, sample: Any, path: Path) -> Path:
    norse = pytest.importorskip("norse.torch")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        graph = norse.to_nir(model, sample, dt=1.0)
    return write(graph, path)


def norse_if_net(seed: int, sizes: tuple[int, ...], bias: bool) -> Any:
    """Linear -> IAFCell layers (dt = 1: Norse's IF ignores dt), per-neuron thresholds
    (Norse's scalar parameters give 0-d NIR nodes that nir.write cannot store)."""
    norse = pytest.importorskip("norse.torch")
    from norse.torch.functional.iaf import IAFParameters

    rng = np.random.default_rng(seed)
    layers: list[Any] = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True):
        lin = torch.nn.Linear(n_in, n_out, bias=bias)
        lin.weight.data = torch.tensor(grid(rng, (n_out, n_in), -4, 10))
        if bias:
            lin.bias.data = torch.tensor(grid(rng, (n_out,), -4, 4))
        thr = torch.tensor(grid(rng, (n_out,), 4, 12))
        layers += [lin, norse.IAFCell(IAFParameters(v_th=thr), dt=1.0)]
    return norse.SequentialState(*layers)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("bias", [False, True])
def test_norse_if_layers(tmp_path: Path, seed: int, bias: bool) -> None:
    pytest.importorskip("norse.torch")
    sizes = (4, 6, 5, 3)
    model = norse_if_net(seed, sizes, bias)
    path = norse_export(model, torch.zeros(sizes[0]), tmp_path / "if.nir")
    raster = raster_of(100 + seed, 24, (sizes[0],))
    want = norse_run(model, raster)
    got, imported = spikec_run(path, raster)
    assert imported.latency == len(sizes) - 1
    assert want.any()
    assert_same(got, want)


def test_norse_issue_example_bias_from_step_0(tmp_path: Path) -> None:
    """Issue 14: Input(1) -> Affine(W=1.5, b=-0.5) -> IF(0.75), one input spike at step 0:
    Norse spikes at its step 0 (1.5 - 0.5 = 1 > 0.75), then the bias alone (-0.5 per step)
    keeps it silent. spikec spikes at step 1 = 0 + latency."""
    norse = pytest.importorskip("norse.torch")
    from norse.torch.functional.iaf import IAFParameters

    lin = torch.nn.Linear(1, 1)
    lin.weight.data = torch.tensor([[1.5]])
    lin.bias.data = torch.tensor([-0.5])
    model = norse.SequentialState(lin, norse.IAFCell(IAFParameters(v_th=torch.tensor([0.75])), dt=1.0))
    path = norse_export(model, torch.zeros(1), tmp_path / "issue.nir")
    raster = np.zeros((6, 1), dtype=bool)
    raster[0, 0] = True
    want = norse_run(model, raster)
    assert want[:, 0].tolist() == [True, False, False, False, False, False]
    got, imported = spikec_run(path, raster)
    assert imported.latency == 1
    assert_same(got, want)


@pytest.mark.parametrize("seed", [0, 1])
def test_norse_lif_layers(tmp_path: Path, seed: int) -> None:
    """LIFBoxCell at dt = 1 with tau_mem_inv = 1/2 (Norse's to_nir writes tau = dt/tau_mem_inv,
    the true tau only at dt = 1): v halves its distance to the input each step. Potentials
    stay on a 2^-(3+k) grid, float32-exact for these 12 steps."""
    norse = pytest.importorskip("norse.torch")
    from norse.torch.functional.lif_box import LIFBoxParameters

    rng = np.random.default_rng(seed)
    sizes = (4, 5, 3)
    layers: list[Any] = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True):
        lin = torch.nn.Linear(n_in, n_out, bias=False)
        lin.weight.data = torch.tensor(grid(rng, (n_out, n_in), -4, 16))
        p = LIFBoxParameters(tau_mem_inv=torch.full((n_out,), 0.5), v_leak=torch.zeros(n_out),
                             v_th=torch.tensor(grid(rng, (n_out,), 3, 8)))
        layers += [lin, norse.LIFBoxCell(p, dt=1.0)]
    model = norse.SequentialState(*layers)
    path = norse_export(model, torch.zeros(sizes[0]), tmp_path / "lif.nir")
    raster = raster_of(200 + seed, 12, (sizes[0],), p=0.6)
    want = norse_run(model, raster)
    got, _ = spikec_run(path, raster)
    assert want.any()
    assert_same(got, want)


def test_norse_current_based_lif_with_memoryless_synapse(tmp_path: Path) -> None:
    """LIFCell with dt*tau_syn_inv = 1 (the current jumps by the input, drives v in the same
    step, then decays to 0): to_nir writes CubaLIF(tau_syn = 1 = dt), which spikec maps exactly
    (a memoryless synapse). dt = 1, tau_mem_inv = 1/2, potentials on a float32-exact grid."""
    norse = pytest.importorskip("norse.torch")
    from norse.torch.functional.lif import LIFParameters

    rng = np.random.default_rng(11)
    lin = torch.nn.Linear(4, 3, bias=False)
    lin.weight.data = torch.tensor(grid(rng, (3, 4), -4, 16))
    p = LIFParameters(tau_syn_inv=torch.ones(3), tau_mem_inv=torch.full((3,), 0.5), v_leak=torch.zeros(3),
                      v_th=torch.tensor(grid(rng, (3,), 3, 8)), v_reset=torch.zeros(3))
    model = norse.SequentialState(lin, norse.LIFCell(p, dt=1.0))
    path = norse_export(model, torch.zeros(4), tmp_path / "cuba.nir")
    raster = raster_of(250, 12, (4,), p=0.6)
    want = norse_run(model, raster)
    got, _ = spikec_run(path, raster)
    assert want.any()
    assert_same(got, want)


def test_norse_conv_net(tmp_path: Path) -> None:
    """Conv2d -> IF -> Conv2d -> IF on unbatched (C, H, W) frames (Norse's to_nir maps neither
    Flatten nor pooling, so the net ends in an image; outputs compared channels-last)."""
    norse = pytest.importorskip("norse.torch")
    from norse.torch.functional.iaf import IAFParameters

    rng = np.random.default_rng(7)
    c1 = torch.nn.Conv2d(2, 3, 3, padding=1)
    c1.weight.data = torch.tensor(grid(rng, (3, 2, 3, 3), -3, 6))
    c1.bias.data = torch.tensor(grid(rng, (3,), -2, 2))
    c2 = torch.nn.Conv2d(3, 2, 3, stride=2)
    c2.weight.data = torch.tensor(grid(rng, (2, 3, 3, 3), -3, 6))
    c2.bias.data = torch.zeros(2)
    model = norse.SequentialState(
        c1, norse.IAFCell(IAFParameters(v_th=torch.full((3, 5, 5), 0.875)), dt=1.0),
        c2, norse.IAFCell(IAFParameters(v_th=torch.full((2, 2, 2), 0.625)), dt=1.0))
    path = norse_export(model, torch.zeros(2, 5, 5), tmp_path / "conv.nir")
    raster = raster_of(300, 16, (2, 5, 5), p=0.3)
    want = norse_run(model, raster)
    got, imported = spikec_run(path, raster)
    assert imported.latency == 2
    assert want.any()
    assert_same(got, want)


# ----------------------------------------------------------------------------- sinabs
def sinabs_run(model: Any, raster: np.ndarray) -> np.ndarray:
    """sinabs' own simulation: the Squeeze layers take (batch*time, ...) with batch 1."""
    sinabs = pytest.importorskip("sinabs")
    sinabs.reset_states(model)
    with torch.no_grad():
        out = model(torch.tensor(raster, dtype=torch.float32))
    return flat_units(out.numpy()) > 0


def sinabs_export(model: Any, shape: tuple[int, ...], path: Path) -> Path:
    sinabs = pytest.importorskip("sinabs")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        graph = sinabs.to_nir(model, torch.zeros(1, *shape))
    return write(graph, path)


def sinabs_iaf(thr: float) -> Any:
    """IAFSqueeze as NIR's IF reads it: one spike per step (SingleSpike, not the default
    MultiSpike count) and reset to 0 (MembraneReset, not the default subtraction); sinabs'
    to_nir writes neither choice into the file."""
    sl = pytest.importorskip("sinabs.layers")
    from sinabs.activation import MembraneReset, SingleSpike

    return sl.IAFSqueeze(batch_size=1, spike_threshold=thr, spike_fn=SingleSpike,
                         reset_fn=MembraneReset())


@pytest.mark.parametrize(("seed", "bias"), [(0, False), (1, False), (2, True), (3, True)])
def test_sinabs_iaf_sumpool_flatten(tmp_path: Path, seed: int, bias: bool) -> None:
    """Conv2d -> IAF -> SumPool2d -> Flatten -> Linear -> IAF. sinabs fires on v >= thr, NIR on
    v > thr: thresholds are odd multiples of 1/16 while every potential is a multiple of 1/8,
    so the two tests agree here (test_sinabs_fires_on_equality shows where they do not)."""
    sl = pytest.importorskip("sinabs.layers")
    rng = np.random.default_rng(seed)
    conv = torch.nn.Conv2d(2, 4, 3, padding=1, bias=bias)
    conv.weight.data = torch.tensor(grid(rng, (4, 2, 3, 3), -3, 6))
    fc = torch.nn.Linear(4 * 2 * 2, 3, bias=bias)
    fc.weight.data = torch.tensor(grid(rng, (3, 16), -4, 8))
    if bias:  # constant drives: they must start at each layer's own step (the clock)
        conv.bias.data = torch.tensor(grid(rng, (4,), -2, 2))
        fc.bias.data = torch.tensor(grid(rng, (3,), -2, 2))
    model = torch.nn.Sequential(conv, sinabs_iaf(0.9375), sl.SumPool2d(2), torch.nn.Flatten(), fc,
                                sinabs_iaf(1.0625))
    path = sinabs_export(model, (2, 4, 4), tmp_path / "sinabs.nir")
    raster = raster_of(400 + seed, 20, (2, 4, 4), p=0.35)
    want = sinabs_run(model, raster)
    got, imported = spikec_run(path, raster)
    assert imported.latency == 2
    assert want.any()
    assert_same(got, want)


def test_sinabs_fires_on_equality(tmp_path: Path) -> None:
    """Known deviation: Linear(0.5) -> IAF(thr 1), input spikes at steps 0, 1, 2. sinabs
    reaches v = 1 at step 1 and fires (v >= thr); the exported NIR IF fires only on v > 1, so
    spikec (reading the file as NIR defines it) fires at step 2 (v = 1.5)."""
    pytest.importorskip("sinabs")
    fc = torch.nn.Linear(1, 1, bias=False)
    fc.weight.data = torch.tensor([[0.5]])
    model = torch.nn.Sequential(fc, sinabs_iaf(1.0))
    path = sinabs_export(model, (1,), tmp_path / "eq.nir")
    raster = np.zeros((4, 1), dtype=bool)
    raster[:3] = True
    assert np.flatnonzero(sinabs_run(model, raster)[:, 0]).tolist() == [1]
    got, _ = spikec_run(path, raster)
    assert np.flatnonzero(got[:, 0]).tolist() == [2]


# ----------------------------------------------------------------------------- snnTorch
def snntorch_net(seed: int, beta: float, sizes: tuple[int, ...]) -> Any:
    """Linear -> Leaky layers, reset_mechanism="zero" (the one NIR's LIF with v_reset = 0
    expresses; snnTorch's default "subtract" is exported as v_reset = 0 too). beta and threshold
    per neuron: scalars give 0-d NIR nodes that fail the export's own type inference."""
    snn = pytest.importorskip("snntorch")
    rng = np.random.default_rng(seed)
    layers: list[Any] = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True):
        lin = torch.nn.Linear(n_in, n_out, bias=False)
        lin.weight.data = torch.tensor(grid(rng, (n_out, n_in), -4, 12))
        thr = torch.tensor(grid(rng, (n_out,), 4, 12) + OFF_GRID)
        layers += [lin, snn.Leaky(beta=torch.full((n_out,), beta), threshold=thr, init_hidden=True,
                                  reset_mechanism="zero")]
    return torch.nn.Sequential(*layers)


def snntorch_run(model: Any, raster: np.ndarray) -> tuple[np.ndarray, float]:
    """snnTorch's own simulation; also the smallest |mem - thr| seen in any Leaky layer."""
    snn = pytest.importorskip("snntorch")
    from snntorch import utils

    utils.reset(model)
    leaky = [m for m in model if isinstance(m, snn.Leaky)]
    out = []
    margin = np.inf
    with torch.no_grad():
        for frame in raster:
            z = model(torch.tensor(frame[None], dtype=torch.float32))
            out.append(z[0].numpy().copy())
            for layer in leaky:
                margin = min(margin, float((layer.mem - layer.threshold).abs().min()))
    return np.array(out) > 0, margin


@pytest.mark.parametrize("beta", [0.0, 0.5])
@pytest.mark.parametrize("seed", [0, 1])
def test_snntorch_leaky(tmp_path: Path, beta: float, seed: int) -> None:
    """export_to_nir writes LIF(tau = 1e-4/(1 - beta), r = 1/(1 - beta)) for its fixed dt = 1e-4;
    imported with dt = 1e-4 that is mem = beta*mem + input. tau is float32, so dt/tau is not
    exactly 1 - beta: the margin check keeps that rounding from deciding a comparison."""
    pytest.importorskip("snntorch")
    from snntorch.export_nir import export_to_nir

    sizes = (4, 5, 3)
    model = snntorch_net(seed, beta, sizes)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        graph = export_to_nir(model, torch.zeros(1, sizes[0]), ignore_dims=[0])
    path = write(graph, tmp_path / "snn.nir")
    raster = raster_of(500 + seed, 16, (sizes[0],), p=0.5)
    want, margin = snntorch_run(model, raster)
    assert margin > MARGIN
    got, _ = spikec_run(path, raster, dt=1e-4)
    assert want.any()
    assert_same(got, want)


def test_snntorch_rleaky_recurrence(tmp_path: Path) -> None:
    """RLeaky (beta 0, threshold 1/2, recurrent weight 1) exports as a flattened subgraph
    '1.lif' <-> '1.w_rec'. One input spike at step 0. NIR's reading (recurrent edge one step
    late, reset to 0): v_0 = 1 fires, then v_k = w_rec * z_{k-1} = 1 fires at every step; spikec
    must follow that hand-computed trace. Known deviation: snnTorch's own RLeaky with
    reset_mechanism="zero" zeroes the whole next update after a spike (input and recurrence
    included), so it fires at step 0 only."""
    snn = pytest.importorskip("snntorch")
    from snntorch import utils
    from snntorch.export_nir import export_to_nir

    lin = torch.nn.Linear(1, 1, bias=False)
    lin.weight.data = torch.tensor([[1.0]])
    rleaky = snn.RLeaky(beta=torch.zeros(1), threshold=torch.full((1,), 0.5), linear_features=1,
                        all_to_all=True, init_hidden=True, reset_mechanism="zero")
    rleaky.recurrent.weight.data = torch.tensor([[1.0]])
    rleaky.recurrent.bias.data = torch.zeros(1)
    model = torch.nn.Sequential(lin, rleaky)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        graph = export_to_nir(model, torch.zeros(1, 1), ignore_dims=[0])
    path = write(graph, tmp_path / "rleaky.nir")
    raster = np.zeros((6, 1), dtype=bool)
    raster[0] = True
    utils.reset(model)
    with torch.no_grad():
        own = [int(model(torch.tensor([[float(x)]]))[0, 0]) for x in raster[:, 0]]
    assert own == [1, 0, 0, 0, 0, 0]
    got, _ = spikec_run(path, raster, dt=1e-4)
    assert got[:, 0].tolist() == [True] * 6


def test_snntorch_conv_avgpool_flatten(tmp_path: Path) -> None:
    """Conv2d(bias) -> Leaky -> AvgPool2d -> Flatten -> Linear(bias) -> Leaky, beta 1/2, dt 1e-4:
    biases through the clock, AvgPool2d as a 1/4-weighted sum pool, channels-last units."""
    snn = pytest.importorskip("snntorch")
    from snntorch.export_nir import export_to_nir

    rng = np.random.default_rng(5)
    conv = torch.nn.Conv2d(2, 3, 3, padding=1)
    conv.weight.data = torch.tensor(grid(rng, (3, 2, 3, 3), -3, 6))
    conv.bias.data = torch.tensor(grid(rng, (3,), -2, 2))
    fc = torch.nn.Linear(12, 2)
    fc.weight.data = torch.tensor(grid(rng, (2, 12), -4, 8))
    fc.bias.data = torch.tensor(grid(rng, (2,), -2, 2))

    def leaky(shape: tuple[int, ...], thr: np.ndarray) -> Any:
        return snn.Leaky(beta=torch.full(shape, 0.5), threshold=torch.tensor(thr + OFF_GRID),
                         init_hidden=True, reset_mechanism="zero")

    model = torch.nn.Sequential(conv, leaky((3, 4, 4), grid(rng, (3, 4, 4), 4, 10)), torch.nn.AvgPool2d(2),
                                torch.nn.Flatten(), fc, leaky((2,), grid(rng, (2,), 3, 6)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        graph = export_to_nir(model, torch.zeros(1, 2, 4, 4), ignore_dims=[0])
    path = write(graph, tmp_path / "snnconv.nir")
    raster = raster_of(510, 16, (2, 4, 4), p=0.4)
    want, margin = snntorch_run(model, raster)
    assert margin > MARGIN
    got, imported = spikec_run(path, raster, dt=1e-4)
    assert imported.latency == 2
    assert want.any()
    assert_same(got, want)


def test_snntorch_file_needs_its_dt(tmp_path: Path) -> None:
    """The file does not say dt = 1e-4; read at the default dt = 1, beta = 1/2's tau = 2e-4 gives
    dt/tau = 5000: refused naming the node (Euler would overshoot), pointing at dt."""
    pytest.importorskip("snntorch")
    from snntorch.export_nir import export_to_nir

    model = snntorch_net(0, 0.5, (4, 5, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        graph = export_to_nir(model, torch.zeros(1, 4), ignore_dims=[0])
    path = write(graph, tmp_path / "snn.nir")
    with pytest.raises(SpikecError, match=r"node '1'.*dt"):
        spikec.import_model(path)


# ----------------------------------------------------------------------------- paper files
def norse_read(path: Path, dt: float, raster: np.ndarray, thresholds: dict[str, float],
               margin: float = 1e-9) -> dict[str, np.ndarray]:
    """Norse's from_nir of a published chain, run in float64 (the same precision as spikec, whose
    float64 weights are the file's float32 values exactly; Norse's executor is exact on chains).
    Returns the spikes (steps, n, spikec unit order) of each node in ``thresholds`` and asserts
    every membrane there stays ``margin`` away from its threshold, so a different summation
    order (float64 rounding, ~1e-15 here) cannot flip a spike."""
    norse = pytest.importorskip("norse.torch")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        module = norse.from_nir(nir.read(str(path)), dt=dt, ignore_warnings=True).double()
    state = None
    out: dict[str, list[np.ndarray]] = {name: [] for name in thresholds}
    with torch.no_grad():
        for frame in raster:
            _, state = module(torch.tensor(frame, dtype=torch.float64), state)
            for name, thr in thresholds.items():
                out[name].append(state.cache[name].numpy().copy())
                v = state.state[name][0].v
                assert float((v - thr).abs().min()) > margin
    return {name: flat_units(np.array(z)) > 0 for name, z in out.items()}


def spikec_layers(path: Path, raster: np.ndarray, nodes: list[str], dt: float | None = None
                  ) -> dict[str, np.ndarray]:
    """Every spiking node's spikes in spikec (``nodes``: the file's spiking nodes in chain order),
    each shifted by its own s and silent before it (NIRNet: ``arrays``/``shifts``; a layered
    BinaryNet: layer i is s = i + 1)."""
    model = spikec.import_model(path, dt=dt)
    if hasattr(model, "arrays"):
        where = {n: (model.arrays[n], model.shifts[n]) for n in nodes}
    else:
        where = {n: (model.local_name(i), i + 1) for i, n in enumerate(nodes)}
    steps = raster.shape[0]
    x = flat_units(raster.astype(bool))
    inputs = {f"x[{i}]": np.flatnonzero(x[:, i]).tolist() for i in range(x.shape[1])}
    net = model.network()
    names = {n: [nm for nm in net.names(np.arange(len(net))) if nm.startswith(f"{arr}[")]
             for n, (arr, _) in where.items()}
    record = [nm for group in names.values() for nm in group]
    result = spikec.simulate(net, steps + model.latency, inputs=inputs, record=record)
    got = {}
    for n, (_, shift) in where.items():
        spikes = result.spikes_of(names[n])[:, 0]
        assert not spikes[:, :shift].any(), f"node {n} spiked before its shift {shift}"
        got[n] = spikes[:, shift:shift + steps].T
    return got


def test_paper_lif_norse(tmp_path: Path) -> None:
    """paper/01_lif/lif_norse.nir (dt = 1e-4 per its README): Affine -> LIF(tau 2.5e-3, thr 0.1)."""
    path = PAPER / "lif_norse.nir"
    raster = raster_of(600, 60, (1,), p=0.5)
    want = norse_read(path, 1e-4, raster, {"1": 0.1})["1"]
    got, _ = spikec_run(path, raster, dt=1e-4)
    assert want.any()
    assert_same(got, want)


def test_paper_cnn_sinabs() -> None:
    """paper/02_cnn/cnn_sinabs.nir: Conv2d/IF/SumPool2d/Flatten/Affine, all IF thresholds 1, dt 1
    (its SumPool2d feeds a Conv2d; the old importer mis-read that). Every IF layer is compared,
    each at its own shift."""
    path = PAPER / "cnn_sinabs.nir"
    raster = raster_of(700, 12, (2, 34, 34), p=0.15)
    nodes = ["1", "3", "6", "10", "12"]
    want = norse_read(path, 1.0, raster, dict.fromkeys(nodes, 1.0))
    got = spikec_layers(path, raster, nodes)
    for node in nodes:
        assert want[node].any(), node
        assert_same(got[node], want[node])


@pytest.mark.parametrize("name", ["braille_noDelay_bias_zero.nir"])
def test_paper_braille_cubalif_refused_by_name(name: str) -> None:
    """snnTorch's RSynaptic exports: CubaLIF with tau_syn != dt at the paper's dt = 1e-4 (two
    state variables per neuron): refused, naming the node."""
    with pytest.raises(SpikecError, match="lif1"):
        spikec.import_model(PAPER / name, dt=1e-4)


def test_paper_lif_rockpool() -> None:
    """paper/01_lif/lif_rockpool.nir, an old-format file (NIR 0.2.0, an Output of shape
    (1, 1, 1); nir.read itself fails its type inference): Linear(0.04) -> LIF(tau 2.5e-3,
    r 24.02, threshold 0.1). At dt = 1 Euler overshoots (dt/tau = 400): refused naming the node.
    At dt = 1e-4 spikec follows NIR's Euler equations, computed here by hand in float64 (a
    margin check keeps summation order out of it). Rockpool's own neuron is another model:
    docs/interchange.md."""
    path = PAPER / "lif_rockpool.nir"
    with pytest.raises(SpikecError, match="1_LIFNeuronTorch"):
        spikec.import_model(path)
    raster = raster_of(610, 80, (1,), p=0.6)
    dt, tau, r, w, thr = 1e-4, float(np.float32(0.0025)), float(np.float32(24.019737)), \
        float(np.float32(0.04)), float(np.float32(0.1))
    v, want = 0.0, []
    for x in raster[:, 0]:
        v = v + dt / tau * (-v + r * w * float(x))
        assert abs(v - thr) > 1e-9
        want.append(v > thr)
        v = 0.0 if v > thr else v
    got, _ = spikec_run(path, raster, dt=dt)
    assert any(want)
    assert_same(got, np.array(want)[:, None])


def test_paper_two_lif_neurons_self_spiking() -> None:
    """paper/01_lif/debug_spike_representation/two_lif_neurons.nir: lif1 (tau 0.01, v_leak 1.2
    above its threshold 1) spikes on its own; lif2 (threshold 20) never does. At dt = 1e-3 the
    leak drive a*v_leak must start at lif1's own step (shift 1, through the clock), from v = 0
    (NIR's initial state; Norse would start at v_leak). Hand-computed Euler trace in float64."""
    path = PAPER / "two_lif_neurons.nir"
    dt, tau, v_leak, thr = 1e-3, 0.01, 1.2, 1.0
    steps = 60
    v, want = 0.0, []
    for _ in range(steps):
        v = v + dt / tau * (v_leak - v)
        assert abs(v - thr) > 1e-9
        want.append(v > thr)
        v = 0.0 if v > thr else v
    got = spikec_layers(path, np.zeros((steps, 1), dtype=bool), ["lif1", "lif2"], dt=dt)
    assert sum(want) >= 3
    assert_same(got["lif1"], np.array(want)[:, None])
    assert not got["lif2"].any()


# ----------------------------------------------------------------------------- nirtorch timing
def branch_merge_cycle(seed: int, back_to: str = "n7_r") -> Any:
    """Input -> {l1 -> p, l2 -> q}; p -> l3 -> r <- l4 <- q (a merge); r -> l5 -> ``back_to``
    (a cycle: r's own recurrence, or through p); r -> output. Node names sort in topological
    order, so nirtorch's queue (dict order) and spikec's DFS (file edge order) both take
    l5 -> back_to as the edge closing the cycle."""
    rng = np.random.default_rng(seed)

    def lin(n_out: int, n_in: int) -> Any:
        return nir.Linear(weight=grid(rng, (n_out, n_in), -3, 8))

    def neuron(n: int) -> Any:
        return nir.IF(r=np.ones(n, np.float32), v_threshold=grid(rng, (n,), 4, 10))

    nodes = {"input": nir.Input(np.array([3])), "n1_l1": lin(4, 3), "n2_p": neuron(4),
             "n3_l2": lin(3, 3), "n4_q": neuron(3), "n5_l3": lin(2, 4), "n6_l4": lin(2, 3),
             "n7_r": neuron(2), "n8_l5": lin(4 if back_to == "n2_p" else 2, 2),
             "output": nir.Output(np.array([2]))}
    edges = [("input", "n1_l1"), ("n1_l1", "n2_p"), ("n2_p", "n5_l3"), ("n5_l3", "n7_r"),
             ("n7_r", "n8_l5"), ("n8_l5", back_to), ("n7_r", "output"), ("input", "n3_l2"),
             ("n3_l2", "n4_q"), ("n4_q", "n6_l4"), ("n6_l4", "n7_r")]
    return nir.NIRGraph(nodes=nodes, edges=edges)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_nirtorch_executor_agrees_on_merge_and_cycle(tmp_path: Path, seed: int) -> None:
    """nirtorch 2.6's nir_to_torch (merges summed in the same step, the cycle's closing edge
    one step late) with Norse's node map, as an independent consumer of a hand-made graph.
    (Norse's own from_nir uses the deprecated nirtorch.load, which reads the later merge
    branch one step late: docs/interchange.md.)"""
    pytest.importorskip("norse.torch")
    nirtorch = pytest.importorskip("nirtorch")
    from norse.torch.utils.import_nir import _import_norse_module

    graph = branch_merge_cycle(seed)
    path = write(graph, tmp_path / "bmc.nir")
    mapper = partial(_import_norse_module, dt=1.0, ignore_warnings=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        module = nirtorch.nir_to_torch(graph, {nir.IF: mapper})
    raster = raster_of(900 + seed, 20, (3,), p=0.5)
    state = None
    want = []
    with torch.no_grad():
        for frame in raster:
            z, state = module(torch.tensor(frame, dtype=torch.float32), state)
            want.append(z.numpy().copy())
    got, _ = spikec_run(path, raster)
    assert np.array(want).any()
    assert_same(got, np.array(want) > 0)


def test_cycle_faster_than_its_neurons_is_refused(tmp_path: Path) -> None:
    """p -> r -> p with one step of recurrence (nirtorch runs it: both nodes in one step, the
    closing edge one step late) has two spiking hops per NIR step: spikec refuses it, naming
    the cycle's nodes."""
    path = write(branch_merge_cycle(0, back_to="n2_p"), tmp_path / "fast.nir")
    with pytest.raises(SpikecError, match="n2_p -> n7_r"):
        spikec.import_model(path)


# ----------------------------------------------------------------------------- spikec -> Norse
def leaky_layers(seed: int, sizes: tuple[int, ...]) -> spikec.Network:
    """Layered spikec net of leaky neurons (decay 1/2, reset 0), integer weights, thresholds
    k + 0.3 (not dyadic, so never hit exactly by the dyadic potentials)."""
    rng = np.random.default_rng(seed)
    net = spikec.Network("leaky")
    prev = [net.input(f"x[{i}]") for i in range(sizes[0])]
    for k, size in enumerate(sizes[1:], start=1):
        layer = [net.neuron(f"l{k}[{i}]", threshold=float(rng.integers(1, 4)) + 0.3, decay=0.5)
                 for i in range(size)]
        for post in layer:
            for pre in prev:
                net.synapse(pre, post, weight=float(rng.integers(-1, 4)))
        prev = layer
    return net


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_norse_reads_leaky_layered_export_file(tmp_path: Path, seed: int) -> None:
    """spikec's layered export of leaky neurons (LIF, r = 1, gain in the weights), written to a
    file, read by nir.read and Norse's from_nir (float32, dt = 1): Norse's spikes equal spikec's
    reference simulation shifted by the layer depth. Norse compares in float32 against the
    float64 threshold, so the test checks spikec's potentials stay MARGIN away from it."""
    norse = pytest.importorskip("norse.torch")
    from spikec.backends.nir_export import layers_of, write_nir

    sizes = (4, 5, 3)
    net = leaky_layers(seed, sizes)
    path = tmp_path / "leaky.nir"
    write_nir(path, net, layered=True)
    steps, depth = 20, len(sizes) - 1
    raster = raster_of(800 + seed, steps, (sizes[0],), p=0.5)
    inputs = {f"x[{i}]": np.flatnonzero(raster[:, i]).tolist() for i in range(sizes[0])}
    cells = [name for layer in layers_of(net) for name in layer]
    ref = spikec.simulate(net, steps + depth, inputs=inputs, record=cells, potentials=True)
    thr = np.array([net[name].threshold for name in cells])
    assert float(np.abs(ref.potentials_of(cells)[:, 0, :] - thr[:, None]).min()) > MARGIN
    last = layers_of(net)[-1]
    want = ref.spikes_of(last)[:, 0, depth:].T
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        module = norse.from_nir(nir.read(str(path)), dt=1.0, ignore_warnings=True)
    state = None
    got = []
    with torch.no_grad():
        for frame in raster:
            z, state = module(torch.tensor(frame, dtype=torch.float32), state)
            got.append(z.numpy().copy())
    assert want.any()
    assert_same(np.array(got) > 0, want)
