"""Import NIR graphs (``pip install nir``): any topology, at a chosen step ``dt``.

The exact mapping is in ``docs/nir.md``. In short: nested graphs are flattened;
every path of linear nodes between two spiking (or input) nodes is composed
into one sparse matrix (:mod:`spikec.backends.nir_compose`); each spiking node
(``Threshold``, ``IF``, ``LIF``, ``CubaLIF`` with ``tau_syn == dt``) becomes a
neuron array; each node gets a time shift s (spikec step = NIR step + s) so that
every synapse has a delay >= 1; constant drives of nodes that start late come
from a clock neuron. A graph that is a chain of layers comes back as a
:class:`~spikec.backends.binary_net.BinaryNet` (as spikec's own trainer writes
them), every other as a :class:`~spikec.backends.nir_graph.NIRNet`.

Refused with an error naming the file and the node: a discretisation that is not
exact at the given dt (a LIF with dt/tau > 1, a Delay that is not a whole number
of steps, a CubaLIF with tau_syn != dt), non-spiking nodes (LI, I, CubaLI),
grouped convolutions, loops through linear nodes only, cycles faster than their
neuron hops, outputs that are not spikes.
"""

from __future__ import annotations

import graphlib
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from spikec.backends.binary_net import BinaryNet, ImportLimits, ModelImportError, open_hdf5
from spikec.backends.nir_checks import check_file, refuse_kind
from spikec.backends.nir_compose import Value, back_edges, plain, shifts
from spikec.backends.nir_graph import INPUT, NIRNet, Population, SynapseGroup
from spikec.backends.nir_nodes import NeuronParams, linear_value, neuron_params
from spikec.backends.threshold_layers import UniqueNames

__all__ = ["read_nir", "nir_to_net", "nir_to_model", "nir_to_binary_net", "strict_threshold", "graph_dt"]

_SPIKING = ("Threshold", "IF", "LIF", "CubaLIF")
_LINEAR = (
    "Affine",
    "Linear",
    "Scale",
    "Flatten",
    "Conv1d",
    "Conv2d",
    "SumPool2d",
    "AvgPool2d",
    "Delay",
    "Identity",
)


def _nir() -> Any:
    try:
        import nir
    except ImportError:
        raise ModelImportError("reading NIR graphs needs the nir package: pip install nir") from None
    return nir


def strict_threshold(t: np.ndarray | float) -> np.ndarray:
    """spikec's ``>=`` threshold equal, in float64, to NIR's ``> t``."""
    return np.nextafter(np.asarray(t, dtype=np.float64), np.inf)


def graph_dt(graph: Any, dt: float | None) -> float:
    """The step to read ``graph`` at: ``dt`` when given, else the ``dt`` spikec's exporter
    records in ``metadata["spikec"]`` (a mapping or JSON text), else 1."""
    if dt is None:
        meta = getattr(graph, "metadata", None)
        rec = meta.get("spikec") if isinstance(meta, dict) else None
        if isinstance(rec, (bytes, str)):
            try:
                rec = json.loads(rec)
            except ValueError:
                rec = None
        found = rec.get("dt") if isinstance(rec, dict) else None
        dt = 1.0 if found is None else found
    if isinstance(dt, (bool, np.bool_, str, bytes)):
        raise ModelImportError(f"dt must be a positive number, got {dt!r}")
    try:
        value = float(dt)
    except (TypeError, ValueError):
        raise ModelImportError(f"dt must be a positive number, got {dt!r}") from None
    if not np.isfinite(value) or value <= 0:
        raise ModelImportError(f"dt must be a positive number, got {value}")
    return value


# -- the graph, flattened ---------------------------------------------------------------------


