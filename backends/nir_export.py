"""NIR export (``pip install nir``): every neuron NIR expresses exactly, refusals naming the rest.

NIR nodes are continuous-time; spikec writes them for the discrete reading of
``docs/nir.md`` (forward Euler at a step ``dt``, ``Delay(tau)`` = ``tau/dt``
steps, instantaneous edges), with ``dt`` (default 1) recorded in the graph's
``metadata["spikec"]`` (a JSON string: ``dt``, ``inputs``, and ``populations``,
each NIR population node's spikec neuron names in element order).

Neurons. A spikec neuron ``V <- V + bias + I; fire if V >= threshold; reset to
reset or V <- (1 - decay) V`` is written as

- decay 0: ``nir.IF`` with ``dt * r == 1`` exactly (float64): ``v += I``;
- 0 < decay <= 1: ``nir.LIF`` with ``dt / tau == decay`` exactly (decay 1 is
  ``tau = dt``: Euler then clears the potential each step) and ``v_leak = 0``;
  ``r`` with ``(dt/tau) * r == 1`` when a float64 ``r`` gives that, else the
  nearest, with the weights and bias written as ``W / g`` for the gain
  ``g = (dt/tau) * r`` where ``g * (W / g) == W`` holds (checked);
- "scaled by a": a decay ``a = m / 2**k`` with a small odd ``m > 1`` (3/4, 3/8, ...)
  has no dyadic ``1/a``, so a reader's ``r * I`` would round; such a neuron (when
  ``a`` times each of its values is exact) is written with ``r = 1``, its
  weights and bias as they are, and its potential scaled by ``a`` (threshold
  ``a * threshold``, reset ``a * reset``): every NIR operation stays exact for
  dyadic values, also in float32 readers;
- the threshold as ``threshold - 1/2`` when the neuron is on the integer grid
  (decay 0 or 1, and its incoming weights, threshold, reset and bias scaled by
  one positive factor to integers below 2**24, exact in float32), else
  ``nextafter(threshold, -inf)`` (float64: ``v > t`` is ``v >= nextafter(t, +inf)``);
- ``v_reset = reset`` (IF) or ``reset / (1 - decay)`` (LIF: NIR leaks the reset
  value on the next step, spikec does not), ``(1 - decay) * v_reset == reset``
  checked; decay 1 needs reset 0;
- the bias as the bias of an ``Affine`` with zero weights fed by the Input (it
  acts from step 0: an all-zero term imposes no timing on the reader).

Every choice is checked with the operations a float64 reader performs
(``a = dt/tau``, ``g = a*r``, ``g*W``, ``(1 - a)*v_reset``) so that spikec's
importer gives back the same numbers.

Full export (``layered=False``): every population at NIR step = spikec step.
Populations ``neurons_if`` (IF) and ``neurons_lif`` (LIF), each with its own
Output (``output_if``, ``output_lif``); the synapses of delay ``d`` from a source
to a population are ``Linear -> Delay(d * dt) -> population`` (recurrent ones
too), so every cycle passes a Delay. Layered export (``layered=True``, for
consumers without Delay, such as Norse): a network whose synapses all have delay
1 and go from one layer to the next becomes ``Input -> Affine -> IF/LIF -> ... ->
Output``, evaluated in one NIR step per layer, so layer k spikes k steps earlier
than in spikec; biases are refused there (they would act before the layer's
input arrives), a layer must be all IF or all LIF, and ``r = 1`` (Norse ignores
``r``), the weights then being ``W / (dt/tau)`` (LIF) or ``W / dt`` (IF), checked
(or the neuron scaled by a, as above).

Refused, naming the neuron: stochastic neurons (p < 1), an initial potential
(v0 != 0), decay 1 with reset != 0, a decay no float64 ``tau`` gives as
``dt/tau``, values the gains or resets cannot reproduce exactly, values past the
float range.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from spikec.errors import ExportError
from spikec.ir.files import atomic_path
from spikec.ir.network import Network

#: The name of earlier releases.
NirExportError = ExportError

__all__ = ["NirExportError", "network_to_nir", "layers_of", "write_nir", "emit_nir"]

_F32_EXACT = 2**24
_TRIES = 4  # float64 neighbours tried on each side of a first guess
_SHORT = 2**12  # a decay m / 2**k with an odd m below this is written "scaled by a"


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

    def keep(self, mask: np.ndarray) -> None:
        """Scale 1 (values unchanged) for the neurons where ``mask`` is true."""
        self.odd[mask] = 1
        self.shift[mask] = 0


def _search(first: np.ndarray, ok: Callable[[np.ndarray], np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Elementwise, the first of ``first`` and its float64 neighbours (up to ``_TRIES`` ulps
    either side, nearest first) for which ``ok`` holds; returns (values, found)."""
    with np.errstate(all="ignore"):
        value = np.array(first, dtype=np.float64)
        found = np.isfinite(value) & ok(value)
        down = up = value
        for _ in range(_TRIES):
            down, up = np.nextafter(down, -np.inf), np.nextafter(up, np.inf)
            for candidate in (down, up):
                take = ~found & np.isfinite(candidate) & ok(candidate)
                value[take] = candidate[take]
                found |= take
    return value, found


