"""Output folders that are whole or clearly unfinished, never a silent mix.

Every command that writes a folder goes through :func:`output_folder`:

- it refuses a path that is a file, a folder inside (or holding) one of the command's inputs,
  and a folder holding files binder-ner did not write, unless ``overwrite`` is given;
- it takes a lock (an advisory ``flock`` on ``.NAME.lock`` beside the folder, or
  ``.binder.lock`` inside a run folder), so two commands writing into the same folder at once
  do not interleave: the second one gets a one-line refusal;
- it builds the output in a hidden sibling folder and swaps it into place at the end, so a
  reader sees the previous complete output or the new one; a training run, which checkpoints
  and resumes, writes in place instead;
- the folder's marker (``_binder_output.json``) names the kind of output, the command and when
  it started; it says ``"writing"`` until the command ends well, then ``"complete"``.

Readers call :func:`check_complete`: a folder whose marker still says ``"writing"`` (a killed
training run, or a remote output whose writer died) is refused with "this <kind> was
interrupted ...; rerun `<command>`". A folder without a marker (written before markers existed,
or by hand) is accepted as it is.

Single-file outputs use :func:`binder_core.contract.atomic.atomic_path` instead: the file appears
whole or not at all. Torch-free and Beam-free; local paths only (remote outputs keep their marker
via the pipeline's own writer).
"""

from __future__ import annotations

import contextlib
import datetime
import fcntl
import json
import os
import shlex
import shutil
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from binder_core.contract.atomic import atomic_directory, write_json_atomic
from binder_core.contract.errors import ConfigError, InputError
from binder_core.contract.markers import MARKER_NAME, OutputMarker, read_marker
from binder_core.contract.schema import MANIFEST_NAME, STAGING_DIR

LOCK_NAME = ".binder.lock"
RUN_CONFIG_NAME = "train_config.json"
"""The file every run folder holds (``training.run_folder``), which marks older ones."""
EXPORT_CONFIG_NAME = "binder_export.json"
"""The file every export folder holds (``inference.export_dir``), which marks older ones."""
OWN_ENTRIES = frozenset({MARKER_NAME, LOCK_NAME, STAGING_DIR})


def current_command() -> str:
    """This process's command line, as a user would type it again."""
    argv = list(sys.argv)
    if argv and Path(argv[0]).name in ("binder", "main.py", "__main__.py"):
        argv[0] = "binder"
    return shlex.join(argv)


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def _inside(child: Path, parent: Path) -> bool:
    try:
        child.relative_to(parent)
    except ValueError:
        return False
    return True


def check_output_path(
    out: str | os.PathLike[str],
    *,
    inputs: Iterable[str | os.PathLike[str]] = (),
    overwrite: bool = False,
    kind: str,
) -> Path:
    """The checks of :func:`output_folder` that need no lock (for a dry validation)."""
    path = Path(out)
    if path.exists() and not path.is_dir():
        raise ConfigError(f"{path}: is a file; the output must be a folder (give a new path)")
    resolved = path.resolve()
    for item in inputs:
        source = Path(item).resolve()
        if source == resolved or _inside(resolved, source) or _inside(source, resolved):
            raise ConfigError(
                f"{path}: the output folder would mix with the input {item}; write it elsewhere"
            )
    if path.is_dir() and not overwrite:
        foreign = _foreign_entries(path, kind)
        if foreign:
            listed = ", ".join(foreign[:3]) + (", ..." if len(foreign) > 3 else "")
            raise ConfigError(
                f"{path}: holds files binder-ner did not write here ({listed}); choose an empty "
                "or new folder, or pass --overwrite to replace its content"
            )
    return path


def _foreign_entries(path: Path, kind: str) -> list[str]:
    """Names in ``path`` that an earlier ``kind`` output there did not write."""
    names = sorted(p.name for p in path.iterdir() if p.name not in OWN_ENTRIES)
    marker = read_marker(path)
    if marker is not None and marker.kind == kind and marker.entries:
        return [name for name in names if name not in marker.entries]
    return [] if not names or _written_by_us(path, kind) else names


