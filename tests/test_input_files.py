"""Compressed inputs that end early or are damaged, byte-order marks and CRLF line ends."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import zlib
from pathlib import Path

import pytest
import zstandard

from binder_core.contract.errors import InputError
from binder_core.contract.input_files import (
    PartialFileError,
    compression_suffix,
    decompressing,
    iter_local_lines,
    read_local_text,
)

DATA = b"".join(b'{"id": "%d", "text": "record %d"}\n' % (i, i) for i in range(20_000))
COMPRESS = {
    ".gz": gzip.compress,
    ".bz2": bz2.compress,
    ".xz": lzma.compress,
    ".lzma": lambda d: lzma.compress(d, format=lzma.FORMAT_ALONE),
    ".zst": lambda d: zstandard.ZstdCompressor().compress(d),
    ".deflate": zlib.compress,
}


def _read(data: bytes, suffix: str) -> bytes:
    return decompressing(io.BytesIO(data), f"corpus.jsonl{suffix}").read()


@pytest.mark.parametrize("suffix", sorted(COMPRESS))
def test_decompressing_reads_a_whole_file(suffix: str) -> None:
    assert _read(COMPRESS[suffix](DATA), suffix) == DATA


@pytest.mark.parametrize("suffix", sorted(COMPRESS))
def test_decompressing_a_file_cut_in_half_is_a_truncated_file(suffix: str) -> None:
    data = COMPRESS[suffix](DATA)
    with pytest.raises(PartialFileError) as caught:
        _read(data[: len(data) // 2], suffix)
    assert caught.value.reason == "truncated_file"
    assert str(caught.value) == (
        f"corpus.jsonl{suffix}: compressed file ends early (the data stops inside a compressed "
        "stream); download or copy it again"
    )


@pytest.mark.parametrize("suffix", sorted(COMPRESS))
def test_decompressing_an_empty_compressed_file_is_a_truncated_file(suffix: str) -> None:
    with pytest.raises(PartialFileError, match=r"ends early \(empty\)") as caught:
        _read(b"", suffix)
    assert caught.value.reason == "truncated_file"


@pytest.mark.parametrize("suffix", [".gz", ".bz2", ".xz", ".zst", ".deflate"])
def test_decompressing_a_flipped_byte_is_a_corrupt_file(suffix: str) -> None:
    data = bytearray(COMPRESS[suffix](DATA))
    data[len(data) // 2] ^= 0xFF
    with pytest.raises(PartialFileError, match="compressed file is damaged") as caught:
        _read(bytes(data), suffix)
    assert caught.value.reason == "corrupt_file"


def test_decompressing_reads_concatenated_streams_and_zero_padding() -> None:
    data = gzip.compress(b"a\n") + gzip.compress(b"b\n") + b"\0" * 7
    assert _read(data, ".gz") == b"a\nb\n"


def test_decompressing_returns_every_byte_before_the_cut_then_raises() -> None:
    data = gzip.compress(DATA)
    stream = decompressing(io.BytesIO(data[: len(data) // 2]), "c.gz")
    read = b""
    with pytest.raises(PartialFileError):
        while chunk := stream.read(1 << 20):
            read += chunk
    assert len(read) > len(DATA) // 4 and DATA.startswith(read)


def test_compression_suffix_knows_the_formats_whatever_the_case() -> None:
    assert [compression_suffix(p) for p in ("a.jsonl.GZ", "a.txt", "a.zst", "a.tar.xz")] == [
        ".gz",
        None,
        ".zst",
        ".xz",
    ]


def test_read_local_text_drops_a_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "table.tsv.gz"
    path.write_bytes(gzip.compress("\ufeffterm\tlabel\r\naspirin\tChemical\r\n".encode()))
    assert read_local_text(path) == "term\tlabel\r\naspirin\tChemical\r\n"


def test_iter_local_lines_drops_the_mark_and_crlf(tmp_path: Path) -> None:
    path = tmp_path / "terms.txt"
    path.write_bytes("\ufeffaspirin\r\nc\u00e9line\r\n".encode())
    assert list(iter_local_lines(path)) == [(1, "aspirin"), (2, "c\u00e9line")]


def test_iter_local_lines_names_the_line_of_bad_utf8(tmp_path: Path) -> None:
    path = tmp_path / "terms.txt"
    path.write_bytes(b"aspirin\n\xff\xfe\n")
    with pytest.raises(InputError, match=r"terms.txt:2: not valid UTF-8"):
        list(iter_local_lines(path))


def test_read_local_text_refuses_a_folder_and_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="is a folder; give the gold file itself"):
        read_local_text(tmp_path, "gold file")
    with pytest.raises(InputError, match="no such gold file; check the path"):
        read_local_text(tmp_path / "missing.txt", "gold file")
