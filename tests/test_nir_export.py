"""NIR export: graph structure, refusals, exact parameters, and identical spikes under an
independent interpreter of NIR's discrete equations (``docs/nir.md``) and in a real consumer
(Norse's NIR reader)."""

from __future__ import annotations

import graphlib
import json
import re
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import spikec
from spikec.backends.nir_export import NirExportError, emit_nir, layers_of, network_to_nir, write_nir
from spikec.ir.analysis import scale_for

nir = pytest.importorskip("nir")


# --- an interpreter of the discrete NIR semantics, written from the equations -----------------

def nir_run(graph: Any, raster: np.ndarray, dt: float = 1.0) -> dict[str, np.ndarray]:
    """Run ``graph`` for ``len(raster)`` steps with ``raster[k]`` as the Input's value at step k;
    returns the spikes (steps, size) of every IF/LIF node. float64, forward Euler at ``dt``:

    - Affine ``W x + b``, Linear ``W x``, Output ``x``: instantaneous (same step);
    - Delay(tau): ``y_k = x_{k - tau/dt}`` (0 before the start);
    - IF: ``v_k = v_{k-1} + dt*R*I_k``; LIF: ``v_k = v_{k-1} + (dt/tau)*(v_leak - v_{k-1} + R*I_k)``;
      ``z_k = [v_k > v_threshold]``, ``v_k = v_reset`` where ``z_k``; ``v_{-1} = 0``.

    A node's input is the sum of its sources' outputs. Only Delay nodes break cycles (a
    Delay-free cycle is an error here: spikec's full export never writes one).
    """
    nodes, steps = graph.nodes, len(raster)
    sources: dict[str, list[str]] = {name: [] for name in nodes}
    for u, v in graph.edges:
        sources[v].append(u)
    delays = [name for name, node in nodes.items() if isinstance(node, nir.Delay)]
    order = list(graphlib.TopologicalSorter(
        {name: [u for u in sources[name] if u not in delays] for name in nodes}).static_order())
    shift = {}
    for name in delays:
        k = np.asarray(nodes[name].delay, dtype=np.float64) / dt
        assert np.allclose(k, np.rint(k), rtol=1e-9, atol=0) and (np.rint(k) >= 1).all(), name
        shift[name] = np.rint(k).astype(np.int64)
    history = {name: np.zeros((steps, len(shift[name]))) for name in delays}
    potential = {name: np.zeros(np.shape(node.v_threshold)) for name, node in nodes.items()
                 if isinstance(node, (nir.IF, nir.LIF))}
    spikes = {name: np.zeros((steps, len(v)), dtype=bool) for name, v in potential.items()}
    for k in range(steps):
        value: dict[str, np.ndarray] = {}
        for name in delays:  # a Delay's output only depends on the past
            back = k - shift[name]
            past = history[name][np.clip(back, 0, None), np.arange(len(back))]
            value[name] = np.where(back >= 0, past, 0.0)
        for name in order:
            node = nodes[name]
            if isinstance(node, nir.Delay):
                continue
            x = np.asarray(raster[k], dtype=np.float64) if isinstance(node, nir.Input) else \
                sum((value[u] for u in sources[name]), np.zeros(1))
            if isinstance(node, nir.Affine):
                value[name] = node.weight @ x + node.bias
            elif isinstance(node, nir.Linear):
                value[name] = node.weight @ x
            elif isinstance(node, (nir.Input, nir.Output)):
                value[name] = x
            elif isinstance(node, (nir.IF, nir.LIF)):
                v = potential[name]
                if isinstance(node, nir.IF):
                    v = v + dt * node.r * x
                else:
                    v = v + (dt / node.tau) * (node.v_leak - v + node.r * x)
                z = v > node.v_threshold
                potential[name] = np.where(z, node.v_reset, v)
                spikes[name][k] = z
                value[name] = z.astype(np.float64)
            else:
                raise AssertionError(f"interpreter: node kind {type(node).__name__}")
        for name in delays:
            history[name][k] = sum((value[u] for u in sources[name]), np.zeros(1))
    return spikes


