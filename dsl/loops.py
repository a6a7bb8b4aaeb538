"""Loops of connections run as arrays: ``for i in 0..n { x[i] -> y[i + 1] }`` in one call.

A ``for`` loop whose body holds only connections, nested loops, ``if`` and
numeric ``let`` statements is run for a block of iterations at once: every
name the body binds gets one value per *row* (one iteration of the
innermost enclosing loop), computed with :mod:`spikec.dsl.vectors`; a nested
loop repeats the rows of the enclosing one; an ``if`` splits them. Each
connection gives its synapses for all rows as arrays, and the block adds
them with one :meth:`Network.add_synapses` call per connection.

The result is exactly what running the iterations one at a time gives,
synapse order included: the network keeps each neuron's outgoing synapses
in the order they were added, which the simulator's sums follow. Rows carry
their position in that order (iteration, statement, ...), and when the
connections of a block would interleave on one neuron, the block is added
in as many runs as it takes to keep the order. Whatever cannot be shown
equivalent falls back, before anything is added, to one iteration at a
time from the first iteration of the block: a value numpy might compute
differently, an index out of range, a limit that would be passed. Errors
therefore come from the ordinary path, with its messages and locations.
The work and synapse counts of the limits advance as they would.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from spikec.dsl import syntax as s
from spikec.dsl.refs import resolve, resolve_neurons
from spikec.dsl.values import Indices, Instance, Neurons, Scope
from spikec.dsl.vectors import Fallback, Rows, Value, as_delay, as_index, as_weight, evaluate_rows
from spikec.errors import ElaborationError, SpikecError

if TYPE_CHECKING:
    from spikec.dsl.elaborate import Elaborator

__all__ = ["LoopVectorizer", "MAX_ROWS"]

#: Most rows (iterations of one loop level) or synapses of one statement a block holds;
#: a larger block is split.
MAX_ROWS = 1 << 21
_SYNAPSE_PARAMS = ("weight", "delay")


class _TooBig(Exception):  # noqa: N818 - a signal
    """The block holds more rows than :data:`MAX_ROWS`."""


@dataclass
class _Level:
    """The rows of one loop level: their bindings and their keys, the columns that put
    the rows in the order the iterations run (outermost first)."""

    rows: Rows
    keys: list[np.ndarray]


@dataclass
class _Made:
    """The synapses of one connection statement for all its rows."""

    stmt: s.Connect
    pre: np.ndarray
    post: np.ndarray
    weight: Value
    delay: Value
    level: _Level
    row: np.ndarray | None  # the row of each synapse (None: synapse k is row k)
    local: np.ndarray | None  # its position among its row's synapses
    position: int  # the statement's index in its block


@dataclass
class _Block:
    """What a block of iterations makes, not yet added."""

    made: list[_Made]
    work: int
    synapses: int


def _supported(body: tuple[s.Statement, ...]) -> bool:
    for stmt in body:
        if isinstance(stmt, s.For):
            if not _supported(stmt.body):
                return False
        elif isinstance(stmt, s.If):
            if not (_supported(stmt.then) and _supported(stmt.orelse)):
                return False
        elif isinstance(stmt, s.Let):
            if stmt.index is not None:
                return False
        elif not isinstance(stmt, s.Connect):
            return False
    return True


class LoopVectorizer:
    """Runs loops of an :class:`~spikec.dsl.elaborate.Elaborator` as arrays (see the
    module docstring). ``min_iterations`` is the shortest loop worth it."""

    def __init__(self, el: Elaborator, min_iterations: int = 4) -> None:
        self.el = el
        self.min_iterations = min_iterations
        self._supported: dict[int, bool] = {}
        self._names: dict[int, frozenset[str]] = {}

    def run(self, stmt: s.For, scope: Scope, start: int, stop: int) -> tuple[int, bool]:
        """Run iterations ``start..`` of ``stmt`` as arrays, a block at a time. Returns the
        first iteration it did not run, and whether arrays may be tried again after that
        iteration has run on its own (it was too large for a block)."""
        key = id(stmt)
        ok = self._supported.get(key)
        if ok is None:
            ok = self._supported[key] = _supported(stmt.body)
        if not ok or stop - start < self.min_iterations:
            return start, False
        block = min(stop - start, MAX_ROWS)
        i = start
        while i < stop:
            size = min(block, stop - i)
            try:
                made = self._block(stmt, scope, i, i + size)
            except _TooBig:
                if size == 1:
                    return i, True
                block = max(1, size // 8)
                continue
            except Fallback:
                return i, False
            if not self._commit(made):
                return i, False
            i += size
        return stop, False

    # ---- one block, as arrays ------------------------------------------------------------

    def _block(self, stmt: s.For, scope: Scope, start: int, stop: int) -> _Block:
        if max(abs(start), abs(stop)) >= 2**62:
            raise Fallback
        n = stop - start
        values = np.arange(start, stop, dtype=np.int64)
        rows = Rows(n, [{stmt.var: values}], scope, self._names)
        top = _Level(rows, [np.arange(n, dtype=np.int64)])
        block = _Block([], n, 0)
        self._body(stmt.body, top, block)
        return block

    def _body(self, body: tuple[s.Statement, ...], level: _Level, block: _Block) -> None:
        for k, stmt in enumerate(body):
            m = level.rows.n
            if not m:
                return
            block.work += m
            if isinstance(stmt, s.Connect):
                made = self._connect(stmt, level, k)
                block.synapses += len(made.pre)
                if len(made.pre):
                    block.made.append(made)
            elif isinstance(stmt, s.For):
                self._for(stmt, level, k, block)
            elif isinstance(stmt, s.If):
                self._if(stmt, level, k, block)
            else:
                assert isinstance(stmt, s.Let)
                self._let(stmt, level)

    def _for(self, stmt: s.For, level: _Level, k: int, block: _Block) -> None:
        rows = level.rows
        start = as_index(evaluate_rows(stmt.start, rows))
        stop = as_index(evaluate_rows(stmt.stop, rows))
        counts = np.maximum(np.broadcast_to(np.asarray(stop) - np.asarray(start), (rows.n,)), 0)
        total = int(counts.sum())
        if total > MAX_ROWS:
            raise _TooBig
        block.work += total  # one unit per iteration
        if not total:
            return
        parent = np.repeat(np.arange(rows.n, dtype=np.int64), counts)
        first = np.cumsum(counts) - counts
        local = np.arange(total, dtype=np.int64) - first[parent]
        values = np.broadcast_to(np.asarray(start, dtype=np.int64), (rows.n,))[parent] + local
        inner = rows.take(parent)
        inner.blocks.append({stmt.var: values})
        keys = [c[parent] for c in level.keys] + [np.full(total, k, dtype=np.int64),
                                                   np.arange(total, dtype=np.int64)]
        self._body(stmt.body, _Level(inner, keys), block)

    def _if(self, stmt: s.If, level: _Level, k: int, block: _Block) -> None:
        rows = level.rows
        cond = evaluate_rows(stmt.cond, rows)
        if not (isinstance(cond, bool) or (isinstance(cond, np.ndarray) and cond.dtype == bool)):
            raise Fallback
        mask = np.broadcast_to(cond, (rows.n,))
        for branch, chosen in ((stmt.then, mask), (stmt.orelse, ~mask)):
            if not branch:
                continue
            picked = np.flatnonzero(chosen)
            if not len(picked):
                continue
            inner = rows.take(picked)
            inner.blocks.append({})
            keys = [c[picked] for c in level.keys] + [np.full(len(picked), k, dtype=np.int64)]
            self._body(branch, _Level(inner, keys), block)

    def _let(self, stmt: s.Let, level: _Level) -> None:
        rows = level.rows
        here = rows.blocks[-1]
        if stmt.name in here:
            raise Fallback  # already defined in this scope
        expr = stmt.value
        if isinstance(expr, s.Call) and expr.params is not None:
            raise Fallback  # a circuit instance
        if isinstance(expr, s.Ref) and expr.accessors:
            raise Fallback
        if isinstance(expr, s.Ref):
            inside, _ = rows.lookup(expr.name)
            found = rows.outer.lookup(expr.name)
            if not inside and (found is None or type(found[0]) not in (int, float, bool)):
                raise Fallback  # binds neurons or an instance
        elif isinstance(expr, s.Call):
            inside, _ = rows.lookup(expr.func)
            found = rows.outer.lookup(expr.func)
            if not inside and found is not None and not isinstance(found[0], (int, float, bool)):
                raise Fallback  # instantiates a circuit
        here[stmt.name] = evaluate_rows(expr, rows)

    # ---- connections ----------------------------------------------------------------------

    def _connect(self, stmt: s.Connect, level: _Level, k: int) -> _Made:
        rows = level.rows
        pre_idx, pre_start, pre_len, _ = self._side(stmt.pre, rows, "the source of '->'")
        post_idx, post_start, post_len, post_input = self._side(stmt.post, rows, "the target of '->'")
        if post_input:
            raise Fallback
        weight, delay = self._values(stmt, rows)
        m = rows.n
        if isinstance(pre_len, int) and isinstance(post_len, int) and pre_len == post_len == 1:
            a, b = np.broadcast_to(pre_start, (m,)), np.broadcast_to(post_start, (m,))
            return _Made(stmt, _at(pre_idx, a), _at(post_idx, b), weight, delay, level, None, None, k)
        lp = np.broadcast_to(np.asarray(pre_len, dtype=np.int64), (m,))
        lq = np.broadcast_to(np.asarray(post_len, dtype=np.int64), (m,))
        counts = lp * lq
        total = int(counts.sum())
        if total > MAX_ROWS:
            raise _TooBig
        row = np.repeat(np.arange(m, dtype=np.int64), counts)
        first = np.cumsum(counts) - counts
        local = np.arange(total, dtype=np.int64) - first[row]
        width = lq[row]
        a = np.broadcast_to(np.asarray(pre_start, dtype=np.int64), (m,))[row] + local // width
        b = np.broadcast_to(np.asarray(post_start, dtype=np.int64), (m,))[row] + local % width
        w = weight[row] if isinstance(weight, np.ndarray) else weight
        d = delay[row] if isinstance(delay, np.ndarray) else delay
        return _Made(stmt, _at(pre_idx, a), _at(post_idx, b), w, d, level, row, local, k)

    def _side(self, ref: s.Ref, rows: Rows, what: str) -> tuple[Indices, Value, Value, bool]:
        """The neurons a reference names in each row: the group, and each row's first
        position in it and count."""
        if not rows.bound(_ref_names(ref, rows)):
            group = _resolved(ref, rows.outer, what)
            return group.idx, 0, len(group.idx), group.is_input
        last = ref.accessors[-1] if ref.accessors else None
        if rows.bound({ref.name}) or not isinstance(last, (s.Index, s.Slice)):
            raise Fallback
        head = s.Ref(ref.name, ref.accessors[:-1], ref.loc)
        if rows.bound(_ref_names(head, rows)):
            raise Fallback
        try:
            value, _ = resolve(head, rows.outer)
        except SpikecError:
            raise Fallback from None
        if isinstance(value, Instance):
            value = value.sole_output()
        if not isinstance(value, Neurons) or not value.array:
            raise Fallback
        n = len(value.idx)
        if isinstance(last, s.Index):
            i = as_index(evaluate_rows(last.index, rows))
            if np.any((np.asarray(i) < 0) | (np.asarray(i) >= n)):
                raise Fallback
            return value.idx, i, 1, value.is_input
        lo = as_index(evaluate_rows(last.start, rows))
        hi = as_index(evaluate_rows(last.stop, rows))
        if np.any((np.asarray(lo) < 0) | (np.asarray(lo) > np.asarray(hi)) | (np.asarray(hi) > n)):
            raise Fallback
        return value.idx, lo, _plain_diff(hi, lo), value.is_input

    def _values(self, stmt: s.Connect, rows: Rows) -> tuple[Value, Value]:
        """Each row's weight and delay (defaults 1 and 1)."""
        from spikec.dsl.elaborate import _check_param_names

        weight: Value = 1.0
        delay: Value = 1
        if not stmt.params:
            return weight, delay
        try:
            _check_param_names(stmt.params, _SYNAPSE_PARAMS, "synapse", " synapses take weight and delay")
        except ElaborationError:
            raise Fallback from None
        for param in stmt.params:
            value = evaluate_rows(param.value, rows)
            if param.name == "weight":
                weight = as_weight(value)
            else:
                delay = as_delay(value)
        return weight, delay

    # ---- adding a block ------------------------------------------------------------------

    def _commit(self, block: _Block) -> bool:
        """Add the block's synapses and count its work, or return False (adding nothing)
        when that would pass a limit."""
        el = self.el
        budget, limits = el.budget, el.limits
        if (budget.work + block.work > limits.max_work
                or budget.synapses + block.synapses > limits.max_synapses):
            return False
        net = el.net
        before = net.num_synapses
        order = _order(block.made)
        if order is not None:
            _add_in_order(net, block.made, order)
        else:
            for made, part in _runs(block.made, order):
                sel = slice(None) if part is None else part
                w = made.weight[sel] if isinstance(made.weight, np.ndarray) else made.weight
                d = made.delay[sel] if isinstance(made.delay, np.ndarray) else made.delay
                net.add_synapses(made.pre[sel], made.post[sel], w, d, loc=made.stmt.loc)
        budget.work += block.work
        budget.synapses += block.synapses
        if block.made:
            posts = np.concatenate([m.post for m in block.made])
            el.count_synapses_into(posts, 1, before)
        return True


