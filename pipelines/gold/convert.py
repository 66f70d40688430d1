"""Gold data sets (PubTator, CoNLL-style IOB, BINDER JSONL / W2NER JSON) -> contract Parquet.

Every span is written with ``origin = gold``, ``score = 1.0`` and ``uncertain = False``, in the
schema of :mod:`binder_core.contract.schema`, so the trainer and ``binder silver eval`` read gold
and silver alike. The output folder holds ``part-0000i-of-0000n.parquet`` shards and a
``_manifest.json`` with the inputs, options and counts.

Gold sets are small (thousands of documents), so a conversion holds its documents in memory:
the label set must be known before the first shard is written. Within a document, exact
duplicate spans (same offsets, label and concept) are written once and counted. A document id
seen twice with the same text and spans is written once and counted (the NCBI-disease training
file repeats PMID 8528200); with different content it is an error.
"""

from __future__ import annotations

import glob
import logging
import os
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

from binder_core.contract.atomic import write_json_atomic
from binder_core.contract.errors import ConfigError, InputError
from binder_core.contract.options import at_least, check_declared, option
from binder_core.contract.outputs import check_output_path, output_folder
from binder_core.contract.schema import (
    MANIFEST_NAME,
    SCHEMA_VERSION,
    document_schema,
    shard_name,
    span_sort_key,
    write_documents,
)
from pipelines.gold.common import iter_lines, read_text
from pipelines.gold.conll import ConllCounts, IobScheme, parse_conll
from pipelines.gold.jsonl import parse_binder_json
from pipelines.gold.pubtator import PubTatorCounts, parse_pubtator

log = logging.getLogger(__name__)

GoldFormat = Literal["pubtator", "conll", "binder-jsonl"]
GOLD_FORMATS: tuple[str, ...] = get_args(GoldFormat)
IOB_SCHEMES: tuple[str, ...] = get_args(IobScheme)


@dataclass(frozen=True)
class ConvertConfig:
    """How to read a gold set and what to write."""

    format: GoldFormat
    scheme: IobScheme = option("auto", "CoNLL tag scheme; auto detects IOB1/IOB2 per file.")
    label_map: Mapping[str, str] = field(
        default_factory=dict,
        metadata={"help": "Rename a type, FROM=TO (repeatable), e.g. Modifier=Disease."},
    )
    keep_labels: tuple[str, ...] = option(
        (), "Keep only these types after renaming (repeatable)."
    )  # empty keeps every type
    num_shards: int = option(
        1, "Number of Parquet shards to write.", bounds=at_least(1)
    )  # documents split in file order

    def __post_init__(self) -> None:
        if self.format not in GOLD_FORMATS:
            raise ConfigError(f"unknown gold format {self.format!r}; use one of {GOLD_FORMATS}")
        if self.scheme not in IOB_SCHEMES:
            raise ConfigError(f"unknown IOB scheme {self.scheme!r}; use one of {IOB_SCHEMES}")
        check_declared(self)
        bad = [f"{k}={v}" for k, v in self.label_map.items() if not k or not v]
        if bad:
            raise ConfigError(f"label map entries need both sides (FROM=TO), got {bad}")


@dataclass(frozen=True)
class ConvertResult:
    """What a conversion wrote."""

    out_dir: Path
    shards: tuple[Path, ...]
    labels: tuple[str, ...]
    documents: int
    spans_per_label: Mapping[str, int]
    manifest: Mapping[str, Any]


def expand_inputs(inputs: Sequence[str | os.PathLike[str]]) -> list[Path]:
    """Files named directly or by glob pattern, in the given order (each glob sorted)."""
    paths: list[Path] = []
    for item in inputs:
        text = str(item)
        if glob.has_magic(text):
            matches = sorted(Path(m) for m in glob.glob(text, recursive=True) if Path(m).is_file())
            if not matches:
                raise InputError("glob pattern matches no file", path=text)
            paths.extend(matches)
        elif Path(text).is_file():
            paths.append(Path(text))
        elif Path(text).is_dir():
            raise InputError(
                f"is a folder; give the gold files or a quoted glob such as '{text}/*'", path=text
            )
        else:
            raise InputError("no such file; give a gold file or a glob pattern", path=text)
    return paths


def read_gold_file(path: str | Path, config: ConvertConfig) -> tuple[list[dict[str, Any]], dict]:
    """Parse one file into contract documents (labels not yet mapped) and per-file facts."""
    name = str(path)
    text = read_text(path)
    facts: dict[str, Any] = {"path": name}
    if config.format == "pubtator":
        pub = PubTatorCounts()
        docs = list(parse_pubtator(iter_lines(text), name, pub))
        facts.update(relations_skipped=pub.relations, mentions_trimmed=pub.mentions_trimmed)
    elif config.format == "conll":
        con = ConllCounts()
        docs = list(parse_conll(iter_lines(text), name, config.scheme, con))
        facts.update(
            sentences=con.sentences,
            iob_scheme=con.detected_scheme,
            empty_documents_skipped=con.empty_documents,
        )
    else:
        docs = list(parse_binder_json(text, name))
    if not docs:
        raise InputError(
            f"no {config.format} documents in this file; check that it is not empty and that "
            "--format matches it",
            path=name,
        )
    facts["documents"] = len(docs)
    return docs, facts


