"""Targets as data: the shipped target files, their golden summaries, and errors."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from spikec.chip.target import Target, TargetError, builtin_targets, load_target, parse_target

GOLDEN = Path(__file__).parent / "golden"


def test_builtin_targets_are_shipped() -> None:
    assert builtin_targets() == ["generic", "loihi", "loihi-nahuku", "sanafe-loihi", "sanafe-truenorth",
                                 "truenorth"]


@pytest.mark.parametrize("name", ["generic", "loihi", "loihi-nahuku", "truenorth", "sanafe-loihi",
                                  "sanafe-truenorth"])
def test_target_summaries_match_golden(name: str) -> None:
    target = load_target(name)
    costs = ("synaptic_event", "neuron_update", "spike", "message", "hop", "step")
    doc = {
        "summary": target.summary(),
        "energy": {k: getattr(target.energy, k) for k in costs},
        "latency": {k: getattr(target.latency, k) for k in costs},
        "sanafe_arch": target.sanafe_arch,
    }
    text = json.dumps(doc, indent=1, sort_keys=True) + "\n"
    golden = GOLDEN / f"target_{name}.json"
    if os.environ.get("SPIKEC_REGEN_GOLDEN"):
        golden.write_text(text)
    assert text == golden.read_text()


def test_truenorth_is_the_issue_s_chip() -> None:
    tn = load_target("truenorth")
    assert (tn.axons_per_core, tn.neurons_per_core, tn.axon_types, tn.dest_cores_per_neuron) == (
        256,
        256,
        4,
        1,
    )
    assert (tn.delay_min, tn.delay_max, tn.stochastic, tn.leak) == (1, 15, False, False)
    assert (tn.linear_leak, tn.floor, tn.reset_mode, tn.leak_bits) == (True, True, "value", 9)
    assert (Target("x").linear_leak, Target("x").floor, Target("x").reset_mode) == (False, False, "value")
    assert tn.int_range(tn.weight_bits) == (-256.0, 255.0)
    assert load_target("generic").max_cores is None


def test_a_target_file_by_path(tmp_path: Path) -> None:
    path = tmp_path / "tiny.toml"
    path.write_text(
        'format = "spikec-target"\nversion = 1\nname = "tiny"\n[chip]\ncores_per_chip = 2\n'
        "neurons_per_core = 4\n[energy]\nspike = 1e-12\n"
    )
    t = load_target(str(path))
    assert (t.name, t.max_cores, t.neurons_per_core, t.energy.spike) == ("tiny", 2, 4, 1e-12)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('format = "x"', r"^error: <t>: format: expected 'spikec-target', got 'x'$"),
        (
            'format = "spikec-target"\nversion = 2',
            r"^error: <t>: version: this spikec reads version 1, got 2$",
        ),
        (
            'format = "spikec-target"\nversion = 1\nname = "a"\n[chip]\nneurons_per_cor = 3',
            r"^error: <t>: chip: unknown key 'neurons_per_cor' \(did you mean 'neurons_per_core'\?\)$",
        ),
        (
            'format = "spikec-target"\nversion = 1\nname = "a"\n[chip]\nfan_in = 0',
            r"^error: <t>: chip.fan_in: expected an integer >= 1, got 0$",
        ),
        (
            'format = "spikec-target"\nversion = 1\nname = "a"\n[neuron]\nleak = 1',
            r"^error: <t>: neuron.leak: expected true or false, got 1$",
        ),
        (
            'format = "spikec-target"\nversion = 1\nname = "a"\n[neuron]\nreset_mode = "linear"',
            r"^error: <t>: neuron.reset_mode: expected one of 'value', 'zero', got 'linear'$",
        ),
        (
            'format = "spikec-target"\nversion = 1\nname = "a"\n[neuron]\nfloor = "yes"',
            r"^error: <t>: neuron.floor: expected true or false, got 'yes'$",
        ),
        (
            'format = "spikec-target"\nversion = 1\nname = "a"\n[energy]\nspike = -1',
            r"^error: <t>: energy.spike: expected a number >= 0, got -1$",
        ),
        ("format = ", r"^error: <t>: invalid TOML: "),
    ],
)
def test_bad_target_files(text: str, message: str) -> None:
    with pytest.raises(TargetError, match=message):
        parse_target(text, "<t>")


def test_unknown_target_lists_valid_ones(tmp_path: Path) -> None:
    with pytest.raises(
        TargetError,
        match=r"^error: unknown target 'lohi' \(did you mean 'loihi'\?\); expected one"
        r" of generic, loihi, loihi-nahuku, sanafe-loihi, sanafe-truenorth, truenorth or a"
        r" .toml file$",
    ):
        load_target("lohi")
    with pytest.raises(TargetError, match=r"no such target file$"):
        load_target(str(tmp_path / "none.toml"))


def test_target_is_frozen_data() -> None:
    t = Target("x")
    with pytest.raises(AttributeError):
        t.name = "y"  # type: ignore[misc]


def test_a_target_based_on_another_overrides_only_what_it_states(tmp_path: Path) -> None:
    board = load_target("loihi-nahuku")
    chip = load_target("loihi")
    assert (board.chips, board.max_cores) == (32, 32 * 128)
    for key in ("neurons_per_core", "synapses_per_core", "axons_per_core", "weight_bits", "delay_max"):
        assert getattr(board, key) == getattr(chip, key)
    assert board.energy == chip.energy and board.latency == chip.latency
    path = tmp_path / "mine.toml"
    path.write_text('format = "spikec-target"\nversion = 1\nbase = "truenorth"\nname = "mine"\n'
                    "[numbers]\nweight_bits = 4\n")
    mine = load_target(path)
    assert (mine.weight_bits, mine.axon_types, mine.floor) == (4, 4, True)
    path.write_text('format = "spikec-target"\nversion = 1\nbase = "loihy"\nname = "x"\n')
    with pytest.raises(TargetError, match=r"base: expected a built-in target .* got 'loihy' \(did you mean"
                       r" 'loihi'\?\)"):
        load_target(path)
