"""``spikec sim --frames``: labelled frames through an imported deep net from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import spikec
from spikec.cli import main

pytest.importorskip("h5py")
EXAMPLES = Path(__file__).parent.parent / "examples"


def test_frames_give_accuracy_and_a_confusion_matrix(capsys: pytest.CaptureFixture[str]) -> None:
    spk, frames = EXAMPLES / "digits.spk", EXAMPLES / "digits_frames.npz"
    assert main(["sim", str(spk), "--steps", "102", "--frames", str(frames), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    with np.load(frames) as d:
        images, labels = d["images"], d["labels"]
    want = spikec.import_model(EXAMPLES / "digits.h5").predict(images)
    assert doc["latency"] == 2 and doc["scored"] == 100 and doc["predicted"] == want.tolist()
    assert doc["accuracy"] == pytest.approx(float(np.mean(want == labels)))
    assert np.array(doc["confusion"]).sum() == 100
    assert main(["sim", str(spk), "--steps", "102", "--frames", str(frames), "--frames-input", "px"]) == 0
    text = capsys.readouterr().out
    assert "latency 2 steps; 100 classified within 102 steps" in text
    assert (
        f"accuracy: {doc['accuracy']:.4f}" in text and "confusion (rows: label, columns: predicted)" in text
    )


def test_frames_without_labels(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    np.savez(tmp_path / "f.npz", images=np.zeros((3, 64)))
    assert (
        main(["sim", str(EXAMPLES / "digits.spk"), "--steps", "5", "--frames", str(tmp_path / "f.npz")]) == 0
    )
    assert "predicted: " in capsys.readouterr().out


def test_frame_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    np.savez(tmp_path / "f.npz", pixels=np.zeros((3, 64)))
    spk = str(EXAMPLES / "digits.spk")
    assert main(["sim", spk, "--steps", "5", "--frames", str(tmp_path / "f.npz")]) == 1
    assert "no 'images' array (found: pixels)" in capsys.readouterr().err
    assert main(["sim", spk, "--steps", "5", "--frames", str(tmp_path / "f.npz"), "--input", "px[0]=1"]) == 1
    assert "--frames drives the inputs itself" in capsys.readouterr().err
    (tmp_path / "plain.spk").write_text("input x\nneuron y\nx -> y\nprobe y\n")
    np.savez(tmp_path / "g.npz", images=np.zeros((3, 1)))
    assert (
        main(["sim", str(tmp_path / "plain.spk"), "--steps", "5", "--frames", str(tmp_path / "g.npz")]) == 1
    )
    assert "needs exactly one label probe" in capsys.readouterr().err
