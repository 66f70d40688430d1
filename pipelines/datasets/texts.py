"""The texts of a contract data set as a JSONL corpus, spans left behind.

``binder data texts gold/ corpus.jsonl`` then ``binder silver build corpus.jsonl --format
jsonl`` labels exactly the texts of a gold set, under its document ids: the way to score a
dictionary on a gold set whose source format is not a corpus format (CoNLL IOB files become
text only through ``binder data convert``).
"""

from __future__ import annotations

import json
import os

from binder_core.contract.atomic import atomic_path
from binder_core.contract.schema import iter_documents

ID_FIELD = "id"
TEXT_FIELD = "text"


def write_texts(dataset: str | os.PathLike[str], out_path: str | os.PathLike[str]) -> int:
    """Write one ``{"id": doc_id, "text": text}`` line per document (shard, then row order),
    atomically; return the number of documents."""
    count = 0
    with atomic_path(out_path) as tmp, open(tmp, "w", encoding="utf-8") as out:
        for doc in iter_documents(dataset, columns=("doc_id", "text")):
            line = {ID_FIELD: doc["doc_id"], TEXT_FIELD: doc["text"]}
            out.write(json.dumps(line, ensure_ascii=False) + "\n")
            count += 1
    return count