def compare_full(net: spikec.Network, steps: int, raster: np.ndarray, dt: float = 1.0) -> None:
    """The full export under :func:`nir_run` spikes exactly as spikec's simulator, every neuron,
    every step (the export's metadata says which NIR element is which neuron)."""
    graph = network_to_nir(net, dt=dt)
    inputs = net.names(net.input_indices())
    ref = spikec.simulate(net, steps, inputs={x: np.flatnonzero(raster[:, i]).tolist()
                                              for i, x in enumerate(inputs)}, record=net.names())
    got = nir_run(graph, raster, dt)
    meta = json.loads(graph.metadata["spikec"])
    assert meta["dt"] == dt and meta["inputs"] == inputs
    seen = []
    for pop, names in meta["populations"].items():
        expected = np.array([ref.spikes[x][0] for x in names]).T
        assert np.array_equal(got[pop], expected), (pop, names, describe(net))
        seen += names
    assert sorted(seen) == sorted(net.names(np.flatnonzero(~net.is_input)))


def describe(net: spikec.Network) -> str:
    """The network's neurons and synapses, for failure messages."""
    return "; ".join([repr(x) for x in net.neurons()] + [repr(x) for x in net.synapses()])


# --- the issue's example ----------------------------------------------------------------------

def leaky_example() -> spikec.Network:
    net = spikec.Network("leaky")
    net.input("x")
    net.neuron("n", threshold=2.0, decay=0.5)
    net.synapse("x", "n", 1.0)
    return net


def test_interpreter_shows_the_old_leaky_export_fires_early() -> None:
    """Hand-computed: the earlier export (Linear -> Delay(1) -> LIF with tau 2, r 2, v_threshold 1.5)
    of ``x -> n`` (weight 1, threshold 2, decay 1/2), x every step, has v = 0, 1, 1.5, 1.75 ->
    fires at 3 (v > 1.5), resets to 0, then 1, 1.5, 1.75 -> fires at 6, as the issue says.
    spikec's potential 1, 1.5, 1.75, ... (2 - 2**-t) does not reach 2 in a short run."""
    old = nir.NIRGraph(nodes={"input": nir.Input(input_type={"input": np.array([1])}),
                              "w": nir.Linear(weight=np.ones((1, 1))),
                              "d": nir.Delay(delay=np.ones(1)),
                              "n": nir.LIF(tau=np.array([2.0]), r=np.array([2.0]), v_leak=np.zeros(1),
                                           v_threshold=np.array([1.5]), v_reset=np.zeros(1)),
                              "output": nir.Output(output_type={"output": np.array([1])})},
                       edges=[("input", "w"), ("w", "d"), ("d", "n"), ("n", "output")])
    assert np.flatnonzero(nir_run(old, np.ones((8, 1)))["n"][:, 0]).tolist() == [3, 6]
    assert spikec.simulate(leaky_example(), 40, inputs={"x": list(range(40))}).spike_times("n") == [[]]


def test_issue_leaky_example_is_exact() -> None:
    net = leaky_example()
    pop = network_to_nir(net).nodes["neurons_lif"]
    assert pop.tau.tolist() == [2.0] and pop.r.tolist() == [2.0]
    assert pop.v_threshold.tolist() == [np.nextafter(2.0, -np.inf)]
    compare_full(net, 40, np.ones((40, 1), dtype=bool))
    net.update("n", threshold=1.75)  # now reached exactly at step 2 (1, 1.5, 1.75)
    compare_full(net, 40, np.ones((40, 1), dtype=bool))


# --- structure and parameters -----------------------------------------------------------------

