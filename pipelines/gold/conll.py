"""CoNLL-style IOB files -> contract documents.

One token per line, the token in the first column and the tag in the last: CoNLL-2003's
``token POS chunk tag`` (space-separated) or ``token<TAB>tag``. A line holding a tab is split on
tabs, any other line on whitespace. A blank line ends a sentence. ``-DOCSTART-`` lines start
documents; a file without them makes one document per sentence. The text is every token of the
document joined by single spaces; doc ids are ``<file stem>-<index>`` (0-based, 5 digits).

Tags are ``O``, ``B-T`` or ``I-T``. IOB1 and IOB2 decode the same way: an entity starts at a
``B-`` tag, or at an ``I-T`` that does not continue an entity of type T, and runs while ``I-T``
follows; entities never cross a sentence boundary. The scheme only decides what is an error:
under ``iob2`` an ``I-T`` that starts an entity is rejected; ``auto`` reports ``iob1`` when any
entity starts with ``I-``, else ``iob2``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any, Literal

from binder_core.contract.errors import InputError
from pipelines.gold.common import file_stem, gold_span, join_tokens

IobScheme = Literal["auto", "iob1", "iob2"]
DOCSTART = "-DOCSTART-"


@dataclass
class _Token:
    text: str
    tag: str
    line: int


@dataclass
class ConllCounts:
    """What a parse saw besides documents (for the manifest)."""

    sentences: int = 0
    detected_scheme: Literal["iob1", "iob2"] = "iob2"
    empty_documents: int = 0


@dataclass
class _DocTokens:
    sentences: list[list[_Token]] = field(default_factory=list)


def parse_conll(
    lines: Iterable[tuple[int, str]],
    path: str,
    scheme: IobScheme = "auto",
    counts: ConllCounts | None = None,
) -> Iterator[dict[str, Any]]:
    """Yield contract documents from ``(line_number, line)`` pairs of one CoNLL-style file."""
    counts = counts if counts is not None else ConllCounts()
    docs = _group(lines, path, counts)
    stem, source = file_stem(path), Path(path).name
    uses_iob1 = False
    index = 0
    for doc in docs:
        tokens = [t for sentence in doc.sentences for t in sentence]
        if not tokens:
            counts.empty_documents += 1
            continue
        text, offsets = join_tokens([t.text for t in tokens])
        spans = []
        base = 0  # index of the sentence's first token in the document
        for sentence in doc.sentences:
            for first, last, label, starts_with_i in _decode(sentence, path):
                if starts_with_i:
                    if scheme == "iob2":
                        raise InputError(
                            f"tag {sentence[first].tag!r} starts an entity, which IOB2 forbids; "
                            "use --scheme iob1 (or auto) if the file is IOB1",
                            path=path,
                            line=sentence[first].line,
                        )
                    uses_iob1 = True
                spans.append(gold_span(offsets[base + first][0], offsets[base + last][1], label))
            base += len(sentence)
        yield {"doc_id": f"{stem}-{index:05d}", "text": text, "source": source, "spans": spans}
        index += 1
    counts.detected_scheme = "iob1" if uses_iob1 else "iob2"


def _group(lines: Iterable[tuple[int, str]], path: str, counts: ConllCounts) -> list[_DocTokens]:
    """Documents (by ``-DOCSTART-``) or, without any, one document per sentence."""
    sentences: list[list[_Token]] = []
    doc_starts: list[int] = []  # index into sentences where each -DOCSTART- document begins
    current: list[_Token] = []
    for number, line in lines:
        if not line.strip():
            if current:
                sentences.append(current)
                current = []
            continue
        cols = line.split("\t") if "\t" in line else line.split()
        if cols[0] == DOCSTART:
            if current:
                sentences.append(current)
                current = []
            doc_starts.append(len(sentences))
            continue
        if len(cols) < 2 or not cols[0] or not cols[-1]:
            raise InputError(
                "expected a token and a tag (tag in the last column, tab- or space-separated)",
                path=path,
                line=number,
            )
        current.append(_Token(cols[0], cols[-1].strip(), number))
    if current:
        sentences.append(current)
    counts.sentences = len(sentences)
    if not doc_starts:
        return [_DocTokens([s]) for s in sentences]
    bounds = ([0] if doc_starts[0] > 0 else []) + doc_starts + [len(sentences)]
    return [_DocTokens(sentences[a:b]) for a, b in pairwise(bounds)]


def _decode(tokens: list[_Token], path: str) -> Iterator[tuple[int, int, str, bool]]:
    """``(first, last, label, starts_with_I)`` token ranges (inclusive) of the entities."""
    open_label: str | None = None
    first = 0
    starts_with_i = False
    for i, token in enumerate(tokens):
        prefix, label = _split_tag(token, path)
        continues = prefix == "I" and label == open_label
        if open_label is not None and not continues:
            yield first, i - 1, open_label, starts_with_i
            open_label = None
        if prefix in ("B", "I") and not continues:
            open_label, first, starts_with_i = label, i, prefix == "I"
    if open_label is not None:
        yield first, len(tokens) - 1, open_label, starts_with_i


def _split_tag(token: _Token, path: str) -> tuple[str, str]:
    if token.tag == "O":
        return "O", ""
    prefix, sep, label = token.tag.partition("-")
    if not sep or prefix not in ("B", "I") or not label:
        raise InputError(
            f"tag {token.tag!r} is not IOB (expected O, B-TYPE or I-TYPE)",
            path=path,
            line=token.line,
        )
    return prefix, label
