"""The BINDER bi-encoder (Zhang et al., ICLR 2023): two encoders, projection heads, scores.

A text encoder reads a window of tokens and a type encoder reads one natural-language
description per entity type. Both start from the same Hugging Face checkpoint and share no
weights. Heads (linear -> dropout -> L2-normalize, to d = ``projection_dim``) map token states
to start/end vectors, token pairs to span vectors, and the type encoder's [CLS] states to
type-start/end/span vectors. Span vectors are built only for the band of candidate widths:
span (i, j) lives at [i, w] with w = j - i < W = ``max_span_width_tokens``, so a window costs
O(L W d), not O(L^2 d). A score is cosine similarity times exp(alpha), with one learnable alpha
per head (folded into the (K, d) type vectors). The score at [CLS] (position 0, span cell
(0, 0)) is the window's threshold for that type. The model returns scores only;
:mod:`binder_core.model.losses` turns them into a loss.
"""

from __future__ import annotations

import logging
from typing import Any, NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from transformers import AutoModel, PretrainedConfig, PreTrainedModel

from binder_core.contract.errors import ConfigError
from binder_core.model.config import ModelConfig
from binder_core.model.encoders import load_encoder_config, unloadable_encoder

logger = logging.getLogger(__name__)


class TypeVectors(NamedTuple):
    """L2-normalized type vectors, each (K, d). Compute once per label set and reuse."""

    start: Tensor
    end: Tensor
    span: Tensor


class Scores(NamedTuple):
    """Scaled cosine scores; index 0 ([CLS], span (0, 0)) holds each type's threshold.

    start (B, K, L), end (B, K, L), span (B, K, L, W): the span band, where span[b, k, i, w]
    scores tokens i..i+w (W = ``max_span_width_tokens``); cells with i + w >= L are padding.
    """

    start: Tensor
    end: Tensor
    span: Tensor


ATTENTION_DROPOUT_KEYS = ("attention_probs_dropout_prob", "attention_dropout")
"""Where Hugging Face encoder configs keep the attention dropout (BERT/RoBERTa/DeBERTa; others)."""


def _load_pretrained(name: str, attention_dropout: float | None = None) -> PreTrainedModel:
    """An encoder with the pretrained weights of ``name`` (a local path or a cached id), its
    attention dropout set to ``attention_dropout`` unless that is None."""
    config = load_encoder_config(name)
    try:
        if attention_dropout is not None:
            keys = [k for k in ATTENTION_DROPOUT_KEYS if hasattr(config, k)]
            if not keys:
                raise ConfigError(
                    f"encoder {name!r} has no attention dropout setting "
                    f"({' or '.join(ATTENTION_DROPOUT_KEYS)}); leave attention_dropout unset"
                )
            for key in keys:
                setattr(config, key, attention_dropout)
        return AutoModel.from_pretrained(name, config=config, dtype=torch.float32)
    except (OSError, ValueError) as exc:
        raise unloadable_encoder(name, exc) from None


def _without_pooler(encoder: PreTrainedModel) -> PreTrainedModel:
    """The pooler is never used: dropping it keeps every parameter in the graph (DDP needs it)."""
    if getattr(encoder, "pooler", None) is not None:
        encoder.pooler = None  # type: ignore[assignment]
    return encoder


def _enable_checkpointing(encoder: PreTrainedModel) -> None:
    if not encoder.supports_gradient_checkpointing:
        raise ConfigError(
            f"encoder {type(encoder).__name__} does not support gradient checkpointing; "
            "set gradient_checkpointing to false"
        )
    enable = getattr(encoder, "activation_checkpointing_enable", None)
    if enable is not None:  # transformers >= 5
        enable(activation_checkpointing_kwargs={"use_reentrant": False})
    else:
        encoder.gradient_checkpointing_enable(
            gradient_checkpointing_kwargs={"use_reentrant": False}
        )


