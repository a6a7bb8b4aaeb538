"""The .spk grammar and the syntax tree it builds (spikec.dsl.parser)."""

from __future__ import annotations

import re

import pytest

from spikec.dsl import ParseError, parse
from spikec.dsl import syntax as s
from spikec.dsl.parse_errors import EXAMPLES

MAJORITY = """\
// comments run to the end of the line; '#' works too
input x[3]                                  // three input neurons x[0], x[1], x[2]

neuron maj (threshold = 2, decay = 1)       // a 2-of-3 majority gate
for i in 0..3 {                             // 0..3 is 0, 1, 2 (end excluded)
    x[i] -> maj                             // weight 1, delay 1 by default
}
neuron slow (threshold = 1, decay = 1)
maj -> slow (weight = 1, delay = 4)

probe maj, slow
"""


def one(text: str) -> s.Statement:
    program = parse(text, "t.spk")
    assert len(program.statements) == 1, program.statements
    return program.statements[0]


def value(text: str) -> s.Expr:
    stmt = one(f"let v = {text}")
    assert isinstance(stmt, s.Let)
    return stmt.value


def test_majority_example_statements() -> None:
    program = parse(MAJORITY, "majority.spk")
    kinds = [type(st).__name__ for st in program.statements]
    assert kinds == ["InputDecl", "NeuronDecl", "For", "NeuronDecl", "Connect", "Probe"]
    loop = program.statements[2]
    assert isinstance(loop, s.For) and loop.var == "i"
    assert isinstance(loop.body[0], s.Connect)
    probe = program.statements[-1]
    assert isinstance(probe, s.Probe)
    assert [item.refs[0].name for item in probe.items] == ["maj", "slow"]


def test_locations_carry_file_line_column_and_text() -> None:
    program = parse(MAJORITY, "majority.spk")
    neuron = program.statements[1]
    assert isinstance(neuron, s.NeuronDecl)
    assert (neuron.loc.file, neuron.loc.line, neuron.loc.column) == ("majority.spk", 4, 1)
    assert (neuron.name_loc.line, neuron.name_loc.column) == (4, 8)
    assert neuron.loc.text is not None and neuron.loc.text.startswith("neuron maj")
    delay = program.statements[4]
    assert isinstance(delay, s.Connect)
    assert (delay.params[1].value.loc.line, delay.params[1].value.loc.column) == (9, 34)


def test_neuron_forms() -> None:
    decl = one("neuron y[4] (threshold = 2, decay = 0.5,)")
    assert isinstance(decl, s.NeuronDecl) and decl.kind is None
    assert isinstance(decl.size, s.Number) and decl.size.value == 4
    assert [p.name for p in decl.params] == ["threshold", "decay"]
    bare = one("neuron y")
    assert isinstance(bare, s.NeuronDecl) and bare.size is None and bare.params == ()
    kinded = one("gate y (threshold = 2)")
    assert isinstance(kinded, s.NeuronDecl) and kinded.kind == "gate"
    kind = one("kind gate (decay = 1)")
    assert isinstance(kind, s.KindDecl) and kind.params[0].name == "decay"


@pytest.mark.parametrize(
    ("text", "shape"),
    [
        ("x", []),
        ("x[i]", ["Index"]),
        ("x[*]", ["Whole"]),
        ("x[a..b]", ["Slice"]),
        ("u.port", ["Attr"]),
        ("u.port[2]", ["Attr", "Index"]),
        ("outer.inner.y", ["Attr", "Attr"]),
        ("bit[3].carry", ["Index", "Attr"]),
    ],
)
def test_references(text: str, shape: list[str]) -> None:
    stmt = one(f"{text} -> y")
    assert isinstance(stmt, s.Connect)
    assert [type(a).__name__ for a in stmt.pre.accessors] == shape


def test_connection_parameters() -> None:
    stmt = one("a -> b (weight = -2, delay = n + 1)")
    assert isinstance(stmt, s.Connect)
    assert [p.name for p in stmt.params] == ["weight", "delay"]
    assert isinstance(stmt.params[1].value, s.Binary)


@pytest.mark.parametrize(
    ("text", "op"),
    [
        ("1 + 2", "+"), ("1 - 2", "-"), ("1 * 2", "*"), ("1 / 2", "/"), ("7 // 2", "//"),
        ("7 % 2", "%"), ("2 ** 3", "**"), ("1 < 2", "<"), ("1 <= 2", "<="), ("1 > 2", ">"),
        ("1 >= 2", ">="), ("1 == 2", "=="), ("1 != 2", "!="), ("true and false", "and"),
        ("true or false", "or"),
    ],
)
def test_binary_operators(text: str, op: str) -> None:
    expr = value(text)
    assert isinstance(expr, s.Binary) and expr.op == op


