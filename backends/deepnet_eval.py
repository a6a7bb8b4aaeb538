"""Streaming labelled frames through a deep net, and its operations and energy.

:func:`classify_frames` streams frames into any network with a ``label``
probe, one frame per step, and reads frame k's class at step k + latency
(the probe's depth below the inputs): accuracy and a confusion matrix when
labels are given. :func:`simulate_frames` does the same for an imported
:class:`~spikec.backends.binary_net.BinaryNet` and keeps every layer's spikes
per frame, from which :func:`ops_report` counts synaptic operations.

Energy constants (per operation; what each counts is in ``source``):

- 4.6 pJ per 32-bit float multiply-accumulate and 0.9 pJ per 32-bit float
  add, 45 nm (M. Horowitz, "Computing's energy problem (and what we can do
  about it)", ISSCC 2014: 3.7 pJ fmul + 0.9 pJ fadd);
- 23.6 pJ per synaptic spike operation on Intel Loihi (M. Davies et al.,
  "Loihi: a neuromorphic manycore processor with on-chip learning", IEEE
  Micro 38(1), 2018);
- 26 pJ per synaptic event on IBM TrueNorth (P. A. Merolla et al., "A
  million spiking-neuron integrated circuit with a scalable communication
  network and interface", Science 345(6197), 2014).

These count arithmetic (or synaptic events) only: no memory traffic, neuron
updates or static power, so they compare operation counts, not systems.

:func:`read_frames` reads a frames file (``.npz`` with ``images``, optional
``labels``) checking each array's declared shape and type against the memory
limit before reading it; frames must be finite numbers and labels integers
from 0, with errors naming the file, the array and the first bad index.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from spikec.backends.binary_net import BinaryNet, binarize, first_nonfinite
from spikec.backends.memory import max_memory as _max_memory
from spikec.backends.simulator import simulate
from spikec.errors import SimulationError
from spikec.ir.analysis import input_latency
from spikec.ir.decoders import label_scores
from spikec.ir.network import Network, Probe
from spikec.ir.npy import read_arrays

__all__ = [
    "EnergyConstant", "ENERGY", "FrameResult", "classify_frames", "confusion_matrix",
    "LayerSpikes", "simulate_frames", "OpsReport", "ops_report", "read_frames", "check_frames",
    "check_labels",
]


@dataclass(frozen=True)
class EnergyConstant:
    """Energy of one operation and where the figure comes from."""

    joules: float
    unit: str
    source: str


ENERGY: dict[str, EnergyConstant] = {
    "mac_fp32_45nm": EnergyConstant(4.6e-12, "32-bit float multiply-accumulate",
                                    "Horowitz, ISSCC 2014 (45 nm: 3.7 pJ fmul + 0.9 pJ fadd)"),
    "add_fp32_45nm": EnergyConstant(0.9e-12, "32-bit float add", "Horowitz, ISSCC 2014 (45 nm)"),
    "synop_loihi": EnergyConstant(23.6e-12, "synaptic spike op",
                                  "Davies et al., IEEE Micro 2018 (Loihi, 14 nm)"),
    "synop_truenorth": EnergyConstant(26e-12, "synaptic event",
                                      "Merolla et al., Science 2014 (TrueNorth, 28 nm)"),
}


def confusion_matrix(labels: np.ndarray, predicted: np.ndarray, classes: int) -> np.ndarray:
    """``m[true, predicted]`` counts."""
    m = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(m, (np.asarray(labels, dtype=np.int64), np.asarray(predicted, dtype=np.int64)), 1)
    return m


@dataclass
class FrameResult:
    """Classes of streamed frames: ``predicted[k]`` read at step ``k + latency``
    (``-1`` for frames whose output step falls past the run), with accuracy and
    confusion matrix over the scored frames when labels were given."""

    latency: int
    steps: int
    predicted: np.ndarray
    labels: np.ndarray | None
    classes: int

    @property
    def scored(self) -> int:
        """Frames whose class was read within the run."""
        return int(np.sum(self.predicted >= 0))

    @property
    def accuracy(self) -> float | None:
        """Fraction of scored frames classified as labelled (None without labels)."""
        if self.labels is None or not self.scored:
            return None
        ok = self.predicted >= 0
        return float(np.mean(self.predicted[ok] == self.labels[ok]))

    def confusion(self) -> np.ndarray | None:
        """Confusion matrix of the scored frames (None without labels)."""
        if self.labels is None:
            return None
        ok = self.predicted >= 0
        return confusion_matrix(self.labels[ok], self.predicted[ok], self.classes)


def read_frames(path: str | os.PathLike[str], where: str | None = None,
                ) -> tuple[np.ndarray, np.ndarray | None]:
    """Frames and optional labels from an ``.npz`` file: ``images`` (or ``x``), one frame per
    row, and ``labels`` (or ``y``). Each array's declared size is checked against the
    memory limit (``SPIKEC_MAX_MEMORY``) before it is read (:func:`spikec.ir.npy.read_arrays`);
    frames must be finite numbers, labels integers >= 0, one per frame. Errors
    (:class:`SimulationError`) name ``where`` (default: the file), the array and, for a
    bad value, its index."""
    shown = os.fspath(path) if where is None else where
    found = read_arrays(path, where=shown, error=SimulationError, max_bytes=_max_memory())
    image_key = next((k for k in ("images", "x") if k in found), None)
    if image_key is None:
        raise SimulationError(f"{shown}: no 'images' array (found: {', '.join(sorted(found))})")
    images = check_frames(found[image_key], f"{shown}: array '{image_key}'")
    label_key = next((k for k in ("labels", "y") if k in found), None)
    labels = None
    if label_key is not None:
        labels = check_labels(found[label_key], len(images), f"{shown}: array '{label_key}'")
    return images, labels


def check_frames(frames: np.ndarray, what: str = "frames") -> np.ndarray:
    """``frames`` as an array of finite real numbers with a frame per row, or a
    :class:`SimulationError` naming ``what`` and the first bad index."""
    x = np.asarray(frames)
    if x.ndim < 1 or x.dtype.kind not in "biuf":
        raise SimulationError(f"{what}: expected an array of numbers, one frame per row; got"
                              f" {x.dtype} of shape {x.shape}")
    bad = first_nonfinite(x.astype(np.float64)) if x.dtype.kind == "f" else None
    if bad is not None:
        raise SimulationError(f"{what}: {bad}; frames must be finite")
    return x


def check_labels(labels: np.ndarray, frames: int, what: str = "labels",
                 classes: int | None = None) -> np.ndarray:
    """``labels`` as int64, one per frame, each an integer from 0 (below ``classes`` when
    given), or a :class:`SimulationError` naming ``what`` and the first bad index."""
    y = np.asarray(labels)
    if y.dtype.kind not in "biuf":
        raise SimulationError(f"{what}: expected integer class labels, got {y.dtype} values")
    y = y.reshape(-1)
    if len(y) != frames:
        raise SimulationError(f"{what}: {len(y)} labels for {frames} frames")
    top = classes if classes is not None else np.inf
    bad = np.flatnonzero(~np.isfinite(y.astype(np.float64)) | (y != np.round(y)) | (y < 0) | (y >= top))
    if len(bad):
        span = "0 or more" if classes is None else f"from 0 to {classes - 1}"
        raise SimulationError(f"{what}: label at index {int(bad[0])} is {y[bad[0]]}; labels are integers"
                              f" {span}")
    return y.astype(np.int64)


def _label_probe(net: Network) -> Probe:
    probes = [p for p in net.probes if p.decoder == "label"]
    if len(probes) != 1:
        raise SimulationError(
            f"streaming frames needs exactly one label probe (probe label(m.out)); the network has"
            f" {len(probes)}")
    return probes[0]


def classify_frames(net: Network, frames: np.ndarray, labels: np.ndarray | None = None,
                    steps: int | None = None, inputs: Sequence[str] | None = None,
                    threshold: float = 0.5) -> FrameResult:
    """Stream ``frames`` (frames, ...) as spikes into ``inputs`` (default: every input
    neuron, in network order), pixel value >= ``threshold`` spiking, frame k at
    step k; classify each by the network's label probe."""
    probe = _label_probe(net)
    assert probe.key is not None
    names = list(inputs) if inputs is not None else net.inputs()
    x = check_frames(frames)
    pixels = x.reshape(len(x), -1)
    if pixels.shape[1] != len(names):
        raise SimulationError(f"frames have {pixels.shape[1]} values each but there are"
                              f" {len(names)} input neurons to drive")
    depth = input_latency(net)
    reach = [depth.get(n) for n in probe.neurons]
    if any(d is None for d in reach):
        raise SimulationError(f"probe {probe.label}: some of its neurons are not reached from the inputs")
    latency = max(d for d in reach if d is not None)
    total = len(x) + latency if steps is None else steps
    if isinstance(total, bool) or not isinstance(total, (int, np.integer)) or total < 0:
        raise SimulationError(f"steps must be an integer >= 0, got {steps!r}")
    key = np.asarray(probe.key)
    truth = None if labels is None else check_labels(labels, len(x), classes=key.shape[0])
    if len(names) * total > _max_memory():
        raise SimulationError(f"streaming {len(x):,} frames over {total:,} steps into {len(names):,} inputs"
                              f" needs {len(names) * total:,} bytes of input raster; the limit is"
                              f" {_max_memory():,} (SPIKEC_MAX_MEMORY)")
    raster = np.zeros((len(names), total), dtype=bool)
    shown = min(len(x), total)
    raster[:, :shown] = binarize(pixels[:shown], threshold).T
    result = simulate(net, total, inputs={n: raster[i] for i, n in enumerate(names)},
                      record=list(probe.neurons))
    out = result.spikes_of(list(probe.neurons))[:, 0, :].T  # (steps, k)
    per_step = np.argmax(label_scores(out, key), axis=-1)
    predicted = np.full(len(x), -1, dtype=np.int64)
    read = np.arange(len(x)) + latency
    ok = read < total
    predicted[ok] = per_step[read[ok]]
    return FrameResult(latency, total, predicted, truth, key.shape[0])


