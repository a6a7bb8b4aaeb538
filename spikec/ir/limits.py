"""Size ceilings shared by every reader of networks: the ``.spk`` front end, the JSON and
NPZ readers and the model importers all refuse more than ``SPIKEC_MAX_NEURONS`` neurons
and ``SPIKEC_MAX_SYNAPSES`` synapses, read here with one syntax and one set of defaults.

The defaults keep a network within about 4 GiB of the array IR (about 75 bytes per
neuron of an array and 28 per synapse): see :class:`spikec.dsl.limits.Limits`.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping

from spikec.errors import LimitError

__all__ = ["DEFAULT_MAX_NEURONS", "DEFAULT_MAX_SYNAPSES", "env_count", "size_limit"]

DEFAULT_MAX_NEURONS = 20_000_000
DEFAULT_MAX_SYNAPSES = 64_000_000

_DEFAULTS = {"SPIKEC_MAX_NEURONS": DEFAULT_MAX_NEURONS, "SPIKEC_MAX_SYNAPSES": DEFAULT_MAX_SYNAPSES}


def env_count(var: str, text: str) -> int:
    """A positive whole number from an environment variable: ``20000000``, ``20_000_000``
    or ``2e7``; anything else (``abc``, ``-5``, ``nan``, ``1e400``, ``2.5``, thousands of
    digits) is a :class:`LimitError` naming the variable."""
    shown = text if len(text) <= 40 else text[:40] + "..."
    plain = text.strip().replace("_", "")
    value: int | None = None
    if plain.isdigit() and len(plain) <= 30:
        value = int(plain)
    elif len(plain) <= 30:
        try:
            number = float(plain)
        except ValueError:
            number = math.nan
        if math.isfinite(number) and number.is_integer() and abs(number) < 1e30:
            value = int(number)
    if value is None or value < 1:
        raise LimitError(f"{var}: expected a positive integer (such as 20000000 or 2e7), got {shown!r}")
    return value


def size_limit(var: str, environ: Mapping[str, str] | None = None) -> int:
    """The ceiling ``var`` (``SPIKEC_MAX_NEURONS`` or ``SPIKEC_MAX_SYNAPSES``): the
    environment's value if set, else the default."""
    env = os.environ if environ is None else environ
    text = env.get(var, "")
    return env_count(var, text) if text.strip() else _DEFAULTS[var]
