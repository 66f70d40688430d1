"""Type descriptions: file formats, fallbacks, shipped files and type-encoder inputs."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

from binder_core.contract.errors import ConfigError, InputError
from binder_core.data.type_descriptions import (
    builtin_type_descriptions,
    load_type_descriptions,
    read_type_descriptions,
    resolve_type_descriptions,
)
from binder_core.model.type_inputs import TypeInputs, build_type_inputs


@pytest.fixture(scope="module")
def tokenizer(tiny_bert: Path) -> Any:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_bert)


def test_read_type_descriptions_json_yaml_jsonl(tmp_path: Path) -> None:
    expected = {"Chemical": "a chemical substance or drug", "Disease": "a disease or disorder"}
    (tmp_path / "t.json").write_text(json.dumps(expected))
    (tmp_path / "t.yaml").write_text(
        "Chemical: a chemical substance or drug\nDisease: '  a disease or disorder '\n"
    )
    (tmp_path / "t.jsonl").write_text(
        "\n".join(
            json.dumps({"dataset": "x", "name": k, "description": v}) for k, v in expected.items()
        )
        + "\n\n"
    )
    for name in ("t.json", "t.yaml", "t.jsonl"):
        assert read_type_descriptions(tmp_path / name) == expected


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("bad.json", "{", "not valid JSON/YAML"),
        ("bad.jsonl", '{"name": "A", "description": "a"}\n{oops', "bad.jsonl:2: not a JSON line"),
        ("list.json", '["a", "b"]', "expected a mapping"),
        ("empty.json", '{"A": ""}', "type 'A': the description must be a non-empty string"),
    ],
)
def test_read_type_descriptions_rejects_bad_files(
    tmp_path: Path, name: str, content: str, message: str
) -> None:
    (tmp_path / name).write_text(content)
    with pytest.raises(InputError, match=message):
        read_type_descriptions(tmp_path / name)


def test_load_type_descriptions_falls_back_to_names(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "t.json"
    path.write_text(json.dumps({"Disease": "a disease", "Gene": "a gene"}))
    with caplog.at_level(logging.WARNING, logger="binder_core.data.type_descriptions"):
        got = load_type_descriptions(path, ["Chemical", "Disease"])
    assert got == {"Chemical": "Chemical", "Disease": "a disease"}
    assert list(got) == ["Chemical", "Disease"]
    assert "['Chemical']" in caplog.text
    assert load_type_descriptions(None, ["X"]) == {"X": "X"}


def test_load_type_descriptions_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="type-description file not found"):
        load_type_descriptions(tmp_path / "nope.json", ["A"])
    with pytest.raises(ConfigError, match="no entity types"):
        load_type_descriptions(None, [])


def test_builtin_type_descriptions_cover_their_data_sets() -> None:
    builtin = builtin_type_descriptions()
    expected = {
        "bc5cdr": ["Chemical", "Disease"],
        "ncbi_disease": ["Disease"],
        "conll2003": ["PER", "ORG", "LOC", "MISC"],
        "genia": ["DNA", "RNA", "protein", "cell_line", "cell_type"],
    }
    assert set(expected) <= set(builtin)
    for name, labels in expected.items():
        assert list(read_type_descriptions(builtin[name])) == labels
        assert resolve_type_descriptions(name) == builtin[name]


def test_resolve_type_descriptions_prefers_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "bc5cdr"
    path.write_text("{}")
    assert resolve_type_descriptions(path) == path
    with pytest.raises(InputError, match="no shipped one of that name"):
        resolve_type_descriptions(tmp_path / "missing.json")


def test_build_type_inputs_shapes_and_special_tokens(tokenizer: Any) -> None:
    labels = ["Chemical", "Disease"]
    descriptions = {"Chemical": "a chemical substance or drug", "Disease": "a disease"}
    inputs = build_type_inputs(tokenizer, labels, descriptions, max_length=5)
    assert isinstance(inputs, TypeInputs)
    assert inputs.labels == ("Chemical", "Disease")
    assert inputs.type_input_ids.shape == inputs.type_attention_mask.shape == (2, 5)
    assert inputs.type_input_ids[:, 0].tolist() == [tokenizer.cls_token_id] * 2
    assert inputs.type_input_ids[0, -1] == tokenizer.sep_token_id  # truncated to max_length
    disease = tokenizer("a disease")["input_ids"]
    assert inputs.type_input_ids[1, : len(disease)].tolist() == disease
    assert inputs.type_attention_mask[1].tolist() == [1] * len(disease) + [0] * (5 - len(disease))


def test_build_type_inputs_rejects_duplicates(tokenizer: Any) -> None:
    with pytest.raises(ConfigError, match="duplicate entity types"):
        build_type_inputs(tokenizer, ["A", "A"], {})


def test_build_type_inputs_pads_right_whatever_the_tokenizer_says(tiny_bert: Path) -> None:
    """The type vector is read at position 0: a tokenizer that pads on the left must not move
    the CLS token of a short description."""
    from transformers import AutoTokenizer

    left = AutoTokenizer.from_pretrained(tiny_bert, padding_side="left")
    assert left.padding_side == "left"
    descriptions = {"Chemical": "a chemical substance or drug", "Disease": "a disease"}
    inputs = build_type_inputs(left, ["Chemical", "Disease"], descriptions)
    chemical, disease = (left(text)["input_ids"] for text in descriptions.values())
    assert inputs.type_input_ids.tolist() == [
        chemical,
        disease + [left.pad_token_id] * (len(chemical) - len(disease)),
    ]
    assert inputs.type_attention_mask[1].tolist() == [1] * len(disease) + [0] * (
        len(chemical) - len(disease)
    )
