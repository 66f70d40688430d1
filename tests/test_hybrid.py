"""Hybrid merge of dictionary and model spans: which span wins each overlap, exactly."""

from __future__ import annotations

import math

import pytest

from binder_core.contract.errors import ConfigError
from binder_core.contract.schema import Origin, make_span
from binder_core.inference.hybrid import (
    MIN_TRUST,
    HybridOptions,
    count_agreement,
    margin_of,
    merge_documents,
    merge_spans,
    trust_from_counts,
)


def _d(start: int, end: int, label: str = "Chemical", uncertain: bool = False) -> dict:
    return make_span(start, end, label, origin=Origin.DICT_EXACT, uncertain=uncertain)


def _m(start: int, end: int, label: str = "Disease", margin: float = 4.0) -> dict:
    """A prediction whose score is sigmoid(margin), as the predictors write it."""
    score = 1 / (1 + math.exp(-margin))
    return make_span(start, end, label, origin=Origin.MODEL, score=score)


def _keys(spans: list[dict]) -> list[tuple[int, int, str, str]]:
    return [(s["start"], s["end"], s["label"], s["origin"]) for s in spans]


def test_margin_of_inverts_the_score() -> None:
    assert margin_of(_m(0, 1, margin=2.5)) == pytest.approx(2.5)
    assert margin_of({"score": 1.0}) == math.inf
    assert margin_of({"score": 0.0}) == -math.inf


def test_merge_spans_confident_model_replaces_a_dictionary_span_with_other_boundaries() -> None:
    # trust 2: "lung cancer" predicted at margin 3 > 2 beats the dictionary's "cancer"
    dictionary = [_d(5, 11, "Disease")]
    model = [_m(0, 11, "Disease", margin=3.0)]
    assert _keys(merge_spans(dictionary, model, "trust", trust=2.0)) == [
        (0, 11, "Disease", "model")
    ]


def test_merge_spans_confident_model_replaces_a_dictionary_span_of_another_type() -> None:
    dictionary = [_d(0, 7, "Chemical")]
    model = [_m(0, 7, "Disease", margin=3.0)]
    assert _keys(merge_spans(dictionary, model, "trust", trust={"Chemical": 2.0})) == [
        (0, 7, "Disease", "model")
    ]


def test_merge_spans_dictionary_survives_an_unsure_model() -> None:
    # margin 1.5 is not above the trust 2: the dictionary span stays and removes it
    dictionary = [_d(5, 11, "Disease")]
    model = [_m(0, 11, "Disease", margin=1.5), _m(20, 25, margin=0.5)]
    assert _keys(merge_spans(dictionary, model, "trust", trust=2.0)) == [
        (5, 11, "Disease", "dict_exact"),
        (20, 25, "Disease", "model"),  # overlaps no dictionary span: kept at any margin
    ]


def test_merge_spans_agreement_keeps_the_dictionary_span_once() -> None:
    dictionary = [_d(0, 7, "Chemical")]
    model = [_m(0, 7, "Chemical", margin=0.2)]
    assert _keys(merge_spans(dictionary, model, "trust", trust=5.0)) == [
        (0, 7, "Chemical", "dict_exact")
    ]
    assert _keys(merge_spans(dictionary, model, "trust", trust=-5.0)) == [
        (0, 7, "Chemical", "dict_exact")
    ]


def test_merge_spans_agreement_outweighs_a_confident_nested_reading() -> None:
    # nested decoding: the model predicts the dictionary's span and, confidently, one inside it
    # (margin 3 > trust 1, kept); a third, unsure one inside (0.5 <= 1) goes
    dictionary = [_d(0, 11, "Disease")]
    model = [_m(0, 11, margin=2.0), _m(0, 4, "Chemical", margin=3.0), _m(5, 11, margin=0.5)]
    assert _keys(merge_spans(dictionary, model, "trust", trust=1.0)) == [
        (0, 4, "Chemical", "model"),
        (0, 11, "Disease", "dict_exact"),
    ]


