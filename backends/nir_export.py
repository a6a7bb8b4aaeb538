"""NIR export (``pip install nir``) of what NIR can express, with refusals for the rest.

NIR describes continuous-time nodes and leaves the time step to each
consumer. spikec's discrete step maps onto it as forward Euler with the
consumer's ``dt`` equal to one spikec step:

- decay 0 is ``nir.IF`` (``dv/dt = R I``, R = 1): ``v += I`` per step;
- decay ``d`` in (0, 1] is ``nir.LIF`` with ``tau = dt / d``, ``r = 1 / d``,
  ``v_leak = 0``: Euler gives ``v <- (1 - d) v + I``. NIR resets then leaks
  the reset value, as does spikec only when ``reset = 0`` (so 0 < d needs
  reset 0);
- NIR fires on ``v > v_threshold``, spikec on ``v >= threshold``: each
  neuron is scaled to integers (a positive factor, which never changes its
  spikes) and exported with ``threshold - 1/2``; values must stay below
  2**24 so float32 consumers hold them exactly;
- the bias is the bias of an ``Affine`` fed by the inputs with zero weights.

Delays. NIR edges are instantaneous. The full export (``layered=False``)
keeps spikec's timing exactly: for each delay ``d`` the synapses of that
delay form an ``Affine`` followed by ``nir.Delay(d)`` (in steps) into the
neuron population. The layered export (``layered=True``) is for consumers
without ``Delay`` (Norse): a network whose synapses all have delay 1 and go
from one layer to the next becomes Input -> Affine -> IF/LIF -> Affine ->
... -> Output, evaluated by such consumers in one step per time step, so
layer k spikes k steps earlier there than in spikec. (So the layered form
refuses biases: a bias acts in the k steps before a layer's first input.)

Refused: stochastic neurons (p < 1), initial potentials (NIR has no
initial state), leaky neurons with a non-zero reset, values too large for
float32.
"""

from __future__ import annotations

import json
import os
from typing import Any

import numpy as np

from spikec.errors import ExportError
from spikec.ir.files import atomic_path
from spikec.ir.network import Network

#: The name of earlier releases.
NirExportError = ExportError

__all__ = ["NirExportError", "network_to_nir", "layers_of", "write_nir", "emit_nir"]

_F32_EXACT = 2**24


def _nir() -> Any:
    try:
        import nir
    except ImportError:
        raise ExportError("NIR export needs the nir package: pip install nir") from None
    return nir


