"""Schwartz & Hearst abbreviation definitions: exact spans on hand-made sentences."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dictionaries.abbreviations import Abbreviation, find_abbreviations


def _forms(text: str) -> list[tuple[str, str]]:
    return [
        (text[a.long_start : a.long_end], text[a.short_start : a.short_end])
        for a in find_abbreviations(text)
    ]


def test_find_abbreviations_heat_shock_factor_exact_spans() -> None:
    # The paper's example: "S" is found in "transcription", "H" only at the start of "heat".
    text = "The heat shock transcription factor (HSF) binds."
    assert find_abbreviations(text) == [Abbreviation(4, 35, 37, 40)]
    assert _forms(text) == [("heat shock transcription factor", "HSF")]


def test_find_abbreviations_first_letter_must_start_a_word() -> None:
    # The "e" of "receptor" would give the long form "receptor"; the first letter of the short
    # form must open a word, so the long form reaches back to "estrogen".
    assert _forms("We measured estrogen receptor (ER) levels.") == [("estrogen receptor", "ER")]


def test_find_abbreviations_reverse_order_long_form_in_parentheses() -> None:
    text = "TNF (tumour necrosis factor) was high."
    assert find_abbreviations(text) == [Abbreviation(5, 27, 0, 3)]


def test_find_abbreviations_digits_and_hyphens() -> None:
    text = "Levels of interleukin-2 (IL-2) and hepatocyte nuclear factor 4 (HNF4) rose."
    assert _forms(text) == [("interleukin-2", "IL-2"), ("hepatocyte nuclear factor 4", "HNF4")]
    assert _forms("Treated with 5-fluorouracil (5-FU). Then 5-FU.") == [("5-fluorouracil", "5-FU")]


def test_find_abbreviations_nested_parentheses_stop_the_long_form() -> None:
    # The outer parenthesis holds four words (reverse order), but "binds" has no capital; the
    # inner one is found, and its long form does not reach past the outer "(".
    text = "It binds (see heat shock factor (HSF)) DNA."
    assert find_abbreviations(text) == [Abbreviation(14, 31, 33, 36)]


def test_find_abbreviations_short_form_cut_at_semicolon_or_comma() -> None:
    assert _forms("The heat shock factor (HSF; ref. 3) binds.") == [("heat shock factor", "HSF")]
    assert _forms("Use of cyclosporin A (CsA, 5 mg) rose.") == [("cyclosporin A", "CsA")]


def test_find_abbreviations_long_form_stays_in_its_sentence() -> None:
    text = "Cells were heated. Shock factor (SF) was measured."
    assert _forms(text) == [("Shock factor", "SF")]


@pytest.mark.parametrize(
    "text",
    [
        "Patients (n = 20) took the drug (see below).",  # no definition at all
        "Given vitamin (A) daily.",  # one-character short form
        "The factor(HSF) binds.",  # no space before the parenthesis
        "A low dose (XR) of it.",  # no "x" before the parenthesis
        "The N(G)-nitro-L-arginine methyl ester (L-NAME) dose.",  # letters out of order
        "An unclosed (HSF binds.",
        "",
        "(HSF)",
    ],
)
def test_find_abbreviations_no_definition(text: str) -> None:
    assert find_abbreviations(text) == []


def test_find_abbreviations_rejects_a_long_form_with_too_many_words() -> None:
    # min(2 * 2, 2 + 5) = 4 words at most for a two-letter short form.
    assert _forms("the a b c d e patient episode (PE) rate") == [("patient episode", "PE")]
    assert _forms("in pulmonary arterial vascular ischemic embolism (PE)") == []


@given(st.text(alphabet="ab (),;.XYZ-2", max_size=60))
def test_find_abbreviations_spans_lie_in_the_text_and_are_sorted(text: str) -> None:
    found = find_abbreviations(text)
    assert found == sorted(found, key=lambda a: (a.short_start, a.short_end, a.long_start))
    for a in found:
        assert 0 <= a.long_start < a.long_end <= len(text)
        assert 0 <= a.short_start < a.short_end <= len(text)
        assert a.long_end <= a.short_start or a.short_end <= a.long_start
