"""Decoding with hand-set scores: threshold, width limit, window union, flat vs nested."""

from __future__ import annotations

import itertools

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from binder_core.inference.decoding import (
    SpanPrediction,
    decode_batch,
    decode_batch_vectors,
    decode_flat,
    decode_nested,
    decode_window,
    merge_windows,
)

# Text "aspirin renal failure" -> tokens [CLS] aspirin renal failure [SEP]
OFFSETS = torch.tensor([[0, 0], [0, 7], [8, 13], [14, 21], [0, 0]])
LABELS = ("Chemical", "Disease")
W = 3  # band width: span (i, j) lives at [i, j - i]


def _mask() -> torch.Tensor:
    """Word-aligned spans i <= j over tokens 1..3, as a (L, W) band."""
    mask = torch.zeros(5, W, dtype=torch.bool)
    for i in range(1, 4):
        for j in range(i, 4):
            mask[i, j - i] = True
    return mask


def _scores(threshold: tuple[float, float] = (1.0, 1.0)) -> torch.Tensor:
    """(K, L, W) band scores, all -5 but the thresholds at cell (0, 0)."""
    scores = torch.full((2, 5, W), -5.0)
    scores[0, 0, 0], scores[1, 0, 0] = threshold
    return scores


def test_decode_window_keeps_spans_above_the_threshold() -> None:
    scores = _scores(threshold=(1.0, 2.0))
    scores[0, 1, 0] = 3.0  # Chemical (1, 1) "aspirin": margin 2.0
    scores[1, 2, 1] = 2.5  # Disease (2, 3) "renal failure": margin 0.5
    scores[1, 3, 0] = 2.0  # Disease (3, 3) "failure": equal to the threshold -> not predicted
    scores[0, 2, 1] = 0.5  # Chemical (2, 3) "renal failure": below its threshold
    assert decode_window(scores, _mask(), OFFSETS, LABELS) == [
        SpanPrediction(0, 7, "Chemical", 2.0),
        SpanPrediction(8, 21, "Disease", 0.5),
    ]


def test_decode_window_maps_start_and_width_to_characters() -> None:
    # Cell (i, w) is tokens i..i+w: its characters run from token i's start to token i+w's end.
    expected = {
        (1, 0): (0, 7),  # aspirin
        (1, 1): (0, 13),  # aspirin renal
        (1, 2): (0, 21),  # aspirin renal failure
        (2, 0): (8, 13),  # renal
        (2, 1): (8, 21),  # renal failure
        (3, 0): (14, 21),  # failure
    }
    for (i, w), (start, end) in expected.items():
        scores = _scores()
        scores[1, i, w] = 4.0
        assert decode_window(scores, _mask(), OFFSETS, LABELS) == [
            SpanPrediction(start, end, "Disease", 3.0)
        ]


def test_decode_window_ignores_non_candidates_and_cls() -> None:
    scores = _scores()
    scores[0, 0, 0] = -1.0  # every candidate of type 0 (-5) stays below it
    scores[0, 3, 1] = 9.0  # (3, 4) ends at [SEP]
    scores[0, 4, 0] = 9.0  # [SEP]
    scores[0, 0, 1] = 9.0  # starts at [CLS]
    scores[0, 4, 2] = 9.0  # past the window's end (i + w >= L)
    mask = _mask()
    mask[4, 2] = True  # even if a caller marks it
    assert decode_window(scores, mask, OFFSETS, LABELS) == []


def test_decode_window_respects_the_width_limit() -> None:
    scores = _scores()
    scores[1, 1, 2] = 4.0  # (1, 3): 3 tokens wide
    scores[1, 2, 1] = 3.0  # (2, 3): 2 tokens wide
    assert decode_window(scores, _mask(), OFFSETS, LABELS, max_span_width_tokens=2) == [
        SpanPrediction(8, 21, "Disease", 2.0)
    ]
    assert decode_window(scores, _mask(), OFFSETS, LABELS, max_span_width_tokens=3) == [
        SpanPrediction(0, 21, "Disease", 3.0),
        SpanPrediction(8, 21, "Disease", 2.0),
    ]


def test_decode_window_min_margin_raises_the_bar() -> None:
    scores = _scores()
    scores[0, 1, 0] = 3.0  # margin 2.0
    scores[1, 2, 1] = 1.5  # margin 0.5
    assert decode_window(scores, _mask(), OFFSETS, LABELS, min_margin=1.0) == [
        SpanPrediction(0, 7, "Chemical", 2.0)
    ]


def test_decode_window_uses_each_window_threshold() -> None:
    # Same span score 2.0 in two windows; only the window whose threshold is lower predicts it.
    low, high = _scores(threshold=(1.0, 1.0)), _scores(threshold=(3.0, 3.0))
    low[0, 1, 0] = high[0, 1, 0] = 2.0
    batch = torch.stack([low, high])
    masks = torch.stack([_mask(), _mask()])
    offsets = torch.stack([OFFSETS, OFFSETS])
    assert decode_batch(batch, masks, offsets, LABELS) == [
        [SpanPrediction(0, 7, "Chemical", 1.0)],
        [],
    ]


def test_decode_window_rejects_wrong_label_count() -> None:
    with pytest.raises(ValueError, match="1 labels for 2 types"):
        decode_window(_scores(), _mask(), OFFSETS, ("Chemical",))


def test_decode_window_rejects_a_mask_of_another_shape() -> None:
    with pytest.raises(ValueError, match=r"span_mask must be \(L, W\)"):
        decode_window(_scores(), torch.ones(5, 5, dtype=torch.bool), OFFSETS, LABELS)


