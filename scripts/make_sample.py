"""Regenerate the shipped sample from ``examples/sample/annotated.txt``.

Writes ``corpus_train.jsonl`` / ``corpus_dev.jsonl`` (raw text, no labels: what the silver
pipeline reads) and ``gold_test.pubtator`` (hand labels for the held-out documents). The text of
each document is TITLE + " " + ABSTRACT, as PubTator readers build it, so ids and offsets agree.

    python scripts/make_sample.py
"""

from __future__ import annotations

import json
import re
from pathlib import Path

SAMPLE = Path(__file__).resolve().parents[1] / "examples" / "sample"
MARK = re.compile(r"\[\[([^|\]]+)\|([A-Za-z]+)\]\]")
TRAIN, DEV = range(1, 31), range(31, 38)  # the rest is the gold test split


def strip_marks(marked: str, offset: int) -> tuple[str, list[tuple[int, int, str, str]]]:
    """Remove [[surface|Label]] marks; return the text and (start, end, surface, label)."""
    out, spans, pos = [], [], 0
    length = 0
    for m in MARK.finditer(marked):
        out.append(marked[pos : m.start()])
        length += m.start() - pos
        surface, label = m.group(1), m.group(2)
        spans.append((offset + length, offset + length + len(surface), surface, label))
        out.append(surface)
        length += len(surface)
        pos = m.end()
    out.append(marked[pos:])
    return "".join(out), spans


def main() -> None:
    train, dev, gold = [], [], []
    for line in (SAMPLE / "annotated.txt").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        doc_id, title_m, abstract_m = line.split("\t")
        title, t_spans = strip_marks(title_m, 0)
        abstract, a_spans = strip_marks(abstract_m, len(title) + 1)
        text = f"{title} {abstract}"
        for s, e, surface, _ in t_spans + a_spans:
            assert text[s:e] == surface, (doc_id, surface)
        number = int(doc_id[1:])
        record = {"id": doc_id, "text": text}
        if number in TRAIN:
            train.append(record)
        elif number in DEV:
            dev.append(record)
        else:
            gold.append(f"{doc_id}|t|{title}\n{doc_id}|a|{abstract}\n")
            for s, e, surface, label in t_spans + a_spans:
                gold.append(f"{doc_id}\t{s}\t{e}\t{surface}\t{label}\t-1\n")
            gold.append("\n")
    for name, rows in (("corpus_train.jsonl", train), ("corpus_dev.jsonl", dev)):
        (SAMPLE / name).write_text(
            "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8"
        )
    (SAMPLE / "gold_test.pubtator").write_text("".join(gold), encoding="utf-8")


if __name__ == "__main__":
    main()
