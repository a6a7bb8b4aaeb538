"""The docs that describe the code stay true to it: the pass table lists every pass,
the internals recipes work as written, and every code block marked runnable runs.

Runnable blocks
---------------
A fenced block in ``docs/*.md`` or ``README.md`` is *runnable* when its info
string has a second word, ``run`` (default suite) or ``run-slow`` (only with
``pytest --slow``; for training, long simulations and plots)::

    ```python run        ```spk run        ```sh run        ```json run

The first word is the language (GitHub highlights by it; the second word does
not show). Each kind is checked so:

- ``python``: run as a script in a fresh interpreter namespace, in a fresh
  temporary directory holding a copy of the repo's ``examples/`` (so
  ``"examples/kofn.spk"`` works and nothing is written into the repo). The
  blocks run one after another in one subprocess (not this pytest process, so
  what a block registers, such as a pass, stays out of the other tests), each
  in its own namespace and directory; a raised exception fails the block.
- ``spk``: parsed and elaborated with :func:`spikec.dsl.compile_text`, as a
  file ``block.spk`` in such a directory (so ``import "examples/x.spk"`` and
  ``import std.NAME`` work).
- ``sh`` (or ``bash``, ``console``): every command must be a ``spikec ...``
  command; each runs in-process through :func:`spikec.cli.main` in such a
  directory and must exit 0. In ``$ spikec ...`` form, the lines after a
  command up to the next ``$`` are its expected output, compared exactly
  (trailing blanks aside). ``#`` starts a comment; ``\\`` continues a line.
- ``json``: read as a network (:func:`spikec.ir.serialize.network_from_dict`)
  and verified.

A second word starting with ``run`` that is neither marker is an error, so a
misspelled marker cannot silently skip a block. Blocks without a marker are
fragments or output and are not run.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

import spikec.passes
from spikec.chip.target import builtin_targets

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
EXAMPLES = ROOT / "examples"
MARKERS = {"run": False, "run-slow": True}  # marker -> slow?
SHELLS = {"sh", "bash", "console"}
LANGUAGES = {"python", "spk", "json"} | SHELLS

_FENCE = re.compile(r"^(?P<indent>[ \t]*)```(?P<info>[^`\n]*)\n(?P<body>.*?)^(?P=indent)```[ \t]*$",
                    re.M | re.S)


@dataclass(frozen=True)
class Block:
    """A fenced code block: where it is, its info string's words and its text."""

    path: Path
    line: int
    lang: str
    marker: str | None
    body: str

    @property
    def where(self) -> str:
        """``docs/x.md:12``, the block's opening fence."""
        return f"{self.path.relative_to(ROOT) if self.path.is_relative_to(ROOT) else self.path}:{self.line}"

    @property
    def slow(self) -> bool:
        """Whether the block runs only under ``--slow``."""
        return MARKERS.get(self.marker or "", False)


def code_blocks(path: Path) -> list[Block]:
    """Every fenced block of the Markdown file ``path``, bodies dedented to the fence."""
    text = path.read_text(encoding="utf-8")
    blocks = []
    for m in _FENCE.finditer(text):
        words = m.group("info").split()
        indent = len(m.group("indent"))
        body = "".join(line[indent:] if line[:indent].strip() == "" else line
                       for line in m.group("body").splitlines(keepends=True))
        blocks.append(Block(path, text.count("\n", 0, m.start()) + 1, words[0] if words else "",
                            words[1] if len(words) > 1 else None, body))
    return blocks


def marked_blocks(paths: list[Path]) -> list[Block]:
    """The runnable blocks of ``paths``; a bad marker or language raises AssertionError."""
    out = []
    for path in paths:
        for block in code_blocks(path):
            if block.marker is None or not block.marker.startswith("run"):
                continue
            assert block.marker in MARKERS, f"{block.where}: unknown marker {block.marker!r}"
            assert block.lang in LANGUAGES, f"{block.where}: cannot run a {block.lang!r} block"
            out.append(block)
    return out


