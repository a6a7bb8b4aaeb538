"""Moved to :mod:`spikec.diffusion.reference`; this old path re-exports it for one release."""

from spikec.diffusion.reference import *  # noqa: F403
from spikec.diffusion.reference import __all__  # noqa: F401
