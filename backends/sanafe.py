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
``V >= threshold``, then ``V <- reset``: spikec's model with decay 0 and no
``v0`` (the target file refuses the rest). Its architecture file has no
input unit; the emitter adds one (``truenorth_inputs``, zero cost).

Both: stochastic neurons are refused; every synapse must have delay 1
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
from fractions import Fraction
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from spikec.chip.placement import Placement
from spikec.chip.target import Target
from spikec.errors import ExportError
from spikec.ir.analysis import drive_bounds, potential_bounds, scale_for
from spikec.ir.network import Network, Neuron, PoissonRate, SpikeTimes
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
    """SANA-FE's view of a placed network: groups ``in`` (inputs) and ``n`` (neurons)."""

    arch: str
    name: str
    inputs: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    neurons: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    edges: list[tuple[str, str, float]] = field(default_factory=list)
    mappings: list[tuple[str, str, str | None]] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)  # SANA-FE address -> spikec name
    bound_steps: int | None = None
    cores: int | None = None


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() and abs(x) < 2**53 else repr(float(x))


def _core_address(arch: str, core: int) -> str:
    return f"{core // 4}.{core % 4}" if arch == "loihi" else f"{core}.0"


def _input_trains(net: Network, steps: int | None, inputs: Mapping[str, Any] | None) -> dict[str, list[int]]:
    trains: dict[str, list[int]] = {}
    for name in net.inputs():
        given = (inputs or {}).get(name)
        if given is None:
            stim = net.stimuli.get(name)
            if isinstance(stim, PoissonRate):
                raise ExportError(f"input '{name}': a Poisson stimulus draws from spikec's random streams;"
                                  " give its spike steps with --input instead")
            times = list(stim.times) if isinstance(stim, SpikeTimes) else []
        else:
            times = [int(t) for t in given]
        length = steps if steps is not None else (max(times) + 1 if times else 0)
        row = [0] * length
        for t in times:
            if t < length:
                row[t] = 1
        trains[name] = row
    return trains


def _lif_params(net: Network, n: Neuron, steps: int | None) -> tuple[dict[str, Any], Fraction]:
    if n.decay not in (0.0, 1.0):
        raise ExportError(
            f"neuron '{n.name}': SANA-FE's Loihi model truncates the potential to 1/64 every step,"
            f" so a decay of {n.decay:g} (neither 0 nor 1) is not exact")
    if n.decay == 1.0 and n.reset != 0.0:
        raise ExportError(
            f"neuron '{n.name}': SANA-FE's Loihi model leaks the reset value too; with decay 1 the"
            f" reset {n.reset:g} would be lost (only reset 0 is exact)")
    weights = [w for _, _, w in net.graph.in_edges(n.name, data="weight")]
    scale = scale_for(weights + [n.threshold, n.reset, n.bias, n.v0])
    low, high = potential_bounds(n, *drive_bounds(net, n.name))
    reach = max(abs(low), abs(high))
    if not math.isfinite(reach) and steps is not None:
        reach = abs(n.v0) + abs(n.reset) + steps * (abs(n.bias) + sum(abs(w) for w in weights))
    if math.isfinite(reach) and reach * scale >= _INT_LIMIT:
        raise ExportError(
            f"neuron '{n.name}': at integer scale {float(scale):g} its potential may reach"
            f" {float(reach * scale):g}, past SANA-FE's int range for 64 * V (2**31)")

    def s(x: float) -> float:
        return float(Fraction(x) * scale)

    attrs = {"threshold": s(n.threshold) - 0.5, "reset": s(n.reset), "bias": s(n.bias),
             "leak_decay": 1.0 - n.decay, "potential": s(n.v0)}
    return attrs, scale


