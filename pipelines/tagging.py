"""A compiled dictionary as a text -> spans function, for hybrid prediction outside Beam.

``binder predict --dictionary`` and ``binder evaluate --dictionary`` merge these spans with the
model's (:mod:`binder_core.hybrid`); they are the spans ``binder silver build`` would write for
the same text with the same dictionary and options.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from binder_core.errors import ConfigError
from pipelines.label import load_dictionary


def dictionary_tagger(
    path: str, labels: tuple[str, ...] | None = None
) -> Callable[[str], list[dict[str, Any]]]:
    """Load ``path`` once and return the function that matches it against a text.

    ``labels`` (a model's types): a dictionary type outside them is a :class:`ConfigError`,
    since its spans could not be scored or trained on.
    """
    from dictionaries import MatchOptions, match

    compiled = load_dictionary(path)
    if labels is not None:
        unknown = sorted(set(compiled.labels) - set(labels))
        if unknown:
            raise ConfigError(
                f"{path}: dictionary type(s) {unknown} are not types of the model "
                f"({list(labels)}); compile the dictionary with the model's types"
            )
    options = MatchOptions()

    def spans(text: str) -> list[dict[str, Any]]:
        return [m._asdict() for m in match(text, compiled, options)]

    return spans
