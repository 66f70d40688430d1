"""Gold converters on tiny hand-made fixtures in the real formats: exact documents and spans."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from binder_core.contract.errors import ConfigError, InputError
from binder_core.contract.schema import MANIFEST_NAME, iter_documents, open_dataset
from pipelines.gold.common import file_stem, iter_lines
from pipelines.gold.conll import ConllCounts, parse_conll
from pipelines.gold.convert import ConvertConfig, convert_gold, expand_inputs
from pipelines.gold.jsonl import parse_binder_json, write_binder_jsonl
from pipelines.gold.pubtator import PubTatorCounts, parse_pubtator

GOLD = Path(__file__).parent / "fixtures" / "gold"


def spans_of(doc: dict[str, Any]) -> list[tuple[int, int, str, str]]:
    """(start, end, label, surface) in canonical order; also checks the gold span fields."""
    for s in doc["spans"]:
        assert (s["origin"], s["score"], s["uncertain"], s["matched_term"], s["link_score"]) == (
            "gold",
            1.0,
            False,
            "",
            0.0,  # gold ids are annotations, never linked
        )
    return sorted((s["start"], s["end"], s["label"], doc["text"][s["start"] : s["end"]])
                  for s in doc["spans"])  # fmt: skip


def lines(text: str) -> list[tuple[int, str]]:
    return list(iter_lines(text))


# ------------------------------------------------------------------------------------ PubTator
def test_parse_pubtator_documents_and_offsets() -> None:
    path = GOLD / "mini.PubTator.txt"
    counts = PubTatorCounts()
    docs = list(parse_pubtator(iter_lines(path.read_text("utf-8")), str(path), counts))
    assert [(d["doc_id"], d["text"], d["source"]) for d in docs] == [
        ("100", "Aspirin causes ulcers. Gastric ulcer after aspirin (ASA).", "mini.PubTator.txt"),
        ("200", "Café İstanbul. ", "mini.PubTator.txt"),
    ]
    assert spans_of(docs[0]) == [
        (0, 7, "Chemical", "Aspirin"),
        (15, 21, "Disease", "ulcers"),
        (23, 36, "Disease", "Gastric ulcer"),
        (43, 50, "Chemical", "aspirin"),
    ]
    assert [s["concept_id"] for s in docs[0]["spans"]] == [
        "D001241",
        "",
        "D013276|D014456",
        "D001241",
    ]
    assert spans_of(docs[1]) == [(0, 4, "Chemical", "Café")]
    assert counts.relations == 1


def test_parse_pubtator_bad_offsets_names_file_and_line() -> None:
    path = GOLD / "bad_offsets.PubTator.txt"
    message = r"bad_offsets\.PubTator\.txt:4: offsets \[18, 30\) give 'Renal failur',"
    with pytest.raises(InputError, match=message):
        list(parse_pubtator(iter_lines(path.read_text("utf-8")), str(path)))


def test_parse_pubtator_mention_before_title_is_an_error() -> None:
    with pytest.raises(InputError, match=r"x\.txt:1: annotation for PMID 7 outside"):
        list(parse_pubtator(lines("7\t0\t1\tA\tChemical\n"), "x.txt"))


def test_parse_pubtator_abstract_of_another_document_is_an_error() -> None:
    with pytest.raises(InputError, match=r"x\.txt:2: abstract line for PMID 8"):
        list(parse_pubtator(lines("7|t|A\n8|a|B\n"), "x.txt"))


def test_parse_pubtator_trims_stray_whitespace_in_mention_column() -> None:
    counts = PubTatorCounts()
    docs = list(
        parse_pubtator(lines("7|t|Big pain\n7|a|\n7\t4\t8\tpain  \tDisease\n"), "x", counts)
    )
    assert spans_of(docs[0]) == [(4, 8, "Disease", "pain")]
    assert counts.mentions_trimmed == 1


def test_parse_pubtator_empty_input_gives_no_documents() -> None:
    assert list(parse_pubtator(lines("\n\n"), "x")) == []


# --------------------------------------------------------------------------------------- CoNLL
def test_parse_conll_iob1_with_docstart() -> None:
    path = GOLD / "mini.conll"
    counts = ConllCounts()
    docs = list(parse_conll(iter_lines(path.read_text("utf-8")), str(path), "auto", counts))
    assert [(d["doc_id"], d["text"]) for d in docs] == [
        ("mini-00000", "EU rejects German call . Peter Blackburn"),
        ("mini-00001", "Bonn Paris New York York wins"),
    ]
    assert spans_of(docs[0]) == [
        (0, 2, "ORG", "EU"),
        (11, 17, "MISC", "German"),
        (25, 40, "PER", "Peter Blackburn"),
    ]
    # B-LOC splits adjacent LOCs (IOB1); I-LOC after a sentence break starts a new entity.
    assert spans_of(docs[1]) == [
        (0, 4, "LOC", "Bonn"),
        (5, 19, "LOC", "Paris New York"),
        (20, 24, "LOC", "York"),
    ]
    assert (counts.detected_scheme, counts.sentences) == ("iob1", 4)


def test_parse_conll_iob2_tsv_without_docstart_gives_one_document_per_sentence() -> None:
    path = GOLD / "mini.tsv"
    counts = ConllCounts()
    docs = list(parse_conll(iter_lines(path.read_text("utf-8")), str(path), "iob2", counts))
    assert [(d["doc_id"], d["text"]) for d in docs] == [
        ("mini-00000", "Selegiline - induced postural hypotension"),
        ("mini-00001", "No change"),
        ("mini-00002", "Cisplatin B-Disease"),
    ]
    assert [spans_of(d) for d in docs] == [
        [(0, 10, "Chemical", "Selegiline"), (21, 41, "Disease", "postural hypotension")],
        [],
        [(0, 9, "Chemical", "Cisplatin")],
    ]
    assert counts.detected_scheme == "iob2"


def test_parse_conll_strict_iob2_rejects_entity_starting_with_i() -> None:
    with pytest.raises(InputError, match=r"f\.conll:2: tag 'I-PER' starts an entity"):
        list(parse_conll(lines("a O\nb I-PER\n"), "f.conll", "iob2"))


def test_parse_conll_auto_and_iob1_decode_alike() -> None:
    text = "a I-PER\nb I-PER\nc B-PER\nd I-LOC\n"
    for scheme in ("auto", "iob1"):
        docs = list(parse_conll(lines(text), "f", scheme))
        assert spans_of(docs[0]) == [
            (0, 3, "PER", "a b"),
            (4, 5, "PER", "c"),
            (6, 7, "LOC", "d"),
        ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("tok E-PER\n", r"f:1: tag 'E-PER' is not IOB"),
        ("ok O\nlonely\n", r"f:2: expected a token and a tag"),
        ("tok B-\n", r"f:1: tag 'B-' is not IOB"),
    ],
)
def test_parse_conll_bad_lines_name_the_line(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        list(parse_conll(lines(text), "f"))


def test_parse_conll_empty_documents_are_counted_not_written() -> None:
    counts = ConllCounts()
    docs = list(parse_conll(lines("-DOCSTART- O\n\n-DOCSTART- O\nx B-A\n"), "f", counts=counts))
    assert [(d["doc_id"], d["text"]) for d in docs] == [("f-00000", "x")]
    assert counts.empty_documents == 1


# ---------------------------------------------------------------------------------- JSON/JSONL
def test_parse_binder_json_w2ner_keeps_nested_entities() -> None:
    path = GOLD / "mini_w2ner.json"
    docs = list(parse_binder_json(path.read_text("utf-8"), str(path)))
    assert [(d["doc_id"], d["text"], d["source"]) for d in docs] == [
        ("mini_w2ner-00000", "IL-2 gene expression in T cells", "mini_w2ner.json"),
        ("mini_w2ner-00001", "No entities here.", "mini_w2ner.json"),
    ]
    assert spans_of(docs[0]) == [
        (0, 4, "protein", "IL-2"),
        (0, 9, "DNA", "IL-2 gene"),
        (24, 31, "cell_type", "T cells"),
    ]
    assert docs[1]["spans"] == []


def test_parse_binder_json_char_and_token_forms() -> None:
    path = GOLD / "mini_binder.jsonl"
    docs = list(parse_binder_json(path.read_text("utf-8"), str(path)))
    assert [(d["doc_id"], d["text"]) for d in docs] == [
        ("MEDLINE:1-0", "IL-2 gene expression"),
        ("mini_binder-00001", "NF-kappa B binds"),
    ]
    assert spans_of(docs[0]) == [(0, 4, "protein", "IL-2"), (0, 9, "DNA", "IL-2 gene")]
    assert spans_of(docs[1]) == [(0, 10, "protein", "NF-kappa B")]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"text": "ab", "entity_types": ["X"], "entity_start_chars": [0], '
         '"entity_end_chars": [3]}', r"f:1: entity \[0, 3\) is not inside the text of length 2"),
        ('{"text": "ab", "entity_types": ["X"], "entity_start_chars": [0]}',
         r"f:1: 'entity_types', 'entity_start_chars' and 'entity_end_chars' must be lists"),
        ('{"sentence": ["a", "b"], "ner": [{"index": [0, 2], "type": "X"}]}',
         r"f:1: entity index \[0, 2\] must be consecutive"),
        ('{"sentence": ["a"], "ner": [[0, 1, "X"]]}', r"f:1: entity tokens 0..1 outside 1 tokens"),
        ('{"words": ["a"]}', r"f:1: expected 'text' with"),
        ("[1]", r"f: record 0: expected a JSON object"),
        ('[{"sentence": ["a"], "ner": [{"index": [0], "type": ""}]}]',
         r"f: record 0: entity type '' must be a non-empty string"),
    ],
)  # fmt: skip
def test_parse_binder_json_bad_records_are_input_errors(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        list(parse_binder_json(text, "f"))


def test_parse_binder_json_broken_line_names_the_line() -> None:
    path = GOLD / "bad.jsonl"
    with pytest.raises(InputError, match=r"bad\.jsonl:2: broken JSON"):
        list(parse_binder_json(path.read_text("utf-8"), str(path)))


def test_binder_jsonl_round_trip_keeps_documents(tmp_path: Path) -> None:
    first = convert_gold([GOLD / "mini_w2ner.json"], tmp_path / "a", ConvertConfig("binder-jsonl"))
    docs = list(iter_documents(first.out_dir))
    write_binder_jsonl(docs, tmp_path / "mini_w2ner.jsonl")
    record = json.loads((tmp_path / "mini_w2ner.jsonl").read_text("utf-8").splitlines()[0])
    assert record["word_start_chars"] == [0, 5, 10, 21, 24, 26]
    assert record["word_end_chars"] == [4, 9, 20, 23, 25, 31]
    again = convert_gold(
        [tmp_path / "mini_w2ner.jsonl"], tmp_path / "b", ConvertConfig("binder-jsonl")
    )
    assert [{**d, "source": ""} for d in iter_documents(again.out_dir)] == [
        {**d, "source": ""} for d in docs
    ]


# ------------------------------------------------------------------------------- convert_gold
def test_convert_gold_writes_contract_shards_and_manifest(tmp_path: Path) -> None:
    result = convert_gold([GOLD / "mini.PubTator.txt"], tmp_path, ConvertConfig("pubtator"))
    shards, meta = open_dataset(tmp_path)
    assert [s.name for s in shards] == ["part-00000-of-00001.parquet"]
    assert meta.labels == ("Chemical", "Disease")
    assert meta.dictionary_fingerprint == ""
    assert meta.extra == {"origin": "gold", "format": "pubtator"}
    assert [d["doc_id"] for d in iter_documents(tmp_path)] == ["100", "200"]
    manifest = json.loads((tmp_path / MANIFEST_NAME).read_text("utf-8"))
    assert manifest == result.manifest
    assert manifest["counts"] == {
        "documents": 2,
        "spans": 5,
        "spans_per_label": {"Chemical": 3, "Disease": 2},
        "spans_dropped_per_label": {},
        "duplicate_spans_removed": 0,
        "duplicate_documents_skipped": 0,
    }
    assert manifest["files"][0]["relations_skipped"] == 1
    assert (manifest["kind"], manifest["schema_version"]) == ("gold", 2)


def test_convert_gold_label_map_and_keep_labels(tmp_path: Path) -> None:
    config = ConvertConfig("pubtator", label_map={"Chemical": "Drug"}, keep_labels=("Drug",))
    result = convert_gold([GOLD / "mini.PubTator.txt"], tmp_path, config)
    assert result.labels == ("Drug",)
    assert result.spans_per_label == {"Drug": 3}
    assert result.manifest["counts"]["spans_dropped_per_label"] == {"Disease": 2}


def test_convert_gold_identical_repeat_is_written_once(tmp_path: Path) -> None:
    shutil.copy(GOLD / "mini.PubTator.txt", tmp_path / "copy.txt")
    result = convert_gold(
        [GOLD / "mini.PubTator.txt", tmp_path / "copy.txt"],
        tmp_path / "out",
        ConvertConfig("pubtator"),
    )
    assert result.documents == 2
    assert result.manifest["counts"]["duplicate_documents_skipped"] == 2


def test_convert_gold_conflicting_repeat_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "other.txt").write_text("100|t|Different text.\n100|a|\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"other\.txt: document id '100' appears twice"):
        convert_gold(
            [GOLD / "mini.PubTator.txt", tmp_path / "other.txt"],
            tmp_path / "o",
            ConvertConfig("pubtator"),
        )


def test_convert_gold_duplicate_spans_are_removed_and_counted(tmp_path: Path) -> None:
    (tmp_path / "d.jsonl").write_text(
        '{"text": "ab", "entity_types": ["X", "X"], "entity_start_chars": [0, 0], '
        '"entity_end_chars": [2, 2]}\n',
        encoding="utf-8",
    )
    result = convert_gold([tmp_path / "d.jsonl"], tmp_path / "o", ConvertConfig("binder-jsonl"))
    assert result.spans_per_label == {"X": 1}
    assert result.manifest["counts"]["duplicate_spans_removed"] == 1


def test_convert_gold_shards_split_in_order_and_stale_shards_go(tmp_path: Path) -> None:
    convert_gold([GOLD / "mini.tsv"], tmp_path, ConvertConfig("conll", num_shards=3))
    assert sorted(p.name for p in tmp_path.glob("*.parquet")) == [
        "part-00000-of-00003.parquet",
        "part-00001-of-00003.parquet",
        "part-00002-of-00003.parquet",
    ]
    result = convert_gold([GOLD / "mini.tsv"], tmp_path, ConvertConfig("conll", num_shards=2))
    assert sorted(p.name for p in tmp_path.glob("*.parquet")) == [
        "part-00000-of-00002.parquet",
        "part-00001-of-00002.parquet",
    ]
    assert [d["doc_id"] for d in iter_documents(tmp_path)] == [
        "mini-00000",
        "mini-00001",
        "mini-00002",
    ]
    assert result.manifest["files"][0]["iob_scheme"] == "iob2"


def test_convert_gold_reads_gzip_and_globs(tmp_path: Path) -> None:
    with gzip.open(tmp_path / "mini.tsv.gz", "wt", encoding="utf-8") as f:
        f.write((GOLD / "mini.tsv").read_text("utf-8"))
    result = convert_gold([str(tmp_path / "*.gz")], tmp_path / "o", ConvertConfig("conll"))
    assert [d["doc_id"] for d in iter_documents(result.out_dir)][:1] == ["mini-00000"]


def test_convert_gold_invalid_utf8_names_the_line(tmp_path: Path) -> None:
    (tmp_path / "x.tsv").write_bytes(b"a\tO\n\xff\tO\n")
    with pytest.raises(InputError, match=r"x\.tsv:2: not valid UTF-8"):
        convert_gold([tmp_path / "x.tsv"], tmp_path / "o", ConvertConfig("conll"))


def test_expand_inputs_missing_file_and_empty_glob_are_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        expand_inputs([tmp_path / "nope.txt"])
    with pytest.raises(InputError, match="glob pattern matches no file"):
        expand_inputs([str(tmp_path / "*.txt")])


@pytest.mark.parametrize(
    "kwargs",
    [
        {"format": "brat"},
        {"format": "conll", "scheme": "bilou"},
        {"format": "conll", "num_shards": 0},
        {"format": "conll", "label_map": {"A": ""}},
    ],
)
def test_convert_config_rejects_bad_options(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        ConvertConfig(**kwargs)


def test_file_stem_strips_only_known_suffixes() -> None:
    assert [file_stem(p) for p in ("a/test.tsv", "eng.testa", "x.jsonl.gz", "t.PubTator.txt")] == [
        "test",
        "eng.testa",
        "x",
        "t.PubTator",
    ]


def test_binder_jsonl_unknown_keys_are_an_error_naming_them(tmp_path: Path) -> None:
    from pipelines.gold.jsonl import parse_binder_json

    path = str(tmp_path / "d.jsonl")
    record = {"id": "d1", "text": "aspirin helps", "entities": [{"start": 0, "end": 7}]}
    message = r"d.jsonl:1: unknown key\(s\) \['entities'\] in a character-form record; the "
    with pytest.raises(InputError, match=message + "accepted keys are"):
        list(parse_binder_json(json.dumps(record), path))
    token = {"sentence": ["IL-2", "gene"], "ner": [{"index": [0], "type": "DNA", "typ": 1}]}
    with pytest.raises(InputError, match=r"unknown key\(s\) \['typ'\] in an 'ner' entity"):
        list(parse_binder_json(json.dumps(token), path))


@pytest.mark.parametrize(
    ("record", "what"),
    [
        (
            {"id": "d1", "text": "caf\u00e9 \ud800 aspirin"},
            r"the text .* \('\\ud800'\) at character 5",
        ),
        ({"id": "\udc00", "text": "aspirin"}, r"the id .* at character 0"),
        (
            {"text": "aspirin", "entity_types": ["Chem\ud800"], "entity_start_chars": [0],
             "entity_end_chars": [7]},
            r"the type .* at character 4",
        ),
    ],
)  # fmt: skip
def test_binder_jsonl_unpaired_surrogates_are_an_error_naming_the_line(
    tmp_path: Path, record: dict[str, object], what: str
) -> None:
    """JSON's "\\ud800" escape decodes to a lone surrogate, which no UTF-8 column can hold."""
    from pipelines.gold.jsonl import parse_binder_json

    with pytest.raises(InputError, match=r"d.jsonl:1: " + what):
        list(parse_binder_json(json.dumps(record), str(tmp_path / "d.jsonl")))
