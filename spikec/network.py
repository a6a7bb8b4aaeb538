"""Moved to :mod:`spikec.ir.network`; this old path re-exports it for one release."""

from spikec.ir.network import *  # noqa: F403
from spikec.ir.network import __all__  # noqa: F401
