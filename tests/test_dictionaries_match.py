"""The pure match function on a ten-entry dictionary: exact outputs and offset properties."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from binder_core.contract.schema import SPAN_FIELDS, make_span
from dictionaries import (
    CompileConfig,
    Entry,
    Match,
    MatchOptions,
    compile_dictionary,
    match,
    matcher,
)
from dictionaries.compiled import CASE_BIT
from dictionaries.matcher import exact_hits, inner_positions, leftmost_longest
from dictionaries.normalize import fold_with_offsets, normalize_term

ENTRIES = [
    Entry("Aspirin", "Chemical", "D001", "t"),
    Entry("gastric ulcer", "Disease", "D002", "t"),
    Entry("ulcer", "Disease", "D003", "t"),
    Entry("Cold", "Disease", "D004", "t"),  # ambiguous: also a temperature
    Entry("cold", "Temperature", "T01", "t"),
    Entry("ACE", "Chemical", "D005", "t"),  # acronym: case-sensitive
    Entry("Straße", "Place", "L01", "t"),
    Entry("İstanbul", "Place", "L02", "t"),
    Entry("ﬁbrosis", "Disease", "D006", "t"),
    Entry("lithium carbonate", "Chemical", "D007", "t"),
]
COMPILED = compile_dictionary(ENTRIES)


def spans(text: str, options: MatchOptions = MatchOptions()) -> list[tuple[str, str, bool]]:
    return [(text[m.start : m.end], m.label, m.uncertain) for m in match(text, COMPILED, options)]


def test_match_fields_are_schema_span_fields() -> None:
    assert Match._fields == SPAN_FIELDS
    (m,) = match("aspirin", COMPILED)
    assert m._asdict() == make_span(
        0,
        7,
        "Chemical",
        origin="dict_exact",
        concept_id="D001",
        matched_term="Aspirin",
        link_score=1.0,
    )


def test_match_empty_text() -> None:
    assert match("", COMPILED) == []
    assert match("   ", COMPILED) == []


def test_match_longest_exact() -> None:
    text = "Aspirin caused a GASTRIC  ulcer; ulcers healed."
    assert match(text, COMPILED) == [
        Match(0, 7, "Chemical", "D001", "Aspirin", 1.0, "dict_exact", False, 1.0),
        Match(17, 31, "Disease", "D002", "gastric ulcer", 1.0, "dict_exact", False, 1.0),
    ]


def test_match_all_overlapping_keeps_nested() -> None:
    assert spans("gastric ulcer", MatchOptions(overlap="all")) == [
        ("gastric ulcer", "Disease", False),
        ("ulcer", "Disease", False),
    ]


def test_match_token_boundaries() -> None:
    assert spans("ulcerative aspirins xulcer") == []
    assert spans("ulcer-like (aspirin)") == [
        ("ulcer", "Disease", False),
        ("aspirin", "Chemical", False),
    ]


def test_match_acronym_is_case_sensitive() -> None:
    assert spans("ACE inhibitors, ace of spades, Ace") == [("ACE", "Chemical", False)]


def test_match_ambiguous_term_keep_all_marks_uncertain() -> None:
    assert spans("a cold") == [("cold", "Disease", True), ("cold", "Temperature", True)]


@pytest.mark.parametrize(
    ("ambiguity", "priority", "expected"),
    [
        ("priority", ("Temperature",), [("cold", "Temperature", False)]),
        ("priority", (), [("cold", "Disease", False)]),
        ("drop", (), []),
    ],
)
def test_match_ambiguity_policies(
    ambiguity: str, priority: tuple[str, ...], expected: list[tuple[str, str, bool]]
) -> None:
    config = CompileConfig(ambiguity=ambiguity, label_priority=priority)  # type: ignore[arg-type]
    compiled = compile_dictionary(ENTRIES, config)
    text = "a cold"
    assert [
        (text[m.start : m.end], m.label, m.uncertain) for m in match(text, compiled)
    ] == expected


def test_match_unicode_offsets_in_original_text() -> None:
    text = "İstanbul: STRASSE, Straße and ﬁbrosis; café ﬁbrosis"
    assert spans(text) == [
        ("İstanbul", "Place", False),
        ("STRASSE", "Place", False),
        ("Straße", "Place", False),
        ("ﬁbrosis", "Disease", False),
        ("ﬁbrosis", "Disease", False),
    ]
    assert [m.start for m in match(text, COMPILED)] == [0, 10, 19, 30, 44]


def test_match_fuzzy_near_misses() -> None:
    options = MatchOptions(fuzzy=True, fuzzy_threshold=85.0)
    found = match("Asprin and lithium carbonat were given.", COMPILED, options)
    assert [(m.start, m.end, m.label, m.origin, m.uncertain) for m in found] == [
        (0, 6, "Chemical", "dict_fuzzy", True),
        (11, 27, "Chemical", "dict_fuzzy", True),
    ]
    assert [round(m.score, 4) for m in found] == [0.9231, 0.9697]


def test_match_fuzzy_leaves_exact_matches_alone() -> None:
    options = MatchOptions(fuzzy=True, fuzzy_uncertain=False)
    assert match("aspirin", COMPILED, options) == match("aspirin", COMPILED)
    assert match("gastric ulcer", COMPILED, MatchOptions(fuzzy=True)) == match(
        "gastric ulcer", COMPILED
    )


WORDS = st.sampled_from(
    [
        "aspirin",
        "ASPIRIN",
        "gastric",
        "ulcer",
        "GASTRIC ULCER",
        "cold",
        "ACE",
        "ace",
        "straße",
        "STRASSE",
        "İstanbul",
        "ﬁbrosis",
        "x",
        "-",
        "  ",
        "\n",
        ",",
        "é",
        "ß",
        "lithium",
        "carbonate",
    ]
)


@given(st.lists(WORDS, max_size=12), st.sampled_from(["", " ", "-", "\t", "ﬂ"]))
def test_match_surface_folds_to_matched_key(words: list[str], sep: str) -> None:
    text = sep.join(words)
    for options in (MatchOptions(), MatchOptions(overlap="all")):
        found = match(text, COMPILED, options)
        keys = [(m.start, m.end, m.label, m.concept_id) for m in found]
        assert keys == sorted(set(keys))
        for m in found:
            assert 0 <= m.start < m.end <= len(text)
            assert normalize_term(text[m.start : m.end]) == normalize_term(m.matched_term)


def test_inner_positions_marks_only_positions_between_alphanumerics() -> None:
    assert inner_positions("ab-c d") == bytes([0, 1, 0, 0, 0, 0, 0])
    assert inner_positions("éß ①x") == bytes([0, 1, 0, 0, 1, 0])
    assert inner_positions("") == bytes([0])


def test_match_repeated_calls_give_the_same_spans() -> None:
    compiled = compile_dictionary(ENTRIES)
    text = "Cold aspirin, ACE and ace; COLD."
    first = match(text, compiled)
    assert [(m.start, m.end, m.label) for m in first] == [
        (0, 4, "Disease"),
        (0, 4, "Temperature"),
        (5, 12, "Chemical"),
        (14, 17, "Chemical"),
        (27, 31, "Disease"),
        (27, 31, "Temperature"),
    ]
    assert match(text, compiled) == first


@given(st.lists(WORDS, max_size=12), st.sampled_from(["", " ", "-", "\t", "ﬂ"]))
def test_exact_hits_longest_pass_equals_leftmost_longest(words: list[str], sep: str) -> None:
    text = sep.join(words)
    folded, starts, ends = fold_with_offsets(text)
    every = exact_hits(folded, COMPILED, text, starts, ends)
    assert exact_hits(folded, COMPILED, text, starts, ends, longest=True) == leftmost_longest(every)


def test_match_case_policy_per_source() -> None:
    # A proper-name source matched case-sensitively: "rose" and "miles" are not people, and
    # with exact-or-upper a headline in capitals still is.
    names = [("Rose", "PER"), ("Miles", "PER"), ("Kiev", "LOC")]
    text = "Rose said the price rose 5 miles; ROSE MILES in KIEV, Kiev."
    found = {}
    for case in ("ignore", "exact", "exact-or-upper"):
        compiled = compile_dictionary([Entry(t, lab, "", "t", case) for t, lab in names])
        found[case] = [text[m.start : m.end] for m in match(text, compiled)]
    assert found["ignore"] == ["Rose", "rose", "miles", "ROSE", "MILES", "KIEV", "Kiev"]
    assert found["exact"] == ["Rose", "Kiev"]
    assert found["exact-or-upper"] == ["Rose", "ROSE", "MILES", "KIEV", "Kiev"]


def test_match_case_policy_merges_with_insensitive_sources() -> None:
    # The same key from a case-sensitive PER list and a case-insensitive MISC list: each
    # payload keeps its own rule.
    compiled = compile_dictionary(
        [Entry("Hope", "PER", "", "names", "exact"), Entry("hope", "MISC", "", "misc")]
    )
    assert [(m.label, m.uncertain) for m in match("Hope", compiled)] == [
        ("MISC", True),
        ("PER", True),
    ]
    assert [(m.label, m.uncertain) for m in match("hope", compiled)] == [("MISC", True)]


# The compiled per-hit loops (dictionaries/_matching.c) against their Python reference, on the
# dictionary above (case-sensitive keys, ambiguous keys, keys that fold to other lengths) and on
# texts mixing its words with any characters.
_compiled_only = pytest.mark.skipif(
    matcher._matching is None, reason="the compiled matching loops are not built here"
)
_TEXTS = st.lists(st.one_of(WORDS, st.text(max_size=3)), max_size=14).map("".join)


@_compiled_only
@given(_TEXTS, st.booleans())
def test_compiled_loops_equal_the_python_reference(text: str, longest: bool) -> None:
    assert matcher._matching is not None
    folded, starts, ends = fold_with_offsets(text)
    raw = COMPILED.automaton.find_all(folded)
    for surface in (text, None):  # with the case check, and without it
        expected = matcher._boundary_hits_py(folded, raw, COMPILED, surface, starts, ends, longest)
        case_ok = None if surface is None else matcher._case_check(COMPILED, text, starts, ends)
        assert expected == matcher._matching.boundary_hits(
            folded, raw, COMPILED.values, CASE_BIT, longest, case_ok
        )
    hits = exact_hits(folded, COMPILED, text, starts, ends, longest=longest)
    compiled_emit = matcher.Matcher(COMPILED)._emit_exact(text, hits, starts, ends)
    python_emit = matcher.Matcher(COMPILED)._emit_exact_py(text, hits, starts, ends)
    assert compiled_emit == python_emit
    assert all(type(m) is Match for m in compiled_emit)


@_compiled_only
def test_compiled_loops_reject_bad_input_with_an_error() -> None:
    assert matcher._matching is not None
    hits = matcher._matching.boundary_hits
    with pytest.raises(ValueError, match="outside the text"):
        hits("ab", [(0, 5, 0)], COMPILED.values, CASE_BIT, True, None)
    with pytest.raises(IndexError):
        hits("ab", [(0, 2, 10**6)], COMPILED.values, CASE_BIT, True, None)
    with pytest.raises(TypeError):
        hits("ab", [(0, 2)], COMPILED.values, CASE_BIT, True, None)
