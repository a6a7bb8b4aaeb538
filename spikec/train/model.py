"""Train sharpened (Whetstone) deep nets with PyTorch, and export them for spikec.

The Whetstone method (Severa et al., Nature Machine Intelligence 2019) trains
a deep net whose activations are bounded ReLUs with a *sharpness* s in
[0, 1]::

    f_s(x) = clip((x - 0.5) / (1 - s + 0.001) + 0.5, 0, 1)      (s < 1)
    f_1(x) = [x >= 0.5]                                          (s = 1)

and raises s during training until every activation is the threshold gate,
so the trained net runs on spiking hardware with one frame per step. The
sharpening is bottom-up (one layer at a time, the lowest first) and
adaptive: :class:`AdaptiveSharpener` starts sharpening when the training
loss stops improving and pauses while it degrades. Outputs are redundant:
each class owns ``redundancy`` output units and a 0/1 key decodes them
(:class:`SoftmaxDecode`, logits ``(2a - 1) @ (2K - 1)^T``), trained with
cross-entropy.

Exports: :func:`export_h5` writes the Keras 2 HDF5 layout Whetstone models
use (``model_config`` JSON plus ``model_weights/<layer>/<layer>/<w>:0``), and
:func:`export_nir` a NIR graph; :func:`spikec.import_model` reads both into
the same network. This module needs the ``train`` extra (``torch``, ``h5py``,
``nir``; ``scikit-learn`` for :func:`digits`).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from spikec.errors import TrainError

__all__ = [
    "SpikingBReLU", "SoftmaxDecode", "SharpNet", "AdaptiveSharpener", "FitResult", "dense_net",
    "conv_net", "fit", "accuracy", "quantize", "redundant_key", "digits", "random_shift",
    "TrainError",
]

_LAMBDA = 1e-3  # keeps the slope finite just below sharpness 1 (Whetstone's choice)


class SpikingBReLU(nn.Module):
    """A bounded ReLU that sharpens into the threshold gate ``[x >= 0.5]`` (module docstring)."""

    sharpness: torch.Tensor

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("sharpness", torch.zeros((), dtype=torch.float64))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``f_s(x)`` for the current sharpness s."""
        s = float(self.sharpness)
        if s >= 1.0:
            return (x >= 0.5).to(x.dtype)
        return torch.clamp((x - 0.5) / (1.0 - s + _LAMBDA) + 0.5, 0.0, 1.0)


class SoftmaxDecode(nn.Module):
    """Class logits ``(2a - 1) @ (2K - 1)^T`` from the outputs ``a`` and a 0/1 key K
    (classes x outputs); softmax of these is Whetstone's Softmax_Decode."""

    key: torch.Tensor

    def __init__(self, key: np.ndarray) -> None:
        super().__init__()
        self.register_buffer("key", torch.as_tensor(np.asarray(key, dtype=np.float32)))

    def forward(self, a: torch.Tensor) -> torch.Tensor:
        """The class logits."""
        return (2.0 * a - 1.0) @ (2.0 * self.key - 1.0).T


def redundant_key(classes: int, redundancy: int) -> np.ndarray:
    """A 0/1 key where class c owns outputs ``c*redundancy .. (c+1)*redundancy - 1``."""
    key = np.zeros((classes, classes * redundancy))
    for c in range(classes):
        key[c, c * redundancy:(c + 1) * redundancy] = 1.0
    return key


@dataclass(frozen=True)
class _Layer:
    """One layer of a :class:`SharpNet`: its Keras class and name, and its torch module."""

    kind: str  # dense, conv, brelu, maxpool, flatten, dropout
    name: str
    module: nn.Module