def test_full_export_keeps_delays_as_delay_nodes() -> None:
    net = spikec.Network()
    net.input("x")
    net.neuron("a", threshold=1.5, reset=0.5)
    net.neuron("b", threshold=2)
    net.neuron("c", threshold=1, decay=0.25, reset=1.5, bias=0.25)
    net.synapse("x", "a", 0.5, 1)
    net.synapse("a", "b", 1.0, 3)
    net.synapse("b", "a", -1.0, 3)
    net.synapse("a", "c", 2.0, 2)
    g = network_to_nir(net)
    assert sorted(g.nodes) == sorted([
        "input", "neurons_if", "neurons_lif", "output_if", "output_lif", "bias_neurons_if",
        "bias_neurons_lif", "w_input_neurons_if_d1", "delay_input_neurons_if_d1",
        "w_neurons_if_neurons_if_d3", "delay_neurons_if_neurons_if_d3", "w_neurons_if_neurons_lif_d2",
        "delay_neurons_if_neurons_lif_d2"])
    assert ("w_neurons_if_neurons_if_d3", "delay_neurons_if_neurons_if_d3") in g.edges
    assert ("delay_neurons_if_neurons_if_d3", "neurons_if") in g.edges
    pop = g.nodes["neurons_if"]
    assert isinstance(pop, nir.IF) and pop.r.tolist() == [1.0, 1.0]
    assert pop.v_threshold.tolist() == [2.5, 1.5]  # a scaled by 2 (3 - 1/2), b by 1 (2 - 1/2)
    assert pop.v_reset.tolist() == [1.0, 0.0]
    assert g.nodes["w_neurons_if_neurons_if_d3"].weight.tolist() == [[0.0, -2.0], [1.0, 0.0]]
    assert g.nodes["delay_neurons_if_neurons_if_d3"].delay.tolist() == [3.0, 3.0]
    lif = g.nodes["neurons_lif"]
    assert lif.tau.tolist() == [4.0] and lif.r.tolist() == [4.0] and lif.v_leak.tolist() == [0.0]
    assert lif.v_reset.tolist() == [2.0]  # (1 - 1/4) * 2 == 1.5: NIR leaks it on the next step
    assert lif.v_threshold.tolist() == [np.nextafter(1.0, -np.inf)]
    assert g.nodes["bias_neurons_lif"].bias.tolist() == [0.25]
    assert g.nodes["bias_neurons_lif"].weight.tolist() == [[0.0]]
    assert json.loads(g.metadata["spikec"])["populations"] == {"neurons_if": ["a", "b"], "neurons_lif": ["c"]}


def test_dt_goes_into_taus_delays_and_metadata(tmp_path: Path) -> None:
    net = spikec.Network()
    net.input("x")
    net.neuron("a", decay=0.5, threshold=1.5)
    net.neuron("b", decay=1.0)
    net.neuron("c", threshold=2.0, bias=0.5)
    net.synapse("x", "a", 1.0, 2)
    net.synapse("a", "b", 1.0, 1)
    net.synapse("b", "c", 1.0, 3)
    net.synapse("c", "a", 1.0, 4)
    dt = 1e-3
    write_nir(tmp_path / "g.nir", net, dt=dt)
    g = nir.read(str(tmp_path / "g.nir"))
    lif, iff = g.nodes["neurons_lif"], g.nodes["neurons_if"]
    assert [dt / t for t in lif.tau.tolist()] == [0.5, 1.0] and lif.tau.tolist()[1] == dt
    assert (dt / lif.tau * lif.r).tolist() == [1.0, 1.0] and (dt * iff.r).tolist() == [1.0]
    assert g.nodes["delay_input_neurons_lif_d2"].delay.tolist() == [2 * dt, 2 * dt]
    assert g.nodes["delay_neurons_if_neurons_lif_d4"].delay.tolist() == [4 * dt, 4 * dt]
    assert json.loads(g.metadata["spikec"])["dt"] == dt
    rng = np.random.default_rng(1)
    compare_full(net, 30, rng.random((30, 1)) < 0.5, dt=dt)


def test_emit_nir_writes_the_full_export_at_dt_1(tmp_path: Path) -> None:
    net = leaky_example()
    assert emit_nir(tmp_path / "n.nir", net) == [str(tmp_path / "n.nir")]
    g = nir.read(str(tmp_path / "n.nir"))
    meta = json.loads(g.metadata["spikec"])
    assert meta["dt"] == 1.0 and not meta["layered"] and "neurons_lif" in g.nodes


def test_a_decay_without_exact_unit_gain_writes_rescaled_weights() -> None:
    """For decay 0.79 no float64 r has 0.79 * r == 1: the weights are written as W / g with the
    gain g = (dt/tau) * r, and g * (W / g) gives back W (what a float64 reader computes)."""
    net = spikec.Network()
    net.input("x")
    net.neuron("n", decay=0.79, threshold=1.25, bias=0.75)
    net.synapse("x", "n", 3.0)
    net.synapse("x", "n", 0.1, 2)
    g = network_to_nir(net)
    lif = g.nodes["neurons_lif"]
    a = 1.0 / lif.tau[0]
    gain = a * lif.r[0]
    assert a == 0.79 and gain != 1.0
    assert gain * g.nodes["w_input_neurons_lif_d1"].weight[0, 0] == 3.0
    assert gain * g.nodes["w_input_neurons_lif_d2"].weight[0, 0] == 0.1
    assert gain * g.nodes["bias_neurons_lif"].bias[0] == 0.75


