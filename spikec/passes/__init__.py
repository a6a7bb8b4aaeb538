"""Compiler passes: the manager (:mod:`spikec.passes.manager`) and one module per family.

- :mod:`~spikec.passes.simplify`: ``never-fires``, ``dead-neurons``, ``relay-fold``,
  ``merge-synapses``;
- :mod:`~spikec.passes.legalize`: ``check-features``, ``delay-legalize``, ``fanout-legalize``;
- :mod:`~spikec.passes.quantize`: ``quantize``;
- :mod:`~spikec.passes.floor_gates`: ``floor-gates`` (linear-leak chips);
- :mod:`~spikec.passes.place`: ``place``, ``split-destinations``.

Every module of this package registers its passes when the registry is first
read (:func:`pass_registry`); ``docs/internals.md`` shows how to add one.
"""

from spikec.chip.placement import Placement
from spikec.errors import CompileError, Diagnostic, LimitError
from spikec.passes.manager import (
    CompileContext,
    Pass,
    PassTiming,
    compile_for_target,
    default_pipeline,
    parse_pipeline,
    pass_registry,
    register_pass,
    run_pipeline,
)

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
