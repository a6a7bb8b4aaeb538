"""Python circuits of the library, callable from ``.spk`` like ``.spk`` circuits.

A :class:`LibraryCircuit` wraps a function that builds a
:class:`~spikec.synth.threshold.ThresholdCircuit` from integer parameters. It
meets the :class:`spikec.dsl.GeneratorCircuit` protocol (``name``,
``params``, ``inputs`` with sizes that may depend on the parameters,
``outputs``, ``build``), so ``import std.NAME`` binds it and
``let u = mul<8>(a, b)`` instantiates it; from Python,
:meth:`LibraryCircuit.network` builds it alone and :meth:`circuit` gives the
symbolic circuit (with :meth:`~spikec.synth.threshold.ThresholdCircuit.evaluate`).

A library module lists its circuits in a module-level ``CIRCUITS`` dict;
``import std.NAME`` looks there (besides ``NAME.spk``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from spikec.errors import CircuitError
from spikec.ir.builder import Builder, CircuitBuilder
from spikec.ir.network import Network
from spikec.synth.threshold import ThresholdCircuit, port_signals

__all__ = ["CircuitError", "LibraryCircuit", "int_param", "bits"]

#: A port size: fixed, or computed from the (checked) parameters.
SizeRule = int | None | Callable[[Mapping[str, int]], int | None]
#: Symbolic circuits up to this many synapses are kept for the next instance.
_CACHED_SYNAPSES = 1_000_000


def int_param(name: str, value: Any, low: int, high: int | None = None) -> int:
    """``value`` as an integer in ``[low, high]``, or a :class:`CircuitError`."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value):
        raise CircuitError(f"parameter {name} must be an integer, got {value!r}")
    out = int(value)
    if out < low or (high is not None and out > high):
        bound = f">= {low}" if high is None else f"in {low}..{high}"
        raise CircuitError(f"parameter {name} must be {bound}, got {out}")
    return out


def bits(n: int) -> int:
    """Number of binary digits of ``n`` (``bits(0) == 0``, ``bits(8) == 4``)."""
    return int(n).bit_length()


class LibraryCircuit:
    """A circuit built in Python from integer parameters; see the module docstring.

    ``limits`` maps each parameter to its ``(low, high)`` range (high may be
    None); ``make(**params)`` returns the circuit with input ports named as
    ``ports``; ``scalar`` names the outputs that are one neuron. ``size(**params)``
    gives the built circuit's (neurons, synapses) by formula, so that an
    instance too large for the elaboration's limits is refused before anything
    of it is made.
    """

    def __init__(self, name: str, limits: Mapping[str, tuple[int, int | None]],
                 ports: Sequence[tuple[str, SizeRule]], outputs: Sequence[str],
                 make: Callable[..., ThresholdCircuit], doc: str = "",
                 scalar: Sequence[str] = (), *, size: Callable[..., tuple[int, int]]) -> None:
        self.name = name
        self.params: tuple[str, ...] = tuple(limits)
        self.limits = dict(limits)
        self._ports = tuple(ports)
        self.outputs: tuple[str, ...] = tuple(outputs)
        self._make = make
        self._size = size
        self.doc = doc
        #: Outputs that are arrays, even when they hold one neuron (all but ``scalar``).
        self.array_outputs: tuple[str, ...] = tuple(o for o in outputs if o not in scalar)
        self.inputs: tuple[tuple[str, int | None | Callable[[Mapping[str, Any]], int | None]], ...] = (
            tuple((port, self._size_rule(size)) for port, size in self._ports))
        self._cache: dict[tuple[int, ...], ThresholdCircuit] = {}

    def __repr__(self) -> str:
        return f"<LibraryCircuit {self.name}<{', '.join(self.params)}>>"

    def _size_rule(self, size: SizeRule) -> int | None | Callable[[Mapping[str, Any]], int | None]:
        if size is None or isinstance(size, int):
            return size
        rule = size
        return lambda raw: rule(self.check(raw))

    def check(self, params: Mapping[str, Any]) -> dict[str, int]:
        """The parameters as checked integers (a :class:`CircuitError` names a bad one)."""
        missing = [p for p in self.params if p not in params]
        if missing:
            raise CircuitError(f"{self.name} needs parameter {missing[0]}")
        return {p: int_param(p, params[p], *self.limits[p]) for p in self.params}

    def size(self, **params: Any) -> tuple[int, int]:
        """The (neurons, synapses) the circuit has for these parameter values, by formula
        (nothing is built)."""
        return self._size(**self.check(params))

    def label(self, params: Mapping[str, Any]) -> str:
        """``matmul<256>``: the circuit with its parameter values, for messages."""
        return f"{self.name}<{', '.join(str(params[p]) for p in self.params)}>"

    def circuit(self, **params: Any) -> ThresholdCircuit:
        """The symbolic circuit for these parameter values (built once, then reused,
        unless it is large)."""
        checked = self.check(params)
        key = tuple(checked[p] for p in self.params)
        found = self._cache.get(key)
        if found is None:
            found = self._make(**checked)
            found.prune()
            found.align_outputs()
            if self._size(**checked)[1] <= _CACHED_SYNAPSES:
                self._cache[key] = found
        return found

    def build(self, builder: CircuitBuilder, params: Mapping[str, Any],
              inputs: Mapping[str, Sequence[str]]) -> Mapping[str, Any]:
        """Add the circuit's neurons through ``builder`` (the GeneratorCircuit protocol):
        a :class:`~spikec.ir.builder.Builder` is first asked whether the circuit's size
        passes its limits, and then gets the circuit in bulk; the outputs are network
        indices (names, through any other builder)."""
        checked = self.check(params)
        check_size = getattr(builder, "check_size", None)
        if check_size is not None:
            neurons, synapses = self._size(**checked)
            check_size(neurons, synapses, f"circuit {self.label(checked)}")
        circuit = self.circuit(**checked)
        if isinstance(builder, Builder):
            return circuit.emit_indices(builder, inputs)
        return circuit.emit(builder, inputs)

    def network(self, **params: Any) -> Network:
        """The circuit alone in a network: input neurons named after the ports
        (``a[0]``, ...), gates under their local names, every output probed."""
        circuit = self.circuit(**params)
        net = Network(self.name)
        inputs: dict[str, list[str]] = {}
        for port, size in circuit.input_ports.items():
            if size is None:
                inputs[port] = [net.input(port)]
            else:
                inputs[port] = port_signals(port, size)
                net.add_inputs(port, size)
        made = circuit.emit_indices(Builder(net), inputs)
        for port, idx in made.items():
            net.probe(*net.names(idx), label=port, array=circuit.is_array_output(port))
        return net
