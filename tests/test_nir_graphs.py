"""NIR import of general graphs, against an independent numpy interpreter of the discrete
NIR semantics (the contract in docs/nir.md), step by step with each node's shift."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import spikec
from spikec.backends.binary_net import ModelImportError

nir = pytest.importorskip("nir")
from spikec.backends.nir_import import nir_to_model, nir_to_net  # noqa: E402


def conv2d(input_shape: tuple[int, int], weight: np.ndarray, bias: np.ndarray, padding: int = 1) -> Any:
    """A stride-1, undilated, ungrouped NIR Conv2d (the form every producer test here writes)."""
    return nir.Conv2d(input_shape=input_shape, weight=weight, stride=1, padding=padding, dilation=1,
                      groups=1, bias=bias)


# -- the reference interpreter ----------------------------------------------------------------

SPIKING = ("Threshold", "IF", "LIF", "CubaLIF")


def _flat(graph: Any, prefix: str = "") -> tuple[dict[str, Any], list[tuple[str, str]], list[str], list[str]]:
    """Nodes and edges with nested graphs inlined (their Input/Output as pass-throughs)."""
    nodes: dict[str, Any] = {}
    edges: list[tuple[str, str]] = []
    ins, outs, inner = [], [], {}
    for name, node in graph.nodes.items():
        if isinstance(node, nir.NIRGraph):
            n, e, i, o = _flat(node, prefix + name + ".")
            nodes.update(n)
            edges += e
            inner[name] = (i[0], o[0])
            continue
        nodes[prefix + name] = node
        if isinstance(node, nir.Input):
            ins.append(prefix + name)
        if isinstance(node, nir.Output):
            outs.append(prefix + name)
    for a, b in graph.edges:
        edges.append((inner[a][1] if a in inner else prefix + a, inner[b][0] if b in inner else prefix + b))
    return nodes, edges, ins, outs


def _conv2d(
    x: np.ndarray, w: np.ndarray, b: np.ndarray, stride: tuple[int, int], pad: tuple[int, int]
) -> np.ndarray:
    xp = np.pad(x, ((0, 0), (pad[0], pad[0]), (pad[1], pad[1])))
    co, _, kh, kw = w.shape
    oh, ow = (xp.shape[1] - kh) // stride[0] + 1, (xp.shape[2] - kw) // stride[1] + 1
    y = np.zeros((co, oh, ow))
    for i in range(oh):
        for j in range(ow):
            patch = xp[:, i * stride[0] : i * stride[0] + kh, j * stride[1] : j * stride[1] + kw]
            y[:, i, j] = np.einsum("chw,ochw->o", patch, w) + b
    return y


def _pool(x: np.ndarray, k: int, stride: int) -> np.ndarray:
    c, h, w = x.shape
    oh, ow = (h - k) // stride + 1, (w - k) // stride + 1
    y = np.zeros((c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            y[:, i, j] = x[:, i * stride : i * stride + k, j * stride : j * stride + k].sum(axis=(1, 2))
    return y


def _delayed(node: Any, hist: list[np.ndarray], k: int, dt: float) -> np.ndarray:
    """A Delay's output at step k: element i is its input at step k - delay_i/dt (0 before)."""
    d = np.rint(np.asarray(node.delay, dtype=float) / dt).astype(int)
    out = np.zeros(d.shape)
    for i in np.ndindex(d.shape):
        j = k - d[i]
        if 0 <= j < len(hist):
            out[i] = hist[j][i]
    return out


