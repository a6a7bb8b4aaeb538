#!/usr/bin/env python
"""End-to-end benchmark of the compiler as a user sees it, beside Brian2 and NEST.

Part 1, end to end: the network of ``sim_throughput.py`` (10,000 neurons of
which 100 inputs, 1,000,000 synapses, delays 1..8, exact sums), from arrays
to 1,000 simulated steps with every neuron's spikes recorded:

- ``spikec-api``: ``Network.add_neurons`` / ``add_inputs`` and one
  ``Network.connect(pre, post, W, delay=d)`` per class of synapses, ``W`` a
  ``scipy.sparse.csr_matrix`` (a class is one delay value and one copy of a
  repeated (pre, post, delay) triple, so the classes hold exactly the 1 M
  synapses of the spec; the matrices are made beforehand, untimed, as the
  peers get their arrays beforehand); then ``spikec.verify``,
  ``Simulator(net)`` (prepare) and ``sim.run`` (default engine);
- ``spikec-pairs``: the same with one ``Network.add_synapses(pre, post, w, d)``
  on index arrays instead of the sparse matrices;
- ``spikec-spk``: the same stages from a generated ``.spk`` program (build =
  read, parse and elaborate it). The language has no data arrays, so 1 M
  *arbitrary* synapses take one statement each (``--spk explicit``: the
  identical network; about 1 ms per statement to parse, so many minutes at
  this size). The default, ``--spk loops``, is the closest program of the
  same size: 9,900 integrators ``n[cells]`` (bias 3/128, all starting at
  potential 0: an array has one value per parameter) and 100 inputs, each
  neuron with ``round(synapses / neurons)`` synapses written as two nested
  loops whose targets, weights (uniform multiples of 2^-16, sd 0.02) and
  delays (1..8) are computed by multiplicative hashing modulo the prime
  2^31 - 1 (:func:`pipeline_nets.spk_loops_program`; ``--spk loops-v0``
  also hashes a v0 per neuron, through circuit instances). Its spikes cannot
  be compared with the peers'; the elaborated network is checked against the
  same formulas evaluated with numpy;
- peers (``sim_throughput``'s runners): Brian2 numpy and cpp_standalone and
  NEST: build, compile/prepare, run (cpp_standalone: the whole binary).

Part 2, scaling: networks of ``sim_throughput``'s kind with 1 M, 10 M and
100 M synapses and one neuron per 781.25 synapses (128,000 neurons at 100 M,
a fan-in of about 790: one Loihi chip's 131,072 neurons), wired locally so
that the per-core limits stay meaningful (:func:`scaling_network`: sources
within 1,024 neurons of the target, one delay per source), built through the
bulk API as above, verified and compiled for ``--target`` (``loihi-nahuku``: 32
``loihi`` chips on one board, since 100 M synapses of the ``loihi`` format need about
12 chips) with
the default pipeline (``spikec.passes.compile_for_target(..., copy=False)``: in
place, as ``spikec compile`` does; the place pass's own time is shown, and when
the pipeline stops before it, place is run alone on what the passes left);
the IR's bytes per synapse (``Network.nbytes / num_synapses``) and the
process's peak RSS. The network is generated in a
separate subprocess (untimed) and handed over as a file of sparse matrices.

Each row (each measurement of part 1, too) runs in its own subprocess with a
timeout (and, for part 2, an address-space limit); a stage that fails shows
``error: <first line>``, ``out of memory`` or ``did not finish`` in its cell
and the later stages ``-``.

``python benchmarks/pipeline.py --quick`` is a smoke test (small sizes, no
peers, well under a minute); see ``benchmarks/README.md`` for the full run.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from functools import partial
from typing import Any

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pipeline_nets as nets  # noqa: E402  (this benchmark's networks)
import pipeline_report as rep  # noqa: E402  (its rows and tables)
import sim_throughput as st  # noqa: E402  (the sibling script: network spec, peers, subprocesses)

E2E_PEERS = ("brian2-numpy", "brian2-cpp", "nest")
ROUTES = ("api", "pairs", "spk")


# ---------------------------------------------------------------------------
# One row, stage by stage


def _first_line(exc: BaseException) -> str:
    """The first line of an error: spikec's own message, or the exception type and its text."""
    message = getattr(exc, "message", None)
    lines = str(message if isinstance(message, str) else exc).strip().splitlines() or [""]
    text = lines[0] if isinstance(message, str) else f"{type(exc).__name__}: {lines[0]}"
    return text[:150]


