"""Options of the per-document labeling step (:mod:`pipelines.labeling`).

Kept apart from the step itself, which imports the matcher, so the CLI can read the defaults
without importing pyarrow or the dictionaries.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

from binder_core.errors import ConfigError

AbbreviationLongForm = Literal["exact", "end"]
AbbreviationConflict = Literal["keep", "uncertain", "drop"]


@dataclass(frozen=True)
class LabelingConfig:
    """What is added to the typed dictionary's matches (see the module docstring)."""

    # Give the short forms of labelled long forms the long form's label.
    abbreviations: bool = True
    # Which dictionary span labels a long form: "exact" (its extent) or "end" (ends with it).
    abbreviation_long_form: AbbreviationLongForm = "end"
    # The dictionary's spans of a short form whose long form it does not label: keep, mark
    # uncertain, or drop.
    abbreviation_conflict: AbbreviationConflict = "keep"

    def __post_init__(self) -> None:
        for name, kind in (
            ("abbreviation_long_form", AbbreviationLongForm),
            ("abbreviation_conflict", AbbreviationConflict),
        ):
            if getattr(self, name) not in get_args(kind):
                raise ConfigError(
                    f"--{name.replace('_', '-')} must be one of {get_args(kind)}, "
                    f"got {getattr(self, name)!r}"
                )
