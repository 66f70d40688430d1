"""Bad input files, command by command: compressed files that end early or are damaged,
compiled dictionaries whose tables fail their checksum, folders where a file is expected and the
reverse, empty inputs and fields of the wrong type. Each is exit 2 and one line naming the file
(and the line or option where known), with no traceback.
"""

from __future__ import annotations

import bz2
import gzip
import json
import lzma
from pathlib import Path

import pytest

from cli.main import main
from dictionaries import Entry, compile_dictionary, save_compiled
from tests.bad_inputs import Case, failed_cases, run_case

pytestmark = pytest.mark.slow

PUBTATOR = "1|t|Cisplatin nephrotoxicity.\n1|a|Renal failure.\n1\t0\t9\tCisplatin\tChemical\tD1\n\n"
CORPUS = "".join(
    json.dumps({"id": str(i), "text": f"Cisplatin dose {i * 7919 % 10007}."}) + "\n"
    for i in range(2000)
)


def _half(data: bytes) -> bytes:
    return data[: len(data) // 2]


def _flipped(data: bytes, at: int) -> bytes:
    damaged = bytearray(data)
    damaged[at] ^= 0x55
    return bytes(damaged)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("bad_files")
    f: dict[str, Path] = {"root": root}

    def put(key: str, name: str, data: bytes | str) -> None:
        f[key] = root / name
        if isinstance(data, str):
            f[key].write_text(data, encoding="utf-8")
        else:
            f[key].write_bytes(data)

    f["dict"] = root / "good.dict"
    save_compiled(compile_dictionary([Entry("cisplatin", "Chemical", "D1", "t")]), f["dict"])
    artifact = f["dict"].read_bytes()
    put("damaged_dict", "damaged.dict", _flipped(artifact, len(artifact) - 3))
    autoner = "Chemical\tcisplatin\n" * 3000
    put("cut_gz_source", "source.txt.gz", _half(gzip.compress(autoner.encode())))
    put("cut_bz2_source", "source.txt.bz2", _half(bz2.compress(autoner.encode())))
    kb = "term\tlabel\n" + "cisplatin\tChemical\n" * 3000
    put("cut_xz_table", "table.tsv.xz", _half(lzma.compress(kb.encode())))
    put("corpus", "corpus.jsonl", CORPUS)
    put("cut_corpus", "cut.jsonl.gz", _half(gzip.compress(CORPUS.encode())))
    whole = gzip.compress(CORPUS.encode())
    put("corrupt_corpus", "corrupt.jsonl.gz", _flipped(whole, len(whole) // 2))
    put("cut_gold", "gold.PubTator.txt.gz", _half(gzip.compress((PUBTATOR * 200).encode())))
    put("empty_gz", "empty.conll.gz", b"")
    put("empty", "empty.txt", b"")
    put("pubtator", "gold.pubtator", PUBTATOR)
    typed = {"text": "Cisplatin.", "entity_types": ["Chemical"], "entity_start_chars": ["0"],
             "entity_end_chars": [9]}  # fmt: skip
    put("wrong_type", "wrong_type.jsonl", json.dumps(typed) + "\n")
    put("types", "types.json", json.dumps({"Chemical": "a chemical"}))
    put("a_file", "a_file.txt", "x\n")
    put("source", "source.txt", "Chemical\tcisplatin\n")
    f["a_folder"] = root / "a_folder"
    f["a_folder"].mkdir()
    assert main(["data", "convert", str(f["pubtator"]), str(root / "gold"), "-f", "pubtator"]) == 0
    f["gold"] = root / "gold"
    return f


def _cases(f: dict[str, Path]) -> list[Case]:
    r = f["root"]
    dict_ = ["--dict", str(f["dict"])]
    return [
        ("dict compile: .gz source cut short", ["dict", "compile", str(r / "o1.dict"),
         "--source", f"autoner={f['cut_gz_source']}"], "source.txt.gz: compressed file ends"),
        ("dict compile: .bz2 source cut short", ["dict", "compile", str(r / "o2.dict"),
         "--source", f"autoner={f['cut_bz2_source']}"], "source.txt.bz2: compressed file ends"),
        ("dict compile: .xz table cut short", ["dict", "compile", str(r / "o3.dict"),
         "--source", f"kb={f['cut_xz_table']}"], "table.tsv.xz: compressed file ends"),
        ("dict compile: a file as the UMLS META folder", ["dict", "compile", str(r / "o4.dict"),
         "--source", f"umls={f['a_file']}"], "a_file.txt"),
        ("dict compile: out is a folder", ["dict", "compile", str(f["a_folder"]),
         "--source", f"autoner={f['source']}"], "a_folder: is a folder"),
        ("dict split: table fails its checksum", ["dict", "split", str(f["damaged_dict"]),
         "--train", str(r / "a.dict"), "--heldout", str(r / "b.dict"), "--holdout", "0.1"],
         "damaged.dict: compiled dictionary is damaged (section automaton.0 fails"),
        ("dict split: a folder as the held-out output", ["dict", "split", str(f["dict"]),
         "--train", str(r / "a.dict"), "--heldout", str(f["a_folder"]), "--holdout", "0.5"],
         "a_folder: is a folder"),
        ("dict split: folder as dict", ["dict", "split", str(f["a_folder"]), "--train",
         str(r / "a.dict"), "--heldout", str(r / "b.dict"), "--holdout", "0.1"], "a_folder"),
        ("silver build: table fails its checksum", ["silver", "build", str(f["corpus"]),
         "--dict", str(f["damaged_dict"]), "--out", str(r / "s1"), "--format", "jsonl"],
         "damaged.dict: compiled dictionary is damaged"),
        ("silver build: held-out table fails its checksum", ["silver", "build",
         str(f["corpus"]), *dict_, "--heldout-dict", str(f["damaged_dict"]), "--out",
         str(r / "s2")], "damaged.dict: compiled dictionary is damaged"),
        ("silver build: .jsonl.gz cut at half", ["silver", "build", str(f["cut_corpus"]),
         *dict_, "--out", str(r / "s3"), "--format", "jsonl", "--json"],
         f"{f['cut_corpus']} (truncated at line"),
        ("silver build: .jsonl.gz with a damaged block", ["silver", "build",
         str(f["corrupt_corpus"]), *dict_, "--out", str(r / "s4"), "--format", "jsonl",
         "--json"], f"{f['corrupt_corpus']} (corrupt at line"),
        ("silver build: an empty corpus", ["silver", "build", str(f["empty"]), *dict_,
         "--out", str(r / "s6")], "empty.txt: every corpus file is empty"),
        ("silver build: a file as the output", ["silver", "build", str(f["corpus"]), *dict_,
         "--out", str(f["a_file"])], "a_file.txt"),
        ("silver submit: table fails its checksum", ["silver", "submit", str(f["corpus"]),
         "--dict", str(f["damaged_dict"]), "--out", str(r / "s5"), "--no-stage",
         "--runner", "PortableRunner", "--job_endpoint", "localhost:9"],
         "damaged.dict: compiled dictionary is damaged"),
        ("silver stats: an empty folder", ["silver", "stats", str(f["a_folder"])], "a_folder"),
        ("silver eval: a text file as gold", ["silver", "eval", str(f["gold"]),
         str(f["a_file"])], "a_file.txt"),
        ("silver augment: a folder without shards as predictions", ["silver", "augment",
         str(f["gold"]), str(f["a_folder"]), str(r / "aug")], "a_folder"),
        ("data convert: .gz gold cut short", ["data", "convert", str(f["cut_gold"]),
         str(r / "g1"), "-f", "pubtator"], "gold.PubTator.txt.gz: compressed file ends early"),
        ("data convert: empty .gz", ["data", "convert", str(f["empty_gz"]), str(r / "g2"),
         "-f", "conll"], "empty.conll.gz: compressed file ends early (empty)"),
        ("data convert: folder as gold", ["data", "convert", str(f["a_folder"]), str(r / "g3"),
         "-f", "pubtator"], "a_folder: is a folder"),
        ("data convert: a field of the wrong type", ["data", "convert", str(f["wrong_type"]),
         str(r / "g4"), "-f", "binder-jsonl"],
         "wrong_type.jsonl:1: entity_start_chars holds '0', a str"),
        ("data split: a file as the output", ["data", "split", str(f["gold"]),
         str(f["a_file"]), "--part", "a=1"], "a_file.txt"),
        ("data texts: missing source", ["data", "texts", str(r / "missing"),
         str(r / "t.jsonl")], "missing"),
        ("data texts: a folder as the output", ["data", "texts", str(f["gold"]),
         str(f["a_folder"])], "a_folder: is a folder"),
        ("train: a folder as the types file", ["train", "--train", str(f["gold"]), "--out",
         str(r / "run1"), "--types", str(f["a_folder"])],
         "a_folder: is a folder; give the type-description file itself"),
        ("train: a text file as the data", ["train", "--train", str(f["a_file"]), "--out",
         str(r / "run2"), "--types", str(f["types"])], "a_file.txt"),
    ]  # fmt: skip


def test_every_bad_input_file_is_one_line_with_exit_code_2(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    failures = failed_cases(_cases(files), capsys)
    assert not failures, "\n".join(failures)


def test_silver_build_of_a_cut_corpus_keeps_what_was_read(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """Nothing lost: the rows before the cut are written, and the manifest says which file."""
    out = files["root"] / "kept"
    argv = ["silver", "build", str(files["cut_corpus"]), "--dict", str(files["dict"]), "--out",
            str(out), "--format", "jsonl"]  # fmt: skip
    code, lines, _ = run_case(argv, capsys)
    assert code == 2 and len(lines) == 1
    manifest = json.loads((out / "_manifest.json").read_text("utf-8"))
    [partial] = manifest["partial_files"]
    assert partial["path"] == str(files["cut_corpus"])
    assert manifest["counts"]["rows"] == partial["line"] - 1
    assert manifest["counts"]["balanced"]
