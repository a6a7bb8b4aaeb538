"""Imports, the bundled library and the model-loader hook (spikec.dsl.modules, .models)."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

import spikec
from spikec.dsl import (
    CircuitBuilder,
    ElaborationError,
    GeneratorCircuit,
    SpkImportError,
    compile_file,
    compile_text,
    library_modules,
    register_model_loader,
)
from spikec.dsl.models import MODEL_LOADERS
from spikec.dsl.values import Number
from spikec.ir.decoders import probe_spike_names


def build(text: str) -> spikec.Network:
    return compile_text(text, filename="t.spk")


def reported(net: spikec.Network) -> dict[str, str]:
    out: dict[str, str] = {}
    for probe in net.probes:
        if probe.decoder is None:
            out.update(probe_spike_names(probe))
    return out


def trial_inputs(names: Sequence[str], patterns: Sequence[Sequence[int]]) -> dict[str, list[list[int]]]:
    return {name: [[0] if pattern[i] else [] for pattern in patterns]
            for i, name in enumerate(names)}


class Doubler:
    """A Python circuit: y[i] fires one step after x[i], with weight ``gain``."""

    name = "doubler"
    params = ("gain",)
    inputs = (("x", 2),)
    outputs = ("y",)

    def build(self, builder: CircuitBuilder, params: Mapping[str, Number],
              inputs: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
        out = []
        for i, pre in enumerate(inputs["x"]):
            post = builder.neuron(f"y[{i}]", decay=1.0)
            builder.synapse(pre, post, weight=float(params["gain"]))
            out.append(post)
        return {"y": out}


def test_model_import_hook(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr("spikec.dsl.models.MODEL_LOADERS", dict(MODEL_LOADERS))
    seen: list[tuple[Path, str]] = []

    def loader(path: Path, name: str) -> GeneratorCircuit:
        seen.append((path, name))
        return Doubler()

    register_model_loader(".fake", loader)
    (tmp_path / "net.fake").write_text("weights")
    main = tmp_path / "main.spk"
    main.write_text('import model "net.fake" as mlp\ninput px[2]\nlet m = mlp<3>(px)\n'
                    "probe m.y\n")
    net = compile_file(main)
    assert seen == [(tmp_path / "net.fake", "mlp")]
    assert {(s.pre, s.post, s.weight) for s in net.synapses()} == {
        ("px[0]", "m.y[0]", 3.0), ("px[1]", "m.y[1]", 3.0)}
    assert reported(net) == {"m.y[0]": "m.y[0]", "m.y[1]": "m.y[1]"}
    assert isinstance(Doubler(), GeneratorCircuit)


def test_model_import_of_an_unknown_format() -> None:
    with pytest.raises(ElaborationError, match=(
            r"^t\.spk:1:14: error: import model: no loader reads '\.onnx' files;"
            r" model files can be: \.h5, \.hdf5, \.nir\n")):
        build('import model "net.onnx" as mlp\ninput px[4]\nlet m = mlp(px)')


def test_import_file_relative_to_the_importer(tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "gates.spk").write_text(
        'import "more.spk"\n'
        "let default_k = 2\n"
        "kind gate (decay = 1)\n"
        "circuit both(a, b) -> (y) { let g = pair<default_k>(a, b) let y = g }\n"
        "input demo\n"                      # skipped when imported
        "probe demo\n"
    )
    (lib / "more.spk").write_text(
        "kind leaky (decay = 1)\n"
        "circuit pair<k>(a, b) -> (y) { leaky y (threshold = k) a -> y b -> y }\n"
    )
    main = tmp_path / "main.spk"
    main.write_text('import "lib/gates.spk"\ninput a\ninput b\nlet u = both(a, b)\n'
                    "gate z\nprobe u\n")
    net = compile_file(main)
    assert net["u.g.y"].threshold == 2.0 and net["u.g.y"].decay == 1.0
    assert net["z"].decay == 1.0
    assert "demo" not in net
    assert reported(net) == {"u": "u.g.y"}
    # `pair` came in through gates.spk's own import, so main.spk cannot see it.
    main.write_text('import "lib/gates.spk"\ninput a\ninput b\nlet u = pair<1>(a, b)\n')
    with pytest.raises(ElaborationError, match=r"main\.spk:4:9: error: unknown circuit 'pair'\n"):
        compile_file(main)


def test_diamond_imports_load_once(tmp_path: Path) -> None:
    (tmp_path / "base.spk").write_text("circuit cell(a) -> (y) { neuron y  a -> y }\n")
    (tmp_path / "left.spk").write_text('import "base.spk"\n'
                                       "circuit l(a) -> (y) { let c = cell(a)  let y = c }\n")
    (tmp_path / "right.spk").write_text('import "base.spk"\n'
                                        "circuit r(a) -> (y) { let c = cell(a)  let y = c }\n")
    main = tmp_path / "main.spk"
    main.write_text('import "left.spk"\nimport "right.spk"\ninput x\nlet p = l(x)\nlet q = r(x)')
    assert {"p.c.y", "q.c.y"} <= set(compile_file(main))


def test_import_cycle_names_the_cycle(tmp_path: Path) -> None:
    (tmp_path / "a.spk").write_text('import "b.spk"\n')
    (tmp_path / "b.spk").write_text('\nimport "c.spk"\n')
    (tmp_path / "c.spk").write_text('import "a.spk"\n')
    with pytest.raises(SpkImportError) as info:
        compile_file(tmp_path / "a.spk")
    message = str(info.value).splitlines()[0]
    assert message.endswith(": error: import cycle: "
                            f"{tmp_path}/a.spk -> {tmp_path}/b.spk -> {tmp_path}/c.spk"
                            f" -> {tmp_path}/a.spk")
    assert message.startswith(f"{tmp_path}/c.spk:1:8:")


def test_std_logic_library() -> None:
    net = build("import std.logic\ninput a\ninput b\ninput x[5]\n"
                "let g = and_gate(a, b)\nlet o = or_gate(a, b)\nlet n = not_gate(a)\n"
                "let m = majority<5>(x)\nlet k = kofn<5, 2>(x)\nprobe g, o, n, m, k")
    patterns = list(itertools.product((0, 1), repeat=2))
    result = spikec.simulate(net, 2, inputs=trial_inputs(["a", "b"], patterns), trials=4)
    for trial, (a, b) in enumerate(patterns):
        assert result.spike_times("g.y")[trial] == ([1] if a and b else [])
        assert result.spike_times("o.y")[trial] == ([1] if a or b else [])
        assert result.spike_times("n.y")[trial] == ([0] if a else [0, 1])
    bits = list(itertools.product((0, 1), repeat=5))
    names = [f"x[{i}]" for i in range(5)]
    result = spikec.simulate(net, 2, inputs=trial_inputs(names, bits), trials=32)
    for trial, pattern in enumerate(bits):
        assert result.spike_times("m.y")[trial] == ([1] if sum(pattern) >= 3 else [])
        assert result.spike_times("k.y")[trial] == ([1] if sum(pattern) >= 2 else [])


def test_library_lists_its_modules() -> None:
    assert "std.logic" in library_modules()


def test_std_library_does_not_leak_demo_code() -> None:
    net = build("import std.logic\ninput a")
    assert list(net) == ["a"]
