"""Circuit synthesis: threshold-gate circuits, Boolean functions, pipeline balancing.

- :mod:`~spikec.synth.threshold`: :class:`ThresholdCircuit`, a symbolic netlist of
  threshold gates laid out as a delay-balanced pipeline and emitted through a builder;
- :mod:`~spikec.synth.boolean`: Boolean expressions to threshold gates (exact
  threshold-function test, two-level and counting forms);
- :mod:`~spikec.synth.balance`: pipeline stages, latency and delay balancing of
  memoryless networks.
"""