def test_a_decay_like_three_quarters_is_written_scaled_by_it() -> None:
    """1 / 0.75 is not dyadic (a reader's r * I would round): r = 1, the weights and bias as they
    are, the potential scaled by 0.75 (threshold, reset); a power-of-two decay keeps r = 1/a."""
    net = spikec.Network()
    net.input("x")
    net.neuron("n", decay=0.75, threshold=3.5, reset=0.5, bias=0.25)
    net.neuron("m", decay=0.25, threshold=3.5)
    net.synapse("x", "n", 2.0)
    net.synapse("x", "m", 1.5)
    g = network_to_nir(net)
    lif = g.nodes["neurons_lif"]
    assert lif.r.tolist() == [1.0, 4.0] and (1.0 / lif.tau).tolist() == [0.75, 0.25]
    assert lif.v_threshold.tolist() == [np.nextafter(0.75 * 3.5, -np.inf), np.nextafter(3.5, -np.inf)]
    assert lif.v_reset.tolist() == [0.75 * 0.5 / 0.25, 0.0]
    assert g.nodes["w_input_neurons_lif_d1"].weight.tolist() == [[2.0], [1.5]]
    assert g.nodes["bias_neurons_lif"].bias.tolist() == [0.25, 0.0]


def test_reset_of_leaky_neurons_exports_exactly() -> None:
    """(1 - decay) * v_reset == reset in float64, also for decays where reset / (1 - decay)
    is rounded (neighbours are tried); the pairs with no such v_reset are refused."""
    rng = np.random.default_rng(0)
    pairs = list(zip(rng.choice([0.1, 0.2, 0.3, 0.6, 0.7, 0.8, 0.99], 40).tolist(),
                     rng.choice([0.1, 0.3, 1.0, -2.5, 1 / 3, 5.0, 3.0], 40).tolist(), strict=True))
    ok = [(d, r) for d, r in pairs if any((1.0 - d) * v == r for v in _neighbours(r / (1.0 - d)))]
    assert 30 <= len(ok) < len(pairs)
    net = spikec.Network()
    net.input("x")
    idx = net.add_neurons("n", len(ok), decay=[d for d, _ in ok], reset=[r for _, r in ok])
    net.add_synapses(["x"] * len(ok), idx)
    lif = network_to_nir(net).nodes["neurons_lif"]
    a = 1.0 / lif.tau
    assert a.tolist() == [d for d, _ in ok]
    assert ((1.0 - a) * lif.v_reset).tolist() == [r for _, r in ok]
    d, r = next(p for p in pairs if p not in ok)
    net.update("n[0]", decay=d, reset=r)
    with pytest.raises(NirExportError, match=r"^error: neuron 'n\[0\]': no float64 v_reset gives"):
        network_to_nir(net)


def _neighbours(x: float, k: int = 4) -> list[float]:
    out, lo, hi = [x], x, x
    for _ in range(k):
        lo, hi = float(np.nextafter(lo, -np.inf)), float(np.nextafter(hi, np.inf))
        out += [lo, hi]
    return out


# --- refusals ---------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"p": 0.5}, r"^error: neuron 'a': NIR has no stochastic neurons \(p = 0.5\); only p = 1 exports$"),
        ({"v0": 1.0}, r"^error: neuron 'a': NIR has no initial potential \(v0 = 1\)$"),
        ({"decay": 1.0, "reset": 1.0}, r"^error: neuron 'a': decay 1 is a LIF with tau = dt, whose potential"
                                       r" Euler clears each step, so only reset 0 is exact \(reset = 1\)$"),
        ({"decay": 0.9}, r"^error: neuron 'a': no float64 tau gives dt/tau == decay \(0.9\) exactly at"
                         r" dt = 1.0$"),
        ({"decay": 0.3, "reset": 3.0}, r"^error: neuron 'a': no float64 v_reset gives \(1 - decay\) \*"
                                       r" v_reset == reset \(3.0\) exactly \(decay 0.3\)$"),
        ({"threshold": -1.7976931348623157e308, "decay": 0.5},
         r"^error: neuron 'a': its values are past the float range in NIR's form$"),
    ],
)
def test_refusals(kw: dict, message: str) -> None:
    net = spikec.Network()
    net.input("x")
    net.neuron("ok", decay=0.5)
    net.neuron("a", **kw)
    net.synapse("x", "a")
    with pytest.raises(NirExportError, match=message):
        network_to_nir(net)