def _flatten(
    graph: Any,
    prefix: str,
    top: bool,
    nodes: dict[str, Any],
    kinds: dict[str, str],
    edges: list[tuple[str, str]],
) -> tuple[list[str], list[str]]:
    """Add ``graph``'s nodes (names prefixed) and edges; returns its Input and Output nodes."""
    nir = _nir()
    if not isinstance(graph.nodes, dict) or not all(isinstance(n, str) for n in graph.nodes):
        raise ModelImportError(
            f"the {'graph' if top else 'nested graph ' + prefix[:-1]}'s nodes are not a"
            " mapping of names to nodes"
        )
    raw = list(graph.edges) if isinstance(graph.edges, (list, tuple)) else None
    if raw is None or not all(isinstance(e, (list, tuple)) and len(e) == 2 for e in raw):
        raise ModelImportError("the graph's edges are not a list of (from, to) pairs")
    ends: dict[str, tuple[list[str], list[str]]] = {}
    ins: list[str] = []
    outs: list[str] = []
    for name, node in graph.nodes.items():
        full = prefix + name
        if isinstance(node, nir.NIRGraph):
            ends[name] = _flatten(node, full + ".", False, nodes, kinds, edges)
            continue
        kind = type(node).__name__
        if kind in ("Input", "Output"):
            (ins if kind == "Input" else outs).append(full)
            if not top:
                kind = "Identity"
        elif kind not in _SPIKING and kind not in _LINEAR:
            raise ModelImportError(f"node '{full}': {refuse_kind(kind).message}")
        nodes[full] = node
        kinds[full] = kind

    def end(name: Any, side: int) -> str:
        if not isinstance(name, str):
            raise ModelImportError(f"an edge names {name!r}, not a node name")
        if name in ends:
            found = ends[name][side]
            if len(found) != 1:
                what = "Input" if side == 0 else "Output"
                raise ModelImportError(
                    f"an edge joins the nested graph '{prefix + name}', which has"
                    f" {len(found)} {what} nodes; name one as '{name}.NODE'"
                )
            return found[0]
        if prefix + name not in nodes:
            raise ModelImportError(f"an edge names node '{prefix + name}', which the graph does not have")
        return prefix + name

    for a, b in raw:
        edges.append((end(a, 1), end(b, 0)))
    return ins, outs




def _order_map(shape: tuple[int, ...]) -> np.ndarray:
    """NIR flat index of each spikec neuron: channels-last for (C, H, W), else C order."""
    n = int(np.prod(shape, dtype=np.int64))
    if len(shape) == 3:
        return np.arange(n).reshape(shape).transpose(1, 2, 0).reshape(-1)
    return np.arange(n)


def _is_identity(m: sp.csr_matrix) -> bool:
    n = m.shape[0]
    return (
        m.shape == (n, n)
        and m.nnz == n
        and bool(np.array_equal(m.indices, np.arange(n)))
        and bool(np.all(m.data == 1.0))
    )


