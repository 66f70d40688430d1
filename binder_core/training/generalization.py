"""Options that make a model trained on dictionary labels generalize instead of memorize.

On a new domain a model trained on silver labels can copy its dictionary (silver dev F1 0.82-0.90
while its gold F1 stays below the dictionary's): it learns surface forms, not context. The
options here each act against that, and each is off by default:

- mention replacement and masking (:mod:`binder_core.data.mentions`), built by
  :func:`mention_augmenter` for the training data set;
- a pass budget (:func:`step_budget`): at most ``max_passes`` passes over the training windows,
  so a small corpus is not seen 30 times because a step count was chosen for a large one;
- an anchor on the encoders (:func:`pull_towards`): decoupled L2 towards the pretrained
  weights (L2-SP), applied like AdamW's weight decay but towards ``w0`` instead of zero:
  ``w <- w - lr_t * anchor * (w - w0)``, so the encoders keep more of what pretraining
  taught them about context.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import nn

from binder_core.contract.errors import ConfigError
from binder_core.data.mentions import MentionAugmenter

Anchors = list[tuple[nn.Parameter, torch.Tensor]]
ENCODER_PREFIXES = ("text_encoder.", "type_encoder.")


def step_budget(
    batches_per_epoch: int,
    grad_accumulation: int,
    *,
    epochs: int | None,
    max_steps: int | None,
    max_passes: float | None,
) -> int:
    """Optimizer steps: the least of ``epochs`` passes, ``max_steps``, and ``max_passes``
    passes (rounded up, at least one step); the limits that are None do not count.

    ``batches_per_epoch`` micro-batches make ``ceil(batches / grad_accumulation)`` steps a pass.
    """
    per_pass = math.ceil(batches_per_epoch / grad_accumulation)
    limits = []
    if epochs is not None:
        limits.append(epochs * per_pass)
    if max_steps is not None:
        limits.append(max_steps)
    if max_passes is not None:
        limits.append(max(1, math.ceil(max_passes * per_pass)))
    if not limits:
        raise ConfigError("give a step limit: epochs, max_steps or max_passes")
    return min(limits)


def encoder_anchors(model: nn.Module) -> Anchors:
    """Each trainable encoder parameter with a detached copy of its present value."""
    inner = getattr(model, "module", model)
    return [
        (param, param.detach().clone())
        for name, param in inner.named_parameters()
        if param.requires_grad and name.startswith(ENCODER_PREFIXES)
    ]


@torch.no_grad()
def pull_towards(anchors: Anchors, rate: float) -> None:
    """``w <- w - rate * (w - w0)`` for every (w, w0) of ``anchors``, in place."""
    if rate <= 0:
        return
    for param, anchor in anchors:
        param.lerp_(anchor.to(param.dtype), min(rate, 1.0))


def encoder_lr(optimizer: torch.optim.Optimizer) -> float:
    """The present learning rate of the encoders' parameter group."""
    for group in optimizer.param_groups:
        if group.get("name") == "encoder":
            return float(group["lr"])
    return float(optimizer.param_groups[0]["lr"])


def mention_augmenter(
    replace_rate: float,
    mask_rate: float,
    tokenizer: Any,
    terms: Mapping[str, Sequence[str]] | None,
    seed: int,
) -> MentionAugmenter | None:
    """The training data set's document transform, or None when both rates are 0.

    Masking writes the tokenizer's mask token (its unknown token when it has none).
    """
    if replace_rate <= 0 and mask_rate <= 0:
        return None
    if replace_rate > 0 and not terms:
        raise ConfigError(
            "mention replacement needs dictionary terms: give --mention-dictionary (or pass "
            "mention_terms to binder_core.training.loop.train)"
        )
    token = getattr(tokenizer, "mask_token", None) or getattr(tokenizer, "unk_token", None)
    return MentionAugmenter(
        terms=terms or {},
        replace_rate=replace_rate,
        mask_rate=mask_rate,
        mask_token=str(token or ""),
        seed=seed,
    )
