"""Short forms linked by their long form or by the span that spells them
(``dictionaries.linking.long_forms``)."""

from __future__ import annotations

from dictionaries.linking.linker import Linker, Name, build_index
from dictionaries.linking.long_forms import (
    acronym_sources,
    initials,
    is_short_form,
    long_form_of,
    span_long_forms,
    spells,
)

NAMES = [
    Name("overactive bladder", "Disease", "D053201", "Overactive Bladder"),
    Name("oat deficiency", "Disease", "D000001", "OAT Deficiency"),
    Name("divalproex", "Chemical", "D014635", "Divalproex"),
    Name("ddvp", "Chemical", "D004006", "DDVP"),
    Name("nad", "Chemical", "D009243", "NAD"),
    Name("nicotinic acid", "Chemical", "D009525", "Nicotinic Acid"),
    Name("contrast induced nephropathy", "Disease", "D007674", "Kidney Diseases"),
    Name("cin", "Disease", "D005921", "CIN"),
]


def test_span_long_forms_accepts_colon_comma_and_bracket_shapes() -> None:
    text = "phenobarbital (PB: 50 mg), testosterone (T, s.c.), estradiol [(E2)] and (EE)"
    spans = [(0, 13, "Chemical"), (15, 17, "Chemical"), (27, 39, "Chemical"),
             (41, 42, "Chemical"), (51, 60, "Chemical"), (63, 65, "Chemical"),
             (72, 74, "Chemical")]  # fmt: skip
    assert span_long_forms(text, spans) == {
        ("PB", "Chemical"): "phenobarbital",
        ("T", "Chemical"): "testosterone",
        ("E2", "Chemical"): "estradiol",
    }  # "(EE)" follows "and", no span


def test_long_form_of_tries_the_plural_and_the_singular() -> None:
    found = {("VSDs", "Disease"): "ventricular septal defects", ("MI", "Disease"): "infarction"}
    assert long_form_of(found, "VSD", "Disease") == "ventricular septal defects"
    assert long_form_of(found, " MIs", "Disease") == "infarction"
    assert long_form_of(found, "MI", "Chemical") is None
    assert long_form_of({}, "", "Disease") is None


def test_is_short_form_needs_capitals_in_one_short_token() -> None:
    assert [is_short_form(s) for s in ("OAB", "PGs", "CaCl2", "PGE(2)", "Li", "T")] == [True] * 6
    assert [is_short_form(s) for s in ("Iron", "iv", "GI AEs", "ABCDEFGHI", "")] == [False] * 5


def test_initials_split_at_spaces_hyphens_and_slashes() -> None:
    assert initials("Contrast-induced nephropathy") == "cin"
    assert initials("breast/ovarian  cancer") == "boc"
    assert initials("") == ""


def test_spells_needs_the_first_letter_then_the_others_in_order() -> None:
    assert spells("dvp", "Divalproex") and spells("oab", "overactive bladder")
    assert not spells("dvp", "valproate") and not spells("pvd", "divalproex")
    assert not spells("d", "divalproex")  # one letter spells nothing


def test_acronym_sources_prefers_initials_then_letters_in_order() -> None:
    text = "overactive bladder; oral agent bolus; OABs; pus"
    spans = [(0, 18, "Disease"), (20, 36, "Disease"), (38, 42, "Disease"), (44, 47, "Disease")]
    # "oral agent bolus" spells OAB by its initials; "overactive bladder" only letter by letter
    assert acronym_sources(text, spans, [True] * 4, [False] * 4) == {2: 1}
    assert acronym_sources(text, spans, [True, False, True, True], [False] * 4) == {2: 0}
    # a short form that is a name itself is not re-linked by letters alone
    named = [False, False, True, False]
    assert acronym_sources(text, spans, [True, False, True, True], named) == {}
    assert acronym_sources(text, spans, [False] * 4, [False] * 4) == {}
    assert acronym_sources("", [], [], []) == {}


def test_link_in_document_links_undefined_short_forms_like_their_spelling_span() -> None:
    linker = Linker(build_index(NAMES, "f"))
    text = "Women with overactive bladder took divalproex. OAB; DVP; NAD; nicotinic acid."
    spans = [(11, 29, "Disease"), (35, 45, "Chemical"), (47, 50, "Disease"), (52, 55, "Chemical"),
             (57, 60, "Chemical"), (62, 76, "Chemical")]  # fmt: skip
    links = linker.link_in_document(text, spans)
    assert [link.concept_id for link in links] == [
        "D053201", "D014635", "D053201", "D014635", "D009243", "D009525",
    ]  # fmt: skip
    # alone, "OAB" finds no name and "DVP" finds the pesticide
    assert [link.concept_id for link in linker.link(["OAB", "DVP"], ["Disease", "Chemical"])] == [
        "",
        "D004006",
    ]


def test_link_in_document_initials_outrank_a_short_form_name() -> None:
    linker = Linker(build_index(NAMES, "f"))
    text = "Contrast-induced nephropathy (CIN) rose; CIN"
    spans = [(0, 28, "Disease"), (41, 44, "Disease")]
    assert [link.concept_id for link in linker.link_in_document(text, spans)] == ["D007674"] * 2
