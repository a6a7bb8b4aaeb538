"""Fuzzing the .spk front end (issue 13): generated and mutated programs either compile (and
verify) or are refused with a SpikecError; nothing else may escape, within a time bound.

Two fuzzers, each with a short run in the default suite and a long one under ``--slow``:

* a grammar-based generator (hypothesis) of valid-ish programs: neurons, arrays, kinds,
  connections, loops, ifs, lets, circuits and instances, stimuli, probes, gates, imports of
  generated files and library modules, diffusion statements; numbers drawn to include huge,
  negative, fractional and extreme floats;
* a mutation fuzzer (seeded ``random``) over the examples and the library's ``.spk`` files:
  deleted, duplicated and spliced spans, numbers replaced by huge/negative/float values,
  inserted tokens, brackets, unicode and bytes.
"""

from __future__ import annotations

import contextlib
import random
import re
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spikec.dsl import Limits, compile_text
from spikec.errors import SpikecError
from spikec.ir.verify import verify

ROOT = Path(__file__).resolve().parent.parent
SMALL = Limits(max_neurons=100_000, max_synapses=1_000_000, max_depth=30, max_work=1_000_000,
               max_source_bytes=1 << 20)
#: Seconds one input may take before it counts as a hang.
TIME_BOUND = 20


class _Slow(Exception):  # noqa: N818 - a signal
    """The input ran past :data:`TIME_BOUND`."""


@contextlib.contextmanager
def _time_bound(seconds: float) -> Iterator[None]:
    def alarm(signum: int, frame: object) -> None:
        raise _Slow

    old = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def run_one(text: str, filename: str) -> str:
    """Compile (and verify) ``text``; return ``"ok"`` or the SpikecError class's name, and
    fail on anything else, showing the input."""
    try:
        with _time_bound(TIME_BOUND):
            net = compile_text(text, filename=filename, limits=SMALL)
            verify(net)
    except SpikecError as err:
        str(err)  # the message renders
        return type(err).__name__
    except _Slow:
        pytest.fail(f"input took more than {TIME_BOUND} s:\n{text[:3000]}")
    except Exception as err:  # noqa: BLE001 - the point of the test
        pytest.fail(f"{type(err).__name__}: {err}\ninput:\n{text[:3000]}")
    return "ok"


# ---- the grammar-based generator --------------------------------------------------------------

NAMES = ["a", "b", "c", "x", "y", "n", "i", "k", "u", "v"]
NUMBERS = ["0", "1", "2", "3", "4", "7", "16", "-1", "-3", "0.5", "2.5", "1e-3", "1e308", "1e-320",
           "10**30", "2**63", "2**70", "10**4000", "9" * 50, "1_000", "0.0"]
FUNCS = ["min", "max", "abs", "floor", "ceil", "round", "sqrt", "exp", "log", "log2", "comb"]
OPS = ["+", "-", "*", "/", "//", "%", "**", "<", "<=", ">", ">=", "==", "!=", "and", "or"]


@st.composite
def expressions(draw: st.DrawFn, depth: int = 0) -> str:
    kind = draw(st.integers(0, 9 if depth < 3 else 2))
    if kind == 0:
        return draw(st.sampled_from(NUMBERS))
    if kind == 1:
        return draw(st.sampled_from(NAMES))
    if kind == 2:
        return draw(st.sampled_from(["true", "false", '"reflecting"', "i", "n", "k"]))
    if kind <= 5:
        left, right = draw(expressions(depth + 1)), draw(expressions(depth + 1))
        return f"{left} {draw(st.sampled_from(OPS))} {right}"
    if kind == 6:
        return f"{draw(st.sampled_from(['-', 'not ', '+']))}{draw(expressions(depth + 1))}"
    if kind == 7:
        args = draw(st.lists(expressions(depth + 1), min_size=1, max_size=3))
        return f"{draw(st.sampled_from(FUNCS))}({', '.join(args)})"
    if kind == 8:
        return f"({draw(expressions(depth + 1))})"
    return f"{draw(st.sampled_from(NAMES))}[{draw(expressions(depth + 1))}]"


@st.composite
def refs(draw: st.DrawFn) -> str:
    name = draw(st.sampled_from(NAMES))
    form = draw(st.integers(0, 5))
    if form == 0:
        return name
    if form == 1:
        return f"{name}[{draw(expressions(2))}]"
    if form == 2:
        return f"{name}[*]"
    if form == 3:
        return f"{name}[{draw(expressions(2))}..{draw(expressions(2))}]"
    return f"{name}.{draw(st.sampled_from(['y', 'out', 'sum', 's']))}"