def interpret(graph: Any, frames: np.ndarray, dt: float = 1.0) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Spikes of every spiking node (steps, *shape) and the Output's values, by the NIR
    equations: instantaneous edges, Delay(tau) = tau/dt steps, a cycle's closing edge (in a
    depth-first search from the Input, not through Delay nodes) carries last step's value."""
    nodes, edges, ins, outs = _flat(graph)
    succ: dict[str, list[str]] = {n: [] for n in nodes}
    for a, b in edges:
        if not isinstance(nodes[a], nir.Delay):
            succ[a].append(b)
    back, state = set(), {}

    def dfs(u: str) -> None:
        state[u] = 1
        for v in succ[u]:
            if state.get(v) == 1:
                back.add((u, v))
            elif v not in state:
                dfs(v)
        state[u] = 2

    for root in [*ins, *nodes]:
        if root not in state:
            dfs(root)
    deps = {
        n: [a for a, b in edges if b == n and (a, b) not in back and not isinstance(nodes[a], nir.Delay)]
        for n in nodes
    }
    order: list[str] = []
    while len(order) < len(nodes):
        for n in nodes:
            if n not in order and all(d in order for d in deps[n]):
                order.append(n)
    steps = len(frames)
    out_now: dict[str, Any] = {}
    prev: dict[str, Any] = {}
    hist: dict[str, list[np.ndarray]] = {n: [] for n in nodes if isinstance(nodes[n], nir.Delay)}
    v: dict[str, Any] = {}
    isyn: dict[str, Any] = {}
    spikes: dict[str, list[np.ndarray]] = {n: [] for n in nodes if type(nodes[n]).__name__ in SPIKING}
    outputs = []
    for k in range(steps):
        out_now = {}
        for n in order:
            node = nodes[n]
            if isinstance(node, nir.Input) and n in ins:
                out_now[n] = frames[k].astype(float)
                continue
            if isinstance(node, nir.Delay):
                out_now[n] = _delayed(node, hist[n], k, dt)
            x: Any = 0.0
            for a, b in edges:
                if b == n:
                    if isinstance(nodes[a], nir.Delay) and a != n:
                        val = out_now.get(a)
                        if val is None:  # a Delay after this node in the order: its value from history
                            val = _delayed(nodes[a], hist[a], k, dt)
                        x = x + val
                    elif (a, b) in back:
                        x = x + prev.get(a, 0.0)
                    else:
                        x = x + out_now[a]
            kind = type(node).__name__
            if kind == "Delay":
                hist[n].append(np.asarray(x, dtype=float) * np.ones(node.delay.shape))
                if n not in out_now:
                    out_now[n] = 0.0
                continue
            if kind == "Affine":
                y = node.weight @ np.reshape(x, -1) + node.bias
            elif kind == "Linear":
                y = node.weight @ np.reshape(x, -1)
            elif kind == "Scale":
                y = node.scale * x
            elif kind == "Flatten":
                y = np.reshape(x, -1)
            elif kind == "Conv2d":
                y = _conv2d(x, node.weight, node.bias, tuple(node.stride), tuple(node.padding))
            elif kind in ("SumPool2d", "AvgPool2d"):
                y = _pool(x, int(node.kernel_size[0]), int(node.stride[0]))
                if kind == "AvgPool2d":
                    y = y / (node.kernel_size[0] * node.kernel_size[1])
            elif kind in ("Input", "Output"):
                y = x
            elif kind == "Threshold":
                z = (x > node.threshold).astype(float)
                spikes[n].append(z)
                y = z
            else:
                vv = v.get(n, 0.0)
                if kind == "IF":
                    vv = vv + dt * node.r * x
                elif kind == "LIF":
                    vv = vv + (dt / node.tau) * (node.v_leak - vv + node.r * x)
                else:  # CubaLIF: I_k = I_{k-1} + (dt/tau_syn)(-I_{k-1} + w_in x_k)
                    cur = isyn.get(n, 0.0)
                    cur = cur + (dt / node.tau_syn) * (-cur + node.w_in * x)
                    isyn[n] = cur
                    vv = vv + (dt / node.tau_mem) * (node.v_leak - vv + node.r * cur)
                z = (vv > node.v_threshold).astype(float)
                v[n] = np.where(z > 0, node.v_reset, vv)
                spikes[n].append(z)
                y = z
            out_now[n] = y
        prev = out_now
        outputs.append(np.asarray(out_now[outs[0]], dtype=float))
    return {n: np.array(s) for n, s in spikes.items()}, np.array(outputs)