def _resolved(ref: s.Ref, scope: Scope, what: str) -> Neurons:
    try:
        return resolve_neurons(ref, scope, what)
    except SpikecError:
        raise Fallback from None


def _plain_diff(hi: Value, lo: Value) -> Value:
    out = np.asarray(hi) - np.asarray(lo)
    return out.item() if out.ndim == 0 else out


def _at(idx: Indices, pos: np.ndarray) -> np.ndarray:
    """The network indices at positions ``pos`` of a group."""
    if isinstance(idx, range):
        return idx.start + idx.step * np.asarray(pos, dtype=np.int64)
    return np.asarray(idx, dtype=np.int64)[pos]


def _keys(made: _Made, width: int) -> list[np.ndarray]:
    """The order keys of each synapse of ``made``, padded to ``width`` columns."""
    row = made.row if made.row is not None else slice(None)
    n = len(made.pre)
    cols = [c[row] for c in made.level.keys]
    cols.append(np.full(n, made.position, dtype=np.int64))
    cols.append(made.local if made.local is not None else np.zeros(n, dtype=np.int64))
    cols += [np.zeros(n, dtype=np.int64)] * (width - len(cols))
    return cols


def _order(made: list[_Made]) -> np.ndarray | None:
    """Where each synapse of the connections (concatenated) comes in the order the
    iterations add them; None when adding them connection by connection keeps every
    neuron's synapses in that order."""
    if len(made) <= 1:
        return None
    width = max(len(m.level.keys) for m in made) + 2
    cols = [np.concatenate(parts) for parts in zip(*(_keys(m, width) for m in made), strict=True)]
    order = np.lexsort(cols[::-1])
    which = np.concatenate([np.full(len(m.pre), j, dtype=np.int64) for j, m in enumerate(made)])
    pre = np.concatenate([m.pre for m in made])[order]
    by_pre = np.argsort(pre, kind="stable")
    stmt_seq = which[order][by_pre]
    same = pre[by_pre][1:] == pre[by_pre][:-1]
    if not np.any(same & (stmt_seq[1:] < stmt_seq[:-1])):
        return None
    return order


