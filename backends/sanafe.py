"""SANA-FE emitter and runner: a placed network as SANA-FE's YAML network and
mapping file, for its bundled Loihi and TrueNorth architectures, and a run
of it in SANA-FE (``pip install sanafe==2.2.9``) that reports spikes, energy
and simulated time.

SANA-FE's neuron models differ from spikec's; the emitter maps what maps
exactly and refuses the rest with the reason (``docs/targets.md`` lists
every difference):

``leaky_integrate_fire`` (Loihi), each step: ``V <- leak_decay * V`` (not on
the first step), ``V <- trunc(64 V) / 64``, ``V += bias + input``, fire when
``V > threshold`` (strict), then ``V <- reset``. spikec leaks before the
next step only when the neuron did not fire, so the reset value is leaked
too in SANA-FE: decay must be 0, or 1 with reset 0. The 1/64 truncation
and the strict comparison are made exact by scaling each neuron to
integers (a positive per-neuron factor, which never changes spikes) and
passing ``threshold - 1/2``. ``trunc`` goes through a C ``int``, so
``|64 V|`` must stay below 2**31 during the run.

``truenorth``: ``V += leak`` (0 here), ``V += bias + input``, fire when
``V >= threshold``, then ``V <- reset``, else when ``V <= reverse_threshold``
apply the reverse reset: spikec's model with decay 0 and no ``v0``, and
decay-1 gates through TrueNorth's linear leak and floor (the ``floor-gates``
pass shifts each gate's threshold and bias so that a floor at 0 clears it;
here the floor is the reverse threshold 0 with ``saturate``). Its architecture file has no
input unit; the emitter adds one (``truenorth_inputs``, zero cost).

Stochastic neurons (the targets' ``[noise]``, :mod:`spikec.chip.noise`):
on Loihi, SANA-FE's soma reads a noise stream (the hardware attribute
``noise``, a file of integers, one per compartment update, masked to
``noise_bits`` and sign-extended at bit 8) and adds it to the potential
before bias and input. Every compartment of a noisy soma unit reads one
value each step, in the order the neurons were mapped, so the emitter gives
the stochastic neurons of each core their own soma unit (``loihi_noise_C``,
the core's own file) and writes, for each step and each of them in network
order, 0 when spikec's uniform for it (the simulator's stream ``(trial 0,
1)`` of ``seed``) is below its ``p``, else ``θ - high - 1`` at its integer
scale: the spikes are those of spikec's simulator of the compiled network.
Poisson stimuli are drawn from spikec's input stream the same way. On
TrueNorth, a stochastic gate's ``random_mask`` adds ``std::rand() & mask``
to ``v`` in both threshold tests; with threshold 1 and the reverse threshold
0 (saturate), the chip form ``V = s U + c`` that never fires below
threshold and fires with ``a / 2**k`` at it clears itself every step
(statistical only: ``std::rand`` cannot be seeded).

Both: every synapse must have delay 1
(SANA-FE's delay unit only delivers when another spike arrives later);
the ``delay-legalize`` pass adds relays. Input spike trains are written
into the network file (``spikes`` of SANA-FE's ``input`` model).
"""

from __future__ import annotations

import contextlib
import io
import math
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from spikec.chip.placement import Placement, edge_order
from spikec.chip.target import Target
from spikec.errors import ExportError
from spikec.ir.analysis import (
    drive_bounds_all,
    in_synapses,
    integer_scales,
    potential_bounds_all,
    scaled_values,
)
from spikec.ir.network import Network, PoissonRate, SpikeTimes
from spikec.ir.serialize import write_text_atomic

#: The name of earlier releases.
SanafeError = ExportError

__all__ = ["SanafeError", "SanafeModel", "SanafeResult", "build_sanafe", "render_sanafe", "emit_sanafe",
           "arch_text", "write_sanafe", "run_sanafe"]

# SANA-FE casts 64 * V to a C int when it truncates the potential.
_INT_LIMIT = 2**31 / 64
_TN_INPUTS = """            - name: truenorth_inputs[0..255]
              attributes:
                model: input
                energy_access_neuron: 0.0
                latency_access_neuron: 0.0
                energy_update_neuron: 0.0
                latency_update_neuron: 0.0
                energy_spike_out: 0.0
                latency_spike_out: 0.0
"""


