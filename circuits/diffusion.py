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

**Particle** (``method = "particle"``): one small circuit per walker that
holds its position (see :mod:`spikec.circuits._diffusion_particle`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from spikec.diffusion.problem import Problem, Readout, problem_from_params
from spikec.ir.builder import Builder, CircuitBuilder
from spikec.ir.network import Network

__all__ = ["CIRCUITS", "build_density", "density_resources", "build", "diffusion_network",
           "DiffusionCircuit"]


def _start_delay(routes: Sequence[Sequence[tuple[float, int | None]]]) -> int:
    """Steps from a supervisor spike to the test of the counters it starts: the most
    routing gates of a node (the last walker's arrivals land by then), at least 1."""
    return max(1, max((len(gates) for gates in routes), default=0))


def build_density(builder: CircuitBuilder, problem: Problem) -> Readout:
    """Add the density-method circuit of ``problem`` through ``builder`` (module docstring)."""
    n = problem.nodes
    counts = problem.initial.reshape(-1)
    routes = [problem.routing(i) for i in range(n)]
    d1 = _start_delay(routes)
    index = [",".join(str(int(i)) for i in np.unravel_index(node, problem.shape)) for node in range(n)]
    done = [builder.neuron(f"done[{b}]", threshold=float(n), decay=0.0, reset=0.0,
                           v0=float(n) if b == 1 else 0.0) for b in (0, 1)]
    c = [[builder.neuron(f"c{b}[{index[i]}]", threshold=1.0, decay=0.0, reset=-1.0,
                         v0=-float(counts[i]) if b == 0 else 0.0) for i in range(n)] for b in (0, 1)]
    g = [[builder.neuron(f"g{b}[{index[i]}]", threshold=1.0, decay=1.0) for i in range(n)] for b in (0, 1)]
    for b in (0, 1):
        start = done[1 - b]  # the other bank's supervisor starts this bank's phase
        other = c[1 - b]
        for i in range(n):
            ci, gi = c[b][i], g[b][i]
            builder.synapse(start, ci, 1.0, d1)        # test: fires now if the bank is empty
            builder.synapse(start, ci, 1.0, d1 + 1)    # compensation, one step later
            builder.synapse(start, gi, 1.0, d1 + 1)    # start releasing
            builder.synapse(gi, gi, 1.0, 1)            # keep releasing
            builder.synapse(ci, gi, -1.0, 1)           # until the counter is empty
            builder.synapse(gi, ci, 1.0, 1)            # one walker fewer held
            builder.synapse(ci, done[b], 1.0, 1)       # this node is done
            builder.synapse(gi, other[i], -1.0, 1)     # the walker stays unless a gate fires
            fired: list[str] = []
            for j, (q, dest) in enumerate(routes[i]):
                gate = builder.neuron(f"r{b}[{index[i]}][{j}]", threshold=1.0, decay=1.0, p=q)
                builder.synapse(gi, gate, 1.0, j + 1)
                for k, earlier in enumerate(fired):
                    builder.synapse(earlier, gate, -1.0, j - k)
                builder.synapse(gate, other[i], 1.0, 1)  # it did not stay
                if dest is not None:
                    builder.synapse(gate, other[dest], -1.0, 1)  # it arrived there
                fired.append(gate)
    return Readout(
        clocks=tuple(done), counted=tuple(g[0] + g[1]), nodes=tuple(list(range(n)) * 2),
        shape=problem.shape, steps_hint=_density_steps_hint(problem, d1),
    )


def _density_steps_hint(problem: Problem, d1: int) -> int:
    """Neural steps expected to finish model steps 0..steps: per model step d1 + 1 plus
    the most walkers at one node, estimated from the exact mean with 5 standard
    deviations of margin (the solver runs longer if a trial needs it)."""
    mean = problem.exact_mean().reshape(problem.steps + 1, -1)
    busiest = mean.max(axis=1)
    margin = np.ceil(busiest + 5 * np.sqrt(busiest) + 2)
    return int(d1 + np.sum(d1 + 1 + np.minimum(margin, problem.walkers))) + d1 + 2


def density_resources(problem: Problem) -> dict[str, Any]:
    """Neurons and synapses of the density circuit by formula, and its neural steps per
    model step as a function of the busiest node's walkers ``n_max``."""
    n = problem.nodes
    routes = [problem.routing(i) for i in range(n)]
    gates = [len(r) for r in routes]
    k = sum(gates)
    per_bank_node = 8  # 3 from the supervisor, self, stop, release count, done, stay
    # each gate: input from g, its own give-back, the arrival (not for a loss), and one
    # inhibition from each earlier gate
    synapses = 2 * (per_bank_node * n + 3 * k + sum(j * (j - 1) // 2 for j in gates))
    lost = sum(1 for r in routes for _, dest in r if dest is None)
    synapses -= 2 * lost
    d1 = _start_delay(routes)
    return {
        "neurons": 2 * (2 * n + k) + 2,
        "synapses": synapses,
        "neurons_per_node": (2 * (2 * n + k) + 2) / n,
        "synapses_per_node": synapses / n,
        "gates_per_node": max(gates, default=0),
        "neural_steps_per_model_step": f"n_max + {d1 + 1}",
        "fixed_steps_per_model_step": d1 + 1,
    }


def build(builder: CircuitBuilder, problem: Problem) -> Readout:
    """The solver circuit of ``problem.method``."""
    if problem.method == "particle":
        from spikec.circuits._diffusion_particle import build_particle

        return build_particle(builder, problem)
    return build_density(builder, problem)


def diffusion_network(problem: Problem, name: str = "d") -> Network:
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
        problem = problem_from_params(params, base_dir)
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
