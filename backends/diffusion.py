"""Moved to :mod:`spikec.diffusion.solver`; this old path re-exports it for one release."""

from spikec.diffusion.solver import *  # noqa: F403
from spikec.diffusion.solver import __all__  # noqa: F401