@dataclass
class LayerSpikes:
    """A simulated frame stream through a :class:`BinaryNet`: the input spikes per
    frame (None with current input) and every layer's spikes per frame, each
    (frames, units), read at the frame's step plus the layer's depth."""

    inputs: np.ndarray | None
    layers: list[np.ndarray]
    synaptic_events: int


def simulate_frames(model: BinaryNet, frames: np.ndarray, engine: str = "auto") -> LayerSpikes:
    """Simulate ``model.network()`` on ``frames`` streamed one per step, recording all."""
    net = model.network()
    n = len(frames)
    drive = model.drive(frames)
    result = simulate(net, n + model.latency, **drive, record="all", engine=engine)
    first = 0 if model.input_mode == "current" else 1

    def spikes(array: str) -> np.ndarray:  # (steps, units) of trial 0
        idx = net.array(array)
        assert idx is not None
        return result.spikes_of(idx)[:, 0, :].T

    layers = [spikes(model.local_name(i))[first + i:first + i + n] for i in range(len(model.layers))]
    inputs = spikes("x")[:n] if model.input_mode == "spikes" else None
    return LayerSpikes(inputs, layers, result.synaptic_events)


@dataclass(frozen=True)
class OpsReport:
    """Per-frame operations: multiply-accumulates of the float net, synaptic operations
    of the spiking net (mean over frames), and host MACs of current injection."""

    macs: int
    synops: float
    host_macs: int
    frames: int

    def energy(self) -> dict[str, float]:
        """Joules per frame: the float net at 45 nm, and the spiking net counted with
        45 nm adds, Loihi's and TrueNorth's synaptic-op energies (plus host MACs)."""
        host = self.host_macs * ENERGY["mac_fp32_45nm"].joules
        return {
            "float net, 45 nm MACs": self.macs * ENERGY["mac_fp32_45nm"].joules,
            "spiking net, 45 nm adds": self.synops * ENERGY["add_fp32_45nm"].joules + host,
            "spiking net on Loihi": self.synops * ENERGY["synop_loihi"].joules + host,
            "spiking net on TrueNorth": self.synops * ENERGY["synop_truenorth"].joules + host,
        }


def ops_report(model: BinaryNet, spikes: LayerSpikes) -> OpsReport:
    """Count each frame's synaptic operations (spikes times their synapses) from simulated
    spikes, against the float net's multiply-accumulates."""
    counts = np.zeros(len(spikes.layers[0]))
    sources = ([spikes.inputs] if spikes.inputs is not None else []) + spikes.layers[:-1]
    targets = model.layers if spikes.inputs is not None else model.layers[1:]
    for below, layer in zip(sources, targets, strict=True):
        counts += below.astype(np.int64) @ layer.fan_out(below.shape[1])
    macs = sum(layer.macs for layer in model.layers)
    host = model.layers[0].macs if model.input_mode == "current" else 0
    return OpsReport(macs, float(counts.mean()) if len(counts) else 0.0, host, len(counts))
