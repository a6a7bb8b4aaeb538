"""PyNN export (``pip install PyNN``; runs on ``pyNN.nest`` and, untested, on sPyNNaker).

Every deterministic spikec neuron becomes one PyNN ``IF_curr_delta`` cell (NEST's
``iaf_psc_delta``, ``spike_precision="on_grid"``) with a 1 ms time step per spikec step,
and every stimulus a ``SpikeSourceArray`` cell. ``iaf_psc_delta`` updates, per step,
``V <- P33 V + P30 I_e + (weights arriving now)``, fires on ``V >= V_th``, then sets
``V <- V_reset`` (``models/iaf_psc_delta.cpp``). spikec's step (``docs/semantics.md``)
maps onto it exactly:

- the leak: ``P33 = exp(-dt / tau_m)`` equals ``1 - decay`` in float64: ``tau_m = 1e20``
  for decay 0 (``exp(-1e-20)`` is 1.0), ``1e-3`` for decay 1 (``exp(-1000)`` is 0.0), and
  for 0 < decay < 1 a ``tau_m`` found by search with ``exp(-1/tau_m) == 1 - decay`` (else
  the neuron is refused). spikec leaks the potential after the fire test and NEST before
  adding the next input, which is the same sequence of operations;
- ``I_e = 0``, ``E_L = 0``, ``V_reset = 0``, ``t_ref = 0``: the bias, the initial
  potential and the reset value arrive as synaptic weights instead (``P30`` is 0 when
  ``tau_m`` is 1e20, and a jump in V is exact where a current is not): a *bias source*
  spikes every step into each biased neuron (weight ``bias``), an *init source* once
  into each neuron with ``v0 != 0``, and a neuron with ``reset != 0`` has a delay-1
  synapse onto itself of weight ``reset`` (NEST then has ``P33 * 0 + reset``);
- thresholds must be positive (NEST needs ``V_reset < V_th`` and a quiet start): a
  neuron with threshold <= 0 and decay 0 or 1 is shifted by a whole number ``c``
  (threshold, and the bias for decay 1 or v0 and reset for decay 0, plus ``c``), which
  keeps its spikes; a leaky one is refused;
- delays are kept in steps (``d`` ms); weights split into an excitatory (>= 0) and an
  inhibitory (< 0) projection per source population, as PyNN requires.

Timing. PyNN's NEST backend sends a ``SpikeSourceArray`` through a parrot neuron one
``min_delay`` later and refuses spike times that become 0, so the earliest usable source
time is 2 ms. The export therefore runs NEST two steps ahead: spikec step ``t`` is NEST
step ``t + 2``, a source spike for spikec step ``u`` is at ``u + 3`` ms, and a neuron
spiking at spikec step ``t`` is recorded at ``t + 3`` ms (:data:`SHIFT`). A *probe* cell,
driven by the init source, fires at spikec step 0; the runner reads every spike time
relative to the probe's, so other PyNN backends calibrate themselves.

Refused by name (:class:`~spikec.errors.ExportError`): stochastic neurons (p < 1), leaky
neurons whose ``1 - decay`` no ``tau_m`` reproduces, leaky neurons with threshold <= 0.
Exact means bit for bit wherever the sums are exact in float64 (values on a common
``2**-k`` grid, as integer and binary circuits are); NEST adds the weights arriving in a
step before adding them to ``P33 V``, spikec adds them to ``V + bias`` one by one.

Use :func:`build` (or :func:`simulate_pynn`) on an imported ``pyNN.nest`` module, or
:func:`emit_pynn` (``spikec compile FILE --emit pynn -o net.py``) for a standalone script
with its arrays in ``net.npz``.
"""

from __future__ import annotations

import inspect
import io
import logging
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from spikec.backends.stimulus import plan_inputs
from spikec.errors import ExportError
from spikec.ir.files import atomic_file, write_text_atomic
from spikec.ir.network import NEURON_PARAMS, Network
from spikec.ir.verify import verify

__all__ = ["SHIFT", "DT", "pynn_arrays", "PynnNetwork", "build", "simulate_pynn", "write_pynn",
           "emit_pynn"]

#: spikec step ``t`` is recorded at ``(t + SHIFT) * DT`` ms under ``pyNN.nest``.
SHIFT = 3
#: The PyNN time step, in ms: one spikec step.
DT = 1.0
#: ``tau_m`` (ms) for decay 0 (``exp(-1/tau_m)`` rounds to 1.0) and for decay 1 (to 0.0).
TAU_INTEGRATOR = 1e20
TAU_MEMORYLESS = 1e-3
_FORMAT_VERSION = 1