def test_dt_must_be_positive() -> None:
    for dt in (0.0, -1.0, float("inf"), float("nan")):
        with pytest.raises(NirExportError, match=r"^error: NIR export: dt must be a positive finite number"):
            network_to_nir(leaky_example(), dt=dt)


def test_a_network_of_inputs_only_is_refused() -> None:
    net = spikec.Network()
    net.input("x")
    with pytest.raises(NirExportError, match=r"^error: NIR export: the network has no non-input neurons$"):
        network_to_nir(net)


def test_layered_export_needs_layers(tmp_path: Path) -> None:
    net = feedforward(0)
    assert [len(layer) for layer in layers_of(net)] == [3, 2]
    write_nir(tmp_path / "ff.nir", net, layered=True)
    g = nir.read(str(tmp_path / "ff.nir"))
    assert {"input", "affine1", "layer1", "affine2", "layer2", "output"} == set(g.nodes)
    assert json.loads(g.metadata["spikec"])["populations"] == {"layer1": ["l1[0]", "l1[1]", "l1[2]"],
                                                               "layer2": ["l2[0]", "l2[1]"]}
    net.update("l1[0]", bias=1.0)
    with pytest.raises(NirExportError, match=r"^error: layered NIR export: neuron 'l1\[0\]' has a bias"):
        network_to_nir(net, layered=True)
    net.update("l1[0]", bias=0.0, decay=0.0 if net["l1[1]"].decay != 0.0 else 0.5)  # IF among LIF
    with pytest.raises(NirExportError, match=r"^error: layered NIR export: neuron 'l1\[\d\]' has decay"):
        network_to_nir(net, layered=True)
    net.synapse("x[0]", "l2[0]")
    with pytest.raises(
        NirExportError,
        match=r"^error: layered NIR export: synapse x\[0\] -> l2\[0\] \(delay 1\)"
        r" does not go from one layer to the next",
    ):
        layers_of(net)


def test_layered_export_has_unit_r_and_checks_its_weights() -> None:
    """r = 1 (Norse ignores r): the weights are W / a, and a * (W / a) == W is checked."""
    net = spikec.Network()
    net.input("x")
    net.neuron("n", decay=0.25, threshold=1.0)
    net.synapse("x", "n", 3.0)
    g = network_to_nir(net, layered=True)
    assert g.nodes["layer1"].r.tolist() == [1.0] and g.nodes["affine1"].weight.tolist() == [[12.0]]
    net.update("n", decay=0.7)  # no float64 w has 0.7 * w == 3.0
    with pytest.raises(NirExportError, match=r"^error: neuron 'n': its weights or bias are not exactly"
                       r" expressible at the gain \(dt/tau\) \* r = 0.7 of its NIR node$"):
        network_to_nir(net, layered=True)
    assert network_to_nir(net).nodes["neurons_lif"].r[0] * 0.7 == 1.0  # the full export: unit gain


# --- identical spikes under the NIR equations -------------------------------------------------

def feedforward(
    seed: int, sizes: tuple[int, ...] = (4, 3, 2), decays: tuple[float, ...] = (0.0, 1.0),
    thresholds: tuple[float, ...] = (1.0, 2.0, 3.0),
) -> spikec.Network:
    """A layered network (delay-1 synapses between consecutive layers), one decay per layer."""
    rng = np.random.default_rng(seed)
    net = spikec.Network("ff")
    prev = [net.input(f"x[{i}]") for i in range(sizes[0])]
    for k, size in enumerate(sizes[1:], start=1):
        decay = float(rng.choice(decays))
        layer = [net.neuron(f"l{k}[{i}]", threshold=float(rng.choice(thresholds)), decay=decay)
                 for i in range(size)]
        for post in layer:
            first = int(rng.integers(0, len(prev)))
            for j, pre in enumerate(prev):
                if j == first or rng.random() < 0.8:
                    net.synapse(pre, post, weight=float(rng.integers(-1, 3)))
        prev = layer
    return net


# dyadic values keep every sum exact in float64 for these short runs, whatever the order of the
# additions (the export's arithmetic and spikec's differ in order, not in value)
_DECAYS = [0.0, 0.25, 0.5, 0.5, 0.75, 1.0]


