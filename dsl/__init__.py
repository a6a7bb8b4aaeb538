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

import math
import os
from collections.abc import Mapping
from pathlib import Path

from spikec.dsl import syntax as _syntax
from spikec.dsl.elaborate import Elaborator
from spikec.dsl.expressions import evaluate
from spikec.dsl.limits import Limits
from spikec.dsl.models import MODEL_LOADERS, register_model_loader
from spikec.dsl.modules import Module, library_modules
from spikec.dsl.parser import KEYWORDS, parse
from spikec.dsl.values import GeneratorCircuit, Number
from spikec.errors import (
    DslError,
    ElaborationError,
    LimitError,
    ParamError,
    ParseError,
    SpkImportError,
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
    shown = os.fspath(path)
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise SpkImportError(f"cannot open '{shown}': no such file") from None
    except (OSError, UnicodeDecodeError) as err:
        raise SpkImportError(f"cannot read '{shown}': {err}") from None
    return compile_text(text, params, filename=shown, limits=limits)


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
    try:
        program = parse(text, filename)
    except RecursionError:
        raise _too_deep(filename) from None
    return elaborate(program, params, limits=limits, fast_loops=fast_loops)


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
    try:
        Elaborator(net, limits or Limits.from_env(), overrides, fast_loops=fast_loops).run_main(module)
    except RecursionError:
        raise _too_deep(filename) from None
    return net


def _too_deep(filename: str) -> LimitError:
    return LimitError(
        f"{filename}: the program nests too deeply (expressions, blocks or circuit instances)"
        " for this compiler"
    )


def _coerce_params(params: Mapping[str, object]) -> dict[str, Number]:
    """Numbers and booleans pass; text is read as a .spk constant expression ("16", "2**4")."""
    out: dict[str, Number] = {}
    for key, value in params.items():
        if isinstance(value, bool) or (isinstance(value, (int, float)) and math.isfinite(value)):
            out[key] = value
            continue
        if not isinstance(value, str):
            raise ParamError(f"parameter '{key}' must be a number or boolean, got {value!r}")
        try:
            program = parse(f"let _ = {value}", f"<param {key}>")
            stmt = program.statements[0] if len(program.statements) == 1 else None
            if not isinstance(stmt, _syntax.Let):
                raise ParamError(f"parameter '{key}': cannot read {value!r} as a value")
            # A throwaway module: its cache of compiled expressions dies with this text.
            scratch = Module(f"<param {key}>", Path("."), f"<param {key}>", program)
            out[key] = evaluate(stmt.value, scratch.scope)
        except DslError:
            raise ParamError(
                f"parameter '{key}': cannot read {value!r} as a number or boolean"
            ) from None
    return out

