"""The top-level API: the one place (with the CLI) that joins the IR to the
language front end and the backends."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, overload

from spikec.backends.binary_net import BinaryNet
from spikec.backends.formats import MODEL_SUFFIXES, model_importer
from spikec.backends.nir_graph import NIRNet
from spikec.backends.simulator import SimResult, Simulator
from spikec.backends.simulator import simulate as _simulate
from spikec.errors import ModelImportError, NetworkFileError
from spikec.ir.binary import load_npz
from spikec.ir.network import Network
from spikec.ir.serialize import network_from_dict, read_json

if TYPE_CHECKING:
    from spikec.backends.ensemble import EnsembleResult

__all__ = ["simulate", "Simulator", "SimResult", "load", "loads", "open_network", "import_model"]


@overload
def simulate(net: Network, steps: int, inputs: Mapping[str, Any] | None = ...,
             currents: Mapping[str, Any] | None = ..., seed: int = ..., trials: int = ...,
             record: Any = ..., *, potentials: Any = ..., trial_offset: int = ...,
             max_memory: int | None = ..., progress: bool = ..., engine: str = ...,
             client: Any = ..., keep_raster: Literal[True] = ..., shard_trials: int | None = ...,
             reduce: Callable[[SimResult], Any] | None = ...) -> SimResult: ...


@overload
def simulate(net: Network, steps: int, inputs: Mapping[str, Any] | None = ...,
             currents: Mapping[str, Any] | None = ..., seed: int = ..., trials: int = ...,
             record: Any = ..., *, potentials: Any = ..., trial_offset: int = ...,
             max_memory: int | None = ..., progress: bool = ..., engine: str = ...,
             client: Any = ..., keep_raster: Literal[False], shard_trials: int | None = ...,
             reduce: Callable[[SimResult], Any] | None = ...) -> EnsembleResult: ...


def simulate(net: Network, steps: int, inputs: Mapping[str, Any] | None = None,
             currents: Mapping[str, Any] | None = None, seed: int = 0, trials: int = 1,
             record: Any = None, *, potentials: Any = False, trial_offset: int = 0,
             max_memory: int | None = None, progress: bool = False, engine: str = "auto",
             client: Any = None, keep_raster: bool = True, shard_trials: int | None = None,
             reduce: Callable[[SimResult], Any] | None = None) -> SimResult | EnsembleResult:
    """Simulate ``net`` for ``steps`` steps (:func:`spikec.backends.simulator.simulate`
    describes the arguments and the :class:`SimResult`).

    With ``client`` (a ``dask.distributed`` Client) the trials run in shards on its workers
    (``docs/distributed.md``) and give the same result as one process:

    - ``keep_raster=True``: the combined :class:`SimResult` (every shard's raster is sent back);
    - ``keep_raster=False``: an :class:`~spikec.backends.ensemble.EnsembleResult` of what the
      workers reduced (spike counts per recorded neuron and trial, decoded probes, synaptic
      events, and ``reduce(shard_result)`` of each shard when given), no raster sent;
    - ``shard_trials``: trials per shard (default: about four shards per worker thread, fewer
      trials when the memory limit requires it).
    """
    if client is None:
        if not keep_raster or shard_trials is not None or reduce is not None:
            from spikec.errors import SimulationError

            raise SimulationError("keep_raster=, shard_trials= and reduce= apply to runs on a Dask client=")
        return _simulate(net, steps, inputs, currents, seed, trials, record, potentials=potentials,
                         trial_offset=trial_offset, max_memory=max_memory, progress=progress, engine=engine)
    from spikec.backends.ensemble import simulate_ensemble

    return simulate_ensemble(net, steps, inputs, currents, seed, trials, record, potentials=potentials,
                             trial_offset=trial_offset, max_memory=max_memory, progress=progress,
                             engine=engine, client=client, keep_raster=keep_raster,
                             shard_trials=shard_trials, reduce=reduce)


def load(path: str | os.PathLike[str], **params: Any) -> Network:
    """Compile the ``.spk`` program at ``path`` into a Network.

    ``params`` override the program's top-level ``let`` bindings.
    """
    from spikec.dsl import compile_file

    return compile_file(path, params)


def loads(text: str, filename: str = "<string>", **params: Any) -> Network:
    """Compile ``.spk`` source text into a Network (``filename`` appears in errors)."""
    from spikec.dsl import compile_text

    return compile_text(text, params, filename=filename)


def open_network(path: str | os.PathLike[str], **params: Any) -> Network:
    """Load a network from a ``.spk`` program, a saved ``.json`` or ``.npz`` network, or a
    spikec netlist (``.json``, recognised by its ``"format"`` field, or ``.npz``: a network
    file with a placement, read here as its network)."""
    suffix = Path(path).suffix.lower()
    if suffix == ".spk":
        return load(path, **params)
    if suffix in (".json", ".npz") and params:
        raise NetworkFileError(
            f"{os.fspath(path)}: --param applies to .spk programs, not saved networks"
        )
    if suffix == ".npz":
        return load_npz(path)
    if suffix == ".json":
        from spikec.backends.netlist import is_netlist, netlist_from_dict

        doc = read_json(path)  # parsed once, then dispatched on its "format" field
        if is_netlist(doc):
            return netlist_from_dict(doc, os.fspath(path))[0]
        return network_from_dict(doc, os.fspath(path))
    raise NetworkFileError(
        f"{os.fspath(path)}: unknown file type '{suffix or '(none)'}'; expected .spk, .json or .npz"
    )


def import_model(path: str | os.PathLike[str], input: str = "spikes",
                 dt: float | None = None) -> BinaryNet | NIRNet:
    """Read a trained network: a Whetstone-style Keras ``.h5`` file or a ``.nir`` graph.

    ``input`` is ``"spikes"`` (binarized pixels drive input neurons) or
    ``"current"`` (real values, weighted on the host, injected into the first
    layer; layered chains only). ``dt`` is the step a NIR graph is integrated at
    (default: the file's own when spikec wrote it, else 1; ``docs/nir.md``); a Keras
    file has no dt. The result gives ``.network()``, ``.circuit(name)``,
    ``.drive(frames)`` for :func:`simulate` and ``.latency``; a layered chain (a
    :class:`BinaryNet`) also the numpy reference ``.forward``/``.predict``.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise ModelImportError(f"import_model needs a file path, got {type(path).__name__}")
    fmt = model_importer(path)
    if fmt is None:
        suffix = Path(path).suffix.lower()
        raise ModelImportError(
            f"{os.fspath(path)}: unknown model type '{suffix or '(none)'}'; expected"
            f" {', '.join(MODEL_SUFFIXES)}")
    if not Path(path).is_file():
        raise ModelImportError(f"{os.fspath(path)}: no such file")
    if dt is not None and fmt.name != "nir":
        raise ModelImportError(f"{os.fspath(path)}: dt= applies to NIR graphs; a {fmt.summary} has no"
                               " time step")
    model: BinaryNet | NIRNet = fmt.load()(path) if dt is None else fmt.load()(path, dt=dt)
    return model.with_input_mode(input)


def model_circuit(path: Path, name: str, dt: float | None = None) -> Any:
    """The loader ``import model "FILE" (dt = ...) as NAME`` calls for the built-in model
    formats (:data:`spikec.dsl.models.BUILTIN_LOADERS`): the model as a circuit with spike input."""
    return import_model(path, dt=dt).circuit(name)
