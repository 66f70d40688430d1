"""The per-document labeling step: abbreviations, held-out and uncertain dictionaries."""

from __future__ import annotations

import operator
from collections import Counter
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from binder_core.contract.errors import ConfigError
from binder_core.contract.schema import SPAN_ORDER
from dictionaries import Entry, Match, MatchOptions, compile_dictionary, match
from dictionaries.abbreviations import find_abbreviations
from pipelines.silver import labeling
from pipelines.silver.labeling import Lexicons, label_document, label_documents
from pipelines.silver.labeling_config import LabelingConfig

OPTIONS = MatchOptions()


def _dict(*entries: tuple[str, str, str]) -> object:
    return compile_dictionary([Entry(t, label, cid, "test") for t, label, cid in entries])


TYPED = _dict(
    ("Parkinson's disease", "Disease", "D010300"),
    ("renal failure", "Disease", "D051437"),
    ("cisplatin", "Chemical", "D002945"),
    ("CT", "Chemical", "C1"),
)


def _spans(text: str, spans: list[Match]) -> list[tuple[str, str, str, str, bool]]:
    return [(text[m.start : m.end], m.label, m.concept_id, m.origin, m.uncertain) for m in spans]


def test_label_document_short_forms_take_the_long_form_label() -> None:
    text = "Parkinson's disease (PD) is common. PD patients, PDs and PD-1 were seen."
    counts: Counter[str] = Counter()
    spans = label_document(text, Lexicons(TYPED), OPTIONS, LabelingConfig(), counts)
    assert [(m.start, m.end) for m in spans] == [(0, 19), (21, 23), (36, 38), (57, 59)]
    assert _spans(text, spans) == [
        ("Parkinson's disease", "Disease", "D010300", "dict_exact", False),
        ("PD", "Disease", "D010300", "abbreviation", False),
        ("PD", "Disease", "D010300", "abbreviation", False),  # not "PDs"
        ("PD", "Disease", "D010300", "abbreviation", False),  # "PD-1": a token boundary
    ]
    assert spans[1].matched_term == "PD"
    assert counts == {
        "abbreviation_definitions_at_spans": 1,
        "abbreviation_definitions_labelled": 1,
        "abbreviation_spans_added": 3,
    }


def test_label_document_long_form_end_rule() -> None:
    # The dictionary labels "renal failure", which ends where the long form ends.
    text = "Acute renal failure (ARF) followed; ARF resolved."
    end = label_document(text, Lexicons(TYPED), OPTIONS, LabelingConfig())
    assert _spans(text, end) == [
        ("renal failure", "Disease", "D051437", "dict_exact", False),
        ("ARF", "Disease", "D051437", "abbreviation", False),
        ("ARF", "Disease", "D051437", "abbreviation", False),
    ]
    exact = label_document(
        text, Lexicons(TYPED), OPTIONS, LabelingConfig(abbreviation_long_form="exact")
    )
    assert exact == match(text, TYPED)


def test_label_document_dictionary_span_wins_over_a_short_form() -> None:
    # "CT" is a dictionary acronym (Chemical); its definition as cisplatin is not applied
    # where the dictionary already has a span.
    text = "cisplatin (CT) and CT scans"
    spans = label_document(text, Lexicons(TYPED), OPTIONS, LabelingConfig())
    assert _spans(text, spans) == [
        ("cisplatin", "Chemical", "D002945", "dict_exact", False),
        ("CT", "Chemical", "C1", "dict_exact", False),
        ("CT", "Chemical", "C1", "dict_exact", False),
    ]


def test_label_document_short_form_with_two_labels_is_uncertain() -> None:
    typed = _dict(("cardiac arrest", "Disease", "D1"), ("cold agent", "Chemical", "C2"))
    text = "cardiac arrest (CA) and cold agent (CA); CA"
    spans = label_document(text, Lexicons(typed), OPTIONS, LabelingConfig())
    short = [m for m in spans if m.origin == "abbreviation"]
    assert [(m.start, m.label, m.uncertain) for m in short] == [
        (16, "Chemical", True),
        (16, "Disease", True),
        (36, "Chemical", True),
        (36, "Disease", True),
        (41, "Chemical", True),
        (41, "Disease", True),
    ]


def test_label_document_without_extras_is_the_plain_match() -> None:
    text = "Parkinson's disease (PD) and PD."
    config = LabelingConfig(abbreviations=False)
    assert label_document(text, Lexicons(TYPED), OPTIONS, config) == match(text, TYPED)
    assert label_document("", Lexicons(TYPED), OPTIONS, LabelingConfig()) == []


