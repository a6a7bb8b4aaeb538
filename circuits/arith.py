"""Python circuits of ``std.arith``: multiplier, max, argmax, sorting.

Numbers are unsigned and little-endian. ``k`` numbers of ``n`` bits come in
one array ``x[k * n]``: number i is ``x[i*n .. i*n + n]``. Every circuit is
a pipeline (see ``docs/circuits.md`` for latencies and resources):

- ``mul<n>(a[n], b[n]) -> (p[2n])``: the array multiplier. ``n^2`` AND gates
  form the partial products; rows of full and half adders (carry-save: each
  row passes its carries to the next row, one column up) add them in, and a
  final ripple-carry row merges the last sums and carries. A full adder is
  two gates: carry = majority, sum = [x + y + z - 2 carry >= 1].
- ``argmax<k, n>(x[k*n]) -> (y[k])``: one-hot index of the largest number
  (the first one on ties). One comparator gate per pair, ``q[i][j] = [x_i >=
  x_j]`` for i < j (weights +-2^b), then ``y[i] = [sum_{j>i} q[i][j] -
  sum_{j<i} q[j][i] >= k - 1 - i]``. Latency 2.
- ``max<k, n>(x[k*n]) -> (y[n])``: the largest number. ``a[i][b] = [x_i bit b
  AND i is the argmax]`` is one gate on the pair comparators (the bit's weight
  1 is enough: the argmax sum is at most k - 1 - i), and ``y[b]`` ORs them.
  Latency 3.
- ``sort<k, n>(x[k*n]) -> (y[k*n])``: the numbers in ascending order (stable),
  by ranking, in constant depth. With the pair comparators, the rank of x_i
  is ``r_i = #{j < i: x_j <= x_i} + #{j > i: x_j < x_i}``; ``a[i][m][b] = [x_i
  bit b AND r_i >= m]`` is one gate, and output m, bit b is ``[sum_i a[i][m][b]
  - sum_i a[i][m+1][b] >= 1]`` (exactly one number has rank m). Latency 3.
"""

from __future__ import annotations

import numpy as np

from spikec.synth.threshold import ThresholdCircuit

from ._library import LibraryCircuit

__all__ = ["CIRCUITS", "mul", "argmax", "maximum", "sort", "add_bits"]


def add_bits(circuit: ThresholdCircuit, name: str, bits: list[str]) -> tuple[str, str | None]:
    """Add 1, 2 or 3 bits of one column: (sum, carry or None). Two gates for a
    full or half adder; a single bit passes through."""
    if len(bits) == 1:
        return bits[0], None
    ones = [(b, 1.0) for b in bits]
    carry = circuit.gate(f"{name}.c", ones, 2)
    total = circuit.gate(f"{name}.s", [*ones, (carry, -2.0)], 1)
    return total, carry


def _mul(n: int) -> ThresholdCircuit:
    circuit = ThresholdCircuit({"a": n, "b": n})
    pp = [[circuit.gate(f"pp[{i}][{j}]", [(f"a[{j}]", 1.0), (f"b[{i}]", 1.0)], 2)
           for j in range(n)] for i in range(n)]
    sums = {j: pp[0][j] for j in range(n)}  # column (bit weight) -> signal
    carries: dict[int, str] = {}
    product: dict[int, str] = {0: sums[0]}
    for i in range(1, n):  # carry-save rows
        row_sums: dict[int, str] = {}
        row_carries: dict[int, str] = {}
        for w in range(i, i + n):
            bits = [pp[i][w - i], *(x for x in (sums.get(w), carries.get(w)) if x is not None)]
            total, carry = add_bits(circuit, f"row[{i}][{w}]", bits)
            row_sums[w] = total
            if carry is not None:
                row_carries[w + 1] = carry
        sums = {**{w: s for w, s in sums.items() if w < i}, **row_sums}
        carries = row_carries
        product[i] = sums[i]
    carry_in: str | None = None
    for w in range(n, 2 * n):  # the final ripple-carry row
        bits = [x for x in (sums.get(w), carries.get(w), carry_in) if x is not None]
        total, carry_in = add_bits(circuit, f"merge[{w}]", bits)
        product[w] = total
    circuit.output("p", [product[w] for w in range(2 * n)])
    return circuit


