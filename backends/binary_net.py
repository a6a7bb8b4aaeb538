"""Layered threshold networks: the common form of every imported deep net.

A sharpened (Whetstone-style) deep net is a stack of :class:`ThresholdLayer`
objects. Unit i of a layer, at step t, computes::

    V_i <- (1 - decay) V_i + bias_i + sum_s weight_s * x_{pre_s}(t - 1)   (s over the synapses into i)
    fires iff V_i >= threshold_i, and then V_i <- reset_i

where ``x`` are the spikes of the layer below (or the input array). Every
layer of a sharpened net has decay 1, so a unit computes the binary
activation ``[bias + w . x >= threshold]`` afresh each step: the network is a
pipeline with one layer per step, and frames streamed one per step come out
one per step after a latency of one step per layer. An NIR ``IF`` node gives
a decay-0 (integrating) layer instead, which has no frame-by-frame meaning.

**Exactness.** The simulator adds a unit's inputs in a fixed order: the bias
first, then the weights of the presynaptic neurons that fired, by ascending
neuron index. :meth:`BinaryNet.forward`, the plain numpy reference, adds in
exactly that order (a unit's synapses are stored sorted by presynaptic
index, and adding the ``+-0.0`` of a silent input leaves a float sum
unchanged), so its binary activations equal the simulated spikes bit for
bit, whatever rounding the float sums have. With input by current
injection the first layer's weighted sums are computed here on the host, by
:meth:`BinaryNet.currents`, in the same order, and the simulator adds them
to the bias as the reference does.

**Layout.** A layer's units are numbered in C order of its shape; image
tensors are channels-last ``(height, width, channels)``, as in Keras.
Importers of channels-first formats (NIR) map their tensors onto that order
(:mod:`spikec.backends.threshold_layers` builds the synapses).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from spikec.errors import ModelImportError, fmt_count
from spikec.ir.builder import Builder
from spikec.ir.decoders import label_scores
from spikec.ir.limits import DEFAULT_MAX_NEURONS, DEFAULT_MAX_SYNAPSES, env_count
from spikec.ir.network import DecodeKey, Network

__all__ = [
    "ModelImportError",
    "ImportLimits",
    "first_nonfinite",
    "H5_ERRORS",
    "open_hdf5",
    "read_real",
    "ThresholdLayer",
    "BinaryNet",
    "ModelCircuit",
    "INPUT_MODES",
    "binarize",
]

#: How frames reach the first layer: as spikes of binarized pixels (a pixel
#: spikes when its value is >= 0.5), or as injected currents of real values.
INPUT_MODES: tuple[str, ...] = ("spikes", "current")


_LIMIT_ENV = {"max_units": "SPIKEC_MAX_NEURONS", "max_synapses": "SPIKEC_MAX_SYNAPSES"}


@dataclass(frozen=True, slots=True)
class ImportLimits:
    """Ceilings on what a model file may declare, checked before anything is read or
    allocated: at most ``max_units`` neurons in the input and in each layer, at most
    ``max_synapses`` synapses in each layer, and at most ``max_synapses`` values in any
    stored array (weights, thresholds, keys; 8 bytes each once read as float64).

    The defaults are the elaboration ceilings of ``.spk`` programs (20,000,000
    neurons, 64,000,000 synapses) and the same environment variables raise them:
    ``SPIKEC_MAX_NEURONS``, ``SPIKEC_MAX_SYNAPSES``.
    """

    max_units: int = DEFAULT_MAX_NEURONS
    max_synapses: int = DEFAULT_MAX_SYNAPSES

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ImportLimits:
        """The defaults, overridden by ``SPIKEC_MAX_NEURONS`` / ``SPIKEC_MAX_SYNAPSES``."""
        env = os.environ if environ is None else environ
        values = {f: env_count(var, env[var]) for f, var in _LIMIT_ENV.items() if env.get(var, "").strip()}
        return cls(**values)

    @property
    def max_bytes(self) -> int:
        """Bytes a stored array may declare: ``max_synapses`` float64 values."""
        return 8 * self.max_synapses

    def units(self, count: int, what: str) -> None:
        """Refuse ``what`` (a layer, the input) when it would have more than ``max_units`` neurons."""
        if count > self.max_units:
            raise ModelImportError(
                f"{what} would have {fmt_count(count)} neurons; the limit is {fmt_count(self.max_units)}"
                f" (set {_LIMIT_ENV['max_units']} to raise it)")

    def synapses(self, count: int, what: str) -> None:
        """Refuse ``what`` when it would have more than ``max_synapses`` synapses."""
        if count > self.max_synapses:
            raise ModelImportError(
                f"{what} would have {fmt_count(count)} synapses; the limit is"
                f" {fmt_count(self.max_synapses)} (set {_LIMIT_ENV['max_synapses']} to raise it)")

    def values(self, count: int, nbytes: int, what: str) -> None:
        """Refuse a stored array ``what`` declaring more values or bytes than allowed."""
        if count > self.max_synapses or nbytes > self.max_bytes:
            raise ModelImportError(
                f"{what} declares {fmt_count(count)} values ({fmt_count(nbytes)} bytes); the limit is"
                f" {fmt_count(self.max_synapses)} values or {fmt_count(self.max_bytes)} bytes (set"
                f" {_LIMIT_ENV['max_synapses']} to raise it)")


def first_nonfinite(values: np.ndarray) -> str | None:
    """``"value at index (i, j) is nan"`` for the first non-finite entry, or None."""
    bad = ~np.isfinite(values)
    if not bad.any():
        return None
    if values.ndim == 0:
        return f"value is {values[()]}"
    index = tuple(int(i) for i in np.unravel_index(int(np.argmax(bad)), values.shape))
    shown = index[0] if len(index) == 1 else index
    return f"value at index {shown} is {values[index]}"


# -- HDF5 model files (Keras, NIR): opened and scanned before anything is read --------

#: Groups nested deeper than this, or more objects than this in one file, are refused
#: (a model file has a few levels and a few hundred objects; a hard-link cycle has no end).
MAX_HDF5_DEPTH = 32
MAX_HDF5_OBJECTS = 100_000
_MAX_EXACT_INT = 1 << 53  # integers past this are not exact in float64


def _h5py() -> Any:
    try:
        import h5py
    except ImportError:
        raise ModelImportError("reading HDF5 model files needs the h5py package: pip install h5py") from None
    return h5py


#: What h5py raises on a damaged file.
H5_ERRORS = (OSError, KeyError, ValueError, RuntimeError, TypeError)


def open_hdf5(path: str | os.PathLike[str], limits: ImportLimits | None = None,
              what: str = "HDF5 file") -> Any:
    """Open the HDF5 file at ``path`` for reading after checking all of it: only hard
    links (external and soft links refused, never followed), no virtual datasets or
    external raw storage, at most :data:`MAX_HDF5_DEPTH` levels and
    :data:`MAX_HDF5_OBJECTS` objects, and no dataset declaring more than ``limits``
    allow. Errors (:class:`ModelImportError`) name the object, not the file; ``what`` is
    the kind of file the caller expects ("NIR file")."""
    h5py = _h5py()
    where = Path(path)
    if where.is_dir():
        raise ModelImportError(f"is a directory, not a {what}")
    if not where.is_file():
        raise ModelImportError("no such file")
    try:
        fh = h5py.File(path, "r")
    except H5_ERRORS as exc:
        raise ModelImportError(f"not a readable {what} ({exc})") from None
    try:
        _scan(fh, limits or ImportLimits.from_env())
    except BaseException:
        fh.close()
        raise
    return fh


def _scan(fh: Any, limits: ImportLimits) -> None:
    h5py = _h5py()
    stack: list[tuple[Any, str, int]] = [(fh, "", 0)]
    seen = 0
    while stack:
        group, where, depth = stack.pop()
        try:
            names = list(group.keys())
        except H5_ERRORS as exc:
            raise ModelImportError(f"group '{where or '/'}': cannot be read ({exc})") from None
        for key in names:
            path = f"{where}/{key}"
            seen += 1
            if seen > MAX_HDF5_OBJECTS:
                raise ModelImportError(f"more than {fmt_count(MAX_HDF5_OBJECTS)} objects; not a model file")
            try:
                link = group.get(key, getlink=True)
                obj = group[key] if isinstance(link, h5py.HardLink) else None
            except H5_ERRORS as exc:
                raise ModelImportError(f"'{path}': cannot be read ({exc})") from None
            if isinstance(link, h5py.ExternalLink):
                raise ModelImportError(f"'{path}' is an external link (to '{link.path}' in {link.filename});"
                                       " spikec reads only the file it is given")
            if obj is None:
                raise ModelImportError(f"'{path}' is a {type(link).__name__}; spikec follows hard links only")
            if isinstance(obj, h5py.Group):
                if depth + 1 > MAX_HDF5_DEPTH:
                    raise ModelImportError(f"group '{path}' is nested more than {MAX_HDF5_DEPTH} levels deep")
                stack.append((obj, path, depth + 1))
            elif isinstance(obj, h5py.Dataset):
                _check_dataset(obj, path, limits)


def _check_dataset(ds: Any, path: str, limits: ImportLimits) -> None:
    try:
        virtual, external, shape, dtype = ds.is_virtual, ds.external, ds.shape, ds.dtype
    except H5_ERRORS as exc:
        raise ModelImportError(f"dataset '{path}': cannot be read ({exc})") from None
    if virtual:
        raise ModelImportError(f"dataset '{path}' is a virtual dataset (its data lives in other files);"
                               " spikec reads only the file it is given")
    if external:
        raise ModelImportError(f"dataset '{path}' keeps its data in external files ({external[0][0]!r});"
                               " spikec reads only the file it is given")
    count = int(np.prod(shape, dtype=object)) if shape is not None else 0
    limits.values(count, count * dtype.itemsize, f"dataset '{path}'")


def read_real(ds: Any, path: str) -> np.ndarray:
    """A scanned dataset's values as float64, refusing anything that is not an array of
    real, finite numbers exactly representable in float64 (errors name ``path``)."""
    h5py = _h5py()
    if not isinstance(ds, h5py.Dataset):
        raise ModelImportError(f"'{path}' is a group, not a dataset of numbers")
    kind = ds.dtype.kind
    if kind == "c":
        raise ModelImportError(f"dataset '{path}': complex values ({ds.dtype}); spikec reads real numbers")
    if kind not in "biuf" or (kind == "f" and ds.dtype.itemsize > 8):
        raise ModelImportError(f"dataset '{path}': {ds.dtype} values, not real numbers")
    try:
        raw = np.asarray(ds[()])
    except H5_ERRORS as exc:
        raise ModelImportError(f"dataset '{path}': cannot be read ({exc})") from None
    if kind in "iu" and raw.size and int(np.max(np.abs(raw.astype(np.float64)))) > _MAX_EXACT_INT:
        raise ModelImportError(f"dataset '{path}': integers beyond 2**53 are not exact as float64")
    values = raw.astype(np.float64)
    bad = first_nonfinite(values)
    if bad is not None:
        raise ModelImportError(f"dataset '{path}': {bad}; weights must be finite")
    return values



def binarize(frames: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    """Pixels as spikes: True where the value is >= ``threshold``."""
    return np.asarray(frames, dtype=float) >= threshold


@dataclass(frozen=True, eq=False)
class ThresholdLayer:
    """One layer of threshold units (the equations are in the module docstring).

    ``pre``/``post``/``weight`` list the synapses (unit ``pre`` of the layer
    below, or input ``pre``, to unit ``post`` of this layer), sorted by
    ``(pre, post)``. ``kind`` is ``"dense"``, ``"conv"`` or ``"pool"``;
    ``macs`` counts the multiply-accumulates the float net spends on this
    layer per frame (0 for pooling, which compares instead).
    """

    name: str
    kind: str
    shape: tuple[int, ...]
    pre: np.ndarray
    post: np.ndarray
    weight: np.ndarray
    bias: np.ndarray
    threshold: np.ndarray
    decay: float = 1.0
    reset: float = 0.0
    macs: int = 0

    @property
    def size(self) -> int:
        """Number of units."""
        return int(np.prod(self.shape, dtype=np.int64))

    def __repr__(self) -> str:
        return (f"<ThresholdLayer {self.name} ({self.kind}) {self.shape}: {len(self.pre)} synapses,"
                f" decay {self.decay:g}>")

    def fan_out(self, n_inputs: int) -> np.ndarray:
        """Synapses leaving each of the ``n_inputs`` units below (for counting operations)."""
        return np.bincount(self.pre, minlength=n_inputs)

    def potentials(self, x: np.ndarray, with_bias: bool = True) -> np.ndarray:
        """``bias + sum w x`` for frames ``x`` (frames, inputs), summed in the simulator's
        order: the bias (or 0.0), then the synapses by ascending presynaptic index."""
        start = self.bias if with_bias else np.zeros_like(self.bias)
        acc = np.repeat(start[None, :], x.shape[0], axis=0)
        bounds = np.flatnonzero(np.diff(self.pre)) + 1
        starts = np.concatenate(([0], bounds)) if len(self.pre) else np.zeros(0, dtype=np.int64)
        ends = np.concatenate((bounds, [len(self.pre)])) if len(self.pre) else starts
        for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
            acc[:, self.post[a:b]] += x[:, self.pre[a], None] * self.weight[None, a:b]
        return acc


@dataclass(frozen=True, eq=False)
class BinaryNet:
    """A feed-forward stack of threshold layers with an optional decode key.

    ``input_shape`` is the shape of one frame (channels-last for images);
    ``key`` (classes x units of the last layer, 0/1) is Whetstone's
    Softmax_Decode key, or ``None`` when the model has none. ``input_mode``
    is one of :data:`INPUT_MODES`. ``source`` names the file it came from.
    """

    name: str
    input_shape: tuple[int, ...]
    layers: tuple[ThresholdLayer, ...]
    key: np.ndarray | None = None
    input_mode: str = "spikes"
    source: str = ""
    notes: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if self.input_mode not in INPUT_MODES:
            raise ModelImportError(
                f"unknown input mode '{self.input_mode}'; expected one of {', '.join(INPUT_MODES)}")
        if not self.layers:
            raise ModelImportError(f"model '{self.name}' has no spiking layer")
        if self.key is not None and self.key.shape[1] != self.layers[-1].size:
            raise ModelImportError(
                f"model '{self.name}': the decode key has {self.key.shape[1]} columns but the last"
                f" spiking layer has {self.layers[-1].size} units")

    def __repr__(self) -> str:
        layers = ", ".join(f"{layer.name}{list(layer.shape)}" for layer in self.layers)
        key = "" if self.key is None else f", key {self.key.shape[0]} classes"
        return (f"<BinaryNet {self.name}: input {list(self.input_shape)} ({self.input_mode}) -> {layers}"
                f"{key}>")

    # -- facts ------------------------------------------------------------------

    @property
    def n_inputs(self) -> int:
        """Values per frame (input neurons in spike mode)."""
        return int(np.prod(self.input_shape, dtype=np.int64))

    @property
    def n_outputs(self) -> int:
        """Units of the last layer (the output ``out`` of the circuit)."""
        return self.layers[-1].size

    @property
    def latency(self) -> int:
        """Steps from a frame to its output: one per layer, one less with current input
        (the currents reach the first layer at the frame's own step)."""
        return len(self.layers) - (1 if self.input_mode == "current" else 0)

    @property
    def memoryless(self) -> bool:
        """True when every layer has decay 1 (a frame-by-frame pipeline)."""
        return all(layer.decay == 1.0 for layer in self.layers)

    def with_input_mode(self, mode: str) -> BinaryNet:
        """The same net with frames given as ``"spikes"`` or ``"current"``."""
        return BinaryNet(self.name, self.input_shape, self.layers, self.key, mode, self.source,
                         self.notes)

    def decode_key(self) -> DecodeKey | None:
        """The key as a probe holds it (rows of floats), or None."""
        return None if self.key is None else tuple(tuple(row) for row in self.key.tolist())

    # -- the numpy reference ------------------------------------------------------

    def _frames(self, frames: np.ndarray) -> np.ndarray:
        x = np.asarray(frames)
        if x.ndim < 2 or int(np.prod(x.shape[1:])) != self.n_inputs:
            raise ModelImportError(
                f"model '{self.name}' takes frames of shape {self.input_shape} (or {self.n_inputs}"
                f" values), got an array of shape {x.shape}")
        return x.reshape(x.shape[0], self.n_inputs)

    def currents(self, frames: np.ndarray) -> np.ndarray:
        """The first layer's injected currents ``sum_j w_ji x_j`` per frame (frames, units),
        summed by ascending input index (current-injection mode; the bias stays in the neurons)."""
        return self.layers[0].potentials(self._frames(frames).astype(float), with_bias=False)

    def local_name(self, i: int) -> str:
        """The name of layer i's neurons inside the circuit: the layer's own, ``out`` for the last."""
        return "out" if i == len(self.layers) - 1 else self.layers[i].name

    def forward(self, frames: np.ndarray) -> list[np.ndarray]:
        """Binary activations of every layer for ``frames`` (frames, *input_shape) or
        (frames, inputs): a list of bool arrays (frames, units), one per layer.

        Spike mode binarizes the frames first (:func:`binarize`). The sums
        follow the simulator's order, so these are the spikes a simulation
        gives, bit for bit.
        """
        if not self.memoryless:
            raise ModelImportError(
                f"model '{self.name}' has integrating (IF) layers: their spikes depend on the"
                " frames before, so there is no frame-by-frame forward pass; simulate it instead")
        x = self._frames(frames)
        out: list[np.ndarray] = []
        for i, layer in enumerate(self.layers):
            if i == 0 and self.input_mode == "current":
                v = layer.bias[None, :] + self.currents(x)
            else:
                below = binarize(x).astype(float) if i == 0 else out[-1].astype(float)
                v = layer.potentials(below)
            out.append(v >= layer.threshold[None, :])
        return out

    def predict(self, frames: np.ndarray) -> np.ndarray:
        """The class of each frame by the decode key (needs a key)."""
        if self.key is None:
            raise ModelImportError(f"model '{self.name}' has no decode key (no Softmax_Decode layer)")
        scores = label_scores(self.forward(frames)[-1], self.key)
        return np.asarray(np.argmax(scores, axis=-1))

    # -- building spiking networks ------------------------------------------------------

    def build(self, builder: Builder, inputs: Sequence[str] | np.ndarray) -> list[np.ndarray]:
        """Add the layers' neurons and synapses through ``builder``, one bulk call per layer
        for each; returns the neuron indices of every layer. ``inputs`` are the input
        neurons, names or indices (spike mode; ignored with current input, where nothing
        feeds the first layer)."""
        feeds = self.input_mode == "spikes"
        if feeds and len(inputs) != self.n_inputs:
            raise ModelImportError(
                f"model '{self.name}' takes {self.n_inputs} inputs, got {len(inputs)}")
        below = builder.net.resolve(inputs) if feeds and len(inputs) else np.zeros(0, dtype=np.int64)
        made: list[np.ndarray] = []
        for i, layer in enumerate(self.layers):
            units = builder.neurons(self.local_name(i), layer.size, threshold=layer.threshold,
                                    decay=layer.decay, reset=layer.reset, bias=layer.bias)
            if i or feeds:
                builder.synapses(below[layer.pre], units[layer.post], layer.weight)
            made.append(units)
            below = units
        return made

    def network(self, name: str | None = None) -> Network:
        """A standalone network: inputs ``x[i]`` (spike mode), layers named after the
        model's layers, the last one ``out[i]``, probed raw and (with a key) as
        ``label(out)``."""
        net = Network(name or self.name)
        inputs = net.add_inputs("x", self.n_inputs) if self.input_mode == "spikes" else np.zeros(0, np.int64)
        out = net.names(self.build(Builder(net), inputs)[-1])
        net.probe(*out, label="out", array=True)
        if self.key is not None:
            net.probe(*out, label="label(out)", decoder="label", array=True, key=self.key)
        return net

    def circuit(self, name: str) -> ModelCircuit:
        """The net as a circuit for ``import model``: ``let m = name(px)``, output ``m.out``."""
        if self.input_mode != "spikes":
            raise ModelImportError(
                f"model '{self.name}': a .spk circuit takes its input as spikes; current injection"
                " is available from Python (spikec.import_model(path, input='current'))")
        return ModelCircuit(self, name)

    def drive(self, frames: np.ndarray, prefix: str = "", inputs: Sequence[str] | None = None,
              steps: int | None = None) -> dict[str, Any]:
        """Keyword arguments for :func:`spikec.simulate` that stream ``frames``, frame k at step k.

        Spike mode returns ``{"inputs": ...}`` for input neurons ``inputs``
        (default ``x[0]``, ``x[1]``, ...); current mode returns
        ``{"currents": ...}`` for the first layer's neurons, named with
        ``prefix`` as :meth:`build` names them. ``steps`` defaults to the
        number of frames plus the latency.
        """
        x = self._frames(frames)
        total = len(x) + self.latency if steps is None else steps
        shown = min(len(x), total)
        if self.input_mode == "spikes":
            names = list(inputs) if inputs is not None else [f"x[{i}]" for i in range(self.n_inputs)]
            if len(names) != self.n_inputs:
                raise ModelImportError(
                    f"model '{self.name}' takes {self.n_inputs} inputs, got {len(names)} names")
            raster = np.zeros((self.n_inputs, total), dtype=bool)
            raster[:, :shown] = binarize(x[:shown]).T
            return {"inputs": {name: raster[i] for i, name in enumerate(names)}}
        first = self.layers[0]
        local = self.local_name(0)
        cur = np.zeros((first.size, total))
        cur[:, :shown] = self.currents(x[:shown]).T
        return {"currents": {f"{prefix}{local}[{k}]": cur[k] for k in range(first.size)}}


class ModelCircuit:
    """An imported model as a Python circuit (the ``GeneratorCircuit`` protocol of
    :mod:`spikec.dsl.values`): one input array ``x``, one output ``out`` (the last
    spiking layer), and ``decode_keys`` so ``probe label(m.out)`` finds the key."""

    def __init__(self, model: BinaryNet, name: str) -> None:
        self.model = model
        self.name = name
        self.params: tuple[str, ...] = ()
        self.inputs: tuple[tuple[str, int | None], ...] = (("x", model.n_inputs),)
        self.outputs: tuple[str, ...] = ("out",)
        key = model.decode_key()
        self.decode_keys: dict[str, DecodeKey] = {} if key is None else {"out": key}

    def build(self, builder: Builder, params: Mapping[str, Any],
              inputs: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
        """Add the model's layers fed by ``inputs["x"]``; the output is the last layer."""
        return {"out": builder.net.names(self.model.build(builder, inputs["x"])[-1])}

    def __repr__(self) -> str:
        return f"<model circuit {self.name}: {self.model.source or self.model.name}>"
