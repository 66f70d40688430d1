"""Dictionary loaders: every format streams :class:`~dictionaries.records.Entry` records."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from binder_core.errors import ConfigError
from dictionaries.loaders.autoner import load_autoner
from dictionaries.loaders.tables import load_kb, load_mesh
from dictionaries.loaders.umls import load_umls
from dictionaries.records import Entry

LOADERS: dict[str, Callable[..., Iterator[Entry]]] = {
    "umls": load_umls,
    "kb": load_kb,
    "autoner": load_autoner,
    "mesh": load_mesh,
}
SOURCE_FORMATS: tuple[str, ...] = tuple(LOADERS)


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


def parse_source_spec(spec: str) -> tuple[str, str]:
    """``"kb=path/to.tsv"`` -> ``("kb", "path/to.tsv")``."""
    fmt, sep, path = spec.partition("=")
    fmt, path = fmt.strip().lower(), path.strip()
    if not sep or not path:
        raise ConfigError(
            f"bad --source {spec!r}; write FORMAT=PATH with FORMAT one of "
            f"{', '.join(SOURCE_FORMATS)}"
        )
    if fmt not in LOADERS:
        raise ConfigError(
            f"bad --source {spec!r}: unknown format {fmt!r}; use one of {', '.join(SOURCE_FORMATS)}"
        )
    return fmt, path


def iter_sources(
    specs: Iterable[tuple[str, str]], options: Mapping[str, Mapping[str, Any]] | None = None
) -> Iterator[Entry]:
    """Chain the entries of ``(format, path)`` sources; ``options[format]`` go to its loader."""
    for fmt, path in specs:
        yield from load_source(fmt, path, **dict((options or {}).get(fmt, {})))
