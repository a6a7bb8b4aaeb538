"""Every user mistake is a SpikecError with a location, a pinned message and no traceback.

Each case below is a small bad program with the exact ``line:column`` and
message it must produce; a hypothesis fuzz test then feeds mutated programs
and checks that nothing but SpikecError ever comes out, quickly.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import spikec
import spikec.dsl
import spikec.passes
from spikec.dsl import (
    ElaborationError,
    LimitError,
    Limits,
    ParseError,
    SpkImportError,
    compile_file,
    compile_text,
)
from spikec.errors import SpikecError

LIMITS = Limits(max_neurons=100_000, max_synapses=1_000_000, max_depth=50, max_work=1_000_000)

CASES = [
    pytest.param(
        'circuit c(a) -> (b) {\n'
        '  neuron b\n'
        '  a -> b (delay = 0)\n'
        '}\n'
        'input x\n'
        'let u = c(x)\n',
        '3:19', ElaborationError,
        'delay must be an integer >= 1, got 0',
        id='delay_zero',
    ),
    pytest.param(
        'input a\n'
        'neuron b\n'
        'a -> b (delay = -2)\n',
        '3:17', ElaborationError,
        'delay must be an integer >= 1, got -2',
        id='delay_negative',
    ),
    pytest.param(
        'input a\n'
        'neuron b\n'
        'a -> b (delay = 1.5)\n',
        '3:17', ElaborationError,
        'delay must be an integer >= 1, got 1.5',
        id='delay_fraction',
    ),
    pytest.param(
        'input a\n'
        'neuron b\n'
        'a -> b (delay = true)\n',
        '3:17', ElaborationError,
        'delay must be an integer >= 1, got true',
        id='delay_boolean',
    ),
    pytest.param(
        'input a\n'
        'neuron b\n'
        'a -> b (weight = false)\n',
        '3:18', ElaborationError,
        'weight must be a number, got the boolean false',
        id='weight_boolean',
    ),
    pytest.param(
        'neuron y (p = 1.5)\n',
        '1:15', ElaborationError,
        'p must be in [0, 1], got 1.5',
        id='p_above_one',
    ),
    pytest.param(
        'neuron y (decay = -0.5)\n',
        '1:19', ElaborationError,
        'decay must be in [0, 1], got -0.5',
        id='decay_negative',
    ),
    pytest.param(
        'neuron y (treshold = 2)\n',
        '1:11', ElaborationError,
        "unknown neuron parameter 'treshold' (did you mean 'threshold'?); neurons take"
        ' threshold, decay, reset, bias, p, v0',
        id='param_unknown',
    ),
    pytest.param(
        'neuron y (decay = 1, decay = 0)\n',
        '1:22', ElaborationError,
        "parameter 'decay' is given twice",
        id='param_twice',
    ),
    pytest.param(
        'input a\n'
        'neuron b\n'
        'a -> b (dealy = 2)\n',
        '3:9', ElaborationError,
        "unknown synapse parameter 'dealy' (did you mean 'delay'?); synapses take weight and"
        ' delay',
        id='synapse_param_unknown',
    ),
    pytest.param(
        'neuron maj\n'
        'neuron slow\n'
        'mja -> slow\n',
        '3:1', ElaborationError,
        "unknown name 'mja' (did you mean 'maj'?)",
        id='unknown_name',
    ),
    pytest.param(
        'let n = sqr(16)\n',
        '1:9', ElaborationError,
        "unknown circuit or function 'sqr' (did you mean 'sqrt'?); the functions are min, max,"
        ' abs, floor, ceil, round, sqrt, exp, log, log2, comb',
        id='unknown_function',
    ),
    pytest.param(
        'input x\n'
        'let u = kofm<1, 1>(x)\n',
        '2:9', ElaborationError,
        "unknown circuit 'kofm'",
        id='unknown_circuit',
    ),
    pytest.param(
        'kind gate (decay = 1)\n'
        'gaet y\n',
        '2:1', ElaborationError,
        "unknown kind 'gaet' (did you mean 'gate'?)",
        id='unknown_kind',
    ),
    pytest.param(
        'input x\n'
        'probe cnt(x)\n',
        '2:7', ElaborationError,
        "unknown decoder 'cnt' (did you mean 'count'?); decoders are count, first, binary, rate,"
        " label, field",
        id='unknown_decoder',
    ),
    pytest.param(
        'input x\n'
        'stimulus x = poison(0.1)\n',
        '2:14', ElaborationError,
        "unknown stimulus 'poison' (did you mean 'poisson'?); expected at(T, ...), bits(V) at T"
        ' or poisson(P)',
        id='unknown_stimulus',
    ),
    pytest.param(
        'circuit c(a) -> (sum, carry) { neuron sum  neuron carry  a -> sum }\n'
        'input x\n'
        'let h = c(x)\n'
        'probe h.summ\n',
        '4:8', ElaborationError,
        "instance 'h' of circuit c has no output 'summ' (did you mean 'sum'?); its outputs:"
        ' sum, carry',
        id='unknown_output',
    ),
    pytest.param(
        'input x[2]\n'
        'neuron x\n',
        '2:8', ElaborationError,
        "'x' is already defined in this scope (at t.spk:1:7); pick another name",
        id='duplicate_name',
    ),
    pytest.param(
        'for i in 0..2 {\n'
        '  neuron y\n'
        '}\n',
        '2:10', ElaborationError,
        "duplicate neuron name 'y': this declaration runs more than once (in a loop?); declare"
        " an array before a loop, or bind instances made in a loop with 'let NAME[i] = ...'",
        id='duplicate_in_loop',
    ),
    pytest.param(
        'input x\n'
        'probe x\n'
        'probe x\n',
        '3:7', ElaborationError,
        "'x' is already probed (at t.spk:2:7)",
        id='duplicate_probe',
    ),
    pytest.param(
        'input x[3]\n'
        'neuron y\n'
        'x[3] -> y\n',
        '3:3', ElaborationError,
        "index 3 is out of range for 'x', which has 3 neurons (x[0] to x[2])",
        id='index_out_of_range',
    ),
    pytest.param(
        'input x[3]\n'
        'neuron y\n'
        'x[2..4] -> y\n',
        '3:2', ElaborationError,
        "slice x[2..4] is out of range: 'x' has 3 neurons",
        id='slice_out_of_range',
    ),
    pytest.param(
        'neuron y\n'
        'neuron z\n'
        'y[0] -> z\n',
        '3:2', ElaborationError,
        "'y' is a single neuron, not an array; it cannot be indexed",
        id='index_scalar',
    ),
    pytest.param(
        'circuit half_adder(a, b) -> (sum) { neuron sum  a -> sum  b -> sum }\n'
        'input x[2]\n'
        'let h = half_adder(x[0])\n',
        '3:9', ElaborationError,
        'circuit half_adder takes 2 inputs (a, b), got 1',
        id='argument_count',
    ),
    pytest.param(
        'circuit kofn<n, k>(x[n]) -> (y) { neuron y (threshold = k)  x[*] -> y }\n'
        'input x[8]\n'
        'let v = kofn<8>(x)\n',
        '3:9', ElaborationError,
        'circuit kofn takes 2 parameters (<n, k>), got 1',
        id='parameter_count',
    ),
    pytest.param(
        'circuit kofn<n, k>(x[n]) -> (y) { neuron y (threshold = k)  x[*] -> y }\n'
        'input bits[8]\n'
        'let v = kofn<4, 2>(bits)\n',
        '3:20', ElaborationError,
        "input 'x' of kofn takes 4 neurons (x[4]), got 8 ('bits')",
        id='array_size',
    ),
    pytest.param(
        'circuit inv(a) -> (y) { neuron y  a -> y (weight = -1) }\n'
        'input bits[8]\n'
        'let v = inv(bits)\n',
        '3:13', ElaborationError,
        "input 'a' of inv is one neuron, but got 8 neurons ('bits'); a circuit takes an array"
        ' as a[n]',
        id='scalar_input_given_array',
    ),
    pytest.param(
        'circuit inv(a) -> (y) { neuron y  a -> y }\n'
        'let v = inv(3)\n',
        '2:13', ElaborationError,
        'argument 1 of inv must be neurons, got the number 3; compile-time values go between'
        ' <...>, as in inv<...>(...)',
        id='number_as_argument',
    ),
    pytest.param(
        'circuit c(a) -> (s, t) { neuron s  neuron t  a -> s }\n'
        'input x\n'
        'let h = c(x)\n'
        'neuron z\n'
        'h -> z\n',
        '5:1', ElaborationError,
        "the source of '->': instance 'h' of circuit c has 2 outputs; name one of: h.s, h.t",
        id='multi_output_as_neuron',
    ),
    pytest.param(
        'circuit c(a) -> (y) {\n'
        '  neuron z\n'
        '}\n'
        'input x\n'
        'let u = c(x)\n',
        '1:18', ElaborationError,
        "circuit c: output 'y' is not defined at the top level of its body",
        id='output_missing',
    ),
    pytest.param(
        'input a\n'
        'input b\n'
        'a -> b\n',
        '3:6', ElaborationError,
        "'b' is an input neuron; inputs receive no synapses",
        id='connect_into_input',
    ),
    pytest.param(
        'neuron y\n'
        'stimulus y = at(1)\n',
        '2:10', ElaborationError,
        "stimulus: 'y' is not an input; only inputs take stimuli (declare it with 'input y')",
        id='stimulus_on_neuron',
    ),
    pytest.param(
        'input x\n'
        'stimulus x = at(2, -1)\n',
        '2:20', ElaborationError,
        'spike steps must be >= 0, got -1',
        id='stimulus_negative',
    ),
    pytest.param(
        'input x[3]\n'
        'stimulus x = bits(8) at 0\n',
        '2:19', ElaborationError,
        "bits(8) needs 4 neurons, but 'x' has 3",
        id='bits_too_wide',
    ),
    pytest.param(
        'input x\n'
        'stimulus x = poisson(2)\n',
        '2:22', ElaborationError,
        'poisson rate must be in [0, 1], got 2',
        id='poisson_rate',
    ),
    pytest.param(
        'let n = 4\n'
        'let m = n / (n - 4)\n',
        '2:14', ElaborationError,
        "division by zero: the right side of '/' is 0",
        id='division_by_zero',
    ),
    pytest.param(
        'let m = 7 % 0\n',
        '1:13', ElaborationError,
        "division by zero: the right side of '%' is 0",
        id='modulo_by_zero',
    ),
    pytest.param(
        'let m = 10 ** 10 ** 10\n',
        '1:9', ElaborationError,
        '10 ** 10000000000 is too large (more than 4096 bits)',
        id='power_too_large',
    ),
    pytest.param(
        'let m = true + 1\n',
        '1:9', ElaborationError,
        "'+' needs numbers, got the boolean true",
        id='bool_arithmetic',
    ),
    pytest.param(
        'let n = 3\n'
        'if n { }\n',
        '2:4', ElaborationError,
        "the condition of 'if' must be a boolean (true or false), got the number 3",
        id='condition_not_bool',
    ),
    pytest.param(
        'neuron y[2.5]\n',
        '1:10', ElaborationError,
        "the size of 'y' must be an integer, got 2.5",
        id='size_not_int',
    ),
    pytest.param(
        'neuron y[-1]\n',
        '1:10', ElaborationError,
        "the size of 'y' must be >= 0, got -1",
        id='size_negative',
    ),
    pytest.param(
        'neuron x[10**12]\n',
        '1:10', LimitError,
        'neuron x[1000000000000]: 1,000,000,000,000 neurons in all would pass the limit of'
        ' 100,000 (set SPIKEC_MAX_NEURONS to raise the limit)',
        id='neurons_limit',
    ),
    pytest.param(
        'input x[1000]\n'
        'neuron y[1000]\n'
        'for i in 0..1000000 {\n'
        '  for j in 0..1000000 {\n'
        '    x[i % 1000] -> y[j % 1000]\n'
        '  }\n'
        '}\n',
        '3:1', LimitError,
        'this loop would bring the program to at least 1,000,000,000,000 synapses, more than'
        ' the limit of 1,000,000 (set SPIKEC_MAX_SYNAPSES to raise the limit)',
        id='synapses_limit',
    ),
    pytest.param(
        'for i in 0..10**9 { }\n',
        '1:1', LimitError,
        'this loop would bring the program to at least 1,000,000,001 steps (statements run plus'
        ' loop iterations), more than the limit of 1,000,000 (set SPIKEC_MAX_WORK to raise the'
        ' limit)',
        id='work_limit',
    ),
    pytest.param(
        'circuit f<n>() -> (y) {\n'
        '  neuron y\n'
        '  let g = f<n + 1>()\n'
        '}\n'
        'let u = f<0>()\n',
        '3:11', LimitError,
        'circuit instances nested more than 50 deep (f -> f -> f -> ... -> f -> f -> f): does a'
        ' circuit instantiate itself without a base case? (set SPIKEC_MAX_DEPTH to raise the'
        ' limit)',
        id='recursion',
    ),
    pytest.param(
        'import "nowhere.spk"\n',
        '1:8', SpkImportError,
        "cannot find 'nowhere.spk': no file nowhere.spk",
        id='import_missing',
    ),
    pytest.param(
        'import std.logik\n',
        '1:1', SpkImportError,
        "no library module 'std.logik' (did you mean 'std.logic'?);"
        " the library has: std.arith, std.diffusion, std.graph, std.logic, std.matmul",
        id='import_std_missing',
    ),
    pytest.param(
        'import mylib.logic\n',
        '1:1', SpkImportError,
        "cannot import 'mylib.logic': library modules start with 'std.' (import std.logic); to"
        ' import a file write import "mylib/logic.spk"',
        id='import_not_std',
    ),
    pytest.param(
        'import model "net.onnx" as mlp\n',
        '1:14', ElaborationError,
        "import model: no loader reads '.onnx' files; model files can be: .h5, .hdf5, .nir",
        id='model_import',
    ),
    pytest.param(
        'if true {\n'
        '  circuit c() { }\n'
        '}\n',
        '2:3', ElaborationError,
        'circuit definitions belong at the top level of a file, not in a block',
        id='circuit_in_block',
    ),
    pytest.param(
        'circuit c() {\n'
        '  import std.logic\n'
        '}\n'
        'let u = c()\n',
        '2:3', ElaborationError,
        'imports belong at the top level of a file, not in a block',
        id='import_in_circuit',
    ),
    pytest.param(
        'for i in 0..2 {\n'
        '  let t[i] = i * 2\n'
        '}\n',
        '2:14', ElaborationError,
        "only circuit instances can be bound to 't[...]' (let t[i] = circuit(...)); bind other"
        ' values with let t = ...',
        id='indexed_let_value',
    ),
    pytest.param(
        'let n = 3\n'
        'neuron y\n'
        'n -> y\n',
        '3:1', ElaborationError,
        "the source of '->' must be neurons, but 'n' is the number 3",
        id='number_as_neuron',
    ),
    pytest.param(
        'input x\n'
        'neuron y (threshold = x)\n',
        '2:23', ElaborationError,
        "expected a number here, but 'x' is input 'x'",
        id='neuron_as_number',
    ),
    pytest.param(
        'let b = true == 1\n',
        '1:9', ElaborationError,
        'cannot compare the boolean true with the number 1',
        id='compare_bool_number',
    ),
    pytest.param(
        'let c = comb(-1, 2)\n',
        '1:9', ElaborationError,
        'comb(): needs integers >= 0, got -1 and 2',
        id='comb_negative',
    ),
    pytest.param(
        'let c = sqrt(-4)\n',
        '1:9', ElaborationError,
        'sqrt(): needs a number >= 0, got -4',
        id='sqrt_negative',
    ),
    pytest.param(
        'let c = abs(1, 2)\n',
        '1:9', ElaborationError,
        'abs() takes 1 argument, got 2',
        id='function_arity',
    ),
    pytest.param(
        'circuit c() { }\n'
        'let n = c() + 1\n',
        '2:9', ElaborationError,
        "circuit 'c' makes neurons, not a number; bind an instance with 'let NAME = c(...)' on"
        ' its own',
        id='circuit_as_value',
    ),
    pytest.param(
        'neuron probe\n',
        '1:8', ParseError,
        "'probe' is a reserved word and cannot be used as a name",
        id='reserved_word',
    ),
    pytest.param(
        'neuron x (threshold 2)\n',
        '1:21', ParseError,
        "expected '=' between the parameter name and its value, found integer 2",
        id='syntax_missing_equals',
    ),
    pytest.param(
        'for i in 0..3 {\n'
        '  x -> y\n',
        '1:15', ParseError,
        "'{' is never closed: expected '}' before the end of the file",
        id='syntax_unclosed_block',
    ),
    pytest.param(
        'input a\n'
        'neuron b\n'
        'neuron c\n'
        'a -> b -> c\n',
        '4:8', ParseError,
        "expected a statement, found '->': connections do not chain (write 'a -> b' and 'b ->"
        " c' as two statements)",
        id='syntax_chain',
    ),
    pytest.param(
        'let n = 8 @ 2\n',
        '1:11', ParseError,
        "unexpected character '@': no .spk token starts with it",
        id='syntax_bad_char',
    ),
    pytest.param(
        'for i in 8 { }\n',
        '1:12', ParseError,
        "expected '..' in the loop range 'start..stop', found '{'",
        id='syntax_missing_range',
    ),
    pytest.param(
        'input x\n'
        'stimulus x = 3\n',
        '2:14', ParseError,
        "expected at(T, ...), bits(V) at T or poisson(P) after '=', found integer 3",
        id='syntax_stimulus',
    ),
    pytest.param(
        'import 42\n',
        '1:8', ParseError,
        'expected a file name in quotes, std.NAME or model "FILE" as NAME after \'import\','
        ' found integer 42',
        id='syntax_import',
    ),
    pytest.param(
        'import modle "x.h5" as m\n',
        '1:8', ParseError,
        'expected \'model\' (as in: import model "net.h5" as mlp), found name \'modle\'',
        id='syntax_model',
    ),
]


@pytest.mark.parametrize(("source", "where", "kind", "message"), CASES)
def test_bad_program(source: str, where: str, kind: type[SpikecError], message: str) -> None:
    pattern = rf"^t\.spk:{where}: error: {re.escape(message)}(\n|$)"
    with pytest.raises(kind, match=pattern) as info:
        compile_text(source, filename="t.spk", limits=LIMITS)
    err = info.value
    assert err.location is not None and err.location.text is not None
    # The caret sits under the reported column of the shown line.
    head, shown, caret = str(err).splitlines()[:3]
    indent = len(err.location.text) - len(err.location.text.lstrip())
    assert caret.index("^") - 4 == err.location.column - 1 - indent
    assert shown[4:] == err.location.text.strip()


def test_there_are_many_distinct_cases() -> None:
    assert len({p.id for p in CASES}) == len(CASES) >= 30


def test_language_md_example_renders_as_documented() -> None:
    text = "circuit c(a) -> (b) {\n  neuron b\n  a -> b (delay = 0)\n}\ninput x\nlet u = c(x)\n"
    with pytest.raises(ElaborationError) as info:
        compile_text(text, filename="bad.spk")
    assert str(info.value).splitlines() == [
        "bad.spk:3:19: error: delay must be an integer >= 1, got 0",
        "    a -> b (delay = 0)",
        "                    ^",
    ]


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.spk"
    with pytest.raises(SpkImportError, match=rf"^error: cannot open '{re.escape(str(missing))}':"
                                             r" no such file$"):
        compile_file(missing)


def test_errors_in_imported_files_point_into_them(tmp_path: Path) -> None:
    (tmp_path / "lib.spk").write_text("circuit c(a) -> (y) {\n  neuron y (decay = 2)\n}\n")
    main = tmp_path / "main.spk"
    main.write_text('import "lib.spk"\ninput x\nlet u = c(x)\n')
    with pytest.raises(ElaborationError, match=rf"^{re.escape(str(tmp_path))}/lib\.spk:2:21:"
                                               r" error: decay must be in \[0, 1\], got 2\n"):
        compile_file(main)


# ---- fuzzing -------------------------------------------------------------------------

CORPUS = [
    "input x[3]\nneuron maj (threshold = 2, decay = 1)\nfor i in 0..3 {\n    x[i] -> maj\n}\n"
    "neuron slow (threshold = 1, decay = 1)\nmaj -> slow (weight = 1, delay = 4)\n"
    "probe maj, slow\n",
    "circuit kofn<n, k>(x[n]) -> (y) {\n    neuron y (threshold = k, decay = 1)\n"
    "    x[*] -> y\n}\ncircuit half_adder(a, b) -> (sum, carry) {\n"
    "    neuron carry (threshold = 2, decay = 1)\n    neuron sum (threshold = 1, decay = 1)\n"
    "    a -> carry\n    b -> carry\n    a -> sum (delay = 2)\n    b -> sum (delay = 2)\n"
    "    carry -> sum (weight = -2)\n}\ninput bits[8]\n"
    "let h = half_adder(bits[0], bits[1])\nlet v = kofn<8, 5>(bits)\nprobe h.sum, h.carry, v\n",
    "let n = 4\nkind gate (decay = 1)\ninput a[n]\ngate s[n + 1] (threshold = n // 2)\n"
    "for i in 0..n {\n  if i % 2 == 0 { a[i] -> s[i] (weight = 0.5) } else { a[i] -> s[i + 1] }\n}\n"
    "stimulus a = bits(11) at 0\nstimulus a[0] = at(1, 2)\nprobe count(a), binary(s), first(s)\n",
    "import std.logic\ninput x[5]\nlet m = majority<5>(x)\nlet k = kofn<5, 2>(x)\n"
    "circuit cell(a) -> (y) { neuron y  a -> y }\n"
    "for i in 0..3 { let c[i] = cell(x[i]) }\nc[2] -> m.y\nstimulus x = poisson(0.1)\n"
    "probe m, rate(k), c[1]\n",
    "circuit f<n>(a) -> (y) {\n  if n > 0 { let g = f<n - 1>(a)  let y = g }\n"
    "  else { neuron y  a -> y (delay = max(1, n)) }\n}\ninput x\nlet u = f<3>(x)\nprobe u\n",
]
TOKENS = [
    "neuron ", "input ", " -> ", "(", ")", "[", "]", "{", "}", "..", "*", "let ", "for ", " in ",
    "if ", "else ", "circuit ", "=", ",", ".", "<", ">", "//", "#", "0", "1", "-1", "10**9",
    "2**4000", "1e308", "1e400", "0.5", "x", "y", "maj", "probe ", "count(", "stimulus ", "at(",
    "bits(", "poisson(", "import ", '"', "std.logic", "kind ", "true", "not ", " and ", "/",
    "%", "**", "\n", " ", "f<", "9" * 30, "-", "comb(", "sqrt(", ";",
]
FUZZ_LIMITS = Limits(max_neurons=5_000, max_synapses=50_000, max_depth=20, max_work=100_000)


@st.composite
def mutated_programs(draw: st.DrawFn) -> str:
    """A corpus program with a few random insertions, deletions and replacements."""
    text = draw(st.sampled_from(CORPUS))
    for _ in range(draw(st.integers(1, 5))):
        pos = draw(st.integers(0, len(text)))
        op = draw(st.sampled_from(["insert", "insert", "delete", "replace", "duplicate"]))
        if op == "insert":
            text = text[:pos] + draw(st.sampled_from(TOKENS)) + text[pos:]
        elif op == "delete":
            text = text[:pos] + text[pos + draw(st.integers(1, 15)):]
        elif op == "replace":
            char = draw(st.characters(codec="utf-8"))
            text = text[:pos] + char + text[pos + 1:]
        else:
            lines = text.splitlines()
            i = draw(st.integers(0, max(len(lines) - 1, 0)))
            text = "\n".join(lines[: i + 1] + lines[i:])
    return text


def _compile_or_user_error(text: str) -> None:
    try:
        compile_text(text, filename="fuzz.spk", limits=FUZZ_LIMITS)
    except SpikecError as err:
        rendered = str(err)
        assert rendered.startswith(("fuzz.spk:", "<std>/", "error:")), rendered
        if err.location is not None:
            assert err.location.line >= 1 and err.location.column >= 1


@settings(deadline=timedelta(seconds=5), suppress_health_check=[HealthCheck.too_slow])
@given(mutated_programs())
def test_fuzzed_programs_only_raise_user_errors(text: str) -> None:
    _compile_or_user_error(text)


@settings(deadline=timedelta(seconds=5))
@given(st.text(max_size=200))
def test_random_text_only_raises_user_errors(text: str) -> None:
    _compile_or_user_error(text)


@pytest.mark.slow
@settings(max_examples=3000, deadline=timedelta(seconds=5),
          suppress_health_check=[HealthCheck.too_slow])
@given(mutated_programs())
def test_many_fuzzed_programs(text: str) -> None:
    _compile_or_user_error(text)


def test_parse_and_limit_errors_are_distinct_types() -> None:
    # One LimitError serves the elaboration ceilings and the targets' capacities.
    assert issubclass(ParseError, SpikecError) and issubclass(LimitError, SpikecError)
    assert not issubclass(LimitError, ParseError) and not issubclass(ParseError, LimitError)
    assert spikec.dsl.LimitError is spikec.passes.LimitError is spikec.LimitError
