"""Legalization passes: make a network fit a target's neuron features, delay
range and fan-out/fan-in limits, exactly or not at all (number formats are
:mod:`spikec.passes.quantize`).

- ``check-features`` refuses neurons the target cannot run (stochastic,
  leaky, with an initial potential, a reset other than 0 on a reset-to-zero
  chip) after the exact rewrites that remove the need: a stochastic neuron
  that never fires becomes deterministic, and a leak that never acts (every
  non-zero potential fires and resets to 0) is dropped. On a chip with a
  potential floor, decay-1 gates are left to ``floor-gates``
  (:mod:`spikec.chip.linear_leak`).
- ``delay-legalize`` turns each delay over the target's maximum into a chain
  of relay neurons shared by the synapses of one source: relay ``j`` fires
  exactly ``j * D`` steps after the source, and the synapse leaves the
  last relay with the remaining delay.
- ``fanout-legalize`` gives a neuron with too many outgoing synapses a tree of
  splitter neurons; each splitter level costs one step, taken from the
  moved synapses' delays, so a synapse of delay 1 cannot move (refused with
  the reason). Fan-in cannot be split exactly (a potential sums real
  weights; a spiking partial sum loses them), so it is checked and refused.

Relays and splitters are deterministic neurons appended to the network, so
they never change the random streams of stochastic neurons.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from spikec.errors import CompileError, LimitError, fmt_count
from spikec.ir.analysis import silent_neurons
from spikec.ir.network import Network, Neuron
from spikec.passes.manager import CompileContext, Pass, register_pass

__all__ = [
    "add_relay",
    "legalize_delays",
    "split_fanout",
    "check_fan_in",
    "CheckFeatures",
    "DelayLegalize",
    "FanoutLegalize",
]

_RELAY_TAG = "spikec.relay"


def _fresh(net: Network, base: str) -> str:
    if base not in net.graph:
        return base
    k = 2
    while f"{base}.{k}" in net.graph:
        k += 1
    return f"{base}.{k}"


def add_relay(net: Network, ctx: CompileContext | None, base: str) -> str:
    """Add a relay neuron (fires exactly when its one weight-1 input arrives) named after ``base``."""
    name = _fresh(net, base)
    net.graph.add_node(name, neuron=Neuron(name, threshold=1.0, tags=frozenset({_RELAY_TAG})))
    if ctx is not None:
        ctx.added.add(name)
    return name


def _target_of(ctx: CompileContext, override: int | None) -> int | None:
    return override if override is not None and override > 0 else ctx.target.delay_max


def legalize_delays(net: Network, max_delay: int, ctx: CompileContext | None = None,
                    min_delay: int = 1) -> int:
    """Replace every delay over ``max_delay`` by a relay chain; return relays added."""
    graph = net.graph
    if min_delay > 1:
        for pre, post, d in graph.edges(data="delay"):
            if d < min_delay:
                raise LimitError(
                    f"synapse {pre} -> {post}: delay {d} is below the target's minimum of {min_delay}")
    long = [(pre, post, key, data) for pre, post, key, data in graph.edges(keys=True, data=True)
            if data["delay"] > max_delay]
    chains: dict[str, list[str]] = {}
    added = 0
    for pre, post, key, data in long:
        d = data["delay"]
        hops = (d - 1) // max_delay
        chain = chains.setdefault(pre, [pre])
        while len(chain) <= hops:
            relay = add_relay(net, ctx, f"{pre}~delay[{len(chain)}]")
            graph.add_edge(chain[-1], relay, weight=1.0, delay=max_delay)
            chain.append(relay)
            added += 1
        graph.remove_edge(pre, post, key)
        attrs = {k: v for k, v in data.items() if k != "delay"}
        graph.add_edge(chain[hops], post, **attrs, delay=d - hops * max_delay)
    return added


def split_fanout(net: Network, name: str, fan_out: int, ctx: CompileContext | None = None) -> int:
    """Give ``name`` at most ``fan_out`` outgoing synapses using a splitter tree; return
    splitters added. Raises :class:`LimitError` when the delays leave no room."""
    graph = net.graph
    edges = [(post, key, data) for _, post, key, data in graph.out_edges(name, keys=True, data=True)]
    graph.remove_edges_from([(name, post, key) for post, key, _ in edges])
    items = [(post, dict(data)) for post, _, data in edges]
    return _distribute(net, name, name, items, fan_out, ctx, 0)


def _distribute(net: Network, root: str, src: str, items: list[tuple[str, dict[str, Any]]],
                fan_out: int, ctx: CompileContext | None, depth: int) -> int:
    graph = net.graph
    if len(items) <= fan_out:
        for post, data in items:
            graph.add_edge(src, post, **data)
        return 0
    direct = [it for it in items if it[1]["delay"] == 1]
    movable = sorted((it for it in items if it[1]["delay"] > 1), key=lambda it: -it[1]["delay"])
    room = fan_out - len(direct)
    if room < 1:
        what = f"neuron '{root}'" if depth == 0 else f"neuron '{root}' (after {depth} splitter level(s))"
        raise LimitError(
            f"{what}: {fmt_count(len(direct))} outgoing synapses with delay 1 and {fmt_count(len(movable))}"
            f" more exceed the fan-out of {fmt_count(fan_out)}; a splitter neuron costs one step of delay,"
            " so only synapses with delay >= 2 can move behind one"
        )
    # Keep as many movable synapses direct as leaves room for the splitters they need.
    children = 1
    while True:
        keep = room - children
        if keep < 0:
            children = room
            keep = 0
            break
        if math.ceil(max(len(movable) - keep, 0) / fan_out) <= children:
            break
        children += 1
    direct += movable[len(movable) - keep:] if keep else []
    moved = movable[: len(movable) - keep] if keep else movable
    added = 0
    for post, data in direct:
        graph.add_edge(src, post, **data)
    size = math.ceil(len(moved) / children)
    for i in range(children):
        chunk = moved[i * size:(i + 1) * size]
        if not chunk:
            continue
        splitter = add_relay(net, ctx, f"{root}~split[{depth}.{i}]")
        graph.add_edge(src, splitter, weight=1.0, delay=1)
        added += 1
        shorter = [(post, {**data, "delay": data["delay"] - 1}) for post, data in chunk]
        added += _distribute(net, root, splitter, shorter, fan_out, ctx, depth + 1)
    return added


def check_fan_in(net: Network, fan_in: int) -> None:
    """Raise :class:`LimitError` naming the first neuron with more than ``fan_in`` incoming synapses."""
    for name, degree in net.graph.in_degree():
        if degree > fan_in:
            raise LimitError(
                f"neuron '{name}': {fmt_count(degree)} incoming synapses exceed the fan-in of"
                f" {fmt_count(fan_in)} per neuron; spikec cannot split a neuron's input sum exactly"
                " (merge parallel synapses or restructure the circuit)"
            )


@register_pass
@dataclass
class CheckFeatures(Pass):
    """Refuse neurons the target cannot run, after the exact rewrites that avoid it."""

    name = "check-features"
    summary = "refuse stochastic / leaky / v0 neurons the target lacks (after exact rewrites)"
    default_order = 50

    def run(self, net: Network, ctx: CompileContext) -> Network:
        """Rewrite what can be rewritten exactly; raise for the rest."""
        target = ctx.target
        graph = net.graph
        neurons = [d["neuron"] for _, d in graph.nodes(data=True) if not d["neuron"].is_input]
        if not target.stochastic and any(n.p < 1.0 for n in neurons):
            silent = silent_neurons(net)
            for n in neurons:
                if n.p < 1.0 and n.name not in silent:
                    raise CompileError(
                        f"neuron '{n.name}': target '{target.name}' has no stochastic neurons"
                        f" (p = {n.p:g}); spikec's Bernoulli firing cannot be mapped exactly", n.loc)
            for n in neurons:
                if n.p < 1.0:
                    # Never over threshold, so never draws: a silent deterministic neuron.
                    graph.remove_edges_from(list(graph.in_edges(n.name, keys=True)))
                    graph.remove_edges_from(list(graph.out_edges(n.name, keys=True)))
                    net.update(n.name, p=1.0, threshold=1.0, bias=0.0, v0=0.0, reset=0.0, decay=0.0)
                    ctx.note(self.name, f"neuron '{n.name}'", "never fires; made deterministic")
        neurons = [d["neuron"] for _, d in graph.nodes(data=True) if not d["neuron"].is_input]
        for n in neurons:
            if not target.leak and n.decay != 0.0:
                if self._leak_never_acts(net, n):
                    net.update(n.name, decay=0.0)
                    ctx.note(self.name, f"neuron '{n.name}'", "its leak never acts; decay set to 0")
                elif n.decay == 1.0 and target.floor:
                    pass  # a gate: 'floor-gates' maps it onto the potential floor (or refuses it)
                else:
                    maps = ("decay = 0 and decay = 1 (a gate, on the potential floor) map" if target.floor
                            else "decay = 0 maps")
                    raise CompileError(
                        f"neuron '{n.name}': target '{target.name}' has no multiplicative leak"
                        f" (decay = {n.decay:g}); only {maps} exactly", n.loc)
            if target.reset_mode == "zero" and n.reset != 0.0:
                raise CompileError(
                    f"neuron '{n.name}': target '{target.name}' resets potentials to 0 only"
                    f" (reset = {n.reset:g})", n.loc)
            if not target.initial_potential and n.v0 != 0.0:
                raise CompileError(
                    f"neuron '{n.name}': target '{target.name}' cannot set an initial potential"
                    f" (v0 = {n.v0:g})", n.loc)
        return net

    @staticmethod
    def _leak_never_acts(net: Network, n: Neuron) -> bool:
        """True when the potential is 0 at every step's end unless the neuron fires and resets to 0:
        no bias, v0 or reset, and every incoming weight reaches the threshold alone (and
        any sum of them does too, as all are positive)."""
        if n.bias != 0.0 or n.v0 != 0.0 or n.reset != 0.0 or n.p != 1.0 or not n.threshold > 0:
            return False
        weights = [w for _, _, w in net.graph.in_edges(n.name, data="weight")]
        return all(w >= n.threshold for w in weights)


@register_pass
@dataclass
class DelayLegalize(Pass):
    """Turn delays over the target's maximum into relay chains."""

    name = "delay-legalize"
    summary = "replace delays longer than the target's maximum by chains of relay neurons"
    default_order = 60
    max_delay: int = 0

    def run(self, net: Network, ctx: CompileContext) -> Network:
        """Legalize every synapse's delay."""
        limit = _target_of(ctx, self.max_delay)
        if limit is None:
            return net
        added = legalize_delays(net, limit, ctx, ctx.target.delay_min)
        if added:
            ctx.note(self.name, "network", f"added {added} relay neuron(s) for delays over {limit}")
        return net


@register_pass
@dataclass
class FanoutLegalize(Pass):
    """Split fan-out with splitter trees; check fan-in."""

    name = "fanout-legalize"
    summary = "give neurons over the fan-out limit splitter trees; refuse fan-in over the limit"
    default_order = 70
    fan_out: int = 0
    fan_in: int = 0

    def run(self, net: Network, ctx: CompileContext) -> Network:
        """Legalize fan-out, then check fan-in."""
        fan_out = self.fan_out or ctx.target.fan_out
        fan_in = self.fan_in or ctx.target.fan_in
        if fan_out is not None:
            if fan_out < 2:
                raise CompileError(
                    f"fanout-legalize: a fan-out limit of {fan_out} leaves no room for splitters")
            over = [name for name, deg in net.graph.out_degree() if deg > fan_out]
            for name in over:
                added = split_fanout(net, name, fan_out, ctx)
                ctx.note(self.name, f"neuron '{name}'", f"added {added} splitter neuron(s)")
        if fan_in is not None:
            check_fan_in(net, fan_in)
        return net
