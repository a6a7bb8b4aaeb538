"""The argument parser of ``spikec``: subcommands, options and their checks.

Every numeric option is read by a type function that refuses what the
command cannot take (a negative step count, an activity outside [0, 1],
NaN), so such mistakes are argparse usage errors (exit status 2), as are
misspelt subcommands and options, which get a "did you mean".
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable, Sequence
from typing import NoReturn

from spikec._version import __version__
from spikec.backends.formats import EMITTERS
from spikec.errors import did_you_mean

__all__ = ["build_parser", "count", "fraction"]

#: The simulator's engines (``spikec.backends.engines.ENGINES``; not imported here, so
#: building the parser loads no numpy).
ENGINES = ("auto", "numpy", "native", "numba", "event")
#: Built-in targets that ``spikec run`` accepts (those with a SANA-FE architecture).
SANAFE_TARGETS = ("sanafe-loihi", "sanafe-truenorth")
_PASSES = "{PASSES}"  # replaced by the registered passes when --help is shown


def count(low: int) -> Callable[[str], int]:
    """An argparse type: an integer >= ``low``."""

    def read(text: str) -> int:
        try:
            value = int(text.strip().replace("_", ""))
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer >= {low}, got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"expected an integer >= {low}, got {value}")
        return value

    read.__name__ = f"integer >= {low}"
    return read


def fraction(text: str) -> float:
    """An argparse type: a number from 0 to 1 (not NaN)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number from 0 to 1, got {text!r}") from None
    if not 0.0 <= value <= 1.0 or math.isnan(value):
        raise argparse.ArgumentTypeError(f"expected a number from 0 to 1, got {text}")
    return value


def _walker_list(text: str) -> list[int]:
    """An argparse type: two or more distinct walker counts >= 1, comma-separated."""
    read = count(1)
    try:
        values = [read(part) for part in text.split(",") if part.strip()]
    except argparse.ArgumentTypeError as err:
        raise argparse.ArgumentTypeError(f"walker counts: {err}") from None
    if len(set(values)) < 2:
        raise argparse.ArgumentTypeError(f"expected two or more distinct walker counts, got {text!r}")
    return sorted(set(values))


