"""Exact-match span metrics, checked against counts worked out by hand."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from binder_core.contract.metrics import (
    PRF,
    SpanCounter,
    match_counts,
    nested_spans,
    score_documents,
    span_keys,
)


def test_prf_scores_from_counts() -> None:
    # P = 3 / (3 + 1) = 0.75, R = 3 / (3 + 2) = 0.6, F1 = 2 * .75 * .6 / 1.35 = 0.6666...
    prf = PRF(tp=3, fp=1, fn=2)
    assert (prf.precision, prf.recall) == (0.75, 0.6)
    assert prf.f1 == pytest.approx(2 / 3)
    assert (prf.predicted, prf.support) == (4, 5)


def test_prf_zero_division_gives_zero() -> None:
    assert (PRF().precision, PRF().recall, PRF().f1) == (0.0, 0.0, 0.0)
    assert (PRF(fn=2).precision, PRF(fp=2).recall) == (0.0, 0.0)


def test_prf_rejects_negative_counts() -> None:
    with pytest.raises(ValueError, match="negative count"):
        PRF(tp=-1)


def test_match_counts_needs_exact_offsets_and_label() -> None:
    gold = [(0, 5, "Chem"), (10, 15, "Dis"), (20, 25, "Dis")]
    pred = [(0, 5, "Chem"), (10, 14, "Dis"), (20, 25, "Chem")]
    assert match_counts(gold, pred) == {
        "Chem": PRF(tp=1, fp=1, fn=0),
        "Dis": PRF(tp=0, fp=1, fn=2),
    }


def test_match_counts_counts_duplicates_once() -> None:
    assert match_counts([(0, 1, "A"), (0, 1, "A")], [(0, 1, "A")] * 3) == {"A": PRF(tp=1)}


def test_match_counts_empty_gives_empty() -> None:
    assert match_counts([], []) == {}


def test_score_documents_never_matches_across_documents() -> None:
    scores = score_documents([([(0, 3, "A")], []), ([], [(0, 3, "A")])])
    assert scores.micro == PRF(tp=0, fp=1, fn=1)


def test_score_documents_micro_per_label_and_macro() -> None:
    scores = score_documents(
        [
            ([(0, 3, "A"), (4, 6, "B")], [(0, 3, "A"), (4, 6, "A")]),
            ([(1, 2, "B")], [(1, 2, "B")]),
        ]
    )
    assert scores.per_label == {"A": PRF(tp=1, fp=1), "B": PRF(tp=1, fn=1)}
    assert scores.micro == PRF(tp=2, fp=1, fn=1)
    # A: P .5 R 1 -> F1 2/3; B: P 1 R .5 -> F1 2/3; macro 2/3
    assert scores.macro_f1 == pytest.approx(2 / 3)
    d = scores.to_dict()
    assert (d["precision"], d["recall"], d["tp"], d["fp"], d["fn"]) == (2 / 3, 2 / 3, 2, 1, 1)
    assert d["per_label"]["B"]["support"] == 2


def test_span_counter_fixed_labels_ignore_others_and_report_empty_ones() -> None:
    counter = SpanCounter(labels=["A", "C"])
    counter.update([(0, 1, "A"), (2, 3, "B")], [(0, 1, "A"), (5, 6, "B")])
    result = counter.result()
    assert result.per_label == {"A": PRF(tp=1), "C": PRF()}
    assert counter.documents == 1


def test_span_counter_merge_adds_counts() -> None:
    left, right = SpanCounter(), SpanCounter()
    left.update([(0, 1, "A")], [(0, 1, "A")])
    right.update([(0, 1, "A")], [])
    left.merge(right)
    assert left.result().micro == PRF(tp=1, fn=1)
    assert left.documents == 2


def test_span_keys_from_schema_spans() -> None:
    spans = [
        {"start": 1, "end": 4, "label": "A", "score": 0.5},
        {"start": 1, "end": 4, "label": "A"},
    ]
    assert span_keys(spans) == {(1, 4, "A")}


span_sets = st.sets(
    st.tuples(st.integers(0, 20), st.integers(1, 5), st.sampled_from(["A", "B"])).map(
        lambda t: (t[0], t[0] + t[1], t[2])
    ),
    max_size=8,
)


@given(gold=span_sets)
def test_score_documents_gold_against_itself_is_perfect(gold: set[tuple[int, int, str]]) -> None:
    micro = score_documents([(gold, gold)]).micro
    assert micro == PRF(tp=len(gold))
    assert micro.f1 == (1.0 if gold else 0.0)


@given(gold=span_sets, pred=span_sets)
def test_score_documents_swapping_sides_swaps_precision_and_recall(
    gold: set[tuple[int, int, str]], pred: set[tuple[int, int, str]]
) -> None:
    forward = score_documents([(gold, pred)]).micro
    backward = score_documents([(pred, gold)]).micro
    assert (forward.precision, forward.recall) == (backward.recall, backward.precision)
    assert forward.tp + forward.fp == len(pred) and forward.tp + forward.fn == len(gold)


def test_nested_spans_are_those_inside_or_around_another() -> None:
    outer, inner, inner2 = (0, 20, "DNA"), (5, 10, "protein"), (12, 20, "protein")
    crossing, alone, twin = (15, 25, "DNA"), (30, 35, "RNA"), (30, 35, "DNA")
    spans = [outer, inner, inner2, crossing, alone, twin]
    assert nested_spans(spans) == {outer, inner, inner2, alone, twin}
    assert nested_spans([(0, 5, "A"), (5, 9, "A"), (3, 7, "B")]) == set()


def test_nested_recall_counts_gold_nesting_found_exactly() -> None:
    gold = [(0, 20, "DNA"), (5, 10, "protein"), (30, 35, "RNA")]
    flat = score_documents([(gold, [(0, 20, "DNA"), (30, 35, "RNA")])])
    assert (flat.nested_support, flat.nested_found) == (2, 1)
    assert flat.to_dict()["nested"] == {"support": 2, "found": 1, "recall": 0.5}
    assert "nested" not in score_documents([([(0, 3, "A")], [])]).to_dict()
    counter, other = SpanCounter(), SpanCounter()
    counter.update(gold, gold)
    other.update(gold, [])
    counter.merge(other)
    assert counter.result().nested_recall == 0.5
