"""``std.diffusion``: spiking random-walk solvers of diffusion problems.

``import std.diffusion`` gives the ``diffusion`` statement::

    diffusion heat (nx = 41, D = 1.0, dx = 0.1, dt = 0.004, steps = 50,
                    boundary = "absorbing", walkers = 1000)

which builds a solver circuit for the problem (:mod:`spikec.diffusion`
states the physics and every parameter) and probes its field as
``field(heat)``: walkers per mesh node at each model step 0..steps.
``spikec solve FILE.spk`` runs it and compares the field with the exact
answers. Two methods:

**Density** (``method = "density"``, the default): one counting circuit
per mesh node. Each node has two banks b = 0, 1 that swap roles every model
step (double buffering): in model step m, bank m % 2 releases the walkers
it holds, one per neural step, while bank 1 - m % 2 collects the walkers
arriving for step m + 1. A bank is

- ``c[b]``, a counter (``decay = 0``): its potential is minus the walkers it
  holds (``v0 = -count``); rest is 0, ``threshold = 1``, ``reset = -1``;
- ``g[b]``, a generator gate (``decay = 1``) that keeps itself firing
  through a self-synapse; each spike releases one walker and adds 1 to
  ``c[b]``; the counter's spike stops it;
- ``r[b][j]``, one stochastic routing gate per outcome j of the node
  (``Problem.outcomes``: a move to a neighbour, or a loss by killing or
  an absorbing wall). A released walker reaches gate j after j + 1 steps;
  gate j fires with the conditional probability ``q_j = P_j / (1 - sum of
  P_i for i < j)`` unless an earlier gate fired for the same walker (each
  inhibits the later ones so the inhibition lands with the walker), so at
  most one gate fires, gate j with probability P_j. Every released walker
  is first counted as staying (``g[b]`` subtracts 1 from this node's
  collecting counter); a gate that fires gives that back and subtracts 1
  from its destination's collecting counter (nothing for a loss). The
  counters are linear, so no deterministic "stay" gate is needed.

Two supervisor neurons close the model steps: ``done[b]`` (``threshold =``
the number of nodes) counts the nodes whose bank b ran empty (each counter
fires exactly once per phase of its bank) and then starts the next model
step on the other bank, ``k + 1`` steps later (k gates per node: the last
walker's arrivals land by then), by testing each counter: a start pulse
adds 1 to ``c[b]`` (it fires at once when the bank is empty), one step
later adds 1 more and starts ``g[b]``. A counter holding n walkers then
fires exactly when ``g[b]`` has released the n-th, and ``g[b]`` fires
exactly n times. ``done[1]`` starts with ``v0 =`` nodes, so it fires at
step 0 and starts model step 0. Every walker moves exactly once per model
step; a model step takes ``n_max + k + 1`` neural steps, n_max being the
most walkers at one node.

The spikes of ``done[0]`` and ``done[1]`` mark the windows of the model
steps; the spikes of ``g[0]`` and ``g[1]`` of a node in a window are its
walkers in that model step (the ``field`` decoder counts them).

The circuit is built from the problem's routing arrays (``routing_arrays()``: every
node's gates at once, in CSR order), so it serves a regular-mesh
:class:`~spikec.diffusion.problem.Problem` and any
:class:`~spikec.diffusion.chain.Chain` alike (a transition matrix, a mesh graph, a
grid of 1 to 3 dimensions with coefficients per node), each kind of neuron and
synapse added in one bulk call. Neurons are arrays: ``done[b]``, ``c{b}[node]``,
``g{b}[node]``, ``r{b}[gate]`` (gates numbered node by node), ``h{b}[relay]``. A node
with :data:`RELAY_DEGREE` gates or more inhibits them through a relay chain
(``_gate_layout``) instead of one synapse per pair. Sources: a constant one is a
synapse of weight ``-S_i`` from ``done[x]`` to ``c{x}[i]`` (done[x] starts a model
step whose arrivals bank x collects); a time table adds ``inj[t]``, an integrator
of both supervisors' spikes with threshold ``t + 1`` that fires once, at the start
of model step t, into the collecting bank. ``docs/diffusion.md`` ("General chains")
gives the exactness argument.

**Particle** (``method = "particle"``): one small circuit per walker that
holds its position (see :mod:`spikec.circuits._diffusion_particle`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from spikec.diffusion.chain import Chain
from spikec.diffusion.params import statement_problem
from spikec.diffusion.problem import Problem, Readout
from spikec.ir.builder import Builder, CircuitBuilder
from spikec.ir.network import Network

__all__ = ["CIRCUITS", "build_density", "density_resources", "build", "diffusion_network",
           "DiffusionCircuit"]


def _start_delay(indptr: np.ndarray) -> int:
    """Steps from a supervisor spike to the test of the counters it starts: the most
    routing gates of a node (the last walker's arrivals land by then), at least 1."""
    return max(1, int(np.diff(indptr).max(initial=0)))


#: Nodes with this many routing gates or more inhibit them through a relay chain
#: (about 4 d synapses and d - 2 neurons) instead of one synapse per pair of gates (d (d - 1) / 2).
RELAY_DEGREE = 10


def _gate_layout(indptr: np.ndarray) -> dict[str, np.ndarray]:
    """Where the routing gates of every node are and how they inhibit one another.

    ``node``, ``pos``: each gate's node and position j. ``earlier``, ``later``: the gate
    pairs of an inhibition synapse (delay ``pos[later] - pos[earlier]``): every earlier
    gate of a node with fewer than :data:`RELAY_DEGREE` gates; only the gate just before
    at a node with more, whose gates 0..j-2 reach gate j through relay neurons instead:
    relay k of a node (k = 0..d-3, arrays ``relay_gate``/``relay_prev``) fires at
    ``t0 + k + 2`` when one of the node's gates 0..k fired for the walker released at t0
    (it hears gate k and relay k - 1, delay 1 each), and relay j - 2 inhibits gate j with
    delay 1, landing with the walker at ``t0 + j + 1`` (``inhibit_relay``/``inhibit_gate``).
    Every walker's signals run on their own diagonal in time, so walkers released on
    successive steps never meet."""
    degree = np.diff(indptr)
    node = np.repeat(np.arange(len(degree)), degree)
    pos = np.arange(len(node)) - indptr[node]
    deg = degree[node]
    relay = deg >= RELAY_DEGREE
    count = np.where(relay, np.minimum(pos, 1), pos)
    later = np.repeat(np.arange(len(node)), count)
    rank = np.arange(len(later)) - np.repeat(np.cumsum(count) - count, count)
    earlier = later - count[later] + rank
    has = relay & (pos <= deg - 3)
    index = np.cumsum(has) - 1  # relay neuron of gate e (where has[e])
    chained = has & (pos >= 1)
    inhibited = relay & (pos >= 2)
    return {"node": node, "pos": pos, "earlier": earlier, "later": later, "relays": np.array(int(has.sum())),
            "relay_gate": np.flatnonzero(has), "relay_of": index[has],
            "relay_prev": index[np.flatnonzero(chained) - 1], "relay_next": index[chained],
            "inhibit_relay": index[np.flatnonzero(inhibited) - 2], "inhibit_gate": np.flatnonzero(inhibited)}


def _source_plan(problem: Any) -> tuple[np.ndarray | None, np.ndarray | None]:
    """``(constant, table)``: a constant source per node, or the model steps and rows of a
    time table (the steps with any walker injected), or (None, None)."""
    sources = getattr(problem, "sources", None)
    if sources is None or not np.any(sources):
        return None, None
    if sources.ndim == 1:
        return sources, None
    table = problem.source_table()
    return None, np.flatnonzero(table.any(axis=1))  # only a Chain has sources


def build_density(builder: Any, problem: Problem | Chain) -> Readout:
    """Add the density-method circuit of ``problem`` (a regular-mesh :class:`Problem` or any
    :class:`Chain`) through ``builder`` (module docstring), built from its routing arrays:
    one gate per outcome of every node, in one bulk call per kind of neuron and synapse."""
    n = problem.nodes
    counts = problem.initial.reshape(-1).astype(float)
    indptr, dest, q = problem.routing_arrays()
    d1 = _start_delay(indptr)
    lay = _gate_layout(indptr)
    gnode, gpos, earlier, later = lay["node"], lay["pos"], lay["earlier"], lay["later"]
    k, relays = len(gnode), int(lay["relays"])
    constant, table_steps = _source_plan(problem)
    neurons = 2 + 4 * n + 2 * k + 2 * relays + (0 if table_steps is None else len(table_steps))
    builder.reserve(neurons, 2 * (8 * n + 3 * k + len(later)) + 2 * n + (0 if table_steps is None else
                                                                         2 * len(table_steps)))
    done = builder.neurons("done", 2, threshold=float(n), decay=0.0, reset=0.0, v0=np.array([0.0, float(n)]))
    c = [builder.neurons(f"c{b}", n, threshold=1.0, decay=0.0, reset=-1.0,
                         v0=-counts if b == 0 else 0.0) for b in (0, 1)]
    g = [builder.neurons(f"g{b}", n, threshold=1.0, decay=1.0) for b in (0, 1)]
    r = [builder.neurons(f"r{b}", k, threshold=1.0, decay=1.0, p=q) for b in (0, 1)]
    h = [builder.neurons(f"h{b}", relays, threshold=1.0, decay=1.0) for b in (0, 1)] if relays else []
    one = np.ones(n)
    for b in (0, 1):
        start = np.full(n, done[1 - b])  # the other bank's supervisor starts this bank's phase
        ci, gi, other = c[b], g[b], c[1 - b]
        pre = np.concatenate([start, start, start, gi, ci, gi, ci, gi])
        post = np.concatenate([ci, ci, gi, gi, gi, ci, np.full(n, done[b]), other])
        weight = np.concatenate([one, one, one, one, -one, one, one, -one])
        delay = np.concatenate([np.full(n, d1), np.full(n, d1 + 1), np.full(n, d1 + 1), np.ones(5 * n)])
        # test (fires now if the bank is empty), compensation, start releasing, keep releasing,
        # until the counter is empty, one walker fewer held, this node is done, it stays unless
        # a gate fires
        builder.synapses(pre, post, weight, delay.astype(np.int64))
        gate = r[b]
        arrived = dest >= 0
        pre = np.concatenate([gi[gnode], gate[earlier], gate, gate[arrived]])
        post = np.concatenate([gate, gate[later], other[gnode], other[dest[arrived]]])
        weight = np.concatenate([np.ones(k), -np.ones(len(later)), np.ones(k), -np.ones(int(arrived.sum()))])
        delay = np.concatenate([gpos + 1, gpos[later] - gpos[earlier],
                                np.ones(k + int(arrived.sum()), np.int64)])
        # a walker reaches gate j after j + 1 steps; earlier gates inhibit it so that the
        # inhibition lands with the walker; a gate gives the stay back and adds an arrival
        builder.synapses(pre, post, weight, delay.astype(np.int64))
        if relays:  # gate k or relay k - 1 -> relay k; relay j - 2 inhibits gate j
            hb = h[b]
            pre = np.concatenate([gate[lay["relay_gate"]], hb[lay["relay_prev"]], hb[lay["inhibit_relay"]]])
            post = np.concatenate([hb[lay["relay_of"]], hb[lay["relay_next"]], gate[lay["inhibit_gate"]]])
            weight = np.concatenate([np.ones(relays + len(lay["relay_next"])),
                                     -np.ones(len(lay["inhibit_gate"]))])
            builder.synapses(pre, post, weight, 1)
    if constant is not None:  # done[x] starts a model step whose arrivals bank x collects
        at = np.flatnonzero(constant)
        for x in (0, 1):
            builder.synapses(np.full(len(at), done[x]), c[x][at], -constant[at].astype(float), 1)
    if table_steps is not None:
        _table_sources(builder, problem, done, c, table_steps)
    base = getattr(builder, "prefix", "")
    lost = np.flatnonzero(dest < 0)
    # a node's loss is its first gate: it fires one step after the release (the release is in the
    # window of the walker's model step; the gate's spike may land on the next window's first step)
    assert not np.any(gpos[lost]), "a loss gate must come first at its node"
    return Readout(
        clocks=(f"{base}done[0]", f"{base}done[1]"),
        counted=tuple(f"{base}g{b}[{i}]" for b in (0, 1) for i in range(n)), nodes=tuple(list(range(n)) * 2),
        shape=problem.shape, steps_hint=_density_steps_hint(problem, d1),
        lost=tuple(f"{base}r{b}[{j}]" for b in (0, 1) for j in lost.tolist()),
        lost_nodes=tuple(gnode[lost].tolist()) * 2,
    )


def _table_sources(builder: Any, problem: Any, done: np.ndarray, c: list[np.ndarray],
                   steps: np.ndarray) -> None:
    """Walkers of a time table: ``inj[t]`` counts the supervisor spikes (both, +1 each) and
    fires at the (t + 1)-th, the start of model step t, once (its reset is far below any
    count it can reach again); it adds the table's row t to the bank collecting in step t."""
    table = problem.source_table()
    inj = builder.neurons("inj", len(steps), threshold=(steps + 1).astype(float), decay=0.0,
                          reset=-float(2**40), v0=0.0)
    builder.synapses(np.repeat(done, len(steps)), np.tile(inj, 2), 1.0, 1)
    t_idx, node = np.nonzero(table[steps])
    bank = 1 - steps[t_idx] % 2
    post = np.where(bank == 0, c[0][node], c[1][node])
    builder.synapses(inj[t_idx], post, -table[steps[t_idx], node].astype(float), 1)


def _density_steps_hint(problem: Problem | Chain, d1: int) -> int:
    """Neural steps expected to finish model steps 0..steps: per model step d1 + 1 plus
    the most walkers at one node, estimated from the exact mean with 5 standard
    deviations of margin (the solver runs longer if a trial needs it)."""
    mean = problem.exact_mean().reshape(problem.steps + 1, -1)
    busiest = mean.max(axis=1)
    margin = np.ceil(busiest + 5 * np.sqrt(busiest) + 2)
    total = problem.walkers
    if isinstance(problem, Chain):
        total += int(problem.source_table().sum())
    return int(d1 + np.sum(d1 + 1 + np.minimum(margin, total))) + d1 + 2


def density_resources(problem: Problem | Chain) -> dict[str, Any]:
    """Neurons and synapses of the density circuit by formula, and its neural steps per
    model step as a function of the busiest node's walkers ``n_max``."""
    n = problem.nodes
    indptr, dest, _ = problem.routing_arrays()
    gates = np.diff(indptr)
    k = int(gates.sum())
    per_bank_node = 8  # 3 from the supervisor, self, stop, release count, done, stay
    # each gate: input from g, its own give-back, the arrival (not for a loss), and one
    # inhibition from each earlier gate
    # inhibition at a relay node: d - 1 from the gate before, d - 2 relays, d - 3 relay
    # links, d - 2 relay inhibitions (_gate_layout)
    relay = gates >= RELAY_DEGREE
    inhibit = np.where(relay, 4 * gates - 8, gates * (gates - 1) // 2)
    synapses = 2 * (per_bank_node * n + 3 * k + int(np.sum(inhibit)))
    synapses -= 2 * int(np.count_nonzero(dest < 0))
    neurons = 2 * (2 * n + k + int(np.sum(np.where(relay, gates - 2, 0)))) + 2
    constant, table_steps = _source_plan(problem)
    if constant is not None:
        synapses += 2 * int(np.count_nonzero(constant))
    if table_steps is not None and isinstance(problem, Chain):
        neurons += len(table_steps)
        synapses += 2 * len(table_steps) + int(np.count_nonzero(problem.source_table()[table_steps]))
    d1 = _start_delay(indptr)
    return {
        "neurons": neurons,
        "synapses": synapses,
        "neurons_per_node": neurons / n,
        "synapses_per_node": synapses / n,
        "gates_per_node": int(gates.max(initial=0)),
        "neural_steps_per_model_step": f"n_max + {d1 + 1}",
        "fixed_steps_per_model_step": d1 + 1,
    }


def build(builder: CircuitBuilder, problem: Problem | Chain) -> Readout:
    """The solver circuit of ``problem.method``."""
    if problem.method == "particle":
        from spikec.circuits._diffusion_particle import build_particle

        return build_particle(builder, problem)
    return build_density(builder, problem)


def diffusion_network(problem: Problem | Chain, name: str = "d") -> Network:
    """A network holding the solver of ``problem`` under ``NAME.`` and its probe
    ``field(NAME)``, as the statement ``diffusion NAME (...)`` makes it."""
    net = Network(name)
    build(Builder(net, f"{name}."), problem).probe(net, f"field({name})", problem)
    return net


class DiffusionCircuit:
    """``diffusion NAME (param = value, ...)``: a problem statement that builds its
    solver and probes ``field(NAME)`` (a keyword circuit for the ``.spk`` elaborator)."""

    name = "diffusion"
    params: tuple[str, ...] = ()
    inputs: tuple[tuple[str, int | None], ...] = ()
    outputs: tuple[str, ...] = ("done",)
    array_outputs: tuple[str, ...] = ("done",)
    keyword = True

    def build(self, builder: CircuitBuilder, params: Mapping[str, Any],
              inputs: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
        """Check the problem, build its circuit, probe its field and note the problem."""
        base_dir = getattr(builder, "base_dir", None)
        problem = statement_problem(params, base_dir)
        check_size = getattr(builder, "check_size", None)
        if check_size is not None:  # refuse a solver too large for the limits before building it
            if problem.method == "particle":
                from spikec.circuits._diffusion_particle import particle_resources

                size = particle_resources(problem)
            else:
                size = density_resources(problem)
            check_size(int(size["neurons"]), int(size["synapses"]), f"the {problem.method} solver")
        readout = build(builder, problem)
        path = readout.clocks[0].rsplit(".", 1)[0] if "." in readout.clocks[0] else ""
        readout.probe(builder, f"field({path})" if path else "field", problem)
        return {"done": list(readout.clocks)}


#: The circuits ``import std.diffusion`` adds.
CIRCUITS: dict[str, Any] = {"diffusion": DiffusionCircuit()}