def test_label_document_heldout_matches_lose_to_typed_spans() -> None:
    held = _dict(("acute renal failure", "Disease", "D058186"), ("carboplatin", "Chemical", "C3"))
    text = "acute renal failure after carboplatin"
    counts: Counter[str] = Counter()
    spans = label_document(text, Lexicons(TYPED, heldout=held), OPTIONS, LabelingConfig(), counts)
    assert _spans(text, spans) == [
        ("renal failure", "Disease", "D051437", "dict_exact", False),
        ("carboplatin", "Chemical", "C3", "dict_heldout", False),
    ]
    assert counts == {"heldout_spans_added": 1, "heldout_matches_overlapping": 1}


def test_label_document_heldout_long_form_gives_heldout_short_forms() -> None:
    held = _dict(("carboplatin", "Chemical", "C3"))
    text = "carboplatin (CP) and CP"
    spans = label_document(text, Lexicons(TYPED, heldout=held), OPTIONS, LabelingConfig())
    assert [m.origin for m in spans] == ["dict_heldout"] * 3


def test_label_document_uncertain_dictionary_gives_any_label_spans() -> None:
    broad = _dict(
        ("renal failure", "Anything", "X1"),
        ("kidney", "Anatomy", "A1"),
        ("kidney", "Organ", "O1"),
    )
    text = "renal failure of the kidney"
    counts: Counter[str] = Counter()
    lexicons = Lexicons(TYPED, uncertain=broad)
    spans = label_document(text, lexicons, OPTIONS, LabelingConfig(), counts)
    assert spans == [
        Match(0, 13, "Disease", "D051437", "renal failure", 1.0, "dict_exact", False, 1.0),
        Match(21, 27, "*", "A1", "kidney", 1.0, "dict_uncertain", True, 1.0),
    ]
    assert counts == {"uncertain_spans_added": 1, "uncertain_matches_overlapping": 1}


def test_labeling_config_rejects_unknown_choices() -> None:
    with pytest.raises(ConfigError, match="--abbreviation-long-form must be one of"):
        LabelingConfig(abbreviation_long_form="start")  # type: ignore[arg-type]


def test_label_document_end_rule_takes_the_longest_of_nested_spans() -> None:
    typed = _dict(("renal failure", "Disease", "D1"), ("acute renal failure", "Disease", "D2"))
    text = "acute renal failure (ARF); ARF"
    nested = MatchOptions(overlap="all")
    spans = label_document(text, Lexicons(typed), nested, LabelingConfig())
    assert [(m.start, m.concept_id, m.origin) for m in spans if m.origin == "abbreviation"] == [
        (21, "D2", "abbreviation"),
        (27, "D2", "abbreviation"),
    ]


_WORDS = st.sampled_from(
    ["acute", "renal", "failure", "(ARF)", "ARF", "cisplatin", "(CP)", "CP", "carboplatin",
     "kidney", "Parkinson's", "disease", "(PD)", "PD", "CT", "of", "and", ";", "(", ")",
     "Andy", "Caddick", "Lewis", "A.", "Caddick,", "or", "chronic", "acute/chronic"]
)  # fmt: skip
_NESTED = _dict(
    ("renal failure", "Disease", "D1"),
    ("acute renal failure", "Disease", "D2"),
    ("acute renal failure", "Chemical", "D3"),
    ("cisplatin", "Chemical", "C1"),
    ("CT", "Chemical", "C2"),
    ("Andy", "Person", ""),
    ("Lewis", "Person", "L1"),
    ("chronic renal failure", "Disease", "D4"),
)
_HELD = _dict(
    ("carboplatin", "Chemical", "C3"), ("kidney", "Disease", "K1"), ("CP", "Disease", "K2")
)
_BROAD = _dict(("kidney", "Organ", "O1"), ("Parkinson's disease", "Any", "P1"), ("of", "X", "X1"))


