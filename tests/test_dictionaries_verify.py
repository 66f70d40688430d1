"""A compiled dictionary's checksums are checked before a pipeline starts, not in a worker."""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from binder_core.contract.errors import InputError
from cli.main import app
from dictionaries import Entry, compile_dictionary, save_compiled
from dictionaries.artifact import load_info, verify_compiled
from dictionaries.compiled import MAGIC

ENTRIES = [
    Entry("aspirin", "Chemical", "D001", "t"),
    Entry("heart failure", "Disease", "D002", "t"),
]


@pytest.fixture
def artifact(tmp_path: Path) -> Path:
    path = tmp_path / "good.dict"
    save_compiled(compile_dictionary(ENTRIES), path)
    return path


def _sections(path: Path) -> tuple[int, list[tuple[str, int]]]:
    """Where the sections start, and each section's name and byte length."""
    data = path.read_bytes()
    at = len(MAGIC) + 4  # the magic line and the format version
    (length,) = struct.unpack("<Q", data[at : at + 8])
    header = json.loads(data[at + 8 : at + 8 + length])
    return at + 8 + length, [(name, size) for name, size, _ in header["sections"]]


def _flip(path: Path, at: int, out: Path) -> Path:
    data = bytearray(path.read_bytes())
    data[at] ^= 0x55
    out.write_bytes(bytes(data))
    return out


def test_verify_compiled_returns_the_header_of_a_whole_file(artifact: Path) -> None:
    assert verify_compiled(artifact) == load_info(artifact)


def test_verify_compiled_names_every_damaged_section(artifact: Path, tmp_path: Path) -> None:
    start, sections = _sections(artifact)
    offset = start
    for name, length in sections:
        if length:
            damaged = _flip(artifact, offset, tmp_path / "damaged.dict")
            with pytest.raises(InputError) as caught:
                verify_compiled(damaged)
            assert str(caught.value) == (
                f"{damaged}: compiled dictionary is damaged (section {name} fails its checksum); "
                "recompile it"
            )
        offset += length


def test_verify_compiled_refuses_a_cut_file_and_trailing_bytes(
    artifact: Path, tmp_path: Path
) -> None:
    data = artifact.read_bytes()
    (tmp_path / "cut.dict").write_bytes(data[:-1])
    with pytest.raises(InputError, match=r"section automaton\.0 cut short"):
        verify_compiled(tmp_path / "cut.dict")
    (tmp_path / "long.dict").write_bytes(data + b"\0")
    with pytest.raises(InputError, match="data after the last section"):
        verify_compiled(tmp_path / "long.dict")


def test_silver_build_refuses_a_damaged_table_before_beam_starts(
    artifact: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import apache_beam as beam

    def no_pipeline(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the pipeline was built")

    monkeypatch.setattr(beam, "Pipeline", no_pipeline)
    start, sections = _sections(artifact)
    damaged = _flip(artifact, start + sections[0][1] // 2, tmp_path / "damaged.dict")
    corpus = tmp_path / "c.txt"
    corpus.write_text("aspirin\n")
    result = CliRunner().invoke(
        app, ["silver", "build", str(corpus), "--dict", str(damaged), "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 2
    assert result.output == (
        f"error: {damaged}: compiled dictionary is damaged (section keys.text fails its "
        "checksum); recompile it\n"
    )
    assert not (tmp_path / "o").exists()
