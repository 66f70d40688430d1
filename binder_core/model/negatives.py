"""Which unlabelled candidates count as negatives: pure functions on a training batch.

With silver labels, a candidate the dictionary did not match is not known to be a non-entity:
it is *unlabelled*. Treating every unlabelled candidate as a negative teaches the model that
the entities its dictionary misses are not entities, and the threshold loss's log-sum-exp over
negatives is dominated by exactly those entity-like spans. Two remedies, both expressed as
more *excluded* positions (the ``*_uncertain`` masks of :mod:`binder_core.data.collate`, which every
loss already leaves out of its denominators), so the losses themselves do not change:

- :func:`sample_negatives` keeps a random share of the unlabelled span cells as negatives
  (Li, Liu & Shi, ICLR 2021), drawn afresh each step. One draw serves every head and both
  losses: a start (end) token stays a negative only if a kept span cell starts (ends) there.
- :func:`exclude_confident` leaves out, for one step, the negatives that the model already
  scores above its own threshold by more than a margin: likely entities the dictionary missed
  (confidence-based exclusion, as in Conf-MPU, Zhou et al. 2022).

Gold positions are never excluded: the losses take positives from the ``*_labels`` masks, and a
position that is gold for a type is never one of that type's negatives.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import Tensor

from binder_core.model.bi_encoder import Scores

Batch = dict[str, Tensor]


def sample_negatives(batch: Mapping[str, Tensor], rate: float, generator: torch.Generator) -> Batch:
    """A copy of ``batch`` in which only a ``rate`` share of unlabelled span cells are negatives.

    A cell (b, i, w) is *unlabelled* when it is a candidate (``span_mask``), gold for no type,
    and overlaps no labelled span of its window. A candidate that overlaps a labelled span
    (a boundary error such as "acute renal" next to "renal failure") is a known negative and is
    always kept. Each unlabelled cell is kept with probability ``rate`` (one Bernoulli draw per
    window and cell, shared by all types); the others join ``span_uncertain`` for every type.
    Token i stays a start negative only where a kept cell starts at i or a labelled span covers
    it, token j an end negative likewise; other candidate tokens that are gold for no type join
    ``*_uncertain``. ``rate >= 1`` returns the batch unchanged.

    Draws on ``generator`` (on the batch's device), so the sample is reproducible per step.
    """
    if rate >= 1.0:
        return dict(batch)
    if not rate >= 0.0:
        raise ValueError(f"negative sampling rate must be in [0, 1], got {rate}")
    span_mask = batch["span_mask"]  # (B, L, W)
    B, L, W = span_mask.shape
    gold_cell = batch["span_labels"].any(dim=1)  # (B, L, W)
    covered = _covered_tokens(gold_cell)  # (B, L): inside some labelled span
    overlapping = _overlapping_cells(covered, W)
    unlabelled = span_mask & ~gold_cell & ~overlapping
    draw = torch.rand((B, L, W), generator=generator, device=span_mask.device)
    kept = unlabelled & (draw < rate)  # (B, L, W)
    negative = kept | (span_mask & ~gold_cell & overlapping)  # the cells that stay negatives

    kept_start = negative.any(dim=2) | covered  # (B, L)
    kept_end = covered.clone()
    for w in range(min(W, L)):  # cell (i, w) ends at token i + w
        kept_end[:, w:] |= negative[:, : L - w, w]

    out = dict(batch)
    out["span_uncertain"] = batch["span_uncertain"] | (unlabelled & ~kept)[:, None]
    for head, keep in (("start", kept_start), ("end", kept_end)):
        gold_token = batch[f"{head}_labels"].any(dim=1)  # (B, L)
        dropped = batch[f"{head}_mask"] & ~gold_token & ~keep  # (B, L)
        out[f"{head}_uncertain"] = batch[f"{head}_uncertain"] | dropped[:, None]
    return out


def _covered_tokens(cells: Tensor) -> Tensor:
    """(B, L) bool: tokens inside a span of ``cells`` (B, L, W), cell (i, w) = tokens i..i+w."""
    B, L = cells.shape[:2]
    depth = torch.zeros((B, L + 1), dtype=torch.int32, device=cells.device)
    b, i, w = cells.nonzero(as_tuple=True)
    ones = torch.ones_like(b, dtype=torch.int32)
    depth.index_put_((b, i), ones, accumulate=True)
    depth.index_put_((b, (i + w + 1).clamp(max=L)), -ones, accumulate=True)
    return depth.cumsum(dim=1)[:, :L] > 0


def _overlapping_cells(covered: Tensor, width: int) -> Tensor:
    """(B, L, W) bool: band cells that hold at least one ``covered`` (B, L) token."""
    B, L = covered.shape
    count = torch.zeros((B, L + 1), dtype=torch.int32, device=covered.device)
    count[:, 1:] = covered.int().cumsum(dim=1)  # count[:, t] = covered tokens before t
    positions = torch.arange(L, device=covered.device)
    ends = (positions[:, None] + torch.arange(width, device=covered.device)).clamp(max=L - 1)
    inside = count[:, ends + 1] - count[:, positions][:, :, None]  # (B, L, W)
    return inside > 0


def exclude_confident(scores: Scores, batch: Mapping[str, Tensor], margin: float) -> Batch:
    """A copy of ``batch`` in which negatives scored above their threshold by ``margin`` or
    more are excluded, per head and type.

    scores from the model (start/end (B, K, L), span (B, K, L, W); index 0 / cell (0, 0) is
    each (window, type)'s threshold). Only non-gold candidates are excluded; the scores are read
    without gradient.
    """
    out = dict(batch)
    for head in ("start", "end", "span"):
        s = getattr(scores, head).detach()
        flat = s.flatten(2)  # (B, K, N)
        threshold = flat[..., :1]  # (B, K, 1)
        above = (flat - threshold > margin).view_as(s)
        candidates = batch[f"{head}_mask"][:, None]  # (B, 1, L[, W])
        confident = above & candidates & ~batch[f"{head}_labels"]
        if head == "span":
            confident[..., 0, 0] = False
        else:
            confident[..., 0] = False
        out[f"{head}_uncertain"] = batch[f"{head}_uncertain"] | confident
    return out
