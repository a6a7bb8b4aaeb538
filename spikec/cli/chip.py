"""The chip subcommands: ``compile``, ``stats``, ``run`` (SANA-FE) and ``solve`` (diffusion)."""

from __future__ import annotations

import argparse
import io
import json
import sys
from typing import TYPE_CHECKING, Any, TextIO

from spikec.backends.formats import emitter
from spikec.cli.options import check_output, parse_inputs, warn_late_inputs
from spikec.cli.sim import open_file
from spikec.errors import TargetError

if TYPE_CHECKING:
    from spikec.ir.network import Network

__all__ = ["cmd_compile", "cmd_stats", "cmd_run", "cmd_solve"]

_TEXT_NEURONS = 40


def _compile(args: argparse.Namespace, keep_source: bool = True, sanafe: bool = False
             ) -> tuple[Network, Network, Any]:
    """Open the file and run the pipeline; returns (source, compiled, context). Without
    ``keep_source`` the network is compiled in place (one copy of it in memory; the
    "source" returned is then the compiled network). ``sanafe`` refuses a target
    without a SANA-FE architecture before the file is opened."""
    from spikec.chip.target import load_target
    from spikec.cli.parser import SANAFE_TARGETS
    from spikec.passes import compile_for_target, parse_pipeline

    target = load_target(args.target)
    if sanafe and target.sanafe_arch is None:
        raise TargetError(f"--target {args.target}: target '{target.name}' has no SANA-FE architecture;"
                          f" spikec run takes {', '.join(SANAFE_TARGETS)} or a .toml file with [sanafe] arch")
    passes = parse_pipeline(args.passes) if args.passes is not None else None
    bound = getattr(args, "max_p_error", None)
    if bound is not None:  # the noise-map pass's option, unless the pipeline sets it
        from spikec.passes import default_pipeline

        passes = passes if passes is not None else default_pipeline(target)
        for p in passes:
            if p.name == "noise-map" and getattr(p, "max_p_error", 0.0) < 0.0:
                p.max_p_error = bound  # type: ignore[attr-defined]
    net = open_file(args)
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


def cmd_compile(args: argparse.Namespace, out: TextIO) -> int:
    """``spikec compile``."""
    fmt = emitter(args.output, args.emit)
    check_output(args.output, "-o")
    if fmt.name == "sanafe":  # the architecture file is written beside the network
        from pathlib import Path

        check_output(str(Path(args.output).with_name(Path(args.output).stem + ".arch.yaml")), "-o (arch)")
    _, net, ctx = _compile(args, keep_source=False)
    written = fmt.load()(args.output, net, ctx.placement, ctx.target, ctx.pipeline, ctx.diagnostics)
    cores = ctx.placement.num_cores if ctx.placement is not None else 0
    out.write(f"wrote {', '.join(written)}: {net.num_neurons} neurons, {net.num_synapses} synapses"
              f" on {cores} core{'s' if cores != 1 else ''} (target {ctx.target.name})\n")
    return 0


def cmd_stats(args: argparse.Namespace, out: TextIO) -> int:
    """``spikec stats``."""
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

    def cell(v: int, lim: int | None) -> str:
        return f"{v:>7}" + (f" ({100 * v / lim:5.1f}%)" if lim else "         ")

    for f in st.fill[:32]:
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
    if any(p.decoder == "field" for p in net.probes):  # a diffusion program: solve the source once
        out.write(_walker_step_line(open_file(args), ctx.target))
    return 0


def _walker_step_line(source: Network, target: Any) -> str:
    """For a diffusion program: one solve (one trial, seed 0) priced per walker step by the
    same energy model, as ``spikec solve`` reports it (:func:`walker_step_cost`)."""
    from spikec.backends.diffusion import solve, walker_step_cost
    from spikec.errors import SpikecError

    try:
        sol = solve(source, trials=1, seed=0)
        cost = walker_step_cost(sol, source, target)
    except SpikecError as err:
        return f"energy per walker step: not measured ({err.message})\n"
    per = cost["per_walker_step"]
    return (f"energy per walker step (one trial, seed 0, as spikec solve counts it): {per['energy']:.4g} J"
            f" ({per['neuron_updates']:.3g} neuron updates, {per['synaptic_events']:.3g} synaptic events,"
            f" {per['spikes']:.3g} spikes per walker step)\n")


def cmd_run(args: argparse.Namespace, out: TextIO) -> int:
    """``spikec run``."""
    from spikec.backends.sanafe import run_sanafe

    inputs = parse_inputs(args.input)
    source, net, ctx = _compile(args, sanafe=True)
    warn_late_inputs(inputs, args.steps)
    result = run_sanafe(net, ctx.placement, ctx.target, args.steps, inputs, seed=args.seed)
    names = [n for n in source.names() if n in result.spikes]
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

        # A stochastic circuit runs in SANA-FE on noise drawn from spikec's streams for the
        # compiled network (its realised probabilities), so that is the network to compare with.
        stochastic = bool((net.p < 1.0).any())
        ref = simulate(net if stochastic else source, args.steps, inputs=inputs, record=names,
                       seed=args.seed)
        doc["differs"] = [n for n in names if not (ref.spikes[n][0] == result.spikes[n][0]).all()]
        if stochastic and not ctx.target.noise_reproducible:
            # the chip's generator cannot be seeded (SANA-FE's std::rand): only counts compare
            doc["in_distribution"] = True
            doc["counts"] = {n: [int(result.spikes[n][0].sum()), int(ref.spikes[n][0].sum())] for n in names}
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
    if args.compare and doc.get("in_distribution"):
        out.write(f"target '{ctx.target.name}' draws from a generator spikec cannot seed, so its stochastic"
                  " neurons match spikec's only in distribution; spike counts (chip / spikec):\n")
        for n in names[:_TEXT_NEURONS]:
            chip, ours = doc["counts"][n]
            out.write(f"  {n.ljust(width)}  {chip} / {ours}\n")
        return 0
    if args.compare:
        out.write("spikes identical to spikec's simulator\n" if not doc["differs"] else
                  f"spikes differ from spikec's simulator for {len(doc['differs'])} neuron(s):"
                  f" {', '.join(doc['differs'][:10])}\n")
        return 0 if not doc["differs"] else 1
    return 0


def cmd_solve(args: argparse.Namespace, out: TextIO) -> int:
    """``spikec solve``."""
    from spikec.backends.diffusion import solve
    from spikec.cli import report

    for path, flag in ((args.csv, "--csv"), (args.npz, "--npz"), (args.plot, "--plot")):
        check_output(path, flag)
    report.check_outputs(args.csv, args.npz, args.plot)
    net = open_file(args)
    if args.convergence:
        from spikec.cli.convergence import cmd_convergence

        return cmd_convergence(args, net, out)
    from spikec.chip.target import load_target

    target = None if args.target == "none" else load_target(args.target)  # a bad --target: before the run
    progress = not args.quiet and not args.json and sys.stderr.isatty()
    from spikec.backends.ensemble import open_client

    with open_client(args.workers, args.scheduler) as client:
        sol = solve(net, args.field, trials=args.trials, seed=args.seed, trial_offset=args.trial_offset,
                    progress=progress, client=client)
    cost: Any = None
    if target is not None:
        from spikec.backends.diffusion import walker_step_cost
        from spikec.errors import SpikecError

        try:
            cost = walker_step_cost(sol, net, target)
        except SpikecError as err:  # too big to count or to place: the solve still reports
            cost = err.message
    refs = report.references(sol.problem)
    text = io.StringIO()
    summary = report.report(sol, refs, text, f"{args.file}: ", cost=cost)
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