@dataclass
class SanafeModel:
    """SANA-FE's view of a placed network: groups ``in`` (inputs) and ``n`` (neurons).

    ``edges`` holds the synapses as arrays ``(pre, post, weight)``: neuron indices
    into ``address`` and the scaled weights, in edge order."""

    arch: str
    name: str
    inputs: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    neurons: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    edges: tuple[np.ndarray, np.ndarray, np.ndarray] = field(
        default_factory=lambda: (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)))
    mappings: list[tuple[str, str, str | None]] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)  # SANA-FE address -> spikec name
    address: list[str] = field(default_factory=list)  # spikec neuron index -> SANA-FE address
    bound_steps: int | None = None
    cores: int | None = None
    #: Loihi noise streams: core -> (steps, stochastic neurons of the core) integers.
    noise: dict[int, np.ndarray] = field(default_factory=dict)
    noise_bits: int = 8


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() and abs(x) < 2**53 else repr(float(x))


def _core_address(arch: str, core: int) -> str:
    return f"{core // 4}.{core % 4}" if arch == "loihi" else f"{core}.0"


def _input_trains(net: Network, steps: int | None, inputs: Mapping[str, Any] | None,
                  seed: int = 0) -> list[list[int]]:
    """Each input's spike train (0/1 per step), in network order; a Poisson stimulus (with
    ``steps`` given) as spikec's simulator draws it for trial 0 of ``seed``."""
    trains = []
    stimuli = net.stimuli
    drawn: dict[str, list[int]] | None = None
    for name in net.inputs():
        given = (inputs or {}).get(name)
        if given is None:
            stim = stimuli.get(name)
            if isinstance(stim, PoissonRate):
                if steps is None:
                    raise ExportError(f"input '{name}': a Poisson stimulus draws from spikec's random"
                                      " streams; a run draws it (spikec run), a netlist needs spike steps")
                if drawn is None:
                    drawn = _poisson_draws(net, steps, inputs, seed)
                trains.append(drawn[name])
                continue
            times = list(stim.times) if isinstance(stim, SpikeTimes) else []
        else:
            times = [int(t) for t in given]
        length = steps if steps is not None else (max(times) + 1 if times else 0)
        row = [0] * length
        for t in times:
            if 0 <= t < length:
                row[t] = 1
        trains.append(row)
    return trains


def _poisson_draws(net: Network, steps: int, inputs: Mapping[str, Any] | None, seed: int
                   ) -> dict[str, list[int]]:
    """Every input's train as the simulator plans trial 0 of ``seed`` (its Poisson draws)."""
    from spikec.backends.stimulus import plan_inputs

    plan = plan_inputs(net, steps, 1, inputs, seed, 0)
    rows = plan.raster[:, 0, :].T.astype(int).tolist()
    return dict(zip(net.names(plan.neurons), rows, strict=True))


def _neuron_uniforms(net: Network, steps: int, seed: int) -> np.ndarray:
    """The uniforms spikec's simulator draws for trial 0 of ``seed``: (steps, stochastic
    neurons), the stochastic neurons (non-input, ``p < 1``) in network order."""
    from spikec.backends.stimulus import NEURON_STREAM, trial_rng

    count = int(np.count_nonzero(~net.is_input & (net.p < 1.0)))
    return trial_rng(seed, 0, NEURON_STREAM).random((steps, count))


def _first_problem(net: Network, idx: np.ndarray, checks: list[tuple[np.ndarray, Any]]) -> None:
    """Raise the :class:`ExportError` of the first neuron of ``idx`` (network order) that
    fails a check; a neuron failing several gets the first check's message."""
    hit = np.zeros(len(idx), dtype=bool)
    for bad, _ in checks:
        hit |= bad
    if hit.any():
        k = int(np.flatnonzero(hit)[0])
        message = next(m for bad, m in checks if bad[k])
        raise ExportError(f"neuron '{net.name_of(int(idx[k]))}': {message(k)}")


