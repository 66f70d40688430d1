"""The layout of an exported model folder (``binder export``), read without torch.

An export folder is self-contained: what the ONNX runtime path needs, and nothing it cannot
read with onnxruntime, tokenizers, numpy and pyarrow::

    model.onnx            the text encoder and the span head's token terms, one graph:
                          input_ids, attention_mask (B, L) int64 -> start_parts, end_parts
                          (B, L, d) float32; B and L are dynamic
    vectors.npz           type_vectors (K, d) float32: the span type vectors of the model's
                          labels, scaled by exp(alpha), in label order; width_vectors (W, d)
                          float32: the span head's width terms (numpy arrays, no pickle)
    tokenizer.json        the tokenizer (plus the Hugging Face tokenizer files beside it)
    binder_export.json    {"format": "binder-ner-onnx", "format_version": 1,
                           "model": ModelConfig, "extra": ModelInfo, "export": ExportInfo}
    README.md             the model card, with the export's own section

The span vectors, thresholds and decoding are then computed from these by
:mod:`binder_core.inference.decoding`, the same code the torch path runs. Writing is
:mod:`binder_core.serving.export` (torch); reading is :func:`read_export` here.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from binder_core.contract.errors import ConfigError, InputError
from binder_core.contract.options import check_choice, config_from_dict
from binder_core.contract.outputs import EXPORT_CONFIG_NAME, read_format_file
from binder_core.model.config import ModelConfig
from binder_core.model.model_dir import BEST_DIR, ModelInfo

GRAPH_NAME = "model.onnx"
VECTORS_NAME = "vectors.npz"
TOKENIZER_NAME = "tokenizer.json"
EXPORT_FILES = (GRAPH_NAME, VECTORS_NAME, TOKENIZER_NAME)
"""What an export folder holds besides its config."""
EXPORT_FORMAT_NAME = "binder-ner-onnx"
EXPORT_FORMAT_VERSION = 1

INPUT_NAMES = ("input_ids", "attention_mask")
OUTPUT_NAMES = ("start_parts", "end_parts")
TYPE_VECTORS_KEY = "type_vectors"
WIDTH_VECTORS_KEY = "width_vectors"

Precision = Literal["fp32", "int8"]
PRECISIONS: tuple[str, ...] = ("fp32", "int8")
"""fp32: the exported weights as trained; int8: dynamic quantization of the graph's weights."""


@dataclass(frozen=True)
class ExportInfo:
    """What ``binder export`` did: the graph's precision, the special token ids, the parity
    check against the torch model, and where the weights came from."""

    precision: Precision = "fp32"
    opset: int = 18
    exporter: str = "dynamo"  # the torch exporter that traced the graph
    optimized: bool = False  # onnxruntime's transformer fusions were applied
    cls_token_id: int = 0
    sep_token_id: int = 0
    pad_token_id: int = 0
    source: str = ""  # the model directory that was exported
    max_abs_diff: float | None = None  # parity check: |ONNX - torch| of the token terms
    versions: Mapping[str, str] | None = None  # torch, onnx, onnxruntime at export time

    def __post_init__(self) -> None:
        check_choice("ExportInfo", "precision", self.precision, PRECISIONS)

    def to_dict(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in self.__dataclass_fields__}
        out["versions"] = dict(self.versions or {})
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ExportInfo:
        return config_from_dict(cls, data)


@dataclass(frozen=True)
class ExportMeta:
    """An export folder's ``binder_export.json``, read back."""

    path: Path
    model: ModelConfig
    info: ModelInfo
    export: ExportInfo

    def to_json(self) -> str:
        return (
            json.dumps(
                {
                    "format": EXPORT_FORMAT_NAME,
                    "format_version": EXPORT_FORMAT_VERSION,
                    "model": self.model.to_dict(),
                    "extra": self.info.to_dict(),
                    "export": self.export.to_dict(),
                },
                indent=2,
                sort_keys=True,
            )
            + "\n"
        )


def is_export_dir(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` (or its ``best/``) is a folder written by ``binder export``."""
    p = Path(path)
    return (p / EXPORT_CONFIG_NAME).is_file() or (p / BEST_DIR / EXPORT_CONFIG_NAME).is_file()


def resolve_export_dir(path: str | os.PathLike[str]) -> Path:
    p = Path(path)
    if (p / EXPORT_CONFIG_NAME).is_file():
        return p
    if (p / BEST_DIR / EXPORT_CONFIG_NAME).is_file():
        return p / BEST_DIR
    raise InputError(
        f"not an export folder (no {EXPORT_CONFIG_NAME}); write one with `binder export`",
        path=str(p),
    )


def read_export(path: str | os.PathLike[str]) -> ExportMeta:
    """The metadata of an export folder; every file it names must be there."""
    folder = resolve_export_dir(path)
    config_file = folder / EXPORT_CONFIG_NAME
    meta = read_format_file(
        config_file, "export", EXPORT_FORMAT_NAME, EXPORT_FORMAT_VERSION, "export the model again"
    )
    for name in EXPORT_FILES:
        if not (folder / name).is_file():
            raise InputError(f"incomplete export folder: {name} is missing", path=str(folder))
    try:
        return ExportMeta(
            folder,
            ModelConfig.from_dict(meta.get("model") or {}),
            ModelInfo.from_dict(meta.get("extra") or {}),
            ExportInfo.from_dict(meta.get("export") or {}),
        )
    except ConfigError as exc:
        raise InputError(f"invalid export config ({exc})", path=str(config_file)) from None
