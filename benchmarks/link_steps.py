"""The linker's accuracy step by step on a gold set: each row adds one step to the one before.

Run from the repository root::

    python -m benchmarks.link_steps DICT GOLD --annotations TRAIN [--json OUT]

Rows (cumulative):

* ``first``: the first version (regular plural endings removed, short forms by the long form
  that the text defines with a closing parenthesis, exact short form only);
* ``+stems``: words also reduced by their Snowball stem (``LinkConfig.word_form``);
* ``+short forms``: more definition shapes ("PB:", "T,"), plural short forms, an undefined
  short form by the span whose initials or letters spell it;
* ``+annotations``: names learned from the annotated mentions of ``--annotations``;
* ``+threshold``: the abstention threshold of ``LinkConfig`` (the rows above keep the first
  version's 0.5);

then ``without X`` rows: the last row with one step off, and ``threshold=T`` rows: the last
row at other abstention thresholds. A step that is off is
replaced by its first-version behaviour for the row (the functions it adds are swapped for
the ones they replaced), so every row runs the current code otherwise. Each row gives
accuracy@1 overall and on the mentions the dictionary does not match exactly, the share of
mentions without a held concept that it abstains on, the index build time and the linking
time per mention.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any
from unittest import mock

from dictionaries import load_compiled
from dictionaries.linking import linker as linker_module
from dictionaries.linking import long_forms
from dictionaries.linking.index_file import build_link_index
from dictionaries.linking.linker import LinkConfig, Linker, exact_test
from pipelines.datasets.link_evaluate import evaluate_linking_dataset

STEPS = ("first", "+stems", "+short forms", "+annotations", "+threshold")
FIRST_THRESHOLD = 0.5
THRESHOLDS = (0.0, 0.4, 0.5, 0.55, 0.6)


def _exact_long_form(found: dict[tuple[str, str], str], surface: str, label: str) -> str | None:
    return found.get((surface.strip(), label))


@contextmanager
def first_version(short_forms: bool) -> Iterator[None]:
    """The steps that are off replaced by their first-version behaviour."""
    patches: list[Any] = []
    if not short_forms:
        patches += [
            mock.patch.object(long_forms, "_CLOSE", {")"}),
            mock.patch.object(long_forms, "_OPEN", None),  # str.rstrip(None): whitespace
            mock.patch.object(linker_module, "long_form_of", _exact_long_form),
            mock.patch.object(linker_module, "acronym_sources", lambda *args: {}),
        ]
    with ExitStack() as stack:
        for patch in patches:
            stack.enter_context(patch)
        yield


def _row(linker: Linker, gold: Path, is_exact: Any, build_s: float) -> dict[str, Any]:
    started = time.perf_counter()
    _ = linker.synonyms  # mined once per linker, before the clock (as on the first use)
    report = evaluate_linking_dataset(gold, linker, is_exact).to_dict()
    link_s = time.perf_counter() - started
    return {
        "accuracy@1": round(report["accuracy@1"], 4),
        "not_exact": round(report["not_exact"]["accuracy@1"], 4),
        "exact": round(report["exact"]["accuracy@1"], 4),
        "accuracy@5": round(report["accuracy@5"], 4),
        "mentions": report["mentions"],
        "not_exact_mentions": report["not_exact"]["mentions"],
        "not_held_abstained": round(report["not_held"]["abstained"], 4),
        "index_build_s": round(build_s, 2),
        "ms_per_mention": round(1000 * link_s / max(1, report["mentions"]), 3),
    }


def _linker_row(
    compiled: Any, gold: Path, annotations: Sequence[Path], on: set[str]
) -> tuple[dict[str, Any], Any]:
    config = LinkConfig(
        word_form="singular+stem" if "+stems" in on else "singular",
        threshold=LinkConfig.threshold if "+threshold" in on else FIRST_THRESHOLD,
    )
    with first_version("+short forms" in on):
        started = time.perf_counter()
        learned = annotations if "+annotations" in on else ()
        index = build_link_index(compiled, config, annotations=learned)
        build_s = time.perf_counter() - started
        return _row(Linker(index), gold, exact_test(compiled), build_s), index


def measure(dictionary: Path, gold: Path, annotations: Sequence[Path]) -> dict[str, Any]:
    compiled = load_compiled(dictionary)
    rows: dict[str, Any] = {}
    for i, step in enumerate(STEPS):
        rows[step], index = _linker_row(compiled, gold, annotations, set(STEPS[1 : i + 1]))
    for step in STEPS[1:-1]:
        rows[f"without {step[1:]}"], _ = _linker_row(
            compiled, gold, annotations, set(STEPS[1:]) - {step}
        )
    for threshold in THRESHOLDS:
        moved = replace(index, config=replace(index.config, threshold=threshold))
        rows[f"threshold={threshold}"] = _row(
            Linker(moved), gold, exact_test(compiled), rows[STEPS[-1]]["index_build_s"]
        )
    return rows


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("dictionary", type=Path)
    parser.add_argument("gold", type=Path)
    parser.add_argument("--annotations", type=Path, action="append", default=[])
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    text = json.dumps(measure(args.dictionary, args.gold, args.annotations), indent=2)
    if args.json:
        args.json.write_text(text + "\n")
    else:
        print(text)


if __name__ == "__main__":
    main()
