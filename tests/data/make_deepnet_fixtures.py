"""Regenerate the small trained deep nets the tests and examples/digits.spk read.

Run from the repository root (needs the ``train`` extra: torch, h5py, nir,
scikit-learn)::

    python tests/data/make_deepnet_fixtures.py

It trains, with fixed seeds, a tiny dense and a tiny conv net on
scikit-learn's bundled digits (no download), fully sharpened, and writes
each as Whetstone HDF5 and as NIR, plus 40 labelled test frames; and the
dense net of ``examples/digits.spk`` (its weights quantized to a 1/16 grid, so it
compiles exactly for 9-bit chips) with the frames that example streams.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from spikec import train

HERE = Path(__file__).parent
EXAMPLES = HERE.parent.parent / "examples"


def _train(model: train.SharpNet, x: np.ndarray, y: np.ndarray) -> train.SharpNet:
    sharpener = train.AdaptiveSharpener(min_init_epochs=20, rate=0.1, cz_rate=0.05)
    train.fit(model, x, y, max_epochs=300, sharpener=sharpener, temperature=10.0, sharpen_lr=2e-4)
    return model


def main() -> None:
    """Write the fixtures."""
    torch.set_num_threads(1)
    x_train, y_train, x_test, y_test = train.digits()
    dense = _train(train.dense_net(hidden=(24,), redundancy=2, seed=1), x_train.reshape(-1, 64), y_train)
    conv = _train(train.conv_net(channels=(4, 8), redundancy=2, seed=2), x_train, y_train)
    for name, model in (("digits_dense", dense), ("digits_conv", conv)):
        train.export_h5(model, HERE / f"{name}.h5")
        train.export_nir(model, HERE / f"{name}.nir")
    np.savez_compressed(HERE / "digits_frames.npz", images=x_test[:40], labels=y_test[:40])
    example = _train(train.dense_net(hidden=(64,), redundancy=4, dropout=0.2, seed=3),
                     x_train.reshape(-1, 64), y_train)
    train.quantize(example)  # weights on a 1/16 grid: exact on 9-bit chips (the example compiles for Loihi)
    train.export_h5(example, EXAMPLES / "digits.h5")
    np.savez_compressed(EXAMPLES / "digits_frames.npz", images=x_test[:100], labels=y_test[:100])


if __name__ == "__main__":
    main()
