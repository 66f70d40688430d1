"""One training step: forward and backward of each micro-batch, then the optimizer update.

The negatives of a micro-batch are chosen here (:mod:`binder_core.model.negatives`): a sample of the
unlabelled candidates, drawn from a generator seeded by (seed, step, micro-batch, rank) so a
resumed run draws the same sample, and, after a warm-up, without the candidates the model
already scores confidently above its threshold.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import torch
from torch import nn

from binder_core.data.collate import Batch
from binder_core.model.bi_encoder import BinderModel, Scores
from binder_core.model.config import LossWeights
from binder_core.model.device import autocast_context
from binder_core.model.losses import binder_loss
from binder_core.model.negatives import exclude_confident, sample_negatives
from binder_core.model.type_inputs import TypeInputs


class TrainStep(nn.Module):
    """Types and windows in one forward, so DDP sees every parameter of the step."""

    def __init__(self, model: BinderModel) -> None:
        super().__init__()
        self.model = model

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        type_input_ids: torch.Tensor,
        type_attention_mask: torch.Tensor,
    ) -> Scores:
        types = self.model.encode_types(type_input_ids, type_attention_mask)
        return self.model(input_ids, attention_mask, types)


@dataclass(frozen=True)
class NegativePolicy:
    """Which unlabelled candidates are negatives in a step (:mod:`binder_core.model.negatives`)."""

    rate: float = 1.0  # share of unlabelled span cells kept as negatives
    confident_margin: float | None = None  # exclude negatives this far above the threshold
    confident_from_step: int = 0  # optimizer step from which exclusion applies
    seed: int = 0

    def sample(self, batch: Batch, step: int, micro: int, rank: int) -> Batch:
        if self.rate >= 1.0:
            return batch
        generator = torch.Generator(device=batch["span_mask"].device)
        generator.manual_seed(((self.seed * 1_000_003 + step) * 1009 + micro) * 131 + rank)
        return sample_negatives(batch, self.rate, generator)

    def exclude(self, scores: Scores, batch: Batch, step: int) -> Batch:
        if self.confident_margin is None or step < self.confident_from_step:
            return batch
        return exclude_confident(scores, batch, self.confident_margin)


def forward_backward(
    step_module: nn.Module,
    batch: Batch,
    types: TypeInputs,
    *,
    weights: LossWeights,
    negatives: NegativePolicy,
    step: int,
    micro: int,
    rank: int,
    device: torch.device,
    amp_dtype: torch.dtype | None,
    scaler: torch.amp.GradScaler | None,
    grad_accumulation: int,
    sync: bool,
) -> float:
    """Loss of one micro-batch of optimizer step ``step``, backpropagated (scaled by
    1 / grad_accumulation). Under DDP, gradients are synchronized only when ``sync``."""
    batch = {k: v.to(device, non_blocking=True) for k, v in batch.items()}
    batch = negatives.sample(batch, step, micro, rank)
    no_sync = getattr(step_module, "no_sync", None)
    context = no_sync() if (no_sync is not None and not sync) else contextlib.nullcontext()
    with context:
        with autocast_context(device, amp_dtype):
            scores = step_module(
                batch["input_ids"],
                batch["attention_mask"],
                types.type_input_ids.to(device),
                types.type_attention_mask.to(device),
            )
        batch = negatives.exclude(scores, batch, step)
        loss = binder_loss(scores, batch, weights).total
        scaled = loss / grad_accumulation
        if scaler is not None:
            scaler.scale(scaled).backward()
        else:
            scaled.backward()
    return float(loss.detach())


def optimizer_step(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler,
    scaler: torch.amp.GradScaler | None,
    *,
    max_grad_norm: float,
    grad_scale: float,
) -> None:
    """Scale (a short last accumulation), unscale, clip, step, schedule, zero the gradients."""
    if grad_scale != 1.0:
        for p in model.parameters():
            if p.grad is not None:
                p.grad.mul_(grad_scale)
    if scaler is not None:
        scaler.unscale_(optimizer)
    if max_grad_norm > 0:
        nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)
    if scaler is not None:
        scaler.step(optimizer)
        scaler.update()
    else:
        optimizer.step()
    scheduler.step()
    optimizer.zero_grad(set_to_none=True)
