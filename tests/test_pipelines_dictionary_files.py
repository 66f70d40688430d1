"""Dictionaries of a pipeline run: loading, and the preloaded copies forked workers share."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from binder_core.contract.errors import InputError
from dictionaries import Entry, compile_dictionary, match, save_compiled
from pipelines.silver import dictionary_files
from pipelines.silver.dictionary_files import (
    load_dictionary,
    prefetch_dictionaries,
    preload_dictionaries,
)


def _save(path: Path, term: str) -> None:
    save_compiled(compile_dictionary([Entry(term, "Chemical", "D1", "t")]), path)


@pytest.fixture(autouse=True)
def _no_preloaded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dictionary_files, "_PRELOADED", {})


def test_a_preloaded_dictionary_is_loaded_once(tmp_path: Path) -> None:
    path = tmp_path / "d.dict"
    _save(path, "morphine")
    preload_dictionaries([str(path)])
    first = load_dictionary(str(path))
    assert load_dictionary(str(tmp_path / "." / "d.dict")) is first  # any spelling of the path
    assert match("morphine", first)[0].concept_id == "D1"


def test_a_dictionary_replaced_after_preloading_is_read_again(tmp_path: Path) -> None:
    path = tmp_path / "d.dict"
    _save(path, "morphine")
    preload_dictionaries([str(path)])
    preloaded = load_dictionary(str(path))
    _save(tmp_path / "new.dict", "heroin")
    os.replace(tmp_path / "new.dict", path)
    fresh = load_dictionary(str(path))
    assert fresh is not preloaded
    assert [m.matched_term for m in match("heroin and morphine", fresh)] == ["heroin"]


def test_preloading_leaves_what_it_cannot_read_to_the_loader(tmp_path: Path) -> None:
    bad = tmp_path / "bad.dict"
    bad.write_bytes(b"not a dictionary")
    preload_dictionaries([str(tmp_path / "missing.dict"), str(bad), "gs://bucket/d.dict", "", None])
    assert list(dictionary_files._PRELOADED) == [str(bad)]
    with pytest.raises(InputError, match="no such compiled dictionary"):
        load_dictionary(str(tmp_path / "missing.dict"))
    with pytest.raises(InputError, match=r"bad\.dict"):
        load_dictionary(str(bad))


def test_a_prefetched_dictionary_is_waited_for_and_loaded_once(tmp_path: Path) -> None:
    path = tmp_path / "d.dict"
    _save(path, "morphine")
    prefetch_dictionaries([str(path)])
    prefetch_dictionaries([str(path)])  # already on its way: not loaded twice
    first = load_dictionary(str(path))
    assert load_dictionary(str(path)) is first
    assert match("morphine", first)[0].concept_id == "D1"
