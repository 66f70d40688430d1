"""The model and loss configurations: frozen, validated on construction, saved with every model.

Torch-free, so the CLI can parse and check options before importing the model.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any, Literal

from binder_core.contract.errors import ConfigError
from binder_core.contract.options import check_int, config_from_dict, option

Amp = Literal["auto", "bf16", "fp16", "no"]
AMP_CHOICES: tuple[str, ...] = ("auto", "bf16", "fp16", "no")
"""auto: bf16 where the device supports it, else fp16 on CUDA; no: full fp32."""
Decoding = Literal["flat", "nested"]
DECODINGS: tuple[str, ...] = ("flat", "nested")
"""flat: greedy, no overlapping spans (``doc.ents``-like); nested: every span above threshold."""


@dataclass(frozen=True)
class ModelConfig:
    """The BINDER bi-encoder's shape; everything else comes from the encoder checkpoint."""

    encoder: str = option(
        None, "Hugging Face encoder path or id (default: the offline MiniLM)."
    )  # the text and the type encoder both start from it; required in practice
    projection_dim: int = option(
        128, "d: size of the L2-normalized vectors compared by cosine similarity."
    )
    width_embedding_dim: int = option(128, "Size of the learned span-width embedding.")
    max_span_width_tokens: int = option(
        30, "Widest span, in tokens, that is scored as a candidate and predicted."
    )  # W: the span band of the model and of every batch built for it
    dropout: float = option(0.1, "Dropout in the projection heads.")
    attention_dropout: float | None = option(
        None,
        "Dropout on the encoders' attention probabilities (default: the encoder's own). 0 "
        "lets the fused attention kernel run and skips the costliest random draws on CPU.",
    )
    init_temperature: float = option(
        0.07, "The learnable logit scales start at ln(1 / init_temperature)."
    )
    gradient_checkpointing: bool = option(
        False, "Recompute encoder activations in the backward pass: less memory, ~30% slower."
    )

    def __post_init__(self) -> None:
        if not isinstance(self.encoder, str) or not self.encoder.strip():
            raise ConfigError("ModelConfig.encoder must be a Hugging Face model path or id")
        for name in ("projection_dim", "width_embedding_dim", "max_span_width_tokens"):
            check_int("ModelConfig", name, getattr(self, name), 1)
        for name in ("dropout", "attention_dropout"):
            value = getattr(self, name)
            if name == "attention_dropout" and value is None:
                continue
            if not isinstance(value, int | float) or not 0.0 <= value < 1.0:
                raise ConfigError(f"ModelConfig.{name} must be in [0, 1), got {value!r}")
        temperature = self.init_temperature
        if not isinstance(temperature, int | float) or not (
            math.isfinite(temperature) and temperature > 0
        ):
            raise ConfigError(
                f"ModelConfig.init_temperature must be a positive number, got {temperature!r}"
            )
        if not isinstance(self.gradient_checkpointing, bool):
            raise ConfigError(
                "ModelConfig.gradient_checkpointing must be true or false, "
                f"got {self.gradient_checkpointing!r}"
            )

    @property
    def init_logit_scale(self) -> float:
        """ln(1 / init_temperature): the starting value of each learnable scale alpha."""
        return math.log(1.0 / self.init_temperature)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; :meth:`from_dict` reads it back."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ModelConfig:
        """Build from a dict such as a saved ``binder_config.json``; unknown keys are an error."""
        return config_from_dict(cls, data)


@dataclass(frozen=True)
class LossWeights:
    """Weights of the BINDER loss.

    total = mention * (start * L_start + end * L_end + span * L_span)_mention
          + threshold * (start * L_start + end * L_end + span * L_span)_threshold
    """

    start: float = option(0.2, "Weight of the start-token head.")
    end: float = option(0.2, "Weight of the end-token head.")
    span: float = option(0.6, "Weight of the span head.")
    mention: float = option(0.5, "Mention-loss weight.")
    threshold: float = option(0.5, "Thresholding-loss weight (0 turns it off).")

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ConfigError(f"LossWeights.{f.name} must be a number, got {value!r}")
            if not (math.isfinite(value) and value >= 0):
                raise ConfigError(f"LossWeights.{f.name} must be finite and >= 0, got {value!r}")
        if self.start + self.end + self.span == 0 or self.mention + self.threshold == 0:
            raise ConfigError(
                "LossWeights: at least one of start/end/span and one of mention/threshold "
                "must be positive"
            )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LossWeights:
        return config_from_dict(cls, data)
