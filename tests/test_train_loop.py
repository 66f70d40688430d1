"""Training loop: overfit a tiny random BERT, save and reload, resume exactly, config checks."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from binder_core.contract.errors import ConfigError
from binder_core.contract.schema import Origin, document_schema, make_span, write_documents
from binder_core.data.config import DataConfig
from binder_core.model.config import ModelConfig

LABELS = ("Chemical", "Disease")
DOCS: list[tuple[str, list[tuple[str, str]]]] = [
    (
        "Famotidine-associated delirium was reported in six patients.",
        [("Famotidine", "Chemical"), ("delirium", "Disease")],
    ),
    (
        "Cisplatin induced nephrotoxicity and hearing loss in mice.",
        [("Cisplatin", "Chemical"), ("nephrotoxicity", "Disease"), ("hearing loss", "Disease")],
    ),
    (
        "The patient received aspirin and developed gastric ulcer.",
        [("aspirin", "Chemical"), ("gastric ulcer", "Disease")],
    ),
    (
        "Lithium carbonate can cause diabetes insipidus.",
        [("Lithium carbonate", "Chemical"), ("diabetes insipidus", "Disease")],
    ),
]
DESCRIPTIONS = {"Chemical": "a chemical substance or drug", "Disease": "a disease or disorder"}


def tiny_documents(
    docs: Sequence[tuple[str, list[tuple[str, str]]]] = DOCS,
) -> list[dict[str, Any]]:
    """Contract documents with gold spans found by surface string."""
    out = []
    for i, (text, mentions) in enumerate(docs):
        spans = []
        for surface, label in mentions:
            start = text.index(surface)
            spans.append(make_span(start, start + len(surface), label, origin=Origin.GOLD))
        out.append({"doc_id": f"d{i}", "text": text, "source": "tiny", "spans": spans})
    return out


def write_tiny_data(directory: Path, docs: list[dict[str, Any]] | None = None) -> Path:
    """A one-shard Parquet data set in ``directory`` (returned)."""
    write_documents(docs or tiny_documents(), directory / "part-00000-of-00001.parquet",
                    document_schema(LABELS))  # fmt: skip
    return directory


def write_types(path: Path) -> Path:
    path.write_text(json.dumps(DESCRIPTIONS))
    return path


def tiny_config(tiny_bert: Path, tmp_path: Path, **overrides: Any) -> Any:
    """A TrainConfig small enough to train in seconds on two CPU cores."""
    from binder_core.training.config import TrainConfig

    data = (
        write_tiny_data(tmp_path / "data")
        if not (tmp_path / "data").exists()
        else tmp_path / "data"
    )
    values: dict[str, Any] = dict(
        train_dir=str(data),
        dev_dir=str(data),
        out_dir=str(tmp_path / "run"),
        model=ModelConfig(
            encoder=str(tiny_bert),
            projection_dim=32,
            width_embedding_dim=16,
            max_span_width_tokens=8,
            dropout=0.0,
        ),
        types_file=str(write_types(tmp_path / "types.json")),
        max_steps=30,
        batch_size=4,
        lr=3e-3,
        head_lr=1e-2,
        warmup_ratio=0.0,
        eval_every=0,
        save_every=0,
        log_every=1,
        seed=7,
        data=DataConfig(max_seq_length=32, window_overlap_tokens=8),
    )
    values.update(overrides)
    return TrainConfig(**values)


def run_to_end(config: Any) -> list[Any]:
    from binder_core.training.loop import train

    return list(train(config))


@pytest.fixture(autouse=True)
def one_thread() -> Any:
    """Tiny models run fastest single-threaded on a shared 2-core machine."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def gold_spans(docs: list[dict[str, Any]]) -> list[list[tuple[int, int, str]]]:
    return [[(s["start"], s["end"], s["label"]) for s in d["spans"]] for d in docs]


