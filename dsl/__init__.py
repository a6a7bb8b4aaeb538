"""The ``.spk`` language front end: text -> syntax tree -> elaborated Network.

::

    from spikec.dsl import compile_file, compile_text
    net = compile_file("examples/majority.spk")
    net = compile_text("input x\\nneuron y\\nx -> y\\nprobe y", params={"n": 8})

Stages: :func:`parse` (``spk.lark`` + a Transformer into the dataclasses of
:mod:`spikec.dsl.syntax`), then elaboration (:mod:`spikec.dsl.elaborate`).
Every user mistake raises a :class:`DslError` (a
:class:`~spikec.errors.SpikecError`) that renders as
``file:line:col: error: message`` with the source line and a caret.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

from spikec.dsl import syntax as _syntax
from spikec.dsl.elaborate import Elaborator
from spikec.dsl.expressions import MAX_INT_BITS, evaluate
from spikec.dsl.limits import Limits
from spikec.dsl.models import MODEL_LOADERS, register_model_loader
from spikec.dsl.modules import Module, library_modules, read_source
from spikec.dsl.parser import KEYWORDS, parse
from spikec.dsl.values import GeneratorCircuit, Number, int_text
from spikec.errors import (
    DslError,
    ElaborationError,
    LimitError,
    ParamError,
    ParseError,
    SpkImportError,
    UsageError,
)
from spikec.ir.builder import CircuitBuilder
from spikec.ir.network import Network

__all__ = [
    "compile_file",
    "compile_text",
    "parse",
    "elaborate",
    "Limits",
    "DslError",
    "ParseError",
    "ElaborationError",
    "SpkImportError",
    "LimitError",
    "ParamError",
    "GeneratorCircuit",
    "CircuitBuilder",
    "register_model_loader",
    "MODEL_LOADERS",
    "library_modules",
    "KEYWORDS",
    "param_value",
]


def compile_file(
    path: str | os.PathLike[str],
    params: Mapping[str, object] | None = None,
    *,
    limits: Limits | None = None,
) -> Network:
    """Compile the ``.spk`` program at ``path`` into a Network.

    ``params`` override top-level ``let`` bindings (``--param n=16``);
    imports are found relative to the file. ``limits`` defaults to
    :meth:`Limits.from_env`.
    """
    if not isinstance(path, (str, bytes, os.PathLike)):
        raise UsageError(f"expected the path of a .spk file (str or os.PathLike), got {type(path).__name__}")
    path = os.fsdecode(path)
    shown = path
    limits = limits or Limits.from_env()
    if not os.path.lexists(path):
        raise SpkImportError(f"cannot open '{shown}': no such file")
    text = read_source(path, limits.max_source_bytes)
    # A file that is not named as a .spk source (nor a link to one) is never quoted in messages.
    quote = all(name.endswith(".spk") for name in (shown, os.path.realpath(path)))
    program = _parse(text, shown, quote=quote)
    return elaborate(program, params, limits=limits)


def compile_text(
    text: str,
    params: Mapping[str, object] | None = None,
    filename: str = "<string>",
    *,
    limits: Limits | None = None,
    fast_loops: bool = True,
) -> Network:
    """Compile ``.spk`` source text into a Network.

    ``filename`` is shown in error locations and names the network; a real
    path also anchors relative imports (otherwise they start from the
    current directory). ``fast_loops=False`` runs every loop one iteration
    at a time (the same network, slower; for tests and comparisons).
    """
    if not isinstance(text, str):
        decode = "; decode it first (text.decode('utf-8'))" if isinstance(text, (bytes, bytearray)) else ""
        raise UsageError(f"expected .spk source text (str), got {type(text).__name__}{decode}")
    if not isinstance(filename, str):
        raise UsageError(f"filename: expected a str, got {type(filename).__name__}")
    return elaborate(_parse(text, filename), params, limits=limits, fast_loops=fast_loops)


def _parse(text: str, filename: str, *, quote: bool = True) -> _syntax.Program:
    try:
        return parse(text, filename, quote=quote)
    except RecursionError:  # pragma: no cover - parse walks with stacks of its own
        raise _too_deep(filename) from None


def elaborate(
    program: _syntax.Program,
    params: Mapping[str, object] | None = None,
    *,
    limits: Limits | None = None,
    fast_loops: bool = True,
) -> Network:
    """Run a parsed program (:func:`parse`) into a Network; see :func:`compile_text`."""
    overrides = _coerce_params(params or {})
    filename = program.file
    real = not (filename.startswith("<") and filename.endswith(">"))
    directory = Path(filename).parent if real else Path.cwd()
    key = str(Path(filename).resolve()) if real else filename
    module = Module(filename, directory, key, program)
    net = Network((Path(filename).stem if real else "") or "network")
    limits = limits or Limits.from_env()
    elaborator = Elaborator(net, limits, overrides, fast_loops=fast_loops)
    # Nesting is bounded (MAX_NESTING per file, Limits.max_depth instances), so the stack
    # this needs is too: make room for it. An instance that still runs out of stack is
    # refused where it is made (dsl/instances.py); this is the last resort.
    with _stack_room(2000 + 60 * min(limits.max_depth, 1000)):
        try:
            elaborator.run_main(module)
        except RecursionError:  # pragma: no cover - see above
            raise _too_deep(filename) from None
    return net


@contextlib.contextmanager
def _stack_room(frames: int) -> Iterator[None]:
    """Raise Python's recursion limit to at least ``frames`` for the duration."""
    old = sys.getrecursionlimit()
    if frames > old:
        sys.setrecursionlimit(frames)
    try:
        yield
    finally:
        if frames > old:
            sys.setrecursionlimit(old)


