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
non-integer value (run ``quantize`` first), a stochastic gate on a chip
without a stochastic threshold (a lost draw over threshold keeps ``U_t - s > 0``
on the chip; with one, :func:`spikec.chip.noise.threshold_chip_form` gives its
form), and a gate for which no
``s >= need`` puts the leak, the chip threshold and the chip potential
range ``[low - s, high - s]`` inside the target's bits; typically a
threshold far above the bias with inputs that come close to it (the leak
``b - s <= b - need`` is below the leak's minimum). ``0 < decay < 1`` has no
linear-leak form and is refused by ``check-features``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from spikec.chip.target import Target
from spikec.errors import CompileError
from spikec.ir.analysis import drive_bounds_all, gather, in_synapses
from spikec.ir.network import Network

__all__ = ["ChipNeuron", "ChipNeurons", "chip_neuron", "chip_neurons", "gate_range", "gate_ranges",
           "sub_threshold_high", "gate_shift", "gate_shifts", "shift_gate", "shift_gates"]


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
    #: A stochastic threshold (TrueNorth): ``PRNG & mask`` is added to ``V`` for the firing and
    #: floor tests (:mod:`spikec.chip.noise`); 0 for a deterministic neuron.
    mask: int = 0

    def to_dict(self) -> dict[str, int | None]:
        """The registers as a JSON-ready dict (the netlist's per-neuron ``chip`` object; ``mask``
        only for a stochastic neuron)."""
        out: dict[str, int | None] = {"threshold": self.threshold, "leak": self.leak, "floor": self.floor,
                                      "reset": self.reset, "v0": self.v0}
        if self.mask:
            out["mask"] = self.mask
        return out


@dataclass(frozen=True)
class ChipNeurons:
    """The :class:`ChipNeuron` registers of many neurons as int64 arrays; ``floor`` is True
    where the neuron has a floor at 0 (a gate) and False where it has none."""

    threshold: np.ndarray
    leak: np.ndarray
    reset: np.ndarray
    v0: np.ndarray
    floor: np.ndarray
    mask: np.ndarray | None = None

    def __getitem__(self, k: int) -> ChipNeuron:
        mask = 0 if self.mask is None else int(self.mask[k])
        return ChipNeuron(int(self.threshold[k]), int(self.leak[k]), int(self.reset[k]), int(self.v0[k]),
                          0 if self.floor[k] else None, mask)


def _non_integer(net: Network, idx: np.ndarray) -> np.ndarray:
    """Mask over ``idx``: a value or an incoming weight is not an integer."""
    bad = np.zeros(len(idx), dtype=bool)
    for key in ("threshold", "bias", "reset", "v0"):
        values = net.param(key)[idx]
        bad |= values != np.floor(values)
    order, indptr = in_synapses(net)
    w = net.weight[order[gather(indptr, idx)]]
    owner = np.repeat(np.arange(len(idx)), indptr[idx + 1] - indptr[idx])
    return bad | (np.bincount(owner[w != np.floor(w)], minlength=len(idx)) > 0)


def _refuse_non_integer(net: Network, i: int) -> None:
    """Raise :class:`CompileError` naming neuron ``i``'s first non-integer value."""
    name, loc = net.name_of(i), net.location_of(i)
    for key in ("threshold", "bias", "reset", "v0"):
        value = float(net.param(key)[i])
        if not value.is_integer():
            raise CompileError(f"neuron '{name}': a chip neuron holds integers, got {key} {value:g}"
                               " (run 'quantize' first)", loc)
    order, indptr = in_synapses(net)
    for s in order[indptr[i]:indptr[i + 1]].tolist():
        w = float(net.weight[s])
        if not w.is_integer():
            raise CompileError(
                f"neuron '{name}': a chip neuron holds integers, got weight {w:g} from"
                f" '{net.name_of(int(net.pre[s]))}' (run 'quantize' first)", loc)


def gate_ranges(net: Network, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`gate_range` of neurons ``idx`` at once."""
    drive_max, drive_min = drive_bounds_all(net, idx=idx)
    kept_low = np.minimum(np.minimum(net.v0[idx], net.reset[idx]), 0.0)
    kept_high = np.maximum(np.maximum(net.v0[idx], net.reset[idx]), 0.0)
    return kept_low + drive_min, kept_high + drive_max


def gate_range(net: Network, name: str) -> tuple[float, float]:
    """``(low, high)``: bounds on a decay-1 neuron's potential after integrating, over all
    steps: the kept potential is ``v0``, ``reset`` or 0, plus the bias and one step's input."""
    low, high = gate_ranges(net, np.array([net.index(name)]))
    return float(low[0]), float(high[0])


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


def _sub_threshold_high(net: Network, i: int) -> float:
    order, indptr = in_synapses(net)
    weights = [int(w) for w in net.weight[order[indptr[i]:indptr[i + 1]]].tolist()]
    sums = _subset_sums(weights)
    low, high = sum(w for w in weights if w < 0), sum(w for w in weights if w > 0)
    theta, bias = int(net.threshold[i]), int(net.bias[i])
    best = -math.inf
    for kept in {int(net.v0[i]), int(net.reset[i]), 0}:
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


def sub_threshold_high(net: Network, name: str) -> float:
    """``need``: the highest potential decay-1 neuron ``name`` (integer values) can reach without
    firing, ``-inf`` when it fires at every step: the largest ``c + bias + x`` below the
    threshold, over the kept potentials ``c`` in {v0, reset, 0} and the input sums ``x`` of
    the subsets of its incoming weights (each synapse delivers its weight or nothing)."""
    return _sub_threshold_high(net, net.index(name))


def gate_shifts(net: Network, idx: np.ndarray, target: Target) -> np.ndarray:
    """:func:`gate_shift` of decay-1 neurons ``idx`` (ascending) at once. The shift ``θ - 1``
    needs only integrality and the registers' bounds, checked for every gate in bulk; only
    the gates it does not fit search their input sums. Raises :class:`CompileError` naming
    the first gate (in network order) that cannot be mapped."""
    idx = np.asarray(idx, dtype=np.int64)
    low, high = gate_ranges(net, idx)
    llo, lhi = target.int_range(target.leak_bits)
    tlo, thi = target.int_range(target.threshold_bits)
    plo, phi = target.int_range(target.potential_bits)
    b, theta = net.bias[idx], net.threshold[idx]
    # The registers' bounds on s; s = θ - 1 is exact by integrality alone when they allow it.
    lo = np.maximum(np.maximum(b - lhi, theta - thi), high - phi)
    hi = np.minimum(np.minimum(b - llo, theta - tlo), low - plo)
    stochastic = net.p[idx] != 1.0
    fractional = _non_integer(net, idx)
    fast = (lo <= theta - 1.0) & (theta - 1.0 <= hi) & ~stochastic & ~fractional
    shifts = np.where(fast, theta - 1.0, 0.0).astype(np.int64)
    for k in np.flatnonzero(~fast).tolist():
        shifts[k] = _one_shift(net, int(idx[k]), target, bool(stochastic[k]), bool(fractional[k]),
                               float(low[k]), float(high[k]))
    return shifts


def _one_shift(net: Network, i: int, target: Target, stochastic: bool, fractional: bool, low: float,
               high: float) -> int:
    name, loc = net.name_of(i), net.location_of(i)
    if stochastic:
        raise CompileError(
            f"neuron '{name}': a stochastic decay-1 gate (p = {float(net.p[i]):g}) cannot use the floor:"
            " a lost draw over threshold would leave its potential above 0", loc)
    if fractional:
        _refuse_non_integer(net, i)
    llo, lhi = target.int_range(target.leak_bits)
    tlo, thi = target.int_range(target.threshold_bits)
    plo, phi = target.int_range(target.potential_bits)
    b, theta = float(net.bias[i]), float(net.threshold[i])
    lo = max(b - lhi, theta - thi, high - phi)
    hi = min(b - llo, theta - tlo, low - plo)
    if lo <= theta - 1.0 <= hi:
        return int(theta - 1.0)
    need = _sub_threshold_high(net, i)
    if b - need < llo:
        raise CompileError(
            f"neuron '{name}': target '{target.name}' cannot map this decay-1 gate exactly: the floor at 0"
            f" needs a leak of at most {b - need:g} (bias {b:g} minus {need:g}, the highest potential it"
            f" reaches without firing), below the {target.leak_bits}-bit leak's minimum of {llo:g}", loc)
    lo = max(lo, need)
    if lo > hi:
        raise CompileError(
            f"neuron '{name}': target '{target.name}' cannot map this decay-1 gate exactly: no shift s >="
            f" {need:g} puts its leak {b:g} - s in [{llo:g}, {lhi:g}], its threshold {theta:g} - s in"
            f" [{tlo:g}, {thi:g}] and its potential range [{low:g} - s, {high:g} - s] in [{plo:g}, {phi:g}]",
            loc)
    return int(min(max(theta - 1.0, lo), hi))


def gate_shift(net: Network, name: str, target: Target) -> int:
    """The shift ``s`` that maps decay-1 neuron ``name`` exactly onto ``target``'s floor at 0
    (threshold ``θ - s``, leak ``bias - s``; see the module docstring for the proof): the
    admissible ``s`` closest to ``θ - 1``. Raises :class:`CompileError` naming the neuron
    when there is none."""
    return int(gate_shifts(net, np.array([net.index(name)]), target)[0])


def shift_gates(net: Network, idx: np.ndarray, shifts: np.ndarray) -> None:
    """Subtract ``shifts`` from decay-1 neurons ``idx``'s thresholds and biases (exact, part (a))."""
    idx = np.asarray(idx, dtype=np.int64)
    leaky = np.flatnonzero(net.decay[idx] != 1.0)
    if len(leaky):
        i = int(idx[leaky[0]])
        raise ValueError(f"neuron '{net.name_of(i)}': only a decay-1 neuron can be shifted, got decay"
                         f" {float(net.decay[i]):g}")
    moved = np.flatnonzero(shifts)
    if len(moved):
        sel, s = idx[moved], np.asarray(shifts)[moved]
        net.set_params(sel, threshold=net.threshold[sel] - s, bias=net.bias[sel] - s)


def shift_gate(net: Network, name: str, shift: int) -> None:
    """Subtract ``shift`` from decay-1 neuron ``name``'s threshold and bias (exact, part (a))."""
    shift_gates(net, np.array([net.index(name)]), np.array([shift]))


def chip_neurons(net: Network, idx: np.ndarray | None = None, noise_bits: int | None = None) -> ChipNeurons:
    """The linear-leak chip form of compiled neurons ``idx`` (default: every non-input neuron),
    as arrays: decay 0 with no floor, or a decay-1 gate with a floor at 0 when every potential
    it reaches without firing is <= 0 (what ``floor-gates`` arranges). ``noise_bits`` (a chip
    with a stochastic threshold of that many bits) gives stochastic neurons their form with a
    ``mask`` (:func:`spikec.chip.noise.threshold_chip_form`). Raises :class:`CompileError` naming
    the first neuron (in network order) that has no such form."""
    idx = np.flatnonzero(~net.is_input) if idx is None else np.asarray(idx, dtype=np.int64)
    if np.any(net.is_input[idx]):
        raise ValueError(f"input '{net.name_of(int(idx[np.flatnonzero(net.is_input[idx])[0]]))}' has no"
                         " chip neuron form")
    if noise_bits is not None and np.any(net.p[idx] != 1.0):
        return _with_stochastic(net, idx, noise_bits)
    decay, theta = net.decay[idx], net.threshold[idx]
    stochastic = net.p[idx] != 1.0
    fractional = _non_integer(net, idx)
    gate = decay == 1.0
    # need <= min(threshold - 1, the gate's highest potential), so most gates need no search.
    _, high = gate_ranges(net, idx)
    maybe = gate & (theta > 1.0) & (np.minimum(theta - 1.0, high) > 0)
    for k in np.flatnonzero(stochastic | fractional | ((decay != 0.0) & ~gate) | maybe).tolist():
        _check_chip_form(net, int(idx[k]), bool(stochastic[k]), bool(fractional[k]))
    values = {"threshold": theta, "bias": net.bias[idx], "reset": net.reset[idx], "v0": net.v0[idx]}
    for param, column in values.items():
        wide = np.flatnonzero(np.abs(column) >= 2.0**62)
        if len(wide):
            i = int(idx[wide[0]])
            raise CompileError(f"neuron '{net.name_of(i)}': {param} = {float(column[wide[0]]):g} does not fit"
                               " the chip's integer registers (|value| < 2**62)", net.location_of(i))
    threshold, leak, reset, v0 = (column.astype(np.int64) for column in values.values())
    return ChipNeurons(threshold, leak, reset, v0, np.asarray(gate))


def _with_stochastic(net: Network, idx: np.ndarray, bits: int) -> ChipNeurons:
    """:func:`chip_neurons` of deterministic and stochastic neurons together (the stochastic
    ones in their stochastic-threshold form), in the order of ``idx``."""
    from spikec.chip.noise import threshold_chip_form

    rand = net.p[idx] != 1.0
    fixed = chip_neurons(net, idx[~rand])
    form = threshold_chip_form(net, idx[rand], bits)
    columns = {}
    for key, det in (("threshold", fixed.threshold), ("leak", fixed.leak), ("reset", fixed.reset),
                     ("v0", fixed.v0), ("floor", fixed.floor)):
        out = np.zeros(len(idx), dtype=bool if key == "floor" else np.int64)
        out[~rand], out[rand] = det, form[key]
        columns[key] = out
    mask = np.zeros(len(idx), dtype=np.int64)
    mask[rand] = form["mask"]
    return ChipNeurons(columns["threshold"], columns["leak"], columns["reset"], columns["v0"],
                       columns["floor"], mask)


def _check_chip_form(net: Network, i: int, stochastic: bool, fractional: bool) -> None:
    name, loc = net.name_of(i), net.location_of(i)
    if stochastic:
        raise CompileError(
            f"neuron '{name}': a stochastic neuron (p = {float(net.p[i]):g}) has no linear-leak form", loc)
    if fractional:
        _refuse_non_integer(net, i)
    decay = float(net.decay[i])
    if decay == 1.0:
        residue = _sub_threshold_high(net, i)
        if residue > 0:
            raise CompileError(
                f"neuron '{name}': a decay-1 gate on the floor at 0 must not keep a potential above 0"
                f" without firing, but it can reach {residue:g} (run 'floor-gates' to shift its threshold"
                " and bias)", loc)
    elif decay != 0.0:
        raise CompileError(
            f"neuron '{name}': decay {decay:g} has no linear-leak form; only decay 0 and 1 map exactly", loc)


def chip_neuron(net: Network, name: str, noise_bits: int | None = None) -> ChipNeuron:
    """The linear-leak chip form of compiled neuron ``name``: decay 0 with no floor, or a
    decay-1 gate with a floor at 0 when every potential it reaches without firing is <= 0
    (what ``floor-gates`` arranges). Raises :class:`CompileError` naming the neuron otherwise."""
    i = net.index(name)
    if net.is_input[i]:
        raise ValueError(f"input '{name}' has no chip neuron form")
    return chip_neurons(net, np.array([i]), noise_bits)[0]