def _pairs(circuit: ThresholdCircuit, k: int, n: int, earlier_wins: bool) -> np.ndarray:
    """One comparator gate per pair i < j: ``q[i][j] = [x_i >= x_j]`` (``earlier_wins``:
    the earlier number wins ties), else ``[x_j >= x_i]``. Returns the gates' signal
    numbers as a k x k table (-1 off the pairs)."""
    x = circuit.port("x").reshape(k, n)
    first, second = np.triu_indices(k, 1)  # the pairs, i-major
    sign = 1.0 if earlier_wins else -1.0
    place = np.asarray([sign * (1 << b) for b in range(n)], dtype=np.float64)
    sources = np.concatenate([x[first], x[second]], axis=1)
    weights = np.tile(np.concatenate([place, -place]), len(first))
    names = [f"q[{i}][{j}]" for i, j in zip(first.tolist(), second.tolist(), strict=True)]
    q = np.full((k, k), -1, dtype=np.int64)
    q[first, second] = circuit.add_named_gates(names, sources, 2 * n, 0.0, weights, distinct=True)
    return q


def _wins(q: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """For each i, signals and weights whose sum is at most k - 1 - i, reached exactly
    when x_i beats every other number (with ``q[i][j] = [x_i >= x_j]``: x_i is the first
    maximum): ``q[i][j]`` (j > i) with weight 1, then ``q[j][i]`` (j < i) with -1.
    Two k x (k - 1) tables."""
    signals = np.empty((k, k - 1), dtype=np.int64)
    weights = np.empty((k, k - 1), dtype=np.int8)
    for i in range(k):
        signals[i] = np.concatenate([q[i, i + 1:], q[:i, i]])
        weights[i] = [1] * (k - 1 - i) + [-1] * i
    return signals, weights


def _argmax(k: int, n: int) -> ThresholdCircuit:
    circuit = ThresholdCircuit({"x": k * n})
    signals, weights = _wins(_pairs(circuit, k, n, earlier_wins=True), k)
    circuit.output("y", circuit.add_gates(["y"], k, signals, k - 1, np.arange(k - 1, -1, -1), weights,
                                          distinct=True))
    return circuit


def _max(k: int, n: int) -> ThresholdCircuit:
    circuit = ThresholdCircuit({"x": k * n})
    x = circuit.port("x").reshape(k, n)
    signals, weights = _wins(_pairs(circuit, k, n, earlier_wins=True), k)
    # a[i][b] = [x_i bit b + wins(i) >= k - i]: bit b of the first maximum
    sources = np.concatenate([x[:, :, None], np.broadcast_to(signals[:, None, :], (k, n, k - 1))], axis=2)
    picked_w = np.concatenate([np.ones((k, n, 1), dtype=np.int8),
                               np.broadcast_to(weights[:, None, :], (k, n, k - 1))], axis=2)
    theta = np.repeat(k - np.arange(k), n)
    picked = circuit.add_gates([f"a[{i}]" for i in range(k)], n, sources, k, theta, picked_w.reshape(-1),
                               distinct=True).reshape(k, n)
    circuit.output("y", circuit.add_gates(["y"], n, picked.T, k, 1.0, distinct=True))
    return circuit


def _sort(k: int, n: int) -> ThresholdCircuit:
    circuit = ThresholdCircuit({"x": k * n})
    x = circuit.port("x").reshape(k, n)
    # t[i][j] = [x_j >= x_i] (i < j) says i precedes j in the stable ascending order;
    # j precedes i exactly when it does not fire. So the rank of x_i is
    # r_i = (k - 1 - i) + sum_{j<i} t[j][i] - sum_{j>i} t[i][j].
    t = _pairs(circuit, k, n, earlier_wins=False)
    rank = np.empty((k, k - 1), dtype=np.int64)
    rank_w = np.empty((k, k - 1), dtype=np.int8)
    for i in range(k):
        rank[i] = np.concatenate([t[:i, i], t[i, i + 1:]])
        rank_w[i] = [1] * i + [-1] * (k - 1 - i)
    # a[i][m][b] = [k x_ib + r_i >= k + m]: bit b of x_i is set and its rank is at least m
    # (m >= 1; rank >= 0 always, so "m = 0" is x_ib itself); rows a[i][m] of n bits.
    m = k - 1
    sources = np.empty((k, m, n, k), dtype=np.int32)
    sources[..., 0] = x[:, None, :]
    sources[..., 1:] = rank[:, None, None, :]
    weights = np.empty((k, m, n, k), dtype=np.int8)
    weights[..., 0] = k
    weights[..., 1:] = rank_w[:, None, None, :]
    theta = np.repeat((np.arange(1, k)[None, :] + 1 + np.arange(k)[:, None]).reshape(-1), n)
    rows = [f"a[{i}][{mm}]" for i in range(k) for mm in range(1, k)]
    made = circuit.add_gates(rows, n, sources, k, theta, weights.reshape(-1), distinct=True)
    picked = np.empty((k, k, n), dtype=np.int64)  # picked[i, m, b]; m = 0 is the input bit
    picked[:, 0, :] = x
    picked[:, 1:, :] = made.reshape(k, m, n)
    # Output m, bit b: exactly one number has rank m, [sum_i a[i][m][b] - sum_i a[i][m+1][b] >= 1].
    first = picked.transpose(1, 2, 0)  # [m, b, i]
    sources = np.concatenate([np.concatenate([first[:-1], first[1:]], axis=2).reshape(-1),
                              first[-1].reshape(-1)])
    pattern = np.concatenate([np.ones(k, dtype=np.int8), -np.ones(k, dtype=np.int8)])
    weights = np.concatenate([np.tile(pattern, m * n), np.ones(k * n, dtype=np.int8)])
    fans = np.concatenate([np.full(m * n, 2 * k), np.full(n, k)])
    circuit.output("y", circuit.add_gates(["y"], k * n, sources, fans, 1.0, weights, distinct=True))
    return circuit


def _mul_size(n: int) -> tuple[int, int]:
    return 3 * n * n - 2 * n + 1, 9 * n * n - 9 * n + 1


def _argmax_size(k: int, n: int) -> tuple[int, int]:
    return k * (k - 1) // 2 + k, k * (k - 1) * n + k * (k - 1)


def _max_size(k: int, n: int) -> tuple[int, int]:
    return k * (k - 1) // 2 + k * n + n, 2 * k * k * n


def _sort_size(k: int, n: int) -> tuple[int, int]:
    return k * (k - 1) // 2 + k * (k - 1) * n + k * n, n * (k**3 + 2 * k * k - 2 * k)


mul = LibraryCircuit(
    "mul", {"n": (2, 64)}, [("a", lambda p: p["n"]), ("b", lambda p: p["n"])], ["p"], _mul,
    doc="p = a * b (2n bits), array multiplier", size=_mul_size)
argmax = LibraryCircuit(
    "argmax", {"k": (2, 64), "n": (1, 64)}, [("x", lambda p: p["k"] * p["n"])], ["y"], _argmax,
    doc="one-hot index of the first largest of k n-bit numbers; latency 2", size=_argmax_size)
maximum = LibraryCircuit(
    "max", {"k": (2, 64), "n": (1, 64)}, [("x", lambda p: p["k"] * p["n"])], ["y"], _max,
    doc="the largest of k n-bit numbers; latency 3", size=_max_size)
sort = LibraryCircuit(
    "sort", {"k": (2, 64), "n": (1, 64)}, [("x", lambda p: p["k"] * p["n"])], ["y"], _sort,
    doc="k n-bit numbers in ascending order; latency 3", size=_sort_size)

#: The circuits ``import std.arith`` adds to those of ``arith.spk``.
CIRCUITS = {"mul": mul, "argmax": argmax, "max": maximum, "sort": sort}
