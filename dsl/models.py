"""``import model "FILE" as NAME``: trained networks as circuits (the loader hook).

A model loader reads a trained binary-activation network from a file and
returns it as a :class:`~spikec.dsl.values.GeneratorCircuit`, which ``.spk``
then instantiates like any circuit (``let m = NAME(pixels)``, outputs
``m.*``). Loaders are chosen by file extension; a backend registers one
with :func:`register_model_loader`. The formats spikec reads itself
(:data:`BUILTIN_LOADERS`: Keras HDF5 and NIR) are named by the module path
of their loader and imported only when a program first imports such a
file: the front end never imports the model importers itself (only
:mod:`spikec.api` and the CLI join the front end to the backends).
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from pathlib import Path

from spikec.dsl.values import GeneratorCircuit
from spikec.errors import ElaborationError, SourceLocation, SpikecError, SpkImportError

__all__ = ["ModelLoader", "MODEL_LOADERS", "BUILTIN_LOADERS", "register_model_loader", "load_model"]

#: ``loader(path, name)`` returns the model as a circuit called ``name`` (the built-in
#: loaders also take ``dt=``: ``import model "g.nir" (dt = 1e-4) as net``).
ModelLoader = Callable[[Path, str], GeneratorCircuit]

#: Registered loaders by lower-case file extension (``".h5"``, ``".nir"``).
MODEL_LOADERS: dict[str, ModelLoader] = {}

#: The model formats spikec reads itself: extension -> ``"module:function"`` of the loader.
BUILTIN_LOADERS: dict[str, str] = {
    ".h5": "spikec.api:model_circuit",
    ".hdf5": "spikec.api:model_circuit",
    ".nir": "spikec.api:model_circuit",
}


def _loader(suffix: str) -> ModelLoader | None:
    """The registered loader of ``suffix``, else the built-in one (imported now), else None."""
    found = MODEL_LOADERS.get(suffix)
    if found is not None:
        return found
    spec = BUILTIN_LOADERS.get(suffix)
    if spec is None:
        return None
    module, _, function = spec.partition(":")
    loader: ModelLoader = getattr(importlib.import_module(module), function)
    return loader


def register_model_loader(suffix: str, loader: ModelLoader) -> None:
    """Make ``import model "x<suffix>" as NAME`` call ``loader(path, NAME)``."""
    if not suffix.startswith(".") or len(suffix) < 2:
        raise ValueError(f"a model file extension starts with '.', got {suffix!r}")
    MODEL_LOADERS[suffix.lower()] = loader


def load_model(path: Path, shown: str, name: str, loc: SourceLocation,
               dt: float | None = None) -> GeneratorCircuit:
    """Load the model at ``path`` (``shown`` in messages) as circuit ``name``; ``dt`` (the
    step a NIR graph is read at) goes to the built-in loaders, which refuse it for Keras."""
    suffix = path.suffix.lower()
    loader = _loader(suffix)
    if loader is None:
        known = ", ".join(sorted(set(MODEL_LOADERS) | set(BUILTIN_LOADERS))) or "none"
        raise ElaborationError(
            f"import model: no loader reads '{suffix or shown}' files;"
            f" model files can be: {known}",
            loc,
        )
    if not os.path.isfile(path):  # os.path: False, not an error, for a name too long
        raise SpkImportError(f"import model: cannot find '{shown}' (looked at {path})", loc)
    if dt is not None and suffix in MODEL_LOADERS:
        raise ElaborationError(f"import model '{shown}': the loader of '{suffix}' files takes no dt", loc)
    try:
        circuit = loader(path, name) if dt is None else loader(path, name, dt=dt)  # type: ignore[call-arg]
    except SpikecError as err:
        if err.location is None:  # importers name the file first: say it once, as written
            detail = err.message.removeprefix(f"{path}: ").removeprefix(f"{os.fspath(path)}: ")
            raise type(err)(f"import model '{shown}': {detail}", loc) from err
        raise
    if not isinstance(circuit, GeneratorCircuit):
        raise TypeError(f"model loader for {suffix} returned {circuit!r}, not a GeneratorCircuit")
    return circuit
