"""The options of ``binder export``, torch-free so the CLI reads their defaults and help cheaply."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from binder_core.contract.options import at_least, check_choice, check_declared, option
from binder_core.inference.export_dir import PRECISIONS, Precision

Exporter = Literal["dynamo", "torchscript"]
EXPORTERS: tuple[str, ...] = ("dynamo", "torchscript")
"""dynamo: ``torch.export`` (torch's default ONNX exporter); torchscript: the tracing exporter
(deprecated by torch, but its graphs are the ones onnxruntime's transformer fusions know)."""
Attention = Literal["eager", "sdpa"]
ATTENTIONS: tuple[str, ...] = ("eager", "sdpa")


@dataclass(frozen=True)
class ExportConfig:
    """Options of ``binder export``."""

    quantize: Precision = option("fp32", "int8: dynamic quantization of the graph's weights.")
    opset: int = option(18, "ONNX opset of the graph.", bounds=at_least(17))
    attention: Attention = option("eager", "The encoder's attention kernel while tracing.")
    exporter: Exporter = option(
        "dynamo",
        "dynamo (torch.export) or torchscript (the older tracer, whose graphs --optimize fuses "
        "best).",
    )
    optimize: bool = option(
        False, "Apply onnxruntime's transformer fusions (BERT-like encoders)."
    )  # fuse attention, layer norms and GELU

    def __post_init__(self) -> None:
        check_choice("ExportConfig", "quantize", self.quantize, PRECISIONS)
        check_choice("ExportConfig", "attention", self.attention, ATTENTIONS)
        check_choice("ExportConfig", "exporter", self.exporter, EXPORTERS)
        check_declared(self)
