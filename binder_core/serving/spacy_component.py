"""The spaCy component ``binder_ner``: a binder-ner model (torch or ONNX export) in a pipeline.

Installing binder-ner registers the factory through spaCy's ``spacy_factories`` entry point::

    nlp = spacy.blank("en")
    nlp.add_pipe("binder_ner", config={"model": "run/best"})   # or an export folder
    doc = nlp("Cisplatin induced nephrotoxicity.")

Rules, stated once:

- **Decoding.** ``flat`` (the model's own default unless ``decoding`` says otherwise) sets
  ``doc.ents``; ``nested`` fills the span group ``doc.spans[spans_key]`` (``"binder"``) and
  leaves ``doc.ents`` alone.
- **Entities already set** (by an earlier component, e.g. an entity ruler) are kept, and a
  predicted entity that overlaps one of them is dropped, unless ``overwrite_ents`` is true: then
  the predictions win and the old entities they overlap are removed (the rule of spaCy's own
  ``entity_ruler``).
- **Alignment.** The model predicts character offsets; a span becomes tokens by
  ``Doc.char_span(..., alignment_mode=alignment_mode)``. The default ``expand`` grows a span
  that starts or ends inside a token to the whole token (a model word can be part of a spaCy
  token, as in "1,3,7-trimethylxanthine"); ``contract`` keeps only the tokens wholly inside it;
  ``strict`` keeps only spans on token boundaries. A span that aligns to no token is skipped.
  Alignment can make flat spans overlap (two spans expanded into one token): the higher score
  keeps its place, as in flat decoding; two nested spans that align to the same tokens and
  label are one span with the higher score.
- **Scores and concept ids.** Every span the component sets carries ``span._.binder_score``
  (sigmoid of its margin over the window's threshold, in (0.5, 1)),
  ``span._.binder_concept_id`` and ``span._.binder_link_score``. The model predicts types, not
  concepts: with ``dictionary`` (a compiled dictionary; its linking index is read from beside
  it, or built in memory), each predicted span is linked to the nearest concept of its type
  (:mod:`dictionaries.linking`), which sets ``span.kb_id_``, the concept id and the link's
  score (the ``link_score`` a Parquet or JSONL span gets); where the linker abstains the id is
  None (``kb_id_`` "") and the link score is the best cosine it saw, below its threshold;
  without a dictionary both are None (never linked).
  All are read from ``doc.user_data`` keyed by the span's offsets *and label*, so two nested
  spans on the same characters keep their own values.
  Nested span groups also carry the scores in ``doc.spans[key].attrs["scores"]``, in span
  order, as spaCy's span categorizer does.
- **Batching.** ``nlp.pipe(texts, batch_size=n)`` hands ``n`` documents at a time to the model,
  whose windows are then batched ``window_batch_size`` at a time.
- **Saving.** ``nlp.to_disk`` copies the model folder into the pipeline's folder, and
  ``spacy.load`` reads it from there, so a saved pipeline does not depend on the original path.
  The model is loaded on first use.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.util import minibatch

from binder_core.contract.errors import BinderError, ConfigError
from binder_core.inference.backends import check_backend, load_predictor, model_labels
from binder_core.inference.decoding import SpanPrediction
from binder_core.inference.engine import SpanTagger, to_span
from binder_core.inference.export_dir import is_export_dir, resolve_export_dir
from binder_core.inference.options import INFERENCE_BATCH_SIZE
from binder_core.model.config import DECODINGS
from binder_core.model.model_dir import resolve_model_dir

FACTORY = "binder_ner"
SPANS_KEY = "binder"
SCORE_EXTENSION = "binder_score"
CONCEPT_EXTENSION = "binder_concept_id"
LINK_SCORE_EXTENSION = "binder_link_score"
ALIGNMENT_MODES = ("expand", "contract", "strict")
MODEL_FOLDER = "model"
"""The folder of a saved component (``nlp.to_disk``) that holds its model."""
_USER_DATA = "binder_ner"


def _getter(field: str) -> Any:
    def get(span: Span) -> Any:
        key = (_USER_DATA, field, span.start_char, span.end_char, span.label_)
        user_data: dict[Any, Any] = span.doc.user_data
        return user_data.get(key)

    return get


for _name, _field in (
    (SCORE_EXTENSION, "score"),
    (CONCEPT_EXTENSION, "concept_id"),
    (LINK_SCORE_EXTENSION, "link_score"),
):
    if not Span.has_extension(_name):
        Span.set_extension(_name, getter=_getter(_field))


Linked = tuple[str | None, float] | None
"""A span's concept id (None where the linker abstained) and link score, or None where no
linker ran."""


def _set(doc: Doc, span: Span, score: float, link: Linked) -> None:
    key = (span.start_char, span.end_char, span.label_)
    user_data: dict[Any, Any] = doc.user_data
    user_data[(_USER_DATA, "score", *key)] = score
    user_data[(_USER_DATA, "concept_id", *key)] = link[0] if link else None
    user_data[(_USER_DATA, "link_score", *key)] = link[1] if link else None
    if link and link[0]:
        span.kb_id_ = link[0]


def _overlap(a: Span, b: Span) -> bool:
    return a.start < b.end and b.start < a.end


class BinderNER:
    """The pipeline component (see the module docstring for its rules)."""

    def __init__(
        self,
        nlp: Language,
        name: str,
        model: str,
        *,
        backend: str = "auto",
        decoding: str | None = None,
        labels: Sequence[str] | None = None,
        spans_key: str = SPANS_KEY,
        overwrite_ents: bool = False,
        alignment_mode: str = "expand",
        window_batch_size: int = INFERENCE_BATCH_SIZE,
        device: str | None = None,
        threads: int | None = None,
        min_margin: float = 0.0,
        dictionary: str | None = None,
    ) -> None:
        if not model:
            raise ConfigError(
                'binder_ner needs a model: nlp.add_pipe("binder_ner", config={"model": PATH})'
            )
        check_backend(backend)
        if decoding is not None and decoding not in DECODINGS:
            raise ConfigError(f"decoding must be one of {list(DECODINGS)}, got {decoding!r}")
        if alignment_mode not in ALIGNMENT_MODES:
            raise ConfigError(
                f"alignment_mode must be one of {list(ALIGNMENT_MODES)}, got {alignment_mode!r}"
            )
        self.name = name
        self.model = str(model)
        self.backend = backend
        self.decoding = decoding
        self.only_labels = tuple(labels) if labels else None
        self.spans_key = spans_key
        self.overwrite_ents = bool(overwrite_ents)
        self.alignment_mode = alignment_mode
        self.window_batch_size = int(window_batch_size)
        self.device = device
        self.threads = threads
        self.min_margin = float(min_margin)
        self.dictionary = str(dictionary) if dictionary else None
        self._predictor: SpanTagger | None = None
        self._linker: Any = None

    @property
    def predictor(self) -> SpanTagger:
        """The model, loaded on first use (so a saved pipeline loads it from its own folder)."""
        if self._predictor is None:
            self._predictor = load_predictor(
                self.model, backend=self.backend, device=self.device, threads=self.threads,
                min_margin=self.min_margin,
            )  # fmt: skip
        return self._predictor

    @property
    def linker(self) -> Any:
        """The dictionary's concept linker (loaded on first use), or None without one."""
        if self.dictionary is None:
            return None
        if self._linker is None:
            from dictionaries import load_compiled
            from dictionaries.linking.index_file import linker_for

            self._linker = linker_for(self.dictionary, load_compiled(self.dictionary))
        return self._linker

    @property
    def labels(self) -> tuple[str, ...]:
        """The entity types this component sets, from the model's config (not its weights).

        Empty while the model folder cannot be read: ``spacy.load`` asks before
        :meth:`from_disk` has pointed the component at its saved copy.
        """
        if self.only_labels:
            return self.only_labels
        try:
            return model_labels(self.model)
        except BinderError:
            return ()

    def __call__(self, doc: Doc) -> Doc:
        (done,) = self._tag([doc])
        return done

    def pipe(self, stream: Iterable[Doc], *, batch_size: int = 128) -> Iterator[Doc]:
        for docs in minibatch(stream, size=batch_size):
            yield from self._tag(list(docs))

    def _tag(self, docs: list[Doc]) -> list[Doc]:
        predictor = self.predictor
        decoding = self.decoding or predictor.decoding
        predictions = predictor.predict_spans(
            [doc.text for doc in docs], decoding, self.window_batch_size, self.only_labels
        )
        for doc, predicted in zip(docs, predictions, strict=True):
            if decoding == "flat":
                self._set_ents(doc, predicted)
            else:
                self._set_spans(doc, predicted)
        return docs

    def _links(self, doc: Doc, predicted: Sequence[SpanPrediction]) -> list[Linked]:
        """Each prediction's concept id (None where the linker abstains) and link score, or
        None where no linker runs."""
        linker = self.linker
        if linker is None:
            return [None] * len(predicted)
        links = linker.link_in_document(doc.text, [(p.start, p.end, p.label) for p in predicted])
        return [(link.concept_id or None, float(link.score)) for link in links]

    def _aligned(
        self, doc: Doc, predicted: Sequence[SpanPrediction]
    ) -> list[tuple[Span, float, Linked]]:
        """(span, score, link) of each prediction that aligns to tokens, best score first."""
        aligned = []
        for p, link in zip(predicted, self._links(doc, predicted), strict=True):
            span = doc.char_span(p.start, p.end, label=p.label, alignment_mode=self.alignment_mode)
            if span is not None and len(span):
                aligned.append((span, float(to_span(p)["score"]), link))
        aligned.sort(key=lambda item: (-item[1], item[0].start, item[0].end, item[0].label_))
        return aligned

    def _set_ents(self, doc: Doc, predicted: Sequence[SpanPrediction]) -> None:
        kept: list[Span] = []
        for span, score, link in self._aligned(doc, predicted):
            if any(_overlap(span, other) for other in kept):
                continue
            if not self.overwrite_ents and any(_overlap(span, e) for e in doc.ents):
                continue
            kept.append(span)
            _set(doc, span, score, link)
        old = [e for e in doc.ents if not any(_overlap(e, span) for span in kept)]
        doc.ents = sorted([*old, *kept], key=lambda s: s.start)

    def _set_spans(self, doc: Doc, predicted: Sequence[SpanPrediction]) -> None:
        best: dict[tuple[int, int, str], tuple[Span, float, Linked]] = {}
        for span, score, link in self._aligned(doc, predicted):
            best.setdefault((span.start, span.end, span.label_), (span, score, link))
        ordered = [best[key] for key in sorted(best)]
        for span, score, link in ordered:
            _set(doc, span, score, link)
        doc.spans[self.spans_key] = [span for span, _, _ in ordered]
        doc.spans[self.spans_key].attrs["scores"] = [score for _, score, _ in ordered]

    # -- serialization ------------------------------------------------------------------------
    def _model_folder(self) -> Path:
        if is_export_dir(self.model):
            return resolve_export_dir(self.model)
        return resolve_model_dir(self.model)

    def to_disk(self, path: str | Path, *, exclude: Iterable[str] = ()) -> None:
        """Copy the model folder into ``path/model``."""
        target = Path(path) / MODEL_FOLDER
        source = self._model_folder()
        if target.resolve() == source.resolve():
            return
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(source, target)

    def from_disk(self, path: str | Path, *, exclude: Iterable[str] = ()) -> BinderNER:
        """Use the model copied into ``path/model`` by :meth:`to_disk`."""
        folder = Path(path) / MODEL_FOLDER
        if not folder.is_dir():
            raise ConfigError(f"{path}: no {MODEL_FOLDER}/ folder; save the pipeline with to_disk")
        self.model = str(folder)
        self._predictor = None
        return self