def test_merge_spans_a_dropped_dictionary_span_leaves_the_models_spans_whole() -> None:
    # the dictionary's "cancer" loses to "lung cancer" (4 > 2); the model's unsure "cancer" of
    # another type (1 <= 2) is not removed by a span that is not in the output
    dictionary = [_d(5, 11, "Disease")]
    model = [_m(0, 11, margin=4.0), _m(5, 11, "Chemical", margin=1.0)]
    assert _keys(merge_spans(dictionary, model, "trust", trust=2.0)) == [
        (0, 11, "Disease", "model"),
        (5, 11, "Chemical", "model"),
    ]


def test_merge_spans_trust_is_per_type() -> None:
    dictionary = [_d(0, 5, "Chemical"), _d(10, 15, "Disease")]
    model = [_m(0, 6, "Chemical", margin=2.0), _m(10, 16, "Disease", margin=2.0)]
    trust = {"Chemical": 3.0, "Disease": 1.0}
    assert _keys(merge_spans(dictionary, model, "trust", trust=trust)) == [
        (0, 5, "Chemical", "dict_exact"),  # 2 <= 3: the dictionary holds
        (10, 16, "Disease", "model"),  # 2 > 1: the model wins
    ]
    # a type the mapping does not name has the least trust, 1: 2 > 1, the predictions win
    assert _keys(merge_spans(dictionary, model, "trust", trust={})) == [
        (0, 6, "Chemical", "model"),
        (10, 16, "Disease", "model"),
    ]


def test_merge_spans_dictionary_and_model_rules_are_the_extremes() -> None:
    dictionary = [_d(0, 9), _d(20, 30), _d(40, 45, uncertain=True)]
    model = [_m(5, 12, margin=50.0), _m(12, 18), _m(20, 30, "Chemical"), _m(41, 44)]
    assert _keys(merge_spans(dictionary, model, rule="dictionary")) == [
        (0, 9, "Chemical", "dict_exact"),
        (12, 18, "Disease", "model"),
        (20, 30, "Chemical", "dict_exact"),
        (41, 44, "Disease", "model"),  # the uncertain match is not in the output
    ]
    assert _keys(merge_spans(dictionary, model, rule="model")) == [
        (5, 12, "Disease", "model"),
        (12, 18, "Disease", "model"),
        (20, 30, "Chemical", "model"),  # agreement: the model's span stands for both
        (41, 44, "Disease", "model"),
    ]


def test_merge_spans_keeps_nested_dictionary_spans_and_overlapping_predictions() -> None:
    dictionary = [_d(0, 20), _d(5, 9, "Disease")]
    model = [_m(25, 35), _m(30, 40)]
    assert _keys(merge_spans(dictionary, model, "trust", trust=0.0)) == [
        (0, 20, "Chemical", "dict_exact"),
        (5, 9, "Disease", "dict_exact"),
        (25, 35, "Disease", "model"),
        (30, 40, "Disease", "model"),
    ]
    assert merge_spans([], []) == []
    assert _keys(merge_spans([], [_m(1, 2)])) == [(1, 2, "Disease", "model")]


def test_merge_spans_leaves_out_predictions_at_or_below_the_margin() -> None:
    model = [_m(20, 25, margin=2.5), _m(30, 35, margin=3.5)]
    assert _keys(merge_spans([], model, model_margin=3.0)) == [(30, 35, "Disease", "model")]
    assert len(merge_spans([], model)) == 2  # the default, 0, keeps every prediction


def test_merge_spans_rejects_an_unknown_rule_and_a_bad_margin() -> None:
    with pytest.raises(ConfigError, match="hybrid rule must be one of"):
        merge_spans([], [], rule="union")
    with pytest.raises(ConfigError, match="margin"):
        merge_spans([], [], model_margin=-1)