class BinderModel(nn.Module):
    """Text and type encoders plus BINDER heads; ``forward`` returns :class:`Scores`.

    The constructor takes the two encoders ready-made and does no I/O: build one with
    :meth:`from_pretrained_encoder` (both encoders from a checkpoint, for training) or
    :meth:`from_encoder_config` (untrained encoders, for loading a saved model's weights; see
    :mod:`binder_core.model.saved_model`).
    """

    def __init__(
        self, config: ModelConfig, text_encoder: PreTrainedModel, type_encoder: PreTrainedModel
    ) -> None:
        super().__init__()
        self.config = config
        self.text_encoder = _without_pooler(text_encoder)
        self.type_encoder = _without_pooler(type_encoder)
        hidden = int(self.text_encoder.config.hidden_size)
        type_hidden = int(self.type_encoder.config.hidden_size)
        d, w = config.projection_dim, config.width_embedding_dim

        self.dropout = nn.Dropout(config.dropout)
        self.start_head = nn.Linear(hidden, d)
        self.end_head = nn.Linear(hidden, d)
        # One linear map of [h_i ; h_j ; w(j - i + 1)], applied piecewise in span_vectors().
        self.span_head = nn.Linear(2 * hidden + w, d)
        self.width_embedding = nn.Embedding(config.max_span_width_tokens, w)
        self.type_start_head = nn.Linear(type_hidden, d)
        self.type_end_head = nn.Linear(type_hidden, d)
        self.type_span_head = nn.Linear(type_hidden, d)
        init = torch.tensor(config.init_logit_scale)
        self.start_logit_scale = nn.Parameter(init.clone())
        self.end_logit_scale = nn.Parameter(init.clone())
        self.span_logit_scale = nn.Parameter(init.clone())

        if config.gradient_checkpointing:
            _enable_checkpointing(self.text_encoder)
            _enable_checkpointing(self.type_encoder)

    @classmethod
    def from_pretrained_encoder(cls, config: ModelConfig) -> BinderModel:
        """Both encoders with the pretrained weights of ``config.encoder``, fresh heads."""
        text_encoder = _load_pretrained(config.encoder, config.attention_dropout)
        type_encoder = _load_pretrained(config.encoder, config.attention_dropout)
        return cls(config, text_encoder, type_encoder)

    @classmethod
    def from_encoder_config(
        cls, config: ModelConfig, encoder_config: PretrainedConfig
    ) -> BinderModel:
        """Untrained encoders of the given shape (the weights come from a saved model)."""
        return cls(
            config, AutoModel.from_config(encoder_config), AutoModel.from_config(encoder_config)
        )

    def _project(self, head: nn.Linear, x: Tensor) -> Tensor:
        """linear -> dropout -> L2-normalize over the last dim: (..., H) -> (..., d)."""
        return F.normalize(self.dropout(head(x)), dim=-1)

    def encode_types(self, type_input_ids: Tensor, type_attention_mask: Tensor) -> TypeVectors:
        """Type vectors from descriptions (K, T) -> each (K, d), from the [CLS] state."""
        out = self.type_encoder(input_ids=type_input_ids, attention_mask=type_attention_mask)
        cls = out.last_hidden_state[:, 0]  # (K, H)
        return TypeVectors(
            start=self._project(self.type_start_head, cls),
            end=self._project(self.type_end_head, cls),
            span=self._project(self.type_span_head, cls),
        )

    def scaled_types(self, types: TypeVectors) -> TypeVectors:
        """Type vectors (each (K, d)) times exp(alpha) of their head.

        Scaling the (K, d) vectors rather than the (B, K, L, W) scores is the same product and
        costs K * d multiplications instead of one pass over every score.
        """
        return TypeVectors(
            start=types.start * self.start_logit_scale.exp(),
            end=types.end * self.end_logit_scale.exp(),
            span=types.span * self.span_logit_scale.exp(),
        )

    def encode_text(self, input_ids: Tensor, attention_mask: Tensor) -> Tensor:
        """Token states (B, L, H) of the text encoder."""
        out = self.text_encoder(input_ids=input_ids, attention_mask=attention_mask)
        return out.last_hidden_state

    def span_parts(self, hidden: Tensor) -> tuple[Tensor, Tensor]:
        """The span head's token terms A h_i and B h_j, each (B, L, d), from states (B, L, H).

        span_head([h_i ; h_j ; width(w)]) = A h_i + B h_j + C width(w) + bias: the first two
        terms are per token, the last per width (:meth:`width_vectors`).
        """
        h_size = hidden.size(-1)
        weight = self.span_head.weight  # (d, 2H + w)
        from_start = F.linear(hidden, weight[:, :h_size])  # (B, L, d)
        from_end = F.linear(hidden, weight[:, h_size : 2 * h_size])  # (B, L, d)
        return from_start, from_end

    def width_vectors(self) -> Tensor:
        """The span head's width term C width(w) + bias, (W, d); row w is width w + 1."""
        h_size = self.text_encoder.config.hidden_size
        weight, bias = self.span_head.weight, self.span_head.bias
        return F.linear(self.width_embedding.weight, weight[:, 2 * h_size :], bias)

    def span_vectors(self, hidden: Tensor) -> Tensor:
        """Band span vectors (B, L, W, d) from token states (B, L, H); W = max_span_width_tokens.

        Cell [b, i, w] is the span of tokens i..i+w: span_head([h_i ; h_{i+w} ; width(w)]) =
        A h_i + B h_{i+w} + C width(w) + bias, summed by broadcasting after gathering the end
        term, so memory is O(L W d) rather than O(L^2 d). Row w of the width embedding is width
        w + 1. Cells with i + w >= L reuse the last token's state; they are never candidates.
        (Prediction builds only the candidate cells, from the same terms:
        :func:`binder_core.inference.decoding.band_cell_vectors`.)
        """
        batch, length, _ = hidden.shape
        width = self.config.max_span_width_tokens
        from_start, from_end = self.span_parts(hidden)  # (B, L, d) each
        from_width = self.width_vectors()  # (W, d)
        positions = torch.arange(length, device=hidden.device)
        offsets = torch.arange(width, device=hidden.device)
        end_index = (positions[:, None] + offsets[None, :]).clamp(max=length - 1)  # (L, W)
        ends = from_end.index_select(1, end_index.flatten())  # (B, L * W, d)
        spans = (
            from_start[:, :, None, :]
            + ends.view(batch, length, width, -1)
            + from_width[None, None, :, :]
        )  # (B, L, W, d)
        return F.normalize(self.dropout(spans), dim=-1)

    def text_span_vectors(self, input_ids: Tensor, attention_mask: Tensor) -> Tensor:
        """Band span vectors (B, L, W, d) of a batch of windows: no start/end heads, no
        scores."""
        return self.span_vectors(self.encode_text(input_ids, attention_mask))

    def text_span_parts(self, input_ids: Tensor, attention_mask: Tensor) -> tuple[Tensor, Tensor]:
        """The span head's token terms (B, L, d) each of a batch of windows, for prediction (and
        the graph that ``binder export`` writes): candidates are then built from them with the
        width terms and scored against types as (N, d) @ (d, K)."""
        return self.span_parts(self.encode_text(input_ids, attention_mask))

    def forward(self, input_ids: Tensor, attention_mask: Tensor, types: TypeVectors) -> Scores:
        """Scores of every token / band span against every type.

        input_ids, attention_mask (B, L); ``types`` from :meth:`encode_types` (not recomputed
        here, so a predictor can cache them) -> Scores start/end (B, K, L), span (B, K, L, W).
        """
        hidden = self.encode_text(input_ids, attention_mask)  # (B, L, H)
        start = self._project(self.start_head, hidden)  # (B, L, d)
        end = self._project(self.end_head, hidden)  # (B, L, d)
        spans = self.span_vectors(hidden)  # (B, L, W, d)
        scaled = self.scaled_types(types)  # each (K, d)
        return Scores(
            start=torch.einsum("bld,kd->bkl", start, scaled.start),
            end=torch.einsum("bld,kd->bkl", end, scaled.end),
            span=torch.einsum("biwd,kd->bkiw", spans, scaled.span),
        )