def workdir(base: Path) -> Path:
    """A fresh directory under ``base`` holding a copy of ``examples/``."""
    base.mkdir(parents=True, exist_ok=True)
    shutil.copytree(EXAMPLES, base / "examples", ignore=shutil.ignore_patterns("__pycache__"))
    return base


# ---- checkers (each raises AssertionError naming the block) ------------------------------

_PY_WORKER = textwrap.dedent("""
    import json, os, sys, traceback
    jobs = json.load(sys.stdin)
    results = []
    for job in jobs:
        os.chdir(job["cwd"])
        try:
            exec(compile(job["code"], job["where"], "exec"), {"__name__": "__main__"})
            results.append(None)
        except BaseException:
            results.append(traceback.format_exc())
    sys.stdout.write("\\n" + json.dumps(results))
""")


def run_python_blocks(blocks: list[Block], base: Path) -> dict[Block, str | None]:
    """Run ``blocks`` in one fresh subprocess, each in its own namespace and directory;
    the traceback of each failed block (None for a block that ran)."""
    jobs = [{"code": b.body, "where": b.where, "cwd": str(workdir(base / f"py{i}"))}
            for i, b in enumerate(blocks)]
    run = subprocess.run([sys.executable, "-c", _PY_WORKER], input=json.dumps(jobs), capture_output=True,
                         text=True, cwd=base, timeout=600)
    assert run.returncode == 0, f"the block runner failed:\n{run.stderr}"
    results = json.loads(run.stdout.rsplit("\n", 1)[-1])
    return dict(zip(blocks, results, strict=True))


def check_python(block: Block, base: Path) -> None:
    """Run one Python block (in a subprocess of its own)."""
    failure = run_python_blocks([block], base)[block]
    assert failure is None, f"{block.where}: python block failed:\n{block.body}\n{failure}"


def check_spk(block: Block, base: Path) -> None:
    """Parse and elaborate a ``.spk`` block as ``block.spk`` in a fresh directory."""
    from spikec.dsl import compile_text
    from spikec.errors import SpikecError

    path = workdir(base) / "block.spk"
    path.write_text(block.body, encoding="utf-8")
    try:
        compile_text(block.body, filename=str(path))
    except SpikecError as exc:
        raise AssertionError(f"{block.where}: .spk block does not compile:\n{exc.render()}") from None


def check_json(block: Block, base: Path) -> None:
    """Read a JSON block as a saved network and verify it."""
    from spikec.errors import SpikecError
    from spikec.ir.serialize import network_from_dict
    from spikec.ir.verify import verify

    try:
        doc = json.loads(block.body)
    except ValueError as exc:
        raise AssertionError(f"{block.where}: not JSON: {exc}") from None
    try:
        verify(network_from_dict(doc, block.where))
    except SpikecError as exc:
        raise AssertionError(f"{block.where}: not a network: {exc.render()}") from None


def shell_commands(block: Block) -> list[tuple[list[str], str | None]]:
    """The commands of a shell block, each with its expected output (``$`` form) or None."""
    lines = block.body.splitlines()
    prompted = any(line.startswith("$ ") for line in lines)
    commands: list[tuple[list[str], list[str] | None]] = []
    pending = ""
    for line in lines:
        if prompted and not line.startswith("$ ") and not pending:
            assert commands, f"{block.where}: output before the first '$' command"
            expected = commands[-1][1]
            assert expected is not None
            expected.append(line)
            continue
        text = pending + (line[2:] if prompted and not pending else line)
        if text.rstrip().endswith("\\"):
            pending = text.rstrip()[:-1] + " "
            continue
        pending = ""
        argv = shlex.split(text, comments=True)
        if argv:
            assert argv[0] == "spikec", f"{block.where}: only spikec commands run, got {text.strip()!r}"
            commands.append((argv[1:], [] if prompted else None))
    assert not pending, f"{block.where}: the last command ends with '\\'"
    return [(argv, None if out is None else "\n".join(out)) for argv, out in commands]


