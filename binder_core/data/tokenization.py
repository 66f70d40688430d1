"""One tokenizer interface for windowing: a Hugging Face fast tokenizer or a ``tokenizer.json``.

Windowing (:mod:`binder_core.data.windows`) needs three things of a tokenizer: its CLS, SEP and PAD
ids, and token ids with character offsets for a batch of texts, without special tokens and
without truncation. A ``transformers`` fast tokenizer gives them; so does the ``tokenizers``
library alone, which is what the ONNX runtime path has (no ``transformers``, no torch). A fast
tokenizer *is* a ``tokenizers.Tokenizer`` plus Python around it, and it calls that tokenizer's
``encode_batch`` with the same options, so both give the same ids and offsets; a test checks it.

Torch-free; ``tokenizers`` is imported only when a :class:`TokenizerFile` is loaded.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from binder_core.contract.errors import ConfigError, InputError

Encoded = tuple[list[int], list[tuple[int, int]]]
"""One text's token ids and their character ``[start, end)`` offsets."""


class TokenizerFile:
    """A ``tokenizers.Tokenizer`` (a model folder's ``tokenizer.json``) with its special ids.

    Duck-compatible with what :func:`binder_core.data.windows.check_tokenizer` and
    :func:`binder_core.data.batching.pad_token_id` read of a Hugging Face tokenizer
    (``is_fast``, ``cls_token_id``, ``sep_token_id``, ``pad_token_id``).
    """

    is_fast = True

    def __init__(
        self, tokenizer: Any, cls_token_id: int, sep_token_id: int, pad_token_id: int
    ) -> None:
        tokenizer.no_truncation()
        tokenizer.no_padding()
        self.tokenizer = tokenizer
        self.cls_token_id = int(cls_token_id)
        self.sep_token_id = int(sep_token_id)
        self.pad_token_id = int(pad_token_id)

    @classmethod
    def from_file(
        cls,
        path: str | os.PathLike[str],
        cls_token_id: int,
        sep_token_id: int,
        pad_token_id: int,
    ) -> TokenizerFile:
        """Load ``tokenizer.json`` (the ``tokenizers`` library's own format; runs no code)."""
        try:
            from tokenizers import Tokenizer
        except ImportError:
            raise ConfigError(
                "reading tokenizer.json needs the tokenizers package: "
                "pip install 'binder-ner[onnx]'"
            ) from None
        try:
            tokenizer = Tokenizer.from_file(str(path))
        except Exception as exc:  # tokenizers raises its own Exception subclass
            raise InputError(f"unreadable tokenizer ({exc})", path=str(path)) from None
        return cls(tokenizer, cls_token_id, sep_token_id, pad_token_id)

    def encode_texts(self, texts: Sequence[str]) -> list[Encoded]:
        encodings = self.tokenizer.encode_batch(list(texts), add_special_tokens=False)
        return [(list(e.ids), [tuple(o) for o in e.offsets]) for e in encodings]


def encode_texts(tokenizer: Any, texts: Sequence[str]) -> list[Encoded]:
    """Token ids and character offsets of each text: no special tokens, no truncation.

    ``tokenizer`` is a :class:`TokenizerFile` or a Hugging Face fast tokenizer.
    """
    if not texts:
        return []
    if isinstance(tokenizer, TokenizerFile):
        return tokenizer.encode_texts(texts)
    encoded = tokenizer(
        list(texts),
        add_special_tokens=False,
        return_offsets_mapping=True,
        return_attention_mask=False,
        truncation=False,
        verbose=False,
    )
    return list(zip(encoded["input_ids"], encoded["offset_mapping"], strict=True))
