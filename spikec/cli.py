"""The ``spikec`` command line.

``build_parser()`` builds the argparse tree; ``main(argv)`` runs it and
returns the exit status. User errors (:class:`~spikec.errors.SpikecError`)
print as ``file:line:col: error: message`` without a traceback and exit 1;
anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TextIO

from spikec._version import __version__
from spikec.backends.formats import EMITTERS, emitter
from spikec.errors import SpikecError, UsageError

if TYPE_CHECKING:
    from spikec.ir.network import Network

__all__ = ["build_parser", "main"]

# Show a progress bar when a run is at least this many neuron-steps (and stderr is a terminal).
_PROGRESS_WORK = 20_000_000
# Draw a spike raster in text output up to this many steps.
_RASTER_STEPS = 100
# List at most this many neurons per trial in text output (--json has them all).
_TEXT_NEURONS = 40


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``spikec`` (separate from :func:`main` so it can be embedded)."""
    parser = argparse.ArgumentParser(
        prog="spikec",
        description="Compile and simulate spiking neural circuits (.spk programs, .json and .npz networks).",
    )
    parser.add_argument("--version", action="version", version=f"spikec {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    def add_file(p: argparse.ArgumentParser) -> None:
        p.add_argument("file", metavar="FILE", help="a .spk program or a saved .json or .npz network")
        p.add_argument(
            "--param", action="append", default=[], metavar="NAME=VALUE",
            help="override a top-level 'let' of a .spk program (repeatable)",
        )

    sim = sub.add_parser("sim", help="simulate a network and print its spikes")
    add_file(sim)
    sim.add_argument("--steps", type=int, required=True, help="number of time steps")
    sim.add_argument("--trials", type=int, default=1, help="independent trials (default 1)")
    sim.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    sim.add_argument(
        "--input", action="append", default=[], metavar="NAME=T1,T2,...",
        help="spike steps of an input neuron, every trial (repeatable; overrides file stimuli)",
    )
    sim.add_argument(
        "--record", choices=["probes", "all"], default="probes",
        help="'all' also records every neuron under its full name",
    )
    sim.add_argument("--json", action="store_true", help="print one JSON object")
    sim.add_argument("-o", "--output", metavar="OUT.json", help="also write the JSON result here")
    sim.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    sim.add_argument(
        "--frames", metavar="FILE.npz",
        help="stream the frames of FILE.npz ('images', optional 'labels') one per step into the"
        " inputs (value >= 0.5 spikes) and classify them with the label probe",
    )
    sim.add_argument("--frames-input", metavar="NAME",
                     help="the input array the frames drive (default: every input neuron)")

    check = sub.add_parser(
        "check", help="parse, elaborate and verify; summarize neurons, synapses, probes"
    )
    add_file(check)

    show = sub.add_parser("print", help="print the network in canonical text form")
    add_file(show)

    save = sub.add_parser("save", help="save the network: OUT.npz in the binary format (large networks),"
                          " any other name as JSON (schema spikec-network v1)")
    add_file(save)
    save.add_argument("-o", "--output", required=True, metavar="OUT.json|OUT.npz")
    _add_chip_commands(sub, add_file)
    return parser


def _add_chip_commands(sub: Any, add_file: Any) -> None:
    """The ``compile``, ``stats`` and ``run`` subcommands (chip targets)."""

    def add_pipeline(p: argparse.ArgumentParser, default_target: str | None = "generic") -> None:
        p.add_argument("--target", default=default_target, required=default_target is None,
                       metavar="T", help="a built-in target (generic, loihi, loihi-nahuku, truenorth,"
                       " sanafe-loihi, sanafe-truenorth) or a target .toml file")
        p.add_argument("--passes", metavar="A,B,C", help="the pass pipeline (default: the target's)")
        p.add_argument("--exact", action="store_true",
                       help="refuse (rather than report) anything that could change a spike")
        p.add_argument("--keep", action="append", default=None, metavar="NAME",
                       help="a neuron whose spikes must be kept (repeatable; default: the probes)")
        p.add_argument("--no-verify", action="store_true", help="do not verify between passes")
        p.add_argument("--time-passes", action="store_true", help="print each pass's time (stderr)")
        p.add_argument("--print-ir-after-all", action="store_true",
                       help="print the IR after each pass (stderr)")

    comp = sub.add_parser("compile", help="compile for a chip target and write a netlist (or SANA-FE/NIR)")
    add_file(comp)
    add_pipeline(comp)
    comp.add_argument("-o", "--output", required=True, metavar="OUT",
                      help="; ".join(f"OUT{f.extensions[0]}: {f.summary}" for f in EMITTERS))
    comp.add_argument("--emit", choices=[f.name for f in EMITTERS],
                      help="output format (default: from the output's extension)")

    stats = sub.add_parser("stats", help="neurons, synapses, cores, fill, traffic and energy on a target")
    add_file(stats)
    add_pipeline(stats)
    stats.add_argument("--activity", type=float, default=0.1,
                       help="assumed spikes per neuron per step (default 0.1)")
    stats.add_argument("--steps", type=int, default=0,
                       help="measure activity by simulating this many steps (file stimuli)")
    stats.add_argument("--json", action="store_true", help="print one JSON object")

    solve = sub.add_parser(
        "solve", help="run a diffusion problem's spiking solver and compare it with the exact solution")
    add_file(solve)
    solve.add_argument("--trials", type=int, default=1, help="independent trials, averaged (default 1)")
    solve.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    solve.add_argument("--trial-offset", type=int, default=0, metavar="K",
                       help="run trials K, K+1, ... of the seed (shards add up to one run)")
    solve.add_argument("--field", metavar="NAME", help="which diffusion statement (default: the only one)")
    solve.add_argument("--csv", metavar="OUT.csv",
                       help="write the mean field and the references per step and node")
    solve.add_argument("--npz", metavar="OUT.npz", help="write every trial's counts and the references")
    solve.add_argument("--plot", metavar="OUT.png", help="draw the field next to the exact solution")
    solve.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    solve.add_argument("-q", "--quiet", action="store_true", help="no progress bar")

    run = sub.add_parser("run", help="compile for a SANA-FE target and run it in SANA-FE")
    add_file(run)
    add_pipeline(run, default_target=None)
    run.add_argument("--steps", type=int, required=True, help="number of time steps")
    run.add_argument("--input", action="append", default=[], metavar="NAME=T1,T2,...",
                     help="spike steps of an input neuron (repeatable; overrides file stimuli)")
    run.add_argument("--compare", action="store_true",
                     help="also simulate the source network with spikec and compare spikes")
    run.add_argument("--json", action="store_true", help="print one JSON object")


def _parse_params(items: Sequence[str]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for item in items:
        name, sep, text = item.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"--param expects NAME=VALUE, got {item!r}")
        text = text.strip()
        value: Any
        if text.lower() in ("true", "false"):
            value = text.lower() == "true"
        else:
            try:
                value = int(text)
            except ValueError:
                try:
                    value = float(text)
                except ValueError:
                    raise UsageError(
                        f"--param {name}: expected a number or true/false, got {text!r}"
                    ) from None
        params[name.strip()] = value
    return params


def _parse_inputs(items: Sequence[str]) -> dict[str, list[int]]:
    inputs: dict[str, list[int]] = {}
    for item in items:
        name, sep, text = item.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"--input expects NAME=T1,T2,..., got {item!r}")
        steps = []
        for part in text.split(","):
            part = part.strip()
            if not part:
                continue
            try:
                step = int(part)
            except ValueError:
                raise UsageError(
                    f"--input {name}: spike steps must be integers, got {part!r}"
                ) from None
            if step < 0:
                raise UsageError(f"--input {name}: spike steps must be >= 0, got {step}")
            steps.append(step)
        inputs.setdefault(name.strip(), []).extend(steps)
    return inputs