class Stages:
    """Runs a row's stages in order; reports the row after each one (a ``RESULT_TAG``
    line) so that the driver keeps what finished when the process dies or times out."""

    def __init__(self, row: rep.Row) -> None:
        self.row = row
        self.failed = False

    def emit(self) -> None:
        """Print the row as it stands."""
        self.row.peak_rss_mb = max(st._maxrss_mb(), self.row.info.get("binary RSS MiB", 0.0))
        print(st.RESULT_TAG + json.dumps(asdict(self.row)), flush=True)

    def run(self, name: str, fn: Callable[[], Any]) -> Any:
        """Time ``fn()`` as stage ``name``; ``None`` if it (or an earlier stage) failed."""
        if self.failed:
            return None
        self.row.cells[name] = "running"
        self.emit()
        t0 = time.perf_counter()
        try:
            value = fn()
        except MemoryError:
            self.row.cells[name], self.failed = "out of memory", True
            value = None
        except Exception as exc:  # a broken stage is a result of the benchmark, not a crash
            self.row.cells[name], self.failed = f"error: {_first_line(exc)}", True
            value = None
        if self.failed:
            self.row.info[f"{name} failed after s"] = time.perf_counter() - t0
        else:
            self.row.times[name] = time.perf_counter() - t0
            del self.row.cells[name]
        self.emit()
        return value


def _import_spikec() -> Any:
    import spikec
    from spikec import Simulator  # noqa: F401  (loads the simulator's modules too)

    return spikec


def work_spikec(cfg: st.BenchConfig, route: str, spk_mode: str) -> None:
    """Worker: one spikec route end to end (``api``, ``pairs`` or ``spk``)."""
    row = rep.Row(f"spikec-{route}" + (f" ({spk_mode})" if route == "spk" else ""))
    stages = Stages(row)
    spikec = stages.run("import", _import_spikec)
    if spikec is None:
        return
    row.versions = {"spikec": spikec.__version__, "numpy": np.__version__}
    spec = st.make_network(cfg)
    row.info["spec"] = "loops program" if route == "spk" and spk_mode != "explicit" else "sim_throughput"
    raster0 = st.input_rasters(cfg, 1)[0]
    if route == "api":
        classes = nets.sparse_classes(spec)
        row.info["connect calls"] = len(classes)
        net = stages.run("build", partial(nets.build_api, classes, spec.n_cells, spec.n_inputs, spec.v0,
                                          spec.bias))
        in_names = [f"in[{k}]" for k in range(spec.n_inputs)]
    elif route == "pairs":
        net = stages.run("build", partial(nets.build_pairs, spec))
        in_names = [f"in[{k}]" for k in range(spec.n_inputs)]
    else:
        if spk_mode.startswith("loops"):
            spec = nets.spk_loops_spec(cfg, spk_mode == "loops-v0")
            text = nets.spk_loops_program(cfg, spk_mode == "loops-v0")
        else:
            text = nets.spk_explicit_program(spec)
        path = os.path.join(tempfile.mkdtemp(prefix="bench-pipeline-"), "network.spk")
        with open(path, "w") as f:
            f.write(text)
        row.info["program bytes"] = len(text.encode())

        def load() -> Any:
            from spikec.dsl import elaborate, parse

            t0 = time.perf_counter()
            with open(path, encoding="utf-8") as f:
                program = parse(f.read(), path)
            row.info["parse s"] = time.perf_counter() - t0
            return elaborate(program)

        net = stages.run("build", load)
        shutil.rmtree(os.path.dirname(path), ignore_errors=True)
        in_names = [f"x[{k}]" for k in range(spec.n_inputs)]
    if net is not None:
        row.info["same network as the spec"] = nets.same_network(net, spec)
        row.info["IR bytes/synapse"] = net.nbytes / max(1, net.num_synapses)
    stages.run("verify", lambda: spikec.verify(net))
    sim = stages.run("prepare", lambda: spikec.Simulator(net))
    inputs = {name: raster0[k] for k, name in enumerate(in_names)}
    result = stages.run("run", lambda: sim.run(cfg.steps, inputs=inputs, record="all"))
    if result is not None:
        t0 = time.perf_counter()
        sim.run(cfg.steps, inputs=inputs, record="all")
        row.info["run again s"] = time.perf_counter() - t0  # the engine loaded: the run alone
        rows = [result.spikes[name][0] for name in result.spikes]
        row.step_counts = np.sum(rows, axis=0).astype(int).tolist()
        row.spikes, row.events = int(sum(row.step_counts)), int(result.synaptic_events)
    stages.emit()


