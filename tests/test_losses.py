"""BINDER losses against hand-worked values, gradcheck, masking in fp16/bf16, edge cases."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest
import torch
from torch import Tensor

from binder_core.model.bi_encoder import Scores
from binder_core.model.config import LossWeights
from binder_core.model.losses import binder_loss, masked_logsumexp, mention_loss, threshold_loss

LossFn = Callable[[Tensor, Tensor, Tensor, Tensor], Tensor]

# One window (B = 1), one type (K = 1), N = 4 positions: index 0 is [CLS], 1..3 are candidates.
# Scores are logs, so exp(S) = [2, 4, 1, 3] and every softmax below is a ratio of integers.
EXP_SCORES = [2.0, 4.0, 1.0, 3.0]


def _scores(dtype: torch.dtype = torch.float64) -> torch.Tensor:
    return torch.tensor(EXP_SCORES, dtype=torch.float64).log().to(dtype).view(1, 1, 4)


def _bool(values: list[int], n: int = 4) -> torch.Tensor:
    mask = torch.zeros(n, dtype=torch.bool)
    mask[values] = True
    return mask


CANDIDATES = _bool([1, 2, 3]).view(1, 4)
NOTHING = torch.zeros(1, 1, 4, dtype=torch.bool)


def test_mention_loss_one_gold_matches_hand_value() -> None:
    # gold {1}; A = {1} ∪ {CLS} ∪ Neg{2, 3}: -log(4 / (4 + 2 + 1 + 3)) = -log(0.4) = log(2.5)
    gold = _bool([1]).view(1, 1, 4)
    loss = mention_loss(_scores(), gold, CANDIDATES, NOTHING)
    assert loss.item() == pytest.approx(math.log(2.5), abs=1e-12)


def test_threshold_loss_one_gold_matches_hand_value() -> None:
    # A = {CLS} ∪ Neg{2, 3}: -log(2 / (2 + 1 + 3)) = log(3)
    gold = _bool([1]).view(1, 1, 4)
    loss = threshold_loss(_scores(), gold, CANDIDATES, NOTHING)
    assert loss.item() == pytest.approx(math.log(3.0), abs=1e-12)


def test_mention_loss_two_golds_leave_each_other_out_of_denominator() -> None:
    # gold {1, 3}, Neg {2}:
    #   p = 1: -log(4 / (4 + 2 + 1)) = log(7/4);  p = 3: -log(3 / (3 + 2 + 1)) = log(2)
    #   mean = (log(1.75) + log(2)) / 2
    gold = _bool([1, 3]).view(1, 1, 4)
    loss = mention_loss(_scores(), gold, CANDIDATES, NOTHING)
    assert loss.item() == pytest.approx((math.log(1.75) + math.log(2.0)) / 2, abs=1e-12)
    # threshold: -log(2 / (2 + 1)) = log(1.5)
    t = threshold_loss(_scores(), gold, CANDIDATES, NOTHING)
    assert t.item() == pytest.approx(math.log(1.5), abs=1e-12)


def test_mention_loss_averages_over_gold_of_all_windows_and_types() -> None:
    # Window 0 / type 0: gold {1}, as above -> log(2.5). Window 1 / type 0: gold {1, 3} ->
    # log(1.75) and log(2). Type 1 has no gold anywhere. Mean over the 3 gold positions.
    scores = _scores().expand(2, 2, 4).clone()
    gold = torch.zeros(2, 2, 4, dtype=torch.bool)
    gold[0, 0, 1] = True
    gold[1, 0, 1] = gold[1, 0, 3] = True
    candidates = CANDIDATES.expand(2, 4)
    loss = mention_loss(scores, gold, candidates, torch.zeros_like(gold))
    expected = (math.log(2.5) + math.log(1.75) + math.log(2.0)) / 3
    assert loss.item() == pytest.approx(expected, abs=1e-12)


def test_excluded_position_equals_removing_the_candidate() -> None:
    # gold {1}, position 3 uncertain: mention -log(4 / (4 + 2 + 1)) = log(1.75),
    # threshold -log(2 / (2 + 1)) = log(1.5); identical to dropping 3 from the candidates.
    gold = _bool([1]).view(1, 1, 4)
    excluded = _bool([3]).view(1, 1, 4)
    without_3 = _bool([1, 2]).view(1, 4)
    s = _scores()
    m = mention_loss(s, gold, CANDIDATES, excluded)
    t = threshold_loss(s, gold, CANDIDATES, excluded)
    assert m.item() == pytest.approx(math.log(1.75), abs=1e-12)
    assert t.item() == pytest.approx(math.log(1.5), abs=1e-12)
    assert torch.equal(m, mention_loss(s, gold, without_3, NOTHING))
    assert torch.equal(t, threshold_loss(s, gold, without_3, NOTHING))


def test_excluded_position_gets_zero_gradient() -> None:
    s = _scores().requires_grad_(True)
    gold = _bool([1]).view(1, 1, 4)
    excluded = _bool([3]).view(1, 1, 4)
    total = mention_loss(s, gold, CANDIDATES, excluded) + threshold_loss(
        s, gold, CANDIDATES, excluded
    )
    total.backward()
    assert s.grad is not None
    assert s.grad[0, 0, 3].item() == 0.0
    assert s.grad[0, 0, 2].item() != 0.0


def test_mention_loss_without_gold_is_zero_with_zero_gradient() -> None:
    s = _scores().requires_grad_(True)
    loss = mention_loss(s, NOTHING, CANDIDATES, NOTHING)
    loss.backward()
    assert loss.item() == 0.0
    assert s.grad is not None
    assert torch.equal(s.grad, torch.zeros_like(s))


def test_losses_with_no_candidates_are_finite_with_zero_gradient() -> None:
    # A padding-only window: no candidates. Threshold: A = {CLS} -> -log(1) = 0.
    s = _scores().requires_grad_(True)
    none = torch.zeros(1, 4, dtype=torch.bool)
    total = mention_loss(s, NOTHING, none, NOTHING) + threshold_loss(s, NOTHING, none, NOTHING)
    total.backward()
    assert total.item() == 0.0
    assert s.grad is not None
    assert torch.equal(s.grad, torch.zeros_like(s))


def test_masked_logsumexp_empty_row_is_minus_inf_with_zero_gradient() -> None:
    x = torch.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=torch.float64, requires_grad=True)
    mask = torch.tensor([[True, False], [False, False]])
    out = masked_logsumexp(x, mask)
    assert out[0].item() == 1.0
    assert out[1].item() == float("-inf")
    out[0].backward()
    assert x.grad is not None
    assert x.grad.tolist() == [[1.0, 0.0], [0.0, 0.0]]


def _random_inputs(seed: int) -> tuple[torch.Tensor, ...]:
    g = torch.Generator().manual_seed(seed)
    b, k, n = 2, 3, 7
    scores = torch.randn(b, k, n, generator=g, dtype=torch.float64)
    candidates = torch.rand(b, n, generator=g) < 0.7
    candidates[:, 0] = False
    candidates[1] = False  # one window without candidates
    gold = (torch.rand(b, k, n, generator=g) < 0.3) & candidates[:, None, :]
    excluded = (torch.rand(b, k, n, generator=g) < 0.2) & ~gold
    return scores, gold, candidates, excluded


@pytest.mark.parametrize("loss_fn", [mention_loss, threshold_loss])
def test_losses_pass_gradcheck_in_float64(loss_fn: LossFn) -> None:
    scores, gold, candidates, excluded = _random_inputs(0)
    assert gold.any()
    scores.requires_grad_(True)
    assert torch.autograd.gradcheck(
        lambda s: loss_fn(s, gold, candidates, excluded), (scores,), eps=1e-6, atol=1e-8
    )


def _reference_loss(scores: Tensor, gold: Tensor, candidates: Tensor, excluded: Tensor) -> float:
    """Mention + threshold by explicit sets, in float64, one (b, k, p) at a time."""
    s = scores.double()
    b_n, k_n, n = s.shape
    mention_terms, threshold_terms = [], []
    for b in range(b_n):
        for k in range(k_n):
            neg = [
                a
                for a in range(1, n)
                if candidates[b, a] and not gold[b, k, a] and not excluded[b, k, a]
            ]
            for p in range(1, n):
                if gold[b, k, p]:
                    denominator = torch.logsumexp(s[b, k, [p, 0, *neg]], dim=0)
                    mention_terms.append((denominator - s[b, k, p]).item())
            denominator = torch.logsumexp(s[b, k, [0, *neg]], dim=0)
            threshold_terms.append((denominator - s[b, k, 0]).item())
    mention = sum(mention_terms) / max(len(mention_terms), 1)
    return mention + sum(threshold_terms) / len(threshold_terms)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_losses_in_half_precision_give_masked_cells_zero_probability(dtype: torch.dtype) -> None:
    # Large scores at non-candidate cells would dominate the softmax if masking leaked.
    scores, gold, candidates, excluded = _random_inputs(1)
    scores = scores * 4
    scores[~candidates[:, None, :].expand_as(scores)] = 60.0
    scores[..., 0] = 0.5  # the [CLS] threshold is always part of the softmax
    scores[excluded] = 60.0
    half = scores.to(dtype).requires_grad_(True)
    total = mention_loss(half, gold, candidates, excluded) + threshold_loss(
        half, gold, candidates, excluded
    )
    total.backward()
    assert half.grad is not None
    masked = ~candidates[:, None, :].expand_as(gold) | excluded
    masked[..., 0] = False
    assert torch.equal(half.grad[masked], torch.zeros_like(half.grad[masked]))
    expected = _reference_loss(half.detach(), gold, candidates, excluded)
    assert total.item() == pytest.approx(expected, rel=1e-5)


def _window_batch(k: int = 1) -> dict[str, torch.Tensor]:
    """One window [CLS] t1 t2 (L = 3), both tokens whole words; gold span (1, 2) of type 0.

    Spans are in the band of width W = 2: span (i, j) at [i, j - i].
    """
    length, width = 3, 2
    token = torch.tensor([[False, True, True]])
    span_mask = torch.zeros(1, length, width, dtype=torch.bool)
    for i, j in [(1, 1), (1, 2), (2, 2)]:
        span_mask[0, i, j - i] = True
    start_labels = torch.zeros(1, k, length, dtype=torch.bool)
    end_labels = torch.zeros(1, k, length, dtype=torch.bool)
    span_labels = torch.zeros(1, k, length, width, dtype=torch.bool)
    start_labels[0, 0, 1] = end_labels[0, 0, 2] = span_labels[0, 0, 1, 1] = True
    return {
        "start_mask": token,
        "end_mask": token,
        "span_mask": span_mask,
        "start_labels": start_labels,
        "end_labels": end_labels,
        "span_labels": span_labels,
        "start_uncertain": torch.zeros_like(start_labels),
        "end_uncertain": torch.zeros_like(end_labels),
        "span_uncertain": torch.zeros_like(span_labels),
    }


def test_binder_loss_matches_hand_value_with_uniform_scores() -> None:
    # All scores 0, so every softmax is uniform and l = log|A|:
    #   start: gold {1}, Neg {2}:            mention log 3 ({1, CLS, 2}), threshold log 2
    #   end:   gold {2}, Neg {1}:            mention log 3,              threshold log 2
    #   span:  gold (1,2), Neg {(1,1),(2,2)}: mention log 4,             threshold log 3
    # total = 0.5 (0.2 log3 + 0.2 log3 + 0.6 log4) + 0.5 (0.2 log2 + 0.2 log2 + 0.6 log3)
    #       = 0.5 (log 3 + 1.6 log 2)
    batch = _window_batch()
    scores = Scores(
        start=torch.zeros(1, 1, 3, dtype=torch.float64),
        end=torch.zeros(1, 1, 3, dtype=torch.float64),
        span=torch.zeros(1, 1, 3, 2, dtype=torch.float64),
    )
    out = binder_loss(scores, batch, LossWeights())
    assert out.total.item() == pytest.approx(0.5 * (math.log(3) + 1.6 * math.log(2)), abs=1e-12)
    assert out.parts["span_mention"].item() == pytest.approx(math.log(4), abs=1e-12)
    assert out.parts["span_threshold"].item() == pytest.approx(math.log(3), abs=1e-12)
    assert out.parts["start_threshold"].item() == pytest.approx(math.log(2), abs=1e-12)
    assert set(out.parts) == {
        "start_mention",
        "end_mention",
        "span_mention",
        "start_threshold",
        "end_threshold",
        "span_threshold",
        "mention",
        "threshold",
    }


def test_binder_loss_weights_are_applied() -> None:
    # Only the span threshold term: weight span = 1, threshold = 1 -> log 3.
    batch = _window_batch()
    scores = Scores(
        start=torch.zeros(1, 1, 3), end=torch.zeros(1, 1, 3), span=torch.zeros(1, 1, 3, 2)
    )
    weights = LossWeights(start=0.0, end=0.0, span=1.0, mention=0.0, threshold=1.0)
    assert binder_loss(scores, batch, weights).total.item() == pytest.approx(math.log(3))


def test_binder_loss_uncertain_span_is_not_a_negative() -> None:
    # Span (2, 2) uncertain: span Neg = {(1, 1)}: mention log 3, threshold log 2.
    batch = _window_batch()
    batch["span_uncertain"][0, 0, 2, 0] = True  # span (2, 2)
    scores = Scores(
        start=torch.zeros(1, 1, 3), end=torch.zeros(1, 1, 3), span=torch.zeros(1, 1, 3, 2)
    )
    out = binder_loss(scores, batch)
    assert out.parts["span_mention"].item() == pytest.approx(math.log(3))
    assert out.parts["span_threshold"].item() == pytest.approx(math.log(2))


def test_mention_loss_rejects_mismatched_shapes() -> None:
    with pytest.raises(ValueError, match="candidates must be"):
        mention_loss(_scores(), NOTHING, torch.ones(1, 3, dtype=torch.bool), NOTHING)


@pytest.mark.parametrize("seed", [2, 3, 4, 5])
def test_losses_match_the_explicit_set_definition(seed: int) -> None:
    scores, gold, candidates, excluded = _random_inputs(seed)
    total = mention_loss(scores, gold, candidates, excluded) + threshold_loss(
        scores, gold, candidates, excluded
    )
    assert total.item() == pytest.approx(_reference_loss(scores, gold, candidates, excluded))
