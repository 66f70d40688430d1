"""Options of the per-document labeling step (:mod:`pipelines.silver.labeling`).

Kept apart from the step itself, which imports the matcher, so the CLI can read the defaults
without importing pyarrow or the dictionaries.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, Literal, get_args

from binder_core.contract.errors import ConfigError
from binder_core.contract.options import option

AbbreviationLongForm = Literal["exact", "end"]


@dataclass(frozen=True)
class LabelingConfig:
    """What is added to the typed dictionary's matches (see the module docstring)."""

    abbreviations: bool = option(
        True,
        "Short forms defined in a document (Schwartz & Hearst) get the label of their long "
        "form where the dictionary labels it (origin abbreviation).",
    )
    abbreviation_long_form: AbbreviationLongForm = option(
        "end",
        "exact: a dictionary span with the long form's extent labels it; end: any dictionary "
        "span that ends where the long form ends.",
    )

    composite_mentions: bool = option(
        False,
        "Coordinated mentions that share a head ('breast and ovarian cancer') become one span "
        "where the dictionary knows each conjunct with the head ('breast cancer') under the "
        "span's label (origin dict_composite).",
    )
    name_labels: tuple[str, ...] = option(
        (),
        "Labels whose lexicons hold parts of names (first names, surnames): a match of one is "
        "widened over the adjacent capitalized words and initials, and touching matches of it "
        "merge, so 'Andy' in 'Andy Caddick' labels the whole name (origin dict_name).",
    )

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> LabelingConfig:
        """The labeling of a run from its recorded options (a silver manifest's ``options``,
        which hold other options too); a field it does not name keeps its default."""
        names = {f.name for f in fields(cls)}
        chosen: dict[str, Any] = {
            k: tuple(v) if isinstance(v, list) else v for k, v in options.items() if k in names
        }
        return cls(**chosen)

    def __post_init__(self) -> None:
        if not isinstance(self.name_labels, tuple) or not all(
            isinstance(label, str) and label for label in self.name_labels
        ):
            raise ConfigError(f"name labels must be non-empty strings, got {self.name_labels!r}")
        if self.abbreviation_long_form not in get_args(AbbreviationLongForm):
            raise ConfigError(
                f"--abbreviation-long-form must be one of {get_args(AbbreviationLongForm)}, "
                f"got {self.abbreviation_long_form!r}"
            )