def _written_by_us(path: Path, kind: str) -> bool:
    """Whether ``path`` is an earlier ``kind`` output: its marker says so, or (for folders
    written before markers existed) it holds a binder-ner manifest (a run: its config)."""
    marker = read_marker(path)
    if marker is not None:
        return marker.kind == kind
    if kind == "run":
        return (path / RUN_CONFIG_NAME).is_file()
    if kind == "export":
        return (path / EXPORT_CONFIG_NAME).is_file()
    manifest = path / MANIFEST_NAME
    try:
        return "schema_version" in json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError, TypeError):
        return False


def _lock(lock_path: Path, target: Path) -> Any:
    """An exclusive advisory lock on ``lock_path``, or a one-line refusal if someone holds it."""
    handle = open(lock_path, "a+")  # noqa: SIM115 (held by the caller's block)
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        marker = read_marker(target)
        who = f" (`{marker.command}`, started {marker.started})" if marker else ""
        raise ConfigError(
            f"{target}: another binder-ner command is writing here{who}; wait for it to "
            "finish or choose another folder"
        ) from None
    return handle


def _write_marker(folder: Path, marker: OutputMarker) -> None:
    write_json_atomic(folder / MARKER_NAME, marker.to_dict())


@contextlib.contextmanager
def output_folder(
    out: str | os.PathLike[str],
    kind: str,
    *,
    inputs: Iterable[str | os.PathLike[str]] = (),
    overwrite: bool = False,
    command: str | None = None,
    resume: bool = False,
) -> Iterator[Path]:
    """Yield the folder to write ``kind`` output into; see the module docstring.

    By default the output is built in a hidden sibling folder and swapped into place when the
    block ends without an error: a reader sees the previous complete output or the new one,
    and a kill leaves the previous one untouched (the hidden folder is removed by the next run).
    With ``resume`` (a training run that checkpoints and continues) the block writes in place:
    the marker says ``writing`` until it ends, and :func:`check_complete` refuses the folder.
    """
    target = check_output_path(out, inputs=inputs, overwrite=overwrite, kind=kind)
    cmd = command if command is not None else current_command()
    target.parent.mkdir(parents=True, exist_ok=True)
    if resume:
        target.mkdir(exist_ok=True)
        handle = _lock(target / LOCK_NAME, target)
        try:
            previous = read_marker(target)
            started = previous.started if previous is not None else _now()
            _write_marker(target, OutputMarker(kind, "writing", cmd, started))
            yield target
            _write_marker(target, OutputMarker(kind, "complete", cmd, started, _now()))
        finally:
            handle.close()
        return
    handle = _lock(target.parent / f".{target.name}.lock", target)
    try:
        for stale in target.parent.glob(f".{target.name}.tmp-*"):
            shutil.rmtree(stale, ignore_errors=True)  # a killed run's half-written output
        started = _now()
        with atomic_directory(target) as tmp:
            _write_marker(tmp, OutputMarker(kind, "writing", cmd, started))
            yield tmp
            entries = tuple(sorted({p.name for p in tmp.iterdir()} | {MARKER_NAME}))
            _write_marker(tmp, OutputMarker(kind, "complete", cmd, started, _now(), entries))
    finally:
        handle.close()


def read_format_file(
    config_file: Path, what: str, format_name: str, version: int, remedy: str
) -> dict[str, Any]:
    """The JSON object of a folder's config file that names its ``format`` and
    ``format_version`` (a model folder's, an export folder's): a file that is not JSON, not
    that format, or another version is refused in one line (``what`` names it, ``remedy``
    says what to do about another version)."""
    try:
        meta = json.loads(config_file.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"unreadable {what} config ({exc})", path=str(config_file)) from None
    if not isinstance(meta, dict) or meta.get("format") != format_name:
        raise InputError(f"not a {format_name} config file", path=str(config_file))
    if meta.get("format_version") != version:
        raise ConfigError(
            f"{config_file}: {what} format version {meta.get('format_version')!r}, this "
            f"binder-ner reads version {version}; {remedy}"
        )
    return meta
