"""Linear-leak chip neurons (TrueNorth) and the ``floor-gates`` pass.

**The chip neuron.** A TrueNorth neuron (Cassidy et al., IJCNN 2013), in
the deterministic modes spikec uses, holds an integer potential ``V``
(``V = v0`` before tick 0) and each tick does, in this order:

1. integrate: ``V <- V + x``, the summed weights of the synapses delivering now;
2. leak: ``V <- V + leak`` (a signed integer, the same every tick);
3. fire: if ``V >= threshold`` it spikes and ``V <- reset`` (reset to a value);
4. floor: otherwise, if ``V < floor``, ``V <- floor`` (the negative threshold
   in its saturating mode); ``floor = None`` is a floor below the potential
   register, which never acts.

:class:`ChipNeuron` holds those numbers; :func:`chip_neuron` gives the chip
form of a compiled spikec neuron, which the netlist carries per neuron.

**decay = 0** maps as ``threshold, leak = bias, reset, v0, floor = None``:
steps 1-2 are spikec's integrate (bias and input are both added before the
comparison), step 3 is its fire and reset, and without a spike both keep
``V`` (decay 0; no floor).

**decay = 1** (a gate) maps onto a floor at 0. Take a deterministic decay-1
neuron with integer threshold ``θ``, bias ``b``, reset ``r``, ``v0`` and
integer incoming weights. In spikec its potential after integrating at
step t is ``U_t = c_t + b + x_t``, where ``c_t`` is ``v0`` at t = 0, ``r``
after a spike at t - 1 and 0 otherwise (decay 1 clears the potential of a
step without a spike); it spikes iff ``U_t >= θ``.

*(a) Shift.* For any integer ``s``, the decay-1 neuron with threshold
``θ - s`` and bias ``b - s`` (same ``r``, ``v0``, weights) has potential
``U_t - s`` whenever it started step t from the same ``c_t``, so it spikes
at the same steps; by induction on t its ``c_t`` is always the same, and
spikec spikes are unchanged. (This is not the positive scaling of
``quantize``; it holds only because decay 1 forgets everything but ``c_t``.)

*(b) Floor.* Chip form of the shifted neuron: ``threshold = θ - s``,
``leak = b - s``, ``reset = r``, ``v0``, ``floor = 0``. Claim: if every
potential the neuron reaches *without* firing is at most ``s`` (``U_t < θ``
implies ``U_t <= s``), the chip holds ``c_t`` at the start of every tick and
spikes exactly when spikec does. Induction on t: at tick 0 it holds
``v0 = c_0``. Holding ``c_t``, steps 1-2 give ``c_t + x_t + b - s = U_t - s``.
If ``U_t >= θ`` it fires (``U_t - s >= θ - s``), as spikec does, and holds
``r = c_{t+1}``. Otherwise it does not fire, as spikec does not, and
``U_t - s <= 0`` by the hypothesis, so step 4 leaves exactly 0 (a negative
value is raised to the floor, 0 stays 0): ``c_{t+1} = 0``. Conversely, a
reachable ``U_t`` with ``s < U_t < θ`` would leave ``U_t - s > 0`` on the
chip where spikec has 0, so the hypothesis is needed.

*(c) Which shifts satisfy it.* Each synapse delivers its weight or nothing
in a step, so every ``U_t`` is ``c + b + x`` with ``c`` in {``v0``, ``r``,
0} and ``x`` the sum of some subset of the incoming weights, whatever the
inputs do (weights may be negative: the floor absorbs any negative value).
Let ``need`` be the largest such value below ``θ`` (:func:`sub_threshold_high`;
integers, so ``need <= θ - 1``). Any ``s >= need`` works. ``s = θ - 1``
(chip threshold 1, ``leak = b + 1 - θ``) needs only integrality; a smaller
``s``, down to ``need``, moves the leak towards 0 when ``b + 1 - θ`` is below
the leak's range; a larger one lowers the chip threshold below 1 when
``b + 1 - θ`` is above it. ``floor-gates`` takes the admissible ``s``
closest to ``θ - 1``.

**What is refused** (``floor-gates`` names the neuron): a gate with a
non-integer value (run ``quantize`` first), a stochastic gate (a lost draw
over threshold keeps ``U_t - s > 0`` on the chip), and a gate for which no
``s >= need`` puts the leak, the chip threshold and the chip potential
range ``[low - s, high - s]`` inside the target's bits; typically a
threshold far above the bias with inputs that come close to it (the leak
``b - s <= b - need`` is below the leak's minimum). ``0 < decay < 1`` has no
linear-leak form and is refused by ``check-features``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from spikec.chip.target import Target
from spikec.errors import CompileError
from spikec.ir.analysis import drive_bounds
from spikec.ir.network import Network, Neuron

__all__ = ["ChipNeuron", "chip_neuron", "gate_range", "sub_threshold_high", "gate_shift", "shift_gate"]


@dataclass(frozen=True, slots=True)
class ChipNeuron:
    """A linear-leak neuron's registers (integers), updated each tick as::

        V <- V + x                                # integrate (x: synaptic input)
        V <- V + leak                             # linear leak
        if V >= threshold: spike, V <- reset      # fire, reset to a value
        elif floor is not None and V < floor: V <- floor    # saturating floor

    with ``V = v0`` before tick 0.
    """

    threshold: int
    leak: int
    reset: int
    v0: int
    floor: int | None = None

    def to_dict(self) -> dict[str, int | None]:
        """The registers as a JSON-ready dict (the netlist's per-neuron ``chip`` object)."""
        return {"threshold": self.threshold, "leak": self.leak, "floor": self.floor, "reset": self.reset,
                "v0": self.v0}


def _integer_values(net: Network, name: str) -> None:
    """Raise :class:`CompileError` unless the neuron's values and incoming weights are integers."""
    n: Neuron = net.graph.nodes[name]["neuron"]
    for key in ("threshold", "bias", "reset", "v0"):
        value = getattr(n, key)
        if not value.is_integer():
            raise CompileError(
                f"neuron '{name}': a chip neuron holds integers, got {key} {value:g} (run 'quantize' first)",
                n.loc)
    for pre, _, w in net.graph.in_edges(name, data="weight"):
        if not float(w).is_integer():
            raise CompileError(
                f"neuron '{name}': a chip neuron holds integers, got weight {w:g} from '{pre}'"
                " (run 'quantize' first)", n.loc)


def gate_range(net: Network, name: str) -> tuple[float, float]:
    """``(low, high)``: bounds on a decay-1 neuron's potential after integrating, over all
    steps: the kept potential is ``v0``, ``reset`` or 0, plus the bias and one step's input."""
    n: Neuron = net.graph.nodes[name]["neuron"]
    drive_max, drive_min = drive_bounds(net, name)
    return min(n.v0, n.reset, 0.0) + drive_min, max(n.v0, n.reset, 0.0) + drive_max


#: Widest range of input sums tracked exactly (as a bitset); wider ones use the interval.
_SUBSET_RANGE = 1 << 22


def _subset_sums(weights: list[int]) -> tuple[int, int] | None:
    """``(bits, low)``: bit ``k`` of ``bits`` is set when ``low + k`` is the sum of some subset
    of ``weights``; ``None`` when the range of sums is too wide to track."""
    low = sum(w for w in weights if w < 0)
    if sum(abs(w) for w in weights) >= _SUBSET_RANGE:
        return None
    bits = 1 << -low
    for w in weights:
        bits |= bits << w if w > 0 else bits >> -w
    return bits, low


def sub_threshold_high(net: Network, name: str) -> float:
    """``need``: the highest potential decay-1 neuron ``name`` (integer values) can reach without
    firing, ``-inf`` when it fires at every step: the largest ``c + bias + x`` below the
    threshold, over the kept potentials ``c`` in {v0, reset, 0} and the input sums ``x`` of
    the subsets of its incoming weights (each synapse delivers its weight or nothing)."""
    n: Neuron = net.graph.nodes[name]["neuron"]
    weights = [int(w) for _, _, w in net.graph.in_edges(name, data="weight")]
    sums = _subset_sums(weights)
    low, high = sum(w for w in weights if w < 0), sum(w for w in weights if w > 0)
    theta, bias = int(n.threshold), int(n.bias)
    best = -math.inf
    for kept in {int(n.v0), int(n.reset), 0}:
        top = theta - 1 - bias - kept  # the largest input sum that leaves it below threshold
        if top < low:
            continue
        if sums is None:
            x = min(top, high)
        else:
            bits, base = sums
            x = base + (bits & ((2 << min(top - base, high - base)) - 1)).bit_length() - 1
        best = max(best, kept + bias + x)
    return best


def gate_shift(net: Network, name: str, target: Target) -> int:
    """The shift ``s`` that maps decay-1 neuron ``name`` exactly onto ``target``'s floor at 0
    (threshold ``θ - s``, leak ``bias - s``; see the module docstring for the proof): the
    admissible ``s`` closest to ``θ - 1``. Raises :class:`CompileError` naming the neuron
    when there is none."""
    n: Neuron = net.graph.nodes[name]["neuron"]
    if n.p != 1.0:
        raise CompileError(
            f"neuron '{name}': a stochastic decay-1 gate (p = {n.p:g}) cannot use the floor: a lost draw"
            " over threshold would leave its potential above 0", n.loc)
    _integer_values(net, name)
    low, high = gate_range(net, name)
    llo, lhi = target.int_range(target.leak_bits)
    tlo, thi = target.int_range(target.threshold_bits)
    plo, phi = target.int_range(target.potential_bits)
    b, theta = n.bias, n.threshold
    # The registers' bounds on s; s = θ - 1 is exact by integrality alone when they allow it.
    lo = max(b - lhi, theta - thi, high - phi)
    hi = min(b - llo, theta - tlo, low - plo)
    if lo <= theta - 1.0 <= hi:
        return int(theta - 1.0)
    need = sub_threshold_high(net, name)
    if b - need < llo:
        raise CompileError(
            f"neuron '{name}': target '{target.name}' cannot map this decay-1 gate exactly: the floor at 0"
            f" needs a leak of at most {b - need:g} (bias {b:g} minus {need:g}, the highest potential it"
            f" reaches without firing), below the {target.leak_bits}-bit leak's minimum of {llo:g}", n.loc)
    lo = max(lo, need)
    if lo > hi:
        raise CompileError(
            f"neuron '{name}': target '{target.name}' cannot map this decay-1 gate exactly: no shift s >="
            f" {need:g} puts its leak {b:g} - s in [{llo:g}, {lhi:g}], its threshold {theta:g} - s in"
            f" [{tlo:g}, {thi:g}] and its potential range [{low:g} - s, {high:g} - s] in [{plo:g}, {phi:g}]",
            n.loc)
    return int(min(max(theta - 1.0, lo), hi))


def shift_gate(net: Network, name: str, shift: int) -> None:
    """Subtract ``shift`` from decay-1 neuron ``name``'s threshold and bias (exact, part (a))."""
    n: Neuron = net.graph.nodes[name]["neuron"]
    if n.decay != 1.0:
        raise ValueError(f"neuron '{name}': only a decay-1 neuron can be shifted, got decay {n.decay:g}")
    if shift:
        net.update(name, threshold=n.threshold - shift, bias=n.bias - shift)


def chip_neuron(net: Network, name: str) -> ChipNeuron:
    """The linear-leak chip form of compiled neuron ``name``: decay 0 with no floor, or a
    decay-1 gate with a floor at 0 when every potential it reaches without firing is <= 0
    (what ``floor-gates`` arranges). Raises :class:`CompileError` naming the neuron otherwise."""
    n: Neuron = net.graph.nodes[name]["neuron"]
    if n.is_input:
        raise ValueError(f"input '{name}' has no chip neuron form")
    if n.p != 1.0:
        raise CompileError(
            f"neuron '{name}': a stochastic neuron (p = {n.p:g}) has no linear-leak form", n.loc)
    _integer_values(net, name)
    floor: int | None
    if n.decay == 0.0:
        floor = None
    elif n.decay == 1.0:
        # need <= threshold - 1, so a threshold <= 1 needs no search of the input sums.
        residue = sub_threshold_high(net, name) if n.threshold > 1.0 else 0.0
        if residue > 0:
            raise CompileError(
                f"neuron '{name}': a decay-1 gate on the floor at 0 must not keep a potential above 0"
                f" without firing, but it can reach {residue:g} (run 'floor-gates' to shift its threshold"
                " and bias)", n.loc)
        floor = 0
    else:
        raise CompileError(
            f"neuron '{name}': decay {n.decay:g} has no linear-leak form; only decay 0 and 1 map exactly",
            n.loc)
    return ChipNeuron(int(n.threshold), int(n.bias), int(n.reset), int(n.v0), floor)