class _Reader:
    def __init__(self, name: str, graph: Any, dt: float, source: str) -> None:
        self.name, self.dt, self.source = name, dt, source
        self.limits = ImportLimits.from_env()
        self.nodes: dict[str, Any] = {}
        self.kinds: dict[str, str] = {}
        self.edges: list[tuple[str, str]] = []
        ins, outs = _flatten(graph, "", True, self.nodes, self.kinds, self.edges)
        if len(ins) != 1:
            raise ModelImportError(
                f"the graph must have exactly one Input node, it has {len(ins)}"
                f"{' (' + ', '.join(ins) + ')' if ins else ''}"
            )
        if not outs:
            raise ModelImportError("the graph has no Output node")
        self.input, self.outputs = ins[0], outs
        self.preds: dict[str, list[tuple[str, int]]] = {n: [] for n in self.nodes}
        self.succs: dict[str, list[str]] = {n: [] for n in self.nodes}
        delays = {n for n, k in self.kinds.items() if k == "Delay"}
        closing = back_edges(list(self.nodes), self.edges, [self.input], delays)
        for a, b in self.edges:
            if b == self.input:
                raise ModelImportError(f"node '{self.input}': the Input node has an incoming edge from '{a}'")
            if a in self.outputs:
                raise ModelImportError(f"node '{a}': the Output node has an outgoing edge to '{b}'")
            self.preds[b].append((a, 1 if (a, b) in closing else 0))
            self.succs[a].append(b)
        self.shape: dict[str, tuple[int, ...]] = {}
        self.values: dict[str, Value] = {}
        self.params: dict[str, NeuronParams] = {}
        self.key: np.ndarray | None = None

    # -- values ------------------------------------------------------------------------------

    def _out(self, node: str) -> Value:
        if node == self.input or self.kinds[node] in _SPIKING:
            return Value.spikes(node, self.shape[node])
        return self.values[node]

    def _input(self, node: str) -> Value | None:
        total: Value | None = None
        for pred, lag in self.preds[node]:
            v = self._out(pred)
            v = v.lagged(lag) if lag else v
            total = v if total is None else total.plus(v, node)
        return total

    def _input_shape(self) -> None:
        declared = getattr(self.nodes[self.input], "input_type", None)
        given = declared.get("input") if isinstance(declared, dict) else None
        from spikec.backends.nir_checks import real

        dims = real(given, "shape", self.input).reshape(-1)
        if not dims.size or np.any(dims < 1) or np.any(dims != np.round(dims)):
            raise ModelImportError(
                f"node '{self.input}': the Input node has no usable shape ({dims.tolist()})"
            )
        self.limits.units(int(np.prod(dims.astype(object))), f"node '{self.input}': the input")
        self.shape[self.input] = tuple(int(d) for d in dims)

    def evaluate(self) -> None:
        """Every linear node's Value and every spiking node's shape, in dependency order."""
        self._input_shape()
        for node, kind in self.kinds.items():
            if kind in _SPIKING:
                with _at(node):
                    self.params[node] = neuron_params(kind, self.nodes[node], node, self.dt, self.limits)
                if self.params[node].size > 1:
                    self.shape[node] = self.params[node].shape
        deps: dict[str, set[str]] = {}
        for node, kind in self.kinds.items():
            lazy = kind in _SPIKING and node not in self.shape  # its shape is its input's
            if kind in _LINEAR or kind == "Output" or lazy:
                deps[node] = {
                    p
                    for p, lag in self.preds[node]
                    if p != self.input
                    and p in self.nodes
                    and (self.kinds[p] in _LINEAR or p not in self.shape)
                    and not (lazy and lag)
                }
        order = self._dependency_order(deps)
        for node in order:
            kind = self.kinds[node]
            if kind == "Output":
                continue
            with _at(node):
                if kind in _SPIKING:
                    first = [p for p, lag in self.preds[node]
                             if not lag and (p == self.input or p in self.values or p in self.shape)]
                    fed = self._out(first[0]).shape if first else self.params[node].shape
                    self.shape[node] = (
                        fed if int(np.prod(fed, dtype=np.int64)) > 1 else self.params[node].shape
                    )
                    continue
                inp = self._input(node)
                if inp is None:
                    raise ModelImportError(f"node '{node}' has no input")
                self.values[node] = linear_value(kind, self.nodes[node], node, inp, self.dt, self.limits)

    def _dependency_order(self, deps: dict[str, set[str]]) -> list[str]:
        """``deps`` in topological order. A spiking node whose shape comes from its input
        (scalar parameters) may sit on a loop back to itself (a one-neuron population with a
        synapse onto itself): it then takes its shape from its other inputs, or from its
        parameters; a loop of linear nodes only is refused."""
        while True:
            try:
                return list(graphlib.TopologicalSorter(deps).static_order())
            except graphlib.CycleError as exc:
                cycle = list(exc.args[1])
                lazy = [n for n in cycle if self.kinds.get(n) in _SPIKING]
                if not lazy:
                    raise ModelImportError(
                        f"the loop {' -> '.join(cycle)} runs through linear nodes only (no spiking node"
                        " between), which spikec cannot express"
                    ) from None
                for n in lazy:
                    deps[n] -= set(cycle)

    # -- populations -----------------------------------------------------------------------------

    def run(self) -> NIRNet:
        self.evaluate()
        spiking = [n for n in self._preorder() if self.kinds[n] in _SPIKING]
        single = len(self.outputs) == 1
        names = UniqueNames({"x", "clock", *(["out"] if single else [])})
        out_name = {o: "out" if single else names.take(o) for o in self.outputs}
        pops: list[str] = [self.input, *spiking]
        inputs: dict[str, Value] = {}
        for node in spiking:
            with _at(node):
                inp = self._input(node) or Value(self.shape[node])
                n = int(np.prod(self.shape[node], dtype=np.int64))
                if inp.size != n:
                    raise ModelImportError(
                        f"node '{node}' has {n} neurons (shape {plain(self.shape[node])})"
                        f" but is fed {inp.size} values (shape {plain(inp.shape)})"
                    )
                self.limits.units(n, f"node '{node}'")
                self.params[node] = self.params[node].broadcast(self.shape[node], node)
                inputs[node] = inp
        source_of: dict[str, str] = {}  # population -> the output it is
        relays: dict[str, tuple[str, int]] = {}
        for out in self.outputs:
            with _at(out):
                pop, lag = self._output_source(out)
            if lag or pop == self.input:
                relay = f"{out}.relay"
                relays[relay] = (pop, lag)
                self.shape[relay] = self.shape[pop]
                pops.append(relay)
                inputs[relay] = Value.spikes(pop, self.shape[pop]).lagged(lag)
                pop = relay
            if pop in source_of:
                raise ModelImportError(f"Output nodes '{source_of[pop]}' and '{out}' read the same node")
            source_of[pop] = out
        constraints: dict[tuple[str, str], int] = {}
        for v, inp in inputs.items():
            for (u, lag), m in inp.terms.items():
                if m.nnz:
                    constraints[(u, v)] = max(constraints.get((u, v), -(1 << 62)), 1 - lag)
        s = shifts(pops, {self.input}, constraints)
        return self._build(pops, inputs, s, names, out_name, source_of, relays)

    def _build(
        self,
        pops: list[str],
        inputs: dict[str, Value],
        s: dict[str, int],
        names: UniqueNames,
        out_name: dict[str, str],
        source_of: dict[str, str],
        relays: dict[str, tuple[str, int]],
    ) -> NIRNet:
        index = {p: i - 1 for i, p in enumerate(pops)}  # the input is -1 (INPUT)
        assert index[self.input] == INPUT
        order = {p: _order_map(self.shape[p]) for p in pops}
        inverse = {p: np.argsort(o) for p, o in order.items()}
        params = {
            p: self.params[p] if p in self.params else NeuronParams.relay(self.shape[p]) for p in pops[1:]
        }
        populations: list[Population] = []
        groups: list[SynapseGroup] = []
        clock: list[tuple[int, int, np.ndarray, np.ndarray]] = []  # post, delay, dst, weight
        for p in pops[1:]:
            prm, inp = params[p], inputs[p]
            starts = {0: prm.leak} if np.any(prm.leak) else {}
            for start, c in inp.consts.items():
                starts[start] = starts.get(start, 0.0) + prm.gain * c
            bias = np.zeros(prm.size)
            # A memoryless neuron (decay 1) whose drive alone stays below threshold takes it as
            # a plain bias from step 0: before its shift it only reaches V = drive < threshold,
            # which fires nothing and is cleared every step, so it is silent until its NIR step
            # 0. A threshold <= 0 is first lifted with its drive by a power of two K > -threshold
            # (the same comparison, when both sums are exact), so that V = 0 stays below it.
            memoryless = prm.decay == 1.0
            lift = np.where(memoryless & (prm.threshold <= 0.0) & (s[p] >= 1),
                            np.exp2(np.ceil(np.log2(np.maximum(1.0 - prm.threshold, 1.0)))), 0.0)
            threshold = prm.threshold
            if np.any(lift):  # spikec's threshold is nextafter(NIR's, +inf): lift NIR's, then again
                nir_threshold = np.nextafter(prm.threshold, -np.inf)
                threshold = np.where(lift > 0, np.nextafter(nir_threshold + lift, np.inf), prm.threshold)
                drive = np.broadcast_to(np.asarray(starts.get(0, 0.0), dtype=np.float64), (prm.size,))
                starts[0] = drive + lift
                if np.any((nir_threshold + lift - lift != nir_threshold) | (starts[0] - lift != drive)):
                    raise ModelImportError(f"node '{p}': a threshold <= 0 at a late start cannot be lifted"
                                           " exactly in float64")
            for start, c in sorted(starts.items()):
                c = np.broadcast_to(np.asarray(c, dtype=np.float64), (prm.size,))
                plain = np.ones(prm.size, dtype=bool) if start + s[p] == 0 else \
                    memoryless & (c < threshold) if start == 0 else np.zeros(prm.size, dtype=bool)
                bias = bias + np.where(plain, c, 0.0)
                vec = np.where(plain, 0.0, c)[order[p]]
                nz = np.flatnonzero(vec)
                if len(nz):
                    clock.append((index[p], start + s[p], nz, vec[nz]))
            thr = threshold[order[p]]
            if s[p] >= 1 and np.any(thr <= 0):
                raise ModelImportError(
                    f"node '{p}': a threshold <= 0 fires with no input, but the node starts at spikec step"
                    f" {s[p]} (NIR step 0); spikec cannot keep it silent before then"
                )
            if p in source_of:
                name = out_name[source_of[p]]
            else:
                name = names.take(inp.via or p)
            populations.append(
                Population(
                    relays[p][0] if p in relays else p,
                    name,
                    "relay" if p in relays else self.kinds[p],
                    self.shape[p],
                    order[p],
                    thr,
                    prm.decay[order[p]],
                    prm.reset[order[p]],
                    bias[order[p]],
                    s[p],
                    inp.kind,
                    inp.macs,
                )
            )
            for (u, lag), m in sorted(inp.terms.items(), key=lambda kv: (index[kv[0][0]], kv[0][1])):
                if not m.nnz:
                    continue
                coo = m.tocoo()
                src, dst = inverse[u][coo.col], inverse[p][coo.row]
                w = prm.gain[coo.row] * coo.data
                srt = np.lexsort((dst, src))
                groups.append(
                    SynapseGroup(
                        index[u],
                        index[p],
                        lag + s[p] - s[u],
                        src[srt].astype(np.int64),
                        dst[srt].astype(np.int64),
                        w[srt],
                    )
                )
        if clock:
            at = len(populations)
            one = np.ones(1)
            populations.append(
                Population("", "clock", "clock", (1,), np.zeros(1, np.int64), one, one, np.zeros(1), one, 0)
            )
            for post, delay, dst, w in clock:
                groups.append(
                    SynapseGroup(at, post, delay, np.zeros(len(dst), np.int64), dst.astype(np.int64), w)
                )
        outs = tuple(
            (out_name[o], index[p]) for p, o in sorted(source_of.items(), key=lambda kv: index[kv[0]])
        )
        input_shape = self.shape[self.input]
        if len(input_shape) == 3:
            input_shape = (input_shape[1], input_shape[2], input_shape[0])
        return NIRNet(
            self.name, input_shape, tuple(populations), tuple(groups), outs, self.key, self.source, self.dt
        )

    def _preorder(self) -> list[str]:
        seen: dict[str, None] = {}
        for root in [self.input, *self.nodes]:
            stack = [root]
            while stack:
                here = stack.pop()
                if here in seen:
                    continue
                seen[here] = None
                stack.extend(reversed(self.succs[here]))
        return list(seen)

    def _output_source(self, out: str) -> tuple[str, int]:
        """The spiking node an Output reads, and the NIR steps it lags behind it."""
        preds = self.preds[out]
        if len(preds) == 1 and self.kinds.get(preds[0][0]) == "Affine" and not preds[0][1]:
            ro = preds[0][0]
            below = self._input(ro)
            if below is not None and len(below.terms) == 1 and not below.consts:
                (u, lag), m = next(iter(below.terms.items()))
                if not lag and _is_identity(m) and u != self.input and len(self.succs[ro]) == 1:
                    with _at(ro):
                        self.key = _readout_key(ro, self.nodes[ro], m.shape[0])
                    return u, 0
        value = self._input(out)
        if value is None:
            raise ModelImportError(f"the Output node '{out}' has no input")
        if len(value.terms) != 1 or value.consts or not _is_identity(next(iter(value.terms.values()))):
            via = f" ({self.kinds[preds[0][0]]} '{preds[0][0]}')" if len(preds) == 1 else ""
            raise ModelImportError(
                f"the Output node '{out}' reads a weighted sum{via}, not the spikes of one"
                " spiking node; spikec's outputs are spikes"
            )
        (u, lag), _ = next(iter(value.terms.items()))
        return u, lag


