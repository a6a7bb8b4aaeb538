"""std.arith against Python integers: exhaustive truth tables up to 10 input bits
(one word per trial, and streamed one per step), seeded random words at larger
widths (32-bit adders and comparators, 8-bit multipliers)."""

from __future__ import annotations

import pytest

import spikec
from circuit_checks import all_words, check_circuit, instance, random_words
from spikec.circuits.arith import CIRCUITS
from spikec.ir.builder import Builder
from spikec.synth.threshold import ThresholdCircuit

Word = dict[str, int]


def _numbers(word: int, k: int, n: int) -> list[int]:
    return [(word >> (i * n)) & ((1 << n) - 1) for i in range(k)]


BINARY = {  # circuit -> (outputs, latency(n), expected(a, b, n))
    "ripple_add": (("s",), lambda n: n + 1, lambda a, b, n: {"s": a + b}),
    "cla_add": (("s",), lambda n: 2, lambda a, b, n: {"s": a + b}),
    "sub": (("d", "neg"), lambda n: 2, lambda a, b, n: {"d": (a - b) % (1 << n), "neg": int(a < b)}),
    "geq": (("y",), lambda n: 1, lambda a, b, n: {"y": int(a >= b)}),
    "gt": (("y",), lambda n: 1, lambda a, b, n: {"y": int(a > b)}),
    "equal": (("y",), lambda n: 2, lambda a, b, n: {"y": int(a == b)}),
}


def _check_binary(name: str, n: int, words: list[dict[str, int]]) -> None:
    outputs, lat, fn = BINARY[name]
    net, ins, outs = instance("arith", name, (n,), {"a": n, "b": n}, outputs)
    check_circuit(net, ins, outs, lat(n), lambda w: fn(w["a"], w["b"], n), words)


@pytest.mark.parametrize("name", sorted(BINARY))
@pytest.mark.parametrize("n", [1, 2, 3, 5])
def test_binary_circuits_exhaustively(name: str, n: int) -> None:
    _check_binary(name, n, all_words({"a": n, "b": n}))


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_circuits_at_32_bits(name: str) -> None:
    words = random_words({"a": 32, "b": 32}, 150, seed=32)
    words += [{"a": 2**32 - 1, "b": 2**32 - 1}, {"a": 0, "b": 2**32 - 1}, {"a": 7, "b": 7}]
    _check_binary(name, 32, words)


@pytest.mark.parametrize("n", [1, 2, 3, 7, 8, 10])
def test_popcount_exhaustively(n: int) -> None:
    net, ins, outs = instance("arith", "popcount", (n,), {"x": n}, ("c",))
    check_circuit(net, ins, outs, 2, lambda w: {"c": bin(w["x"]).count("1")}, all_words({"x": n}))


def test_popcount_at_64_bits() -> None:
    net, ins, outs = instance("arith", "popcount", (64,), {"x": 64}, ("c",))
    words = random_words({"x": 64}, 100, seed=64) + [{"x": 2**64 - 1}, {"x": 0}]
    check_circuit(net, ins, outs, 2, lambda w: {"c": bin(w["x"]).count("1")}, words)


@pytest.mark.parametrize("n", [2, 3, 4, 5])
def test_multiplier_exhaustively(n: int) -> None:
    net, ins, outs = instance("arith", "mul", (n,), {"a": n, "b": n}, ("p",))
    check_circuit(net, ins, outs, 3 * n - 2, lambda w: {"p": w["a"] * w["b"]},
                  all_words({"a": n, "b": n}))


def test_multiplier_at_8_bits() -> None:
    net, ins, outs = instance("arith", "mul", (8,), {"a": 8, "b": 8}, ("p",))
    words = random_words({"a": 8, "b": 8}, 300, seed=8) + [{"a": 255, "b": 255}]
    check_circuit(net, ins, outs, 22, lambda w: {"p": w["a"] * w["b"]}, words)


@pytest.mark.slow
def test_multiplier_at_16_bits() -> None:
    net, ins, outs = instance("arith", "mul", (16,), {"a": 16, "b": 16}, ("p",))
    words = random_words({"a": 16, "b": 16}, 200, seed=16) + [{"a": 2**16 - 1, "b": 2**16 - 1}]
    check_circuit(net, ins, outs, 46, lambda w: {"p": w["a"] * w["b"]}, words)


def _selection(k: int, n: int) -> dict[str, tuple[int, object]]:
    def argmax(w: Word) -> dict[str, int]:
        xs = _numbers(w["x"], k, n)
        return {"y": 1 << xs.index(max(xs))}

    def maximum(w: Word) -> dict[str, int]:
        return {"y": max(_numbers(w["x"], k, n))}

    def ordered(w: Word) -> dict[str, int]:
        return {"y": sum(v << (m * n) for m, v in enumerate(sorted(_numbers(w["x"], k, n))))}

    return {"argmax": (2, argmax), "max": (3, maximum), "sort": (3, ordered)}