def _odd_mantissas(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``x = m * 2**e`` exactly, with ``m`` an odd int64 (``m = e = 0`` for ``x = 0``)."""
    f, k = np.frexp(x)  # x = f * 2**k with 0.5 <= |f| < 1: f has at most 53 significant bits
    big = np.ldexp(f, 53).astype(np.int64)
    low = big & -big  # the lowest set bit
    tz = np.where(big != 0, np.frexp(low.astype(np.float64))[1] - 1, 0)
    return big >> tz, np.where(big != 0, k.astype(np.int64) - 53 + tz, 0)


class _Scales:
    """Each neuron's exact integer scale ``2**shift / odd`` (:func:`spikec.ir.analysis.scale_for`
    of its incoming weights, threshold, reset and bias), vectorized over the network.

    A value ``m 2**e`` (m odd) becomes an integer when multiplied by the least common
    multiple of the denominators (a power of two, ``2**D`` with ``D = max(-e)``) over the
    greatest common divisor of the numerators (``G 2**P``, G the gcd of the odd m and
    ``P = min(max(e, 0))``): exactly what ``scale_for`` computes with fractions.
    """

    def __init__(self, net: Network) -> None:
        n = len(net)
        cells = np.flatnonzero(~net.is_input)
        owner = np.concatenate([net.post.astype(np.int64), cells, cells, cells])
        values = np.concatenate([net.weight, net.threshold[cells], net.reset[cells], net.bias[cells]])
        m, e = _odd_mantissas(values)
        nz = m != 0
        owner, m, e = owner[nz], m[nz], e[nz]
        order = np.argsort(owner, kind="stable")
        owner, m, e = owner[order], np.abs(m[order]), e[order]
        self.odd = np.ones(n, dtype=np.int64)
        self.shift = np.zeros(n, dtype=np.int64)
        if len(owner):
            who, starts = np.unique(owner, return_index=True)
            self.odd[who] = np.gcd.reduceat(m, starts)
            denominator = np.maximum.reduceat(np.maximum(-e, 0), starts)
            numerator = np.minimum.reduceat(np.maximum(e, 0), starts)
            self.shift[who] = denominator - numerator

    def scaled(self, values: np.ndarray, owner: np.ndarray) -> np.ndarray:
        """``values[i] * scale[owner[i]]``, exact (an integer as a float; inf past float range)."""
        m, e = _odd_mantissas(np.asarray(values, dtype=np.float64))
        exponent = np.clip(e + self.shift[owner], -4000, 4000).astype(np.int32)
        with np.errstate(over="ignore"):
            return np.ldexp((m // self.odd[owner]).astype(np.float64), exponent)


def _check_neurons(net: Network, scales: _Scales) -> None:
    """Refuse what NIR cannot express exactly, naming the first neuron (network order)."""
    cells = np.flatnonzero(~net.is_input)
    p, v0, decay, reset = net.p[cells], net.v0[cells], net.decay[cells], net.reset[cells]
    big = np.zeros(len(net), dtype=bool)
    for values, owner in ((net.weight, net.post), (net.threshold[cells], cells), (reset, cells),
                          (net.bias[cells], cells)):
        np.logical_or.at(big, owner, np.abs(scales.scaled(values, owner)) >= _F32_EXACT)
    checks = [
        (p != 1.0, lambda k: f"NIR has no stochastic neurons (p = {p[k]:g})"),
        (v0 != 0.0, lambda k: f"NIR has no initial potential (v0 = {v0[k]:g})"),
        ((decay != 0.0) & (reset != 0.0), lambda k: f"NIR leaks the reset value; with decay {decay[k]:g}"
                                                    f" only reset 0 is exact (reset = {reset[k]:g})"),
        (big[cells], lambda k: "its values scaled to integers exceed 2**24, past what float32 consumers"
                               " hold exactly"),
    ]
    bad = np.logical_or.reduce([mask for mask, _ in checks]) if len(cells) else np.zeros(0, dtype=bool)
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        message = next(say for mask, say in checks if mask[k])
        raise ExportError(f"neuron '{net.name_of(int(cells[k]))}': {message(k)}")


def _population(nir: Any, net: Network, idx: np.ndarray, scales: _Scales) -> Any:
    thr = scales.scaled(net.threshold[idx], idx) - 0.5
    reset = scales.scaled(net.reset[idx], idx)
    decay = net.decay[idx]
    if np.all(decay == 0.0):
        return nir.IF(r=np.ones(len(idx)), v_threshold=thr, v_reset=reset)
    if np.any(decay == 0.0):
        raise ExportError("NIR export: a population mixes decay 0 (IF) and leaky neurons;"
                          " NIR's LIF cannot express decay 0 (tau would be infinite)")
    d = np.array(decay, dtype=np.float64)
    return nir.LIF(tau=1.0 / d, r=1.0 / d, v_leak=np.zeros(len(idx)), v_threshold=thr, v_reset=reset)


def _depths(net: Network) -> np.ndarray:
    """Each neuron's layer: 0 for inputs, else 1 + the deepest presynaptic neuron (1 with
    none); a cycle is refused. One numpy round per layer (Kahn's algorithm)."""
    n = len(net)
    indptr, pre, post = net.csr(), net.pre, net.post.astype(np.int64)
    depth = np.where(net.is_input, 0, 1).astype(np.int64)
    waiting = net.in_degree().astype(np.int64)
    frontier = np.flatnonzero(waiting == 0)
    done = 0
    while len(frontier):
        done += len(frontier)
        counts = indptr[frontier + 1] - indptr[frontier]
        first = indptr[frontier] - np.cumsum(counts) + counts
        edges = np.repeat(first, counts) + np.arange(int(counts.sum()))  # the frontier's CSR rows
        np.maximum.at(depth, post[edges], depth[pre[edges]] + 1)
        hit = np.bincount(post[edges], minlength=n)
        waiting -= hit
        frontier = np.flatnonzero((waiting == 0) & (hit > 0))
    if done < n:
        raise ExportError("layered NIR export: the network has a cycle")
    return depth


def _layer_indices(net: Network) -> tuple[list[np.ndarray], np.ndarray]:
    """The layers as index arrays (network order within a layer) and every neuron's depth."""
    depth = _depths(net)
    pre, post, delay = net.pre, net.post, net.delay
    bad = (delay != 1) | (depth[post] != depth[pre] + 1)
    if bad.any():
        s = int(np.flatnonzero(bad)[0])
        a, b = net.name_of(int(pre[s])), net.name_of(int(post[s]))
        raise ExportError(f"layered NIR export: synapse {a} -> {b} (delay {int(delay[s])}) does not go"
                          " from one layer to the next with delay 1")
    cells = np.flatnonzero(~net.is_input)
    count = int(depth[cells].max()) if len(cells) else 0
    order = cells[np.argsort(depth[cells], kind="stable")]
    bounds = np.searchsorted(depth[order], np.arange(1, count + 2))
    return [order[bounds[k]:bounds[k + 1]] for k in range(count)], depth


def layers_of(net: Network) -> list[list[str]]:
    """Layers (lists of non-input neurons in network order) when every synapse has delay 1
    and goes from layer k to layer k + 1 (inputs are layer 0); raises otherwise."""
    return [net.names(layer) for layer in _layer_indices(net)[0]]


def network_to_nir(net: Network, layered: bool = False) -> Any:
    """The ``nir.NIRGraph`` of ``net`` (see the module docstring for the mapping)."""
    nir = _nir()
    scales = _Scales(net)
    _check_neurons(net, scales)
    if layered:
        return _layered(nir, net, scales)
    inputs = net.input_indices()
    cells = np.flatnonzero(~net.is_input)
    column = np.full(len(net), -1, dtype=np.int64)
    column[inputs] = np.arange(len(inputs))
    column[cells] = np.arange(len(cells))
    n_in, n = len(inputs), len(cells)
    nodes: dict[str, Any] = {
        "input": nir.Input(input_type={"input": np.array([n_in])}),
        "neurons": _population(nir, net, cells, scales),
        "output": nir.Output(output_type={"output": np.array([n])}),
        "bias": nir.Affine(weight=np.zeros((n, n_in)), bias=scales.scaled(net.bias[cells], cells)),
    }
    edges = [("input", "bias"), ("bias", "neurons"), ("neurons", "output")]
    pre, post, delay = net.pre, net.post, net.delay
    weight = scales.scaled(net.weight, post)
    from_input = net.is_input[pre]
    for kind, side in (("in", from_input), ("rec", ~from_input)):
        for d in np.unique(delay[side]).tolist():
            pick = np.flatnonzero(side & (delay == d))
            w = np.zeros((n, n_in if kind == "in" else n))
            np.add.at(w, (column[post[pick]], column[pre[pick]]), weight[pick])
            syn, dly = f"{kind}_w{d}", f"{kind}_delay{d}"
            nodes[syn] = nir.Linear(weight=w)
            nodes[dly] = nir.Delay(delay=np.full(n, float(d)))
            edges += [("input" if kind == "in" else "neurons", syn), (syn, dly), (dly, "neurons")]
    meta = {"spikec": json.dumps({"neurons": net.names(cells), "inputs": net.names(inputs), "dt": 1.0,
                                  "mapping": "forward Euler, dt = 1 step; Delay nodes in steps"})}
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata=meta)


