"""The compiled step kernel of the simulator (numba).

It runs the four phases of :mod:`spikec.backends.simulator` for a block of
steps with the state laid out neuron-major, trial-minor (``v[i, b]``,
``ring[slot * N + i, b]``), so the synapses of a neuron that fires in many trials
at once are read once and added to contiguous memory. Contributions reach
each ring cell in the same order as in the numpy engine (ascending
presynaptic neuron, then synapse order), so both engines give bit-identical
potentials.

Importing this module raises ImportError when numba is missing; the
simulator then falls back to its numpy engine.
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["run_block"]


@numba.njit(cache=True, nogil=True)
def run_block(
    t0: int,
    t1: int,
    v: np.ndarray,  # (N, B) float64
    ring: np.ndarray,  # (L * N, B) float64, row slot * N + i, bias pre-loaded
    bias: np.ndarray,  # (N,)
    thr: np.ndarray,  # (N,) inf for inputs
    keep: np.ndarray,  # (N,) 1 - decay
    reset: np.ndarray,  # (N,)
    input_pos: np.ndarray,  # (N,) column in raster, or -1
    stoch_pos: np.ndarray,  # (N,) column in draws, or -1
    p: np.ndarray,  # (N,)
    draws: np.ndarray,  # (t1 - t0, B, n_stoch) uniforms of this block
    raster: np.ndarray,  # (T, B, K_in) bool
    cur_pos: np.ndarray,  # (N,) column in cur, or -1
    cur: np.ndarray,  # (T, B, K_cur)
    rec_pos: np.ndarray,  # (N,) column in spikes_out, or -1
    spikes_out: np.ndarray,  # (T, B, R) bool
    pot_pos: np.ndarray,  # (N,) column in pots_out, or -1
    pots_out: np.ndarray,  # (T, B, P)
    indptr: np.ndarray,  # (N + 1,) CSR by presynaptic neuron
    offset: np.ndarray,  # (E,) delay * N + post
    weight: np.ndarray,  # (E,)
    fired_trials: np.ndarray,  # (B,) int64 scratch
) -> int:
    """Advance the state from step t0 to t1; return the synaptic events delivered.

    One pass over the neurons per step does all four phases for neuron i
    before moving to i + 1. That is the synchronous update of the semantics
    because a spike is always delivered to a later slot (delay >= 1), never
    to the slot being consumed at this step.
    """
    n, trials = v.shape
    span = ring.shape[0]  # L * N
    events = 0
    for t in range(t0, t1):
        base = (t % (span // n)) * n
        row = t - t0
        for i in range(n):
            cell = base + i
            count = 0
            ip = input_pos[i]
            if ip >= 0:
                for b in range(trials):
                    if raster[t, b, ip]:
                        fired_trials[count] = b
                        count += 1
            else:
                sp = stoch_pos[i]
                cp = cur_pos[i]
                pp = pot_pos[i]
                for b in range(trials):
                    # 1. integrate
                    x = v[i, b] + ring[cell, b]
                    ring[cell, b] = bias[i]
                    if cp >= 0:
                        x += cur[t, b, cp]
                    if pp >= 0:
                        pots_out[t, b, pp] = x
                    # 2. fire
                    spike = x >= thr[i]
                    if spike and sp >= 0:
                        spike = draws[row, b, sp] < p[i]
                    # 3. reset / leak
                    if spike:
                        v[i, b] = reset[i]
                        fired_trials[count] = b
                        count += 1
                    else:
                        v[i, b] = x * keep[i]
            if count == 0:
                continue
            rp = rec_pos[i]
            if rp >= 0:
                for c in range(count):
                    spikes_out[t, fired_trials[c], rp] = True
            # 4. deliver to slot (t + d) mod L: row base + d * N + post, wrapped once
            lo = indptr[i]
            hi = indptr[i + 1]
            events += count * (hi - lo)
            if trials == 1:
                for e in range(lo, hi):
                    target = base + offset[e]
                    target -= span * (target >= span)  # branch-free wrap: delays are random
                    ring[target, 0] += weight[e]
            elif count == trials:
                for e in range(lo, hi):
                    target = base + offset[e]
                    target -= span * (target >= span)
                    w = weight[e]
                    for b in range(trials):
                        ring[target, b] += w
            else:
                for e in range(lo, hi):
                    target = base + offset[e]
                    target -= span * (target >= span)
                    w = weight[e]
                    for c in range(count):
                        ring[target, fired_trials[c]] += w
    return events