def work_peer(cfg: st.BenchConfig, peer: str) -> None:
    """Worker: one peer end to end, through ``sim_throughput``'s runner (one run)."""
    row = rep.Row(peer)
    stages = Stages(row)
    module = "nest" if peer == "nest" else "brian2"
    if stages.run("import", lambda: __import__(module)) is None:
        return
    t0 = time.perf_counter()
    try:
        meas = st.run_nest(cfg, 1) if peer == "nest" else st.run_brian2(cfg, peer.split("-")[1], 1)
    except Exception as exc:
        row.cells["build"] = f"error: {_first_line(exc)}"
        row.info["failed after s"] = time.perf_counter() - t0
        stages.emit()
        return
    row.times.update(build=meas.build_s, prepare=meas.compile_s,
                     run=meas.run_walls[0] if meas.run_walls else meas.run_s)
    row.info["loop s"] = meas.run_s
    if meas.run_walls:  # cpp_standalone: the binary's memory, apart from this process's
        row.info["binary RSS MiB"] = meas.peak_rss_mb
    row.spikes, row.events, row.step_counts = meas.spikes, meas.events, meas.step_counts
    row.versions, row.notes = meas.versions, meas.notes
    stages.emit()


def work_warmup() -> None:
    """Worker (untimed): run the numba engine once so its on-disk cache is filled."""
    import spikec

    net = spikec.Network("warmup")
    cells = net.add_neurons("n", 4, bias=0.5)
    net.add_synapses(cells[:-1], cells[1:], 0.5, 2)
    spikec.Simulator(net).run(5, record="all", engine="numba")


def _limit_memory(limit: int) -> None:
    """Cap this process's address space at ``limit`` bytes (0: no cap): a row that needs more
    fails with MemoryError instead of waking the kernel's OOM killer on a shared machine."""
    if limit > 0:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def work_generate(cfg: st.BenchConfig, path: str) -> None:
    """Worker (untimed): the scaling network of ``cfg`` as sparse classes in ``path``."""
    nets.save_classes(path, nets.scaling_network(cfg))
    print(st.RESULT_TAG + json.dumps({"peak_rss_mb": st._maxrss_mb()}), flush=True)


