"""Moved to :mod:`spikec.synth.balance`; this old path re-exports it for one release."""

from spikec.synth.balance import *  # noqa: F403
from spikec.synth.balance import __all__  # noqa: F401