def _lif_neurons(net: Network, idx: np.ndarray, steps: int | None, target: Target | None = None
                 ) -> tuple[list[dict[str, Any]], np.ndarray, np.ndarray]:
    """Loihi soma attributes of neurons ``idx`` (the non-inputs), and every
    neuron's integer scale as :func:`~spikec.ir.analysis.integer_scales` gives it.

    Each neuron is scaled by the positive factor that makes its incoming weights,
    threshold, reset, bias and ``v0`` the smallest integers with the same ratios; the
    scaled values are exact (rounded once, as ``float(Fraction(x) * scale)``)."""
    n = len(net)
    decay, reset = net.decay[idx], net.reset[idx]
    in_order, _ = in_synapses(net)
    params = [net.threshold[idx], reset, net.bias[idx], net.v0[idx]]
    groups = np.concatenate([net.post[in_order].astype(np.int64), np.tile(idx, 4)])
    odd, low = integer_scales(groups, np.concatenate([net.weight[in_order], *params]), n)
    with np.errstate(over="ignore", under="ignore"):
        scale = np.where(odd[idx] == 0, 1.0, np.ldexp(1.0 / np.where(odd[idx] == 0, 1, odd[idx]),
                                                       np.clip(-low[idx], -2000, 2000).astype(np.int32)))
    drive_max, drive_min = drive_bounds_all(net)
    lo, hi = potential_bounds_all(net, drive_max[idx], drive_min[idx], idx)
    reach = np.maximum(np.abs(lo), np.abs(hi))
    if steps is not None and not np.isfinite(reach).all():
        weights = net.weight[in_order].tolist()
        _, indptr = in_synapses(net)
        for k in np.flatnonzero(~np.isfinite(reach)).tolist():
            i = int(idx[k])
            total = sum(abs(w) for w in weights[indptr[i]:indptr[i + 1]])
            reach[k] = abs(net.v0[i]) + abs(net.reset[i]) + steps * (abs(net.bias[i]) + total)
    with np.errstate(over="ignore", invalid="ignore"):
        scaled_reach = reach * scale
    p = net.p[idx]
    noisy = _stream_problems(net, idx, target)
    _first_problem(net, idx, [
        ((p != 1.0) & (noisy is None), lambda k: f"SANA-FE has no Bernoulli firing (p = {p[k]:g})"),
        ((p != 1.0) & (noisy is not None) & np.array([w is not None for w in noisy or [None] * len(idx)]),
         lambda k: f"its noise stream cannot run it: {(noisy or [''] * len(idx))[k]}"),
        (~np.isin(decay, (0.0, 1.0)),
         lambda k: f"SANA-FE's Loihi model truncates the potential to 1/64 every step, so a decay of"
                   f" {decay[k]:g} (neither 0 nor 1) is not exact"),
        ((decay == 1.0) & (reset != 0.0),
         lambda k: f"SANA-FE's Loihi model leaks the reset value too; with decay 1 the reset {reset[k]:g}"
                   " would be lost (only reset 0 is exact)"),
        (np.isfinite(reach) & (scaled_reach >= _INT_LIMIT),
         lambda k: f"at integer scale {scale[k]:g} its potential may reach {scaled_reach[k]:g}, past"
                   " SANA-FE's int range for 64 * V (2**31)"),
    ])
    th, rs, bs, v0 = (scaled_values(x, odd[idx], low[idx]).tolist() for x in params)
    attrs = [{"threshold": t - 0.5, "reset": r, "bias": b, "leak_decay": 1.0 - d, "potential": v}
             for t, r, b, d, v in zip(th, rs, bs, decay.tolist(), v0, strict=True)]
    return attrs, odd, low


def _stream_problems(net: Network, idx: np.ndarray, target: Target | None) -> list[str | None] | None:
    """Per neuron of ``idx``, why the target's noise stream cannot run it (``None``: it can,
    or it is deterministic); ``None`` for a target without a noise stream."""
    if target is None or target.noise_kind != "stream":
        return None
    out: list[str | None] = [None] * len(idx)
    stochastic = np.flatnonzero(net.p[idx] < 1.0)
    if len(stochastic):
        from spikec.chip.noise import plan_noise

        plan = plan_noise(net, target, idx[stochastic])
        for k, why in zip(stochastic.tolist(), plan.problem, strict=True):
            out[k] = why
    return out


