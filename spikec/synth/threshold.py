"""Feed-forward threshold circuits: gates, pipeline stages, and their neurons.

A :class:`ThresholdCircuit` is a small symbolic netlist of threshold gates
over named 0/1 signals: the circuit's input ports and the outputs of other
gates. Each :class:`Gate` computes::

    y = [ sum_i w_i * x_i >= theta ]

on the values its inputs carry *for the same input word*. Emitting the
circuit turns each gate into one memoryless neuron (``decay = 1``) and
places it on a pipeline *stage*: the inputs are at stage 0, a gate at
``1 + max(stage of its inputs)``, and each synapse gets the delay
``stage(gate) - stage(source)``, so every path from the inputs to a gate
has the same length. The outputs are then aligned on one stage, the
circuit's *latency* L: a new input word may enter every step, and word k
(given at step k) leaves at step k + L.

A gate with ``theta <= 0`` fires without input; it becomes a neuron with
``threshold = 1`` and ``bias = 1 - theta`` (negative literals are negative
weights plus bias, never an inhibitory "always on" neuron).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from spikec.errors import NetworkError
from spikec.ir.builder import CircuitBuilder

__all__ = [
    "Gate",
    "ThresholdCircuit",
    "Layout",
    "gate_params",
    "port_signals",
]


@dataclass(frozen=True, slots=True)
class Gate:
    """A threshold gate ``name = [sum_i w_i * x_i >= theta]`` over 0/1 signals."""

    name: str
    inputs: tuple[tuple[str, float], ...]
    theta: float

    def fires(self, values: Mapping[str, np.ndarray]) -> np.ndarray:
        """The gate's output for arrays of input values (one entry per input word)."""
        total: np.ndarray | float = 0.0
        for source, weight in self.inputs:
            total = total + weight * values[source].astype(np.float64)
        shape = next(iter(values.values())).shape if values else ()
        return np.broadcast_to(np.asarray(total) >= self.theta, shape).copy()


def gate_params(theta: float) -> dict[str, float]:
    """Neuron parameters of a memoryless gate that fires when its input sum reaches ``theta``."""
    if theta >= 1:
        return {"threshold": float(theta), "decay": 1.0}
    return {"threshold": 1.0, "decay": 1.0, "bias": float(1 - theta)}


def port_signals(port: str, size: int | None) -> list[str]:
    """Signal names of a port: ``[port]`` for one neuron, ``port[0]``, ... for an array."""
    return [port] if size is None else [f"{port}[{i}]" for i in range(size)]


@dataclass(frozen=True, slots=True)
class Layout:
    """Pipeline stages of every signal and the circuit's latency (stage of its outputs)."""

    stages: dict[str, int]
    latency: int


