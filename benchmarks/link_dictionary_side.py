"""Span + type and span + type + concept F1 of a dictionary alone on a gold set, with and
without the linker grounding the matches that carry no concept id.

Run from the repository root::

    python -m benchmarks.link_dictionary_side DICT GOLD [--json OUT]

The spans are those of the hybrid's dictionary side
(:func:`pipelines.silver.tagging.dictionary_tagger`,
default labeling options), certain spans only; scoring follows :mod:`binder_core.contract.concepts`.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

from binder_core.contract.concepts import concept_keys
from binder_core.contract.metrics import SpanCounter
from binder_core.contract.schema import iter_documents, open_dataset
from dictionaries.linking.spans import span_linker
from pipelines.silver.dictionary_files import load_dictionary
from pipelines.silver.tagging import dictionary_tagger


def score(dictionary: Path, gold: Path) -> dict[str, Any]:
    labels = open_dataset(gold)[1].labels
    tagger = dictionary_tagger(str(dictionary))
    linker = span_linker(dictionary, load_dictionary(str(dictionary)))
    counters = {name: SpanCounter(labels) for name in ("span", "concept", "concept_linked")}
    link_s = 0.0
    for doc in iter_documents(gold):
        gold_spans = [s for s in doc["spans"] if not s["uncertain"]]
        found = [s for s in tagger(doc["text"]) if not s["uncertain"]]
        started = time.perf_counter()
        linked = linker(doc["text"], found)
        link_s += time.perf_counter() - started
        counters["span"].update(
            [(s["start"], s["end"], s["label"]) for s in gold_spans],
            [(s["start"], s["end"], s["label"]) for s in found],
        )
        for name, spans in (("concept", found), ("concept_linked", linked)):
            g, p = concept_keys(gold_spans, spans)
            counters[name].update(cast(Any, g), cast(Any, p))
    out: dict[str, Any] = {name: c.result().to_dict() for name, c in counters.items()}
    out["link_seconds"] = link_s
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dictionary", type=Path)
    parser.add_argument("gold", type=Path)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    result = score(args.dictionary, args.gold)
    for name in ("span", "concept", "concept_linked"):
        r = result[name]
        print(f"{name:15s} P {r['precision']:.4f} R {r['recall']:.4f} F1 {r['f1']:.4f}")
    print(f"linking: {result['link_seconds']:.1f} s")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
