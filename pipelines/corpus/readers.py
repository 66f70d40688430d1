"""Corpus readers: files -> byte ranges -> raw records -> documents or dead letters.

Reading is split in two so that large uncompressed files are read in parallel without moving
their text through a shuffle: :func:`plan_ranges` cuts a file into byte ranges that start on a
record boundary (and knows the line number each range starts at), and :func:`iter_records`
reads one range. Compressed files (``.gz``, ``.bz2``, ...) are one range each; one that ends
early or is damaged ends in a ``truncated_file`` or ``corrupt_file`` dead letter
(:mod:`pipelines.corpus.damaged_input`), never silently short.

A record is one line (``text``, ``jsonl``) or one blank-line separated block (``pubtator``).
:func:`pipelines.corpus.records.parse_record` turns a record into a :class:`Document`, or into a
:class:`DeadLetter` that carries the reason, the file and the 1-based line where the record
starts. Nothing is dropped: every record becomes exactly one of the two.

Everything here is plain Python over file handles opened with Beam's ``FileSystems``, so local
paths and remote ones (``gs://``, ``s3://``, ...) read the same way.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from enum import Enum
from typing import IO, NamedTuple, Protocol

from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

from binder_core.contract.errors import InputError
from binder_core.contract.input_files import compression_suffix, decompressing
from pipelines.corpus.damaged_input import DamageGuard, with_damage
from pipelines.corpus.pubtator import TITLE_BYTES
from pipelines.silver.config import ReadConfig

_CHUNK_BYTES = 1 << 20


class DeadLetterReason(str, Enum):
    """Why a record did not become a document."""

    BROKEN_JSON = "broken_json"
    INVALID_UTF8 = "invalid_utf8"
    EMPTY_TEXT = "empty_text"
    MISSING_TEXT_FIELD = "missing_text_field"
    BAD_ID_FIELD = "bad_id_field"
    TOO_LARGE = "too_large"
    BROKEN_PUBTATOR = "broken_pubtator"
    TRUNCATED_FILE = "truncated_file"  # a compressed file that ends early: the rest is lost
    CORRUPT_FILE = "corrupt_file"  # compressed data that does not decompress: the rest is lost


class InputFile(NamedTuple):
    path: str
    size_bytes: int


class ByteRange(NamedTuple):
    """``[start, end)`` bytes of ``path``; ``end`` is None for "to the end" (compressed files)."""

    path: str
    start: int
    end: int | None
    first_line: int  # 1-based line number of the byte at ``start``


class RawRecord(NamedTuple):
    """One record's bytes (None when it was over the size limit and not kept in memory).

    ``damage`` is set on the last record of a damaged compressed file: ``(reason, detail)``,
    the reason a :class:`DeadLetterReason` value; ``data`` is then what was read of the record
    the data stops in (possibly nothing).
    """

    path: str
    line: int
    data: bytes | None
    size_bytes: int
    damage: tuple[str, str] | None = None


class Document(NamedTuple):
    doc_id: str
    text: str
    source: str


class DeadLetter(NamedTuple):
    reason: str  # a DeadLetterReason value
    path: str
    line: int
    detail: str
    record: str  # the start of the record, for a look at what went wrong


def expand_inputs(patterns: list[str] | tuple[str, ...]) -> list[InputFile]:
    """Expand paths and globs (local or remote); a pattern that matches nothing is an error,
    and so is a corpus whose files are all empty.

    The result is sorted and de-duplicated, so the same inputs always give the same list.
    """
    if not patterns:
        raise InputError("no corpus given; pass one or more files or globs")
    files: dict[str, int] = {}
    for result in FileSystems.match(list(patterns)):
        found = [m for m in result.metadata_list if not _is_hidden_or_dir(m.path)]
        if not found and os.path.isdir(result.pattern):
            raise InputError(
                f"is a folder; pass the files or a quoted glob such as "
                f"'{os.path.join(result.pattern, '*.jsonl')}'",
                path=result.pattern,
            )
        if not found:
            raise InputError("no file matches this path or glob", path=result.pattern)
        for meta in found:
            files[meta.path] = meta.size_in_bytes
    if not any(files.values()):
        raise InputError(
            "every corpus file is empty (0 bytes); check the paths", path=", ".join(sorted(files))
        )
    return [InputFile(p, files[p]) for p in sorted(files)]


def _is_hidden_or_dir(path: str) -> bool:
    return os.path.isdir(path) or os.path.basename(path.rstrip("/")).startswith(".")


def is_splittable(path: str) -> bool:
    return compression_suffix(path) is None


def open_input(path: str) -> IO[bytes]:
    """Open a local or remote file, decompressing by extension (``.gz``, ``.bz2``, ...); a
    compressed file raises :class:`binder_core.contract.input_files.PartialFileError` where its data
    ends early or is damaged."""
    try:
        raw = FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED)
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot open ({exc})", path=path) from None
    return decompressing(raw, path)


def plan_ranges(file: InputFile, config: ReadConfig, multiple: int = 1) -> list[ByteRange]:
    """Cut an uncompressed file into ranges on record boundaries: ``n`` ranges of about equal
    size, ``n`` the least multiple of ``multiple`` that keeps them at most ``split_bytes``.

    Workers that take ranges in turn (a local runner hands them out round-robin) then get equal
    shares when ``multiple`` is their number. Costs one sequential read of the file (to count
    lines); compressed files, and files of at most ``split_bytes``, are one range.
    """
    size = file.size_bytes
    if not is_splittable(file.path) or size <= config.split_bytes:
        return [ByteRange(file.path, 0, None, 1)]
    n = -(-size // config.split_bytes)
    n = -(-n // multiple) * multiple
    blank_line = config.format == "pubtator"
    with open_input(file.path) as stream:
        bounds = [0]
        for i in range(1, n):
            target = size * i // n
            if target <= bounds[-1]:
                continue  # a record longer than a range: the next boundary is past this target
            boundary = _next_boundary(stream, target, blank_line)
            if boundary is None or boundary >= size:
                break
            bounds.append(boundary)
        ranges = []
        line = 1
        for i, start in enumerate(bounds):
            end = bounds[i + 1] if i + 1 < len(bounds) else None
            ranges.append(ByteRange(file.path, start, end, line))
            if end is not None:
                line += _count_newlines(stream, start, end)
    return ranges


def _next_boundary(stream: IO[bytes], target: int, blank_line: bool) -> int | None:
    """The first line start at or after ``target`` (after a blank line when ``blank_line``)."""
    stream.seek(target - 1)
    stream.readline()  # ends at the first line start >= target
    if not blank_line:
        return stream.tell()
    previous_blank = False
    while True:
        pos = stream.tell()
        line = stream.readline()
        if not line:
            return None
        is_blank = not line.strip()
        if previous_blank and not is_blank:
            return pos
        previous_blank = is_blank


def _count_newlines(stream: IO[bytes], start: int, end: int) -> int:
    stream.seek(start)
    count, left = 0, end - start
    while left > 0:
        chunk = stream.read(min(_CHUNK_BYTES, left))
        if not chunk:
            break
        count += chunk.count(b"\n")
        left -= len(chunk)
    return count


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


def read_lines(
    stream: Readable, limit_bytes: int | None, max_line_bytes: int
) -> Iterator[tuple[bytes | None, int]]:
    """Yield ``(line, size)`` for each line of the next ``limit_bytes`` (None: to EOF).

    Lines lose their ``\\n`` (and a ``\\r`` before it). A line longer than ``max_line_bytes`` is
    not kept: it comes out as ``(None, size)``, so one huge line cannot exhaust memory.
    """
    carry = b""
    oversize = 0  # bytes of an over-long line seen so far (0: not in one)
    left = limit_bytes
    while left is None or left > 0:
        chunk = stream.read(_CHUNK_BYTES if left is None else min(_CHUNK_BYTES, left))
        if not chunk:
            break
        if left is not None:
            left -= len(chunk)
        pieces = chunk.split(b"\n")
        for i, piece in enumerate(pieces):
            if i == len(pieces) - 1:  # no newline after it (yet)
                if oversize:
                    oversize += len(piece)
                elif len(carry) + len(piece) > max_line_bytes:
                    oversize, carry = len(carry) + len(piece), b""
                else:
                    carry += piece
                break
            if oversize:
                yield None, oversize + len(piece)
                oversize = 0
                continue
            line = carry + piece if carry else piece
            carry = b""
            if line.endswith(b"\r"):
                line = line[:-1]
            if len(line) > max_line_bytes:
                yield None, len(line)
            else:
                yield line, len(line)
    if oversize:
        yield None, oversize
    elif carry:
        yield (carry[:-1] if carry.endswith(b"\r") else carry), len(carry)


def iter_records(byte_range: ByteRange, config: ReadConfig) -> Iterator[RawRecord]:
    """The records of one byte range, each with the 1-based line it starts on; a damaged
    compressed file's records end with one that carries the damage."""
    with open_input(byte_range.path) as stream:
        if byte_range.start:
            stream.seek(byte_range.start)
        limit = None if byte_range.end is None else byte_range.end - byte_range.start
        guard = None if is_splittable(byte_range.path) else DamageGuard(stream)
        lines = read_lines(guard or stream, limit, config.max_doc_bytes)
        records = (
            _blocks(byte_range, lines, config.max_doc_bytes)
            if config.format == "pubtator"
            else _lines(byte_range, lines)
        )
        if guard is None:
            yield from records
            return
        for record in with_damage(records, guard, byte_range, config.format == "pubtator"):
            yield RawRecord(*record)


def _lines(byte_range: ByteRange, lines: Iterator[tuple[bytes | None, int]]) -> Iterator[RawRecord]:
    for offset, (line, size) in enumerate(lines):
        yield RawRecord(byte_range.path, byte_range.first_line + offset, line, size)


def _blocks(
    byte_range: ByteRange, lines: Iterator[tuple[bytes | None, int]], max_bytes: int
) -> Iterator[RawRecord]:
    """Group lines into PubTator documents: a block ends at a blank line or a new title line."""
    parts: list[bytes] = []
    start_line, size, too_large = 0, 0, False
    for offset, (line, line_size) in enumerate(lines):
        blank = line is not None and not line.strip()
        if (blank or (line is not None and TITLE_BYTES.match(line))) and (size or too_large):
            yield RawRecord(
                byte_range.path, start_line, None if too_large else b"\n".join(parts), size
            )
            parts, size, too_large = [], 0, False
        if blank:
            continue
        if not size and not too_large:
            start_line = byte_range.first_line + offset
        size += line_size + 1
        if line is None or size > max_bytes:
            too_large, parts = True, []
        else:
            parts.append(line)
    if size or too_large:
        yield RawRecord(byte_range.path, start_line, None if too_large else b"\n".join(parts), size)
