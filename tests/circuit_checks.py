"""Shared checks for library circuits: truth tables run as trials of one simulation,
and the same words streamed one per step through one trial.

A circuit is given by the neuron names of its input ports and output ports
(little-endian bits: element i is bit i). A *word* assigns an unsigned
integer to every input port; the circuit's answer is the integer on every
output port ``latency`` steps after the word went in.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence

import numpy as np

import spikec
from spikec.synth.balance import is_memoryless, pipeline_stages

Ports = Mapping[str, Sequence[str]]
Word = Mapping[str, int]


def all_words(widths: Mapping[str, int]) -> list[dict[str, int]]:
    """Every assignment of the ports of these bit widths (first port = low bits)."""
    names = list(widths)
    total = sum(widths.values())
    out = []
    for code in range(1 << total):
        word, shift = {}, 0
        for name in names:
            word[name] = (code >> shift) & ((1 << widths[name]) - 1)
            shift += widths[name]
        out.append(word)
    return out


def random_words(widths: Mapping[str, int], count: int, seed: int) -> list[dict[str, int]]:
    """``count`` seeded random words (Python ints, any width)."""
    rng = np.random.default_rng(seed)
    return [{name: int.from_bytes(rng.bytes((w + 7) // 8), "little") & ((1 << w) - 1)
             for name, w in widths.items()} for _ in range(count)]


def _read(spikes: Mapping[str, np.ndarray], outputs: Ports, trial: int, step: int) -> dict[str, int]:
    return {port: sum(1 << i for i, name in enumerate(names) if spikes[name][trial, step])
            for port, names in outputs.items()}


def run_per_trial(net: spikec.Network, inputs: Ports, outputs: Ports, words: Sequence[Word],
                  latency: int) -> list[dict[str, int]]:
    """Word k in trial k at step 0; the outputs read at step ``latency``."""
    steps = latency + 1
    raster = {}
    for port, names in inputs.items():
        for i, name in enumerate(names):
            column = np.zeros((len(words), steps), dtype=bool)
            column[:, 0] = [(w[port] >> i) & 1 == 1 for w in words]
            raster[name] = column
    record = [n for names in outputs.values() for n in names]
    result = spikec.simulate(net, steps, inputs=raster, trials=len(words), record=record)
    return [_read(result.spikes, outputs, k, latency) for k in range(len(words))]


def run_streamed(net: spikec.Network, inputs: Ports, outputs: Ports, words: Sequence[Word],
                 latency: int) -> list[dict[str, int]]:
    """Word k at step k of one trial; its answer read at step k + ``latency``."""
    steps = len(words) + latency
    raster = {}
    for port, names in inputs.items():
        for i, name in enumerate(names):
            row = np.zeros(steps, dtype=bool)
            row[: len(words)] = [(w[port] >> i) & 1 == 1 for w in words]
            raster[name] = row
    record = [n for names in outputs.values() for n in names]
    result = spikec.simulate(net, steps, inputs=raster, record=record)
    return [_read(result.spikes, outputs, 0, k + latency) for k in range(len(words))]


def check_pipeline(net: spikec.Network, outputs: Ports, latency: int) -> None:
    """Every neuron feeding the outputs is a memoryless gate on a consistent stage,
    and every output sits on stage ``latency``."""
    names = [n for ns in outputs.values() for n in ns]
    stages = pipeline_stages(net, names)
    for name in stages:
        assert is_memoryless(net[name]), name
    assert {stages[n] for n in names} == {latency}, {n: stages.get(n) for n in names}


def check_circuit(net: spikec.Network, inputs: Ports, outputs: Ports, latency: int,
                  expected: Callable[[Word], Mapping[str, int]], words: Sequence[Word],
                  streamed: bool = True) -> None:
    """The circuit is a pipeline of the stated latency and answers ``expected(word)``
    for every word, one word per trial and (``streamed``) one word per step."""
    check_pipeline(net, outputs, latency)
    want = [dict(expected(w)) for w in words]
    got = run_per_trial(net, inputs, outputs, words, latency)
    for w, g, e in zip(words, got, want, strict=True):
        assert g == e, (dict(w), g, e)
    if streamed:
        got = run_streamed(net, inputs, outputs, words, latency)
        for w, g, e in zip(words, got, want, strict=True):
            assert g == e, ("streamed", dict(w), g, e)


def ports(prefix: str, sizes: Mapping[str, int | None]) -> dict[str, list[str]]:
    """Neuron names of ports: ``{"a": 3}`` -> ``{"a": ["PREFIXa[0]", ...]}``; None is one neuron."""
    return {name: [f"{prefix}{name}"] if n is None else [f"{prefix}{name}[{i}]" for i in range(n)]
            for name, n in sizes.items()}


def instance(module: str, circuit: str, params: Sequence[int], inputs: Mapping[str, int | None],
             outputs: Sequence[str]) -> tuple[spikec.Network, dict[str, list[str]], dict[str, list[str]]]:
    """Compile ``import std.MODULE`` + inputs + ``let u = circuit<params>(inputs...)`` and
    return the network with the neuron names of its input and output ports."""
    lines = [f"import std.{module}"]
    lines += [f"input {name}" if n is None else f"input {name}[{n}]" for name, n in inputs.items()]
    given = f"<{', '.join(map(str, params))}>" if params else ""
    lines.append(f"let u = {circuit}{given}({', '.join(inputs)})")
    lines += [f"probe u.{out}" for out in outputs]
    net = spikec.loads("\n".join(lines))
    outs = {probe.label.removeprefix("u."): list(probe.neurons) for probe in net.probes}
    return net, ports("", inputs), outs


def product(*ranges: range) -> list[tuple[int, ...]]:
    """``itertools.product`` as a list (for parametrize)."""
    return list(itertools.product(*ranges))
