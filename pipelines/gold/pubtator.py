"""PubTator gold files (BC5CDR, NCBI-disease) -> contract documents.

A document is a title line ``PMID|t|...``, an abstract line ``PMID|a|...`` and mention lines
``PMID<TAB>start<TAB>end<TAB>mention<TAB>type[<TAB>concept ids[<TAB>...]]``. The text is
``title + " " + abstract`` and the offsets point into it (checked: ``text[start:end]`` must equal
the mention, up to stray whitespace around the mention column, which is counted). Relation
lines (``PMID<TAB>CID<TAB>...``: a non-numeric second column) are not mentions and are counted,
not converted. A concept id of ``-1`` (none) becomes ``""``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from binder_core.contract.errors import InputError
from pipelines.corpus.pubtator import document_text, header
from pipelines.gold.common import gold_span


@dataclass
class _Doc:
    pmid: str
    line: int
    title: str
    abstract: str | None = None
    spans: list[dict[str, Any]] = field(default_factory=list)

    @property
    def text(self) -> str:
        return document_text(self.title, self.abstract)


@dataclass
class PubTatorCounts:
    """What a parse saw besides documents (for the manifest)."""

    relations: int = 0
    mentions_trimmed: int = 0  # mention column had stray surrounding whitespace


def parse_pubtator(
    lines: Iterable[tuple[int, str]], path: str, counts: PubTatorCounts | None = None
) -> Iterator[dict[str, Any]]:
    """Yield one contract document per PubTator block; ``lines`` are ``(number, line)`` pairs.

    Errors (a mention before its title, offsets that do not match the text, a broken line) raise
    :class:`InputError` naming ``path`` and the line.
    """
    counts = counts if counts is not None else PubTatorCounts()
    source = Path(path).name
    doc: _Doc | None = None
    for number, line in lines:
        if not line.strip():
            continue
        head = header(line)
        if head:
            pmid, kind, body = head
            if kind == "t":
                if doc is not None:
                    yield _finish(doc, source)
                doc = _Doc(pmid=pmid, line=number, title=body)
                continue
            if doc is None or doc.pmid != pmid or doc.abstract is not None:
                raise InputError(
                    f"abstract line for PMID {pmid} does not follow its title line",
                    path=path,
                    line=number,
                )
            doc.abstract = body
            continue
        fields = line.split("\t")
        if doc is None or fields[0] != doc.pmid:
            raise InputError(
                f"annotation for PMID {fields[0]} outside its document (expected after the "
                f"'{fields[0]}|t|' and '|a|' lines)",
                path=path,
                line=number,
            )
        if len(fields) >= 2 and not fields[1].isdigit():
            counts.relations += 1  # document-level relation (e.g. CID), not a mention
            continue
        doc.spans.append(_mention(doc, fields, path, number, counts))
    if doc is not None:
        yield _finish(doc, source)


def _mention(
    doc: _Doc, fields: list[str], path: str, number: int, counts: PubTatorCounts
) -> dict[str, Any]:
    if len(fields) < 5 or not fields[2].isdigit():
        raise InputError(
            "mention line needs PMID, start, end, mention and type separated by tabs",
            path=path,
            line=number,
        )
    start, end, mention, label = int(fields[1]), int(fields[2]), fields[3], fields[4]
    surface = doc.text[start:end]
    if surface != mention and surface == mention.strip() and surface:
        counts.mentions_trimmed += 1  # e.g. NCBI-disease train line 3249: trailing spaces
        mention = surface
    if surface != mention or start >= end:
        raise InputError(
            f"offsets [{start}, {end}) give {surface!r}, not the mention {mention!r} "
            "(offsets must point into title + ' ' + abstract)",
            path=path,
            line=number,
        )
    if not label:
        raise InputError("empty entity type", path=path, line=number)
    concept = fields[5] if len(fields) > 5 and fields[5] != "-1" else ""
    return gold_span(start, end, label, concept_id=concept)


def _finish(doc: _Doc, source: str) -> dict[str, Any]:
    return {"doc_id": doc.pmid, "text": doc.text, "source": source, "spans": doc.spans}
