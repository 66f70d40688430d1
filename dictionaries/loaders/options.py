"""The options of each source format, declared once: the loaders take their defaults from here
and ``binder dict compile`` its ``--umls-*``, ``--kb-*``, ``--mesh-*`` and ``--autoner-*``
options (default and help)."""

from __future__ import annotations

from dataclasses import dataclass

from binder_core.contract.options import option


@dataclass(frozen=True)
class UmlsOptions:
    """A UMLS META folder (MRCONSO.RRF + MRSTY.RRF)."""

    languages: tuple[str, ...] = option(("ENG",), "UMLS languages (LAT).")
    sources: tuple[str, ...] = option((), "UMLS source vocabularies (SAB); all if empty.")
    term_types: tuple[str, ...] = option((), "UMLS term types (TTY); all if empty.")
    keep_suppressed: bool = option(False, "Keep suppressed UMLS strings.")


@dataclass(frozen=True)
class KbOptions:
    """A KB table (TSV, CSV or JSON Lines) with a term and a label per row."""

    term_column: str = option("term", "KB tables: term column.")
    label_column: str = option("label", "KB tables: label column.")
    label: str | None = option(None, "KB tables: one fixed label for all rows.")
    id_column: str | None = option(None, "KB tables: concept id column.")
    synonyms_column: str | None = option(None, "KB tables: synonyms column.")
    synonym_separator: str = option("|", "KB tables: synonym separator.")


@dataclass(frozen=True)
class MeshOptions:
    """The flat MeSH term table."""

    include_permuted: bool = option(False, "Keep permuted MeSH terms.")


@dataclass(frozen=True)
class AutonerOptions:
    """An AutoNER dictionary (``Type<TAB>term`` lines)."""

    detokenized: bool = option(True, "AutoNER: also add each spaced term in its detokenized form.")
