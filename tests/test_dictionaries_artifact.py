"""The artifact file runs no code: a pickle or a tampered automaton is refused, not loaded."""

from __future__ import annotations

import json
import os
import pickle
import struct
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from binder_core.errors import InputError
from cli.main import app
from dictionaries import Entry, compile_dictionary, load_compiled, match, save_compiled
from dictionaries.artifact import FORMAT_VERSION, load_info
from dictionaries.compiled import MAGIC

runner = CliRunner()
ENTRIES = [
    Entry("aspirin", "Chemical", "D001", "t"),
    Entry("heart failure", "Disease", "D002", "t"),
    Entry("heart", "Anatomy", "A01", "t"),
    Entry("NO", "Chemical", "D010", "t"),
]


class _Marker:
    """Unpickling this creates ``path``: proof that the loader ran code from the file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[Any, ...]:
        return (os.mkdir, (str(self.path),))


def _header(fingerprint: str = "sha256:0") -> bytes:
    compiled = compile_dictionary(ENTRIES)
    header = {
        "fingerprint": fingerprint,
        "labels": list(compiled.labels),
        "config": json.loads(compiled.config.to_json()),
        "num_terms": compiled.num_terms,
        "stats": {},
        "label_counts": {},
    }
    raw = json.dumps(header).encode()
    return struct.pack("<Q", len(raw)) + raw


def _old_format_with_pickle(path: Path, marker: Path) -> Path:
    """A format-2 artifact (header, then a pickle) whose pickle would create ``marker``."""
    path.write_bytes(MAGIC + struct.pack("<I", 2) + _header() + pickle.dumps(_Marker(marker)))
    return path


def test_old_pickled_artifact_is_refused_without_running_it(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    evil = _old_format_with_pickle(tmp_path / "evil.dict", marker)
    with pytest.raises(InputError, match="format 2, this binder-ner reads format 3; recompile"):
        load_compiled(evil)
    assert not marker.exists()


def test_cli_refuses_a_pickled_artifact_in_one_line_with_exit_2(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    evil = _old_format_with_pickle(tmp_path / "evil.dict", marker)
    args = ["dict", "split", str(evil), "--holdout", "0.5", "--train", str(tmp_path / "a.dict"),
            "--heldout", str(tmp_path / "b.dict")]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "recompile it" in lines[0], result.output
    assert not marker.exists()


def test_a_pickle_in_place_of_the_sections_is_damage_not_code(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    good = tmp_path / "good.dict"
    save_compiled(compile_dictionary(ENTRIES), good)
    data = good.read_bytes()
    start = len(MAGIC) + 4
    (length,) = struct.unpack("<Q", data[start : start + 8])
    body = start + 8 + length
    evil = tmp_path / "evil.dict"
    evil.write_bytes(data[:body] + pickle.dumps(_Marker(marker)) + data[body:])
    with pytest.raises(InputError, match="damaged"):
        load_compiled(evil)
    assert not marker.exists()


def _tamper_dump(path: Path, edit: Any) -> None:
    """Rewrite the automaton dump section of ``path`` with ``edit(words)`` (uint32 list)."""
    data = bytearray(path.read_bytes())
    start = len(MAGIC) + 4
    (length,) = struct.unpack("<Q", data[start : start + 8])
    header = json.loads(data[start + 8 : start + 8 + length])
    at = start + 8 + length
    for name, size, _ in header["sections"]:
        if name == "automaton.dump":
            words = list(struct.unpack(f"<{size // 4}I", data[at : at + size]))
            edit(words)
            data[at : at + size] = struct.pack(f"<{size // 4}I", *words)
        at += size
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        (lambda w: w.__setitem__(2 + 6 + 1, 0), "child links"),  # root's first child -> id 0
        (lambda w: w.__setitem__(2 + 6 + 1, 1), "child links"),  # the root is its own child
        (lambda w: w.__setitem__(2 + 4, w[2 + 4] + 1), "child counts"),
        (lambda w: w.__setitem__(0, w[0] + 1), "node counts|wrong size"),
    ],
)
def test_a_tampered_automaton_is_refused_before_pyahocorasick_sees_it(
    tmp_path: Path, edit: Any, reason: str
) -> None:
    path = tmp_path / "dict.bin"
    save_compiled(compile_dictionary(ENTRIES), path)
    _tamper_dump(path, edit)
    with pytest.raises(InputError, match=f"damaged .*({reason})"):
        load_compiled(path)


def test_round_trip_keeps_every_match_and_the_header(tmp_path: Path) -> None:
    compiled = compile_dictionary([*ENTRIES, Entry("Rose", "Person", "P1", "t", case="exact")])
    path = tmp_path / "dict.bin"
    save_compiled(compiled, path)
    loaded = load_compiled(path)
    text = "Rose had heart failure, NO aspirin; rose and heart."
    assert match(text, loaded) == match(text, compiled)
    assert (
        loaded.mixed_case == compiled.mixed_case == frozenset({4})
    )  # keys: aspirin, heart, heart failure, no, rose
    assert load_info(path).fingerprint == compiled.fingerprint
    assert path.read_bytes()[len(MAGIC) : len(MAGIC) + 4] == struct.pack("<I", FORMAT_VERSION)


def test_an_empty_dictionary_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "empty.dict"
    save_compiled(compile_dictionary([]), path)
    assert match("anything at all", load_compiled(path)) == []