@settings(max_examples=150, deadline=None)
@given(
    st.lists(_WORDS, max_size=30),
    st.sampled_from(["longest", "all"]),
    st.sampled_from([(), ("Person",)]),
    st.booleans(),
)
def test_label_document_output_is_in_the_canonical_span_order(
    words: list[str], overlap: str, name_labels: tuple[str, ...], composites: bool
) -> None:
    text = " ".join(words)
    lexicons = Lexicons(_NESTED, heldout=_HELD, uncertain=_BROAD)
    config = LabelingConfig(name_labels=name_labels, composite_mentions=composites)
    spans = label_document(text, lexicons, MatchOptions(overlap=overlap), config)  # type: ignore[arg-type]
    key = operator.attrgetter(*SPAN_ORDER)
    assert spans == sorted(set(spans), key=key)
    for name in (m for m in spans if m.origin == "dict_name"):  # widened over free words only
        assert not [m for m in spans if m is not name and m.start < name.end and name.start < m.end]


def test_label_document_joins_composite_mentions() -> None:
    typed = _dict(
        ("breast cancer", "Disease", "D1"), ("ovarian cancer", "Disease", "D2"),
        ("brain cancer", "Disease", "D3"), ("prostate cancer", "Disease", "D4"),
        ("Duchenne muscular dystrophy", "Disease", "D5"),
        ("Becker muscular dystrophy", "Disease", "D6"), ("lung cancer", "Chemical", "X1"),
        ("tamoxifen", "Chemical", "C1"), ("fever", "Disease", "D7"),
    )  # fmt: skip
    text = (
        "breast and ovarian cancer ; brain, breast, and prostate cancer ; Duchenne/Becker "
        "muscular dystrophy ; lung or ovarian cancer ; tamoxifen and breast cancer ; skin and "
        "ovarian cancer ; fever and ovarian cancer"
    )
    counts: Counter[str] = Counter()
    config = LabelingConfig(composite_mentions=True)
    spans = label_document(text, Lexicons(typed), OPTIONS, config, counts)
    assert _spans(text, spans) == [
        ("breast and ovarian cancer", "Disease", "D1|D2", "dict_composite", False),
        ("brain, breast, and prostate cancer", "Disease", "D1|D3|D4", "dict_composite", False),
        ("Duchenne/Becker muscular dystrophy", "Disease", "D5|D6", "dict_composite", False),
        ("ovarian cancer", "Disease", "D2", "dict_exact", False),  # "lung cancer": other label
        ("tamoxifen", "Chemical", "C1", "dict_exact", False),
        ("breast cancer", "Disease", "D1", "dict_exact", False),  # "tamoxifen": another span
        ("ovarian cancer", "Disease", "D2", "dict_exact", False),  # "skin cancer": no key
        ("fever", "Disease", "D7", "dict_exact", False),
        ("ovarian cancer", "Disease", "D2", "dict_exact", False),  # "fever" is a span itself
    ]
    assert counts["composite_spans_widened"] == 3
    off = label_document(text, Lexicons(typed), OPTIONS, LabelingConfig())
    assert "dict_composite" not in {m.origin for m in off}


def test_label_document_widens_name_parts_to_whole_names() -> None:
    people = _dict(
        ("Andy", "PER", ""), ("Chris", "PER", "P1"), ("Lewis", "PER", "P2"),
        ("Dale", "PER", ""), ("Hussain", "PER", ""), ("England", "LOC", "G1"),
    )  # fmt: skip
    text = (
        "Andy Caddick took 3-45 ; Chris Lewis ( England ) , A. Dale and Nasser Hussain. rose Andy"
    )
    counts: Counter[str] = Counter()
    config = LabelingConfig(name_labels=("PER",))
    spans = label_document(text, Lexicons(people), OPTIONS, config, counts)
    assert _spans(text, spans) == [
        ("Andy Caddick", "PER", "", "dict_name", False),  # widened right
        ("Chris Lewis", "PER", "P1|P2", "dict_name", False),  # two parts merged
        ("England", "LOC", "G1", "dict_exact", False),  # another label: never swallowed
        ("A. Dale", "PER", "", "dict_name", False),  # an initial on the left
        ("Nasser Hussain", "PER", "", "dict_name", False),  # "Hussain." ends the name
        ("Andy", "PER", "", "dict_exact", False),  # "rose": not a name word
    ]
    assert counts["name_spans_widened"] == 4
    # off by default, and only for the labels named
    plain = label_document(text, Lexicons(people), OPTIONS, LabelingConfig())
    assert [m.origin for m in plain] == ["dict_exact"] * len(plain)
    other = label_document(text, Lexicons(people), OPTIONS, LabelingConfig(name_labels=("LOC",)))
    assert [m.origin for m in other] == ["dict_exact"] * len(other)
    with pytest.raises(ConfigError, match="name labels"):
        LabelingConfig(name_labels=("",))


