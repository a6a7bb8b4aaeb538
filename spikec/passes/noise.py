"""The ``noise-map`` pass: stochastic neurons (``p < 1``) onto a target's noise.

On a target with a ``[noise]`` table (:mod:`spikec.chip.noise` holds the chip
models and the arithmetic) each stochastic neuron that can fire is mapped:

- a decay-1 neuron with several reachable potentials over threshold (and
  reset 0) is rewritten, on ``threshold`` and ``membrane`` chips, into a
  deterministic gate ``[U >= θ]`` (the neuron's inputs and parameters, named
  ``NAME~gate``) feeding the neuron itself as a one-input stochastic relay
  (threshold 1, weight 1): the same firing distribution, one step later.
  The step is absorbed by retiming as ``fanin-split`` does (least shifts by
  longest paths, :func:`spikec.passes.fanin._retime`); an observable neuron
  whose spikes move is reported (refused under ``exact``);
- every mapped neuron's realised probability is computed for each reachable
  potential: ``a / 2**k`` at threshold (exact iff ``p 2**k`` is an integer;
  on ``stream`` chips exactly ``p``). The IR then holds the realised
  probability where it is exact by construction (one potential over
  threshold), so spikec's simulator of the compiled network has the chip's
  distribution;
- ``exact`` (``--exact``) refuses any change of a firing distribution,
  ``max_p_error`` (``--max-p-error``) any error above it, naming the neuron.

It reports one note per distinct (requested, realised) pair, with a count
and the first neuron. Neurons the noise cannot run are left to
``check-features``, which refuses them with the reason.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from spikec.chip.noise import NoisePlan, plan_noise
from spikec.chip.target import Target
from spikec.errors import CompileError
from spikec.ir.analysis import silent_mask
from spikec.ir.network import Network
from spikec.passes.fanin import _check_quiescent, _retime, report_shift
from spikec.passes.manager import CompileContext, Pass, register_pass

__all__ = ["NoiseMap", "map_noise", "relay_rewrite"]

_GATE_TAG = "spikec.noise-gate"


def relay_rewrite(net: Network, idx: np.ndarray, ctx: CompileContext | None = None,
                  pass_name: str = "noise-map") -> np.ndarray:
    """Split each decay-1 neuron of ``idx`` into a deterministic gate (its inputs, threshold,
    bias, v0; ``p = 1``) and itself as a stochastic relay of the gate, retimed so that every
    other neuron keeps its spikes; returns the steps each neuron now spikes later (indices
    from before the rewrite). Refuses (changing nothing) what retiming cannot absorb."""
    idx = np.asarray(idx, dtype=np.int64)
    n = len(net)
    depth = np.zeros(n, dtype=np.int64)
    depth[idx] = 1
    shift = _retime(net, depth)
    carried = shift.copy()
    carried[idx] -= 1  # the gate carries the neuron's dynamics one step ahead of the relay
    _check_quiescent(net, np.maximum(carried, 0))
    report_shift(net, shift, ctx, pass_name, ": a stochastic gate with several potentials over threshold"
                 " became a deterministic gate and a stochastic relay")
    pre, post = net.pre.astype(np.int64), net.post.astype(np.int64)
    into = depth[post] > 0
    new_delay = net.delay + shift[post] - shift[pre] - depth[post]
    names = [f"{nm}~gate" for nm in net.names(idx)]
    taken = [nm for nm in names if nm in net]
    if taken:
        raise CompileError(f"{pass_name}: cannot add gate neuron '{taken[0]}': the name is taken")
    gates = net.add_named(names, threshold=net.threshold[idx], decay=1.0, reset=0.0, bias=net.bias[idx],
                          v0=net.v0[idx], tags=frozenset({_GATE_TAG}))
    if ctx is not None:
        ctx.added.update(names)
    gate_of = np.full(n, -1, dtype=np.int64)
    gate_of[idx] = gates
    moving = np.flatnonzero(into)
    net.set_synapses(np.flatnonzero(~into), delay=new_delay[~into])
    net.copy_synapses(moving, post=gate_of[post[moving]], delay=new_delay[moving])
    relay = np.zeros(len(net), dtype=bool)
    relay[idx] = True
    net.remove_synapses(relay[net.post])  # the originals (the copies go to the gates)
    net.add_synapses(gates, idx, 1.0, 1)
    net.set_params(idx, threshold=1.0, bias=0.0, v0=0.0, reset=0.0, decay=1.0)
    return shift


def map_noise(net: Network, target: Target, ctx: CompileContext | None = None, *, relays: bool = True,
              pass_name: str = "noise-map") -> NoisePlan | None:
    """Map every stochastic neuron that can fire onto ``target``'s noise (see the module
    docstring); returns the final plan (``None`` when there is nothing to map)."""
    if target.noise_kind is None:
        return None
    idx = np.flatnonzero(~net.is_input & (net.p < 1.0))
    if len(idx):
        idx = idx[~silent_mask(net)[idx]]
    if not len(idx):
        return None
    plan = plan_noise(net, target, idx)
    ok = np.array([why is None for why in plan.problem], dtype=bool)
    if relays and plan.kind != "stream":
        split = ok & plan.multi & (net.decay[idx] == 1.0) & (net.reset[idx] == 0.0)
        if split.any():
            relay_rewrite(net, idx[split], ctx, pass_name)
            plan = plan_noise(net, target, idx)
            ok = np.array([why is None for why in plan.problem], dtype=bool)
    # The IR holds the realised probability where it is exact by construction.
    exact_form = ok & ~plan.multi & (plan.realised != plan.p)
    if exact_form.any():
        net.set_params(idx[exact_form], p=plan.realised[exact_form])
    return plan


def _summary(net: Network, plan: NoisePlan, ok: np.ndarray) -> list[tuple[str, str]]:
    """One (subject, message) per distinct (requested p, realised p) pair."""
    groups: dict[tuple[float, float, float], list[int]] = defaultdict(list)
    for j in np.flatnonzero(ok).tolist():
        groups[(float(plan.p[j]), float(plan.realised[j]), float(plan.top[j]))].append(j)
    lines = []
    for (p, q, top), members in groups.items():
        j = members[0]
        k = int(plan.bits[j])
        how = (f"realised {q:.6g} (draws of spikec's stream)" if plan.kind == "stream"
               else f"realised {q:.6g} = {int(plan.levels[j])}/2**{k}")
        if top != q:
            how += f" at threshold, rising to {top:.6g} at potential {plan.high[j] - plan.theta[j]:g} over it"
        more = f" ({len(members):,} neurons like it)" if len(members) > 1 else ""
        lines.append((f"neuron '{net.name_of(int(plan.idx[j]))}'",
                      f"p = {p:.6g} {how}; error {float(plan.error[j]):.3g}{more}"))
    return lines


@register_pass
@dataclass
class NoiseMap(Pass):
    """Map stochastic neurons onto the target's noise; report (or bound) the realised probability."""

    name = "noise-map"
    summary = "map p < 1 neurons onto the target's noise; report realised probabilities (--max-p-error)"
    default_order = 45
    exact: bool = False
    max_p_error: float = -1.0
    relays: bool = True

    @classmethod
    def applies(cls, target: Target) -> bool:
        """Only targets with a ``[noise]`` table."""
        return target.noise_kind is not None

    def run(self, net: Network, ctx: CompileContext) -> Network:
        """Map, check the bound, and note the realised probabilities."""
        target = ctx.target
        plan = map_noise(net, target, ctx, relays=self.relays, pass_name=self.name)
        if plan is None:
            return net
        ok = np.array([why is None for why in plan.problem], dtype=bool)
        strict = self.exact or ctx.exact
        bound = 0.0 if strict else self.max_p_error
        if bound >= 0.0:
            over = np.flatnonzero(ok & (plan.error > bound))
            if len(over):
                j = int(over[0])
                i = int(plan.idx[j])
                what = "--exact refuses any change" if strict else f"above --max-p-error {bound:g}"
                top = (f" to {float(plan.top[j]):.6g} at {plan.high[j] - plan.theta[j]:g} over it"
                       if plan.top[j] != plan.realised[j] else "")
                q, want = float(plan.realised[j]), float(plan.p[j])
                shown = (f"{q:.6g}", f"{want:.6g}") if f"{q:.6g}" != f"{want:.6g}" else (repr(q), repr(want))
                raise CompileError(
                    f"neuron '{net.name_of(i)}': target '{target.name}' fires it with probability"
                    f" {shown[0]} at threshold{top}, not p = {shown[1]}"
                    f" (error {float(plan.error[j]):.3g}, {what})", net.location_of(i))
        for subject, message in _summary(net, plan, ok):
            ctx.note(self.name, subject, message)
        return net
