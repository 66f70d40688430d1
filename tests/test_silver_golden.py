"""Silver output is unchanged, row for row, against samples recorded before the speed work
(``tests/silver_golden.py`` says what they are and how they were written); the ``link_score``
added since is checked against its rule."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from binder_core.contract.schema import DICTIONARY_ORIGINS
from tests import silver_golden as golden

EXPECTED = json.loads(golden.FIXTURE.read_text("utf-8"))


def _assert_same(found: dict[str, Any], expected: dict[str, Any]) -> None:
    assert sorted(found) == sorted(expected)
    for run in expected:
        got, want = found[run], expected[run]
        differing = sorted(k for k in set(got["rows"]) | set(want["rows"])
                           if got["rows"].get(k) != want["rows"].get(k))  # fmt: skip
        assert not differing, f"{run}: {len(differing)} rows differ, e.g. {differing[:5]}"
        assert got["dead_letters"] == want["dead_letters"], run
        assert got["counts"] == want["counts"], run
        assert got["counts"]["balanced"], run
        _assert_link_scores_follow_the_rule(run, got["link_scores"])


def _assert_link_scores_follow_the_rule(run: str, found: dict[str, int]) -> None:
    """Every span is a dictionary span: link_score 1.0 with a concept id, 0.0 without."""
    assert found, run
    for key in found:
        origin, has_id, score = key.split("/")
        assert origin in DICTIONARY_ORIGINS, (run, key)
        assert float(score) == (1.0 if has_id == "True" else 0.0), (run, key)


def test_silver_sample_rows_are_unchanged(tmp_path: Path) -> None:
    found = golden.fingerprints(golden.sample_inputs(tmp_path), golden.SAMPLE_VARIANTS, tmp_path)
    _assert_same(found, EXPECTED["sample"])


def test_silver_sample_rows_are_unchanged_with_two_workers(tmp_path: Path) -> None:
    variants = {"default": golden.VARIANTS["default"]}
    found = golden.fingerprints(golden.sample_inputs(tmp_path), variants, tmp_path, workers=2)
    expected = {k: v for k, v in EXPECTED["sample"].items() if k.endswith("/default")}
    _assert_same(found, expected)


def test_silver_benchmark_sample_rows_are_unchanged(tmp_path: Path, shared_data: Path) -> None:
    runs = golden.benchmark_inputs(tmp_path, shared_data)
    found = golden.fingerprints(runs, golden.BENCHMARK_VARIANTS, tmp_path)
    _assert_same(found, EXPECTED["benchmark"])


def test_labeling_of_every_benchmark_abstract_is_unchanged(shared_data: Path) -> None:
    assert golden.match_fingerprints(shared_data) == EXPECTED["benchmark_match"]
