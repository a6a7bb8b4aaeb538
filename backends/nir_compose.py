"""The linear part of a NIR graph as sparse matrices, and the per-node time shifts.

Between two spiking (or input) NIR nodes every path runs through linear nodes only
(``Affine``, ``Linear``, ``Scale``, ``Flatten``, ``Conv1d``/``Conv2d``, the pools,
``Delay`` and the pass-through ``Input``/``Output`` of flattened subgraphs). Such a
path is one linear map, so the input of a spiking node ``v`` is a sum of *terms*
``M z_u(k - lag)`` (``M`` a scipy sparse matrix from ``u``'s neurons to ``v``'s
inputs, ``lag`` the NIR steps of the path's ``Delay`` nodes plus one for each edge
closing a ``Delay``-free cycle) and of *constants* ``c`` that start at a NIR step.
:class:`Value` holds them; merges add Values, a linear node multiplies one.

Every tensor is indexed by NIR's own flat C-order index (``[c, h, w]`` for images);
the importer maps those onto spikec's neuron order at the end.

:func:`shifts` solves the time shifts: ``s(v) >= s(u) + 1 - lag`` for every term
with a nonzero matrix (longest paths by Bellman-Ford), ``s(Input) = 0``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from spikec.backends.binary_net import ImportLimits, ModelImportError
from spikec.backends.threshold_layers import Pads, conv2d_synapses, pool2d_synapses

__all__ = ["Value", "back_edges", "shifts", "conv_matrix", "pool_matrix", "affine_matrix", "plain"]

Key = tuple[str, int]  # (source node, lag in NIR steps)


def plain(shape: Iterable[int]) -> str:
    """A shape as plain integers for messages: ``(8, 8)``, ``(4,)``."""
    dims = tuple(int(d) for d in shape)
    return str(dims)


@dataclass
class Value:
    """A NIR tensor as a linear function of spiking nodes' spikes: ``terms[(u, lag)]``
    maps ``z_u(k - lag)`` onto this tensor's flat entries, ``consts[start]`` is added
    from NIR step ``start`` on. ``macs`` counts the linear nodes' multiply-accumulates
    (every connection, zero weights included) and ``via`` names the linear node that
    produced it (None for a spike tensor itself)."""

    shape: tuple[int, ...]
    terms: dict[Key, sp.csr_matrix] = field(default_factory=dict)
    consts: dict[int, np.ndarray] = field(default_factory=dict)
    macs: int = 0
    via: str | None = None
    kind: str = ""

    @property
    def size(self) -> int:
        """Number of entries."""
        return int(np.prod(self.shape, dtype=np.int64))

    @classmethod
    def spikes(cls, node: str, shape: tuple[int, ...]) -> Value:
        """The spikes of ``node`` itself (an identity term)."""
        n = int(np.prod(shape, dtype=np.int64))
        return cls(shape, {(node, 0): sp.identity(n, format="csr", dtype=np.float64)})

    def reshaped(self, shape: tuple[int, ...]) -> Value:
        """The same entries under another shape (C-order, as NIR's Flatten)."""
        return Value(tuple(shape), self.terms, self.consts, self.macs, self.via, self.kind)

    def apply(
        self, matrix: sp.csr_matrix, shape: tuple[int, ...], what: str, limits: ImportLimits, macs: int = 0
    ) -> Value:
        """``matrix @ self`` (a linear node), refused past ``limits`` before any product."""
        terms: dict[Key, sp.csr_matrix] = {}
        cols = np.bincount(matrix.indices, minlength=matrix.shape[1]) if matrix.nnz else None
        for key, m in self.terms.items():
            if cols is None or m.nnz == 0:
                continue
            rows = np.diff(m.indptr)
            bound = int(np.dot(cols.astype(np.int64), rows.astype(np.int64)))
            limits.synapses(min(bound, matrix.shape[0] * m.shape[1]), what)
            prod = (matrix @ m).tocsr()
            prod.eliminate_zeros()
            if prod.nnz:
                terms[key] = prod
        consts = {start: np.asarray(matrix @ c, dtype=np.float64) for start, c in self.consts.items()}
        return Value(tuple(shape), terms, consts, self.macs + macs)

    def lagged(self, lags: np.ndarray | int) -> Value:
        """Delayed by ``lags`` NIR steps (one number, or one per entry)."""
        arr = np.asarray(lags, dtype=np.int64).reshape(-1)
        if arr.size == 1:
            d = int(arr[0])
            return Value(
                self.shape,
                {(u, lag + d): m for (u, lag), m in self.terms.items()},
                {start + d: c for start, c in self.consts.items()},
                self.macs,
                self.via,
                self.kind,
            )
        out = Value(self.shape, macs=self.macs, via=self.via, kind=self.kind)
        for d in np.unique(arr).tolist():
            mask = (arr == d).astype(np.float64)
            part = Value(
                self.shape,
                {k: (sp.diags(mask) @ m).tocsr() for k, m in self.terms.items()},
                {s: c * mask for s, c in self.consts.items()},
            )
            out = out.plus(part.lagged(int(d)), "")
        return out

    def plus(self, other: Value, node: str) -> Value:
        """The sum of two tensors of the same size (a merge)."""
        if self.size != other.size:
            raise ModelImportError(
                f"node '{node}' sums inputs of shapes {plain(self.shape)} and {plain(other.shape)}"
            )
        terms = dict(self.terms)
        for key, m in other.terms.items():
            terms[key] = (terms[key] + m).tocsr() if key in terms else m
        consts = dict(self.consts)
        for start, c in other.consts.items():
            consts[start] = consts[start] + c if start in consts else c
        return Value(self.shape, terms, consts, self.macs + other.macs)


def affine_matrix(
    weight: np.ndarray, in_shape: tuple[int, ...], node: str
) -> tuple[sp.csr_matrix, tuple[int, ...]]:
    """``y = W x`` over the last axis of the input (NIR's typing), or over the whole
    input flattened when W has as many columns as the input has entries."""
    out, n_in = weight.shape
    size = int(np.prod(in_shape, dtype=np.int64))
    w = sp.csr_matrix(weight)
    if len(in_shape) >= 1 and in_shape[-1] == n_in:
        rest = size // n_in
        if rest == 1:
            return w, (*in_shape[:-1], out)
        return sp.kron(sp.identity(rest, format="csr"), w, format="csr"), (*in_shape[:-1], out)
    if size == n_in:
        return w, (out,)
    raise ModelImportError(
        f"node '{node}': weight of shape {plain(weight.shape)} for an input of shape"
        f" {plain(in_shape)} ({size} values)"
    )


def _hwc_map(shape: tuple[int, int, int]) -> np.ndarray:
    """NIR flat indices of a (C, H, W) tensor, arranged channels-last (H, W, C)."""
    return np.arange(int(np.prod(shape))).reshape(shape).transpose(1, 2, 0)


def _nir_rows(post: np.ndarray, out: tuple[int, int, int]) -> np.ndarray:
    """NIR flat index of channels-last output units numbered (oh, ow, c)."""
    oh, ow, c = out
    return (post % c) * (oh * ow) + (post // c)


def conv_matrix(
    weight: np.ndarray,
    in_shape: tuple[int, int, int],
    stride: tuple[int, int],
    pads: Pads,
    dilation: tuple[int, int],
    limits: ImportLimits,
) -> tuple[sp.csr_matrix, tuple[int, ...], int]:
    """A Conv2d (weight (C_out, C_in, kh, kw)) on a (C, H, W) tensor: matrix, output shape
    (C_out, OH, OW) and multiply-accumulates."""
    syn, out = conv2d_synapses(
        _hwc_map(in_shape), weight.transpose(2, 3, 1, 0), stride, pads, dilation, limits
    )
    n_in = int(np.prod(in_shape))
    rows = _nir_rows(syn.post, out)
    matrix = sp.csr_matrix((syn.weight, (rows, syn.pre)), shape=(int(np.prod(out)), n_in))
    return matrix, (out[2], out[0], out[1]), syn.macs


def pool_matrix(
    in_shape: tuple[int, int, int],
    kernel: tuple[int, int],
    stride: tuple[int, int],
    pads: Pads,
    weight: float,
    limits: ImportLimits,
) -> tuple[sp.csr_matrix, tuple[int, ...]]:
    """A sum pool (``weight`` 1) or average pool (``1 / window``) on a (C, H, W) tensor."""
    syn, out = pool2d_synapses(_hwc_map(in_shape), kernel, stride, pads, limits)
    rows = _nir_rows(syn.post, out)
    matrix = sp.csr_matrix(
        (np.full(len(rows), weight), (rows, syn.pre)), shape=(int(np.prod(out)), int(np.prod(in_shape)))
    )
    return matrix, (out[2], out[0], out[1])


# -- graph structure ---------------------------------------------------------------------------


def back_edges(
    nodes: Sequence[str], edges: Sequence[tuple[str, str]], roots: Sequence[str], cut: set[str]
) -> set[tuple[str, str]]:
    """Edges closing a cycle in a depth-first search from ``roots`` (then from every node
    not yet reached, in order), following edges in file order and never those leaving a
    node of ``cut`` (Delay nodes: their cycles take time already). nirtorch executes a
    graph in this order, and such an edge carries the previous step's value."""
    succ: dict[str, list[str]] = {n: [] for n in nodes}
    for a, b in edges:
        if a not in cut:
            succ[a].append(b)
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    found: set[tuple[str, str]] = set()
    for root in [*roots, *nodes]:
        if root in state:
            continue
        state[root] = 1
        stack: list[tuple[str, int]] = [(root, 0)]
        while stack:
            here, i = stack[-1]
            if i < len(succ[here]):
                stack[-1] = (here, i + 1)
                nxt = succ[here][i]
                if state.get(nxt) == 1:
                    found.add((here, nxt))
                elif nxt not in state:
                    state[nxt] = 1
                    stack.append((nxt, 0))
            else:
                state[here] = 2
                stack.pop()
    return found


def shifts(
    populations: Sequence[str], fixed: set[str], constraints: Mapping[tuple[str, str], int]
) -> dict[str, int]:
    """The least ``s >= 0`` with ``s(v) >= s(u) + w`` for every ``(u, v): w`` and ``s = 0``
    on ``fixed`` (the Input), by Bellman-Ford; a cycle of positive weight (one that takes
    fewer NIR steps than it has neuron hops) is refused naming its nodes."""
    s = dict.fromkeys(populations, 0)
    pred: dict[str, str] = {}
    items = [(u, v, w) for (u, v), w in constraints.items() if v not in fixed]
    changed: str | None = None
    for _ in range(len(populations) + 1):
        changed = None
        for u, v, w in items:
            if s[u] + w > s[v]:
                s[v] = s[u] + w
                pred[v] = u
                changed = v
        if changed is None:
            return s
    assert changed is not None
    here = changed
    for _ in range(len(populations)):
        here = pred[here]
    cycle = [here]
    while pred[cycle[-1]] != here:
        cycle.append(pred[cycle[-1]])
    forward = list(reversed(cycle))
    names = " -> ".join([*forward, forward[0]])
    raise ModelImportError(
        f"the cycle {names} takes fewer NIR steps than it has spiking nodes (each spiking node needs"
        " one spikec step); add Delay nodes or import at a smaller dt"
    )
