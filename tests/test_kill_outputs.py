"""Kill tests for the commands that write data: ``silver build``, ``data convert`` and
``predict``, each a real subprocess SIGKILLed at several points in its run.

After every kill the rule of :mod:`binder_core.contract.outputs` must hold: the output is the
previous complete one, a new complete one, or absent with readers saying the build was interrupted
and naming the command to rerun; never a mix. A rerun then ends with the output an unbroken run
gives. The kill points are fixed delays, bounded in number, spread over start-up and writing.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from binder_core.contract.errors import InputError
from binder_core.contract.markers import read_marker
from binder_core.contract.schema import iter_documents
from tests.test_kill import _binder, _env, _run_until
from tests.test_train_loop import write_types

pytestmark = pytest.mark.slow

KILL_AFTER_S = (0.5, 2.0, 4.0, 6.0)
"""Before Beam has started, while it starts, while it labels, around the swap."""


def _kill_after(command: list[str], seconds: float) -> int:
    process = subprocess.Popen(
        command, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        process.wait(seconds)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGKILL)
    return process.wait(30)


def _rows(folder: Path) -> list[tuple[str, int]]:
    return [(d["doc_id"], len(d["spans"])) for d in iter_documents(folder)]


def _check_rule(out: Path, previous: list[tuple[str, int]] | None, whole: list[tuple[str, int]]):
    """The output is the previous one, the new one, or absent and refused as interrupted."""
    if out.exists():
        marker = read_marker(out)
        assert marker is not None and marker.status == "complete"
        assert _rows(out) in ([previous] if previous is not None else []) + [whole]
        return
    assert previous is None, "a kill removed the previous complete output"
    with pytest.raises(InputError) as refused:
        list(iter_documents(out))
    message = str(refused.value)
    assert "interrupted" in message or "no such file" in message


def _corpus(path: Path, n: int) -> Path:
    lines = [
        json.dumps({"id": f"d{i}", "text": f"Aspirin and ibuprofen in case {i}; naloxone too."})
        for i in range(n)
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_killed_silver_build_leaves_previous_or_new_output_and_rerun_completes(
    tmp_path: Path,
) -> None:
    terms = tmp_path / "terms.txt"
    terms.write_text("Chemical\taspirin\nChemical\tibuprofen\nChemical\tnaloxone\n")
    dictionary = tmp_path / "d.dict"
    subprocess.run(_binder("dict", "compile", str(dictionary), "--source", f"autoner={terms}"),
                   env=_env(), check=True, capture_output=True)  # fmt: skip
    corpus = _corpus(tmp_path / "corpus.jsonl", 3000)
    whole_dir = tmp_path / "whole"
    build = ["silver", "build", str(corpus), "--dict", str(dictionary), "--format", "jsonl"]
    subprocess.run(_binder(*build, "--out", str(whole_dir)), env=_env(), check=True,
                   capture_output=True)  # fmt: skip
    whole = _rows(whole_dir)
    assert len(whole) == 3000

    out = tmp_path / "silver"
    for seconds in KILL_AFTER_S:  # first builds: nothing complete exists yet
        _kill_after(_binder(*build, "--out", str(out)), seconds)
        _check_rule(out, None, whole)
        if out.exists():
            break
    shutil.rmtree(out, ignore_errors=True)
    # killed while the pipeline writes: every reader names the build and the command to rerun
    writing = ".silver.tmp-*/_binder_output.json"
    status = _run_until(_binder(*build, "--out", str(out)), lambda: any(tmp_path.glob(writing)))
    assert status == -signal.SIGKILL and not out.exists()
    for reader in (["silver", "stats", str(out)],
                   ["train", "--train", str(out), "--out", str(tmp_path / "run"), "--types",
                    str(write_types(tmp_path / "types.json"))]):  # fmt: skip
        refused = subprocess.run(_binder(*reader), env=_env(), capture_output=True, text=True)
        assert refused.returncode == 2 and "Traceback" not in refused.stderr
        assert "interrupted" in refused.stderr and "binder silver build" in refused.stderr
    subprocess.run(_binder(*build, "--out", str(out)), env=_env(), check=True,
                   capture_output=True)  # fmt: skip
    assert _rows(out) == whole
    smaller = _corpus(tmp_path / "smaller.jsonl", 2000)
    rebuild = ["silver", "build", str(smaller), "--dict", str(dictionary), "--format", "jsonl"]
    for seconds in KILL_AFTER_S:  # rebuilds over a complete output: it stays until the swap
        _kill_after(_binder(*rebuild, "--out", str(out)), seconds)
        current = _rows(out)
        assert len(current) in (3000, 2000)
        if len(current) == 3000:
            assert current == whole
    assert not [p for p in tmp_path.glob(".silver.tmp-*") if read_marker(p) is None]


def test_killed_data_convert_never_leaves_a_mix(tmp_path: Path) -> None:
    blocks = [
        f"{i}|t|Cisplatin nephrotoxicity {i}.\n{i}|a|Renal failure.\n"
        f"{i}\t0\t9\tCisplatin\tChemical\tD002945\n"
        for i in range(1, 20001)
    ]
    pubtator = tmp_path / "gold.txt"
    pubtator.write_text("\n".join(blocks) + "\n")
    convert = ["data", "convert", str(pubtator), "--format", "pubtator", "--shards", "4"]
    whole_dir = tmp_path / "whole"
    subprocess.run(_binder(*convert, str(whole_dir)), env=_env(), check=True,
                   capture_output=True)  # fmt: skip
    whole = _rows(whole_dir)
    out = tmp_path / "gold"
    for seconds in (0.5, 1.5, 3.0):
        _kill_after(_binder(*convert, str(out)), seconds)
        _check_rule(out, None, whole)
    shutil.rmtree(out, ignore_errors=True)
    status = _run_until(
        _binder(*convert, str(out)), lambda: any(tmp_path.glob(".gold.tmp-*/_binder_output.json"))
    )
    assert status == -signal.SIGKILL
    _check_rule(out, None, whole)
    subprocess.run(_binder(*convert, str(out)), env=_env(), check=True, capture_output=True)
    assert _rows(out) == whole  # and a complete output survives a killed rebuild
    _kill_after(_binder(*convert, str(out)), 1.0)
    assert _rows(out) == whole
    manifest = json.loads((out / "_manifest.json").read_text())
    assert manifest["counts"]["documents"] == 20000
    assert sorted(p.name for p in out.glob("*.parquet")) == manifest["shards"]


def test_killed_predict_leaves_no_partial_file(tiny_model_dir: Path, tmp_path: Path) -> None:
    corpus = _corpus(tmp_path / "docs.jsonl", 400)
    whole = tmp_path / "whole.parquet"
    predict = ["predict", str(tiny_model_dir), str(corpus)]
    subprocess.run(_binder(*predict, str(whole), "--amp", "no"), env=_env(), check=True,
                   capture_output=True)  # fmt: skip
    expected = pq.read_table(whole).to_pylist()
    out = tmp_path / "out.parquet"
    started = time.monotonic()
    for seconds in (1.0, 3.0, 6.0):
        _kill_after(_binder(*predict, str(out), "--amp", "no"), seconds)
        if out.exists():  # a file that exists is whole
            assert pq.read_table(out).to_pylist() == expected
        assert not [p for p in tmp_path.iterdir() if p.name.startswith("out.") and p != out]
    assert time.monotonic() - started < 120
