"""Memory accounting of simulations: the ceiling (``max_memory=``, ``SPIKEC_MAX_MEMORY``),
an estimate's peak from its parts (:meth:`spikec.backends.simulator.Simulator.memory_estimate`),
and the refusal that names the largest parts and what to change, made before anything is
allocated."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping

from spikec.errors import LimitError, SimulationError

__all__ = ["DEFAULT_MAX_MEMORY", "memory_total", "refuse", "max_memory", "parse_size", "size_text"]

#: Default ceiling on the memory one simulation may allocate (bytes); override with
#: ``max_memory=`` or the ``SPIKEC_MAX_MEMORY`` environment variable (e.g. ``8G``).
DEFAULT_MAX_MEMORY = 4 << 30


def parse_size(text: str, var: str = "SPIKEC_MAX_MEMORY") -> int:
    """Bytes from a size such as ``8G``, ``512M``, ``4GiB``, ``1e9``: a positive, finite
    number of bytes below 2^63, or a :class:`LimitError` naming ``var``."""
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
    t = text.strip().upper().removesuffix("B").removesuffix("I")
    mult = units.get(t[-1:], 1)
    number = t[:-1] if t[-1:] in units else t
    try:
        value = float(number) * mult if len(number) <= 40 else math.nan
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 1 or value >= 2**63:
        shown = text if len(text) <= 40 else text[:40] + "..."
        raise LimitError(f"{var}: expected a size in bytes such as 8G, 512M or 1e9, got {shown!r}")
    return int(value)


def size_text(n: float) -> str:
    """``1.5 GiB``, ``12.0 MiB``, ``300 bytes``: a size for messages."""
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{int(n)} bytes"


def max_memory() -> int:
    """The memory ceiling of a run: ``SPIKEC_MAX_MEMORY`` if set, else the default."""
    env = os.environ.get("SPIKEC_MAX_MEMORY")
    return parse_size(env) if env and env.strip() else DEFAULT_MAX_MEMORY


_ADVICE = {
    "recorded spikes": "record fewer neurons (record=...) or run fewer steps",
    "recorded potentials": "record the potentials of fewer neurons",
    "input spikes": "run fewer steps or trials at once",
    "Poisson draws": "run fewer steps at once",
    "currents": "give currents to fewer neurons, or run fewer steps",
    "state and delay ring": "run fewer trials at once (trial_offset= shards a run exactly)",
    "spike delivery": "run fewer trials at once, or use engine='native'",
    "random draws": "run fewer trials at once",
    "synapse table": "run at least as many steps as the longest delay, or fewer trials",
    "compiled network": "simulate a smaller network",
}


def memory_total(parts: Mapping[str, int]) -> int:
    """The peak of a run estimated by parts (:meth:`Simulator.memory_estimate`): every part
    is held at once (Poisson stimuli are drawn block by block while the run's state exists)."""
    return sum(parts.values())


def refuse(parts: Mapping[str, int], limit: int, what: str) -> None:
    """Raise SimulationError when ``parts`` (bytes by name) add up to more than ``limit``:
    the estimate, its largest parts, the limit and what to change."""
    need = memory_total(parts)
    if need <= limit:
        return
    top = sorted(((v, k) for k, v in parts.items() if v), reverse=True)[:3]
    shown = ", ".join(f"{k} {size_text(v)}" for v, k in top)
    raise SimulationError(
        f"this simulation needs about {size_text(need)} ({what}; {shown}), over the limit of"
        f" {size_text(limit)}; {_ADVICE.get(top[0][1], 'make the run smaller')},"
        " or raise max_memory / SPIKEC_MAX_MEMORY"
    )
