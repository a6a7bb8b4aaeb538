"""The table of file formats: every emitter and importer, by name and extension.

The CLI and the API read this table instead of choosing backends by hand:
``spikec compile -o OUT`` picks the emitter from ``OUT``'s extension (or
``--emit NAME``), and :func:`spikec.import_model` the importer from the
model file's. Each entry names its function by module path, so reading the
table imports no backend (nor their optional packages: nir, sanafe, h5py).

Emitters share one signature::

    emit(path, net, placement, target, passes, diagnostics) -> list of paths written

where ``net`` is a compiled network, ``placement`` its
:class:`~spikec.chip.placement.Placement`, ``passes`` the pipeline as
spelled and ``diagnostics`` the passes' notes. Importers of models share::

    read(path) -> BinaryNet

Adding a format is adding a module with that function and a row here
(``docs/internals.md``).
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from spikec.errors import UsageError, did_you_mean

__all__ = ["Format", "EMITTERS", "MODEL_IMPORTERS", "emitter", "model_importer", "MODEL_SUFFIXES"]


@dataclass(frozen=True)
class Format:
    """One emitter or importer: its name, the file extensions it owns, what it is, and
    its function as ``"module:function"`` (imported by :meth:`load`)."""

    name: str
    extensions: tuple[str, ...]
    summary: str
    function: str

    def load(self) -> Callable[..., Any]:
        """Import and return the format's function."""
        module, _, name = self.function.partition(":")
        fn: Callable[..., Any] = getattr(importlib.import_module(module), name)
        return fn


#: Emitters of compiled networks (``spikec compile -o``), in the order the CLI lists them.
EMITTERS: tuple[Format, ...] = (
    Format("netlist", (".json", ".npz"), "spikec netlist: cores, neurons, synapses, routes (JSON; NPZ for"
           " large networks)", "spikec.backends.netlist:emit_netlist"),
    Format("sanafe", (".yaml", ".yml"), "SANA-FE network and architecture (YAML)",
           "spikec.backends.sanafe:emit_sanafe"),
    Format("nir", (".nir", ".h5"), "NIR graph (HDF5)", "spikec.backends.nir_export:emit_nir"),
    Format("pynn", (".py",), "PyNN script (IF_curr_delta; NEST, SpiNNaker) and its arrays (.npz)",
           "spikec.backends.pynn_export:emit_pynn"),
)

#: Importers of trained models (``spikec.import_model``, ``import model "FILE" as NAME``).
MODEL_IMPORTERS: tuple[Format, ...] = (
    Format("keras-h5", (".h5", ".hdf5"), "Whetstone-style Keras HDF5 model",
           "spikec.backends.keras_h5:read_keras_h5"),
    Format("nir", (".nir",), "NIR graph", "spikec.backends.nir_import:read_nir"),
)

#: Model file extensions, in table order.
MODEL_SUFFIXES: tuple[str, ...] = tuple(ext for f in MODEL_IMPORTERS for ext in f.extensions)


def _suffix(path: str | os.PathLike[str]) -> str:
    return os.path.splitext(os.fspath(path))[1].lower()


def emitter(path: str | os.PathLike[str], name: str | None = None) -> Format:
    """The emitter named ``name``, else the one owning ``path``'s extension; a
    :class:`~spikec.errors.UsageError` lists the choices when there is none."""
    names = [f.name for f in EMITTERS]
    if name is not None:
        for f in EMITTERS:
            if f.name == name:
                return f
        raise UsageError(f"unknown output format '{name}'{did_you_mean(name, names)};"
                         f" expected one of {', '.join(names)}")
    suffix = _suffix(path)
    for f in EMITTERS:
        if suffix in f.extensions:
            return f
    first = [f.extensions[0] for f in EMITTERS]
    known = ", ".join(first[:-1]) + f" or {first[-1]}"
    raise UsageError(f"-o {os.fspath(path)}: cannot tell the format from the extension;"
                     f" use {known}, or give --emit ({', '.join(names)})")


def model_importer(path: str | os.PathLike[str]) -> Format | None:
    """The model importer owning ``path``'s extension, or None."""
    suffix = _suffix(path)
    for f in MODEL_IMPORTERS:
        if suffix in f.extensions:
            return f
    return None
