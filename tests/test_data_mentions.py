"""Mention replacement and masking: exact texts and offsets, and the draws per epoch."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from binder_core.contract.errors import ConfigError
from binder_core.contract.schema import Origin, make_span
from binder_core.data.mentions import MentionAugmenter, isolated_spans, substitute_mentions

TEXT = "Cisplatin induced nephrotoxicity and hearing loss in mice."


def _span(text: str, surface: str, label: str, uncertain: bool = False) -> dict:
    start = text.index(surface)
    return make_span(start, start + len(surface), label, origin=Origin.DICT_EXACT,
                     uncertain=uncertain)  # fmt: skip


def _surfaces(text: str, spans: list[dict]) -> list[str]:
    return [text[s["start"] : s["end"]] for s in spans]


def test_isolated_spans_skips_uncertain_and_overlapping_spans() -> None:
    spans = [
        _span(TEXT, "Cisplatin", "Chemical"),
        _span(TEXT, "hearing loss", "Disease"),
        _span(TEXT, "hearing", "Disease"),  # nested in "hearing loss": neither is isolated
        _span(TEXT, "mice", "Species", uncertain=True),
        _span(TEXT, "nephrotoxicity", "Disease"),
    ]
    assert isolated_spans(spans) == [0, 4]
    assert isolated_spans([]) == []


def test_substitute_mentions_shifts_every_later_span() -> None:
    spans = [
        _span(TEXT, "Cisplatin", "Chemical"),
        _span(TEXT, "nephrotoxicity", "Disease"),
        _span(TEXT, "hearing loss", "Disease"),
        _span(TEXT, "mice", "Species", uncertain=True),
    ]
    # 9 -> 17 characters (+8), then 14 -> 6 (-8): the spans after both are back in place
    text, moved = substitute_mentions(TEXT, spans, {0: "carboplatin drug", 1: "[MASK]"})
    assert text == "carboplatin drug induced [MASK] and hearing loss in mice."
    assert _surfaces(text, moved) == ["carboplatin drug", "[MASK]", "hearing loss", "mice"]
    assert [(s["start"], s["end"]) for s in moved] == [(0, 16), (25, 31), (36, 48), (52, 56)]
    assert moved[3]["uncertain"] and moved[0]["label"] == "Chemical"
    assert spans[0]["end"] == 9  # the input is left as it was


def test_substitute_mentions_refuses_a_nested_span() -> None:
    spans = [_span(TEXT, "hearing loss", "Disease"), _span(TEXT, "hearing", "Disease")]
    with pytest.raises(ValueError, match=r"\[0\]"):
        substitute_mentions(TEXT, spans, {0: "deafness"})


@given(
    st.lists(st.tuples(st.integers(1, 6), st.integers(0, 4)), min_size=1, max_size=6),
    st.lists(st.text(alphabet="xyz ", min_size=0, max_size=8), min_size=6, max_size=6),
)
def test_substitute_mentions_keeps_every_surface_property(
    layout: list[tuple[int, int]], news: list[str]
) -> None:
    # spans of widths w separated by gaps g of "-": replace every other one
    text, spans, position = "", [], 0
    for k, (width, gap) in enumerate(layout):
        text += "-" * gap + chr(ord("a") + k) * width
        position += gap
        spans.append(make_span(position, position + width, "T", origin=Origin.GOLD))
        position += width
    chosen = {i: news[i] for i in range(0, len(spans), 2)}
    new_text, moved = substitute_mentions(text, spans, chosen)
    for i, span in enumerate(moved):
        expected = chosen.get(i, text[spans[i]["start"] : spans[i]["end"]])
        assert new_text[span["start"] : span["end"]] == expected


TERMS = {"Chemical": ("aspirin", "Cisplatin", "lithium"), "Disease": ()}


def test_mention_augmenter_replaces_with_a_term_of_the_same_type() -> None:
    doc = {"doc_id": "d1", "text": TEXT, "source": "s",
           "spans": [_span(TEXT, "Cisplatin", "Chemical"), _span(TEXT, "nephrotoxicity",
                                                                 "Disease")]}  # fmt: skip
    augment = MentionAugmenter(TERMS, replace_rate=1.0, seed=3)
    out = augment(doc, epoch=0)
    chemical, disease = _surfaces(out["text"], out["spans"])
    assert chemical in ("aspirin", "lithium")  # never its own surface
    assert disease == "nephrotoxicity"  # the type has no terms to draw from
    assert out["source"] == "s" and doc["text"] == TEXT
    assert augment(doc, epoch=0) == out  # the same epoch draws the same
    draws = {_surfaces(augment(doc, e)["text"], augment(doc, e)["spans"])[0] for e in range(20)}
    assert draws == {"aspirin", "lithium"}  # redrawn each epoch


def test_mention_augmenter_masks_and_leaves_alone_at_rate_zero() -> None:
    doc = {"doc_id": "d1", "text": TEXT, "spans": [_span(TEXT, "hearing loss", "Disease")]}
    masked = MentionAugmenter(mask_rate=1.0, mask_token="[MASK]")(doc, 0)
    assert masked["text"] == "Cisplatin induced nephrotoxicity and [MASK] in mice."
    assert _surfaces(masked["text"], masked["spans"]) == ["[MASK]"]
    assert MentionAugmenter(TERMS)(doc, 0) == doc
    assert not MentionAugmenter(TERMS).active


def test_mention_augmenter_draws_the_rates_it_is_given() -> None:
    text = " ".join(["aspirin"] * 2000)
    spans = [make_span(8 * i, 8 * i + 7, "Chemical", origin=Origin.GOLD) for i in range(2000)]
    augment = MentionAugmenter(TERMS, replace_rate=0.3, mask_rate=0.2, mask_token="<unk>")
    out = augment({"doc_id": "x", "text": text, "spans": spans}, 1)
    surfaces = _surfaces(out["text"], out["spans"])
    masked = surfaces.count("<unk>") / 2000
    replaced = sum(s in ("Cisplatin", "lithium") for s in surfaces) / 2000
    assert abs(masked - 0.2) < 0.03 and abs(replaced - 0.3) < 0.03


def test_mention_augmenter_refuses_bad_rates() -> None:
    with pytest.raises(ConfigError, match="at most 1"):
        MentionAugmenter(replace_rate=0.6, mask_rate=0.6, mask_token="[MASK]")
    with pytest.raises(ConfigError, match="mask or unknown token"):
        MentionAugmenter(mask_rate=0.1)
    with pytest.raises(ConfigError, match=r"\[0, 1\]"):
        MentionAugmenter(replace_rate=-0.1)
    assert np.isclose(MentionAugmenter(replace_rate=1.0).replace_rate, 1.0)