def test_label_documents_is_label_document_of_each_text() -> None:
    texts = [
        "Parkinson's disease (PD) is common. PD patients.",
        "",
        "acute renal failure (ARF) after carboplatin; ARF and kidney",
        "cisplatin (CP) and CT",
    ]
    lexicons = Lexicons(_NESTED, heldout=_HELD, uncertain=_BROAD)
    one: Counter[str] = Counter()
    expected = [label_document(t, lexicons, OPTIONS, LabelingConfig(), one) for t in texts]
    batch: Counter[str] = Counter()
    assert label_documents(texts, lexicons, OPTIONS, LabelingConfig(), batch) == expected
    assert batch == one and batch["abbreviation_spans_added"] > 0


# The compiled short-form step (pipelines/_labeling.c) against its Python reference: spans of
# the nested dictionary above (several labels and concepts per extent), some of them turned into
# held-out, uncertain or lower-scored spans, on texts that define abbreviations.
_compiled_short_forms = pytest.mark.skipif(
    labeling._labeling is None, reason="the compiled short-form step is not built here"
)


_CHANGE = st.tuples(st.booleans(), st.booleans(), st.sampled_from([1.0, 0.9, 0.5]))


def _changed(m: Match, held: bool, unsure: bool, score: float) -> Match:
    concept = m.concept_id + "|Z9|" + m.concept_id if unsure else m.concept_id
    origin = "dict_heldout" if held else m.origin
    return m._replace(origin=origin, uncertain=unsure, score=score, concept_id=concept)


@_compiled_short_forms
@settings(max_examples=300, deadline=None)
@given(st.lists(_WORDS, max_size=30), st.sampled_from(["longest", "all"]), st.lists(_CHANGE))
def test_compiled_short_form_step_equals_the_python_reference(
    words: list[str], overlap: str, changes: list[tuple[bool, bool, float]]
) -> None:
    assert labeling._labeling is not None
    text = " ".join(words)
    found = match(text, _NESTED, MatchOptions(overlap=overlap))  # type: ignore[arg-type]
    spans = [_changed(m, *changes[i]) if i < len(changes) else m for i, m in enumerate(found)]
    pairs = find_abbreviations(text, {m.end for m in spans})
    for rule in ("exact", "end"):
        expected = labeling._short_form_spans_py(text, spans, pairs, rule)  # type: ignore[arg-type]
        got = labeling._labeling.short_form_spans(
            text, spans, pairs, rule == "exact", "dict_heldout", "abbreviation", Match
        )
        assert got == expected
        assert all(type(m) is Match for m in got[1])


@_compiled_short_forms
def test_compiled_short_form_step_rejects_bad_input_with_an_error() -> None:
    assert labeling._labeling is not None
    step = labeling._labeling.short_form_spans
    span = Match(0, 4, "Disease", "D1", "heat", 1.0, "dict_exact", False, 1.0)
    with pytest.raises(ValueError, match="outside the text"):
        step("heat", [span], [(0, 4, 6, 9)], True, "h", "a", Match)  # type: ignore[list-item]
    with pytest.raises(TypeError):
        step("heat", [(0, 4)], [], True, "h", "a", Match)  # type: ignore[list-item]


@_compiled_short_forms
@pytest.mark.parametrize("labels", [("Disease", "Chemical"), (2, 1), (("b",), ("a",))])
def test_compiled_short_form_step_orders_one_extent_by_label_as_python_does(
    labels: tuple[Any, Any],
) -> None:
    # The spans of one extent come in label order. The compiled sort used to compare labels as
    # str inside its C comparator, where an error cannot stop the sort: labels of another type
    # made it return with an exception set (SystemError).
    assert labeling._labeling is not None
    text = "heat shock factor (HSF) binds HSF"
    spans = [
        Match(0, 17, label, f"C{i}", "heat shock factor", 1.0, "dict_exact", False, 1.0)
        for i, label in enumerate(labels)
    ]
    pairs = find_abbreviations(text, {m.end for m in spans})
    expected = labeling._short_form_spans_py(text, spans, pairs, "exact")
    got = labeling._labeling.short_form_spans(
        text, spans, pairs, True, "dict_heldout", "abbreviation", Match
    )
    assert got == expected
    assert [m.label for m in got[1]] == sorted(labels) * 2