def _readout_key(name: str, node: Any, outputs: int) -> np.ndarray:
    from spikec.backends.nir_checks import real

    weight = real(node.weight, "weight", name)
    bias = real(node.bias, "bias", name).reshape(-1)
    if weight.ndim != 2 or weight.shape[1] != outputs:
        raise ModelImportError(
            f"node '{name}': readout weight of shape {plain(weight.shape)}, but the last"
            f" spiking layer has {outputs} units"
        )
    key = (weight / 2.0 + 1.0) / 2.0
    signed = 2.0 * key - 1.0
    if not (np.all((key == 0.0) | (key == 1.0)) and np.array_equal(bias, -signed.sum(axis=1))):
        raise ModelImportError(
            f"node '{name}': an Affine after the last spiking layer is read as a decode key only in"
            " the form W = 2(2K - 1), b = -sum(2K - 1) for a 0/1 key K"
        )
    return key


def nir_to_net(graph: Any, name: str = "nir", source: str = "", dt: float | None = None) -> NIRNet:
    """Map an in-memory ``nir.NIRGraph`` read at step ``dt`` (default: the file's own, else
    1) to a :class:`NIRNet`, whatever its topology (with ``shifts`` and ``arrays``)."""
    if not isinstance(graph, _nir().NIRGraph):
        raise ModelImportError(f"expected a nir.NIRGraph, got {type(graph).__name__}")
    return _Reader(name, graph, graph_dt(graph, dt), source).run()


