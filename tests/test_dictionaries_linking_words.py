"""How the linker reduces words before n-grams (``dictionaries.linking.words``)."""

from __future__ import annotations

import pytest

from binder_core.contract.errors import ConfigError
from dictionaries.linking.linker import LinkConfig, Linker, Name, build_index
from dictionaries.linking.words import WORD_FORMS, singular_words, stemmed_words

NAMES = [
    Name("hepatotoxicity", "Disease", "D056486", "Hepatotoxicity"),
    Name("hypertension", "Disease", "D006973", "Hypertension"),
    Name("hypertensive crisis", "Disease", "D000096003", "Hypertensive Crisis"),
    Name("nicotine", "Chemical", "D009538", "Nicotine"),
    Name("nicotinate", "Chemical", "D009525", "Nicotinate"),
]


def test_singular_words_removes_regular_plural_endings() -> None:
    assert singular_words("cardiomyopathies of the kidneys") == "cardiomyopathy of the kidney"
    assert singular_words("diseases, tumours") == "disease, tumour"
    # not after a/e/i (-ies), a/e/o (-es), u/s (-s), nor within a word's first two letters;
    # a crude rule ("series" -> "sery"), harmless since names and mentions get the same one
    assert singular_words("series toes virus glass its is") == "sery toe virus glass it is"


def test_stemmed_words_stems_letters_and_keeps_the_rest() -> None:
    assert stemmed_words("hepatotoxic  hepatotoxicity") == "hepatotox  hepatotox"
    assert stemmed_words("5-fluorouracils, hypertensive\x00") == "5-fluorouracil, hypertens\x00"
    assert stemmed_words("") == ""


def test_word_forms_first_reduction_is_the_synonym_form() -> None:
    assert WORD_FORMS["singular+stem"] == (singular_words, stemmed_words)
    assert WORD_FORMS["stem"] == (stemmed_words,)


def test_linker_stems_link_a_derived_word_to_its_noun() -> None:
    singular = Linker(build_index(NAMES, "f", LinkConfig(word_form="singular")))
    both = Linker(build_index(NAMES, "f", LinkConfig(word_form="singular+stem")))
    mentions, labels = ["hepatotoxic", "hypertensive"], ["Disease", "Disease"]
    before, after = singular.link(mentions, labels), both.link(mentions, labels)
    # the singular form keeps "-ic" and "-ive": the crisis shares the whole word "hypertensive"
    assert [link.concept_id for link in before] == ["D056486", "D000096003"]
    assert [link.concept_id for link in after] == ["D056486", "D006973"]
    assert after[0].score > before[0].score


def test_linker_singular_and_stem_keep_an_exact_name_first() -> None:
    # "nicotine" and "nicotinate" share the stem "nicotin": stems alone tie them
    stem = Linker(build_index(NAMES, "f", LinkConfig(word_form="stem")))
    both = Linker(build_index(NAMES, "f", LinkConfig(word_form="singular+stem")))
    [tied] = stem.link(["nicotine"], ["Chemical"])
    assert [c.score for c in tied.candidates] == [1.0, 1.0]
    [link] = both.link(["nicotine"], ["Chemical"])
    assert (link.concept_id, link.score) == ("D009538", 1.0)
    assert link.candidates[1].concept_id == "D009525" and link.candidates[1].score < 1.0


def test_link_config_word_form_validates() -> None:
    with pytest.raises(ConfigError, match="word_form"):
        LinkConfig(word_form="porter")  # type: ignore[arg-type]
    assert LinkConfig().word_form == "singular+stem"
