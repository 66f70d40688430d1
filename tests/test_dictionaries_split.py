"""Holding concepts out of a compiled dictionary: exact parts, stable by hash."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from binder_core.contract.errors import ConfigError
from cli.main import app
from dictionaries import Entry, compile_dictionary, load_compiled, match, save_compiled
from dictionaries.config import SplitConfig
from dictionaries.split import is_held_out, split_dictionary

# With seed 0 and holdout 0.5: C2 and X1 are held out, C1 and C3 are not; of the terms without
# an id, "fever" is held out and "cold" is not.
HALF = SplitConfig(holdout=0.5, seed=0)
ENTRIES = [
    Entry("aspirin", "Chemical", "C1", "t"),
    Entry("acetylsalicylic acid", "Chemical", "C1", "t"),
    Entry("ibuprofen", "Chemical", "C2", "t"),
    Entry("aspirin tablets", "Chemical", "C3", "t"),
    Entry("ASA", "Chemical", "C1", "t"),  # acronym: keeps its case rule in the part
    Entry("fever", "Disease", "", "t"),
    Entry("cold", "Disease", "", "t"),
    Entry("pyrexia", "Disease", "X1", "t"),
    Entry("pyrexia", "Disease", "C3", "t"),  # one term, two concepts on different sides
]


def _terms(compiled: object) -> list[tuple[str, str, str]]:
    text = "aspirin, acetylsalicylic acid, ibuprofen, fever, cold, pyrexia, ASA, asa"
    return [(text[m.start : m.end], m.label, m.concept_id) for m in match(text, compiled)]


def test_is_held_out_is_a_stable_hash() -> None:
    assert [is_held_out(c, HALF) for c in ("C1", "C2", "C3", "X1")] == [False, True, False, True]
    assert is_held_out("C3", SplitConfig(holdout=0.5, seed=1)) is True
    share = sum(is_held_out(f"D{i:06d}", SplitConfig(0.1, 0)) for i in range(10_000)) / 10_000
    assert share == pytest.approx(0.1, abs=0.01)


def test_split_dictionary_by_concept() -> None:
    train, heldout, counts = split_dictionary(compile_dictionary(ENTRIES), HALF)
    assert _terms(train) == [
        ("aspirin", "Chemical", "C1"),
        ("acetylsalicylic acid", "Chemical", "C1"),
        ("cold", "Disease", ""),
        ("pyrexia", "Disease", "C3"),
        ("ASA", "Chemical", "C1"),
    ]
    assert _terms(heldout) == [
        ("ibuprofen", "Chemical", "C2"),
        ("fever", "Disease", ""),
        ("pyrexia", "Disease", "X1"),
    ]
    assert counts == {
        "concepts": 6,  # C1, C2, C3, X1 and the id-less terms "fever" and "cold"
        "concepts_heldout": 3,
        "concepts_train": 3,
        "keys_train": 6,
        "keys_heldout": 3,
        "keys_in_both": 1,
    }
    assert train.config == heldout.config
    assert train.fingerprint != heldout.fingerprint


def test_split_config_rejects_bad_shares() -> None:
    for bad in (0.0, 1.0, -0.1):
        with pytest.raises(ConfigError, match=r"SplitConfig.holdout must be in \(0, 1\)"):
            SplitConfig(holdout=bad)


def test_cli_dict_split_writes_both_parts(tmp_path: Path) -> None:
    source = tmp_path / "all.dict"
    save_compiled(compile_dictionary(ENTRIES), source)
    train, held = tmp_path / "train.dict", tmp_path / "held.dict"
    result = CliRunner().invoke(
        app,
        ["dict", "split", str(source), "--holdout", "0.5", "--seed", "0",
         "--train", str(train), "--heldout", str(held)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert _terms(load_compiled(held)) == [
        ("ibuprofen", "Chemical", "C2"),
        ("fever", "Disease", ""),
        ("pyrexia", "Disease", "X1"),
    ]
    same = CliRunner().invoke(
        app, ["dict", "split", str(source), "--train", str(train), "--heldout", str(train)]
    )
    assert same.exit_code == 2
    assert "must be different files" in same.output