def work_scale(path: str, synapses: int, target_name: str, mem_limit: int) -> None:
    """Worker: one scaling row (build, verify, compile for the target, place)."""
    _limit_memory(mem_limit)
    row = rep.Row(f"{synapses:,}")
    stages = Stages(row)
    import spikec
    from spikec.chip.target import load_target
    from spikec.passes import (
        CompileContext,
        compile_for_target,
        default_pipeline,
        pass_registry,
        run_pipeline,
    )

    row.versions = {"spikec": spikec.__version__, "numpy": np.__version__}
    if importlib.util.find_spec("pymetis") is None:
        row.notes.append(f"{row.name}: no pymetis: the place pass uses its networkx fallback (slow)")
    try:
        classes, spec = nets.load_classes(path)
    except MemoryError:
        row.cells["build"] = "out of memory (loading the input)"
        stages.emit()
        return
    row.info["input RSS MiB"] = st._maxrss_mb()
    net = stages.run("build", partial(nets.build_api, classes, spec["n_cells"], spec["n_inputs"], spec["v0"],
                                      spec["bias"]))
    classes.clear()  # the input matrices: the network holds its own copy
    if net is not None:
        row.info.update(neurons=net.num_neurons, synapses=net.num_synapses,
                        bytes_per_synapse=net.nbytes / max(1, net.num_synapses))
    stages.run("verify", lambda: spikec.verify(net))
    try:
        target = load_target(target_name)
    except Exception as exc:
        row.cells["compile"] = f"error: {_first_line(exc)}"
        stages.emit()
        return
    passes: dict[str, float] = {}
    row.info["passes"] = passes
    # in place, as `spikec compile` does: a user compiling a network this size keeps one copy
    out = stages.run("compile", lambda: compile_for_target(
        net, target, on_timing=lambda t: passes.__setitem__(t.name, t.seconds), copy=False))
    if out is not None:
        row.info.update(synapses_after=out[0].num_synapses, cores=out[1].placement.num_cores)
    order = [p.spelled() for p in default_pipeline(target)]
    if "compile" in row.cells and len(passes) < len(order):  # name the pass that failed
        failed = order[len(passes)]
        row.cells["compile"] = row.cells["compile"].replace("error: ", f"error in {failed}: ", 1)
        if failed == "place":
            row.cells["place"] = "(the compile error)"
    if "place" in passes:
        row.times["place"] = passes["place"]
    elif net is not None and "verify" in row.times and "place" not in row.cells:
        row.info["place alone"] = True  # the pipeline stopped before placing: place the input alone
        stages.failed = False
        place = pass_registry()["place"]()
        stages.run("place", lambda: run_pipeline(net, [place], CompileContext(target), verify_each=False))
    stages.emit()


# ---------------------------------------------------------------------------
# The driver


def parse_size(text: str) -> int:
    """``1M``, ``100k``, ``2.5M`` or ``1000000``."""
    text = text.strip().lower().replace("_", "")
    scale = {"k": 10**3, "m": 10**6, "g": 10**9}.get(text[-1:], 1)
    return int(float(text[:-1] if scale > 1 else text) * scale)


