"""Helpers for the benchmark scripts: the BC5CDR documents and windows, synthetic entity types,
what machine ran, and process memory."""

from __future__ import annotations

import datetime
import itertools
import os
import platform
import random
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from binder_core.contract.errors import ConfigError, InputError
from binder_core.data.config import DataConfig
from binder_core.data.windows import (
    WindowExample,
    check_tokenizer,
    document_token_spans,
    document_windows,
    tokenize_documents,
)
from pipelines.gold.pubtator import parse_pubtator

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = Path(os.environ.get("BINDER_SHARED_DATA", REPO.parent / "shared" / "data"))
"""``../shared/data`` next to the repository, or ``$BINDER_SHARED_DATA``."""
BC5CDR_TRAIN = Path("bc5cdr") / "pubtator" / "CDR_TrainingSet.PubTator.txt"
LABELS = ("Chemical", "Disease")


def cpu_name() -> str:
    """The CPU model from /proc/cpuinfo (Linux), else what ``platform`` knows."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def machine_info() -> dict[str, Any]:
    """What a result depends on: CPU, cores, Python, torch and its threads, GPU, date (UTC)."""
    import transformers

    info: dict[str, Any] = {
        "cpu": cpu_name(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "transformers": transformers.__version__,
        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }
    if hasattr(os, "getloadavg"):
        info["load_average_1min"] = round(os.getloadavg()[0], 2)
    return info


def median(values: Sequence[float]) -> float:
    """The median; a single value is its own median."""
    return float(statistics.median(values))


def load_documents(data: Path, limit: int) -> list[dict[str, Any]]:
    """The first ``limit`` BC5CDR training abstracts as contract documents (gold spans)."""
    path = data / BC5CDR_TRAIN
    if not path.is_file():
        raise InputError(
            "BC5CDR PubTator file not found; pass --data DIR or set BINDER_SHARED_DATA",
            path=str(path),
        )
    lines = enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
    return list(itertools.islice(parse_pubtator(lines, str(path)), limit))


def pack_documents(docs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """One long document of the abstracts joined by spaces (spans shifted), so that every
    window but the last is full length."""
    text, spans = "", []
    for doc in docs:
        shift = len(text) + (1 if text else 0)
        text = f"{text} {doc['text']}" if text else doc["text"]
        spans += [{**s, "start": s["start"] + shift, "end": s["end"] + shift} for s in doc["spans"]]
    return {"doc_id": "packed", "text": text, "spans": spans}


def full_windows(
    docs: Sequence[dict[str, Any]], tokenizer: Any, max_seq_length: int, count: int
) -> list[WindowExample]:
    """``count`` full-length windows (with gold Chemical/Disease spans) of the packed abstracts."""
    doc = pack_documents(docs)
    config = DataConfig(max_seq_length=max_seq_length, window_overlap_tokens=0)
    cls_id, sep_id = check_tokenizer(tokenizer)
    (tokens,) = tokenize_documents([doc["text"]], tokenizer)
    label_ids = {label: i for i, label in enumerate(LABELS)}
    spans = document_token_spans(doc["doc_id"], doc["text"], doc["spans"], tokens, label_ids)
    windows = document_windows(doc["doc_id"], 0, doc["text"], tokens, spans, config, cls_id, sep_id)
    full = [w for w in windows if len(w.input_ids) == max_seq_length][:count]
    if len(full) < count:
        raise ValueError(
            f"{len(docs)} abstracts give {len(full)} full windows of {max_seq_length} tokens, "
            f"{count} needed; load more abstracts"
        )
    return full


def docs_for_tokens(tokens: int) -> int:
    """Abstracts to load for ``tokens`` sub-word tokens (a BC5CDR abstract has 250+)."""
    return tokens // 200 + 2


def bio_labels(examples: Sequence[WindowExample], length: int, num_labels: int) -> Tensor:
    """(B, L) long BIO tags from the windows' gold spans: O = 0, B-k = 1 + 2k, I-k = 2 + 2k;
    -100 (ignored) at CLS, SEP and padding."""
    labels = torch.full((len(examples), length), -100, dtype=torch.long)
    for b, example in enumerate(examples):
        labels[b, 1 : len(example.input_ids) - 1] = 0
        for k, start, end in example.gold_spans.tolist():
            if not 0 <= k < num_labels:
                raise ValueError(f"label id {k} outside [0, {num_labels})")
            labels[b, start] = 1 + 2 * k
            labels[b, start + 1 : end + 1] = 2 + 2 * k
    return labels


def synthetic_types(count: int, seed: int = 0) -> dict[str, str]:
    """``count`` distinct type names -> one-sentence descriptions, deterministic."""
    qualities = "acute chronic synthetic natural viral bacterial genetic metabolic neural cardiac"
    qualities += " renal hepatic topical oral rare common inherited acquired benign malignant"
    kinds = "disorder compound protein enzyme receptor pathway cell-line organism procedure"
    kinds += " device symptom drug gene tissue hormone toxin antibody lipid ion-channel vaccine"
    places = (
        "clinical reports",
        "animal studies",
        "laboratory assays",
        "patient records",
        "labels",
    )
    combos = list(itertools.product(qualities.split(), kinds.split(), places))
    if count > len(combos):
        raise ConfigError(f"at most {len(combos)} synthetic types, asked for {count}")
    chosen = random.Random(seed).sample(combos, count)
    return {
        f"{quality}_{kind}_{i:04d}": f"a {quality} {kind.replace('-', ' ')} as named in {place}, "
        f"for example one studied in biomedical research."
        for i, (quality, kind, place) in enumerate(chosen)
    }
