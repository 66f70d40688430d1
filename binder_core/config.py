"""Model and loss configuration: frozen, validated on construction, saved next to every model.

Torch-free, so the CLI can parse and check options before importing the model.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

from binder_core.errors import ConfigError


@dataclass(frozen=True)
class ModelConfig:
    """The BINDER bi-encoder's shape; everything else comes from the encoder checkpoint."""

    encoder: str
    """Hugging Face path or id; the text and the type encoder both start from it."""
    projection_dim: int = 128
    """d: size of the L2-normalized vectors that are compared by cosine similarity."""
    width_embedding_dim: int = 128
    """Size of the learned span-width embedding w(j - i + 1)."""
    max_span_width_tokens: int = 30
    """Widest span (in sub-word tokens) that is scored as a candidate and predicted."""
    dropout: float = 0.1
    """Dropout in the projection heads (the encoders keep their own dropout settings)."""
    init_temperature: float = 0.07
    """The three learnable logit scales start at ln(1 / init_temperature)."""
    gradient_checkpointing: bool = False
    """Recompute encoder activations in the backward pass: less memory, about 30% slower."""

    def __post_init__(self) -> None:
        if not isinstance(self.encoder, str) or not self.encoder.strip():
            raise ConfigError("ModelConfig.encoder must be a Hugging Face model path or id")
        for name in ("projection_dim", "width_embedding_dim", "max_span_width_tokens"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"ModelConfig.{name} must be a positive integer, got {value!r}")
        if not isinstance(self.dropout, int | float) or not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"ModelConfig.dropout must be in [0, 1), got {self.dropout!r}")
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
        return _from_dict(cls, data)


@dataclass(frozen=True)
class LossWeights:
    """Weights of the BINDER loss.

    total = mention * (start * L_start + end * L_end + span * L_span)_mention
          + threshold * (start * L_start + end * L_end + span * L_span)_threshold
    """

    start: float = 0.2
    end: float = 0.2
    span: float = 0.6
    mention: float = 0.5
    threshold: float = 0.5

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
        return _from_dict(cls, data)


def _from_dict(cls: Any, data: Mapping[str, Any]) -> Any:
    if not isinstance(data, Mapping):
        raise ConfigError(f"{cls.__name__}: expected a mapping, got {type(data).__name__}")
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(
            f"{cls.__name__}: unknown option(s) {unknown}; known options are {sorted(known)}"
        )
    try:
        return cls(**data)
    except TypeError as exc:  # a required field is missing
        raise ConfigError(f"{cls.__name__}: {exc}") from None
