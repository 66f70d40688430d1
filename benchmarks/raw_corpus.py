"""Raw text for distant supervision: abstracts as JSONL, with the test documents held out.

    python -m benchmarks.raw_corpus OUT.jsonl [--data-dir DIR] [--exclude-pubtator FILE ...]
        [--sources bc5cdr-train,pubmedqa,genia,genia-test,ncbi-train,medline,...]

Only text leaves this step (ids and text, no labels), so `binder silver build OUT.jsonl
--format jsonl` labels it with nothing but the dictionary. A document whose id or text equals
one of an ``--exclude-pubtator`` file's documents (e.g. the BC5CDR test set) is left out, and
the count is printed.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from pathlib import Path

from benchmarks.corpus import DEFAULT_DATA, _genia_texts, _pubmedqa_texts, _pubtator_texts


def _medline_texts(path: Path) -> Iterator[tuple[str, str]]:
    """Title and abstract of each MEDLINE record (``PMID-``, ``TI  -``, ``AB  -`` fields; a
    field continues on lines indented by six spaces)."""
    pmid, current = "", ""
    fields: dict[str, str] = {}
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        if not line.strip():
            if pmid and fields.get("AB"):
                yield f"medline{pmid}", f"{fields.get('TI', '')} {fields['AB']}".strip()
            pmid, fields, current = "", {}, ""
        elif line.startswith("      ") and current:
            fields[current] += " " + line.strip()
        elif len(line) > 5 and line[4] == "-":
            current = line[:4].strip()
            value = line[5:].strip()
            if current == "PMID":
                pmid = value
            fields[current] = value


SOURCES = {
    "bc5cdr-train": ("bc5cdr/pubtator/CDR_TrainingSet.PubTator.txt", _pubtator_texts),
    "bc5cdr-dev": ("bc5cdr/pubtator/CDR_DevelopmentSet.PubTator.txt", _pubtator_texts),
    "pubmedqa": ("raw_text/pubmedqa/ori_pqal.json", _pubmedqa_texts),
    "genia": ("raw_text/genia_pos/GENIAtrain.pos", _genia_texts),
    "genia-test": ("raw_text/genia_pos/GENIAtest.pos", _genia_texts),
    "ncbi-train": ("ncbi_disease/original/NCBItrainset_corpus.txt", _pubtator_texts),
    "ncbi-dev": ("ncbi_disease/original/NCBIdevelopset_corpus.txt", _pubtator_texts),
    "ncbi-test": ("ncbi_disease/original/NCBItestset_corpus.txt", _pubtator_texts),
    "medline": ("raw_text/medline_sample/mesh-papers.medline.txt", _medline_texts),
}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("out", type=Path)
    ap.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--sources", default="bc5cdr-train,pubmedqa,genia,genia-test")
    ap.add_argument("--exclude-pubtator", type=Path, action="append", default=[])
    args = ap.parse_args(argv)
    held_ids: set[str] = set()
    held_texts: set[str] = set()
    for path in args.exclude_pubtator:
        for doc_id, text in _pubtator_texts(path):
            held_ids.add(doc_id)
            held_texts.add(text)
    written = excluded = 0
    with args.out.open("w", encoding="utf-8") as fh:
        for name in args.sources.split(","):
            rel, reader = SOURCES[name]
            for doc_id, text in reader(args.data_dir / rel):
                bare = doc_id.removeprefix("pqa").removeprefix("genia").removeprefix("medline")
                if bare in held_ids or text in held_texts:
                    excluded += 1
                    continue
                fh.write(json.dumps({"id": doc_id, "text": text}, ensure_ascii=False) + "\n")
                written += 1
    print(f"{written} documents -> {args.out} ({excluded} held-out documents left out)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