# -- comparing ----------------------------------------------------------------------------------


def _spikec_order(shape: tuple[int, ...]) -> np.ndarray:
    n = int(np.prod(shape))
    return np.arange(n).reshape(shape).transpose(1, 2, 0).reshape(-1) if len(shape) == 3 else np.arange(n)


def check(graph: Any, frames: np.ndarray, dt: float = 1.0, silent: bool = True) -> Any:
    """Import, simulate, and compare every spiking node with the interpreter at its shift."""
    model = nir_to_net(graph, "g", dt=dt)
    ref, _ = interpret(graph, frames, dt)
    steps = len(frames)
    total = steps + max(model.shifts.values(), default=0) + 1
    flat = frames.reshape(steps, -1)
    spk_frames = flat if len(frames.shape) != 4 else frames.transpose(0, 2, 3, 1).reshape(steps, -1)
    net = model.network()
    result = spikec.simulate(net, total, **model.drive(spk_frames, steps=total), record="all")
    for node, s in model.shifts.items():
        idx = net.array(model.arrays[node])
        got = result.spikes_of(idx)[:, 0, :].T  # (steps, neurons)
        want = ref[node].reshape(steps, -1)[:, _spikec_order(ref[node].shape[1:])]
        assert np.array_equal(got[s : s + steps], want.astype(bool)), f"node {node} (shift {s})"
        if silent:
            assert not got[:s].any(), f"node {node} fires before its shift {s}"
    return model


def io(shape: tuple[int, ...], out: int) -> dict[str, Any]:
    return {
        "input": nir.Input(input_type={"input": np.array(shape)}),
        "output": nir.Output(output_type={"output": np.array([out])}),
    }


def graph(nodes: dict[str, Any], edges: list[tuple[str, str]]) -> Any:
    return nir.NIRGraph(nodes=nodes, edges=edges, type_check=False)


def spikes(rng: np.random.Generator, steps: int, *shape: int, p: float = 0.4) -> np.ndarray:
    return (rng.random((steps, *shape)) < p).astype(float)


# -- the issue's example and each node kind -------------------------------------------------------


def test_issue_bias_example_spikes_at_step_one() -> None:
    g = graph(
        {
            **io((1,), 1),
            "fc": nir.Affine(weight=np.array([[1.5]]), bias=np.array([-0.5])),
            "if": nir.IF(r=np.ones(1), v_threshold=np.array([0.75])),
        },
        [("input", "fc"), ("fc", "if"), ("if", "output")],
    )
    model = nir_to_model(g)
    assert model.latency == 1
    # by hand: k=0: v = 1.5 - 0.5 = 1.0 > 0.75 fires; then v = -0.5, -1.0, ...: never again
    r = spikec.simulate(model.network(), 6, **model.drive(np.array([[1.0], [0], [0], [0], [0]])))
    assert r.spike_times("out[0]") == [[1]]
    check(g, np.array([[1.0], [0], [0], [1], [1], [0], [1]]))


def test_issue_bias_example_in_norse() -> None:
    torch = pytest.importorskip("torch")
    norse = pytest.importorskip("norse.torch")
    g = graph(
        {
            **io((1,), 1),
            "fc": nir.Affine(weight=np.array([[1.5]]), bias=np.array([-0.5])),
            "if": nir.IF(r=np.ones(1), v_threshold=np.array([0.75])),
        },
        [("input", "fc"), ("fc", "if"), ("if", "output")],
    )
    x = np.array([[1.0], [0], [0], [1], [1], [0], [1], [1], [1]])
    module = norse.from_nir(g, dt=1.0)
    state, zs = None, []
    with torch.no_grad():
        for k in range(len(x)):
            z, state = module(torch.tensor(x[k : k + 1], dtype=torch.float32), state)
            zs.append(z.numpy().reshape(-1))
    model = nir_to_model(g)
    r = spikec.simulate(model.network(), len(x) + 1, **model.drive(x))
    got = r.spikes_of(model.network().array("out"))[0, 0, 1:]
    assert np.array_equal(got, np.array(zs)[:, 0] > 0)


