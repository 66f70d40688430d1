"""Per-document CPU cost of the labeling steps, as multiples of the raw scan's, in one process.

    python -m benchmarks.bench_labeling [--data-dir ../shared/data] [--passes 5]

Over the 4,500 benchmark abstracts and the full MeSH dictionary of :mod:`benchmarks.bench_silver`,
times (CPU, best of ``--passes``, the steps interleaved) the raw scan (JSON decoding included),
``dictionaries.match``, ``find_abbreviations`` (every definition, and only those whose long form
ends where a typed span ends, as the labeling step asks) and ``label_document`` with and without
abbreviations. No Beam and no files: what the per-document work costs, whatever else a machine
shared with other jobs is doing.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from benchmarks.bench_silver import (
    build_raw_automaton,
    check_data,
    mesh_entries,
    word_boundary_spans,
)
from benchmarks.corpus import DEFAULT_DATA, abstracts
from dictionaries import MatchOptions, compile_dictionary, match
from dictionaries.abbreviations import find_abbreviations
from pipelines.silver.labeling import Lexicons, label_document
from pipelines.silver.labeling_config import LabelingConfig


def step_costs(data: Path, passes: int) -> dict[str, float]:
    """Microseconds of CPU per document for each step (best pass)."""
    compiled = compile_dictionary(mesh_entries(data, "full"))
    texts = [text for _, text in abstracts(data)]
    lines = [json.dumps({"id": "x", "text": text}) for text in texts]
    raw = build_raw_automaton(set(compiled.keys))
    lexicons, options = Lexicons(typed=compiled), MatchOptions()
    default, plain = LabelingConfig(), LabelingConfig(abbreviations=False)
    # where the typed spans end: the only offsets where the labeling step looks for long forms
    ends = [{m.end for m in match(t, compiled)} for t in texts]
    steps: dict[str, Callable[[], Any]] = {
        "raw scan": lambda: [
            word_boundary_spans(json.loads(s)["text"].lower(), raw) for s in lines
        ],
        "dictionaries.match": lambda: [match(t, compiled) for t in texts],
        "find_abbreviations": lambda: [find_abbreviations(t) for t in texts],
        "find_abbreviations, long forms at span ends": lambda: [
            find_abbreviations(t, e) for t, e in zip(texts, ends, strict=True)
        ],
        "label_document, default": lambda: [
            label_document(t, lexicons, options, default) for t in texts
        ],
        "label_document, --no-abbreviations": lambda: [
            label_document(t, lexicons, options, plain) for t in texts
        ],
    }
    best = dict.fromkeys(steps, float("inf"))
    for _ in range(passes):
        for name, step in steps.items():
            started = time.process_time()
            step()
            best[name] = min(best[name], time.process_time() - started)
    return {name: seconds / len(texts) * 1e6 for name, seconds in best.items()}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--passes", type=int, default=5)
    args = parser.parse_args(argv)
    missing = check_data(args.data_dir)
    if missing:
        print(f"bench_labeling skipped: {missing}", file=sys.stderr)
        return 0
    costs = step_costs(args.data_dir, args.passes)
    raw = costs["raw scan"]
    print("| step | CPU us per document | cost / raw scan's |\n|---|---|---|")
    for name, micros in costs.items():
        print(f"| {name} | {micros:.1f} | {micros / raw:.2f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
