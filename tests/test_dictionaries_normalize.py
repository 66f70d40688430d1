"""Folding: exact forms, and offset maps that always point back into the original text."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dictionaries import normalize
from dictionaries.normalize import (
    _fold_chunks,
    fold,
    fold_with_offsets,
    normalize_term,
    unify_surface,
)

ALPHABET = st.sampled_from(
    [*"abcAB -–—‘’“”\t\n.,()İıßẞﬁﬂÅåé", "e\u0301", "\u0301", "  ", "Ⅳ", "①", "ǅ", "Ω"]
)
TEXTS = st.lists(ALPHABET, max_size=30).map("".join)


def test_fold_exact_forms() -> None:
    assert fold("Heart  FAILURE\n") == "heart failure "
    assert fold("Straße") == "strasse"
    assert fold("ﬁbrosis") == "fibrosis"
    assert fold("İstanbul") == "i\u0307stanbul"
    assert fold("β‐blocker “x” ‘y’") == "β-blocker \"x\" 'y'"
    assert fold("cafe\u0301") == "café"
    assert fold("") == ""


def test_normalize_term_strips_edges() -> None:
    assert normalize_term("  Gastric\u00a0Ulcer ") == "gastric ulcer"


def test_unify_surface_keeps_case() -> None:
    assert unify_surface("IL\u20132 ") == "IL-2"


def test_fold_with_offsets_identity_for_plain_ascii() -> None:
    assert fold_with_offsets("Aspirin and ACE") == ("aspirin and ace", None, None)
    assert fold_with_offsets("a\tb") == ("a b", None, None)


def test_fold_with_offsets_identity_for_one_to_one_unicode() -> None:
    assert fold_with_offsets("β‐Blocker in CAFÉ x") == ("β-blocker in café x", None, None)
    assert fold_with_offsets("Ⅳ x") == ("iv x", [0, 0, 1, 2], [1, 1, 2, 3])
    folded, starts, _ = fold_with_offsets("café A")
    assert (folded, starts) == ("café a", [0, 1, 2, 3, 5, 6])


def test_fold_with_offsets_maps_expansions_and_collapsed_spaces() -> None:
    folded, starts, ends = fold_with_offsets("ßa  b")
    assert folded == "ssa b"
    assert starts == [0, 0, 1, 2, 4]
    assert ends == [1, 1, 2, 4, 5]


@given(TEXTS)
def test_fold_paths_agree(text: str) -> None:
    folded, starts, ends = fold_with_offsets(text)
    assert folded == fold(text) == _fold_chunks(text)[0]
    if starts is None or ends is None:
        assert len(folded) == len(text)
    else:
        assert len(starts) == len(ends) == len(folded)


@given(TEXTS)
def test_fold_offsets_point_into_original(text: str) -> None:
    folded, starts, ends = fold_with_offsets(text)
    if starts is None or ends is None:
        starts = list(range(len(text)))
        ends = [i + 1 for i in starts]
    for i, ch in enumerate(folded):
        assert 0 <= starts[i] < ends[i] <= len(text)
        assert ch in fold(text[starts[i] : ends[i]])
    assert starts == sorted(starts)


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=list("ab X\t\n\u00a0\u2003\u2013é"), max_size=40))
def test_fold_with_offsets_collapses_spaces_like_the_general_path(text: str) -> None:
    from dictionaries.normalize import _fold_chunks

    folded, starts, ends = fold_with_offsets(text)
    if starts is not None:
        assert (folded, starts, ends) == _fold_chunks(text)


# The compiled one-pass ASCII fold (dictionaries/_matching.c) against its Python reference.
_compiled_only = pytest.mark.skipif(
    normalize._fold_ascii is normalize._fold_ascii_py,
    reason="the compiled matching loops are not built here",
)


@_compiled_only
@given(st.text(alphabet=st.characters(max_codepoint=127)))
def test_compiled_ascii_fold_equals_the_python_reference(text: str) -> None:
    assert normalize._fold_ascii(text) == normalize._fold_ascii_py(text)


@_compiled_only
def test_compiled_ascii_fold_on_every_ascii_character_and_bad_input() -> None:
    every = "".join(chr(c) for c in range(128)) * 2
    assert normalize._fold_ascii(every) == normalize._fold_ascii_py(every)
    assert normalize._fold_ascii("") == ""
    with pytest.raises(ValueError, match="ASCII"):
        normalize._fold_ascii("café")
    with pytest.raises(TypeError):
        normalize._fold_ascii(b"abc")  # type: ignore[arg-type]
