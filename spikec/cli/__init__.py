"""The ``spikec`` command line.

:func:`build_parser` builds the argparse tree (:mod:`spikec.cli.parser`);
:func:`main` runs it and returns the exit status:

- 0: done;
- 1: an error in the input (a :class:`~spikec.errors.SpikecError`: a bad file,
  option value, network or target), printed as ``file:line:col: error: message``
  without a traceback, before any output file is written;
- 2: a malformed command line (argparse: an unknown subcommand or option, a
  count that is negative or not a number), with a "did you mean" where one is close;
- 130: interrupted (Ctrl-C): ``interrupted`` on one line of stderr; outputs are
  written atomically, so no partial file is left;
- 141: the reader of stdout went away (``spikec sim ... | head``): nothing more
  is printed, as other Unix tools do (128 + SIGPIPE).

Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from spikec.cli.parser import build_parser
from spikec.errors import SpikecError

__all__ = ["build_parser", "main", "EXIT_USER_ERROR", "EXIT_INTERRUPTED", "EXIT_BROKEN_PIPE"]

EXIT_USER_ERROR = 1
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141


def _run(argv: Sequence[str] | None) -> int:
    from spikec.cli.chip import cmd_compile, cmd_run, cmd_solve, cmd_stats
    from spikec.cli.sim import cmd_check, cmd_print, cmd_save, cmd_sim

    commands = {"sim": cmd_sim, "check": cmd_check, "print": cmd_print, "save": cmd_save,
                "compile": cmd_compile, "stats": cmd_stats, "run": cmd_run, "solve": cmd_solve}
    args = build_parser().parse_args(argv)
    try:
        return commands[args.command](args, sys.stdout)
    except SpikecError as exc:
        sys.stdout.flush()
        sys.stderr.write(exc.render() + "\n")
        for note in getattr(exc, "__notes__", ()):
            sys.stderr.write(f"note: {note}\n")  # e.g. which circuit instance failed
        return EXIT_USER_ERROR


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``spikec`` with ``argv`` (default ``sys.argv[1:]``); return the exit status
    (see the module docstring)."""
    try:
        status = _run(argv)
        sys.stdout.flush()  # a closed pipe shows here, not at interpreter exit
        return status
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # `spikec sim ... | head`: the reader left. Point stdout at /dev/null so the
        # interpreter's final flush does not fail again, and say nothing.
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):  # stdout is no real file (captured in tests)
            pass
        return EXIT_BROKEN_PIPE