def test_train_overfits_and_predicts_training_spans(tiny_bert: Path, tmp_path: Path) -> None:
    from binder_core.inference.torch_backend import Predictor
    from binder_core.model.model_dir import read_model_meta
    from binder_core.training.plots import read_metrics

    config = tiny_config(tiny_bert, tmp_path)
    events = run_to_end(config)
    assert [e.kind for e in events[:2]] == ["start", "step"]
    assert [e.kind for e in events[-2:]] == ["eval", "done"]
    losses = [e.loss for e in events if e.kind == "step"]
    assert len(losses) == 30
    assert losses[-1] < 0.1 * losses[0]
    assert events[-2].metrics["f1"] == 1.0
    assert events[-1].metrics["best_step"] == 30

    run = tmp_path / "run"
    assert sorted(p.name for p in run.iterdir()) == [
        ".binder.lock", "_binder_output.json", "best", "curves.png", "metrics.jsonl",
        "train_config.json",
    ]  # fmt: skip
    records = read_metrics(run / "metrics.jsonl")
    assert [r["step"] for r in records if r["kind"] == "train"] == list(range(1, 31))
    assert [(r["step"], r["f1"]) for r in records if r["kind"] == "eval"] == [(30, 1.0)]
    summary = records[-1]
    assert summary["kind"] == "summary" and summary["step"] == 30
    assert summary["train_tokens"] > 30 * 2 and summary["tokens_per_second"] > 0
    assert summary["peak_rss_mb"] > 50 and summary["eval_seconds"] >= 0
    assert events[-1].metrics["train_tokens"] == summary["train_tokens"]
    _, info = read_model_meta(run / "best")
    assert info.type_descriptions == DESCRIPTIONS and info.step == 30
    assert info.dev["f1"] == 1.0 and info.provenance is not None
    assert info.provenance.train_data == config.train_dir and not info.provenance.silver
    assert (run / "best" / "README.md").is_file()

    docs = tiny_documents()
    texts = [d["text"] for d in docs]
    first = Predictor.from_pretrained(run).predict(texts)
    assert [[(s["start"], s["end"], s["label"]) for s in p] for p in first] == gold_spans(docs)
    assert {s["origin"] for p in first for s in p} == {"model"}
    assert all(0.5 < s["score"] <= 1.0 for p in first for s in p)
    again = Predictor.from_pretrained(run / "best").predict(texts)
    assert again == first


def test_train_resume_gives_the_losses_of_an_uninterrupted_run(
    tiny_bert: Path, tmp_path: Path
) -> None:
    from binder_core.training.checkpoint import list_checkpoints
    from binder_core.training.loop import train
    from binder_core.training.plots import read_metrics

    # batch 3 of 4 documents: 2 micro-batches an epoch, so 8 steps cross 3 epoch boundaries
    common = dict(max_steps=8, batch_size=3, dev_dir=None, model=ModelConfig(
        encoder=str(tiny_bert), projection_dim=32, width_embedding_dim=16,
        max_span_width_tokens=8, dropout=0.2))  # fmt: skip
    whole = run_to_end(tiny_config(tiny_bert, tmp_path, out_dir=str(tmp_path / "a"), **common))
    expected = [e.loss for e in whole if e.kind == "step"]

    killed = tiny_config(tiny_bert, tmp_path, out_dir=str(tmp_path / "b"), save_every=3, **common)
    for event in train(killed):
        if event.kind == "step" and event.step == 5:
            break  # stop mid-run: the newest checkpoint is step 3
    assert [p.name for p in list_checkpoints(tmp_path / "b")] == ["step-00000003"]
    resumed = run_to_end(replace(killed, resume=True))
    assert resumed[0].kind == "start" and resumed[0].step == 3
    assert [e.loss for e in resumed if e.kind == "step"] == expected[3:]
    records = [r for r in read_metrics(tmp_path / "b" / "metrics.jsonl") if r["kind"] == "train"]
    assert [r["step"] for r in records] == list(range(1, 9))
    assert [r["loss"] for r in records] == expected


