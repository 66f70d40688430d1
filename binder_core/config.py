"""The model, loss and data configurations: frozen, validated on construction, saved with every
model and run.

Each field is declared once, with its default and its help text (``metadata["help"]``); the CLI
reads both from here (:func:`default_of`, :func:`help_of`) instead of repeating them. One
``from_dict`` (:func:`config_from_dict`) reads every configuration back, nested ones included,
and refuses unknown keys.

Torch-free, so the CLI can parse and check options before importing the model.
"""

from __future__ import annotations

import dataclasses
import math
import typing
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any, Literal, TypeVar

from binder_core.errors import ConfigError

C = TypeVar("C")

Amp = Literal["auto", "bf16", "fp16", "no"]
AMP_CHOICES: tuple[str, ...] = ("auto", "bf16", "fp16", "no")
"""auto: bf16 where the device supports it, else fp16 on CUDA; no: full fp32."""
Backend = Literal["auto", "torch", "onnx"]
BACKENDS: tuple[str, ...] = ("auto", "torch", "onnx")
"""What runs a model: auto (onnx for an export folder from ``binder export``, torch for a model
folder), torch, or onnx (onnxruntime, an export folder only)."""
Decoding = Literal["flat", "nested"]
DECODINGS: tuple[str, ...] = ("flat", "nested")
"""flat: greedy, no overlapping spans (``doc.ents``-like); nested: every span above threshold."""
InputFormat = Literal["auto", "text", "jsonl", "parquet"]
"""Inputs of ``binder predict``: auto (from the suffix), text (a document per line), JSON
Lines, or contract Parquet."""
INFERENCE_BATCH_SIZE = 16
"""Windows per forward pass when evaluating or predicting (not training)."""
UnknownLabels = Literal["error", "ignore"]
UncertainSpans = Literal["exclude", "negative", "positive"]


def option(default: Any, help: str, **kwargs: Any) -> Any:
    """A dataclass field with its default and the help text the CLI shows for it."""
    return dataclasses.field(default=default, metadata={"help": help}, **kwargs)


def _field(cls: type, name: str) -> dataclasses.Field[Any]:
    for f in fields(cls):
        if f.name == name:
            return f
    raise KeyError(f"{cls.__name__} has no field {name!r}")


def default_of(cls: type, name: str) -> Any:
    """The declared default of ``cls.name`` (from its default or default factory)."""
    f = _field(cls, name)
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    raise KeyError(f"{cls.__name__}.{name} has no default")


def help_of(cls: type, name: str) -> str:
    """The help text declared with ``cls.name``."""
    return str(_field(cls, name).metadata.get("help", ""))


def config_from_dict(
    cls: type[C], data: Mapping[str, Any], *, legacy: frozenset[str] = frozenset()
) -> C:
    """Build the dataclass ``cls`` from a dict such as a saved JSON file.

    Unknown keys are a :class:`ConfigError` naming them; keys in ``legacy`` (fields that older
    versions wrote and this one no longer has) are dropped. A field whose type is itself a
    configuration dataclass is built from its nested dict the same way.
    """
    if not isinstance(data, Mapping):
        raise ConfigError(f"{cls.__name__}: expected a mapping, got {type(data).__name__}")
    known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(data) - known - legacy)
    if unknown:
        raise ConfigError(
            f"{cls.__name__}: unknown option(s) {unknown}; known options are {sorted(known)}"
        )
    hints = typing.get_type_hints(cls)
    values = {}
    for name, value in data.items():
        if name not in known:
            continue
        nested = _nested_config(hints.get(name))
        if nested is not None and isinstance(value, Mapping):
            value = nested.from_dict(value)  # type: ignore[attr-defined]
        values[name] = value
    try:
        return cls(**values)
    except TypeError as exc:  # a required field is missing
        raise ConfigError(f"{cls.__name__}: {exc}") from None


def _nested_config(hint: Any) -> type | None:
    """The configuration dataclass in a field's type (``X`` or ``X | None``), if any."""
    candidates = typing.get_args(hint) if typing.get_origin(hint) is not None else (hint,)
    for candidate in candidates:
        if dataclasses.is_dataclass(candidate) and hasattr(candidate, "from_dict"):
            return candidate  # type: ignore[return-value]
    return None


def check_int(owner: str, name: str, value: object, minimum: int) -> None:
    """An integer (not a bool) of at least ``minimum``, else a ConfigError naming the field."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"{owner}.{name} must be an integer >= {minimum}, got {value!r}")


def check_choice(owner: str, name: str, value: object, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ConfigError(f"{owner}.{name} must be one of {list(choices)}, got {value!r}")


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
    seed: int = option(0, "Seeds the per-epoch order of row groups and the shuffle buffer.")
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