def test_decode_batch_vectors_equals_decoding_the_dense_scores() -> None:
    # Scores from vectors: [b, k, i, w] = span[b, i, w] . types[k]; both paths agree exactly.
    torch.manual_seed(0)
    span = torch.nn.functional.normalize(torch.randn(2, 5, W, 8), dim=-1)
    types = torch.nn.functional.normalize(torch.randn(2, 8), dim=-1) * 4.0
    dense = torch.einsum("biwd,kd->bkiw", span, types)
    masks = torch.stack([_mask(), _mask()])
    offsets = torch.stack([OFFSETS, OFFSETS])
    expected = decode_batch(dense, masks, offsets, LABELS)
    assert sum(len(p) for p in expected) > 0
    for max_cells in (1, 5, 1 << 20):  # chunks of 1 cell, 2 cells, everything at once
        got = decode_batch_vectors(span, masks, types, offsets, LABELS, 3, 0.0, max_cells)
        assert [[p[:3] for p in window] for window in got] == [
            [p[:3] for p in window] for window in expected
        ]
        for window_got, window_expected in zip(got, expected, strict=True):
            for p, q in zip(window_got, window_expected, strict=True):
                assert p.score == pytest.approx(q.score, abs=1e-5)


def test_decode_batch_vectors_without_candidates_is_empty() -> None:
    span = torch.zeros(1, 5, W, 4)
    got = decode_batch_vectors(
        span, torch.zeros(1, 5, W, dtype=torch.bool), torch.ones(2, 4), OFFSETS[None], LABELS
    )
    assert got == [[]]


def test_merge_windows_keeps_best_score_per_span_and_label() -> None:
    window_a = [SpanPrediction(8, 21, "Disease", 0.5), SpanPrediction(0, 7, "Chemical", 2.0)]
    window_b = [SpanPrediction(8, 21, "Disease", 1.5), SpanPrediction(8, 21, "Chemical", 0.1)]
    assert merge_windows(window_a + window_b) == [
        SpanPrediction(0, 7, "Chemical", 2.0),
        SpanPrediction(8, 21, "Chemical", 0.1),
        SpanPrediction(8, 21, "Disease", 1.5),
    ]


def test_merge_windows_of_nothing_is_empty() -> None:
    assert merge_windows([]) == []


NESTED = [
    SpanPrediction(0, 21, "Disease", 0.9),  # "aspirin renal failure"
    SpanPrediction(0, 7, "Chemical", 2.0),  # "aspirin"
    SpanPrediction(8, 21, "Disease", 1.5),  # "renal failure"
    SpanPrediction(8, 21, "Chemical", 0.3),  # same span, other type
    SpanPrediction(14, 21, "Disease", 0.4),  # "failure", inside "renal failure"
]


def test_decode_flat_keeps_best_non_overlapping_spans_one_type_each() -> None:
    assert decode_flat(NESTED) == [
        SpanPrediction(0, 7, "Chemical", 2.0),
        SpanPrediction(8, 21, "Disease", 1.5),
    ]


def test_decode_flat_prefers_a_wide_span_when_it_scores_higher() -> None:
    wide = [*NESTED, SpanPrediction(0, 21, "Disease", 5.0)]
    assert decode_flat(wide) == [SpanPrediction(0, 21, "Disease", 5.0)]


def test_decode_flat_keeps_adjacent_spans() -> None:
    adjacent = [SpanPrediction(0, 7, "Chemical", 1.0), SpanPrediction(7, 9, "Disease", 1.0)]
    assert decode_flat(adjacent) == adjacent


def test_decode_flat_breaks_score_ties_by_position() -> None:
    tied = [SpanPrediction(8, 21, "Disease", 1.0), SpanPrediction(0, 13, "Disease", 1.0)]
    assert decode_flat(tied) == [SpanPrediction(0, 13, "Disease", 1.0)]


def test_decode_nested_keeps_everything_sorted() -> None:
    assert decode_nested(NESTED) == sorted(NESTED, key=lambda p: (p.start, p.end, p.label))
    assert decode_nested([]) == []
    assert decode_flat([]) == []


_predictions = st.lists(
    st.builds(
        lambda start, length, label, score: SpanPrediction(start, start + length, label, score),
        st.integers(0, 40),
        st.integers(1, 8),
        st.sampled_from(LABELS),
        st.floats(0.01, 10.0, allow_nan=False),
    ),
    max_size=25,
)


@settings(max_examples=60, deadline=None)
@given(_predictions)
def test_decode_flat_is_a_sorted_non_overlapping_subset(predictions: list[SpanPrediction]) -> None:
    flat = decode_flat(predictions)
    assert flat == sorted(flat, key=lambda p: (p.start, p.end, p.label))
    assert all(a.end <= b.start for a, b in itertools.pairwise(flat))
    assert set(flat) <= set(predictions)
    # Maximal: every dropped prediction overlaps a kept one.
    for p in set(predictions) - set(flat):
        assert any(p.start < q.end and q.start < p.end for q in flat)
    # The best-scoring prediction always survives greedy decoding.
    if predictions:
        assert max(p.score for p in predictions) == max(p.score for p in flat)


@settings(max_examples=60, deadline=None)
@given(_predictions)
def test_decode_nested_is_sorted_unique_with_best_scores(
    predictions: list[SpanPrediction],
) -> None:
    nested = decode_nested(predictions)
    keys = [(p.start, p.end, p.label) for p in nested]
    assert keys == sorted(set(keys))
    assert {(p.start, p.end, p.label) for p in predictions} == set(keys)
    for p in nested:
        same = [q.score for q in predictions if q[:3] == p[:3]]
        assert p.score == max(same)
