"""How documents become model inputs: one frozen configuration, saved with every run and model.

Torch-free, so the CLI can parse and check options before importing the model.
"""

from __future__ import annotations

import typing
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal

from binder_core.contract.errors import ConfigError
from binder_core.contract.options import check_choice, check_int, config_from_dict, option

UnknownLabels = Literal["error", "ignore"]
UncertainSpans = Literal["exclude", "negative", "positive"]


@dataclass(frozen=True)
class DataConfig:
    """How documents become model inputs; saved with every run and model.

    The span band width is the model's (:attr:`ModelConfig.max_span_width_tokens`), passed to
    the data set and collator explicitly, so it has one home.
    """

    max_seq_length: int = option(256, "Tokens per window, including the CLS and SEP tokens.")
    pad_to_multiple: int = option(
        1,
        "Pad each batch's length up to a multiple of this (1: the longest window). A few fixed "
        "shapes let bf16 kernels on CPU be reused instead of rebuilt for every length.",
    )
    window_overlap_tokens: int = option(
        64, "Content tokens shared by consecutive windows of a long document."
    )
    shuffle_buffer_size: int = option(
        1000, "Windows held in the streaming shuffle buffer (1 keeps the stream order)."
    )
    seed: int = option(42, "Seeds the per-epoch order of row groups and the shuffle buffer.")
    unknown_labels: UnknownLabels = option(
        "error", "A span whose label is not in the label set: error (name the document) or ignore."
    )
    uncertain_spans: UncertainSpans = option(
        "exclude",
        "Spans marked uncertain: exclude from negatives (default), treat as negative, or as "
        "positive.",
    )

    _LEGACY = frozenset({"max_span_width_tokens"})
    """Written by earlier versions (now the model's alone); dropped on reading."""

    def __post_init__(self) -> None:
        for name in ("max_seq_length", "shuffle_buffer_size", "pad_to_multiple"):
            check_int("DataConfig", name, getattr(self, name), 1)
        check_int("DataConfig", "window_overlap_tokens", self.window_overlap_tokens, 0)
        check_int("DataConfig", "seed", self.seed, 0)
        if self.max_seq_length < 3:
            raise ConfigError(
                f"DataConfig.max_seq_length must be at least 3 (CLS, a token, SEP), "
                f"got {self.max_seq_length}"
            )
        if self.max_seq_length % self.pad_to_multiple:
            raise ConfigError(
                f"DataConfig.max_seq_length ({self.max_seq_length}) must be a multiple of "
                f"pad_to_multiple ({self.pad_to_multiple}), so padding never exceeds it"
            )
        if self.window_overlap_tokens >= self.content_length:
            raise ConfigError(
                f"DataConfig.window_overlap_tokens ({self.window_overlap_tokens}) must be smaller "
                f"than max_seq_length - 2 ({self.content_length})"
            )
        check_choice("DataConfig", "unknown_labels", self.unknown_labels, ("error", "ignore"))
        check_choice(
            "DataConfig", "uncertain_spans", self.uncertain_spans, typing.get_args(UncertainSpans)
        )

    @property
    def content_length(self) -> int:
        """Content tokens per window: max_seq_length minus CLS and SEP."""
        return self.max_seq_length - 2

    @property
    def stride_tokens(self) -> int:
        """Distance between the first content tokens of consecutive windows."""
        return self.content_length - self.window_overlap_tokens

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; :meth:`from_dict` reads it back."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DataConfig:
        """Build from a saved dict; unknown keys are an error."""
        return config_from_dict(cls, data, legacy=cls._LEGACY)
