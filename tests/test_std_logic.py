"""std.logic: exhaustive truth tables of every gate, one input word per trial and
streamed one word per step, and its timing (latency, pipeline stages)."""

from __future__ import annotations

import pytest

import spikec
from circuit_checks import all_words, check_circuit, instance


def _bit(word: int, i: int) -> int:
    return (word >> i) & 1


TWO_INPUT = {
    "and_gate": (1, lambda a, b: a & b),
    "or_gate": (1, lambda a, b: a | b),
    "nand_gate": (1, lambda a, b: 1 - (a & b)),
    "nor_gate": (1, lambda a, b: 1 - (a | b)),
    "xor_gate": (2, lambda a, b: a ^ b),
    "xnor_gate": (2, lambda a, b: 1 - (a ^ b)),
}


@pytest.mark.parametrize("name", sorted(TWO_INPUT))
def test_two_input_gates(name: str) -> None:
    lat, fn = TWO_INPUT[name]
    net, ins, outs = instance("logic", name, (), {"a": None, "b": None}, ("y",))
    check_circuit(net, ins, outs, lat, lambda w: {"y": fn(w["a"], w["b"])},
                  all_words({"a": 1, "b": 1}))


def test_not_gate() -> None:
    net, ins, outs = instance("logic", "not_gate", (), {"a": None}, ("y",))
    check_circuit(net, ins, outs, 1, lambda w: {"y": 1 - w["a"]}, all_words({"a": 1}))


@pytest.mark.parametrize("n", [1, 2, 3, 6, 10])
def test_counting_gates(n: int) -> None:
    words = all_words({"x": n})
    for k in sorted({1, (n + 1) // 2, n}):
        net, ins, outs = instance("logic", "kofn", (n, k), {"x": n}, ("y",))
        check_circuit(net, ins, outs, 1, lambda w, k=k: {"y": int(bin(w["x"]).count("1") >= k)}, words)
    net, ins, outs = instance("logic", "majority", (n,), {"x": n}, ("y",))
    check_circuit(net, ins, outs, 1, lambda w: {"y": int(2 * bin(w["x"]).count("1") > n)}, words)
    net, ins, outs = instance("logic", "parity", (n,), {"x": n}, ("y",))
    check_circuit(net, ins, outs, 2, lambda w: {"y": bin(w["x"]).count("1") % 2}, words)


@pytest.mark.parametrize(("n", "c"), [(1, 0), (1, 1), (4, 5), (8, 200), (10, 513)])
def test_at_least(n: int, c: int) -> None:
    net, ins, outs = instance("logic", "at_least", (n, c), {"x": n}, ("y",))
    check_circuit(net, ins, outs, 1, lambda w: {"y": int(w["x"] >= c)}, all_words({"x": n}))


@pytest.mark.parametrize(("p", "q", "k"), [(3, 2, 1), (2, 3, 0), (4, 4, -1), (5, 5, 3)])
def test_signed_kofn(p: int, q: int, k: int) -> None:
    net, ins, outs = instance("logic", "signed_kofn", (p, q, k), {"pos": p, "neg": q}, ("y",))
    check_circuit(net, ins, outs, 1,
                  lambda w: {"y": int(bin(w["pos"]).count("1") - bin(w["neg"]).count("1") >= k)},
                  all_words({"pos": p, "neg": q}))


def test_mux2() -> None:
    net, ins, outs = instance("logic", "mux2", (), {"s": None, "a": None, "b": None}, ("y",))
    check_circuit(net, ins, outs, 2, lambda w: {"y": w["b"] if w["s"] else w["a"]},
                  all_words({"s": 1, "a": 1, "b": 1}))


@pytest.mark.parametrize("k", [1, 2, 3])
def test_mux_selects_the_addressed_input(k: int) -> None:
    net, ins, outs = instance("logic", "mux", (k,), {"sel": k, "x": 1 << k}, ("y",))
    check_circuit(net, ins, outs, 2, lambda w: {"y": _bit(w["x"], w["sel"])},
                  all_words({"sel": k, "x": 1 << k}))


def test_mux_is_a_python_circuit_of_std_logic() -> None:
    from spikec.circuits import logic
    from spikec.dsl import GeneratorCircuit, library_modules

    assert isinstance(logic.mux, GeneratorCircuit)
    assert {"std.logic", "std.arith", "std.matmul", "std.graph"} <= set(library_modules())


def test_library_circuit_errors_point_at_the_call() -> None:
    with pytest.raises(spikec.SpikecError, match=r"^<string>:4:9: error: circuit mux: parameter k must be"
                                                  r" in 1\.\.12, got 0"):
        instance("logic", "mux", (0,), {"sel": 1, "x": 1}, ("y",))
    with pytest.raises(spikec.SpikecError, match="input 'x' of mux takes 4 neurons"):
        spikec.loads("import std.logic\ninput s[2]\ninput x[3]\nlet m = mux<2>(s, x)")


def test_existing_logic_circuits_keep_working() -> None:
    net = spikec.loads("import std.logic\ninput a\ninput b\nlet g = and_gate(a, b)\n"
                       "let o = or_gate(a, b)\nlet n = not_gate(a)\nprobe g, o, n")
    result = spikec.simulate(net, 3, inputs={"a": [0], "b": [0]})
    assert result.spike_times("g.y") == [[1]]
    assert result.spike_times("n.y") == [[0, 2]]  # not fires from step 0 unless inhibited
