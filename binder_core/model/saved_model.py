"""Writing and loading a model directory: weights, tokenizer, config and card in one place.

The layout, :class:`binder_core.model.model_dir.ModelInfo` (the typed form of ``extra``) and the
torch-free reading of the metadata live in :mod:`binder_core.model.model_dir`; this module writes
and loads the weights: :func:`save_pretrained` and :func:`from_pretrained` are the only writer and
reader, in the Hugging Face manner. Directories written before ``ModelInfo`` existed load
unchanged (their ``data_config`` may carry the span width, now the model's alone, which is
dropped).
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any, NamedTuple

import torch
from safetensors.torch import load_model as load_safetensors
from safetensors.torch import save_model as save_safetensors
from transformers import AutoConfig, AutoTokenizer

from binder_core.contract.atomic import atomic_directory
from binder_core.contract.errors import InputError
from binder_core.model.bi_encoder import BinderModel
from binder_core.model.model_dir import (
    CARD_NAME,
    CONFIG_NAME,
    FORMAT_NAME,
    FORMAT_VERSION,
    WEIGHTS_NAME,
    ModelInfo,
    read_model_meta,
    render_model_card,
    resolve_model_dir,
)

logger = logging.getLogger(__name__)


class SavedModel(NamedTuple):
    """A loaded model directory."""

    model: BinderModel  # in eval mode, on the requested device
    tokenizer: Any
    info: ModelInfo
    path: Path


def save_pretrained(
    model: BinderModel, tokenizer: Any, info: ModelInfo, out_dir: str | os.PathLike[str]
) -> Path:
    """Write a complete model directory at ``out_dir``, replacing any previous one atomically."""
    inner: BinderModel = getattr(model, "module", model)
    meta = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "model": inner.config.to_dict(),
        "extra": info.to_dict(),
    }
    target = Path(out_dir)
    with atomic_directory(target) as tmp:
        save_safetensors(inner, str(tmp / WEIGHTS_NAME))
        inner.text_encoder.config.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        (tmp / CONFIG_NAME).write_text(
            json.dumps(meta, indent=2, sort_keys=True) + "\n", encoding="utf-8"
        )
        (tmp / CARD_NAME).write_text(render_model_card(inner.config, info), encoding="utf-8")
    logger.info("saved model to %s", target)
    return target


def from_pretrained(path: str | os.PathLike[str], device: str | torch.device = "cpu") -> SavedModel:
    """Load a model directory (or a run folder's ``best/``) written by :func:`save_pretrained`.

    Raises InputError for a missing directory or one that is not a binder-ner model, and
    ConfigError for a model saved in another format version.
    """
    model_dir = resolve_model_dir(path)
    config, info = read_model_meta(model_dir)
    try:
        encoder_config = AutoConfig.from_pretrained(model_dir)
        tokenizer = AutoTokenizer.from_pretrained(model_dir)
    except (OSError, ValueError) as exc:
        raise InputError(
            f"cannot read encoder config or tokenizer ({exc})", path=str(model_dir)
        ) from None
    model = BinderModel.from_encoder_config(config, encoder_config)
    weights = model_dir / WEIGHTS_NAME
    try:
        missing, unexpected = load_safetensors(model, str(weights), strict=False, device="cpu")
    except Exception as exc:  # safetensors raises its own error types for a damaged file
        raise InputError(
            f"unreadable weights ({type(exc).__name__}: {exc})", path=str(weights)
        ) from None
    if missing or unexpected:
        raise InputError(
            f"weights do not match the model (missing {sorted(missing)[:3]}, unexpected "
            f"{sorted(unexpected)[:3]})",
            path=str(weights),
        )
    model.to(device)
    model.eval()
    return SavedModel(model, tokenizer, info, model_dir)
