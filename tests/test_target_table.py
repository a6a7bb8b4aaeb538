"""Which examples and library circuits compile for which target: the table in
docs/targets.md is generated here from every example and every library circuit, and
every circuit that compiles for ``truenorth`` also runs in SANA-FE's TrueNorth model
with spikes identical to spikec's simulator (an independent simulator of the chip).

Regenerate the table with ``SPIKEC_REGEN_GOLDEN=1 pytest tests/test_target_table.py``.
"""

from __future__ import annotations

import importlib.util
import os
import re
from functools import cache
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from test_circuit_resources import RECIPES

import spikec
from circuit_checks import instance
from spikec.chip.target import load_target
from spikec.errors import SpikecError
from spikec.passes import compile_for_target
from strategies_chips import combine, integer_networks, random_inputs, same_spikes

ROOT = Path(__file__).parent.parent
DOC = ROOT / "docs" / "targets.md"
TARGETS = ["generic", "loihi", "truenorth", "sanafe-loihi", "sanafe-truenorth"]
BEGIN, END = "<!-- target table: begin -->", "<!-- target table: end -->"

#: Why a compilation is refused, from its message (first match), for the table.
REASONS = [
    (r"stochastic|Bernoulli", "p < 1"),
    (r"multiplicative leak|a decay of|leaks the reset", "leak"),
    (r"initial potential", "v0"),
    (r"fan-in", "fan-in"),
    (r"axon types", "axon types"),
    (r"fan-out", "fan-out"),
    (r"reset", "reset"),
    (r"floor", "floor"),
    (r"exceed|does not fit|bits", "size"),
]


def _library() -> dict[str, spikec.Network]:
    nets = {}
    for name, (_params, sizes, outputs, samples) in sorted(RECIPES.items()):
        values = samples[min(1, len(samples) - 1)]
        module = _module_of(name)
        net, _, _ = instance(module, name, values, sizes(*values), outputs)
        label = f"{name}<{', '.join(map(str, values))}>" if values else name
        nets[f"std.{module}.{label}"] = net
    return nets


def _module_of(name: str) -> str:
    for line in (ROOT / "docs" / "circuits.md").read_text().splitlines():
        cells = [c.strip().strip("`") for c in line.strip().strip("|").split("|")]
        if len(cells) == 5 and re.match(rf"{name}(<[^>]*>)?\(", cells[0]):
            return cells[1]
    raise AssertionError(f"{name} is not in docs/circuits.md")


@cache
def _circuits() -> dict[str, spikec.Network]:
    nets = {f"examples/{p.name}": spikec.open_network(p) for p in sorted((ROOT / "examples").glob("*.spk"))}
    nets.update(_library())
    return nets


@cache
def _outcome(name: str, target: str) -> str:
    try:
        compile_for_target(_circuits()[name], load_target(target))
    except SpikecError as exc:
        text = str(exc)
        return next((short for pattern, short in REASONS if re.search(pattern, text)), "refused")
    return "yes"


def _table() -> str:
    lines = ["| circuit | " + " | ".join(f"`{t}`" for t in TARGETS) + " |",
             "|---|" + "---|" * len(TARGETS)]
    for name in _circuits():
        lines.append(f"| `{name}` | " + " | ".join(_outcome(name, t) for t in TARGETS) + " |")
    return "\n".join(lines)


def test_the_docs_table_is_generated_from_every_circuit() -> None:
    text = DOC.read_text()
    table = _table()
    start, stop = text.index(BEGIN) + len(BEGIN), text.index(END)
    if os.environ.get("SPIKEC_REGEN_GOLDEN"):
        DOC.write_text(text[:start] + "\n" + table + "\n" + text[stop:])
        text = DOC.read_text()
        start, stop = text.index(BEGIN) + len(BEGIN), text.index(END)
    assert text[start:stop].strip() == table


def test_what_compiles_for_truenorth_compiles_for_sanafe_truenorth() -> None:
    for name in _circuits():
        if _outcome(name, "truenorth") == "yes":
            assert _outcome(name, "sanafe-truenorth") == "yes", name


@pytest.mark.skipif(importlib.util.find_spec("sanafe") is None, reason="needs the sanafe package")
def test_every_truenorth_circuit_runs_identically_in_sanafe_truenorth() -> None:
    from spikec.backends.sanafe import run_sanafe

    # deterministic ones: SANA-FE's random mask draws from std::rand (tests/test_truenorth_noise.py)
    nets = [net for name, net in _circuits().items()
            if _outcome(name, "truenorth") == "yes" and not (net.p < 1.0).any()]
    assert len(nets) >= 20
    batch = combine(nets)
    out, ctx = compile_for_target(batch, load_target("sanafe-truenorth"))
    steps = 40
    inputs = random_inputs(batch, steps, 0)
    got = run_sanafe(out, ctx.placement, ctx.target, steps, inputs)
    names = batch.names([i for i in range(len(batch)) if not batch.is_input[i]])
    ref = spikec.simulate(batch, steps, inputs=inputs, record=names)
    assert same_spikes(ref, got, names) == []
    assert sum(int(ref.spikes[n].sum()) for n in names) > 100  # the circuits are busy, not silent


@pytest.mark.skipif(importlib.util.find_spec("sanafe") is None, reason="needs the sanafe package")
@settings(max_examples=3, deadline=None)
@given(nets=st.lists(integer_networks(decays=(0.0, 1.0), v0=False), min_size=8, max_size=16))
def test_random_gates_on_the_floor_run_identically_in_sanafe_truenorth(nets: list[spikec.Network]) -> None:
    from spikec.backends.sanafe import run_sanafe

    kept = []
    for net in nets:  # a gate whose potential can stay above 0 without firing has no floor form
        try:
            compile_for_target(net, load_target("sanafe-truenorth"))
        except SpikecError:
            continue
        kept.append(net)
    assume(kept)
    batch = combine(kept)
    out, ctx = compile_for_target(batch, load_target("sanafe-truenorth"))
    inputs = random_inputs(batch, 30, 1)
    got = run_sanafe(out, ctx.placement, ctx.target, 30, inputs)
    names = batch.names([i for i in range(len(batch)) if not batch.is_input[i]])
    ref = spikec.simulate(batch, 30, inputs=inputs, record=names)
    assert same_spikes(ref, got, names) == []
