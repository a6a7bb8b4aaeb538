"""Python circuits of ``std.logic`` (the gates themselves are in ``logic.spk``).

``mux<k>(sel[k], x[2^k]) -> (y)``: y = x[sel], where sel is a k-bit number.
Each first-level gate ``h[j] = [x[j] + sum_i (+-)sel[i] >= 1 + ones(j)]``
fires exactly when sel == j and x[j] fires (weight +1 for the 1-bits of j,
-1 for its 0-bits); ``y`` is their OR. Latency 2. (The count ``ones(j)``
of a loop index is why this one is not written in ``.spk``: the language
has no way to accumulate a value over a loop.)
"""

from __future__ import annotations

from spikec.synth.threshold import ThresholdCircuit

from ._library import LibraryCircuit

__all__ = ["CIRCUITS", "mux"]


def _mux(k: int) -> ThresholdCircuit:
    circuit = ThresholdCircuit({"sel": k, "x": 1 << k})
    terms = []
    for j in range(1 << k):
        weights = [(f"x[{j}]", 1.0)]
        weights += [(f"sel[{i}]", 1.0 if j >> i & 1 else -1.0) for i in range(k)]
        terms.append(circuit.gate(f"h[{j}]", weights, 1 + bin(j).count("1")))
    circuit.output("y", circuit.gate("y", [(t, 1.0) for t in terms], 1))
    return circuit


def _mux_size(k: int) -> tuple[int, int]:
    return (1 << k) + 1, (1 << k) * (k + 2)


mux = LibraryCircuit(
    "mux", {"k": (1, 12)}, [("sel", lambda p: p["k"]), ("x", lambda p: 1 << p["k"])], ["y"],
    _mux, doc="y = x[sel]; latency 2", scalar=["y"], size=_mux_size)

#: The circuits ``import std.logic`` adds to those of ``logic.spk``.
CIRCUITS = {"mux": mux}
