"""Loops run as arrays (spikec.dsl.loops) build exactly the network of one iteration at a time.

Hypothesis writes random programs of nested loops, ``if``, ``let`` and
connections with computed indices, slices, weights and delays (some out of
range, some dividing by zero, some passing a limit). Each is compiled twice,
with the array path on and off; the two runs must give the same network
(printer text, and the synapse columns in the network's order, bit for bit,
with their source locations) or the same error at the same place.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import spikec
from spikec.dsl import Limits, compile_text
from spikec.dsl import loops as loops_module
from spikec.errors import SpikecError

ARRAYS = {"x": 6, "a": 8, "b": 5, "w.o": 4, "m.c": 4}  # x is an input array
HEADER = """\
import std.matmul
circuit wire<k>(src[4]) -> (o[4]) {
    neuron o[4]
    for i in 0..4 { src[(i + k) % 4] -> o[i] (weight = k) }
}
input x[6]
neuron a[8]
neuron b[5]
neuron s
input t
let n = 4
let h = 0.5
let w = wire<3>(a[2..6])
let m = matmul_ge<2, 1>(x[0..4], x[2..6])
"""


@st.composite
def int_expr(draw: st.DrawFn, names: tuple[str, ...], depth: int = 0) -> str:
    """An integer-ish expression of the loop variables (may be a float or fail)."""
    leaves = [st.sampled_from(names)] if names else []
    leaves += [st.integers(-3, 9).map(str), st.just("n")]
    if depth >= 2 or draw(st.integers(0, 2)) == 0:
        return draw(st.one_of(*leaves))
    op = draw(st.sampled_from(["+", "-", "*", "//", "%", "+", "-", "**", "/"]))
    left = draw(int_expr(names, depth + 1))
    right = draw(int_expr(names, depth + 1)) if op != "**" else draw(st.sampled_from(["0", "1", "2"]))
    if draw(st.integers(0, 5)) == 0:
        fn = draw(st.sampled_from(["min", "max", "abs", "floor", "round"]))
        return f"{fn}({left}, {right})" if fn in ("min", "max") else f"{fn}({left})"
    return f"({left} {op} {right})"


@st.composite
def ref(draw: st.DrawFn, names: tuple[str, ...], target: bool) -> str:
    pool = ["a", "b", "w.o", "m.c"] + ([] if target else ["x"])
    style = draw(st.sampled_from(["index"] * 6 + ["whole", "bare", "slice", "scalar"]
                                 + ["bad"] * (draw(st.integers(0, 9)) == 0)))
    if style == "scalar":
        return "s" if target or draw(st.booleans()) else "t"
    if style == "bad":
        return draw(st.sampled_from(["x[i]" if target else "zz[i]", "s[0]", "a[9]", "n"]))
    name = draw(st.sampled_from(pool))
    if style == "whole":
        return f"{name}[*]"
    if style == "bare":
        return name
    if style == "slice":
        lo = draw(int_expr(names, 1))
        lo = f"({lo}) % 3" if draw(st.integers(0, 3)) else lo
        return f"{name}[{lo}..{lo} + {draw(st.integers(0, 3))}]"
    index = draw(int_expr(names))
    if draw(st.integers(0, 3)):  # mostly in range
        index = f"({index}) % {ARRAYS[name]}"
    return f"{name}[{index}]"


@st.composite
def connect(draw: st.DrawFn, names: tuple[str, ...]) -> str:
    params = []
    if draw(st.booleans()):
        w = draw(st.one_of(int_expr(names), st.sampled_from(["h", "0.25", "-1.5", "h * 3"])))
        params.append(f"weight = {w}")
    if draw(st.booleans()):
        d = draw(st.one_of(int_expr(names, 1).map(lambda e: f"1 + abs({e}) % 3"),
                           st.sampled_from(["1", "2", "2.0", "1.5", "0"]), int_expr(names, 1)))
        params.append(f"delay = {d}")
    if params and draw(st.integers(0, 4)) == 0:
        params.reverse()
    opts = f" ({', '.join(params)})" if params else ""
    return f"{draw(ref(names, False))} -> {draw(ref(names, True))}{opts}"


@st.composite
def body(draw: st.DrawFn, names: tuple[str, ...], depth: int) -> list[str]:
    out = []
    local = names
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["connect", "connect", "for", "if", "let"] if depth < 3
                                    else ["connect", "let"]))
        if kind == "connect":
            out.append(draw(connect(local)))
        elif kind == "let":
            var = draw(st.sampled_from(["u", "v", "u"]))
            out.append(f"let {var} = {draw(int_expr(local))}")
            local = (*local, var)
        elif kind == "for":
            out.append(draw(loop(local, depth + 1)))
        else:
            cond = f"{draw(int_expr(local, 1))} {draw(st.sampled_from(['<', '>=', '==', '!=']))}" \
                   f" {draw(int_expr(local, 1))}"
            then = "\n".join(draw(body(local, depth + 1)))
            orelse = "\n".join(draw(body(local, depth + 1))) if draw(st.booleans()) else ""
            out.append(f"if {cond} {{\n{then}\n}} else {{\n{orelse}\n}}")
    return out


@st.composite
def loop(draw: st.DrawFn, names: tuple[str, ...], depth: int) -> str:
    var = draw(st.sampled_from(["i", "j", "k"]))
    start = draw(st.one_of(st.integers(-2, 3).map(str), int_expr(names, 1)))
    stop = draw(st.one_of(st.integers(0, 9).map(str), st.just("n"), int_expr(names, 1)))
    inner = "\n".join(draw(body((*names, var), depth)))
    return f"for {var} in {start}..{stop} {{\n{inner}\n}}"


@st.composite
def programs(draw: st.DrawFn) -> tuple[str, Limits]:
    lines = [HEADER]
    for _ in range(draw(st.integers(1, 3))):
        lines.append(draw(loop((), 1)) if draw(st.integers(0, 4)) else draw(connect(())))
    lines.append("probe a, b, s")
    limits = draw(st.sampled_from([Limits(), Limits(max_synapses=40), Limits(max_work=60)]))
    return "\n".join(lines) + "\n", limits


def outcome(text: str, limits: Limits, fast: bool) -> Any:
    """The network's exact content, or the error."""
    try:
        net = compile_text(text, filename="p.spk", limits=limits, fast_loops=fast)
    except SpikecError as err:
        return type(err).__name__, str(err), getattr(err, "__notes__", None)
    return network_content(net)


