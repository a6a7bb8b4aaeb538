"""Files as modules: ``import "file.spk"``, ``import std.NAME``, ``import model``.

Each file is parsed and declared once per compilation. Importing a file
binds, in the importer's scope, the circuits and kinds that file defines
(not those it imports itself). Imports that come back to a file still
being declared are a cycle and fail naming it.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import stat
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from spikec.dsl import syntax as s
from spikec.dsl.expressions import as_real, evaluate
from spikec.dsl.models import load_model
from spikec.dsl.parser import parse
from spikec.dsl.values import Frame, Number, Scope, Value
from spikec.errors import ElaborationError, SourceLocation, SpkImportError, did_you_mean
from spikec.ir.files import read_text_limited

__all__ = ["Module", "Importer", "library_modules", "read_source", "MAX_IMPORT_DEPTH"]

LIBRARY_PACKAGE = "spikec.circuits"
#: How deep files may import one another (a imports b imports c ...).
MAX_IMPORT_DEPTH = 50


def read_source(path: str | os.PathLike[str], max_bytes: int) -> str:
    """The text of the ``.spk`` source at ``path``, refused before it is read when it is
    not a regular file or is larger than ``max_bytes``; bytes that are not UTF-8 are an
    error at their line and column."""
    with contextlib.suppress(OSError):  # opening a pipe would wait for a writer: refuse it first
        if not stat.S_ISREG(os.stat(path).st_mode) and not os.path.isdir(path):
            raise SpkImportError(f"{os.fspath(path)}: not a regular file (a device, pipe or socket);"
                                 " a source must be one")
    return read_text_limited(path, max_bytes, what="source", error=SpkImportError)


@dataclass(eq=False)
class Module:
    """One parsed file: its statements, its top-level scope, what it exports."""

    shown: str
    directory: Path
    key: str
    program: s.Program
    scope: Scope = field(init=False)
    exports: dict[str, tuple[Value, SourceLocation | None]] = field(default_factory=dict)
    #: Expressions of this file compiled to closures, by ``id`` of the syntax node
    #: (the program keeps the nodes alive, so ids stay unique while it lives).
    compiled: dict[int, Callable[[Scope], Number]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        frame = Frame("", self)
        self.scope = frame.scope = Scope(None, frame)


def _library_root() -> Traversable:
    return resources.files(LIBRARY_PACKAGE)


def library_modules() -> list[str]:
    """Names of the bundled library modules (``std.logic``, ...)."""
    out: list[str] = []

    def walk(node: Traversable, parts: tuple[str, ...]) -> None:
        for child in node.iterdir():
            if child.is_dir() and not child.name.startswith(("_", ".")):
                walk(child, (*parts, child.name))
            elif child.name.endswith(".spk"):
                out.append(".".join(("std", *parts, child.name[:-4])))
            elif child.name.endswith(".py") and not child.name.startswith("_") and not parts:
                out.append(f"std.{child.name[:-3]}")

    walk(_library_root(), ())
    return sorted(set(out))


def _python_library(parts: tuple[str, ...]) -> dict[str, Value] | None:
    """The circuits a Python library module ``circuits/NAME.py`` exports in its
    ``CIRCUITS`` mapping (name -> GeneratorCircuit), or None if there is no such module."""
    if len(parts) != 2 or parts[1].startswith("_"):
        return None
    if not _is_file(_library_root().joinpath(parts[1] + ".py")):
        return None
    module = importlib.import_module(f"{LIBRARY_PACKAGE}.{parts[1]}")
    circuits = getattr(module, "CIRCUITS", None)
    if not isinstance(circuits, Mapping):
        return None
    return dict(circuits)


class Importer:
    """Loads imported files once each, detects cycles, binds their exports.

    ``declare(module)`` is the elaborator's declaration pass; it calls
    :meth:`run_imports` for the module's own imports.
    """

    def __init__(self, declare: Callable[[Module], None], max_bytes: int = 64 * 2**20) -> None:
        self._declare = declare
        self._max_bytes = max_bytes
        self._cache: dict[str, Module] = {}
        self._stack: list[Module] = []

    def enter(self, module: Module) -> None:
        """Mark ``module`` as being declared (for cycle detection)."""
        self._stack.append(module)

    def leave(self, module: Module) -> None:
        """Mark ``module`` as fully declared."""
        self._stack.remove(module)
        self._cache[module.key] = module

    def run_imports(self, module: Module) -> None:
        """Process every top-level import of ``module``, binding what each exports."""
        for stmt in module.program.statements:
            if isinstance(stmt, s.ImportFile):
                self._bind(module, self._import_file(module, stmt), stmt.loc)
            elif isinstance(stmt, s.ImportLib):
                spk = self._import_lib(stmt)
                if spk is not None:
                    self._bind(module, spk, stmt.loc)
                what = f"import {'.'.join(stmt.parts)}"
                for name, circuit in (_python_library(stmt.parts) or {}).items():
                    _bind_one(module, name, circuit, stmt.loc, what)
            elif isinstance(stmt, s.ImportModel):
                path = _relative(module, stmt.path)
                options: dict[str, float] = {}
                for opt in stmt.options:
                    if opt.name != "dt" or opt.name in options:
                        what = "repeated" if opt.name in options else "unknown"
                        raise ElaborationError(f"import model: {what} option '{opt.name}' (a model"
                                               " import takes dt = STEP, for NIR graphs)", opt.loc)
                    options["dt"] = as_real(evaluate(opt.value, module.scope), "dt", opt.loc)
                circuit = load_model(path, stmt.path, stmt.alias, stmt.path_loc, **options)
                _bind_one(module, stmt.alias, circuit, stmt.loc, f"import model '{stmt.path}'")

    def _bind(self, module: Module, imported: Module, loc: SourceLocation) -> None:
        for name, (value, _) in imported.exports.items():
            _bind_one(module, name, value, loc, f"import '{imported.shown}'")

    def _import_file(self, module: Module, stmt: s.ImportFile) -> Module:
        path = _relative(module, stmt.path)
        shown = os.path.normpath(os.path.join(os.path.dirname(module.shown), stmt.path))
        if not stmt.path.endswith(".spk"):
            raise SpkImportError(
                f"cannot import '{stmt.path}': import reads .spk sources only (a name ending in"
                " .spk); models are imported with import model \"FILE\" as NAME", stmt.path_loc)
        if not os.path.exists(path) or os.path.isdir(path):  # os.path: no error for a long name
            where = "" if os.path.isdir(path.parent) else f" (no folder {path.parent})"
            raise SpkImportError(f"cannot find '{stmt.path}': no file {path}{where}",
                                 stmt.path_loc)
        resolved = Path(os.path.realpath(path))
        if resolved.suffix != ".spk":  # a link to a file that is not a source
            raise SpkImportError(
                f"cannot import '{stmt.path}': it leads to '{resolved.name}', which is not a .spk"
                " source (import reads .spk sources only)", stmt.path_loc)
        return self._load(str(resolved), shown, path.parent,
                          lambda: read_source(path, self._max_bytes), stmt.path_loc)

    def _import_lib(self, stmt: s.ImportLib) -> Module | None:
        """The library's ``.spk`` file of ``stmt``, or None when only a Python module
        (``circuits/NAME.py``) provides it."""
        dotted = ".".join(stmt.parts)
        if stmt.parts[0] != "std" or len(stmt.parts) < 2:
            raise SpkImportError(
                f"cannot import '{dotted}': library modules start with 'std.' (import std.logic);"
                f" to import a file write import \"{dotted.replace('.', '/')}.spk\"",
                stmt.loc,
            )
        node = _library_root()
        for part in stmt.parts[1:-1]:
            node = node.joinpath(part)
        node = node.joinpath(stmt.parts[-1] + ".spk")
        if not _is_file(node) and _python_library(stmt.parts) is not None:
            return None
        if not _is_file(node):
            known = library_modules()
            raise SpkImportError(
                f"no library module '{dotted}'{did_you_mean(dotted, known)};"
                f" the library has: {', '.join(known) or 'nothing'}",
                stmt.loc,
            )
        shown = "<std>/" + "/".join(stmt.parts[1:]) + ".spk"
        # Library files import their neighbours relative to their own folder.
        directory = node.parent if isinstance(node, Path) else Path(".")
        return self._load(f"std:{dotted}", shown, directory, node.read_text, stmt.loc)

    def _load(self, key: str, shown: str, directory: Path, read: Callable[[], str],
              loc: SourceLocation) -> Module:
        for i, active in enumerate(self._stack):
            if active.key == key:
                chain = [m.shown for m in self._stack[i:]] + [shown]
                raise SpkImportError(f"import cycle: {' -> '.join(chain)}", loc)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        if len(self._stack) > MAX_IMPORT_DEPTH:
            names = [m.shown for m in self._stack]
            chain = names if len(names) <= 5 else [*names[:2], "...", *names[-2:]]
            raise SpkImportError(
                f"files import one another more than {MAX_IMPORT_DEPTH} deep"
                f" ({' -> '.join([*chain, shown])}); the limit is {MAX_IMPORT_DEPTH}", loc)
        try:
            text = read()
        except SpkImportError as err:
            if err.location is not None:  # a byte that is not UTF-8, at its place
                raise
            why = err.message.removeprefix(f"{shown}: ").removeprefix(f"{directory / Path(shown).name}: ")
            raise SpkImportError(f"cannot import '{shown}': {why}", loc) from None
        except (OSError, UnicodeDecodeError) as err:
            raise SpkImportError(f"cannot read '{shown}': {err}", loc) from None
        module = Module(shown, directory, key, parse(text, shown))
        self.enter(module)
        self._declare(module)
        self.leave(module)
        return module


def _is_file(node: Traversable) -> bool:
    """Whether ``node`` is a file; False for a name the system refuses (too long, ...)."""
    try:
        return node.is_file()
    except (OSError, ValueError):
        return False


def _relative(module: Module, path: str) -> Path:
    return (module.directory / path) if not os.path.isabs(path) else Path(path)


def _bind_one(module: Module, name: str, value: Value, loc: SourceLocation, what: str) -> None:
    old = module.scope.names.get(name)
    if old is not None and old[0] is not value:
        first = f" (first defined at {old[1]})" if old[1] is not None else ""
        raise ElaborationError(f"{what}: the name '{name}' is already taken{first}", loc)
    module.scope.names[name] = (value, loc)
