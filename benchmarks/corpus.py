"""The benchmark corpus: about 4,500 real abstracts from ``../shared/data``, as JSONL.

BC5CDR train/dev/test texts (PubTator: title + abstract), PubMedQA contexts (joined per PMID) and
GENIA abstracts (sentences re-joined, POS tags dropped). ``write_corpus`` repeats the documents
(with new ids) until the file reaches ``target_bytes``, so start-up costs are amortised.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = Path(os.environ.get("BINDER_SHARED_DATA", REPO.parent / "shared" / "data"))


def _pubtator_texts(path: Path) -> Iterator[tuple[str, str]]:
    title = ""
    for line in path.read_text(encoding="utf-8").splitlines():
        if "|t|" in line[:20]:
            pmid, _, title = line.split("|", 2)
        elif "|a|" in line[:20]:
            pmid, _, abstract = line.split("|", 2)
            yield pmid, f"{title} {abstract}"


def _pubmedqa_texts(path: Path) -> Iterator[tuple[str, str]]:
    for pmid, record in json.loads(path.read_text(encoding="utf-8")).items():
        yield f"pqa{pmid}", " ".join(record["CONTEXTS"])


def _genia_texts(path: Path) -> Iterator[tuple[str, str]]:
    uid, sentences = "", list[str]()
    for line in path.read_text(encoding="utf-8").splitlines():
        words = [tok.rsplit("/", 1)[0] for tok in line.split()]
        if line.startswith("UI/LS"):
            if sentences:
                yield f"genia{uid}", " ".join(sentences)
            uid, sentences = words[-1], []
        elif words:
            if words[:2] in (["TI", "-"], ["AB", "-"]):
                words = words[2:]
            sentences.append(" ".join(words))
    if sentences:
        yield f"genia{uid}", " ".join(sentences)


def abstracts(data: Path = DEFAULT_DATA) -> list[tuple[str, str]]:
    """(id, text) for every source abstract, in a fixed order."""
    docs: list[tuple[str, str]] = []
    for name in ("CDR_TrainingSet", "CDR_DevelopmentSet", "CDR_TestSet"):
        docs += _pubtator_texts(data / "bc5cdr" / "pubtator" / f"{name}.PubTator.txt")
    docs += _pubmedqa_texts(data / "raw_text" / "pubmedqa" / "ori_pqal.json")
    for name in ("GENIAtrain.pos", "GENIAtest.pos"):
        docs += _genia_texts(data / "raw_text" / "genia_pos" / name)
    return docs


def write_corpus(out: Path, target_bytes: int, data: Path = DEFAULT_DATA) -> tuple[int, int]:
    """Write JSONL ``{"id", "text"}`` lines until ``target_bytes``; return (documents, bytes)."""
    docs = abstracts(data)
    written = count = 0
    with out.open("w", encoding="utf-8") as fh:
        repeat = 0
        while written < target_bytes:
            for doc_id, text in docs:
                line = json.dumps({"id": f"{doc_id}-r{repeat}", "text": text}) + "\n"
                fh.write(line)
                written += len(line.encode("utf-8"))
                count += 1
            repeat += 1
    return count, written
