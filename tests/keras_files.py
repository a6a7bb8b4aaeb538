"""Writing Keras-layout HDF5 model files for the importer tests (h5py only, no Keras)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import h5py


def write_model(path: Path, config: Any, layers: list[dict[str, Any]],
                weights: dict[str, dict[str, Any]]) -> Path:
    """Write ``config`` (a dict, or text as it is) as ``model_config`` and, for each layer of
    ``layers``, a ``model_weights`` group holding its ``weights`` as ``name/key:0`` datasets
    listed in ``weight_names``; return ``path``."""
    with h5py.File(path, "w") as fh:
        fh.attrs["model_config"] = config if isinstance(config, str) else json.dumps(config).encode()
        root = fh.create_group("model_weights")
        for layer in layers:
            name = layer["config"]["name"]
            group = root.create_group(name)
            stored = weights.get(name, {})
            group.attrs["weight_names"] = [f"{name}/{k}:0".encode() for k in stored]
            for k, v in stored.items():
                group[f"{name}/{k}:0"] = v
    return path
