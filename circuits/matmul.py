"""``std.matmul``: products of 0/1 matrices as constant-depth threshold circuits.

Matrices are N x N, row-major in one array: entry (i, j) of ``a`` is
``a[i*N + j]``.

- ``matmul<N>(a[N*N], b[N*N]) -> (c[N*N*m])`` with ``m = floor(log2 N) + 1``:
  entry (i, j) of the integer product A B, as an m-bit number in
  ``c[(i*N + j)*m .. (i*N + j)*m + m]``. The naive construction: N^3 AND
  gates ``p[i][j][k] = a_ik AND b_kj`` (stage 1), then for each entry the
  depth-2 popcount of its N products (stages 2 and 3: gates ``[s >= 2t]``
  and one gate per bit). Latency 3.
- ``matmul_ge<N, t>(a[N*N], b[N*N]) -> (c[N*N])``: ``c_ij = [(A B)_ij >= t]``,
  the Boolean product for t = 1. Latency 2.

Parekh, Phillips, James and Aimone (SPAA 2018) build constant-depth
threshold circuits with a subcubic number of gates from Strassen-like
recursions; that variant is not implemented here.
"""

from __future__ import annotations

from collections.abc import Mapping

from spikec.synth.threshold import ThresholdCircuit

from ._library import LibraryCircuit, bits

__all__ = ["CIRCUITS", "matmul", "matmul_ge", "popcount_gates"]


def popcount_gates(circuit: ThresholdCircuit, name: str, inputs: list[str]) -> list[str]:
    """The number of ``inputs`` firing, as ``bits(len(inputs))`` little-endian bits,
    in two levels: ``g[t] = [s >= 2t + 2]``, then bit j is
    ``[s - 2^(j+1) * #{g[t] : 2^(j+1) divides 2t + 2} >= 2^j]``."""
    size = len(inputs)
    ones = [(x, 1.0) for x in inputs]
    pairs = [circuit.gate(f"{name}.g[{t}]", ones, 2 * t + 2) for t in range(size // 2)]
    out = []
    for j in range(bits(size)):
        period = 1 << (j + 1)
        weights = ones + [(pairs[t], -float(period)) for t in range(size // 2)
                          if (2 * t + 2) % period == 0]
        out.append(circuit.gate(f"{name}.bit[{j}]", weights, 1 << j))
    return out


def _products(circuit: ThresholdCircuit, size: int) -> dict[tuple[int, int], list[str]]:
    """The N AND gates of each entry (i, j)."""
    out: dict[tuple[int, int], list[str]] = {}
    for i in range(size):
        for j in range(size):
            out[i, j] = [circuit.gate(f"p[{i}][{j}][{k}]",
                                      [(f"a[{i * size + k}]", 1.0), (f"b[{k * size + j}]", 1.0)], 2)
                         for k in range(size)]
    return out


def _matmul(N: int) -> ThresholdCircuit:  # noqa: N803 - the matrix size is N in the docs
    circuit = ThresholdCircuit({"a": N * N, "b": N * N})
    products = _products(circuit, N)
    out: list[str] = []
    for i in range(N):
        for j in range(N):
            out += popcount_gates(circuit, f"c[{i}][{j}]", products[i, j])
    circuit.output("c", out)
    return circuit


def _matmul_ge(N: int, t: int) -> ThresholdCircuit:  # noqa: N803
    circuit = ThresholdCircuit({"a": N * N, "b": N * N})
    products = _products(circuit, N)
    circuit.output("c", [circuit.gate(f"c[{i * N + j}]", [(p, 1.0) for p in products[i, j]], t)
                         for i in range(N) for j in range(N)])
    return circuit


def _square(p: Mapping[str, int]) -> int:
    return p["N"] * p["N"]


matmul = LibraryCircuit(
    "matmul", {"N": (2, 256)}, [("a", _square), ("b", _square)], ["c"], _matmul,
    doc="the integer product of two N x N 0/1 matrices; latency 3")
matmul_ge = LibraryCircuit(
    "matmul_ge", {"N": (1, 256), "t": (1, None)}, [("a", _square), ("b", _square)], ["c"],
    _matmul_ge, doc="[(A B)_ij >= t] for 0/1 matrices; latency 2")

#: The circuits of ``import std.matmul``.
CIRCUITS = {"matmul": matmul, "matmul_ge": matmul_ge}
