"""Moved to :mod:`spikec.ir.decoders`; this old path re-exports it for one release."""

from spikec.ir.decoders import *  # noqa: F403
from spikec.ir.decoders import __all__  # noqa: F401
