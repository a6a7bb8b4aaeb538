"""Every Python example in examples/ runs and reports success."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).parent.parent / "examples").glob("*.py"))


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_python_example_runs(path: Path) -> None:
    done = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip()


def test_adder_checks_every_sum() -> None:
    examples = Path(__file__).parent.parent / "examples"
    done = subprocess.run([sys.executable, str(examples / "api_adder.py"), "--bits", "3"],
                          capture_output=True, text=True, check=True)
    assert "64/64 sums equal Python's a + b" in done.stdout
    assert "sum bits fire only at step(s) [4]" in done.stdout
