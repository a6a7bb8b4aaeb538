"""Syntax tree -> :class:`~spikec.Network`: running the statements of a program.

The :class:`Elaborator` walks the main file's statements in order, in
nested :class:`~spikec.dsl.values.Scope` objects (one per block, one per
loop iteration, one per circuit instance). Declarations add neurons to the
network under their hierarchical names (``x[2]``, ``h.carry``,
``adder.bit[3].sum``), each carrying the SourceLocation of its statement;
connections add synapses; ``stimulus`` and ``probe`` record how to run it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from spikec.dsl import syntax as s
from spikec.dsl.expressions import as_bool, as_int, as_real, evaluate
from spikec.dsl.instances import instantiate, instantiate_keyword
from spikec.dsl.limits import Budget, InstanceEstimates, Limits, lower_bound
from spikec.dsl.loops import LoopVectorizer
from spikec.dsl.modules import Importer, Module
from spikec.dsl.refs import resolve, resolve_neurons
from spikec.dsl.stimuli import Stimuli
from spikec.dsl.values import (
    GeneratorCircuit,
    Indices,
    Instance,
    InstanceArray,
    Kind,
    Neurons,
    Number,
    Scope,
    SpkCircuit,
    Value,
    describe,
    format_number,
    group_key,
    index_array,
    int_text,
    join_indices,
)
from spikec.errors import ElaborationError, ParamError, SourceLocation, did_you_mean
from spikec.ir.network import DECODERS, DEFAULT_PARAMS, NEURON_PARAMS, DecodeKey, Network, Probe
from spikec.ir.payloads import MAX_DELAY

__all__ = ["Elaborator"]

_SYNAPSE_PARAMS = ("weight", "delay")
# Loops shorter than this, without a nested loop, skip the up-front size check.
_SMALL_LOOP = 64
# Probes of more neurons than this, named by index, are made without looking up each name.
_PROBE_CHECKED = 1000


class Elaborator:
    """Runs one program into ``net``; see :func:`spikec.dsl.compile_text`."""

    def __init__(self, net: Network, limits: Limits, overrides: Mapping[str, Number], *,
                 fast_loops: bool = True) -> None:
        self.net = net
        self.limits = limits
        self.budget = Budget(limits)
        self.overrides = dict(overrides)
        self.importer = Importer(self._declare_imported, limits.max_source_bytes)
        #: Names of the circuits being instantiated, outermost first.
        self.stack: list[str] = []
        self.estimates = InstanceEstimates(limits.max_depth)
        self.stimuli = Stimuli(net)
        #: Runs loops of connections as whole arrays (None: one iteration at a time).
        self.loops = LoopVectorizer(self) if fast_loops else None
        self._probe_labels: dict[str, SourceLocation] = {}
        #: Decode keys of instance outputs, by their neurons (:func:`group_key`): a Python
        #: circuit (an imported model) may offer ``decode_keys = {output: key}`` for
        #: ``probe label(...)``.
        self._decode_keys: dict[tuple[int, int] | bytes, DecodeKey] = {}
        #: Incoming synapses per neuron, kept up to date by the elaborator's own additions
        #: while ``_indeg_total`` matches the network (for ``gate`` targets).
        self._indeg: np.ndarray | None = None
        self._indeg_total = 0
        self._main: Module | None = None
        self._nested: dict[int, bool] = {}
        self._checked: set[int] = set()  # ids of connections whose parameter names passed
        self._handlers: dict[type, Callable[[Any, Scope], None]] = {
            s.InputDecl: self._input,
            s.NeuronDecl: self._neuron,
            s.KindDecl: self._kind,
            s.Connect: self._connect,
            s.Let: self._let,
            s.For: self._for,
            s.If: self._if,
            s.Stimulus: self._stimulus,
            s.Probe: self._probe,
            s.CircuitDef: self._top_level_only,
            s.ImportFile: self._top_level_only,
            s.ImportLib: self._top_level_only,
            s.ImportModel: self._top_level_only,
            s.Gate: lambda stmt, scope: _gates().elaborate_gate(self, stmt, scope),
            s.Balance: lambda stmt, scope: _gates().elaborate_balance(self, stmt, scope),
        }

    # ---- modules -------------------------------------------------------------------

    def run_main(self, module: Module) -> None:
        """Declare ``module`` and run its top-level statements into the network."""
        self._main = module
        self._check_overrides(module)
        self._register_circuits(module)
        self.importer.enter(module)
        self.importer.run_imports(module)
        self.importer.leave(module)
        self.exec_block(module.program.statements, module.scope)
        self.stimuli.finish()

    def _register_circuits(self, module: Module) -> None:
        for stmt in module.program.statements:
            if isinstance(stmt, s.CircuitDef):
                self.check_new_name(stmt.name, module.scope, stmt.name_loc)
                entry: tuple[Value, SourceLocation | None] = (SpkCircuit(stmt, module), stmt.loc)
                module.scope.names[stmt.name] = entry
                module.exports[stmt.name] = entry

    def _declare_imported(self, module: Module) -> None:
        """An imported file runs only its declarations: circuits, imports, kinds and
        ``let``s of values; whatever would build neurons is skipped."""
        self._register_circuits(module)
        self.importer.run_imports(module)
        for stmt in module.program.statements:
            if isinstance(stmt, s.KindDecl):
                self._kind(stmt, module.scope)
                module.exports[stmt.name] = module.scope.names[stmt.name]
            elif isinstance(stmt, s.Let) and stmt.index is None and self._is_value(stmt, module):
                self._let(stmt, module.scope)

    @staticmethod
    def _is_value(stmt: s.Let, module: Module) -> bool:
        expr = stmt.value
        if isinstance(expr, s.Call):
            found = module.scope.lookup(expr.func)
            return found is None or not isinstance(found[0], (SpkCircuit, GeneratorCircuit))
        if isinstance(expr, s.Ref):
            found = module.scope.lookup(expr.name)
            return found is not None
        return True

    def _check_overrides(self, module: Module) -> None:
        lets = [st.name for st in module.program.statements
                if isinstance(st, s.Let) and st.index is None]
        for name, value in self.overrides.items():
            if name not in lets:
                hint = did_you_mean(name, lets)
                known = f"; its top-level lets: {', '.join(lets)}" if lets else ""
                raise ParamError(
                    f"parameter '{name}': {module.shown} has no top-level 'let {name}'"
                    f"{hint}{known}"
                )
            if not isinstance(value, (bool, int, float)):
                raise ParamError(f"parameter '{name}' must be a number or boolean, got {value!r}")

    # ---- statements ----------------------------------------------------------------

    def exec_block(self, body: Sequence[s.Statement], scope: Scope) -> None:
        """Run ``body`` in ``scope``, counting one unit of work per statement."""
        budget = self.budget
        handlers = self._handlers
        limit = self.limits.max_work
        for stmt in body:
            budget.work += 1
            if budget.work > limit:
                budget.tick(0, stmt.loc)
            handlers[type(stmt)](stmt, scope)

    def _top_level_only(self, stmt: Any, scope: Scope) -> None:
        if scope.parent is None and scope.frame.module is self._main:
            return  # declared before the statements ran
        what = "circuit definitions" if isinstance(stmt, s.CircuitDef) else "imports"
        raise ElaborationError(f"{what} belong at the top level of a file, not in a block",
                               stmt.loc)

    def check_new_name(self, name: str, scope: Scope, loc: SourceLocation) -> None:
        """Refuse to bind ``name`` twice in one scope."""
        old = scope.names.get(name)
        if old is not None:
            where = f" (at {old[1]})" if old[1] is not None else ""
            raise ElaborationError(
                f"'{name}' is already defined in this scope{where}; pick another name", loc
            )

    def _input(self, stmt: s.InputDecl, scope: Scope) -> None:
        self._declare(stmt.name, stmt.size, scope, stmt.name_loc, None, "input")

    def _neuron(self, stmt: s.NeuronDecl, scope: Scope) -> None:
        base: Mapping[str, float] = DEFAULT_PARAMS
        what = "neuron"
        if stmt.kind is not None:
            found = scope.lookup(stmt.kind)
            if found is not None and getattr(found[0], "keyword", False):
                self._keyword_instance(found[0], stmt, scope)
                return
            kind = self._lookup_kind(stmt.kind, scope, stmt.loc)
            base = {**DEFAULT_PARAMS, **kind.params}
            what = stmt.kind
        params = self.neuron_params(stmt.params, scope, base)
        self._declare(stmt.name, stmt.size, scope, stmt.name_loc, params, what)

    def _keyword_instance(self, circuit: Any, stmt: s.NeuronDecl, scope: Scope) -> None:
        """``CIRCUIT NAME (param = value, ...)``: an instance of a keyword circuit (such
        as ``diffusion``), bound to NAME; values may be numbers, booleans or text."""
        if stmt.size is not None:
            raise ElaborationError(
                f"'{stmt.kind} {stmt.name}' makes one instance; it takes no size", stmt.size.loc)
        self.check_new_name(stmt.name, scope, stmt.name_loc)
        params: dict[str, Any] = {}
        for param in stmt.params:
            if param.name in params:
                raise ElaborationError(f"parameter '{param.name}' is given twice", param.loc)
            params[param.name] = evaluate(param.value, scope)
        path = scope.frame.prefix + stmt.name
        inst = instantiate_keyword(self, circuit, params, stmt.params, path, stmt.loc)
        scope.names[stmt.name] = (inst, stmt.name_loc)

    def _lookup_kind(self, name: str, scope: Scope, loc: SourceLocation) -> Kind:
        found = scope.lookup(name)
        if found is not None and isinstance(found[0], Kind):
            return found[0]
        if found is not None:
            raise ElaborationError(
                f"'{name}' is {describe(found[0])}, not a kind; declare neurons with"
                f" 'neuron NAME (...)' or a kind from 'kind {name} (...)'",
                loc,
            )
        kinds = scope.visible_of(Kind)
        hint = did_you_mean(name, [*kinds, "neuron", "input"])
        raise ElaborationError(f"unknown kind '{name}'{hint}", loc)

    def neuron_params(self, params: Sequence[s.Param], scope: Scope,
                      base: Mapping[str, float]) -> dict[str, float]:
        """``base`` updated with the evaluated and checked ``name = value`` pairs."""
        out = dict(base)
        _check_param_names(params, NEURON_PARAMS, "neuron",
                           f" neurons take {', '.join(NEURON_PARAMS)}")
        for param in params:
            name = param.name
            given = evaluate(param.value, scope)
            value = as_real(given, name, param.value.loc)
            if name in ("decay", "p") and not 0.0 <= value <= 1.0:
                raise ElaborationError(
                    f"{name} must be in [0, 1], got {format_number(given)}", param.value.loc
                )
            out[name] = value
        return out

    def _declare(self, name: str, size: s.Expr | None, scope: Scope, loc: SourceLocation,
                 params: dict[str, float] | None, what: str) -> None:
        self.check_new_name(name, scope, loc)
        full = scope.frame.prefix + name
        net = self.net
        if size is None:
            self.budget.add_neurons(1, f"{what} {name}", loc)
            n, first = 1, full
        else:
            n = as_int(evaluate(size, scope), f"the size of '{name}'", size.loc)
            if n < 0:
                raise ElaborationError(f"the size of '{name}' must be >= 0, got {int_text(n)}", size.loc)
            self.budget.add_neurons(n, f"{what} {name}[{int_text(n)}]", size.loc)
            first = f"{full}[0]"
        if n and first in net:
            old = net.location_of(net.index(first))
            if old is loc:
                why = "this declaration runs more than once (in a loop?)"
            else:
                why = f"first declared at {old}" if old is not None else "declared before"
            raise ElaborationError(
                f"duplicate neuron name '{first}': {why}; declare an array before a loop,"
                " or bind instances made in a loop with 'let NAME[i] = ...'",
                loc,
            )
        start = len(net)
        if params is None:
            if size is None:
                net.input(full, loc=loc)
            elif n:
                net.add_inputs(full, n, loc=loc)
        elif size is None:
            net.neuron(full, *(params[key] for key in NEURON_PARAMS), loc=loc)
        elif n:
            columns: dict[str, Any] = dict(params)
            net.add_neurons(full, n, loc=loc, **columns)
        scope.names[name] = (Neurons(range(start, start + n), size is not None, params is None, name), loc)

    def _kind(self, stmt: s.KindDecl, scope: Scope) -> None:
        self.check_new_name(stmt.name, scope, stmt.name_loc)
        given = self.neuron_params(stmt.params, scope, {})
        scope.names[stmt.name] = (Kind(stmt.name, given, stmt.loc), stmt.name_loc)

    def _connect(self, stmt: s.Connect, scope: Scope) -> None:
        pre = resolve_neurons(stmt.pre, scope, "the source of '->'")
        post = resolve_neurons(stmt.post, scope, "the target of '->'")
        if post.is_input:
            raise ElaborationError(
                f"'{post.label}' is an input neuron; inputs receive no synapses", stmt.post.loc
            )
        weight, delay = self._synapse_values(stmt, scope)
        n = len(pre.idx) * len(post.idx)
        budget = self.budget
        if budget.synapses + n > self.limits.max_synapses:
            budget.add_synapses(n, f"{pre.label} -> {post.label}", stmt.loc)  # raises
        budget.synapses += n
        if n:
            self.emit_synapses(pre.idx, post.idx, weight, delay, stmt.loc)

    def _synapse_values(self, stmt: s.Connect, scope: Scope) -> tuple[float, int]:
        """The checked (weight, delay) of a connection, defaults 1 and 1."""
        weight, delay = 1.0, 1
        if not stmt.params:
            return weight, delay
        if id(stmt) not in self._checked:
            _check_param_names(stmt.params, _SYNAPSE_PARAMS, "synapse",
                               " synapses take weight and delay")
            self._checked.add(id(stmt))
        for param in stmt.params:
            value = evaluate(param.value, scope)
            if param.name == "weight":
                weight = as_real(value, "weight", param.value.loc)
                continue
            if (type(value) is not int
                    and not (type(value) is float and value.is_integer())) or not 1 <= value <= MAX_DELAY:
                shown = format_number(value) if isinstance(value, (int, float)) else describe(value)
                bound = "<= 2**63 - 1" if isinstance(value, (int, float)) and value > MAX_DELAY else ">= 1"
                raise ElaborationError(f"delay must be an integer {bound}, got {shown}", param.value.loc)
            delay = int(value)
        return weight, delay

    def emit_synapses(self, pre: Indices, post: Indices, weight: float, delay: int,
                      loc: SourceLocation) -> None:
        """One synapse from each of ``pre`` to each of ``post`` (network indices; values
        already checked), ``pre``-major."""
        net = self.net
        before = net.num_synapses
        if len(pre) == 1 and len(post) == 1:
            a, b = int(pre[0]), int(post[0])
            if delay > MAX_DELAY:  # refused; by name, so the message names the neurons
                net.synapse(net.name_of(a), net.name_of(b), weight, delay, loc=loc)
            else:
                net.synapse(a, b, weight, delay, loc=loc)
        else:
            net.connect(pre, post, weight, delay, loc=loc)
        self.count_synapses_into(post, len(pre), before)

    def count_synapses_into(self, post: Indices | np.ndarray, each: int, before: int) -> None:
        """Note synapses just added (``each`` into every neuron of ``post``, the network
        having held ``before``) in the in-degree cache, or drop the cache."""
        indeg = self._indeg
        if indeg is None:
            return
        if self._indeg_total != before:
            self._indeg = None
            return
        n = len(self.net)
        if len(indeg) < n:
            indeg = self._indeg = np.concatenate([indeg, np.zeros(n - len(indeg), dtype=np.int64)])
        if isinstance(post, range) and post.step == 1:
            indeg[post.start:post.stop] += each
        else:
            np.add.at(indeg, index_array(post), each)
        self._indeg_total = self.net.num_synapses

    def has_synapses_into(self, i: int) -> bool:
        """Whether neuron ``i`` receives any synapse."""
        net = self.net
        if self._indeg is None or self._indeg_total != net.num_synapses:
            self._indeg = np.asarray(net.in_degree(), dtype=np.int64).copy()
            self._indeg_total = net.num_synapses
        return i < len(self._indeg) and bool(self._indeg[i])

    def _let(self, stmt: s.Let, scope: Scope) -> None:
        if stmt.index is not None:
            self._let_indexed(stmt, stmt.index, scope)
            return
        self.check_new_name(stmt.name, scope, stmt.name_loc)
        main = self._main
        if main is not None and scope is main.scope and stmt.name in self.overrides:
            if self._circuit_of(stmt.value, scope) is not None:
                raise ParamError(
                    f"parameter '{stmt.name}' cannot override a let that binds a circuit"
                    " instance", stmt.name_loc)
            value: Value = self.overrides[stmt.name]
        else:
            value = self._let_value(stmt.value, scope, stmt.name)
        scope.names[stmt.name] = (value, stmt.name_loc)

    @staticmethod
    def _circuit_of(expr: s.Expr, scope: Scope
                    ) -> tuple[SpkCircuit | GeneratorCircuit, s.Call] | None:
        """The circuit and call when ``expr`` instantiates a circuit, else None."""
        if isinstance(expr, s.Call):
            found = scope.lookup(expr.func)
            if found is not None and isinstance(found[0], (SpkCircuit, GeneratorCircuit)):
                return found[0], expr
        return None

    def _instantiate(self, circuit: SpkCircuit | GeneratorCircuit, call: s.Call, scope: Scope,
                     name: str) -> Instance:
        """Make the instance, and note the decode keys its circuit offers for its outputs."""
        inst = instantiate(self, circuit, call, scope, name)
        keys: Mapping[str, DecodeKey] = getattr(circuit, "decode_keys", None) or {}
        for output, key in keys.items():
            if output in inst.outputs:
                self._decode_keys[group_key(inst.outputs[output].idx)] = key
        return inst

    def _let_value(self, expr: s.Expr, scope: Scope, name: str) -> Value:
        made = self._circuit_of(expr, scope)
        if made is not None:
            return self._instantiate(made[0], made[1], scope, name)
        if isinstance(expr, s.Ref):
            return resolve(expr, scope)[0]
        return evaluate(expr, scope)

    def _let_indexed(self, stmt: s.Let, index: s.Expr, scope: Scope) -> None:
        made = self._circuit_of(stmt.value, scope)
        if made is None:
            raise ElaborationError(
                f"only circuit instances can be bound to '{stmt.name}[...]'"
                f" (let {stmt.name}[i] = circuit(...)); bind other values with let {stmt.name} = ...",
                stmt.value.loc,
            )
        i = as_int(evaluate(index, scope), "an index", index.loc)
        if not 0 <= i < 2**63:
            raise ElaborationError(f"an index must be from 0 to 2**63 - 1, got {int_text(i)}", index.loc)
        # The array lives in the frame's outermost scope, so instances made in a
        # loop body stay visible after the loop.
        root = scope.frame.scope
        found = root.names.get(stmt.name)
        if found is None:
            array = InstanceArray(stmt.name)
            root.names[stmt.name] = (array, stmt.name_loc)
        elif isinstance(found[0], InstanceArray):
            array = found[0]
        else:
            raise ElaborationError(
                f"'{stmt.name}' is already {describe(found[0])} (at {found[1]});"
                " an indexed let needs a fresh name", stmt.name_loc)
        if i in array.items:
            raise ElaborationError(f"'{stmt.name}[{int_text(i)}]' is already bound", stmt.name_loc)
        array.items[i] = self._instantiate(made[0], made[1], scope, f"{stmt.name}[{i}]")

    def _for(self, stmt: s.For, scope: Scope) -> None:
        start = as_int(evaluate(stmt.start, scope), "the start of the range", stmt.start.loc)
        stop = as_int(evaluate(stmt.stop, scope), "the end of the range", stmt.stop.loc)
        n = stop - start
        if n <= 0:
            return
        if n >= _SMALL_LOOP or self._has_nested_loop(stmt):
            neurons, synapses, work = lower_bound(stmt.body, scope, {stmt.var}, self.estimates)
            self.budget.check_loop((n * neurons, n * synapses, n * (1 + work)), stmt.loc)
        var, var_loc, body = stmt.var, stmt.var_loc, stmt.body
        budget, limit = self.budget, self.limits.max_work
        i = start
        while i < stop:
            end = stop
            if self.loops is not None:
                # As many iterations as can run as arrays; from the first one that
                # cannot (exactly as written), one at a time, or just that one when it
                # was only too large for the arrays.
                i, retry = self.loops.run(stmt, scope, i, stop)
                if retry:
                    end = i + 1
            for k in range(i, end):
                budget.work += 1
                if budget.work > limit:
                    budget.tick(0, stmt.loc)
                inner = Scope(scope)
                inner.names[var] = (k, var_loc)
                self.exec_block(body, inner)
            i = end

    def _has_nested_loop(self, stmt: s.For) -> bool:
        key = id(stmt)
        found = self._nested.get(key)
        if found is None:
            found = self._nested[key] = any(_contains_loop(st) for st in stmt.body)
        return found

    def _if(self, stmt: s.If, scope: Scope) -> None:
        cond = as_bool(evaluate(stmt.cond, scope), "the condition of 'if'", stmt.cond.loc)
        self.exec_block(stmt.then if cond else stmt.orelse, Scope(scope))

    # ---- stimulus and probes -------------------------------------------------------

    def _stimulus(self, stmt: s.Stimulus, scope: Scope) -> None:
        target = resolve_neurons(stmt.target, scope, "a stimulus target")
        if not target.is_input:
            raise ElaborationError(
                f"stimulus: '{target.label}' is not an input; only inputs take stimuli"
                f" (declare it with 'input {stmt.target.name}')",
                stmt.target.loc,
            )
        self.stimuli.statement(stmt, target, scope)

    def _probe(self, stmt: s.Probe, scope: Scope) -> None:
        prefix = scope.frame.prefix
        for item in stmt.items:
            parts: list[Indices] = []
            texts: list[str] = []
            array = len(item.refs) > 1
            for ref in item.refs:
                group = resolve_neurons(ref, scope, "a probe", internals=True)
                parts.append(group.idx)
                texts.append(prefix + group.label)
                array = array or group.array
            if item.decoder == "field":
                raise ElaborationError(
                    "a field probe is made by the diffusion statement itself (it probes"
                    " field(NAME)); remove this probe", item.loc)
            if item.decoder is None:
                label = texts[0]
            elif item.decoder in DECODERS:
                label = f"{item.decoder}({', '.join(texts)})"
            else:
                raise ElaborationError(
                    f"unknown decoder '{item.decoder}'{did_you_mean(item.decoder, DECODERS)};"
                    f" decoders are {', '.join(DECODERS)}",
                    item.loc,
                )
            idx = join_indices(parts)
            if not len(idx):
                raise ElaborationError(f"probe {label} names no neurons", item.loc)
            key = None
            if item.decoder == "label":
                key = self._decode_keys.get(group_key(idx))
                if key is None:
                    raise ElaborationError(
                        f"probe {label}: the label decoder reads the output of an imported model"
                        f" with a decode key (as in probe label(m.out)); '{', '.join(texts)}'"
                        " has no decode key",
                        item.loc,
                    )
            self.add_probe(idx, label=label, decoder=item.decoder, loc=item.loc, array=array, key=key)

    def add_probe(self, neurons: Sequence[str] | Indices, *, label: str, loc: SourceLocation,
                  **options: Any) -> None:
        """Probe ``neurons`` (full names or network indices) under ``label``, once per
        program (``Network.probe`` options)."""
        old = self._probe_labels.get(label)
        if old is not None:
            raise ElaborationError(f"'{label}' is already probed (at {old})", loc)
        self._probe_labels[label] = loc
        if isinstance(neurons, (range, np.ndarray)):
            names = self.net.names(index_array(neurons))
            decoder = options.get("decoder")
            if len(names) > _PROBE_CHECKED and options.get("key") is None and options.get("info") is None \
                    and decoder in (None, "count", "first", "binary", "rate"):
                # The neurons are known to exist: skip Network.probe's lookup of every name.
                array = options.get("array")
                self.net.probes.append(Probe(label, tuple(names), decoder, loc,
                                             len(names) > 1 if array is None else bool(array)))
                return
            neurons = names
        self.net.probe(*neurons, label=label, loc=loc, **options)


def _gates() -> Any:
    """The Boolean-gate elaborator, imported on first use: it loads sympy and scipy,
    which programs without ``gate`` statements (and ``import spikec``) never need."""
    from spikec.dsl import gates

    return gates


def _contains_loop(stmt: s.Statement) -> bool:
    if isinstance(stmt, s.For):
        return True
    if isinstance(stmt, s.If):
        return any(_contains_loop(st) for st in (*stmt.then, *stmt.orelse))
    return False


def _check_param_names(params: Sequence[s.Param], known: Sequence[str], what: str,
                       takes: str) -> None:
    """Refuse unknown or repeated parameter names."""
    seen: set[str] = set()
    for param in params:
        if param.name not in known:
            raise ElaborationError(
                f"unknown {what} parameter '{param.name}'{did_you_mean(param.name, known)};"
                + takes,
                param.loc,
            )
        if param.name in seen:
            raise ElaborationError(f"parameter '{param.name}' is given twice", param.loc)
        seen.add(param.name)
