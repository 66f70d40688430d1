"""Concept linking: a mention string and its type -> ranked concepts from the dictionary's names.

A dictionary misses a mention because its surface is none of the names it holds: an
inflection, another word order, a spelling variant, an abbreviation. Linking compares the
mention with the names instead of looking it up. Both become TF-IDF vectors of character
n-grams, and a mention's candidates are the concepts of its type whose names have the highest
cosine similarity with it (the classic baseline of biomedical linkers such as scispaCy's).

Design choices, stated once:

* Names are the compiled dictionary's keys (folded terms and their variants) that carry a
  concept id, read through :func:`dictionary_names`; a key with several concept ids gives one
  row per id, and a key with no id none. The name reported with a candidate is the dictionary
  term of that key (``matched_term`` of an exact match).
* Features are character n-grams inside words (so word order does not change the bag), hashed
  into ``2 ** hash_bits`` columns (:mod:`dictionaries.linking.ngrams`): there is no vocabulary,
  and the index is numbers and strings only (:mod:`dictionaries.linking.index_file`). Each word
  is reduced first (:mod:`dictionaries.linking.words`): by default the n-grams of its singular
  and those of its Snowball stem are summed, so "hepatotoxic" meets "hepatotoxicity" while an
  exact name still scores 1 and outranks a name that only shares its stem.
* Weights are smoothed IDF over the names (``ln((1 + N) / (1 + df)) + 1``, scikit-learn's
  formula) times the n-gram count, rows L2-normalized, so a dot product is the cosine.
* Rows are grouped by label: a query searches only the names of its own type.
* A concept scores its best name's cosine; ties go to the concept with more names (the better
  known one), then to the smaller id.
* A mention that is a short form defined in its document (``long form (SF)``) is queried with
  its long form; the surface itself is the fallback when the long form finds nothing above the
  threshold. A short form its document does not define takes the link of the span of its type
  whose initials, or else letters in order, spell it (:mod:`dictionaries.linking.long_forms`).
* A training set's annotated mentions may join the names
  (:mod:`dictionaries.linking.annotated`): the corpus's conventions, which no dictionary name
  states.
* Abstention: when the best score is below ``threshold`` the link keeps ``concept_id = ""`` and
  says why (:class:`Abstain`); its candidates are still listed.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from enum import Enum
from operator import itemgetter
from typing import Any, NamedTuple

import numpy as np
from scipy import sparse

from binder_core.contract.errors import ConfigError
from dictionaries.linking.long_forms import acronym_sources, document_long_forms, long_form_of
from dictionaries.linking.ngrams import l2_normalize_rows, ngram_counts
from dictionaries.linking.synonyms import mine_synonyms, word_variants
from dictionaries.linking.words import WORD_FORMS, WordForm
from dictionaries.normalize import normalize_term
from dictionaries.tables import StrTable


@dataclass(frozen=True)
class LinkConfig:
    """How names and mentions are vectorized and when a link abstains."""

    ngram_min: int = 3  # shortest character n-gram (inside words, padded with a space)
    ngram_max: int = 3  # longest character n-gram
    hash_bits: int = 20  # features are hashed into 2 ** hash_bits columns
    # cosine below which a mention keeps concept_id "" (abstains); chosen on BC5CDR and
    # NCBI-disease dev: the highest threshold with the best accuracy@1 on both (it abstains on
    # a quarter and an eighth of the mentions whose concept the dictionary lacks)
    threshold: float = 0.45
    top_k: int = 5  # candidates kept per mention
    word_form: WordForm = "singular+stem"  # how words are reduced before n-grams (linking.words)

    def __post_init__(self) -> None:
        if not 1 <= self.ngram_min <= self.ngram_max <= 8:
            raise ConfigError("link n-gram sizes: need 1 <= ngram_min <= ngram_max <= 8")
        if not 10 <= self.hash_bits <= 26:
            raise ConfigError("link hash_bits must be in [10, 26]")
        if not 0.0 <= self.threshold <= 1.0:
            raise ConfigError("link threshold must be in [0, 1]")
        if self.top_k < 1:
            raise ConfigError("link top_k must be at least 1")
        if self.word_form not in WORD_FORMS:
            raise ConfigError(f"link word_form must be one of {sorted(WORD_FORMS)}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LinkConfig:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


class Abstain(str, Enum):
    """Why a link has no concept id ("" on a linked span)."""

    NONE = ""  # linked
    BELOW_THRESHOLD = "below_threshold"  # the best candidate scores under the threshold
    NO_CANDIDATE = "no_candidate"  # no name of the type shares an n-gram with the mention
    UNKNOWN_LABEL = "unknown_label"  # the dictionary holds no concept of the mention's type


class Candidate(NamedTuple):
    concept_id: str
    score: float  # cosine similarity in [0, 1]
    name: str  # the dictionary term whose name scored best


class Link(NamedTuple):
    """The outcome for one mention: the chosen concept ("" when abstained) and the ranking."""

    concept_id: str
    score: float  # the best candidate's score (0.0 without candidates)
    name: str  # the best candidate's dictionary term ("" without candidates)
    abstain: Abstain
    candidates: tuple[Candidate, ...]


class Name(NamedTuple):
    key: str  # the folded dictionary key that is vectorized
    label: str
    concept_id: str  # one id
    term: str  # the dictionary term reported as the matched name


def dictionary_names(compiled: Any) -> Iterator[Name]:
    """Every (key, label, concept id) of a compiled dictionary, through its public tables.

    The one place that reads the compiled dictionary's layout for linking.
    """
    labels = compiled.labels
    starts = compiled.payload_start
    for k, key in enumerate(compiled.keys):
        for p in range(starts[k], starts[k + 1]):
            concepts = compiled.payload_concept[p]
            if not concepts:
                continue
            label = labels[compiled.payload_label[p]]
            term = compiled.payload_term[p]
            for concept in concepts.split("|"):
                yield Name(key, label, concept, term)


def ngram_vectors(strings: Sequence[str], config: LinkConfig) -> sparse.csr_matrix:
    """n-gram counts of folded strings (names or mentions), each word reduced first
    (:mod:`dictionaries.linking.words`)."""
    counts = [
        ngram_counts(strings, config.ngram_min, config.ngram_max, config.hash_bits, reduce)
        for reduce in WORD_FORMS[config.word_form]
    ]
    return counts[0] if len(counts) == 1 else sum(counts[1:], counts[0]).tocsr()


@dataclass(frozen=True, eq=False)
class LinkIndex:
    """The names of a dictionary as TF-IDF rows grouped by label; build with :func:`build_index`.

    ``matrix`` rows ``label_start[i]:label_start[i + 1]`` are the names of ``labels[i]``; row
    ``r`` names concept ``concepts[row_concept[r]]`` with term ``terms[row_term[r]]``.
    """

    fingerprint: str  # of the compiled dictionary the names come from
    config: LinkConfig
    labels: tuple[str, ...]
    label_start: np.ndarray  # (num_labels + 1,) int64
    matrix: sparse.csr_matrix  # (num_names, 2 ** hash_bits) float32, rows L2-normalized
    idf: np.ndarray  # (2 ** hash_bits,) float32; unseen n-grams get the largest IDF
    concepts: StrTable  # distinct concept ids, sorted
    row_concept: np.ndarray  # (num_names,) int32
    terms: StrTable  # distinct terms, sorted
    row_term: np.ndarray  # (num_names,) int32
    annotated: int = 0  # names learned from annotated mentions (linking.annotated)

    @property
    def num_names(self) -> int:
        return int(self.matrix.shape[0])


def build_index(
    names: Iterator[Name] | Sequence[Name],
    fingerprint: str,
    config: LinkConfig = LinkConfig(),
    annotated: int = 0,
) -> LinkIndex:
    """Vectorize ``names`` (see the module docstring); the result does not depend on their order."""
    rows = sorted(set(names))  # by key, label, concept, term; then stably by label:
    rows.sort(key=itemgetter(1))
    per_label = Counter(n.label for n in rows)
    labels = tuple(sorted(per_label))
    label_start = np.cumsum([0, *(per_label[label] for label in labels)], dtype=np.int64)
    counts = ngram_vectors([n.key for n in rows], config)
    df = np.bincount(counts.indices, minlength=counts.shape[1])
    idf = smooth_idf(df, len(rows))
    concepts = sorted({n.concept_id for n in rows})
    concept_index = {c: i for i, c in enumerate(concepts)}
    terms = sorted({n.term for n in rows})
    term_index = {t: i for i, t in enumerate(terms)}
    return LinkIndex(
        fingerprint=fingerprint,
        config=config,
        labels=labels,
        label_start=label_start,
        matrix=weigh(counts, idf),
        idf=idf,
        concepts=StrTable(concepts),
        row_concept=np.array([concept_index[n.concept_id] for n in rows], dtype=np.int32),
        terms=StrTable(terms),
        row_term=np.array([term_index[n.term] for n in rows], dtype=np.int32),
        annotated=annotated,
    )


def smooth_idf(df: np.ndarray, num_names: int) -> np.ndarray:
    """``ln((1 + N) / (1 + df)) + 1`` per column; a column no name has gets the largest value."""
    return (np.log((1.0 + num_names) / (1.0 + df)) + 1.0).astype(np.float32)


def weigh(counts: sparse.csr_matrix, idf: np.ndarray) -> sparse.csr_matrix:
    """n-gram counts -> L2-normalized TF-IDF rows (float32)."""
    return l2_normalize_rows(counts.multiply(idf[np.newaxis, :]).tocsr())


CACHE_SIZE = 200_000
"""Mentions (folded form, label) whose candidates a :class:`Linker` keeps."""


class Linker:
    """Queries one :class:`LinkIndex`; build once per index and worker (it keeps each label's
    names transposed for the products)."""

    def __init__(self, index: LinkIndex) -> None:
        self.index = index
        self._blocks: dict[str, tuple[int, sparse.csr_matrix]] = {}
        counts = np.bincount(index.row_concept, minlength=len(index.concepts))
        self._names_per_concept = counts
        self._cache: dict[tuple[str, str], list[Candidate]] = {}
        self._synonyms: dict[str, tuple[str, ...]] | None = None

    def _block(self, label: str) -> tuple[int, sparse.csr_matrix] | None:
        found = self._blocks.get(label)
        if found is None:
            index = self.index
            try:
                i = index.labels.index(label)
            except ValueError:
                return None
            lo, hi = int(index.label_start[i]), int(index.label_start[i + 1])
            found = self._blocks[label] = (lo, index.matrix[lo:hi].T.tocsr())
        return found

    def candidates(self, mentions: Sequence[str], label: str) -> list[list[Candidate]]:
        """The top candidates (best first) of each mention among the names of ``label``.

        A mention's candidates depend on its folded form and label alone, so they are kept
        (up to :data:`CACHE_SIZE` of them): a corpus names the same entities over and over.
        """
        block = self._block(label)
        if block is None or not mentions:
            return [[] for _ in mentions]
        keys = [normalize_term(m) for m in mentions]
        cache = self._cache
        todo = sorted({k for k in keys if (k, label) not in cache})
        if todo:
            if len(cache) + len(todo) > CACHE_SIZE:
                cache.clear()
            lo, names_t = block
            synonyms = self.synonyms
            reduce = WORD_FORMS[self.index.config.word_form][0]
            variants = [word_variants(reduce(k), synonyms) for k in todo]
            queries = [*todo, *(v for vs in variants for v in vs)]
            counts = ngram_vectors(queries, self.index.config)
            scores = (weigh(counts, self.index.idf) @ names_t).tocsr()
            ranked = [self._rank(scores, i, lo) for i in range(len(queries))]
            at = len(todo)
            for i, key in enumerate(todo):
                found = ranked[i] + [c for r in ranked[at : at + len(variants[i])] for c in r]
                at += len(variants[i])
                cache[key, label] = _best_per_concept(found, self.index.config.top_k)
        return [cache[k, label] for k in keys]

    @property
    def synonyms(self) -> dict[str, tuple[str, ...]]:
        """Word synonyms mined from the index's names (:mod:`~dictionaries.linking.synonyms`)."""
        if self._synonyms is None:
            index = self.index
            by_concept: dict[int, set[int]] = {}
            for concept, term in zip(index.row_concept.tolist(), index.row_term.tolist(),
                                     strict=True):  # fmt: skip
                by_concept.setdefault(concept, set()).add(term)
            terms, reduce = index.terms, WORD_FORMS[index.config.word_form][0]
            self._synonyms = mine_synonyms(
                [reduce(normalize_term(terms[t])) for t in ts] for ts in by_concept.values()
            )
        return self._synonyms

    def _rank(self, scores: sparse.csr_matrix, i: int, lo: int) -> list[Candidate]:
        start, end = scores.indptr[i], scores.indptr[i + 1]
        cols, values = scores.indices[start:end], scores.data[start:end]
        top_k = self.index.config.top_k
        keep = min(len(values), 16 * top_k)
        if keep == 0:
            return []
        top = np.argpartition(-values, keep - 1)[:keep] if keep < len(values) else slice(None)
        best: dict[int, tuple[float, int]] = {}
        for col, value in zip(cols[top].tolist(), values[top].tolist(), strict=True):
            row = lo + col
            concept = int(self.index.row_concept[row])
            if concept not in best or value > best[concept][0]:
                best[concept] = (value, row)
        prior = self._names_per_concept
        concepts = self.index.concepts
        ranked = sorted(best.items(), key=lambda kv: (-kv[1][0], -prior[kv[0]], concepts[kv[0]]))
        terms, row_term = self.index.terms, self.index.row_term
        return [
            Candidate(concepts[c], min(1.0, round(score, 6)), terms[row_term[row]])
            for c, (score, row) in ranked[:top_k]
        ]

    def link(self, mentions: Sequence[str], labels: Sequence[str]) -> list[Link]:
        """One :class:`Link` per ``(mention, label)``, mentions of a label searched together."""
        out: list[Link | None] = [None] * len(mentions)
        by_label: dict[str, list[int]] = {}
        for i, label in enumerate(labels):
            by_label.setdefault(label, []).append(i)
        for label, positions in by_label.items():
            if self._block(label) is None:
                for i in positions:
                    out[i] = Link("", 0.0, "", Abstain.UNKNOWN_LABEL, ())
                continue
            found = self.candidates([mentions[i] for i in positions], label)
            for i, candidates in zip(positions, found, strict=True):
                out[i] = decide(candidates, self.index.config.threshold)
        return [link for link in out if link is not None]

    def link_in_document(self, text: str, spans: Sequence[tuple[int, int, str]]) -> list[Link]:
        """Links of ``(start, end, label)`` spans of ``text``: a short form by its long form, or
        else like the span whose initials spell it (:mod:`dictionaries.linking.long_forms`)."""
        surfaces = [text[s:e] for s, e, _ in spans]
        labels = [label for _, _, label in spans]
        links = self.link(surfaces, labels)
        long_forms = document_long_forms(text, spans) if spans else {}
        defined = {i: long_form_of(long_forms, surfaces[i], labels[i]) for i in range(len(spans))}
        redo = [i for i, long_form in defined.items() if long_form is not None]
        expanded = self.link([defined[i] or "" for i in redo], [labels[i] for i in redo])
        for i, alt in zip(redo, expanded, strict=True):
            if alt.concept_id:
                links[i] = alt
        linked = [bool(link.concept_id) for link in links]
        named = [link.score >= 1.0 for link in links]
        for i, j in acronym_sources(text, spans, linked, named).items():
            if defined[i] is None:
                links[i] = links[j]
        return links


