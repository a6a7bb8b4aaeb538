"""``verify(net)``: check a network against every rule of the semantics.

The methods of :class:`~spikec.ir.network.Network` already check each value
as it is added; ``verify`` re-checks the whole network, vectorized over its
columns, so a network loaded from disk, rewritten by a pass or edited
through its raw columns is held to the same rules. The simulator and every
emitter call it first. It costs a few array passes, no Python loop per
neuron or synapse; only when something is wrong does it look for the first
culprit to name it.
"""

from __future__ import annotations

import re

import numpy as np

from spikec.errors import VerifyError
from spikec.ir.network import DECODERS, NEURON_PARAMS, Network
from spikec.ir.payloads import check_name

__all__ = ["verify"]

_BAD_NAME_CHAR = re.compile(r"\s")


def verify(net: Network) -> None:
    """Raise :class:`~spikec.errors.VerifyError` naming the first object that
    breaks a rule of ``docs/semantics.md``; return ``None`` if all is well.

    Rules: parameters are finite reals with ``decay`` and ``p`` in [0, 1];
    names are unique, non-empty and printable; input neurons receive no
    synapses; every synapse joins two neurons of the network with a finite
    real weight and an integer delay >= 1; probes name existing neurons and
    known decoders; stimuli drive input neurons with valid steps or rates.
    """
    if not isinstance(net, Network):
        raise VerifyError(f"verify expects a spikec.Network, got {type(net).__name__}")
    _verify_neurons(net)
    _verify_synapses(net)
    _verify_probes_and_stimuli(net)


def _first(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0])


def _verify_neurons(net: Network) -> None:
    is_input = net.is_input
    for key in NEURON_PARAMS:
        values = net.param(key)
        bad = ~np.isfinite(values)
        if key in ("decay", "p"):
            bad |= (values < 0.0) | (values > 1.0)
        if bad.any():
            i = _first(bad)
            what = "finite" if not np.isfinite(values[i]) else "in [0, 1]"
            kind = "input" if is_input[i] else "neuron"
            raise VerifyError(f"{kind} '{net.name_of(i)}': {key} must be {what}, got {values[i]:g}",
                              net.location_of(i))
    # Names: the table holds each base once; one scan of their joined text finds a space
    # or control character, and only then is the culprit looked for.
    bases = net._names.bases
    joined = "".join(bases)
    if _BAD_NAME_CHAR.search(joined) or not joined.isprintable():
        for base in bases:
            check_name(base or "[0]")


def _verify_synapses(net: Network) -> None:
    n = len(net)
    if not net.num_synapses:
        return
    pre, post, weight, delay = net.pre, net.post, net.weight, net.delay
    out_of_range = (pre < 0) | (pre >= n) | (post < 0) | (post >= n)
    if out_of_range.any():
        s = _first(out_of_range)
        raise VerifyError(f"synapse {s}: joins neuron indices {int(pre[s])} -> {int(post[s])}, outside the"
                          f" {n} neurons of the network")
    names = net.name_of
    to_input = net.is_input[post]
    if to_input.any():
        s = _first(to_input)
        raise VerifyError(f"synapse {names(int(pre[s]))} -> {names(int(post[s]))}: '{names(int(post[s]))}' is"
                          " an input neuron and cannot receive synapses", net.synapse_location(s))
    bad_w = ~np.isfinite(weight)
    if bad_w.any():
        s = _first(bad_w)
        raise VerifyError(f"synapse {names(int(pre[s]))} -> {names(int(post[s]))}: weight must be finite,"
                          f" got {float(weight[s])!r}", net.synapse_location(s))
    bad_d = delay < 1
    if bad_d.any():
        s = _first(bad_d)
        raise VerifyError(f"synapse {names(int(pre[s]))} -> {names(int(post[s]))}: delay must be an integer"
                          f" >= 1, got {int(delay[s])}", net.synapse_location(s))


def _verify_probes_and_stimuli(net: Network) -> None:
    for probe in net.probes:
        for name in probe.neurons:
            if name not in net:
                raise VerifyError(f"probe '{probe.label}': no neuron named '{name}'", probe.loc)
        if probe.decoder is not None and probe.decoder not in DECODERS:
            raise VerifyError(f"probe '{probe.label}': unknown decoder '{probe.decoder}'", probe.loc)
    rates = net.stimulus_rates
    has_rate = ~np.isnan(rates)
    bad = has_rate & ~net.is_input
    if bad.any():
        raise VerifyError(f"stimulus '{net.name_of(_first(bad))}': not an input neuron")
    bad = has_rate & ((rates < 0) | (rates > 1))
    if bad.any():
        i = _first(bad)
        raise VerifyError(f"stimulus '{net.name_of(i)}': rate must be in [0, 1], got {rates[i]:g}")
    is_input = net.is_input
    for i, times in net.stimulus_times.items():
        if not 0 <= i < len(net) or not is_input[i]:
            raise VerifyError(f"stimulus '{net.name_of(i) if 0 <= i < len(net) else i}': not an input neuron")
        if any(not isinstance(t, int) or t < 0 for t in times):
            raise VerifyError(f"stimulus '{net.name_of(i)}': spike steps must be integers >= 0")
