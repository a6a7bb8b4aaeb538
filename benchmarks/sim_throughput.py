#!/usr/bin/env python
"""Simulator throughput: spikec against Brian2 and NEST on one random network.

The network (built once from ``--seed``, identical for every simulator):

- ``neurons`` neurons of which 1% are *input neurons* (Poisson-like spike
  rasters, one per trial) and the rest perfect integrators (decay 0) with
  threshold 1, reset 0, a constant bias of 3/128 per step and a random
  initial potential, so each one fires about every 43 steps, out of phase;
- ``synapses`` synapses with a uniformly random presynaptic neuron (inputs
  included), a uniformly random postsynaptic integrator, a small random
  weight of mean 0 and an integer delay uniform in 1..8, listed grouped by
  presynaptic neuron (the order simulators store them best in).

Every number in the model (bias, weights, initial potentials) is a multiple
of 2**-16 and stays small, so every sum is exact in float64 whatever the order
of summation: a simulator that implements the same discrete-time semantics
reproduces spikec's spike trains bit for bit. Brian2 does, with the schedule
set in :func:`run_brian2`; NEST's exact-integration propagators round the
bias by about 3e-8 per step, which could in principle make its trains drift
apart from spikec's (the script reports the first step where the population
spike counts differ, if any).

``trials=K`` (spikec only) runs K trials at once; trial k receives input
raster k, so trials differ; trial 0 sees the same input as the 1-trial run.
spikec is measured with each of its engines (``numpy``, ``native``, ``numba``).

Each measurement runs in its own subprocess (so one backend's memory does
not pollute another's) and reports wall times for building the network, for
compiling it, and for the run alone (the fastest of ``--repeat`` runs); the
table shows neuron updates per second (neurons x steps x trials / run time),
synaptic events per second (spikes x out-degree), the mean firing rate per
neuron per step and the peak resident memory of the process.

Run ``python benchmarks/sim_throughput.py --help``; ``--quick`` is a smoke
test of a few seconds. Peers (Brian2, NEST) are used when importable, see
``benchmarks/README.md`` for installing them in a separate environment.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

#: Potentials, weights and biases are multiples of this, so float sums are exact.
QUANTUM = 2.0**-16
#: Per-step bias of every integrator: fires about every 1 / BIAS = 43 steps.
BIAS = 3.0 / 128.0
#: Standard deviation of the synaptic weights (mean 0).
WEIGHT_SD = 0.02
#: Probability that an input neuron spikes at a given step of a given trial.
INPUT_RATE = 0.025
#: Largest synaptic delay (delays are uniform in 1..MAX_DELAY).
MAX_DELAY = 8
#: NEST membrane time constant (ms) standing in for "no leak"; see run_nest().
NEST_TAU_M = 1e10

ALL_PEERS = ("brian2-numpy", "brian2-cython", "brian2-cpp", "nest")
#: spikec's simulator engines (``Simulator.run(engine=...)``); ``numba`` and ``native`` run
#: on one thread (``NUMBA_NUM_THREADS=1``, ``SPIKEC_THREADS=1``), ``-par`` on every core
#: (trials in parallel).
ALL_ENGINES = ("numpy", "native", "native-par", "numba", "numba-par")
#: Module each backend needs, to tell "not installed" apart from "failed".
NEEDS: dict[str, tuple[str, ...]] = {
    "spikec-numpy": ("spikec",),
    "spikec-numba": ("spikec", "numba"),
    "spikec-numba-par": ("spikec", "numba"),
    "spikec-native": ("spikec",),
    "spikec-native-par": ("spikec",),
    "brian2-numpy": ("brian2",),
    "brian2-cython": ("brian2", "Cython"),
    "brian2-cpp": ("brian2",),
    "nest": ("nest",),
}
RESULT_TAG = "@@RESULT@@ "


# ---------------------------------------------------------------------------
# The network, as plain arrays


@dataclass(frozen=True)
class BenchConfig:
    """Size and seed of the benchmark network and run."""

    neurons: int
    synapses: int
    steps: int
    seed: int

    @property
    def n_inputs(self) -> int:
        """Number of input neurons (1% of the neurons, at least 1)."""
        return max(1, self.neurons // 100)

    @property
    def n_cells(self) -> int:
        """Number of integrating (non-input) neurons."""
        return self.neurons - self.n_inputs


@dataclass
class NetSpec:
    """The benchmark network as arrays, in simulator-neutral form.

    Neuron index ``i < n_cells`` is integrator ``n{i}``; index ``n_cells + k``
    is input neuron ``in{k}``. Synapse ``e`` joins ``pre[e] -> post[e]``.
    """

    n_cells: int
    n_inputs: int
    pre: np.ndarray
    post: np.ndarray
    weight: np.ndarray
    delay: np.ndarray
    v0: np.ndarray
    bias: float

    @property
    def neurons(self) -> int:
        """All neurons, inputs included."""
        return self.n_cells + self.n_inputs

    def out_degree(self) -> np.ndarray:
        """Number of outgoing synapses of every neuron (inputs last)."""
        return np.bincount(self.pre, minlength=self.neurons)

    def names(self) -> list[str]:
        """Neuron names in index order."""
        return [f"n{i}" for i in range(self.n_cells)] + [f"in{k}" for k in range(self.n_inputs)]


def _quantize(x: np.ndarray) -> np.ndarray:
    """Round to a multiple of :data:`QUANTUM`."""
    return np.rint(x / QUANTUM) * QUANTUM


def make_network(cfg: BenchConfig) -> NetSpec:
    """The random network of ``cfg`` (depends only on sizes and seed)."""
    rng = np.random.default_rng(np.random.SeedSequence(cfg.seed, spawn_key=(0,)))
    m = cfg.synapses
    pre = rng.integers(0, cfg.neurons, m)
    post = rng.integers(0, cfg.n_cells, m)
    weight = _quantize(rng.normal(0.0, WEIGHT_SD, m))
    delay = rng.integers(1, MAX_DELAY + 1, m)
    v0 = _quantize(rng.random(cfg.n_cells))
    # Synapses grouped by presynaptic neuron, the order in which simulators
    # usually create them (e.g. Brian2's connect(p=...)) and store them best.
    order = np.argsort(pre, kind="stable")
    pre, post, weight, delay = pre[order], post[order], weight[order], delay[order]
    return NetSpec(cfg.n_cells, cfg.n_inputs, pre, post, weight, delay, v0, BIAS)


def input_rasters(cfg: BenchConfig, trials: int) -> np.ndarray:
    """Spike rasters of the input neurons, bool of shape (trials, n_inputs, steps).

    Trial k's raster comes from its own random stream, so it does not depend
    on how many trials are run.
    """
    out = np.empty((trials, cfg.n_inputs, cfg.steps), dtype=bool)
    for k in range(trials):
        rng = np.random.default_rng(np.random.SeedSequence(cfg.seed, spawn_key=(1, k)))
        out[k] = rng.random((cfg.n_inputs, cfg.steps)) < INPUT_RATE
    return out


# ---------------------------------------------------------------------------
# One measurement


@dataclass
class Measurement:
    """What one backend run reports back to the driver (JSON-serializable).

    ``spikes`` counts every spike of every neuron (inputs included) in all
    trials; ``step_counts`` is trial 0's number of spikes at each step, used to
    check that the peers simulated the same thing; ``peak_rss_mb`` is the
    peak resident set size of the measuring process (for cpp_standalone, of
    the compiled binary).
    """

    backend: str
    trials: int
    status: str = "ok"
    build_s: float = float("nan")
    compile_s: float = float("nan")
    run_s: float = float("nan")
    run_times: list[float] = field(default_factory=list)
    spikes: int = 0
    events: int = 0
    exact_events: bool = True
    peak_rss_mb: float = float("nan")
    threads: int = 1
    run_heap_mb: float = float("nan")
    step_counts: list[int] = field(default_factory=list)
    versions: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    #: Wall time of each whole run where it differs from ``run_times`` (cpp_standalone:
    #: the binary, with loading its arrays and creating the synapses).
    run_walls: list[float] = field(default_factory=list)


def _maxrss_mb(who: int = resource.RUSAGE_SELF) -> float:
    """Peak resident set size in MiB (``ru_maxrss`` is in KiB on Linux)."""
    return resource.getrusage(who).ru_maxrss / 1024.0


def run_spikec(
    cfg: BenchConfig, trials: int, engine: str, repeat: int, record: str, heap_trace: bool
) -> Measurement:
    """Build, compile and run the network on spikec's simulator with ``engine``.

    "compile" is ``Simulator(net)`` plus a one-step warm-up run, which loads
    (or JIT-compiles) the numba kernel; the run time is the fastest of
    ``repeat`` runs of the same compiled simulator.
    """
    import inspect

    import spikec
    from spikec.backends.simulator import Simulator

    spec = make_network(cfg)
    rasters = input_rasters(cfg, trials)
    names = spec.names()
    meas = Measurement(f"spikec-{engine}", trials)
    meas.versions = {"spikec": spikec.__version__, "numpy": np.__version__}
    options: dict[str, Any] = {}
    if "engine" in inspect.signature(Simulator.run).parameters:
        options["engine"] = engine.removesuffix("-par")
    elif engine != "numpy":
        raise RuntimeError("this spikec has no engine= option (numpy engine only)")
    if engine.startswith("numba"):
        import numba

        meas.versions["numba"] = numba.__version__
        meas.threads = numba.get_num_threads()
    if engine.startswith("native"):
        from spikec.backends import native

        meas.threads = min(trials, native.cores())

    t0 = time.perf_counter()
    net = spikec.Network("sim_throughput")
    for i in range(spec.n_cells):
        net.neuron(names[i], bias=spec.bias, v0=float(spec.v0[i]))
    for k in range(spec.n_inputs):
        net.input(names[spec.n_cells + k])
    name_arr = np.array(names, dtype=object)
    net.add_synapses(
        name_arr[spec.pre].tolist(), name_arr[spec.post].tolist(), spec.weight, spec.delay
    )
    t1 = time.perf_counter()
    sim = Simulator(net)
    sim.run(1, trials=trials, record=[], **options)  # warm-up: loads the engine
    t2 = time.perf_counter()
    meas.build_s, meas.compile_s = t1 - t0, t2 - t1

    inputs = {names[spec.n_cells + k]: rasters[:, k, :] for k in range(spec.n_inputs)}
    rec: str | list[str] = "all" if record == "all" else []

    def go() -> Any:
        return sim.run(cfg.steps, inputs=inputs, trials=trials, record=rec, **options)

    for _ in range(repeat):
        t3 = time.perf_counter()
        result = go()
        meas.run_times.append(time.perf_counter() - t3)
    meas.run_s = min(meas.run_times)
    meas.events = int(result.synaptic_events)

    if record == "all":
        counts = np.stack([result.spikes[name].sum(axis=1) for name in names])  # (N, trials)
        meas.spikes = int(counts.sum())
        meas.step_counts = np.sum([result.spikes[n][0] for n in names], axis=0).tolist()
        if meas.events != int(spec.out_degree() @ counts.sum(axis=1)):
            meas.notes.append(f"{meas.backend}: synaptic_events differs from spikes x out-degree")
    else:
        # Nothing recorded: estimate the spike count from the events.
        meas.spikes = round(meas.events / spec.out_degree().mean())
        meas.exact_events = False
    del result
    if heap_trace:
        tracemalloc.start()
        go()
        meas.run_heap_mb = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    meas.peak_rss_mb = _maxrss_mb()
    return meas


def _peer_counts(spec: NetSpec, raster0: np.ndarray, cell_counts: np.ndarray) -> tuple[int, int]:
    """(spikes, synaptic events) of a one-trial peer run from per-cell spike counts."""
    counts = np.concatenate([cell_counts, raster0.sum(axis=1)])
    return int(counts.sum()), int(spec.out_degree() @ counts)


def _step_counts(steps: int, cell_steps: np.ndarray, raster0: np.ndarray) -> list[int]:
    """Spikes per step (cells at the given steps, plus the inputs' raster)."""
    cells = np.bincount(cell_steps, minlength=steps)[:steps]
    return (cells + raster0.sum(axis=0)).astype(int).tolist()


def run_brian2(cfg: BenchConfig, target: str, repeat: int) -> Measurement:
    """Build and run the network on Brian2 with code generation ``target``.

    ``target`` is ``numpy`` or ``cython`` (runtime device) or ``cpp`` (the
    cpp_standalone device, single-threaded). The model matches spikec's
    semantics exactly: with Brian2's default schedule a synaptic effect that
    arrives at step t is added *after* the threshold test of step t, so the
    schedule is changed to ``groups, thresholds, resets, synapses`` and every
    delay is one step shorter than spikec's (``(d - 1) ms``): a spike at step
    t then lands at the end of step t + d - 1, after that step's reset, and is
    seen by the threshold test of step t + d, as in spikec.
    """
    import brian2 as b2

    spec = make_network(cfg)
    raster0 = input_rasters(cfg, 1)[0]
    meas = Measurement(f"brian2-{target}", 1)
    meas.versions = {"brian2": b2.__version__, "numpy": np.__version__}
    workdir = tempfile.mkdtemp(prefix=f"bench-brian2-{target}-")
    b2.BrianLogger.log_level_warn()
    if target == "cpp":
        b2.set_device("cpp_standalone", directory=workdir, build_on_run=False)
        b2.prefs.devices.cpp_standalone.openmp_threads = 0
        rusage_file = os.path.join(workdir, "rusage.json")
        b2.prefs.devices.cpp_standalone.run_cmd_unix = [
            sys.executable, os.path.abspath(__file__), "--exec-rusage", rusage_file, "./main",
        ]
    else:
        b2.prefs.codegen.target = target
        if target == "cython":
            # A fresh cache: report a cold compile, not whatever an earlier run left.
            b2.prefs.codegen.runtime.cython.cache_dir = os.path.join(workdir, "cython")
    b2.defaultclock.dt = 1 * b2.ms
    ms = b2.ms

    t0 = time.perf_counter()
    cells = b2.NeuronGroup(
        spec.n_cells,
        "v : 1\nb : 1 (constant)",
        threshold="v >= 1",
        reset="v = 0",
        name="cells",
    )
    cells.run_regularly("v += b", when="groups")
    cells.v = spec.v0
    cells.b = spec.bias
    src_k, src_t = np.nonzero(raster0)
    inputs = b2.SpikeGeneratorGroup(spec.n_inputs, src_k, src_t * ms, name="inputs")
    from_cell = spec.pre < spec.n_cells
    syn_cells = b2.Synapses(cells, cells, "w : 1", on_pre="v_post += w", name="syn_cells")
    syn_cells.connect(i=spec.pre[from_cell], j=spec.post[from_cell])
    syn_cells.w = spec.weight[from_cell]
    syn_cells.delay = (spec.delay[from_cell] - 1) * ms
    syn_in = b2.Synapses(inputs, cells, "w : 1", on_pre="v_post += w", name="syn_inputs")
    syn_in.connect(i=spec.pre[~from_cell] - spec.n_cells, j=spec.post[~from_cell])
    syn_in.w = spec.weight[~from_cell]
    syn_in.delay = (spec.delay[~from_cell] - 1) * ms
    monitor = b2.SpikeMonitor(cells, name="monitor")
    net = b2.Network(cells, inputs, syn_cells, syn_in, monitor)
    net.schedule = ["start", "groups", "thresholds", "resets", "synapses", "end"]
    device = b2.get_device()
    meas.build_s = time.perf_counter() - t0

    if target == "cpp":
        net.run(cfg.steps * ms)  # only records the run into the generated code
        t1 = time.perf_counter()
        device.build(directory=workdir, compile=True, run=False)
        t2 = time.perf_counter()
        meas.build_s, meas.compile_s = t1 - t0, t2 - t1
        walls = []
        meas.peak_rss_mb = 0.0
        for _ in range(repeat):
            t3 = time.perf_counter()
            device.run(directory=workdir, with_output=False)
            walls.append(time.perf_counter() - t3)
            meas.run_times.append(float(device._last_run_time))
            with open(rusage_file) as f:
                rss = json.load(f)["maxrss_kb"] / 1024.0
            meas.peak_rss_mb = max(meas.peak_rss_mb, rss)
        meas.run_walls = walls
        meas.notes.append(
            f"brian2-cpp (first round): the binary ran {min(walls):.2f} s in all, of which the"
            " simulation loop"
            f" {min(meas.run_times):.2f} s (the rest: loading arrays, creating synapses,"
            " writing results); peak RSS is the binary's"
        )
    else:
        net.store("initial")
        for r in range(repeat):
            if r:
                net.restore("initial")
            t1 = time.perf_counter()
            net.run(cfg.steps * ms)
            t2 = time.perf_counter()
            meas.run_times.append(float(device._last_run_time))  # the time-step loop only
            if r == 0:
                # code generation (+ compilation, for cython) happens in before_run
                meas.compile_s = (t2 - t1) - meas.run_times[0]
        meas.peak_rss_mb = _maxrss_mb()
    meas.run_s = min(meas.run_times)

    cell_counts = np.asarray(monitor.count[:], dtype=np.int64)
    meas.spikes, meas.events = _peer_counts(spec, raster0, cell_counts)
    cell_steps = np.rint(np.asarray(monitor.t[:] / ms)).astype(np.int64)
    meas.step_counts = _step_counts(cfg.steps, cell_steps, raster0)
    shutil.rmtree(workdir, ignore_errors=True)
    return meas


def run_nest(cfg: BenchConfig, repeat: int) -> Measurement:
    """Build and run the network on NEST (``iaf_psc_delta``, one thread, 1 ms grid).

    ``iaf_psc_delta`` with ``tau_m`` = 1e10 ms is an integrator to 3e-8
    relative error per step (a much larger tau_m makes NEST's propagator for
    ``I_e`` lose its precision; 1e20 even zeroes it); the bias is ``I_e`` with
    ``C_m`` = 1 pF; weights are jumps in mV. spikec step t is NEST's interval
    (t, t+1] ms, whose spikes carry the stamp t+1; a delay of d ms then
    matches spikec's d steps.
    """
    import nest

    spec = make_network(cfg)
    raster0 = input_rasters(cfg, 1)[0]
    meas = Measurement("nest", 1)
    nest.set_verbosity("M_ERROR")
    meas.versions = {"nest": str(nest.__version__), "numpy": np.__version__}
    params = {
        "E_L": 0.0,
        "V_th": 1.0,
        "V_reset": 0.0,
        "t_ref": 0.0,
        "C_m": 1.0,
        "tau_m": NEST_TAU_M,
        "I_e": spec.bias,
    }
    for r in range(repeat):
        # NEST 3 cannot rewind a network: build it anew for every repetition.
        nest.ResetKernel()
        nest.SetKernelStatus({"resolution": 1.0, "local_num_threads": 1, "print_time": False})
        t0 = time.perf_counter()
        cells = nest.Create("iaf_psc_delta", spec.n_cells, params=params)
        cells.set(V_m=spec.v0.tolist())
        gens = nest.Create("spike_generator", spec.n_inputs)
        gens.set([{"spike_times": (np.flatnonzero(row) + 1.0).tolist()} for row in raster0])
        ids = np.concatenate([np.asarray(cells.tolist()), np.asarray(gens.tolist())])
        nest.Connect(
            ids[spec.pre],
            ids[spec.post],
            conn_spec="one_to_one",
            syn_spec={
                "synapse_model": "static_synapse",
                "weight": spec.weight,
                "delay": spec.delay.astype(float),
            },
        )
        recorder = nest.Create("spike_recorder")
        nest.Connect(cells, recorder)
        t1 = time.perf_counter()
        nest.Prepare()
        t2 = time.perf_counter()
        nest.Run(float(cfg.steps))
        t3 = time.perf_counter()
        nest.Run(1.0)  # untimed: delivers the last step's spikes to the recorder
        nest.Cleanup()
        if r == 0:
            meas.build_s, meas.compile_s = t1 - t0, t2 - t1
        meas.run_times.append(t3 - t2)
    meas.run_s = min(meas.run_times)
    meas.peak_rss_mb = _maxrss_mb()

    events = recorder.get("events")
    stamps = np.rint(np.asarray(events["times"])).astype(np.int64)
    senders = np.asarray(events["senders"], dtype=np.int64)
    keep = stamps <= cfg.steps
    first = int(cells.tolist()[0])
    cell_counts = np.bincount(senders[keep] - first, minlength=spec.n_cells)
    meas.spikes, meas.events = _peer_counts(spec, raster0, cell_counts)
    meas.step_counts = _step_counts(cfg.steps, stamps[keep] - 1, raster0)
    return meas


def run_worker(args: argparse.Namespace) -> Measurement:
    """Run the one measurement named by ``args.worker`` in this process."""
    cfg = BenchConfig(args.neurons, args.synapses, args.steps, args.seed)
    backend: str = args.worker
    if backend.startswith("spikec-"):
        meas = run_spikec(
            cfg,
            args.worker_trials,
            backend.removeprefix("spikec-"),
            args.repeat,
            args.record,
            not args.no_heap_trace,
        )
    elif backend.startswith("brian2-"):
        meas = run_brian2(cfg, backend.removeprefix("brian2-"), args.repeat)
    elif backend == "nest":
        meas = run_nest(cfg, args.repeat)
    else:
        raise SystemExit(f"unknown backend {backend!r}")
    meas.versions["python"] = platform.python_version()
    return meas


def exec_with_rusage(argv: Sequence[str]) -> int:
    """``--exec-rusage OUT CMD...``: run CMD and write its own peak RSS to OUT (JSON).

    Used as Brian2's ``run_cmd_unix`` so the compiled binary's memory is
    measured apart from the compiler's and the Python process's.
    """
    out_path, cmd = argv[0], list(argv[1:])
    start = time.perf_counter()
    proc = subprocess.Popen(cmd)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    with open(out_path, "w") as f:
        json.dump({"maxrss_kb": usage.ru_maxrss, "wall_s": time.perf_counter() - start}, f)
    return proc.returncode


# ---------------------------------------------------------------------------
# The driver


def missing_modules(backend: str) -> list[str]:
    """Modules ``backend`` needs that this interpreter cannot import."""
    return [m for m in NEEDS[backend] if importlib.util.find_spec(m) is None]


def worker_env(backend: str) -> dict[str, str]:
    """Environment of a measuring subprocess: one BLAS/OpenMP thread, and one numba and
    native-kernel thread except for the ``-par`` engines."""
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    if backend.endswith("-par"):
        env.pop("NUMBA_NUM_THREADS", None)
        env.pop("SPIKEC_THREADS", None)
    else:
        env["NUMBA_NUM_THREADS"] = "1"
        env["SPIKEC_THREADS"] = "1"
    return env


@dataclass
class ChildOutput:
    """What a measuring subprocess left behind: the JSON of its last result line
    (``None`` if it printed none), a status (``ok``, ``timed out after ... s`` or
    ``failed (exit N): <last line of stderr>``) and its exit code (``None`` on timeout)."""

    payload: dict[str, Any] | None
    status: str
    returncode: int | None
    stderr_tail: str = ""


def run_child(cmd: Sequence[str], env: dict[str, str], timeout: float) -> ChildOutput:
    """Run ``cmd`` and read the last ``RESULT_TAG`` line of its output, even when it
    timed out or failed after printing one (workers may report partial results)."""
    try:
        proc = subprocess.run(
            list(cmd), capture_output=True, text=True, timeout=timeout, env=env, check=False
        )
        out, err, code = proc.stdout, proc.stderr, proc.returncode
        status = "ok" if code == 0 else ""
    except subprocess.TimeoutExpired as exc:
        def text(x: Any) -> str:
            return x.decode(errors="replace") if isinstance(x, bytes) else (x or "")

        out, err, code = text(exc.stdout), text(exc.stderr), None
        status = f"timed out after {timeout:g} s"
    payload = None
    for line in reversed(out.splitlines()):
        if line.startswith(RESULT_TAG):
            payload = json.loads(line[len(RESULT_TAG):])
            break
    tail = (err.strip().splitlines() or ["(no output)"])[-1]
    if not status:
        status = f"failed (exit {code}): {tail[:160]}"
    return ChildOutput(payload, status, code, tail)


def spawn(args: argparse.Namespace, backend: str, trials: int) -> Measurement:
    """Run one measurement in a fresh subprocess and read its result."""
    cmd = [
        sys.executable, os.path.abspath(__file__),
        "--worker", backend, "--worker-trials", str(trials),
        "--neurons", str(args.neurons), "--synapses", str(args.synapses),
        "--steps", str(args.steps), "--seed", str(args.seed), "--record", args.record,
        "--repeat", str(args.repeat),
    ]
    if args.no_heap_trace:
        cmd.append("--no-heap-trace")
    child = run_child(cmd, worker_env(backend), args.timeout)
    if child.status.startswith("timed out"):
        return Measurement(backend, trials, status=child.status)
    if child.payload is not None:
        return Measurement(**child.payload)
    return Measurement(backend, trials, status=child.status)


def merge(first: Measurement, later: Measurement) -> Measurement:
    """Fold a later round's measurement of the same row into the first one.

    Build and compile times stay the first successful round's; run times
    accumulate (the row shows the fastest); peak memory is the largest seen.
    """
    if later.status != "ok":
        if first.status == "ok":
            first.notes.append(f"{first.backend} x{first.trials}: a later round {later.status}")
        return first
    if first.status != "ok":
        return later
    first.run_times += later.run_times
    first.run_s = min(first.run_times)
    first.peak_rss_mb = max(first.peak_rss_mb, later.peak_rss_mb)
    if np.isfinite(later.run_heap_mb):
        first.run_heap_mb = max(first.run_heap_mb, later.run_heap_mb)
    return first


def _fmt_rate(x: float) -> str:
    """``1.23e9``-style number, or a dash for NaN."""
    return "-" if not np.isfinite(x) else f"{x:.3g}"


def _fmt_s(x: float) -> str:
    return "-" if not np.isfinite(x) else f"{x:.3f}"


def table(cfg: BenchConfig, rows: Sequence[Measurement]) -> str:
    """The results as a Markdown table."""
    head = (
        "| backend | threads | trials | build s | compile s | run s | neuron-updates/s | syn-events/s"
        " | rate/step | peak RSS MiB | run heap MiB |"
    )
    lines = [head, "|" + "---|" * 11]
    for m in rows:
        if m.status != "ok":
            lines.append(f"| {m.backend} | {m.threads} | {m.trials} | {m.status} |" + " |" * 7)
            continue
        updates = cfg.neurons * cfg.steps * m.trials / m.run_s
        events = m.events / m.run_s
        rate = m.spikes / (cfg.neurons * cfg.steps * m.trials)
        approx = "" if m.exact_events else "~"
        lines.append(
            f"| {m.backend} | {m.threads} | {m.trials} | {_fmt_s(m.build_s)}"
            f" | {_fmt_s(m.compile_s)}"
            f" | {_fmt_s(m.run_s)} | {_fmt_rate(updates)} | {_fmt_rate(events)}"
            f" | {approx}{100 * rate:.2f}% | {m.peak_rss_mb:.0f}"
            f" | {'-' if not np.isfinite(m.run_heap_mb) else f'{m.run_heap_mb:.0f}'} |"
        )
    return "\n".join(lines)


def agreement(reference: Measurement, other: Measurement) -> str:
    """One line comparing ``other``'s trial-0 spikes with the reference run."""
    if not reference.step_counts or not other.step_counts:
        return f"{other.backend}: no per-step counts to compare"
    a = np.asarray(reference.step_counts)
    b = np.asarray(other.step_counts)
    diff = np.flatnonzero(a != b)
    first = "identical at every step" if not len(diff) else f"first differs at step {diff[0]}"
    if other.trials == 1:
        ratio = other.spikes / max(1, reference.spikes)
        total = f"spikes {other.spikes} vs {reference.spikes} ({100 * (ratio - 1):+.2f}%)"
        events = f", events {other.events} vs {reference.events}"
    else:
        total = f"trial 0 spikes {int(b.sum())} vs {int(a.sum())}"
        events = ""
    return f"{other.backend} x{other.trials}: {total}{events}; per-step counts {first}"


def parse_list(text: str, conv: Callable[[str], Any]) -> list[Any]:
    """Comma-separated list (empty or ``none`` gives an empty list)."""
    if text.strip().lower() in ("", "none"):
        return []
    return [conv(x.strip()) for x in text.split(",") if x.strip()]


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0] if __doc__ else None,
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--neurons", type=int, default=10_000, help="neurons, 1%% of them inputs")
    p.add_argument("--synapses", type=int, default=1_000_000)
    p.add_argument("--steps", type=int, default=1_000)
    p.add_argument("--trials", default="1,64", help="spikec trial counts, comma-separated")
    p.add_argument(
        "--engines",
        default=",".join(ALL_ENGINES),
        help=f"spikec simulator engines to measure: {','.join(ALL_ENGINES)}",
    )
    p.add_argument(
        "--repeat",
        type=int,
        default=None,
        help="timed runs per measurement; the fastest is shown (default 3, 1 with --quick)",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--peers",
        default=None,
        help=f"peers to run beside spikec (one trial each): {','.join(ALL_PEERS)}, all or"
        " none; default: all (none with --quick)",
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="smoke test: 1,000 neurons, 50,000 synapses, 200 steps, spikec only",
    )
    p.add_argument(
        "--record",
        choices=("all", "none"),
        default="all",
        help="spikec records every neuron's spikes (like the peers' monitors), or none"
        " (rate then estimated from synaptic events, marked ~)",
    )
    p.add_argument(
        "--no-heap-trace",
        action="store_true",
        help="skip spikec's second, untimed run under tracemalloc (run heap column)",
    )
    p.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="run the whole plan this many times, interleaved, and keep each row's fastest"
        " run (spreads the noise of a shared machine evenly over the backends)",
    )
    p.add_argument("--timeout", type=float, default=3600.0, help="seconds per measurement")
    p.add_argument("--json", metavar="PATH", help="also write every measurement here")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    p.add_argument("--worker-trials", type=int, default=1, help=argparse.SUPPRESS)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: drive the measurements (or be one, with ``--worker``)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--exec-rusage"]:
        return exec_with_rusage(argv[1:])
    args = build_parser().parse_args(argv)
    if args.worker:
        meas = run_worker(args)
        print(RESULT_TAG + json.dumps(asdict(meas)), flush=True)
        return 0

    if args.quick:
        args.neurons, args.synapses, args.steps = 1_000, 50_000, 200
    if args.repeat is None:
        args.repeat = 1 if args.quick else 3
    peers = parse_list(args.peers if args.peers is not None else
                       ("none" if args.quick else ",".join(ALL_PEERS)), str)
    if "all" in peers:
        peers = list(ALL_PEERS)
    unknown = [x for x in peers if x not in ALL_PEERS]
    if unknown:
        raise SystemExit(f"unknown peer(s) {unknown}; choose from {', '.join(ALL_PEERS)}")
    trial_counts = parse_list(args.trials, int)
    engines = parse_list(args.engines, str)
    bad = [x for x in engines if x not in ALL_ENGINES]
    if bad:
        raise SystemExit(f"unknown engine(s) {bad}; choose from {', '.join(ALL_ENGINES)}")
    if args.repeat < 1 or args.rounds < 1:
        raise SystemExit("--repeat and --rounds must be at least 1")
    cfg = BenchConfig(args.neurons, args.synapses, args.steps, args.seed)
    print(
        f"network: {cfg.neurons} neurons ({cfg.n_inputs} inputs), {cfg.synapses} synapses,"
        f" delays 1..{MAX_DELAY}; {cfg.steps} steps; seed {cfg.seed}; python {sys.executable};"
        f" {os.cpu_count()} CPUs",
        flush=True,
    )

    plan = [(f"spikec-{e}", k) for k in trial_counts for e in engines]
    plan += [(peer, 1) for peer in peers]
    rows: list[Measurement] = []
    for round_ in range(args.rounds):
        for slot, (backend, trials) in enumerate(plan):
            missing = missing_modules(backend)
            if missing:
                meas = Measurement(
                    backend, trials, status=f"not installed (no {', '.join(missing)})"
                )
            else:
                load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
                where = f"round {round_ + 1}/{args.rounds}, " if args.rounds > 1 else ""
                print(
                    f"  running {backend} x{trials} ({where}load average {load}) ...", flush=True
                )
                meas = spawn(args, backend, trials)
            if round_ == 0:
                rows.append(meas)
            else:
                rows[slot] = merge(rows[slot], meas)
            if meas.status == "ok":
                print(
                    f"    build {meas.build_s:.2f} s, compile {meas.compile_s:.2f} s,"
                    f" run {meas.run_s:.3f} s, {meas.spikes} spikes",
                    flush=True,
                )
            else:
                print(f"    {meas.status}", flush=True)

    print()
    print(table(cfg, rows))
    print()
    reference = next((m for m in rows if m.backend.startswith("spikec") and m.trials == 1), None)
    if reference is not None and reference.status == "ok":
        for m in rows:
            if m is not reference and m.status == "ok":
                print(agreement(reference, m))
    print(
        f"run s is the fastest of {args.repeat} timed run(s) x {args.rounds} round(s);"
        " all run times:"
    )
    for m in rows:
        if m.run_times:
            print(f"  {m.backend} x{m.trials}: " + ", ".join(f"{x:.3f}" for x in m.run_times))
    for m in rows:
        for note in m.notes:
            print(note)
    versions: dict[str, str] = {}
    for m in rows:
        versions.update(m.versions)
    if versions:
        print("versions: " + ", ".join(f"{k} {v}" for k, v in sorted(versions.items())))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(
                {"config": asdict(cfg), "argv": argv, "results": [asdict(m) for m in rows]},
                f,
                indent=1,
            )
    return 0 if all(m.status == "ok" or m.status.startswith("not installed") for m in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