def _best_per_concept(found: Sequence[Candidate], top_k: int) -> list[Candidate]:
    """The best-scoring candidate of each concept, best first; on a tie the one found first
    (the mention's own ranking before its variants')."""
    best: dict[str, Candidate] = {}
    for c in found:
        if c.concept_id not in best or c.score > best[c.concept_id].score:
            best[c.concept_id] = c
    return sorted(best.values(), key=lambda c: -c.score)[:top_k]


def decide(candidates: Sequence[Candidate], threshold: float) -> Link:
    """The link that ``candidates`` (best first) give under ``threshold``."""
    if not candidates:
        return Link("", 0.0, "", Abstain.NO_CANDIDATE, ())
    best = candidates[0]
    if best.score < threshold or math.isclose(best.score, 0.0):
        return Link("", best.score, best.name, Abstain.BELOW_THRESHOLD, tuple(candidates))
    return Link(best.concept_id, best.score, best.name, Abstain.NONE, tuple(candidates))


def exact_test(compiled: Any) -> Callable[[str, str], bool]:
    """``(surface, label) -> bool``: whether ``compiled`` holds the folded surface as a key of
    that label (what its exact matching would find, case rules aside)."""
    labels, starts = compiled.labels, compiled.payload_start

    def is_exact(surface: str, label: str) -> bool:
        k = compiled.index_of(normalize_term(surface))
        if k is None:
            return False
        return any(
            labels[compiled.payload_label[p]] == label for p in range(starts[k], starts[k + 1])
        )

    return is_exact
