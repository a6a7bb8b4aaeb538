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
from collections import defaultdict
from fractions import Fraction
from typing import Any

import numpy as np

from spikec.errors import ExportError
from spikec.ir.analysis import scale_for
from spikec.ir.network import Network, Neuron

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


def _scales(net: Network, neurons: list[Neuron]) -> dict[str, Fraction]:
    scales: dict[str, Fraction] = {}
    for n in neurons:
        if n.p != 1.0:
            raise ExportError(f"neuron '{n.name}': NIR has no stochastic neurons (p = {n.p:g})")
        if n.v0 != 0.0:
            raise ExportError(f"neuron '{n.name}': NIR has no initial potential (v0 = {n.v0:g})")
        if n.decay != 0.0 and n.reset != 0.0:
            raise ExportError(f"neuron '{n.name}': NIR leaks the reset value; with decay {n.decay:g}"
                                 f" only reset 0 is exact (reset = {n.reset:g})")
        weights = [w for _, _, w in net.graph.in_edges(n.name, data="weight")]
        s = scale_for(weights + [n.threshold, n.reset, n.bias])
        if any(abs(Fraction(x) * s) >= _F32_EXACT for x in weights + [n.threshold, n.reset, n.bias]):
            raise ExportError(f"neuron '{n.name}': its values scaled to integers exceed 2**24,"
                                 " past what float32 consumers hold exactly")
        scales[n.name] = s
    return scales


def _population(nir: Any, neurons: list[Neuron], scales: dict[str, Fraction]) -> Any:
    def arr(values: list[float]) -> np.ndarray:
        return np.array(values, dtype=np.float64)

    thr = arr([float(Fraction(n.threshold) * scales[n.name]) - 0.5 for n in neurons])
    reset = arr([float(Fraction(n.reset) * scales[n.name]) for n in neurons])
    decay = [n.decay for n in neurons]
    if all(d == 0.0 for d in decay):
        return nir.IF(r=np.ones(len(neurons)), v_threshold=thr, v_reset=reset)
    if any(d == 0.0 for d in decay):
        raise ExportError("NIR export: a population mixes decay 0 (IF) and leaky neurons;"
                             " NIR's LIF cannot express decay 0 (tau would be infinite)")
    d = arr(decay)
    return nir.LIF(tau=1.0 / d, r=1.0 / d, v_leak=np.zeros(len(neurons)), v_threshold=thr, v_reset=reset)


def layers_of(net: Network) -> list[list[str]]:
    """Layers (lists of non-input neurons in network order) when every synapse has delay 1
    and goes from layer k to layer k + 1 (inputs are layer 0); raises otherwise."""
    depth: dict[str, int] = {name: 0 for name in net.inputs()}
    order = [n.name for n in net.neurons() if not n.is_input]
    graph = net.graph
    try:
        import networkx as nx

        topo = list(nx.topological_sort(graph))
    except Exception:  # networkx raises NetworkXUnfeasible for cycles
        raise ExportError("layered NIR export: the network has a cycle") from None
    for name in topo:
        if name in depth:
            continue
        preds = list(graph.predecessors(name))
        depth[name] = 1 + max((depth[p] for p in preds), default=0)
    for pre, post, d in graph.edges(data="delay"):
        if d != 1 or depth[post] != depth[pre] + 1:
            raise ExportError(f"layered NIR export: synapse {pre} -> {post} (delay {d}) does not go"
                                 " from one layer to the next with delay 1")
    count = max((depth[n] for n in order), default=0)
    layers: list[list[str]] = [[] for _ in range(count)]
    for name in order:
        layers[depth[name] - 1].append(name)
    return layers


