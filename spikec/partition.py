"""Moved to :mod:`spikec.chip.placement`; this old path re-exports it for one release."""

from spikec.chip.placement import *  # noqa: F403
from spikec.chip.placement import __all__  # noqa: F401
