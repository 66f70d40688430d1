"""The torch-free half of the saved-model contract: what a model directory holds and says.

A model directory (``RUN/best/`` after ``binder train``)::

    model.safetensors     every weight (no pickle: loading runs no code)
    binder_config.json    {"format": "binder-ner-model", "format_version": 1,
                           "model": ModelConfig, "extra": ModelInfo}
    config.json           the encoder's Hugging Face config
    tokenizer files       the tokenizer, as ``save_pretrained`` writes it
    README.md             the model card: labels, encoder, training data, dev scores, command

:class:`ModelInfo` is the typed form of ``extra``; :func:`read_model_meta` reads it back without
torch (the ONNX runtime path needs that), :func:`render_model_card` writes the card. Weights are
written and loaded by :mod:`binder_core.model.saved_model`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from binder_core.contract.errors import ConfigError, InputError
from binder_core.contract.markers import check_complete
from binder_core.contract.options import config_from_dict
from binder_core.contract.outputs import read_format_file
from binder_core.data.config import DataConfig
from binder_core.model.config import DECODINGS, Decoding, ModelConfig

WEIGHTS_NAME = "model.safetensors"
CONFIG_NAME = "binder_config.json"
CARD_NAME = "README.md"
FORMAT_NAME = "binder-ner-model"
FORMAT_VERSION = 1
BEST_DIR = "best"
"""The folder of a run directory that holds its best model."""


@dataclass(frozen=True)
class TrainingProvenance:
    """Where a model came from, for its model card and for whoever receives it."""

    train_data: str = ""  # the training Parquet file or folder
    dictionary_fingerprint: str = ""  # of the silver labels ("" for gold data)
    manifest_sha256: str = ""  # of the training data's _manifest.json ("" when it has none)
    documents: int | None = None  # training documents, from the manifest
    silver: bool = False  # the training labels came from a dictionary
    command: str = ""  # the command line that trained the model
    # the options the silver labels were written with (the manifest's ``options``), so that a
    # hybrid's dictionary side labels new text the same way; empty for gold data
    silver_options: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in self.__dataclass_fields__}
        out["silver_options"] = dict(self.silver_options)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrainingProvenance:
        return config_from_dict(cls, data)


@dataclass(frozen=True)
class ModelInfo:
    """Everything a model directory says about its model besides weights and tokenizer."""

    labels: tuple[str, ...]
    type_descriptions: Mapping[str, str]  # label -> the text the type encoder reads
    data_config: DataConfig = field(default_factory=DataConfig)
    decoding: Decoding = "flat"  # the decoding the model was selected with
    step: int | None = None  # the training step of these weights
    dev: Mapping[str, float] = field(default_factory=dict)  # dev precision / recall / f1
    provenance: TrainingProvenance | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "labels", tuple(self.labels))
        if not self.labels:
            raise ConfigError("ModelInfo: a model needs at least one entity type")
        if len(set(self.labels)) != len(self.labels):
            raise ConfigError(f"ModelInfo: duplicate entity types in {list(self.labels)}")
        descriptions = {label: label for label in self.labels} | dict(self.type_descriptions)
        object.__setattr__(self, "type_descriptions", descriptions)
        if self.decoding not in DECODINGS:
            raise ConfigError(
                f"ModelInfo.decoding must be one of {list(DECODINGS)}, got {self.decoding!r}"
            )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "labels": list(self.labels),
            "type_descriptions": dict(self.type_descriptions),
            "data_config": self.data_config.to_dict(),
            "decoding": self.decoding,
            "step": self.step,
            "dev": dict(self.dev),
        }
        if self.provenance is not None:
            out["provenance"] = self.provenance.to_dict()
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ModelInfo:
        values = dict(data)
        if not values.get("type_descriptions"):
            values.pop("type_descriptions", None)
            values["type_descriptions"] = {}
        return config_from_dict(cls, values)


def resolve_model_dir(path: str | os.PathLike[str]) -> Path:
    """A model directory: ``path`` itself when it holds a saved model, else ``path/best``."""
    p = Path(path)
    if (p / CONFIG_NAME).is_file():
        return p
    has_best = (p / BEST_DIR / CONFIG_NAME).is_file()
    if p.is_dir():
        hint = " (its best model so far is in best/: pass that folder)" if has_best else ""
        check_complete(p, f"training run{hint}")
    if has_best:
        return p / BEST_DIR
    raise InputError(
        f"no saved model here (looked for {CONFIG_NAME} and {BEST_DIR}/{CONFIG_NAME}); "
        "pass a run folder written by `binder train` or its best/ model folder",
        path=str(p),
    )


def read_model_meta(model_dir: str | os.PathLike[str]) -> tuple[ModelConfig, ModelInfo]:
    """The configuration and :class:`ModelInfo` of a model directory, without loading weights."""
    path = Path(model_dir)
    if not path.is_dir():
        raise InputError(
            "model directory not found; pass the model directory written by `binder train`",
            path=str(path),
        )
    config_file = path / CONFIG_NAME
    if not config_file.is_file() or not (path / WEIGHTS_NAME).is_file():
        raise InputError(
            f"not a binder-ner model directory (needs {CONFIG_NAME} and {WEIGHTS_NAME}); "
            "pass the model directory written by `binder train`",
            path=str(path),
        )
    meta = read_format_file(
        config_file, "model", FORMAT_NAME, FORMAT_VERSION, "retrain or use a matching version"
    )
    try:
        config = ModelConfig.from_dict(meta.get("model") or {})
        info = ModelInfo.from_dict(meta.get("extra") or {})
    except ConfigError as exc:
        raise InputError(f"invalid model config ({exc})", path=str(config_file)) from None
    return config, info


def render_model_card(config: ModelConfig, info: ModelInfo) -> str:
    """The Markdown model card of a model directory."""
    lines = [
        "---",
        "library_name: binder-ner",
        "tags: [token-classification, ner, binder, distant-supervision]",
        "---",
        "",
        "# binder-ner BINDER model",
        "",
        "A BINDER bi-encoder (Zhang et al., ICLR 2023): text spans and entity-type descriptions "
        "in one vector space; the `[CLS]` score of each window is the learned threshold.",
        "",
        "## Entity types",
        "",
        "| label | description |",
        "|---|---|",
        *(f"| {label} | {_cell(info.type_descriptions[label])} |" for label in info.labels),
        "",
        "## Model",
        "",
        f"- encoder: `{config.encoder}` (text and type encoders, no shared weights)",
        f"- projection dim {config.projection_dim}, widest span {config.max_span_width_tokens} "
        f"tokens, windows of {info.data_config.max_seq_length} tokens overlapping by "
        f"{info.data_config.window_overlap_tokens}",
        f"- decoding: {info.decoding}",
    ]
    if info.step is not None:
        lines.append(f"- training step of these weights: {info.step}")
    p = info.provenance
    if p is not None:
        lines += ["", "## Training data", ""]
        kind = "silver (dictionary) labels" if p.silver else "labelled data"
        lines.append(f"- `{p.train_data}`: {kind}")
        if p.documents is not None:
            lines.append(f"- documents: {p.documents:,}")
        if p.dictionary_fingerprint:
            lines.append(f"- dictionary fingerprint: `{p.dictionary_fingerprint}`")
        if p.manifest_sha256:
            lines.append(f"- manifest sha256: `{p.manifest_sha256}`")
    lines += ["", "## Dev scores", ""]
    if info.dev:
        lines.append(" · ".join(f"{k} {float(v):.4f}" for k, v in sorted(info.dev.items())))
    else:
        lines.append("No dev data was scored (the last weights were kept).")
    if p is not None and p.command:
        lines += ["", "## Command", "", "```", p.command, "```"]
    lines += [
        "",
        "## Use",
        "",
        "```",
        "binder predict MODEL_DIR input.jsonl predictions.jsonl",
        "```",
        "",
    ]
    return "\n".join(lines)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
