"""Partitioning and placement: per-core limits, traffic against the naive
in-order placement, the networkx fallback, one-destination splitting,
axon types, and limit errors that name the core, the value and the limit."""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import spikec
from spikec.chip.placement import (
    assign_axon_types,
    check_core_limits,
    core_limit_violation,
    destinations,
    place_network,
    routing_tables,
    split_destinations,
)
from spikec.chip.stats import network_stats, traffic
from spikec.chip.target import Target, load_target
from spikec.errors import CompileError
from spikec.passes import CompileContext, LimitError, Placement
from strategies_chips import Run, placed_networks, runs, same_spikes


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


# -- the array implementation against straightforward per-synapse oracles ------------------
#
# Each oracle is the pre-array algorithm, written on the networkx view of the network
# (net.graph, whose edge order is built independently of the synapse columns) with a
# {name: core} dict; the arrays must give the same values, the same floats and the same
# first error.


def _core_dict(net: spikec.Network, cores: np.ndarray) -> dict[str, int]:
    return dict(zip(net.names(), cores.tolist(), strict=True))


def _oracle_mesh(a: int, b: int, per_chip: int | None) -> int:
    per = per_chip or max(a, b) + 1
    width = max(1, math.ceil(math.sqrt(per)))
    (ca, la), (cb, lb) = divmod(a, per), divmod(b, per)
    return abs(la % width - lb % width) + abs(la // width - lb // width) + abs(ca - cb)


def _oracle_tables(net: spikec.Network, core: dict[str, int], k: int) -> list[dict[str, list[int]]]:
    remote: dict[str, set[int]] = defaultdict(set)
    for pre, post in net.graph.edges():
        if core[post] != core[pre]:
            remote[pre].add(core[post])
    tables: list[dict[str, list[int]]] = [{} for _ in range(k)]
    for name in net.graph.nodes:
        if name in remote:
            tables[core[name]][name] = sorted(remote[name])
    return tables


def _oracle_stats(net: spikec.Network, core: dict[str, int], k: int, target: Target,
                  activity: Any) -> dict[str, Any]:
    def rate(name: str) -> float:
        return float(activity) if isinstance(activity, float) else float(activity.get(name, 0.0))

    neurons, synapses = [0] * k, [0] * k
    axons: list[set[str]] = [set() for _ in range(k)]
    for c in core.values():
        neurons[c] += 1
    for pre, post in net.graph.edges():
        synapses[core[post]] += 1
        axons[core[post]].add(pre)
    messages = hops = 0.0
    for table in _oracle_tables(net, core, k):
        for name, dests in table.items():
            messages += rate(name) * len(dests)
            hops += rate(name) * sum(_oracle_mesh(core[name], c, target.cores_per_chip) for c in dests)
    lat = target.latency
    per_core = [0.0] * k
    for name, c in core.items():
        per_core[c] += lat.neuron_update + rate(name) * lat.spike
    for pre, post in net.graph.edges():
        per_core[core[post]] += rate(pre) * lat.synaptic_event
    return {"fill": [(c, neurons[c], synapses[c], len(axons[c])) for c in range(k)],
            "spikes": sum(rate(n) for n in net.graph.nodes),
            "events": sum(rate(pre) for pre, _ in net.graph.edges()),
            "messages": messages, "hops": hops,
            "latency": max(per_core, default=0.0) + (messages * lat.message + hops * lat.hop) / k + lat.step}


def _oracle_axon_types(net: spikec.Network, core: dict[str, int],
                       types: int) -> dict[tuple[str, int, int], int]:
    by_axon: dict[tuple[str, int, int], dict[str, float]] = defaultdict(dict)
    for pre, post, data in net.graph.edges(data=True):
        axon = (pre, data["delay"], core[post])
        if post in by_axon[axon]:
            raise LimitError(f"core {axon[2]}: neuron '{post}' has two synapses from axon '{pre}' (delay"
                             f" {data['delay']}); a crossbar holds one")
        by_axon[axon][post] = data["weight"]
    table: dict[str, dict[int, float]] = defaultdict(dict)
    out = {}
    for axon, row in by_axon.items():
        for t in range(types):
            if all(table[post].get(t, w) == w for post, w in row.items()):
                for post, w in row.items():
                    table[post][t] = w
                out[axon] = t
                break
        else:
            raise LimitError(f"core {axon[2]}: axon '{axon[0]}' (delay {axon[1]}) needs more than {types}"
                             " axon types: its weights clash with every type of the neurons it reaches")
    return out


def _oracle_split(net: spikec.Network, core: dict[str, int],
                  limit: int) -> tuple[spikec.Network, dict[str, int]]:
    g = net.graph
    dests: dict[str, set[tuple[int, int]]] = {name: set() for name in g.nodes}
    for pre, post, d in g.edges(data="delay"):
        dests[pre].add((core[post], d))
    owner: dict[tuple[str, tuple[int, int]], str] = {}
    replicas: dict[str, list[str]] = defaultdict(list)
    taken = set(g.nodes)
    for name in g.nodes:
        n = g.nodes[name]["neuron"]
        ordered = sorted(dests[name])
        if n.is_input or len(ordered) <= limit:
            owner.update({(name, grp): name for grp in ordered})
            continue
        if n.p < 1.0:
            raise CompileError(f"neuron '{name}': sends to {len(ordered)} (core, delay) destinations but the"
                               f" target allows {limit}; a stochastic neuron cannot be replicated exactly")
        for i, grp in enumerate(ordered):
            rep = name
            if i >= limit:
                rep = f"{name}~dest[{i}]"
                while rep in taken:
                    rep += "'"
                taken.add(rep)
                replicas[name].append(rep)
            owner[(name, grp)] = rep
    out = spikec.Network(net.name)
    new_core = dict(core)
    for n in net.neurons():
        if n.is_input:
            out.input(n.name, loc=n.loc, tags=n.tags)
        else:
            out.neuron(n.name, n.threshold, n.decay, n.reset, n.bias, n.p, n.v0, loc=n.loc, tags=n.tags)
    for name in g.nodes:
        n = g.nodes[name]["neuron"]
        for rep in replicas[name]:
            out.neuron(rep, n.threshold, n.decay, n.reset, n.bias, n.p, n.v0, loc=n.loc,
                       tags=n.tags | {"spikec.replica"})
            new_core[rep] = core[name]
    for a, b, data in g.edges(data=True):
        for copy in [b, *replicas[b]]:
            out.synapse(owner[(a, (core[b], data["delay"]))], copy, data["weight"], data["delay"])
    return out, new_core


def _pairs(net: spikec.Network) -> dict[tuple[str, str], list[tuple[float, int]]]:
    """Each (pre, post) pair's synapses in insertion order (the order the simulator adds them)."""
    out: dict[tuple[str, str], list[tuple[float, int]]] = defaultdict(list)
    for s in net.synapses():
        out[(s.pre, s.post)].append((s.weight, s.delay))
    return dict(out)


LIMITED = Target("limited", chips=2, cores_per_chip=3, neurons_per_core=4, synapses_per_core=9,
                 axons_per_core=5, axon_types=2)


@given(case=placed_networks(), activity=st.one_of(st.floats(0, 1), st.just("map")))
def test_placement_arrays_match_the_per_synapse_oracle(case: tuple, activity: Any) -> None:
    net, cores, k = case
    core = _core_dict(net, cores)
    placement = Placement(cores, k, net)
    assert placement == Placement(core, k) and placement.core == core
    assert np.array_equal(Placement(dict(reversed(core.items())), k).core_array(net), cores)
    assert routing_tables(net, placement) == _oracle_tables(net, core, k)
    expected_dests: dict[str, set[tuple[int, int]]] = {n: set() for n in net}
    for pre, post, d in net.graph.edges(data="delay"):
        expected_dests[pre].add((core[post], d))
    assert destinations(net, placement) == expected_dests
    for types in (1, 2, 3):
        try:
            expected: Any = _oracle_axon_types(net, core, types)
        except LimitError as exc:
            expected = exc.message
        try:
            got: Any = assign_axon_types(net, placement, types)
            assert list(got.items()) == list(expected.items())
        except LimitError as exc:
            assert exc.message == expected
    rng = np.random.default_rng(len(net))
    rates = ({n: float(r) for n, r in zip(net, rng.random(len(net)), strict=True) if r > 0.2}
             if activity == "map" else activity)
    for target in (load_target("loihi"), load_target("truenorth"), Target("any")):
        st_ = network_stats(net, placement, target, rates)
        want = _oracle_stats(net, core, k, target, rates)
        assert [(f.core, f.neurons, f.synapses, f.axons) for f in st_.fill] == want["fill"]
        assert (st_.spikes_per_step, st_.synaptic_events_per_step, st_.messages_per_step, st_.hops_per_step,
                st_.latency_per_step) == (want["spikes"], want["events"], want["messages"], want["hops"],
                                          want["latency"])
        assert traffic(net, placement, rates, target.cores_per_chip) == (want["messages"], want["hops"])
    violation = core_limit_violation(net, placement, LIMITED)
    counts = want["fill"]
    for what, col, limit in (("neurons", 1, 4), ("synapses", 2, 9), ("axons", 3, 5)):
        over = [row for row in counts if row[col] > limit]
        if over:
            c = over[0]
            assert violation == f"core {c[0]}: {c[col]:,} {what} exceed the {limit:,} per core"
            break
    else:
        try:
            _oracle_axon_types(net, core, 2)
            assert violation is None
        except LimitError as exc:
            assert violation == exc.message


@given(case=placed_networks(), limit=st.integers(1, 2))
def test_split_destinations_matches_the_per_synapse_oracle(case: tuple, limit: int) -> None:
    net, cores, k = case
    core = _core_dict(net, cores)
    placement = Placement(cores, k, net)
    before = net.copy()
    try:
        expected, expected_core = _oracle_split(net, core, limit)
    except CompileError as exc:
        with pytest.raises(CompileError) as info:
            split_destinations(net, placement, None, limit)
        assert info.value.message == exc.message
        assert net == before and placement.core == core  # nothing changed
        return
    ctx = CompileContext(Target("x"))
    added = split_destinations(net, placement, ctx, limit)
    assert net == expected and _pairs(net) == _pairs(expected)
    assert placement.core == expected_core and added == len(expected) - len(before)
    assert ctx.added == set(expected.names()) - set(before.names())
    placement.check(net)


def test_placement_checks_name_the_neuron() -> None:
    net = spikec.Network()
    net.input("x")
    net.neuron("y")
    with pytest.raises(CompileError, match=r"^error: neuron 'y' is not placed on any core$"):
        Placement({"x": 0}, 1).check(net)
    with pytest.raises(CompileError, match=r"^error: placement names neuron 'z', which is not in the"):
        Placement({"x": 0, "y": 0, "z": 0}, 1).check(net)
    with pytest.raises(CompileError, match=r"^error: neuron 'y' is placed on core 2, outside 0..1$"):
        Placement(np.array([0, 2]), 2, net).check(net)
    with pytest.raises(CompileError, match=r"^error: neuron 'y' is not placed on any core$"):
        Placement(np.array([0]), 1, net).check(net)
    placement = Placement({"y": 1, "x": 0}, 2)
    assert placement.neurons_of() == [["x"], ["y"]] and placement.format() == "core 0: x\ncore 1: y\n"
    assert Placement(np.array([1, 1]), 3, net).format() == "core 0: -\ncore 1: x, y\ncore 2: -\n"
