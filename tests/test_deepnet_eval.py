"""Frame streaming, synaptic-operation counts and energy (spikec.backends.deepnet_eval)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import spikec
from spikec.backends.deepnet_eval import (
    ENERGY,
    classify_frames,
    confusion_matrix,
    ops_report,
    simulate_frames,
)

pytest.importorskip("h5py")
DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def frames() -> tuple[np.ndarray, np.ndarray]:
    with np.load(DATA / "digits_frames.npz") as d:
        return d["images"], d["labels"]


@pytest.mark.parametrize("name", ["digits_dense", "digits_conv"])
def test_streamed_frames_are_classified_as_the_forward_pass_does(
    name: str, frames: tuple[np.ndarray, np.ndarray]
) -> None:
    model = spikec.import_model(DATA / f"{name}.h5")
    images, labels = frames
    res = classify_frames(model.network(), images, labels)
    assert res.latency == model.latency and res.steps == len(images) + model.latency
    assert res.predicted.tolist() == model.predict(images).tolist()
    assert res.accuracy == pytest.approx(float(np.mean(model.predict(images) == labels)))
    conf = res.confusion()
    assert (
        conf is not None and conf.sum() == len(images) and np.trace(conf) == round(res.accuracy * len(images))
    )


def test_a_short_run_scores_only_the_frames_it_reaches(frames: tuple[np.ndarray, np.ndarray]) -> None:
    model = spikec.import_model(DATA / "digits_dense.h5")
    res = classify_frames(model.network(), frames[0][:10], steps=7)
    assert res.predicted.tolist()[5:] == [-1] * 5 and res.scored == 5 and res.accuracy is None


@pytest.mark.parametrize("mode", ["spikes", "current"])
def test_synaptic_ops_counted_from_the_simulation(mode: str, frames: tuple[np.ndarray, np.ndarray]) -> None:
    model = spikec.import_model(DATA / "digits_conv.h5", input=mode)
    images = frames[0][:20]
    spikes = simulate_frames(model, images)
    ref = model.forward(images)
    assert all(np.array_equal(a, b) for a, b in zip(ref, spikes.layers, strict=True))
    report = ops_report(model, spikes)
    below = ([images.reshape(20, -1) >= 0.5] if mode == "spikes" else []) + ref[:-1]
    layers = model.layers if mode == "spikes" else model.layers[1:]
    want = sum(
        int((b.astype(int) @ layer.fan_out(b.shape[1])).sum()) for b, layer in zip(below, layers, strict=True)
    )
    assert report.synops == pytest.approx(want / 20)
    assert report.macs == sum(layer.macs for layer in model.layers) > 0
    assert report.host_macs == (model.layers[0].macs if mode == "current" else 0)
    energy = report.energy()
    assert energy["float net, 45 nm MACs"] == pytest.approx(report.macs * 4.6e-12)
    assert energy["spiking net on Loihi"] == pytest.approx(
        report.synops * 23.6e-12 + report.host_macs * 4.6e-12
    )
    assert ENERGY["synop_truenorth"].joules == 26e-12


def test_confusion_matrix() -> None:
    assert confusion_matrix(np.array([0, 1, 1]), np.array([0, 0, 1]), 2).tolist() == [[1, 0], [1, 1]]


def test_a_network_needs_one_label_probe() -> None:
    net = spikec.Network()
    net.input("x")
    with pytest.raises(spikec.SimulationError, match=r"exactly one label probe .* the network has 0"):
        classify_frames(net, np.zeros((2, 1)))
