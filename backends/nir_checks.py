"""Checks of a NIR file before nir reads it, and of node fields after.

nir reads every array whole and asserts on bad input, so a file is first checked
here (after the HDF5 checks of :func:`~spikec.backends.binary_net.open_hdf5`: no
external links, declared sizes within the limits): each node's kind, and the
rank and type of each field spikec reads, recursively through nested graphs.
After reading, every value must be a finite real number (:func:`real`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from spikec.backends.binary_net import H5_ERRORS, ImportLimits, ModelImportError, first_nonfinite
from spikec.backends.threshold_layers import MAX_WINDOW

__all__ = ["FIELDS", "check_file", "real", "pair", "refuse_kind", "KINDS"]

KINDS = ("Input, Output, Affine, Linear, Scale, Flatten, Conv1d, Conv2d, SumPool2d, AvgPool2d, Delay,"
         " Threshold, IF, LIF, CubaLIF and nested graphs")

_POOL: dict[str, tuple[int, ...] | None] = {"kernel_size": (0, 1), "stride": (0, 1), "padding": (0, 1)}
_CONV: dict[str, tuple[int, ...] | None] = {"bias": (0, 1), "stride": (0, 1), "padding": (0, 1),
                                            "dilation": (0, 1), "groups": (0,)}

#: The fields read from each node kind spikec imports, with the ranks they may have
#: (None: any). Each is a dataset of real numbers (a convolution's padding may be text).
FIELDS: dict[str, dict[str, tuple[int, ...] | None]] = {
    "Input": {"shape": (1,)}, "Output": {"shape": (1,)},
    "Affine": {"weight": (2,), "bias": (0, 1)}, "Linear": {"weight": (2,)}, "Scale": {"scale": None},
    "Conv2d": {"weight": (4,), **_CONV}, "Conv1d": {"weight": (3,), **_CONV},
    "SumPool2d": _POOL, "AvgPool2d": _POOL,
    "Flatten": {"start_dim": (0,), "end_dim": (0,)},
    "Delay": {"delay": None},
    "Threshold": {"threshold": None},
    "IF": {"r": None, "v_threshold": None},
    "LIF": {"tau": None, "r": None, "v_leak": None, "v_threshold": None},
    "CubaLIF": {"tau_syn": None, "tau_mem": None, "r": None, "v_leak": None, "v_threshold": None},
    "NIRGraph": {},
}
_OPTIONAL: dict[str, dict[str, tuple[int, ...] | None]] = {
    "Conv2d": {"input_shape": (0, 1)}, "Conv1d": {"input_shape": (0, 1)}, "IF": {"v_reset": None},
    "LIF": {"v_reset": None}, "CubaLIF": {"v_reset": None, "w_in": None}, "Flatten": {"input_type": (1,)},
}

#: The least value of each integer field nir computes with while reading a node.
_LOWEST = {"stride": 1, "dilation": 1, "kernel_size": 1, "padding": 0, "groups": 1}

_NON_SPIKING = {
    "LI": "a leaky integrator (its output is a potential, not spikes)",
    "I": "an integrator (its output is a potential, not spikes)",
    "CubaLI": "a current-based leaky integrator (its output is a potential, not spikes)",
}


def refuse_kind(kind: str) -> ModelImportError:
    """The error for a node kind spikec does not import."""
    if kind in _NON_SPIKING:
        return ModelImportError(f"spikec cannot import NIR {kind} nodes: {_NON_SPIKING[kind]}; spikec"
                                f" neurons output spikes (it reads {KINDS})")
    return ModelImportError(f"spikec cannot import NIR {kind} nodes (it reads {KINDS})")


def _h5py() -> Any:
    import h5py

    return h5py


def _scalar_text(ds: Any, where: str) -> str:
    h5py = _h5py()
    if not isinstance(ds, h5py.Dataset) or ds.shape != () or ds.dtype.kind not in "SOU":
        raise ModelImportError(f"'{where}' is not a text dataset")
    try:
        raw = ds[()]
        return raw.decode("utf-8") if isinstance(raw, bytes) else str(raw)
    except (*H5_ERRORS, UnicodeDecodeError) as exc:
        raise ModelImportError(f"'{where}' cannot be read as text ({exc})") from None


def _check_field(node: str, kind: str, field: str, ds: Any, ranks: tuple[int, ...] | None) -> None:
    h5py = _h5py()
    if not isinstance(ds, h5py.Dataset):
        raise ModelImportError(f"node '{node}': '{field}' is a group, not a dataset")
    dk = ds.dtype.kind
    if kind.startswith("Conv") and field == "padding" and dk in "SO":
        return  # 'same' / 'valid', checked when the node is read
    if dk == "c":
        raise ModelImportError(f"node '{node}': {field} has complex values; spikec reads real numbers")
    if dk not in "biuf" or (dk == "f" and ds.dtype.itemsize > 8):
        raise ModelImportError(f"node '{node}': {field} holds {ds.dtype} values, not real numbers")
    if ranks is not None and ds.ndim not in ranks:
        raise ModelImportError(f"node '{node}': {field} of shape {tuple(int(d) for d in ds.shape)}; a {kind}"
                               f" {field} has {' or '.join(map(str, ranks))} dimensions")
    if field in _LOWEST:  # nir divides by these while it reads the node: check them first
        if ds.size > 2:
            raise ModelImportError(f"node '{node}': {field} of shape {tuple(int(d) for d in ds.shape)};"
                                   " expected one or two integers")
        try:
            values = np.asarray(ds[()], dtype=np.float64).reshape(-1)
        except H5_ERRORS as exc:
            raise ModelImportError(f"node '{node}': {field} cannot be read ({exc})") from None
        pair(values, field, node, _LOWEST[field])


def _check_graph(group: Any, where: str, prefix: str) -> None:
    h5py = _h5py()
    if not isinstance(group.get("nodes"), h5py.Group):
        raise ModelImportError(f"no '{where}/nodes' group")
    edges = group.get("edges")
    if edges is not None and (not isinstance(edges, h5py.Dataset) or edges.dtype.kind not in "SOU"
                              and edges.size):
        raise ModelImportError(f"dataset '{where}/edges': expected a list of (from, to) node names")
    if edges is not None and edges.size and (edges.ndim != 2 or edges.shape[1] != 2):
        raise ModelImportError(f"dataset '{where}/edges': shape {tuple(int(d) for d in edges.shape)};"
                               " expected (edges, 2)")
    for name, sub in group["nodes"].items():
        shown = prefix + name
        if not isinstance(sub, h5py.Group):
            raise ModelImportError(f"node '{shown}': a dataset, not a node group")
        if "type" not in sub:
            raise ModelImportError(f"node '{shown}': no 'type'")
        kind = _scalar_text(sub["type"], f"{where}/nodes/{name}/type")
        if kind not in FIELDS:
            raise ModelImportError(f"node '{shown}': {refuse_kind(kind).message}")
        if kind == "NIRGraph":
            if not isinstance(sub.get("nodes"), h5py.Group) or "edges" not in sub:
                raise ModelImportError(f"node '{shown}': a nested graph; spikec imports flat graphs and"
                                       " flattens nested ones, but this one has no 'nodes' group and"
                                       " 'edges'")
            _check_graph(sub, f"{where}/nodes/{name}", f"{shown}.")
            continue
        for field, ranks in FIELDS[kind].items():
            if field not in sub:
                raise ModelImportError(f"node '{shown}': a {kind} node needs '{field}'")
            _check_field(shown, kind, field, sub[field], ranks)
        for field, ranks in _OPTIONAL.get(kind, {}).items():
            if field in sub:
                _check_field(shown, kind, field, sub[field], ranks)


def check_file(fh: Any) -> None:
    """The structure of an open NIR file (after the HDF5 checks), before nir reads any of it."""
    h5py = _h5py()
    top = fh.get("node")
    if not isinstance(top, h5py.Group) or not isinstance(top.get("nodes"), h5py.Group):
        raise ModelImportError("no '/node' graph with '/node/nodes'; not a NIR file")
    kind = _scalar_text(top.get("type"), "/node/type") if "type" in top else "NIRGraph"
    if kind != "NIRGraph":
        raise ModelImportError(f"'/node' is a {kind} node, not a NIRGraph")
    _check_graph(top, "/node", "")


def real(value: Any, field: str, node: str, limits: ImportLimits | None = None) -> np.ndarray:
    """A node field as a float64 array of finite real numbers, or an error naming the node."""
    if isinstance(value, (str, bytes)):
        raise ModelImportError(f"node '{node}': {field} is text ({value[:40]!r}), not numbers")
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError):
        raise ModelImportError(f"node '{node}': {field} is not an array of numbers") from None
    if arr.dtype.kind == "c":
        raise ModelImportError(f"node '{node}': {field} has complex values; spikec reads real numbers")
    if arr.dtype.kind not in "biuf":
        raise ModelImportError(f"node '{node}': {field} holds {arr.dtype} values, not real numbers")
    (limits or ImportLimits.from_env()).values(arr.size, arr.nbytes, f"node '{node}': {field}")
    out = arr.astype(np.float64)
    bad = first_nonfinite(out)
    if bad is not None:
        raise ModelImportError(f"node '{node}': {field}: {bad}; values must be finite")
    return out


def pair(value: Any, what: str, node: str, low: int = 1) -> tuple[int, int]:
    """One or two integers from ``low`` to :data:`MAX_WINDOW` (a stride, a window side)."""
    arr = real(value, what, node).reshape(-1)
    if arr.size == 1:
        arr = np.repeat(arr, 2)
    if arr.size != 2 or np.any(arr != np.round(arr)) or np.any(arr < low) or np.any(arr > MAX_WINDOW):
        shown = [int(v) if v == round(v) else float(v) for v in arr.tolist()]
        raise ModelImportError(f"node '{node}': {what} must be one or two integers from {low} to"
                               f" {MAX_WINDOW:,}, got {shown}")
    return int(arr[0]), int(arr[1])
