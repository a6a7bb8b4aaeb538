"""The command line: JSON and text output, errors without tracebacks, no partial files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import spikec
from spikec.cli import build_parser, main


@pytest.fixture
def majority(tmp_path: Path) -> Path:
    net = spikec.Network("majority")
    for i in range(3):
        net.input(f"x[{i}]")
    net.neuron("maj", threshold=2, decay=1)
    for i in range(3):
        net.synapse(f"x[{i}]", "maj")
    net.neuron("slow", threshold=1, decay=1)
    net.synapse("maj", "slow", weight=1, delay=4)
    net.probe("maj")
    net.probe("slow")
    net.probe("x[0]", "x[1]", "x[2]", label="count(x)", decoder="count")
    path = tmp_path / "majority.json"
    spikec.save(net, path)
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_sim_json_matches_the_language_spec(majority: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "sim", str(majority), "--steps", "8", "--input", "x[0]=0,2",
                         "--input", "x[1]=0", "--json")
    assert code == 0 and err == ""
    assert json.loads(out) == {
        "steps": 8, "trials": 1, "seed": 0,
        "spikes": {"maj": [[1]], "slow": [[5]]},
        "probes": {"count(x)": [[2, 1, 0]]},
    }


def test_record_all_adds_every_neuron(majority: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "sim", str(majority), "--steps", "8", "--input", "x[0]=0,2",
                       "--input", "x[1]=0", "--json", "--record", "all", "--trials", "2")
    doc = json.loads(out)
    assert doc["trials"] == 2
    assert doc["spikes"]["x[0]"] == [[0, 2], [0, 2]]
    assert doc["spikes"]["x[2]"] == [[], []]
    assert doc["spikes"]["slow"] == [[5], [5]]


def test_text_output_has_a_raster(majority: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "sim", str(majority), "--steps", "8", "--input", "x[0]=0,2",
                       "--input", "x[1]=0")
    assert code == 0
    assert "  maj     .|......" in out
    assert "  slow    .....|.." in out
    assert "count(x):\n  [2, 1, 0]" in out


def test_output_file(majority: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_path = tmp_path / "res.json"
    code, _, _ = run(capsys, "sim", str(majority), "--steps", "8", "-o", str(out_path), "-q")
    assert code == 0
    assert json.loads(out_path.read_text())["spikes"] == {"maj": [[]], "slow": [[]]}


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--input", "x[0]=0,a"], "error: --input x[0]: spike steps must be integers, got 'a'\n"),
        (["--input", "x[0]"], "error: --input expects NAME=T1,T2,..., got 'x[0]'\n"),
        (["--input", "x[0]=-3"], "error: --input x[0]: spike steps must be >= 0, got -3\n"),
        (["--input", "x[9]=1"], "error: no input neuron named 'x[9]' (did you mean 'x[2]'?)\n"),
        (["--param", "n=3"], "--param applies to .spk programs, not saved networks\n"),
    ],
)
def test_user_errors_print_one_line_and_exit_1(
    majority: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, out, err = run(capsys, "sim", str(majority), "--steps", "4", *argv)
    assert code == 1 and out == ""
    assert err.endswith(message) and "Traceback" not in err


def test_trials_out_of_range_is_a_usage_error(majority: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["sim", str(majority), "--steps", "4", "--trials", "0"])
    out, err = capsys.readouterr()
    assert exit_info.value.code == 2 and out == ""
    assert "argument --trials: expected an integer >= 1, got 0" in err and "Traceback" not in err


def test_unknown_file_kinds(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "check", str(tmp_path / "net.txt"))
    assert code == 1 and "unknown file type '.txt'; expected .spk, .json or .npz" in err
    code, _, err = run(capsys, "check", str(tmp_path / "missing.json"))
    assert code == 1 and err.endswith("missing.json: no such file\n")
    code, _, err = run(capsys, "check", str(tmp_path / "missing.npz"))
    assert code == 1 and err.endswith("missing.npz: no such file\n")
    (tmp_path / "frames.npz").write_bytes(b"PK\x05\x06" + bytes(18))  # an empty zip: not a network
    code, _, err = run(capsys, "sim", str(tmp_path / "frames.npz"), "--steps", "2")
    assert code == 1 and err.endswith("frames.npz: not a spikec network: no 'header' array\n")
    assert "Traceback" not in err


def test_check_reports_latency(majority: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "check", str(majority))
    assert code == 0
    assert "neurons:  5 (3 inputs)" in out and "synapses: 4" in out
    assert "    maj       1\n" in out and "    slow      5\n" in out


def test_print_and_save(majority: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "print", str(majority))
    assert out.startswith("network majority: 5 neurons (3 inputs), 4 synapses\n")
    copy = tmp_path / "copy.json"
    code, out, _ = run(capsys, "save", str(majority), "-o", str(copy))
    assert code == 0 and spikec.load_network(copy) == spikec.load_network(majority)


def test_save_and_simulate_the_binary_format(majority: Path, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    binary = tmp_path / "copy.npz"
    code, out, _ = run(capsys, "save", str(majority), "-o", str(binary))
    assert code == 0 and out == f"wrote {binary}: 5 neurons, 4 synapses\n"
    assert spikec.load_network(binary) == spikec.load_network(majority)
    assert spikec.open_network(binary) == spikec.load_network(majority)
    outputs = []
    for path in (majority, binary):
        code, out, _ = run(capsys, "sim", str(path), "--steps", "8", "--input", "x[0]=0,2",
                           "--input", "x[1]=0", "--json")
        outputs.append(out)
    assert code == 0 and outputs[0] == outputs[1]
    code, out, _ = run(capsys, "print", str(binary))
    assert code == 0 and out == spikec.format_network(spikec.load_network(majority))
    code, _, err = run(capsys, "sim", str(binary), "--steps", "2", "--param", "n=3")
    assert code == 1 and err.endswith("--param applies to .spk programs, not saved networks\n")


def test_parser_is_embeddable() -> None:
    args = build_parser().parse_args(["sim", "f.json", "--steps", "3"])
    assert (args.command, args.steps, args.trials, args.seed) == ("sim", 3, 1, 0)


def test_console_script_and_version() -> None:
    exe = Path(sys.executable).parent / "spikec"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "spikec.cli"]
    done = subprocess.run([*cmd, "--version"], capture_output=True, text=True, check=False)
    assert done.returncode == 0
    assert done.stdout.strip() == f"spikec {spikec.__version__}"


def test_bad_file_exits_1_without_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    done = subprocess.run([sys.executable, "-m", "spikec.cli", "sim", str(bad), "--steps", "1"],
                          capture_output=True, text=True, check=False, env={**os.environ})
    assert done.returncode == 1
    assert done.stderr.startswith(f"{bad}:1:2: error: invalid JSON")
    assert "Traceback" not in done.stderr
