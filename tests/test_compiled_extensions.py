"""The compiled extensions: built where the install should build them, and equal to their Python
references on the inputs that are hardest for C (surrogates, combining marks, long texts).

A failed compile does not stop the install (the extensions are optional, and the Python code
gives the same results), so without this check a broken build would silently turn off every
agreement test that compares the two. Set ``BINDER_PURE_PYTHON=1`` where no C compiler is meant
to be used.
"""

from __future__ import annotations

import ast
import importlib
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

REPO = Path(__file__).resolve().parents[1]


def _declared_extensions() -> tuple[str, ...]:
    """``EXTENSIONS`` as setup.py declares it (read, not run)."""
    for node in ast.parse((REPO / "setup.py").read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and [getattr(t, "id", "") for t in node.targets] == [
            "EXTENSIONS"
        ]:
            return tuple(ast.literal_eval(node.value))
    raise AssertionError("setup.py declares no EXTENSIONS")


EXTENSIONS = _declared_extensions()
PURE_PYTHON = os.environ.get("BINDER_PURE_PYTHON") == "1"


@pytest.mark.skipif(PURE_PYTHON, reason="BINDER_PURE_PYTHON=1: the pure-Python install is meant")
@pytest.mark.parametrize("name", EXTENSIONS)
def test_extension_is_built_where_the_install_builds_it(name: str) -> None:
    module = importlib.import_module(name)
    assert module.__file__ is not None and module.__file__.endswith((".so", ".pyd")), (
        f"{name} is not compiled: rebuild with `pip install -e .` and read the compiler's "
        "errors (warnings are errors), or set BINDER_PURE_PYTHON=1 on a machine without one"
    )


# Text the C code must read exactly as Python does: lone surrogates (which no UTF-8 codec
# accepts), combining marks, characters outside the BMP, and long runs.
_HARD_CHARS = st.characters(blacklist_categories=())
_PIECES = st.one_of(
    st.text(alphabet=_HARD_CHARS, max_size=4),
    st.sampled_from(
        ["\ud800", "\udfff", "e\u0301", "\u0301", "\U0001f600", "\U00010000", "\u0130", "\u03a3",
         "heat shock factor (HSF)", "(HSF)", " ", "  "]
    ),
)  # fmt: skip
HARD_TEXT = st.lists(_PIECES, max_size=30).map("".join)
# The automaton reads UTF-8, so the matcher's domain has no lone surrogates (a corpus record
# holding one is a dead letter before it is matched): the same text without them.
_NO_SURROGATES = _PIECES.map(lambda p: "".join(c for c in p if not 0xD800 <= ord(c) <= 0xDFFF))
MATCHABLE_TEXT = st.lists(_NO_SURROGATES, max_size=30).map("".join)
# a piece of any text but surrogates (hypothesis' default), repeated to thousands of characters
LONG_TEXT = st.builds(lambda piece, n: piece * n, st.text(max_size=8), st.integers(200, 2000))


def _same_outcome(compiled: Any, reference: Any, *args: Any) -> None:
    """Both give the same result, or both raise the same exception type."""
    try:
        expected = ("ok", reference(*args))
    except Exception as exc:  # the reference's own error is the contract
        expected = ("error", type(exc))
    try:
        got = ("ok", compiled(*args))
    except Exception as exc:
        got = ("error", type(exc))
    assert got == expected


abbreviations = importlib.import_module("dictionaries.abbreviations")
normalize = importlib.import_module("dictionaries.normalize")


@pytest.mark.skipif(abbreviations._compiled is None, reason="the compiled finder is not built")
@settings(max_examples=300, deadline=None)
@given(st.one_of(HARD_TEXT, LONG_TEXT))
def test_compiled_abbreviation_finder_on_hard_text(text: str) -> None:
    _same_outcome(abbreviations.find_abbreviations, abbreviations._find_abbreviations_py, text)


@pytest.mark.skipif(
    normalize._fold_ascii is normalize._fold_ascii_py, reason="the compiled fold is not built"
)
@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=127), max_size=5000))
def test_compiled_ascii_fold_on_long_text(text: str) -> None:
    """The fold's domain is ASCII (the caller sends nothing else): long texts of it."""
    _same_outcome(normalize._fold_ascii, normalize._fold_ascii_py, text)


