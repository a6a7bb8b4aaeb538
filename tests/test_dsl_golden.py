"""Golden IR printouts of .spk programs (``spikec.format_network`` of each elaborated file).

Each ``tests/golden/dsl_*.spk`` is compiled and printed; the text must equal
the ``.txt`` file beside it. After an intended change, regenerate with::

    SPIKEC_REGEN_GOLDEN=1 python -m pytest tests/test_dsl_golden.py

and review the diff before committing it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import spikec
from spikec.dsl import compile_file

GOLDEN = Path(__file__).parent / "golden"
PROGRAMS = sorted(GOLDEN.glob("dsl_*.spk"))


def test_there_are_golden_programs() -> None:
    assert len(PROGRAMS) >= 5


@pytest.mark.parametrize("path", PROGRAMS, ids=[p.stem for p in PROGRAMS])
def test_golden_printout(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(GOLDEN)  # the network's name is the file's stem either way
    text = spikec.format_network(compile_file(path.name))
    golden = path.with_suffix(".txt")
    if os.environ.get("SPIKEC_REGEN_GOLDEN"):
        golden.write_text(text)
    assert text == golden.read_text()