def _noise_streams(net: Network, core: np.ndarray, target: Target, steps: int, seed: int
                   ) -> dict[int, np.ndarray]:
    """Each core's noise stream: (steps, its stochastic neurons in network order), 0 where
    spikec's uniform is below the neuron's ``p`` (it may fire), else ``θ - high - 1`` at its
    integer scale (it stays under threshold)."""
    from spikec.chip.noise import plan_noise

    stochastic = np.flatnonzero(~net.is_input & (net.p < 1.0))
    if not len(stochastic):
        return {}
    plan = plan_noise(net, target, stochastic)
    push = (plan.theta - plan.high - 1).astype(np.int64)
    u = _neuron_uniforms(net, steps, seed)
    values = np.where(u < net.p[stochastic][None, :], 0, push[None, :])
    where = core[stochastic]
    return {int(c): values[:, where == c] for c in np.unique(where).tolist()}


def _truenorth_neurons(net: Network, idx: np.ndarray, target: Target) -> list[dict[str, Any]]:
    """SANA-FE ``truenorth`` soma attributes: decay-0 neurons as they are (``bias`` adds every
    step: the linear leak); on a target with a ``floor``, decay-1 gates in the chip form
    ``floor-gates`` gives them (:mod:`spikec.chip.linear_leak`): their leak as ``bias`` and the
    floor at 0 as SANA-FE's reverse threshold 0 with ``saturate`` (a potential <= 0 that does
    not fire becomes 0); on a target with a stochastic threshold, stochastic neurons in their
    random-mask form (:func:`spikec.chip.noise.threshold_chip_form`, ``random_mask``)."""
    from spikec.chip.noise import threshold_noise_bits

    p, decay = net.p[idx], net.decay[idx]
    gate = (decay == 1.0) & bool(target.floor)
    bits = threshold_noise_bits(target)
    rand = (p != 1.0) & (bits is not None)  # on the random mask (spikec.chip.noise)
    _first_problem(net, idx, [
        ((p != 1.0) & ~rand, lambda k: f"SANA-FE has no Bernoulli firing (p = {p[k]:g})"),
        (((decay != 0.0) & ~gate) | (net.v0[idx] != 0.0),
         lambda k: "SANA-FE's TrueNorth model has no multiplicative leak and no initial potential"
                   + (" (decay must be 0, or 1 for a gate on the potential floor, and v0 must be 0)"
                      if target.floor else " (decay and v0 must be 0)"))])
    columns = (net.threshold[idx].tolist(), net.reset[idx].tolist(), net.bias[idx].tolist())
    attrs: list[dict[str, Any]] = [{"threshold": t, "reset": r, "bias": b}
                                   for t, r, b in zip(*columns, strict=True)]
    chipped = np.flatnonzero(gate | rand)
    if len(chipped):
        from spikec.chip.linear_leak import chip_neurons

        chip = chip_neurons(net, idx[chipped], bits)  # refuses, naming it, a neuron with no chip form
        mask = chip.mask if chip.mask is not None else np.zeros(len(chipped), dtype=np.int64)
        for k, t, leak, r, floor, m in zip(chipped.tolist(), chip.threshold.tolist(), chip.leak.tolist(),
                                           chip.reset.tolist(), chip.floor.tolist(), mask.tolist(),
                                           strict=True):
            row: dict[str, Any] = {"threshold": t, "reset": r, "bias": leak}
            if floor:
                row.update(reverse_threshold=0, reverse_reset_mode="saturate")
            if m:  # SANA-FE adds std::rand() & mask to v for both tests: statistical, not seeded
                row["random_mask"] = m
            attrs[k] = row
    return attrs


