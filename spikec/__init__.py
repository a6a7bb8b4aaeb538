"""spikec: a compiler for spiking neural algorithms.

The public API::

    import spikec
    net = spikec.Network()
    net.input("x")
    net.neuron("y", threshold=2, decay=1)
    net.synapse("x", "y", weight=2)
    result = spikec.simulate(net, steps=5, inputs={"x": [0]})
    result.spike_times("y")        # [[1]]
"""

from spikec._version import __version__
from spikec.api import SimResult, Simulator, import_model, load, loads, open_network, simulate
from spikec.errors import (
    NetworkError,
    NetworkFileError,
    SimulationError,
    SourceLocation,
    SpikecError,
    VerifyError,
)
from spikec.network import Network, Neuron, PoissonRate, Probe, SpikeTimes, Synapse
from spikec.printer import format_network
from spikec.serialize import load_network, save
from spikec.verify import verify

__all__ = [
    "__version__",
    "Network",
    "Neuron",
    "Synapse",
    "Probe",
    "SpikeTimes",
    "PoissonRate",
    "SpikecError",
    "NetworkError",
    "VerifyError",
    "NetworkFileError",
    "SimulationError",
    "SourceLocation",
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
]
