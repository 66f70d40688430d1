"""The hybrid's rule, compared on the development suite's own predictions (no training).

    python -m benchmarks.experiments.merge_rules [--out bench_out/suite] [--json ROWS.jsonl]

For every run the suite left (``OUT/TASK/run_VARIANT/dev_predictions.jsonl``), the same
predictions are merged with the dictionary's matches on gold dev under each rule of
:data:`RULES` (:class:`binder_core.inference.hybrid.HybridOptions`), and scored as the suite
scores its ``merge`` column (exact span + type micro F1). One inference pass serves every rule,
so the differences are the rules' alone. Prints one table: a row per run, a column per rule, and
the best of the dictionary and the model alone for reference.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from benchmarks.experiments.suite import _keys, _predictions, _spans_by_doc
from binder_core.contract.metrics import SpanCounter
from binder_core.inference.hybrid import HybridOptions, merge_documents

RULES: dict[str, HybridOptions] = {
    "dictionary": HybridOptions(rule="dictionary"),
    "trust": HybridOptions(rule="trust"),
    "model": HybridOptions(rule="model"),
    "trust=1": HybridOptions(rule="trust", trust=1.0),
    "trust=2": HybridOptions(rule="trust", trust=2.0),
    "trust=3": HybridOptions(rule="trust", trust=3.0),
    "trust=5": HybridOptions(rule="trust", trust=5.0),
    "dictionary, margin 1": HybridOptions(rule="dictionary", model_margin=1.0),
    "dictionary, margin 2": HybridOptions(rule="dictionary", model_margin=2.0),
    "dictionary, margin 3": HybridOptions(rule="dictionary", model_margin=3.0),
}
"""The rules compared: the default (``dictionary``), the other two rules, fixed trusts, and
the dictionary winning every overlap with the model's other spans kept above a margin."""


def micro_f1(
    gold: Mapping[str, Sequence[Mapping[str, Any]]],
    outputs: Sequence[Sequence[Mapping[str, Any]]],
    labels: Sequence[str],
) -> float:
    """Exact span + type micro F1 of ``outputs`` (one list per document id of ``gold``, sorted)."""
    counter = SpanCounter(labels)
    for doc_id, spans in zip(sorted(gold), outputs, strict=True):
        certain = [s for s in gold[doc_id] if not s["uncertain"]]
        counter.update(_keys(certain), _keys(spans))
    return counter.result().micro.f1


def compare(
    gold: Mapping[str, Sequence[Mapping[str, Any]]],
    dictionary: Mapping[str, Sequence[Mapping[str, Any]]],
    predicted: Mapping[str, Sequence[Mapping[str, Any]]],
    rules: Mapping[str, HybridOptions] = RULES,
) -> dict[str, float]:
    """F1 of the dictionary alone, the model alone, and each rule's merge, on ``gold``'s ids."""
    ids = sorted(gold)
    labels = sorted({s["label"] for spans in gold.values() for s in spans})
    pairs = [(list(dictionary.get(i, ())), list(predicted.get(i, ()))) for i in ids]
    out = {
        "dictionary only": micro_f1(
            gold, [[s for s in d if not s["uncertain"]] for d, _ in pairs], labels
        ),
        "model only": micro_f1(gold, [m for _, m in pairs], labels),
    }
    for name, options in rules.items():
        out[name] = micro_f1(gold, merge_documents(pairs, options)[0], labels)
    return out


def runs(out: Path) -> list[tuple[str, str, Path]]:
    """(task, run folder name, task folder) of every finished suite run under ``out``."""
    found = []
    for predictions in sorted(out.glob("*/run_*/dev_predictions.jsonl")):
        run = predictions.parent
        found.append((run.parent.name, run.name.removeprefix("run_"), run.parent))
    return found


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--out", type=Path, default=Path("bench_out/suite"))
    ap.add_argument("--json", type=Path, help="also write one JSON row per run here")
    args = ap.parse_args(argv)
    rows: list[dict[str, Any]] = []
    for task, variant, folder in runs(args.out):
        scores = compare(
            _spans_by_doc(folder / "gold_dev"),
            _spans_by_doc(folder / "silver_dev"),
            _predictions(folder / f"run_{variant}" / "dev_predictions.jsonl"),
        )
        rows.append({"task": task, "variant": variant, "f1": scores})
    if not rows:
        raise SystemExit(f"no suite runs under {args.out}")
    names = list(rows[0]["f1"])
    print(f"{'task':<8} {'variant':<24} " + " ".join(f"{n:>15}" for n in names))
    for row in rows:
        print(
            f"{row['task']:<8} {row['variant'][:24]:<24} "
            + " ".join(f"{row['f1'][n]:>15.4f}" for n in names)
        )
    if args.json:
        args.json.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
