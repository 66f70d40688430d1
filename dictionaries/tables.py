"""Compact, immutable string tables for the compiled matcher."""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator, Sequence
from typing import Any


class StrTable:
    """An immutable list of strings stored as one string plus character offsets (an
    ``array("Q")``, or a read-only uint64 view of the artifact's bytes once loaded).

    Items are sliced out on access, so a table of a million strings is two objects, and it is
    written and read as two flat sections (:meth:`to_bytes`, :meth:`from_bytes`).
    """

    __slots__ = ("_blob", "_offsets")
    _offsets: Sequence[int]

    def __init__(self, items: Iterable[str] = ()) -> None:
        parts = list(items)
        offsets = array("Q", [0])
        total = 0
        for part in parts:
            total += len(part)
            offsets.append(total)
        self._blob = "".join(parts)
        self._offsets = offsets

    @classmethod
    def from_bytes(cls, text: bytes, offsets: bytes) -> StrTable:
        """The inverse of :meth:`to_bytes`; raises ``ValueError`` on inconsistent data."""
        table = cls.__new__(cls)
        table._blob = text.decode("utf-8", "surrogatepass")
        if len(offsets) % 8:
            raise ValueError("string table offsets cut short")
        table._offsets = found = memoryview(offsets).cast("Q")
        if not found or found[0] != 0 or found[-1] != len(table._blob):
            raise ValueError("string table offsets do not fit its text")
        return table

    def to_bytes(self) -> tuple[bytes, bytes]:
        """``(UTF-8 text, little-endian uint64 character offsets)``."""
        return self._blob.encode("utf-8", "surrogatepass"), bytes(self._offsets)

    def __len__(self) -> int:
        return len(self._offsets) - 1

    def __getitem__(self, i: int) -> str:
        return self._blob[self._offsets[i] : self._offsets[i + 1]]

    def __iter__(self) -> Iterator[str]:
        blob, offsets = self._blob, self._offsets
        return (blob[offsets[i] : offsets[i + 1]] for i in range(len(offsets) - 1))

    def digest_into(self, digest: Any) -> None:
        """Feed the content to a hashlib object (offsets first, so boundaries count)."""
        digest.update(bytes(self._offsets))
        digest.update(self._blob.encode("utf-8", "surrogatepass"))