@pytest.mark.parametrize(
    "neuron",
    [
        nir.Threshold(threshold=np.array([0.5, -0.25, 1.0])),
        nir.IF(
            r=np.array([1.0, 0.5, 2.0]),
            v_threshold=np.array([1.0, 0.75, 1.5]),
            v_reset=np.array([0, -0.5, 0.25]),
        ),
        nir.LIF(
            tau=np.array([2.0, 4.0, 1.0]),
            r=np.array([1.0, 2.0, 1.0]),
            v_leak=np.array([0.0, 0.25, -0.5]),
            v_threshold=np.array([0.6, 0.9, 0.3]),
            v_reset=np.array([0.0, -0.25, 0.0]),
        ),
        nir.CubaLIF(
            tau_syn=np.ones(3),
            tau_mem=np.array([2.0, 4.0, 8.0]),
            r=np.ones(3),
            v_leak=np.zeros(3),
            v_threshold=np.array([0.6, 0.9, 0.3]),
            w_in=np.array([1.0, 2.0, 0.5]),
        ),
    ],
)
def test_each_neuron_kind_with_bias(neuron: Any) -> None:
    rng = np.random.default_rng(0)
    w = rng.choice([-1.0, -0.5, 0.5, 1.0, 1.5], size=(3, 4))
    g = graph(
        {**io((4,), 3), "fc": nir.Affine(weight=w, bias=np.array([0.25, -0.5, 0.125])), "n": neuron},
        [("input", "fc"), ("fc", "n"), ("n", "output")],
    )
    check(g, spikes(rng, 30, 4), silent=not isinstance(neuron, nir.Threshold))


def test_dt_scales_if_and_lif() -> None:
    rng = np.random.default_rng(1)
    w = rng.choice([0.5, 1.0, 1.5], size=(2, 3))
    g = graph(
        {
            **io((3,), 2),
            "fc": nir.Linear(weight=w),
            "lif": nir.LIF(
                tau=np.array([0.5, 1.0]),
                r=np.ones(2),
                v_leak=np.array([0.5, 0.0]),
                v_threshold=np.array([0.5, 0.75]),
            ),
            "fc2": nir.Linear(weight=np.array([[1.0, 1.0]])),
            "if": nir.IF(r=np.array([4.0]), v_threshold=np.array([0.5])),
        },
        [("input", "fc"), ("fc", "lif"), ("lif", "fc2"), ("fc2", "if"), ("if", "output")],
    )
    check(g, spikes(rng, 30, 3), dt=0.25)
    with pytest.raises(ModelImportError, match=r"node 'lif': dt/tau = 2 > 1 at dt = 1"):
        nir_to_model(g, dt=1.0)


def test_branch_merge_scale_and_delay() -> None:
    rng = np.random.default_rng(2)
    g = graph(
        {
            **io((3,), 2),
            "a": nir.Linear(weight=rng.choice([0.5, 1.0], size=(2, 3))),
            "b": nir.Affine(weight=rng.choice([-0.5, 1.0], size=(2, 3)), bias=np.array([0.25, 0.0])),
            "d": nir.Delay(delay=np.array([2.0, 3.0])),
            "sc": nir.Scale(scale=np.array([2.0, 0.5])),
            "if": nir.IF(r=np.ones(2), v_threshold=np.array([1.0, 0.5])),
        },
        [
            ("input", "a"),
            ("input", "b"),
            ("b", "d"),
            ("d", "sc"),
            ("a", "if"),
            ("sc", "if"),
            ("if", "output"),
        ],
    )
    check(g, spikes(rng, 25, 3))


