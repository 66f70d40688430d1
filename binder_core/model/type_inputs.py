"""Entity-type descriptions as the type encoder's inputs: one tokenized row per label.

The descriptions themselves are read by :mod:`binder_core.data.type_descriptions` (torch-free).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import torch

from binder_core.contract.errors import ConfigError


class TypeInputs(NamedTuple):
    """Tokenized type descriptions, one row per label. K types, T tokens."""

    type_input_ids: torch.Tensor  # (K, T) long, CLS at position 0
    type_attention_mask: torch.Tensor  # (K, T) long
    labels: tuple[str, ...]


def build_type_inputs(
    tokenizer: Any,
    labels: Sequence[str],
    descriptions: Mapping[str, str],
    max_length: int = 64,
) -> TypeInputs:
    """Tokenize each label's description with the model's special tokens, padded to the longest.

    Returns type_input_ids (K, T) and type_attention_mask (K, T), T <= max_length.
    """
    if not labels:
        raise ConfigError("no entity types to encode")
    if len(set(labels)) != len(labels):
        raise ConfigError(f"duplicate entity types in {list(labels)}")
    encoded = tokenizer(
        [descriptions.get(label, label) for label in labels],
        padding=True,
        truncation=True,
        max_length=max_length,
        return_tensors="pt",
    )
    return TypeInputs(
        type_input_ids=encoded["input_ids"].long(),
        type_attention_mask=encoded["attention_mask"].long(),
        labels=tuple(labels),
    )
