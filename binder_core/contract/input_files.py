"""Reading the files users bring: compressed or not, with or without a byte-order mark.

One rule for every reader in binder-ner (corpora, gold files, dictionary sources, type
descriptions, prediction inputs): a compressed file (``.gz``, ``.bz2``, ``.xz``/``.lzma``,
``.zst``, ``.deflate``) is decompressed as it is read, and a file whose compressed data ends
before the end of its stream (an interrupted download or copy) or does not decompress is a
:class:`PartialFileError` naming the file. The standard decompressors stop quietly at the end
of their input; :class:`CheckedDecompressor` is the one place that asks them whether the
stream was whole. Concatenated streams (``cat a.gz b.gz``) read as one file, as ``gzip`` does.

Text is UTF-8; a leading byte-order mark (what spreadsheet programs write) is dropped, and
CRLF line ends read as LF.
"""

from __future__ import annotations

import bz2
import io
import lzma
import os
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any, Literal, cast

from binder_core.contract.errors import InputError

BOM = "\ufeff"
TEXT_ENCODING = "utf-8-sig"
"""UTF-8, without the byte-order mark that some programs put first."""

PartialReason = Literal["truncated_file", "corrupt_file"]

_RAW_CHUNK_BYTES = 1 << 14  # compressed bytes per step: bounds what one step decompresses to,
# and what a damaged block takes with it (a step that fails gives nothing)

_DECOMPRESSORS: dict[str, Callable[[], Any]] = {
    ".gz": lambda: zlib.decompressobj(zlib.MAX_WBITS | 16),
    ".bz2": bz2.BZ2Decompressor,
    ".xz": lzma.LZMADecompressor,
    ".lzma": lzma.LZMADecompressor,
    ".deflate": zlib.decompressobj,
    ".zst": lambda: _zstd_decompressor(),
    ".zstd": lambda: _zstd_decompressor(),
}
COMPRESSED_SUFFIXES: tuple[str, ...] = tuple(_DECOMPRESSORS)


class PartialFileError(InputError):
    """A compressed file that ends early (``truncated_file``) or does not decompress
    (``corrupt_file``): what was read before the damage is all there is."""

    def __init__(self, reason: PartialReason, why: str, *, path: str | None = None) -> None:
        what = "ends early" if reason == "truncated_file" else "is damaged"
        super().__init__(f"compressed file {what} ({why}); download or copy it again", path=path)
        self.reason: PartialReason = reason
        self.why = why


def _zstd_decompressor() -> Any:
    import zstandard  # a dependency of apache-beam, needed only for .zst files

    return zstandard.ZstdDecompressor().decompressobj()


def _decompression_errors() -> tuple[type[BaseException], ...]:
    errors: tuple[type[BaseException], ...] = (zlib.error, OSError, lzma.LZMAError, EOFError)
    try:
        import zstandard
    except ImportError:
        return errors
    return (*errors, zstandard.ZstdError)


def compression_suffix(path: str | os.PathLike[str]) -> str | None:
    """The compression suffix of ``path`` (``".gz"``, ...), or None for a plain file."""
    suffix = os.path.splitext(str(path))[1].lower()
    return suffix if suffix in _DECOMPRESSORS else None