def test_recurrence_and_a_delayed_loop() -> None:
    rng = np.random.default_rng(3)
    nodes = {
        **io((2,), 3),
        "w": nir.Linear(weight=rng.choice([0.5, 1.0], size=(3, 2))),
        "lif": nir.LIF(tau=np.full(3, 2.0), r=np.ones(3), v_leak=np.zeros(3), v_threshold=np.full(3, 0.4)),
        "rec": nir.Linear(weight=rng.choice([-1.0, 0.5, 0.0], size=(3, 3))),
        "w2": nir.Linear(weight=np.eye(3)),
        "d": nir.Delay(delay=np.full(3, 2.0)),
        "t": nir.Threshold(threshold=np.full(3, 0.5)),
    }
    edges = [
        ("input", "w"),
        ("w", "lif"),
        ("lif", "rec"),
        ("rec", "lif"),
        ("lif", "w2"),
        ("w2", "t"),
        ("t", "d"),
        ("d", "lif"),
        ("t", "output"),
    ]
    model = check(graph(nodes, edges), spikes(rng, 30, 2))
    assert model.shifts == {"lif": 1, "t": 2}


def test_nested_graph_is_flattened() -> None:
    rng = np.random.default_rng(4)
    inner = graph(
        {
            "input": nir.Input(input_type={"input": np.array([3])}),
            "lif": nir.LIF(
                tau=np.full(3, 2.0), r=np.ones(3), v_leak=np.zeros(3), v_threshold=np.full(3, 0.3)
            ),
            "rec": nir.Linear(weight=rng.choice([-0.5, 0.5], size=(3, 3))),
            "output": nir.Output(output_type={"output": np.array([3])}),
        },
        [("input", "lif"), ("lif", "rec"), ("rec", "lif"), ("lif", "output")],
    )
    g = graph(
        {**io((2,), 3), "fc": nir.Linear(weight=rng.choice([0.5, 1.0], size=(3, 2))), "sub": inner},
        [("input", "fc"), ("fc", "sub"), ("sub", "output")],
    )
    model = check(g, spikes(rng, 30, 2))
    assert model.arrays == {"sub.lif": "out"}


def test_conv_pool_flatten_into_if() -> None:
    rng = np.random.default_rng(5)
    nodes = {
        **io((2, 6, 6), 4),
        "conv": conv2d((6, 6), rng.choice([-1.0, 0.5, 1.0], size=(3, 2, 3, 3)), np.array([0.5, -0.5, 0.0])),
        "if1": nir.IF(r=np.ones((3, 6, 6)), v_threshold=np.full((3, 6, 6), 1.0)),
        "pool": nir.SumPool2d(
            kernel_size=np.array([2, 2]), stride=np.array([2, 2]), padding=np.array([0, 0])
        ),
        "conv2": conv2d((3, 3), rng.choice([0.5, 1.0], size=(2, 3, 2, 2)), np.zeros(2), padding=0),
        "if2": nir.IF(r=np.ones((2, 2, 2)), v_threshold=np.full((2, 2, 2), 1.0)),
        "flat": nir.Flatten(input_type={"input": np.array([2, 2, 2])}, start_dim=0),
        "fc": nir.Affine(weight=rng.choice([-0.5, 0.5, 1.0], size=(4, 8)), bias=np.full(4, 0.25)),
        "t": nir.Threshold(threshold=np.full(4, 0.5)),
    }
    names = ["input", "conv", "if1", "pool", "conv2", "if2", "flat", "fc", "t", "output"]
    check(graph(nodes, list(zip(names, names[1:], strict=False))), spikes(rng, 12, 2, 6, 6), silent=False)


# -- misleading messages of the issue -------------------------------------------------------------