def _refuse(net: Network, cells: np.ndarray, bad: np.ndarray, why: str, values: np.ndarray) -> None:
    """An :class:`ExportError` naming the first neuron where ``bad`` holds."""
    hit = np.flatnonzero(bad)
    if len(hit):
        k = int(hit[0])
        more = f" ({len(hit) - 1} more such neurons)" if len(hit) > 1 else ""
        raise ExportError(f"PyNN export: neuron '{net.name_of(int(cells[k]))}' {why.format(values[k])}{more}")


def _tau_for(keep: float) -> float:
    """A ``tau_m`` with ``exp(-1 / tau_m) == keep`` in float64 (libm's exp, as NEST's), or NaN."""
    start = -1.0 / math.log(keep)
    for direction in (math.inf, 0.0):
        cand = start
        for _ in range(65):  # up to 64 ulps each way from the rounded solution
            if math.exp(-1.0 / cand) == keep:
                return cand
            cand = math.nextafter(cand, direction)
    return math.nan


def _shifted(x: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``x + c`` and where that addition is exact (undone by subtracting ``c``)."""
    y = x + c
    return y, (y - c) == x


def pynn_arrays(net: Network) -> dict[str, np.ndarray]:
    """The PyNN form of ``net`` as arrays (what ``net.npz`` holds); an :class:`ExportError`
    names the first neuron PyNN's ``IF_curr_delta`` cannot reproduce exactly.

    Cells are the non-input neurons in network order, then the probe; sources are the
    input neurons in network order, then the bias source, then the init source."""
    verify(net)
    cells, inputs = np.flatnonzero(~net.is_input), net.input_indices()
    thr, dec, rst, bias, p, v0 = (net.param(k)[cells] for k in NEURON_PARAMS)
    _refuse(net, cells, p < 1.0, "is stochastic (p = {}); PyNN's IF_curr_delta is deterministic", p)
    leaky = (dec > 0.0) & (dec < 1.0)
    _refuse(net, cells, leaky & ~(thr > 0.0), "is leaky (decay in (0, 1)) with threshold {} <= 0: NEST"
            " needs a positive threshold, and a shift does not commute with the leak", thr)
    tau = np.where(dec == 0.0, TAU_INTEGRATOR, TAU_MEMORYLESS)
    for d in np.unique(dec[leaky]).tolist():  # one search per distinct decay
        tau[leaky & (dec == d)] = _tau_for(1.0 - d)
    _refuse(net, cells, np.isnan(tau), "has decay {}: no tau_m gives exp(-1 ms / tau_m) == 1 - decay"
            " exactly in float64", dec)
    c = np.where(thr > 0.0, 0.0, np.floor(-thr) + 1.0)
    thr2, ok_t = _shifted(thr, c)
    bias2, ok_b = _shifted(bias, c * (dec == 1.0))
    v02, ok_v = _shifted(v0, c * (dec == 0.0))
    rst2, ok_r = _shifted(rst, c * (dec == 0.0))
    _refuse(net, cells, ~(ok_t & ok_b & ok_v & ok_r & (thr2 > 0.0)), "has threshold {} <= 0 and values"
            " too large to shift to a positive threshold exactly", thr)

    n_in, n_cells = len(inputs), len(cells)
    column = np.zeros(len(net), dtype=np.int64)
    column[inputs], column[cells] = np.arange(n_in), np.arange(n_cells)
    bias_src, init_src, probe = n_in, n_in + 1, n_cells
    keep_syn = net.weight != 0.0
    pre, post = net.pre[keep_syn], net.post[keep_syn]
    with_bias, with_v0, with_reset = (np.flatnonzero(x != 0.0) for x in (bias2, v02, rst2))
    parts = [  # (pre, post, weight, delay, from a source)
        (column[pre], column[post], net.weight[keep_syn], net.delay[keep_syn], net.is_input[pre]),
        (np.full(len(with_bias), bias_src), with_bias, bias2[with_bias], None, True),
        (np.full(len(with_v0), init_src), with_v0, v02[with_v0], None, True),
        (with_reset, with_reset, rst2[with_reset], None, False),
        (np.array([init_src]), np.array([probe]), np.array([1.0]), None, True),
    ]

    def col(k: int, dtype: Any) -> np.ndarray:
        out = []
        for part in parts:
            n = len(part[0])
            value = part[k] if part[k] is not None else 1
            out.append(np.broadcast_to(np.asarray(value, dtype=dtype), (n,)))
        return np.concatenate(out).astype(dtype)

    times = net.stimulus_times
    stim = [np.asarray(times.get(int(i), ()), dtype=np.int64) for i in inputs.tolist()]
    rates = net.stimulus_rates[inputs] if n_in else np.zeros(0)
    last = max([int(s.max()) + 1 for s in stim if len(s)] + [0])
    return {
        "version": np.array(_FORMAT_VERSION),
        "cell_names": np.array(net.names(cells) + ["spikec.probe"], dtype=str),
        "input_names": np.array(net.names(inputs), dtype=str),
        "tau_m": np.append(tau, TAU_MEMORYLESS),
        "v_thresh": np.append(thr2, 1.0),
        "pre": col(0, np.int64), "post": col(1, np.int64), "weight": col(2, np.float64),
        "delay": col(3, np.int64), "from_source": col(4, bool),
        "n_sources": np.array(n_in + 2),
        "stim_ptr": np.concatenate([[0], np.cumsum([len(s) for s in stim], dtype=np.int64)]),
        "stim_steps": np.concatenate(stim + [np.zeros(0, dtype=np.int64)]),
        "stim_rate": np.nan_to_num(np.asarray(rates, dtype=np.float64), nan=0.0),
        "default_steps": np.array(max(last + 16, 32)),
    }


# --- The builder shared with the emitted script (its source is copied into net.py) -------------


def _is_nest(sim: Any) -> bool:
    """Whether ``sim`` is PyNN's NEST backend (the one the mapping is checked on)."""
    return str(getattr(sim, "__name__", "")).startswith("pyNN.nest")


def _nest_weights(w: np.ndarray) -> np.ndarray:
    """Weights that PyNN's NEST backend turns back into ``w`` exactly: it multiplies
    ``IF_curr_delta`` weights by 1000.0 (nA -> pA) and then by 1e-3 (mV)."""
    out = w.copy()
    for k in range(1, 5):
        bad = (out * 1000.0) * 1e-3 != w
        if not bad.any():
            break
        for direction in (np.inf, -np.inf):
            cand = w[bad]
            for _ in range(k):
                cand = np.nextafter(cand, direction)
            good = (cand * 1000.0) * 1e-3 == w[bad]
            idx = np.flatnonzero(bad)[good]
            out[idx] = cand[good]
            bad[idx] = False
    return out


def setup_simulator(sim: Any, arrays: Mapping[str, np.ndarray]) -> None:
    """``sim.setup`` with a 1 ms step (on-grid spikes under NEST: ``iaf_psc_delta``)."""
    extra: dict[str, Any] = {"spike_precision": "on_grid", "verbosity": "error"} if _is_nest(sim) else {}
    max_delay = float(max(int(arrays["delay"].max(initial=1)), 2))
    sim.setup(timestep=DT, min_delay=DT, max_delay=max_delay * DT, **extra)


def build_network(sim: Any, arrays: Mapping[str, np.ndarray],
                  source_steps: list[np.ndarray]) -> tuple[Any, Any, list[Any]]:
    """Populations (sources, cells) and projections of the exported network in ``sim``;
    ``source_steps[k]`` are the spikec steps at which source ``k`` spikes."""
    times = [sim.Sequence(((np.asarray(s, dtype=float) + SHIFT) * DT).tolist()) for s in source_steps]
    sources = sim.Population(len(times), sim.SpikeSourceArray(spike_times=times), label="spikec_sources")
    tau = np.asarray(arrays["tau_m"], dtype=float)
    cell = sim.IF_curr_delta(tau_m=tau, cm=tau, v_rest=0.0, v_reset=0.0, tau_refrac=0.0, i_offset=0.0,
                             v_thresh=np.asarray(arrays["v_thresh"], dtype=float))
    if _is_nest(sim):  # PyNN 0.13 maps no 'v' for NEST's iaf_psc_delta (it logs so): set V_m itself
        log = logging.getLogger("PyNN")
        level = log.level
        log.setLevel(logging.ERROR)
        try:
            cells = sim.Population(len(tau), cell, label="spikec_neurons")
        finally:
            log.setLevel(level)
        cells.node_collection.set(V_m=0.0)
    else:
        cells = sim.Population(len(tau), cell, initial_values={"v": 0.0}, label="spikec_neurons")
    pre, post, delay = arrays["pre"], arrays["post"], arrays["delay"]
    weight, from_source = np.asarray(arrays["weight"], dtype=float), arrays["from_source"]
    if _is_nest(sim):
        weight = _nest_weights(weight)
    projections = []
    for source, pre_pop in ((True, sources), (False, cells)):
        for receptor, side in (("excitatory", weight > 0), ("inhibitory", weight < 0)):
            pick = np.flatnonzero((from_source == source) & side)
            if len(pick):
                conn = np.column_stack([pre[pick], post[pick], weight[pick], delay[pick] * DT]).astype(float)
                projections.append(sim.Projection(
                    pre_pop, cells, sim.FromListConnector(conn, column_names=["weight", "delay"]),
                    sim.StaticSynapse(), receptor_type=receptor))
    cells.record("spikes")
    return sources, cells, projections


def run_network(sim: Any, cells: Any, steps: int) -> np.ndarray:
    """Run ``steps`` spikec steps; the cells' spikes as a ``(cells, steps)`` bool array (the
    probe's row last), step numbers read relative to the probe's spike at step 0."""
    sim.run((steps + SHIFT + 2) * DT)
    trains = cells.get_data("spikes").segments[0].spiketrains
    ids, times = trains.multiplexed
    index = np.asarray(cells.id_to_index(np.asarray(ids, dtype=int)), dtype=np.int64).reshape(-1)
    step = np.rint(np.asarray(times, dtype=float) / DT).astype(np.int64)
    probe = step[index == cells.size - 1]
    if len(probe) != 1:
        raise RuntimeError(f"the probe cell spiked {len(probe)} times, expected once")
    step -= probe[0]
    out = np.zeros((cells.size, steps), dtype=bool)
    inside = (step >= 0) & (step < steps)
    out[index[inside], step[inside]] = True
    return out


_SHARED = (_is_nest, _nest_weights, setup_simulator, build_network, run_network)


# --- spikec side ---------------------------------------------------------------------------------


@dataclass
class PynnNetwork:
    """A spikec network built in a PyNN backend ``sim`` by :func:`build`."""

    sim: Any
    sources: Any
    neurons: Any
    projections: list[Any]
    net: Network
    steps: int
    raster: np.ndarray

    def run(self) -> np.ndarray:
        """Run it; ``(len(net), steps)`` bool spikes in network order (inputs: their rasters)."""
        got = run_network(self.sim, self.neurons, self.steps)
        spikes = np.zeros((len(self.net), self.steps), dtype=bool)
        spikes[np.flatnonzero(~self.net.is_input)] = got[:-1]
        spikes[self.net.input_indices()] = self.raster.T
        return spikes


def build(net: Network, sim: Any, steps: int, inputs: Mapping[str, Any] | None = None,
          seed: int = 0) -> PynnNetwork:
    """Build ``net`` in the PyNN backend ``sim`` (an imported ``pyNN.nest``, ``pyNN.spiNNaker``
    ...) for ``steps`` steps, with ``inputs`` as :func:`spikec.simulate` takes them (file
    stimuli otherwise; Poisson ones drawn as spikec draws them for trial 0 of ``seed``).
    Calls ``sim.setup`` (which resets NEST's kernel)."""
    arrays = pynn_arrays(net)
    plan = plan_inputs(net, steps, 1, inputs, seed, 0)
    raster = plan.raster[:, 0, :]  # (steps, inputs), columns in network order
    col, step = np.nonzero(raster.T)
    n_in = raster.shape[1]
    per_input = np.split(step, np.searchsorted(col, np.arange(1, n_in))) if n_in else []
    source_steps = list(per_input) + [np.arange(-1, steps - 1), np.array([-1])]
    setup_simulator(sim, arrays)
    sources, cells, projections = build_network(sim, arrays, source_steps)
    return PynnNetwork(sim, sources, cells, projections, net, steps, raster)


def simulate_pynn(net: Network, sim: Any, steps: int, inputs: Mapping[str, Any] | None = None,
                  seed: int = 0) -> np.ndarray:
    """:func:`build` and run: ``(len(net), steps)`` bool spikes in network order."""
    return build(net, sim, steps, inputs, seed).run()


_SCRIPT_HEAD = '''"""spikec network exported for PyNN (spikec {version}): IF_curr_delta cells, 1 ms per step.

Run:  python {script} --simulator nest [--steps T] [-o spikes.npz]
      (any PyNN backend module: nest, spiNNaker, ...; exactness is checked on NEST only)

The arrays are in {arrays} beside this file. Spikes are saved as 'spikes' (neurons x
steps, bool, spikec's step numbers) with 'names'. Poisson stimuli, if any, are drawn
here with numpy (not spikec's stream).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Mapping
from typing import Any

import numpy as np

SHIFT = {shift}
DT = {dt}
ARRAYS = {arrays!r}
'''

_SCRIPT_MAIN = '''

def main() -> None:
    parser = argparse.ArgumentParser(description="run a spikec network under PyNN")
    parser.add_argument("--simulator", default="nest", help="PyNN backend: nest, spiNNaker, ...")
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0, help="for Poisson stimuli")
    parser.add_argument("-o", "--output", default=None, help="spikes .npz (default: beside this file)")
    args = parser.parse_args()
    here = os.path.splitext(os.path.abspath(__file__))[0]
    with np.load(os.path.join(os.path.dirname(os.path.abspath(__file__)), ARRAYS)) as f:
        arrays = {{k: f[k] for k in f.files}}
    steps = int(args.steps if args.steps is not None else arrays["default_steps"])
    sim = importlib.import_module("pyNN." + args.simulator)
    if not _is_nest(sim):
        print(f"note: spikec checked this export on pyNN.nest only; on pyNN.{{args.simulator}} the"
              " cell model and arithmetic may differ (see spikec's docs/interchange.md)", file=sys.stderr)
    ptr, rate = arrays["stim_ptr"], arrays["stim_rate"]
    given = np.split(arrays["stim_steps"], ptr[1:-1]) if len(rate) else []
    draws = np.random.default_rng(args.seed).random((steps, len(rate))) < rate
    source_steps = [np.flatnonzero(draws[:, k]) if r > 0 else s[s < steps] for k, (s, r) in
                    enumerate(zip(given, rate.tolist()))]
    source_steps += [np.arange(-1, steps - 1), np.array([-1])]
    setup_simulator(sim, arrays)
    _, cells, _ = build_network(sim, arrays, source_steps)
    spikes = run_network(sim, cells, steps)[:-1]
    sim.end()
    names = arrays["cell_names"][:-1]
    out = args.output or here + ".spikes.npz"
    np.savez_compressed(out, spikes=spikes, names=names)
    for name, row in zip(names.tolist(), spikes):
        if row.any():
            print(f"{{name}}: {{', '.join(map(str, np.flatnonzero(row).tolist()))}}")
    print(f"wrote {{out}}: {{len(names)}} neurons, {{steps}} steps")


if __name__ == "__main__":
    main()
'''


def script_text(script_name: str, arrays_name: str) -> str:
    """The standalone script: this module's builder functions, copied, and a ``main``."""
    from spikec._version import __version__

    head = _SCRIPT_HEAD.format(version=__version__, script=script_name, arrays=arrays_name,
                               shift=SHIFT, dt=DT)
    body = "\n\n".join(inspect.getsource(fn) for fn in _SHARED)
    return head + "\n\n" + body + _SCRIPT_MAIN.format()


def write_pynn(path: str | os.PathLike[str], net: Network) -> list[str]:
    """Write ``path`` (the script) and its arrays beside it (``.npz``), each through a
    temporary file and a rename; returns both paths."""
    script = Path(path)
    arrays_path = script.with_suffix(".npz") if script.suffix == ".py" else Path(f"{script}.npz")
    arrays = pynn_arrays(net)
    buf = io.BytesIO()
    np.savez_compressed(buf, allow_pickle=False, **arrays)
    try:
        with atomic_file(arrays_path) as fh:
            fh.write(buf.getvalue())
        write_text_atomic(script, script_text(script.name, arrays_path.name))
    except OSError as exc:
        raise ExportError(f"cannot write {os.fspath(path)}: {exc.strerror or exc}") from None
    return [os.fspath(script), os.fspath(arrays_path)]


def emit_pynn(path: str | os.PathLike[str], net: Network, placement: Any = None, target: Any = None,
              passes: list[str] | None = None, diagnostics: list[Any] | None = None) -> list[str]:
    """The ``pynn`` emitter (:mod:`spikec.backends.formats`): a script and its ``.npz``;
    PyNN places the network itself, so the placement and target are not used."""
    return write_pynn(path, net)