def test_train_refuses_an_existing_run_without_resume(tiny_bert: Path, tmp_path: Path) -> None:
    run_to_end(tiny_config(tiny_bert, tmp_path, max_steps=1, dev_dir=None))
    with pytest.raises(ConfigError, match="already holds a training run; pass --resume"):
        run_to_end(tiny_config(tiny_bert, tmp_path, max_steps=1, dev_dir=None))


def test_train_resume_refuses_changed_settings(tiny_bert: Path, tmp_path: Path) -> None:
    run_to_end(tiny_config(tiny_bert, tmp_path, max_steps=1, dev_dir=None))
    with pytest.raises(ConfigError, match=r"different settings \['lr'\]"):
        run_to_end(tiny_config(tiny_bert, tmp_path, max_steps=2, dev_dir=None, lr=0.1,
                               resume=True))  # fmt: skip


def test_train_unknown_label_is_a_config_error(tiny_bert: Path, tmp_path: Path) -> None:
    config = tiny_config(tiny_bert, tmp_path, labels=("Gene",))
    with pytest.raises(ConfigError, match=r"unknown entity type\(s\) \['Gene'\]"):
        run_to_end(config)


def test_train_missing_model_is_a_config_error(tmp_path: Path) -> None:
    config = tiny_config(tmp_path / "nope", tmp_path)
    with pytest.raises(ConfigError, match="pass a local Hugging Face model directory"):
        run_to_end(config)