def build_sanafe(net: Network, placement: Placement, target: Target, steps: int | None = None,
                 inputs: Mapping[str, Any] | None = None) -> SanafeModel:
    """The SANA-FE model of ``net``; raises :class:`ExportError` for anything not exact."""
    arch = target.sanafe_arch
    if arch is None:
        raise ExportError(f"target '{target.name}' models no SANA-FE architecture;"
                          " use --target sanafe-loihi or --target sanafe-truenorth")
    if not any(not n.is_input for n in net.neurons()):
        raise ExportError(f"network '{net.name}' has no (non-input) neurons; SANA-FE needs at least one")
    model = SanafeModel(arch, net.name, bound_steps=steps, cores=placement.num_cores)
    trains = _input_trains(net, steps, inputs)
    address: dict[str, str] = {}
    scales: dict[str, Fraction] = {}
    input_slots: dict[int, int] = {}
    for n in net.neurons():
        core = placement.core[n.name]
        where = _core_address(arch, core)
        if n.is_input:
            addr = f"in.{len(model.inputs)}"
            model.inputs.append((addr, {"spikes": trains[n.name]}))
            slot = input_slots.get(core, 0)
            input_slots[core] = slot + 1
            unit = "loihi_inputs" if arch == "loihi" else "truenorth_inputs"
            model.mappings.append((addr, where, f"{unit}[{slot}]"))
        else:
            if n.p != 1.0:
                raise ExportError(f"neuron '{n.name}': SANA-FE has no Bernoulli firing (p = {n.p:g})")
            addr = f"n.{len(model.neurons)}"
            if arch == "loihi":
                attrs, scales[n.name] = _lif_params(net, n, steps)
            else:
                if n.decay != 0.0 or n.v0 != 0.0:
                    raise ExportError(f"neuron '{n.name}': SANA-FE's TrueNorth model has no multiplicative"
                                      " leak and no initial potential (decay and v0 must be 0)")
                attrs = {"threshold": n.threshold, "reset": n.reset, "bias": n.bias}
                scales[n.name] = Fraction(1)
            model.neurons.append((addr, attrs))
            model.mappings.append((addr, where, None))
        address[n.name] = addr
        model.names[addr] = n.name
    for pre, post, data in net.graph.edges(data=True):
        if data["delay"] != 1:
            raise ExportError(f"synapse {pre} -> {post}: delay {data['delay']}; SANA-FE's synapses deliver"
                              " after 1 step only (run the delay-legalize pass)")
        model.edges.append((address[pre], address[post], float(Fraction(data["weight"]) * scales[post])))
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
                f"{k}: [{', '.join(map(str, v))}]" if isinstance(v, list) else f"{k}: {_num(v)}"
                for k, v in attrs.items())
            lines.append(f"        - {addr.split('.')[1]}: {{{body}}}")
    lines.append("  edges:" if model.edges else "  edges: []")
    lines += [f"    - {a} -> {b}: {{weight: {_num(w)}}}" for a, b, w in model.edges]
    lines.append("mappings:")
    for addr, core, soma in model.mappings:
        extra = f", soma: \"{soma}\"" if soma else ""
        lines.append(f"  - {addr}: {{core: {core}{extra}}}")
    return "\n".join(lines) + "\n"


def _yaml_name(name: str) -> str:
    clean = "".join(ch if ch.isalnum() or ch in "_-" else "_" for ch in name)
    return clean or "spikec"


def arch_text(arch: str, cores: int | None = None) -> str:
    """The architecture YAML: SANA-FE's bundled file. TrueNorth's gets an input unit and,
    given ``cores``, only that many tiles (rows of 64): SANA-FE visits every core every
    step, and the 4,096-core chip takes ~20 s per run whatever the network's size."""
    folder = _examples()
    text = (folder / f"{arch}.yaml").read_text(encoding="utf-8")
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
    try:
        write_text_atomic(arch_path, arch_text(model.arch, model.cores))
        write_text_atomic(out, render_sanafe(model))
    except OSError as exc:
        raise ExportError(f"cannot write {out}: {exc.strerror or exc}") from None
    return [str(out), str(arch_path)]


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
               timing_model: str = "detailed") -> SanafeResult:
    """Emit ``net`` for SANA-FE, run ``steps`` steps there and read back the spikes."""
    try:
        import sanafe
    except ImportError:
        raise ExportError("SANA-FE is not installed: pip install sanafe==2.2.9") from None
    import tempfile

    model = build_sanafe(net, placement, target, steps, inputs)
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