class _Formatter(argparse.HelpFormatter):
    """Fills in the list of passes only when help is printed (reading the registry
    imports every pass)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help
        if text and _PASSES in text:
            from spikec.passes import pass_registry

            text = text.replace(_PASSES, ", ".join(sorted(pass_registry())))
        return text


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors suggest the closest subcommand or option."""

    _seen: list[str]

    def parse_known_args(self, args: Sequence[str] | None = None,  # type: ignore[override]
                         namespace: argparse.Namespace | None = None) -> tuple[argparse.Namespace, list[str]]:
        self._seen = list(args) if args is not None else []
        return super().parse_known_args(args, namespace)

    def error(self, message: str) -> NoReturn:
        hint = ""
        if "invalid choice: '" in message:
            bad = message.split("invalid choice: '", 1)[1].split("'", 1)[0]
            choices = [c for a in self._actions for c in (a.choices or ()) if isinstance(c, str)]
            hint = did_you_mean(bad, choices)
        else:
            options = [o for a in self._actions for o in a.option_strings]
            seen = getattr(self, "_seen", [])
            for action in self._actions:  # at the top level, the subcommand's options count too
                if isinstance(action, argparse._SubParsersAction):
                    chosen = next((action.choices[w] for w in seen if w in action.choices), None)
                    if chosen is not None:
                        options += [o for a in chosen._actions for o in a.option_strings]
            for word in seen:
                flag = word.split("=", 1)[0]
                if flag.startswith("--") and not any(o.startswith(flag) for o in options):
                    hint = f"; unknown option {flag}{did_you_mean(flag, options)}"
                    break
        self.exit(2, f"{self.prog}: error: {message}{hint}\n(see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``spikec`` (separate from :func:`~spikec.cli.main` so it
    can be embedded)."""
    parser = _Parser(
        prog="spikec",
        description="Compile and simulate spiking neural circuits (.spk programs, .json and .npz networks).",
        epilog="Exit status: 0 success, 1 an error in the input (printed as file:line:col: error: ...),"
        " 2 a malformed command line, 130 interrupted (Ctrl-C), 141 output pipe closed.",
    )
    parser.add_argument("--version", action="version", version=f"spikec {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    def command(name: str, help: str) -> argparse.ArgumentParser:
        p: argparse.ArgumentParser = sub.add_parser(name, help=help, description=help,
                                                    formatter_class=_Formatter)
        p.add_argument("file", metavar="FILE", help="a .spk program or a saved .json or .npz network")
        p.add_argument(
            "--param", action="append", default=[], metavar="NAME=VALUE",
            help="override a top-level 'let' of a .spk program: a number, true/false or a constant"
            " expression such as '2 ** 4' (repeatable)",
        )
        return p

    sim = command("sim", "simulate a network and print its spikes")
    sim.add_argument("--steps", type=count(0), required=True, help="number of time steps")
    sim.add_argument("--trials", type=count(1), default=1, help="independent trials (default 1)")
    sim.add_argument("--seed", type=count(0), default=0, help="random seed (default 0)")
    sim.add_argument("--trial-offset", type=count(0), default=0, metavar="K",
                     help="run trials K, K+1, ... of the seed (shards add up to one run; default 0)")
    _add_inputs(sim, ", every trial")
    sim.add_argument("--currents", metavar="FILE.npz",
                     help="currents added to the potentials: one array per neuron, named by it"
                     " (np.savez(FILE, **{'y[0]': I})), a number (every step) or of shape (steps,)"
                     " or (trials, steps)")
    sim.add_argument("--record", choices=["probes", "all"], default="probes",
                     help="'all' also records every neuron under its full name")
    sim.add_argument("--potentials", action="store_true",
                     help="also record the membrane potentials of the recorded neurons (after"
                     " integration, the value compared with the threshold)")
    sim.add_argument("--engine", choices=ENGINES, default="auto",
                     help="simulator engine (default auto; all give identical results)")
    _add_dask(sim)
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

    command("check", "parse, elaborate and verify; summarize neurons, synapses, probes")
    command("print", "print the network in canonical text form")
    save = command("save", "save the network: OUT.npz in the binary format (large networks),"
                   " any other name as JSON (schema spikec-network v1)")
    save.add_argument("-o", "--output", required=True, metavar="OUT.json|OUT.npz")
    _add_chip_commands(command)
    return parser


def _add_dask(p: argparse.ArgumentParser) -> None:
    """``--workers N`` / ``--scheduler ADDRESS``: trials in shards on Dask (docs/distributed.md)."""
    group = p.add_mutually_exclusive_group()
    group.add_argument("--workers", type=count(1), metavar="N",
                       help="run the trials in shards on a local Dask cluster of N worker processes, one"
                       " thread each (needs: pip install \"spikec[dist]\"; same result)")
    group.add_argument("--scheduler", metavar="ADDRESS",
                       help="run the trials in shards on the Dask cluster of this scheduler"
                       " (tcp://host:8786)")


def _add_inputs(p: argparse.ArgumentParser, which: str = "") -> None:
    p.add_argument("--input", action="append", default=[], metavar="NAME=T1,T2,...",
                   help=f"spike steps of an input neuron{which} (repeatable; overrides file stimuli;"
                   " steps past --steps are ignored with a warning)")


def _add_chip_commands(command: Callable[[str, str], argparse.ArgumentParser]) -> None:
    """The ``compile``, ``stats``, ``solve`` and ``run`` subcommands."""

    def add_pipeline(p: argparse.ArgumentParser, targets: Sequence[str] | None = None) -> None:
        if targets is None:
            p.add_argument("--target", default="generic", metavar="T",
                           help="a built-in target (generic, loihi, loihi-nahuku, truenorth, sanafe-loihi,"
                           " sanafe-truenorth) or a target .toml file (default generic)")
        else:
            p.add_argument("--target", required=True, metavar="T",
                           help=f"a SANA-FE target: {', '.join(targets)}, or a target .toml file with"
                           " a [sanafe] table")
        p.add_argument("--passes", metavar="A,B{opt=v},C",
                       help=f"the pass pipeline, comma-separated, options in braces"
                       f" (merge-synapses{{drop_zero=false}}); default: the target's. Passes: {_PASSES}")
        p.add_argument("--exact", action="store_true",
                       help="refuse (rather than report) anything that could change a spike")
        p.add_argument("--max-p-error", type=fraction, default=None, metavar="E",
                       help="refuse a stochastic neuron whose firing probability on the target's noise"
                       " differs from its p by more than E (default: report it)")
        p.add_argument("--keep", action="append", default=None, metavar="NAME",
                       help="a neuron whose spikes must be kept (repeatable). Replaces the default,"
                       " the probed neurons: a probe on a neuron not kept may be removed, with a note")
        p.add_argument("--no-verify", action="store_true", help="do not verify between passes")
        p.add_argument("--time-passes", action="store_true", help="print each pass's time (stderr)")
        p.add_argument("--print-ir-after-all", action="store_true",
                       help="print the IR after each pass (stderr)")

    comp = command("compile", "compile for a chip target and write a netlist (or SANA-FE/NIR)")
    add_pipeline(comp)
    comp.add_argument("-o", "--output", required=True, metavar="OUT",
                      help="; ".join(f"OUT{f.extensions[0]}: {f.summary}" for f in EMITTERS))
    comp.add_argument("--emit", choices=[f.name for f in EMITTERS],
                      help="output format (default: from the output's extension)")

    stats = command("stats", "neurons, synapses, cores, fill, traffic and energy on a target")
    add_pipeline(stats)
    stats.add_argument("--activity", type=fraction, default=0.1,
                       help="assumed spikes per neuron per step, a firing probability from 0 to 1"
                       " (default 0.1)")
    stats.add_argument("--steps", type=count(0), default=0,
                       help="measure activity by simulating this many steps with the file's stimuli"
                       " (default 0: use --activity)")
    stats.add_argument("--json", action="store_true", help="print one JSON object")

    solve = command("solve", "run a diffusion problem's spiking solver and compare it with the exact"
                    " solution")
    solve.add_argument("--trials", type=count(1), default=1, help="independent trials, averaged (default 1)")
    solve.add_argument("--seed", type=count(0), default=0, help="random seed (default 0)")
    solve.add_argument("--trial-offset", type=count(0), default=0, metavar="K",
                       help="run trials K, K+1, ... of the seed (shards add up to one run)")
    solve.add_argument("--field", metavar="NAME", help="which diffusion statement (default: the only one)")
    solve.add_argument("--csv", metavar="OUT.csv",
                       help="write the mean field and the references per step and node")
    solve.add_argument("--npz", metavar="OUT.npz", help="write every trial's counts and the references")
    solve.add_argument("--plot", metavar="OUT.png", help="draw the field next to the exact solution")
    solve.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    solve.add_argument("--target", default="loihi", metavar="T",
                       help="the target whose energy model prices the run (its cost lines; a built-in"
                       " target or a .toml file; default loihi); 'none' skips the measurement")
    solve.add_argument("--convergence", action="store_true",
                       help="instead of one run, sweep walker counts: the error against the exact chain"
                       " mean for each, the fitted slope, and with --plot the log-log plot with 1/sqrt(M)")
    solve.add_argument("--convergence-walkers", type=_walker_list, default=None, metavar="M,M,...",
                       help="the walker counts of --convergence (default 10,46,215,1000 for a point source;"
                       " else 1, 3, 10 and 30 times the problem's walkers and sources)")
    _add_dask(solve)
    solve.add_argument("-q", "--quiet", action="store_true", help="no progress bar")

    run = command("run", "compile for a SANA-FE target and run it in SANA-FE")
    add_pipeline(run, SANAFE_TARGETS)
    run.add_argument("--steps", type=count(1), required=True, help="number of time steps")
    _add_inputs(run)
    run.add_argument("--seed", type=count(0), default=0,
                     help="the random streams of stochastic neurons and Poisson inputs (trial 0)")
    run.add_argument("--compare", action="store_true",
                     help="also simulate with spikec and compare spikes: the source network, or for a"
                     " stochastic one the compiled network (its realised probabilities) on the same"
                     " streams")
    run.add_argument("--json", action="store_true", help="print one JSON object")
