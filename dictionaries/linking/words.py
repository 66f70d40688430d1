"""How the linker reduces each word before cutting it into n-grams: names and mentions alike.

A name and a mention of one concept often differ only in a word's ending: a plural
("cardiomyopathies" / "Cardiomyopathy"), or a derivation ("hepatotoxic" / "hepatotoxicity",
"hypertensive" / "hypertension", "diabetic" / "diabetes"). Two reductions, chosen by
``LinkConfig.word_form``:

* ``singular``: regular plural endings removed (Harman's S-stemmer);
* ``stem``: the Snowball English (Porter 2) stemmer of the ``snowballstemmer`` package, which
  also removes derivational endings (-ic, -ity, -ive, -ion, -al, ...).

Both rewrite letters inside words only: spaces, digits, punctuation and NUL stay where they are,
which :func:`dictionaries.linking.ngrams.ngram_counts` requires of its ``transform``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import Literal

import snowballstemmer

WordForm = Literal["singular", "stem", "singular+stem"]

_PLURAL = re.compile(r"(?<=\w\w)(?:(?<![aei])ies|(?<![aeo])es|(?<![us])s)\b")
_PLURAL_ENDINGS = {"ies": "y", "es": "e", "s": ""}
_WORD = re.compile(r"[^\W\d_]+")
_STEMMER = snowballstemmer.stemmer("english")


def singular_words(folded: str) -> str:
    """Each word's regular plural ending removed (Harman's S-stemmer: -ies -> -y, -es -> -e,
    -s -> ""; not after a/e/i, a/e/o, u/s respectively), for names and mentions alike, so
    "cardiomyopathies" and "cardiomyopathy" share their last n-grams."""
    return _PLURAL.sub(lambda m: _PLURAL_ENDINGS[m.group()], folded)


@lru_cache(maxsize=500_000)
def _stem(word: str) -> str:
    return str(_STEMMER.stemWord(word))


def stemmed_words(folded: str) -> str:
    """Each run of letters replaced by its Snowball English stem ("hepatotoxicity" ->
    "hepatotox", "5-fluorouracils" -> "5-fluorouracil")."""
    return _WORD.sub(lambda m: _stem(m.group()), folded)


WORD_FORMS: dict[str, tuple[Callable[[str], str], ...]] = {
    "singular": (singular_words,),
    "stem": (stemmed_words,),
    "singular+stem": (singular_words, stemmed_words),
}
"""The reductions of each :data:`WordForm`: a string's n-gram counts are summed over them (the
first one is also the form synonyms are mined and substituted in)."""
