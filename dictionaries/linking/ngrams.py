"""Hashed character n-gram counts of many strings at once, in NumPy.

The features of the linker (:mod:`dictionaries.linking`): each word is padded with a space on
both sides and cut into its character n-grams (n-grams never cross words, so word order does
not change the bag: scikit-learn's ``char_wb`` analyzer), and each n-gram is hashed into one of
``2 ** hash_bits`` columns. scikit-learn's analyzer loops in Python over every name (about 4
minutes for a million names); here all strings are joined into one array of code points and
every n-gram of every string is found and hashed by array operations, in a few seconds.

Layout of the joined array: ``" w1  w2 " NUL " w3 " NUL ...``, each word padded with a space,
words two spaces apart, strings separated by NUL. A window of ``n`` code points is an n-gram
when it holds no NUL and no two spaces in a row (it would cross a word boundary). An n-gram's
code is the polynomial ``sum(c[i + j] * P ** (n - 1 - j))`` modulo ``2 ** 64``, and its column
the top ``hash_bits`` bits of ``code * M`` (multiply-shift hashing).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from scipy import sparse

_P = np.uint64(0x100000001B3)  # FNV-64 prime: mixes the code points of a window
_M = np.uint64(0x9E3779B97F4A7C15)  # Fibonacci hashing multiplier


def ngram_counts(
    strings: Sequence[str],
    ngram_min: int,
    ngram_max: int,
    hash_bits: int,
    transform: Callable[[str], str] | None = None,
) -> sparse.csr_matrix:
    """Counts of hashed n-grams, shape ``(len(strings), 2 ** hash_bits)``, float32.

    ``transform`` is applied once to the joined text (it must keep NUL and spaces where they
    are, as a per-word rewrite does).
    """
    width = 2**hash_bits
    if not strings:
        return sparse.csr_matrix((0, width), dtype=np.float32)
    joined = "\x00".join(" " + "  ".join(s.split()) + " " for s in strings)
    if transform is not None:
        joined = transform(joined)
    chars = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    ends = np.flatnonzero(chars == 0)
    row_of = np.zeros(len(chars), dtype=np.int64)
    row_of[ends[ends + 1 < len(chars)] + 1] = 1
    row_of = np.cumsum(row_of)
    # bad[i]: a window starting at i may not cover position i + 1 after i (NUL, or two spaces)
    stop = chars == 0
    double = np.zeros(len(chars), dtype=bool)
    double[:-1] = (chars[:-1] == 32) & (chars[1:] == 32)
    rows, columns = [], []
    for n in range(ngram_min, ngram_max + 1):
        count = len(chars) - n + 1
        if count <= 0:
            continue
        blocked = np.zeros(count, dtype=bool)
        code = np.zeros(count, dtype=np.uint64)
        for j in range(n):
            code = code * _P + chars[j : j + count]
            blocked |= stop[j : j + count]
            if j < n - 1:
                blocked |= double[j : j + count]
        keep = ~blocked
        rows.append(row_of[:count][keep])
        columns.append(((code[keep] * _M) >> np.uint64(64 - hash_bits)).astype(np.int64))
    row = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
    column = np.concatenate(columns) if columns else np.zeros(0, dtype=np.int64)
    counts = sparse.csr_matrix(
        (np.ones(len(row), dtype=np.float32), (row, column)), shape=(len(strings), width)
    )
    counts.sum_duplicates()
    return counts


def l2_normalize_rows(matrix: sparse.csr_matrix) -> sparse.csr_matrix:
    """Each row divided by its L2 norm (rows of zeros stay zero); float32."""
    matrix = matrix.astype(np.float32).tocsr()
    rows = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
    norms = np.sqrt(np.bincount(rows, weights=matrix.data**2, minlength=matrix.shape[0]))
    if matrix.nnz:
        matrix.data /= norms[rows].astype(np.float32)
    return matrix
