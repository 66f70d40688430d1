"""The marker an output folder carries: who wrote it, and whether they finished.

``_binder_output.json`` in an output folder names the kind of output, the command that wrote
it, when it started and whether it is ``"writing"`` or ``"complete"``
(:mod:`binder_core.contract.outputs` writes it). Every reader of a folder calls
:func:`check_complete`, so an output whose writer was killed is refused with the command to rerun.
Stdlib only, so :mod:`binder_core.contract.schema` can check it wherever data is read.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from binder_core.contract.errors import InputError

MARKER_NAME = "_binder_output.json"
Status = Literal["writing", "complete"]


@dataclass(frozen=True)
class OutputMarker:
    """What the marker file of an output folder says."""

    kind: str  # "silver", "gold", "split", "augment", "run", "export", ...
    status: Status
    command: str
    started: str
    finished: str = ""
    entries: tuple[str, ...] = ()
    """The names the command wrote at the folder's top level (empty: not recorded)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "status": self.status,
            "command": self.command,
            "started": self.started,
            "finished": self.finished,
            "entries": list(self.entries),
        }


def read_marker(folder: str | os.PathLike[str]) -> OutputMarker | None:
    """The marker of ``folder``, or None when it has none (or an unreadable one)."""
    path = Path(folder) / MARKER_NAME
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return OutputMarker(
            kind=str(data["kind"]),
            status="complete" if data["status"] == "complete" else "writing",
            command=str(data.get("command", "")),
            started=str(data.get("started", "")),
            finished=str(data.get("finished", "")),
            entries=tuple(str(name) for name in data.get("entries", ())),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def check_complete(folder: str | os.PathLike[str], what: str = "") -> None:
    """Refuse a folder whose writer did not finish (its marker still says ``writing``).

    A folder without a marker (written before markers existed, or by hand) is accepted.
    """
    marker = read_marker(folder)
    if marker is None and not Path(folder).exists():
        marker = interrupted_build(folder)
    if marker is None or marker.status == "complete":
        return
    label = what or marker.kind
    raise InputError(
        f"this {label} was interrupted (started {marker.started}) and is incomplete; rerun "
        f"`{marker.command}`" + (" with --resume" if marker.kind == "run" else ""),
        path=str(folder),
    )


def interrupted_build(folder: str | os.PathLike[str]) -> OutputMarker | None:
    """The marker of a killed first build of ``folder``: outputs are built in a hidden sibling
    (``.NAME.tmp-*``) that is swapped into place at the end, so a build killed before any
    complete output existed leaves only that sibling behind."""
    path = Path(folder)
    if not path.parent.is_dir():
        return None
    for tmp in sorted(path.parent.glob(f".{path.name}.tmp-*")):
        marker = read_marker(tmp)
        if marker is not None and marker.status == "writing":
            return marker
    return None