def test_sumpool_feeding_conv_and_flatten_tail_import() -> None:
    # as sinabs writes them: SumPool2d straight into Conv2d (input_shape = the pool's output),
    # then SumPool2d -> Flatten(start_dim 0) -> Linear
    rng = np.random.default_rng(6)
    nodes = {
        **io((1, 8, 8), 2),
        "c1": conv2d((8, 8), np.ones((2, 1, 3, 3)), np.zeros(2)),
        "n1": nir.IF(r=np.ones((2, 8, 8)), v_threshold=np.full((2, 8, 8), 2.0)),
        "p1": nir.SumPool2d(kernel_size=np.array([2, 2]), stride=np.array([2, 2]), padding=np.array([0, 0])),
        "c2": conv2d((4, 4), np.ones((2, 2, 3, 3)), np.zeros(2)),
        "n2": nir.IF(r=np.ones((2, 4, 4)), v_threshold=np.full((2, 4, 4), 3.0)),
        "p2": nir.SumPool2d(kernel_size=np.array([2, 2]), stride=np.array([2, 2]), padding=np.array([0, 0])),
        "flat": nir.Flatten(input_type=None, start_dim=0, end_dim=-1),
        "fc": nir.Linear(weight=rng.choice([0.5, 1.0], size=(2, 8))),
        "n3": nir.IF(r=np.ones(2), v_threshold=np.full(2, 1.0)),
    }
    names = ["input", "c1", "n1", "p1", "c2", "n2", "p2", "flat", "fc", "n3", "output"]
    check(graph(nodes, list(zip(names, names[1:], strict=False))), spikes(rng, 10, 1, 8, 8))
    nodes["c2"] = conv2d((8, 8), np.ones((2, 2, 3, 3)), np.zeros(2))
    with pytest.raises(
        ModelImportError,
        match=r"^error: node 'c2': input_shape \(8, 8\) \(the input before"
        r" padding\) but it is fed 4x4 images \(tensor \(2, 4, 4\)\)$",
    ):
        nir_to_model(graph(nodes, list(zip(names, names[1:], strict=False))))


def test_refusals() -> None:
    base = {**io((2,), 2), "fc": nir.Linear(weight=np.eye(2))}
    cases = [
        (
            {"n": nir.LI(tau=np.ones(2), r=np.ones(2), v_leak=np.zeros(2))},
            r"node 'n': spikec cannot import NIR LI",
        ),
        (
            {
                "n": nir.CubaLIF(
                    tau_syn=np.full(2, 2.0),
                    tau_mem=np.full(2, 2.0),
                    r=np.ones(2),
                    v_leak=np.zeros(2),
                    v_threshold=np.ones(2),
                )
            },
            r"node 'n': a CubaLIF maps exactly only with tau_syn == dt",
        ),
        (
            {"d": nir.Delay(delay=np.full(2, 1.5)), "n": nir.Threshold(threshold=np.zeros(2))},
            r"node 'd': a delay of 1\.5 steps at dt = 1",
        ),
    ]
    for extra, pattern in cases:
        names = ["input", "fc", *extra, "output"]
        with pytest.raises(ModelImportError, match=pattern):
            nir_to_model(graph({**base, **extra}, list(zip(names, names[1:], strict=False))))
    fast = {
        **io((2,), 2),
        "fc": nir.Linear(weight=np.eye(2)),
        "a": nir.Threshold(threshold=np.zeros(2)),
        "b": nir.Threshold(threshold=np.zeros(2)),
        "w": nir.Linear(weight=np.eye(2)),
    }
    with pytest.raises(
        ModelImportError, match=r"the cycle .* takes fewer NIR steps than it has spiking nodes"
    ):
        nir_to_model(
            graph(fast, [("input", "fc"), ("fc", "a"), ("a", "b"), ("b", "w"), ("w", "a"), ("b", "output")])
        )