def _layered(nir: Any, net: Network, scales: _Scales) -> Any:
    layers, depth = _layer_indices(net)
    biased = [layer[net.bias[layer] != 0.0] for layer in layers]
    first = next((b for b in biased if len(b)), None)
    if first is not None:
        raise ExportError(
            f"layered NIR export: neuron '{net.name_of(int(first[0]))}' has a bias, which acts in the steps"
            " before its layer's first input (that consumers skip); use the full export")
    if not layers:
        raise ExportError("layered NIR export: the network has no non-input neurons")
    inputs = net.input_indices()
    column = np.zeros(len(net), dtype=np.int64)
    column[inputs] = np.arange(len(inputs))
    for layer in layers:
        column[layer] = np.arange(len(layer))
    pre, post = net.pre, net.post
    weight = scales.scaled(net.weight, post)
    nodes: dict[str, Any] = {"input": nir.Input(input_type={"input": np.array([len(inputs)])})}
    edges: list[tuple[str, str]] = []
    prev_name, prev = "input", inputs
    for k, layer in enumerate(layers, start=1):
        pick = np.flatnonzero(depth[post] == k)
        w = np.zeros((len(layer), len(prev)))
        np.add.at(w, (column[post[pick]], column[pre[pick]]), weight[pick])
        nodes[f"affine{k}"] = nir.Affine(weight=w, bias=np.zeros(len(layer)))
        nodes[f"layer{k}"] = _population(nir, net, layer, scales)
        edges += [(prev_name, f"affine{k}"), (f"affine{k}", f"layer{k}")]
        prev_name, prev = f"layer{k}", layer
    nodes["output"] = nir.Output(output_type={"output": np.array([len(prev)])})
    edges.append((prev_name, "output"))
    meta = {"spikec": json.dumps({"layers": [net.names(layer) for layer in layers],
                                  "inputs": net.names(inputs), "dt": 1.0})}
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata=meta)


def write_nir(path: str | os.PathLike[str], net: Network, layered: bool = False) -> None:
    """Write ``net`` as a NIR file (HDF5), through a temporary file and a rename
    (:func:`spikec.ir.files.atomic_path`: the mode an ordinary write gives, symbolic
    links written through, nothing left behind on failure)."""
    graph = network_to_nir(net, layered)
    nir = _nir()
    try:
        with atomic_path(path) as tmp:
            nir.write(tmp, graph)
    except OSError as exc:
        raise ExportError(f"cannot write {os.fspath(path)}: {exc.strerror or exc}") from None


def emit_nir(path: str | os.PathLike[str], net: Network, placement: Any = None, target: Any = None,
             passes: list[str] | None = None, diagnostics: list[Any] | None = None) -> list[str]:
    """The ``nir`` emitter (:mod:`spikec.backends.formats`); NIR has no cores, so the
    placement and target are not used."""
    write_nir(path, net)
    return [os.fspath(path)]
