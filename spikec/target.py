"""Moved to :mod:`spikec.chip.target`; this old path re-exports it for one release."""

from spikec.chip.target import *  # noqa: F403
from spikec.chip.target import __all__  # noqa: F401
