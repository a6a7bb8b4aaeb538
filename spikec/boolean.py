"""Moved to :mod:`spikec.synth.boolean`; this old path re-exports it for one release."""

from spikec.synth.boolean import *  # noqa: F403
from spikec.synth.boolean import __all__  # noqa: F401
