"""What the subcommands read from their options: ``--param`` and ``--input`` values,
output paths (checked before any work), and ``.npz`` files of currents and frames
(each array's declared shape and type checked before it is read)."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from spikec.errors import UsageError

if TYPE_CHECKING:
    import numpy as np

    from spikec.ir.npy import ShapeCheck

__all__ = ["parse_params", "parse_inputs", "warn_late_inputs", "check_output", "read_npz", "memory_limit"]


def parse_params(items: Sequence[str]) -> dict[str, Any]:
    """``--param NAME=VALUE`` items as ``{name: value}``: ``true``/``false`` as booleans,
    anything else as text, which the front end reads as a constant expression."""
    params: dict[str, Any] = {}
    for item in items:
        name, sep, text = item.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"--param expects NAME=VALUE, got {item!r}")
        text = text.strip()
        if not text:
            raise UsageError(f"--param {name.strip()}: no value after '='")
        params[name.strip()] = text.lower() == "true" if text.lower() in ("true", "false") else text
    return params


def parse_inputs(items: Sequence[str]) -> dict[str, list[int]]:
    """``--input NAME=T1,T2,...`` items as ``{name: [steps]}``."""
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


def warn_late_inputs(inputs: dict[str, list[int]], steps: int) -> None:
    """One warning line (stderr) per input given spike steps at or past ``steps``."""
    for name, times in inputs.items():
        late = [t for t in times if t >= steps]
        if late:
            more = f" (and {len(late) - 1} more)" if len(late) > 1 else ""
            sys.stderr.write(f"warning: --input {name}: spike step {min(late)}{more} is not within"
                             f" --steps {steps} (steps 0..{steps - 1}); ignored\n")


def check_output(path: str | None, flag: str) -> None:
    """Refuse, before any work, an output path that cannot be written: a missing
    directory, a directory given as the file, something that is not a regular file
    (a device), or a directory spikec may not write in."""
    if not path:
        return
    target = Path(path)
    if target.is_dir():
        raise UsageError(f"{flag} {path}: is a directory; give a file name")
    if target.exists() and not target.is_file():
        raise UsageError(f"{flag} {path}: not a regular file (a device or pipe); give a file name")
    parent = target.parent if str(target.parent) else Path(".")
    if not parent.is_dir():
        what = "no directory" if not parent.exists() else "not a directory:"
        raise UsageError(f"{flag} {path}: cannot write it: {what} {parent}")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise UsageError(f"{flag} {path}: cannot write it: permission denied in {parent}")


def memory_limit() -> int:
    """The simulator's memory ceiling (``SPIKEC_MAX_MEMORY`` or its default)."""
    from spikec.backends.memory import max_memory

    return max_memory()


def read_npz(path: str, flag: str, check: ShapeCheck) -> dict[str, np.ndarray]:
    """The arrays of the ``.npz`` file at ``path`` (an option's value, ``flag``), each of
    numbers or booleans and at most the memory limit, with ``check`` seeing its declared
    shape before the data is read (:func:`spikec.ir.npy.read_arrays`). Every failure is a
    UsageError naming the option, the file and the array."""
    from spikec.ir.npy import read_arrays

    return read_arrays(path, where=f"{flag} {path}", error=UsageError, max_bytes=memory_limit(), check=check)
