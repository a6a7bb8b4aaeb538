"""Hostile .spk input (issue 13): every mistake is a located SpikecError, sizes are checked
before anything is read or built, and no RecursionError, OverflowError or codec error escapes."""

from __future__ import annotations

import contextlib
import os
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import spikec
from spikec.dsl import Limits, compile_file, compile_text, param_value, parse
from spikec.dsl.limits import count_text
from spikec.dsl.parser import MAX_NESTING
from spikec.dsl.values import format_number, int_text
from spikec.errors import (
    DiffusionError,
    ElaborationError,
    LimitError,
    ParamError,
    ParseError,
    SpikecError,
    SpkImportError,
)


def build(text: str, **limits: int) -> spikec.Network:
    return compile_text(text, filename="t.spk", limits=Limits(**limits) if limits else None)


@contextlib.contextmanager
def shallow_stack(room: int = 150) -> Iterator[None]:
    """Python's recursion limit just ``room`` frames above the current depth."""
    depth = 0
    frame = sys._getframe()
    while frame is not None:
        depth, frame = depth + 1, frame.f_back  # type: ignore[assignment]
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(depth + room)
    try:
        yield
    finally:
        sys.setrecursionlimit(old)


# ---- 1. delays --------------------------------------------------------------------------


@pytest.mark.parametrize("decl", ["neuron a[2]", "neuron a"])
def test_a_delay_past_int64_is_an_error_at_the_delay(decl: str) -> None:
    with pytest.raises(ElaborationError, match=r"^t\.spk:3:17: error: delay must be an integer"
                                               r" <= 2\*\*63 - 1, got 1180591620717411303424"):
        build(f"{decl}\nneuron b\na -> b (delay = 2**70)\n")


def test_a_delay_past_int64_in_a_loop_run_as_arrays_is_located() -> None:
    with pytest.raises(ElaborationError, match=r"^t\.spk:3:37: error: delay must be an integer <= 2\*\*63"):
        build("neuron a[2]\nneuron b\nfor i in 0..10 { a[0] -> b (delay = 2**70) }\n")
    with pytest.raises(ElaborationError, match=r"^t\.spk:3:37: error: delay must be an integer <= 2\*\*63"):
        build("neuron a[2]\nneuron b\nfor i in 0..10 { a[0] -> b (delay = i + 2**63) }\n")


def test_a_huge_delay_is_refused_before_relay_chains_are_built() -> None:
    from spikec.chip.target import load_target
    from spikec.passes.manager import compile_for_target

    net = build("input x\nneuron y\nx -> y (delay = 1000000000)\nprobe y\n")
    start = time.perf_counter()
    with pytest.raises(SpikecError, match=r"t\.spk:3:1: error: synapse x -> y: delay 1,000,000,000 needs"
                                          r" a chain of [\d,]+ relay neurons"):
        compile_for_target(net, load_target("loihi"))
    assert time.perf_counter() - start < 10


# ---- 2. nesting ---------------------------------------------------------------------------


NEST = rf"statements and expressions nest more than {MAX_NESTING} levels deep here"


@pytest.mark.parametrize(("text", "column"), [
    ("if true {" * 300 + "}" * 300, 895),
    ("let x = " + " ** ".join(["1"] * 600), 499),
    ("let x = " + "-" * 600 + "1", 108),
    ("let x = " + "not " * 300 + "true", 405),
    ("neuron a[2]\nlet x = " + "(1 + " * 300 + "1" + ")" * 300, None),
    ("neuron a[4]\nneuron b\na[" + "a[" * 200 + "0" + "]" * 201 + " -> b", None),
    ("input a\ngate y = " + " & ".join(["a"] * 5000), None),
    ("input a\ngate y = " + "~" * 500 + "a", 109),
])
def test_too_deep_nesting_is_a_located_parse_error(text: str, column: int | None) -> None:
    where = rf"\d+:{column}" if column is not None else r"\d+:\d+"
    with shallow_stack(), pytest.raises(ParseError, match=rf"^t\.spk:{where}: error: {NEST}"):
        build(text)


def test_nesting_up_to_the_limit_is_fine() -> None:
    depth = MAX_NESTING - 2
    net = build("input x\n" + "if true {" * depth + "neuron y\nx -> y" + "}" * depth)
    assert net.num_synapses == 1


@pytest.mark.parametrize("terms", [500, 5000])
def test_a_flat_sum_of_thousands_of_terms_just_works(terms: int) -> None:
    text = "let n = " + " + ".join(["1"] * terms) + "\nneuron y[n - " + " - ".join(["1"] * (terms - 1)) + "]"
    with shallow_stack():
        net = build(text)
    assert len(net) == 1