def check_shell(block: Block, base: Path) -> None:
    """Run each ``spikec`` command of a shell block in-process; exit 0 and, in ``$``
    form, the output shown."""
    from spikec.cli import main

    cwd = workdir(base)
    old = Path.cwd()
    os.chdir(cwd)
    try:
        for argv, expected in shell_commands(block):
            out, err = io.StringIO(), io.StringIO()
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                try:
                    status = main(argv)
                except SystemExit as exc:  # argparse usage errors
                    status = exc.code if isinstance(exc.code, int) else 2
            shown = shlex.join(["spikec", *argv])
            assert status == 0, f"{block.where}: `{shown}` exited {status}:\n{err.getvalue()}"
            if expected is not None:
                got = "\n".join(line.rstrip() for line in out.getvalue().rstrip("\n").splitlines())
                want = "\n".join(line.rstrip() for line in expected.rstrip("\n").splitlines())
                if got != want:
                    raise AssertionError(f"{block.where}: `{shown}` printed\n{got}\nnot\n{want}")
    finally:
        os.chdir(old)


def check_block(block: Block, base: Path) -> None:
    """Check one runnable block (any language) in a fresh directory under ``base``."""
    if block.lang == "python":
        check_python(block, base)
    elif block.lang == "spk":
        check_spk(block, base)
    elif block.lang == "json":
        check_json(block, base)
    else:
        check_shell(block, base)


# ---- the runnable blocks of the docs -------------------------------------------------------

DOC_FILES = sorted(DOCS.glob("*.md")) + [ROOT / "README.md"]
BLOCKS = marked_blocks(DOC_FILES)


def _param(block: Block) -> object:
    return pytest.param(block, id=block.where, marks=[pytest.mark.slow] if block.slow else [])


@pytest.fixture(scope="module")
def python_results(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
                   ) -> dict[Block, str | None]:
    """The outcome of every Python block due in this run (all in one subprocess)."""
    slow = request.config.getoption("--slow")
    due = [b for b in BLOCKS if b.lang == "python" and (slow or not b.slow)]
    return run_python_blocks(due, tmp_path_factory.mktemp("python")) if due else {}


@pytest.mark.parametrize("block", [_param(b) for b in BLOCKS if b.lang == "python"])
def test_marked_python_block_runs(block: Block, python_results: dict[Block, str | None]) -> None:
    failure = python_results[block]
    assert failure is None, f"{block.where}: python block failed:\n{block.body}\n{failure}"


@pytest.mark.parametrize("block", [_param(b) for b in BLOCKS if b.lang != "python"])
def test_marked_block_runs(block: Block, tmp_path: Path) -> None:
    check_block(block, tmp_path)


def test_docs_mark_their_runnable_blocks() -> None:
    """Every doc this suite owns marks blocks (a marker convention nobody uses checks nothing)."""
    kinds = {(b.path.name, b.lang if b.lang not in SHELLS else "sh") for b in BLOCKS}
    for needed in [("language.md", "spk"), ("language.md", "sh"), ("language.md", "python"),
                   ("network-format.md", "json"), ("circuits.md", "python"), ("circuits.md", "spk"),
                   ("deepnets.md", "python"), ("diffusion.md", "spk"), ("internals.md", "python")]:
        assert needed in kinds, f"no runnable {needed[1]} block in docs/{needed[0]}"


# ---- the checker itself fails on broken blocks -------------------------------------------------

_BROKEN_DOC = """\
# A doc with one good and one broken block of each kind

```python run
import spikec
assert spikec.loads("input x").num_neurons == 1
```

```python run
import spikec
spikec.loads("input x\\nnueron y")
```

```spk run
input x
neuron y (threshold = 2)
x -> y
```

```spk run
input x
x -> nowhere
```

```json run
{"format": "spikec-network", "version": 1, "name": "n", "neurons": [{"name": "a", "input": true}],
 "synapses": {"pre": [], "post": [], "weight": [], "delay": []}}
```

```json run
{"format": "spikec-network", "version": 1, "name": "n", "neurons": [{"name": "a", "input": true},
 {"name": "b"}], "synapses": {"pre": [0], "post": [1], "weight": [1.0], "delay": [0]}}
```

```sh run
$ spikec check examples/majority.spk --no-such-option
```

```sh run
spikec sim examples/majority.spk --steps nine
```

```console run
$ spikec sim examples/majority.spk --steps 8 --input 'x[0]=0,2' --input 'x[1]=0' --json
{"steps": 8, "trials": 1, "seed": 0, "spikes": {"maj": [[1]], "slow": [[6]]}, "probes": {}}
```

```sh run
rm -rf examples
```

```python
this fragment is not marked, so it is not run
```
"""


