"""Train sharpened (Whetstone) deep nets with PyTorch, and export them for spikec.

:mod:`~spikec.train.model` holds the activations, the nets, the adaptive
sharpener, the fit loop and the data helpers; :mod:`~spikec.train.export`
writes trained nets as Keras HDF5 and NIR files. This package needs the
``train`` extra (``torch``, ``h5py``, ``nir``; ``scikit-learn`` for
:func:`digits`).
"""

from spikec.errors import TrainError
from spikec.train.export import export_h5, export_nir
from spikec.train.model import (
    AdaptiveSharpener,
    FitResult,
    SharpNet,
    SoftmaxDecode,
    SpikingBReLU,
    accuracy,
    conv_net,
    dense_net,
    digits,
    fit,
    quantize,
    random_shift,
    redundant_key,
)

__all__ = [
    "SpikingBReLU", "SoftmaxDecode", "SharpNet", "AdaptiveSharpener", "FitResult",
    "dense_net", "conv_net", "fit", "accuracy", "quantize", "redundant_key", "digits", "random_shift",
    "export_h5", "export_nir", "TrainError",
]
