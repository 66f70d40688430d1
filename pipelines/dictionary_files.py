"""Compiled dictionaries for a pipeline run, from a local path or any Beam filesystem."""

from __future__ import annotations

import os
import shutil
import tempfile
from typing import TYPE_CHECKING, Any

from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

from binder_core.errors import InputError

if TYPE_CHECKING:
    from dictionaries.artifact import DictionaryInfo


def is_local(path: str) -> bool:
    return FileSystems.get_scheme(path) in (None, "file")


def _missing(path: str) -> InputError:
    return InputError("no such compiled dictionary; make one with `binder dict compile`", path=path)


def load_dictionary(path: str) -> Any:
    """Load a compiled dictionary from a local path, or copy a remote one to a temp file first."""
    from dictionaries import load_compiled

    if is_local(path):
        if not os.path.isfile(path):
            raise _missing(path)
        return load_compiled(path)
    with tempfile.TemporaryDirectory(prefix="binder-dict-") as tmp:
        local = os.path.join(tmp, os.path.basename(path))
        with (
            FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as src,
            open(local, "wb") as dst,
        ):
            shutil.copyfileobj(src, dst)
        return load_compiled(local)


def dictionary_info(path: str) -> DictionaryInfo:
    """The header of a compiled dictionary (labels, fingerprint), local or remote.

    Reads a few bytes, not the matcher: the driver needs only these for the schema and manifest.
    """
    from dictionaries.artifact import load_info, read_info

    if is_local(path):
        if not os.path.isfile(path):
            raise _missing(path)
        return load_info(path)
    if not FileSystems.exists(path):
        raise _missing(path)
    with FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as stream:
        return read_info(stream, path)