def convert_gold(
    inputs: Sequence[str | os.PathLike[str]],
    out_dir: str | os.PathLike[str],
    config: ConvertConfig,
    *,
    overwrite: bool = False,
) -> ConvertResult:
    """Convert gold files to contract Parquet shards plus ``_manifest.json`` in ``out_dir``.

    The folder is written whole or not at all (:func:`binder_core.contract.outputs.output_folder`);
    one that holds files binder-ner did not write is refused unless ``overwrite``.
    """
    paths = expand_inputs(inputs)
    check_output_path(out_dir, inputs=paths, overwrite=overwrite, kind="gold")
    counts: Counter[str] = Counter()
    dropped: Counter[str] = Counter()
    files: list[dict[str, Any]] = []
    docs: dict[str, dict[str, Any]] = {}
    first_seen: dict[str, str] = {}
    for path in paths:
        file_docs, facts = read_gold_file(path, config)
        files.append(facts)
        for doc in file_docs:
            doc["spans"], n_dup = _map_spans(doc["spans"], config, dropped)
            counts["duplicate_spans_removed"] += n_dup
            previous = docs.get(doc["doc_id"])
            if previous is None:
                docs[doc["doc_id"]] = doc
                first_seen[doc["doc_id"]] = str(path)
            elif _same(previous, doc):
                counts["duplicate_documents_skipped"] += 1
                log.warning(
                    "%s: document %s repeats an identical one; written once", path, doc["doc_id"]
                )
            else:
                raise InputError(
                    f"document id {doc['doc_id']!r} appears twice with different content "
                    f"(first in {first_seen[doc['doc_id']]}); ids must be unique",
                    path=str(path),
                )
    spans_per_label = Counter(s["label"] for d in docs.values() for s in d["spans"])
    labels = tuple(sorted(spans_per_label))
    names = [shard_name(i, config.num_shards) for i in range(config.num_shards)]
    manifest = {
        "schema_version": SCHEMA_VERSION,
        "kind": "gold",
        "format": config.format,
        "inputs": [str(p) for p in paths],
        "options": {
            **asdict(config),
            "label_map": dict(config.label_map),
            "keep_labels": list(config.keep_labels),
        },
        "labels": list(labels),
        "shards": names,
        "files": files,
        "counts": {
            "documents": len(docs),
            "spans": sum(spans_per_label.values()),
            "spans_per_label": dict(sorted(spans_per_label.items())),
            "spans_dropped_per_label": dict(sorted(dropped.items())),
            "duplicate_spans_removed": counts["duplicate_spans_removed"],
            "duplicate_documents_skipped": counts["duplicate_documents_skipped"],
        },
    }
    with output_folder(out_dir, "gold", inputs=paths, overwrite=overwrite) as tmp:
        _write_shards(list(docs.values()), tmp, labels, config)
        write_json_atomic(tmp / MANIFEST_NAME, manifest)
    log.info("wrote %d gold documents to %s", len(docs), out_dir)
    return ConvertResult(
        out_dir=Path(out_dir),
        shards=tuple(Path(out_dir) / name for name in names),
        labels=labels,
        documents=len(docs),
        spans_per_label=dict(sorted(spans_per_label.items())),
        manifest=manifest,
    )


def _map_spans(
    spans: list[dict[str, Any]], config: ConvertConfig, dropped: Counter[str]
) -> tuple[list[dict[str, Any]], int]:
    """Rename labels, drop unkept ones (counted), remove exact duplicates (returned count)."""
    out: dict[tuple[Any, ...], dict[str, Any]] = {}
    n_dup = 0
    for span in spans:
        label = config.label_map.get(span["label"], span["label"])
        if config.keep_labels and label not in config.keep_labels:
            dropped[label] += 1
            continue
        span = {**span, "label": label}
        key = span_sort_key(span)
        if key in out:
            n_dup += 1
        out[key] = span
    return list(out.values()), n_dup


def _same(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    return a["text"] == b["text"] and sorted(map(span_sort_key, a["spans"])) == sorted(
        map(span_sort_key, b["spans"])
    )


def _chunks(items: list[Any], n: int) -> Iterator[list[Any]]:
    """``n`` contiguous chunks whose sizes differ by at most one."""
    size, extra = divmod(len(items), n)
    start = 0
    for i in range(n):
        end = start + size + (1 if i < extra else 0)
        yield items[start:end]
        start = end


def _write_shards(
    docs: list[dict[str, Any]], out_dir: Path, labels: tuple[str, ...], config: ConvertConfig
) -> list[Path]:
    schema = document_schema(labels, "", extra={"origin": "gold", "format": config.format})
    out_dir.mkdir(parents=True, exist_ok=True)
    shards = []
    for i, chunk in enumerate(_chunks(docs, config.num_shards)):
        target = out_dir / shard_name(i, config.num_shards)
        write_documents(chunk, target, schema)
        shards.append(target)
    return shards
