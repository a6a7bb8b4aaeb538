"""The docs that describe the code stay true to it: the pass table lists every pass,
the internals recipes work as written."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import spikec.passes
from spikec.chip.target import builtin_targets

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_pass_table_lists_every_registered_pass() -> None:
    text = (DOCS / "targets.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"^\| `([a-z-]+)` \|", text, re.M))
    registered = set(spikec.passes.pass_registry())
    assert registered <= listed, f"passes missing from docs/targets.md: {sorted(registered - listed)}"


def test_default_pipeline_passes_are_documented() -> None:
    text = (DOCS / "targets.md").read_text(encoding="utf-8")
    names = [p.name for p in spikec.passes.default_pipeline(spikec.chip.target.load_target("truenorth"))]
    positions = [text.find(f"`{n}`") for n in names]
    assert all(p >= 0 for p in positions)


def test_internals_names_every_package_and_target_recipe() -> None:
    text = (DOCS / "internals.md").read_text(encoding="utf-8")
    for package in ("spikec.ir", "spikec.passes", "spikec.chip", "spikec.synth", "spikec.diffusion",
                    "spikec.train", "spikec.dsl", "spikec.circuits", "spikec.backends"):
        assert f"`{package}`" in text
    for recipe in ("Add a pass", "Add a target", "Add an emitter", "Add an importer", "Add a decoder",
                   "Add a library circuit"):
        assert f"### {recipe}" in text
    assert builtin_targets()  # the folder the target recipe names holds the built-in targets


def test_the_pass_recipe_runs_as_written() -> None:
    text = (DOCS / "internals.md").read_text(encoding="utf-8")
    block = re.search(r"### Add a pass.*?```python\n(.*?)```", text, re.S)
    assert block is not None
    script = block.group(1) + textwrap.dedent("""
        import spikec
        from spikec.chip.target import load_target
        from spikec.passes import compile_for_target, parse_pipeline, pass_registry
        assert pass_registry()["drop-zero-bias"] is DropZeroBias
        net = spikec.loads("input x\\nneuron y (bias = 1)\\nneuron z\\nx -> y\\nx -> z\\nprobe y, z")
        out, ctx = compile_for_target(net, load_target("generic"), parse_pipeline("drop-zero-bias"))
        assert [str(d) for d in ctx.diagnostics] == ["drop-zero-bias: network: 1 neuron(s) without bias"]
        print("ok")
    """)
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "ok"


def test_readme_python_blocks_run(tmp_path: Path) -> None:
    root = DOCS.parent
    text = (root / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert len(blocks) >= 2
    for block in blocks:
        code = block.replace('"examples/', f'"{root}/examples/')
        run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
        assert run.returncode == 0, f"README block failed:\n{block}\n{run.stderr}"
