"""Mutation fuzzing of the network and netlist readers (issue 13): JSON networks, JSON
netlists, NPZ networks and NPZ netlists.

Valid files are made from the example programs and small random networks (saved with
``spikec.save``, compiled and written as netlists), then mutated: in the parsed JSON tree
(values replaced by other types, huge, negative or non-finite numbers, deep nesting,
deleted and duplicated entries, swapped values), in the text (truncation, flipped and
inserted bytes, duplicated keys, integers too long to read), and for NPZ in the members
(dtypes, shapes, entries, the JSON header, missing and extra members, compression) and in
the archive bytes. Reading a mutant may fail only with a :class:`SpikecError`; a mutant
that loads must pass :func:`spikec.verify` or fail it with a SpikecError.

The default run tries a few hundred mutants of each kind in a few seconds; ``--slow``
tries many thousands. A crash is reported with the seed that rebuilds the mutant.
"""

from __future__ import annotations

import io
import json
import math
import random
import re
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import spikec
from spikec.backends.netlist import build_netlist, emit_netlist, load_netlist, render_netlist
from spikec.chip.target import load_target
from spikec.errors import SpikecError
from spikec.passes import compile_for_target

ROOT = Path(__file__).parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.spk"))

# Placeholders written as JSON strings, then swapped in the text for what json.dumps cannot write.
_TOO_LONG = "\x00too-long-int\x00"
_TOO_DEEP = "\x00too-deep\x00"
_RAW = {json.dumps(_TOO_LONG): "9" * 5000, json.dumps(_TOO_DEEP): "[" * 3000 + "]" * 3000}


def _random_network(rng: random.Random, k: int) -> spikec.Network:
    """A small network using what a file holds: arrays and scalars, tags, locations,
    probes with decoders, spike-time and Poisson stimuli."""
    net = spikec.Network(f"fuzz{k}")
    n_in = rng.randint(1, 3)
    net.add_inputs("x", n_in, tags=["in"] if rng.random() < 0.5 else ())
    names = [f"x[{i}]" for i in range(n_in)]
    cells = []
    for i in range(rng.randint(1, 4)):
        loc = spikec.SourceLocation("f.spk", i + 1, 2) if rng.random() < 0.5 else None
        cells.append(
            net.neuron(
                f"n{i}",
                threshold=rng.choice([0.5, 1.0, 2.0]),
                decay=rng.choice([0.0, 0.5, 1.0]),
                reset=rng.choice([0.0, -1.0]),
                bias=rng.choice([0.0, 0.25]),
                p=rng.choice([1.0, 0.5]),
                loc=loc,
                tags=["t"] if rng.random() < 0.3 else (),
            )
        )
    for _ in range(rng.randint(1, 8)):
        net.connect(
            rng.choice(names + cells), rng.choice(cells), rng.choice([1.0, -1.0, 0.5]), rng.randint(1, 4)
        )
    net.probe(*cells, label="out", decoder=rng.choice([None, "count", "first", "binary", "rate"]))
    net.probe(cells[0], decoder="label", key=[[1.0], [0.0]])
    for name in names:
        if rng.random() < 0.5:
            net.stimulus(name, [rng.randint(0, 5) for _ in range(rng.randint(0, 3))])
        else:
            net.stimulus(name, rate=rng.choice([0.0, 0.25, 1.0]))
    return net


@dataclass
class Seeds:
    """The valid files to mutate: parsed JSON documents and NPZ member dicts."""

    networks: list[Any]
    netlists: list[Any]
    npz_networks: list[dict[str, bytes]]
    npz_netlists: list[dict[str, bytes]]


def _members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {info.filename: zf.read(info) for info in zf.infolist()}