def test_count_agreement_counts_exact_reproductions_per_type() -> None:
    dictionary = [_d(0, 5), _d(10, 15), _d(20, 25, "Disease"), _d(30, 35, uncertain=True)]
    model = [_m(0, 5, "Chemical"), _m(10, 16, "Chemical"), _m(20, 25, margin=0.5)]
    counts = count_agreement(dictionary, model)
    assert counts == {"Chemical": (1, 2), "Disease": (1, 1)}
    # a margin leaves the unsure agreement out; counts add up across documents
    assert count_agreement(dictionary, model, 1.0, counts) == {
        "Chemical": (2, 4),
        "Disease": (1, 2),
    }


def test_trust_from_counts_is_the_smoothed_log_odds_at_least_min_trust() -> None:
    trust = trust_from_counts({"Chemical": (18, 20), "Disease": (0, 0), "Gene": (1, 4)})
    assert MIN_TRUST == 1.0
    assert trust["Chemical"] == pytest.approx(math.log(19 / 3))  # (18+1) / (2+1): 1.85
    assert trust["Disease"] == 1.0  # no evidence: log(1/1) = 0, raised to the floor
    assert trust["Gene"] == 1.0  # log(2/4) = -0.69, raised to the floor


def test_merge_spans_without_trust_estimates_it_on_the_document() -> None:
    # Chemical: 4 of 5 reproduced -> trust log((4+1) / (1+1)) = 0.92, raised to the floor 1
    dictionary = [_d(0, 5), _d(10, 15), _d(20, 25), _d(30, 35), _d(40, 45)]
    model = [_m(s, s + 5, "Chemical") for s in (0, 10, 20, 30)]
    model.append(_m(40, 46, "Chemical", margin=0.95))
    assert _keys(merge_spans(dictionary, model, "trust"))[4] == (40, 45, "Chemical", "dict_exact")
    model[4] = _m(40, 46, "Chemical", margin=1.05)  # 1.05 > 1: it wins
    assert _keys(merge_spans(dictionary, model, "trust"))[4] == (40, 46, "Chemical", "model")


def test_merge_documents_estimates_trust_on_all_documents() -> None:
    # document 1: the model reproduces 3 of 3 Chemical spans; document 2: one conflict at
    # margin 1.5. Over both: 3 of 4 -> trust max(1, log((3+1) / (1+1))) = 1 < 1.5: the model wins
    agreeing = [_m(0, 5, "Chemical"), _m(10, 15, "Chemical"), _m(20, 25, "Chemical")]
    doc1 = ([_d(0, 5), _d(10, 15), _d(20, 25)], agreeing)
    doc2 = ([_d(0, 5)], [_m(0, 6, "Chemical", margin=1.5)])
    merged, counts = merge_documents([doc1, doc2], HybridOptions(rule="trust"))
    assert counts == {"Chemical": (3, 4)}
    assert _keys(merged[1]) == [(0, 6, "Chemical", "model")]
    # a fixed trust: 1.5 <= 2
    merged, _ = merge_documents([doc1, doc2], HybridOptions(rule="trust", trust=2.0))
    assert _keys(merged[1]) == [(0, 5, "Chemical", "dict_exact")]
    # counts carried in from earlier chunks weigh in: 30 of 31 -> trust log(31/2) = 2.74
    merged, counts = merge_documents([doc2], HybridOptions(rule="trust"), {"Chemical": (30, 30)})
    assert counts == {"Chemical": (30, 31)}
    assert _keys(merged[0]) == [(0, 5, "Chemical", "dict_exact")]


def test_hybrid_options_refuse_bad_values() -> None:
    with pytest.raises(ConfigError, match="rule"):
        HybridOptions(rule="union")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="model_margin"):
        HybridOptions(model_margin=-1.0)
    with pytest.raises(ConfigError, match="trust"):
        HybridOptions(rule="trust", trust=math.nan)
    with pytest.raises(ConfigError, match="only weighs in with the trust rule, not 'dictionary'"):
        HybridOptions(trust=2.0)  # the default rule has no trust
