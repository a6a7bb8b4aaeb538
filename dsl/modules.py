"""Files as modules: ``import "file.spk"``, ``import std.NAME``, ``import model``.

Each file is parsed and declared once per compilation. Importing a file
binds, in the importer's scope, the circuits and kinds that file defines
(not those it imports itself). Imports that come back to a file still
being declared are a cycle and fail naming it.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from spikec.dsl import syntax as s
from spikec.dsl.models import load_model
from spikec.dsl.parser import parse
from spikec.dsl.values import Frame, Number, Scope, Value
from spikec.errors import ElaborationError, SourceLocation, SpkImportError, did_you_mean

__all__ = ["Module", "Importer", "library_modules"]

LIBRARY_PACKAGE = "spikec.circuits"


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
    if not _library_root().joinpath(parts[1] + ".py").is_file():
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

    def __init__(self, declare: Callable[[Module], None]) -> None:
        self._declare = declare
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
                circuit = load_model(path, stmt.path, stmt.alias, stmt.path_loc)
                _bind_one(module, stmt.alias, circuit, stmt.loc, f"import model '{stmt.path}'")

    def _bind(self, module: Module, imported: Module, loc: SourceLocation) -> None:
        for name, (value, _) in imported.exports.items():
            _bind_one(module, name, value, loc, f"import '{imported.shown}'")

    def _import_file(self, module: Module, stmt: s.ImportFile) -> Module:
        path = _relative(module, stmt.path)
        shown = os.path.normpath(os.path.join(os.path.dirname(module.shown), stmt.path))
        if not path.is_file():
            where = "" if path.parent.is_dir() else f" (no folder {path.parent})"
            raise SpkImportError(f"cannot find '{stmt.path}': no file {path}{where}",
                                 stmt.path_loc)
        key = str(path.resolve())
        return self._load(key, shown, path.parent, lambda: path.read_text(encoding="utf-8-sig"),
                          stmt.path_loc)

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
        if not node.is_file() and _python_library(stmt.parts) is not None:
            return None
        if not node.is_file():
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
        try:
            text = read()
        except (OSError, UnicodeDecodeError) as err:
            raise SpkImportError(f"cannot read '{shown}': {err}", loc) from None
        module = Module(shown, directory, key, parse(text, shown))
        self.enter(module)
        self._declare(module)
        self.leave(module)
        return module


def _relative(module: Module, path: str) -> Path:
    return (module.directory / path) if not os.path.isabs(path) else Path(path)


def _bind_one(module: Module, name: str, value: Value, loc: SourceLocation, what: str) -> None:
    old = module.scope.names.get(name)
    if old is not None and old[0] is not value:
        first = f" (first defined at {old[1]})" if old[1] is not None else ""
        raise ElaborationError(f"{what}: the name '{name}' is already taken{first}", loc)
    module.scope.names[name] = (value, loc)