def build_sanafe(net: Network, placement: Placement, target: Target, steps: int | None = None,
                 inputs: Mapping[str, Any] | None = None, seed: int = 0) -> SanafeModel:
    """The SANA-FE model of ``net``; raises :class:`ExportError` for anything not exact.
    Stochastic neurons and Poisson stimuli draw from spikec's streams for trial 0 of
    ``seed`` (a run needs ``steps``)."""
    arch = target.sanafe_arch
    if arch is None:
        raise ExportError(f"target '{target.name}' models no SANA-FE architecture;"
                          " use --target sanafe-loihi or --target sanafe-truenorth")
    is_input = net.is_input
    if bool(is_input.all()):
        raise ExportError(f"network '{net.name}' has no (non-input) neurons; SANA-FE needs at least one")
    model = SanafeModel(arch, net.name, bound_steps=steps, cores=placement.num_cores)
    core = placement.core_array(net)
    trains = _input_trains(net, steps, inputs, seed)
    names = net.names()
    rank = np.where(is_input, np.cumsum(is_input) - 1, np.cumsum(~is_input) - 1).tolist()
    model.address = [f"in.{r}" if inp else f"n.{r}" for r, inp in zip(rank, is_input.tolist(), strict=True)]
    model.names = dict(zip(model.address, names, strict=True))
    # Inputs take the input units of their core in network order.
    ins = np.flatnonzero(is_input)
    by_core = np.argsort(core[ins], kind="stable")
    slot = np.empty(len(ins), dtype=np.int64)
    slot[by_core] = np.arange(len(ins)) - np.searchsorted(core[ins][by_core], core[ins][by_core])
    unit = "loihi_inputs" if arch == "loihi" else "truenorth_inputs"
    soma = dict(zip(ins.tolist(), [f"{unit}[{k}]" for k in slot.tolist()], strict=True))
    if arch == "loihi" and target.noise_kind == "stream":
        stochastic = np.flatnonzero(~is_input & (net.p < 1.0))
        soma.update({i: f"loihi_noise_{c}" for i, c in zip(stochastic.tolist(), core[stochastic].tolist(),
                                                            strict=True)})
    where = {c: _core_address(arch, c) for c in np.unique(core).tolist()}
    model.mappings = [(a, where[c], soma.get(i)) for i, (a, c) in enumerate(zip(model.address, core.tolist(),
                                                                                   strict=True))]
    model.inputs = [(model.address[i], {"spikes": t}) for i, t in zip(ins.tolist(), trains, strict=True)]
    idx = np.flatnonzero(~is_input)
    if arch == "loihi":
        attrs, odd, low = _lif_neurons(net, idx, steps, target)
        if steps is not None and target.noise_kind == "stream":
            model.noise = _noise_streams(net, core, target, steps, seed)
            model.noise_bits = target.noise_bits or 8
        elif bool(np.any(net.p[idx] < 1.0)):
            raise ExportError("stochastic neurons read a noise stream spikec writes for a run: give the"
                              " number of steps (spikec run)")
    else:
        attrs = _truenorth_neurons(net, idx, target)
        odd = low = np.zeros(0, dtype=np.int64)
    model.neurons = list(zip([model.address[i] for i in idx.tolist()], attrs, strict=True))
    order = edge_order(net)
    pre, post, delay = net.pre[order], net.post[order], net.delay[order]
    late = np.flatnonzero(delay != 1)
    if len(late):
        j = int(late[0])
        raise ExportError(f"synapse {names[pre[j]]} -> {names[post[j]]}: delay {int(delay[j])}; SANA-FE's"
                          " synapses deliver after 1 step only (run the delay-legalize pass)")
    weight = scaled_values(net.weight[order], odd[post], low[post]) if arch == "loihi" else net.weight[order]
    model.edges = (pre.astype(np.int64), post.astype(np.int64), np.array(weight, dtype=np.float64))
    return model