@st.composite
def params(draw: st.DrawFn, names: list[str]) -> str:
    chosen = draw(st.lists(st.sampled_from(names), max_size=3))
    if not chosen:
        return ""
    return "(" + ", ".join(f"{p} = {draw(expressions(1))}" for p in chosen) + ")"


NEURON_PARAMS = ["threshold", "decay", "reset", "bias", "p", "v0", "weight"]
DIFFUSION_PARAMS = ["nx", "ny", "D", "dx", "dt", "steps", "walkers", "boundary", "drift", "kill",
                    "source", "method", "counts"]


@st.composite
def statements(draw: st.DrawFn, depth: int = 0) -> str:
    kind = draw(st.integers(0, 15 if depth < 3 else 8))
    name = draw(st.sampled_from(NAMES))
    if kind == 0:
        size = f"[{draw(expressions(1))}]" if draw(st.booleans()) else ""
        return f"input {name}{size}"
    if kind in (1, 2):
        size = f"[{draw(expressions(1))}]" if draw(st.booleans()) else ""
        return f"neuron {name}{size} {draw(params(NEURON_PARAMS))}"
    if kind in (3, 4):
        return f"{draw(refs())} -> {draw(refs())} {draw(params(['weight', 'delay', 'decay']))}"
    if kind == 5:
        return f"let {name} = {draw(expressions())}"
    if kind == 6:
        return f"stimulus {draw(refs())} = " + draw(st.sampled_from([
            f"at({draw(expressions(2))}, {draw(expressions(2))})", f"bits({draw(expressions(2))})",
            f"bits({draw(expressions(2))}) at {draw(expressions(2))}", f"poisson({draw(expressions(2))})"]))
    if kind == 7:
        decoder = draw(st.sampled_from(["", "count", "first", "binary", "rate", "field", "label"]))
        ref = draw(refs())
        return f"probe {decoder}({ref})" if decoder else f"probe {ref}"
    if kind == 8:
        return f"kind {name} {draw(params(NEURON_PARAMS))}\n{name} {draw(st.sampled_from(NAMES))}"
    body = "\n".join(draw(st.lists(statements(depth + 1), max_size=4)))
    if kind in (9, 10):
        return f"for {name} in {draw(expressions(2))}..{draw(expressions(2))} {{\n{body}\n}}"
    if kind == 11:
        other = "\n".join(draw(st.lists(statements(depth + 1), max_size=2)))
        return f"if {draw(expressions(1))} {{\n{body}\n}} else {{\n{other}\n}}"
    if kind == 12:
        circuit = draw(st.sampled_from(["f", "g", "half_adder", "kofn", "cla_add", "geq"]))
        args = ", ".join(draw(st.lists(refs(), min_size=0, max_size=3)))
        ps = ", ".join(draw(st.lists(expressions(2), max_size=2)))
        index = f"[{draw(expressions(2))}]" if draw(st.booleans()) else ""
        return f"let {name}{index} = {circuit}{'<' + ps + '>' if ps else ''}({args})"
    if kind == 13:
        ops = draw(st.lists(st.sampled_from(["&", "|", "^", "->"]), min_size=0, max_size=3))
        expr = draw(st.sampled_from(NAMES))
        for op in ops:
            expr += f" {op} {'~' if draw(st.booleans()) else ''}{draw(st.sampled_from(NAMES + ['1', '0']))}"
        return f"gate {name} = {expr}\nbalance {name}"
    if kind == 14:
        chosen = draw(st.lists(st.sampled_from(DIFFUSION_PARAMS), max_size=9, unique=True))
        values = {p: draw(expressions(2)) for p in chosen}
        values.update({p: v for p, v in (("nx", "5"), ("D", "1.0"), ("dt", "0.01"), ("steps", "4"),
                                         ("walkers", "6")) if p not in values and draw(st.booleans())})
        if "counts" in values:
            values["counts"] = draw(st.sampled_from(['"c.csv"', '"/dev/zero"', '"/etc/passwd"',
                                                     '"nope.npy"', '"gen0.spk"']))
        if "method" in values or "boundary" in values:
            values.update({k: draw(st.sampled_from(['"particle"', '"density"', '"periodic"',
                                                    '"absorbing"', "3"])) for k in ("method", "boundary")
                           if k in values})
        return f"diffusion {name} ({', '.join(f'{k} = {v}' for k, v in values.items())})"
    return f"let {name} = {draw(expressions())}\n{body}"


