"""Partitioning and placement: per-core limits, traffic against the naive
in-order placement, the networkx fallback, one-destination splitting,
axon types, and limit errors that name the core, the value and the limit."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given

import spikec
from spikec.chip.placement import (
    assign_axon_types,
    check_core_limits,
    place_network,
    routing_tables,
    split_destinations,
)
from spikec.chip.stats import network_stats, traffic
from spikec.chip.target import Target, load_target
from spikec.passes import CompileContext, LimitError, Placement
from strategies_chips import Run, runs, same_spikes


def clustered(groups: int = 8, size: int = 30, seed: int = 0) -> spikec.Network:
    """Dense clusters joined by a few synapses, listed in interleaved order (bad for in-order placement)."""
    rng = np.random.default_rng(seed)
    net = spikec.Network("clusters")
    for i in range(size):
        for g in range(groups):
            net.neuron(f"g{g}[{i}]", decay=1)
    for g in range(groups):
        for _ in range(size * 4):
            a, b = rng.integers(0, size, 2)
            net.synapse(f"g{g}[{a}]", f"g{g}[{b}]")
        net.synapse(f"g{g}[0]", f"g{(g + 1) % groups}[0]")
    return net


SMALL = Target("small", cores_per_chip=64, neurons_per_core=32, synapses_per_core=400)


@pytest.mark.parametrize("method", ["auto", "kl"])
def test_partitioner_beats_in_order_placement(method: str) -> None:
    net = clustered()
    good = place_network(net, SMALL, method=method)
    naive = place_network(net, SMALL, method="inorder")
    check_core_limits(net, good, SMALL)
    assert traffic(net, good)[0] * 5 < traffic(net, naive)[0]


def test_placement_uses_as_few_cores_as_the_limits_allow() -> None:
    net = clustered()
    placement = place_network(net, SMALL)
    assert 8 <= placement.num_cores <= 10
    assert sorted(set(placement.core.values())) == list(range(placement.num_cores))
    fill = network_stats(net, placement, SMALL).fill
    assert all(f.neurons <= 32 and f.synapses <= 400 for f in fill)


def test_limit_errors_name_core_value_and_limit() -> None:
    net = spikec.Network()
    for i in range(1204):
        net.neuron(f"n{i}")
    with pytest.raises(LimitError, match=r"^error: core 0: 1,204 neurons exceed the 1,024 per core$"):
        place_network(net, load_target("loihi"), cores=1)
    tiny = Target("tiny", cores_per_chip=1, neurons_per_core=1024)
    with pytest.raises(
        LimitError,
        match=r"^error: network: 1,204 neurons and 0 synapses need at least 2 cores;"
        r" target 'tiny' has 1$",
    ):
        place_network(net, tiny)


def test_axon_limit_and_axon_types() -> None:
    net = spikec.Network()
    for i in range(5):
        net.input(f"x{i}")
    net.neuron("y")
    for i in range(5):
        net.synapse(f"x{i}", "y", weight=float(i))
    placement = Placement({name: 0 for name in net.graph.nodes}, 1)
    with pytest.raises(LimitError, match=r"^error: core 0: 5 axons exceed the 4 per core$"):
        check_core_limits(net, placement, Target("a", axons_per_core=4))
    with pytest.raises(
        LimitError, match=r"^error: core 0: axon 'x4' \(delay 1\) needs more than 4 axon types"
    ):
        assign_axon_types(net, placement, 4)
    assert set(assign_axon_types(net, placement, 5).values()) == {0, 1, 2, 3, 4}


def test_routing_tables_list_remote_cores() -> None:
    net = spikec.Network()
    net.input("x")
    net.neuron("a")
    net.neuron("b")
    net.synapse("x", "a")
    net.synapse("x", "b")
    tables = routing_tables(net, Placement({"x": 0, "a": 0, "b": 1}, 2))
    assert tables == [{"x": [1]}, {}]


TN_SMALL = Target(
    "tn-small", cores_per_chip=16, neurons_per_core=6, dest_cores_per_neuron=1, stochastic=False
)


@given(run=runs(max_neurons=7))
def test_split_destinations_keeps_spikes_and_leaves_one_destination(run: Run) -> None:
    assume(all(n.p == 1.0 for n in run.net.neurons()))
    net = run.net.copy()
    placement = place_network(net, Target("x", cores_per_chip=16, neurons_per_core=3), method="inorder")
    ctx = CompileContext(TN_SMALL)
    split_destinations(net, placement, ctx)
    for name in net.graph.nodes:
        if not net[name].is_input:
            dests = {(placement.core[post], d) for _, post, d in net.graph.out_edges(name, data="delay")}
            assert len(dests) <= 1
    names = [n.name for n in run.net.neurons()]
    a = spikec.simulate(run.net, run.steps, inputs=run.inputs, record=names)
    b = spikec.simulate(net, run.steps, inputs=run.inputs, record=names)
    assert same_spikes(a, b, names) == []


def test_stats_energy_uses_the_target_costs() -> None:
    net = clustered(groups=2, size=10)
    target = load_target("loihi")
    placement = place_network(net, target)
    st = network_stats(net, placement, target, activity=1.0)
    e = target.energy
    assert st.spikes_per_step == 20 and st.synaptic_events_per_step == net.num_synapses
    expected = 20 * e.spike + net.num_synapses * e.synaptic_event + 20 * e.neuron_update
    assert st.energy_per_step == pytest.approx(
        expected + st.messages_per_step * e.message + st.hops_per_step * e.hop
    )
