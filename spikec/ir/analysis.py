"""Static facts about a network, computed from its structure and parameters alone.

- :func:`input_latency`: the earliest step each neuron can feel an input;
- :func:`drive_bounds`, :func:`potential_bounds`: bounds on one step's input and
  on the potential a neuron can reach (passes, emitters and the quantizer use them);
- :func:`silent_neurons`: neurons that provably never fire;
- :func:`scale_for`: the positive factor that makes a neuron's values integers.

Passes and backends both read these; none of them edits a network.
"""

from __future__ import annotations

import math
from fractions import Fraction

import networkx as nx

from spikec.ir.network import Network, Neuron

__all__ = ["input_latency", "drive_bounds", "potential_bounds", "silent_neurons", "scale_for"]


def input_latency(net: Network) -> dict[str, int]:
    """Earliest step at which each neuron can feel an input spike sent at step 0.

    It is the shortest path from any input neuron, summing synaptic delays
    (an input itself has latency 0). Neurons no input reaches are absent.
    This is a lower bound: whether the neuron actually fires then depends on
    weights and thresholds.
    """
    sources = net.inputs()
    if not sources:
        return {}
    lengths = nx.multi_source_dijkstra_path_length(net.graph, sources, weight="delay")
    return {name: int(d) for name, d in lengths.items()}


def _stored_high_ignoring_fire(n: Neuron, drive_max: float) -> float:
    """Upper bound on the potential kept between steps, from the drive alone."""
    if n.decay == 0.0:
        return math.inf if drive_max > 0 else max(n.v0, n.reset)
    return max(n.v0, n.reset, (1.0 - n.decay) * drive_max / n.decay)


def potential_bounds(n: Neuron, drive_max: float, drive_min: float) -> tuple[float, float]:
    """Bounds ``(low, high)`` on the potential after integration, over all steps.

    ``drive_max``/``drive_min`` bound the bias plus synaptic input of one step.
    A deterministic neuron that does not fire keeps less than
    ``max(threshold, 0)`` (it leaks towards 0 from below the threshold), so its
    kept potential is at most ``max(v0, reset, threshold, 0)``; a neuron with
    ``p < 1`` may lose its draw, so only the drive bounds it. Either bound may
    be infinite (an integrator with one-sided drive).
    """
    stored_high = _stored_high_ignoring_fire(n, drive_max)
    if n.p == 1.0:
        stored_high = min(stored_high, max(n.v0, n.reset, n.threshold, 0.0))
    if n.decay == 0.0:
        stored_low = -math.inf if drive_min < 0 else min(n.v0, n.reset)
    else:
        stored_low = min(n.v0, n.reset, (1.0 - n.decay) * drive_min / n.decay)
    return stored_low + drive_min, stored_high + drive_max


def drive_bounds(net: Network, name: str, can_fire: dict[str, bool] | None = None) -> tuple[float, float]:
    """``(max, min)`` of bias plus synaptic input in one step, counting only sources
    in ``can_fire`` (default: every source)."""
    n: Neuron = net.graph.nodes[name]["neuron"]
    pos: list[float] = [n.bias]
    neg: list[float] = [n.bias]
    for pre, _, data in net.graph.in_edges(name, data=True):
        if can_fire is None or can_fire[pre]:
            w = data["weight"]
            (pos if w > 0 else neg).append(w)
    return math.fsum(pos), math.fsum(neg)


def _never_reaches(n: Neuron, drive_max: float) -> bool:
    if n.p == 0.0:
        return True
    stored = _stored_high_ignoring_fire(n, drive_max)
    high = stored + drive_max
    # Leave room for the rounding of the simulator's float sums.
    margin = 1e-9 * (abs(stored) + abs(drive_max) + abs(n.threshold)) + 1e-300
    return high + margin < n.threshold


def silent_neurons(net: Network) -> set[str]:
    """Non-input neurons that provably never fire (without injected currents).

    The proof grows the set of neurons that *can* fire from the inputs: a
    neuron joins it when an upper bound on its potential, counting the
    positive weights from members only, reaches its threshold (``p = 0``
    never joins). Whatever stays out never fires: at the first step any of
    them fired, all its spikes so far came from members, and its bound
    would have let it join. Cycles of neurons feeding only each other are
    proven silent too.
    """
    graph = net.graph
    can_fire = {name: d["neuron"].is_input for name, d in graph.nodes(data=True)}
    todo = [name for name, ok in can_fire.items() if not ok]
    queued = set(todo)
    while todo:
        name = todo.pop()
        queued.discard(name)
        if can_fire[name]:
            continue
        n = graph.nodes[name]["neuron"]
        if not _never_reaches(n, drive_bounds(net, name, can_fire)[0]):
            can_fire[name] = True
            for post in graph.successors(name):
                if not can_fire[post] and post not in queued:
                    todo.append(post)
                    queued.add(post)
    return {name for name, ok in can_fire.items() if not ok}


def scale_for(values: list[float]) -> Fraction:
    """The positive factor that maps ``values`` onto the smallest integers with the same ratios
    (1 for an all-zero list)."""
    if all(v.is_integer() and abs(v) < 2**53 for v in values):
        g = 0
        for v in values:
            g = math.gcd(g, int(v))
        return Fraction(1, g) if g else Fraction(1)
    fr = [Fraction(v) for v in values if v != 0]
    if not fr:
        return Fraction(1)
    num = 0
    den = 1
    for f in fr:
        num = math.gcd(num, f.numerator)
        den = den * f.denominator // math.gcd(den, f.denominator)
    return Fraction(den, num)