@st.composite
def circuits(draw: st.DrawFn) -> str:
    name = draw(st.sampled_from(["f", "g"]))
    ps = ", ".join(draw(st.lists(st.sampled_from(["n", "k", "m"]), max_size=2, unique=True)))
    ports = ", ".join(draw(st.sampled_from([f"{p}", f"{p}[{draw(expressions(2))}]"]))
                      for p in draw(st.lists(st.sampled_from(["a", "b", "c"]), max_size=2, unique=True)))
    outs = draw(st.sampled_from(["", " -> (y)", " -> (y, s)", " -> (y[n])"]))
    body = "\n".join(draw(st.lists(statements(1), max_size=5)))
    recursive = f"\nif n > 0 {{ let r = {name}<n - 1>(a) }}" if draw(st.booleans()) and "n" in ps else ""
    return f"circuit {name}{'<' + ps + '>' if ps else ''}({ports}){outs} {{\n{body}{recursive}\n}}"


@st.composite
def programs(draw: st.DrawFn) -> tuple[str, dict[str, str]]:
    """A main program and the files it may import (name -> text)."""
    files = {f"gen{j}.spk": "\n".join(draw(st.lists(st.one_of(circuits(), statements(1)), max_size=3)))
             for j in range(draw(st.integers(0, 2)))}
    head = draw(st.lists(st.sampled_from(
        ['import "gen0.spk"', 'import "gen1.spk"', 'import "gen0.spk"', "import std.logic",
         "import std.arith", "import std.diffusion", 'import "../x.spk"', 'import "/etc/passwd"',
         'import "nope.spk"']), max_size=3))
    if files and draw(st.booleans()):  # an import cycle, sometimes
        files["gen0.spk"] += '\nimport "gen0.spk"' if draw(st.booleans()) else '\nimport "gen1.spk"'
    body = draw(st.lists(st.one_of(circuits(), statements()), min_size=1, max_size=8))
    return "\n".join([*head, "input x", "input a[4]", "neuron y", *body]), files


def _run_program(program: tuple[str, dict[str, str]]) -> str:
    text, files = program
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for name, body in files.items():
            (folder / name).write_text(body)
        (folder / "c.csv").write_text("1,2,3,4,5\n")
        return run_one(text, str(folder / "main.spk"))


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(programs())
def test_generated_programs_raise_only_spikec_errors(program: tuple[str, dict[str, str]]) -> None:
    _run_program(program)


@pytest.mark.slow
@settings(max_examples=3000, deadline=None, suppress_health_check=list(HealthCheck))
@given(programs())
def test_many_generated_programs_raise_only_spikec_errors(program: tuple[str, dict[str, str]]) -> None:
    _run_program(program)


# ---- the mutation fuzzer -------------------------------------------------------------------


def _seeds() -> list[tuple[str, str]]:
    """(text, filename) of the example programs and library sources, and a few more."""
    paths = [p for p in sorted((ROOT / "examples").glob("*.spk")) if "import model" not in p.read_text()]
    paths += sorted((ROOT / "circuits").glob("*.spk"))
    out = [(p.read_text(), str(p)) for p in paths]
    out += [(text, str(ROOT / "examples" / "extra.spk")) for text in (
        "input x[8]\nneuron y[8]\nfor i in 0..8 { x[i] -> y[(i + 1) % 8] (weight = 0.5 * i, delay = i + 1) }",
        "circuit f<n>(a) -> (y) { neuron y\na -> y\nif n > 0 { let l = f<n - 1>(a)\nlet r = f<n - 1>(a) } }"
        "\ninput x\nlet t = f<6>(x)\nprobe t.y",
        "import std.diffusion\ndiffusion heat (nx = 5, D = 1.0, dx = 1.0, dt = 0.1, steps = 3, walkers = 4)",
        "input a\ninput b\ngate y = (a & b) | ~a\nbalance y\nprobe y",
        "kind k (threshold = 2, decay = 0.5)\nk z[3] (bias = 1)\ninput x\nx -> z[*]\nstimulus x = at(0, 3)",
    )]
    return out


_NUMBER = re.compile(r"\b\d+(\.\d+)?\b")
_HOSTILE = ["9" * 4400, "10**4000", "2**70", "-1", "-999999999", "1e308", "1e-320", "0.5", "0", "2**63",
            "(1 ** 1 ** 1 ** 1)", "\u00e9", "\U0001f600", "\x00", "\ufeff", "\r", "\t"]
