"""spikec -> NIR -> spikec: every network spikec exports re-imports (spikec's own NIR importer)
to a network with identical spikes, every neuron, every step: the examples and random networks,
the full export and the layered one."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_nir_export import exportable_networks, feedforward

import spikec
from spikec.backends.nir_export import NirExportError, write_nir
from spikec.dsl import compile_file

nir = pytest.importorskip("nir")

EXAMPLES = Path(__file__).parent.parent / "examples"
PROGRAMS = sorted(EXAMPLES.glob("*.spk"))
# examples that must be refused (checked below against the network itself)
REFUSED = {"diffusion.spk", "stochastic.spk"}

def imported_arrays(model: Any, populations: list[str]) -> dict[str, str]:
    """Each exported population's array name in ``model.network()``: the importer's
    ``arrays`` (a general graph), or the layer names of a layered chain."""
    arrays = getattr(model, "arrays", None)
    if arrays is not None:
        return {pop: arrays[pop] for pop in populations}
    return {pop: model.local_name(i) for i, pop in enumerate(populations)}


def roundtrip(net: spikec.Network, tmp: Path, steps: int, raster: np.ndarray, layered: bool = False) -> None:
    """Export ``net``, import the file, run both on ``raster`` (steps x inputs) and compare
    the spikes of every non-input neuron at every step."""
    path = tmp / "net.nir"
    write_nir(path, net, layered=layered)
    meta = json.loads(nir.read(str(path)).metadata["spikec"])
    model = spikec.import_model(path)
    if not layered and hasattr(model, "shifts"):  # every path has a Delay: NIR step = spikec step
        pops = list(meta["populations"])
        assert {pop: model.shifts[pop] for pop in pops} == dict.fromkeys(pops, 0)
    back = model.network()
    inputs = meta["inputs"]
    assert len(back.input_indices()) == len(inputs)
    ref = spikec.simulate(net, steps, inputs={x: np.flatnonzero(raster[:, i]).tolist()
                                              for i, x in enumerate(inputs)}, record=net.names())
    got = spikec.simulate(back, steps, inputs={f"x[{i}]": np.flatnonzero(raster[:, i]).tolist()
                                               for i in range(len(inputs))}, record=back.names())
    arrays = imported_arrays(model, list(meta["populations"]))
    checked = 0
    for pop, names in meta["populations"].items():
        for i, name in enumerate(names):
            assert got.spike_times(f"{arrays[pop]}[{i}]") == ref.spike_times(name), (pop, name)
            checked += 1
    assert checked == int((~net.is_input).sum())


@pytest.mark.parametrize("path", PROGRAMS, ids=[p.name for p in PROGRAMS])
def test_every_example_roundtrips_or_is_refused_by_name(path: Path, tmp_path: Path) -> None:
    net = compile_file(path)
    cells = ~net.is_input
    stochastic, v0 = np.flatnonzero(cells & (net.p != 1.0)), np.flatnonzero(cells & (net.v0 != 0.0))
    assert (path.name in REFUSED) <= bool(len(stochastic) or len(v0))
    if len(stochastic) or len(v0):  # NIR has neither: refused, naming the first such neuron
        first = int(min(np.concatenate([stochastic, v0])))
        what = "p" if first in stochastic else "v0"
        with pytest.raises(NirExportError, match=rf"^error: neuron '{re.escape(net.name_of(first))}': NIR has"
                                                 rf" no .*\({what} = "):
            write_nir(tmp_path / "x.nir", net)
        assert not (tmp_path / "x.nir").exists()
        return
    n_in = len(net.input_indices())
    raster = np.random.default_rng(3).random((30, n_in)) < 0.3
    roundtrip(net, tmp_path, 30, raster)


def test_a_one_neuron_population_with_a_self_loop_roundtrips(tmp_path: Path) -> None:
    """A population of one neuron (size-1 NIR parameters) fed by itself through a Delay."""
    net = spikec.Network()
    net.input("x")
    net.neuron("n", threshold=2.0)
    net.synapse("x", "n")
    net.synapse("n", "n")
    roundtrip(net, tmp_path, 10, np.ones((10, 1), dtype=bool))


@settings(max_examples=30, deadline=None)
@given(net=exportable_networks(), seed=st.integers(0, 2**16))
def test_random_networks_roundtrip(tmp_path_factory: pytest.TempPathFactory, net: spikec.Network,
                                   seed: int) -> None:
    raster = np.random.default_rng(seed).random((24, len(net.input_indices()))) < 0.4
    roundtrip(net, tmp_path_factory.mktemp("rt"), 24, raster)


# decays that are not dyadic (0.79: no float64 r gives 0.79 * r == 1, so the weights are W / g)
_REAL_DECAYS = [0.1, 0.3, 1 / 3, 0.79, 0.6]


@st.composite
def real_decay_networks(draw: st.DrawFn) -> spikec.Network:
    """Leaky networks with non-dyadic decays and resets (dyadic weights keep the sums exact)."""
    net = spikec.Network("real")
    inputs = [net.input(f"x[{i}]") for i in range(draw(st.integers(1, 3)))]
    names = []
    for i in range(draw(st.integers(1, 5))):
        decay = draw(st.sampled_from(_REAL_DECAYS))
        names.append(net.neuron(f"n{i}", threshold=draw(st.integers(1, 6).map(lambda k: k / 2)), decay=decay,
                                reset=draw(st.sampled_from([0.0, 1.0, -0.5])) * (1.0 - decay),
                                bias=draw(st.sampled_from([0.0, 0.0, 0.25]))))
    for _ in range(draw(st.integers(1, 3 * len(names)))):
        net.synapse(draw(st.sampled_from(inputs + names)), draw(st.sampled_from(names)),
                    weight=draw(st.integers(-2, 6).map(lambda k: k / 2)), delay=draw(st.integers(1, 3)))
    return net


@settings(max_examples=20, deadline=None)
@given(net=real_decay_networks(), seed=st.integers(0, 2**16))
def test_networks_with_real_decays_roundtrip(tmp_path_factory: pytest.TempPathFactory, net: spikec.Network,
                                             seed: int) -> None:
    raster = np.random.default_rng(seed).random((30, len(net.input_indices()))) < 0.5
    roundtrip(net, tmp_path_factory.mktemp("rt"), 30, raster)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**16), sizes=st.lists(st.integers(1, 4), min_size=2, max_size=4))
def test_layered_export_roundtrips(tmp_path_factory: pytest.TempPathFactory, seed: int,
                                   sizes: list[int]) -> None:
    net = feedforward(seed, tuple(sizes), decays=(0.0, 0.5, 0.25, 1.0), thresholds=(0.5, 1.0, 1.75, 2.0))
    raster = np.random.default_rng(seed).random((20, sizes[0])) < 0.4
    roundtrip(net, tmp_path_factory.mktemp("rt"), 20, raster, layered=True)