@Language.factory(
    FACTORY,
    default_config={
        "model": None,
        "backend": "auto",
        "decoding": None,
        "labels": None,
        "spans_key": SPANS_KEY,
        "overwrite_ents": False,
        "alignment_mode": "expand",
        "window_batch_size": INFERENCE_BATCH_SIZE,
        "device": None,
        "threads": None,
        "min_margin": 0.0,
        "dictionary": None,
    },
    assigns=["doc.ents", "doc.spans"],
)
def make_binder_ner(
    nlp: Language,
    name: str,
    model: str,
    backend: str,
    decoding: str | None,
    labels: list[str] | None,
    spans_key: str,
    overwrite_ents: bool,
    alignment_mode: str,
    window_batch_size: int,
    device: str | None,
    threads: int | None,
    min_margin: float,
    dictionary: str | None,
) -> BinderNER:
    """The ``binder_ner`` factory (the ``spacy_factories`` entry point)."""
    return BinderNER(
        nlp, name, model, backend=backend, decoding=decoding, labels=labels,
        spans_key=spans_key, overwrite_ents=overwrite_ents, alignment_mode=alignment_mode,
        window_batch_size=window_batch_size, device=device, threads=threads,
        min_margin=min_margin, dictionary=dictionary,
    )  # fmt: skip
