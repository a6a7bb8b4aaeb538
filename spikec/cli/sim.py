"""The ``sim``, ``check``, ``print`` and ``save`` subcommands and the text form of a run."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any, TextIO

from spikec.cli.options import (
    check_output,
    memory_limit,
    parse_inputs,
    parse_params,
    read_npz,
    warn_late_inputs,
)
from spikec.errors import UsageError, fmt_count

if TYPE_CHECKING:
    import numpy as np

    from spikec.ir.network import Network

__all__ = ["open_file", "write_json_output", "cmd_sim", "cmd_check", "cmd_print", "cmd_save"]

# Show a progress bar when a run is at least this many neuron-steps (and stderr is a terminal).
_PROGRESS_WORK = 20_000_000
# Draw a spike raster in text output up to this many steps.
_RASTER_STEPS = 100
# List at most this many neurons per trial in text output (--json has them all).
_TEXT_NEURONS = 40
# Show at most this many spike steps (or potentials) of a neuron per line of text output.
_TEXT_VALUES = 20


def open_file(args: argparse.Namespace) -> Network:
    """The network of ``args.file`` with its ``--param`` overrides."""
    from spikec.api import open_network

    return open_network(args.file, **parse_params(args.param))


def write_json_output(args: argparse.Namespace, doc: dict[str, Any]) -> None:
    """Write ``doc`` to ``-o FILE`` when given, atomically."""
    from spikec.ir.files import write_text_atomic

    if args.output:
        try:
            write_text_atomic(args.output, json.dumps(doc) + "\n")
        except OSError as exc:
            raise UsageError(f"cannot write {args.output}: {exc.strerror or exc}") from None


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
    doc = {
        "steps": result.steps,
        "trials": result.trials,
        "seed": result.seed,
        "spikes": spikes,
        "probes": decode_probes(net, result.spikes),
    }
    if args.trial_offset:
        doc["trial_offset"] = args.trial_offset
    if args.potentials:
        doc["potentials"] = {name: v.tolist() for name, v in result.potentials.items()}
    return doc


def _print_text(doc: dict[str, Any], net: Network, out: TextIO) -> None:
    steps, trials = doc["steps"], doc["trials"]
    first = f", trials from {doc['trial_offset']}" if doc.get("trial_offset") else ""
    out.write(
        f"{net.name}: {net.num_neurons} neurons, {net.num_synapses} synapses;"
        f" {steps} steps x {trials} trial{'s' if trials != 1 else ''}, seed {doc['seed']}{first}\n"
    )
    names = list(doc["spikes"])[:_TEXT_NEURONS]
    hidden = len(doc["spikes"]) - len(names)
    potentials = doc.get("potentials", {})
    width = max([len(n) for n in names] + [len(n) for n in list(potentials)[:_TEXT_NEURONS]] + [6])
    shown = min(trials, 4)
    for b in range(shown):
        if trials > 1:
            out.write(f"\ntrial {b}\n")
        if names:
            out.write(f"  {'neuron'.ljust(width)}  spike steps\n")
        for name in names:
            times = doc["spikes"][name][b]
            text = ", ".join(map(str, times[:_TEXT_VALUES])) + (" ..." if len(times) > _TEXT_VALUES else "")
            out.write(f"  {name.ljust(width)}  {text or '-'}\n")
        if 0 < steps <= _RASTER_STEPS and names:
            ruler = "".join(str(t // 10 % 10) if t % 10 == 0 else " " for t in range(steps))
            out.write(f"\n  {''.ljust(width)}  {ruler}\n")
            for name in names:
                row = ["."] * steps
                for t in doc["spikes"][name][b]:
                    row[t] = "|"
                out.write(f"  {name.ljust(width)}  {''.join(row)}\n")
        if potentials:
            out.write(f"\n  {'neuron'.ljust(width)}  potential at steps 0, 1, ...\n")
            for name in list(potentials)[:_TEXT_NEURONS]:
                values = potentials[name][b]
                text = ", ".join(f"{v:.6g}" for v in values[:_TEXT_VALUES])
                out.write(f"  {name.ljust(width)}  {text}{' ...' if len(values) > _TEXT_VALUES else ''}\n")
    if hidden:
        out.write(f"\n({hidden} more recorded neurons; use --json for all)\n")
    if trials > shown:
        out.write(f"\n({trials - shown} more trials; use --json for all)\n")
    for label, values in doc["probes"].items():
        out.write(f"\n{label}:\n")
        for b, value in enumerate(values[:shown]):
            prefix = f"  trial {b}: " if trials > 1 else "  "
            out.write(f"{prefix}{json.dumps(value)}\n")


def _read_currents(path: str, steps: int, trials: int) -> dict[str, np.ndarray]:
    """``--currents FILE.npz``: one array per neuron, named by it; each a number, or of
    shape (steps,) or (trials, steps) (checked before the array is read)."""
    allowed = [(), (steps,), (trials, steps)]

    def check(name: str, shape: tuple[int, ...], dtype: Any) -> None:
        if shape not in allowed:
            raise UsageError(f"--currents {path}: array '{name}': shape {shape} is none of (), ({steps},),"
                             f" ({trials}, {steps}) (a number, one per step, one per trial and step)")

    arrays = read_npz(path, "--currents", check)
    import numpy as np

    for name, arr in arrays.items():
        if not np.isfinite(arr).all():
            raise UsageError(f"--currents {path}: array '{name}': values must be finite")
    return arrays


def cmd_sim(args: argparse.Namespace, out: TextIO) -> int:
    """``spikec sim``."""
    from spikec.backends.simulator import simulate

    check_output(args.output, "-o")
    if args.frames and (args.currents or args.potentials or args.trials != 1 or args.trial_offset
                        or args.workers or args.scheduler):
        raise UsageError("--frames runs one trial of its own; leave out --currents, --potentials,"
                         " --trials, --trial-offset, --workers and --scheduler")
    net = open_file(args)
    if args.frames:
        return _sim_frames(net, args, out)
    inputs = parse_inputs(args.input)
    warn_late_inputs(inputs, args.steps)
    currents = _read_currents(args.currents, args.steps, args.trials) if args.currents else None
    record: Any = "all" if args.record == "all" else None
    work = args.steps * args.trials * net.num_neurons
    progress = not args.quiet and sys.stderr.isatty() and work >= _PROGRESS_WORK
    from spikec.backends.ensemble import open_client

    with open_client(args.workers, args.scheduler) as client:
        raw = not net.probes or record or args.potentials or any(p.decoder is None for p in net.probes)
        if client is not None and not raw:  # decoded probes only: reduced on the workers
            return _sim_reduced(net, args, client, inputs, currents, out)
        result = simulate(
            net, args.steps, inputs=inputs, currents=currents, seed=args.seed, trials=args.trials,
            record=record, potentials=args.potentials, trial_offset=args.trial_offset, progress=progress,
            engine=args.engine, client=client,
        )
    from spikec.backends.results import check_output as check_output_memory

    check_output_memory(net, result, every=args.record == "all")  # before any list is built
    return _emit(_sim_document(net, args, result), net, args, out)


def _emit(doc: dict[str, Any], net: Network, args: argparse.Namespace, out: TextIO) -> int:
    """Write the result document where ``args`` says (``-o``) and print it (JSON or text)."""
    write_json_output(args, doc)
    if args.json:
        out.write(json.dumps(doc) + "\n")
    else:
        _print_text(doc, net, out)
    return 0


def _sim_reduced(net: Network, args: argparse.Namespace, client: Any, inputs: Any, currents: Any,
                 out: TextIO) -> int:
    """``sim --workers/--scheduler`` of a network whose output is decoded probes only: the
    workers decode their shards and send no raster (the same document as one process)."""
    from spikec.api import simulate

    progress = not args.quiet and sys.stderr.isatty()
    result: Any = simulate(net, args.steps, inputs=inputs, currents=currents, seed=args.seed,
                           trials=args.trials, trial_offset=args.trial_offset, progress=progress,
                           engine=args.engine, client=client, keep_raster=False)
    doc = {"steps": result.steps, "trials": result.trials, "seed": result.seed, "spikes": {},
           "probes": result.probes}
    if args.trial_offset:
        doc["trial_offset"] = args.trial_offset
    return _emit(doc, net, args, out)


def _read_frames(args: argparse.Namespace, net: Network, inputs: int) -> tuple[np.ndarray, np.ndarray | None]:
    """``--frames FILE.npz``: the images and labels (:func:`spikec.backends.deepnet_eval.read_frames`,
    every array checked before and after it is read), after checking that the input raster
    the run needs fits the memory limit."""
    from spikec.backends.deepnet_eval import read_frames

    limit = memory_limit()
    where = f"--frames {args.frames}"
    if args.steps * max(inputs, 1) > limit:
        raise UsageError(f"{where}: a raster of {fmt_count(args.steps)} steps x {fmt_count(inputs)} inputs"
                         f" is over the memory limit of {fmt_count(limit)} bytes (SPIKEC_MAX_MEMORY)")
    return read_frames(args.frames, where)


def _sim_frames(net: Network, args: argparse.Namespace, out: TextIO) -> int:
    """``sim --frames``: classify labelled frames streamed one per step."""
    import numpy as np

    from spikec.backends.deepnet_eval import classify_frames

    if args.input:
        raise UsageError("--frames drives the inputs itself; leave out --input")
    names = None
    if args.frames_input:
        names = [n for n in net.inputs() if n == args.frames_input or n.startswith(args.frames_input + "[")]
        if not names:
            raise UsageError(f"--frames-input {args.frames_input}: no such input neurons")
    images, labels = _read_frames(args, net, len(names) if names is not None else len(net.inputs()))
    res = classify_frames(net, images, labels, steps=args.steps, inputs=names)
    conf = res.confusion()
    doc: dict[str, Any] = {
        "steps": res.steps, "frames": len(res.predicted), "latency": res.latency, "scored": res.scored,
        "predicted": res.predicted.tolist(), "accuracy": res.accuracy,
        "confusion": None if conf is None else conf.tolist(),
    }
    write_json_output(args, doc)
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


def cmd_check(args: argparse.Namespace, out: TextIO) -> int:
    """``spikec check``."""
    from spikec.ir.analysis import input_latency
    from spikec.ir.verify import verify

    net = open_file(args)
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


def cmd_print(args: argparse.Namespace, out: TextIO) -> int:
    """``spikec print``."""
    from spikec.ir.printer import format_network

    out.write(format_network(open_file(args)))
    return 0


def cmd_save(args: argparse.Namespace, out: TextIO) -> int:
    """``spikec save``."""
    from spikec.ir.serialize import save

    check_output(args.output, "-o")
    net = open_file(args)
    save(net, args.output)
    out.write(f"wrote {args.output}: {net.num_neurons} neurons, {net.num_synapses} synapses\n")
    return 0
