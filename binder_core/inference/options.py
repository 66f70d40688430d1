"""The choices of inference shared by evaluation, prediction, serving and the Beam pipeline.

Torch-free, so the CLI and the pipelines read them without importing a backend.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from binder_core.contract.options import at_least, check_choice, check_declared, option
from binder_core.model.config import AMP_CHOICES, DECODINGS, Amp, Decoding

Backend = Literal["auto", "torch", "onnx"]
BACKENDS: tuple[str, ...] = ("auto", "torch", "onnx")
"""What runs a model: auto (onnx for an export folder from ``binder export``, torch for a model
folder), torch, or onnx (onnxruntime, an export folder only)."""
InputFormat = Literal["auto", "text", "jsonl", "parquet"]
"""Inputs of ``binder predict``: auto (from the suffix), text (a document per line), JSON
Lines, or contract Parquet."""
INFERENCE_BATCH_SIZE = 16
"""Windows per forward pass when evaluating or predicting (not training)."""


@dataclass(frozen=True)
class InferenceOptions:
    """How a model runs, wherever it runs: ``binder evaluate``, ``binder predict`` and ``binder
    silver predict`` read each option's default, help and range from here."""

    decoding: Decoding | None = option(
        None, "flat (no overlaps) or nested (default: the decoding the model was trained with)."
    )
    batch_size: int = option(INFERENCE_BATCH_SIZE, "Windows per forward pass.", bounds=at_least(1))
    backend: Backend = option(
        "auto",
        "What runs the model: auto (onnxruntime for an export folder, torch for a model "
        "folder), torch, or onnx.",
    )
    amp: Amp = option(
        "auto",
        f"Precision of a torch model: {', '.join(AMP_CHOICES)} (auto: bf16 where the device "
        "computes it fast).",
    )
    threads: int | None = option(
        None, "onnxruntime intra-op threads (default: onnxruntime's choice).", bounds=at_least(1)
    )

    def __post_init__(self) -> None:
        if self.decoding is not None:
            check_choice("InferenceOptions", "decoding", self.decoding, DECODINGS)
        check_choice("InferenceOptions", "backend", self.backend, BACKENDS)
        check_choice("InferenceOptions", "amp", self.amp, AMP_CHOICES)
        check_declared(self)
