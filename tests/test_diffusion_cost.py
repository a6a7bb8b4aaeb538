"""The energy per walker step of a diffusion run (``walker_step_cost``): the target's energy
model applied to the run's own spikes, synaptic events and neuron updates, checked against a
hand computation from the reference interpreter's spikes and the target file's costs."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from spikec.backends.diffusion import solve, walker_step_cost
from spikec.backends.reference import reference_simulate
from spikec.circuits.diffusion import diffusion_network
from spikec.diffusion import problem_from_params
from spikec.errors import DiffusionError

ROOT = Path(__file__).resolve().parents[1]
LOIHI = tomllib.loads((ROOT / "spikec" / "chip" / "targets" / "loihi.toml").read_text())["energy"]


def _line(walkers: int, steps: int, boundary: str = "reflecting") -> Any:
    return problem_from_params({"nx": 21, "dx": 0.05, "D": 1.0, "dt": 0.000625, "steps": steps,
                                "boundary": boundary, "walkers": walkers})


def _hand(net: Any, sol: Any) -> dict[str, float]:
    """Spikes, events and updates of every trial up to its finish, from the reference
    interpreter run trial by trial; the energy from loihi.toml's costs (one core: no messages)."""
    spikes = events = updates = 0
    pre = np.asarray(net.pre)
    for t, finish in enumerate(sol.neural_steps.tolist()):
        res = reference_simulate(net, finish + 1, seed=sol.seed, trial_offset=sol.trial_offset + t)
        fired = np.array([res.spikes[name][0].sum() for name in net.names()], dtype=np.int64)
        spikes += int(fired.sum())
        events += int(fired[pre].sum())  # each spike reaches each outgoing synapse once
        updates += len(net) * (finish + 1)  # every neuron is updated every step (no inputs here)
    walker_steps = int(sol.counts[:, :-1].sum())
    energy = spikes * LOIHI["spike"] + events * LOIHI["synaptic_event"] + updates * LOIHI["neuron_update"]
    return {"spikes": spikes, "synaptic_events": events, "neuron_updates": updates,
            "walker_steps": walker_steps, "energy": energy, "per_walker_step": energy / walker_steps}


def test_cost_is_the_target_energy_model_applied_to_the_run() -> None:
    p = _line(12, 6, "absorbing")
    net = diffusion_network(p)
    sol = solve(net, trials=2, seed=5)
    cost = walker_step_cost(sol, net, "loihi")
    hand = _hand(net, sol)
    assert cost["cores"] == 1 and cost["messages"] == 0 and cost["hops"] == 0
    for key in ("spikes", "synaptic_events", "neuron_updates", "walker_steps"):
        assert cost[key] == hand[key], key
    assert cost["neural_steps"] == int((sol.neural_steps + 1).sum())
    assert cost["energy"] == pytest.approx(hand["energy"], rel=1e-12)
    assert cost["per_walker_step"]["energy"] == pytest.approx(hand["per_walker_step"], rel=1e-12)
    parts = cost["energy_breakdown"]
    assert parts["neuron_updates"] == pytest.approx(hand["neuron_updates"] * 72.8e-12, rel=1e-12)
    assert parts["synaptic_events"] == pytest.approx(hand["synaptic_events"] * 35.5e-12, rel=1e-12)


def test_cost_does_not_depend_on_the_trials_batched_together() -> None:
    from spikec.backends.memory import memory_total
    from spikec.backends.simulator import Simulator

    p = _line(20, 5)
    net = diffusion_network(p)
    sol = solve(net, trials=3, seed=2)
    whole = walker_step_cost(sol, net)
    length = int(sol.neural_steps.max()) + 1
    one, two = (memory_total(Simulator(net).memory_estimate(length, t, record="all")) for t in (1, 2))
    assert walker_step_cost(sol, net, max_memory=one + (two - one) // 2) == whole  # one trial a batch
    with pytest.raises(DiffusionError, match="over the limit"):
        walker_step_cost(sol, net, max_memory=one // 2)


def test_cost_refuses_a_network_it_did_not_solve() -> None:
    p = _line(4, 2)
    sol = solve(diffusion_network(p), trials=1)
    with pytest.raises(DiffusionError, match="not the one solved"):
        walker_step_cost(sol, diffusion_network(_line(4, 2, "absorbing")))


def test_solve_prints_and_returns_the_same_cost(tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
    from spikec.cli import main
    from spikec.dsl import compile_text

    text = ('import std.diffusion\ndiffusion heat (nx = 9, dx = 0.1, D = 1.0, dt = 0.0025,'
            ' boundary = "absorbing", walkers = 30, steps = 8)\n')
    spk = tmp_path / "heat.spk"
    spk.write_text(text)
    assert main(["solve", str(spk), "--trials", "2", "--seed", "4", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    net = compile_text(text, filename="heat.spk")
    sol = solve(net, trials=2, seed=4)
    cost = walker_step_cost(sol, net, "loihi")
    assert summary["cost"]["per_walker_step"]["energy"] == pytest.approx(cost["per_walker_step"]["energy"])
    assert summary["cost"]["neuron_updates"] == cost["neuron_updates"] == _hand(net, sol)["neuron_updates"]
    assert main(["solve", str(spk), "--trials", "2", "--seed", "4"]) == 0
    out = capsys.readouterr().out
    assert f"{cost['per_walker_step']['energy'] * 1e12:,.0f} pJ" in out
    assert "neuron updates" in out and "cost on loihi" in out
    assert main(["solve", str(spk), "--target", "none"]) == 0
    assert "cost on" not in capsys.readouterr().out


def test_line_at_ten_thousand_walkers_costs_about_2_5_nj_per_walker_step() -> None:
    p = _line(10_000, 40)
    net = diffusion_network(p)
    sol = solve(net, trials=1, seed=2)
    per = walker_step_cost(sol, net, "loihi")["per_walker_step"]
    assert 25 < per["neuron_updates"] < 35  # ~ neurons * (n_max + 3) / walkers
    assert 2.2e-9 < per["energy"] < 2.8e-9


def test_stats_prints_the_same_walker_step_energy_as_solve(capsys: pytest.CaptureFixture[str]) -> None:
    from spikec.cli import main

    assert main(["solve", "examples/diffusion.spk", "--trials", "1", "--seed", "0", "--json", "-q"]) == 0
    solved = json.loads(capsys.readouterr().out)["cost"]["per_walker_step"]["energy"]
    assert main(["stats", "examples/diffusion.spk", "--target", "loihi"]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("energy per walker step"))
    assert f"{solved:.4g} J" in line