def test_precedence() -> None:
    expr = value("1 + 2 * 3 ** 2")
    assert isinstance(expr, s.Binary) and expr.op == "+"
    assert isinstance(expr.right, s.Binary) and expr.right.op == "*"
    assert isinstance(expr.right.right, s.Binary) and expr.right.right.op == "**"
    neg = value("-2 ** 2")  # like Python: -(2 ** 2)
    assert isinstance(neg, s.Unary) and isinstance(neg.operand, s.Binary)
    logic = value("not a < b and c or d")
    assert isinstance(logic, s.Binary) and logic.op == "or"


@pytest.mark.parametrize(
    ("text", "number"),
    [("8", 8), ("1_000_000", 1_000_000), ("0.25", 0.25), ("2.5e3", 2500.0), ("1e-3", 0.001)],
)
def test_number_literals(text: str, number: float) -> None:
    expr = value(text)
    assert isinstance(expr, s.Number) and expr.value == number
    assert type(expr.value) is type(number)


def test_booleans_and_calls() -> None:
    assert value("true") == s.Boolean(True, value("true").loc)
    call = value("max(1, 2, 3)")
    assert isinstance(call, s.Call) and call.func == "max" and call.params is None
    assert len(call.args) == 3


@pytest.mark.parametrize(
    ("text", "divides"),
    [
        ("let n = 9 // 2", True),
        ("let n = 9 // 2 + 1", True),
        ("let n = m//2", True),
        ("let n = 9 // 2 # half", True),
        ("let n = 9 // 2 // half of it", True),
        ("let b = 9 // 2 > 3 and true", True),
        ("let n = 8 // bits per word", False),
        ("let n = 9 // 2 bits each", False),
        ("let n = 8 // don't change", False),
        ("let n = 8 /// doc comment", False),
        ("x -> y // wire", False),
        ("let n = 9\n// 2", False),
        ("let n = 9\n    // threshold\n", False),
        ("let n = 9   \r\n\n  // 2 + 1\n", False),
        ("x[i] -> maj // weight 1, delay 1 by default", False),
    ],
)
def test_double_slash_is_division_or_comment(text: str, divides: bool) -> None:
    program = parse(text, "t.spk")
    assert len(program.statements) == 1
    stmt = program.statements[0]
    found = repr(stmt).count("op='//'")
    assert found == (1 if divides else 0)


@pytest.mark.parametrize(
    ("text", "generic"),
    [
        ("let v = kofn<8, 5>(bits)", True),
        ("let v = kofn<n - 1, k>(x[0..n - 1])", True),
        ("let v = kofn < 8", False),
        ("let v = a < b and c > (d)", False),
        ("let v = a <= b", False),
    ],
)
def test_angle_brackets_are_parameters_or_comparisons(text: str, generic: bool) -> None:
    expr = value(text.removeprefix("let v = "))
    is_generic = isinstance(expr, s.Call) and expr.params is not None
    assert is_generic == generic


def test_circuit_definition() -> None:
    circuit = one(
        "circuit kofn<n, k>(x[n]) -> (y) {\n"
        "    neuron y (threshold = k, decay = 1)\n"
        "    x[*] -> y\n"
        "}\n"
    )
    assert isinstance(circuit, s.CircuitDef)
    assert [p.name for p in circuit.params] == ["n", "k"]
    assert [p.name for p in circuit.inputs] == ["x"]
    assert circuit.inputs[0].size is not None
    assert [p.name for p in circuit.outputs] == ["y"]
    assert len(circuit.body) == 2
    bare = one("circuit c() { }")
    assert isinstance(bare, s.CircuitDef) and bare.params == bare.inputs == bare.outputs == ()


def test_instances() -> None:
    plain = one("let h = half_adder(bits[0], bits[1])")
    assert isinstance(plain, s.Let) and isinstance(plain.value, s.Call)
    indexed = one("let bit[i] = full_adder<i>(a[i], b[i], c)")
    assert isinstance(indexed, s.Let) and indexed.index is not None
    call = indexed.value
    assert isinstance(call, s.Call) and call.params is not None and len(call.params) == 1