class ThresholdCircuit:
    """A feed-forward circuit of threshold gates with named input and output ports.

    Build it with :meth:`gate` (gates may only read signals that already
    exist, so the circuit is acyclic by construction) and :meth:`output`,
    then :meth:`emit` it. :meth:`evaluate` computes it directly, for tests.
    """

    def __init__(self, inputs: Mapping[str, int | None]) -> None:
        self.input_ports: dict[str, int | None] = dict(inputs)
        self.inputs: list[str] = [sig for port, size in inputs.items()
                                  for sig in port_signals(port, size)]
        self._known: set[str] = set(self.inputs)
        self.gates: dict[str, Gate] = {}
        self.outputs: dict[str, list[str]] = {}
        self._array_outputs: set[str] = set()

    # ---- building ------------------------------------------------------------------

    def gate(self, name: str, inputs: Iterable[tuple[str, float]], theta: float) -> str:
        """Add gate ``name = [sum w * x >= theta]`` and return its name.

        Repeated sources are merged (weights add); zero weights are dropped.
        """
        if name in self._known:
            raise NetworkError(f"threshold circuit: signal '{name}' is defined twice")
        merged: dict[str, float] = {}
        for source, weight in inputs:
            if source not in self._known:
                raise NetworkError(f"threshold circuit: gate '{name}' reads unknown signal '{source}'")
            merged[source] = merged.get(source, 0.0) + weight
        pairs = tuple((src, w) for src, w in merged.items() if w != 0)
        self.gates[name] = Gate(name, pairs, theta)
        self._known.add(name)
        return name

    def relay(self, name: str, source: str) -> str:
        """A gate that copies ``source`` (one step later, or later still once aligned)."""
        return self.gate(name, [(source, 1)], 1)

    def output(self, port: str, signals: str | Sequence[str]) -> None:
        """Declare output ``port``: one signal, or a list of them (an array, even of one)."""
        if isinstance(signals, str):
            self.outputs[port] = [signals]
        else:
            self.outputs[port] = list(signals)
            self._array_outputs.add(port)
        for sig in self.outputs[port]:
            if sig not in self._known:
                raise NetworkError(f"threshold circuit: output '{port}' names unknown signal '{sig}'")

    def prune(self) -> int:
        """Remove the gates that no output depends on; return how many went."""
        live = {sig for sigs in self.outputs.values() for sig in sigs}
        for gate in reversed(list(self.gates.values())):
            if gate.name in live:
                live.update(src for src, _ in gate.inputs)
        dead = [name for name in self.gates if name not in live]
        for name in dead:
            del self.gates[name]
            self._known.discard(name)
        return len(dead)

    # ---- stages ----------------------------------------------------------------------

    def consumers(self) -> dict[str, int]:
        """How many gates read each signal."""
        count: dict[str, int] = {}
        for gate in self.gates.values():
            for source, _ in gate.inputs:
                count[source] = count.get(source, 0) + 1
        return count

    def align_outputs(self) -> None:
        """Make every output a gate that can be held back to the latency without
        delaying anything else: an output that is an input, or that other gates
        read, gets a relay gate named ``SIGNAL.relay``."""
        stages = self._asap()
        out_signals = [sig for sigs in self.outputs.values() for sig in sigs]
        if not out_signals:
            return
        latency = max([stages[s] for s in out_signals] + [1])
        used = self.consumers()
        for sigs in self.outputs.values():
            for i, sig in enumerate(sigs):
                if stages[sig] < latency and (sig not in self.gates or used.get(sig)):
                    relay = f"{sig}.relay"
                    if relay not in self.gates:
                        self.relay(relay, sig)
                    sigs[i] = relay

    def _asap(self) -> dict[str, int]:
        stages = dict.fromkeys(self.inputs, 0)
        for gate in self.gates.values():  # gates only read earlier signals
            stages[gate.name] = 1 + max((stages[src] for src, _ in gate.inputs), default=0)
        return stages

    def layout(self) -> Layout:
        """Stages of all signals, with every output held back to the latency.

        Call :meth:`align_outputs` first (``emit`` does) so that holding an
        output back delays nothing else.
        """
        stages = self._asap()
        out_signals = {sig for sigs in self.outputs.values() for sig in sigs}
        latency = max([stages[s] for s in out_signals] + [1]) if out_signals else max(
            stages.values(), default=0)
        for sig in out_signals:
            if sig in self.gates:
                stages[sig] = latency
        return Layout(stages, latency)

    # ---- using it ----------------------------------------------------------------------

    def emit(self, builder: CircuitBuilder, inputs: Mapping[str, Sequence[str]],
             names: Mapping[str, str] | None = None) -> dict[str, list[str]]:
        """Add the circuit's neurons and synapses through ``builder``.

        ``inputs`` maps each input port to the full names of the neurons that
        drive it; ``names`` optionally renames gates (local names). Returns
        the full neuron names of each output port.
        """
        self.align_outputs()
        layout = self.layout()
        full: dict[str, str] = {}
        for port, size in self.input_ports.items():
            given = list(inputs[port])
            want = port_signals(port, size)
            if len(given) != len(want):
                raise NetworkError(
                    f"threshold circuit: port '{port}' takes {len(want)} neurons, got {len(given)}")
            full.update(zip(want, given, strict=True))
        rename = names or {}
        for gate in self.gates.values():
            full[gate.name] = builder.neuron(rename.get(gate.name, gate.name), **gate_params(gate.theta))
        for gate in self.gates.values():
            stage = layout.stages[gate.name]
            for source, weight in gate.inputs:
                builder.synapse(full[source], full[gate.name], weight, stage - layout.stages[source])
        return {port: [full[s] for s in sigs] for port, sigs in self.outputs.items()}

    def is_array_output(self, port: str) -> bool:
        """True when ``port`` was declared as a list of signals."""
        return port in self._array_outputs

    def evaluate(self, values: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Every signal's value for the given input values (bool arrays of one shape)."""
        out: dict[str, np.ndarray] = {sig: np.asarray(values[sig], dtype=bool) for sig in self.inputs}
        for gate in self.gates.values():
            out[gate.name] = gate.fires(out)
        return out

    def evaluate_ports(self, words: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Evaluate on integer words: ``words[port]`` holds one unsigned integer per
        row (bit i drives ``port[i]``); returns each output port as integers the same way."""
        values: dict[str, np.ndarray] = {}
        for port, size in self.input_ports.items():
            word = np.asarray(words[port], dtype=np.int64)
            for i, sig in enumerate(port_signals(port, size)):
                values[sig] = (word >> i) & 1 == 1
        signals = self.evaluate(values)
        result: dict[str, np.ndarray] = {}
        for port, sigs in self.outputs.items():
            acc = np.zeros(len(next(iter(words.values()))), dtype=object)
            for i, sig in enumerate(sigs):
                acc = acc + signals[sig].astype(object) * (1 << i)
            result[port] = acc
        return result

    @property
    def num_gates(self) -> int:
        """Number of gates (neurons once emitted), after output alignment."""
        self.align_outputs()
        return len(self.gates)

    @property
    def num_synapses(self) -> int:
        """Number of synapses once emitted, after output alignment."""
        self.align_outputs()
        return sum(len(g.inputs) for g in self.gates.values())
