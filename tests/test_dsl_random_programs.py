"""Random .spk programs against the same networks built through the Python API.

Hypothesis draws a program description (neuron arrays with random
parameters and kinds, synapses written as single statements, all-to-all,
slices, loops, nested loops and conditionals, and instances of nested
circuits). The description is rendered twice, independently: as .spk text
for the compiler, and as calls to ``spikec.Network``. Both networks must be
equal, simulate spike-for-spike alike, and agree with the reference
interpreter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

import spikec
from spikec.backends.reference import reference_simulate
from spikec.dsl import compile_text
from spikec.ir.printer import format_number

CIRCUITS = """\
circuit cell<th, w>(a[2]) -> (o) {
    neuron h (threshold = th, decay = 0.5)
    neuron o (decay = 1)
    a[*] -> h (weight = w)
    h -> o (delay = 2)
}
circuit pair<th>(a[2]) -> (o[2]) {
    let c = cell<th, 1>(a)
    neuron o[2] (decay = 1)
    c -> o[0]
    a[1] -> o[1] (weight = 2)
}
"""

quarters = st.integers(-8, 8).map(lambda k: k / 4)
PARAM_VALUES = {
    "threshold": st.integers(-1, 8).map(lambda k: k / 2),
    "decay": st.sampled_from([0.0, 0.25, 0.5, 0.75, 1.0]),
    "reset": quarters,
    "bias": st.sampled_from([0.0, 0.25, 0.5, -0.25]),
    "p": st.sampled_from([1.0, 1.0, 0.5]),
    "v0": quarters,
}


@dataclass
class Pop:
    """An input or neuron declaration; ``size`` None means a single neuron."""

    name: str
    size: int | None
    is_input: bool
    params: dict[str, float] = field(default_factory=dict)
    kind: dict[str, float] | None = None

    def names(self) -> list[str]:
        if self.size is None:
            return [self.name]
        return [f"{self.name}[{i}]" for i in range(self.size)]


@dataclass
class Wire:
    """Synapses from ``pre`` to ``post`` written in one of several styles."""

    pre: Pop
    post: Pop
    style: str
    a: int
    b: int
    m: int
    weight: float
    delay: int


@dataclass
class Inst:
    """``let NAME = cell<th, w>(src[at..at + 2])`` or ``pair<th>(...)``."""

    name: str
    circuit: str
    src: Pop
    at: int
    th: float
    w: float


@dataclass
class Program:
    pops: list[Pop]
    wires: list[Wire]
    insts: list[Inst]


def _num(x: float) -> str:
    return format_number(x)


@st.composite
def programs(draw: st.DrawFn) -> Program:
    pops: list[Pop] = []
    for k in range(draw(st.integers(1, 3))):
        size = draw(st.one_of(st.none(), st.integers(1, 4)))
        pops.append(Pop(f"in{k}", size, True))
    for k in range(draw(st.integers(1, 4))):
        size = draw(st.one_of(st.none(), st.integers(1, 4)))
        keys = draw(st.lists(st.sampled_from(list(PARAM_VALUES)), unique=True, max_size=4))
        params = {key: draw(PARAM_VALUES[key]) for key in keys}
        kind = None
        if draw(st.booleans()):
            kind = {"decay": draw(PARAM_VALUES["decay"]), "threshold": draw(PARAM_VALUES["threshold"])}
        pops.append(Pop(f"n{k}", size, False, params, kind))
    targets = [p for p in pops if not p.is_input]
    wires = []
    for _ in range(draw(st.integers(0, 8))):
        pre = draw(st.sampled_from(pops))
        post = draw(st.sampled_from(targets))
        styles = ["single", "all"]
        if pre.size is not None and post.size is not None:
            styles += ["loop", "even", "grid", "slice"]
        style = draw(st.sampled_from(styles))
        npre, npost = pre.size or 1, post.size or 1
        m = draw(st.integers(1, min(npre, npost)))
        a = draw(st.integers(0, npre - m))
        b = draw(st.integers(0, npost - m))
        if style == "single":
            a, b = draw(st.integers(0, npre - 1)), draw(st.integers(0, npost - 1))
        wires.append(Wire(pre, post, style, a, b, m, draw(quarters), draw(st.integers(1, 4))))
    insts = []
    arrays = [p for p in pops if p.size is not None and p.size >= 2]
    if arrays:
        for k in range(draw(st.integers(0, 3))):
            src = draw(st.sampled_from(arrays))
            assert src.size is not None
            insts.append(Inst(f"u{k}", draw(st.sampled_from(["cell", "pair"])), src,
                              draw(st.integers(0, src.size - 2)),
                              draw(PARAM_VALUES["threshold"]), draw(quarters)))
    return Program(pops, wires, insts)


# ---- rendering as .spk text ---------------------------------------------------------


def _ref(pop: Pop, index: int | str | None) -> str:
    if pop.size is None or index is None:
        return pop.name
    return f"{pop.name}[{index}]"


def to_spk(prog: Program) -> str:
    lines = [CIRCUITS]
    for pop in prog.pops:
        size = "" if pop.size is None else f"[{pop.size}]"
        if pop.is_input:
            lines.append(f"input {pop.name}{size}")
            continue
        params = ", ".join(f"{k} = {_num(v)}" for k, v in pop.params.items())
        params = f" ({params})" if params else ""
        if pop.kind is not None:
            kind = ", ".join(f"{k} = {_num(v)}" for k, v in pop.kind.items())
            lines.append(f"kind k_{pop.name} ({kind})")
            lines.append(f"k_{pop.name} {pop.name}{size}{params}")
        else:
            lines.append(f"neuron {pop.name}{size}{params}")
    for inst in prog.insts:
        args = f"{inst.src.name}[{inst.at}..{inst.at + 2}]"
        if inst.circuit == "cell":
            lines.append(f"let {inst.name} = cell<{_num(inst.th)}, {_num(inst.w)}>({args})")
        else:
            lines.append(f"let {inst.name} = pair<{_num(inst.th)}>({args})")
    for w in prog.wires:
        opts = f" (weight = {_num(w.weight)}, delay = {w.delay})"
        if w.style == "single":
            lines.append(f"{_ref(w.pre, w.a)} -> {_ref(w.post, w.b)}{opts}")
        elif w.style == "all":
            lines.append(f"{w.pre.name} -> {w.post.name}[*]{opts}" if w.post.size is not None
                         else f"{w.pre.name} -> {w.post.name}{opts}")
        elif w.style == "loop":
            lines.append(f"for i in 0..{w.m} {{\n"
                         f"    {w.pre.name}[i + {w.a}] -> {w.post.name}[{w.b} + i]{opts}\n}}")
        elif w.style == "even":
            lines.append(f"for i in 0..{w.m} {{ if i % 2 == 0 {{"
                         f" {w.pre.name}[i + {w.a}] -> {w.post.name}[i + {w.b}]{opts} }}"
                         f" else {{ }} }}")
        elif w.style == "grid":
            lines.append(f"for i in {w.a}..{w.a + w.m} {{\n  for j in {w.b}..{w.b} + {w.m} {{\n"
                         f"    {w.pre.name}[i] -> {w.post.name}[j]{opts}\n  }}\n}}")
        else:  # slice
            lines.append(f"{w.pre.name}[{w.a}..{w.a + w.m}] -> {w.post.name}[{w.b}]{opts}")
    probes = [p.name for p in prog.pops if not p.is_input]
    lines.append("probe " + ", ".join(probes) + f", count({prog.pops[0].name})")
    lines.extend(f"probe {inst.name}" for inst in prog.insts if inst.circuit == "cell")
    return "\n".join(lines) + "\n"


# ---- the same network through the Python API ------------------------------------------


def _cell(net: spikec.Network, prefix: str, th: float, w: float, src: list[str]) -> str:
    h = net.neuron(f"{prefix}.h", threshold=th, decay=0.5)
    o = net.neuron(f"{prefix}.o", decay=1)
    for name in src:
        net.synapse(name, h, weight=w)
    net.synapse(h, o, delay=2)
    return o


def _pair(net: spikec.Network, prefix: str, th: float, src: list[str]) -> None:
    c = _cell(net, f"{prefix}.c", th, 1.0, src)
    o = [net.neuron(f"{prefix}.o[{i}]", decay=1) for i in range(2)]
    net.synapse(c, o[0])
    net.synapse(src[1], o[1], weight=2)


def to_network(prog: Program) -> spikec.Network:
    net = spikec.Network("network")
    for pop in prog.pops:
        for name in pop.names():
            if pop.is_input:
                net.input(name)
            else:
                params = {**(pop.kind or {}), **pop.params}
                net.neuron(name, *(params.get(k, spikec.ir.network.DEFAULT_PARAMS[k])
                                   for k in spikec.ir.network.NEURON_PARAMS))
    for inst in prog.insts:
        src = inst.src.names()[inst.at:inst.at + 2]
        if inst.circuit == "cell":
            _cell(net, inst.name, inst.th, inst.w, src)
        else:
            _pair(net, inst.name, inst.th, src)
    for w in prog.wires:
        pre, post = w.pre.names(), w.post.names()
        pairs: list[tuple[str, str]]
        if w.style == "single":
            pairs = [(pre[w.a], post[w.b])]
        elif w.style == "all":
            pairs = [(x, y) for x in pre for y in post]
        elif w.style == "loop":
            pairs = [(pre[i + w.a], post[i + w.b]) for i in range(w.m)]
        elif w.style == "even":
            pairs = [(pre[i + w.a], post[i + w.b]) for i in range(0, w.m, 2)]
        elif w.style == "grid":
            pairs = [(pre[i], post[j]) for i in range(w.a, w.a + w.m)
                     for j in range(w.b, w.b + w.m)]
        else:
            pairs = [(pre[i], post[w.b]) for i in range(w.a, w.a + w.m)]
        for x, y in pairs:
            net.synapse(x, y, weight=w.weight, delay=w.delay)
    for pop in prog.pops:
        if not pop.is_input:
            net.probe(*pop.names(), label=pop.name, array=pop.size is not None)
    first = prog.pops[0]
    net.probe(*first.names(), label=f"count({first.name})", decoder="count",
              array=first.size is not None)
    for inst in prog.insts:
        if inst.circuit == "cell":
            net.probe(f"{inst.name}.o", label=inst.name)
    return net


# ---- the property ------------------------------------------------------------------------


@st.composite
def runs(draw: st.DrawFn) -> tuple[Program, dict[str, Any], int, int]:
    prog = draw(programs())
    steps = draw(st.integers(1, 14))
    inputs = {
        name: draw(st.lists(st.integers(0, steps - 1), max_size=4))
        for pop in prog.pops if pop.is_input for name in pop.names()
    }
    return prog, inputs, steps, draw(st.integers(0, 2**16))


@given(runs())
def test_program_equals_api_network(case: tuple[Program, dict[str, Any], int, int]) -> None:
    prog, inputs, steps, seed = case
    text = to_spk(prog)
    net = compile_text(text)
    expected = to_network(prog)
    assert spikec.format_network(net) == spikec.format_network(expected), text
    assert net == expected
    ours = spikec.simulate(net, steps, inputs=inputs, seed=seed, trials=2, record="all")
    theirs = spikec.simulate(expected, steps, inputs=inputs, seed=seed, trials=2, record="all")
    reference = reference_simulate(net, steps, inputs=inputs, seed=seed, trials=2)
    assert set(ours.spikes) == set(theirs.spikes) == set(net)
    for name in net:
        assert np.array_equal(ours.spikes[name], theirs.spikes[name]), (name, text)
        assert np.array_equal(ours.spikes[name], reference.spikes[name]), (name, text)


def test_renderer_covers_every_style() -> None:
    a = Pop("a", 3, True)
    y = Pop("y", 3, False, {"threshold": 0.5}, {"decay": 1.0, "threshold": 2.0})
    styles = ["single", "all", "loop", "even", "grid", "slice"]
    prog = Program([a, y], [Wire(a, y, s, 0, 1, 2, 0.25, 2) for s in styles],
                   [Inst("u0", "cell", a, 1, 1.0, 0.5), Inst("u1", "pair", a, 0, 0.5, 1.0)])
    net = compile_text(to_spk(prog))
    assert net == to_network(prog)
    # single, all-to-all, loop, even, grid, slice, cell (3), pair (cell + 2)
    assert net.num_synapses == 1 + 9 + 2 + 1 + 4 + 2 + 3 + 5
