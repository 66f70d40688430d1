"""Spelling variants added at compile time: plural and British forms of dictionary terms."""

from __future__ import annotations

import pytest

from binder_core.contract.errors import ConfigError
from dictionaries import CompileConfig, Entry, MatchOptions, compile_dictionary, match
from dictionaries.variants import british, plural, term_variants


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("Renal Cell Carcinoma", "Renal Cell Carcinomas"),
        ("Neuropathy", "Neuropathies"),
        ("delay", "delays"),  # a vowel before -y: regular -s
        ("box", "boxes"),
        ("Stitch", "Stitches"),
        ("tumor", "tumors"),
        ("Diabetes Mellitus", None),  # ends in s
        ("psoriasis", None),
        ("ALS", None),  # capitals: an acronym
        ("type 2", None),  # the last word is not letters
        ("IL2b", None),  # letters glued to digits are no word
        ("Anemia, Hemolytic", None),  # an inverted heading
        ("ox", None),  # too short
    ],
)
def test_plural_of_the_last_word(term: str, expected: str | None) -> None:
    assert plural(term) == expected


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("Tumor", "Tumour"),
        ("brain tumors", "brain tumours"),
        ("Hemorrhage", "Haemorrhage"),
        ("hemolytic anemia", "haemolytic anaemia"),
        ("HEMORRHAGE", "HAEMORRHAGE"),
        ("Hemisphere", "Hemisphere"),  # not a "haem-" word
        ("chemical", "chemical"),  # "hem" inside a word is left alone
        ("Edema", "Oedema"),
        ("Diarrheas", "Diarrhoeas"),
        ("sleep apnea", "sleep apnoea"),
        ("Fetal Death", "Foetal Death"),
        ("fetch", "fetch"),
        ("Esophageal Neoplasms", "Oesophageal Neoplasms"),
        ("Leukemia, Myeloid", "Leukaemia, Myeloid"),
    ],
)
def test_british_spelling(term: str, expected: str) -> None:
    assert british(term) == expected


def test_term_variants_combine_kinds_without_repeats() -> None:
    assert term_variants("Tumor", ("plural", "british")) == ["Tumors", "Tumour", "Tumours"]
    assert term_variants("Tumor", ("british",)) == ["Tumour"]
    assert term_variants("Tumor", ()) == []
    assert term_variants("Diabetes Mellitus", ("plural", "british")) == []


def test_compiled_variants_match_with_the_terms_label_and_concept() -> None:
    entries = [
        Entry("Tumor", "Disease", "D009369", "kb"),
        Entry("Renal Cell Carcinoma", "Disease", "D1", "kb"),
    ]
    text = "Two tumours and renal cell carcinomas."
    plain = compile_dictionary(entries)
    assert match(text, plain, MatchOptions()) == []
    compiled = compile_dictionary(entries, CompileConfig(variants=("plural", "british")))
    found = match(text, compiled, MatchOptions())
    assert [(text[m.start : m.end], m.label, m.concept_id) for m in found] == [
        ("tumours", "Disease", "D009369"),
        ("renal cell carcinomas", "Disease", "D1"),
    ]
    assert compiled.stats["variants"] == 4  # Tumors, Tumour, Tumours, ...Carcinomas
    assert compiled.fingerprint != plain.fingerprint


def test_variants_are_off_by_default_and_keep_old_fingerprints() -> None:
    assert "variants" not in CompileConfig().to_json()
    assert "variants" in CompileConfig(variants=("plural",)).to_json()
    with pytest.raises(ConfigError, match="unknown variant kind"):
        CompileConfig(variants=("plurals",))
