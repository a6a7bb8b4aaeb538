"""The command line under bad input (issue 13): every mistake is one located error
(exit 1) or a usage error (exit 2), checked before any work; Ctrl-C and closed pipes
exit cleanly; the options match the API."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import spikec
from spikec.chip.stats import network_stats
from spikec.chip.target import load_target
from spikec.cli import build_parser, main
from spikec.errors import ExportError, TargetError, UsageError
from spikec.passes import compile_for_target

ROOT = Path(__file__).resolve().parents[1]
MAJORITY = str(ROOT / "examples" / "majority.spk")
KOFN = str(ROOT / "examples" / "kofn.spk")
HEAD = 'format = "spikec-target"\nversion = 1\nname = "t"\n'


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def usage(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """Run a command that must be an argparse usage error (exit 2); its stderr."""
    with pytest.raises(SystemExit) as exc:
        main(list(argv))
    assert exc.value.code == 2
    return capsys.readouterr().err


# -- 1. target files ----------------------------------------------------------------------

def test_target_that_is_not_utf8_names_file_line_and_column(tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_bytes(HEAD.encode() + b'description = "caf\xe9"\n')
    code, out, err = run(capsys, "stats", MAJORITY, "--target", str(bad))
    assert code == 1 and out == "" and "Traceback" not in err
    assert err.startswith(f"{bad}:4:19: error: not UTF-8 text (byte 0xe9)")
    with pytest.raises(TargetError, match=r"bad\.toml:4:19: error: not UTF-8"):
        load_target(bad)


def test_target_that_is_a_directory_a_device_or_huge(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    huge = tmp_path / "huge.toml"
    with open(huge, "wb") as fh:
        fh.truncate(50 << 20)  # sparse: no disk used
    cases = [(str(tmp_path), "is a directory, not a target file"),
             ("/dev/zero", "not a regular file"),
             (str(huge), "52,428,800 bytes is more than the 1,048,576 bytes a target file may hold")]
    for path, message in cases:
        code, _, err = run(capsys, "compile", MAJORITY, "--target", path, "-o", str(tmp_path / "x.json"))
        assert code == 1 and f"error: {path}: {message}" in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["huge.toml"]


def test_invalid_toml_is_located_without_echoing_the_file(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "stats", MAJORITY, "--target", "/etc/passwd")
    assert code == 1 and err.startswith("/etc/passwd:1:5: error: invalid TOML: ")
    assert "root" not in err.split("error:", 1)[1]  # no line of the file is shown


@pytest.mark.parametrize(("body", "message"), [
    ("[chip]\nfan_in = 1.5", r"chip\.fan_in: expected an integer >= 1, got 1\.5$"),
    ("[chip]\nfan_in = true", r"chip\.fan_in: expected an integer >= 1, got True$"),
    ("[chip]\nneurons_per_core = 100000000000000000", r"chip\.neurons_per_core: expected an integer from 1"),
    ("[numbers]\nweight_bits = 5000", r"numbers\.weight_bits: expected an integer from 1 to 64, got 5000$"),
    ("[energy]\nspike = inf", r"energy\.spike: expected a finite number, got inf$"),
    ("[latency]\nhop = nan", r"latency\.hop: expected a number >= 0, got nan$"),
    ("[energy]\nspike = \"1\"", r"energy\.spike: expected a number >= 0, got '1'$"),
    ("chip = 3", r"chip: expected a table \(\[chip\]\), got 3$"),
    ("[neuron]\nreset_mode = [1]", r"neuron\.reset_mode: expected one of 'value', 'zero', got \[1\]$"),
    ("[sanafe]\narch = {a = 1}", r"sanafe\.arch: expected 'loihi' or 'truenorth', got \{'a': 1\}$"),
    ("description = 5", r"description: expected a string, got 5$"),
    ("x = " + "[" * 3000 + "]" * 3000, r"invalid TOML: arrays or tables nest too deeply$"),
    ("x = " + "9" * 5000, r"invalid TOML: an integer of more than 4,300 digits$"),
])
def test_target_fields_are_checked_with_their_key_path(body: str, message: str) -> None:
    with pytest.raises(TargetError, match=r"^error: <t>: " + message):
        spikec.chip.target.parse_target(HEAD + body, "<t>")


def test_target_version_true_is_not_version_1() -> None:
    with pytest.raises(TargetError, match=r"^error: <t>: version: this spikec reads version 1, got True$"):
        spikec.chip.target.parse_target('format = "spikec-target"\nversion = true\nname = "t"', "<t>")


def test_builtin_name_with_toml_suffix_points_at_the_builtin(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "stats", MAJORITY, "--target", "loihi.toml")
    assert code == 1
    assert err == "error: loihi.toml: no such target file (the built-in target is --target loihi)\n"


# -- 2. output paths ----------------------------------------------------------------------

@pytest.mark.parametrize("argv", [
    ["compile", MAJORITY, "-o", "{missing}/x.nir"],
    ["compile", MAJORITY, "-o", "{missing}/x.json"],
    ["compile", MAJORITY, "-o", "{missing}/x.yaml", "--target", "sanafe-loihi"],
    ["sim", MAJORITY, "--steps", "4", "-o", "{missing}/x.json"],
    ["save", MAJORITY, "-o", "{missing}/x.npz"],
    ["solve", MAJORITY, "--plot", "{missing}/x.png"],
])
def test_output_in_a_missing_directory_is_refused_before_work(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    missing = tmp_path / "none"
    argv = [a.replace("{missing}", str(missing)) for a in argv]
    code, out, err = run(capsys, *argv)
    assert code == 1 and out == "" and "Traceback" not in err
    assert f": cannot write it: no directory {missing}\n" in err
    assert "note:" not in err  # refused before the passes ran


def test_output_that_is_a_directory_or_a_device(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "d.json").mkdir()
    code, _, err = run(capsys, "compile", MAJORITY, "-o", str(tmp_path / "d.json"))
    assert code == 1 and err == f"error: -o {tmp_path / 'd.json'}: is a directory; give a file name\n"
    code, _, err = run(capsys, "sim", MAJORITY, "--steps", "2", "-o", "/dev/null")
    assert code == 1
    assert err == "error: -o /dev/null: not a regular file (a device or pipe); give a file name\n"
    (tmp_path / "file").write_text("x")
    code, _, err = run(capsys, "save", MAJORITY, "-o", str(tmp_path / "file" / "x.json"))
    assert code == 1 and f"cannot write it: not a directory: {tmp_path / 'file'}" in err


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere")
def test_output_in_a_read_only_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ro = tmp_path / "ro"
    ro.mkdir(mode=0o500)
    code, _, err = run(capsys, "sim", MAJORITY, "--steps", "2", "-o", str(ro / "x.json"))
    assert code == 1 and f"cannot write it: permission denied in {ro}" in err


def test_nir_writer_turns_os_errors_into_export_errors(tmp_path: Path) -> None:
    pytest.importorskip("nir")
    from spikec.backends.nir_export import write_nir

    with pytest.raises(ExportError, match=r"cannot write .*/none/x\.nir: No such file or directory$"):
        write_nir(tmp_path / "none" / "x.nir", spikec.load(MAJORITY))


# -- 3. limits from the environment -------------------------------------------------------

def test_a_limit_of_1e400_is_an_error(capsys: pytest.CaptureFixture[str],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPIKEC_MAX_NEURONS", "1e400")
    code, _, err = run(capsys, "check", MAJORITY)
    assert code == 1 and "SPIKEC_MAX_NEURONS" in err and "Traceback" not in err


# -- 4. --keep ----------------------------------------------------------------------------

def test_keep_an_unknown_neuron(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "compile", MAJORITY, "--keep", "mj", "-o", str(tmp_path / "x.json"))
    assert code == 1 and err == "error: keep (--keep): no neuron named 'mj' to keep (did you mean 'maj'?)\n"
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(UsageError, match=r"no neuron named 'nosuch' to keep$"):
        compile_for_target(spikec.load(MAJORITY), load_target("generic"), keep=["nosuch"])


def test_keep_replaces_the_probes_and_notes_a_dropped_probe(tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    out_path = tmp_path / "m.json"
    code, out, err = run(capsys, "compile", MAJORITY, "--keep", "maj", "-o", str(out_path))
    assert code == 0 and "4 neurons" in out
    assert (f"{MAJORITY}:11:12: note: keep: probe 'slow': dropped: its neurons are not kept (--keep)"
            " and the passes removed them") in err
    code, out, _ = run(capsys, "sim", str(out_path), "--steps", "8", "--input", "x[0]=0", "--input",
                       "x[1]=0", "--json")
    assert code == 0 and json.loads(out)["spikes"] == {"maj": [[1]]}
    # keeping both keeps both probes, and a string is one name
    net, ctx = compile_for_target(spikec.load(MAJORITY), load_target("generic"), keep="maj")
    assert [p.label for p in net.probes] == ["maj"] and "slow" not in net
    net, ctx = compile_for_target(spikec.load(MAJORITY), load_target("generic"), keep=["maj", "slow"])
    assert [p.label for p in net.probes] == ["maj", "slow"] and not ctx.diagnostics


# -- 5. Ctrl-C and closed pipes -----------------------------------------------------------

def _slow_program(tmp_path: Path) -> Path:
    spk = tmp_path / "slow.spk"
    spk.write_text("input x[200]\nneuron y[200] (threshold = 1, decay = 1)\nfor i in 0..200 {\n"
                   "    x[i] -> y[i]\n}\nstimulus x = poisson(0.5)\nprobe y[0]\n")
    return spk


def test_ctrl_c_prints_interrupted_exits_130_and_leaves_no_file(tmp_path: Path) -> None:
    out_path = tmp_path / "out.json"
    cmd = [sys.executable, "-m", "spikec.cli", "sim", str(_slow_program(tmp_path)), "--steps", "3000000",
           "--engine", "numpy", "-o", str(out_path), "--json", "-q"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(3.0)
    assert proc.poll() is None, proc.communicate()
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert err == "interrupted\n" and out == ""
    assert list(tmp_path.iterdir()) == [tmp_path / "slow.spk"]


@pytest.mark.parametrize("form", [["--steps", "100", "--trials", "30"], ["--steps", "10", "--json"]])
def test_a_closed_pipe_exits_quietly_with_141(form: list[str]) -> None:
    # The reader is gone before spikec writes (as `| head` that has read its lines).
    read, write = os.pipe()
    cmd = [sys.executable, "-m", "spikec.cli", "sim", MAJORITY, *form, "--record", "all", "--input", "x[0]=1"]
    proc = subprocess.Popen(cmd, stdout=write, stderr=subprocess.PIPE)
    os.close(write)
    os.close(read)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 141
    assert err == b""


# -- 6. numeric options -------------------------------------------------------------------

@pytest.mark.parametrize(("argv", "message"), [
    (["stats", MAJORITY, "--activity", "-1"], "argument --activity: expected a number from 0 to 1, got -1"),
    (["stats", MAJORITY, "--activity", "5"], "argument --activity: expected a number from 0 to 1, got 5"),
    (["stats", MAJORITY, "--activity", "nan"], "argument --activity: expected a number from 0 to 1, got nan"),
    (["stats", MAJORITY, "--steps", "-3"], "argument --steps: expected an integer >= 0, got -3"),
    (["sim", MAJORITY, "--steps", "-1"], "argument --steps: expected an integer >= 0, got -1"),
    (["sim", MAJORITY, "--steps", "1e3"], "argument --steps: expected an integer >= 0, got '1e3'"),
    (["sim", MAJORITY, "--steps", "4", "--trials", "0"],
     "argument --trials: expected an integer >= 1, got 0"),
    (["sim", MAJORITY, "--steps", "4", "--seed", "-2"], "argument --seed: expected an integer >= 0, got -2"),
    (["sim", MAJORITY, "--steps", "4", "--trial-offset", "-1"],
     "argument --trial-offset: expected an integer >= 0, got -1"),
    (["solve", MAJORITY, "--trials", "-5"], "argument --trials: expected an integer >= 1, got -5"),
    (["run", MAJORITY, "--target", "sanafe-loihi", "--steps", "0"],
     "argument --steps: expected an integer >= 1, got 0"),
])
def test_numbers_out_of_range_are_usage_errors(capsys: pytest.CaptureFixture[str], argv: list[str],
                                               message: str) -> None:
    err = usage(capsys, *argv)
    assert f"error: {message}\n" in err and "Traceback" not in err


def test_stats_api_refuses_activity_outside_0_1() -> None:
    net, ctx = compile_for_target(spikec.load(MAJORITY), load_target("loihi"))
    for bad in (-1.0, 5.0, float("nan")):
        with pytest.raises(UsageError, match=r"^error: activity must be from 0 to 1"):
            network_stats(net, ctx.placement, ctx.target, bad)
    with pytest.raises(UsageError, match=r"^error: activity of neuron 'maj' must be from 0 to 1"):
        network_stats(net, ctx.placement, ctx.target, {"maj": 2.0})
    assert network_stats(net, ctx.placement, ctx.target, 1.0).energy_per_step >= 0


def test_huge_steps_hit_the_memory_check(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "sim", MAJORITY, "--steps", "10000000000000", "--trials", "100000")
    assert code == 1 and "over the limit of" in err and "Traceback" not in err


# -- 7, 8. --param expressions, late --input steps ----------------------------------------

def test_param_takes_a_constant_expression(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "sim", KOFN, "--steps", "8", "--param", "k=2 ** 2", "--json")
    assert code == 0, err
    assert json.loads(out)["spikes"]["d"] == [[1, 4]]  # k = 4: the docstring of the example


def test_input_steps_past_the_run_warn(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "sim", MAJORITY, "--steps", "4", "--input", "x[0]=0,100,7", "--json")
    assert code == 0 and json.loads(out)["steps"] == 4
    assert err == ("warning: --input x[0]: spike step 7 (and 1 more) is not within --steps 4"
                   " (steps 0..3); ignored\n")


# -- 9. parity with the API, honest help --------------------------------------------------

def test_sim_engine_potentials_trial_offset(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["sim", MAJORITY, "--steps", "6", "--input", "x[0]=0", "--input", "x[1]=0", "--json"]
    docs = []
    for engine in ("numpy", "native", "auto"):
        code, out, _ = run(capsys, *argv, "--engine", engine, "--potentials", "--trial-offset", "3")
        assert code == 0
        docs.append(json.loads(out))
    assert docs[0] == docs[1] == docs[2]
    want = spikec.simulate(spikec.load(MAJORITY), 6, inputs={"x[0]": [0], "x[1]": [0]}, potentials=True,
                           trial_offset=3)
    assert docs[0]["potentials"]["maj"] == want.potentials["maj"].tolist()
    assert docs[0]["trial_offset"] == 3
    code, out, _ = run(capsys, *argv[:-1], "--potentials")
    assert code == 0 and "potential at steps 0, 1, ..." in out
    assert "engine" in usage(capsys, "sim", MAJORITY, "--steps", "2", "--engine", "numpy2")


def test_sim_currents_from_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "c.npz"
    np.savez(path, maj=np.array([0, 0, 2.0, 0, 0, 0]))
    code, out, err = run(capsys, "sim", MAJORITY, "--steps", "6", "--currents", str(path), "--json")
    assert code == 0, err
    assert json.loads(out)["spikes"] == {"maj": [[2]], "slow": [[]]}
    np.savez(path, maj=np.ones(5))
    code, _, err = run(capsys, "sim", MAJORITY, "--steps", "6", "--currents", str(path))
    assert code == 1 and err == (f"error: --currents {path}: array 'maj': shape (5,) is none of (), (6,),"
                                 " (1, 6) (a number, one per step, one per trial and step)\n")
    np.savez(path, maj=np.array(["a"]))
    code, _, err = run(capsys, "sim", MAJORITY, "--steps", "6", "--currents", str(path))
    assert code == 1 and "array 'maj': expected numbers, got dtype <U1" in err
    np.savez(path, mj=np.float64(1.0))
    code, _, err = run(capsys, "sim", MAJORITY, "--steps", "6", "--currents", str(path))
    assert code == 1 and "current for unknown neuron 'mj' (did you mean 'maj'?)" in err
    path.write_bytes(b"")
    code, _, err = run(capsys, "sim", MAJORITY, "--steps", "6", "--currents", str(path))
    assert code == 1 and err == f"error: --currents {path}: not an .npz file (a zip of .npy arrays)\n"


def test_frames_files_are_checked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spk = str(ROOT / "examples" / "digits.spk")
    frames = tmp_path / "f.npz"
    frames.write_bytes(b"")
    code, _, err = run(capsys, "sim", spk, "--steps", "5", "--frames", str(frames))
    assert code == 1 and "not an .npz file" in err and "Traceback" not in err
    np.savez(frames, images=np.full((2, 64), np.nan), labels=np.array([0, 1]))
    code, _, err = run(capsys, "sim", spk, "--steps", "5", "--frames", str(frames))
    assert code == 1
    assert f"--frames {frames}: array 'images': value at index (0, 0) is nan; frames must be finite" in err
    np.savez(frames, images=np.zeros((2, 64)), labels=np.array([0.5, 1]))
    code, _, err = run(capsys, "sim", spk, "--steps", "5", "--frames", str(frames))
    assert code == 1 and "array 'labels': label at index 0 is 0.5; labels are integers 0 or more" in err


def test_help_lists_passes_and_run_targets(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["compile", "--help"])
    text = "".join(capsys.readouterr().out.split())  # argparse wraps lines at hyphens too
    assert "{opt=v}" in text and ",".join(sorted(spikec.passes.pass_registry())) in text
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "a SANA-FE target: sanafe-loihi, sanafe-truenorth" in text and "loihi-nahuku" not in text
    code, _, err = run(capsys, "run", MAJORITY, "--target", "loihi", "--steps", "4")
    assert code == 1 and err.startswith("error: --target loihi: target 'loihi' has no SANA-FE architecture")


# -- 10. a new user's typos ---------------------------------------------------------------

def test_typos_get_did_you_mean(capsys: pytest.CaptureFixture[str]) -> None:
    err = usage(capsys, "simm", MAJORITY)
    assert "invalid choice: 'simm'" in err and "(did you mean 'sim'?)" in err
    err = usage(capsys, "sim", MAJORITY, "--stepz", "3")
    assert "unknown option --stepz (did you mean '--steps'?)" in err
    err = usage(capsys, "sim", MAJORITY, "--steps", "3", "--recrd", "all")
    assert "unrecognized arguments: --recrd all; unknown option --recrd (did you mean '--record'?)" in err


def test_missing_empty_and_directory_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "empty.json").write_text("")
    (tmp_path / "d.spk").mkdir()
    for name in ("empty.json", "d.spk", "nope.spk", "nope.txt"):
        code, _, err = run(capsys, "check", str(tmp_path / name))
        assert code == 1 and str(tmp_path / name) in err and "Traceback" not in err, err


def test_parser_still_embeds() -> None:
    args = build_parser().parse_args(["sim", "f.json", "--steps", "3", "--engine", "numpy"])
    assert (args.steps, args.engine, args.potentials, args.trial_offset, args.currents) == (3, "numpy", False,
                                                                                            0, None)


def test_sim_engines_are_the_simulators() -> None:
    """The CLI's --engine choices are the simulator's engines (kept apart so that building
    the parser loads no numpy)."""
    from spikec.backends.simulator import ENGINES
    from spikec.cli.parser import ENGINES as CLI_ENGINES

    assert CLI_ENGINES == ENGINES
