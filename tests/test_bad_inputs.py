"""Every CLI command through a matrix of bad inputs: exit code 2 and one line, no traceback.

Each case is a user mistake: a missing path, a file where a folder is expected and the reverse,
an empty file, truncated or foreign Parquet, a corrupted or truncated dictionary, records with
unknown keys, a wrong ``--format``, unknown labels and out-of-range option values. The line must
name what is wrong (the file, or the option) so the user knows what to fix.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cli.main import main
from dictionaries import Entry, compile_dictionary, save_compiled
from tests.bad_inputs import failed_cases

pytestmark = pytest.mark.slow


def _put(f: dict[str, Path], key: str, path: Path) -> Path:
    f[key] = path
    return path


PUBTATOR = "1|t|Cisplatin nephrotoxicity.\n1|a|Renal failure.\n1\t0\t9\tCisplatin\tChemical\tD1\n"


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("bad_inputs")
    f: dict[str, Path] = {"root": root}
    f["dict"] = root / "good.dict"
    save_compiled(compile_dictionary([Entry("cisplatin", "Chemical", "D1", "t")]), f["dict"])
    data = f["dict"].read_bytes()
    _put(f, "truncated_dict", root / "truncated.dict").write_bytes(data[: len(data) // 2])
    _put(f, "garbage_dict", root / "garbage.dict").write_bytes(b"\x80\x04\x95 not a dictionary")
    _put(f, "empty", root / "empty.txt").write_bytes(b"")
    _put(f, "pubtator", root / "gold.pubtator").write_text(PUBTATOR)
    _put(f, "corpus", root / "corpus.jsonl").write_text('{"id": "1", "text": "Cisplatin."}\n')
    _put(f, "misspelled", root / "misspelled.jsonl").write_text(
        json.dumps({"text": "Cisplatin.", "entities": [{"start": 0, "end": 9}]}) + "\n"
    )
    assert main(["data", "convert", str(f["pubtator"]), str(root / "gold"), "-f", "pubtator"]) == 0
    f["gold"] = root / "gold"
    _put(f, "truncated_parquet", root / "truncated").mkdir()
    shard = next(f["gold"].glob("*.parquet")).read_bytes()
    (f["truncated_parquet"] / "part-00000-of-00001.parquet").write_bytes(shard[: len(shard) // 2])
    _put(f, "foreign_parquet", root / "foreign").mkdir()
    pq.write_table(pa.table({"a": [1, 2]}), f["foreign_parquet"] / "part-00000-of-00001.parquet")
    _put(f, "types", root / "types.json").write_text(json.dumps({"Chemical": "a chemical"}))
    _put(f, "a_folder", root / "a_folder").mkdir()
    return f


def _cases(f: dict[str, Path]) -> list[tuple[str, list[str], str]]:
    r = f["root"]
    missing = str(r / "missing")
    return [
        # (case, argv, text the line must contain)
        ("dict compile: missing source", ["dict", "compile", str(r / "o.dict"), "--source",
         f"autoner={missing}"], "missing"),
        ("dict compile: empty source", ["dict", "compile", str(r / "o.dict"), "--source",
         f"autoner={f['empty']}"], "empty.txt"),
        ("dict compile: folder as source", ["dict", "compile", str(r / "o.dict"), "--source",
         f"autoner={f['a_folder']}"], "a_folder"),
        ("dict split: truncated dict", ["dict", "split", str(f["truncated_dict"]),
         "--train", str(r / "a.dict"), "--heldout", str(r / "b.dict"), "--holdout", "0.1"],
         "truncated.dict"),
        ("silver build: missing corpus", ["silver", "build", missing, "--dict", str(f["dict"]),
         "--out", str(r / "s1")], "missing"),
        ("silver build: truncated dict", ["silver", "build", str(f["corpus"]), "--dict",
         str(f["truncated_dict"]), "--out", str(r / "s2"), "--format", "jsonl"], "truncated.dict"),
        ("silver build: garbage dict", ["silver", "build", str(f["corpus"]), "--dict",
         str(f["garbage_dict"]), "--out", str(r / "s3"), "--format", "jsonl"], "garbage.dict"),
        ("silver build: folder as dict", ["silver", "build", str(f["corpus"]), "--dict",
         str(f["a_folder"]), "--out", str(r / "s4"), "--format", "jsonl"], "a_folder"),
        ("silver build: out is a file", ["silver", "build", str(f["corpus"]), "--dict",
         str(f["dict"]), "--out", str(f["empty"]), "--format", "jsonl"], "is a file"),
        ("silver build: shards 0", ["silver", "build", str(f["corpus"]), "--dict",
         str(f["dict"]), "--out", str(r / "s5"), "--shards", "0"], "--shards"),
        ("silver build: folder as corpus", ["silver", "build", str(f["a_folder"]), "--dict",
         str(f["dict"]), "--out", str(r / "s6")], "a_folder"),
        ("silver stats: missing", ["silver", "stats", missing], "missing"),
        ("silver stats: truncated parquet", ["silver", "stats", str(f["truncated_parquet"])],
         "truncated"),
        ("silver stats: foreign parquet", ["silver", "stats", str(f["foreign_parquet"])],
         "foreign"),
        ("silver stats: empty file", ["silver", "stats", str(f["empty"])], "empty.txt"),
        ("silver eval: foreign gold", ["silver", "eval", str(f["gold"]),
         str(f["foreign_parquet"])], "foreign"),
        ("silver augment: min-score 2", ["silver", "augment", str(f["gold"]), str(f["gold"]),
         str(r / "aug"), "--min-score", "2"], "min-score"),
        ("data convert: missing", ["data", "convert", missing, str(r / "g1"), "-f", "pubtator"],
         "missing"),
        ("data convert: wrong format", ["data", "convert", str(f["pubtator"]), str(r / "g2"),
         "-f", "binder-jsonl"], "gold.pubtator"),
        ("data convert: unknown record keys", ["data", "convert", str(f["misspelled"]),
         str(r / "g3"), "-f", "binder-jsonl"], "entities"),
        ("data convert: empty file", ["data", "convert", str(f["empty"]), str(r / "g4"), "-f",
         "conll"], "empty.txt"),
        ("data convert: bad format name", ["data", "convert", str(f["pubtator"]), str(r / "g5"),
         "-f", "xml"], "--format"),
        ("data split: fractions", ["data", "split", str(f["gold"]), str(r / "sp"), "--part",
         "a=0.5"], "add up"),
        ("data split: truncated parquet", ["data", "split", str(f["truncated_parquet"]),
         str(r / "sp2"), "--part", "a=1"], "truncated"),
        ("data texts: foreign parquet", ["data", "texts", str(f["foreign_parquet"]),
         str(r / "t.jsonl")], "foreign"),
        ("train: missing data", ["train", "--train", missing, "--out", str(r / "run1"),
         "--types", str(f["types"])], "missing"),
        ("train: unknown labels", ["train", "--train", str(f["gold"]), "--out", str(r / "run2"),
         "--types", str(f["types"]), "--labels", "Protein"], "Protein"),
        ("train: out inside data", ["train", "--train", str(f["gold"]), "--out",
         str(f["gold"] / "run"), "--types", str(f["types"])], "gold"),
        ("train: negative rate 2", ["train", "--train", str(f["gold"]), "--out", str(r / "run3"),
         "--types", str(f["types"]), "--negative-rate", "2"], "negative"),
        ("train: empty types file", ["train", "--train", str(f["gold"]), "--out", str(r / "run4"),
         "--types", str(f["empty"])], "empty.txt"),
        ("evaluate: not a model", ["evaluate", str(f["a_folder"]), str(f["gold"])], "a_folder"),
        ("predict: not a model", ["predict", str(f["gold"]), str(f["corpus"]),
         str(r / "p.jsonl")], "gold"),
        ("export: not a model", ["export", str(f["a_folder"]), str(r / "exp")], "a_folder"),
        ("evaluate: a trust without the trust rule", ["evaluate", missing, str(f["gold"]),
         "--dictionary", str(f["dict"]), "--hybrid-trust", "2"], "add --hybrid trust"),
        ("predict: a trust without the trust rule", ["predict", missing, str(f["corpus"]),
         str(r / "p2.jsonl"), "--hybrid-trust", "2"], "add --hybrid trust"),
    ]  # fmt: skip


def test_every_bad_input_is_one_line_with_exit_code_2(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    failures = failed_cases(_cases(files), capsys)
    assert not failures, "\n".join(failures)
