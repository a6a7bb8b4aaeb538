"""Limits on neurons, synapses, nesting and work (spikec.dsl.limits)."""

from __future__ import annotations

from pathlib import Path

import pytest

import spikec
from spikec.dsl import LimitError, Limits, compile_text
from spikec.dsl.elaborate import Elaborator
from spikec.dsl.limits import lower_bound
from spikec.dsl.modules import Module
from spikec.dsl.parser import parse
from spikec.dsl.syntax import For


def build(text: str, limits: Limits | None = None) -> spikec.Network:
    return compile_text(text, filename="t.spk", limits=limits)


def test_limits_stop_runaway_programs(monkeypatch: pytest.MonkeyPatch) -> None:
    small = Limits(max_neurons=100, max_synapses=1000, max_depth=10, max_work=10_000)
    with pytest.raises(LimitError, match=r"neuron x\[101\]: 101 neurons in all"):
        build("neuron x[101]", limits=small)
    with pytest.raises(LimitError, match=r"at least 1,000,000 synapses"):
        build("input x[10]\nneuron y[10]\nfor i in 0..1000 { for j in 0..1000 {"
              " x[i % 10] -> y[j % 10] } }", limits=small)
    with pytest.raises(LimitError, match=r"nested more than 10 deep"):
        build("circuit f() { let g = f() }\nlet u = f()", limits=small)
    with pytest.raises(LimitError, match=r"passed 10,000 steps"):
        build("circuit t<n>() { if n > 0 { let a = t<n - 1>()  let b = t<n - 1>() } }\n"
              "let u = t<9>()", limits=small)
    monkeypatch.setenv("SPIKEC_MAX_NEURONS", "3")
    assert Limits.from_env().max_neurons == 3
    with pytest.raises(LimitError, match=r"limit of 3 \(set SPIKEC_MAX_NEURONS"):
        build("neuron x[4]")
    monkeypatch.setenv("SPIKEC_MAX_NEURONS", "many")
    with pytest.raises(LimitError, match=r"SPIKEC_MAX_NEURONS: expected a positive integer"):
        Limits.from_env()


def test_triangular_loops_are_not_refused_by_the_estimate() -> None:
    limits = Limits(max_synapses=50)
    net = build("input x[10]\nneuron y[10]\nfor i in 0..10 { for j in 0..i { x[i] -> y[j] } }",
                limits=limits)
    assert net.num_synapses == 45


def bound_of(setup: str, body: str) -> tuple[int, int, int]:
    """lower_bound of ``body`` (the statements of a for loop over i) after ``setup``."""
    module = Module("t.spk", Path("."), "t", parse(setup, "t.spk"))
    Elaborator(spikec.Network(), Limits(), {}).run_main(module)
    loop = parse(f"for i in 0..1 {{ {body} }}", "t.spk").statements[0]
    assert isinstance(loop, For)
    return lower_bound(loop.body, module.scope, {"i"})


@pytest.mark.parametrize(
    ("body", "bound"),
    [
        ("x[i] -> y[0]", (0, 1, 1)),
        ("x -> y", (0, 20, 1)),
        ("x[0..i] -> y", (0, 0, 1)),
        ("neuron z[n]", (4, 0, 1)),
        ("for j in 0..n { x[j] -> y[j] }", (0, 4, 1 + 4 * 2)),
        ("for j in 0..i { x[j] -> y[j] }", (0, 0, 1)),
        ("let n = 1\nneuron z[n]", (0, 0, 2)),
        ("if n > 2 { x -> y } else { }", (0, 20, 2)),
        ("if i > 2 { x -> y } else { x[0] -> y[0] }", (0, 1, 2)),
    ],
)
def test_lower_bound_never_overstates(body: str, bound: tuple[int, int, int]) -> None:
    assert bound_of("let n = 4\ninput x[5]\nneuron y[4]", body) == bound