def _add_in_order(net: Any, made: list[_Made], order: np.ndarray) -> None:
    """Add all the connections' synapses in one call, in ``order``, each with the
    location of its own statement."""
    def column(get: Any) -> np.ndarray:
        return np.concatenate([np.broadcast_to(get(m), (len(m.pre),)) for m in made])[order]

    which = np.concatenate([np.full(len(m.pre), j, dtype=np.int64) for j, m in enumerate(made)])[order]
    net.add_synapses(column(lambda m: m.pre), column(lambda m: m.post), column(lambda m: m.weight),
                     column(lambda m: m.delay), locs=[m.stmt.loc for m in made], loc_index=which)


def _runs(made: list[_Made], order: np.ndarray | None) -> list[tuple[_Made, np.ndarray | None]]:
    """The connections' synapses as (connection, selection) runs, in the order the
    iterations add them (``order``, or None: one run per connection)."""
    if order is None:
        return [(m, None) for m in made]
    which = np.concatenate([np.full(len(m.pre), j, dtype=np.int64) for j, m in enumerate(made)])
    within = np.concatenate([np.arange(len(m.pre), dtype=np.int64) for m in made])
    seq_which = which[order]
    seq_within = within[order]
    cuts = np.flatnonzero(seq_which[1:] != seq_which[:-1]) + 1
    bounds = np.concatenate([[0], cuts, [len(order)]])
    return [(made[int(seq_which[a])], seq_within[a:b]) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def _ref_names(ref: s.Ref, rows: Rows) -> set[str]:
    """The names a reference reads: its own and the free names of its index expressions."""
    names = {ref.name}
    for acc in ref.accessors:
        if isinstance(acc, s.Index):
            names |= rows.free_names(acc.index)
        elif isinstance(acc, s.Slice):
            names |= rows.free_names(acc.start) | rows.free_names(acc.stop)
    return names
