"""UMLS Rich Release Format: MRCONSO (terms) + MRSTY (semantic types) -> labelled entries.

MRSTY (one row per concept and type) is read into a ``CUI -> labels`` map for the concepts that
get a label; MRCONSO (about 16M rows in a full release) is streamed row by row.

Labels come from a mapping file of ``KEY<TAB>LABEL`` lines, where ``KEY`` is a semantic type id
(``T047``), a semantic type name (``Disease or Syndrome``) or, with a semantic-groups file
(NLM ``SemGroups.txt``: ``GROUP|Group name|TUI|Type name``), a group code (``DISO``). The shipped
default, ``dictionaries/data/umls_labels.tsv``, maps chemicals and disorders.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Mapping, Sequence
from importlib import resources
from pathlib import Path

from binder_core.contract.errors import InputError
from binder_core.contract.options import default_of
from dictionaries.loaders._io import iter_lines
from dictionaries.loaders.options import UmlsOptions
from dictionaries.records import Entry

logger = logging.getLogger(__name__)

MRCONSO_FIELDS = 18
MRSTY_FIELDS = 6
# MRCONSO: CUI|LAT|TS|LUI|STT|SUI|ISPREF|AUI|SAUI|SCUI|SDUI|SAB|TTY|CODE|STR|SRL|SUPPRESS|CVF|
_CUI, _LAT, _SAB, _TTY, _STR, _SUPPRESS = 0, 1, 11, 12, 14, 16
# MRSTY columns: CUI|TUI|STN|STY|ATUI|CVF|
_STY_CUI, _STY_TUI, _STY_NAME = 0, 1, 3


def _rrf_file(meta_dir: Path, name: str) -> Path:
    for candidate in (meta_dir / name, meta_dir / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    raise InputError(
        f"no {name} here; give the UMLS META folder (with MRCONSO.RRF and MRSTY.RRF)",
        path=str(meta_dir),
    )


def read_label_mapping(path: str | os.PathLike[str] | None = None) -> dict[str, str]:
    """``KEY -> label`` from a mapping file (default: the shipped one). ``#`` starts a comment."""
    if path is None:
        text = resources.files("dictionaries").joinpath("data/umls_labels.tsv").read_text("utf-8")
        lines = enumerate(text.splitlines(), start=1)
        where = "dictionaries/data/umls_labels.tsv"
    else:
        lines = iter_lines(path)  # type: ignore[assignment]
        where = str(path)
    mapping: dict[str, str] = {}
    for line_no, line in lines:
        content = line.split("#", 1)[0].strip()
        if not content:
            continue
        key, sep, label = content.partition("\t")
        if not sep or not key.strip() or not label.strip():
            raise InputError("expected `KEY<TAB>LABEL`", path=where, line=line_no)
        mapping[key.strip()] = label.strip()
    return mapping


def read_semantic_groups(path: str | os.PathLike[str]) -> dict[str, str]:
    """``TUI -> group code`` from an NLM ``SemGroups.txt`` file."""
    groups: dict[str, str] = {}
    for line_no, line in iter_lines(path):
        if not line.strip():
            continue
        fields = line.split("|")
        if len(fields) < 4:
            raise InputError(
                "expected `GROUP|Group name|TUI|Type name`", path=str(path), line=line_no
            )
        groups[fields[2].strip()] = fields[0].strip()
    return groups


def concept_labels(
    mrsty: str | os.PathLike[str],
    mapping: Mapping[str, str],
    groups: Mapping[str, str] | None = None,
) -> dict[str, tuple[str, ...]]:
    """``CUI -> sorted labels`` for every concept with at least one mapped semantic type."""
    found: dict[str, set[str]] = {}
    for line_no, line in iter_lines(mrsty):
        if not line:
            continue
        fields = line.split("|")
        if len(fields) < MRSTY_FIELDS:
            raise InputError(
                f"MRSTY row with {len(fields)} fields, expected {MRSTY_FIELDS} "
                "(CUI|TUI|STN|STY|ATUI|CVF|)",
                path=str(mrsty),
                line=line_no,
            )
        tui = fields[_STY_TUI]
        label = mapping.get(tui) or mapping.get(fields[_STY_NAME])
        if label is None and groups is not None and tui in groups:
            label = mapping.get(groups[tui])
        if label:
            found.setdefault(fields[_STY_CUI], set()).add(label)
    return {cui: tuple(sorted(labels)) for cui, labels in found.items()}


def load_umls(
    meta_dir: str | os.PathLike[str],
    *,
    languages: Sequence[str] = default_of(UmlsOptions, "languages"),
    sources: Sequence[str] = default_of(UmlsOptions, "sources"),
    term_types: Sequence[str] = default_of(UmlsOptions, "term_types"),
    keep_suppressed: bool = default_of(UmlsOptions, "keep_suppressed"),
    mapping: str | os.PathLike[str] | None = None,
    semantic_groups: str | os.PathLike[str] | None = None,
    source: str = "umls",
) -> Iterator[Entry]:
    """Entries of a UMLS META folder, one per MRCONSO string and label of its concept.

    Filters: ``languages`` (LAT), ``sources`` (SAB) and ``term_types`` (TTY), empty meaning
    all; suppressed strings (SUPPRESS other than ``N``) are skipped unless ``keep_suppressed``.
    """
    meta = Path(meta_dir)
    if not meta.is_dir():
        raise InputError("not a folder; give the UMLS META folder", path=str(meta))
    label_map = read_label_mapping(mapping)
    groups = read_semantic_groups(semantic_groups) if semantic_groups is not None else None
    labels_of = concept_labels(_rrf_file(meta, "MRSTY.RRF"), label_map, groups)
    mrconso = _rrf_file(meta, "MRCONSO.RRF")
    lat, sab, tty = set(languages), set(sources), set(term_types)
    kept = 0
    for line_no, line in iter_lines(mrconso):
        if not line:
            continue
        fields = line.split("|")
        if len(fields) < MRCONSO_FIELDS:
            raise InputError(
                f"MRCONSO row with {len(fields)} fields, expected {MRCONSO_FIELDS} "
                "(CUI|LAT|TS|LUI|STT|SUI|ISPREF|AUI|SAUI|SCUI|SDUI|SAB|TTY|CODE|STR|SRL|"
                "SUPPRESS|CVF|)",
                path=str(mrconso),
                line=line_no,
            )
        if lat and fields[_LAT] not in lat:
            continue
        if sab and fields[_SAB] not in sab:
            continue
        if tty and fields[_TTY] not in tty:
            continue
        if not keep_suppressed and fields[_SUPPRESS] not in ("N", ""):
            continue
        cui = fields[_CUI]
        for label in labels_of.get(cui, ()):
            kept += 1
            yield Entry(fields[_STR], label, cui, source)
    logger.info("%s: %d UMLS entries", mrconso, kept)
