"""Tensors: checkpoint readers, tensor quantization schemes and their reports.

Post-training quantization of model weights measured like the audio
quantizers: `quantize` and `fake_quantize` are the reference definitions,
`read_checkpoint` reads ``.safetensors``/``.npy``/``.npz`` tensor by tensor,
`measure_checkpoints` builds the per-tensor report of ``adcsim tensors``.
"""

from __future__ import annotations

from adcsim._lazy import attach

__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        "TensorScheme": "_schemes",
        "QuantizedTensor": "_schemes",
        "parse_scheme": "_schemes",
        "quantize": "_schemes",
        "fake_quantize": "_schemes",
        "TensorEntry": "_readers",
        "read_checkpoint": "_readers",
        "tensor_metrics": "_metrics",
        "TensorsConfig": "_report",
        "TensorsReport": "_report",
        "measure_checkpoints": "_report",
    },
)
