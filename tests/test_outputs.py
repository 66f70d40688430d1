"""Output folders: whole or marked unfinished; refused when foreign or mixed with inputs; locked."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from binder_core.contract.errors import ConfigError, InputError
from binder_core.contract.markers import MARKER_NAME, check_complete, read_marker
from binder_core.contract.outputs import output_folder


def _touch(out: Path, kind: str, **options: object) -> None:
    with output_folder(out, kind, **options):  # type: ignore[arg-type]
        pass


def test_output_folder_swaps_in_a_complete_folder(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with output_folder(out, "gold", command="binder data convert a out") as tmp:
        assert tmp != out and not out.exists()
        (tmp / "part.parquet").write_text("new")
        assert read_marker(tmp).status == "writing"  # type: ignore[union-attr]
    assert (out / "part.parquet").read_text() == "new"
    marker = read_marker(out)
    assert marker is not None and marker.status == "complete" and marker.kind == "gold"
    assert marker.command == "binder data convert a out"
    check_complete(out)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".out.lock", "out"]


def test_output_folder_keeps_the_previous_output_when_the_command_fails(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with output_folder(out, "gold") as tmp:
        (tmp / "old.txt").write_text("old")
    with pytest.raises(RuntimeError), output_folder(out, "gold") as tmp:
        (tmp / "new.txt").write_text("half")
        raise RuntimeError("killed")
    assert sorted(p.name for p in out.iterdir()) == [MARKER_NAME, "old.txt"]
    assert not list(tmp_path.glob(".out.tmp-*"))


def _killed_writer(out: str) -> None:
    with output_folder(out, "gold") as tmp:
        (tmp / "new.txt").write_text("half")
        os.kill(os.getpid(), signal.SIGKILL)


def test_a_killed_writer_leaves_the_previous_output_and_the_next_run_cleans_up(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    with output_folder(out, "gold") as tmp:
        (tmp / "old.txt").write_text("old")
    process = multiprocessing.get_context("fork").Process(target=_killed_writer, args=(str(out),))
    process.start()
    process.join(30)
    assert process.exitcode == -signal.SIGKILL
    assert (out / "old.txt").read_text() == "old" and read_marker(out).status == "complete"  # type: ignore[union-attr]
    assert len(list(tmp_path.glob(".out.tmp-*"))) == 1
    with output_folder(out, "gold") as tmp:
        (tmp / "new.txt").write_text("new")
    assert not list(tmp_path.glob(".out.tmp-*"))
    assert sorted(p.name for p in out.iterdir()) == [MARKER_NAME, "new.txt"]


def test_output_folder_refuses_foreign_files_a_file_and_its_inputs(tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    with pytest.raises(
        ConfigError, match=r"holds files binder-ner did not write here \(notes.txt\)"
    ):
        _touch(mine, "gold")
    assert (mine / "notes.txt").read_text() == "keep me"
    with output_folder(mine, "gold", overwrite=True) as tmp:
        (tmp / "x").write_text("x")
    assert not (mine / "notes.txt").exists()
    (tmp_path / "file").write_text("")
    with pytest.raises(ConfigError, match="is a file; the output must be a folder"):
        _touch(tmp_path / "file", "gold")
    data = tmp_path / "data"
    data.mkdir()
    for out in (data, data / "run", tmp_path):
        with pytest.raises(ConfigError, match="would mix with the input"):
            _touch(out, "run", inputs=[data], resume=True)
    # another kind of binder-ner output is foreign too: a silver folder is no run folder
    with pytest.raises(ConfigError, match="did not write here"):
        _touch(mine, "run", resume=True)


def test_a_folder_written_before_markers_is_recognised_by_its_manifest(tmp_path: Path) -> None:
    out = tmp_path / "silver"
    out.mkdir()
    (out / "_manifest.json").write_text(json.dumps({"schema_version": 1}))
    (out / "part-00000-of-00001.parquet").write_text("")
    with output_folder(out, "silver") as tmp:
        (tmp / "part-00000-of-00001.parquet").write_text("new")
    assert (out / "part-00000-of-00001.parquet").read_text() == "new"


def test_resume_writes_in_place_and_an_interrupted_run_is_refused_by_readers(
    tmp_path: Path,
) -> None:
    run = tmp_path / "run"
    with (
        pytest.raises(RuntimeError),
        output_folder(run, "run", resume=True, command="binder train"),
    ):
        (run / "metrics.jsonl").write_text("{}")
        raise RuntimeError("killed")
    with pytest.raises(
        InputError, match=r"this run was interrupted .* rerun `binder train` with --resume"
    ):
        check_complete(run)
    with output_folder(run, "run", resume=True, command="binder train --resume") as folder:
        assert folder == run and (run / "metrics.jsonl").exists()
    check_complete(run)


def _hold(out: str, ready: Any, done: Any) -> None:
    with output_folder(out, "gold", command="binder data convert first"):
        ready.set()
        done.wait(30)


def test_two_writers_into_one_folder_do_not_interleave(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("fork")
    ready, done = ctx.Event(), ctx.Event()
    first = ctx.Process(target=_hold, args=(str(tmp_path / "out"), ready, done))
    first.start()
    try:
        assert ready.wait(30)
        with pytest.raises(ConfigError, match="another binder-ner command is writing here"):
            _touch(tmp_path / "out", "gold")
    finally:
        done.set()
        first.join(30)
    started = time.monotonic()
    with output_folder(tmp_path / "out", "gold"):
        pass
    assert time.monotonic() - started < 5
