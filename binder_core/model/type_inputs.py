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

    Padding is always on the right, whatever the tokenizer's ``padding_side``: the type vector
    is read at position 0, which must be the CLS token of every row.
    Returns type_input_ids (K, T) and type_attention_mask (K, T), T <= max_length.
    """
    if not labels:
        raise ConfigError("no entity types to encode")
    if len(set(labels)) != len(labels):
        raise ConfigError(f"duplicate entity types in {list(labels)}")
    rows = tokenizer(
        [descriptions.get(label, label) for label in labels],
        truncation=True,
        max_length=max_length,
        return_attention_mask=False,
    )["input_ids"]
    length = max(len(row) for row in rows)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    input_ids = torch.full((len(rows), length), int(pad), dtype=torch.long)
    attention_mask = torch.zeros((len(rows), length), dtype=torch.long)
    for k, row in enumerate(rows):
        input_ids[k, : len(row)] = torch.tensor(row, dtype=torch.long)
        attention_mask[k, : len(row)] = 1
    return TypeInputs(
        type_input_ids=input_ids, type_attention_mask=attention_mask, labels=tuple(labels)
    )