class SharpNet(nn.Module):
    """A feed-forward net of dense/conv layers, each followed by a :class:`SpikingBReLU`,
    ending in a :class:`SoftmaxDecode`.

    Frames are channels-last, ``(N, *input_shape)``; with ``input_mode =
    "spikes"`` they are binarized (``>= 0.5``) on the way in, as spikec feeds
    them to input neurons; with ``"current"`` the real values are used.
    """

    def __init__(self, input_shape: tuple[int, ...], layers: Sequence[_Layer], key: np.ndarray,
                 input_mode: str = "spikes") -> None:
        super().__init__()
        if input_mode not in ("spikes", "current"):
            raise TrainError(f"input_mode must be 'spikes' or 'current', got {input_mode!r}")
        self.input_shape = tuple(input_shape)
        self.input_mode = input_mode
        self.specs = list(layers)
        self.body = nn.ModuleList([layer.module for layer in self.specs])
        self.decode = SoftmaxDecode(key)

    def activations(self) -> list[SpikingBReLU]:
        """The sharpenable activations, bottom-up."""
        return [m for m in self.body if isinstance(m, SpikingBReLU)]

    def sharpness(self) -> list[float]:
        """Sharpness of each activation, bottom-up."""
        return [float(a.sharpness) for a in self.activations()]

    def set_sharpness(self, values: Sequence[float]) -> None:
        """Set each activation's sharpness (clipped to [0, 1])."""
        for act, value in zip(self.activations(), values, strict=True):
            act.sharpness.fill_(min(1.0, max(0.0, float(value))))

    def outputs(self, x: torch.Tensor) -> torch.Tensor:
        """The last activation's values for frames ``x`` (channels-last)."""
        if self.input_mode == "spikes":
            x = (x >= 0.5).to(torch.float32)
        if x.dim() == 4:
            x = x.permute(0, 3, 1, 2)  # torch convolutions are channels-first
        for module in self.body:
            x = module(x)
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class logits for frames ``x``."""
        return self.decode(self.outputs(x))


class _Namer:
    def __init__(self) -> None:
        self.counts: dict[str, int] = {}

    def __call__(self, base: str) -> str:
        self.counts[base] = self.counts.get(base, 0) + 1
        return f"{base}_{self.counts[base]}"


def _dense_stack(name: _Namer, width: int, hidden: Sequence[int], outputs: int,
                 dropout: float) -> list[_Layer]:
    layers: list[_Layer] = []
    for units in (*hidden, outputs):
        if dropout > 0.0 and layers:
            layers.append(_Layer("dropout", name("dropout"), nn.Dropout(dropout)))
        layers.append(_Layer("dense", name("dense"), nn.Linear(width, units)))
        layers.append(_Layer("brelu", name("spiking_brelu"), SpikingBReLU()))
        width = units
    return layers


def dense_net(n_inputs: int = 64, hidden: Sequence[int] = (128, 64), classes: int = 10,
              redundancy: int = 4, dropout: float = 0.0, input_mode: str = "spikes",
              seed: int = 0) -> SharpNet:
    """An MLP: ``Dense -> Spiking_BRelu`` per hidden layer, then the redundant output layer
    (``classes * redundancy`` units); ``dropout`` > 0 adds Dropout before each dense layer
    but the first (training only)."""
    torch.manual_seed(seed)
    layers = _dense_stack(_Namer(), n_inputs, hidden, classes * redundancy, dropout)
    return SharpNet((n_inputs,), layers, redundant_key(classes, redundancy), input_mode)


def conv_net(image: tuple[int, int, int] = (8, 8, 1), channels: Sequence[int] = (16, 32),
             kernel: int = 3, hidden: Sequence[int] = (), classes: int = 10, redundancy: int = 4,
             dropout: float = 0.0, input_mode: str = "spikes", seed: int = 0) -> SharpNet:
    """A small CNN: per entry of ``channels`` a same-padded ``kernel`` x ``kernel``
    convolution, its activation and a 2x2 max pool; then dense layers."""
    if kernel % 2 != 1:
        raise TrainError(f"kernel must be odd (same padding is symmetric then), got {kernel}")
    torch.manual_seed(seed)
    name = _Namer()
    h, w, c = image
    layers: list[_Layer] = []
    for ch in channels:
        layers.append(_Layer("conv", name("conv2d"), nn.Conv2d(c, ch, kernel, padding=kernel // 2)))
        layers.append(_Layer("brelu", name("spiking_brelu"), SpikingBReLU()))
        layers.append(_Layer("maxpool", name("max_pooling2d"), nn.MaxPool2d(2)))
        h, w, c = h // 2, w // 2, ch
    layers.append(_Layer("flatten", name("flatten"), nn.Flatten()))
    layers += _dense_stack(name, h * w * c, hidden, classes * redundancy, dropout)
    if dropout > 0.0:  # the first dense layer follows the convolutions: drop there too
        first = next(i for i, layer in enumerate(layers) if layer.kind == "dense")
        layers.insert(first, _Layer("dropout", name("dropout"), nn.Dropout(dropout)))
    return SharpNet(image, layers, redundant_key(classes, redundancy), input_mode)


@dataclass
class AdaptiveSharpener:
    """Bottom-up sharpening driven by the training loss (Whetstone's adaptive schedule).

    For ``min_init_epochs`` epochs nothing is sharpened. Then, once the epoch
    loss has gone more than ``patience`` epochs without falling by
    ``sig_decrease`` (relative), sharpening runs: every batch raises the
    lowest unfinished activation by ``rate`` per epoch (``cz_rate`` once its
    sharpness is past ``critical``). A layer that reaches 1 holds the
    schedule until the epoch ends, so the next starts on fresh ground.
    Sharpening pauses when the epoch loss rises by ``sig_increase`` and
    resumes when the loss plateaus again.
    """

    min_init_epochs: int = 10
    rate: float = 0.25
    cz_rate: float = 0.126
    critical: float = 0.75
    patience: int = 1
    sig_increase: float = 0.15
    sig_decrease: float = 0.15
    sharpening: bool = field(default=False, init=False)
    started_at: int | None = field(default=None, init=False)
    _reference: float = field(default=float("inf"), init=False)
    _flat_epochs: int = field(default=0, init=False)
    _hold: bool = field(default=False, init=False)

    def on_batch_end(self, model: SharpNet, batches_per_epoch: int) -> None:
        """Sharpen a little, if sharpening is on."""
        values = model.sharpness()
        todo = [i for i, s in enumerate(values) if s < 1.0]
        if not self.sharpening or self._hold or not todo:
            return
        i = todo[0]
        step = (self.cz_rate if values[i] >= self.critical else self.rate) / batches_per_epoch
        values[i] = 1.0 if values[i] + step >= 1.0 - 1e-3 else values[i] + step
        self._hold = values[i] == 1.0
        model.set_sharpness(values)

    def on_epoch_end(self, epoch: int, loss: float) -> None:
        """Decide from the epoch's loss whether to sharpen next epoch."""
        self._hold = False
        if epoch + 1 < self.min_init_epochs:
            self._reference = loss
            return
        change = (loss - self._reference) / max(abs(self._reference), 1e-12)
        if change <= -self.sig_decrease:
            self._reference, self._flat_epochs = loss, 0
        else:
            self._flat_epochs += 1
        if self.sharpening and change >= self.sig_increase:
            self._reference, self._flat_epochs, self.sharpening = loss, 0, False
        elif not self.sharpening and self._flat_epochs > self.patience:
            self._reference, self._flat_epochs, self.sharpening = loss, 0, True
            if self.started_at is None:
                self.started_at = epoch + 1


@dataclass
class FitResult:
    """What :func:`fit` did: losses per epoch, test accuracy per epoch (when a test set
    was given), the float net's test accuracy (just before sharpening began) and its
    weights, and whether the last layers had to be sharpened at once at the end."""

    losses: list[float] = field(default_factory=list)
    test_accuracy: list[float] = field(default_factory=list)
    sharpness: list[list[float]] = field(default_factory=list)
    float_accuracy: float | None = None
    float_state: dict[str, Any] | None = None
    forced: bool = False
    epochs: int = 0


def quantize(model: SharpNet, step: float = 1 / 16, levels: int = 255) -> None:
    """Round every weight and bias to a multiple of ``step`` within ``levels`` steps of 0.

    With a power-of-two ``step`` and binary inputs every sum of the sharpened
    net is then exact in floating point, and a chip with ``log2(levels) + 1``-bit
    signed weights (Loihi's 9 bits for the default) holds the net without
    changing a spike (the threshold 0.5 is on the grid). Quantize after
    :func:`fit` and measure the accuracy again.
    """
    with torch.no_grad():
        for module in model.body:
            if isinstance(module, (nn.Linear, nn.Conv2d)):
                for p in (module.weight, module.bias):
                    if p is not None:
                        p.copy_(torch.clamp(torch.round(p / step), -levels, levels) * step)


def accuracy(model: SharpNet, x: np.ndarray, y: np.ndarray) -> float:
    """Fraction of frames whose argmax logit is the label."""
    model.eval()
    with torch.no_grad():
        logits = model(torch.as_tensor(np.asarray(x, dtype=np.float32)))
    return float((logits.argmax(dim=1).numpy() == np.asarray(y)).mean())


def fit(model: SharpNet, x: np.ndarray, y: np.ndarray, *, max_epochs: int = 200, batch_size: int = 32,
        lr: float = 1e-3, weight_decay: float = 0.0, sharpener: AdaptiveSharpener | None = None,
        augment: Callable[[torch.Tensor, torch.Generator], torch.Tensor] | None = None,
        temperature: float = 1.0, sharpen_lr: float | None = None, x_test: np.ndarray | None = None,
        y_test: np.ndarray | None = None, seed: int = 0,
        log: Callable[[str], None] | None = None) -> FitResult:
    """Train ``model`` with Adam and cross-entropy until every activation is sharp.

    Stops when all activations reach sharpness 1, or after ``max_epochs``;
    in the latter case the rest are set to 1 at once and ``forced`` is set.
    """
    sharpener = sharpener or AdaptiveSharpener()
    gen = torch.Generator().manual_seed(seed)
    xt = torch.as_tensor(np.asarray(x, dtype=np.float32))
    yt = torch.as_tensor(np.asarray(y, dtype=np.int64))
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    loss_fn = nn.CrossEntropyLoss()
    batches = max(1, -(-len(xt) // batch_size))
    out = FitResult()
    for epoch in range(max_epochs):
        model.train()
        order = torch.randperm(len(xt), generator=gen)
        total = 0.0
        for b in range(batches):
            idx = order[b * batch_size:(b + 1) * batch_size]
            batch = xt[idx] if augment is None else augment(xt[idx], gen)
            opt.zero_grad()
            loss = loss_fn(model(batch) / temperature, yt[idx])
            if loss.requires_grad:  # once the output layer is sharp, nothing below it learns
                loss.backward()
                opt.step()
            total += float(loss.detach()) * len(idx)
            sharpener.on_batch_end(model, batches)
        was_sharpening = sharpener.sharpening
        out.losses.append(total / len(xt))
        sharpener.on_epoch_end(epoch, out.losses[-1])
        if sharpen_lr is not None and sharpener.sharpening:
            for group in opt.param_groups:
                group["lr"] = sharpen_lr
        out.sharpness.append(model.sharpness())
        if x_test is not None and y_test is not None:
            out.test_accuracy.append(accuracy(model, x_test, y_test))
            if sharpener.sharpening and not was_sharpening and out.float_accuracy is None:
                out.float_accuracy = out.test_accuracy[-1]
                out.float_state = copy.deepcopy(model.state_dict())
        out.epochs = epoch + 1
        if log is not None:
            acc = f" test {out.test_accuracy[-1]:.4f}" if out.test_accuracy else ""
            log(f"epoch {epoch + 1}: loss {out.losses[-1]:.4f}{acc} sharpness"
                f" {[round(s, 3) for s in out.sharpness[-1]]}")
        if all(s == 1.0 for s in out.sharpness[-1]):
            break
    if any(s < 1.0 for s in model.sharpness()):
        out.forced = True
        model.set_sharpness([1.0] * len(model.activations()))
    return out


def random_shift(image: tuple[int, int], max_shift: int = 1) -> Callable[[torch.Tensor, torch.Generator],
                                                                          torch.Tensor]:
    """An ``augment`` for :func:`fit`: each frame (flat or channels-last, of ``image``
    pixels) moved by up to ``max_shift`` pixels each way, with zeros shifted in."""
    h, w = image

    def shift(batch: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        x = batch.reshape(len(batch), h, w, -1)
        pad = torch.nn.functional.pad(x, (0, 0, max_shift, max_shift, max_shift, max_shift))
        out = torch.empty_like(x)
        moves = torch.randint(0, 2 * max_shift + 1, (len(x), 2), generator=gen).tolist()
        for i, (dy, dx) in enumerate(moves):
            out[i] = pad[i, dy:dy + h, dx:dx + w]
        return out.reshape(batch.shape)

    return shift


def digits(test_fraction: float = 0.25,
           seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """scikit-learn's bundled 8x8 digits (1797 images, no download) as channels-last
    frames in [0, 1], split stratified: ``(x_train, y_train, x_test, y_test)``."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    data = load_digits()
    x = (data.images / 16.0).reshape(-1, 8, 8, 1)
    x_train, x_test, y_train, y_test = train_test_split(
        x, data.target, test_size=test_fraction, random_state=seed, stratify=data.target)
    return x_train, y_train, x_test, y_test


# -- export ---------------------------------------------------------------------------------
