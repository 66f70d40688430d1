"""Hashed character n-grams in NumPy: the same bags as word-padded n-grams counted by hand."""

from __future__ import annotations

import numpy as np

from dictionaries.linking.ngrams import l2_normalize_rows, ngram_counts


def test_ngram_counts_pads_each_word_and_never_crosses_words() -> None:
    counts = ngram_counts(["heart attack", "a b", "x", ""], 3, 3, 20)
    # " heart ": " he" "hea" "ear" "art" "rt " (5); " attack ": " at" "att" "tta" "tac" "ack"
    # "ck " (6); " a ", " b "; " x "; nothing for ""
    assert counts.shape == (4, 2**20)
    assert counts.sum(axis=1).ravel().tolist() == [[11.0, 2.0, 1.0, 0.0]]


def test_ngram_counts_sums_repeats_and_ignores_word_order() -> None:
    counts = ngram_counts(["aaa aaa", "cancer breast", "breast  cancer"], 3, 3, 20)
    assert sorted(counts[0].data.tolist()) == [2.0, 2.0, 2.0]  # " aa", "aaa", "aa " twice
    assert (counts[1] != counts[2]).nnz == 0


def test_ngram_counts_range_and_transform() -> None:
    counts = ngram_counts(["ab"], 2, 3, 10)
    assert counts.sum() == 3 + 2  # " a" "ab" "b " and " ab" "ab "
    upper = ngram_counts(["ab"], 2, 3, 10, transform=str.upper)
    assert (upper != ngram_counts(["AB"], 2, 3, 10)).nnz == 0
    assert ngram_counts([], 3, 3, 10).shape == (0, 1024)


def test_l2_normalize_rows_keeps_empty_rows() -> None:
    rows = l2_normalize_rows(ngram_counts(["abc", "", "abc abd"], 3, 3, 16))
    norms = np.sqrt(rows.multiply(rows).sum(axis=1)).ravel().tolist()
    assert np.allclose(norms, [[1.0, 0.0, 1.0]])
