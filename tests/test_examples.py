"""Every .spk program in examples/ compiles, runs as its comments say, and gives
the result it states.

Each example carries a ``// run: spikec sim FILE --steps T ...`` line and
``// expect`` lines, checked here on trial 0:

- ``// expect NAME: t1, t2`` -- the spike steps reported under NAME;
- ``// expect LABEL = JSON`` -- the decoded value of probe LABEL;
- ``// expect LABEL ~ V +- TOL`` -- the decoded value (summed over the probe's
  neurons) lies within TOL of V.
"""

from __future__ import annotations

import itertools
import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

import spikec
from spec_examples import MAJORITY
from spikec.dsl import compile_file
from spikec.ir.decoders import decode_probes, probe_spike_names

EXAMPLES = Path(__file__).parent.parent / "examples"
PROGRAMS = sorted(EXAMPLES.glob("*.spk"))


@dataclass
class Run:
    """What an example's ``// run:`` line asks for."""

    steps: int
    seed: int = 0
    trials: int = 1
    inputs: dict[str, list[int]] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    argv: list[str] = field(default_factory=list)


def read_run(text: str) -> Run:
    lines = [line for line in text.splitlines() if line.startswith("// run: ")]
    assert len(lines) == 1, "an example needs exactly one '// run:' line"
    argv = shlex.split(lines[0].removeprefix("// run: "))
    assert argv[:2] == ["spikec", "sim"], argv
    run = Run(steps=0, argv=argv[2:])
    it = iter(argv[3:])
    for flag in it:
        if flag in ("--json", "-q"):
            continue
        arg = next(it)
        if flag == "--steps":
            run.steps = int(arg)
        elif flag == "--seed":
            run.seed = int(arg)
        elif flag == "--trials":
            run.trials = int(arg)
        elif flag == "--input":
            name, _, times = arg.partition("=")
            run.inputs[name] = [int(t) for t in times.split(",") if t]
        elif flag == "--param":
            name, _, value = arg.partition("=")
            run.params[name] = value
        else:
            raise AssertionError(f"unexpected flag {flag}")
    assert run.steps > 0
    return run


def expectations(text: str) -> list[tuple[str, str, str]]:
    """(label, operator, value) of every ``// expect`` line."""
    out = []
    for line in text.splitlines():
        match = re.fullmatch(r"// expect (.+?)\s*(:|=|~)\s*(.*)", line)
        if match:
            out.append((match.group(1), match.group(2), match.group(3)))
    return out


def total(value: Any) -> float:
    return float(sum(value)) if isinstance(value, list) else float(value)


@pytest.mark.parametrize("path", PROGRAMS, ids=[p.name for p in PROGRAMS])
def test_example_gives_its_stated_result(path: Path) -> None:
    text = path.read_text()
    assert text.lstrip().startswith("//"), "an example starts with a comment saying what it is"
    run = read_run(text)
    checks = expectations(text)
    assert checks, "an example states its result with '// expect' lines"
    net = compile_file(path, run.params)
    result = spikec.simulate(net, run.steps, inputs=run.inputs, seed=run.seed, trials=run.trials)
    spikes = {label: result.spike_times(neuron)[0]
              for probe in net.probes if probe.decoder is None
              for label, neuron in probe_spike_names(probe)}
    decoded = {label: values[0] for label, values in decode_probes(net, result.spikes).items()}
    for label, op, expected in checks:
        if op == ":":
            want = [int(t) for t in expected.split(",") if t.strip()]
            assert spikes[label] == want, (label, spikes[label])
        elif op == "=":
            assert decoded[label] == json.loads(expected), (label, decoded[label])
        else:
            centre, _, tol = expected.partition("+-")
            assert abs(total(decoded[label]) - float(centre)) <= float(tol), (label, decoded[label])


def test_examples_exist() -> None:
    names = {p.name for p in PROGRAMS}
    assert {"majority.spk", "half_adder.spk", "ripple_adder.spk", "kofn.spk",
            "coincidence.spk", "stochastic.spk"} <= names


def test_majority_is_the_language_reference_example() -> None:
    text = (EXAMPLES / "majority.spk").read_text()
    assert text.startswith(MAJORITY)


def test_majority_through_the_cli(capsys: pytest.CaptureFixture[str]) -> None:
    cli = pytest.importorskip("spikec.cli")
    path = EXAMPLES / "majority.spk"
    code = cli.main(["sim", str(path), "--steps", "8", "--input", "x[0]=0,2",
                     "--input", "x[1]=0", "--json"])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert out["spikes"] == {"maj": [[1]], "slow": [[5]]}


def test_kofn_param_changes_the_threshold() -> None:
    path = EXAMPLES / "kofn.spk"
    for k, fires in ((5, [1]), (4, [1, 4]), (6, [])):
        net = compile_file(path, {"k": k})
        assert spikec.simulate(net, 8).spike_times("d.y") == [fires]


def test_ripple_adder_adds_every_pair() -> None:
    net = compile_file(EXAMPLES / "ripple_adder.spk")
    pairs = list(itertools.product(range(16), repeat=2))
    inputs = {
        f"{name}[{i}]": [[0] if (pair[k] >> i) & 1 else [] for pair in pairs]
        for k, name in enumerate("ab") for i in range(4)
    }
    result = spikec.simulate(net, 8, inputs=inputs, trials=len(pairs))
    values = decode_probes(net, result.spikes)["binary(s)"]
    for trial, (a, b) in enumerate(pairs):
        assert values[trial] == ([[6, a + b]] if a + b else []), (a, b)


def test_half_adder_example_truth_table() -> None:
    net = compile_file(EXAMPLES / "half_adder.spk")
    pairs = list(itertools.product((0, 1), repeat=2))
    inputs = {name: [[0] if pair[k] else [] for pair in pairs] for k, name in enumerate("ab")}
    result = spikec.simulate(net, 4, inputs=inputs, trials=4)
    for trial, (a, b) in enumerate(pairs):
        assert result.spike_times("h.sum")[trial] == ([2] if a ^ b else [])
        assert result.spike_times("h.carry")[trial] == ([1] if a & b else [])


def test_coincidence_detector_measures_every_gap() -> None:
    net = compile_file(EXAMPLES / "coincidence.spk")
    for gap in range(8):
        result = spikec.simulate(net, 16, inputs={"a": [1], "b": [1 + gap]})
        fired = {d: result.spike_times(f"c[{d}]")[0] for d in range(8)}
        assert fired == {d: ([2 + gap] if d == gap else []) for d in range(8)}
