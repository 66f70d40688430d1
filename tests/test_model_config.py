"""ModelConfig and LossWeights: defaults, validation, dict round trip."""

from __future__ import annotations

import math

import pytest

from binder_core.contract.errors import ConfigError
from binder_core.model.config import LossWeights, ModelConfig


def test_model_config_defaults_and_round_trip() -> None:
    config = ModelConfig(encoder="some/encoder")
    assert config.to_dict() == {
        "encoder": "some/encoder",
        "projection_dim": 128,
        "width_embedding_dim": 128,
        "max_span_width_tokens": 30,
        "dropout": 0.1,
        "attention_dropout": None,
        "init_temperature": 0.07,
        "gradient_checkpointing": False,
    }
    assert ModelConfig.from_dict(config.to_dict()) == config
    assert config.init_logit_scale == pytest.approx(math.log(1 / 0.07))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"encoder": ""}, "encoder must be"),
        ({"encoder": "x", "projection_dim": 0}, "projection_dim must be an integer >= 1"),
        ({"encoder": "x", "attention_dropout": 1.0}, r"attention_dropout must be in \[0, 1\)"),
        ({"encoder": "x", "max_span_width_tokens": 2.5}, "max_span_width_tokens"),
        ({"encoder": "x", "dropout": 1.0}, r"dropout must be in \[0, 1\)"),
        ({"encoder": "x", "init_temperature": 0}, "init_temperature must be a positive"),
        ({"encoder": "x", "gradient_checkpointing": "yes"}, "gradient_checkpointing"),
    ],
)
def test_model_config_rejects_bad_values(options: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        ModelConfig(**options)


def test_model_config_from_dict_rejects_unknown_and_missing_keys() -> None:
    with pytest.raises(ConfigError, match=r"unknown option\(s\) \['hidden'\]"):
        ModelConfig.from_dict({"encoder": "x", "hidden": 3})
    with pytest.raises(ConfigError, match="encoder"):
        ModelConfig.from_dict({"dropout": 0.1})


def test_loss_weights_defaults_and_round_trip() -> None:
    weights = LossWeights()
    assert weights.to_dict() == {
        "start": 0.2,
        "end": 0.2,
        "span": 0.6,
        "mention": 0.5,
        "threshold": 0.5,
    }
    assert LossWeights.from_dict({"span": 1.0}) == LossWeights(span=1.0)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"start": -0.1}, "start must be finite and >= 0"),
        ({"span": float("nan")}, "span must be finite"),
        ({"mention": 0.0, "threshold": 0.0}, "must be positive"),
        ({"end": "0.2"}, "end must be a number"),
    ],
)
def test_loss_weights_reject_bad_values(options: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        LossWeights(**options)