def test_control_flow() -> None:
    stmt = one("if a { x -> y } else if b { x -> z } else { }")
    assert isinstance(stmt, s.If) and len(stmt.then) == 1
    assert isinstance(stmt.orelse[0], s.If)
    nested = one("for i in 0..3 { for j in i..3 { x[i] -> y[j] } }")
    assert isinstance(nested, s.For) and isinstance(nested.body[0], s.For)


def test_imports() -> None:
    program = parse('import "lib/other.spk"\nimport std.logic\nimport model "net.h5" as mlp')
    a, b, c = program.statements
    assert isinstance(a, s.ImportFile) and a.path == "lib/other.spk"
    assert isinstance(b, s.ImportLib) and b.parts == ("std", "logic")
    assert isinstance(c, s.ImportModel) and (c.path, c.alias) == ("net.h5", "mlp")


def test_stimulus_and_probe_forms() -> None:
    program = parse(
        "stimulus x[0] = at(0, 3, 7)\n"
        "stimulus x = bits(13) at 0\n"
        "stimulus x = poisson(0.1)\n"
        "probe A, B\n"
        "probe count(A), first(A), binary(A), rate(A)\n"
    )
    at, bits, poisson, raw, decoded = program.statements
    assert isinstance(at, s.Stimulus) and isinstance(at.source, s.StimAt)
    assert len(at.source.times) == 3
    assert isinstance(bits, s.Stimulus) and isinstance(bits.source, s.StimCall)
    assert bits.source.func == "bits" and bits.source.when is not None
    assert isinstance(poisson, s.Stimulus) and isinstance(poisson.source, s.StimCall)
    assert poisson.source.when is None
    assert isinstance(raw, s.Probe) and [i.decoder for i in raw.items] == [None, None]
    assert isinstance(decoded, s.Probe)
    assert [i.decoder for i in decoded.items] == ["count", "first", "binary", "rate"]


def test_separators_and_layout_are_free() -> None:
    program = parse("input a; input b\nneuron y (threshold = 2,\n  decay = 1)\na -> y; b -> y")
    assert len(program.statements) == 5


def test_empty_and_comment_only_files() -> None:
    assert parse("").statements == ()
    assert parse("# nothing\n// at all\n").statements == ()


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        ("neuron x (threshold 2)", "1:21",
         "expected '=' between the parameter name and its value, found integer 2"),
        ("input x[3]\nneuron in", "2:8", "'in' is a reserved word and cannot be used as a name"),
        ("for i in 3 { }", "1:12", "expected '..' in the loop range 'start..stop', found '{'"),
        ("a -> b -> c", "1:8", "expected a statement, found '->': connections do not chain"
         " (write 'a -> b' and 'b -> c' as two statements)"),
        ("let b = 1 < 2 < 3", "1:15",
         "comparisons do not chain (write 'a < b and b < c'), found '<'"),
        ("for i in 0..3 {\n  x -> y\n", "1:15",
         "'{' is never closed: expected '}' before the end of the file"),
        ('import "lib.spk', "1:8", "unterminated string: a closing '\"' is missing on this line"),
        ("let n = 8 $ 2", "1:11", "unexpected character '$': no .spk token starts with it"),
    ],
)
def test_syntax_errors_are_labelled(text: str, where: str, message: str) -> None:
    with pytest.raises(ParseError, match=rf"^t\.spk:{where}: error: {re.escape(message)}"):
        parse(text, "t.spk")


def test_syntax_error_in_nested_block_is_labelled() -> None:
    text = "for i in 0..3 {\n  for j in 0..2 {\n    neuron x (threshold 2)\n  }\n}\n"
    with pytest.raises(ParseError) as info:
        parse(text, "t.spk")
    head, line, caret = str(info.value).splitlines()
    assert head == (
        "t.spk:3:25: error: expected '=' between the parameter name and its value,"
        " found integer 2"
    )
    assert line.strip() == "neuron x (threshold 2)"
    assert caret.index("^") == line.index("2")


@pytest.mark.parametrize(
    ("label", "snippet"),
    [(label, snippet) for label, snippets in EXAMPLES.items() for snippet in snippets],
)
def test_every_example_error_gets_its_label(label: str, snippet: str) -> None:
    with pytest.raises(ParseError) as info:
        parse(snippet, "t.spk")
    message = info.value.message
    found = message.split(", found ", 1)[1] if ", found " in message else ""
    found = found.split(":")[0] if label.endswith("statements)") else found
    assert message == label.replace("{found}", found)
