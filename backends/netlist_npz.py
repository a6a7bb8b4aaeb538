"""The spikec netlist in the binary network format: placed networks too large for JSON.

A netlist NPZ is a network NPZ (:mod:`spikec.ir.binary`, ``spikec-network-npz``)
with a ``netlist`` object in its JSON header (``format`` ``spikec-netlist``, its
``version``, the target's summary, the passes run, the diagnostics, the number
of cores) and the member ``netlist.core`` (int32, one per neuron: its core;
core ``c`` is core ``c % cores_per_chip`` of chip ``c // cores_per_chip``). On a
target with a linear leak (TrueNorth) it also holds each neuron's chip registers
as ``netlist.chip.threshold``, ``.leak``, ``.reset``, ``.v0`` (int64) and
``.floor`` (bool: a floor at 0), and ``.mask`` (int64: the stochastic threshold's
mask, on chips that have one), zeros for inputs, as the JSON netlist's
per-neuron ``chip`` objects do. Synapse and routing tables are not stored: they
are the network's synapses grouped by the core of their target, and
:func:`spikec.chip.placement.routing_tables` rebuilds the routes.

Any reader of network NPZ files reads a netlist NPZ as its network
(``spikec sim FILE.npz``); :func:`load_netlist_npz` also returns the placement,
after checking the cores and the chip registers against the parameters.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from spikec.chip.linear_leak import chip_neurons
from spikec.chip.noise import threshold_noise_bits
from spikec.chip.placement import Placement
from spikec.chip.target import Target
from spikec.errors import Diagnostic, NetworkFileError, SpikecError
from spikec.ir.binary import read_npz, save_npz
from spikec.ir.network import Network
from spikec.ir.serialize import _short

__all__ = ["write_netlist_npz", "load_netlist_npz", "is_netlist_npz_header"]

_FORMAT = "spikec-netlist"
_VERSION = 2
_REGISTERS = ("threshold", "leak", "reset", "v0")


def _registers(net: Network, noise_bits: int | None = None) -> dict[str, np.ndarray]:
    """Every neuron's chip registers (zeros for inputs), as the arrays the file holds (with
    ``netlist.chip.mask`` on a chip with a stochastic threshold)."""
    idx = np.flatnonzero(~net.is_input)
    chip = chip_neurons(net, idx, noise_bits)
    out = {f"netlist.chip.{k}": np.zeros(len(net), dtype=np.int64) for k in _REGISTERS}
    for key, values in zip(_REGISTERS, (chip.threshold, chip.leak, chip.reset, chip.v0), strict=True):
        out[f"netlist.chip.{key}"][idx] = values
    floor = np.zeros(len(net), dtype=bool)
    floor[idx] = chip.floor
    out["netlist.chip.floor"] = floor
    if noise_bits is not None:
        mask = np.zeros(len(net), dtype=np.int64)
        mask[idx] = chip.mask if chip.mask is not None else 0
        out["netlist.chip.mask"] = mask
    return out


def write_netlist_npz(path: str | os.PathLike[str], net: Network, placement: Placement, target: Target,
                      passes: list[str] | None = None, diagnostics: list[Diagnostic] | None = None) -> None:
    """Write the compiled ``net`` placed by ``placement`` on ``target`` as a netlist NPZ."""
    section: dict[str, Any] = {
        "format": _FORMAT, "version": _VERSION, "target": target.summary(), "passes": list(passes or []),
        "cores": placement.num_cores, "diagnostics": [str(d) for d in diagnostics or []],
    }
    arrays: dict[str, np.ndarray] = {"netlist.core": placement.core_array(net).astype(np.int32)}
    if target.linear_leak:
        arrays.update(_registers(net, threshold_noise_bits(target)))
    save_npz(net, path, header={"netlist": section}, arrays=arrays)


def is_netlist_npz_header(header: Any) -> bool:
    """Whether a network NPZ header carries a netlist section."""
    return isinstance(header, dict) and isinstance(header.get("netlist"), dict)


def load_netlist_npz(path: str | os.PathLike[str]) -> tuple[Network, Placement]:
    """The network and placement of a netlist NPZ; errors name the file and the array."""
    source = os.fspath(path)
    extra = {"netlist.core": ("<i4", "N"), **{f"netlist.chip.{k}": ("<i8", "N") for k in _REGISTERS},
             "netlist.chip.floor": ("|b1", "N"), "netlist.chip.mask": ("<i8", "N")}
    net, header, found = read_npz(path, extra)
    section = header.get("netlist")
    if not isinstance(section, dict) or section.get("format") != _FORMAT:
        raise NetworkFileError(f"{source}: header.netlist: not a spikec netlist (a plain network file?)")
    if type(section.get("version")) is not int or section.get("version") != _VERSION:
        raise NetworkFileError(f"{source}: header.netlist.version: this spikec reads version {_VERSION},"
                               f" got {_short(section.get('version'))}")
    cores = section.get("cores")
    low, high = (1, len(net)) if len(net) else (0, 1)  # a placement uses every core it counts
    if type(cores) is not int or not low <= cores <= high:
        raise NetworkFileError(f"{source}: header.netlist.cores: expected an integer in [{low}, {high:,}]"
                               f" (at most one core per neuron), got {_short(cores)}")
    target = section.get("target")
    if target is not None and not isinstance(target, dict):
        raise NetworkFileError(f"{source}: header.netlist.target: expected an object, got {_short(target)}")
    linear = (target or {}).get("linear_leak") is True
    try:
        bits = threshold_noise_bits(target)
    except SpikecError as exc:
        raise NetworkFileError(f"{source}: header.netlist.{exc.message.removeprefix('error: ')}") from None
    # a mask is written on chips with a stochastic threshold; a file without one has none (zeros)
    missing = [k for k in extra if k not in found and (linear or not k.startswith("netlist.chip."))
               and k != "netlist.chip.mask"]
    if missing:
        raise NetworkFileError(f"{source}: array '{missing[0]}': missing")
    core = found["netlist.core"].astype(np.int64)
    bad = np.flatnonzero((core < 0) | (core >= cores))
    if len(bad):
        name = net.name_of(int(bad[0]))
        raise NetworkFileError(f"{source}: array 'netlist.core': neuron '{name}' is on core"
                               f" {int(core[bad[0]])}, outside 0..{cores - 1}")
    if linear:
        try:
            expected = _registers(net, bits)
        except SpikecError as exc:
            raise NetworkFileError(f"{source}: {exc.message}", exc.location) from None
        for key, want in expected.items():
            have = found[key] if key in found else np.zeros_like(want)
            differ = np.flatnonzero(have != want)
            if len(differ):
                i = int(differ[0])
                raise NetworkFileError(f"{source}: array '{key}': neuron '{net.name_of(i)}' holds"
                                       f" {have[i].item()!r}, its parameters give {want[i].item()!r}")
    return net, Placement(core, cores, net)
