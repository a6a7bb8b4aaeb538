"""The sharpening trainer (spikec.train): activations, the adaptive schedule, and the
round trips train -> HDF5 -> import and train -> NIR -> import."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import spikec
from spikec.backends.deepnet_eval import simulate_frames

torch = pytest.importorskip("torch")
pytest.importorskip("h5py")
pytest.importorskip("nir")
pytest.importorskip("sklearn")

from spikec import train  # noqa: E402  (needs torch)


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, ...]:
    torch.set_num_threads(1)
    return train.digits()


def test_brelu_sharpens_into_the_threshold_gate() -> None:
    act = train.SpikingBReLU()
    x = torch.tensor([-1.0, 0.2, 0.5, 0.7, 2.0])
    assert torch.allclose(act(x), torch.tensor([0.0, 0.2, 0.5, 0.7, 1.0]), atol=1e-3)
    act.sharpness.fill_(0.9)
    assert act(torch.tensor([0.45, 0.5, 0.55])).tolist() == pytest.approx([0.0, 0.5, 1.0], abs=0.01)
    act.sharpness.fill_(1.0)
    assert act(torch.tensor([0.4999, 0.5, 3.0])).tolist() == [0.0, 1.0, 1.0]


def test_softmax_decode_logits() -> None:
    key = train.redundant_key(3, 2)
    assert key.tolist()[1] == [0, 0, 1, 1, 0, 0]
    dec = train.SoftmaxDecode(key)
    logits = dec(torch.tensor([[0.0, 0.0, 1.0, 1.0, 0.0, 1.0]]))
    assert logits.tolist() == [[-4.0, 4.0, 0.0]]


class _Fake:
    def __init__(self, n: int) -> None:
        self.values = [0.0] * n

    def sharpness(self) -> list[float]:
        return list(self.values)

    def set_sharpness(self, values: list[float]) -> None:
        self.values = list(values)


def test_adaptive_sharpener_waits_for_a_plateau_then_goes_bottom_up() -> None:
    sh = train.AdaptiveSharpener(min_init_epochs=2, rate=0.5, cz_rate=0.25, critical=0.75, patience=1)
    model = _Fake(2)
    losses = iter([1.0, 0.5, 0.49, 0.48, 0.48, 0.48, 0.48, 0.48, 0.48, 0.48])
    history = []
    for epoch in range(10):
        for _ in range(4):
            sh.on_batch_end(model, 4)  # type: ignore[arg-type]
        sh.on_epoch_end(epoch, next(losses))
        history.append(model.sharpness())
    assert sh.started_at == 4  # epochs 2 and 3 did not improve by 15%: sharpening from epoch 4
    assert history[3] == [0.0, 0.0] and history[4] == [0.5, 0.0]
    assert history[5] == [0.875, 0.0]  # 0.5 -> 0.75 at 0.125 a batch, then the critical zone's 0.0625
    assert history[6] == [1.0, 0.0]  # a finished layer holds the schedule for the rest of the epoch
    assert history[7] == [1.0, 0.5]


def test_sharpening_pauses_when_the_loss_degrades() -> None:
    sh = train.AdaptiveSharpener(min_init_epochs=1, patience=0)
    sh.on_epoch_end(0, 1.0)
    sh.on_epoch_end(1, 1.0)
    assert sh.sharpening
    sh.on_epoch_end(2, 1.5)
    assert not sh.sharpening


@pytest.mark.parametrize("kind", ["dense", "conv"])
def test_round_trips_give_identical_spikes(kind: str, data: tuple[np.ndarray, ...], tmp_path: Path) -> None:
    x_train, y_train, x_test, y_test = (a[:400] for a in data)
    if kind == "dense":
        model = train.dense_net(hidden=(16,), redundancy=2, seed=0)
        x_train, x_test = x_train.reshape(-1, 64), x_test.reshape(-1, 64)
    else:
        model = train.conv_net(channels=(2, 4), redundancy=2, seed=0)
    sharpener = train.AdaptiveSharpener(min_init_epochs=1, rate=1.0, cz_rate=1.0, patience=0)
    result = train.fit(model, x_train, y_train, max_epochs=8, sharpener=sharpener, temperature=10.0)
    assert model.sharpness() == [1.0] * len(model.activations()) and result.epochs <= 8
    train.export_h5(model, tmp_path / "m.h5")
    train.export_nir(model, tmp_path / "m.nir")
    a = spikec.import_model(tmp_path / "m.h5")
    b = spikec.import_model(tmp_path / "m.nir")
    assert a.network() == b.network()
    frames = data[2][:60]
    spikes_a, spikes_b = simulate_frames(a, frames), simulate_frames(b, frames)
    for ref, sa, sb in zip(a.forward(frames), spikes_a.layers, spikes_b.layers, strict=True):
        assert np.array_equal(ref, sa) and np.array_equal(sa, sb)
    # torch's float32 forward pass of the sharp net agrees with the float64 binary net
    with torch.no_grad():
        logits = model(torch.as_tensor(frames.reshape(len(frames), *model.input_shape), dtype=torch.float32))
    assert np.mean(logits.argmax(dim=1).numpy() == a.predict(frames)) >= 0.95


def test_nir_export_needs_a_sharp_model(tmp_path: Path) -> None:
    with pytest.raises(train.TrainError, match=r"the model is not fully sharpened"):
        train.export_nir(train.dense_net(hidden=(4,), redundancy=1), tmp_path / "m.nir")


def test_h5_of_a_soft_model_is_refused_on_import(tmp_path: Path) -> None:
    train.export_h5(train.dense_net(hidden=(4,), redundancy=1), tmp_path / "soft.h5")
    with pytest.raises(spikec.SpikecError, match=r"layer 'spiking_brelu_1': sharpness is 0, not 1"):
        spikec.import_model(tmp_path / "soft.h5")


def test_random_shift_moves_frames() -> None:
    shift = train.random_shift((3, 3), 1)
    frames = torch.zeros((50, 9))
    frames[:, 4] = 1.0
    out = shift(frames, torch.Generator().manual_seed(0))
    assert out.sum(dim=1).tolist() == [1.0] * 50 and len({int(row.argmax()) for row in out}) > 3


def test_quantize_rounds_to_the_grid() -> None:
    model = train.dense_net(hidden=(8,), redundancy=1)
    train.quantize(model, step=0.25, levels=4)
    for p in model.parameters():
        assert torch.all(p * 4 == torch.round(p * 4)) and torch.all(p.abs() <= 1.0)
