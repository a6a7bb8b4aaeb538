"""``import model "FILE" as NAME``: trained networks as circuits (the loader hook).

A model loader reads a trained binary-activation network from a file and
returns it as a :class:`~spikec.dsl.values.GeneratorCircuit`, which ``.spk``
then instantiates like any circuit (``let m = NAME(pixels)``, outputs
``m.*``). Loaders are chosen by file extension; a backend registers one
with :func:`register_model_loader`. None ships yet, so a model import is
reported as not available.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from spikec.dsl.errors import ElaborationError, SpkImportError
from spikec.dsl.values import GeneratorCircuit
from spikec.errors import SourceLocation, SpikecError

__all__ = ["ModelLoader", "MODEL_LOADERS", "register_model_loader", "load_model"]

#: ``loader(path, name)`` returns the model as a circuit called ``name``.
ModelLoader = Callable[[Path, str], GeneratorCircuit]

#: Registered loaders by lower-case file extension (``".h5"``, ``".nir"``).
MODEL_LOADERS: dict[str, ModelLoader] = {}


def register_model_loader(suffix: str, loader: ModelLoader) -> None:
    """Make ``import model "x<suffix>" as NAME`` call ``loader(path, NAME)``."""
    if not suffix.startswith(".") or len(suffix) < 2:
        raise ValueError(f"a model file extension starts with '.', got {suffix!r}")
    MODEL_LOADERS[suffix.lower()] = loader


def load_model(path: Path, shown: str, name: str, loc: SourceLocation) -> GeneratorCircuit:
    """Load the model at ``path`` (``shown`` in messages) as circuit ``name``."""
    suffix = path.suffix.lower()
    loader = MODEL_LOADERS.get(suffix)
    if loader is None:
        known = ", ".join(sorted(MODEL_LOADERS)) or "none"
        raise ElaborationError(
            f"import model: no loader reads '{suffix or shown}' files;"
            f" model files can be: {known}",
            loc,
        )
    if not path.is_file():
        raise SpkImportError(f"import model: cannot find '{shown}' (looked at {path})", loc)
    try:
        circuit = loader(path, name)
    except SpikecError as err:
        if err.location is None:
            raise type(err)(f"import model '{shown}': {err.message}", loc) from err
        raise
    if not isinstance(circuit, GeneratorCircuit):
        raise TypeError(f"model loader for {suffix} returned {circuit!r}, not a GeneratorCircuit")
    return circuit
