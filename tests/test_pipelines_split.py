"""``pipelines.datasets.split`` and ``binder data split``: deterministic, complete, metadata."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from binder_core.contract.errors import ConfigError
from binder_core.contract.schema import (
    document_schema,
    iter_documents,
    make_span,
    open_dataset,
    write_documents,
)
from cli.main import app
from pipelines.datasets.split import assign_part, parse_parts, split_dataset

runner = CliRunner()


def _dataset(path: Path, n: int = 200) -> Path:
    docs = [
        {
            "doc_id": f"d{i}",
            "text": f"aspirin text {i}",
            "source": "s",
            "spans": [make_span(0, 7, "Chemical", origin="gold")] * (i % 3 > 0),
        }
        for i in range(n)
    ]
    schema = document_schema(["Chemical"], "fp123", extra={"origin": "gold"})
    write_documents(docs[: n // 2], path / "part-00000-of-00002.parquet", schema)
    write_documents(docs[n // 2 :], path / "part-00001-of-00002.parquet", schema)
    return path


def test_parse_parts_checks_names_fractions_and_total() -> None:
    assert parse_parts(["train=0.8", "test=0.2"]) == {"train": 0.8, "test": 0.2}
    for bad in (["train"], ["train=x"], ["train=0"], ["a b=1"], ["train=0.5", "dev=0.2"], []):
        with pytest.raises(ConfigError):
            parse_parts(bad)
    with pytest.raises(ConfigError, match="twice"):
        parse_parts(["a=0.5", "a=0.5"])


def test_assign_part_is_a_pure_function_of_id_and_seed() -> None:
    parts = {"train": 0.8, "test": 0.2}
    ids = [f"doc{i}" for i in range(2000)]
    first = [assign_part(i, parts) for i in ids]
    assert first == [assign_part(i, parts) for i in ids]
    share = first.count("train") / len(ids)
    assert 0.76 < share < 0.84
    assert first != [assign_part(i, parts, seed=1) for i in ids]


def test_split_writes_every_document_once_and_keeps_metadata(tmp_path: Path) -> None:
    src = _dataset(tmp_path / "src")
    result = split_dataset(src, tmp_path / "out", {"train": 0.7, "dev": 0.1, "test": 0.2})
    assert sum(result.documents.values()) == 200
    seen: list[str] = []
    for name in ("train", "dev", "test"):
        _, meta = open_dataset(tmp_path / "out" / name)
        assert meta.labels == ("Chemical",) and meta.dictionary_fingerprint == "fp123"
        ids = [d["doc_id"] for d in iter_documents(tmp_path / "out" / name)]
        assert len(ids) == result.documents[name]
        assert all(assign_part(i, result.manifest["parts"]) == name for i in ids)
        seen += ids
    assert sorted(seen) == sorted(f"d{i}" for i in range(200))
    original = {d["doc_id"]: d for d in iter_documents(src)}
    for d in iter_documents(tmp_path / "out" / "test"):
        assert d == original[d["doc_id"]]
    manifest = json.loads((tmp_path / "out" / "_manifest.json").read_text())
    assert manifest["counts"]["documents"] == 200
    assert sum(manifest["counts"]["spans_per_part"].values()) == sum(
        len(d["spans"]) for d in original.values()
    )


def test_an_empty_part_is_an_empty_readable_data_set(tmp_path: Path) -> None:
    src = _dataset(tmp_path / "src", n=2)
    result = split_dataset(src, tmp_path / "out", {"a": 0.999999, "b": 0.000001})
    assert result.documents == {"a": 2, "b": 0}
    assert pq.read_table(tmp_path / "out" / "b").num_rows == 0


def test_cli_split_prints_a_table_and_rejects_bad_parts(tmp_path: Path) -> None:
    src = _dataset(tmp_path / "src")
    out = tmp_path / "out"
    result = runner.invoke(
        app, ["data", "split", str(src), str(out), "--part", "train=0.5", "--part", "test=0.5"]
    )
    assert result.exit_code == 0, result.output
    assert "200" in result.stdout and "train" in result.stdout
    bad = runner.invoke(app, ["data", "split", str(src), str(out), "--part", "train=0.5"])
    assert bad.exit_code == 2
    assert "add up to 0.5" in bad.output and "Traceback" not in bad.output
    missing = runner.invoke(app, ["data", "split", str(tmp_path / "nope"), str(out), "-p", "a=1"])
    assert missing.exit_code == 2 and "nope" in missing.output