@st.composite
def exportable_networks(draw: st.DrawFn, max_neurons: int = 6, leaky: bool = False) -> spikec.Network:
    """Random deterministic networks NIR expresses: resets, biases, recurrence (self loops
    included), multi-edges and several delays, dyadic values."""
    net = spikec.Network("random")
    inputs = [net.input(f"x[{i}]") for i in range(draw(st.integers(1, 3)))]
    names = []
    for i in range(draw(st.integers(1, max_neurons))):
        decay = draw(st.sampled_from([d for d in _DECAYS if d > 0] if leaky else _DECAYS))
        reset = 0.0 if decay == 1.0 else draw(st.sampled_from([0.0, 0.0, 1.0, -1.0, 2.0])) * (1.0 - decay)
        names.append(net.neuron(f"n{i}", threshold=draw(st.integers(-1, 8).map(lambda k: k / 2)), decay=decay,
                                reset=reset, bias=draw(st.sampled_from([0.0, 0.0, 0.0, 0.25, -0.5, 1.0]))))
    for _ in range(draw(st.integers(1, 4 * len(names)))):
        net.synapse(draw(st.sampled_from(inputs + names)), draw(st.sampled_from(names)),
                    weight=draw(st.integers(-4, 8).map(lambda k: k / 2)), delay=draw(st.integers(1, 3)))
    return net


def raster_for(net: spikec.Network, steps: int, seed: int, rate: float = 0.4) -> np.ndarray:
    return np.random.default_rng(seed).random((steps, len(net.input_indices()))) < rate


@settings(max_examples=25, deadline=None)
@given(net=exportable_networks(leaky=True), seed=st.integers(0, 2**16))
def test_random_leaky_networks_spike_as_the_nir_equations(net: spikec.Network, seed: int) -> None:
    compare_full(net, 24, raster_for(net, 24, seed))


@settings(max_examples=25, deadline=None)
@given(net=exportable_networks(), seed=st.integers(0, 2**16))
def test_random_networks_spike_as_the_nir_equations(net: spikec.Network, seed: int) -> None:
    compare_full(net, 24, raster_for(net, 24, seed))


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**16), sizes=st.lists(st.integers(1, 5), min_size=2, max_size=4))
def test_layered_export_spikes_as_the_nir_equations(seed: int, sizes: list[int]) -> None:
    """Layer k spikes in the NIR step k before spikec's (the layered form's timing)."""
    net = feedforward(seed, tuple(sizes), decays=(0.0, 0.25, 0.5, 1.0), thresholds=(0.5, 1.0, 1.75, 2.0))
    steps = 20
    raster = raster_for(net, steps, seed)
    ref = spikec.simulate(net, steps + len(sizes), inputs={f"x[{i}]": np.flatnonzero(raster[:, i]).tolist()
                                                           for i in range(sizes[0])}, record=net.names())
    got = nir_run(network_to_nir(net, layered=True), raster)
    for k, layer in enumerate(layers_of(net), start=1):
        expected = np.array([ref.spikes[name][0][k:k + steps] for name in layer]).T
        assert np.array_equal(got[f"layer{k}"], expected), k


@pytest.mark.parametrize("name", ["majority", "ripple_adder", "pipelined_adder", "coincidence"])
def test_examples_spike_as_the_nir_equations(name: str) -> None:
    from spikec.dsl import compile_file

    net = compile_file(Path(__file__).parent.parent / "examples" / f"{name}.spk")
    compare_full(net, 30, raster_for(net, 30, 7, rate=0.3))


# --- Norse reads the layered export -----------------------------------------------------------

def run_norse(graph: object, inputs: np.ndarray) -> np.ndarray:
    """Step Norse's module of a NIR graph; returns output spikes (steps, n).

    Skips the calling test (only) when torch or Norse is not installed.
    """
    torch = pytest.importorskip("torch")
    norse_torch = pytest.importorskip("norse.torch")
    module = norse_torch.from_nir(graph, dt=1.0, ignore_warnings=True)
    state = None
    out = []
    for t in range(inputs.shape[0]):
        z, state = module(torch.tensor(inputs[t], dtype=torch.float32), state)
        out.append(z.detach().numpy().copy())
    return np.array(out) > 0


