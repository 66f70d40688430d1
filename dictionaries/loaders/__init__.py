"""Dictionary loaders: every format streams :class:`~dictionaries.records.Entry` records.

A source is written ``FORMAT=PATH``, or ``FORMAT[OPTION=VALUE,...]=PATH`` with options of that
source alone (:class:`SourceSpec`): ``case`` (:data:`~dictionaries.config.CasePolicy`) and
``label`` (every entry of the source gets this type; required by ``terms`` lists). Quote it in
a shell: ``--source 'terms[label=PER,case=exact-or-upper]=person.txt'``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, NamedTuple

from binder_core.contract.errors import ConfigError
from dictionaries.config import CASE_POLICIES, CasePolicy
from dictionaries.loaders.autoner import load_autoner
from dictionaries.loaders.tables import load_kb, load_mesh
from dictionaries.loaders.terms import load_terms
from dictionaries.loaders.umls import load_umls
from dictionaries.records import Entry

LOADERS: dict[str, Callable[..., Iterator[Entry]]] = {
    "umls": load_umls,
    "kb": load_kb,
    "autoner": load_autoner,
    "mesh": load_mesh,
    "terms": load_terms,
}
SOURCE_FORMATS: tuple[str, ...] = tuple(LOADERS)
SOURCE_OPTIONS: tuple[str, ...] = ("case", "label")


class SourceSpec(NamedTuple):
    """One ``--source``: its format, path and per-source options."""

    format: str
    path: str
    case: CasePolicy = "ignore"  # how its terms match case
    label: str | None = None  # the type of all its entries (None: the loader's own)


def load_source(fmt: str, path: str | os.PathLike[str], **options: Any) -> Iterator[Entry]:
    """Stream the entries of one source; ``options`` go to that format's loader."""
    loader = LOADERS.get(fmt)
    if loader is None:
        raise ConfigError(
            f"unknown dictionary format {fmt!r}; use one of {', '.join(SOURCE_FORMATS)}"
        )
    try:
        return loader(path, **options)
    except TypeError as exc:
        raise ConfigError(f"bad option for the {fmt} loader: {exc}") from None


def parse_source_spec(spec: str) -> SourceSpec:
    """``"kb=path/to.tsv"`` -> ``SourceSpec("kb", "path/to.tsv")``;
    ``"terms[label=PER,case=exact]=p.txt"`` also sets the source's options."""
    head, sep, path = spec.partition("=")
    options: dict[str, str] = {}
    if "[" in head:
        head, _, rest = spec.partition("[")
        inner, closed, tail = rest.partition("]")
        if not closed or not tail.startswith("="):
            raise ConfigError(
                f"bad --source {spec!r}; write FORMAT[OPTION=VALUE,...]=PATH, "
                "e.g. 'terms[label=PER,case=exact]=person.txt'"
            )
        sep, path = "=", tail[1:]
        for item in filter(None, (i.strip() for i in inner.split(","))):
            key, eq, value = (part.strip() for part in item.partition("="))
            if not eq or key not in SOURCE_OPTIONS or not value:
                raise ConfigError(
                    f"bad --source {spec!r}: option {item!r}; use OPTION=VALUE with OPTION "
                    f"one of {', '.join(SOURCE_OPTIONS)}"
                )
            options[key] = value
    fmt, path = head.strip().lower(), path.strip()
    if not sep or not path:
        raise ConfigError(
            f"bad --source {spec!r}; write FORMAT=PATH with FORMAT one of "
            f"{', '.join(SOURCE_FORMATS)}"
        )
    if fmt not in LOADERS:
        raise ConfigError(
            f"bad --source {spec!r}: unknown format {fmt!r}; use one of {', '.join(SOURCE_FORMATS)}"
        )
    case = options.get("case", "ignore")
    if case not in CASE_POLICIES:
        raise ConfigError(
            f"bad --source {spec!r}: case={case!r}; use one of {', '.join(CASE_POLICIES)}"
        )
    return SourceSpec(fmt, path, case, options.get("label"))  # type: ignore[arg-type]


def iter_sources(
    specs: Iterable[SourceSpec | tuple[str, str]],
    options: Mapping[str, Mapping[str, Any]] | None = None,
) -> Iterator[Entry]:
    """Chain the entries of the sources; ``options[format]`` go to that format's loader, and
    each source's own ``case`` and ``label`` are applied to its entries."""
    for item in specs:
        spec = SourceSpec(*item)
        loader_options = dict((options or {}).get(spec.format, {}))
        if spec.format == "terms":
            loader_options["label"] = spec.label
        entries = load_source(spec.format, spec.path, **loader_options)
        if spec.label is None and spec.case == "ignore":
            yield from entries
            continue
        for entry in entries:
            yield Entry(entry.term, spec.label or entry.label, entry.concept_id, entry.source,
                        spec.case)  # fmt: skip