def network_to_nir(net: Network, layered: bool = False) -> Any:
    """The ``nir.NIRGraph`` of ``net`` (see the module docstring for the mapping)."""
    nir = _nir()
    inputs = net.inputs()
    neurons = [n for n in net.neurons() if not n.is_input]
    scales = _scales(net, neurons)
    if layered:
        return _layered(nir, net, inputs, scales)
    index_in = {name: i for i, name in enumerate(inputs)}
    index_n = {n.name: i for i, n in enumerate(neurons)}
    n_in, n = len(inputs), len(neurons)
    nodes: dict[str, Any] = {
        "input": nir.Input(input_type={"input": np.array([n_in])}),
        "neurons": _population(nir, neurons, scales),
        "output": nir.Output(output_type={"output": np.array([n])}),
        "bias": nir.Affine(weight=np.zeros((n, n_in)),
                           bias=np.array([float(Fraction(x.bias) * scales[x.name]) for x in neurons])),
    }
    edges = [("input", "bias"), ("bias", "neurons"), ("neurons", "output")]
    mats: dict[tuple[str, int], np.ndarray] = defaultdict(lambda: np.zeros(0))
    for pre, post, data in net.graph.edges(data=True):
        kind = "in" if pre in index_in else "rec"
        key = (kind, data["delay"])
        if not mats[key].size:
            mats[key] = np.zeros((n, n_in if kind == "in" else n))
        col = index_in[pre] if kind == "in" else index_n[pre]
        mats[key][index_n[post], col] += float(Fraction(data["weight"]) * scales[post])
    for (kind, d), w in sorted(mats.items()):
        syn, dly = f"{kind}_w{d}", f"{kind}_delay{d}"
        nodes[syn] = nir.Linear(weight=w)
        nodes[dly] = nir.Delay(delay=np.full(n, float(d)))
        edges += [("input" if kind == "in" else "neurons", syn), (syn, dly), (dly, "neurons")]
    meta = {"spikec": json.dumps({"neurons": [x.name for x in neurons], "inputs": inputs, "dt": 1.0,
                                  "mapping": "forward Euler, dt = 1 step; Delay nodes in steps"})}
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata=meta)


def _layered(nir: Any, net: Network, inputs: list[str], scales: dict[str, Fraction]) -> Any:
    layers = layers_of(net)
    for layer in layers:
        for name in layer:
            if net[name].bias != 0.0:
                raise ExportError(
                    f"layered NIR export: neuron '{name}' has a bias, which acts in the steps before its"
                    " layer's first input (that consumers skip); use the full export")
    if not layers:
        raise ExportError("layered NIR export: the network has no non-input neurons")
    nodes: dict[str, Any] = {"input": nir.Input(input_type={"input": np.array([len(inputs)])})}
    edges: list[tuple[str, str]] = []
    prev_name, prev = "input", inputs
    for k, layer in enumerate(layers, start=1):
        pos = {name: i for i, name in enumerate(prev)}
        w = np.zeros((len(layer), len(prev)))
        for i, post in enumerate(layer):
            for pre, _, weight in net.graph.in_edges(post, data="weight"):
                w[i, pos[pre]] += float(Fraction(weight) * scales[post])
        nodes[f"affine{k}"] = nir.Affine(weight=w, bias=np.zeros(len(layer)))
        nodes[f"layer{k}"] = _population(nir, [net[x] for x in layer], scales)
        edges += [(prev_name, f"affine{k}"), (f"affine{k}", f"layer{k}")]
        prev_name, prev = f"layer{k}", layer
    nodes["output"] = nir.Output(output_type={"output": np.array([len(prev)])})
    edges.append((prev_name, "output"))
    meta = {"spikec": json.dumps({"layers": layers, "inputs": inputs, "dt": 1.0})}
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata=meta)


def write_nir(path: str | os.PathLike[str], net: Network, layered: bool = False) -> None:
    """Write ``net`` as a NIR file (HDF5), through a temporary file and a rename."""
    import tempfile
    from pathlib import Path

    graph = network_to_nir(net, layered)
    nir = _nir()
    target = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent or Path("."))
    os.close(fd)
    try:
        nir.write(tmp, graph)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def emit_nir(path: str | os.PathLike[str], net: Network, placement: Any = None, target: Any = None,
             passes: list[str] | None = None, diagnostics: list[Any] | None = None) -> list[str]:
    """The ``nir`` emitter (:mod:`spikec.backends.formats`); NIR has no cores, so the
    placement and target are not used."""
    write_nir(path, net)
    return [os.fspath(path)]
