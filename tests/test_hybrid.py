"""Hybrid merge of dictionary and model spans: which side wins on overlap, exactly."""

from __future__ import annotations

import math

import pytest

from binder_core.contract.errors import ConfigError
from binder_core.contract.schema import Origin, make_span
from binder_core.inference.hybrid import DEFAULT_MODEL_MARGIN, merge_spans


def _d(start: int, end: int, label: str = "Chemical", uncertain: bool = False) -> dict:
    return make_span(start, end, label, origin=Origin.DICT_EXACT, uncertain=uncertain)


def _m(start: int, end: int, label: str = "Disease", margin: float = 4.0) -> dict:
    """A prediction whose score is sigmoid(margin), as the predictors write it."""
    score = 1 / (1 + math.exp(-margin))
    return make_span(start, end, label, origin=Origin.MODEL, score=score)


def _keys(spans: list[dict]) -> list[tuple[int, int, str, str]]:
    return [(s["start"], s["end"], s["label"], s["origin"]) for s in spans]


def test_merge_spans_dictionary_wins_on_overlap() -> None:
    dictionary = [_d(0, 9), _d(20, 30), _d(40, 45, uncertain=True)]
    model = [_m(5, 12), _m(12, 18), _m(20, 30, "Chemical"), _m(41, 44), _m(50, 60)]
    assert _keys(merge_spans(dictionary, model)) == [
        (0, 9, "Chemical", "dict_exact"),
        (12, 18, "Disease", "model"),
        (20, 30, "Chemical", "dict_exact"),
        (41, 44, "Disease", "model"),  # the uncertain match is not in the output
        (50, 60, "Disease", "model"),
    ]


def test_merge_spans_model_rule_is_the_reverse() -> None:
    dictionary = [_d(0, 9), _d(20, 30)]
    model = [_m(5, 12)]
    assert _keys(merge_spans(dictionary, model, rule="model")) == [
        (5, 12, "Disease", "model"),
        (20, 30, "Chemical", "dict_exact"),
    ]


def test_merge_spans_keeps_the_preferred_side_whole_and_adds_no_overlapping_pair() -> None:
    # nested dictionary spans stay; two overlapping model spans outside: the first one wins
    dictionary = [_d(0, 20), _d(5, 9, "Disease")]
    model = [_m(25, 35), _m(30, 40), _m(19, 22)]
    assert _keys(merge_spans(dictionary, model)) == [
        (0, 20, "Chemical", "dict_exact"),
        (5, 9, "Disease", "dict_exact"),
        (25, 35, "Disease", "model"),
    ]
    assert merge_spans([], []) == []
    assert _keys(merge_spans([], [_m(1, 2)])) == [(1, 2, "Disease", "model")]


def test_merge_spans_rejects_an_unknown_rule() -> None:
    with pytest.raises(ConfigError, match="hybrid rule must be one of"):
        merge_spans([], [], rule="union")
    with pytest.raises(ConfigError, match="margin"):
        merge_spans([], [], model_margin=-1)


def test_merge_spans_leaves_out_predictions_with_a_small_margin() -> None:
    dictionary = [_d(0, 9)]
    model = [_m(5, 12, margin=5.0), _m(20, 25, margin=2.5), _m(30, 35, margin=3.5)]
    assert DEFAULT_MODEL_MARGIN == 3.0
    assert _keys(merge_spans(dictionary, model)) == [
        (0, 9, "Chemical", "dict_exact"),
        (30, 35, "Disease", "model"),  # 2.5 is not above the default margin
    ]
    assert len(merge_spans(dictionary, model, model_margin=0)) == 3  # 0 keeps every prediction
    # the margin applies to the model side under either rule
    assert _keys(merge_spans(dictionary, model, rule="model", model_margin=4)) == [
        (5, 12, "Disease", "model"),  # the dictionary span it overlaps is not added
    ]
