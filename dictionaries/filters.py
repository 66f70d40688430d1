"""Term filters applied at compile time: length, numbers-only, stopwords / common words."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from dictionaries.config import CompileConfig
from dictionaries.normalize import normalize_term


@lru_cache(maxsize=1)
def shipped_stopwords() -> frozenset[str]:
    """The folded words of ``dictionaries/data/stopwords.txt`` (``#`` starts a comment)."""
    text = resources.files("dictionaries").joinpath("data/stopwords.txt").read_text("utf-8")
    words = (line.split("#", 1)[0].strip() for line in text.splitlines())
    return frozenset(normalize_term(w) for w in words if w)


_LETTER = re.compile(r"[^\W\d_]")


def is_numeric(key: str) -> bool:
    """True for keys with no letter at all ("2", "1,2", "3-4 %")."""
    return _LETTER.search(key) is None


@dataclass(frozen=True)
class TermFilter:
    """Decides whether a folded key may enter the matcher."""

    min_length: int
    max_length: int
    drop_numeric: bool
    stopwords: frozenset[str]

    @classmethod
    def from_config(cls, config: CompileConfig) -> TermFilter:
        words = shipped_stopwords() if config.use_stopwords else frozenset()
        extra = frozenset(normalize_term(w) for w in config.extra_stopwords)
        return cls(config.min_length, config.max_length, config.drop_numeric, words | extra)

    def reject_reason(self, key: str, case_sensitive: bool = False) -> str | None:
        """``None`` to keep ``key``, else why it is dropped (a stats counter suffix).

        Case-sensitive (acronym) terms skip the stopword list: "NO" is not "no".
        """
        if not key:
            return "empty"
        if len(key) < self.min_length:
            return "too_short"
        if len(key) > self.max_length:
            return "too_long"
        if self.drop_numeric and is_numeric(key):
            return "numeric"
        if not case_sensitive and key in self.stopwords:
            return "stopword"
        return None