def render_sanafe(model: SanafeModel) -> str:
    """SANA-FE's YAML network and mapping text (deterministic)."""
    lines = [f"# SANA-FE network generated by spikec for the {model.arch} architecture.",
             "# Addresses (group.index) of the spikec neurons:"]
    lines += [f"#   {addr} = {name}" for addr, name in model.names.items()]
    lines += ["network:", f"  name: {_yaml_name(model.name)}", "  groups:"]
    for group, rows in (("in", model.inputs), ("n", model.neurons)):
        if not rows:
            continue
        lines += [f"    - name: {group}", "      attributes: {log_spikes: true}", "      neurons:"]
        for addr, attrs in rows:
            body = ", ".join(
                f"{k}: [{', '.join(map(str, v))}]" if isinstance(v, list)
                else f"{k}: {v}" if isinstance(v, str) else f"{k}: {_num(v)}"
                for k, v in attrs.items())
            lines.append(f"        - {addr.split('.')[1]}: {{{body}}}")
    pre, post, weight = model.edges
    lines.append("  edges:" if len(pre) else "  edges: []")
    address = model.address
    lines += [f"    - {address[a]} -> {address[b]}: {{weight: {_num(w)}}}"
              for a, b, w in zip(pre.tolist(), post.tolist(), weight.tolist(), strict=True)]
    lines.append("mappings:")
    for addr, core, soma in model.mappings:
        extra = f", soma: \"{soma}\"" if soma else ""
        lines.append(f"  - {addr}: {{core: {core}{extra}}}")
    return "\n".join(lines) + "\n"


def _yaml_name(name: str) -> str:
    clean = "".join(ch if ch.isalnum() or ch in "_-" else "_" for ch in name)
    return clean or "spikec"


_LOIHI_TILES = "    - name: loihi_tile[0..31]\n"
_LOIHI_CORES = "        - name: loihi_core[0..3]\n"
_LOIHI_INPUT_UNIT = "            - name: loihi_inputs"


def _noisy_loihi(text: str, noise: Mapping[int, str], bits: int) -> str:
    """Loihi's architecture with a soma unit ``loihi_noise_C`` (reading the stream file
    ``noise[C]``) on each core C that holds stochastic neurons: the tile and core ranges are
    written out one by one (same ids, in order) so those cores differ."""
    at = text.find(_LOIHI_TILES)
    if at < 0 or _LOIHI_CORES not in text[at:] or _LOIHI_INPUT_UNIT not in text[at:]:
        raise ExportError("SANA-FE's loihi.yaml is not the 2.2.9 layout spikec knows")
    head, tiles = text[:at], text[at + len(_LOIHI_TILES):]
    cut = tiles.find(_LOIHI_CORES)
    tile_attrs, cores = tiles[:cut], tiles[cut + len(_LOIHI_CORES):]
    lif = cores[cores.find("            - name: loihi_lif\n"):]
    lif_attrs = lif[lif.find("              attributes:\n"):lif.find(_LOIHI_INPUT_UNIT)]
    out = [head]
    for t in range(32):
        out += [f"    - name: loihi_tile[{t}..{t}]\n", tile_attrs]
        for j in range(4):
            c = 4 * t + j
            body = cores
            if c in noise:
                unit = (f"            - name: loihi_noise_{c}\n{lif_attrs}"
                        f"                noise: \"{noise[c]}\"\n                noise_bits: {bits}\n")
                # after loihi_lif: a neuron mapped without a soma name takes the first unit
                body = body.replace(_LOIHI_INPUT_UNIT, unit + _LOIHI_INPUT_UNIT, 1)
            out += [f"        - name: loihi_core[{j}..{j}]\n", body]
    return "".join(out)


def arch_text(arch: str, cores: int | None = None, noise: Mapping[int, str] | None = None,
              noise_bits: int = 8) -> str:
    """The architecture YAML: SANA-FE's bundled file. TrueNorth's gets an input unit and,
    given ``cores``, only that many tiles (rows of 64): SANA-FE visits every core every
    step, and the 4,096-core chip takes ~20 s per run whatever the network's size.
    Loihi's gets, given ``noise`` (core -> stream file), a noisy soma unit on those cores."""
    folder = _examples()
    text = (folder / f"{arch}.yaml").read_text(encoding="utf-8")
    if arch == "loihi" and noise:
        text = _noisy_loihi(text, noise, noise_bits)
    if arch == "truenorth":
        marker = "          synapse:\n"
        tiles = "    - name: truenorth_tile[0..4095]\n"
        height = "    height: 64\n"
        if marker not in text or tiles not in text or height not in text:
            raise ExportError("SANA-FE's truenorth.yaml is not the 2.2.9 layout spikec knows")
        text = text.replace(marker, _TN_INPUTS + marker, 1)
        if cores is not None:
            rows = max(1, math.ceil(cores / 64))
            text = text.replace(tiles, f"    - name: truenorth_tile[0..{rows * 64 - 1}]\n", 1)
            text = text.replace(height, f"    height: {rows}\n", 1)
    return text


