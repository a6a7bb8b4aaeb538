"""A deterministic text form of a network: the golden-test oracle and ``--print-ir``.

Neurons are listed in natural order of their names (``x[2]`` before
``x[10]``), parameters only where they differ from the defaults, synapses
sorted by (pre, post, delay, weight). Two equal networks print the same text
whatever order they were built in.
"""

from __future__ import annotations

from spikec.ir.network import DEFAULT_PARAMS, NEURON_PARAMS, Network, PoissonRate, natural_key

__all__ = ["format_network", "format_number"]


def format_number(x: float) -> str:
    """Shortest exact text of ``x``: ``2`` for 2.0, ``0.25``, ``1e-07``."""
    if float(x).is_integer() and abs(x) < 1e16:
        return str(int(x))
    return repr(float(x))


def format_network(net: Network) -> str:
    """Return the canonical text of ``net`` (ends with a newline)."""
    neurons = sorted(net.neurons(), key=lambda n: natural_key(n.name))
    n_in = sum(n.is_input for n in neurons)
    lines = [
        f"network {net.name}: {len(neurons)} neurons ({n_in} inputs), {net.num_synapses} synapses"
    ]
    for n in neurons:
        tags = f" tags[{', '.join(sorted(n.tags))}]" if n.tags else ""
        if n.is_input:
            lines.append(f"input {n.name}{tags}")
            continue
        params = ", ".join(
            f"{k}={format_number(getattr(n, k))}"
            for k in NEURON_PARAMS
            if getattr(n, k) != DEFAULT_PARAMS[k]
        )
        lines.append(f"neuron {n.name}" + (f" ({params})" if params else "") + tags)
    edges = sorted(
        (natural_key(s.pre), natural_key(s.post), s.delay, s.weight, s.pre, s.post)
        for s in net.synapses()
    )
    for *_, delay, weight, pre, post in edges:
        lines.append(f"synapse {pre} -> {post} (weight={format_number(weight)}, delay={delay})")
    for name in sorted(net.stimuli, key=natural_key):
        stim = net.stimuli[name]
        if isinstance(stim, PoissonRate):
            lines.append(f"stimulus {name} = poisson({format_number(stim.rate)})")
        else:
            lines.append(f"stimulus {name} = at({', '.join(map(str, stim.times))})")
    for probe in net.probes:
        target = ", ".join(probe.neurons)
        body = f"{probe.decoder}({target})" if probe.decoder else target
        lines.append(f"probe {probe.label} = {body}")
    return "\n".join(lines) + "\n"
