"""The BINDER contrastive losses, as pure functions of scores and masks.

Notation, for one window b and one type k: ``S`` are the scores over N positions (N = L tokens
for start/end, N = L*W flattened band cells (i, w), the span of tokens i..i+w, for spans),
index 0 is the ``[CLS]`` threshold (span cell (0, 0) flattens to 0), and

    l(S, p, A) = -log( exp(S_p) / sum_{a in A} exp(S_a) )          (p in A)

Neg(b, k) = candidates(b) minus gold(b, k) minus excluded(b, k) minus {CLS}: the non-gold
candidates. Excluded positions (spans marked *uncertain* in the data) are neither gold nor
negatives, so they never enter any denominator.

Masked cells are filled with the dtype's minimum before ``logsumexp`` (never
``log(mask + tiny)``), so they get exactly zero probability; lower-precision scores (fp16/bf16)
are upcast to float32 first. Rows with no candidates give finite losses and zero gradients.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor

from binder_core.model.config import LossWeights

if TYPE_CHECKING:
    from binder_core.model.bi_encoder import Scores

HEADS: tuple[str, ...] = ("start", "end", "span")


class LossOutput(NamedTuple):
    """``total`` is what to backpropagate; ``parts`` holds its scalar terms (for logging).

    parts keys: ``{start,end,span}_{mention,threshold}``, ``mention``, ``threshold``.
    """

    total: Tensor
    parts: dict[str, Tensor]


def _working_dtype(scores: Tensor) -> Tensor:
    """Upcast fp16/bf16 to float32 (keeps float32/float64 as they are, for gradcheck)."""
    if scores.dtype in (torch.float16, torch.bfloat16):
        return scores.float()
    return scores


def _not_cls(n: int, device: torch.device) -> Tensor:
    """(N,) bool, False at index 0 (the [CLS] threshold position)."""
    return torch.arange(n, device=device) != 0


def _negatives(gold: Tensor, candidates: Tensor, excluded: Tensor) -> Tensor:
    """Neg (B, K, N) bool: candidates (B, N) of the window minus gold, excluded and CLS."""
    not_cls = _not_cls(gold.size(-1), gold.device)
    return candidates.bool()[:, None, :] & ~gold.bool() & ~excluded.bool() & not_cls


def masked_logsumexp(x: Tensor, mask: Tensor) -> Tensor:
    """log sum_{n: mask[..., n]} exp(x[..., n]) over the last dim; -inf where the mask is empty.

    x (..., N) float, mask (..., N) bool -> (...). Masked cells get exactly zero weight and zero
    gradient; an empty row gives -inf with zero (not NaN) gradient.
    """
    filled = x.masked_fill(~mask, torch.finfo(x.dtype).min)
    lse = torch.logsumexp(filled, dim=-1)
    return lse.masked_fill(~mask.any(dim=-1), float("-inf"))


def _check(scores: Tensor, gold: Tensor, candidates: Tensor, excluded: Tensor) -> None:
    if scores.dim() != 3 or gold.shape != scores.shape or excluded.shape != scores.shape:
        raise ValueError(
            f"scores, gold and excluded must all be (B, K, N); got {tuple(scores.shape)}, "
            f"{tuple(gold.shape)}, {tuple(excluded.shape)}"
        )
    if candidates.shape != (scores.size(0), scores.size(2)):
        raise ValueError(
            f"candidates must be (B, N) = {(scores.size(0), scores.size(2))}, "
            f"got {tuple(candidates.shape)}"
        )


def mention_loss(scores: Tensor, gold: Tensor, candidates: Tensor, excluded: Tensor) -> Tensor:
    """Contrastive loss of each gold position against the threshold and the negatives.

    L_mention = 1/|M| * sum_{(b, k, p) in M} l(S_bk, p, {p} ∪ {CLS} ∪ Neg(b, k))
              = 1/|M| * sum softplus( logsumexp_{a in {CLS} ∪ Neg(b,k)} S_bka - S_bkp )

    where M = {(b, k, p): gold[b, k, p], p != 0}. Other gold positions of the same type are
    left out of the denominator. No gold anywhere -> 0 (with a zero gradient), not NaN.

    scores (B, K, N) float; gold (B, K, N) bool; candidates (B, N) bool; excluded (B, K, N)
    bool. Returns a scalar. Never materializes an |M| x N matrix: one logsumexp per (b, k).
    """
    _check(scores, gold, candidates, excluded)
    s = _working_dtype(scores)
    not_cls = _not_cls(s.size(-1), s.device)
    rest = _negatives(gold, candidates, excluded) | ~not_cls  # {CLS} ∪ Neg, never empty
    lse_rest = masked_logsumexp(s, rest)  # (B, K), finite
    per_position = F.softplus(lse_rest[..., None] - s)  # (B, K, N)
    is_gold = gold.bool() & not_cls
    total = per_position.masked_fill(~is_gold, 0.0).sum()
    return total / is_gold.sum().clamp(min=1)


def threshold_loss(scores: Tensor, gold: Tensor, candidates: Tensor, excluded: Tensor) -> Tensor:
    """Each window's [CLS] score must beat every non-gold candidate of the type.

    L_threshold = 1/(B*K) * sum_{b, k} l(S_bk, CLS, {CLS} ∪ Neg(b, k))
                = 1/(B*K) * sum softplus( logsumexp_{a in Neg(b,k)} S_bka - S_bk0 )

    A (b, k) with no negatives contributes 0 (and zero gradient). Shapes as in
    :func:`mention_loss`; returns a scalar.
    """
    _check(scores, gold, candidates, excluded)
    s = _working_dtype(scores)
    lse_neg = masked_logsumexp(s, _negatives(gold, candidates, excluded))  # (B, K)
    per_window_type = F.softplus(lse_neg - s[..., 0])  # (B, K)
    return per_window_type.sum() / max(per_window_type.numel(), 1)


def _flat_inputs(
    scores: Scores, batch: Mapping[str, Tensor], head: str
) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """(scores (B,K,N), gold (B,K,N), candidates (B,N), excluded (B,K,N)) for one head."""
    s = getattr(scores, head)
    gold = batch[f"{head}_labels"]
    candidates = batch[f"{head}_mask"]
    excluded = batch[f"{head}_uncertain"]
    if head == "span":  # band (B, K, L, W) -> (B, K, L*W); cell (0, 0) -> index 0
        return s.flatten(2), gold.flatten(2), candidates.flatten(1), excluded.flatten(2)
    return s, gold, candidates, excluded


def binder_loss(
    scores: Scores, batch: Mapping[str, Tensor], weights: LossWeights | None = None
) -> LossOutput:
    """The full BINDER objective.

    total = w_mention   * (w_start L_start + w_end L_end + w_span L_span)_mention
          + w_threshold * (w_start L_start + w_end L_end + w_span L_span)_threshold

    ``scores`` from :class:`binder_core.model.bi_encoder.BinderModel`; ``batch`` from
    ``binder_core.data.collate`` with ``{start,end,span}_{labels,mask,uncertain}``.
    """
    weights = weights or LossWeights()
    parts: dict[str, Tensor] = {}
    for head in HEADS:
        inputs = _flat_inputs(scores, batch, head)
        parts[f"{head}_mention"] = mention_loss(*inputs)
        parts[f"{head}_threshold"] = threshold_loss(*inputs)
    for kind in ("mention", "threshold"):
        parts[kind] = (
            weights.start * parts[f"start_{kind}"]
            + weights.end * parts[f"end_{kind}"]
            + weights.span * parts[f"span_{kind}"]
        )
    total = weights.mention * parts["mention"] + weights.threshold * parts["threshold"]
    return LossOutput(total=total, parts=parts)
