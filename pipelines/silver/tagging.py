"""A compiled dictionary as a text -> spans function, for hybrid prediction outside Beam.

``binder predict --dictionary`` and ``binder evaluate --dictionary`` merge these spans with the
model's (:mod:`binder_core.inference.hybrid`). They are the spans ``binder silver build`` writes for
the same text, dictionary and labeling options (:func:`pipelines.silver.labeling.label_document`:
dictionary matches plus the short forms of labelled long forms).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from binder_core.contract.errors import ConfigError
from pipelines.silver.dictionary_files import load_dictionary
from pipelines.silver.labeling_config import LabelingConfig


def dictionary_tagger(
    path: str,
    labels: tuple[str, ...] | None = None,
    config: LabelingConfig | None = None,
) -> Callable[[str], list[dict[str, Any]]]:
    """Load ``path`` once and return the function that labels a text with it.

    ``labels`` (a model's types): a dictionary type outside them is a :class:`ConfigError`,
    since its spans could not be scored or merged with the model's.
    """
    from dictionaries import MatchOptions
    from pipelines.silver.labeling import Lexicons, label_document

    compiled = load_dictionary(path)
    if labels is not None:
        unknown = sorted(set(compiled.labels) - set(labels))
        if unknown:
            raise ConfigError(
                f"{path}: dictionary type(s) {unknown} are not types of the model "
                f"({list(labels)}); compile the dictionary with the model's types"
            )
    lexicons = Lexicons(typed=compiled)
    options = MatchOptions()
    labeling = config or LabelingConfig()

    def spans(text: str) -> list[dict[str, Any]]:
        return [m._asdict() for m in label_document(text, lexicons, options, labeling)]

    return spans
