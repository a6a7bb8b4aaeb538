"""Static facts about a network, computed from its graph alone."""

from __future__ import annotations

import networkx as nx

from spikec.network import Network

__all__ = ["input_latency"]


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
