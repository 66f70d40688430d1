"""The key automaton: shards find what one automaton finds, and its bytes are checked on load."""

from __future__ import annotations

import random
import struct
from dataclasses import replace
from pathlib import Path

import pytest

from binder_core.contract.errors import InputError
from dictionaries import compile_dictionary, load_compiled, match, save_compiled
from dictionaries.automaton import KeyAutomaton, shard_starts
from dictionaries.compiled import MAGIC
from tests.test_dictionaries_artifact import ENTRIES, _rewrite

KEYS = ["ab", "abc", "b", "bc", "c"]
# Every occurrence in "abc" as (start, end, key), by end offset, longer first within an end.
HITS_IN_ABC = [(0, 2, 0), (1, 2, 2), (0, 3, 1), (1, 3, 3), (2, 3, 4)]


def test_shard_starts_cut_before_the_key_that_would_pass_the_limit() -> None:
    # lengths 2, 3, 1, 2, 1 with at most 3 characters: [ab] [abc] [b bc] [c]
    assert shard_starts([2, 3, 1, 2, 1], max_chars=3) == [0, 1, 2, 4, 5]
    assert shard_starts([2, 3, 1, 2, 1], max_chars=100) == [0, 5]
    assert shard_starts([7], max_chars=3) == [0, 1]  # a key longer than the limit: alone
    assert shard_starts([], max_chars=3) == [0]


def test_key_automaton_finds_every_occurrence_by_end() -> None:
    one = KeyAutomaton.build(KEYS)
    assert one.starts == (0, 5)
    assert one.find_all("abc") == HITS_IN_ABC
    assert one.find_all("") == []


def test_key_automaton_shards_find_what_one_automaton_finds() -> None:
    sharded = KeyAutomaton.build(KEYS, max_chars=3)
    assert sharded.starts == (0, 1, 2, 4, 5)
    assert sharded.find_all("abc") == HITS_IN_ABC
    text = "xabc bc ab"
    assert sharded.find_all(text) == KeyAutomaton.build(KEYS).find_all(text)


def test_key_automaton_without_keys_finds_nothing() -> None:
    empty = KeyAutomaton.build([])
    assert (empty.starts, empty.serialize(), empty.find_all("abc")) == ((0,), [], [])


def test_key_automaton_round_trips_through_its_bytes() -> None:
    sharded = KeyAutomaton.build(KEYS, max_chars=3)
    copy = KeyAutomaton.deserialize(sharded.serialize(), sharded.starts)
    assert copy.starts == sharded.starts
    assert copy.find_all("abc") == HITS_IN_ABC


def test_key_automaton_refuses_bytes_that_are_not_an_automaton() -> None:
    data = KeyAutomaton.build(KEYS).serialize()[0]
    with pytest.raises(ValueError):
        KeyAutomaton.deserialize([data[: len(data) // 2]], [0, 5])
    with pytest.raises(ValueError, match="one start per shard"):
        KeyAutomaton.deserialize([data], [0, 2, 5])
    with pytest.raises(ValueError, match="out of order"):
        KeyAutomaton.deserialize([data], [0, 0])


def test_a_sharded_artifact_matches_as_the_dictionary_it_was_saved_from(tmp_path: Path) -> None:
    compiled = compile_dictionary(ENTRIES)
    sharded = replace(compiled, automaton=KeyAutomaton.build(compiled.keys, max_chars=15))
    assert sharded.automaton.starts == (0, 2, 4)  # aspirin, heart | heart failure, no
    path = tmp_path / "dict.bin"
    save_compiled(sharded, path)
    loaded = load_compiled(path)
    text = "NO heart failure, aspirin; heart."
    assert loaded.automaton.starts == sharded.automaton.starts
    assert match(text, loaded) == match(text, compiled)
    assert [m.matched_term for m in match(text, loaded)] == [
        "NO",
        "heart failure",
        "aspirin",
        "heart",
    ]


def test_an_automaton_section_that_is_not_one_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "dict.bin"
    save_compiled(compile_dictionary(ENTRIES), path)
    # The checksum is made to fit: only daachorse's own check can catch it.
    _rewrite(path, "automaton.0", lambda b: b[: len(b) // 2])
    with pytest.raises(InputError, match="damaged"):
        load_compiled(path)


def test_a_format_4_file_is_refused_with_a_recompile_message(tmp_path: Path) -> None:
    path = tmp_path / "dict.bin"
    save_compiled(compile_dictionary(ENTRIES), path)
    data = path.read_bytes()
    path.write_bytes(MAGIC + struct.pack("<I", 4) + data[len(MAGIC) + 4 :])
    with pytest.raises(InputError, match=r"format 4, this binder-ner reads format 5; recompile"):
        load_compiled(path)


def test_key_automaton_bytes_with_changed_bytes_are_refused_or_still_scan() -> None:
    data = KeyAutomaton.build(KEYS).serialize()[0]
    rng = random.Random(0)
    refused = 0
    for _ in range(300):
        changed = bytearray(data)
        for _ in range(rng.randint(1, 4)):
            changed[rng.randrange(len(changed))] = rng.randrange(256)
        try:
            automaton = KeyAutomaton.deserialize([bytes(changed)], [0, len(KEYS)])
        except ValueError:
            refused += 1
            continue
        assert isinstance(automaton.find_all("abc bc xabcx"), list)
    assert refused > 200  # most changes break the structure that daachorse checks