def test_train_config_round_trips_through_json(tiny_bert: Path, tmp_path: Path) -> None:
    from binder_core.training.config import TrainConfig

    config = tiny_config(tiny_bert, tmp_path, labels=("Disease",), patience=2)
    assert TrainConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"batch_size": 0}, "batch_size must be an integer >= 1"),
        ({"lr": 0.0}, "lr must be positive"),
        ({"amp": "fp8"}, r"amp must be one of \['auto', 'bf16', 'fp16', 'no'\]"),
        ({"patience": 2, "dev_dir": None}, "--patience needs --dev"),
        ({"warmup_ratio": 1.0}, r"warmup_ratio must be in \[0, 1\)"),
    ],
)
def test_train_config_rejects_bad_values(
    tiny_bert: Path, tmp_path: Path, overrides: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        tiny_config(tiny_bert, tmp_path, **overrides)


def test_train_config_epoch_limit() -> None:
    from binder_core.training.config import TrainConfig

    model = ModelConfig(encoder="x")
    assert TrainConfig("t", "o", model=model).epoch_limit == 3
    assert TrainConfig("t", "o", model=model, max_steps=5).epoch_limit is None
    assert TrainConfig("t", "o", model=model, max_steps=5, epochs=2).epoch_limit == 2


def test_resolve_amp_on_cpu() -> None:
    import torch

    from binder_core.model.device import resolve_amp

    assert resolve_amp("auto", torch.device("cpu")) is None
    assert resolve_amp("no", torch.device("cpu")) is None
    with pytest.raises(ConfigError, match="--amp fp16 needs a CUDA device"):
        resolve_amp("fp16", torch.device("cpu"))


def test_train_config_reads_a_config_written_before_the_span_width_moved(
    tiny_bert: Path, tmp_path: Path
) -> None:
    from binder_core.training.config import TrainConfig

    config = tiny_config(tiny_bert, tmp_path)
    saved = config.to_dict()
    saved["data"]["max_span_width_tokens"] = 8  # earlier versions kept a copy here
    assert TrainConfig.from_dict(saved) == config
    with pytest.raises(ConfigError, match=r"unknown option\(s\) \['max_span_widht'\]"):
        TrainConfig.from_dict({**config.to_dict(), "max_span_widht": 3})


def test_train_resume_is_exact_with_sampled_and_excluded_negatives(
    tiny_bert: Path, tmp_path: Path
) -> None:
    from binder_core.training.loop import train

    common = dict(max_steps=8, batch_size=3, dev_dir=None, negative_rate=0.3,
                  confident_margin=0.0, confident_after=0.25)  # fmt: skip
    whole = run_to_end(tiny_config(tiny_bert, tmp_path, out_dir=str(tmp_path / "a"), **common))
    expected = [e.loss for e in whole if e.kind == "step"]
    plain = run_to_end(tiny_config(tiny_bert, tmp_path, out_dir=str(tmp_path / "p"),
                                   **{**common, "negative_rate": 1.0}))  # fmt: skip
    assert [e.loss for e in plain if e.kind == "step"] != expected  # the options do something
    killed = tiny_config(tiny_bert, tmp_path, out_dir=str(tmp_path / "b"), save_every=3, **common)
    for event in train(killed):
        if event.kind == "step" and event.step == 5:
            break
    resumed = run_to_end(replace(killed, resume=True))
    assert [e.loss for e in resumed if e.kind == "step"] == expected[3:]


def test_train_fills_silver_defaults_from_the_data_and_saves_them(
    tiny_bert: Path, tmp_path: Path
) -> None:
    from binder_core.training.config import GOLD_DEFAULTS, SILVER_DEFAULTS

    silver_docs = tiny_documents()
    silver = tmp_path / "silver"
    write_documents(silver_docs, silver / "part-00000-of-00001.parquet",
                    document_schema(LABELS, dictionary_fingerprint="f1ng3r"))  # fmt: skip
    config = tiny_config(tiny_bert, tmp_path, train_dir=str(silver), max_steps=2, dev_dir=None)
    assert config.negative_rate is None
    run_to_end(config)
    saved = json.loads((tmp_path / "run" / "train_config.json").read_text())
    plain = {k: v for k, v in SILVER_DEFAULTS.items() if k != "model"}
    assert {k: saved[k] for k in plain} == plain
    assert saved["model"]["attention_dropout"] == SILVER_DEFAULTS["model"]["attention_dropout"]
    assert saved["amp"] in ("auto", "bf16")
    gold = tiny_config(tiny_bert, tmp_path, out_dir=str(tmp_path / "g"), max_steps=2, dev_dir=None)
    run_to_end(gold)
    saved = json.loads((tmp_path / "g" / "train_config.json").read_text())
    assert {k: saved[k] for k in GOLD_DEFAULTS} == GOLD_DEFAULTS
    assert saved["amp"] == "auto" and saved["model"]["attention_dropout"] is None
    # an explicit option wins over the data's default, and resume accepts the filled config
    explicit = replace(config, negative_rate=0.5, out_dir=str(tmp_path / "e"))
    run_to_end(explicit)
    assert json.loads((tmp_path / "e" / "train_config.json").read_text())["negative_rate"] == 0.5
    run_to_end(replace(config, resume=True, max_steps=3))


def test_an_interrupted_run_is_refused_by_readers_until_resumed(
    tiny_bert: Path, tmp_path: Path
) -> None:
    from binder_core.contract.errors import InputError
    from binder_core.contract.markers import read_marker
    from binder_core.inference.torch_backend import Predictor
    from binder_core.training.loop import train

    config = tiny_config(tiny_bert, tmp_path, max_steps=4, save_every=2, dev_dir=None)
    for event in train(config, command="binder train --out run"):
        if event.kind == "step" and event.step == 3:
            break  # as a kill would: the run folder stays marked as being written
    run = Path(config.out_dir)
    assert read_marker(run).status == "writing"  # type: ignore[union-attr]
    with pytest.raises(InputError, match=r"interrupted .* rerun `binder train --out run`"):
        Predictor.from_pretrained(run)
    run_to_end(replace(config, resume=True))
    assert read_marker(run).status == "complete"  # type: ignore[union-attr]
    Predictor.from_pretrained(run)


def test_train_refuses_an_output_folder_inside_its_data(tiny_bert: Path, tmp_path: Path) -> None:
    config = tiny_config(tiny_bert, tmp_path, dev_dir=None)
    with pytest.raises(ConfigError, match="would mix with the input"):
        run_to_end(replace(config, out_dir=str(Path(config.train_dir) / "run")))
    with pytest.raises(ConfigError, match="would mix with the input"):
        run_to_end(replace(config, out_dir=config.train_dir))
