"""Write files and folders so that a reader sees the old version or the new one, never a mix.

Every writer in binder-ner goes through these helpers: the content goes to a hidden temporary
name in the target's own folder (same file system, so the final ``os.replace`` is atomic) and is
renamed into place only once it is complete. A crash or a kill leaves at most a hidden
``.NAME.tmp-*`` entry, which no reader lists.

Torch-free and Beam-free (stdlib and :mod:`binder_core.contract.errors` only), so every package
can import it. Remote file systems (Beam's ``FileSystems``) have their own staged writer in
:mod:`pipelines.silver.shards`.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from binder_core.contract.errors import ConfigError


def temp_sibling(target: str | os.PathLike[str], suffix: str = "") -> Path:
    """A hidden name next to ``target`` for its content while it is being written."""
    target = Path(target)
    return target.with_name(f".{target.name}.tmp-{os.getpid()}{suffix}")


def check_file_output(target: str | os.PathLike[str]) -> Path:
    """``target`` as a path, unless it is a folder (a :class:`ConfigError`): commands call it
    before their work, so that the mistake costs nothing."""
    path = Path(target)
    if path.is_dir():
        raise ConfigError(f"{path}: is a folder; the output is a file (give a file name)")
    return path


@contextmanager
def atomic_path(target: str | os.PathLike[str], suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path; on success it is renamed to ``target``, on error removed.

    ``suffix`` keeps an extension on the temporary name for writers that choose their format
    from it (matplotlib's ``savefig``).
    """
    target = check_file_output(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_sibling(target, suffix)
    try:
        yield tmp
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_bytes_atomic(target: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``target`` atomically."""
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)


def write_text_atomic(target: str | os.PathLike[str], text: str) -> None:
    """Write UTF-8 ``text`` to ``target`` atomically."""
    write_bytes_atomic(target, text.encode("utf-8"))


def write_json_atomic(target: str | os.PathLike[str], data: Mapping[str, Any] | list[Any]) -> None:
    """Write ``data`` as indented JSON (UTF-8, one trailing newline) atomically."""
    write_text_atomic(target, json.dumps(data, indent=2, ensure_ascii=False) + "\n")


@contextmanager
def atomic_directory(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temp folder next to ``target``; on success it replaces ``target`` in one rename.

    An existing ``target`` is moved aside first and removed after the swap, so a reader sees the
    old folder or the new one, never a half-written mix. On an exception the temp folder is
    removed and ``target`` is left as it was.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        os.replace(target, old)
    os.replace(tmp, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
