"""The compiled-dictionary file: a JSON header and flat data sections, read without running code.

Layout (format 5)::

    MAGIC line | uint32 format version | uint64 header length | header (UTF-8 JSON) | sections

The header holds what :func:`load_info` returns (fingerprint, labels, config, counts), the
first key of each automaton shard (``automaton_shards``: ``[0, ..., number of keys]``) and the
list of sections that follow it, each ``[name, byte length, crc32]``. Sections are
little-endian arrays and UTF-8 text: the string tables (text + uint64 offsets), the payload
arrays and the mixed-case key ids; then the automaton, one section per shard in ``daachorse``'s
serialized form (:mod:`dictionaries.automaton`). Loading reads the automaton instead of
building it, and derives each key's value from the tables
(:func:`dictionaries.compiled.pack_values`).

Nothing in the file is unpickled or evaluated: every section is checked (lengths, checksums,
ranges) before anything is built from it, an automaton shard is read by ``daachorse``'s
checking deserializer, and a file that fails is an :class:`InputError`. Older formats (2: a
pickle; 3: a pyahocorasick node dump; 4: no automaton, rebuilt on every load) are refused with
a message to recompile.
"""

from __future__ import annotations

import json
import os
import struct
import sys
import zlib
from array import array
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import IO, Any, Literal

from binder_core.contract.atomic import atomic_path
from binder_core.contract.errors import InputError
from dictionaries.automaton import KeyAutomaton
from dictionaries.compiled import MAGIC, CompiledDictionary, pack_values
from dictionaries.config import CompileConfig
from dictionaries.tables import StrTable

FORMAT_VERSION = 5
_LENGTH = struct.Struct("<Q")
_MAX_HEADER_BYTES = 1 << 24  # labels and counts: far below this
_VERIFY_CHUNK_BYTES = 1 << 22
_SHARD = "automaton.{}"
_TABLES = ("keys", "payload_concept", "payload_term", "payload_case")
_ARRAYS: dict[str, Literal["I", "H"]] = {
    "payload_start": "I",
    "payload_label": "H",
    "mixed_case": "I",
}


@dataclass(frozen=True)
class DictionaryInfo:
    """What an artifact's header says: enough to label a run without loading the matcher."""

    fingerprint: str
    labels: tuple[str, ...]
    config: CompileConfig
    num_terms: int
    stats: Mapping[str, int] = field(default_factory=dict)
    label_counts: Mapping[str, int] = field(default_factory=dict)


def _damaged(why: object, where: str) -> InputError:
    return InputError(f"compiled dictionary is damaged ({why}); recompile it", path=where)


def _sections(compiled: CompiledDictionary) -> list[tuple[str, bytes]]:
    sections: list[tuple[str, bytes]] = []
    for name in _TABLES:
        text, offsets = getattr(compiled, name).to_bytes()
        sections += [(f"{name}.text", text), (f"{name}.offsets", offsets)]
    for name, code in _ARRAYS.items():
        values = getattr(compiled, name)
        sections.append((name, array(code, sorted(values) if name == "mixed_case" else values)
                         .tobytes()))  # fmt: skip
    sections.append(("payload_uncertain", bytes(compiled.payload_uncertain)))
    for i, data in enumerate(compiled.automaton.serialize()):
        sections.append((_SHARD.format(i), data))
    return sections


def save_compiled(compiled: CompiledDictionary, path: str | os.PathLike[str]) -> None:
    """Write the artifact atomically (see the module docstring for the layout)."""
    sections = _sections(compiled)
    header = json.dumps(
        {
            "fingerprint": compiled.fingerprint,
            "labels": list(compiled.labels),
            "config": json.loads(compiled.config.to_json()),
            "num_terms": compiled.num_terms,
            "stats": dict(compiled.stats),
            "label_counts": dict(compiled.label_counts),
            "automaton_shards": list(compiled.automaton.starts),
            "sections": [[name, len(data), zlib.crc32(data)] for name, data in sections],
        },
        sort_keys=True,
    ).encode("utf-8")
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        f.write(MAGIC + struct.pack("<I", FORMAT_VERSION) + _LENGTH.pack(len(header)) + header)
        for _, data in sections:
            f.write(data)


