"""std.matmul: products of 0/1 matrices against numpy, exhaustively for 2 x 2
matrices and on seeded random matrices up to 16 x 16."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import pytest

import spikec
from circuit_checks import all_words, check_circuit, instance, random_words
from spikec.circuits.matmul import matmul, matmul_ge, popcount_gates
from spikec.ir.builder import Builder
from spikec.synth.threshold import ThresholdCircuit


def _matrix(word: int, size: int) -> np.ndarray:
    return np.array([(word >> i) & 1 for i in range(size * size)], dtype=np.int64).reshape(size, size)


def _packed(c: np.ndarray, width: int) -> int:
    return sum(int(v) << (i * width) for i, v in enumerate(c.ravel()))


def _expected_product(size: int) -> Callable[[Mapping[str, int]], dict[str, int]]:
    width = size.bit_length()
    return lambda w: {"c": _packed(_matrix(w["a"], size) @ _matrix(w["b"], size), width)}


def test_2x2_products_exhaustively() -> None:
    net, ins, outs = instance("matmul", "matmul", (2,), {"a": 4, "b": 4}, ("c",))
    check_circuit(net, ins, outs, 3, _expected_product(2), all_words({"a": 4, "b": 4}))


@pytest.mark.parametrize("size", [3, 4, 7])
def test_random_products(size: int) -> None:
    net, ins, outs = instance("matmul", "matmul", (size,), {"a": size**2, "b": size**2}, ("c",))
    words = random_words({"a": size**2, "b": size**2}, 40, seed=size)
    words.append({"a": 2 ** (size**2) - 1, "b": 2 ** (size**2) - 1})  # all ones: every entry is size
    check_circuit(net, ins, outs, 3, _expected_product(size), words)


def test_16x16_products() -> None:
    size = 16
    net = matmul.network(N=size)
    ins = {port: [f"{port}[{i}]" for i in range(size * size)] for port in "ab"}
    outs = {"c": list(net.probes[0].neurons)}
    words = random_words({"a": size**2, "b": size**2}, 6, seed=1616)
    words.append({"a": 2 ** (size**2) - 1, "b": 2 ** (size**2) - 1})
    check_circuit(net, ins, outs, 3, _expected_product(size), words)


@pytest.mark.parametrize(("size", "t"), [(2, 1), (3, 2), (5, 3)])
def test_threshold_products(size: int, t: int) -> None:
    net, ins, outs = instance("matmul", "matmul_ge", (size, t), {"a": size**2, "b": size**2}, ("c",))
    words = all_words({"a": 4, "b": 4}) if size == 2 else random_words(
        {"a": size**2, "b": size**2}, 50, seed=t)

    def expected(w: Mapping[str, int]) -> dict[str, int]:
        product = _matrix(w["a"], size) @ _matrix(w["b"], size)
        return {"c": _packed((product >= t).astype(np.int64), 1)}

    check_circuit(net, ins, outs, 2, expected, words)


def test_symbolic_circuit_agrees_with_numpy() -> None:
    circuit = matmul_ge.circuit(N=4, t=1)
    words = random_words({"a": 16, "b": 16}, 30, seed=4)
    got = circuit.evaluate_ports({p: np.array([w[p] for w in words], dtype=object) for p in "ab"})
    for row, w in zip(got["c"], words, strict=True):
        product = (_matrix(w["a"], 4) @ _matrix(w["b"], 4) >= 1).astype(np.int64)
        assert row == _packed(product, 1)


# ---- the bulk construction is the gate-by-gate one ----------------------------------------

def _one_gate_at_a_time(size: int, t: int | None) -> ThresholdCircuit:
    """matmul<N> (t None) or matmul_ge<N, t> built as it was written first: a gate at a time."""
    circuit = ThresholdCircuit({"a": size * size, "b": size * size})
    products = {(i, j): [circuit.gate(f"p[{i}][{j}][{k}]",
                                      [(f"a[{i * size + k}]", 1.0), (f"b[{k * size + j}]", 1.0)], 2)
                         for k in range(size)] for i in range(size) for j in range(size)}
    if t is None:
        out: list[str] = []
        for i in range(size):
            for j in range(size):
                out += popcount_gates(circuit, f"c[{i}][{j}]", products[i, j])
        circuit.output("c", out)
    else:
        circuit.output("c", [circuit.gate(f"c[{i * size + j}]", [(p, 1.0) for p in products[i, j]], t)
                             for i in range(size) for j in range(size)])
    circuit.prune()
    circuit.align_outputs()
    return circuit


def _built(circuit: ThresholdCircuit) -> tuple[object, ...]:
    net = spikec.Network()
    net.add_inputs("a", circuit.input_ports["a"] or 0)
    net.add_inputs("b", circuit.input_ports["b"] or 0)
    made = circuit.emit(Builder(net, "u."), {p: [f"{p}[{i}]" for i in range(circuit.input_ports[p] or 0)]
                                             for p in "ab"})
    return (spikec.format_network(net), net.names(), net.pre.tolist(), net.post.tolist(),
            net.weight.tolist(), net.delay.tolist(), made)


@pytest.mark.parametrize("size", [2, 3, 4, 5, 8])
def test_bulk_circuits_equal_the_gate_by_gate_ones(size: int) -> None:
    assert _built(matmul.circuit(N=size)) == _built(_one_gate_at_a_time(size, None))
    for t in (1, 3):
        assert _built(matmul_ge.circuit(N=size, t=t)) == _built(_one_gate_at_a_time(size, t))