def test_dt_in_spk_and_api(tmp_path: Path) -> None:
    g = graph(
        {
            **io((1,), 1),
            "fc": nir.Linear(weight=np.array([[1.0]])),
            "lif": nir.LIF(
                tau=np.array([2e-4]), r=np.ones(1), v_leak=np.zeros(1), v_threshold=np.array([0.7])
            ),
        },
        [("input", "fc"), ("fc", "lif"), ("lif", "output")],
    )
    nir.write(tmp_path / "g.nir", g)
    with pytest.raises(ModelImportError, match=r"g\.nir: node 'lif': dt/tau = 5,?000 > 1"):
        spikec.import_model(tmp_path / "g.nir")
    model = spikec.import_model(tmp_path / "g.nir", dt=1e-4)  # decay 1/2: 1, 1.5 > 0.7
    r = spikec.simulate(model.network(), 4, **model.drive(np.array([[1.0], [1.0], [0.0]])))
    assert r.spike_times("out[0]") == [[2]]  # v = 0.5, 0.75 (fires at NIR step 1), 0
    (tmp_path / "m.spk").write_text(
        'import model "g.nir" (dt = 1e-4) as net\ninput px[1]\nlet m = net(px)\nprobe m.out\n'
    )
    assert len(spikec.load(tmp_path / "m.spk")) == 2
    (tmp_path / "bad.spk").write_text('import model "g.nir" (tau = 1) as net\n')
    with pytest.raises(spikec.SpikecError, match=r"unknown option 'tau'"):
        spikec.load(tmp_path / "bad.spk")


# -- random graphs ----------------------------------------------------------------------------------


@st.composite
def random_graphs(draw: Any) -> tuple[Any, np.ndarray]:
    seed = draw(st.integers(0, 2**31))
    rng = np.random.default_rng(seed)
    n_in = int(rng.integers(1, 4))
    nodes: dict[str, Any] = {"input": nir.Input(input_type={"input": np.array([n_in])})}
    edges: list[tuple[str, str]] = []
    spiking = ["input"]
    sizes = {"input": n_in}
    for i in range(int(rng.integers(1, 5))):
        size = int(rng.integers(1, 4))
        kind = rng.choice(["t", "if", "lif"])
        name = f"n{i}"
        nodes[name] = (
            nir.Threshold(threshold=rng.choice([0.25, 0.5, 1.0], size=size))
            if kind == "t"
            else nir.IF(r=np.ones(size), v_threshold=rng.choice([0.5, 1.0, 1.5], size=size))
            if kind == "if"
            else nir.LIF(
                tau=rng.choice([1.0, 2.0, 4.0], size=size),
                r=np.ones(size),
                v_leak=rng.choice([0.0, 0.5], size=size),
                v_threshold=rng.choice([0.25, 0.5], size=size),
            )
        )
        for j, src in enumerate(
            rng.choice(spiking, size=min(len(spiking), int(rng.integers(1, 3))), replace=False)
        ):
            lin = f"w{i}_{j}"
            w = rng.choice([-1.0, -0.5, 0.5, 1.0], size=(size, sizes[src]))
            nodes[lin] = (
                nir.Affine(weight=w, bias=rng.choice([0.0, 0.25], size=size))
                if rng.random() < 0.5
                else nir.Linear(weight=w)
            )
            if rng.random() < 0.3:
                nodes[f"d{i}_{j}"] = nir.Delay(delay=np.full(size, float(rng.integers(1, 3))))
                edges += [(str(src), lin), (lin, f"d{i}_{j}"), (f"d{i}_{j}", name)]
            else:
                edges += [(str(src), lin), (lin, name)]
        if rng.random() < 0.3:  # recurrence
            nodes[f"r{i}"] = nir.Linear(weight=rng.choice([-0.5, 0.5], size=(size, size)))
            edges += [(name, f"r{i}"), (f"r{i}", name)]
        spiking.append(name)
        sizes[name] = size
    last = spiking[-1]
    nodes["output"] = nir.Output(output_type={"output": np.array([sizes[last]])})
    edges.append((last, "output"))
    frames = (rng.random((int(rng.integers(5, 15)), n_in)) < 0.5).astype(float)
    return graph(nodes, edges), frames


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_graphs())
def test_random_graphs_match_the_interpreter(case: tuple[Any, np.ndarray]) -> None:
    g, frames = case
    check(g, frames, silent=False)
