"""``binder silver build`` and ``binder silver submit`` through typer's CliRunner.

The submit test sends a real job to Beam's local job service, with an external worker pool, both
started on free loopback ports by a fixture that always stops them.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from binder_core.contract.schema import iter_documents
from cli.main import app

CORPORA = Path(__file__).parent / "fixtures" / "corpora"
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def dict_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from dictionaries import Entry, compile_dictionary, save_compiled

    entries = [
        Entry("aspirin", "Chemical", "D001241", "test"),
        Entry("famotidine", "Chemical", "D015738", "test"),
        Entry("delirium", "Disease", "D003693", "test"),
        Entry("gastric ulcer", "Disease", "D013276", "test"),
    ]
    path = tmp_path_factory.mktemp("dict") / "tiny.dict"
    save_compiled(compile_dictionary(entries), path)
    return path


def test_silver_build_prints_summary_and_writes_shards(dict_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "silver"
    args = ["silver", "build", str(CORPORA / "abstracts.txt"), "--dict", str(dict_file)]
    result = CliRunner().invoke(
        app, [*args, "--out", str(out), "--format", "text", "--shards", "2"]
    )
    assert result.exit_code == 0, result.output
    for expected in ("documents", "Chemical", "Disease", "empty_text", "2 shards"):
        assert expected in result.output
    assert len(list(iter_documents(out))) == 4


def test_silver_build_with_two_workers_as_a_user_runs_it(dict_file: Path, tmp_path: Path) -> None:
    """The console command in its own process: forked workers, the dictionary loaded by their
    template, the same rows as one worker, and no dependency chatter on stderr."""
    rows = {}
    for workers in ("1", "2"):
        out = tmp_path / f"silver{workers}"
        args = ["silver", "build", str(CORPORA / "abstracts.txt"), "--dict", str(dict_file)]
        done = subprocess.run(
            [sys.executable, "-m", "cli.main", *args, "--out", str(out), "--format", "text",
             "--workers", workers, "--json"],
            cwd=REPO, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert done.stderr == ""
        assert json.loads(done.stdout)["runner"].startswith(f"local FnApiRunner ({workers} ")
        rows[workers] = list(iter_documents(out))
    assert rows["1"] == rows["2"] and len(rows["1"]) == 4


def test_console_command_exits_with_the_code_of_main(tmp_path: Path) -> None:
    """A user mistake through the console entry point (which freezes objects before it exits):
    exit code 2 and one line on stderr."""
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", "silver", "build", str(tmp_path / "missing.jsonl"),
         "--dict", str(tmp_path / "d.dict"), "--out", str(tmp_path / "out")],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "missing.jsonl" in done.stderr


def test_silver_build_json_prints_the_manifest(dict_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "silver"
    corpus = str(CORPORA / "sample.pubtator")
    result = CliRunner().invoke(
        app,
        ["silver", "build", corpus, "--dict", str(dict_file), "--out", str(out), "-f", "pubtator"],
    )
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(
        app,
        ["silver", "build", corpus, "--dict", str(dict_file), "--out", str(out), "-f", "pubtator",
         "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    manifest = json.loads(result.output)
    assert manifest["counts"]["rows"] == 3
    assert manifest["counts"]["spans_by_label"] == {"Chemical": 2, "Disease": 1}
    assert manifest == json.loads((out / "_manifest.json").read_text())


def test_silver_build_missing_corpus_is_a_one_line_error(dict_file: Path, tmp_path: Path) -> None:
    missing = tmp_path / "none*.txt"
    result = CliRunner().invoke(
        app, ["silver", "build", str(missing), "--dict", str(dict_file), "--out", str(tmp_path)]
    )
    assert result.exit_code == 2
    assert "no file matches this path or glob" in result.output
    assert str(missing) in result.output


def test_silver_submit_without_runner_is_a_one_line_error(dict_file: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        ["silver", "submit", str(CORPORA / "abstracts.txt"), "--dict", str(dict_file), "--out",
         str(tmp_path), "--runner=DaskRunner"],
    )  # fmt: skip
    assert result.exit_code == 2
    assert "--runner DaskRunner is not supported for submission" in result.output


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("localhost", 0))
        return int(s.getsockname()[1])


def _wait_for_port(port: int, proc: subprocess.Popen[bytes], timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"service on port {port} exited with {proc.returncode}")
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            if s.connect_ex(("localhost", port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError(f"nothing listens on port {port} after {timeout_s} s")


@pytest.fixture
def beam_job_service(tmp_path: Path) -> Iterator[tuple[int, int]]:
    """A local Beam job service and an external worker pool; yields their ports."""
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    job_port, pool_port = _free_port(), _free_port()
    commands = [
        [sys.executable, "-m", "apache_beam.runners.portability.local_job_service_main",
         "--port", str(job_port)],
        [sys.executable, "-m", "apache_beam.runners.worker.worker_pool_main",
         f"--service_port={pool_port}"],
    ]  # fmt: skip
    procs: list[subprocess.Popen[bytes]] = []
    logs = []
    try:
        for i, command in enumerate(commands):
            log = (tmp_path / f"service{i}.log").open("wb")
            logs.append(log)
            procs.append(
                subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
            )
        _wait_for_port(job_port, procs[0])
        _wait_for_port(pool_port, procs[1])
        yield job_port, pool_port
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for log in logs:
            log.close()


def test_silver_submit_runs_a_real_job_on_the_portable_runner(
    beam_job_service: tuple[int, int], dict_file: Path, tmp_path: Path
) -> None:
    job_port, pool_port = beam_job_service
    out = tmp_path / "silver"
    result = CliRunner().invoke(
        app,
        [
            "silver", "submit", str(CORPORA / "abstracts.jsonl"),
            "--dict", str(dict_file), "--out", str(out), "--format", "jsonl",
            "--id-field", "pmid", "--text-field", "body", "--shards", "2",
            "--runner=PortableRunner", f"--job_endpoint=localhost:{job_port}",
            "--environment_type", "EXTERNAL", f"--environment_config=localhost:{pool_port}",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "PortableRunner" in result.output
    rows = sorted(iter_documents(out), key=lambda r: r["doc_id"])
    assert [r["doc_id"] for r in rows][:3] == ["1001", "1002", "1004"]
    assert len(rows) == 4
    aspirin = next(r for r in rows if r["text"].startswith("Aspirin"))
    assert [(s["start"], s["end"], s["label"]) for s in aspirin["spans"]] == [(0, 7, "Chemical")]
    manifest = json.loads((out / "_manifest.json").read_text())
    assert manifest["counts"]["balanced"] is True
    assert manifest["counts"]["input_records"] == 4


def test_silver_build_with_heldout_and_uncertain_dictionaries(
    dict_file: Path, tmp_path: Path
) -> None:
    from dictionaries import Entry, compile_dictionary, save_compiled

    held, broad = tmp_path / "held.dict", tmp_path / "broad.dict"
    save_compiled(
        compile_dictionary(
            [
                Entry("famotidine", "Chemical", "D015738", "t"),
                Entry("cimetidine", "Chemical", "D002927", "t"),
            ]
        ),
        held,
    )
    save_compiled(compile_dictionary([Entry("stomach", "Anatomy", "A1", "t"),
                                      Entry("aspirin", "Drug", "X", "t")]), broad)  # fmt: skip
    corpus = tmp_path / "c.jsonl"
    text = "Gastric ulcer (GU) of the stomach after aspirin and cimetidine; GU healed."
    corpus.write_text(json.dumps({"id": "d1", "text": text}) + "\n", encoding="utf-8")
    out = tmp_path / "silver"
    args = ["silver", "build", str(corpus), "--dict", str(dict_file), "--out", str(out),
            "-f", "jsonl", "--heldout-dict", str(held), "--uncertain-dict", str(broad),
            "--json"]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    manifest = json.loads(result.output)
    (doc,) = iter_documents(out)
    assert [(text[s["start"] : s["end"]], s["label"], s["origin"], s["uncertain"])
            for s in doc["spans"]] == [
        ("Gastric ulcer", "Disease", "dict_exact", False),
        ("GU", "Disease", "abbreviation", False),
        ("stomach", "*", "dict_uncertain", True),
        ("aspirin", "Chemical", "dict_exact", False),  # the typed span wins over the broad one
        ("cimetidine", "Chemical", "dict_heldout", False),
        ("GU", "Disease", "abbreviation", False),
    ]  # fmt: skip
    counts = manifest["counts"]
    assert counts["spans_by_origin"] == {
        "abbreviation": 2, "dict_exact": 2, "dict_heldout": 1, "dict_uncertain": 1
    }  # fmt: skip
    assert counts["spans_by_label"] == {"*": 1, "Chemical": 2, "Disease": 3}
    assert {k: v for k, v in counts["labeling"].items() if v} == {
        "abbreviation_definitions_at_spans": 1,
        "abbreviation_definitions_labelled": 1,
        "abbreviation_spans_added": 2,
        "heldout_spans_added": 1,
        "uncertain_matches_overlapping": 1,
        "uncertain_spans_added": 1,
    }
    assert manifest["labels"] == ["Chemical", "Disease"]
    assert manifest["heldout_dictionary"]["labels"] == ["Chemical"]
    assert manifest["options"]["abbreviation_long_form"] == "end"
    stats = CliRunner().invoke(app, ["silver", "stats", str(out), "--json"])
    assert json.loads(stats.output)["labeling"]["abbreviation_spans_added"] == 2
    off = CliRunner().invoke(app, [*args[:-1], "--no-abbreviations", "--json"])
    assert json.loads(off.output)["counts"]["spans_by_origin"].get("abbreviation") is None


def test_silver_build_name_label_widens_person_parts(tmp_path: Path) -> None:
    from dictionaries import Entry, compile_dictionary, save_compiled

    people = tmp_path / "people.dict"
    entries = [
        Entry("Andy", "PER", "", "test", "exact-or-upper"),
        Entry("Leeds", "LOC", "", "test"),
    ]
    save_compiled(compile_dictionary(entries), people)
    corpus = tmp_path / "news.jsonl"
    text = "Andy Caddick joined Leeds , said Andy ."
    corpus.write_text(json.dumps({"id": "n1", "text": text}) + "\n", encoding="utf-8")
    out = tmp_path / "silver"
    args = ["silver", "build", str(corpus), "--dict", str(people), "--out", str(out), "-f", "jsonl"]
    result = CliRunner().invoke(app, [*args, "--name-label", "PER", "--json"])
    assert result.exit_code == 0, result.output
    manifest = json.loads(result.output)
    (doc,) = iter_documents(out)
    assert [(text[s["start"] : s["end"]], s["label"], s["origin"]) for s in doc["spans"]] == [
        ("Andy Caddick", "PER", "dict_name"),
        ("Leeds", "LOC", "dict_exact"),
        ("Andy", "PER", "dict_exact"),
    ]
    assert manifest["counts"]["labeling"]["name_spans_widened"] == 1
    assert manifest["options"]["name_labels"] == ["PER"]
    from binder_core.training.batches import (
        training_provenance,  # what a model trained on it records
    )

    assert training_provenance(str(out)).silver_options == manifest["options"]
    assert "composite_mentions" not in manifest["options"]  # off: the options of earlier runs
    both = CliRunner().invoke(app, [*args, "--composite-mentions", "--overwrite", "--json"])
    assert json.loads(both.output)["options"]["composite_mentions"] is True