def check_norse(net: spikec.Network, sizes: list[int], seed: int, steps: int = 30) -> None:
    depth = len(sizes) - 1
    raster = np.random.default_rng(seed).random((steps, sizes[0])) < 0.4
    inputs = {f"x[{i}]": np.flatnonzero(raster[:, i]).tolist() for i in range(sizes[0])}
    last = layers_of(net)[-1]
    ref = spikec.simulate(net, steps + depth, inputs=inputs, record=last)
    got = run_norse(network_to_nir(net, layered=True), raster.astype(np.float32))
    # Norse evaluates a layer in the step its input arrives: layer k is k steps early.
    expected = np.array([ref.spikes[name][0][depth:] for name in last]).T
    assert np.array_equal(got, expected)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**16), sizes=st.lists(st.integers(1, 5), min_size=2, max_size=4))
def test_norse_runs_layered_circuits_with_identical_spikes(seed: int, sizes: list[int]) -> None:
    check_norse(feedforward(seed, tuple(sizes)), sizes, seed)


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**16), sizes=st.lists(st.integers(1, 5), min_size=2, max_size=3))
def test_norse_runs_leaky_layers_with_identical_spikes(seed: int, sizes: list[int]) -> None:
    """Leaky layers (decays 1/2, 1/4: r = 1, weights W / a; 3/4: scaled by a) with thresholds
    off the potentials' dyadic values, so that Norse's float32 comparison cannot meet a
    potential equal to it."""
    net = feedforward(seed, tuple(sizes), decays=(0.5, 0.25, 0.75, 1.0), thresholds=(0.3, 1.3, 1.7, 2.6))
    check_norse(net, sizes, seed)


def test_norse_float32_misses_a_leaky_potential_equal_to_the_threshold() -> None:
    """The documented float32 deviation: a leaky neuron's threshold is nextafter(2, -inf) in
    float64 (exact there); Norse reads it as float32 2.0, and v = 2 > 2 is false."""
    net = spikec.Network()
    net.input("x[0]")
    net.neuron("n", threshold=2.0, decay=0.5)
    net.synapse("x[0]", "n", 2.0)
    raster = np.array([[1.0], [0.0]])
    assert spikec.simulate(net, 2, inputs={"x[0]": [0]}).spike_times("n") == [[0 + 1]]
    assert nir_run(network_to_nir(net, layered=True), raster)["layer1"][:, 0].tolist() == [True, False]
    assert run_norse(network_to_nir(net, layered=True), raster.astype(np.float32))[:, 0].tolist() == [False,
                                                                                                         False]


# --- the integer scaling ----------------------------------------------------------------------

def fraction_oracle(net: spikec.Network) -> dict[str, Fraction | None]:
    """Each neuron's integer scale the plain way (per neuron, with fractions) when it is on the
    integer grid (decay 0 or 1 and every scaled value below 2**24), else None."""
    incoming: dict[str, list[float]] = {n: [] for n in net.names()}
    for s in net.synapses():
        incoming[s.post].append(s.weight)
    scales: dict[str, Fraction | None] = {}
    for n in net.neurons():
        if n.is_input:
            continue
        values = incoming[n.name] + [n.threshold, n.reset, n.bias]
        scale = scale_for(values)
        on_grid = n.decay in (0.0, 1.0) and all(abs(Fraction(x) * scale) < 2**24 for x in values)
        scales[n.name] = scale if on_grid else None
    return scales


