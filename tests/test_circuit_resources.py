"""The resource table of docs/circuits.md is right: every formula, evaluated at
several sizes, equals the neurons, synapses and latency of the circuit as built."""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sympy
from sympy.parsing.sympy_parser import (
    convert_xor,
    implicit_multiplication_application,
    parse_expr,
    standard_transformations,
)

from circuit_checks import instance
from spikec.synth.balance import latency

TABLE = Path(__file__).parent.parent / "docs" / "circuits.md"


class bits(sympy.Function):  # noqa: N801 - named as in the docs
    """Number of binary digits."""

    @classmethod
    def eval(cls, n: Any) -> Any:
        return sympy.Integer(int(n).bit_length()) if n.is_Integer else None


class ones(sympy.Function):  # noqa: N801
    """Number of 1 bits."""

    @classmethod
    def eval(cls, n: Any) -> Any:
        return sympy.Integer(bin(int(n)).count("1")) if n.is_Integer else None


def formula(text: str, params: tuple[str, ...]) -> sympy.Expr:
    names: dict[str, Any] = {p: sympy.Symbol(p) for p in params}
    return parse_expr(text, local_dict={**names, "bits": bits, "ones": ones, "floor": sympy.floor},
                      transformations=(*standard_transformations, implicit_multiplication_application,
                                       convert_xor))


def table() -> dict[str, dict[str, str]]:
    rows: dict[str, dict[str, str]] = {}
    for line in TABLE.read_text().splitlines():
        cells = [c.strip().strip("`") for c in line.strip().strip("|").split("|")]
        if len(cells) == 5 and re.match(r"\w+(<[^>]*>)?\(", cells[0]):
            name = cells[0].split("<")[0].split("(")[0]
            rows[name] = dict(zip(("module", "latency", "neurons", "synapses"), cells[1:], strict=True))
    return rows


# circuit -> (parameter names, sizes of its inputs from the parameters, its outputs, sample params)
Sizes = Callable[..., dict[str, int | None]]
RECIPES: dict[str, tuple[tuple[str, ...], Sizes, tuple[str, ...], list[tuple[int, ...]]]] = {
    "and_gate": ((), lambda: {"a": None, "b": None}, ("y",), [()]),
    "or_gate": ((), lambda: {"a": None, "b": None}, ("y",), [()]),
    "not_gate": ((), lambda: {"a": None}, ("y",), [()]),
    "nand_gate": ((), lambda: {"a": None, "b": None}, ("y",), [()]),
    "nor_gate": ((), lambda: {"a": None, "b": None}, ("y",), [()]),
    "xor_gate": ((), lambda: {"a": None, "b": None}, ("y",), [()]),
    "xnor_gate": ((), lambda: {"a": None, "b": None}, ("y",), [()]),
    "kofn": (("n", "k"), lambda n, k: {"x": n}, ("y",), [(1, 1), (5, 3), (9, 9)]),
    "majority": (("n",), lambda n: {"x": n}, ("y",), [(1,), (4,), (7,)]),
    "parity": (("n",), lambda n: {"x": n}, ("y",), [(1,), (2,), (5,), (8,), (13,)]),
    "at_least": (("n", "c"), lambda n, c: {"x": n}, ("y",), [(3, 5), (6, 0)]),
    "signed_kofn": (("p", "q", "k"), lambda p, q, k: {"pos": p, "neg": q}, ("y",), [(3, 2, 1), (1, 4, 0)]),
    "mux2": ((), lambda: {"s": None, "a": None, "b": None}, ("y",), [()]),
    "mux": (("k",), lambda k: {"sel": k, "x": 2 ** k}, ("y",), [(1,), (2,), (4,)]),
    "ripple_add": (("n",), lambda n: {"a": n, "b": n}, ("s",), [(1,), (4,), (9,)]),
    "cla_add": (("n",), lambda n: {"a": n, "b": n}, ("s",), [(1,), (4,), (9,)]),
    "sub": (("n",), lambda n: {"a": n, "b": n}, ("d", "neg"), [(1,), (4,), (9,)]),
    "geq": (("n",), lambda n: {"a": n, "b": n}, ("y",), [(1,), (6,)]),
    "gt": (("n",), lambda n: {"a": n, "b": n}, ("y",), [(1,), (6,)]),
    "equal": (("n",), lambda n: {"a": n, "b": n}, ("y",), [(1,), (6,)]),
    "popcount": (("n",), lambda n: {"x": n}, ("c",), [(1,), (2,), (7,), (8,), (13,), (32,)]),
    "mul": (("n",), lambda n: {"a": n, "b": n}, ("p",), [(2,), (3,), (6,), (8,)]),
    "argmax": (("k", "n"), lambda k, n: {"x": k * n}, ("y",), [(2, 1), (3, 4), (5, 2)]),
    "max": (("k", "n"), lambda k, n: {"x": k * n}, ("y",), [(2, 1), (3, 4), (5, 2)]),
    "sort": (("k", "n"), lambda k, n: {"x": k * n}, ("y",), [(2, 1), (3, 4), (5, 2)]),
    "matmul": (("N",), lambda N: {"a": N * N, "b": N * N}, ("c",), [(2,), (3,), (5,)]),  # noqa: N803
    "matmul_ge": (("N", "t"), lambda N, t: {"a": N * N, "b": N * N}, ("c",), [(2, 1), (4, 3)]),  # noqa: N803
    "grid": (("rows", "cols"), lambda rows, cols: {"start": rows * cols}, ("v",), [(1, 1), (2, 5), (4, 4)]),
}


