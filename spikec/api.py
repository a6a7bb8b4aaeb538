"""The top-level API: the one place (with the CLI) that joins the IR to the
language front end and the backends."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from spikec.backends.binary_net import BinaryNet
from spikec.backends.formats import MODEL_SUFFIXES, model_importer
from spikec.backends.simulator import SimResult, Simulator, simulate
from spikec.errors import ModelImportError, NetworkFileError
from spikec.ir.binary import load_npz
from spikec.ir.network import Network
from spikec.ir.serialize import network_from_dict, read_json

__all__ = ["simulate", "Simulator", "SimResult", "load", "loads", "open_network", "import_model"]


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


def import_model(path: str | os.PathLike[str], input: str = "spikes") -> BinaryNet:
    """Read a trained binary-activation (sharpened) deep net: a Whetstone-style Keras
    ``.h5`` file or a ``.nir`` graph.

    ``input`` is ``"spikes"`` (binarized pixels drive input neurons) or
    ``"current"`` (real values, weighted on the host, injected into the first
    layer). The result gives ``.network()``, ``.circuit(name)``, ``.drive(frames)``
    for :func:`simulate`, and the numpy reference ``.forward``/``.predict``.
    """
    fmt = model_importer(path)
    if fmt is None:
        suffix = Path(path).suffix.lower()
        raise ModelImportError(
            f"{os.fspath(path)}: unknown model type '{suffix or '(none)'}'; expected"
            f" {', '.join(MODEL_SUFFIXES)}")
    if not Path(path).is_file():
        raise ModelImportError(f"{os.fspath(path)}: no such file")
    model: BinaryNet = fmt.load()(path)
    return model.with_input_mode(input)


def model_circuit(path: Path, name: str) -> Any:
    """The loader ``import model "FILE" as NAME`` calls for the built-in model formats
    (:data:`spikec.dsl.models.BUILTIN_LOADERS`): the model as a circuit with spike input."""
    return import_model(path).circuit(name)
