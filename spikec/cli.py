"""The ``spikec`` command line.

``build_parser()`` builds the argparse tree; ``main(argv)`` runs it and
returns the exit status. User errors (:class:`~spikec.errors.SpikecError`)
print as ``file:line:col: error: message`` without a traceback and exit 1;
anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from spikec._version import __version__
from spikec.errors import SpikecError
from spikec.network import Network

__all__ = ["build_parser", "main"]

# Show a progress bar when a run is at least this many neuron-steps (and stderr is a terminal).
_PROGRESS_WORK = 20_000_000
# Draw a spike raster in text output up to this many steps.
_RASTER_STEPS = 100
# List at most this many neurons per trial in text output (--json has them all).
_TEXT_NEURONS = 40


class CliError(SpikecError):
    """A malformed command-line value (``--input``, ``--param``)."""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``spikec`` (separate from :func:`main` so it can be embedded)."""
    parser = argparse.ArgumentParser(
        prog="spikec",
        description="Compile and simulate spiking neural circuits (.spk programs, .json networks).",
    )
    parser.add_argument("--version", action="version", version=f"spikec {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    def add_file(p: argparse.ArgumentParser) -> None:
        p.add_argument("file", metavar="FILE", help="a .spk program or a saved .json network")
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

    check = sub.add_parser(
        "check", help="parse, elaborate and verify; summarize neurons, synapses, probes"
    )
    add_file(check)

    show = sub.add_parser("print", help="print the network in canonical text form")
    add_file(show)

    save = sub.add_parser("save", help="save the network as JSON (schema spikec-network v1)")
    add_file(save)
    save.add_argument("-o", "--output", required=True, metavar="OUT.json")
    return parser


def _parse_params(items: Sequence[str]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for item in items:
        name, sep, text = item.partition("=")
        if not sep or not name.strip():
            raise CliError(f"--param expects NAME=VALUE, got {item!r}")
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
                    raise CliError(
                        f"--param {name}: expected a number or true/false, got {text!r}"
                    ) from None
        params[name.strip()] = value
    return params


def _parse_inputs(items: Sequence[str]) -> dict[str, list[int]]:
    inputs: dict[str, list[int]] = {}
    for item in items:
        name, sep, text = item.partition("=")
        if not sep or not name.strip():
            raise CliError(f"--input expects NAME=T1,T2,..., got {item!r}")
        steps = []
        for part in text.split(","):
            part = part.strip()
            if not part:
                continue
            try:
                step = int(part)
            except ValueError:
                raise CliError(
                    f"--input {name}: spike steps must be integers, got {part!r}"
                ) from None
            if step < 0:
                raise CliError(f"--input {name}: spike steps must be >= 0, got {step}")
            steps.append(step)
        inputs.setdefault(name.strip(), []).extend(steps)
    return inputs


def _open(args: argparse.Namespace) -> Network:
    from spikec.api import open_network

    return open_network(args.file, **_parse_params(args.param))


def _sim_document(net: Network, args: argparse.Namespace, result: Any) -> dict[str, Any]:
    from spikec.decoders import decode_probes, probe_spike_names

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


def _cmd_sim(args: argparse.Namespace, out: TextIO) -> int:
    from spikec.backends.simulator import simulate
    from spikec.serialize import write_text_atomic

    net = _open(args)
    inputs = _parse_inputs(args.input)
    record: Any = "all" if args.record == "all" else None
    work = max(args.steps, 0) * max(args.trials, 1) * net.num_neurons
    progress = not args.quiet and sys.stderr.isatty() and work >= _PROGRESS_WORK
    result = simulate(
        net, args.steps, inputs=inputs, seed=args.seed, trials=args.trials,
        record=record, progress=progress,
    )
    doc = _sim_document(net, args, result)
    if args.output:
        try:
            write_text_atomic(args.output, json.dumps(doc) + "\n")
        except OSError as exc:
            raise CliError(f"cannot write {args.output}: {exc.strerror or exc}") from None
    if args.json:
        out.write(json.dumps(doc) + "\n")
    else:
        _print_text(doc, net, out)
    return 0


def _cmd_check(args: argparse.Namespace, out: TextIO) -> int:
    from spikec.analysis import input_latency
    from spikec.verify import verify

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
    from spikec.printer import format_network

    out.write(format_network(_open(args)))
    return 0


def _cmd_save(args: argparse.Namespace, out: TextIO) -> int:
    from spikec.serialize import save

    net = _open(args)
    save(net, args.output)
    out.write(f"wrote {args.output}: {net.num_neurons} neurons, {net.num_synapses} synapses\n")
    return 0


_COMMANDS = {"sim": _cmd_sim, "check": _cmd_check, "print": _cmd_print, "save": _cmd_save}


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``spikec`` with ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    args = build_parser().parse_args(argv)
    try:
        return _COMMANDS[args.command](args, sys.stdout)
    except SpikecError as exc:
        sys.stderr.write(exc.render() + "\n")
        return 1
    except BrokenPipeError:
        # `spikec sim ... | head`: the reader left; exit quietly like other Unix tools.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
