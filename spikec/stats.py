"""Moved to :mod:`spikec.chip.stats`; this old path re-exports it for one release."""

from spikec.chip.stats import *  # noqa: F403
from spikec.chip.stats import __all__  # noqa: F401
