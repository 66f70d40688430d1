"""The spans column built by the compiled builder against ``pa.array``, its reference."""

from __future__ import annotations

import struct
import sys
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from binder_core.contract.schema import document_schema
from pipelines.silver import shards
from pipelines.silver.shards import spans_array

LIST_TYPE = document_schema(["Chemical", "Disease"]).field("spans").type
_compiled_only = pytest.mark.skipif(
    shards._arrow_spans is None, reason="the compiled column builder is not built here"
)

_STRINGS = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12)
SPAN = st.tuples(
    st.integers(-(2**31), 2**31 - 1),
    st.integers(-(2**31), 2**31 - 1),
    _STRINGS,
    _STRINGS,
    _STRINGS,
    st.floats(allow_nan=False, width=64),
    _STRINGS,
    st.booleans(),
    st.floats(allow_nan=False, width=64),
)
ROWS = st.lists(st.lists(SPAN, max_size=12), max_size=30)


def _same(rows: Any) -> None:
    expected = pa.array(rows, type=LIST_TYPE)
    got = spans_array(rows, LIST_TYPE)
    got.validate(full=True)
    assert got.type == LIST_TYPE
    assert got.equals(expected)


@_compiled_only
@settings(max_examples=300, deadline=None)
@given(ROWS)
def test_compiled_spans_column_equals_pyarrows(rows: list[list[tuple[Any, ...]]]) -> None:
    _same(rows)


@_compiled_only
def test_compiled_builder_takes_the_schema_layout_and_bit_packs_bools() -> None:
    row_offsets, parts = shards._arrow_spans.span_buffers(
        [[(0, 4, "Chemical", "C1", "x", 1.0, "dict_exact", b, 0.75)] for b in [True] * 9 + [False]],
        "iisssfsbf",
    )
    assert int.from_bytes(row_offsets[-4:], sys.byteorder) == 10
    assert parts[7] == bytes([0xFF, 0x01])  # spans 0-8 uncertain, span 9 not
    assert parts[8] == struct.pack("=10f", *[0.75] * 10)  # link_score, float32
    assert parts[2] == (
        b"".join(i.to_bytes(4, sys.byteorder) for i in range(0, 88, 8)),
        b"Chemical" * 10,
    )


@pytest.mark.parametrize(
    "rows",
    [
        [],
        [[], []],
        [[(0, 1, "Chemical", "C1", "é", 1.0, "dict_exact", False, 1.0)], []],
        [[(0, 1, "Chemical", "C1", "x", 1, "dict_exact", False, 1.0)]],  # an int score
        [[(0, 1, "Chemical", "C1", "x", 1.0, "dict_exact", False, 1)]],  # an int link score
        [[(0, 1, None, "C1", "x", 1.0, "dict_exact", False, 1.0)]],  # pyarrow keeps the None
    ],
)
def test_spans_array_equals_pyarrow_on_edge_and_fallback_cases(rows: Any) -> None:
    _same(rows)


@pytest.mark.parametrize(
    "rows",
    [
        [[(True, 1, "Chemical", "C1", "x", 1.0, "dict_exact", False, 1.0)]],  # a bool start
        [[[0, 1, "Chemical", "C1", "x", 1.0, "dict_exact", False, 1.0]]],  # a list, not a tuple
        [[(0, 2**31, "Chemical", "C1", "x", 1.0, "dict_exact", False, 1.0)]],
        [[(0, 1, "Chemical", "C1", "x", 1.0, "dict_exact", False)]],  # a version-1 span
        [[(0, 1, "Chemical", "C1", "x", 1.0, "dict_exact", False, "0.5")]],  # a str link score
        [[(0, 1, "Chemical", "C1", "x", 1.0, "dict_exact", False, 1.0, "extra")]],
    ],
)
def test_spans_array_raises_what_pyarrow_raises(rows: Any) -> None:
    with pytest.raises(pa.ArrowException) as expected:
        pa.array(rows, type=LIST_TYPE)
    with pytest.raises(type(expected.value)):
        spans_array(rows, LIST_TYPE)


def test_spans_array_of_a_type_the_builder_does_not_know_uses_pyarrow() -> None:
    other = pa.list_(pa.struct([pa.field("start", pa.int64()), pa.field("label", pa.string())]))
    rows = [[(0, "a"), (2**40, "b")], []]
    assert spans_array(rows, other).equals(pa.array(rows, type=other))


@_compiled_only
@pytest.mark.parametrize("layout", ["", "x", "iix", "i\u00e9", "i\x00"])
def test_compiled_builder_refuses_a_layout_it_cannot_build_even_without_spans(layout: str) -> None:
    with pytest.raises(ValueError):
        shards._arrow_spans.span_buffers([], layout)


def test_spans_array_of_a_lone_surrogate_raises_what_pyarrow_raises() -> None:
    # The builder's UnicodeEncodeError is a ValueError: pyarrow then raises its own error.
    rows = [[(0, 1, "Chemical", "C1", "\ud800", 1.0, "dict_exact", False, 1.0)]]
    with pytest.raises(Exception) as expected:
        pa.array(rows, type=LIST_TYPE)
    with pytest.raises(type(expected.value)):
        spans_array(rows, LIST_TYPE)


@pytest.mark.parametrize("error", [MemoryError, SystemError, KeyboardInterrupt])
def test_spans_array_falls_back_only_on_the_errors_of_values_it_does_not_take(
    error: type[BaseException], monkeypatch: pytest.MonkeyPatch
) -> None:
    class Failing:
        @staticmethod
        def span_buffers(rows: Any, layout: str) -> Any:
            raise error

    monkeypatch.setattr(shards, "_arrow_spans", Failing)
    with pytest.raises(error):
        spans_array([[(0, 1, "Chemical", "C1", "x", 1.0, "dict_exact", False, 1.0)]], LIST_TYPE)


@pytest.mark.parametrize(
    "rows",
    [
        [[(0, 1, "Chemical", "C1", "x", 1.0, "dict_exact", False, 1.0)]],
        [[(0, 1, None, "C1", "x", 1.0, "dict_exact", False, 1.0)]],  # built by the fallback
    ],
)
def test_spans_array_of_an_iterator_of_rows_equals_pyarrow(rows: Any) -> None:
    # The builder used to read the iterator up, and the fallback then saw no rows at all.
    got = spans_array(iter(rows), LIST_TYPE)
    assert got.equals(pa.array(rows, type=LIST_TYPE))
