"""The house rules: which parts of spikec may import which, module sizes, cheap import.

The dependency rules (``docs/internals.md``): the IR imports nothing of
spikec but ``errors``; chip data imports the IR; passes import the IR and
chip data; backends import the IR and chip data, never the passes or the
front end; the front end (``dsl``) imports the IR, synthesis and the
circuit library; only ``api`` and ``cli`` join the front end to the
backends. Every import counts, including those inside functions.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: Source folder -> package it is installed as (pyproject.toml's package-dir).
FOLDERS = {"spikec": "spikec", "dsl": "spikec.dsl", "circuits": "spikec.circuits",
           "backends": "spikec.backends"}

#: Old module paths kept for one release as re-export shims (docs/internals.md lists them).
SHIMS = {
    "spikec.network", "spikec.target", "spikec.stats", "spikec.partition", "spikec.decoders",
    "spikec.boolean", "spikec.balance", "spikec.diffusion_reference",
}

#: Layer of a module -> the layers it may import.
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "ir": {"errors"},
    "chip": {"errors", "ir"},
    "passes": {"errors", "ir", "chip"},
    "synth": {"errors", "ir"},
    "backends": {"errors", "ir", "chip", "diffusion"},
    "diffusion": {"errors", "ir"},
    "circuits": {"errors", "ir", "synth", "diffusion"},
    "dsl": {"errors", "ir", "synth", "circuits"},
    "train": {"errors", "ir"},
    # the package façade names everything and imports it on first use
    "top": {"errors", "ir", "api"},
    "api": {"errors", "ir", "chip", "passes", "synth", "backends", "diffusion", "circuits", "dsl"},
    "cli": {"errors", "ir", "chip", "passes", "synth", "backends", "diffusion", "circuits", "dsl", "api"},
}


def layer(module: str) -> str:
    """The layer of a spikec module name."""
    parts = module.split(".")
    if module == "spikec":
        return "top"
    if parts[1] in ("errors", "_version"):
        return "errors"
    return parts[1]


def modules() -> dict[str, Path]:
    """Every spikec module (dotted name -> file)."""
    out = {}
    for folder, package in FOLDERS.items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            rel = path.relative_to(ROOT / folder).with_suffix("")
            parts = [p for p in rel.parts if p != "__init__"]
            out[".".join([package, *parts])] = path
    return out


def imports(module: str, path: Path) -> set[str]:
    """The spikec modules ``module`` imports (absolute or relative, anywhere in the file)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            found.add(name)
            found.update(f"{name}.{alias.name}" for alias in node.names)
    mods = modules()
    out = set()
    for name in found:
        if name == "spikec" or not name.startswith("spikec."):
            continue
        # the longest prefix that is a module
        parts = name.split(".")
        while len(parts) > 1 and ".".join(parts) not in mods:
            parts.pop()
        out.add(".".join(parts))
    return out


def test_dependency_rules() -> None:
    broken = []
    for module, path in modules().items():
        if module in SHIMS:
            continue
        mine = layer(module)
        allowed = ALLOWED[mine] | {mine}
        for dep in sorted(imports(module, path)):
            if layer(dep) not in allowed:
                broken.append(f"{module} ({mine}) imports {dep} ({layer(dep)})")
    assert not broken, "dependency rules broken:\n" + "\n".join(broken)


def test_shims_only_reexport() -> None:
    for module in SHIMS:
        path = modules()[module]
        tree = ast.parse(path.read_text(encoding="utf-8"))
        body = [n for n in tree.body if not (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant))]
        assert all(isinstance(n, ast.ImportFrom) for n in body), f"{module} is more than a re-export"


@pytest.mark.parametrize("module", sorted(modules()))
def test_module_size(module: str) -> None:
    lines = modules()[module].read_text(encoding="utf-8").count("\n")
    assert lines <= 600, f"{module} has {lines} lines; a module past 600 lines is two ideas"


def test_import_is_cheap() -> None:
    # `import spikec` loads none of the front end or the heavy optional packages.
    code = ("import sys, spikec; heavy = ['lark', 'torch', 'h5py', 'nir', 'sanafe', 'matplotlib',"
            " 'scipy', 'sympy', 'numba', 'dask', 'distributed'];"
            " print([m for m in heavy if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


#: The only module that may import Dask (an optional extra, ``spikec[dist]``): the rest of
#: spikec reaches it through that module's functions, which say what to install.
DASK_HOME = "spikec.backends.ensemble"


def test_only_the_ensemble_module_imports_dask() -> None:
    found = []
    for module, path in modules().items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else [])
            if any(n.split(".")[0] in ("dask", "distributed", "dask_jobqueue") for n in names):
                found.append(module)
    assert set(found) <= {DASK_HOME}, f"Dask imported outside {DASK_HOME}: {sorted(set(found) - {DASK_HOME})}"


def test_every_public_name_resolves() -> None:
    import spikec

    for name in spikec.__all__:
        assert getattr(spikec, name) is not None, name
    assert spikec.verify.__module__ == "spikec.ir.verify"  # the function, not a module


def test_one_class_per_error_name() -> None:
    import spikec.errors

    seen: dict[str, type] = {}
    for module, path in modules().items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and node.name.endswith("Error"):
                assert node.name not in seen, f"two classes named {node.name}: {seen[node.name]} and {module}"
                seen[node.name] = module  # type: ignore[assignment]
    # every error class lives in spikec.errors and is exported from spikec
    import spikec

    assert {m for m in seen.values()} == {"spikec.errors"}
    for name in seen:
        assert name in spikec.__all__ and getattr(spikec, name) is getattr(spikec.errors, name)
