"""Networks of ``benchmarks/pipeline.py``: the bulk-API builders, the scaling rows'
locally wired networks, the generated ``.spk`` programs, and a structural check.

Every function takes or returns ``sim_throughput``'s :class:`NetSpec` arrays (integrators
first, inputs last), so the same spec reaches spikec's routes and the peers.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Any

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sim_throughput as st  # noqa: E402  (the sibling script: the network spec)

#: Synapses per neuron of the scaling rows: 128,000 neurons at 100 M synapses.
SYNAPSES_PER_NEURON = 781.25
#: Scaling rows: presynaptic neurons are drawn from this many neurons around the target, so a
#: core of 1,024 neighbouring neurons reads at most 2,048 axons (Loihi: 4,096), with slack for
#: a partition that is not quite contiguous (METIS fragments wider bands: 2,048 did not fit).
BAND = 1024
#: The hash of the loops program: multipliers modulo a prime (Park-Miller style).
PRIME = 2**31 - 1
MULT = {"post": 1583458089, "weight": 784588716, "delay": 1291394886, "v0": 1207960800}
#: Half-width of the loops program's weights in units of 2^-16 (uniform, sd 0.02).
HALF_W = 2271


# ---------------------------------------------------------------------------
# Building the network


def sparse_classes(spec: st.NetSpec) -> list[tuple[int, Any]]:
    """The synapses of ``spec`` as ``(delay, csr_matrix)`` classes of shape
    (neurons, cells), no two synapses of a class on one (pre, post) pair: class
    (r, d) holds the r-th copy of every (pre, post, delay = d) triple."""
    import scipy.sparse as sp

    m, n, nc = len(spec.pre), spec.neurons, spec.n_cells
    key = (spec.pre * nc + spec.post) * st.MAX_DELAY + (spec.delay - 1)
    order = np.argsort(key, kind="stable")
    sk = key[order]
    del key
    new = np.ones(m, dtype=bool)
    np.not_equal(sk[1:], sk[:-1], out=new[1:])
    del sk
    idx = np.arange(m)
    rank = np.empty(m, dtype=np.int64)
    rank[order] = idx - np.maximum.accumulate(np.where(new, idx, 0))
    del order, new, idx
    group = rank * st.MAX_DELAY + (spec.delay - 1)
    del rank
    by_group = np.argsort(group, kind="stable")  # stays grouped by pre within a class
    bounds = np.flatnonzero(np.diff(group[by_group])) + 1
    out = []
    for sel in np.split(by_group, bounds):
        if not len(sel):
            continue
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(spec.pre[sel], minlength=n), out=indptr[1:])
        mat = sp.csr_matrix((spec.weight[sel], spec.post[sel].astype(np.int32), indptr), shape=(n, nc))
        out.append((int(spec.delay[sel[0]]), mat))
    return out


def build_api(classes: Sequence[tuple[int, Any]], n_cells: int, n_inputs: int, v0: np.ndarray,
              bias: float) -> Any:
    """The network through the bulk API; ends with the synapses grouped (a column read)."""
    import spikec

    net = spikec.Network("pipeline")
    cells = net.add_neurons("n", n_cells, bias=bias, v0=v0)
    ins = net.add_inputs("in", n_inputs)
    pre = np.concatenate([cells, ins])
    for delay, mat in classes:
        net.connect(pre, cells, mat, delay=delay)
    net.pre  # noqa: B018  (first read of a synapse column: regroups by presynaptic neuron)
    return net


def scaling_network(cfg: st.BenchConfig) -> st.NetSpec:
    """A network of ``sim_throughput``'s kind (parameters, weights, 1% inputs, uniformly random
    targets) wired locally: the presynaptic neuron of a synapse into neuron j is uniform among
    the :data:`BAND` neurons around j (all of them if fewer), and each neuron sends all its
    spikes with one delay (uniform in 1..8), so 1,024 consecutive neurons draw on at most
    1,024 + BAND (source, delay) axons, within Loihi's 4,096 per core. (Uniformly random
    wiring would need every source on every core: no per-core axon limit could hold it.)"""
    rng = np.random.default_rng(np.random.SeedSequence(cfg.seed, spawn_key=(2,)))
    n, nc, m = cfg.neurons, cfg.n_cells, cfg.synapses
    post = rng.integers(0, nc, m)
    if n <= BAND:
        pre = rng.integers(0, n, m)
    else:
        pre = rng.integers(-(BAND // 2), BAND - BAND // 2, m)
        pre += post
        pre %= n
    weight = st._quantize(rng.normal(0.0, st.WEIGHT_SD, m))
    delay = rng.integers(1, st.MAX_DELAY + 1, n)[pre]
    v0 = st._quantize(rng.random(nc))
    order = np.argsort(pre, kind="stable")  # grouped by presynaptic neuron, one column at a time
    pre = pre[order]
    post = post[order]
    weight = weight[order]
    delay = delay[order]
    return st.NetSpec(nc, cfg.n_inputs, pre, post, weight, delay, v0, st.BIAS)


def build_pairs(spec: st.NetSpec) -> Any:
    """The network through the bulk API with one ``add_synapses`` call on index arrays."""
    import spikec

    net = spikec.Network("pipeline")
    net.add_neurons("n", spec.n_cells, bias=spec.bias, v0=spec.v0)
    net.add_inputs("in", spec.n_inputs)
    net.add_synapses(spec.pre, spec.post, spec.weight, spec.delay)
    net.pre  # noqa: B018  (as build_api)
    return net


def spk_loops_spec(cfg: st.BenchConfig, per_neuron_v0: bool = False) -> st.NetSpec:
    """The network of :func:`spk_loops_program`, evaluated with numpy."""
    nc, n = cfg.n_cells, cfg.neurons
    fan = max(1, round(cfg.synapses / n))
    e = np.arange(n * fan, dtype=np.int64)

    def h(what: str, x: np.ndarray) -> np.ndarray:
        return (x * MULT[what]) % PRIME

    weight = (h("weight", e) % (2 * HALF_W + 1) - HALF_W) * st.QUANTUM
    cells = np.arange(nc, dtype=np.int64)
    v0 = (h("v0", cells) % 65536) * st.QUANTUM if per_neuron_v0 else np.zeros(nc)
    return st.NetSpec(nc, cfg.n_inputs, e // fan, h("post", e) % nc, weight, 1 + h("delay", e) % 8, v0,
                      st.BIAS)


def spk_loops_program(cfg: st.BenchConfig, per_neuron_v0: bool = False) -> str:
    """The closest ``.spk`` program to ``cfg``'s network: loops and hashes, no data.

    The integrators are one array ``n[cells]`` starting at potential 0 (an array has one
    value per parameter), so they first fire together and drift apart within ~200 steps
    (the rate then matches the spec's). ``per_neuron_v0`` gives each its own hashed v0
    instead, by making every integrator an instance ``n[i]`` of a one-neuron circuit
    (the ``.spk`` way to vary a parameter per neuron), which the elaborator's array path
    for loops does not take today: one connection at a time, about 30x slower."""
    fan = max(1, round(cfg.synapses / cfg.neurons))
    syn = ("(weight = ((e * {weight}) % P % {w} - {h}) * q, delay = 1 + (e * {delay}) % P % 8)"
           .format(w=2 * HALF_W + 1, h=HALF_W, **MULT))
    bias = f"bias = {round(st.BIAS / st.QUANTUM)} * q"
    v0 = f"v0 = (i * {MULT['v0']}) % P % 65536 * q"
    cells = (f"circuit cell<i>() -> (y) {{\n    neuron y ({bias}, {v0})\n}}\n"
             "for i in 0..cells { let n[i] = cell<i>() }" if per_neuron_v0 else f"neuron n[cells] ({bias})")
    return f"""\
// benchmarks/pipeline.py: {cfg.neurons} neurons, {cfg.neurons * fan} synapses, built with loops
let cells = {cfg.n_cells}
let inputs = {cfg.n_inputs}
let fan = {fan}
let P = {PRIME}
let q = 1 / 65536
{cells}
input x[inputs]
for i in 0..cells {{
    for j in 0..fan {{
        let e = i * fan + j
        n[i] -> n[(e * {MULT["post"]}) % P % cells] {syn}
    }}
}}
for k in 0..inputs {{
    for j in 0..fan {{
        let e = (cells + k) * fan + j
        x[k] -> n[(e * {MULT["post"]}) % P % cells] {syn}
    }}
}}
"""


def spk_explicit_program(spec: st.NetSpec) -> str:
    """``spec`` itself as a ``.spk`` program: one declaration per integrator (its own v0)
    and one statement per synapse; integrator i is ``n{i}``, input k is ``x[k]``."""
    v0 = np.rint(spec.v0 / st.QUANTUM).astype(np.int64).tolist()
    w = np.rint(spec.weight / st.QUANTUM).astype(np.int64).tolist()
    names = np.array([f"n{i}" for i in range(spec.n_cells)] + [f"x[{k}]" for k in range(spec.n_inputs)])
    bias = round(spec.bias / st.QUANTUM)
    lines = ["// benchmarks/pipeline.py: the sim_throughput network, one statement per synapse",
             "let q = 1 / 65536", f"let b = {bias} * q"]
    lines += [f"neuron n{i} (bias = b, v0 = {x} * q)" for i, x in enumerate(v0)]
    lines.append(f"input x[{spec.n_inputs}]")
    lines += [f"{a} -> {b} (weight = {c} * q, delay = {d})" for a, b, c, d in
              zip(names[spec.pre].tolist(), names[spec.post].tolist(), w, spec.delay.tolist(), strict=True)]
    return "\n".join(lines) + "\n"


def same_network(net: Any, spec: st.NetSpec) -> str:
    """``"yes"``, or what differs between ``net`` (cells first, then inputs) and ``spec``."""
    if net.num_neurons != spec.neurons or net.num_synapses != len(spec.pre):
        return f"no: {net.num_neurons} neurons, {net.num_synapses} synapses"
    if not (np.array_equal(net.is_input, np.arange(spec.neurons) >= spec.n_cells)
            and np.array_equal(net.v0[:spec.n_cells], spec.v0)
            and np.all(net.bias[:spec.n_cells] == spec.bias) and np.all(net.threshold == 1.0)
            and np.all(net.decay == 0.0) and np.all(net.reset == 0.0) and np.all(net.p == 1.0)):
        return "no: neuron parameters differ"
    cols = (np.asarray(net.pre), np.asarray(net.post), np.asarray(net.delay), np.asarray(net.weight))
    ref = (spec.pre, spec.post, spec.delay, spec.weight)
    a, b = np.lexsort(cols[::-1]), np.lexsort(ref[::-1])
    same = all(np.array_equal(x[a], y[b]) for x, y in zip(cols, ref, strict=True))
    return "yes" if same else "no: synapses differ"


def save_classes(path: str, spec: st.NetSpec) -> None:
    """Write ``spec`` as :func:`sparse_classes` (one ``.npz``, read by :func:`load_classes`)."""
    v0, bias, nc, ni = spec.v0, spec.bias, spec.n_cells, spec.n_inputs
    classes = sparse_classes(spec)
    del spec
    np.savez(path, v0=v0, bias=bias, n_cells=nc, n_inputs=ni,
             delays=np.array([d for d, _ in classes]),
             indptr=np.stack([m.indptr for _, m in classes]),
             sizes=np.array([m.nnz for _, m in classes]),
             indices=np.concatenate([m.indices for _, m in classes]),
             data=np.concatenate([m.data for _, m in classes]))


def load_classes(path: str) -> tuple[list[tuple[int, Any]], dict[str, Any]]:
    """The classes written by :func:`save_classes` (views of the file's arrays), and the
    neurons' ``v0``, ``bias``, ``n_cells`` and ``n_inputs``."""
    import scipy.sparse as sp

    z = np.load(path)
    nc, ni = int(z["n_cells"]), int(z["n_inputs"])
    ends = np.cumsum(z["sizes"])
    indices, data = z["indices"], z["data"]
    classes = [(int(d), sp.csr_matrix((data[e - s:e], indices[e - s:e], ptr), shape=(nc + ni, nc)))
               for d, s, e, ptr in zip(z["delays"], z["sizes"], ends, z["indptr"], strict=True)]
    return classes, {"v0": z["v0"], "bias": float(z["bias"]), "n_cells": nc, "n_inputs": ni}