def _examples() -> Any:
    try:
        return resources.files("sanafe.examples")
    except ModuleNotFoundError:
        raise ExportError("SANA-FE is not installed: pip install sanafe==2.2.9") from None


def write_sanafe(path: str | os.PathLike[str], model: SanafeModel) -> list[str]:
    """Write the network/mapping file at ``path`` and the architecture file beside it
    (``PATH.arch.yaml``); return the paths written."""
    out = Path(path)
    arch_path = out.with_name(out.stem + ".arch.yaml")
    streams = {c: out.with_name(f"{out.stem}.noise{c}.txt").resolve() for c in model.noise}
    try:
        for c, values in model.noise.items():
            write_text_atomic(streams[c], "".join(f"{v}\n" for v in values.reshape(-1).tolist()))
        files = {c: str(f) for c, f in streams.items()}
        write_text_atomic(arch_path, arch_text(model.arch, model.cores, files, model.noise_bits))
        write_text_atomic(out, render_sanafe(model))
    except OSError as exc:
        raise ExportError(f"cannot write {out}: {exc.strerror or exc}") from None
    return [str(out), str(arch_path), *(str(f) for f in streams.values())]


def emit_sanafe(path: str | os.PathLike[str], net: Network, placement: Placement, target: Target,
                passes: list[str] | None = None, diagnostics: list[Any] | None = None) -> list[str]:
    """The ``sanafe`` emitter (:mod:`spikec.backends.formats`): the network and its
    architecture file; returns both paths."""
    return write_sanafe(path, build_sanafe(net, placement, target))


@dataclass
class SanafeResult:
    """A SANA-FE run: ``spikes[name]`` bool (1, steps), energy (J) and simulated time (s)."""

    steps: int
    spikes: dict[str, np.ndarray]
    energy: dict[str, float]
    sim_time: float
    raw: dict[str, Any]

    def spike_times(self, name: str) -> list[list[int]]:
        """Spike steps of ``name`` (one trial), like :meth:`SimResult.spike_times`."""
        return [np.flatnonzero(self.spikes[name][0]).tolist()]


@contextlib.contextmanager
def _quiet_stdout() -> Iterator[None]:
    """Silence SANA-FE's progress line (it prints through Python's ``sys.stdout``)."""
    with contextlib.redirect_stdout(io.StringIO()):
        yield


def run_sanafe(net: Network, placement: Placement, target: Target, steps: int,
               inputs: Mapping[str, Any] | None = None, workdir: str | os.PathLike[str] | None = None,
               timing_model: str = "detailed", seed: int = 0) -> SanafeResult:
    """Emit ``net`` for SANA-FE, run ``steps`` steps there and read back the spikes; random
    draws (noise streams, Poisson stimuli) are spikec's for trial 0 of ``seed``."""
    try:
        import sanafe
    except ImportError:
        raise ExportError("SANA-FE is not installed: pip install sanafe==2.2.9") from None
    import tempfile

    model = build_sanafe(net, placement, target, steps, inputs, seed)
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        net_path = Path(tmp) / "network.yaml"
        write_sanafe(net_path, model)
        try:
            arch = sanafe.load_arch(str(net_path.with_name("network.arch.yaml")))
            snn = sanafe.load_net(str(net_path), arch)
            chip = sanafe.SpikingChip(arch)
            chip.load(snn)
            with _quiet_stdout():
                raw = chip.sim(steps, spike_trace=True, timing_model=timing_model)
        except (RuntimeError, ValueError, sanafe.HardwareMappingError) as exc:
            raise ExportError(f"SANA-FE failed: {exc}") from None
    spikes = {name: np.zeros((1, steps), dtype=bool) for name in model.names.values()}
    for t, fired in enumerate(raw.get("spike_trace") or []):
        for address in fired:
            spikes[model.names[f"{address.group_name}.{address.neuron_offset}"]][0, t] = True
    energy = {k: float(v) for k, v in dict(raw.get("energy", {})).items()}
    return SanafeResult(steps, spikes, energy, float(raw.get("sim_time", 0.0)), raw)
