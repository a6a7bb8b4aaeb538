"""The pass manager: passes as named dataclasses, their registry, and the pipeline driver.

A pass is a small dataclass with a class-level ``name`` and ``summary`` and
its options as fields. ``run(net, ctx)`` edits ``net`` in place (the
pipeline works on a copy of the caller's network) through the methods of
:class:`~spikec.ir.Network` and returns it; the work itself lives in plain
module-level functions that tests call alone. Every pass keeps the spike
trains of the neurons it leaves in place identical on deterministic
networks (see ``docs/targets.md`` for each pass's argument).

The registry is discovered: every module of the ``spikec.passes`` package
(but this one) is imported once, and each class decorated with
:func:`register_pass` is registered under its ``name``. A pass joins the
default pipeline by setting ``default_order`` (its place in it) and, when
it only applies to some targets, overriding :meth:`Pass.applies`. Adding a
pass is adding a module (``docs/internals.md``).

``ctx`` (:class:`CompileContext`) carries what passes share: the target,
``exact`` (refuse rather than report a possible change), the observable
neurons, the placement once a placement pass ran, and the diagnostics.

The driver :func:`run_pipeline` verifies the network (and the placement)
after every pass, times each pass and can print the IR after each one.
Pipelines are written ``"never-fires,dead-neurons,quantize{exact=true}"``.
"""

from __future__ import annotations

import abc
import dataclasses
import importlib
import pkgutil
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, TextIO

import numpy as np

from spikec.chip.placement import Placement
from spikec.chip.target import Target
from spikec.errors import CompileError, Diagnostic, SourceLocation, SpikecError, UsageError, did_you_mean
from spikec.ir.network import Network

__all__ = [
    "Pass",
    "CompileContext",
    "PassTiming",
    "register_pass",
    "pass_registry",
    "parse_pipeline",
    "run_pipeline",
    "default_pipeline",
    "compile_for_target",
]


@dataclass
class CompileContext:
    """State shared by the passes of one compilation."""

    target: Target
    exact: bool = False
    keep: frozenset[str] | None = None
    placement: Placement | None = None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    #: Neurons added by passes (relays, splitters, replicas), not in the source.
    added: set[str] = field(default_factory=set)
    #: The passes run, as spelled in a pipeline string.
    pipeline: list[str] = field(default_factory=list)

    def note(self, pass_name: str, subject: str, message: str, loc: SourceLocation | None = None,
             severity: str = "note") -> None:
        """Record a diagnostic about ``subject`` (with its source location when known)."""
        self.diagnostics.append(Diagnostic(pass_name, subject, message, loc, severity))

    def observable(self, net: Network) -> set[str]:
        """Neurons whose spikes must be kept: ``keep`` if given, else the probed neurons,
        else (a network without probes) every neuron. Input neurons always count."""
        if self.keep is not None:
            out = set(self.keep)
        elif net.probes:
            out = {n for p in net.probes for n in p.neurons}
        else:
            out = set(net)
        out.update(net.inputs())
        return out

    def observable_mask(self, net: Network) -> np.ndarray:
        """:meth:`observable` as a boolean mask over the neurons (no name set is built
        for a network without probes)."""
        if self.keep is None and not net.probes:
            return np.ones(len(net), dtype=bool)
        mask = np.zeros(len(net), dtype=bool)
        names = set(self.keep) if self.keep is not None else {n for p in net.probes for n in p.neurons}
        known = [n for n in names if n in net]
        mask[net.resolve(known)] = True
        mask |= net.is_input
        return mask


class Pass(abc.ABC):
    """Base class of passes: subclasses are dataclasses with a ``name`` and options.

    ``default_order`` places the pass in the default pipeline (``None``: not in
    it); :meth:`applies` says whether the default pipeline of a target runs it.
    """

    name: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    default_order: ClassVar[int | None] = None

    @abc.abstractmethod
    def run(self, net: Network, ctx: CompileContext) -> Network:
        """Transform ``net`` (in place) and return it."""

    @classmethod
    def applies(cls, target: Target) -> bool:
        """Whether the default pipeline for ``target`` includes this pass."""
        return True

    def spelled(self) -> str:
        """The pass as written in a pipeline string, with its non-default options."""
        opts = []
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if value != f.default:
                text = str(value).lower() if isinstance(value, bool) else str(value)
                opts.append(f"{f.name}={text}")
        return self.name + (f"{{{','.join(opts)}}}" if opts else "")


_REGISTRY: dict[str, type[Pass]] = {}
_DISCOVERED = False


