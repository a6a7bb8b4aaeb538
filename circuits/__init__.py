"""The circuit library: ``.spk`` files and Python generators of circuits.

Its circuits are reached from ``.spk`` programs with ``import std.NAME``.
"""
