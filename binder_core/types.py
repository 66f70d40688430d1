"""Entity-type descriptions: the text the type encoder reads for each label.

A description file maps a type name to a sentence, as JSON (``{"Disease": "a disease ..."}``),
YAML (the same mapping), or JSON Lines of ``{"name": ..., "description": ...}`` objects (the
format of BINDER's ``entity_types.json``). Files for common data sets ship in
``binder_core/type_descriptions/``; :func:`resolve_type_descriptions` finds them by name.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any, NamedTuple

import torch
import yaml

from binder_core.errors import ConfigError, InputError

_LOG = logging.getLogger(__name__)

BUILTIN_PACKAGE = "binder_core.type_descriptions"


class TypeInputs(NamedTuple):
    """Tokenized type descriptions, one row per label. K types, T tokens."""

    type_input_ids: torch.Tensor  # (K, T) long, CLS at position 0
    type_attention_mask: torch.Tensor  # (K, T) long
    labels: tuple[str, ...]


def builtin_type_descriptions() -> dict[str, Path]:
    """The shipped description files by name (``bc5cdr`` -> ``.../bc5cdr.json``)."""
    root = resources.files(BUILTIN_PACKAGE)
    return {
        Path(entry.name).stem: Path(str(entry))
        for entry in root.iterdir()
        if entry.name.endswith((".json", ".yaml", ".yml", ".jsonl"))
    }


def resolve_type_descriptions(name_or_path: str | os.PathLike[str]) -> Path:
    """A path to a description file: an existing file, else a shipped file of that name."""
    path = Path(name_or_path)
    if path.is_file():
        return path
    builtin = builtin_type_descriptions()
    if str(name_or_path) in builtin:
        return builtin[str(name_or_path)]
    raise InputError(
        f"no such type-description file, and no shipped one of that name "
        f"(shipped: {sorted(builtin)})",
        path=str(name_or_path),
    )


def read_type_descriptions(path: str | os.PathLike[str]) -> dict[str, str]:
    """Every ``name -> description`` in a JSON, YAML or JSON Lines file, in file order."""
    p = Path(path)
    if not p.is_file():
        raise InputError("type-description file not found", path=str(p))
    text = p.read_text(encoding="utf-8")
    if p.suffix == ".jsonl":
        data: Any = []
        for number, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                try:
                    data.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise InputError(
                        f"not a JSON line ({exc.msg})", path=str(p), line=number
                    ) from None
    else:
        try:
            data = json.loads(text) if p.suffix == ".json" else yaml.safe_load(text)
        except (json.JSONDecodeError, yaml.YAMLError) as exc:
            raise InputError(f"not valid JSON/YAML ({exc})".splitlines()[0], path=str(p)) from None
    return _as_mapping(data, p)


def _as_mapping(data: Any, path: Path) -> dict[str, str]:
    """Accept ``{name: description}`` or ``[{"name": ..., "description": ...}, ...]``."""
    if isinstance(data, list) and all(
        isinstance(item, Mapping) and {"name", "description"} <= set(item) for item in data
    ):
        data = {item["name"]: item["description"] for item in data}
    if not isinstance(data, Mapping):
        raise InputError(
            "expected a mapping of type name to description, or a list of "
            '{"name": ..., "description": ...} objects',
            path=str(path),
        )
    for name, description in data.items():
        if not isinstance(description, str) or not description.strip():
            raise InputError(
                f"type {name!r}: the description must be a non-empty string", path=str(path)
            )
    return {str(name): description.strip() for name, description in data.items()}


def load_type_descriptions(
    path: str | os.PathLike[str] | None, labels: Sequence[str]
) -> dict[str, str]:
    """One description per label, in label order.

    A label the file does not describe (or every label, when ``path`` is None) falls back to
    its own name, with a logged warning. Types in the file that are not labels are ignored.
    """
    if not labels:
        raise ConfigError("no entity types: give the types explicitly or use labelled data")
    described = read_type_descriptions(path) if path is not None else {}
    missing = [label for label in labels if label not in described]
    if missing:
        where = f"in {path}" if path is not None else "(no description file given)"
        _LOG.warning("no description %s for types %s; using their names", where, missing)
    return {label: described.get(label, label) for label in labels}


def build_type_inputs(
    tokenizer: Any,
    labels: Sequence[str],
    descriptions: Mapping[str, str],
    max_length: int = 64,
) -> TypeInputs:
    """Tokenize each label's description with the model's special tokens, padded to the longest.

    Padding is always on the right, whatever the tokenizer's ``padding_side``: the type vector
    is read at position 0, which must be the CLS token of every row.
    Returns type_input_ids (K, T) and type_attention_mask (K, T), T <= max_length.
    """
    if not labels:
        raise ConfigError("no entity types to encode")
    if len(set(labels)) != len(labels):
        raise ConfigError(f"duplicate entity types in {list(labels)}")
    rows = tokenizer(
        [descriptions.get(label, label) for label in labels],
        truncation=True,
        max_length=max_length,
        return_attention_mask=False,
    )["input_ids"]
    length = max(len(row) for row in rows)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    input_ids = torch.full((len(rows), length), int(pad), dtype=torch.long)
    attention_mask = torch.zeros((len(rows), length), dtype=torch.long)
    for k, row in enumerate(rows):
        input_ids[k, : len(row)] = torch.tensor(row, dtype=torch.long)
        attention_mask[k, : len(row)] = 1
    return TypeInputs(
        type_input_ids=input_ids, type_attention_mask=attention_mask, labels=tuple(labels)
    )


def check_labels(data_labels: Sequence[str], model_labels: Sequence[str], path: str) -> None:
    """An entity type in the data that the model does not know is a user error."""
    known = set(model_labels)
    unknown = [label for label in data_labels if label not in known]
    if unknown:
        raise ConfigError(
            f"{path}: unknown entity type(s) {unknown}; the model knows {list(model_labels)} "
            "(score only the known types with --labels)"
        )
