"""The PubTator line grammar, shared by the corpus reader and the gold converter.

A document is a title line ``PMID|t|title``, an abstract line ``PMID|a|abstract`` and mention
or relation lines ``PMID<TAB>...``. Its text is ``title + " " + abstract`` (an empty abstract
when there is none): the text that PubTator offsets point into.
"""

from __future__ import annotations

import re

HEADER = re.compile(r"([^\t|]+)\|([ta])\|")
TITLE_BYTES = re.compile(rb"[^\t|]+\|t\|")
"""A title line, on raw bytes: where the corpus reader starts a new document."""


def header(line: str) -> tuple[str, str, str] | None:
    """``(pmid, "t" or "a", body)`` of a title or abstract line, else None."""
    found = HEADER.match(line)
    if found is None:
        return None
    return found.group(1), found.group(2), line[found.end() :]


def document_text(title: str, abstract: str | None) -> str:
    """The text of a document, which mention offsets index."""
    return f"{title} {abstract or ''}"
