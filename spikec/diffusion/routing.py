"""Routing gates of a random walk, for every node at once.

A walker at a node has outcomes ``j = 0..d-1`` with probabilities ``P_j``
(a move to a destination, or a loss) and stays with the rest. The density
and particle circuits route it through a chain of stochastic gates: gate j
fires with probability ``q_j = P_j / (P_stay + P_j + P_j+1 + ...)`` unless an
earlier gate fired, so exactly one gate fires, gate j with probability

    q_j * prod_{i<j} (1 - q_i) = P_j / (P_stay + P_0 + ... + P_d-1),

which is ``P_j`` when the node's probabilities sum to 1, and no gate with
``P_stay``. The tail sums make the last gate of a node that cannot stay
exactly ``q = 1``. Everything here is vectorized over nodes: the loops run
over the position of an outcome within its node (at most the largest degree),
and add in the same order as a loop over the node's outcomes would, so the
results are bit for bit those of ``Problem.routing``.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

__all__ = ["gate_probabilities", "chain_outcomes", "row_sums"]


def _ranks(indptr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each entry's node and its position within the node."""
    node = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))
    return node, np.arange(len(node)) - indptr[node]


def row_sums(indptr: np.ndarray, prob: np.ndarray) -> np.ndarray:
    """Each node's outcome probabilities summed in order, from 0 (as Python's ``sum``)."""
    node, rank = _ranks(indptr)
    out = np.zeros(len(indptr) - 1)
    for r in range(int(rank.max()) + 1 if len(rank) else 0):
        at = rank == r
        out[node[at]] += prob[at]
    return out


def gate_probabilities(indptr: np.ndarray, prob: np.ndarray, stay: np.ndarray) -> np.ndarray:
    """``q_j`` of every outcome (module docstring): ``rest`` starts at the node's ``stay`` and
    adds the outcomes from the last one back; ``q = min(1, P / rest)``, 0 when rest is 0."""
    node, rank = _ranks(indptr)
    degree = np.diff(indptr)
    back = degree[node] - 1 - rank  # position counted from the node's last outcome
    rest = np.asarray(stay, dtype=float).copy()
    q = np.zeros(len(prob))
    for r in range(int(back.max()) + 1 if len(back) else 0):
        at = np.flatnonzero(back == r)
        rest[node[at]] += prob[at]
        here = rest[node[at]]
        q[at] = np.where(here > 0, np.minimum(1.0, prob[at] / np.where(here > 0, here, 1.0)), 0.0)
    return q


def chain_outcomes(matrix: sp.csr_matrix, loss: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                                    np.ndarray]:
    """``(indptr, dest, prob, stay)`` of a transition matrix (sorted CSR) and a loss per node:
    each node's loss first (dest -1, when > 0), then its moves by destination; the diagonal
    is the stay."""
    n = matrix.shape[0]
    rows = np.repeat(np.arange(n), np.diff(matrix.indptr))
    move = matrix.indices != rows
    stay = np.zeros(n)
    stay[rows[~move]] = matrix.data[~move]
    lost = loss > 0
    node = np.concatenate([np.flatnonzero(lost), rows[move]])
    dest = np.concatenate([np.full(int(lost.sum()), -1, dtype=np.int64),
                           matrix.indices[move].astype(np.int64)])
    prob = np.concatenate([loss[lost], matrix.data[move]])
    order = np.lexsort((dest, node))
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(node, minlength=n), out=indptr[1:])
    return indptr, dest[order], prob[order], stay
