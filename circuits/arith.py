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


def _pairs(circuit: ThresholdCircuit, k: int, n: int, earlier_wins: bool) -> dict[tuple[int, int], str]:
    """One comparator gate per pair i < j: ``[x_i >= x_j]`` (``earlier_wins``: the
    earlier number wins ties), else ``[x_j >= x_i]``."""
    q = {}
    sign = 1.0 if earlier_wins else -1.0
    for i in range(k):
        for j in range(i + 1, k):
            weights = [(f"x[{i * n + b}]", sign * (1 << b)) for b in range(n)]
            weights += [(f"x[{j * n + b}]", -sign * (1 << b)) for b in range(n)]
            q[i, j] = circuit.gate(f"q[{i}][{j}]", weights, 0)
    return q


def _wins(q: dict[tuple[int, int], str], k: int, i: int) -> list[tuple[str, float]]:
    """Weights whose sum is at most k - 1 - i, reached exactly when x_i beats every
    other number (with ``q[i][j] = [x_i >= x_j]``: x_i is the first maximum; with
    ``q[i][j] = [x_j >= x_i]``: x_i is the last minimum)."""
    return [(q[i, j], 1.0) for j in range(i + 1, k)] + [(q[j, i], -1.0) for j in range(i)]


def _argmax(k: int, n: int) -> ThresholdCircuit:
    circuit = ThresholdCircuit({"x": k * n})
    q = _pairs(circuit, k, n, earlier_wins=True)
    circuit.output("y", [circuit.gate(f"y[{i}]", _wins(q, k, i), k - 1 - i) for i in range(k)])
    return circuit


def _max(k: int, n: int) -> ThresholdCircuit:
    circuit = ThresholdCircuit({"x": k * n})
    q = _pairs(circuit, k, n, earlier_wins=True)
    picked = [[circuit.gate(f"a[{i}][{b}]", [(f"x[{i * n + b}]", 1.0), *_wins(q, k, i)], k - i)
               for b in range(n)] for i in range(k)]
    circuit.output("y", [circuit.gate(f"y[{b}]", [(picked[i][b], 1.0) for i in range(k)], 1)
                         for b in range(n)])
    return circuit


def _sort(k: int, n: int) -> ThresholdCircuit:
    circuit = ThresholdCircuit({"x": k * n})
    # t[i][j] = [x_j >= x_i] (i < j) says i precedes j in the stable ascending order;
    # j precedes i exactly when it does not fire. So the rank of x_i is
    # r_i = (k - 1 - i) + sum_{j<i} t[j][i] - sum_{j>i} t[i][j].
    t = _pairs(circuit, k, n, earlier_wins=False)
    picked: dict[tuple[int, int, int], str] = {}
    for i in range(k):
        rank = [(t[j, i], 1.0) for j in range(i)] + [(t[i, j], -1.0) for j in range(i + 1, k)]
        for b in range(n):
            picked[i, 0, b] = f"x[{i * n + b}]"  # rank >= 0 always
            for m in range(1, k):
                # [k x_ib + r_i >= k + m]: bit b of x_i is set and its rank is at least m.
                picked[i, m, b] = circuit.gate(f"a[{i}][{m}][{b}]",
                                               [(f"x[{i * n + b}]", float(k)), *rank], m + 1 + i)
    outputs = []
    for m in range(k):
        for b in range(n):
            weights = [(picked[i, m, b], 1.0) for i in range(k)]
            if m + 1 < k:
                weights += [(picked[i, m + 1, b], -1.0) for i in range(k)]
            outputs.append(circuit.gate(f"y[{m * n + b}]", weights, 1))
    circuit.output("y", outputs)
    return circuit


mul = LibraryCircuit(
    "mul", {"n": (2, 64)}, [("a", lambda p: p["n"]), ("b", lambda p: p["n"])], ["p"], _mul,
    doc="p = a * b (2n bits), array multiplier")
argmax = LibraryCircuit(
    "argmax", {"k": (2, 64), "n": (1, 64)}, [("x", lambda p: p["k"] * p["n"])], ["y"], _argmax,
    doc="one-hot index of the first largest of k n-bit numbers; latency 2")
maximum = LibraryCircuit(
    "max", {"k": (2, 64), "n": (1, 64)}, [("x", lambda p: p["k"] * p["n"])], ["y"], _max,
    doc="the largest of k n-bit numbers; latency 3")
sort = LibraryCircuit(
    "sort", {"k": (2, 64), "n": (1, 64)}, [("x", lambda p: p["k"] * p["n"])], ["y"], _sort,
    doc="k n-bit numbers in ascending order; latency 3")

#: The circuits ``import std.arith`` adds to those of ``arith.spk``.
CIRCUITS = {"mul": mul, "argmax": argmax, "max": maximum, "sort": sort}