# mostly values that scale to small integers, now and then ones that cannot (0.1 = m / 2**55
# with a 52-bit odd m: an exact integer scale makes it too large for float32)
_SMALL = [0.0, 1.0, -2.0, 0.5, 3.0, 12.0, 0.375, -1.25, 2.0**-12, 6.0e3, 0.75, -0.25]
_LARGE = [0.1, 1 / 3, 1e-3, 2.0**-30, 6.0e5, 2.0**23, 1e30, 5e-324]
odd_values = st.sampled_from(_SMALL * 12 + _LARGE)
oracle_decays = st.sampled_from([0.0] * 4 + [1.0, 0.5])


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_integer_scaling_matches_fractions(data: st.DataObject) -> None:
    """Integer-grid neurons are written scaled (as scale_for computes with fractions) with
    threshold - 1/2; the others unscaled with nextafter(threshold, -inf)."""
    net = spikec.Network("scaled")
    n_in = data.draw(st.integers(0, 3))
    n = data.draw(st.integers(1, 5))
    names = [net.input(f"x[{i}]") for i in range(n_in)]
    for i in range(n):
        decay = data.draw(oracle_decays)
        reset = 0.0 if decay == 1.0 else data.draw(odd_values)
        names.append(net.neuron(f"n{i}", threshold=data.draw(odd_values), decay=decay, reset=reset,
                                bias=data.draw(odd_values)))
    for _ in range(data.draw(st.integers(0, 12))):
        post = data.draw(st.sampled_from(names[n_in:]))
        net.synapse(data.draw(st.sampled_from(names)), post, data.draw(odd_values),
                    data.draw(st.integers(1, 3)))
    scales = fraction_oracle(net)
    try:
        g = network_to_nir(net)
    except NirExportError as exc:  # only the leaky reset can fail for these values
        assert re.match(r"^error: neuron 'n\d': no float64 v_reset gives", str(exc)), str(exc)
        return
    meta = json.loads(g.metadata["spikec"])
    where = {name: (pop, i) for pop, names in meta["populations"].items() for i, name in enumerate(names)}
    for x in (x for x in net.neurons() if not x.is_input):
        pop, i = where[x.name]
        node = g.nodes[pop]
        scale = scales[x.name]
        if scale is None:
            assert node.v_threshold[i] == np.nextafter(x.threshold, -np.inf)
        else:
            assert node.v_threshold[i] == float(Fraction(x.threshold) * scale) - 0.5
            assert node.v_reset[i] == float(Fraction(x.reset) * scale)
            assert g.nodes[f"bias_{pop}"].bias[i] == float(Fraction(x.bias) * scale)
    expected: dict[tuple[str, str, int], dict[tuple[int, int], list[Fraction]]] = {}
    for s in net.synapses():
        src = ("input", net.inputs().index(s.pre)) if s.pre in net.inputs() else where[s.pre]
        dst = where[s.post]
        scale = scales[s.post]
        w = Fraction(s.weight) * (scale if scale is not None else 1)
        cell = expected.setdefault((src[0], dst[0], s.delay), {})
        cell.setdefault((dst[1], src[1]), []).append(w)
    assert sorted(k for k in g.nodes if k.startswith("w_")) == sorted(f"w_{a}_{b}_d{d}"
                                                                       for a, b, d in expected)
    for (a, b, d), cells in expected.items():
        w = g.nodes[f"w_{a}_{b}_d{d}"].weight
        assert np.count_nonzero(w) == sum(sum(v) != 0 for v in cells.values())
        for (i, j), values in cells.items():  # the gain is 1 here (dt = 1, decays 0, 1/2, 1)
            if len(values) == 1:  # exact; parallel synapses are one float sum
                assert Fraction(w[i, j]) == values[0], (a, b, d)
            else:
                assert np.isclose(w[i, j], float(sum(values)), rtol=1e-15, atol=0), (a, b, d)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**16), st.lists(st.integers(1, 4), min_size=2, max_size=5))
def test_layers_match_a_topological_walk(seed: int, sizes: list[int]) -> None:
    """Layers from the vectorized longest-path walk equal networkx's, on layered networks
    and on the same networks with one extra synapse (often a skip or a cycle)."""
    import networkx as nx

    net = feedforward(seed, tuple(sizes))
    rng = np.random.default_rng(seed)
    for extra in (False, True):
        if extra:
            names = net.names()
            net.synapse(names[int(rng.integers(len(names)))],
                        net.names(np.flatnonzero(~net.is_input))[int(rng.integers(sum(sizes[1:])))])
        graph = net.graph
        if not nx.is_directed_acyclic_graph(graph):
            with pytest.raises(NirExportError, match="has a cycle"):
                layers_of(net)
            continue
        depth = {x: 0 for x in net.inputs()}
        for x in nx.topological_sort(graph):
            if x not in depth:
                depth[x] = 1 + max((depth[p] for p in graph.predecessors(x)), default=0)
        ok = all(d == 1 and depth[b] == depth[a] + 1 for a, b, d in graph.edges(data="delay"))
        if not ok:
            with pytest.raises(NirExportError, match="does not go from one layer to the next"):
                layers_of(net)
            continue
        cells = [x for x in net.names() if x not in net.inputs()]
        expected = [[x for x in cells if depth[x] == k] for k in range(1, max(depth[x] for x in cells) + 1)]
        assert layers_of(net) == expected
