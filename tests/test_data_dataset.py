"""ParquetWindowDataset: schema check, labels, sharding across workers and ranks, shuffling."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from torch.utils.data import DataLoader

from binder_core.contract.errors import ConfigError, InputError, SchemaError
from binder_core.contract.schema import (
    Origin,
    document_schema,
    documents_to_table,
    make_span,
    write_documents,
)
from binder_core.data.collate import collate
from binder_core.data.config import DataConfig
from binder_core.data.dataset import ParquetWindowDataset, ShardBy
from tests.conftest import TINY_CORPUS

LABELS = ("Chemical", "Disease")
MENTIONS = {
    "Famotidine": "Chemical", "delirium": "Disease", "Cisplatin": "Chemical",
    "nephrotoxicity": "Disease", "hearing loss": "Disease", "aspirin": "Chemical",
    "gastric ulcer": "Disease", "Acute renal failure": "Disease", "gentamicin": "Chemical",
    "Lithium carbonate": "Chemical", "diabetes insipidus": "Disease", "Haloperidol": "Chemical",
    "dyskinesia": "Disease", "breast cancer": "Disease", "Hypertension": "Disease",
    "hypokalemia": "Disease", "Naloxone": "Chemical", "morphine": "Chemical",
    "Caffeine": "Chemical",
}  # fmt: skip
WIDTH = 30  # the model's span band


def _dataset(*args: Any, **kwargs: Any) -> ParquetWindowDataset:
    kwargs.setdefault("max_span_width_tokens", WIDTH)
    return ParquetWindowDataset(*args, **kwargs)


SMALL = DataConfig(max_seq_length=16, window_overlap_tokens=6, shuffle_buffer_size=4, seed=3)


def _document(doc_id: str, text: str, uncertain: frozenset[str] = frozenset()) -> dict[str, Any]:
    spans = []
    for surface, label in MENTIONS.items():
        start = text.find(surface)
        while start >= 0:
            spans.append(
                make_span(start, start + len(surface), label, origin=Origin.GOLD,
                          uncertain=surface in uncertain)
            )  # fmt: skip
            start = text.find(surface, start + 1)
    return {"doc_id": doc_id, "text": text, "source": "test", "spans": spans}


def _documents() -> list[dict[str, Any]]:
    docs = [_document(f"s{i}", text) for i, text in enumerate(TINY_CORPUS)]
    docs.append(_document("long", " ".join(TINY_CORPUS[:6]), uncertain=frozenset({"aspirin"})))
    docs.append(_document("empty", ""))
    return docs


@pytest.fixture(scope="module")
def tokenizer(tiny_bert: Path) -> Any:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_bert)


@pytest.fixture(scope="module")
def shards(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three shards of the tiny corpus, plus a long document and an empty one."""
    out = tmp_path_factory.mktemp("shards")
    docs = _documents()
    schema = document_schema(LABELS)
    for i in range(3):
        write_documents(docs[i::3], out / f"part-{i:05d}-of-00003.parquet", schema)
    return out