def test_every_library_circuit_is_in_the_table() -> None:
    assert set(table()) == set(RECIPES)


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_table_row_matches_the_built_circuit(name: str) -> None:
    row = table()[name]
    params, sizes, outputs, samples = RECIPES[name]
    for values in samples:
        env = dict(zip(params, values, strict=True))
        net, _, outs = instance(row["module"], name, values, sizes(*values), outputs)
        subs = {sympy.Symbol(k): v for k, v in env.items()}
        neurons = net.num_neurons - len(net.inputs())
        assert neurons == formula(row["neurons"], params).subs(subs), (name, env, "neurons", neurons)
        assert net.num_synapses == formula(row["synapses"], params).subs(subs), (
            name, env, "synapses", net.num_synapses)
        if row["latency"] != "-":
            names = [n for ns in outs.values() for n in ns]
            assert latency(net, names) == formula(row["latency"], params).subs(subs), (name, env, "latency")


# Python library circuits and the parameters to try their size formulas at (the formulas
# refuse a circuit too large for the limits before any of it is built).
SIZED: dict[str, tuple[str, list[dict[str, int]]]] = {
    "mux": ("logic", [{"k": k} for k in (1, 2, 3, 5)]),
    "mul": ("arith", [{"n": n} for n in (2, 3, 5, 8)]),
    "argmax": ("arith", [{"k": k, "n": n} for k in (2, 3, 6) for n in (1, 2, 5)]),
    "max": ("arith", [{"k": k, "n": n} for k in (2, 3, 6) for n in (1, 2, 5)]),
    "sort": ("arith", [{"k": k, "n": n} for k in (2, 3, 6) for n in (1, 2, 5)]),
    "matmul": ("matmul", [{"N": n} for n in (2, 3, 4, 5, 7, 8, 9)]),
    "matmul_ge": ("matmul", [{"N": n, "t": t} for n in (1, 2, 3, 6) for t in (1, 4)]),
}


@pytest.mark.parametrize("name", sorted(SIZED))
def test_size_formula_is_the_built_size(name: str) -> None:
    module, samples = SIZED[name]
    circuit = importlib.import_module(f"spikec.circuits.{module}").CIRCUITS[name]
    for params in samples:
        built = circuit.circuit(**params)
        assert circuit.size(**params) == (built.num_gates, built.num_synapses), (name, params)
        net = circuit.network(**params)
        assert (net.num_neurons - len(net.inputs()), net.num_synapses) == circuit.size(**params)


def test_grid_size_formula() -> None:
    from spikec.circuits.graph import grid_size

    for rows, cols in ((1, 1), (1, 4), (3, 1), (2, 5), (4, 4)):
        net, _, _ = instance("graph", "grid", (rows, cols), {"start": rows * cols}, ("v",))
        assert grid_size(rows, cols) == (net.num_neurons - len(net.inputs()), net.num_synapses)
