"""Negative sampling and confidence-based exclusion: hand-made batches, exact masks."""

from __future__ import annotations

import pytest
import torch

from binder_core.model.bi_encoder import Scores
from binder_core.model.losses import binder_loss
from binder_core.model.negatives import exclude_confident, sample_negatives


def _batch() -> dict[str, torch.Tensor]:
    """One window of 5 tokens ([CLS] a b c [SEP]), band W = 3, K = 2 types.

    Candidates: every content token starts and ends a word. Gold: type 0 is tokens 1..2 (cell
    (1, 1)); nothing is uncertain.
    """
    B, K, L, W = 1, 2, 5, 3
    start_mask = torch.tensor([[False, True, True, True, False]])
    end_mask = start_mask.clone()
    ends = torch.arange(L)[:, None] + torch.arange(W)
    span_mask = start_mask[:, :, None] & end_mask[:, ends.clamp(max=L - 1)] & (ends < L)
    span_labels = torch.zeros((B, K, L, W), dtype=torch.bool)
    span_labels[0, 0, 1, 1] = True
    start_labels = torch.zeros((B, K, L), dtype=torch.bool)
    start_labels[0, 0, 1] = True
    end_labels = torch.zeros((B, K, L), dtype=torch.bool)
    end_labels[0, 0, 2] = True
    return {
        "start_mask": start_mask,
        "end_mask": end_mask,
        "span_mask": span_mask,
        "start_labels": start_labels,
        "end_labels": end_labels,
        "span_labels": span_labels,
        "start_uncertain": torch.zeros((B, K, L), dtype=torch.bool),
        "end_uncertain": torch.zeros((B, K, L), dtype=torch.bool),
        "span_uncertain": torch.zeros((B, K, L, W), dtype=torch.bool),
    }


def _negatives(batch: dict[str, torch.Tensor], head: str) -> torch.Tensor:
    """(K, N) negatives as the losses see them: candidates minus gold, excluded and [CLS]."""
    mask = batch[f"{head}_mask"][0].flatten()
    gold = batch[f"{head}_labels"][0].flatten(1)
    excluded = batch[f"{head}_uncertain"][0].flatten(1)
    negatives = mask & ~gold & ~excluded
    negatives[:, 0] = False
    return negatives


def test_sample_negatives_rate_one_keeps_every_negative() -> None:
    batch = _batch()
    out = sample_negatives(batch, 1.0, torch.Generator().manual_seed(0))
    for name, value in batch.items():
        assert torch.equal(out[name], value)


def _batch_with_free_text() -> dict[str, torch.Tensor]:
    """_batch() with 3 more content tokens (positions 4..6, [SEP] at 7) that no span touches."""
    B, K, L, W = 1, 2, 8, 3
    start_mask = torch.tensor([[False, True, True, True, True, True, True, False]])
    ends = torch.arange(L)[:, None] + torch.arange(W)
    span_mask = start_mask[:, :, None] & start_mask[:, ends.clamp(max=L - 1)] & (ends < L)
    batch = _batch()
    out = {"start_mask": start_mask, "end_mask": start_mask.clone(), "span_mask": span_mask}
    for name in ("start_labels", "end_labels", "start_uncertain", "end_uncertain"):
        grown = torch.zeros((B, K, L), dtype=torch.bool)
        grown[..., :5] = batch[name]
        out[name] = grown
    for name in ("span_labels", "span_uncertain"):
        grown = torch.zeros((B, K, L, W), dtype=torch.bool)
        grown[..., :5, :] = batch[name]
        out[name] = grown
    return out


def test_sample_negatives_rate_zero_keeps_only_known_negatives() -> None:
    # tokens 1..2 are a Chemical; every cell touching them is a boundary negative (kept), the
    # cells of tokens 3..6 that touch no labelled span are unlabelled (all dropped at rate 0)
    batch = _batch_with_free_text()
    out = sample_negatives(batch, 0.0, torch.Generator().manual_seed(0))
    negatives = _negatives(out, "span").view(2, 8, 3)
    # type 0: the boundary cells (1,0) (1,2) (2,0) (2,1) (2,2); type 1 also type 0's gold cell
    assert negatives[0].nonzero().tolist() == [[1, 0], [1, 2], [2, 0], [2, 1], [2, 2]]
    assert negatives[1].nonzero().tolist() == [[1, 0], [1, 1], [1, 2], [2, 0], [2, 1], [2, 2]]
    # start negatives: the covered tokens 1 and 2 (kept cells start nowhere else), minus type
    # 0's own gold start 1; ends: covered 1 and 2 and the ends 3 and 4 of boundary cells
    assert _negatives(out, "start")[0].nonzero().flatten().tolist() == [2]
    assert _negatives(out, "start")[1].nonzero().flatten().tolist() == [1, 2]
    assert _negatives(out, "end")[0].nonzero().flatten().tolist() == [1, 3, 4]
    assert _negatives(out, "end")[1].nonzero().flatten().tolist() == [1, 2, 3, 4]
    for head in ("start", "end", "span"):
        assert torch.equal(out[f"{head}_labels"], batch[f"{head}_labels"])