def build_optimizer_param_groups(
    model: nn.Module, lr: float, head_lr: float, weight_decay: float
) -> list[dict[str, Any]]:
    """AdamW parameter groups: encoders at ``lr``, heads/width embedding/scales at ``head_lr``.

    No weight decay on parameters with fewer than 2 dims (biases, LayerNorm weights and the
    logit scales). A DDP-wrapped model is unwrapped. Empty groups are left out.
    """
    for name, value in (("lr", lr), ("head_lr", head_lr)):
        if not value > 0:
            raise ConfigError(f"{name} must be positive, got {value!r}")
    if not weight_decay >= 0:
        raise ConfigError(f"weight_decay must be >= 0, got {weight_decay!r}")
    inner = getattr(model, "module", model)
    groups: dict[tuple[bool, bool], list[nn.Parameter]] = {
        (is_encoder, decay): [] for is_encoder in (True, False) for decay in (True, False)
    }
    for name, param in inner.named_parameters():
        if not param.requires_grad:
            continue
        is_encoder = name.startswith(("text_encoder.", "type_encoder."))
        groups[(is_encoder, param.ndim >= 2)].append(param)
    result = []
    for (is_encoder, decay), params in groups.items():
        if params:
            result.append(
                {
                    "params": params,
                    "lr": lr if is_encoder else head_lr,
                    "weight_decay": weight_decay if decay else 0.0,
                    "name": ("encoder" if is_encoder else "heads") + ("" if decay else "_no_decay"),
                }
            )
    return result


def fused_adamw_supported(device: torch.device | str) -> bool:
    """Whether this torch has the fused AdamW kernel for ``device`` (CUDA; CPU from torch 2.4).

    The fused kernel updates each tensor in one pass instead of about eight elementwise ops,
    which matters most on CPU, where two fine-tuned encoders make the optimizer step a large
    share of a training step.
    """
    kind = torch.device(device).type
    if kind == "cuda":
        return True
    major, minor = (int(part) for part in torch.__version__.split(".")[:2])
    return kind == "cpu" and (major, minor) >= (2, 4)


def build_optimizer(
    model: nn.Module, lr: float, head_lr: float, weight_decay: float
) -> torch.optim.AdamW:
    """AdamW over :func:`build_optimizer_param_groups`, fused where the device supports it."""
    groups = build_optimizer_param_groups(model, lr, head_lr, weight_decay)
    device = next(getattr(model, "module", model).parameters()).device
    return torch.optim.AdamW(groups, lr=lr, fused=fused_adamw_supported(device))
