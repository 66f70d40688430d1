"""What a span marked uncertain becomes: excluded (default), a negative, or a positive; and
the ANY_LABEL span, uncertain for every type."""

from __future__ import annotations

from pathlib import Path

import pytest

from binder_core.contract.errors import ConfigError, InputError
from binder_core.contract.schema import ANY_LABEL, Origin, make_span
from binder_core.data.config import DataConfig
from binder_core.data.windows import (
    TokenSpan,
    WindowMeta,
    build_window,
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


ANY_SPAN = make_span(37, 49, ANY_LABEL, origin=Origin.DICT_UNCERTAIN, uncertain=True)


@pytest.mark.parametrize(("policy", "expected"), [("exclude", 3), ("negative", 1), ("positive", 1)])
def test_document_token_spans_expands_any_label_to_every_type(
    tiny_bert: Path, policy: str, expected: int
) -> None:
    from transformers import AutoTokenizer

    (tokens,) = tokenize_documents([TEXT], AutoTokenizer.from_pretrained(tiny_bert))
    spans = document_token_spans(
        "d1", TEXT, [SPANS[0], ANY_SPAN], tokens, {"Chemical": 0, "Disease": 1},
        uncertain_spans=policy,  # type: ignore[arg-type]
    )  # fmt: skip
    assert len(spans) == expected
    if policy == "exclude":
        chemical, *unsure = spans
        assert [(s.label_id, s.uncertain) for s in unsure] == [(0, True), (1, True)]
        assert unsure[0][1:3] == unsure[1][1:3]
        assert chemical.uncertain is False
        meta = WindowMeta("d1", 0, len(TEXT), 0, 1, 0, 0, len(TEXT), 0)
        window = build_window(tokens, (0, len(tokens.input_ids)), spans, 2, 3, meta)
        start, end = unsure[0].start + 1, unsure[0].end + 1  # window positions (CLS is 0)
        assert window.uncertain_spans.tolist() == [[0, start, end], [1, start, end]]
        assert window.gold_spans.tolist() == [[0, chemical.start + 1, chemical.end + 1]]


def test_document_token_spans_any_label_must_be_uncertain(tiny_bert: Path) -> None:
    from transformers import AutoTokenizer

    (tokens,) = tokenize_documents([TEXT], AutoTokenizer.from_pretrained(tiny_bert))
    certain = make_span(37, 49, ANY_LABEL, origin=Origin.DICT_UNCERTAIN)
    with pytest.raises(InputError, match=r"label '\*' \(every type\) but is not uncertain"):
        document_token_spans("d1", TEXT, [certain], tokens, {"Chemical": 0})
