"""The saved-model contract: save_pretrained / from_pretrained, ModelInfo, the model card."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from transformers import AutoTokenizer

from binder_core.contract.errors import ConfigError, InputError
from binder_core.data.config import DataConfig
from binder_core.model.bi_encoder import BinderModel
from binder_core.model.config import ModelConfig
from binder_core.model.model_dir import (
    BEST_DIR,
    CARD_NAME,
    CONFIG_NAME,
    ModelInfo,
    TrainingProvenance,
    read_model_meta,
    resolve_model_dir,
)
from binder_core.model.saved_model import from_pretrained, save_pretrained

TEXT = ["Cisplatin induced nephrotoxicity in mice."]
DESCRIPTIONS = ["a chemical substance or drug", "a disease or disorder"]
INFO = ModelInfo(
    labels=("Chemical", "Disease"),
    type_descriptions={"Chemical": "a chemical substance or drug"},
    data_config=DataConfig(max_seq_length=16, window_overlap_tokens=4),
    decoding="nested",
    step=12,
    dev={"precision": 0.5, "recall": 0.25, "f1": 1 / 3},
    provenance=TrainingProvenance(
        train_data="silver/", dictionary_fingerprint="abc123", manifest_sha256="f00d",
        documents=7, silver=True, command="binder train --train silver/ --out run/",
        silver_options={"abbreviations": True, "composite_mentions": True, "shards": 4},
    ),
)  # fmt: skip


@pytest.fixture(scope="module")
def model(tiny_bert: Path) -> BinderModel:
    torch.manual_seed(0)
    config = ModelConfig(
        encoder=str(tiny_bert), projection_dim=16, width_embedding_dim=8, max_span_width_tokens=4
    )
    return BinderModel.from_pretrained_encoder(config).eval()


def _scores(model: BinderModel, tokenizer: object) -> tuple[torch.Tensor, ...]:
    text = tokenizer(TEXT, return_tensors="pt")  # type: ignore[operator]
    types = tokenizer(DESCRIPTIONS, padding=True, return_tensors="pt")  # type: ignore[operator]
    with torch.no_grad():
        vectors = model.encode_types(types["input_ids"], types["attention_mask"])
        return tuple(model(text["input_ids"], text["attention_mask"], vectors))


def test_model_info_round_trips_and_fills_missing_descriptions() -> None:
    assert ModelInfo.from_dict(INFO.to_dict()) == INFO
    assert INFO.type_descriptions == {
        "Chemical": "a chemical substance or drug",
        "Disease": "Disease",
    }
    with pytest.raises(ConfigError, match="unknown option"):
        ModelInfo.from_dict({**INFO.to_dict(), "lables": ["x"]})
    with pytest.raises(ConfigError, match="decoding"):
        ModelInfo(labels=("A",), type_descriptions={}, decoding="overlapping")  # type: ignore[arg-type]


def test_save_pretrained_and_from_pretrained_give_identical_scores(
    model: BinderModel, tiny_bert: Path, tmp_path: Path
) -> None:
    tokenizer = AutoTokenizer.from_pretrained(tiny_bert)
    out = save_pretrained(model, tokenizer, INFO, tmp_path / "run" / BEST_DIR)
    loaded = from_pretrained(tmp_path / "run")  # a run folder resolves to its best/
    assert loaded.path == out
    assert loaded.info == INFO
    assert loaded.model.config == model.config
    assert not loaded.model.training
    for a, b in zip(
        _scores(model, tokenizer), _scores(loaded.model, loaded.tokenizer), strict=True
    ):
        assert torch.equal(a, b)
    assert not [p.name for p in (tmp_path / "run").iterdir() if p.name.startswith(".")]


def test_model_card_names_labels_encoder_data_scores_and_command(
    model: BinderModel, tiny_bert: Path, tmp_path: Path
) -> None:
    save_pretrained(model, AutoTokenizer.from_pretrained(tiny_bert), INFO, tmp_path)
    card = (tmp_path / CARD_NAME).read_text()
    assert "| Chemical | a chemical substance or drug |" in card
    assert "| Disease | Disease |" in card
    assert f"encoder: `{tiny_bert}`" in card
    assert "`silver/`: silver (dictionary) labels" in card and "documents: 7" in card
    assert "dictionary fingerprint: `abc123`" in card and "manifest sha256: `f00d`" in card
    assert "f1 0.3333 · precision 0.5000 · recall 0.2500" in card
    assert "binder train --train silver/ --out run/" in card
    assert "decoding: nested" in card and "training step of these weights: 12" in card


def test_a_model_directory_written_before_model_info_still_loads(
    model: BinderModel, tiny_bert: Path, tmp_path: Path
) -> None:
    # the layout of earlier versions: the span width inside data_config, no provenance, no card
    save_pretrained(model, AutoTokenizer.from_pretrained(tiny_bert), INFO, tmp_path)
    (tmp_path / CARD_NAME).unlink()
    meta = json.loads((tmp_path / CONFIG_NAME).read_text())
    extra = meta["extra"]
    del extra["provenance"]
    extra["data_config"]["max_span_width_tokens"] = 4
    (tmp_path / CONFIG_NAME).write_text(json.dumps(meta))
    loaded = from_pretrained(tmp_path)
    assert loaded.info.provenance is None
    assert loaded.info.data_config == INFO.data_config
    assert loaded.info.labels == INFO.labels


def test_from_pretrained_refuses_what_is_not_a_model(
    model: BinderModel, tiny_bert: Path, tmp_path: Path
) -> None:
    with pytest.raises(InputError, match="no saved model here"):
        from_pretrained(tmp_path / "nope")
    with pytest.raises(InputError, match="no saved model here"):
        from_pretrained(tiny_bert)
    save_pretrained(model, AutoTokenizer.from_pretrained(tiny_bert), INFO, tmp_path / "m")
    config_file = tmp_path / "m" / CONFIG_NAME
    meta = json.loads(config_file.read_text())
    config_file.write_text(json.dumps({**meta, "format_version": 99}))
    with pytest.raises(ConfigError, match="format version 99"):
        from_pretrained(tmp_path / "m")
    config_file.write_text(json.dumps({**meta, "extra": {"labels": []}}))
    with pytest.raises(InputError, match="invalid model config"):
        from_pretrained(tmp_path / "m")
    config_file.write_text(json.dumps(meta))
    (tmp_path / "m" / "model.safetensors").write_bytes(b"\x00" * 16)
    with pytest.raises(InputError, match="unreadable weights"):
        from_pretrained(tmp_path / "m")


def test_model_dir_reads_metadata_without_torch(
    model: BinderModel, tiny_bert: Path, tmp_path: Path
) -> None:
    save_pretrained(model, AutoTokenizer.from_pretrained(tiny_bert), INFO, tmp_path)
    assert resolve_model_dir(tmp_path) == tmp_path
    assert read_model_meta(tmp_path) == (model.config, INFO)
    code = (
        "import sys; from binder_core.model.model_dir import read_model_meta; "
        f"c, i = read_model_meta({str(tmp_path)!r}); "
        "assert i.labels == ('Chemical', 'Disease'); assert 'torch' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_hybrid_dictionary_side_labels_as_the_training_silver_was_labelled(
    model: BinderModel, tiny_bert: Path, tmp_path: Path
) -> None:
    """A model trained on silver written with --name-label PER: the dictionary side of its
    hybrid widens names too (the options come from the model's provenance)."""
    from cli.model_cmd import _tagger
    from dictionaries import Entry, compile_dictionary, save_compiled

    people = tmp_path / "people.dict"
    save_compiled(compile_dictionary([Entry("Andy", "PER", "", "test", "exact")]), people)
    text = "Andy Caddick bowled."
    tokenizer = AutoTokenizer.from_pretrained(tiny_bert)
    for options, expected in (
        ({"name_labels": ["PER"], "shards": 2}, "Andy Caddick"),
        ({}, "Andy"),
    ):
        info = ModelInfo(
            labels=("PER",),
            type_descriptions={},
            provenance=TrainingProvenance(silver=True, silver_options=options),
        )
        run = tmp_path / f"run{len(options)}"
        save_pretrained(model, tokenizer, info, run)
        (span,) = _tagger(people, run)(text)
        assert text[span["start"] : span["end"]] == expected
