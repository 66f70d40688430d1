"""What BINDER needs of an encoder, checked when training starts rather than hours into a run.

Users swap the default MiniLM for the encoder of their field. binder-ner serves any checkpoint
that gives it what the model, the windows and the exports rely on:

- a **bidirectional text encoder** (every token sees the whole window): not a decoder-only
  (causal) model such as GPT-2 or Llama, and not an encoder-decoder such as T5 or BART;
- a **fast tokenizer** (``tokenizer.json``: character offsets) with its own CLS, SEP and PAD
  tokens, whose template puts CLS first and SEP last: windows are framed with them, and the
  type encoder's vector is read at position 0;
- token ids that all have a row in the encoder's **embedding table**;
- **positions** for every token of a window: encoders with absolute position embeddings (BERT,
  ELECTRA; RoBERTa and XLM-R, whose positions start after the padding id) limit
  ``max_seq_length``; relative (DeBERTa-v2/v3 without absolute positions) and rotary
  (ModernBERT) positions do not.

:func:`check_encoder` refuses anything else with one line naming the model and the reason.
The families in :data:`TESTED_FAMILIES` are trained, saved, reloaded, exported to ONNX and run
in the spaCy component by the test suite; another encoder that passes the checks is accepted
with a logged warning.
"""

from __future__ import annotations

import logging
from typing import Any

from binder_core.contract.errors import ConfigError
from binder_core.data.config import DataConfig

_LOG = logging.getLogger(__name__)

TESTED_FAMILIES: tuple[str, ...] = (
    "bert", "roberta", "xlm-roberta", "deberta-v2", "electra", "modernbert",
)  # fmt: skip
"""Hugging Face ``model_type`` values the suite trains and serves end to end (BERT covers
MiniLM, PubMedBERT, BioLinkBERT and SciBERT; deberta-v2 covers DeBERTa-v3)."""

OFFSET_POSITIONS: frozenset[str] = frozenset(
    {"roberta", "xlm-roberta", "xlm-roberta-xl", "camembert", "roberta-prelayernorm",
     "data2vec-text", "mpnet", "longformer", "xmod"}
)  # fmt: skip
"""Families whose position ids start after the padding id (``padding_idx + 1``): RoBERTa's
514 position embeddings hold 512 tokens."""


def unloadable_encoder(name: str, exc: Exception) -> ConfigError:
    """The one-line error for an encoder whose config or weights transformers cannot load."""
    first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return ConfigError(
        f"cannot load encoder {name!r} ({first_line}); pass a local Hugging Face model "
        "directory or an id that is in the local cache"
    )


def load_encoder_config(name: str) -> Any:
    """The Hugging Face config of ``name`` (a local folder or a cached id); runs no code."""
    from transformers import AutoConfig

    try:
        return AutoConfig.from_pretrained(name)
    except (OSError, ValueError) as exc:
        raise unloadable_encoder(name, exc) from None


def position_limit(encoder_config: Any) -> int | None:
    """The most tokens one window may hold, or None where positions set no limit.

    Absolute position embeddings hold ``max_position_embeddings`` tokens, fewer the padding
    offset in :data:`OFFSET_POSITIONS`; DeBERTa without absolute positions (v2, v3) and rotary
    encoders have none.
    """
    model_type = str(getattr(encoder_config, "model_type", ""))
    if model_type in ("deberta", "deberta-v2") and not getattr(
        encoder_config, "position_biased_input", True
    ):
        return None
    if model_type == "modernbert" or getattr(encoder_config, "rope_parameters", None):
        return None
    size = getattr(encoder_config, "max_position_embeddings", None)
    if size is None:
        return None
    if model_type in OFFSET_POSITIONS:
        pad = getattr(encoder_config, "pad_token_id", None)
        return int(size) - (int(pad) + 1 if pad is not None else 2)
    return int(size)


def _architecture_problem(encoder_config: Any) -> str | None:
    """What the encoder is, where it is not a bidirectional text encoder; else None."""
    from transformers.models.auto.modeling_auto import (
        MODEL_FOR_CAUSAL_LM_MAPPING_NAMES,
        MODEL_FOR_MASKED_LM_MAPPING_NAMES,
    )

    model_type = str(getattr(encoder_config, "model_type", ""))
    if getattr(encoder_config, "is_encoder_decoder", False):
        return "an encoder-decoder model; BINDER needs an encoder-only model"
    if getattr(encoder_config, "is_decoder", False) or (
        model_type in MODEL_FOR_CAUSAL_LM_MAPPING_NAMES
        and model_type not in MODEL_FOR_MASKED_LM_MAPPING_NAMES
    ):
        return (
            "a decoder-only (causal) model, whose tokens cannot see the words after them; "
            "BINDER needs a bidirectional encoder"
        )
    if model_type not in MODEL_FOR_MASKED_LM_MAPPING_NAMES:
        return (
            "not a text encoder that transformers can fine-tune as one (it has no "
            "masked-language-model form)"
        )
    return None


def _tokenizer_problem(tokenizer: Any, vocab_size: int) -> str | None:
    """Why the tokenizer cannot frame windows and type descriptions, or None."""
    if not getattr(tokenizer, "is_fast", False):
        return (
            f"its tokenizer ({type(tokenizer).__name__}) is not a fast tokenizer, so it gives no "
            "character offsets; the model folder needs a tokenizer.json"
        )
    missing = [
        name for name in ("cls_token", "sep_token", "pad_token") if getattr(tokenizer, name) is None
    ]
    if missing:
        return f"its tokenizer has no {' / '.join(missing)}; BINDER frames each window with them"
    ids = tokenizer("x")["input_ids"]
    if not ids or ids[0] != tokenizer.cls_token_id or ids[-1] != tokenizer.sep_token_id:
        return (
            f"its tokenizer does not frame a text as {tokenizer.cls_token} ... "
            f"{tokenizer.sep_token} (it gives {tokenizer.convert_ids_to_tokens(ids)} for 'x'); "
            "the type encoder reads its vector at the first token"
        )
    largest = max(tokenizer.get_vocab().values())
    if largest >= vocab_size:
        return (
            f"its tokenizer has token ids up to {largest} but the encoder embeds only "
            f"{vocab_size}; the tokenizer belongs to another model"
        )
    return None


def check_encoder(name: str, encoder_config: Any, tokenizer: Any, data_config: DataConfig) -> None:
    """Refuse an encoder binder-ner cannot train or serve, before any weights are loaded.

    Raises :class:`ConfigError` naming ``name``, its ``model_type`` and the reason; logs a
    warning for an encoder outside :data:`TESTED_FAMILIES` that passes every check.
    """
    model_type = str(getattr(encoder_config, "model_type", "unknown"))
    where = f"encoder {name!r} ({model_type})"
    kind = _architecture_problem(encoder_config)
    if kind is not None:
        raise ConfigError(f"{where} is {kind}")
    problem = _tokenizer_problem(tokenizer, int(encoder_config.vocab_size))
    if problem is not None:
        raise ConfigError(f"{where}: {problem}")
    limit = position_limit(encoder_config)
    if limit is not None and data_config.max_seq_length > limit:
        raise ConfigError(
            f"{where}: its position embeddings hold {limit} tokens, fewer than "
            f"--max-seq-length {data_config.max_seq_length}; pass --max-seq-length {limit} or less"
        )
    if model_type not in TESTED_FAMILIES:
        _LOG.warning(
            "%s is not among the tested encoder families %s; it passes the checks, so training "
            "goes on", where, list(TESTED_FAMILIES),
        )  # fmt: skip
