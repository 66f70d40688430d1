"""The artifact file runs no code: a pickle or a tampered section is refused, not loaded."""

from __future__ import annotations

import json
import os
import pickle
import struct
import zlib
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from binder_core.contract.errors import InputError
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
    expected = f"format 2, this binder-ner reads format {FORMAT_VERSION}; recompile"
    with pytest.raises(InputError, match=expected):
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


def _rewrite(path: Path, name: str, edit: Any, *, fix_checksum: bool = True) -> None:
    """Replace section ``name`` of ``path`` with ``edit(bytes)``; the header's length (and,
    with ``fix_checksum``, crc32) follow, so only the loader's own checks can catch it."""
    data = path.read_bytes()
    start = len(MAGIC) + 4
    (length,) = struct.unpack("<Q", data[start : start + 8])
    header = json.loads(data[start + 8 : start + 8 + length])
    at = start + 8 + length
    body = b""
    for entry in header["sections"]:
        section, size, crc = entry
        chunk = data[at : at + size]
        at += size
        if section == name:
            chunk = edit(chunk)
            entry[1] = len(chunk)
            entry[2] = zlib.crc32(chunk) if fix_checksum else crc
        body += chunk
    raw = json.dumps(header, sort_keys=True).encode()
    path.write_bytes(data[:start] + struct.pack("<Q", len(raw)) + raw + body)


def _as_u4(values: list[int]) -> bytes:
    return struct.pack(f"<{len(values)}I", *values)


def _u4(data: bytes) -> list[int]:
    return list(struct.unpack(f"<{len(data) // 4}I", data))


@pytest.mark.parametrize(
    ("section", "edit", "reason"),
    [
        # keys: aspirin, heart, heart failure, no -> one payload each
        ("payload_start", lambda b: _as_u4([0, 1, 1, 3, 4]), "out of order"),
        ("payload_start", lambda b: _as_u4([0, 1, 2, 3, 5]), "disagree"),
        ("payload_label", lambda b: b"\xff\xff" + b[2:], "label out of range"),
        ("mixed_case", lambda b: _as_u4([99]), "mixed-case key out of range"),
        ("keys.offsets", lambda b: struct.pack("<5Q", 0, 0, 5, 18, 20), "offsets|empty key"),
        ("keys.text", lambda b: b[:-1], "offsets do not fit"),
        ("payload_uncertain", lambda b: b[:-1], "different lengths"),
    ],
)
def test_a_tampered_section_is_refused(
    tmp_path: Path, section: str, edit: Any, reason: str
) -> None:
    path = tmp_path / "dict.bin"
    save_compiled(compile_dictionary(ENTRIES), path)
    _rewrite(path, section, edit)
    with pytest.raises(InputError, match=f"damaged .*({reason})"):
        load_compiled(path)


def test_a_changed_byte_fails_its_checksum(tmp_path: Path) -> None:
    path = tmp_path / "dict.bin"
    save_compiled(compile_dictionary(ENTRIES), path)
    _rewrite(path, "keys.text", lambda b: b.replace(b"aspirin", b"aspirim"), fix_checksum=False)
    with pytest.raises(InputError, match=r"damaged .*checksum"):
        load_compiled(path)


def test_a_format_3_file_is_refused_with_a_recompile_message(tmp_path: Path) -> None:
    path = tmp_path / "dict.bin"
    save_compiled(compile_dictionary(ENTRIES), path)
    data = path.read_bytes()
    path.write_bytes(MAGIC + struct.pack("<I", 3) + data[len(MAGIC) + 4 :])
    with pytest.raises(InputError, match=r"format 3.*recompile"):
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
