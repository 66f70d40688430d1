"""Compiling: filters, merging, fingerprints, and the saved artifact."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from binder_core.contract.errors import ConfigError, InputError
from dictionaries import (
    CompileConfig,
    Entry,
    MatchOptions,
    compile_dictionary,
    load_compiled,
    match,
    save_compiled,
)
from dictionaries.artifact import FORMAT_VERSION, load_info
from dictionaries.compiled import CASE_BIT, KEY_SHIFT, MAGIC

ENTRIES = [
    Entry("Aspirin", "Chemical", "D001", "t"),
    Entry("ASPIRIN", "Chemical", "D009", "t"),
    Entry("the", "Chemical", "X", "t"),
    Entry("NO", "Chemical", "D010", "t"),
    Entry("5", "Chemical", "X", "t"),
    Entry("1,2-3", "Chemical", "X", "t"),
    Entry("a", "Chemical", "X", "t"),
    Entry("heart failure", "Disease", "D002", "t"),
    Entry("Cold", "Disease", "D004", "t"),
    Entry("cold", "Temperature", "T01", "t"),
]


def test_compile_filters_and_counts() -> None:
    compiled = compile_dictionary(ENTRIES)
    assert list(compiled.keys) == ["aspirin", "cold", "heart failure", "no"]
    assert compiled.num_terms == 4
    assert compiled.labels == ("Chemical", "Disease", "Temperature")
    assert compiled.label_counts == {"Chemical": 2, "Disease": 2, "Temperature": 1}
    assert compiled.stats == {
        "entries": 10,
        "dropped_stopword": 1,
        "dropped_numeric": 1,
        "dropped_too_short": 2,
        "ambiguous_keys": 1,
        "keys": 4,
    }


def test_compile_merges_concepts_and_keeps_smallest_term() -> None:
    compiled = compile_dictionary(ENTRIES)
    (m,) = match("aspirin", compiled)
    assert (m.concept_id, m.matched_term) == ("D001|D009", "ASPIRIN")


def test_compile_acronym_escapes_stopwords_but_stays_case_sensitive() -> None:
    compiled = compile_dictionary(ENTRIES)
    assert [m.concept_id for m in match("NO and no", compiled)] == ["D010"]


def test_compile_keeps_only_selected_labels() -> None:
    compiled = compile_dictionary(ENTRIES, CompileConfig(labels=("Disease",)))
    assert compiled.labels == ("Disease",)
    assert compiled.stats["dropped_label"] == 8


def test_compile_empty_input() -> None:
    compiled = compile_dictionary([])
    assert compiled.num_terms == 0
    assert match("anything", compiled) == []
    assert match("anything", compiled, MatchOptions(fuzzy=True)) == []


def test_fingerprint_ignores_entry_order_and_tracks_content_and_config() -> None:
    first = compile_dictionary(ENTRIES).fingerprint
    assert compile_dictionary(list(reversed(ENTRIES))).fingerprint == first
    assert first.startswith("sha256:")
    assert compile_dictionary(ENTRIES[:-1]).fingerprint != first
    assert compile_dictionary(ENTRIES, CompileConfig(min_length=3)).fingerprint != first


def test_config_validation() -> None:
    with pytest.raises(ConfigError, match="ambiguity must be one of"):
        CompileConfig(ambiguity="vote")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="min_length"):
        CompileConfig(min_length=0)
    with pytest.raises(ConfigError, match="overlap must be one of"):
        MatchOptions(overlap="some")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="fuzzy_threshold"):
        MatchOptions(fuzzy_threshold=0.5 - 1)


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    compiled = compile_dictionary(ENTRIES, CompileConfig(min_length=1))
    path = tmp_path / "sub" / "dict.bin"
    save_compiled(compiled, path)
    loaded = load_compiled(path)
    assert loaded.fingerprint == compiled.fingerprint
    assert loaded.config == compiled.config
    assert loaded.labels == compiled.labels
    assert loaded.stats == compiled.stats
    text = "NO, Aspirin and a cold heart failure"
    assert match(text, loaded) == match(text, compiled)
    assert [p.name for p in path.parent.iterdir()] == ["dict.bin"]


def test_load_compiled_refuses_missing_foreign_and_old_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no compiled dictionary here"):
        load_compiled(tmp_path / "missing.bin")
    foreign = tmp_path / "foreign.bin"
    foreign.write_bytes(b"PAR1 not a dictionary")
    with pytest.raises(InputError, match="not a binder-ner compiled dictionary"):
        load_compiled(foreign)
    old = tmp_path / "old.bin"
    old.write_bytes(MAGIC + struct.pack("<I", 0) + b"...")
    expected = f"format 0, this binder-ner reads format {FORMAT_VERSION}"
    with pytest.raises(InputError, match=expected):
        load_compiled(old)
    damaged = tmp_path / "damaged.bin"
    damaged.write_bytes(MAGIC + struct.pack("<I", FORMAT_VERSION) + b"\x80\x05garbage")
    with pytest.raises(InputError, match="damaged"):
        load_compiled(damaged)
    with pytest.raises(InputError, match="damaged"):
        load_info(damaged)


def test_load_compiled_refuses_a_cut_short_artifact(tmp_path: Path) -> None:
    path = tmp_path / "dict.bin"
    save_compiled(compile_dictionary(ENTRIES), path)
    path.write_bytes(path.read_bytes()[:-100])
    assert load_info(path).num_terms == 4
    with pytest.raises(InputError, match="damaged"):
        load_compiled(path)


def test_load_info_reads_the_header_alone(tmp_path: Path) -> None:
    compiled = compile_dictionary(ENTRIES)
    path = tmp_path / "dict.bin"
    save_compiled(compiled, path)
    info = load_info(path)
    assert (info.fingerprint, info.labels, info.config, info.num_terms) == (
        compiled.fingerprint,
        ("Chemical", "Disease", "Temperature"),
        compiled.config,
        4,
    )
    assert info.stats == compiled.stats
    assert info.label_counts == {"Chemical": 2, "Disease": 2, "Temperature": 1}


def test_automaton_maps_every_key_to_its_index() -> None:
    compiled = compile_dictionary(ENTRIES)
    keys = list(compiled.keys)
    assert keys == sorted(keys)
    assert [v >> KEY_SHIFT for v in compiled.values] == list(range(len(keys)))
    assert [v & (CASE_BIT - 1) for v in compiled.values] == [len(key) for key in keys]
    for k, key in enumerate(keys):
        assert compiled.index_of(key) == k
        assert (0, len(key), k) in compiled.automaton.find_all(key)
    assert compiled.index_of("not a key") is None
    assert compiled.index_of("") is None
    assert compiled.index_of("zzzz") is None


def test_terms_by_label_lists_each_types_certain_terms() -> None:
    from dictionaries import Entry, compile_dictionary, terms_by_label

    compiled = compile_dictionary(
        [
            Entry("Aspirin", "Chemical", "D1", "test", "exact"),
            Entry("acetylsalicylic acid", "Chemical", "D1", "test", "exact"),
            Entry("aspirin", "Chemical", "D1", "test", "exact"),
            Entry("gastric ulcer", "Disease", "D2", "test", "exact"),
        ]
    )
    terms = terms_by_label(compiled)
    assert terms["Disease"] == ("gastric ulcer",)
    assert "acetylsalicylic acid" in terms["Chemical"]
    assert set(terms) == {"Chemical", "Disease"}
