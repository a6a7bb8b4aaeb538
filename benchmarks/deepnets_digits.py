"""Sharpened deep nets on scikit-learn's bundled digits: float, sharpened and spiking accuracy,
and the operations and energy of one frame.

For each net the script trains with :mod:`spikec.train` (fixed seeds), exports
Whetstone HDF5 and NIR, imports both (the two networks must be identical),
and measures on the 450 test images (a stratified quarter of the 1797):

- **float**: the net before sharpening (bounded ReLUs, sharpness 0), on the
  epoch the adaptive sharpener started;
- **sharpened**: the imported binary net, by its numpy forward pass (float64);
- **spiking**: the test frames streamed one per step through spikec's
  simulator, each class read from the label probe one latency later.

It checks that every layer's spikes equal the forward pass bit for bit, so
spiking equals sharpened exactly, then counts synaptic operations per frame
from the simulated spikes against the float net's multiply-accumulates.

    python benchmarks/deepnets_digits.py              # about a few minutes on 2 cores
    python benchmarks/deepnets_digits.py --quick      # small nets, few epochs: a smoke test

Needs the ``train`` extra (torch 2.13.0 CPU, h5py, nir, scikit-learn).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

import spikec
from spikec import train
from spikec.backends.deepnet_eval import ENERGY, classify_frames, ops_report, simulate_frames


@dataclass(frozen=True)
class Config:
    """One benchmarked net."""

    name: str
    kind: str  # dense or conv
    input_mode: str
    hidden: tuple[int, ...]
    redundancy: int = 10
    dropout: float = 0.2
    seed: int = 0


NETS = (
    Config("dense 64-256-128-100", "dense", "spikes", (256, 128)),
    Config("conv 16c3-p2-32c3-p2-100", "conv", "spikes", (16, 32)),
    Config("dense 64-256-128-100, current in", "dense", "current", (256, 128)),
    Config("conv 16c3-p2-32c3-p2-100, current in", "conv", "current", (16, 32), dropout=0.3),
)
QUICK = (
    Config("dense 64-32-20 (quick)", "dense", "spikes", (32,), redundancy=2),
    Config("conv 4c3-p2-8c3-p2-20 (quick)", "conv", "spikes", (4, 8), redundancy=2),
)


def run(cfg: Config, data: tuple[np.ndarray, ...], quick: bool, workdir: Path) -> dict[str, Any]:
    """Train, export, import, simulate and measure one net."""
    x_train, y_train, x_test, y_test = data
    flat = cfg.kind == "dense"
    xtr = x_train.reshape(len(x_train), -1) if flat else x_train
    xte = x_test.reshape(len(x_test), -1) if flat else x_test
    if flat:
        model = train.dense_net(hidden=cfg.hidden, redundancy=cfg.redundancy, dropout=cfg.dropout,
                                input_mode=cfg.input_mode, seed=cfg.seed)
    else:
        model = train.conv_net(channels=cfg.hidden, redundancy=cfg.redundancy, dropout=cfg.dropout,
                               input_mode=cfg.input_mode, seed=cfg.seed)
    sharpener = (train.AdaptiveSharpener(min_init_epochs=3, rate=0.5, cz_rate=0.25) if quick
                 else train.AdaptiveSharpener(min_init_epochs=20, rate=0.1, cz_rate=0.05))
    t0 = time.perf_counter()
    fit = train.fit(model, xtr, y_train, max_epochs=30 if quick else 300, sharpener=sharpener,
                    temperature=10.0, sharpen_lr=2e-4, x_test=xte, y_test=y_test, seed=cfg.seed)
    train_s = time.perf_counter() - t0
    h5, nir = workdir / f"{cfg.kind}-{cfg.input_mode}.h5", workdir / f"{cfg.kind}-{cfg.input_mode}.nir"
    train.export_h5(model, h5)
    train.export_nir(model, nir)
    net = spikec.import_model(h5, input=cfg.input_mode)
    same = net.network() == spikec.import_model(nir, input=cfg.input_mode).network()
    sharpened = net.predict(x_test)
    t0 = time.perf_counter()
    spikes = simulate_frames(net, x_test)
    sim_s = time.perf_counter() - t0
    exact = all(np.array_equal(a, b) for a, b in zip(net.forward(x_test), spikes.layers, strict=True))
    if cfg.input_mode == "spikes":  # through the label probe, as `spikec sim --frames` reads it
        spiking = classify_frames(net.network(), x_test, y_test).predicted
    else:
        from spikec.ir.decoders import label_scores

        spiking = np.argmax(label_scores(spikes.layers[-1], net.key), axis=-1)
    ops = ops_report(net, spikes)
    return {
        "net": cfg.name, "input": cfg.input_mode, "epochs": fit.epochs, "forced": fit.forced,
        "float": fit.float_accuracy, "sharpened": float(np.mean(sharpened == y_test)),
        "sharpened_torch_f32": train.accuracy(model, xte, y_test),
        "spiking": float(np.mean(spiking == y_test)), "spiking_equals_sharpened": bool(
            np.array_equal(spiking, sharpened)), "spikes_bit_exact": exact, "h5_equals_nir": same,
        "latency": net.latency, "neurons": sum(layer.size for layer in net.layers),
        "synapses": net.network().num_synapses, "train_s": train_s, "sim_s": sim_s,
        "macs": ops.macs, "synops": ops.synops, "host_macs": ops.host_macs, "energy_j": ops.energy(),
    }


def table(rows: list[dict[str, Any]]) -> str:
    """The results as markdown tables."""
    out = ["| net | input | float | sharpened | spiking | spiking = sharpened | latency (steps) |",
           "|---|---|---|---|---|---|---|"]
    for r in rows:
        out.append(f"| {r['net']} | {r['input']} | {100 * (r['float'] or 0):.2f} | {100 * r['sharpened']:.2f}"
                   f" | {100 * r['spiking']:.2f} | {'yes' if r['spiking_equals_sharpened'] else 'NO'}"
                   f" | {r['latency']} |")
    out += ["", "| net | MACs/frame (float) | synaptic ops/frame (spiking) | host MACs |"
            + "".join(f" {k} (nJ) |" for k in rows[0]["energy_j"]),
            "|---|---|---|---|" + "---|" * len(rows[0]["energy_j"])]
    for r in rows:
        out.append(f"| {r['net']} | {r['macs']} | {r['synops']:.0f} | {r['host_macs']} |"
                   + "".join(f" {1e9 * v:.2f} |" for v in r["energy_j"].values()))
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; exit 1 if an exactness check fails."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small nets, few epochs (smoke test)")
    parser.add_argument("--json", metavar="PATH", help="also write every measurement as JSON")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    data = train.digits()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for cfg in QUICK if args.quick else NETS:
            rows.append(run(cfg, data, args.quick, Path(tmp)))
            r = rows[-1]
            print(f"{r['net']} ({r['input']}): {r['epochs']} epochs in {r['train_s']:.0f} s, simulated"
                  f" in {r['sim_s']:.1f} s; bit-exact {r['spikes_bit_exact']}, HDF5 == NIR"
                  f" {r['h5_equals_nir']}, torch float32 sharpened {100 * r['sharpened_torch_f32']:.2f}",
                  file=sys.stderr, flush=True)
    print(table(rows))
    print("\nEnergy constants: " + "; ".join(f"{c.joules * 1e12:g} pJ per {c.unit} ({c.source})"
                                             for c in ENERGY.values()))
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1) + "\n")
    ok = all(r["spikes_bit_exact"] and r["spiking_equals_sharpened"] and r["h5_equals_nir"] for r in rows)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
