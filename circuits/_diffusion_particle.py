"""The particle method of ``std.diffusion``: one small spiking circuit per random walker.

Each walker of a :class:`~spikec.diffusion.Problem` gets its own circuit, a
one-hot register over the mesh nodes with a tiny router at every node; one
shared clock neuron marks the model steps. A model step takes ``D`` neural
steps, ``D = 1 + k_max`` where ``k_max`` is the most outcomes of one node
(``Problem.outcomes``: a move to a neighbour, or a loss by killing or an
absorbing wall; at most 2 per axis plus 1), so ``D`` is at most 4 in 1D and
6 in 2D (3 and 5 without killing). Window m covers neural steps ``[m D, (m + 1) D)``.

Per walker and node n (all neurons are memoryless gates, ``decay = 1``,
``threshold = 1``, ``reset = 0``):

- ``pos[n]`` fires at the first step of window m exactly when the walker is
  at node n in model step m. The start node has ``v0 = 1``, so it fires at
  step 0. Its inputs, all landing at step ``(m + 1) D``: itself (+1, delay
  ``D``: the walker stays), each of its own routing gates (-1: it did not
  stay), and each routing gate of another node whose destination is n (+1).
- ``move[n][j]``, one stochastic gate per outcome j of node n, with
  ``p = q_j = P_j / (P_stay + P_j + P_j+1 + ...)``, the probability of
  outcome j given that no earlier outcome happened. It hears ``pos[n]``
  after ``j + 1`` steps and is inhibited (-1) by every earlier gate i of the
  node with delay ``j - i``, so all these inputs meet at step ``m D + 1 + j``
  and it fires only if no earlier gate did. Then exactly one gate fires with
  probability ``P_j`` (the product of the conditionals), and none with
  probability ``P_stay``. A gate's synapses to ``pos[n]`` (-1) and to
  ``pos[dest]`` (+1) have delay ``D - 1 - j`` so they land at ``(m + 1) D``.

Why it is exact: by induction on m, at most one ``pos`` neuron of a walker
fires in window m, at its first step, and no other neuron of the walker is
active in the window except the gates of that node. So at step ``(m + 1) D``
the input of ``pos[n']`` is ``[n' = n] (1 - [a gate fired]) + [the fired
gate leads to n']`` with n the current node: 1 exactly on the node the
chosen outcome leads to (n itself when no gate fired), 0 elsewhere, and 0
everywhere after a loss (the loss gate only inhibits). Outcomes are merged
per destination by the problem, so one gate reaches a given node. Every
gate draws afresh at each step (docs/semantics.md), so each walker makes an
independent step of the Markov chain with exactly the problem's
probabilities, up to the float64 rounding of ``q_j``. A lost walker is
silent forever. The clock (``v0 = 1`` and a self-synapse of delay ``D``)
fires at 0, D, 2 D, ...; model steps 0..M need ``M + 2`` clock spikes, so
``(M + 1) D + 1`` neural steps, exactly.

Cost per walker: ``nodes + K`` neurons, where ``K`` is the number of
outcomes summed over the nodes (2 per node inside a 1D mesh, 4 in 2D, one
more with killing), and per node ``1 + 3 k + k (k - 1) / 2`` synapses less
one for a loss outcome. A walker step costs two spikes (its position and at
most one gate) and ``O(k)`` synaptic events, whatever the mesh size.

Routing every node's walker through its own gates costs ``k`` neurons per
node; one shared chain of direction gates per walker would be cheaper but
cannot be joined to a one-hot position by one neuron per node: the sum
``pos[n] + dir[j] >= 2`` over all (n, j) that lead to a node also fires for
the crossed pairs (a walker left of n' drawing "-x" and the pairs it meets).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from spikec.diffusion.problem import Problem, Readout
from spikec.ir.builder import CircuitBuilder

__all__ = ["build_particle", "particle_resources"]


def _routes(problem: Problem) -> list[list[tuple[float, int | None]]]:
    """Per node, its routing gates ``(q_j, destination or None for a loss)``."""
    return [problem.routing(node) for node in range(problem.nodes)]


def _window(routes: list[list[tuple[float, int | None]]]) -> int:
    """Neural steps per model step: one for the position, one per gate of the
    busiest node (the last gate's output still needs a delay of 1)."""
    return 1 + max((len(gates) for gates in routes), default=0)


def _labels(problem: Problem) -> list[str]:
    """Each node's mesh index as written in neuron names: ``i`` or ``i,j``."""
    if problem.ndim == 1:
        return [str(i) for i in range(problem.nodes)]
    ny = problem.shape[1]
    return [f"{node // ny},{node % ny}" for node in range(problem.nodes)]


def build_particle(builder: CircuitBuilder, problem: Problem) -> Readout:
    """Add the particle-method circuit of ``problem`` through ``builder`` (see the
    module docstring) and return its readout: the clock, then every walker's
    ``pos`` neurons (``walker[w].pos[i]`` or ``walker[w].pos[i,j]``), with an
    exact number of neural steps."""
    routes = _routes(problem)
    window = _window(routes)
    labels = _labels(problem)
    n = problem.nodes
    clock = builder.neuron("clock", threshold=1.0, decay=1.0, v0=1.0)
    builder.synapse(clock, clock, 1.0, window)
    starts = np.repeat(np.arange(n), problem.initial.reshape(-1))
    counted: list[str] = []
    for walker, start in enumerate(starts.tolist()):
        prefix = f"walker[{walker}]."
        pos = [builder.neuron(f"{prefix}pos[{label}]", threshold=1.0, decay=1.0, v0=float(node == start))
               for node, label in enumerate(labels)]
        counted.extend(pos)
        for node in range(n):
            here = pos[node]
            builder.synapse(here, here, 1.0, window)  # stays unless a gate fires
            earlier_gates: list[str] = []
            for j, (q, dest) in enumerate(routes[node]):
                gate = builder.neuron(f"{prefix}move[{labels[node]}][{j}]", threshold=1.0, decay=1.0, p=q)
                builder.synapse(here, gate, 1.0, j + 1)
                for i, earlier in enumerate(earlier_gates):
                    builder.synapse(earlier, gate, -1.0, j - i)
                late = window - 1 - j
                builder.synapse(gate, here, -1.0, late)
                if dest is not None:
                    builder.synapse(gate, pos[dest], 1.0, late)
                earlier_gates.append(gate)
    return Readout(
        clocks=(clock,), counted=tuple(counted), nodes=tuple(np.tile(np.arange(n), len(starts)).tolist()),
        shape=problem.shape, steps_hint=(problem.steps + 1) * window + 1, steps_exact=True,
    )


def particle_resources(problem: Problem) -> dict[str, Any]:
    """Neurons, synapses and neural steps of the particle circuit of ``problem``, by
    formula (without building it)."""
    routes = _routes(problem)
    window = _window(routes)
    walkers = problem.walkers
    gates = [len(node) for node in routes]
    losses = sum(1 for node in routes for _, dest in node if dest is None)
    k = sum(gates)
    per_walker_neurons = problem.nodes + k
    # per node: the self-synapse; per gate: its input, its inhibition of the own
    # position, its arrival (none for a loss); per pair of gates: one inhibition
    per_walker_synapses = problem.nodes + 3 * k - losses + sum(g * (g - 1) // 2 for g in gates)
    return {
        "neurons": 1 + walkers * per_walker_neurons,
        "synapses": 1 + walkers * per_walker_synapses,
        "neurons_per_walker": per_walker_neurons,
        "synapses_per_walker": per_walker_synapses,
        "neurons_per_node": per_walker_neurons / problem.nodes,
        "synapses_per_node": per_walker_synapses / problem.nodes,
        "gates_per_node": max(gates, default=0),
        "neural_steps_per_model_step": window,
        "neural_steps": (problem.steps + 1) * window + 1,
    }