def _read_header(stream: IO[bytes], where: str) -> dict[str, Any]:
    head = stream.read(len(MAGIC) + 4)
    if len(head) < len(MAGIC) + 4 or head[: len(MAGIC)] != MAGIC:
        raise InputError(
            "not a binder-ner compiled dictionary; build one with `binder dict compile`",
            path=where,
        )
    (version,) = struct.unpack("<I", head[len(MAGIC) :])
    if version != FORMAT_VERSION:
        raise InputError(
            f"compiled dictionary format {version}, this binder-ner reads format "
            f"{FORMAT_VERSION}; recompile it with `binder dict compile`",
            path=where,
        )
    raw_length = stream.read(_LENGTH.size)
    if len(raw_length) != _LENGTH.size:
        raise _damaged("header cut short", where)
    (length,) = _LENGTH.unpack(raw_length)
    if length > _MAX_HEADER_BYTES:
        raise _damaged(f"header of {length} bytes", where)
    raw = stream.read(length)
    if len(raw) != length:
        raise _damaged("header cut short", where)
    try:
        header = json.loads(raw.decode("utf-8"))
    except ValueError as exc:
        raise _damaged(exc, where) from None
    if not isinstance(header, dict):
        raise _damaged("header is not an object", where)
    return header


def read_info(stream: IO[bytes], where: str) -> DictionaryInfo:
    """Read the header of an artifact from ``stream`` (positioned at its start).

    Leaves ``stream`` at the start of the data sections. ``where`` names the file in errors.
    """
    header = _read_header(stream, where)
    try:
        return _info(header)
    except (ValueError, KeyError, TypeError) as exc:
        raise _damaged(exc, where) from None


def _info(header: Mapping[str, Any]) -> DictionaryInfo:
    return DictionaryInfo(
        fingerprint=str(header["fingerprint"]),
        labels=tuple(str(label) for label in header["labels"]),
        config=CompileConfig.from_dict(header["config"]),
        num_terms=int(header["num_terms"]),
        stats={str(k): int(v) for k, v in dict(header["stats"]).items()},
        label_counts={str(k): int(v) for k, v in dict(header["label_counts"]).items()},
    )


def verify_info(stream: IO[bytes], where: str) -> DictionaryInfo:
    """:func:`read_info`, and every section's length and checksum: the whole file is read in
    chunks, nothing is kept or built (about a millisecond per megabyte), so a damaged artifact
    is refused before a pipeline starts rather than inside a worker."""
    header = _read_header(stream, where)
    try:
        info = _info(header)
        for name, length, crc in header["sections"]:
            left, actual = int(length), 0
            while left > 0:
                chunk = stream.read(min(left, _VERIFY_CHUNK_BYTES))
                if not chunk:
                    raise ValueError(f"section {name} cut short")
                actual = zlib.crc32(chunk, actual)
                left -= len(chunk)
            if actual != crc:
                raise ValueError(f"section {name} fails its checksum")
        if stream.read(1):
            raise ValueError("data after the last section")
    except (ValueError, KeyError, TypeError) as exc:
        raise _damaged(exc, where) from None
    return info


def verify_compiled(path: str | os.PathLike[str]) -> DictionaryInfo:
    """The header of a local artifact, after :func:`verify_info` has checked every section."""
    with _open_artifact(path) as f:
        return verify_info(f, str(path))


def _open_artifact(path: str | os.PathLike[str]) -> IO[bytes]:
    source = Path(path)
    if not source.is_file():
        raise InputError(
            "no compiled dictionary here; build one with `binder dict compile`", path=str(source)
        )
    return open(source, "rb")


def load_info(path: str | os.PathLike[str]) -> DictionaryInfo:
    """The header of a local artifact (fingerprint, labels, config, counts), without the
    matcher: milliseconds, whatever the dictionary's size."""
    with _open_artifact(path) as f:
        return read_info(f, str(path))


def load_compiled(path: str | os.PathLike[str]) -> CompiledDictionary:
    """Read an artifact written by :func:`save_compiled`; a damaged or foreign file is an
    :class:`InputError`, never code run."""
    where = str(path)
    if sys.byteorder != "little":
        raise InputError("compiled dictionaries are read on little-endian machines only")
    with _open_artifact(path) as f:
        header = _read_header(f, where)
        try:
            info = _info(header)
            starts = [int(k) for k in header["automaton_shards"]]
            listing = list(header["sections"])
            tables = listing[: len(listing) - len(starts) + 1]
            shards = listing[len(tables) :]
            if [name for name, _, _ in shards] != [_SHARD.format(i) for i in range(len(shards))]:
                raise ValueError("automaton sections missing or out of order")
            if starts[-1] != info.num_terms:
                raise ValueError("automaton shards and key table disagree")

            sections = _read_sections(f, listing)
            table_sections = dict(islice(sections, len(tables)))

            def read_automaton() -> KeyAutomaton:
                # A shard's bytes are dropped once deserialized; the next is read meanwhile.
                automaton = KeyAutomaton.deserialize((data for _, data in sections), starts)
                if f.read(1):
                    raise ValueError("data after the last section")
                return automaton

            return _assemble(info, table_sections, read_automaton)
        except (ValueError, KeyError, TypeError, IndexError, OverflowError) as exc:
            raise _damaged(exc, where) from None


