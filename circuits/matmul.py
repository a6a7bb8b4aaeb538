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

import numpy as np

from spikec.synth.threshold import ThresholdCircuit

from ._library import LibraryCircuit, bits

__all__ = ["CIRCUITS", "matmul", "matmul_ge", "popcount_gates", "matmul_size", "matmul_ge_size"]


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


def _products(circuit: ThresholdCircuit, size: int) -> np.ndarray:
    """The N^3 AND gates ``p[i][j][k] = a_ik AND b_kj``, as signal numbers shaped (N, N, N)."""
    n = size
    a = circuit.port("a").reshape(n, n)  # (i, k)
    b = circuit.port("b").reshape(n, n)  # (k, j)
    sources = np.empty((n, n, n, 2), dtype=np.int32)
    sources[..., 0] = a[:, None, :]
    sources[..., 1] = b.T[None, :, :]
    rows = [f"p[{i}][{j}]" for i in range(n) for j in range(n)]
    return circuit.add_gates(rows, n, sources, 2, 2.0, distinct=True).reshape(n, n, n)


def _matmul(N: int) -> ThresholdCircuit:  # noqa: N803 - the matrix size is N in the docs
    circuit = ThresholdCircuit({"a": N * N, "b": N * N})
    products = _products(circuit, N).reshape(N * N, N)
    # Every entry's popcount (popcount_gates) has one shape: gates g[0..h) read the N
    # products, gates bit[0..m) read them and some g. Its sources as places in
    # [products of the entry, its g gates]; the entries' gates follow one another.
    h, m = N // 2, bits(N)
    places: list[int] = []
    weights: list[int] = []
    fans: list[int] = []
    for _ in range(h):
        places += range(N)
        weights += [1] * N
        fans.append(N)
    for j in range(m):
        period = 1 << (j + 1)
        pairs = [t for t in range(h) if (2 * t + 2) % period == 0]
        places += [*range(N), *(N + t for t in pairs)]
        weights += [1] * N + [-period] * len(pairs)
        fans.append(N + len(pairs))
    thetas = [2 * t + 2 for t in range(h)] + [1 << j for j in range(m)]
    entries = N * N
    start = circuit.num_signals  # the first g gate
    local = np.empty((entries, N + h), dtype=np.int32)
    local[:, :N] = products
    local[:, N:] = start + (h + m) * np.arange(entries, dtype=np.int64)[:, None] + np.arange(h)
    kind = np.int8 if 1 << m <= 128 else np.int16  # weights down to -2^m
    rows = [f"c[{i}][{j}].{part}" for i in range(N) for j in range(N) for part in ("g", "bit")]
    made = circuit.add_gates(rows, [h, m] * entries, local[:, places], np.tile(fans, entries),
                             np.tile(np.asarray(thetas, dtype=np.float64), entries),
                             np.tile(np.asarray(weights, dtype=kind), entries), distinct=True)
    circuit.output("c", made.reshape(entries, h + m)[:, h:].reshape(-1))
    return circuit


def _matmul_ge(N: int, t: int) -> ThresholdCircuit:  # noqa: N803
    circuit = ThresholdCircuit({"a": N * N, "b": N * N})
    products = _products(circuit, N).reshape(N * N, N)
    circuit.output("c", circuit.add_gates(["c"], N * N, products, N, float(t), distinct=True))
    return circuit


def matmul_size(N: int) -> tuple[int, int]:  # noqa: N803
    """Neurons and synapses of ``matmul<N>`` (the table of docs/circuits.md)."""
    h, m = N // 2, bits(N)
    ones = bin(N).count("1")
    return N**3 + N * N * (h + m), 2 * N**3 + N * N * (N * h + N * m + N - ones)


def matmul_ge_size(N: int, t: int) -> tuple[int, int]:  # noqa: N803
    """Neurons and synapses of ``matmul_ge<N, t>``."""
    return N**3 + N * N, 3 * N**3


def _square(p: Mapping[str, int]) -> int:
    return p["N"] * p["N"]


matmul = LibraryCircuit(
    "matmul", {"N": (2, 256)}, [("a", _square), ("b", _square)], ["c"], _matmul,
    doc="the integer product of two N x N 0/1 matrices; latency 3", size=matmul_size)
matmul_ge = LibraryCircuit(
    "matmul_ge", {"N": (1, 256), "t": (1, None)}, [("a", _square), ("b", _square)], ["c"],
    _matmul_ge, doc="[(A B)_ij >= t] for 0/1 matrices; latency 2", size=matmul_ge_size)

#: The circuits of ``import std.matmul``.
CIRCUITS = {"matmul": matmul, "matmul_ge": matmul_ge}