class CheckedDecompressor(io.RawIOBase):
    """The decompressed bytes of ``raw``; raises :class:`PartialFileError` where the compressed
    data ends inside a stream or fails to decompress (bad data, a checksum that fails)."""

    def __init__(self, raw: IO[bytes], suffix: str, path: str) -> None:
        super().__init__()
        self._raw, self._new, self._path = raw, _DECOMPRESSORS[suffix], path
        self._decompressor = self._new()
        self._started = False  # the current stream has taken at least one byte
        self._out = b""  # decompressed bytes of the last step
        self._taken = 0  # how many of them were read
        self._errors = _decompression_errors()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while self._taken >= len(self._out):
            if not self._step():
                return 0
        n = min(len(buffer), len(self._out) - self._taken)
        buffer[:n] = memoryview(self._out)[self._taken : self._taken + n]
        self._taken += n
        return n

    def _step(self) -> bool:
        """Decompress one more chunk into ``_out``; False at the clean end of the data."""
        if self._decompressor.eof:
            data = self._decompressor.unused_data.lstrip(b"\0")  # zero padding may follow
            while not data:
                chunk = self._raw.read(_RAW_CHUNK_BYTES)
                if not chunk:
                    return False  # the end, after a whole stream
                data = chunk.lstrip(b"\0")
            self._decompressor = self._new()  # the next of concatenated streams
        else:
            data = self._raw.read(_RAW_CHUNK_BYTES)
            if not data:
                why = "the data stops inside a compressed stream" if self._started else "empty"
                raise PartialFileError("truncated_file", why, path=self._path)
        self._started = True
        try:
            self._out, self._taken = self._decompressor.decompress(data), 0
        except self._errors as exc:
            raise PartialFileError("corrupt_file", str(exc) or type(exc).__name__,
                                   path=self._path) from None  # fmt: skip
        return True

    def close(self) -> None:
        if not self.closed:
            self._raw.close()
        super().close()


def decompressing(raw: IO[bytes], path: str | os.PathLike[str]) -> IO[bytes]:
    """``raw`` itself for a plain file, else a :class:`CheckedDecompressor` over it.

    Not wrapped in a buffer: a buffered read gathers several raw reads and drops what it
    gathered when one raises, so the bytes before the damage would be lost with it.
    """
    suffix = compression_suffix(path)
    if suffix is None:
        return raw
    return cast(IO[bytes], CheckedDecompressor(raw, suffix, str(path)))


def open_local(path: str | os.PathLike[str], what: str = "file") -> IO[bytes]:
    """A local file's bytes, decompressed; a missing path or a folder is an :class:`InputError`."""
    p = Path(path)
    if p.is_dir():
        raise InputError(f"is a folder; give the {what} itself", path=str(p))
    if not p.is_file():
        raise InputError(f"no such {what}; check the path", path=str(p))
    raw = open(p, "rb")  # noqa: SIM115 - the caller closes it
    suffix = compression_suffix(p)
    if suffix is None:
        return raw
    # buffered for line reads: whatever a read gathered before the damage is lost, which is
    # fine here, where the damage is an error
    return io.BufferedReader(CheckedDecompressor(raw, suffix, str(p)))


def read_local_text(path: str | os.PathLike[str], what: str = "file") -> str:
    """The whole of a local text file: decompressed, UTF-8 without a byte-order mark, CRLF
    kept (line readers drop it). Bad UTF-8 is an :class:`InputError` naming the line."""
    with open_local(path, what) as f:
        raw = f.read()
    try:
        return raw.decode(TEXT_ENCODING)
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(
            f"not valid UTF-8 (byte {exc.start}); convert the file to UTF-8", path=str(path),
            line=line,
        ) from None  # fmt: skip


def iter_local_lines(path: str | os.PathLike[str], what: str = "file") -> Iterator[tuple[int, str]]:
    """``(1-based line number, line without its line end)`` of a local text file, streamed
    (see :func:`read_local_text` for what is accepted)."""
    line_no = 0
    with open_local(path, what) as f:
        for line_no, raw in enumerate(f, start=1):
            try:
                line = raw.decode(TEXT_ENCODING if line_no == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                raise InputError(
                    f"not valid UTF-8 ({exc.reason}); re-encode the file as UTF-8",
                    path=str(path), line=line_no,
                ) from None  # fmt: skip
            yield line_no, line.rstrip("\r\n")


def open_text_stream(path: str | os.PathLike[str], what: str = "file") -> IO[str]:
    """A local text file as a text stream (decompressed, no byte-order mark); lines keep their
    ends (``newline=""``) so that the csv module sees quoted line breaks."""
    return io.TextIOWrapper(open_local(path, what), encoding=TEXT_ENCODING, newline="")
