"""A deterministic text form of a network: the golden-test oracle and ``--print-ir``.

Neurons are listed in natural order of their names (``x[2]`` before
``x[10]``), parameters only where they differ from the defaults, synapses
sorted by (pre, post, delay, weight). Two equal networks print the same text
whatever order they were built in.
"""

from __future__ import annotations

import numpy as np

from spikec.ir.network import DEFAULT_PARAMS, NEURON_PARAMS, Network, PoissonRate, natural_key

__all__ = ["format_network", "format_number", "natural_order"]


def format_number(x: float) -> str:
    """Shortest exact text of ``x``: ``2`` for 2.0, ``0.25``, ``1e-07``."""
    if float(x).is_integer() and abs(x) < 1e16:
        return str(int(x))
    return repr(float(x))


def natural_order(net: Network) -> np.ndarray:
    """Neuron indices in natural order of their names (``x[2]`` before ``x[10]``)."""
    names = net.names()
    return np.array(sorted(range(len(names)), key=lambda i: natural_key(names[i])), dtype=np.int64)


def format_network(net: Network) -> str:
    """Return the canonical text of ``net`` (ends with a newline)."""
    names = net.names()
    order = natural_order(net)
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    n_in = int(np.count_nonzero(net.is_input))
    lines = [f"network {net.name}: {len(names)} neurons ({n_in} inputs), {net.num_synapses} synapses"]
    cols = {k: net.param(k) for k in NEURON_PARAMS}
    is_input = net.is_input
    for i in order.tolist():
        tags = net.tags_of(i)
        shown = f" tags[{', '.join(sorted(tags))}]" if tags else ""
        if is_input[i]:
            lines.append(f"input {names[i]}{shown}")
            continue
        params = ", ".join(f"{k}={format_number(float(cols[k][i]))}" for k in NEURON_PARAMS
                           if cols[k][i] != DEFAULT_PARAMS[k])
        lines.append(f"neuron {names[i]}" + (f" ({params})" if params else "") + shown)
    pre, post, weight, delay = net.pre, net.post, net.weight, net.delay
    syn_order = np.lexsort((weight, delay, rank[post], rank[pre]))
    for s in syn_order.tolist():
        lines.append(f"synapse {names[pre[s]]} -> {names[post[s]]} (weight={format_number(float(weight[s]))},"
                     f" delay={int(delay[s])})")
    stimuli = net.stimuli
    for name in sorted(stimuli, key=natural_key):
        stim = stimuli[name]
        if isinstance(stim, PoissonRate):
            lines.append(f"stimulus {name} = poisson({format_number(stim.rate)})")
        else:
            lines.append(f"stimulus {name} = at({', '.join(map(str, stim.times))})")
    for probe in net.probes:
        target = ", ".join(probe.neurons)
        body = f"{probe.decoder}({target})" if probe.decoder else target
        lines.append(f"probe {probe.label} = {body}")
    return "\n".join(lines) + "\n"
