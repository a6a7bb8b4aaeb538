"""An imported NIR graph as spikec neuron arrays and synapse groups (:class:`NIRNet`).

:mod:`spikec.backends.nir_import` reads a graph into populations (one per spiking
NIR node, plus the input, relays and a clock neuron where needed) and synapse
groups (one per pair of populations and spikec delay). A graph that is a plain
chain of layers is returned as a :class:`~spikec.backends.binary_net.BinaryNet`
instead (:meth:`NIRNet.as_binary_net`); every other graph as a :class:`NIRNet`,
which builds the same kind of network, circuit and input drive.

Timing: the spikes of NIR node ``n`` at NIR step ``k`` are the spikes of the
spikec array ``arrays[n]`` at step ``k + shifts[n]``; the output at NIR step ``k``
is ``out`` at step ``k + latency`` (``docs/nir.md``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from spikec.backends.binary_net import BinaryNet, ModelImportError, ThresholdLayer, binarize
from spikec.ir.builder import Builder
from spikec.ir.network import DecodeKey, Network

__all__ = ["Population", "SynapseGroup", "NIRNet", "NIRCircuit", "INPUT", "CLOCK"]

#: Population index of the input array ``x`` in :class:`SynapseGroup`.
INPUT = -1


#: The clock's name in a network (one neuron, firing at every step from step 0).
CLOCK = "clock"


@dataclass(frozen=True, eq=False)
class Population:
    """One spiking NIR node as a spikec neuron array (parameters in spikec's neuron order).

    ``order[j]`` is NIR's flat (C-order) index of neuron j; ``shape`` the NIR tensor
    shape; ``shift`` the node's s; ``kind`` the NIR node type (``relay`` and ``clock``
    for the importer's own)."""

    node: str
    name: str
    kind: str
    shape: tuple[int, ...]
    order: np.ndarray
    threshold: np.ndarray
    decay: np.ndarray
    reset: np.ndarray
    bias: np.ndarray
    shift: int
    via: str = ""
    macs: int = 0

    @property
    def size(self) -> int:
        """Number of neurons."""
        return len(self.threshold)

    @property
    def spikec_shape(self) -> tuple[int, ...]:
        """The shape spikec numbers the neurons in: channels-last for (C, H, W)."""
        if len(self.shape) == 3:
            c, h, w = self.shape
            return (h, w, c)
        return self.shape


@dataclass(frozen=True, eq=False)
class SynapseGroup:
    """Synapses from population ``pre`` (:data:`INPUT` for the input) to ``post`` with one
    spikec ``delay``: local neuron indices ``src -> dst``, sorted by (src, dst)."""

    pre: int
    post: int
    delay: int
    src: np.ndarray
    dst: np.ndarray
    weight: np.ndarray


@dataclass(frozen=True, eq=False)
class NIRNet:
    """An imported NIR graph (any topology) with the surface of :class:`BinaryNet`.

    ``outputs`` pairs each output's name with its population; ``key`` is the decode
    key of a single output (or None); ``dt`` the step the graph was read at."""

    name: str
    input_shape: tuple[int, ...]
    populations: tuple[Population, ...]
    groups: tuple[SynapseGroup, ...]
    outputs: tuple[tuple[str, int], ...]
    key: np.ndarray | None = None
    source: str = ""
    dt: float = 1.0
    notes: tuple[str, ...] = field(default=())
    input_mode: str = "spikes"

    def __repr__(self) -> str:
        pops = ", ".join(f"{p.name}{list(p.spikec_shape)}@{p.shift}" for p in self.populations)
        return f"<NIRNet {self.name}: input {list(self.input_shape)} -> {pops}>"

    # -- facts -------------------------------------------------------------------------------

    @property
    def n_inputs(self) -> int:
        """Input neurons (values per frame)."""
        return int(np.prod(self.input_shape, dtype=np.int64))

    @property
    def n_outputs(self) -> int:
        """Neurons of the (first) output."""
        return self.populations[self.outputs[0][1]].size

    @property
    def latencies(self) -> dict[str, int]:
        """Each output's shift: its NIR step k is spikec step k + shift."""
        return {name: self.populations[i].shift for name, i in self.outputs}

    @property
    def latency(self) -> int:
        """The largest output shift (the steps :meth:`drive` adds after the frames)."""
        return max(self.latencies.values())

    @property
    def shifts(self) -> dict[str, int]:
        """Each spiking NIR node's shift s."""
        return {p.node: p.shift for p in self.populations if p.kind not in ("relay", "clock")}

    @property
    def arrays(self) -> dict[str, str]:
        """Each spiking NIR node's array name in :meth:`network`."""
        return {p.node: p.name for p in self.populations if p.kind not in ("relay", "clock")}

    @property
    def memoryless(self) -> bool:
        """True when every neuron has decay 1."""
        return all(bool(np.all(p.decay == 1.0)) for p in self.populations)

    def decode_key(self) -> DecodeKey | None:
        """The key as a probe holds it, or None."""
        return None if self.key is None else tuple(tuple(row) for row in self.key.tolist())

    def with_input_mode(self, mode: str) -> NIRNet:
        """Spike input only (current injection needs a layered feed-forward chain)."""
        if mode != "spikes":
            raise ModelImportError(
                f"model '{self.name}': input='{mode}' needs a feed-forward chain of layers; this graph"
                " (branches, recurrence, delays or timed drives) takes spikes"
            )
        return self

    def _frames_view(self) -> BinaryNet:
        view = self.as_binary_net(fold_clock=True)
        if view is None or not view.memoryless:
            raise ModelImportError(
                f"model '{self.name}' is not a memoryless feed-forward chain, so there is no"
                " frame-by-frame forward pass; simulate model.network() with model.drive(frames) instead"
            )
        return view

    @property
    def layers(self) -> tuple[Any, ...]:
        """The layers of a feed-forward chain (its clock folded into the biases; see
        :meth:`as_binary_net`); a clear error for other graphs."""
        return self._frames_view().layers

    def forward(self, frames: np.ndarray) -> list[np.ndarray]:
        """Binary activations of every layer frame by frame, for a memoryless feed-forward
        chain (:meth:`BinaryNet.forward`; the clock's drive counts as bias); a clear error
        for graphs with state or other timing."""
        return self._frames_view().forward(frames)

    def predict(self, frames: np.ndarray) -> np.ndarray:
        """The class of each frame by the decode key (see :meth:`forward`)."""
        return self._frames_view().predict(frames)

    # -- building ------------------------------------------------------------------------------

    def build(self, builder: Builder, inputs: Sequence[str] | np.ndarray) -> list[np.ndarray]:
        """Add every population's neurons, then every synapse group, through ``builder``;
        returns the neuron indices of each population."""
        if len(inputs) != self.n_inputs:
            raise ModelImportError(f"model '{self.name}' takes {self.n_inputs} inputs, got {len(inputs)}")
        x = builder.net.resolve(inputs) if len(inputs) else np.zeros(0, dtype=np.int64)
        made = [
            builder.neurons(p.name, p.size, threshold=p.threshold, decay=p.decay, reset=p.reset, bias=p.bias)
            for p in self.populations
        ]
        for g in self.groups:
            below = x if g.pre == INPUT else made[g.pre]
            builder.synapses(below[g.src], made[g.post][g.dst], g.weight, g.delay)
        return made

    def network(self, name: str | None = None) -> Network:
        """A standalone network: inputs ``x[i]``, one array per population, each output
        probed raw (and ``label(out)`` with a key)."""
        net = Network(name or self.name)
        made = self.build(Builder(net), net.add_inputs("x", self.n_inputs))
        for out, i in self.outputs:
            names = net.names(made[i])
            net.probe(*names, label=out, array=True)
            if self.key is not None:
                net.probe(*names, label=f"label({out})", decoder="label", array=True, key=self.key)
        return net

    def circuit(self, name: str) -> NIRCircuit:
        """The graph as a circuit for ``import model``: ``let m = name(px)``, outputs ``m.out``."""
        return NIRCircuit(self, name)

    def drive(
        self,
        frames: np.ndarray,
        prefix: str = "",
        inputs: Sequence[str] | None = None,
        steps: int | None = None,
    ) -> dict[str, Any]:
        """``{"inputs": ...}`` for :func:`spikec.simulate` streaming ``frames`` (binarized,
        frame k at step k) into ``inputs`` (default ``x[0]``, ...); ``steps`` defaults to
        the frames plus the latency."""
        x = np.asarray(frames)
        if x.ndim < 2 or int(np.prod(x.shape[1:])) != self.n_inputs:
            raise ModelImportError(
                f"model '{self.name}' takes frames of shape {self.input_shape} (or {self.n_inputs}"
                f" values), got an array of shape {x.shape}"
            )
        x = x.reshape(x.shape[0], self.n_inputs)
        total = len(x) + self.latency if steps is None else steps
        shown = min(len(x), total)
        names = list(inputs) if inputs is not None else [f"x[{i}]" for i in range(self.n_inputs)]
        if len(names) != self.n_inputs:
            raise ModelImportError(
                f"model '{self.name}' takes {self.n_inputs} inputs, got {len(names)} names"
            )
        raster = np.zeros((self.n_inputs, total), dtype=bool)
        raster[:, :shown] = binarize(x[:shown]).T
        return {"inputs": {name: raster[i] for i, name in enumerate(names)}}

    # -- the layered special case -------------------------------------------------------------

    def as_binary_net(self, fold_clock: bool = False) -> BinaryNet | None:
        """The same network as a :class:`BinaryNet` when it is one: a chain of populations,
        each fed only by the one before (the first by the input) with delay 1, one decay and
        reset per population, no clock or relay, one output (the last).

        ``fold_clock`` gives the frame-by-frame view of a chain whose constant drives come
        from the clock (so that nothing fires before a layer's first NIR step): each clock
        synapse becomes part of its neuron's bias. That net computes the same frame by frame
        (:meth:`forward`), but its pipeline fills from step 0."""
        pops = list(self.populations)
        groups = list(self.groups)
        bias = {i: p.bias.copy() for i, p in enumerate(pops)}
        if fold_clock and pops and pops[-1].kind == "clock":
            at = len(pops) - 1
            for g in groups:
                if g.pre == at:
                    np.add.at(bias[g.post], g.dst, g.weight)
            pops = pops[:-1]
            groups = [g for g in groups if g.pre != at]
        if (
            len(self.outputs) != 1
            or self.outputs[0][1] != len(pops) - 1
            or len(groups) != len(pops)
            or any(p.kind in ("relay", "clock") for p in pops)
        ):
            return None
        layers = []
        for i, (p, g) in enumerate(zip(pops, groups, strict=True)):
            if g.pre != i - 1 or g.post != i or g.delay != 1:
                return None
            if np.any(p.decay != p.decay[0]) or np.any(p.reset != p.reset[0]):
                return None
            kind = {"Conv1d": "conv", "Conv2d": "conv", "SumPool2d": "pool", "AvgPool2d": "pool"}.get(
                p.via, "dense"
            )
            layers.append(
                ThresholdLayer(
                    p.name,
                    kind,
                    p.spikec_shape,
                    g.src,
                    g.dst,
                    g.weight,
                    bias[i],
                    p.threshold,
                    float(p.decay[0]),
                    float(p.reset[0]),
                    p.macs,
                )
            )
        return BinaryNet(
            self.name, self.input_shape, tuple(layers), self.key, "spikes", self.source, self.notes
        )


class NIRCircuit:
    """A :class:`NIRNet` as a Python circuit (the ``GeneratorCircuit`` protocol of
    :mod:`spikec.dsl.values`): input array ``x``, one output per NIR Output node."""

    def __init__(self, model: NIRNet, name: str) -> None:
        self.model = model
        self.name = name
        self.params: tuple[str, ...] = ()
        self.inputs: tuple[tuple[str, int | None], ...] = (("x", model.n_inputs),)
        self.outputs: tuple[str, ...] = tuple(out for out, _ in model.outputs)
        key = model.decode_key()
        self.decode_keys: dict[str, DecodeKey] = {} if key is None else {o: key for o in self.outputs}

    def build(
        self, builder: Builder, params: Mapping[str, Any], inputs: Mapping[str, Sequence[str]]
    ) -> dict[str, list[str]]:
        """Add the graph fed by ``inputs["x"]``; returns each output's neurons."""
        made = self.model.build(builder, inputs["x"])
        return {out: builder.net.names(made[i]) for out, i in self.model.outputs}

    def __repr__(self) -> str:
        return f"<model circuit {self.name}: {self.model.source or self.model.name}>"
