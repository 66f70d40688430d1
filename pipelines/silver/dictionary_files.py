"""Compiled dictionaries for a pipeline run, from a local path or any Beam filesystem.

A process that forks workers (the local worker template, :mod:`pipelines.runners.worker_pool`) can
load a run's dictionaries once, before forking, with :func:`preload_dictionaries`: every fork then
finds them in memory instead of reading the file again. A process
that labels in itself can start loading them early with :func:`prefetch_dictionaries`. A
preloaded dictionary is used only while its file is the one that was read (same inode, size and
modification time); otherwise :func:`load_dictionary` reads the file as usual.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from collections.abc import Iterable
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

from binder_core.contract.errors import InputError

if TYPE_CHECKING:
    from dictionaries.artifact import DictionaryInfo


# Beam is imported where it is used: the CLI prefetches dictionaries before it imports Beam.


def is_local(path: str) -> bool:
    from apache_beam.io.filesystems import FileSystems

    return FileSystems.get_scheme(path) in (None, "file")


def _missing(path: str) -> InputError:
    return InputError("no such compiled dictionary; make one with `binder dict compile`", path=path)


# absolute local path -> (the file's identity when it was read, its compiled dictionary), as a
# future: a prefetch may still be loading it
_PRELOADED: dict[str, Future[tuple[tuple[int, int, int, int], Any]]] = {}


def _identity(path: str) -> tuple[int, int, int, int]:
    st = os.stat(path)
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns


def _local_paths(paths: Iterable[str | None]) -> list[str]:
    """The paths among ``paths`` that are files here (a remote URI never is)."""
    return [os.path.abspath(p) for p in paths if p and os.path.isfile(p)]


def _load_into(future: Future[tuple[tuple[int, int, int, int], Any]], where: str) -> None:
    from dictionaries import load_compiled

    try:
        identity = _identity(where)
        future.set_result((identity, load_compiled(where)))
    except Exception as exc:  # handed to load_dictionary, which reads the file again
        future.set_exception(exc)


def preload_dictionaries(paths: Iterable[str | None]) -> None:
    """Load the local compiled dictionaries among ``paths`` into this process's memory now, for
    :func:`load_dictionary` here and in every process forked from here. A path that is remote,
    missing or unreadable is skipped: whoever needs it reads it and reports the error."""
    for where in _local_paths(paths):
        future: Future[tuple[tuple[int, int, int, int], Any]] = Future()
        _load_into(future, where)
        _PRELOADED[where] = future


def prefetch_dictionaries(paths: Iterable[str | None]) -> None:
    """:func:`preload_dictionaries` on a background thread, and :func:`load_dictionary` waits
    for it when it needs the dictionary first. Reading the file (and its checksums) overlaps
    what this process does next; checking and decoding the tables hold the GIL."""
    for where in _local_paths(paths):
        if where in _PRELOADED:
            continue
        future: Future[tuple[tuple[int, int, int, int], Any]] = Future()
        _PRELOADED[where] = future
        threading.Thread(target=_load_into, args=(future, where), daemon=True).start()


def _preloaded(path: str) -> Any | None:
    future = _PRELOADED.get(os.path.abspath(path))
    if future is None or future.exception() is not None:
        return None
    identity, compiled = future.result()
    return compiled if identity == _identity(path) else None


def load_dictionary(path: str) -> Any:
    """Load a compiled dictionary from a local path, or copy a remote one to a temp file first.

    A copy that :func:`preload_dictionaries` or :func:`prefetch_dictionaries` made is returned
    while the file is still the one it read.
    """
    from dictionaries import load_compiled

    if is_local(path):
        if not os.path.isfile(path):
            raise _missing(path)
        preloaded = _preloaded(path)
        return preloaded if preloaded is not None else load_compiled(path)
    from apache_beam.io.filesystem import CompressionTypes
    from apache_beam.io.filesystems import FileSystems

    with tempfile.TemporaryDirectory(prefix="binder-dict-") as tmp:
        local = os.path.join(tmp, os.path.basename(path))
        with (
            FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as src,
            open(local, "wb") as dst,
        ):
            shutil.copyfileobj(src, dst)
        return load_compiled(local)


def dictionary_info(path: str) -> DictionaryInfo:
    """The header of a compiled dictionary (labels, fingerprint), local or remote, once every
    section of the file has passed its checksum.

    The driver needs only the header for the schema and manifest; the checksums are what the
    workers would check first when they load it (:func:`dictionaries.artifact.verify_info`: one
    sequential read, no automaton built), so a damaged file is one line here, before the
    pipeline starts.
    """
    from dictionaries.artifact import verify_compiled, verify_info

    if is_local(path):
        if os.path.isdir(path):
            raise InputError("is a folder; give the compiled dictionary file", path=path)
        if not os.path.isfile(path):
            raise _missing(path)
        return verify_compiled(path)
    from apache_beam.io.filesystem import CompressionTypes
    from apache_beam.io.filesystems import FileSystems

    if not FileSystems.exists(path):
        raise _missing(path)
    with FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as stream:
        return verify_info(stream, path)
