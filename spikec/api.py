"""The top-level API: the one place (with the CLI) that joins the IR to the
language front end and the backends."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from spikec.backends.simulator import SimResult, Simulator, simulate
from spikec.errors import NetworkFileError
from spikec.network import Network
from spikec.serialize import load_network

__all__ = ["simulate", "Simulator", "SimResult", "load", "loads", "open_network"]


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
    """Load a network from a ``.spk`` program, a saved ``.json`` network, or a
    ``.json`` spikec netlist (recognised by its ``"format"`` field)."""
    suffix = Path(path).suffix.lower()
    if suffix == ".spk":
        return load(path, **params)
    if suffix == ".json":
        if params:
            raise NetworkFileError(
                f"{os.fspath(path)}: --param applies to .spk programs, not saved networks"
            )
        import json

        from spikec.backends.netlist import is_netlist, load_netlist

        try:
            doc = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            doc = None  # load_network reports the problem with its location
        if is_netlist(doc):
            return load_netlist(path)[0]
        return load_network(path)
    raise NetworkFileError(
        f"{os.fspath(path)}: unknown file type '{suffix or '(none)'}'; expected .spk or .json"
    )
