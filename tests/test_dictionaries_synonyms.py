"""Word synonyms mined from names of one concept that differ in one word."""

from __future__ import annotations

from dictionaries.linking.linker import Linker, Name, build_index
from dictionaries.linking.synonyms import MAX_VARIANTS, mine_synonyms, word_variants

CONCEPTS = [
    ["brain neoplasm", "brain tumor", "brain cancer"],
    ["breast neoplasm", "breast tumor"],
    ["renal failure", "kidney failure"],
    ["acute renal failure", "acute kidney injury"],  # two words differ: no pair
    ["aspirin", "acetylsalicylic acid"],  # different lengths: no pair
]


def test_mine_synonyms_keeps_pairs_seen_in_enough_concepts() -> None:
    assert mine_synonyms(CONCEPTS) == {"neoplasm": ("tumor",), "tumor": ("neoplasm",)}
    assert mine_synonyms(CONCEPTS, min_support=1) == {
        "cancer": ("neoplasm", "tumor"),
        "kidney": ("renal",),
        "neoplasm": ("tumor", "cancer"),  # seen twice, then once (ties by word)
        "renal": ("kidney",),
        "tumor": ("neoplasm", "cancer"),
    }
    assert mine_synonyms([]) == {}


def test_word_variants_replace_one_word_at_a_time() -> None:
    synonyms = {"liver": ("hepatic",), "tumor": ("neoplasm", "cancer")}
    assert word_variants("liver tumor", synonyms) == [
        "hepatic tumor", "liver neoplasm", "liver cancer",
    ]  # fmt: skip
    assert word_variants("aspirin", synonyms) == []
    many = {"a": tuple("bcdefgh")}
    assert len(word_variants("a a", many)) == MAX_VARIANTS


def test_linker_finds_a_name_through_a_mined_synonym() -> None:
    groups = {
        "D1": ["brain neoplasm", "brain tumor"],
        "D2": ["breast neoplasm", "breast tumor"],
        "D3": ["liver neoplasm"],
        "D4": ["tumor"],
    }
    names = [Name(key, "Disease", concept, key) for concept, keys in groups.items() for key in keys]
    linker = Linker(build_index(names, "f"))
    [link] = linker.link(["liver tumors"], ["Disease"])
    assert (link.concept_id, link.score, link.name) == ("D3", 1.0, "liver neoplasm")