@pytest.fixture(scope="module")
def seeds(tmp_path_factory: pytest.TempPathFactory) -> Seeds:
    tmp = tmp_path_factory.mktemp("seeds")
    rng = random.Random(13)
    nets = [
        spikec.load(p)
        for p in EXAMPLES
        if p.name in ("majority.spk", "half_adder.spk", "stochastic.spk", "kofn.spk", "coincidence.spk")
    ]
    nets += [_random_network(rng, k) for k in range(6)]
    out = Seeds([], [], [], [])
    for i, net in enumerate(nets):
        spikec.save(net, tmp / f"n{i}.json")
        out.networks.append(json.loads((tmp / f"n{i}.json").read_text()))
        spikec.save(net, tmp / f"n{i}.npz")
        out.npz_networks.append(_members(tmp / f"n{i}.npz"))
    for i, net in enumerate(nets[:6]):
        for target in ("loihi", "truenorth"):
            try:
                placed, ctx = compile_for_target(net, load_target(target))
            except SpikecError:
                continue  # a network this target cannot take
            model = build_netlist(placed, ctx.placement, ctx.target, ctx.pipeline, ctx.diagnostics)
            out.netlists.append(json.loads(render_netlist(model)))
            emit_netlist(tmp / f"l{i}{target}.npz", placed, ctx.placement, ctx.target, ctx.pipeline)
            out.npz_netlists.append(_members(tmp / f"l{i}{target}.npz"))
    assert out.netlists and out.npz_netlists
    return out


# -- mutating a JSON tree ----------------------------------------------------------------


def _values(rng: random.Random) -> Any:
    return rng.choice(
        [
            None,
            True,
            False,
            0,
            1,
            -1,
            2,
            0.5,
            -0.0,
            2**31,
            2**63 - 1,
            2**63,
            -(2**63) - 1,
            10**400,
            2**1024,
            math.nan,
            math.inf,
            -math.inf,
            1e308,
            5e-324,
            "",
            "x",
            "x[0]",
            "a b",
            "\u00e9",
            "null",
            [],
            {},
            [1],
            [[1]],
            [None],
            ["x"],
            {"a": 1},
            {"file": 1},
            [1.5] * 3,
            list(range(20)),
            _TOO_LONG,
            _TOO_DEEP,
            "\ud800",  # lone surrogates: no output can encode them
            "x\udc80",
            {"\udfff": 1},
        ]
    )