def register_pass(cls: type[Pass]) -> type[Pass]:
    """Class decorator: add a pass to the registry under ``cls.name``."""
    if not cls.name or (cls.name in _REGISTRY and _REGISTRY[cls.name] is not cls):
        raise ValueError(f"pass name {cls.name!r} is empty or taken")
    _REGISTRY[cls.name] = cls
    return cls


def _discover() -> None:
    """Import every module of this package once, so their passes register."""
    global _DISCOVERED
    if _DISCOVERED:
        return
    import spikec.passes as package

    for info in pkgutil.iter_modules(package.__path__):
        if info.name != "manager" and not info.name.startswith("_"):
            importlib.import_module(f"{package.__name__}.{info.name}")
    _DISCOVERED = True


def pass_registry() -> dict[str, type[Pass]]:
    """Every registered pass by name."""
    _discover()
    return dict(_REGISTRY)


def _convert(pass_name: str, f: dataclasses.Field[Any], text: str) -> Any:
    kind = str(f.type)
    try:
        if "bool" in kind:
            if text.lower() not in ("true", "false"):
                raise ValueError
            return text.lower() == "true"
        if "int" in kind:
            value = int(text)
            if value < 0:  # every int option is a count, a limit or a seed (0 = the default)
                raise CompileError(f"pass '{pass_name}': option {f.name}: expected an integer >= 0,"
                                   f" got {text}")
            return value
        if "float" in kind:
            return float(text)
    except ValueError:
        raise CompileError(f"pass '{pass_name}': option {f.name}: cannot read {text!r} as {kind}") from None
    return text


def parse_pipeline(text: str) -> list[Pass]:
    """Passes from ``"a,b{opt=1,flag=true},c"``; unknown names and options are errors."""
    registry = pass_registry()
    passes: list[Pass] = []
    items = _split_items(text)
    if not any(items):
        raise CompileError(f"pipeline {text!r} names no pass; valid passes: {', '.join(sorted(registry))}")
    if not all(items):
        raise CompileError(f"pipeline {text!r}: an empty pass name between commas")
    for item in items:
        name, brace, rest = item.partition("{")
        name = name.strip()
        if not name and brace:
            raise CompileError(f"pipeline item {item!r}: a pass name must come before its '{{options}}'")
        if name not in registry:
            raise CompileError(
                f"unknown pass '{_shown(name)}'{did_you_mean(name, registry)};"
                f" valid passes: {', '.join(sorted(registry))}"
            )
        cls = registry[name]
        fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        options: dict[str, Any] = {}
        if brace:
            if not rest.endswith("}") or "{" in rest or "}" in rest[:-1]:
                raise CompileError(f"pass '{name}': options are one '{{...}}' group after the name"
                                   f" ({name}{{opt=v,...}}), got {item!r}")
            for pair in filter(None, (p.strip() for p in rest[:-1].split(","))):
                key, eq, value = pair.partition("=")
                key = key.strip()
                if key not in fields:
                    valid = ", ".join(fields) or "none"
                    raise CompileError(
                        f"pass '{name}': unknown option '{_shown(key)}'{did_you_mean(key, fields)};"
                        f" valid options: {valid}"
                    )
                if not eq:
                    raise CompileError(f"pass '{name}': option '{key}' needs a value ({key}=...)")
                if key in options:
                    raise CompileError(f"pass '{name}': option '{key}' is given twice")
                options[key] = _convert(name, fields[key], value.strip())
        passes.append(cls(**options))
    return passes


def _shown(text: str) -> str:
    """``text`` for a message: control and other unprintable characters escaped (a bell or
    an escape sequence in ``--passes`` must not reach the terminal)."""
    return text if text.isprintable() else repr(text)[1:-1]


def _split_items(text: str) -> list[str]:
    """Split on commas outside braces."""
    items, depth, cur = [], 0, ""
    for ch in text:
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        if ch == "," and depth == 0:
            items.append(cur)
            cur = ""
        else:
            cur += ch
    items.append(cur)
    return [i.strip() for i in items]


def default_pipeline(target: Target) -> list[Pass]:
    """The passes ``spikec compile`` runs for ``target`` when no ``--passes`` is given:
    every registered pass with a ``default_order`` that :meth:`~Pass.applies` to it."""
    chosen = [cls for cls in pass_registry().values()
              if cls.default_order is not None and cls.applies(target)]
    chosen.sort(key=lambda cls: (cls.default_order, cls.name))
    return [cls() for cls in chosen]


@dataclass(frozen=True, slots=True)
class PassTiming:
    """How long one pass took, and the network's size after it."""

    name: str
    seconds: float
    neurons: int
    synapses: int


