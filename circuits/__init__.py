"""The circuit library: ``.spk`` files and Python generators of circuits.

Its circuits are reached from ``.spk`` programs with ``import std.NAME``,
which binds the circuits of ``NAME.spk`` and those the Python module
``NAME.py`` lists in its ``CIRCUITS`` dict (``logic``, ``arith``,
``matmul``, ``graph``). ``docs/circuits.md`` documents every circuit with
its latency and resources.
"""
