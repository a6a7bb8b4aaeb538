"""The compiled step kernel of the simulator (numba).

It runs the four phases of :mod:`spikec.backends.simulator` for a block of
steps with the state laid out trial-major (``v[b, i]``, ``ring[b, slot * N + i]``),
one trial at a time per core. Contributions reach
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


@numba.njit(cache=True, nogil=True, parallel=True)
def run_block(
    t0: int,
    t1: int,
    v: np.ndarray,  # (B, N) float64
    ring: np.ndarray,  # (B, L * N) float64, cell slot * N + i, bias pre-loaded
    bias: np.ndarray,  # (N,)
    thr: np.ndarray,  # (N,) inf for inputs
    keep: np.ndarray,  # (N,) 1 - decay
    reset: np.ndarray,  # (N,)
    input_pos: np.ndarray,  # (N,) column in raster, or -1
    stoch_pos: np.ndarray,  # (N,) column in draws, or -1
    p: np.ndarray,  # (N,)
    draws: np.ndarray,  # (t1 - t0, B, n_stoch) uniforms of this block
    raster: np.ndarray,  # (t1 - t0, B, K_in) bool: this block's input spikes
    cur_pos: np.ndarray,  # (N,) column in cur, or -1
    cur: np.ndarray,  # (T, B, K_cur)
    rec_pos: np.ndarray,  # (N,) column in spikes_out, or -1
    spikes_out: np.ndarray,  # (R, B, T) bool
    pot_pos: np.ndarray,  # (N,) column in pots_out, or -1
    pots_out: np.ndarray,  # (P, B, T)
    indptr: np.ndarray,  # (N + 1,) CSR by presynaptic neuron
    offset: np.ndarray,  # (E,) delay * N + post
    weight: np.ndarray,  # (E,)
    events: np.ndarray,  # (B,) int64, synaptic events delivered, accumulated
) -> None:
    """Advance every trial from step t0 to t1.

    Trials are independent, so each runs its whole block of steps on its own
    slice of the state (which then stays in cache), and trials are spread
    over the cores with ``prange``. Within a step, one pass over the neurons
    does all four phases for neuron i before moving to i + 1. That is the
    synchronous update of the semantics because a spike is always delivered
    to a later slot (delay >= 1), never to the slot being consumed.
    """
    trials, n = v.shape
    span = ring.shape[1]  # L * N
    ring_len = span // n
    for b in numba.prange(trials):
        vb = v[b]
        rb = ring[b]
        delivered = 0
        for t in range(t0, t1):
            base = (t % ring_len) * n
            row = t - t0
            for i in range(n):
                ip = input_pos[i]
                if ip >= 0:
                    spike = raster[row, b, ip]
                else:
                    # 1. integrate
                    cell = base + i
                    x = vb[i] + rb[cell]
                    rb[cell] = bias[i]
                    cp = cur_pos[i]
                    if cp >= 0:
                        x += cur[t, b, cp]
                    pp = pot_pos[i]
                    if pp >= 0:
                        pots_out[pp, b, t] = x
                    # 2. fire
                    spike = x >= thr[i]
                    sp = stoch_pos[i]
                    if spike and sp >= 0:
                        spike = draws[row, b, sp] < p[i]
                    # 3. reset / leak
                    if spike:
                        vb[i] = reset[i]
                    else:
                        vb[i] = x * keep[i]
                if not spike:
                    continue
                rp = rec_pos[i]
                if rp >= 0:
                    spikes_out[rp, b, t] = True
                # 4. deliver to slot (t + d) mod L: cell base + d * N + post, wrapped once
                lo = indptr[i]
                hi = indptr[i + 1]
                delivered += hi - lo
                for e in range(lo, hi):
                    target = base + offset[e]
                    target -= span * (target >= span)  # branch-free: delays are random
                    rb[target] += weight[e]
        events[b] += delivered
