"""What a span marked uncertain becomes: excluded (default), a negative, or a positive."""

from __future__ import annotations

from pathlib import Path

import pytest

from binder_core.config import DataConfig
from binder_core.errors import ConfigError
from binder_core.schema import Origin, make_span
from binder_core.windows import (
    TokenSpan,
    document_token_spans,
    tokenize_documents,
)

TEXT = "Cisplatin induced nephrotoxicity and hearing loss in mice."
SPANS = [
    make_span(0, 9, "Chemical", origin=Origin.DICT_EXACT),
    make_span(18, 32, "Disease", origin=Origin.DICT_FUZZY, uncertain=True),
]


@pytest.mark.parametrize(
    ("policy", "expected_uncertain"),
    [("exclude", [False, True]), ("positive", [False, False]), ("negative", [False])],
)
def test_document_token_spans_applies_the_uncertain_policy(
    tiny_bert: Path, policy: str, expected_uncertain: list[bool]
) -> None:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_bert)
    (tokens,) = tokenize_documents([TEXT], tokenizer)
    spans = document_token_spans(
        "d1", TEXT, SPANS, tokens, {"Chemical": 0, "Disease": 1}, uncertain_spans=policy
    )  # type: ignore[arg-type]
    assert [s.uncertain for s in spans] == expected_uncertain
    assert all(isinstance(s, TokenSpan) for s in spans)
    assert [s.label_id for s in spans] == [0, 1][: len(expected_uncertain)]


def test_data_config_uncertain_policy_is_validated_and_round_trips() -> None:
    config = DataConfig(uncertain_spans="negative")
    assert DataConfig.from_dict(config.to_dict()) == config
    with pytest.raises(ConfigError, match="uncertain_spans"):
        DataConfig(uncertain_spans="maybe")  # type: ignore[arg-type]
