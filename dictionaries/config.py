"""Options for compiling a dictionary and for matching it, validated on construction."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any, Literal

from binder_core.contract.errors import ConfigError
from binder_core.contract.options import Bounds, at_least, check_declared, option
from dictionaries.variants import VARIANT_KINDS

Ambiguity = Literal["priority", "keep_all", "drop"]
Overlap = Literal["longest", "all"]
CasePolicy = Literal["ignore", "exact", "exact-or-upper"]
"""How a source's terms match case: ``ignore`` (folded; short all-caps terms still follow the
acronym rule), ``exact`` (the term's own case), ``exact-or-upper`` (its own case or all
capitals, as in headlines). Chosen per source (``--source 'FORMAT[case=exact]=PATH'``)."""

AMBIGUITY_CHOICES: tuple[str, ...] = ("priority", "keep_all", "drop")
OVERLAP_CHOICES: tuple[str, ...] = ("longest", "all")
CASE_POLICIES: tuple[str, ...] = ("ignore", "exact", "exact-or-upper")
MAX_TERM_LENGTH = 4095
"""Longest folded term the matcher stores (the key length shares an int with the key id)."""


@dataclass(frozen=True)
class CompileConfig:
    """How entries become matcher keys. Saved inside the artifact and part of its fingerprint."""

    min_length: int = option(2, "Drop terms shorter than this (folded chars).", bounds=at_least(1))
    # very long systematic names never occur verbatim
    max_length: int = option(256, "Drop terms longer than this.", bounds=Bounds(1, MAX_TERM_LENGTH))
    use_stopwords: bool = option(True, "Drop terms on the shipped stopword list.")
    extra_stopwords: tuple[str, ...] = option((), "More stopwords (repeat or comma-separate).")
    # keys made only of digits, punctuation and spaces ("2", "1,2", "3-4")
    drop_numeric: bool = option(True, "Drop terms without any letter.")
    # no lower-case letter and at least one upper-case letter: "CT", "ACE", "IL-2"
    acronym_max_length: int = option(
        5,
        "All-caps terms up to this length match case-sensitively (0: off).",
        bounds=at_least(0),
    )
    ambiguity: Ambiguity = option(
        "keep_all",
        "A term with several labels: keep_all (marked uncertain), priority, or drop.",
    )
    # labels not listed come last
    label_priority: tuple[str, ...] = option(
        (), "Labels, most preferred first, for --ambiguity priority."
    )
    labels: tuple[str, ...] = option((), "Keep only these labels (empty: keep all).")
    variants: tuple[str, ...] = option(
        (),
        "Spelling variants to add for every term: plural (regular plural of the last word), "
        "british (tumour, haemorrhage, anaemia, oedema). Repeat or comma-separate.",
    )

    def __post_init__(self) -> None:
        check_declared(self)
        if self.max_length < self.min_length:
            raise ConfigError(
                f"max_length ({self.max_length}) must be at least min_length ({self.min_length})"
            )
        if self.ambiguity not in AMBIGUITY_CHOICES:
            raise ConfigError(
                f"ambiguity must be one of {', '.join(AMBIGUITY_CHOICES)}, got {self.ambiguity!r}"
            )
        for name in ("extra_stopwords", "label_priority", "labels", "variants"):
            value = getattr(self, name)
            if not isinstance(value, tuple) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"{name} must be a tuple of strings, got {value!r}")
        unknown = sorted(set(self.variants) - set(VARIANT_KINDS))
        if unknown:
            raise ConfigError(
                f"unknown variant kind(s) {', '.join(unknown)}; "
                f"choose from {', '.join(VARIANT_KINDS)}"
            )

    def to_json(self) -> str:
        """Canonical JSON (sorted keys): the config's part of the fingerprint. ``variants`` is
        left out while empty, so dictionaries compiled without it keep their fingerprints."""
        data = asdict(self)
        if not data["variants"]:
            del data["variants"]
        return json.dumps(data, sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CompileConfig:
        """Inverse of :meth:`to_json` (after ``json.loads``): lists become tuples."""
        fields: dict[str, Any] = {
            k: tuple(v) if isinstance(v, list) else v for k, v in data.items()
        }
        return cls(**fields)


@dataclass(frozen=True)
class MatchOptions:
    """How :func:`dictionaries.match` reads a text."""

    overlap: Overlap = option("longest", "longest: one match per place; all: nested too.")
    fuzzy: bool = option(False, "Also keep near-miss (fuzzy) matches.")
    fuzzy_threshold: float = option(
        90.0,
        "Lowest rapidfuzz ratio of a fuzzy match (stored as score / 100).",
        bounds=Bounds(0.0, 100.0, low_open=True),
    )
    # Mark fuzzy matches uncertain (neither positive nor negative for training).
    fuzzy_uncertain: bool = True
    # Candidate windows shorter than this (folded characters) are not matched fuzzily.
    fuzzy_min_length: int = 6
    # Longest candidate window, in tokens (words and punctuation marks).
    fuzzy_max_tokens: int = 8

    def __post_init__(self) -> None:
        if self.overlap not in OVERLAP_CHOICES:
            raise ConfigError(
                f"overlap must be one of {', '.join(OVERLAP_CHOICES)}, got {self.overlap!r}"
            )
        check_declared(self)
        if self.fuzzy_min_length < 1 or self.fuzzy_max_tokens < 1:
            raise ConfigError("fuzzy_min_length and fuzzy_max_tokens must be >= 1")


@dataclass(frozen=True)
class SplitConfig:
    """How ``binder dict split`` holds concepts out of a compiled dictionary."""

    # by concept id; a term without an id is its own concept
    holdout: float = option(
        0.1,
        "Share of the concepts held out.",
        bounds=Bounds(0.0, 1.0, low_open=True, high_open=True),
    )
    # the choice is a hash of seed and concept id
    seed: int = option(0, "Changes which concepts are held out.", bounds=at_least(0))

    def __post_init__(self) -> None:
        check_declared(self)