def test_sample_negatives_token_negatives_follow_the_kept_cells() -> None:
    batch = _batch_with_free_text()
    boundary = {(1, 0), (1, 2), (2, 0), (2, 1), (2, 2)}
    for seed in range(30):
        out = sample_negatives(batch, 0.5, torch.Generator().manual_seed(seed))
        kept = {(i, w) for i, w in (~out["span_uncertain"][0, 0] & batch["span_mask"][0])
                .nonzero().tolist()} - {(1, 1)}  # fmt: skip
        assert boundary <= kept  # boundary cells are always negatives
        assert torch.equal(out["span_uncertain"][0, 0], out["span_uncertain"][0, 1])
        for i in range(3, 7):
            starts_here = any(c[0] == i for c in kept)
            assert bool(out["start_uncertain"][0, 0, i]) == (not starts_here), (seed, i)
        for j in range(3, 7):
            ends_here = any(c[0] + c[1] == j for c in kept)
            assert bool(out["end_uncertain"][0, 0, j]) == (not ends_here), (seed, j)


def test_sample_negatives_is_reproducible_and_varies_by_seed() -> None:
    batch = _batch()
    first = sample_negatives(batch, 0.5, torch.Generator().manual_seed(3))
    again = sample_negatives(batch, 0.5, torch.Generator().manual_seed(3))
    assert all(torch.equal(first[k], again[k]) for k in first)
    draws = {
        tuple(sample_negatives(batch, 0.5, torch.Generator().manual_seed(s))["span_uncertain"]
              .flatten().tolist())
        for s in range(10)
    }  # fmt: skip
    assert len(draws) > 1
    with pytest.raises(ValueError, match="rate"):
        sample_negatives(batch, -0.1, torch.Generator())


def test_exclude_confident_drops_negatives_above_the_threshold_by_the_margin() -> None:
    batch = _batch()
    start = torch.zeros((1, 2, 5))
    start[0, :, 0] = 1.0  # thresholds
    start[0, 1, 2] = 3.5  # type 1, token 2: 2.5 above its threshold -> excluded at margin 2
    start[0, 1, 3] = 2.5  # 1.5 above: kept
    start[0, 0, 1] = 9.0  # gold for type 0: never excluded
    start[0, 0, 4] = 9.0  # [SEP]: not a candidate, nothing to exclude
    span = torch.zeros((1, 2, 5, 3))
    span[0, 0, 3, 0] = 5.0  # type 0, cell (3, 0): 5 above the threshold 0
    scores = Scores(start=start, end=torch.zeros((1, 2, 5)), span=span)
    out = exclude_confident(scores, batch, margin=2.0)
    assert out["start_uncertain"][0].nonzero().tolist() == [[1, 2]]
    assert out["span_uncertain"][0].nonzero().tolist() == [[0, 3, 0]]
    assert not out["end_uncertain"].any()


def test_excluded_negatives_leave_the_losses() -> None:
    # the exclusion masks are exactly what the losses leave out: the loss over a batch whose
    # unlabelled candidates are all dropped equals the loss over the same scores computed with
    # only the remaining candidates in the candidate masks
    batch = _batch_with_free_text()
    torch.manual_seed(0)
    scores = Scores(
        start=torch.randn((1, 2, 8)), end=torch.randn((1, 2, 8)), span=torch.randn((1, 2, 8, 3))
    )
    excluded = sample_negatives(batch, 0.0, torch.Generator().manual_seed(0))
    removed = dict(batch)
    for head in ("start", "end", "span"):
        still = ~excluded[f"{head}_uncertain"][:, 0] | excluded[f"{head}_labels"].any(dim=1)
        removed[f"{head}_mask"] = batch[f"{head}_mask"] & still
    assert binder_loss(scores, excluded).total.item() == pytest.approx(
        binder_loss(scores, removed).total.item()
    )
