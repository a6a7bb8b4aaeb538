"""The pass pipeline: named passes with options, a registry, and a driver.

A pass is a small dataclass with a class-level ``name`` and its options as
fields. ``run(net, ctx)`` edits ``net`` in place (the pipeline works on a
copy of the caller's network) and returns it; the work itself lives in
plain module-level functions that tests call alone. Every pass keeps the
spike trains of the neurons it leaves in place identical on deterministic
networks (see ``docs/targets.md`` for each pass's argument).

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
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, TextIO

from spikec.errors import SpikecError, did_you_mean
from spikec.network import Network
from spikec.target import Target

__all__ = [
    "Pass",
    "CompileContext",
    "CompileError",
    "LimitError",
    "Diagnostic",
    "PassTiming",
    "Placement",
    "register_pass",
    "pass_registry",
    "parse_pipeline",
    "run_pipeline",
    "default_pipeline",
    "compile_for_target",
]

# Modules whose import registers passes (kept lazy: they import this one).
_PASS_MODULES = ("spikec.pass_simplify", "spikec.pass_legalize", "spikec.linear_leak", "spikec.partition")


class CompileError(SpikecError):
    """A network cannot be compiled for a target as asked."""


class LimitError(CompileError):
    """A network exceeds a limit of the target (the message names limit, value and object)."""


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """A note from a pass about one object (``subject``): ``neuron 'x'``, ``core 3``."""

    pass_name: str
    subject: str
    message: str

    def __str__(self) -> str:
        return f"{self.pass_name}: {self.subject}: {self.message}"


@dataclass
class Placement:
    """Which core holds each neuron (``core[name]``), and the number of cores used.

    Core ``c`` is core ``c % cores_per_chip`` of chip ``c // cores_per_chip``.
    """

    core: dict[str, int]
    num_cores: int

    def neurons_of(self) -> list[list[str]]:
        """The neurons of each core, in network order within a core."""
        out: list[list[str]] = [[] for _ in range(self.num_cores)]
        for name, c in self.core.items():
            out[c].append(name)
        return out


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

    def note(self, pass_name: str, subject: str, message: str) -> None:
        """Record a diagnostic."""
        self.diagnostics.append(Diagnostic(pass_name, subject, message))

    def observable(self, net: Network) -> set[str]:
        """Neurons whose spikes must be kept: ``keep`` if given, else the probed neurons,
        else (a network without probes) every neuron. Input neurons always count."""
        if self.keep is not None:
            out = set(self.keep)
        elif net.probes:
            out = {n for p in net.probes for n in p.neurons}
        else:
            out = set(net.graph.nodes)
        out.update(net.inputs())
        return out


class Pass(abc.ABC):
    """Base class of passes: subclasses are dataclasses with a ``name`` and options."""

    name: ClassVar[str] = ""
    summary: ClassVar[str] = ""

    @abc.abstractmethod
    def run(self, net: Network, ctx: CompileContext) -> Network:
        """Transform ``net`` (in place) and return it."""

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


def register_pass(cls: type[Pass]) -> type[Pass]:
    """Class decorator: add a pass to the registry under ``cls.name``."""
    if not cls.name or cls.name in _REGISTRY:
        raise ValueError(f"pass name {cls.name!r} is empty or taken")
    _REGISTRY[cls.name] = cls
    return cls


def pass_registry() -> dict[str, type[Pass]]:
    """Every registered pass by name."""
    for module in _PASS_MODULES:
        importlib.import_module(module)
    return dict(_REGISTRY)


def _convert(pass_name: str, f: dataclasses.Field[Any], text: str) -> Any:
    kind = str(f.type)
    try:
        if "bool" in kind:
            if text.lower() not in ("true", "false"):
                raise ValueError
            return text.lower() == "true"
        if "int" in kind:
            return int(text)
        if "float" in kind:
            return float(text)
    except ValueError:
        raise CompileError(f"pass '{pass_name}': option {f.name}: cannot read {text!r} as {kind}") from None
    return text


def parse_pipeline(text: str) -> list[Pass]:
    """Passes from ``"a,b{opt=1,flag=true},c"``; unknown names and options are errors."""
    registry = pass_registry()
    passes: list[Pass] = []
    for item in _split_items(text):
        name, _, rest = item.partition("{")
        name = name.strip()
        if name not in registry:
            raise CompileError(
                f"unknown pass '{name}'{did_you_mean(name, registry)};"
                f" valid passes: {', '.join(sorted(registry))}"
            )
        cls = registry[name]
        fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        options: dict[str, Any] = {}
        if rest:
            if not rest.endswith("}"):
                raise CompileError(f"pass '{name}': options must end with '}}', got {item!r}")
            for pair in filter(None, (p.strip() for p in rest[:-1].split(","))):
                key, eq, value = pair.partition("=")
                key = key.strip()
                if key not in fields:
                    valid = ", ".join(fields) or "none"
                    raise CompileError(
                        f"pass '{name}': unknown option '{key}'{did_you_mean(key, fields)};"
                        f" valid options: {valid}"
                    )
                if not eq:
                    raise CompileError(f"pass '{name}': option '{key}' needs a value ({key}=...)")
                options[key] = _convert(name, fields[key], value.strip())
        passes.append(cls(**options))
    return passes


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
    return [i.strip() for i in items if i.strip()]


def default_pipeline(target: Target) -> list[Pass]:
    """The passes ``spikec compile`` runs for ``target`` when no ``--passes`` is given."""
    names = ["never-fires", "dead-neurons", "relay-fold", "merge-synapses", "check-features",
             "delay-legalize", "fanout-legalize", "quantize"]
    if target.floor:
        names.append("floor-gates")
    names.append("place")
    if target.dest_cores_per_neuron is not None:
        names.append("split-destinations")
    return parse_pipeline(",".join(names))


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
) -> Network:
    """Run ``passes`` on a copy of ``net``; return the result (``net`` is left alone).

    ``verify_each`` checks the network (and the placement, once there is one)
    after every pass; ``print_ir`` receives the IR after every pass;
    ``on_timing`` receives each pass's :class:`PassTiming`.
    """
    from spikec.printer import format_network
    from spikec.verify import verify

    verify(net)
    work = net.copy()
    for p in passes:
        start = time.perf_counter()
        work = p.run(work, ctx)
        seconds = time.perf_counter() - start
        if verify_each:
            try:
                verify(work)
                if ctx.placement is not None:
                    check_placement(work, ctx.placement)
            except SpikecError as exc:
                raise CompileError(f"after pass '{p.name}': {exc.message}", exc.location) from None
        if on_timing is not None:
            on_timing(PassTiming(p.spelled(), seconds, work.num_neurons, work.num_synapses))
        if print_ir is not None:
            print_ir.write(f"// ----- IR after {p.spelled()} -----\n")
            print_ir.write(format_network(work))
            if ctx.placement is not None:
                print_ir.write(_format_placement(ctx.placement))
    return work


def check_placement(net: Network, placement: Placement) -> None:
    """Every neuron of ``net`` sits on a core in ``[0, num_cores)``, and no other name is placed."""
    for name in net.graph.nodes:
        core = placement.core.get(name)
        if core is None:
            raise CompileError(f"neuron '{name}' is not placed on any core")
        if not 0 <= core < placement.num_cores:
            raise CompileError(
                f"neuron '{name}' is placed on core {core}, outside 0..{placement.num_cores - 1}")
    extra = set(placement.core) - set(net.graph.nodes)
    if extra:
        raise CompileError(f"placement names neuron '{sorted(extra)[0]}', which is not in the network")


def _format_placement(placement: Placement) -> str:
    lines = []
    for c, names in enumerate(placement.neurons_of()):
        lines.append(f"core {c}: {', '.join(names) if names else '-'}")
    return "\n".join(lines) + "\n"


def fmt_count(n: int | float) -> str:
    """``1,204`` for messages about limits."""
    return f"{int(n):,}" if float(n).is_integer() else f"{n:,}"


def describe_names(names: Iterable[str], limit: int = 3) -> str:
    """``'a', 'b', 'c' and 4 more`` for messages."""
    names = list(names)
    shown = ", ".join(f"'{n}'" for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


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
) -> tuple[Network, CompileContext]:
    """Run ``passes`` (default :func:`default_pipeline`) for ``target``; a pipeline that
    places nothing gets ``place`` (and ``split-destinations`` where the target needs it)
    appended, since a netlist needs a placement. Returns the network and the context."""
    ctx = CompileContext(target, exact=exact, keep=frozenset(keep) if keep is not None else None)
    chosen = list(passes) if passes is not None else default_pipeline(target)
    if not any(p.name == "place" for p in chosen):
        tail = "place" + (",split-destinations" if target.dest_cores_per_neuron is not None else "")
        chosen += parse_pipeline(tail)
    out = run_pipeline(net, chosen, ctx, verify_each=verify_each, print_ir=print_ir, on_timing=on_timing)
    ctx.pipeline = [p.spelled() for p in chosen]
    return out, ctx
