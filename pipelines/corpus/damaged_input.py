"""A compressed corpus file that ends early or is damaged: its last record says so.

A ``.jsonl.gz`` cut by an interrupted download decompresses fine up to the cut. Read naively,
the records before the cut become rows, the record at the cut becomes a dead letter for broken
JSON (or, in a text corpus, a row holding half a document), and everything after it is simply
absent. Here the reading stops at the damage (:class:`DamageGuard`), and the record the data
stops in (or, when the cut falls between two records, an empty record at the next line) becomes
the one record that carries the damage: a ``truncated_file`` or ``corrupt_file`` dead letter
that names the file, the line, and the last whole record read. The manifest lists such files
under ``partial_files`` (:func:`partial_files`), and the commands exit non-zero unless the user
accepts partial files.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import IO, Any

from binder_core.contract.errors import InputError
from binder_core.contract.input_files import PartialFileError

PARTIAL_REASONS = ("truncated_file", "corrupt_file")
"""The dead-letter reasons that mark a file as partly read."""

_TAIL_BYTES = 4  # enough to tell whether the data read so far ends with a blank line


class DamageGuard:
    """A read-only view of a decompressing stream that ends where the damage starts.

    ``read`` returns ``b""`` from the damage on and keeps it in :attr:`damage`; the guard also
    counts the newlines it has passed and keeps the last bytes, to place the damage.
    """

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        self.damage: PartialFileError | None = None
        self.newlines = 0
        self.tail = b""

    def read(self, size: int = -1) -> bytes:
        if self.damage is not None:
            return b""
        try:
            chunk = self._stream.read(size)
        except PartialFileError as exc:
            self.damage = exc
            return b""
        if chunk:
            self.newlines += chunk.count(b"\n")
            self.tail = (self.tail + chunk)[-_TAIL_BYTES:]
        return chunk


def with_damage(
    records: Iterable[Any], guard: DamageGuard, byte_range: Any, blocks: bool
) -> Iterator[tuple[str, int, bytes | None, int, tuple[str, str] | None]]:
    """``records`` (read through ``guard``) as ``RawRecord`` tuples; when the file was damaged,
    the record the data stops in is replaced by one that carries the damage (or one is added
    after the last whole record).

    ``blocks``: records end at a blank line (PubTator), not at every line end.
    """
    last: Any = None
    for record in records:
        if last is not None:
            yield (*last[:4], None)
        last = record
    damage = guard.damage
    if damage is None:
        if last is not None:
            yield (*last[:4], None)
        return
    whole = _ends_record(guard.tail, blocks)
    if last is not None and whole:
        yield (*last[:4], None)
    if last is not None and not whole:  # the data stops inside this record
        line, data, size = last[1], last[2] or b"", last[3]
    else:  # the data stops between two records
        line, data, size = byte_range.first_line + guard.newlines, b"", 0
    yield byte_range.path, line, data, size, (damage.reason, _detail(damage, line))


def _ends_record(tail: bytes, blocks: bool) -> bool:
    if not tail:
        return True  # nothing was read: there is no cut record
    if blocks:
        return tail.endswith((b"\n\n", b"\n\r\n"))
    return tail.endswith(b"\n")


def _detail(damage: PartialFileError, line: int) -> str:
    what = "ends early" if damage.reason == "truncated_file" else "is damaged"
    read = f"read up to line {line - 1}" if line > 1 else "no record was read"
    return (
        f"compressed file {what} ({damage.why}) at line {line}: {read}, the rest of the file "
        "is lost; download or copy it again"
    )


def partial_files(letters: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The manifest's ``partial_files``: one entry per file that ends early or is damaged,
    from its dead letter, sorted by path."""
    found = [
        {"path": d["path"], "reason": d["reason"], "line": d["line"], "detail": d["detail"]}
        for d in letters
        if d["reason"] in PARTIAL_REASONS
    ]
    return sorted(found, key=lambda d: d["path"])


def check_partial_files(manifest: Mapping[str, Any], allowed: bool) -> None:
    """Refuse a finished run's output when an input file ends early or is damaged, unless the
    user ``allowed`` partial files: one line naming each file and where its data stops.

    The output is complete for what could be read (and its manifest lists the files), so it is
    kept either way; the error only makes the run's exit status say that inputs were lost.
    """
    partial = manifest.get("partial_files") or []
    if not partial or allowed:
        return
    names = ", ".join(
        f"{d['path']} ({'truncated' if d['reason'] == 'truncated_file' else 'corrupt'} at line "
        f"{d['line']})"
        for d in partial
    )
    raise InputError(
        f"{len(partial)} input file(s) read only in part: {names}; the records before the damage "
        "are in the output, and _manifest.json lists the files under partial_files. Replace the "
        "files, or pass --allow-partial-files to accept partial input"
    )