def test_hard_text_strategy_reaches_surrogates_and_combining_marks() -> None:
    seen: set[str] = set()

    @settings(max_examples=200, deadline=None)
    @given(HARD_TEXT)
    def collect(text: str) -> None:
        if any(0xD800 <= ord(c) <= 0xDFFF for c in text):
            seen.add("surrogate")
        if "\u0301" in text:
            seen.add("combining")

    collect()
    assert seen == {"surrogate", "combining"}


matcher = importlib.import_module("dictionaries.matcher")
labeling = importlib.import_module("pipelines.silver.labeling")


@pytest.mark.skipif(matcher._matching is None, reason="the compiled matching loops are not built")
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.nested_given])
@given(st.one_of(MATCHABLE_TEXT, LONG_TEXT), st.booleans())
def test_compiled_matching_loops_on_hard_text(text: str, longest: bool) -> None:
    from tests.test_dictionaries_match import test_compiled_loops_equal_the_python_reference

    compare = test_compiled_loops_equal_the_python_reference.hypothesis.inner_test  # type: ignore[attr-defined]
    compare(text, longest)


@pytest.mark.skipif(labeling._labeling is None, reason="the compiled short-form step is not built")
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.nested_given])
@given(st.lists(st.one_of(_NO_SURROGATES, st.sampled_from(["heat", "shock", "HSF"])), max_size=30))
def test_compiled_short_form_step_on_hard_text(words: list[str]) -> None:
    from tests.test_pipelines_labeling import (
        test_compiled_short_form_step_equals_the_python_reference,
    )

    compare = test_compiled_short_form_step_equals_the_python_reference.hypothesis.inner_test  # type: ignore[attr-defined]
    for overlap in ("longest", "all"):
        compare(words, overlap, [])


# Callers' code that runs inside a compiled loop (a callback, a sequence's __iter__) may change
# the lists the loop reads. The loop must then stop or raise, never read freed or stale items.
# Each case runs in a child process, so that a crash fails the test instead of the test run.
_MUTATION_CASES = {  # name: (program, what it prints)
    "boundary_hits: case_ok empties the raw hits": (
        """
from dictionaries import _matching
raw = [(0, 1, 0), (2, 3, 0), (4, 5, 0)]
def case_ok(k, start, end, value):
    raw.clear()
    return True
print(_matching.boundary_hits("a b c", raw, [1], 1, False, case_ok))  # as a for loop stops
""",
        "[(0, 1, 1)]",
    ),
    "boundary_hits: case_ok empties the values": (
        """
from dictionaries import _matching
values = [1]
def case_ok(k, start, end, value):
    values.clear()
    return True
try:
    _matching.boundary_hits("a b", [(0, 1, 0), (2, 3, 0)], values, 1, False, case_ok)
except IndexError:
    print("IndexError")
""",
        "IndexError",
    ),
    "emit: make_tails empties the hits": (
        """
from dictionaries import _matching
from dictionaries.records import Match
hits = [(0, 1, 7), (2, 3, 8), (4, 5, 9)]
memo = {}
def make_tails(value):
    hits.clear()
    memo[value] = (("", ("L", "C", "t", 1.0, "dict_exact", False, 1.0)),)
    return memo[value]
print(len(_matching.emit(hits, memo, None, None, make_tails, None, Match)))
""",
        "1",
    ),
    "emit: case_ok empties the hits": (
        """
from dictionaries import _matching
from dictionaries.records import Match
hits = [(0, 1, 7), (2, 3, 7), (4, 5, 7)]
memo = {7: (("A", ("L", "C", "t", 1.0, "dict_exact", False, 1.0)),)}
def case_ok(start, end, case):
    hits.clear()
    return True
print(len(_matching.emit(hits, memo, None, None, None, case_ok, Match)))
""",
        "1",
    ),
    "span_buffers: a row's __iter__ empties the rows": (
        """
from pipelines import _arrow_spans
class Row:
    def __iter__(self):
        rows.clear()
        return iter([(1,)])
rows = [Row(), [(2,)], [(3,)]]
print(list(memoryview(_arrow_spans.span_buffers(rows, "i")[0]).cast("i")))
""",
        "[0, 1]",
    ),
}


@pytest.mark.skipif(PURE_PYTHON, reason="BINDER_PURE_PYTHON=1: the pure-Python install is meant")
@pytest.mark.parametrize("case", sorted(_MUTATION_CASES))
def test_compiled_loops_survive_a_callback_that_changes_their_lists(case: str) -> None:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-X", "faulthandler", "-c", _MUTATION_CASES[case][0]],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == _MUTATION_CASES[case][1]