def _product_exact(a: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Elementwise, whether ``a * x`` is exact in float64 (Dekker's product: the rounding
    error, computed exactly from 26-bit halves, is zero; no underflow)."""
    with np.errstate(all="ignore"):
        p = a * x

        def halves(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            t = 134217729.0 * v  # 2**27 + 1
            hi = t - (t - v)
            return hi, v - hi

        ah, al = halves(np.asarray(a, dtype=np.float64))
        xh, xl = halves(np.asarray(x, dtype=np.float64))
        err = ((ah * xh - p) + ah * xl + al * xh) + al * xl
        return np.isfinite(err) & (err == 0.0) & ((p == 0.0) | (np.abs(p) >= 2.0**-960))


def _any_per(owner: np.ndarray, mask: np.ndarray, n: int) -> np.ndarray:
    """For each of ``n`` owners, whether ``mask`` holds for any of its entries."""
    return np.bincount(owner, weights=mask.astype(np.float64), minlength=n)[:n] > 0


def _dense(rows: np.ndarray, cols: np.ndarray, values: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """The dense matrix with ``values`` summed at ``(rows, cols)`` (in order, like np.add.at)."""
    flat = np.bincount(rows * shape[1] + cols, weights=values, minlength=shape[0] * shape[1])
    return flat.reshape(shape)


@dataclass
class _Neurons:
    """The NIR parameters of every non-input neuron (arrays aligned with ``cells``, the
    neurons' indices in the network) and each synapse's weight as written."""

    cells: np.ndarray
    lif: np.ndarray  # per cell: True for LIF (decay > 0), False for IF
    tau: np.ndarray
    r: np.ndarray
    v_threshold: np.ndarray
    v_reset: np.ndarray
    bias: np.ndarray
    weight: np.ndarray  # per synapse, as written


def _neurons(net: Network, dt: float, layered: bool) -> _Neurons:
    """Choose every neuron's NIR parameters (see the module docstring), vectorized, and
    refuse what cannot be exact, naming the first such neuron in network order."""
    cells = np.flatnonzero(~net.is_input)
    p, v0, decay, raw_reset = net.p[cells], net.v0[cells], net.decay[cells], net.reset[cells]
    scales = _Scales(net)
    post = net.post.astype(np.int64)
    big = np.zeros(len(net), dtype=bool)
    for values, owner in ((net.weight, post), (net.threshold[cells], cells), (net.reset[cells], cells),
                          (net.bias[cells], cells)):
        big |= _any_per(owner, ~(np.abs(scales.scaled(values, owner)) < _F32_EXACT), len(net))
    grid = ((decay == 0.0) | (decay == 1.0)) & ~big[cells]
    off = np.zeros(len(net), dtype=bool)
    off[cells[~grid]] = True
    scales.keep(off)
    thr = scales.scaled(net.threshold[cells], cells)
    reset = scales.scaled(net.reset[cells], cells)
    bias = scales.scaled(net.bias[cells], cells)
    weight = scales.scaled(net.weight, post)
    lif = decay > 0.0
    a = np.where(lif, decay, dt)  # the reader's step factor: dt/tau (LIF) or dt (IF)
    where = np.full(len(net), -1, dtype=np.int64)
    where[cells] = np.arange(len(cells))
    # "scaled by a" (module docstring): a leaky neuron whose a = m / 2**k, 1 < m < _SHORT odd, and
    # a times each of its values exact (c = a); every other neuron keeps its values (c = 1)
    ok_syn = _product_exact(a[where[post]], weight)
    odd_a = _odd_mantissas(a)[0]
    by_a = lif & (odd_a > 1) & (odd_a < _SHORT) & _product_exact(a, thr) & _product_exact(a, reset) \
        & _product_exact(a, bias)
    by_a &= ~_any_per(where[post], ~ok_syn, len(cells))
    with np.errstate(all="ignore"):
        by_a &= _search(a * reset / (1.0 - a), lambda v: (1.0 - a) * v == a * reset)[1]
    c = np.where(by_a, a, 1.0)
    thr, reset, bias, weight = c * thr, c * reset, c * bias, c[where[post]] * weight
    with np.errstate(all="ignore"):
        tau, tau_ok = _search(dt / np.where(lif, decay, 1.0), lambda t: dt / t == decay)
        tau_ok |= ~lif
        tau = np.where(lif, tau, np.inf)
        if layered:
            r = np.ones(len(cells))
        else:
            r, _ = _search(1.0 / a, lambda x: a * x == 1.0)
            r = np.where(np.isfinite(r), r, 1.0 / a)
        r = np.where(by_a, 1.0, r)
        gain = a * r
        g_syn = gain[where[post]]
        first_w = np.where(by_a[where[post]], net.weight, weight / g_syn)
        w_out, w_ok = _search(first_w, lambda w: g_syn * w == weight)
        b_out, b_ok = _search(np.where(by_a, net.bias[cells], bias / gain), lambda b: gain * b == bias)
        keep = 1.0 - decay
        leaky = lif & (decay < 1.0)
        v_reset, reset_ok = _search(np.where(leaky, reset / np.where(leaky, keep, 1.0), reset),
                                    lambda v: np.where(leaky, keep * v, v) == reset)
        v_reset = np.where(decay == 1.0, 0.0, v_reset)
        v_threshold = np.where(grid, thr - 0.5, np.nextafter(thr, -np.inf))
    bad_w = _any_per(post, ~w_ok, len(net))
    finite = np.isfinite(thr) & np.isfinite(v_threshold) & np.isfinite(r) & np.isfinite(gain)
    checks: list[tuple[np.ndarray, Callable[[int], str]]] = [
        (p != 1.0, lambda k: f"NIR has no stochastic neurons (p = {p[k]:g}); only p = 1 exports"),
        (v0 != 0.0, lambda k: f"NIR has no initial potential (v0 = {v0[k]:g})"),
        ((decay == 1.0) & (reset != 0.0),
         lambda k: f"decay 1 is a LIF with tau = dt, whose potential Euler clears each step, so only"
                   f" reset 0 is exact (reset = {raw_reset[k]:g})"),
        (~tau_ok, lambda k: f"no float64 tau gives dt/tau == decay ({float(decay[k])!r}) exactly at"
                            f" dt = {dt!r}"),
        (~finite, lambda k: "its values are past the float range in NIR's form"),
        (~reset_ok, lambda k: f"no float64 v_reset gives (1 - decay) * v_reset == reset"
                              f" ({float(raw_reset[k])!r}) exactly (decay {float(decay[k])!r})"),
        (bad_w[cells] | ~b_ok,
         lambda k: f"its weights or bias are not exactly expressible at the gain (dt/tau) * r ="
                   f" {float(gain[k])!r} of its NIR node"),
    ]
    bad = np.logical_or.reduce([mask for mask, _ in checks]) if len(cells) else np.zeros(0, dtype=bool)
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        message = next(say for mask, say in checks if mask[k])
        raise ExportError(f"neuron '{net.name_of(int(cells[k]))}': {message(k)}")
    return _Neurons(cells, lif, tau, r, v_threshold, v_reset, b_out, w_out)


def _node(nir: Any, nn: _Neurons, idx: np.ndarray) -> Any:
    """The IF or LIF node of the cells at positions ``idx`` of ``nn.cells`` (all one kind)."""
    if nn.lif[idx].all():
        return nir.LIF(tau=nn.tau[idx], r=nn.r[idx], v_leak=np.zeros(len(idx)),
                       v_threshold=nn.v_threshold[idx], v_reset=nn.v_reset[idx])
    return nir.IF(r=nn.r[idx], v_threshold=nn.v_threshold[idx], v_reset=nn.v_reset[idx])


def _check_dt(dt: float) -> float:
    if isinstance(dt, bool) or not isinstance(dt, (int, float, np.floating)) or not math.isfinite(dt) \
            or dt <= 0:
        raise ExportError(f"NIR export: dt must be a positive finite number, got {dt!r}")
    return float(dt)


def _meta(net: Network, dt: float, layered: bool, populations: dict[str, np.ndarray]) -> dict[str, str]:
    return {"spikec": json.dumps({
        "format": "spikec-nir", "version": 2, "dt": dt, "layered": layered,
        "inputs": net.names(net.input_indices()),
        "populations": {name: net.names(idx) for name, idx in populations.items()},
        "mapping": "forward Euler at dt; Delay(tau) = tau/dt steps; edges instantaneous (docs/nir.md)",
    })}


def network_to_nir(net: Network, layered: bool = False, dt: float = 1.0) -> Any:
    """The ``nir.NIRGraph`` of ``net`` at the time step ``dt`` (see the module docstring for
    the mapping); :class:`~spikec.errors.ExportError` names what NIR cannot express."""
    nir = _nir()
    dt = _check_dt(dt)
    if not (~net.is_input).any():
        raise ExportError("NIR export: the network has no non-input neurons")
    nn = _neurons(net, dt, layered)
    if layered:
        return _layered(nir, net, nn, dt)
    inputs = net.input_indices()
    n_in = len(inputs)
    group = np.full(len(net), -1, dtype=np.int64)  # 0 input, 1 IF population, 2 LIF population
    column = np.zeros(len(net), dtype=np.int64)  # position within the group
    group[inputs] = 0
    column[inputs] = np.arange(n_in)
    pops: dict[str, np.ndarray] = {}  # population name -> positions in nn.cells
    for g, (kind, mask) in enumerate((("if", ~nn.lif), ("lif", nn.lif)), start=1):
        idx = np.flatnonzero(mask)
        if len(idx):
            group[nn.cells[idx]] = g
            column[nn.cells[idx]] = np.arange(len(idx))
            pops[f"neurons_{kind}"] = idx
    names = {0: "input", 1: "neurons_if", 2: "neurons_lif"}
    nodes: dict[str, Any] = {"input": nir.Input(input_type={"input": np.array([n_in])})}
    edges: list[tuple[str, str]] = []
    for name, idx in pops.items():
        nodes[name] = _node(nir, nn, idx)
        out = "output_" + name.removeprefix("neurons_")
        nodes[out] = nir.Output(output_type={"output": np.array([len(idx)])})
        edges.append((name, out))
        # always present, so that no population is a root node (nir would add an Input before it)
        nodes[f"bias_{name}"] = nir.Affine(weight=np.zeros((len(idx), n_in)), bias=nn.bias[idx])
        edges += [("input", f"bias_{name}"), (f"bias_{name}", name)]
    pre, post = net.pre.astype(np.int64), net.post.astype(np.int64)
    sizes = {0: n_in, 1: int((~nn.lif).sum()), 2: int(nn.lif.sum())}
    keys = np.stack([group[pre], group[post], net.delay.astype(np.int64)], axis=1)
    if len(keys):
        combos, which = np.unique(keys, axis=0, return_inverse=True)
        order = np.argsort(which.ravel(), kind="stable")
        bounds = np.searchsorted(which.ravel()[order], np.arange(len(combos) + 1))
        for c, (src, dst, d) in enumerate(combos.tolist()):
            pick = order[bounds[c]:bounds[c + 1]]
            w = _dense(column[post[pick]], column[pre[pick]], nn.weight[pick], (sizes[dst], sizes[src]))
            tag = f"{names[src]}_{names[dst]}_d{d}"
            nodes[f"w_{tag}"] = nir.Linear(weight=w)
            nodes[f"delay_{tag}"] = nir.Delay(delay=np.full(sizes[dst], d * dt))
            edges += [(names[src], f"w_{tag}"), (f"w_{tag}", f"delay_{tag}"), (f"delay_{tag}", names[dst])]
    meta = _meta(net, dt, False, {name: nn.cells[idx] for name, idx in pops.items()})
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata=meta)


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


def _layered(nir: Any, net: Network, nn: _Neurons, dt: float) -> Any:
    layers, depth = _layer_indices(net)
    biased = next((layer[net.bias[layer] != 0.0] for layer in layers if (net.bias[layer] != 0.0).any()), None)
    if biased is not None:
        raise ExportError(
            f"layered NIR export: neuron '{net.name_of(int(biased[0]))}' has a bias, which acts in the steps"
            " before its layer's first input (that consumers skip); use the full export")
    position = np.full(len(net), -1, dtype=np.int64)  # position in nn.cells
    position[nn.cells] = np.arange(len(nn.cells))
    for layer in layers:
        kinds = nn.lif[position[layer]]
        if kinds.any() and not kinds.all():
            odd = layer[kinds != kinds[0]][0]
            raise ExportError(f"layered NIR export: neuron '{net.name_of(int(odd))}' has decay"
                              f" {net.decay[odd]:g} but '{net.name_of(int(layer[0]))}' of the same layer"
                              f" {net.decay[layer[0]]:g}; a layer is one IF or one LIF node")
    inputs = net.input_indices()
    column = np.zeros(len(net), dtype=np.int64)
    column[inputs] = np.arange(len(inputs))
    for layer in layers:
        column[layer] = np.arange(len(layer))
    pre, post = net.pre, net.post
    nodes: dict[str, Any] = {"input": nir.Input(input_type={"input": np.array([len(inputs)])})}
    edges: list[tuple[str, str]] = []
    prev_name, prev = "input", inputs
    for k, layer in enumerate(layers, start=1):
        pick = np.flatnonzero(depth[post] == k)
        w = _dense(column[post[pick]], column[pre[pick]], nn.weight[pick], (len(layer), len(prev)))
        nodes[f"affine{k}"] = nir.Affine(weight=w, bias=np.zeros(len(layer)))
        nodes[f"layer{k}"] = _node(nir, nn, position[layer])
        edges += [(prev_name, f"affine{k}"), (f"affine{k}", f"layer{k}")]
        prev_name, prev = f"layer{k}", layer
    nodes["output"] = nir.Output(output_type={"output": np.array([len(prev)])})
    edges.append((prev_name, "output"))
    meta = _meta(net, dt, True, {f"layer{k}": layer for k, layer in enumerate(layers, start=1)})
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata=meta)


def write_nir(path: str | os.PathLike[str], net: Network, layered: bool = False, dt: float = 1.0) -> None:
    """Write ``net`` as a NIR file (HDF5) at the time step ``dt``, through a temporary file and
    a rename (:func:`spikec.ir.files.atomic_path`: the mode an ordinary write gives, symbolic
    links written through, nothing left behind on failure)."""
    graph = network_to_nir(net, layered, dt)
    nir = _nir()
    try:
        with atomic_path(path) as tmp:
            nir.write(tmp, graph)
    except OSError as exc:
        raise ExportError(f"cannot write {os.fspath(path)}: {exc.strerror or exc}") from None


def emit_nir(path: str | os.PathLike[str], net: Network, placement: Any = None, target: Any = None,
             passes: list[str] | None = None, diagnostics: list[Any] | None = None) -> list[str]:
    """The ``nir`` emitter (:mod:`spikec.backends.formats`): the full export at dt = 1 (one
    spikec step per NIR step; the file's ``metadata["spikec"]`` says so). NIR has no cores,
    so the placement and target are not used."""
    write_nir(path, net)
    return [os.fspath(path)]
