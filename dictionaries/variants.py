"""Spelling variants of dictionary terms that vocabularies list only in one form.

A vocabulary such as MeSH gives "Renal Cell Carcinoma" and "Tumor", while running text also
writes "renal cell carcinomas" and (in British English) "tumour". :func:`term_variants` adds
those forms at compile time, so they are keys like any other term (with the same label and
concept ids). A variant that no text contains costs one automaton key and never matches, so the
rules may over-generate; what they must not do is produce another existing word.

- ``plural``: the regular English plural of the last word: ``-y`` after a consonant becomes
  ``-ies`` ("neuropathy" -> "neuropathies"), ``-x``, ``-z``, ``-ch``, ``-sh`` take ``-es``, and
  other words ``-s``. Words that end in ``s`` ("diabetes", "psoriasis"), that are not all
  letters ("type 2"), shorter than three letters or written in capitals ("ALS", "DM") get none,
  nor do inverted headings ("Anemia, Hemolytic").
- ``british``: the British spellings of medical word parts (:data:`BRITISH`): "tumor" ->
  "tumour", "hemorrhage" -> "haemorrhage", "anemia" -> "anaemia", "edema" -> "oedema", ...
"""

from __future__ import annotations

import re
from collections.abc import Collection

VARIANT_KINDS: tuple[str, ...] = ("plural", "british")

BRITISH: tuple[tuple[str, str], ...] = (
    (r"\btumor", "tumour"),
    (r"\bhem(?!i)(?=[a-z])", "haem"),  # hemorrhage, hematoma, hemolytic (not hemisphere)
    (r"(?<=[a-z])emia(?=s?\b)", "aemia"),  # anemia, leukemia, ischemia, hyperglycemia
    (r"\bedema", "oedema"),
    (r"\besophag", "oesophag"),
    (r"\bestrogen", "oestrogen"),
    (r"rrhea(?=s?\b)", "rrhoea"),  # diarrhea, amenorrhea
    (r"pnea(?=s?\b)", "pnoea"),  # apnea, dyspnea
    (r"\bpediatric", "paediatric"),
    (r"\borthopedic", "orthopaedic"),
    (r"\bfet(?=(al|us)\b)", "foet"),
    (r"\bceliac", "coeliac"),
    (r"\bgynecolog", "gynaecolog"),
    (r"\banesthe", "anaesthe"),
    (r"\bcesarean", "caesarean"),
    (r"\bleukocyt", "leucocyt"),
    (r"\bsulfur", "sulphur"),
    (r"\baluminum\b", "aluminium"),
)
"""(American pattern, British replacement), matched case-insensitively on word parts."""

_BRITISH = tuple((re.compile(pattern, re.IGNORECASE), british) for pattern, british in BRITISH)
_LAST_WORD = re.compile(r"([A-Za-z]+)$")


def term_variants(term: str, kinds: Collection[str]) -> list[str]:
    """The variants of ``term`` of the given kinds (never ``term`` itself), in a fixed order:
    the plural, then the British spelling of the term and of its plural."""
    found: list[str] = []
    if "plural" in kinds:
        form = plural(term)
        if form is not None:
            found.append(form)
    if "british" in kinds:
        for form in (term, *found):
            other = british(form)
            if other != form and other not in found:
                found.append(other)
    return found


def plural(term: str) -> str | None:
    """The regular plural of the last word of ``term``, or None (see the module rules)."""
    m = _LAST_WORD.search(term)
    if m is None or ", " in term:  # an inverted heading ("Anemia, Hemolytic") is not text
        return None
    word = m.group(1)
    if len(word) < 3 or word.isupper() or word[-1] in "sS":
        return None
    if m.start() > 0 and term[m.start() - 1].isalnum():
        return None  # "IL2b": the letters are not a word of their own
    if word[-1] in "yY" and word[-2].lower() not in "aeiou":
        return term[:-1] + "ies"
    if word.lower().endswith(("x", "z", "ch", "sh")):
        return term + "es"
    return term + "s"


def british(term: str) -> str:
    """``term`` with :data:`BRITISH` applied (the first letter keeps its case)."""
    out = term
    for pattern, replacement in _BRITISH:
        out = pattern.sub(_SameCase(replacement), out)
    return out


class _SameCase:
    """A ``re.sub`` replacement: ``replacement`` in the case of what it replaces."""

    def __init__(self, replacement: str) -> None:
        self.replacement = replacement

    def __call__(self, m: re.Match[str]) -> str:
        found, new = m.group(0), self.replacement
        if found.isupper() and len(found) > 1:
            return new.upper()
        return new[:1].upper() + new[1:] if found[:1].isupper() else new