def _open(args: argparse.Namespace) -> Network:
    from spikec.api import open_network

    return open_network(args.file, **_parse_params(args.param))


def _sim_document(net: Network, args: argparse.Namespace, result: Any) -> dict[str, Any]:
    from spikec.ir.decoders import decode_probes, probe_spike_names

    spikes: dict[str, list[list[int]]] = {}
    if net.probes:
        for probe in net.probes:
            if probe.decoder is None:
                for label, neuron in probe_spike_names(probe):
                    spikes[label] = result.spike_times(neuron)
    if not net.probes or args.record == "all":
        for name in result.spikes:
            spikes.setdefault(name, result.spike_times(name))
    return {
        "steps": result.steps,
        "trials": result.trials,
        "seed": result.seed,
        "spikes": spikes,
        "probes": decode_probes(net, result.spikes),
    }


def _print_text(doc: dict[str, Any], net: Network, out: TextIO) -> None:
    steps, trials = doc["steps"], doc["trials"]
    out.write(
        f"{net.name}: {net.num_neurons} neurons, {net.num_synapses} synapses;"
        f" {steps} steps x {trials} trial{'s' if trials != 1 else ''}, seed {doc['seed']}\n"
    )
    names = list(doc["spikes"])[:_TEXT_NEURONS]
    hidden = len(doc["spikes"]) - len(names)
    width = max([len(n) for n in names] + [6])
    shown = min(trials, 4)
    for b in range(shown):
        if trials > 1:
            out.write(f"\ntrial {b}\n")
        if names:
            out.write(f"  {'neuron'.ljust(width)}  spike steps\n")
        for name in names:
            times = doc["spikes"][name][b]
            text = ", ".join(map(str, times[:20])) + (" ..." if len(times) > 20 else "")
            out.write(f"  {name.ljust(width)}  {text or '-'}\n")
        if 0 < steps <= _RASTER_STEPS and names:
            ruler = "".join(str(t // 10 % 10) if t % 10 == 0 else " " for t in range(steps))
            out.write(f"\n  {''.ljust(width)}  {ruler}\n")
            for name in names:
                row = ["."] * steps
                for t in doc["spikes"][name][b]:
                    row[t] = "|"
                out.write(f"  {name.ljust(width)}  {''.join(row)}\n")
    if hidden:
        out.write(f"\n({hidden} more recorded neurons; use --json for all)\n")
    if trials > shown:
        out.write(f"\n({trials - shown} more trials; use --json for all)\n")
    for label, values in doc["probes"].items():
        out.write(f"\n{label}:\n")
        for b, value in enumerate(values[:shown]):
            prefix = f"  trial {b}: " if trials > 1 else "  "
            out.write(f"{prefix}{json.dumps(value)}\n")


def _write_json_output(args: argparse.Namespace, doc: dict[str, Any]) -> None:
    """Write ``doc`` to ``-o FILE`` when given, atomically."""
    from spikec.ir.serialize import write_text_atomic

    if args.output:
        try:
            write_text_atomic(args.output, json.dumps(doc) + "\n")
        except OSError as exc:
            raise UsageError(f"cannot write {args.output}: {exc.strerror or exc}") from None


def _cmd_sim(args: argparse.Namespace, out: TextIO) -> int:
    from spikec.backends.simulator import simulate

    net = _open(args)
    if args.frames:
        return _sim_frames(net, args, out)
    inputs = _parse_inputs(args.input)
    record: Any = "all" if args.record == "all" else None
    work = max(args.steps, 0) * max(args.trials, 1) * net.num_neurons
    progress = not args.quiet and sys.stderr.isatty() and work >= _PROGRESS_WORK
    result = simulate(
        net, args.steps, inputs=inputs, seed=args.seed, trials=args.trials,
        record=record, progress=progress,
    )
    doc = _sim_document(net, args, result)
    _write_json_output(args, doc)
    if args.json:
        out.write(json.dumps(doc) + "\n")
    else:
        _print_text(doc, net, out)
    return 0


def _sim_frames(net: Network, args: argparse.Namespace, out: TextIO) -> int:
    """``sim --frames``: classify labelled frames streamed one per step."""
    import numpy as np

    from spikec.backends.deepnet_eval import classify_frames

    if args.input:
        raise UsageError("--frames drives the inputs itself; leave out --input")
    try:
        with np.load(args.frames) as data:
            found = {k: np.asarray(data[k]) for k in data.files}
    except (OSError, ValueError) as exc:
        raise UsageError(f"--frames {args.frames}: cannot read it as .npz ({exc})") from None
    images = found.get("images", found.get("x"))
    if images is None:
        raise UsageError(f"--frames {args.frames}: no 'images' array (found: {', '.join(found) or 'none'})")
    labels = found.get("labels", found.get("y"))
    names = None
    if args.frames_input:
        names = [n for n in net.inputs() if n == args.frames_input or n.startswith(args.frames_input + "[")]
        if not names:
            raise UsageError(f"--frames-input {args.frames_input}: no such input neurons")
    res = classify_frames(net, images, labels, steps=args.steps, inputs=names)
    conf = res.confusion()
    doc: dict[str, Any] = {
        "steps": res.steps, "frames": len(res.predicted), "latency": res.latency, "scored": res.scored,
        "predicted": res.predicted.tolist(), "accuracy": res.accuracy,
        "confusion": None if conf is None else conf.tolist(),
    }
    _write_json_output(args, doc)
    if args.json:
        out.write(json.dumps(doc) + "\n")
        return 0
    out.write(f"{net.name}: {len(res.predicted)} frames, one per step; latency {res.latency} steps;"
              f" {res.scored} classified within {res.steps} steps\n")
    if res.accuracy is not None and conf is not None:
        out.write(f"accuracy: {res.accuracy:.4f} ({int(np.trace(conf))}/{res.scored})\n")
        out.write("confusion (rows: label, columns: predicted):\n")
        width = max(3, len(str(int(conf.max()))) + 1)
        out.write("     " + "".join(f"{c:>{width}}" for c in range(conf.shape[1])) + "\n")
        for c, row in enumerate(conf):
            out.write(f"  {c:>2} " + "".join(f"{v:>{width}}" for v in row) + "\n")
    else:
        out.write("predicted: " + " ".join(map(str, res.predicted.tolist()[:100])) + "\n")
    return 0


def _cmd_check(args: argparse.Namespace, out: TextIO) -> int:
    from spikec.ir.analysis import input_latency
    from spikec.ir.verify import verify

    net = _open(args)
    verify(net)
    inputs = net.inputs()
    out.write(f"{args.file}: ok\n")
    out.write(f"  neurons:  {net.num_neurons} ({len(inputs)} inputs)\n")
    out.write(f"  synapses: {net.num_synapses}\n")
    shown = ", ".join(inputs[:12]) + (", ..." if len(inputs) > 12 else "")
    out.write(f"  inputs:   {shown or '-'}\n")
    latency = input_latency(net)
    if net.probes:
        out.write("  probes (earliest latency from the inputs, in steps):\n")
        width = max(len(p.label) for p in net.probes)
        for probe in net.probes:
            lat = [latency.get(n) for n in probe.neurons]
            known = [x for x in lat if x is not None]
            if not known:
                text = "unreachable from the inputs"
            elif min(known) == max(known) and len(known) == len(lat):
                text = f"{known[0]}"
            else:
                text = f"{min(known)}..{max(known)}"
                if len(known) < len(lat):
                    text += f" ({len(lat) - len(known)} unreachable)"
            out.write(f"    {probe.label.ljust(width)}  {text}\n")
    else:
        out.write("  probes:   - (sim records every neuron)\n")
    return 0


def _cmd_print(args: argparse.Namespace, out: TextIO) -> int:
    from spikec.ir.printer import format_network

    out.write(format_network(_open(args)))
    return 0


def _cmd_save(args: argparse.Namespace, out: TextIO) -> int:
    from spikec.ir.serialize import save

    net = _open(args)
    save(net, args.output)
    out.write(f"wrote {args.output}: {net.num_neurons} neurons, {net.num_synapses} synapses\n")
    return 0


def _compile(args: argparse.Namespace, keep_source: bool = True) -> tuple[Network, Network, Any]:
    """Open the file and run the pipeline; returns (source, compiled, context). Without
    ``keep_source`` the network is compiled in place (one copy of it in memory; the
    "source" returned is then the compiled network)."""
    from spikec.chip.target import load_target
    from spikec.passes import compile_for_target, parse_pipeline

    net = _open(args)
    target = load_target(args.target)
    passes = parse_pipeline(args.passes) if args.passes else None
    timings: list[Any] = []
    print_ir = sys.stderr if args.print_ir_after_all else None
    out, ctx = compile_for_target(
        net, target, passes, exact=args.exact, keep=args.keep, verify_each=not args.no_verify,
        print_ir=print_ir, on_timing=timings.append, copy=keep_source,
    )
    if args.time_passes:
        total = sum(t.seconds for t in timings) or 1e-12
        width = max([len(t.name) for t in timings] + [4])
        sys.stderr.write(f"{'pass'.ljust(width)}  {'seconds':>9}  {'%':>5}"
                         f"  {'neurons':>9}  {'synapses':>9}\n")
        for t in timings:
            sys.stderr.write(f"{t.name.ljust(width)}  {t.seconds:9.4f}  {100 * t.seconds / total:5.1f}"
                             f"  {t.neurons:9d}  {t.synapses:9d}\n")
        sys.stderr.write(f"{'total'.ljust(width)}  {total:9.4f}\n")
    for d in ctx.diagnostics[:20]:
        sys.stderr.write(d.render() + "\n")
    if len(ctx.diagnostics) > 20:
        sys.stderr.write(f"note: ({len(ctx.diagnostics) - 20} more notes)\n")
    return net, out, ctx


def _cmd_compile(args: argparse.Namespace, out: TextIO) -> int:
    fmt = emitter(args.output, args.emit)
    _, net, ctx = _compile(args, keep_source=False)
    written = fmt.load()(args.output, net, ctx.placement, ctx.target, ctx.pipeline, ctx.diagnostics)
    cores = ctx.placement.num_cores if ctx.placement is not None else 0
    out.write(f"wrote {', '.join(written)}: {net.num_neurons} neurons, {net.num_synapses} synapses"
              f" on {cores} core{'s' if cores != 1 else ''} (target {ctx.target.name})\n")
    return 0


def _cmd_stats(args: argparse.Namespace, out: TextIO) -> int:
    from spikec.chip.stats import network_stats

    _, net, ctx = _compile(args, keep_source=False)
    activity: Any = args.activity
    if args.steps > 0:
        from spikec.backends.simulator import simulate

        result = simulate(net, args.steps, record="all")
        activity = {name: float(s.mean()) for name, s in result.spikes.items()}
    st = network_stats(net, ctx.placement, ctx.target, activity)
    if args.json:
        out.write(json.dumps(st.to_dict()) + "\n")
        return 0
    t = ctx.target
    out.write(f"{args.file} on {t.name}: {st.neurons} neurons ({st.inputs} inputs), {st.synapses} synapses,"
              f" {st.cores} core{'s' if st.cores != 1 else ''}\n")
    out.write("  core  neurons          synapses         axons\n")
    for f in st.fill[:32]:
        def cell(v: int, lim: int | None) -> str:
            return f"{v:>7}" + (f" ({100 * v / lim:5.1f}%)" if lim else "         ")
        out.write(f"  {f.core:>4}  {cell(f.neurons, t.neurons_per_core)}"
                  f"  {cell(f.synapses, t.synapses_per_core)}"
                  f"  {cell(f.axons, t.axons_per_core)}\n")
    if len(st.fill) > 32:
        out.write(f"  ({len(st.fill) - 32} more cores; use --json)\n")
    how = f"measured over {args.steps} steps" if args.steps > 0 else f"activity {args.activity:g} per neuron"
    out.write(f"per step ({how}): {st.spikes_per_step:.4g} spikes, {st.synaptic_events_per_step:.4g}"
              f" synaptic events, {st.messages_per_step:.4g} inter-core messages,"
              f" {st.hops_per_step:.4g} hops\n")
    out.write(f"energy per step: {st.energy_per_step:.4g} J;"
              f" latency per step: {st.latency_per_step:.4g} s\n")
    return 0


def _cmd_run(args: argparse.Namespace, out: TextIO) -> int:
    from spikec.backends.sanafe import run_sanafe

    source, net, ctx = _compile(args)
    inputs = _parse_inputs(args.input)
    result = run_sanafe(net, ctx.placement, ctx.target, args.steps, inputs)
    names = [n for n in source.graph.nodes if n in result.spikes]
    if source.probes:
        probed = {n for p in source.probes for n in p.neurons}
        names = [n for n in names if n in probed]
    doc: dict[str, Any] = {
        "target": ctx.target.name, "steps": args.steps,
        "spikes": {n: result.spike_times(n)[0] for n in names},
        "energy": result.energy, "sim_time": result.sim_time,
    }
    if args.compare:
        from spikec.backends.simulator import simulate

        ref = simulate(source, args.steps, inputs=inputs, record=names)
        doc["differs"] = [n for n in names if not (ref.spikes[n][0] == result.spikes[n][0]).all()]
    if args.json:
        out.write(json.dumps(doc) + "\n")
        return 0
    out.write(f"{args.file} in SANA-FE ({ctx.target.name}): {args.steps} steps,"
              f" {net.num_neurons} neurons on {ctx.placement.num_cores} core(s)\n")
    width = max([len(n) for n in names] + [6])
    for n in names[:_TEXT_NEURONS]:
        times = doc["spikes"][n]
        out.write(f"  {n.ljust(width)}  {', '.join(map(str, times[:20])) or '-'}\n")
    energy = doc["energy"].get("total", 0.0)
    parts = ", ".join(f"{k} {v:.3g}" for k, v in doc["energy"].items() if k != "total")
    out.write(f"energy: {energy:.4g} J ({parts})\n")
    per_step = result.sim_time / max(args.steps, 1)
    out.write(f"simulated time: {result.sim_time:.4g} s ({per_step:.4g} s per step)\n")
    if args.compare:
        out.write("spikes identical to spikec's simulator\n" if not doc["differs"] else
                  f"spikes differ from spikec's simulator for {len(doc['differs'])} neuron(s):"
                  f" {', '.join(doc['differs'][:10])}\n")
        return 0 if not doc["differs"] else 1
    return 0


def _cmd_solve(args: argparse.Namespace, out: TextIO) -> int:
    from spikec.diffusion import report
    from spikec.diffusion.solver import solve

    for what in ("trials",):
        if getattr(args, what) < 1:
            raise UsageError(f"--{what} must be >= 1, got {getattr(args, what)}")
    if args.trial_offset < 0:
        raise UsageError(f"--trial-offset must be >= 0, got {args.trial_offset}")
    report.check_outputs(args.csv, args.npz, args.plot)
    net = _open(args)
    progress = not args.quiet and not args.json and sys.stderr.isatty()
    sol = solve(net, args.field, trials=args.trials, seed=args.seed, trial_offset=args.trial_offset,
                progress=progress)
    refs = report.references(sol.problem)
    text = io.StringIO()
    summary = report.report(sol, refs, text, f"{args.file}: ")
    for path, writer in ((args.csv, report.write_csv), (args.npz, report.write_npz),
                         (args.plot, report.plot)):
        if path:
            writer(path, sol, refs)
            if not args.json:
                text.write(f"wrote {path}\n")
    if args.json:
        out.write(json.dumps(summary) + "\n")
    else:
        out.write(text.getvalue())
    return 0


_COMMANDS = {"sim": _cmd_sim, "check": _cmd_check, "print": _cmd_print, "save": _cmd_save,
             "compile": _cmd_compile, "stats": _cmd_stats, "run": _cmd_run, "solve": _cmd_solve}


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``spikec`` with ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    args = build_parser().parse_args(argv)
    try:
        return _COMMANDS[args.command](args, sys.stdout)
    except SpikecError as exc:
        sys.stderr.write(exc.render() + "\n")
        for note in getattr(exc, "__notes__", ()):
            sys.stderr.write(f"note: {note}\n")  # e.g. which circuit instance failed
        return 1
    except BrokenPipeError:
        # `spikec sim ... | head`: the reader left; exit quietly like other Unix tools.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
