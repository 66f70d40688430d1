"""Training-time mention augmentation: make the context, not the surface form, carry a label.

A model trained on dictionary labels can reach a high silver score by memorizing the
dictionary's surface forms, and then adds nothing to the dictionary on new text. Two remedies
act on a document before it is tokenized, redrawn every epoch:

- *mention replacement* (Dai & Adel 2020): a labelled mention is replaced by another
  dictionary term of the same type, so one context is seen with many names of its type;
- *mention masking*: a labelled mention's text is replaced by the tokenizer's mask (or unknown)
  token, so only the context is left to decide the type.

Only certain spans that overlap no other span are changed (a nested or overlapping span would
have no well-defined text afterwards); every span after a changed one is shifted by the change
in length, so ``text[start:end]`` stays each span's surface. The draws come from a generator
seeded with ``(seed, epoch, document id)``, so every reader and a resumed run agree.
Torch-free.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from binder_core.contract.errors import ConfigError


def isolated_spans(spans: Sequence[Mapping[str, Any]]) -> list[int]:
    """Indices of the certain spans of ``spans`` that overlap no other span (any kind)."""
    out = []
    for i, span in enumerate(spans):
        if span["uncertain"] or span["end"] <= span["start"]:
            continue
        if any(
            j != i and other["start"] < span["end"] and span["start"] < other["end"]
            for j, other in enumerate(spans)
        ):
            continue
        out.append(i)
    return out


def substitute_mentions(
    text: str, spans: Sequence[Mapping[str, Any]], surfaces: Mapping[int, str]
) -> tuple[str, list[dict[str, Any]]]:
    """``text`` with span ``i``'s surface replaced by ``surfaces[i]``, and every span moved.

    Each replaced span must overlap no other span (:func:`isolated_spans`); it keeps its start
    and ends after its new surface. Every other span is shifted by the change in length of the
    replaced spans before it. ``spans`` may be in any order; the returned list keeps it.
    """
    allowed = set(isolated_spans(spans))
    bad = sorted(set(surfaces) - allowed)
    if bad:
        raise ValueError(f"spans {bad} are uncertain or overlap another span")
    order = sorted(surfaces, key=lambda i: spans[i]["start"])
    pieces: list[str] = []
    cursor = 0
    # (old start, cumulative shift after it) for spans that start after each replacement
    shifts: list[tuple[int, int]] = []
    shift = 0
    for i in order:
        span = spans[i]
        pieces += [text[cursor : span["start"]], surfaces[i]]
        cursor = span["end"]
        shift += len(surfaces[i]) - (span["end"] - span["start"])
        shifts.append((span["end"], shift))
    pieces.append(text[cursor:])
    out = []
    for i, span in enumerate(spans):
        moved = dict(span)
        before = sum(1 for end, _ in shifts if end <= span["start"])
        offset = shifts[before - 1][1] if before else 0
        moved["start"] = span["start"] + offset
        moved["end"] = span["end"] + offset
        if i in surfaces:
            moved["end"] = moved["start"] + len(surfaces[i])
        out.append(moved)
    return "".join(pieces), out


def _document_seed(doc_id: str) -> int:
    return int.from_bytes(hashlib.blake2b(doc_id.encode(), digest_size=8).digest(), "big")


@dataclass(frozen=True)
class MentionAugmenter:
    """A document -> document function for the training data set (picklable).

    Each isolated certain span is masked with probability ``mask_rate``, else replaced with
    probability ``replace_rate`` by a term of its type drawn uniformly from the ``terms`` other
    than its surface (a type with no other term is never replaced).
    """

    terms: Mapping[str, Sequence[str]] = field(default_factory=dict)
    replace_rate: float = 0.0
    mask_rate: float = 0.0
    mask_token: str = ""
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("replace_rate", "mask_rate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ConfigError(f"mention {name} must be in [0, 1], got {value}")
        if self.replace_rate + self.mask_rate > 1.0:
            raise ConfigError(
                f"mention replace_rate + mask_rate must be at most 1, got "
                f"{self.replace_rate} + {self.mask_rate}"
            )
        if self.mask_rate > 0 and not self.mask_token:
            raise ConfigError("mention masking needs a tokenizer with a mask or unknown token")

    @property
    def active(self) -> bool:
        return self.mask_rate > 0 or (self.replace_rate > 0 and any(self.terms.values()))

    def surfaces(
        self, text: str, spans: Sequence[Mapping[str, Any]], rng: np.random.Generator
    ) -> dict[int, str]:
        """The new surface of each span this draw changes (span index -> text)."""
        out: dict[int, str] = {}
        for i in isolated_spans(spans):
            span = spans[i]
            draw = float(rng.random())
            if draw < self.mask_rate:
                out[i] = self.mask_token
                continue
            if draw >= self.mask_rate + self.replace_rate:
                continue
            choices = self.terms.get(span["label"], ())
            if not choices:
                continue
            k = int(rng.integers(len(choices)))
            if choices[k] == text[span["start"] : span["end"]]:
                if len(choices) == 1:
                    continue
                # uniform over the other terms
                k = (k + 1 + int(rng.integers(len(choices) - 1))) % len(choices)
            out[i] = choices[k]
        return out

    def __call__(self, doc: Mapping[str, Any], epoch: int) -> dict[str, Any]:
        """``doc`` (a contract row: ``doc_id``, ``text``, ``spans``) as epoch ``epoch`` sees it."""
        if not self.active or not doc["spans"]:
            return dict(doc)
        rng = np.random.default_rng([self.seed, epoch, _document_seed(str(doc["doc_id"]))])
        surfaces = self.surfaces(doc["text"], doc["spans"], rng)
        if not surfaces:
            return dict(doc)
        text, spans = substitute_mentions(doc["text"], doc["spans"], surfaces)
        return {**doc, "text": text, "spans": spans}
