"""An encoder binder-ner cannot serve is refused when training starts, in one line."""

from __future__ import annotations

import logging
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from typer.testing import CliRunner

from binder_core.contract.errors import ConfigError
from binder_core.data.config import DataConfig
from binder_core.model.encoders import check_encoder, position_limit
from cli.main import app
from tests.encoder_families import (
    bert_tokenizer,
    build_tiny_decoder,
    build_tiny_encoder,
    modernbert_tokenizer,
    roberta_tokenizer,
)
from tests.test_train_loop import write_tiny_data, write_types

runner = CliRunner()
WINDOWS = DataConfig(max_seq_length=128, window_overlap_tokens=8)


@pytest.fixture(scope="module")
def wordpiece() -> Any:
    return bert_tokenizer()


def _config(model_type: str, **values: Any) -> Any:
    from transformers import AutoConfig

    return AutoConfig.for_model(model_type, **values)


@pytest.mark.parametrize(
    ("model_type", "values", "kind"),
    [
        ("gpt2", {}, r"a decoder-only \(causal\) model, whose tokens cannot see the words after"),
        ("llama", {}, r"a decoder-only \(causal\) model"),
        ("bert", {"is_decoder": True}, r"a decoder-only \(causal\) model"),
        ("t5", {}, "an encoder-decoder model; BINDER needs an encoder-only model"),
        ("bart", {}, "an encoder-decoder model"),
        ("vit", {}, "not a text encoder that transformers can fine-tune as one"),
    ],
    ids=["gpt2", "llama", "bert-as-decoder", "t5", "bart", "vit"],
)
def test_check_encoder_refuses_what_is_not_a_bidirectional_text_encoder(
    wordpiece: Any, model_type: str, values: dict[str, Any], kind: str
) -> None:
    config = _config(model_type, **values)
    with pytest.raises(ConfigError, match=rf"^encoder 'my/model' \({model_type}\) is {kind}"):
        check_encoder("my/model", config, wordpiece, WINDOWS)


@pytest.mark.parametrize(
    ("model_type", "values", "limit"),
    [
        ("bert", {"max_position_embeddings": 512}, 512),
        ("electra", {"max_position_embeddings": 128}, 128),
        ("roberta", {"max_position_embeddings": 514, "pad_token_id": 1}, 512),
        ("xlm-roberta", {"max_position_embeddings": 130, "pad_token_id": 1}, 128),
        ("deberta-v2", {"position_biased_input": False}, None),
        ("deberta-v2", {"position_biased_input": True, "max_position_embeddings": 256}, 256),
        ("modernbert", {"max_position_embeddings": 128}, None),
    ],
)
def test_position_limit_of_each_family(
    model_type: str, values: dict[str, Any], limit: int | None
) -> None:
    assert position_limit(_config(model_type, **values)) == limit


def test_check_encoder_refuses_windows_longer_than_the_positions(wordpiece: Any) -> None:
    config = _config("roberta", vocab_size=600, max_position_embeddings=130, pad_token_id=1)
    tokenizer = roberta_tokenizer()
    check_encoder("rob", config, tokenizer, DataConfig(max_seq_length=128))
    with pytest.raises(
        ConfigError,
        match=r"^encoder 'rob' \(roberta\): its position embeddings hold 128 tokens, fewer than "
        r"--max-seq-length 256; pass --max-seq-length 128 or less$",
    ):
        check_encoder("rob", config, tokenizer, DataConfig(max_seq_length=256))
    relative = _config("deberta-v2", vocab_size=600, position_biased_input=False)
    check_encoder("deb", relative, wordpiece, DataConfig(max_seq_length=4096))


def test_check_encoder_refuses_a_tokenizer_of_another_model(wordpiece: Any) -> None:
    largest = max(wordpiece.get_vocab().values())
    with pytest.raises(
        ConfigError,
        match=rf"^encoder 'b' \(bert\): its tokenizer has token ids up to {largest} but the "
        r"encoder embeds only 100; the tokenizer belongs to another model$",
    ):
        check_encoder("b", _config("bert", vocab_size=100), wordpiece, WINDOWS)


def test_check_encoder_refuses_a_tokenizer_that_cannot_frame_windows() -> None:
    config = _config("modernbert", vocab_size=600)
    tokenizer = modernbert_tokenizer()
    check_encoder("m", config, tokenizer, WINDOWS)
    tokenizer.backend_tokenizer.post_processor = None  # no [CLS] x [SEP] template
    with pytest.raises(
        ConfigError,
        match=r"^encoder 'm' \(modernbert\): its tokenizer does not frame a text as \[CLS\] \.\.\. "
        r"\[SEP\] \(it gives \['x'\] for 'x'\); the type encoder reads its vector at the first",
    ):
        check_encoder("m", config, tokenizer, WINDOWS)


def test_check_encoder_refuses_a_tokenizer_without_specials_or_offsets() -> None:
    config = _config("roberta", vocab_size=600)
    tokenizer = roberta_tokenizer()
    tokenizer.pad_token = None
    with pytest.raises(ConfigError, match=r"\(roberta\): its tokenizer has no pad_token; BINDER"):
        check_encoder("r", config, tokenizer, WINDOWS)
    slow = SimpleNamespace(is_fast=False)
    with pytest.raises(
        ConfigError, match=r"its tokenizer \(SimpleNamespace\) is not a fast tokenizer, so it gives"
    ):
        check_encoder("r", config, slow, WINDOWS)


def test_check_encoder_accepts_an_untested_family_with_a_warning(
    wordpiece: Any, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="binder_core.model.encoders"):
        check_encoder("distil", _config("distilbert", vocab_size=600), wordpiece, WINDOWS)
    assert [r.getMessage() for r in caplog.records] == [
        "encoder 'distil' (distilbert) is not among the tested encoder families ['bert', "
        "'roberta', 'xlm-roberta', 'deberta-v2', 'electra', 'modernbert']; it passes the checks, "
        "so training goes on"
    ]


def _train(model: Path, tmp_path: Path, *options: str) -> Any:
    data = write_tiny_data(tmp_path / "data")
    return runner.invoke(
        app,
        ["train", "--train", str(data), "--out", str(tmp_path / "run"), "--model", str(model),
         "--types", str(write_types(tmp_path / "types.json")), "--max-steps", "1", *options],
    )  # fmt: skip


def test_cli_train_decoder_only_model_is_one_line_error(tmp_path: Path) -> None:
    model = build_tiny_decoder(tmp_path / "gpt")
    result = _train(model, tmp_path)
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        f"error: encoder '{model}' (gpt2) is a decoder-only (causal) model, whose tokens cannot "
        "see the words after them; BINDER needs a bidirectional encoder"
    ]
    assert not (tmp_path / "run" / "best").exists()


def test_cli_train_windows_beyond_the_positions_is_one_line_error(tmp_path: Path) -> None:
    model = build_tiny_encoder("roberta", tmp_path / "roberta")  # 130 positions: 128 tokens
    result = _train(model, tmp_path, "--max-seq-length", "256")
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        f"error: encoder '{model}' (roberta): its position embeddings hold 128 tokens, fewer "
        "than --max-seq-length 256; pass --max-seq-length 128 or less"
    ]
