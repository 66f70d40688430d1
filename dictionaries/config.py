"""Options for compiling a dictionary and for matching it, validated on construction."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any, Literal

from binder_core.errors import ConfigError
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

    # Keys (folded terms) shorter than this many characters are dropped.
    min_length: int = 2
    # Keys longer than this are dropped (very long systematic names never occur verbatim).
    max_length: int = 256
    # Drop keys found in the shipped stopword / common-word list.
    use_stopwords: bool = True
    # More words to drop (any case; folded like terms).
    extra_stopwords: tuple[str, ...] = ()
    # Drop keys made only of digits, punctuation and spaces ("2", "1,2", "3-4").
    drop_numeric: bool = True
    # Terms of at most this many characters with no lower-case letter and at least one upper-case
    # letter ("CT", "ACE", "IL-2") match case-sensitively; 0 turns the rule off.
    acronym_max_length: int = 5
    # What to do with a key that carries several labels.
    ambiguity: Ambiguity = "keep_all"
    # For ambiguity="priority": labels, most preferred first (labels not listed come last).
    label_priority: tuple[str, ...] = ()
    # Keep only these labels (empty: keep all).
    labels: tuple[str, ...] = ()
    # Spelling variants added for every term (dictionaries.variants): "plural", "british".
    variants: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.min_length < 1:
            raise ConfigError(f"min_length must be >= 1, got {self.min_length}")
        if not self.min_length <= self.max_length <= MAX_TERM_LENGTH:
            raise ConfigError(
                f"max_length must lie in [min_length, {MAX_TERM_LENGTH}], got {self.max_length}"
            )
        if self.acronym_max_length < 0:
            raise ConfigError(f"acronym_max_length must be >= 0, got {self.acronym_max_length}")
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

    # "longest": leftmost-longest, non-overlapping spans; "all": every match (nested data).
    overlap: Overlap = "longest"
    # Also look for near-misses of dictionary terms (rapidfuzz ratio).
    fuzzy: bool = False
    # rapidfuzz score (0-100) a near-miss must reach; stored as score / 100.
    fuzzy_threshold: float = 90.0
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
        if not 0.0 < self.fuzzy_threshold <= 100.0:
            raise ConfigError(
                f"fuzzy_threshold is a rapidfuzz score in (0, 100], got {self.fuzzy_threshold}"
            )
        if self.fuzzy_min_length < 1 or self.fuzzy_max_tokens < 1:
            raise ConfigError("fuzzy_min_length and fuzzy_max_tokens must be >= 1")


@dataclass(frozen=True)
class SplitConfig:
    """How ``binder dict split`` holds concepts out of a compiled dictionary."""

    # Share of the concepts (by concept id; a term without an id is its own concept) held out.
    holdout: float = 0.1
    # Changes which concepts are held out (the choice is a hash of seed and concept id).
    seed: int = 0

    def __post_init__(self) -> None:
        if not 0.0 < self.holdout < 1.0:
            raise ConfigError(f"--holdout must lie strictly between 0 and 1, got {self.holdout}")
        if self.seed < 0:
            raise ConfigError(f"--seed must be >= 0, got {self.seed}")
