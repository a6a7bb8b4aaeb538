"""``stimulus TARGET = at(...) | bits(V) at T | poisson(P)``: the file stimuli of a program.

The statements are collected as they run (one record per statement, holding
the target's network indices) and handed to the network at the end with a
few bulk calls (:meth:`Network.stimulate`), so ``stimulus x = poisson(0.1)``
over a million inputs costs a handful of array operations. Spike times given
to one input by several ``at`` statements add up; a Poisson input takes no
other stimulus.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from spikec.dsl import syntax as s
from spikec.dsl.expressions import as_int, as_real, evaluate
from spikec.dsl.values import Neurons, Scope, format_number, index_array, int_text
from spikec.errors import ElaborationError, SourceLocation, did_you_mean
from spikec.ir.network import Network

__all__ = ["Stimuli", "STIMULI"]

#: The stimulus functions.
STIMULI = ("at", "bits", "poisson")

_NONE, _TIMES, _RATE = 0, 1, 2


class _Record(NamedTuple):
    """One stimulus statement's effect: spike steps (or a rate) for some inputs."""

    idx: np.ndarray
    times: tuple[int, ...]
    rate: float | None
    loc: SourceLocation


class Stimuli:
    """The stimuli of one elaboration, by input neuron."""

    def __init__(self, net: Network) -> None:
        self.net = net
        self._records: list[_Record] = []
        #: Per neuron: no stimulus, spike times or a rate; and the record of its first stimulus.
        self._kind = np.zeros(0, dtype=np.int8)
        self._first = np.zeros(0, dtype=np.int64)

    def _grow(self) -> None:
        n = len(self.net)
        if len(self._kind) < n:
            extra = n - len(self._kind)
            self._kind = np.concatenate([self._kind, np.zeros(extra, dtype=np.int8)])
            self._first = np.concatenate([self._first, np.full(extra, -1, dtype=np.int64)])

    def statement(self, stmt: s.Stimulus, target: Neurons, scope: Scope) -> None:
        """Run one ``stimulus`` statement on ``target`` (inputs, checked by the caller)."""
        source = stmt.source
        idx = index_array(target.idx)
        if isinstance(source, s.StimAt):
            times = [_step(t, scope) for t in source.times]
            self._add_times(idx, times, stmt.loc)
            return
        func = source.func
        if func == "bits":
            if len(source.args) != 1:
                raise ElaborationError(f"bits() takes 1 argument, got {len(source.args)}",
                                       source.loc)
            value = as_int(evaluate(source.args[0], scope), "the value of bits()",
                           source.args[0].loc)
            if value < 0:
                raise ElaborationError(f"bits() needs a value >= 0, got {int_text(value)}",
                                       source.args[0].loc)
            when = 0 if source.when is None else _step(source.when, scope)
            if value.bit_length() > len(idx):
                raise ElaborationError(
                    f"bits({int_text(value)}) needs {value.bit_length():,} neurons, but '{target.label}'"
                    f" has {len(idx)}",
                    source.args[0].loc,
                )
            digits = np.frombuffer(bin(value)[2:][::-1].encode(), dtype=np.uint8) if value else \
                np.zeros(0, dtype=np.uint8)
            self._add_times(idx[np.flatnonzero(digits == ord("1"))], [when], stmt.loc)
        elif func == "poisson":
            if len(source.args) != 1 or source.when is not None:
                raise ElaborationError("poisson() takes 1 argument (a rate) and no 'at'",
                                       source.loc)
            given = evaluate(source.args[0], scope)
            rate = as_real(given, "a poisson rate", source.args[0].loc)
            if not 0.0 <= rate <= 1.0:
                raise ElaborationError(f"poisson rate must be in [0, 1], got {format_number(given)}",
                                       source.args[0].loc)
            self._add_rate(idx, rate, stmt.loc)
        else:
            raise ElaborationError(
                f"unknown stimulus '{func}'{did_you_mean(func, STIMULI)}; expected at(T, ...),"
                " bits(V) at T or poisson(P)",
                source.loc,
            )

    def _add_times(self, idx: np.ndarray, times: list[int], loc: SourceLocation) -> None:
        self._grow()
        hit = np.flatnonzero(self._kind[idx] == _RATE)
        if len(hit):
            i = int(idx[hit[0]])
            raise ElaborationError(
                f"'{self.net.name_of(i)}' already has a poisson stimulus"
                f" (at {self._records[self._first[i]].loc})", loc)
        self._new(idx, tuple(times), None, loc, _TIMES)

    def _add_rate(self, idx: np.ndarray, rate: float, loc: SourceLocation) -> None:
        self._grow()
        hit = np.flatnonzero(self._kind[idx] != _NONE)
        if len(hit):
            i = int(idx[hit[0]])
            raise ElaborationError(
                f"'{self.net.name_of(i)}' already has a stimulus"
                f" (at {self._records[self._first[i]].loc})", loc)
        self._new(idx, (), rate, loc, _RATE)

    def _new(self, idx: np.ndarray, times: tuple[int, ...], rate: float | None, loc: SourceLocation,
             kind: int) -> None:
        k = len(self._records)
        self._records.append(_Record(idx, times, rate, loc))
        fresh = idx[self._first[idx] < 0]
        self._first[fresh] = k
        self._kind[idx] = kind

    def finish(self) -> None:
        """Give the network every stimulus (after the program ran)."""
        net = self.net
        timed = [r for r in self._records if r.rate is None and len(r.idx)]
        shared = np.zeros(0, dtype=np.int64)
        if timed:
            counts = np.bincount(np.concatenate([r.idx for r in timed]), minlength=len(net))
            shared = np.flatnonzero(counts > 1)
            for record in timed:
                alone = record.idx[counts[record.idx] == 1]
                if len(alone):
                    net.stimulate(alone, sorted(set(record.times)), loc=record.loc)
        if len(shared):  # inputs named by several `at` statements: the union of their steps
            steps: dict[int, set[int]] = {int(i): set() for i in shared}
            for record in timed:
                for i in record.idx[np.isin(record.idx, shared)].tolist():
                    steps[i].update(record.times)
            for i, times in steps.items():
                net.stimulate(np.array([i]), sorted(times), loc=self._records[self._first[i]].loc)
        for record in self._records:
            if record.rate is not None and len(record.idx):
                net.stimulate(record.idx, rate=record.rate, loc=record.loc)


def _step(expr: s.Expr, scope: Scope) -> int:
    step = as_int(evaluate(expr, scope), "a spike step", expr.loc)
    if step < 0:
        raise ElaborationError(f"spike steps must be >= 0, got {int_text(step)}", expr.loc)
    if step >= 2**63:
        raise ElaborationError(f"spike steps must be at most 2**63 - 1, got {int_text(step)}", expr.loc)
    return step