@pytest.mark.parametrize("name", ["argmax", "max", "sort"])
@pytest.mark.parametrize(("k", "n"), [(2, 1), (2, 5), (3, 3), (5, 2), (10, 1)])
def test_selection_exhaustively(name: str, k: int, n: int) -> None:
    lat, fn = _selection(k, n)[name]
    net, ins, outs = instance("arith", name, (k, n), {"x": k * n}, ("y",))
    check_circuit(net, ins, outs, lat, fn, all_words({"x": k * n}))  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["argmax", "max", "sort"])
def test_selection_of_eight_16_bit_numbers(name: str) -> None:
    k, n = 8, 16
    lat, fn = _selection(k, n)[name]
    net, ins, outs = instance("arith", name, (k, n), {"x": k * n}, ("y",))
    words = random_words({"x": k * n}, 60, seed=816)
    ties = sum(1234 << (i * n) for i in range(k))
    words.append({"x": ties})
    check_circuit(net, ins, outs, lat, fn, words)  # type: ignore[arg-type]


# ---- the bulk constructions are the gate-by-gate ones --------------------------------------

def _pairs(c: ThresholdCircuit, k: int, n: int, earlier_wins: bool) -> dict[tuple[int, int], str]:
    sign = 1.0 if earlier_wins else -1.0
    q = {}
    for i in range(k):
        for j in range(i + 1, k):
            weights = [(f"x[{i * n + b}]", sign * (1 << b)) for b in range(n)]
            weights += [(f"x[{j * n + b}]", -sign * (1 << b)) for b in range(n)]
            q[i, j] = c.gate(f"q[{i}][{j}]", weights, 0)
    return q


def _wins(q: dict[tuple[int, int], str], k: int, i: int) -> list[tuple[str, float]]:
    return [(q[i, j], 1.0) for j in range(i + 1, k)] + [(q[j, i], -1.0) for j in range(i)]


def _reference(name: str, k: int, n: int) -> ThresholdCircuit:
    """argmax, max and sort as they were first written, one gate at a time."""
    c = ThresholdCircuit({"x": k * n})
    if name == "argmax":
        q = _pairs(c, k, n, True)
        c.output("y", [c.gate(f"y[{i}]", _wins(q, k, i), k - 1 - i) for i in range(k)])
    elif name == "max":
        q = _pairs(c, k, n, True)
        picked = [[c.gate(f"a[{i}][{b}]", [(f"x[{i * n + b}]", 1.0), *_wins(q, k, i)], k - i)
                   for b in range(n)] for i in range(k)]
        c.output("y", [c.gate(f"y[{b}]", [(picked[i][b], 1.0) for i in range(k)], 1) for b in range(n)])
    else:
        t = _pairs(c, k, n, False)
        chosen: dict[tuple[int, int, int], str] = {}
        for i in range(k):
            rank = [(t[j, i], 1.0) for j in range(i)] + [(t[i, j], -1.0) for j in range(i + 1, k)]
            for b in range(n):
                chosen[i, 0, b] = f"x[{i * n + b}]"
                for m in range(1, k):
                    chosen[i, m, b] = c.gate(f"a[{i}][{m}][{b}]", [(f"x[{i * n + b}]", float(k)), *rank],
                                             m + 1 + i)
        outputs = []
        for m in range(k):
            for b in range(n):
                weights = [(chosen[i, m, b], 1.0) for i in range(k)]
                if m + 1 < k:
                    weights += [(chosen[i, m + 1, b], -1.0) for i in range(k)]
                outputs.append(c.gate(f"y[{m * n + b}]", weights, 1))
        c.output("y", outputs)
    c.prune()
    c.align_outputs()
    return c


def _network(c: ThresholdCircuit) -> spikec.Network:
    net = spikec.Network()
    net.add_inputs("x", c.input_ports["x"] or 0)
    c.emit(Builder(net, "u."), {"x": [f"x[{i}]" for i in range(c.input_ports["x"] or 0)]})
    return net


@pytest.mark.parametrize("name", ["argmax", "max", "sort"])
@pytest.mark.parametrize(("k", "n"), [(2, 1), (3, 2), (4, 3), (5, 1)])
def test_bulk_constructions_equal_the_gate_by_gate_ones(name: str, k: int, n: int) -> None:
    bulk = CIRCUITS[name].circuit(k=k, n=n)
    ref = _reference(name, k, n)
    assert {g: bulk.gates[g] for g in bulk.gates} == {g: ref.gates[g] for g in ref.gates}
    assert bulk.outputs == ref.outputs and bulk.layout() == ref.layout()
    ours, theirs = _network(bulk), _network(ref)
    assert spikec.format_network(ours) == spikec.format_network(theirs)
    if name != "sort":  # sort's rank gates are now made row by row: the same neurons, reordered
        assert ours.names() == theirs.names() and ours.post.tolist() == theirs.post.tolist()
    assert ours.pre.tolist() == theirs.pre.tolist() and ours.weight.tolist() == theirs.weight.tolist()