def run_pipeline(
    net: Network,
    passes: Sequence[Pass],
    ctx: CompileContext,
    *,
    verify_each: bool = True,
    print_ir: TextIO | None = None,
    on_timing: Callable[[PassTiming], None] | None = None,
    copy: bool = True,
) -> Network:
    """Run ``passes`` on a copy of ``net``; return the result (``net`` is left alone).

    ``verify_each`` checks the network (and the placement, once there is one)
    after every pass; ``print_ir`` receives the IR after every pass;
    ``on_timing`` receives each pass's :class:`PassTiming`. ``copy=False``
    works on ``net`` itself (no second copy of a large network in memory;
    ``net`` is then the compiled network).
    """
    from spikec.ir.printer import format_network
    from spikec.ir.verify import verify

    verify(net)
    work = net.copy() if copy else net
    for p in passes:
        start = time.perf_counter()
        work = p.run(work, ctx)
        seconds = time.perf_counter() - start
        if verify_each:
            try:
                verify(work)
                if ctx.placement is not None:
                    ctx.placement.check(work)
            except SpikecError as exc:
                raise CompileError(f"after pass '{p.name}': {exc.message}", exc.location) from None
        if on_timing is not None:
            on_timing(PassTiming(p.spelled(), seconds, work.num_neurons, work.num_synapses))
        if print_ir is not None:
            print_ir.write(f"// ----- IR after {p.spelled()} -----\n")
            print_ir.write(format_network(work))
            if ctx.placement is not None:
                print_ir.write(ctx.placement.format())
    return work


def compile_for_target(
    net: Network,
    target: Target,
    passes: Sequence[Pass] | None = None,
    *,
    exact: bool = False,
    keep: Iterable[str] | None = None,
    verify_each: bool = True,
    print_ir: TextIO | None = None,
    on_timing: Callable[[PassTiming], None] | None = None,
    copy: bool = True,
) -> tuple[Network, CompileContext]:
    """Run ``passes`` (default :func:`default_pipeline`) for ``target``; a pipeline that
    places nothing gets the default pipeline's placement passes (``place``, and
    ``split-destinations`` where the target needs it) appended, since a netlist needs a
    placement. Returns the network and the context; ``copy=False`` compiles ``net`` in
    place (see :func:`run_pipeline`).

    ``keep`` names the neurons whose spikes must be kept, replacing the default (the
    probed neurons): a probed neuron left out of it may be removed, and its probe with
    it (or the probe loses that neuron's column), each such probe noted in the
    diagnostics. A name that is no neuron of ``net`` is a :class:`UsageError`."""
    kept = _kept(net, keep)
    ctx = CompileContext(target, exact=exact, keep=kept)
    # Probes on neurons left out of ``keep`` are not observable: a pass may remove them.
    unkept = [(p.label, p.neurons, p.loc) for p in net.probes
              if not kept.issuperset(p.neurons)] if kept is not None else []
    chosen = list(passes) if passes is not None else default_pipeline(target)
    if not any(p.name == "place" for p in chosen):
        order = pass_registry()["place"].default_order or 0
        chosen += [p for p in default_pipeline(target) if (p.default_order or 0) >= order]
    out = run_pipeline(net, chosen, ctx, verify_each=verify_each, print_ir=print_ir, on_timing=on_timing,
                       copy=copy)
    ctx.pipeline = [p.spelled() for p in chosen]
    _note_dropped_probes(out, ctx, unkept)
    return out, ctx


#: Search every name for "did you mean" up to this many neurons.
_SUGGEST_LIMIT = 20_000


def _kept(net: Network, keep: Iterable[str] | None) -> frozenset[str] | None:
    """``keep`` as a set of names of ``net``'s neurons; an unknown name is a UsageError."""
    if keep is None:
        return None
    names = [keep] if isinstance(keep, str) else list(keep)
    for name in names:
        if not isinstance(name, str) or name not in net:
            shown = did_you_mean(str(name), net.names()) if len(net) <= _SUGGEST_LIMIT else ""
            raise UsageError(f"keep (--keep): no neuron named '{name}' to keep{shown}")
    return frozenset(names)


def _note_dropped_probes(net: Network, ctx: CompileContext,
                         unkept: Sequence[tuple[str, tuple[str, ...], SourceLocation | None]]) -> None:
    """A note for each probe (on neurons outside ``keep``) that lost neurons in the pipeline."""
    if not unkept:
        return
    now = {p.label: len(p.neurons) for p in net.probes}
    for label, neurons, loc in unkept:
        left = now.get(label, 0)
        if left < len(neurons):
            what = "dropped" if left == 0 else f"lost {len(neurons) - left} of its {len(neurons)} neurons"
            ctx.note("keep", f"probe '{label}'",
                     f"{what}: its neurons are not kept (--keep) and the passes removed them", loc)
