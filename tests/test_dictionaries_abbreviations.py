"""Schwartz & Hearst abbreviation definitions: exact spans on hand-made sentences."""

from __future__ import annotations

import re
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dictionaries import abbreviations
from dictionaries.abbreviations import _MAX_REACH, Abbreviation, _region_start, find_abbreviations


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
    ("text", "expected"),
    [
        # any whitespace after ".", "!" or "?" ends a sentence; "." without one does not
        ("Cells were heated.\nShock factor (SF) was measured.", [("Shock factor", "SF")]),
        ("Cells were heated!\tShock factor (SF) rose.", [("Shock factor", "SF")]),
        ("Was it heated? Shock factor (SF) rose.", [("Shock factor", "SF")]),
        ("Cells were heated.Shock factor (SF) rose.", [("heated.Shock factor", "SF")]),
        # a closed parenthesis earlier in the sentence does not stop the long form
        ("The (x) heat shock factor (HSF) binds.", [("heat shock factor", "HSF")]),
        ("It binds (see (ref) heat shock factor (HSF)) DNA.", [("heat shock factor", "HSF")]),
        # reverse order: the short form is cut at the "(" that encloses the candidate
        ("See x(HSF (heat shock factor) binds).", [("heat shock factor", "HSF")]),
        ("Use of cyclosporin A\u00a0(CsA) rose.", [("cyclosporin A", "CsA")]),
        ("Sum of İnflammatory Σcore (İΣ) was high.", [("İnflammatory Σcore", "İΣ")]),
        ("The heat shock factor (H(S)F, ref. 3) binds.", [("heat shock factor", "H(S)F")]),
    ],
)
def test_find_abbreviations_sentence_and_parenthesis_bounds(
    text: str, expected: list[tuple[str, str]]
) -> None:
    assert _forms(text) == expected


def test_find_abbreviations_reach_is_bounded() -> None:
    # Far from the start of a sentence-less text; the long form may start at most _MAX_REACH
    # characters before its "(", and the ")" must be as near.
    assert _forms("a " * 600 + "heat shock factor (HSF) binds.") == [("heat shock factor", "HSF")]
    assert _forms("heat shock factor " + "a " * 500 + "(HSF) binds.") == []
    assert _forms("heat shock factor (HSF" + " " * _MAX_REACH + ")") == []


def _reference_region_starts(text: str) -> dict[int, int]:
    """One pass over the whole text: the sentence start before each "(" (or just after the
    enclosing "(", whichever is nearer, at most _MAX_REACH back), then its whitespace skipped."""
    sentence_starts = [0] + [m.end() for m in re.finditer(r"[.!?]\s", text)]
    out: dict[int, int] = {}
    stack: list[int] = []
    for m in re.finditer(r"[()]", text):
        at = m.start()
        if text[at] == ")":
            if stack:
                stack.pop()
            continue
        start = max(max(s for s in sentence_starts if s <= at), at - _MAX_REACH)
        if stack and stack[-1] + 1 > start:
            start = stack[-1] + 1
        while start < at and text[start].isspace():
            start += 1
        out[at] = start
        stack.append(at)
    return out


@given(
    st.lists(
        st.sampled_from(["(", ")", ". ", ".", "!\n", "?\t", " ", "x", "ab ", "y" * 97]),
        max_size=60,
    )
)
def test_region_start_matches_one_pass_over_the_text(parts: list[str]) -> None:
    text = "".join(parts)
    expected = _reference_region_starts(text)
    assert {at: _region_start(text, at) for at in expected} == expected


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


def test_find_abbreviations_long_ends_keeps_only_definitions_ending_there() -> None:
    text = (
        "The heat shock factor (HSF) and TNF (tumour necrosis factor) bind estrogen receptor (ER)."
    )
    every = find_abbreviations(text)
    assert len(every) == 3
    hsf, tnf, er = every
    assert find_abbreviations(text, {hsf.long_end}) == [hsf]
    assert find_abbreviations(text, {tnf.long_end, er.long_end}) == [tnf, er]  # reverse order too
    assert find_abbreviations(text, set()) == []
    assert find_abbreviations(text, {hsf.long_end - 1, er.short_end}) == []


@given(
    st.text(alphabet="ab (),;.XYZ-2", max_size=60),
    st.sets(st.integers(min_value=0, max_value=60), max_size=8),
)
def test_find_abbreviations_long_ends_is_the_filter_of_the_full_result(
    text: str, ends: set[int]
) -> None:
    expected = [a for a in find_abbreviations(text) if a.long_end in ends]
    assert find_abbreviations(text, ends) == expected


# The compiled finder (dictionaries/_abbreviations.c) against the Python reference: words and
# punctuation that make definitions, plus characters whose classes or lower-casing are special
# (a title-case letter, the Kelvin sign, long s, sharp s, Greek, digits of other scripts,
# Unicode spaces; U+0130 and U+03A3 send the text to the Python code).
_WORDS = st.sampled_from(
    ["heat", "shock", "factor", "HSF", "Hsf", "(", ")", "(", ", ", "; ", ". ", "! ", "?\n", " ",
     " ", "  ", "\t", "\u00a0", "\u2003", "a", "B", "2", "-", "x2", "\u01c5", "\u212a",
     "\u017f", "\u00df", "\u03c3", "\u03a3", "\u0130", "\u0661", "_", "Ab", "AB-2", "tnf"]
)  # fmt: skip
_compiled_only = pytest.mark.skipif(
    abbreviations._compiled is None, reason="the compiled finder is not built here"
)


@_compiled_only
@given(st.lists(_WORDS, max_size=40).map("".join), st.sets(st.integers(0, 120), max_size=10))
def test_compiled_finder_equals_the_python_reference(text: str, ends: set[int]) -> None:
    assert find_abbreviations(text) == abbreviations._find_abbreviations_py(text)
    assert find_abbreviations(text, ends) == abbreviations._find_abbreviations_py(text, ends)


@_compiled_only
@given(st.text(max_size=80), st.sets(st.integers(0, 80), max_size=6))
def test_compiled_finder_equals_the_python_reference_on_any_text(text: str, ends: set[int]) -> None:
    assert find_abbreviations(text) == abbreviations._find_abbreviations_py(text)
    assert find_abbreviations(text, ends) == abbreviations._find_abbreviations_py(text, ends)


def test_only_u0130_lowercases_to_two_characters() -> None:
    """The compiled finder lower-cases one character at a time and hands texts holding U+0130
    (or U+03A3, lower-cased by context) to the Python code: no other character may need it."""
    assert [c for c in range(sys.maxunicode + 1) if len(chr(c).lower()) != 1] == [0x130]


@_compiled_only
def test_compiled_finder_hands_special_lowercasing_to_python() -> None:
    assert abbreviations._compiled("x \u0130 (HSF)", None) is None
    assert abbreviations._compiled("x \u03a3 (HSF)", None) is None
    assert abbreviations._compiled("heat shock factor (HSF)", None) == [(0, 17, 19, 22)]