def test_a_long_chain_in_a_loop_runs_as_arrays_and_one_at_a_time() -> None:
    terms = " + ".join(["i"] * 3000)
    text = f"neuron a[10]\nneuron b[30000]\nfor i in 0..10 {{ a[i] -> b[{terms}] }}"
    fast = compile_text(text, fast_loops=True)
    slow = compile_text(text, fast_loops=False)
    assert fast.num_synapses == slow.num_synapses == 10
    assert list(fast.post) == list(slow.post)


def test_chained_imports_stop_at_the_import_depth(tmp_path: Path) -> None:
    for i in range(300):
        (tmp_path / f"m{i}.spk").write_text(f'import "m{i + 1}.spk"\n' if i < 299 else "let z = 1\n")
    (tmp_path / "main.spk").write_text('import "m0.spk"\ninput x\n')
    with shallow_stack(400), pytest.raises(SpkImportError, match=r"m\d+\.spk:1:8: error: files import one"
                                                                 r" another more than 50 deep"):
        compile_file(tmp_path / "main.spk")


def test_deep_instances_past_the_stack_are_a_located_limit_error() -> None:
    text = "circuit f<n>(a) { if n > 0 { let u = f<n - 1>(a) } }\ninput x\nlet t = f<100000>(x)\n"
    with pytest.raises(LimitError, match=r"t\.spk:1:38: error: circuit instances nested"):
        build(text, max_depth=100_000)


# ---- 3. huge integers in messages ---------------------------------------------------------


def test_a_4300_digit_loop_bound_is_reported_by_its_digits() -> None:
    with pytest.raises(LimitError, match=r"^t\.spk:2:1: error: this loop would bring the program to at"
                                         r" least a 4,301-digit number of neurons"):
        build("neuron a\nfor i in 0.." + "9" * 4300 + " { neuron b }")


def test_messages_with_huge_integers_format_under_a_low_int_str_limit() -> None:
    old = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(640)
    try:
        with pytest.raises(ElaborationError, match=r"^t\.spk:3:3: error: index a 1,000-digit number is out"):
            build("neuron a[4]\nneuron b\na[10**999] -> b")
        with pytest.raises(LimitError, match=r"neuron a\[a 1,201-digit number\]"):
            build("neuron a[10**600 * 10**600]")
        with pytest.raises(ElaborationError, match=r"got minus a 1,001-digit number"):
            build("neuron a[-10**1000]")
    finally:
        sys.set_int_max_str_digits(old)
    assert int_text(10**4300) == "a 4,301-digit number"
    assert int_text(-(10**40)) == "minus a 41-digit number"
    assert format_number(12) == "12" and count_text(10**29) == f"{10**29:,}"


# ---- 4. diffusion floats ---------------------------------------------------------------------


DIFFUSION = "import std.diffusion\ndiffusion heat (nx = 5, D = 1.0, dt = 0.004, steps = 5, walkers = 10, "


@pytest.mark.parametrize("dx", ["1e308", "1e-320", "1e-300 * 1e-20"])
def test_an_extreme_dx_is_located(dx: str) -> None:
    with pytest.raises(ElaborationError, match=r"^t\.spk:2:76: error: diffusion heat: dx = \S+ is out"
                                               r" of range"):
        build(DIFFUSION + f"dx = {dx})")


def test_a_huge_diffusion_run_is_refused_before_its_table_is_allocated() -> None:
    with pytest.raises(ElaborationError, match=r"^t\.spk:2:\d+: error: diffusion heat: steps = 10,000,000"
                                               r" on 1,000 nodes: .* GiB"):
        build("import std.diffusion\ndiffusion heat (nx = 1000, D = 1.0, dt = 0.1, steps = 10000000,"
              " walkers = 10)")


@pytest.mark.parametrize("value", ["1e308 * 10", "1.0 / 0", "10 ** 400 * 1.5"])
def test_non_finite_diffusion_values_are_located(value: str) -> None:
    with pytest.raises(ElaborationError, match=r"^t\.spk:2:\d+: error: "):
        build(DIFFUSION + f"drift = {value})")


# ---- 5. and 6. reading files ------------------------------------------------------------------


