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
    ``ports``; ``scalar`` names the outputs that are one neuron.
    """

    def __init__(self, name: str, limits: Mapping[str, tuple[int, int | None]],
                 ports: Sequence[tuple[str, SizeRule]], outputs: Sequence[str],
                 make: Callable[..., ThresholdCircuit], doc: str = "",
                 scalar: Sequence[str] = ()) -> None:
        self.name = name
        self.params: tuple[str, ...] = tuple(limits)
        self.limits = dict(limits)
        self._ports = tuple(ports)
        self.outputs: tuple[str, ...] = tuple(outputs)
        self._make = make
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

    def circuit(self, **params: Any) -> ThresholdCircuit:
        """The symbolic circuit for these parameter values (built once, then reused)."""
        checked = self.check(params)
        key = tuple(checked[p] for p in self.params)
        found = self._cache.get(key)
        if found is None:
            found = self._cache[key] = self._make(**checked)
            found.prune()
            found.align_outputs()
        return found

    def build(self, builder: CircuitBuilder, params: Mapping[str, Any],
              inputs: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
        """Add the circuit's neurons through ``builder`` (the GeneratorCircuit protocol)."""
        return self.circuit(**params).emit(builder, inputs)

    def network(self, **params: Any) -> Network:
        """The circuit alone in a network: input neurons named after the ports
        (``a[0]``, ...), gates under their local names, every output probed."""
        circuit = self.circuit(**params)
        net = Network(self.name)
        inputs: dict[str, list[str]] = {}
        for port, size in circuit.input_ports.items():
            inputs[port] = [net.input(sig) for sig in port_signals(port, size)]
        made = circuit.emit(Builder(net), inputs)
        for port, names in made.items():
            net.probe(*names, label=port, array=circuit.is_array_output(port))
        return net
