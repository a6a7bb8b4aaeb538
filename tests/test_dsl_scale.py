"""Large programs elaborate in bulk: sizes and bytes, and refusals before allocating.

These pin what the array IR makes possible (and what the default limits admit)
by the sizes built and the bytes they hold, never by times.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

import spikec
from spikec.dsl import LimitError, Limits, compile_text
from spikec.dsl.elaborate import Elaborator
from spikec.dsl.modules import Module
from spikec.dsl.parser import parse
from spikec.dsl.values import Neurons

#: Bytes a neuron of an array, and a synapse, may cost in the IR (see dsl/limits.py).
NEURON_BYTES = 100
SYNAPSE_BYTES = 28


def bytes_bound(net: spikec.Network) -> int:
    """What the network may hold: per-item costs, up to half again for growth room."""
    return int(1.5 * (NEURON_BYTES * net.num_neurons + SYNAPSE_BYTES * net.num_synapses)) + (1 << 20)


def test_a_nine_million_synapse_all_to_all_passes_the_default_limits() -> None:
    net = compile_text("neuron a[3000]\nneuron b[3000]\na -> b\n")
    assert net.num_synapses == 9_000_000
    assert net.nbytes <= bytes_bound(net)
    pre, post = net.pre, net.post
    assert (int(pre[0]), int(post[0]), int(pre[-1]), int(post[-1])) == (0, 3000, 2999, 5999)
    assert int(post[3001]) == 3001 and int(pre[3001]) == 1  # pre-major, as one at a time


def test_two_million_inputs_and_a_million_poisson_inputs() -> None:
    net = compile_text("input x[1999000]\n")
    assert net.num_neurons == 1_999_000 and int(np.count_nonzero(net.is_input)) == 1_999_000
    assert net.nbytes <= bytes_bound(net)
    net = compile_text("input x[1000000]\nstimulus x = poisson(0.1)\n")
    rates = net.stimulus_rates
    assert int(np.count_nonzero(rates == 0.1)) == 1_000_000
    assert net.nbytes <= bytes_bound(net)


def test_neuron_groups_hold_index_ranges_not_names() -> None:
    module = Module("t.spk", Path("."), "t",
                    parse("neuron x[1000000]\ninput y[5]\nneuron z", "t.spk"))
    net = spikec.Network()
    Elaborator(net, Limits(), {}).run_main(module)
    x, y, z = (module.scope.names[name][0] for name in "xyz")
    assert isinstance(x, Neurons) and x.idx == range(0, 1_000_000) and x.array
    assert isinstance(y, Neurons) and y.idx == range(1_000_000, 1_000_005) and y.is_input
    assert isinstance(z, Neurons) and z.idx == range(1_000_005, 1_000_006) and not z.array


def test_large_probes_keep_their_labels_and_names() -> None:
    net = compile_text("input x[20000]\nneuron y[3]\nx[5..20000] -> y[1]\nprobe x[*], count(x[2..9])\n"
                       "probe y, x[7]\n")
    labels = [(p.label, len(p.neurons), p.array, p.decoder) for p in net.probes]
    assert labels == [("x[*]", 20000, True, None), ("count(x[2..9])", 7, True, "count"),
                      ("y", 3, True, None), ("x[7]", 1, False, None)]
    assert net.probes[0].neurons[:3] == ("x[0]", "x[1]", "x[2]")
    assert net.probes[0].neurons[-1] == "x[19999]"
    assert net.probes[1].neurons == tuple(f"x[{i}]" for i in range(2, 9))


def test_a_loop_of_a_million_iterations_runs_as_arrays() -> None:
    text = ("input x[1000]\nneuron y[1000001]\n"
            "for i in 0..1000000 { x[i % 1000] -> y[i + 1] (weight = 0.5, delay = 1 + i % 3) }\n")
    net = compile_text(text)
    assert net.num_synapses == 1_000_000
    assert net.nbytes <= bytes_bound(net)
    # x[0]'s synapses (iterations 0, 1000, 2000, ...), in the order the iterations add them
    assert net.post[:3].tolist() == [1001, 2001, 3001] and net.delay[:3].tolist() == [1, 2, 3]


def test_the_benchmark_program_is_the_same_with_and_without_arrays() -> None:
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "elaborate_speed.py"
    spec = importlib.util.spec_from_file_location("elaborate_speed", path)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    text = bench.PROGRAM.format(neurons=3000, synapses=30000)
    fast = compile_text(text, fast_loops=True)
    slow = compile_text(text, fast_loops=False)
    assert spikec.format_network(fast) == spikec.format_network(slow)
    for col in ("pre", "post", "weight", "delay"):
        assert np.array_equal(getattr(fast, col), getattr(slow, col)), col


def test_a_loop_bound_of_thousands_of_digits_is_reported_by_its_length() -> None:
    with pytest.raises(LimitError, match=r"at least a 4,302-digit number of synapses, more than the limit"):
        compile_text("neuron y[10]\nfor i in 0.." + "9" * 4300 + " { y -> y }\n")
    with pytest.raises(LimitError, match=r"at least a 1,001-digit number of steps"):
        compile_text("for i in 0..10**1000 { }\n")


def test_an_infeasible_library_circuit_is_refused_with_its_size() -> None:
    with pytest.raises(LimitError, match=r"circuit matmul<256> has 25,755,648 neurons and 2,348,744,704"
                                         r" synapses: 25,886,720 neurons in all would pass the limit of"
                                         r" 20,000,000"):
        compile_text("import std.matmul\ninput a[65536]\ninput b[65536]\nlet m = matmul<256>(a, b)\n")
    with pytest.raises(LimitError, match=r"circuit matmul<102> has 1,664,640 neurons and 64,692,072"
                                         r" synapses: 64,692,072 synapses in all would pass the limit of"
                                         r" 64,000,000"):
        compile_text("import std.matmul\ninput a[10404]\ninput b[10404]\nlet m = matmul<102>(a, b)\n")
    with pytest.raises(LimitError, match=r"circuit grid<4096, 4096> has 16,777,216 neurons and 83,869,696"
                                         r" synapses"):
        compile_text("import std.graph\ninput s[16777216]\nlet g = grid<4096, 4096>(s)\n")
    small = Limits(max_synapses=1000)
    # the second instance: 15 + 25 + 495 synapses made, 495 more would pass 1,000
    with pytest.raises(LimitError, match=r"7:9: error: circuit sort<5, 3> has 85 neurons and 495 synapses:"
                                         r" 1,030 synapses in all would pass the limit of 1,000"):
        compile_text("import std.arith\ninput x[15]\nneuron y\nx -> y\nfor i in 0..25 { x[0] -> y }\n"
                     "let s = sort<5, 3>(x)\nlet t = sort<5, 3>(x)\n", limits=small)


def _matmul_check(name: str, n: int) -> None:
    """Elaborate with the default limits, simulate one product, compare with numpy."""
    params = f"{n}, 1" if name == "matmul_ge" else f"{n}"
    net = compile_text(f"import std.matmul\ninput a[{n * n}]\ninput b[{n * n}]\n"
                       f"let m = {name}<{params}>(a, b)\nprobe m\n")
    assert net.nbytes <= bytes_bound(net)
    rng = np.random.default_rng(n)
    a, b = rng.random((n, n)) < 0.05, rng.random((n, n)) < 0.05
    inputs = {f"a[{i}]": [0] for i in np.flatnonzero(a.ravel())}
    inputs.update({f"b[{i}]": [0] for i in np.flatnonzero(b.ravel())})
    latency = 2 if name == "matmul_ge" else 3
    probe = net.probes[0]
    result = spikec.simulate(net, latency + 1, inputs=inputs, record=list(probe.neurons))
    fired = np.array([result.spikes[neuron][0, latency] for neuron in probe.neurons], dtype=np.int64)
    product = a.astype(np.int64) @ b.astype(np.int64)
    if name == "matmul_ge":
        assert np.array_equal(fired.reshape(n, n), product >= 1)
    else:
        width = n.bit_length()
        assert np.array_equal((fired.reshape(n * n, width) << np.arange(width)).sum(axis=1),
                              product.ravel())


def test_matmul_of_a_size_that_fits_elaborates_and_simulates() -> None:
    _matmul_check("matmul", 24)
    _matmul_check("matmul_ge", 48)


@pytest.mark.slow
def test_matmul_ge_256_and_the_largest_matmul_elaborate_and_simulate() -> None:
    _matmul_check("matmul_ge", 256)  # 17.0 million neurons, 50.3 million synapses
    _matmul_check("matmul", 101)  # 61.8 million synapses; matmul<102> is refused