@pytest.fixture(scope="module")
def small_row_groups(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same documents in two shards with row groups of two rows."""
    out = tmp_path_factory.mktemp("row_groups")
    docs = _documents()
    schema = document_schema(LABELS)
    for i in range(2):
        table = documents_to_table(docs[i::2], schema)
        pq.write_table(table, out / f"part-{i:05d}-of-00002.parquet", row_group_size=2)
    return out


def _keys(dataset: Any) -> list[tuple[str, int]]:
    return [(w.meta.doc_id, w.meta.window_in_doc) for w in dataset]


def test_dataset_reads_labels_from_metadata(shards: Path, tokenizer: Any) -> None:
    dataset = _dataset(shards, tokenizer, SMALL, shuffle=False)
    assert dataset.labels == LABELS
    explicit = _dataset(shards, tokenizer, SMALL, labels=["Disease", "Chemical"])
    assert explicit.label_ids == {"Disease": 0, "Chemical": 1}


def test_dataset_rejects_foreign_parquet(tmp_path: Path, tokenizer: Any) -> None:
    pq.write_table(pa.table({"text": ["a"]}), tmp_path / "x.parquet")
    with pytest.raises(SchemaError, match="not a binder-ner Parquet file"):
        _dataset(tmp_path, tokenizer, SMALL)


def test_dataset_requires_labels(tmp_path: Path, tokenizer: Any) -> None:
    write_documents([], tmp_path / "a.parquet", document_schema([]))
    with pytest.raises(ConfigError, match="names no entity types"):
        _dataset(tmp_path, tokenizer, SMALL)


def test_dataset_unknown_label_names_document(shards: Path, tokenizer: Any) -> None:
    dataset = _dataset(shards, tokenizer, SMALL, labels=["Disease"], shuffle=False)
    with pytest.raises(InputError, match="document 's0': span label 'Chemical'"):
        list(dataset)
    ignoring = DataConfig(max_seq_length=16, window_overlap_tokens=6, unknown_labels="ignore")
    dataset = _dataset(shards, tokenizer, ignoring, labels=["Disease"], shuffle=False)
    assert all((w.gold_spans[:, 0] == 0).all() for w in dataset)


def test_dataset_gold_spans_map_back_to_surfaces(shards: Path, tokenizer: Any) -> None:
    docs = {d["doc_id"]: d for d in _documents()}
    dataset = _dataset(shards, tokenizer, SMALL, shuffle=False)
    windows = list(dataset)
    batch, meta = collate(windows, dataset.num_labels, WIDTH, 0)
    recovered: set[tuple[str, int, int, str]] = set()
    for b, k, s, w in batch["span_labels"].nonzero().tolist():
        e = s + w  # band cell (start, width offset)
        start, end = int(batch["offsets"][b, s, 0]), int(batch["offsets"][b, e, 1])
        recovered.add((meta[b].doc_id, start, end, LABELS[k]))
        assert docs[meta[b].doc_id]["text"][start:end] in MENTIONS
    expected = {
        (d["doc_id"], s["start"], s["end"], s["label"])
        for d in docs.values()
        for s in d["spans"]
        if not s["uncertain"]
    }
    assert recovered == expected  # every certain span is whole in some window


def test_dataset_uncertain_spans_fill_uncertain_masks(shards: Path, tokenizer: Any) -> None:
    dataset = _dataset(shards, tokenizer, SMALL, shuffle=False)
    windows = [w for w in dataset if w.meta.doc_id == "long"]
    batch, _ = collate(windows, dataset.num_labels, WIDTH, 0)
    text = _documents()[-2]["text"]
    surfaces = {
        text[int(batch["offsets"][b, s, 0]) : int(batch["offsets"][b, s + w, 1])]
        for b, k, s, w in batch["span_uncertain"].nonzero().tolist()
        if LABELS[k] == "Chemical"
    }
    assert surfaces == {"aspirin"}
    assert batch["start_uncertain"][:, 0].any() and batch["end_uncertain"][:, 0].any()
    assert not (batch["span_uncertain"] & batch["span_labels"]).any()


def test_dataset_wide_gold_spans_are_counted_and_left_out_of_span_positives(
    tmp_path: Path, tokenizer: Any, caplog: pytest.LogCaptureFixture
) -> None:
    # "Acute renal failure" is 3 tokens, wider than the band of 2; "gentamicin" is 1 token.
    write_documents(
        [_document("d", TINY_CORPUS[3])], tmp_path / "a.parquet", document_schema(LABELS)
    )
    config = DataConfig(max_seq_length=32, window_overlap_tokens=4)
    dataset = _dataset(tmp_path, tokenizer, config, shuffle=False, max_span_width_tokens=2)
    with caplog.at_level("WARNING", logger="binder_core.data.dataset"):
        windows = list(dataset)
        assert len(list(dataset)) == len(windows)  # a second pass: no second warning
    assert dataset.wide_gold_spans == 1
    warnings = [r.getMessage() for r in caplog.records if r.name == "binder_core.data.dataset"]
    assert len(warnings) == 1
    assert (
        "1 gold span(s) in the 1 windows read are wider than max_span_width_tokens = 2"
        in (warnings[0])
    )
    batch, _ = collate(windows, dataset.num_labels, 2, 0)
    text, offsets = TINY_CORPUS[3], batch["offsets"][0]

    def surfaces(cells: list[list[int]], span: bool = False) -> list[str]:
        if span:
            return [text[offsets[i, 0] : offsets[i + w, 1]] for _, i, w in cells]
        return [text[offsets[i, 0] : offsets[i, 1]] for _, i in cells]

    assert surfaces(batch["span_labels"][0].nonzero().tolist(), span=True) == ["gentamicin"]
    assert surfaces(batch["start_labels"][0].nonzero().tolist()) == ["gentamicin", "Acute"]
    assert surfaces(batch["end_labels"][0].nonzero().tolist()) == ["gentamicin", "failure"]


@pytest.mark.parametrize("shard_by", ["document", "window", "row_group"])
def test_dataset_readers_partition_windows(
    small_row_groups: Path, tokenizer: Any, shard_by: ShardBy
) -> None:
    dataset = _dataset(small_row_groups, tokenizer, SMALL, shuffle=False, shard_by=shard_by)
    everything = _keys(dataset.iter_windows())
    parts = [_keys(dataset.iter_windows(reader, 4)) for reader in range(4)]
    assert all(parts)
    union = Counter(key for part in parts for key in part)
    assert union == Counter(everything) and max(union.values()) == 1
    sharded = [w.meta for r in range(4) for w in dataset.iter_windows(r, 4)]
    assert len({m.window_index for m in sharded}) == len(sharded)
    doc_index = {w.meta.doc_id: w.meta.doc_index for w in dataset.iter_windows()}
    assert sorted(doc_index.values()) == list(range(len(_documents())))
    assert all(doc_index[m.doc_id] == m.doc_index for m in sharded)
    assert dataset.count_windows() == len(everything)
    if shard_by == "window":
        stream = {key: i for i, key in enumerate(everything)}
        for reader in range(4):
            for w in dataset.iter_windows(reader, 4):
                assert w.meta.window_index == stream[(w.meta.doc_id, w.meta.window_in_doc)]


def test_dataset_two_workers_two_ranks_partition_exactly(shards: Path, tokenizer: Any) -> None:
    seen: Counter[tuple[str, int]] = Counter()
    for rank in range(2):
        dataset = _dataset(shards, tokenizer, SMALL, shuffle=True, rank=rank, world_size=2)
        loader = DataLoader(dataset, batch_size=3, num_workers=2, collate_fn=dataset.collate_fn())
        for batch, meta in loader:
            assert batch["input_ids"].shape[0] == len(meta)
            seen.update((m.doc_id, m.window_in_doc) for m in meta)
    everything = _keys(_dataset(shards, tokenizer, SMALL, shuffle=False))
    assert seen == Counter(everything) and max(seen.values()) == 1


def test_dataset_shuffle_is_deterministic_per_epoch(shards: Path, tokenizer: Any) -> None:
    dataset = _dataset(shards, tokenizer, SMALL, shuffle=True)
    first = _keys(dataset)
    assert _keys(dataset) == first
    dataset.set_epoch(1)
    second = _keys(dataset)
    assert second != first
    again = _dataset(shards, tokenizer, SMALL, shuffle=True)
    again.set_epoch(1)
    assert _keys(again) == second
    ordered = _keys(_dataset(shards, tokenizer, SMALL, shuffle=False))
    assert sorted(first) == sorted(second) == sorted(ordered)
    doc_order = list(dict.fromkeys(doc_id for doc_id, _ in ordered))
    assert doc_order == [
        "s0",
        "s3",
        "s6",
        "s9",
        "s1",
        "s4",
        "s7",
        "long",
        "s2",
        "s5",
        "s8",
        "empty",
    ]
    long_windows = [i for doc_id, i in ordered if doc_id == "long"]
    assert len(long_windows) > 2 and long_windows == list(range(len(long_windows)))


def test_dataset_rejects_bad_rank(shards: Path, tokenizer: Any) -> None:
    with pytest.raises(ConfigError, match="rank 2 is not in"):
        _dataset(shards, tokenizer, SMALL, rank=2, world_size=2)


def test_dataset_keeps_a_share_of_empty_windows_the_same_on_every_pass(
    tmp_path: Path, tokenizer: Any
) -> None:
    docs = [_document(f"e{i}", "Nothing to see here at all.") for i in range(40)]
    docs.append(_document("full", "Cisplatin"))
    write_documents(docs, tmp_path / "a.parquet", document_schema(LABELS))
    every = set(_keys(_dataset(tmp_path, tokenizer, SMALL, shuffle=False)))
    none = set(_keys(_dataset(tmp_path, tokenizer, SMALL, shuffle=False, keep_empty_windows=0)))
    assert {doc for doc, _ in none} == {"full"}
    some = _dataset(tmp_path, tokenizer, SMALL, shuffle=False, keep_empty_windows=0.5)
    first, again = set(_keys(some)), set(_keys(some))
    assert first == again and none < first < every
    assert 0.3 < len(first - none) / len(every - none) < 0.7
    some.set_epoch(1)
    assert set(_keys(some)) != first  # drawn afresh each epoch
    with pytest.raises(ConfigError, match="keep_empty_windows"):
        _dataset(tmp_path, tokenizer, SMALL, keep_empty_windows=1.5)


def test_group_by_length_makes_batches_of_similar_length() -> None:
    import numpy as np

    from binder_core.data.dataset import group_by_length

    def window(n: int) -> Any:
        return type("W", (), {"input_ids": list(range(n))})()

    lengths = [9, 1, 7, 3, 8, 2, 6, 4, 5, 10, 11]
    rng = np.random.default_rng(0)
    out = [len(w.input_ids) for w in group_by_length(map(window, lengths), 2, 4, rng)]
    assert sorted(out) == sorted(lengths)
    first_group = sorted(lengths[:8])
    batches = [tuple(out[i : i + 2]) for i in range(0, 8, 2)]
    assert sorted(batches) == [tuple(first_group[i : i + 2]) for i in range(0, 8, 2)]
    assert out[8:] in ([5, 10, 11], [11, 5, 10])  # the last, short group: [5, 10] and [11]
    assert [len(w.input_ids) for w in group_by_length(map(window, lengths), 2, 1, rng)] == lengths


def test_dataset_length_groups_keep_every_window(shards: Path, tokenizer: Any) -> None:
    plain = _dataset(shards, tokenizer, SMALL, shuffle=True)
    grouped = _dataset(shards, tokenizer, SMALL, shuffle=True, length_groups=(2, 3))
    assert sorted(_keys(grouped)) == sorted(_keys(plain))
    assert _keys(grouped) == _keys(grouped)  # the same order on every pass of an epoch