def network_content(net: spikec.Network) -> tuple[Any, ...]:
    """Everything observable of a network, synapses in the network's order."""
    locs = tuple(net.synapse_location(k) for k in range(net.num_synapses))
    return (spikec.format_network(net), net.pre.tolist(), net.post.tolist(),
            net.weight.view(np.int64).tolist(), net.delay.tolist(), locs, net.names())


@pytest.fixture(autouse=True)
def _arrays_for_every_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run even the shortest loops as arrays, in small blocks (so blocks split)."""
    monkeypatch.setattr(loops_module.LoopVectorizer, "__init__", _small_init)
    monkeypatch.setattr(loops_module, "MAX_ROWS", 16)


_original_init = loops_module.LoopVectorizer.__init__


def _small_init(self: Any, el: Any, min_iterations: int = 1) -> None:
    _original_init(self, el, min_iterations=1)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs())
def test_arrays_build_what_iterations_build(case: tuple[str, Limits]) -> None:
    text, limits = case
    assert outcome(text, limits, True) == outcome(text, limits, False), text


@pytest.mark.parametrize("text", [
    # statements interleave on one source neuron: the order must follow the iterations
    "for i in 0..4 { x[0] -> a[i]\nx[0] -> b[i] (weight = 2) }",
    "for i in 0..4 { if i % 2 == 0 { x[0] -> a[i] } else { x[0] -> b[i] } }",
    "for i in 0..3 { x[i] -> a[i]\nfor j in 0..i { x[j] -> b[j] (delay = i + 1) } x[i] -> s }",
    "for i in 0..6 { let u = i // 2\nx[u] -> a[u + i] (weight = h * i, delay = 1 + i % 3) }",
    "for i in 0..5 { x[i..i + 2] -> b[i] }",
])
def test_interleaved_statements_keep_the_order(text: str) -> None:
    program = HEADER + text + "\n"
    fast, slow = outcome(program, Limits(), True), outcome(program, Limits(), False)
    assert not isinstance(fast[0], str) or fast[0].startswith("network"), fast
    assert fast == slow


@pytest.mark.parametrize(("text", "message"), [
    ("for i in 0..9 { x[i] -> a[i] }", r"p\.spk:15:19: error: index 6 is out of range for 'x'"),
    ("for i in 0..3 { a[i] -> b[2 // (2 - i)] }", r"p\.spk:15:33: error: division by zero"),
    ("for i in 0..3 { a[i] -> b[i] (delay = 2 - i) }", r"p\.spk:15:39: error: delay must be an integer"
                                                      r" >= 1, got 0"),
])
def test_errors_come_from_the_iteration_that_makes_them(text: str, message: str) -> None:
    program = HEADER + text + "\n"
    for fast in (True, False):
        with pytest.raises(SpikecError, match=message):
            compile_text(program, filename="p.spk", fast_loops=fast)
    assert outcome(program, Limits(), True) == outcome(program, Limits(), False)
