"""Probe decoders: turning recorded spikes into values.

Each decoder takes the spikes of a probe's neurons as a bool array of shape
(trials, steps, k) and returns one JSON-ready value per trial:

- ``count``: spikes per neuron (an int when the probe names one neuron,
  else a list of ints, one per neuron);
- ``first``: step of the first spike per neuron, ``None`` if it never fired;
- ``rate``: spikes per neuron divided by the number of steps;
- ``binary``: the integer ``sum_i 2**i * s_i(t)`` (neuron i of the probe is
  bit i, little-endian) as ``[step, value]`` pairs for every step where any
  neuron of the probe fires;
- ``field``: a diffusion solver's walkers per mesh node at each model step
  (a list of model steps, each the mesh of counts, for the complete ones),
  read with the probe's key and its ``info["shape"]``
  (:func:`count_field`);
- ``label``: the class at every step (a list of ``steps`` ints), read with the
  probe's decode key as ``argmax_c sum_i (2 s_i(t) - 1)(2 key[c][i] - 1)``
  (Whetstone's Softmax_Decode; ties go to the lowest class). A deep net
  streamed one frame per step gives frame k's class at step k + latency.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from spikec.errors import SpikecError, did_you_mean
from spikec.ir.network import DECODERS, Network, Probe

__all__ = ["decode", "decode_probes", "probe_spike_names", "label_scores", "count_field", "count_field_rows",
           "count_exit_rows", "field_bytes", "decode_bytes", "FIELD_CELLS", "DECODER_FUNCTIONS"]


def _per_neuron(values: np.ndarray, single: bool) -> list[Any]:
    rows = values.tolist()
    return [row[0] if single else row for row in rows]


def _count(spikes: np.ndarray) -> list[Any]:
    return _per_neuron(spikes.sum(axis=1), spikes.shape[2] == 1)


def _first(spikes: np.ndarray) -> list[Any]:
    fired = spikes.any(axis=1)
    first = np.argmax(spikes, axis=1)
    values = np.where(fired, first, -1).tolist()
    out = [[None if x < 0 else x for x in row] for row in values]
    return [row[0] if spikes.shape[2] == 1 else row for row in out]


def _rate(spikes: np.ndarray) -> list[Any]:
    steps = max(spikes.shape[1], 1)
    return _per_neuron(spikes.sum(axis=1) / steps, spikes.shape[2] == 1)


def _binary(spikes: np.ndarray) -> list[Any]:
    k = spikes.shape[2]
    if k > 62:
        # Python ints have no width limit; build them exactly.
        powers: Any = [1 << i for i in range(k)]
        out = []
        for trial in spikes:
            steps = np.flatnonzero(trial.any(axis=1))
            out.append([[int(t), sum(p for p, s in zip(powers, trial[t], strict=True) if s)] for t in steps])
        return out
    values = np.zeros(spikes.shape[:2], dtype=np.int64)  # (trials, steps), one bit per neuron
    for i in range(k):
        values |= spikes[:, :, i].astype(np.int64) << i
    return [
        [[int(t), int(row[t])] for t in np.flatnonzero(trial.any(axis=1))]
        for trial, row in zip(spikes, values, strict=True)
    ]


def label_scores(spikes: np.ndarray, key: np.ndarray | Sequence[Sequence[float]]) -> np.ndarray:
    """Class scores ``sum_i (2 s_i - 1)(2 key[c][i] - 1)`` of spikes shaped (..., k).

    ``key`` has one row per class and k columns; the result has shape
    (..., classes). With a 0/1 key every score is an exact small integer.
    """
    signs = 2.0 * np.asarray(spikes, dtype=float) - 1.0
    return np.asarray(signs @ (2.0 * np.asarray(key, dtype=float) - 1.0).T)


def _label(spikes: np.ndarray, key: Any, info: Any = None) -> list[Any]:
    if key is None:
        raise SpikecError("the label decoder needs a decode key")
    width = len(key[0]) if len(key) else 0
    if width != spikes.shape[2]:
        raise SpikecError(
            f"the decode key has {width} columns but the probe has {spikes.shape[2]} neurons")
    classes = np.argmax(label_scores(spikes, key), axis=-1)  # (trials, steps)
    return [row.tolist() for row in classes]


DECODER_FUNCTIONS: dict[str, Callable[[np.ndarray], list[Any]]] = {
    "count": _count,
    "first": _first,
    "rate": _rate,
    "binary": _binary,
}
def _field(spikes: np.ndarray, key: Any, info: Any) -> list[Any]:
    if key is None or not info or "shape" not in info:
        raise SpikecError("the field decoder needs a decode key and the mesh shape")
    counts, complete = count_field(spikes, key[0], info["shape"])
    return [[window.tolist() for window, done in zip(trial, ok, strict=True) if done]
            for trial, ok in zip(counts, complete, strict=True)]


# Decoders that read the probe's decode key besides its spikes.
_KEYED_DECODERS: dict[str, Callable[[np.ndarray, Any, Any], list[Any]]] = {
    "label": _label, "field": _field}
assert set(DECODER_FUNCTIONS) | set(_KEYED_DECODERS) == set(DECODERS)


def decode(decoder: str, spikes: np.ndarray, key: Any = None, info: Any = None) -> list[Any]:
    """Apply ``decoder`` to spikes of shape (trials, steps, k); one value per trial.

    ``key`` is the decode key of a ``label`` decoder (one row per class) or a
    ``field`` decoder (one row: each neuron's node), ``info`` the probe's info
    (a ``field`` decoder reads the mesh shape there).
    """
    keyed = _KEYED_DECODERS.get(decoder)
    if keyed is not None:
        return keyed(np.asarray(spikes, dtype=bool), key, info)
    fn = DECODER_FUNCTIONS.get(decoder)
    if fn is None:
        raise SpikecError(
            f"unknown decoder '{decoder}'{did_you_mean(decoder, DECODERS)}"
        )
    return fn(np.asarray(spikes, dtype=bool))


def probe_spike_names(probe: Probe) -> list[tuple[str, str]]:
    """``(reported name, neuron)`` pairs of a raw probe: the label itself for one
    neuron, ``label[i]`` for the i-th neuron of an array probe."""
    if not probe.array and len(probe.neurons) == 1:
        return [(probe.label, probe.neurons[0])]
    return [(f"{probe.label}[{i}]", n) for i, n in enumerate(probe.neurons)]


def decode_probes(net: Network, spikes: dict[str, np.ndarray]) -> dict[str, list[Any]]:
    """Decoded values of every decoder probe of ``net``, keyed by probe label.

    ``spikes`` maps neuron names to (trials, steps) bool arrays (a simulation
    result's ``spikes``) and must hold every probed neuron.
    """
    out: dict[str, list[Any]] = {}
    for probe in net.probes:
        if probe.decoder is None:
            continue
        stack = np.stack([spikes[n] for n in probe.neurons], axis=2)
        values = decode(probe.decoder, stack, probe.key, probe.info)
        if probe.array and len(probe.neurons) == 1 and probe.decoder not in ("binary", "label", "field"):
            values = [[v] for v in values]  # an array of one neuron still gives lists
        out[probe.label] = values
    return out


#: Spike cells (neuron x trial x step) a field count scans at once: its temporaries
#: (a copy of the block and the coordinates of its spikes) stay under about 64 bytes each.
FIELD_CELLS = 1 << 18


def count_field(spikes: np.ndarray, nodes: Sequence[float], shape: Sequence[int],
                windows: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Walker counts per window and node from the spikes of a ``field`` probe.

    ``spikes`` has shape (trials, steps, k) over the probe's neurons;
    ``nodes[j]`` is neuron j's mesh node, -1 for a clock (the probe's key
    row, :meth:`spikec.diffusion.Readout.node_row`), and ``shape`` the mesh shape. Returns
    ``(counts, complete)``: counts of shape (trials, windows, *shape) and a
    bool (trials, windows) saying which windows closed within the run
    (incomplete ones hold what was seen so far). ``windows`` defaults to the
    most complete windows of any trial.
    """
    spikes = np.asarray(spikes, dtype=bool)
    if spikes.ndim != 3:
        raise SpikecError(f"a field probe's spikes have shape (trials, steps, neurons), got {spikes.shape}")
    counts, complete, _ = count_field_rows(spikes.transpose(2, 0, 1), nodes, shape, windows)
    return counts, complete


def count_field_rows(data: np.ndarray, nodes: Sequence[float], shape: Sequence[int],
                     windows: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`count_field` of spikes laid out (k, trials, steps), as a simulation records
    them, without copying them whole: the neurons, trials and steps are scanned in blocks
    of at most :data:`FIELD_CELLS` cells. Also returns, per trial, the step of the clock
    spike that closes the last window (0 when it never came)."""
    k, trials, steps = data.shape
    node_arr = np.asarray(nodes, dtype=float)
    shape = tuple(int(n) for n in shape)
    n_nodes = int(np.prod(shape)) if shape else 0
    if len(node_arr) != k or len(shape) not in (1, 2):
        raise SpikecError(f"bad field decode key for a probe of {k} neurons")
    is_clock = node_arr < 0
    window_of_step = _windows_of_steps(data, np.flatnonzero(is_clock))
    ends = window_of_step[:, -1].astype(np.int64) + 1 if steps else np.zeros(trials, dtype=np.int64)
    if windows is None:
        windows = max(int(ends.max()) - 1, 0) if trials else 0
    windows = max(windows, 0)
    counted = np.flatnonzero(~is_clock)
    counts = _count_by_window(data, counted, node_arr[counted].astype(np.int64), window_of_step, windows,
                              n_nodes, 0)
    complete = np.arange(windows)[None, :] < (ends[:, None] - 1)
    finish = np.argmax(window_of_step >= windows, axis=1) if steps else np.zeros(trials, dtype=np.int64)
    return counts.reshape((trials, windows, *shape)), complete, finish


def count_exit_rows(data: np.ndarray, clock_rows: Any, rows: Any, nodes: Any, n_nodes: int, windows: int,
                    lag: int = 1) -> np.ndarray:
    """Exit tallies of a diffusion solver: the spikes of loss gates ``rows`` of ``data`` (laid out
    (k, trials, steps), as a simulation records them) counted per window and per node ``nodes[j]``
    of row j: shape (trials, windows, n_nodes). A loss gate fires ``lag`` neural steps after its
    walker's release, and the release lies in the window of the walker's model step (cut by the
    spikes of ``clock_rows`` as :func:`count_field_rows` cuts them), so a spike at step t counts
    in the window of step ``t - lag``: window m holds the walkers lost in the move from model step
    m to m + 1. The rows are read in blocks of at most :data:`FIELD_CELLS` cells."""
    rows = np.asarray(rows, dtype=np.int64)
    node_of = np.asarray(nodes, dtype=np.int64)
    if len(node_of) != len(rows):
        raise SpikecError(f"bad exits decode key: {len(rows)} gates, {len(node_of)} nodes")
    window_of_step = _windows_of_steps(data, np.asarray(clock_rows, dtype=np.int64))
    return _count_by_window(data, rows, node_of, window_of_step, max(windows, 0), n_nodes, lag)


def _windows_of_steps(data: np.ndarray, clocks: np.ndarray) -> np.ndarray:
    """(trials, steps) int32: the window each step lies in, cut by the spikes of rows
    ``clocks`` of ``data`` (k, trials, steps); -1 before the first clock spike."""
    _, trials, steps = data.shape
    ticks = np.zeros((trials, steps), dtype=np.int32)  # clock spikes per step
    for r in clocks.tolist():
        ticks += data[r]
    window_of_step = np.cumsum(ticks, axis=1, dtype=np.int32)
    window_of_step -= 1
    return window_of_step


def _count_by_window(data: np.ndarray, rows: np.ndarray, node_of: np.ndarray, window_of_step: np.ndarray,
                     windows: int, n_nodes: int, lag: int) -> np.ndarray:
    """(trials, windows, n_nodes) counts of the spikes of ``rows`` of ``data``, row j counting
    for node ``node_of[j]``, a spike at step t in the window of step ``t - lag``; read in
    blocks of at most :data:`FIELD_CELLS` cells."""
    _, trials, steps = data.shape
    counts = np.zeros((trials, windows, n_nodes), dtype=np.int64)
    sb = max(1, min(steps, FIELD_CELLS))
    tb = max(1, min(trials, FIELD_CELLS // sb))
    rb = max(1, min(len(rows), FIELD_CELLS // (tb * sb)))
    for r0 in range(0, len(rows), rb):
        block = rows[r0:r0 + rb]
        for b0 in range(0, trials, tb):
            for s0 in range(0, steps, sb):
                j, b, t = np.nonzero(data[block, b0:b0 + tb, s0:s0 + sb])
                b += b0
                t += s0 - lag
                win = np.where(t >= 0, window_of_step[b, np.maximum(t, 0)], -1)
                keep = (win >= 0) & (win < windows)
                np.add.at(counts, (b[keep], win[keep], node_of[r0 + j[keep]]), 1)
    return counts


def field_bytes(k: int, trials: int, steps: int, windows: int, nodes: int) -> int:
    """Bytes :func:`count_field_rows` allocates for ``k`` neurons, ``trials`` x ``steps``
    and ``windows`` x ``nodes`` counts: the window of every step (int32, and a transient
    int32 for the clock ticks), the counts, and one block's copy and spike coordinates."""
    block = min(FIELD_CELLS, k * trials * steps)
    return 8 * trials * steps + 8 * trials * windows * nodes + 65 * block + 8 * trials


def decode_bytes(decoder: str, k: int, trials: int, steps: int, spikes: int,
                 classes: int = 0, nodes: int = 0, windows: int = 0) -> int:
    """Bytes :func:`decode_probes` allocates for one probe of ``k`` neurons over ``trials``
    x ``steps`` holding ``spikes`` spikes: the stacked spikes, the decoder's temporaries and
    its Python values (``classes`` of a ``label`` key, mesh ``nodes`` and ``windows`` of a
    ``field``). The
    JSON text of the values is left to the caller (about 3 bytes a value per copy)."""
    cells = k * trials * steps
    lanes = trials * steps
    if decoder in ("count", "rate", "first"):
        return cells + 72 * trials * k
    if decoder == "binary":  # the word per step, and [step, value] pairs where any fires
        return cells + 24 * lanes + 160 * min(spikes, lanes)
    if decoder == "label":  # spikes as floats twice, the scores, the classes as a list
        return cells + 16 * cells + 8 * lanes * (classes + 2)
    if decoder == "field":
        return cells + field_bytes(k, trials, steps, windows, nodes) + 48 * trials * windows * nodes
    return cells
