"""``link_spans``: the linker applied to a document's spans, and the ``link_score`` it leaves."""

from __future__ import annotations

from typing import Any

import pytest

from binder_core.contract.schema import ANY_LABEL, Origin, make_span
from dictionaries import Entry, compile_dictionary
from dictionaries.linking.index_file import build_link_index
from dictionaries.linking.linker import Abstain, Linker
from dictionaries.linking.spans import link_spans

ENTRIES = [
    Entry("breast cancer", "Disease", "D001943", "mesh"),
    Entry("heart attack", "Disease", "D009203", "mesh"),
    Entry("aspirin", "Chemical", "D001241", "mesh"),
    Entry("acetylsalicylic acid", "Chemical", "D001241", "mesh"),
]
TEXT = "Aspirin, acid reflux, cancers of the breast, xyzzy, paracetamol and a heart attack."


def _at(surface: str) -> tuple[int, int]:
    start = TEXT.index(surface)
    return start, start + len(surface)


def _model(surface: str, label: str) -> dict[str, Any]:
    return make_span(*_at(surface), label, origin=Origin.MODEL, score=0.9)


@pytest.fixture(scope="module")
def linker() -> Linker:
    return Linker(build_link_index(compile_dictionary(ENTRIES)))


def _cosine(linker: Linker, surface: str, label: str) -> float:
    [link] = linker.link([surface], [label])
    return link.score


def test_link_spans_scores_grounded_abstained_and_unlinked_spans(linker: Linker) -> None:
    own = make_span(*_at("Aspirin"), "Chemical", origin=Origin.DICT_EXACT, concept_id="X1",
                    matched_term="aspirin", link_score=1.0)  # fmt: skip
    no_id = make_span(*_at("paracetamol"), "Chemical", origin=Origin.DICT_EXACT,
                      matched_term="paracetamol")  # fmt: skip
    broad = make_span(*_at("xyzzy"), ANY_LABEL, origin=Origin.DICT_UNCERTAIN, uncertain=True)
    spans = [
        own,  # carries an id: kept as it is, score included
        _model("acid reflux", "Chemical"),  # below the threshold
        _model("cancers of the breast", "Disease"),  # grounded, not an exact name
        _model("xyzzy", "Chemical"),  # no name shares an n-gram with it
        no_id,  # a dictionary term without an id, below the threshold
        _model("heart attack", "Disease"),  # an exact name
        _model("heart attack", "Gene"),  # a type the dictionary does not hold
        broad,  # ANY_LABEL: never linked
    ]
    out = link_spans(linker, TEXT, spans)
    got = [(s["concept_id"], s["matched_term"], s["link_score"]) for s in out]
    reflux = _cosine(linker, "acid reflux", "Chemical")
    breast = _cosine(linker, "cancers of the breast", "Disease")
    paracetamol = _cosine(linker, "paracetamol", "Chemical")
    threshold = linker.index.config.threshold
    assert 0.0 < reflux < threshold and 0.0 < paracetamol < threshold
    assert threshold <= breast < 1.0
    assert got == [
        ("X1", "aspirin", 1.0),
        ("", "", reflux),
        ("D001943", "breast cancer", breast),
        ("", "", 0.0),
        ("", "paracetamol", paracetamol),
        ("D009203", "heart attack", 1.0),
        ("", "", 0.0),
        ("", "", 0.0),
    ]
    # every other field as it came, and the input left alone
    keep = ("start", "end", "label", "score", "origin", "uncertain")
    assert [[s[k] for k in keep] for s in out] == [[s[k] for k in keep] for s in spans]
    assert spans[1]["link_score"] == 0.0


def test_link_spans_tells_an_abstention_from_a_span_never_linked(linker: Linker) -> None:
    never = _model("acid reflux", "Chemical")
    [linked] = link_spans(linker, TEXT, [never])
    [link] = linker.link(["acid reflux"], ["Chemical"])
    assert link.abstain is Abstain.BELOW_THRESHOLD
    assert (never["concept_id"], never["link_score"]) == ("", 0.0)
    assert (linked["concept_id"], linked["link_score"]) == ("", link.score)
    assert 0.0 < linked["link_score"] < linker.index.config.threshold


def test_link_spans_without_spans_to_link(linker: Linker) -> None:
    assert link_spans(linker, TEXT, []) == []
    broad = make_span(0, 7, ANY_LABEL, origin=Origin.DICT_UNCERTAIN, uncertain=True)
    assert link_spans(linker, TEXT, [broad]) == [broad]