def test_checker_fails_on_broken_blocks(tmp_path: Path) -> None:
    doc = tmp_path / "broken.md"
    doc.write_text(_BROKEN_DOC, encoding="utf-8")
    blocks = marked_blocks([doc])
    assert [b.lang for b in blocks] == ["python"] * 2 + ["spk"] * 2 + ["json"] * 2 + ["sh", "sh", "console",
                                                                                       "sh"]
    results = run_python_blocks(blocks[:2], tmp_path / "py")
    assert results[blocks[0]] is None
    failure = results[blocks[1]] or ""
    assert "ElaborationError" in failure and "unknown kind 'nueron'" in failure
    check_spk(blocks[2], tmp_path / "good-spk")
    with pytest.raises(AssertionError,
                       match=r"(?s)broken\.md:19: \.spk block does not compile:.*unknown name 'nowhere'"):
        check_spk(blocks[3], tmp_path / "bad-spk")
    check_json(blocks[4], tmp_path / "good-json")
    with pytest.raises(AssertionError,
                       match=r"broken\.md:29: not a network: .*a -> b: delay must be an integer >= 1, got 0"):
        check_json(blocks[5], tmp_path / "bad-json")
    with pytest.raises(AssertionError,
                       match=r"`spikec check examples/majority\.spk --no-such-option` exited 2"):
        check_shell(blocks[6], tmp_path / "bad-option")
    with pytest.raises(AssertionError, match=r"--steps nine` exited 2"):
        check_shell(blocks[7], tmp_path / "bad-value")
    with pytest.raises(AssertionError, match=r"(?s)printed\n.*\[\[5\]\].*\nnot\n.*\[\[6\]\]"):
        check_shell(blocks[8], tmp_path / "bad-output")
    with pytest.raises(AssertionError, match=r"only spikec commands run, got 'rm -rf examples'"):
        check_shell(blocks[9], tmp_path / "not-spikec")


def test_checker_refuses_unknown_markers(tmp_path: Path) -> None:
    doc = tmp_path / "typo.md"
    doc.write_text("```python runn\nprint(1)\n```\n\n```ruby run\nputs 1\n```\n", encoding="utf-8")
    with pytest.raises(AssertionError, match=r"typo\.md:1: unknown marker 'runn'"):
        marked_blocks([doc])
    doc.write_text("```ruby run\nputs 1\n```\n", encoding="utf-8")
    with pytest.raises(AssertionError, match=r"typo\.md:1: cannot run a 'ruby' block"):
        marked_blocks([doc])


def test_indented_blocks_are_dedented(tmp_path: Path) -> None:
    doc = tmp_path / "list.md"
    doc.write_text("- item:\n\n  ```spk run-slow\n  input x\n  neuron y\n  x -> y\n  ```\n", encoding="utf-8")
    (block,) = marked_blocks([doc])
    assert block.slow and block.line == 3 and block.body == "input x\nneuron y\nx -> y\n"
    check_spk(block, tmp_path / "spk")


# ---- the pass table and the internals recipes ------------------------------------------------


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
    block = re.search(r"### Add a pass.*?```python[^\n]*\n(.*?)```", text, re.S)
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
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python[^\n]*\n(.*?)```", text, re.S)
    assert len(blocks) >= 2
    for block in blocks:
        code = block.replace('"examples/', f'"{ROOT}/examples/')
        run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
        assert run.returncode == 0, f"README block failed:\n{block}\n{run.stderr}"