def _paths(tree: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every path into the tree (its keys and indices)."""
    yield prefix
    if isinstance(tree, dict):
        for k, v in tree.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(tree, list):
        for k, v in enumerate(tree[:40]):  # long columns: their first entries stand for the rest
            yield from _paths(v, (*prefix, k))


def _at(tree: Any, path: tuple[Any, ...]) -> Any:
    for k in path:
        tree = tree[k]
    return tree


def _mutate_tree(tree: Any, rng: random.Random) -> Any:
    """One to three structural edits of a deep copy of ``tree``."""
    tree = json.loads(json.dumps(tree))
    for _ in range(rng.randint(1, 3)):
        paths = list(_paths(tree))
        path = rng.choice(paths[1:] or paths)
        if not path:
            return _values(rng)
        parent, key = _at(tree, path[:-1]), path[-1]
        op = rng.random()
        if op < 0.55:
            parent[key] = _values(rng)
        elif op < 0.7:
            del parent[key]
        elif op < 0.8 and isinstance(parent, list):
            parent.insert(key, json.loads(json.dumps(parent[key])))  # a duplicate entry
        elif op < 0.9:
            other = _at(tree, rng.choice(paths))
            parent[key] = json.loads(json.dumps(other))
        else:
            value = parent[key]
            parent[key] = [value] if rng.random() < 0.5 else {"x": value}
    return tree


def _dumps(tree: Any) -> str:
    text = json.dumps(tree)
    for placeholder, raw in _RAW.items():
        text = text.replace(placeholder, raw)
    return text


def _mutate_text(text: str, rng: random.Random) -> bytes:
    data = bytearray(text.encode())
    op = rng.random()
    if op < 0.3:
        return bytes(data[: rng.randrange(len(data) + 1)])
    if op < 0.55:
        for _ in range(rng.randint(1, 4)):
            i = rng.randrange(len(data))
            data[i] ^= 1 << rng.randrange(8)
        return bytes(data)
    if op < 0.75:
        i = rng.randrange(len(data) + 1)
        insert = rng.choice(
            [
                b"[" * 100_000,
                b'{"a":' * 5000,
                b"\xff\xfe",
                b"1" * 5000,
                b",",
                b"NaN",
                b"\x00",
                b"-Infinity",
                b"1e999",
            ]
        )
        return bytes(data[:i] + insert + data[i:])
    # a duplicated key: the second one wins in Python's parser
    return (
        text.replace('"neurons": ', '"neurons": 5, "neurons": ', 1)
        .replace('"cores": ', '"cores": {}, "cores": ', 1)
        .encode()
    )


# -- mutating an NPZ archive -------------------------------------------------------------


def _read_member(raw: bytes) -> np.ndarray:
    """A member as an array; one an earlier edit made unreadable raises ValueError."""
    try:
        return np.lib.format.read_array(io.BytesIO(raw), allow_pickle=False)
    except Exception as exc:  # noqa: BLE001 - numpy's header parser raises many kinds
        raise ValueError(str(exc)) from None


def _npy(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, array, allow_pickle=True)
    return buf.getvalue()


def _mutate_array(a: np.ndarray, rng: random.Random) -> np.ndarray:
    op = rng.random()
    if op < 0.25:
        dtype = rng.choice(["<f4", "<f8", "<i4", "<i8", "|u1", "|b1", "<c16", "<U3", "|S2", ">f8", "<u8"])
        try:
            with np.errstate(all="ignore"):
                return a.astype(dtype)
        except (ValueError, OverflowError, TypeError):
            return a.astype("<f8")
    if op < 0.35:
        return np.array([None] * max(len(a), 1), dtype=object)  # would need a pickle
    if op < 0.5:
        return rng.choice(
            [a[:-1], np.append(a, a[:1]), a.reshape(-1, 1), np.zeros(0, a.dtype), np.tile(a, 3)]
        )
    a = a.copy()
    if len(a):
        i = rng.randrange(len(a))
        value = rng.choice([0, 1, -1, 2, 255, 2**31 - 1, -(2**31), 10**9, 0.5, math.nan, math.inf, -math.inf])
        try:
            with np.errstate(all="ignore"):
                a[i] = value
        except (ValueError, OverflowError):
            a[i] = 0
    return a


def _mutate_npz(members: dict[str, bytes], rng: random.Random) -> bytes:
    members = dict(members)
    names = sorted(members)
    compression = zipfile.ZIP_STORED
    for _ in range(rng.randint(1, 2)):
        op = rng.random()
        name = rng.choice(names)
        if op < 0.35:  # the JSON header
            try:
                header = json.loads(_read_member(members["header.npy"]).tobytes())
            except (ValueError, KeyError, RecursionError):  # already mutated past reading, or deleted
                continue
            text = _dumps(_mutate_tree(header, rng)).encode()
            if rng.random() < 0.15:
                text = _mutate_text(text.decode("utf-8", "replace"), rng)
            members["header.npy"] = _npy(np.frombuffer(text, dtype=np.uint8))
        elif op < 0.7:
            try:
                members[name] = _npy(_mutate_array(_read_member(members[name]), rng))
            except ValueError:  # an earlier edit made it unreadable
                continue
        elif op < 0.78:
            del members[name]
            names.remove(name)
            if not names:
                break
        elif op < 0.86:  # the .npy header text itself
            raw = bytearray(members[name])
            i = rng.randrange(8, min(len(raw), 128))
            raw[i] = rng.randrange(256)
            members[name] = bytes(raw)
        elif op < 0.9:  # a header declaring 10**12 elements
            members[name] = re.sub(rb"\((\d+),\)", b"(1000000000000,)", members[name], count=1)
        elif op < 0.95:
            compression = zipfile.ZIP_DEFLATED
        else:
            members[f"extra{rng.randrange(9)}.npy"] = _npy(np.arange(3))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        for name, raw in members.items():
            zf.writestr(name, raw)
    data = buf.getvalue()
    if rng.random() < 0.1:
        data = (
            _mutate_text(data.decode("latin-1"), rng)[: len(data)]
            if rng.random() < 0.5
            else data[: rng.randrange(len(data))]
        )
    return data


# -- running ------------------------------------------------------------------------------


@dataclass
class Crash:
    kind: str
    seed: int
    what: str
    message: str


def _check(path: Path, load: Callable[[Path], Any], seed: int, what: str, crashes: list[Crash]) -> None:
    """Load the mutant; only SpikecError may escape, and what loads must verify, print
    (as UTF-8 text) and save again."""
    try:
        net = load(path)
        if isinstance(net, tuple):
            net = net[0]
        spikec.verify(net)
        spikec.format_network(net).encode("utf-8")
        spikec.save(net, path.with_name("again.json"))
    except SpikecError:
        pass
    except Exception as exc:  # noqa: BLE001 - any other exception is what the fuzzer looks for
        crashes.append(Crash(type(exc).__name__, seed, what, str(exc)[:200]))


def _campaign(seeds: Seeds, tmp: Path, budget: float, max_cases: int) -> tuple[int, list[Crash]]:
    """Mutants of the four kinds in turn until the time ``budget`` or ``max_cases`` is spent."""
    crashes: list[Crash] = []
    start = time.monotonic()
    tried = 0
    json_path, npz_path = tmp / "m.json", tmp / "m.npz"
    while tried < max_cases and time.monotonic() - start < budget:
        seed = tried
        rng = random.Random(seed)
        kind = seed % 4
        if kind < 2:
            docs = seeds.networks if kind == 0 else seeds.netlists
            doc = rng.choice(docs)
            text = _dumps(_mutate_tree(doc, rng)) if rng.random() < 0.8 else json.dumps(doc)
            data = _mutate_text(text, rng) if rng.random() < 0.25 else text.encode()
            json_path.write_bytes(data)
            loaders = [spikec.open_network, spikec.load_network if kind == 0 else load_netlist]
            for load in loaders:
                _check(json_path, load, seed, ["json network", "json netlist"][kind], crashes)
        else:
            pool = seeds.npz_networks if kind == 2 else seeds.npz_netlists
            npz_path.write_bytes(_mutate_npz(rng.choice(pool), rng))
            for load in (spikec.open_network, load_netlist):
                _check(npz_path, load, seed, ["npz network", "npz netlist"][kind - 2], crashes)
        tried += 1
    return tried, crashes


def _report(tried: int, crashes: list[Crash]) -> str:
    kinds: dict[str, int] = {}
    for c in crashes:
        kinds[f"{c.what}: {c.kind}"] = kinds.get(f"{c.what}: {c.kind}", 0) + 1
    lines = [f"{tried} mutants, {len(crashes)} crashes: {kinds}"]
    lines += [f"  seed {c.seed} ({c.what}): {c.kind}: {c.message}" for c in crashes[:10]]
    return "\n".join(lines)


def test_mutants_fail_only_with_spikec_errors(seeds: Seeds, tmp_path: Path) -> None:
    tried, crashes = _campaign(seeds, tmp_path, budget=4.0, max_cases=600)
    assert tried >= 100, _report(tried, crashes)
    assert not crashes, _report(tried, crashes)


@pytest.mark.slow
def test_many_mutants_fail_only_with_spikec_errors(seeds: Seeds, tmp_path: Path) -> None:
    tried, crashes = _campaign(seeds, tmp_path, budget=240.0, max_cases=40_000)
    print(_report(tried, crashes))
    assert not crashes, _report(tried, crashes)


def test_the_seeds_load(seeds: Seeds, tmp_path: Path) -> None:
    # the mutants start from valid files: each reads back and verifies
    for doc in seeds.networks + seeds.netlists:
        path = tmp_path / "s.json"
        path.write_text(json.dumps(doc))
        spikec.verify(spikec.open_network(path))
    for members in seeds.npz_networks:
        path = tmp_path / "s.npz"
        with zipfile.ZipFile(path, "w") as zf:
            for name, raw in members.items():
                zf.writestr(name, raw)
        spikec.verify(spikec.open_network(path))
