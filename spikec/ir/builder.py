"""The circuit builder: the one way circuit generators add neurons to a network.

Every circuit generator (``.spk`` circuits written in Python, the circuit
library, threshold synthesis, the diffusion solvers, imported deep-net
layers) receives a :class:`CircuitBuilder`. It takes neuron names *local*
to the circuit and returns their full names (``prefix + name``); synapses
take full names, so a circuit can wire its inputs (the caller's neurons)
to its own.

:class:`Builder` is the implementation: it adds to a :class:`Network`,
attaches a source location to everything it adds, and can report sizes to
a budget (the ``.spk`` elaborator's limits) *before* adding, so a runaway
generator is stopped before it allocates.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import numpy as np

from spikec.errors import NetworkError, SourceLocation, did_you_mean
from spikec.ir.network import NEURON_PARAMS, Network

__all__ = ["CircuitBuilder", "Budget", "Builder"]


class CircuitBuilder(Protocol):
    """What a circuit generator builds with.

    ``neuron`` takes a name local to the circuit and returns the full name;
    ``synapse`` takes full names.
    """

    def neuron(self, name: str, **params: float) -> str:
        """Add a neuron; return its full name."""
        ...

    def synapse(self, pre: str, post: str, weight: float = 1.0, delay: int = 1) -> None:
        """Add a synapse between full neuron names."""
        ...


class Budget(Protocol):
    """Counts what a builder is about to add and refuses (raises) past a limit."""

    def add_neurons(self, n: int, what: str, loc: SourceLocation) -> None:
        """Count ``n`` neurons about to be added as ``what``."""
        ...

    def add_synapses(self, n: int, what: str, loc: SourceLocation) -> None:
        """Count ``n`` synapses about to be added as ``what``."""
        ...


_UNKNOWN = SourceLocation("<circuit>", 1, 1)


class Builder:
    """A :class:`CircuitBuilder` that adds to ``net``, naming neurons ``prefix + name``.

    ``loc`` is attached to every neuron and synapse added (the statement that
    made the circuit); ``budget`` is told of each addition before it is made;
    ``on_probe(names, label=..., **options)`` replaces :meth:`Network.probe`
    for :meth:`probe` (the elaborator checks probe labels are unique).
    """

    def __init__(self, net: Network, prefix: str = "", *, loc: SourceLocation | None = None,
                 budget: Budget | None = None,
                 on_probe: Callable[..., Any] | None = None) -> None:
        self.net = net
        self.prefix = prefix
        self.loc = loc
        self._budget = budget
        self._on_probe = on_probe

    # -- neurons --------------------------------------------------------------------

    def _params(self, full: str, params: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(params) - set(NEURON_PARAMS))
        if unknown:
            raise NetworkError(
                f"neuron '{full}': unknown parameter '{unknown[0]}'{did_you_mean(unknown[0], NEURON_PARAMS)};"
                f" neurons take {', '.join(NEURON_PARAMS)}", self.loc)
        return params

    def neuron(self, name: str, **params: float) -> str:
        """Add neuron ``prefix + name`` (parameters as in :meth:`Network.neuron`); return its name."""
        full = self.prefix + name
        checked = self._params(full, params)
        if self._budget is not None:
            self._budget.add_neurons(1, f"neuron {full}", self.loc or _UNKNOWN)
        return self.net.neuron(full, **checked, loc=self.loc)

    def input(self, name: str) -> str:
        """Add input neuron ``prefix + name``; return its name."""
        full = self.prefix + name
        if self._budget is not None:
            self._budget.add_neurons(1, f"input {full}", self.loc or _UNKNOWN)
        return self.net.input(full, loc=self.loc)

    def neurons(self, name: str, n: int, **params: Any) -> np.ndarray:
        """Add the array ``prefix + name`` of ``n`` neurons (parameters scalars or one value
        per neuron, as :meth:`Network.add_neurons`); return their indices."""
        full = self.prefix + name
        checked = self._params(f"{full}[...]", params)
        if self._budget is not None:
            self._budget.add_neurons(int(n), f"neurons {full}[{n}]", self.loc or _UNKNOWN)
        return self.net.add_neurons(full, n, loc=self.loc, **checked)

    def named(self, names: Sequence[str], **params: Any) -> np.ndarray:
        """Add neurons ``prefix + name`` for each of ``names`` at once (parameters scalars or
        one value per neuron, as :meth:`Network.add_named`); return their indices."""
        full = [self.prefix + name for name in names]
        checked = self._params(full[0] if full else self.prefix, params)
        if self._budget is not None and full:
            self._budget.add_neurons(len(full), f"neuron {full[0]}", self.loc or _UNKNOWN)
        return self.net.add_named(full, loc=self.loc, **checked)

    def neuron_rows(self, bases: Sequence[str], widths: int | Sequence[int] | np.ndarray,
                    **params: Any) -> np.ndarray:
        """Add arrays ``prefix + bases[r]`` of ``widths[r]`` neurons (one width for all, or
        one per array), one after another; parameters are scalars or one value per neuron
        (all arrays together). Returns their indices."""
        width = np.broadcast_to(np.asarray(widths, dtype=np.int64), (len(bases),))
        total = int(width.sum())
        checked = self._params(f"{self.prefix}{bases[0]}[...]" if len(bases) else self.prefix, params)
        if self._budget is not None and total:
            self._budget.add_neurons(total, f"neurons {self.prefix}{bases[0]}[...]", self.loc or _UNKNOWN)
        return self.net.add_arrays([self.prefix + b for b in bases], width, loc=self.loc, **checked)

    def reserve(self, neurons: int, synapses: int) -> None:
        """Make room for this many more neurons and synapses (:meth:`Network.reserve`)."""
        self.net.reserve(neurons, synapses)

    def check_size(self, neurons: int, synapses: int, what: str) -> None:
        """Refuse at once (through the budget) a circuit of this many neurons and synapses
        that would pass a limit, before any of it is built; counts nothing."""
        check = getattr(self._budget, "check", None)
        if check is not None:
            check(neurons, synapses, what, self.loc or _UNKNOWN)

    def inputs(self, name: str, n: int) -> np.ndarray:
        """Add the array ``prefix + name`` of ``n`` input neurons; return their indices."""
        full = self.prefix + name
        if self._budget is not None:
            self._budget.add_neurons(int(n), f"inputs {full}[{n}]", self.loc or _UNKNOWN)
        return self.net.add_inputs(full, n, loc=self.loc)

    # -- synapses -------------------------------------------------------------------

    def synapse(self, pre: str, post: str, weight: float = 1.0, delay: int = 1) -> None:
        """Add a synapse between full neuron names."""
        if self._budget is not None:
            self._budget.add_synapses(1, f"synapse {pre} -> {post}", self.loc or _UNKNOWN)
        self.net.synapse(pre, post, weight, delay, loc=self.loc)

    def synapses(self, pre: Sequence[str] | np.ndarray, post: Sequence[str] | np.ndarray,
                 weight: float | Sequence[float] | np.ndarray = 1.0,
                 delay: int | Sequence[int] | np.ndarray = 1) -> None:
        """Add ``pre[i] -> post[i]`` for every i at once (full names or indices; weights and
        delays scalars or one per synapse)."""
        if self._budget is not None and len(pre):
            self._budget.add_synapses(len(pre), f"synapses from {self._shown(pre)}", self.loc or _UNKNOWN)
        self.net.add_synapses(pre, post, weight, delay, loc=self.loc)

    def connect(self, pre: Any, post: Any, weight: Any = 1.0, delay: Any = 1, *,
                one_to_one: bool = False) -> range:
        """Connect groups of neurons in one call (:meth:`Network.connect`); the budget is told
        the number of synapses first."""
        if self._budget is not None:
            n_pre, n_post = self.net.resolve(pre).size, self.net.resolve(post).size
            count = (weight.nnz if hasattr(weight, "nnz") else
                     max(n_pre, n_post) if one_to_one else n_pre * n_post)
            self._budget.add_synapses(int(count), f"synapses from {self._shown(pre)}", self.loc or _UNKNOWN)
        return self.net.connect(pre, post, weight, delay, one_to_one=one_to_one, loc=self.loc)

    def _shown(self, group: Any) -> str:
        if isinstance(group, str):
            return group
        first = group[0] if len(group) else None
        return self.net.name_of(int(first)) if isinstance(first, (int, np.integer)) else str(first)

    # -- probes and files -----------------------------------------------------------

    def probe(self, *names: str, label: str | None = None, **options: Any) -> None:
        """Probe full neuron names (the options of :meth:`Network.probe`)."""
        if self._on_probe is not None:
            self._on_probe(names, label=label or names[0], loc=self.loc, **options)
        else:
            self.net.probe(*names, label=label, loc=self.loc, **options)

    @property
    def base_dir(self) -> str | None:
        """The directory of the file the circuit is made in (for files a circuit reads)."""
        name = self.loc.file if self.loc is not None else ""
        if not name or name.startswith("<"):
            return None
        return os.path.dirname(os.path.abspath(name))