def nir_to_model(
    graph: Any, name: str = "nir", source: str = "", dt: float | None = None
) -> BinaryNet | NIRNet:
    """:func:`nir_to_net`, as a :class:`BinaryNet` when the graph is a chain of layers."""
    net = nir_to_net(graph, name, source, dt)
    return net.as_binary_net() or net


#: The earlier name of :func:`nir_to_model`.
nir_to_binary_net = nir_to_model


@contextmanager
def _at(node: str) -> Iterator[None]:
    """Name ``node`` in an error raised inside, unless the message names a node already."""
    try:
        yield
    except ModelImportError as exc:
        if "node '" in exc.message:
            raise
        raise ModelImportError(f"node '{node}': {exc.message}") from None


def read_nir(path: str | os.PathLike[str], dt: float | None = None) -> BinaryNet | NIRNet:
    """Read a ``.nir`` file at step ``dt`` (see :func:`nir_to_model`).

    Any file that is not such a graph (missing, a directory, not HDF5, damaged, hostile)
    gives a :class:`ModelImportError` starting with the file and naming the node:
    ``g.nir: node 'lif1': ...``."""
    nir = _nir()
    shown = os.fspath(path)
    try:
        with open_hdf5(path, what="NIR file") as fh:
            try:
                check_file(fh)
            except (OSError, KeyError, RuntimeError) as exc:  # h5py on a damaged file
                raise ModelImportError(f"not a readable NIR file ({exc})") from None
        try:
            graph = nir.read(path, type_check=False)  # spikec checks each node's shapes itself
        except Exception as exc:  # nir's own checks are asserts and ad-hoc errors on bad input
            raise ModelImportError(f"not a readable NIR file ({type(exc).__name__}: {exc})") from None
        return nir_to_model(graph, Path(shown).stem, shown, dt)
    except ModelImportError as exc:
        raise ModelImportError(f"{shown}: {exc.message}") from None