def test_a_source_past_the_size_limit_is_refused_before_reading(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    big = tmp_path / "big.spk"
    big.write_text("input x\n" * 100)
    with pytest.raises(SpkImportError, match=r"big\.spk: 800 bytes is more than the 100 bytes a source"):
        compile_file(big, limits=Limits(max_source_bytes=100))
    monkeypatch.setenv("SPIKEC_MAX_SOURCE_BYTES", "100")
    (tmp_path / "main.spk").write_text('import "big.spk"\n')
    with pytest.raises(SpkImportError, match=r"main\.spk:1:8: error: cannot import '.*big.spk': 800 bytes"
                                             r" is more"):
        compile_file(tmp_path / "main.spk")


def test_devices_and_pipes_are_not_sources(tmp_path: Path) -> None:
    with pytest.raises(SpkImportError, match=r"/dev/zero: not a regular file"):
        compile_file("/dev/zero")
    fifo = tmp_path / "pipe.spk"
    os.mkfifo(fifo)
    (tmp_path / "main.spk").write_text('import "pipe.spk"\n')
    with pytest.raises(SpkImportError, match=r"main\.spk:1:8: error: cannot import '.*pipe.spk': not a"
                                             r" regular file"):
        compile_file(tmp_path / "main.spk")


def test_a_source_that_is_not_utf8_is_an_error_at_the_byte(tmp_path: Path) -> None:
    (tmp_path / "bin.spk").write_bytes(b"input x\nneuron \xff\xfe\n")
    with pytest.raises(SpkImportError, match=r"bin\.spk:2:8: error: not UTF-8 text \(byte 0xff\)"):
        compile_file(tmp_path / "bin.spk")
    (tmp_path / "main.spk").write_text('import "bin.spk"\n')
    with pytest.raises(SpkImportError, match=r"bin\.spk:2:8: error: not UTF-8 text"):
        compile_file(tmp_path / "main.spk")


@pytest.mark.parametrize("path", ["/etc/passwd", "../../../../etc/passwd", "/dev/zero", "x.h5"])
def test_import_reads_spk_sources_only(tmp_path: Path, path: str) -> None:
    (tmp_path / "main.spk").write_text(f'input x\nimport "{path}"\n')
    with pytest.raises(SpkImportError, match=rf"main\.spk:2:8: error: cannot import '{re.escape(path)}':"
                                             r" import reads \.spk sources only") as info:
        compile_file(tmp_path / "main.spk")
    assert "root:x" not in str(info.value)


def test_a_link_to_a_file_that_is_not_a_source_is_not_imported(tmp_path: Path) -> None:
    (tmp_path / "evil.spk").symlink_to("/etc/passwd")
    (tmp_path / "main.spk").write_text('import "evil.spk"\n')
    with pytest.raises(SpkImportError, match=r"main\.spk:1:8: error: cannot import 'evil.spk': it leads to"
                                             r" 'passwd', which is not a \.spk source") as info:
        compile_file(tmp_path / "main.spk")
    assert "root:x" not in str(info.value)


@pytest.mark.parametrize(("text", "message"), [
    ("import std.di" + "9" * 5000, "no library module 'std.di9999"),
    ('import "' + "a" * 5000 + '.spk"', "cannot find 'aaaa"),
    ('import "' + "a/" * 3000 + 'x.spk"', "cannot find 'a/a/"),
    ('import model "' + "a" * 5000 + '.h5" as m', "import model: cannot find 'aaaa"),
])
def test_names_too_long_for_the_system_are_not_found(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "main.spk").write_text(text)
    with pytest.raises(SpkImportError, match=rf"main\.spk:1:\d+: error: {re.escape(message)}"):
        compile_file(tmp_path / "main.spk")


def test_relative_imports_of_spk_files_still_work(tmp_path: Path) -> None:
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "a.spk").write_text("circuit relay(a) -> (y) { neuron y\na -> y }\n")
    (tmp_path / "main").mkdir()
    (tmp_path / "main" / "m.spk").write_text('import "../lib/a.spk"\ninput x\nlet r = relay(x)\n')
    assert compile_file(tmp_path / "main" / "m.spk").num_synapses == 1