def _too_deep(filename: str) -> LimitError:
    return LimitError(
        f"{filename}: the program nests too deeply for this compiler (circuit instances"
        " within instances; set SPIKEC_MAX_DEPTH lower to be stopped earlier)"
    )


def param_value(name: str, text: str) -> Number:
    """The value of a ``--param NAME=VALUE`` given as text: ``true``/``false``, a number,
    or a constant ``.spk`` expression (``2 ** 4``, ``min(3, 8) * 2``), evaluated with the
    front end's own checks (no host-language ``eval``); a :class:`ParamError` otherwise."""
    shown = text if len(text) <= 60 else text[:60] + "..."
    if len(text) > 10_000 or "\n" in text:
        raise ParamError(f"parameter '{name}': cannot read {shown!r} as a number or boolean"
                         " (one line of at most 10,000 characters)")
    where = f"<param {name}>"
    try:
        program = parse(f"let _ = {text}", where)
        stmt = program.statements[0] if len(program.statements) == 1 else None
        if not isinstance(stmt, _syntax.Let):
            raise ParamError(f"parameter '{name}': cannot read {shown!r} as a value")
        # A throwaway module: its cache of compiled expressions dies with this text.
        scratch = Module(where, Path("."), where, program)
        value = evaluate(stmt.value, scratch.scope)
    except DslError as err:
        raise ParamError(
            f"parameter '{name}': cannot read {shown!r} as a number or boolean: {err.message}"
        ) from None
    if isinstance(value, str):
        raise ParamError(f"parameter '{name}': {shown!r} is text; a parameter is a number or boolean")
    return value


def _coerce_params(params: Mapping[str, object]) -> dict[str, Number]:
    """Numbers and booleans pass; text is read as a .spk constant expression ("16", "2**4")."""
    out: dict[str, Number] = {}
    for key, value in params.items():
        if isinstance(value, bool) or (isinstance(value, int) and value.bit_length() <= MAX_INT_BITS) \
                or (isinstance(value, float) and math.isfinite(value)):
            out[key] = value
            continue
        if not isinstance(value, str):
            shown = int_text(value) if isinstance(value, int) else f"{value!r:.60}"
            raise ParamError(f"parameter '{key}' must be a number or boolean, got {shown}")
        out[key] = param_value(key, value)
    return out
