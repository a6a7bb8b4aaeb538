"""The chip commands: compile (netlist, SANA-FE, NIR), stats, run; pass
options; errors without tracebacks and without partial files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import spikec
from spikec.cli import build_parser, main

ROOT = Path(__file__).parent.parent
MAJORITY = str(ROOT / "examples" / "majority.spk")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_compile_writes_a_netlist_that_sim_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_path = tmp_path / "maj.json"
    code, out, err = run(capsys, "compile", MAJORITY, "--target", "loihi", "-o", str(out_path))
    assert code == 0, err
    assert out == f"wrote {out_path}: 5 neurons, 4 synapses on 1 core (target loihi)\n"
    code, out, _ = run(
        capsys, "sim", str(out_path), "--steps", "8", "--input", "x[0]=0,2", "--input", "x[1]=0", "--json"
    )
    assert json.loads(out)["spikes"] == {"maj": [[1]], "slow": [[5]]}


@pytest.mark.parametrize("target", ["loihi", "truenorth"])
def test_compile_to_a_binary_netlist_that_sim_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                   target: str) -> None:
    out_path = tmp_path / "maj.npz"
    code, out, err = run(capsys, "compile", MAJORITY, "--target", target, "-o", str(out_path))
    assert code == 0, err
    assert out.startswith(f"wrote {out_path}: 5 neurons")
    code, out, _ = run(
        capsys, "sim", str(out_path), "--steps", "8", "--input", "x[0]=0,2", "--input", "x[1]=0", "--json"
    )
    assert json.loads(out)["spikes"] == {"maj": [[1]], "slow": [[5]]}


def test_pass_notes_print_at_the_neuron_s_source_line(tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    program = tmp_path / "leaky.spk"
    program.write_text("input x\nneuron y (threshold = 3, decay = 0.5)\nx -> y (weight = 0.3)\nprobe y\n")
    code, _, err = run(capsys, "compile", str(program), "--target", "loihi", "-o", str(tmp_path / "l.json"))
    assert code == 0, err
    assert f"{program}:2:8: note: quantize: neuron 'y': spikes could change:" in err
    assert "    neuron y (threshold = 3, decay = 0.5)" in err


def test_truenorth_netlist_carries_the_gate_on_its_floor(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_path = tmp_path / "maj.json"
    code, out, err = run(capsys, "compile", MAJORITY, "--target", "truenorth", "-o", str(out_path))
    assert code == 0, err
    assert "note: floor-gates: network: 1 decay-1 gate(s) on the floor at 0" in err
    rows = {row["name"]: row for core in json.loads(out_path.read_text())["cores"] for row in core["neurons"]}
    assert rows["maj"]["chip"] == {"threshold": 1, "leak": -1, "floor": 0, "reset": 0, "v0": 0}
    code, out, _ = run(
        capsys, "sim", str(out_path), "--steps", "8", "--input", "x[0]=0,2", "--input", "x[1]=0", "--json"
    )
    assert json.loads(out)["spikes"] == {"maj": [[1]], "slow": [[5]]}


def test_time_passes_and_print_ir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(
        capsys,
        "compile",
        MAJORITY,
        "--target",
        "sanafe-loihi",
        "-o",
        str(tmp_path / "m.json"),
        "--time-passes",
        "--print-ir-after-all",
        "--passes",
        "relay-fold,delay-legalize",
    )
    assert code == 0
    assert "// ----- IR after delay-legalize -----\nnetwork majority: 8 neurons" in err
    assert "core 0: x[0], x[1], x[2], maj, slow, maj~delay[1], maj~delay[2], maj~delay[3]\n" in err
    lines = [
        ln.split()[0]
        for ln in err.splitlines()
        if ln.split() and ln.split()[0] in ("pass", "relay-fold", "delay-legalize", "place", "total")
    ]
    assert lines == ["pass", "relay-fold", "delay-legalize", "place", "total"]
    assert "note: delay-legalize: network: added 3 relay neuron(s) for delays over 1" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--passes", "dead-neuron"],
            "error: unknown pass 'dead-neuron' (did you mean 'dead-neurons'?); valid",
        ),
        (["--target", "lohi"], "error: unknown target 'lohi' (did you mean 'loihi'?)"),
        (
            ["--passes", "fanin-split{fan_in=2}"],
            "examples/majority.spk:4:8: error: neuron 'maj': 3 incoming synapses exceed the fan-in of 2"
            " per neuron, and it cannot be split exactly: its firing depends on counts up to 2, more than"
            " half the fan-in",
        ),
    ],
)
def test_errors_leave_no_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    out_path = tmp_path / "x.json"
    code, out, err = run(capsys, "compile", MAJORITY, "-o", str(out_path), *argv)
    assert code == 1 and out == "" and "Traceback" not in err
    assert message in err
    assert not out_path.exists() and list(tmp_path.iterdir()) == []


def test_emit_from_extension(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "compile", MAJORITY, "-o", str(tmp_path / "x.txt"))
    assert code == 1 and "cannot tell the format from the extension; use .json, .yaml, .nir or .py" in err
    code, out, _ = run(
        capsys, "compile", MAJORITY, "--target", "sanafe-loihi", "-o", str(tmp_path / "m.yaml")
    )
    assert code == 0 and (tmp_path / "m.arch.yaml").exists()
    assert "network:\n" in (tmp_path / "m.yaml").read_text()


def test_nir_emit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    nir = pytest.importorskip("nir")
    net = spikec.Network("chain")
    net.input("x")
    net.neuron("y", threshold=1)
    net.synapse("x", "y", 1.0, 2)
    spikec.save(net, tmp_path / "chain.json")
    code, _, err = run(capsys, "compile", str(tmp_path / "chain.json"), "-o", str(tmp_path / "c.nir"))
    assert code == 0, err
    assert "delay_input_neurons_if_d2" in nir.read(str(tmp_path / "c.nir")).nodes


def test_stats(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "stats", MAJORITY, "--target", "loihi")
    assert code == 0
    assert out.startswith(f"{MAJORITY} on loihi: 5 neurons (3 inputs), 4 synapses, 1 core\n")
    assert "energy per step: " in out
    code, out, _ = run(capsys, "stats", MAJORITY, "--target", "loihi", "--json", "--steps", "10")
    doc = json.loads(out)
    assert doc["cores"] == 1 and doc["fill"][0]["neurons"] == 5 and doc["energy_per_step"] > 0


def test_run_in_sanafe(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("sanafe")
    code, out, _ = run(
        capsys,
        "run",
        MAJORITY,
        "--target",
        "sanafe-loihi",
        "--steps",
        "8",
        "--input",
        "x[0]=0,2",
        "--input",
        "x[1]=0",
        "--compare",
        "--json",
    )
    doc = json.loads(out)
    assert code == 0 and doc["spikes"] == {"maj": [1], "slow": [5]} and doc["differs"] == []
    assert doc["energy"]["total"] > 0 and doc["sim_time"] > 0


def test_parser_has_the_chip_commands() -> None:
    args = build_parser().parse_args(["compile", "f.spk", "-o", "o.json", "--target", "truenorth", "--exact"])
    assert (args.command, args.target, args.exact, args.emit) == ("compile", "truenorth", True, None)