def test_a_main_file_not_named_spk_is_never_quoted(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("password: hunter2\n")
    with pytest.raises(ParseError, match=r"secret\.txt:1:9: error: ") as info:
        compile_file(secret)
    assert "hunter2" not in str(info.value)


COUNTS = "import std.diffusion\ndiffusion heat (nx = 3, D = 1.0, dt = 0.004, steps = 5, counts = \"{}\")"


@pytest.mark.parametrize(("path", "why"), [
    ("/dev/zero", "counts file not a regular file: /dev/zero"),
    ("/etc/passwd", "counts file '/etc/passwd': must be a .npy, .csv or .txt file"),
    ("pw.csv", "pw.csv': must be a .npy, .csv or .txt file"),
])
def test_a_counts_file_is_checked_before_it_is_read(tmp_path: Path, path: str, why: str) -> None:
    (tmp_path / "pw.csv").symlink_to("/etc/passwd")
    (tmp_path / "t.spk").write_text(COUNTS.format(path))
    pattern = rf"t\.spk:2:66: error: diffusion heat: .*{re.escape(why)}"
    with pytest.raises(ElaborationError, match=pattern) as info:
        compile_file(tmp_path / "t.spk")
    assert "root:x" not in str(info.value)


def test_a_bad_counts_file_is_located_without_quoting_it(tmp_path: Path) -> None:
    (tmp_path / "c.csv").write_text("1,2,3\n4,root:x:0,6\n")
    (tmp_path / "t.spk").write_text(COUNTS.format("c.csv"))
    with pytest.raises(DiffusionError, match=r"c\.csv:2:3: error: counts: expected a number") as info:
        compile_file(tmp_path / "t.spk")
    assert "root:x" not in str(info.value)
    (tmp_path / "c.csv").write_bytes(b"1,2,\xff\n")
    with pytest.raises(DiffusionError, match=r"c\.csv:1:5: error: not UTF-8 text"):
        compile_file(tmp_path / "t.spk")
    (tmp_path / "c.npy").write_bytes(b"\x93NUMPY garbage")
    (tmp_path / "t.spk").write_text(COUNTS.format("c.npy"))
    with pytest.raises(ElaborationError, match=r"counts file '.*c\.npy': not a \.npy array"):
        compile_file(tmp_path / "t.spk")
    (tmp_path / "c.csv").write_text("1, 2, 3\n")
    (tmp_path / "t.spk").write_text(COUNTS.format("c.csv"))
    assert len(compile_file(tmp_path / "t.spk")) > 0


# ---- 7. exponential instantiation -------------------------------------------------------------


TWICE = """circuit f<n>(a) -> (y) {
  neuron y
  a -> y
  if n > 0 {
    let l = f<n - 1>(a)
    let r = f<n - 1>(a)
  }
}
input x
let t = f<40>(x)
"""


def test_exponential_instantiation_is_refused_at_once() -> None:
    start = time.perf_counter()
    with pytest.raises(LimitError, match=r"^t\.spk:10:9: error: instance 't' of circuit f would bring the"
                                         r" program to at least 2,199,023,255,552 neurons, more than the"
                                         r" limit of 20,000,000"):
        build(TWICE)
    assert time.perf_counter() - start < 1.0


def test_exponential_instantiation_in_a_loop_is_refused_at_the_loop() -> None:
    text = TWICE.replace("let t = f<40>(x)", "for i in 0..100 { let t[i] = f<20>(x) }")
    start = time.perf_counter()
    with pytest.raises(LimitError, match=r"^t\.spk:10:1: error: this loop would bring the program to at"
                                         r" least 209,715,101 neurons"):
        build(text)
    assert time.perf_counter() - start < 1.0


def test_the_instance_estimate_never_overstates() -> None:
    net = build(TWICE.replace("f<40>", "f<10>"))
    assert len(net) == 1 + 2**11 - 1
    with pytest.raises(LimitError, match=r"instance 't' of circuit f would bring the program to at least"
                                         r" 2,048 neurons, more than the limit of 2,047"):
        build(TWICE.replace("f<40>", "f<10>"), max_neurons=2047)


# ---- 8. environment limits ---------------------------------------------------------------------


@pytest.mark.parametrize("value", ["1e400", "-5", "abc", "nan", "inf", "2.5", "0", "9" * 5000])
def test_bad_environment_limits_name_the_variable(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("SPIKEC_MAX_NEURONS", value)
    with pytest.raises(LimitError, match=r"^error: SPIKEC_MAX_NEURONS: expected a positive integer"):
        Limits.from_env()


def test_environment_limits_take_plain_and_scientific_numbers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPIKEC_MAX_NEURONS", "2e3")
    monkeypatch.setenv("SPIKEC_MAX_SYNAPSES", "1_000")
    monkeypatch.setenv("SPIKEC_MAX_SOURCE_BYTES", "4096")
    limits = Limits.from_env()
    assert (limits.max_neurons, limits.max_synapses, limits.max_source_bytes) == (2000, 1000, 4096)


# ---- 9. --param values ---------------------------------------------------------------------


def test_param_values_are_spk_expressions(tmp_path: Path) -> None:
    assert param_value("k", "2 ** 2") == 4
    assert param_value("k", "min(3, 8) * 2") == 6
    assert param_value("k", "true") is True
    (tmp_path / "k.spk").write_text("let k = 1\nneuron y[k]\n")
    assert len(compile_file(tmp_path / "k.spk", {"k": "2 ** 2"})) == 4


@pytest.mark.parametrize(("text", "why"), [
    ("2 ** 10 ** 10", "too large"), ("1 / 0", "division by zero"), ("(", "is never closed"),
    ('"abc"', "is text"), ("- " * 300 + "1", "nest more than"), ("x", "unknown name"),
    ("1\nneuron y", "one line"),
])
def test_bad_param_values_are_param_errors(text: str, why: str) -> None:
    with pytest.raises(ParamError, match=rf"^error: parameter 'k': .*{why}"):
        param_value("k", text)


def test_huge_python_params_are_refused() -> None:
    with pytest.raises(ParamError, match=r"parameter 'n' must be a number or boolean"):
        compile_text("let n = 1", {"n": 10**5000})
    with pytest.raises(ParamError, match=r"parameter 'n' must be a number or boolean"):
        compile_text("let n = 1", {"n": float("nan")})


# ---- 10. the principle: arithmetic and sizes from user input ------------------------------------


@pytest.mark.parametrize(("text", "where", "message"), [
    ("let x = 2**10**10", "1:9", "2 ** 10000000000 is too large"),
    ("let x = 10**4000 * 10**4000", "1:9", "10 ** 4000 is too large"),
    ("let x = 1e308 * 10", "1:9", "the result is not a finite number"),
    ("let x = 10**400 + 0.5", "1:9", "the result of '+' is too large"),
    ("let x = 1 % 0", "1:13", "division by zero"),
    ("let x = 1.5 // 0.0", "1:16", "division by zero"),
    ("let x = exp(1000)", "1:9", "exp(): the result is too large"),
    ("let x = sqrt(10**400)", "1:9", "sqrt(): the result is too large"),
    ("let x = comb(10**400, 10**200)", "1:9", "comb(): the result is too large"),
    ("let x = 1e99999", "1:9", "number 1e99999 is too large"),
    ("let x = " + "9" * 5000, "1:9", "integer literal too long (5000 digits)"),
    ("neuron a[" + "9" * 1300 + "]", "1:10",
     "neuron a[a 1,300-digit number]: a 1,300-digit number of neurons"),
    ("neuron a[4]\nneuron b\na[0..10**50] -> b", "3:2", "slice a[0..a 51-digit number] is out of range"),
    ("neuron a[4]\nneuron b\na[-1] -> b", "3:3", "index -1 is out of range"),
    ("input x[4]\nstimulus x = bits(10**400)", "2:19", "bits(a 401-digit number) needs 1,329 neurons"),
    ("input x\nstimulus x = at(-1)", "2:17", "spike steps must be >= 0"),
    ("import std.logic\ninput i[8]\nlet u = kofn<10**400, 3>(i)", "3:26",
     "input 'x' of kofn takes a 401-digit number neurons (x[a 401-digit number]), got 8"),
    ("input x\nstimulus x = at(2**64)", "2:17", "spike steps must be at most 2**63 - 1, got 1844674407"),
    ("neuron a (threshold = 10**400)", "1:23", "threshold is too large"),
    ("neuron a (decay = 1e308 * 1e308)", "1:19", "the result is not a finite number"),
    ("for i in 0..10**29 { }", "1:1", f"this loop would bring the program to at least {10**29 + 1:,} steps"),
    ("for i in 0..10**30 { }", "1:1",
     "this loop would bring the program to at least a 31-digit number of steps"),
    ("circuit c(a) { }\ninput x\nlet u[10**50] = c(x)", "3:7",
     "an index must be from 0 to 2**63 - 1, got a 51-digit"),
])
def test_arithmetic_and_sizes_from_user_input_are_located(text: str, where: str, message: str) -> None:
    with pytest.raises(SpikecError, match=rf"^t\.spk:{where}: error: {re.escape(message)}"):
        build(text)


def test_parse_is_stack_free_for_huge_flat_programs() -> None:
    text = "input x\n" + "neuron y\nx -> y\n" + "let z = " + " + ".join(["1"] * 20000) + "\n"
    with shallow_stack(100):
        program = parse(text, "t.spk")
    assert len(program.statements) == 4


def test_a_main_file_linked_to_another_file_is_never_quoted(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("root:x:0:0:root:/root:/bin/bash\nneuron a (threshold = oops)\n")
    link = tmp_path / "prog.spk"
    link.symlink_to(secret)
    with pytest.raises(SpikecError) as info:
        spikec.load(link)
    assert info.value.location is not None and info.value.location.line == 1
    assert "root:x" not in str(info.value)
