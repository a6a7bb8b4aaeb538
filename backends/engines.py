"""Which engine runs a simulation: ``engine=`` names one, ``"auto"`` chooses by the run's size
and length and, for large runs, by the network's activity (:mod:`spikec.backends.event`)."""

from __future__ import annotations

import os
import sys
from typing import Any

from spikec.errors import SimulationError, did_you_mean

__all__ = ["ENGINES", "choose_engine", "cell_bytes"]

ENGINES = ("auto", "numpy", "native", "numba", "event")
# Below this much work (neurons x steps x trials) "auto" uses numpy: setting up a compiled
# kernel costs more than it saves. The native kernel loads in about a millisecond (once
# built, see spikec.backends.native); numba's first use in a process pays for importing
# numba and loading its cached kernel (about 0.4-0.8 s measured here, against about 25 ns a
# neuron-step for numpy and 9 for the compiled kernels on the sim_throughput network), so
# "auto" falls back to numba only for runs where that pays.
_KERNEL_WORK = 2_000_000
_KERNEL_WORK_COLD = 40_000_000
# ... unless the run is long: numpy's Python loop costs about 20 us a step however small the
# network (a 168-neuron diffusion circuit ran 10x slower on numpy than native at 1,000 steps).
_NUMPY_STEPS = 64
_NUMBA_MODULE = "spikec.backends._kernel"


def choose_engine(engine: str, work: int, steps: int = 0) -> Any:
    """The compiled kernel function (native, numba or event), or None for the numpy engine. A large
    "auto" run with a C compiler is the event engine unless more than a quarter of the neurons is
    touched per step, at the start or over a first block of steps (spikec.backends.event.auto)."""
    if not isinstance(engine, str):
        raise SimulationError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")
    source = "engine"
    if engine == "auto" and os.environ.get("SPIKEC_ENGINE", "").strip():
        engine, source = os.environ["SPIKEC_ENGINE"].strip(), "SPIKEC_ENGINE"
    if engine not in ENGINES:
        shown = engine if len(engine) <= 40 else engine[:40] + "..."
        where = "" if source == "engine" else "SPIKEC_ENGINE: "
        raise SimulationError(f"{where}unknown engine '{shown}'{did_you_mean(engine, ENGINES)};"
                              f" expected one of {', '.join(ENGINES)}")
    if engine == "numpy" or (engine == "auto" and work < _KERNEL_WORK and steps < _NUMPY_STEPS):
        return None
    if engine == "event":
        from spikec.backends import event
        return event.engine()
    if engine in ("auto", "native"):
        from spikec.backends import event, native

        if native.library() is not None:
            return event.auto(native.run_block) if engine == "auto" else native.run_block
        if engine == "native":
            raise SimulationError(f"engine 'native' is not available: {native.unavailable()}")
        if _NUMBA_MODULE not in sys.modules and work < _KERNEL_WORK_COLD:
            return None  # numba's start-up would not pay
    try:
        from spikec.backends._kernel import run_block
    except ImportError:
        if engine == "numba":
            raise SimulationError("engine 'numba' needs the numba package: pip install numba") from None
        return None
    return run_block


def cell_bytes(kernel: Any, plan: Any = None) -> int:
    """Bytes per cell of an input window: its raster, plus for an engine that reads events the
    events of a window where every cell spikes (flat index, step and column, int32 column) when
    they are made from a raster (Poisson or dense inputs; the ``plan`` is unknown before it is made).
    Events made from spike keys are bounded by the plan's own memory check instead."""
    if not getattr(kernel, "sparse_inputs", False):
        return 1
    if plan is not None and not len(plan.poisson) and plan.dense is None:
        return 1
    return 29
