"""spikec: a compiler for spiking neural algorithms.

The public API::

    import spikec
    net = spikec.Network()
    net.input("x")
    net.neuron("y", threshold=2, decay=1)
    net.synapse("x", "y", weight=2)
    result = spikec.simulate(net, steps=5, inputs={"x": [0]})
    result.spike_times("y")        # [[1]]

The names below are imported on first use, so ``import spikec`` is cheap:
it loads none of the front end (lark), the backends' optional packages
(torch, h5py, nir, sanafe, matplotlib) or the simulator until they are asked
for. ``docs/internals.md`` maps the packages.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from spikec._version import __version__

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from spikec.api import SimResult, Simulator, import_model, load, loads, open_network, simulate
    from spikec.errors import (
        BooleanError,
        CircuitError,
        CompileError,
        Diagnostic,
        DiffusionError,
        DslError,
        ElaborationError,
        ExportError,
        LimitError,
        ModelImportError,
        NetworkError,
        NetworkFileError,
        ParamError,
        ParseError,
        PipelineError,
        SimulationError,
        SourceLocation,
        SpikecError,
        SpkImportError,
        TargetError,
        TrainError,
        UsageError,
        VerifyError,
    )
    from spikec.ir import (
        Network,
        Neuron,
        PoissonRate,
        Probe,
        SpikeTimes,
        Synapse,
        format_network,
        load_network,
        save,
        verify,
    )

_ERRORS = (
    "SpikecError", "UsageError", "NetworkError", "VerifyError", "PipelineError", "NetworkFileError",
    "SimulationError", "DslError", "ParseError", "ElaborationError", "SpkImportError", "ParamError",
    "LimitError", "CompileError", "TargetError", "ExportError", "ModelImportError", "DiffusionError",
    "BooleanError", "CircuitError", "TrainError", "SourceLocation", "Diagnostic",
)

#: Where each public name lives.
_HOMES: dict[str, str] = {
    **{name: "spikec.ir" for name in (
        "Network", "Neuron", "Synapse", "Probe", "SpikeTimes", "PoissonRate", "verify", "format_network",
        "save", "load_network")},
    **{name: "spikec.api" for name in (
        "simulate", "load", "loads", "open_network", "import_model", "Simulator", "SimResult")},
    **{name: "spikec.errors" for name in _ERRORS},
}

__all__ = [
    "__version__",
    "Network",
    "Neuron",
    "Synapse",
    "Probe",
    "SpikeTimes",
    "PoissonRate",
    "verify",
    "format_network",
    "save",
    "load_network",
    "simulate",
    "load",
    "loads",
    "open_network",
    "import_model",
    "Simulator",
    "SimResult",
    "SpikecError",
    "UsageError",
    "NetworkError",
    "VerifyError",
    "PipelineError",
    "NetworkFileError",
    "SimulationError",
    "DslError",
    "ParseError",
    "ElaborationError",
    "SpkImportError",
    "ParamError",
    "LimitError",
    "CompileError",
    "TargetError",
    "ExportError",
    "ModelImportError",
    "DiffusionError",
    "BooleanError",
    "CircuitError",
    "TrainError",
    "SourceLocation",
    "Diagnostic",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'spikec' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