def _read_sections(stream: IO[bytes], listing: Any) -> Iterator[tuple[str, bytes]]:
    """Each section of ``listing``, read and checked; the next one is read and checked on a
    thread while the caller works on this one (reading and crc32 release the GIL), so the
    checksums of a large automaton overlap its deserializing."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        ahead: Future[tuple[str, bytes]] | None = None
        for name, length, crc in listing:
            current = pool.submit(_read_section, stream, str(name), int(length), crc)
            if ahead is not None:
                yield ahead.result()
            ahead = current
        if ahead is not None:
            yield ahead.result()


def _read_section(stream: IO[bytes], name: str, length: int, crc: int) -> tuple[str, bytes]:
    data = stream.read(length)
    if len(data) != length:
        raise ValueError(f"section {name} cut short")
    if zlib.crc32(data) != crc:
        raise ValueError(f"section {name} fails its checksum")
    return name, data


def _assemble(
    info: DictionaryInfo,
    sections: Mapping[str, bytes],
    read_automaton: Callable[[], KeyAutomaton],
) -> CompiledDictionary:
    """The dictionary of the table ``sections``, checked first; then ``read_automaton``."""
    tables = {
        name: StrTable.from_bytes(sections[f"{name}.text"], sections[f"{name}.offsets"])
        for name in _TABLES
    }
    arrays = {}
    for name, code in _ARRAYS.items():
        if len(sections[name]) % array(code).itemsize:
            raise ValueError(f"section {name} cut short")
        arrays[name] = memoryview(sections[name]).cast(code)  # read-only, no copy
    keys, starts = tables["keys"], arrays["payload_start"]
    payloads = len(arrays["payload_label"])
    if len(keys) != info.num_terms or len(starts) != len(keys) + 1 or starts[-1] != payloads:
        raise ValueError("header and tables disagree")
    if (
        any(len(tables[n]) != payloads for n in _TABLES[1:])
        or len(sections["payload_uncertain"]) != payloads
    ):
        raise ValueError("payload tables of different lengths")
    if _max(sections["payload_label"], "<u2") >= len(info.labels):
        raise ValueError("a payload label out of range")
    if _max(sections["mixed_case"], "<u4") >= len(keys):
        raise ValueError("a mixed-case key out of range")
    if not _increasing(sections["payload_start"]):
        raise ValueError("payload offsets out of order")
    if keys and min(_lengths(sections["keys.offsets"])) == 0:
        raise ValueError("an empty key")
    return CompiledDictionary(
        fingerprint=info.fingerprint,
        labels=info.labels,
        config=info.config,
        automaton=read_automaton(),
        values=_values(sections),
        keys=keys,
        payload_start=starts,
        payload_label=arrays["payload_label"],
        payload_concept=tables["payload_concept"],
        payload_term=tables["payload_term"],
        payload_case=tables["payload_case"],
        payload_uncertain=sections["payload_uncertain"],
        mixed_case=frozenset(arrays["mixed_case"]),
        stats=info.stats,
        label_counts=info.label_counts,
    )


def _max(data: bytes, dtype: str) -> int:
    import numpy as np

    values = np.frombuffer(data, dtype=dtype)
    return int(values.max()) if len(values) else -1


def _increasing(data: bytes) -> bool:
    """Strictly increasing: every key has at least one payload."""
    import numpy as np

    return not np.any(np.diff(np.frombuffer(data, dtype="<u4").astype(np.int64)) <= 0)


def _lengths(offsets: bytes) -> Any:
    """The lengths of a string table's items, from its uint64 offsets."""
    import numpy as np

    return np.diff(np.frombuffer(offsets, dtype="<u8").astype(np.int64))


def _values(sections: Mapping[str, bytes]) -> list[int]:
    """Each key's automaton value: its length, and case-sensitive when every payload of it
    carries case forms."""
    import numpy as np

    starts = np.frombuffer(sections["payload_start"], dtype="<u4").astype(np.int64)
    if len(starts) < 2:
        return []
    has_case = _lengths(sections["payload_case.offsets"]) > 0
    case_sensitive = np.logical_and.reduceat(has_case, starts[:-1])
    return pack_values(_lengths(sections["keys.offsets"]), case_sensitive)