_TOKENS = ["{", "}", "(", ")", "[", "]", "<", ">", "->", "..", "*", "**", "//", "=", ",", ";", "#", '"',
           "for", "if", "else", "let", "circuit", "import", "neuron", "input", "probe", "stimulus",
           "kind", "gate", "balance", "at", "not", "true", "and", "import \"/etc/passwd\"", "\n"]


def mutate(text: str, rng: random.Random, seeds: list[tuple[str, str]]) -> str:
    """``text`` with one to four random mutations."""
    for _ in range(rng.randint(1, 4)):
        n = len(text)
        i, j = sorted(rng.randrange(n + 1) for _ in range(2))
        op = rng.randrange(8)
        if op == 0:  # delete a span
            text = text[:i] + text[j:]
        elif op == 1:  # duplicate a span
            text = text[:j] + text[i:j] * rng.randint(1, 3) + text[j:]
        elif op == 2:  # splice in a span of another seed
            other = rng.choice(seeds)[0]
            a, b = sorted(rng.randrange(len(other) + 1) for _ in range(2))
            text = text[:i] + other[a:b] + text[i:]
        elif op == 3:  # replace a number
            numbers = list(_NUMBER.finditer(text))
            if numbers:
                m = rng.choice(numbers)
                text = text[:m.start()] + rng.choice(_HOSTILE) + text[m.end():]
        elif op == 4:  # insert a token
            text = text[:i] + rng.choice(_TOKENS) + text[i:]
        elif op == 5:  # insert hostile characters
            text = text[:i] + rng.choice(_HOSTILE) + text[i:]
        elif op == 6:  # deep nesting
            k = rng.choice([10, 99, 101, 300])
            text = text[:i] + rng.choice(["(", "-", "if true {", "not "]) * k + text[i:]
        else:  # swap two lines
            lines = text.split("\n")
            a, b = rng.randrange(len(lines)), rng.randrange(len(lines))
            lines[a], lines[b] = lines[b], lines[a]
            text = "\n".join(lines)
    return text


def _mutation_run(count: int, seed: int) -> dict[str, int]:
    rng = random.Random(seed)
    seeds = _seeds()
    outcomes: dict[str, int] = {}
    for _ in range(count):
        text, filename = rng.choice(seeds)
        kind = run_one(mutate(text, rng, seeds), filename)
        outcomes[kind] = outcomes.get(kind, 0) + 1
    return outcomes


def test_mutated_programs_raise_only_spikec_errors() -> None:
    outcomes = _mutation_run(120, seed=13)
    assert sum(outcomes.values()) == 120
    assert len(outcomes) > 1  # both accepted and refused programs were tried


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(8))
def test_many_mutated_programs_raise_only_spikec_errors(seed: int) -> None:
    outcomes = _mutation_run(2500, seed=1000 + seed)
    assert sum(outcomes.values()) == 2500


# ---- library circuits with hostile parameters -------------------------------------------------


def _library_calls() -> list[str]:
    """One instantiation template per library circuit: ``{p}`` for each parameter value."""
    from spikec.dsl import library_modules, parse
    from spikec.dsl.elaborate import Elaborator
    from spikec.dsl.modules import Module
    from spikec.dsl.values import GeneratorCircuit, SpkCircuit
    from spikec.ir.network import Network

    calls = []
    for module in library_modules():
        program = parse(f"import {module}", "t.spk")
        top = Module("t.spk", ROOT, "t.spk", program)
        Elaborator(Network("t"), SMALL, {}).run_main(top)
        for name, (value, _) in sorted(top.scope.names.items()):
            if isinstance(value, SpkCircuit):
                count, inputs = len(value.definition.params), len(value.definition.inputs)
            elif isinstance(value, GeneratorCircuit) and not getattr(value, "keyword", False):
                count, inputs = len(value.params), len(value.inputs)
            else:
                continue
            decl = "\n".join(f"input i{k}[8]" for k in range(inputs))
            params = f"<{', '.join(['{p}'] * count)}>" if count else ""
            args = ", ".join(f"i{k}" for k in range(inputs))
            calls.append(f"import {module}\n{decl}\nlet u = {name}{params}({args})")
    return calls


@pytest.mark.parametrize("value", ["10**400", "-1", "0", "0.5", "true", "2**40", "100000"])
def test_library_circuits_refuse_hostile_parameters(value: str) -> None:
    calls = _library_calls()
    assert len(calls) > 10
    for template in calls:
        run_one(template.replace("{p}", value), "t.spk")