def available_gib() -> float:
    """Memory available now (``MemAvailable``), in GiB; the physical memory if unknown."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) / 2**20
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30


def spawn_row(cmd_args: list[str], name: str, timeout: float, env: dict[str, str]) -> rep.Row:
    """Run one worker subprocess and turn what it left into a row."""
    cmd = [sys.executable, os.path.abspath(__file__), *cmd_args]
    child = st.run_child(cmd, env, timeout)
    if child.payload is None:
        oom = "MemoryError" in child.stderr_tail or child.returncode == -9
        return rep.Row(name, status=f"out of memory ({child.status})" if oom else child.status)
    row = rep.Row(**child.payload)
    if child.status != "ok":
        if child.status.startswith("timed out"):
            why = f"did not finish ({child.status})"
        elif child.returncode == -9:
            why = "killed (SIGKILL: out of memory?)"
        elif "MemoryError" in child.stderr_tail:
            why = "out of memory"
        else:
            why = f"error: {child.stderr_tail[:120]}"
        running = [k for k, v in row.cells.items() if v == "running"]
        for k in running:
            row.cells[k] = why
        if not running:
            row.notes.append(f"{name}: {why}")
        row.info["unfinished"] = True
    return row


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None,
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--neurons", type=int, default=10_000, help="end to end: neurons, 1%% inputs")
    p.add_argument("--synapses", type=int, default=1_000_000, help="end to end: synapses")
    p.add_argument("--steps", type=int, default=1_000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--routes", default=",".join(ROUTES),
                   help="spikec routes: api (connect, sparse matrices), pairs (add_synapses), spk; or none")
    p.add_argument("--spk", choices=("loops", "loops-v0", "explicit"), default="loops",
                   help="the .spk program: loops (same size, hashed wiring), loops-v0 (the same with a"
                        " hashed v0 per neuron, through circuit instances) or explicit (the same network,"
                        " one statement per synapse: slow to parse)")
    p.add_argument("--peers", default=None, help=f"{','.join(st.ALL_PEERS)}, all or none; default"
                   f" {','.join(E2E_PEERS)} (none with --quick)")
    p.add_argument("--rounds", type=int, default=1,
                   help="run the end-to-end rows this many times, interleaved, keeping each row's fastest")
    p.add_argument("--sizes", default=None, help="scaling rows, synapses (e.g. 1M,10M,100M) or none;"
                   " default 1M,10M,100M (10k,100k with --quick)")
    p.add_argument("--synapses-per-neuron", type=float, default=nets.SYNAPSES_PER_NEURON)
    p.add_argument("--target", default="loihi-nahuku",
                   help="target of the scaling rows' compile (default: a 32-chip Loihi board; 100M synapses"
                   " need about 12 Loihi chips)")
    p.add_argument("--timeout", type=float, default=None, help="seconds per end-to-end row (default 1800)")
    p.add_argument("--row-timeout", type=float, default=None,
                   help="seconds per scaling row (default 3600, 120 with --quick)")
    p.add_argument("--mem-limit", type=float, default=None,
                   help="GiB of address space per scaling row (default 80%% of the memory available"
                        " at the start; 0: none)")
    p.add_argument("--quick", action="store_true",
                   help="smoke test: 1,000 neurons, 50,000 synapses, 200 steps, no peers, small scaling rows")
    p.add_argument("--json", metavar="PATH", help="also write every row here")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    p.add_argument("--worker-arg", help=argparse.SUPPRESS)
    return p


def _progress(row: rep.Row) -> None:
    if row.status != "ok":
        print(f"    {row.status}", flush=True)
        return
    done = ", ".join(f"{k} {v:.2f} s" for k, v in row.times.items())
    bad = ", ".join(f"{k}: {v}" for k, v in row.cells.items())
    print(f"    {done}{'; ' if done and bad else ''}{bad}", flush=True)


def _say(what: str) -> None:
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"  running {what} (load average {load}) ...", flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: drive the rows (or be one, with ``--worker``)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    if args.quick:
        args.neurons, args.synapses, args.steps = 1_000, 50_000, 200
    cfg = st.BenchConfig(args.neurons, args.synapses, args.steps, args.seed)
    if args.worker:
        kind, arg = args.worker, args.worker_arg or ""
        if kind.startswith("spikec-"):
            work_spikec(cfg, kind.removeprefix("spikec-"), args.spk)
        elif kind in st.ALL_PEERS:
            work_peer(cfg, kind)
        elif kind == "warmup":
            work_warmup()
        elif kind == "generate":
            neurons, size, limit, path = arg.split(":", 3)
            _limit_memory(int(limit))
            work_generate(st.BenchConfig(int(neurons), int(size), 1, args.seed), path)
        elif kind == "scale":
            size, limit, path = arg.split(":", 2)
            work_scale(path, int(size), args.target, int(limit))
        return 0

    peers = st.parse_list(args.peers if args.peers is not None else
                          ("none" if args.quick else ",".join(E2E_PEERS)), str)
    peers = list(st.ALL_PEERS) if "all" in peers else peers
    routes = st.parse_list(args.routes, str)
    sizes = [parse_size(x) for x in st.parse_list(args.sizes if args.sizes is not None else
                                                  ("10k,100k" if args.quick else "1M,10M,100M"), str)]
    bad = [x for x in peers if x not in st.ALL_PEERS] + [x for x in routes if x not in ROUTES]
    if bad:
        raise SystemExit(f"unknown peer(s) or route(s) {bad}")
    timeout = args.timeout or 1800.0
    row_timeout = args.row_timeout or (120.0 if args.quick else 3600.0)
    mem = args.mem_limit if args.mem_limit is not None else 0.8 * available_gib()
    base = ["--neurons", str(cfg.neurons), "--synapses", str(cfg.synapses), "--steps", str(cfg.steps),
            "--seed", str(cfg.seed), "--spk", args.spk, "--target", args.target]
    env = st.worker_env("spikec-numba")
    print(f"end to end: {cfg.neurons} neurons ({cfg.n_inputs} inputs), {cfg.synapses} synapses, delays"
          f" 1..{st.MAX_DELAY}, {cfg.steps} steps, seed {cfg.seed}; scaling rows: {sizes or 'none'} synapses"
          f" for target {args.target}; python {sys.executable}; {os.cpu_count()} CPUs", flush=True)

    e2e: list[rep.Row] = []
    plan = [f"spikec-{r}" for r in routes] + peers
    if routes:
        st.run_child([sys.executable, os.path.abspath(__file__), "--worker", "warmup"], env, 600)
    for round_ in range(max(1, args.rounds)):
        for slot, name in enumerate(plan):
            missing = st.missing_modules(name) if name in st.NEEDS else []
            if missing:
                row = rep.Row(name, status=f"not installed (no {', '.join(missing)})")
            else:
                _say(f"{name} (round {round_ + 1})" if args.rounds > 1 else name)
                row = spawn_row(["--worker", name, *base], name, timeout, env)
                _progress(row)
            if round_ == 0:
                e2e.append(row)
            elif row.status == "ok" and not row.total(rep.TOTAL) >= e2e[slot].total(rep.TOTAL):
                e2e[slot] = row if np.isfinite(row.total(rep.TOTAL)) else e2e[slot]

    scaling: list[rep.Row] = []
    workdir = tempfile.mkdtemp(prefix="bench-pipeline-")
    for size in sizes:
        neurons = max(2, round(size / args.synapses_per_neuron))
        path = os.path.join(workdir, f"net{size}.npz")
        _say(f"generating the {size:,}-synapse network ({neurons:,} neurons, untimed)")
        limit = int(mem * 2**30)
        gen = st.run_child([sys.executable, os.path.abspath(__file__), "--worker", "generate", "--worker-arg",
                            f"{neurons}:{size}:{limit}:{path}", "--seed", str(cfg.seed)], env, row_timeout)
        if gen.status != "ok":
            scaling.append(rep.Row(f"{size:,}", status=f"generating the network: {gen.status}"))
            print(f"    {gen.status}", flush=True)
            continue
        _say(f"scaling row {size:,}")
        row = spawn_row(["--worker", "scale", "--worker-arg", f"{size}:{limit}:{path}", *base],
                        f"{size:,}", row_timeout, env)
        _progress(row)
        scaling.append(row)
        os.unlink(path)
    shutil.rmtree(workdir, ignore_errors=True)

    versions = rep.print_report(e2e, scaling, os.path.basename(args.target), mem)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"config": asdict(cfg), "argv": argv, "sizes": sizes, "versions": versions,
                       "end_to_end": [asdict(r) for r in e2e], "scaling": [asdict(r) for r in scaling]},
                      f, indent=1)
    ok = all(r.status == "ok" or r.status.startswith("not installed") for r in e2e + scaling)
    return 0 if ok and not any(r.cells for r in e2e + scaling) else 1


if __name__ == "__main__":
    sys.exit(main())
