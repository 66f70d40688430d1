"""Silver data reports: summary statistics (with charts) and exact-match evaluation against gold.

Both stream the Parquet shards through :func:`binder_core.schema.iter_documents`, so the schema
is checked and memory stays bounded by one record batch, plus the per-label term counts (stats)
or the gold spans (eval; gold sets are small).

Evaluation rules (``binder silver eval``):

* A silver span is correct when a gold span of the same document has the same start, end and
  label (:mod:`binder_core.metrics`).
* Documents are joined on ``doc_id``; a pair whose texts differ is an error, since offsets would
  not be comparable.
* Uncertain silver spans are predictions like any other by default (``uncertain="include"``);
  ``"exclude"`` drops them before scoring. Either way their number is reported.
* Gold documents missing from the silver count as documents with no predictions, so their gold
  spans are false negatives (``missing="false-negatives"``); ``"skip"`` leaves them out. Silver
  documents without gold are never scored. Both are counted, with example ids.
* Only the gold set's labels are scored unless ``labels`` is given; silver spans of other labels
  are counted as ``silver_other_labels`` and not scored.
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import os
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

from binder_core.errors import ConfigError, InputError
from binder_core.metrics import SpanCounter, SpanKey
from binder_core.schema import iter_documents, open_dataset

UncertainPolicy = Literal["include", "exclude"]
MissingPolicy = Literal["false-negatives", "skip"]
UNCERTAIN_POLICIES: tuple[str, ...] = get_args(UncertainPolicy)
MISSING_POLICIES: tuple[str, ...] = get_args(MissingPolicy)

SPANS_PER_DOC_BINS: tuple[tuple[int, int | None], ...] = (
    (0, 0), (1, 1), (2, 2), (3, 3), (4, 5), (6, 10), (11, 20), (21, 50), (51, None)
)  # fmt: skip
SPAN_WORDS_MAX = 10  # span-length histogram: 1..10 words, then "11+"
COVERAGE_BINS = 20  # per-document share of characters covered, in steps of 5%
EXAMPLE_IDS = 10  # doc ids listed per category in the eval report


# ----------------------------------------------------------------------------------------- stats
@dataclass(frozen=True)
class SilverStats:
    """Counts over a silver (or gold) data set; :meth:`to_dict` is the ``--json`` output."""

    path: str
    labels: tuple[str, ...]  # the data set's label set, from its metadata
    documents: int
    documents_with_spans: int
    characters: int
    characters_covered: int  # union of span offsets, so nested spans count once
    spans: int
    spans_per_label: Mapping[str, int]
    uncertain: int
    uncertain_per_label: Mapping[str, int]
    origins: Mapping[str, int]
    spans_per_document_mean: float
    spans_per_document_max: int
    spans_per_document_histogram: Mapping[str, int]
    span_length_words_histogram: Mapping[str, int]
    coverage_histogram: Mapping[str, int]  # documents per tenth of characters covered
    top_terms: Mapping[str, list[tuple[str, int]]] = field(default_factory=dict)

    @property
    def document_coverage(self) -> float:
        """Share of documents with at least one span."""
        return self.documents_with_spans / self.documents if self.documents else 0.0

    @property
    def character_coverage(self) -> float:
        """Share of all text characters inside at least one span."""
        return self.characters_covered / self.characters if self.characters else 0.0

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["labels"] = list(self.labels)
        d["document_coverage"] = self.document_coverage
        d["character_coverage"] = self.character_coverage
        d["top_terms"] = {k: [[t, n] for t, n in v] for k, v in self.top_terms.items()}
        return d


def _bin_label(lo: int, hi: int | None) -> str:
    return f"{lo}+" if hi is None else (str(lo) if lo == hi else f"{lo}-{hi}")


def _coverage_bin(share: float) -> str:
    """Lower edge of the coverage bin holding ``share`` (in [0, 1]), e.g. ``"0.15"``."""
    return f"{min(int(share * COVERAGE_BINS), COVERAGE_BINS - 1) / COVERAGE_BINS:.2f}"


def _covered(spans: Iterable[tuple[int, int]]) -> int:
    """Characters inside the union of half-open intervals."""
    total, reach = 0, 0
    for start, end in sorted(spans):
        if end > reach:
            total += end - max(start, reach)
            reach = end
    return total


def silver_stats(path: str | os.PathLike[str], top_k: int = 10) -> SilverStats:
    """Stream a data set once and summarise it (``top_k`` most frequent terms per label).

    A term is the span's ``matched_term``, or its surface text when that is empty (gold).
    """
    _, meta = open_dataset(path)
    docs = with_spans = chars = covered = max_spans = 0
    per_label: Counter[str] = Counter()
    uncertain: Counter[str] = Counter()
    origins: Counter[str] = Counter()
    terms: dict[str, Counter[str]] = {}
    per_doc = Counter({_bin_label(lo, hi): 0 for lo, hi in SPANS_PER_DOC_BINS})
    lengths = Counter(
        {str(n): 0 for n in range(1, SPAN_WORDS_MAX + 1)} | {f"{SPAN_WORDS_MAX + 1}+": 0}
    )
    coverage = Counter({_coverage_bin(i / COVERAGE_BINS): 0 for i in range(COVERAGE_BINS)})
    for doc in iter_documents(path):
        text, spans = doc["text"], doc["spans"]
        docs += 1
        chars += len(text)
        with_spans += bool(spans)
        max_spans = max(max_spans, len(spans))
        n_cov = _covered((s["start"], s["end"]) for s in spans)
        covered += n_cov
        share = n_cov / len(text) if text else 0.0
        coverage[_coverage_bin(share)] += 1
        per_doc[next(_bin_label(lo, hi) for lo, hi in SPANS_PER_DOC_BINS
                     if hi is None or len(spans) <= hi)] += 1  # fmt: skip
        for s in spans:
            label, surface = s["label"], text[s["start"] : s["end"]]
            per_label[label] += 1
            uncertain[label] += bool(s["uncertain"])
            origins[s["origin"]] += 1
            words = len(surface.split())
            lengths[str(words) if words <= SPAN_WORDS_MAX else f"{SPAN_WORDS_MAX + 1}+"] += 1
            terms.setdefault(label, Counter())[s["matched_term"] or surface] += 1
    n_spans = sum(per_label.values())
    return SilverStats(
        path=str(path),
        labels=meta.labels,
        documents=docs,
        documents_with_spans=with_spans,
        characters=chars,
        characters_covered=covered,
        spans=n_spans,
        spans_per_label=dict(sorted(per_label.items())),
        uncertain=sum(uncertain.values()),
        uncertain_per_label=dict(sorted(uncertain.items())),
        origins=dict(sorted(origins.items())),
        spans_per_document_mean=n_spans / docs if docs else 0.0,
        spans_per_document_max=max_spans,
        spans_per_document_histogram=dict(per_doc),
        span_length_words_histogram=dict(lengths),
        coverage_histogram=dict(coverage),
        top_terms={
            label: sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))[:top_k]
            for label, c in sorted(terms.items())
        },
    )


# ---------------------------------------------------------------------------------------- charts
def render_stats_charts(stats: SilverStats) -> dict[str, bytes]:
    """PNG bytes of three charts: label counts, span length (words), coverage per document."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    def bar(title: str, xlabel: str, ylabel: str, data: Mapping[str, int],
            horizontal: bool = False, extra: Mapping[str, int] | None = None) -> bytes:  # fmt: skip
        fig = Figure(figsize=(7, max(2.2, 0.9 + 0.35 * len(data))) if horizontal else (7, 3.6),
                     dpi=110)  # fmt: skip
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        keys, values = list(data), list(data.values())
        if horizontal:
            ax.barh(keys, values, color="#4477aa", label="all spans")
            if extra and any(extra.values()):
                ax.barh(
                    keys,
                    [extra.get(k, 0) for k in keys],
                    color="#ee9944",
                    label="of which uncertain",
                )
                ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
            ax.invert_yaxis()
            for y, v in enumerate(values):
                ax.annotate(f"{v:,}", (v, y), xytext=(3, 0), textcoords="offset points",
                            va="center", fontsize=8)  # fmt: skip
        else:
            ax.bar(keys, values, color="#4477aa")
            for x, v in enumerate(values):
                if v:
                    ax.annotate(f"{v:,}", (x, v), xytext=(0, 2), textcoords="offset points",
                                ha="center", fontsize=7)  # fmt: skip
            ax.tick_params(axis="x", labelsize=8, labelrotation=45 if len(keys) > 12 else 0)
        (ax.xaxis if horizontal else ax.yaxis).set_major_locator(MaxNLocator(integer=True))
        ax.set_title(title)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.spines[["top", "right"]].set_visible(False)
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
        return buf.getvalue()

    return {
        "label_counts.png": bar(
            f"Spans per label ({stats.spans:,} spans, {stats.documents:,} documents)",
            "spans", "", stats.spans_per_label or {"(none)": 0}, horizontal=True,
            extra=stats.uncertain_per_label,
        ),
        "span_length.png": bar(
            "Span length", "words per span", "spans", stats.span_length_words_histogram
        ),
        "coverage.png": bar(
            f"Coverage per document (overall {stats.character_coverage:.1%} of characters)",
            "share of the document's characters inside a span (lower edge of bin)",
            "documents", stats.coverage_histogram,
        ),
    }  # fmt: skip


def write_stats_pngs(stats: SilverStats, out_dir: str | os.PathLike[str]) -> list[Path]:
    """Write the charts of :func:`render_stats_charts` into ``out_dir``; returns their paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, png in render_stats_charts(stats).items():
        (out / name).write_bytes(png)
        paths.append(out / name)
    return paths


def write_stats_html(stats: SilverStats, path: str | os.PathLike[str]) -> Path:
    """A self-contained HTML report: summary, charts (embedded PNG) and top terms."""
    e = html.escape
    rows = [
        ("documents", f"{stats.documents:,}"),
        ("documents with ≥ 1 span",
         f"{stats.documents_with_spans:,} ({stats.document_coverage:.1%})"),
        ("characters covered", f"{stats.characters_covered:,} of {stats.characters:,} "
                               f"({stats.character_coverage:.1%})"),
        ("spans", f"{stats.spans:,}"),
        ("spans per document", f"mean {stats.spans_per_document_mean:.2f}, "
                               f"max {stats.spans_per_document_max:,}"),
        ("uncertain spans", f"{stats.uncertain:,}"),
        ("origins", ", ".join(f"{k}: {v:,}" for k, v in stats.origins.items()) or "-"),
    ]  # fmt: skip
    summary = "".join(f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in rows)
    charts = "".join(
        f'<figure><img alt="{e(name)}" src="data:image/png;base64,'
        f'{base64.b64encode(png).decode()}"></figure>'
        for name, png in render_stats_charts(stats).items()
    )
    terms = "".join(
        f"<h3>{e(label)}</h3><table>"
        + "".join(f"<tr><td>{e(t)}</td><td>{n:,}</td></tr>" for t, n in top)
        + "</table>"
        for label, top in stats.top_terms.items()
    )
    page = (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>binder-ner stats: {e(stats.path)}</title><style>"
        "body{font-family:sans-serif;max-width:60em;margin:2em auto}"
        "th{text-align:left;padding-right:1em}td{padding-right:1em}img{max-width:100%}"
        f"</style></head><body><h1>Silver data: {e(stats.path)}</h1>"
        f"<table>{summary}</table><h2>Charts</h2>{charts}<h2>Top terms per label</h2>{terms}"
        "</body></html>\n"
    )
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    return out


# ------------------------------------------------------------------------------------------ eval
@dataclass(frozen=True)
class EvalConfig:
    """How ``binder silver eval`` scores silver spans against gold (see the module docstring)."""

    uncertain: UncertainPolicy = "include"
    missing: MissingPolicy = "false-negatives"
    labels: tuple[str, ...] = ()  # score only these; empty: the gold set's labels

    def __post_init__(self) -> None:
        if self.uncertain not in UNCERTAIN_POLICIES:
            raise ConfigError(
                f"uncertain must be one of {UNCERTAIN_POLICIES}, got {self.uncertain!r}"
            )
        if self.missing not in MISSING_POLICIES:
            raise ConfigError(f"missing must be one of {MISSING_POLICIES}, got {self.missing!r}")


def _text_digest(text: str) -> bytes:
    return hashlib.sha1(text.encode("utf-8")).digest()


def silver_eval(
    silver: str | os.PathLike[str],
    gold: str | os.PathLike[str],
    config: EvalConfig | None = None,
) -> dict[str, Any]:
    """Exact span + label P/R/F1 of ``silver`` against ``gold``; a JSON-ready dict.

    Top-level keys: ``precision``, ``recall``, ``f1`` (micro), the counts, ``macro_f1``,
    ``per_label``, ``labels``, ``documents``, ``spans`` and ``options``.
    """
    config = config or EvalConfig()
    _, gold_meta = open_dataset(gold)
    open_dataset(silver)  # check the schema before reading anything
    gold_docs: dict[str, tuple[bytes, set[SpanKey]]] = {}
    for doc in iter_documents(gold, columns=("doc_id", "text", "spans")):
        if doc["doc_id"] in gold_docs:
            raise InputError(f"document id {doc['doc_id']!r} appears twice; ids must be unique",
                             path=str(gold))  # fmt: skip
        keys = {(s["start"], s["end"], s["label"]) for s in doc["spans"]}
        gold_docs[doc["doc_id"]] = (_text_digest(doc["text"]), keys)
    labels = config.labels or tuple(
        sorted(set(gold_meta.labels) | {k[2] for _, ks in gold_docs.values() for k in ks})
    )
    counter = SpanCounter(labels)
    seen: set[str] = set()
    silver_only: list[str] = []
    duplicates: list[str] = []
    spans = Counter[str]()
    for doc in iter_documents(silver, columns=("doc_id", "text", "spans")):
        doc_id = doc["doc_id"]
        spans["silver"] += len(doc["spans"])
        if doc_id not in gold_docs:
            silver_only.append(doc_id)
            continue
        if doc_id in seen:
            duplicates.append(doc_id)
            continue
        seen.add(doc_id)
        digest, gold_keys = gold_docs[doc_id]
        if _text_digest(doc["text"]) != digest:
            raise InputError(
                f"document {doc_id!r} has a different text than in the gold set {gold}; "
                "offsets cannot be compared (build the silver from the same texts)",
                path=str(silver),
            )
        predicted: list[SpanKey] = []
        for s in doc["spans"]:
            spans["silver_uncertain"] += s["uncertain"]
            if s["uncertain"] and config.uncertain == "exclude":
                spans["uncertain_excluded"] += 1
            elif s["label"] not in labels:
                spans["silver_other_labels"] += 1
            else:
                predicted.append((s["start"], s["end"], s["label"]))
        counter.update(gold_keys, predicted)
    gold_only = sorted(d for d in gold_docs if d not in seen)
    if config.missing == "false-negatives":
        for doc_id in gold_only:
            counter.update(gold_docs[doc_id][1], ())
    scores = counter.result().to_dict()
    return {
        **scores,
        "labels": list(labels),
        "documents": {
            "gold": len(gold_docs),
            "matched": len(seen),
            "scored": counter.documents,
            "gold_only": len(gold_only),
            "silver_only": len(silver_only),
            "silver_duplicates": len(duplicates),
            "gold_only_examples": gold_only[:EXAMPLE_IDS],
            "silver_only_examples": silver_only[:EXAMPLE_IDS],
        },
        "spans": {
            "gold": sum(len(ks) for _, ks in gold_docs.values()),
            "silver": spans["silver"],
            "silver_uncertain": spans["silver_uncertain"],
            "uncertain_excluded": spans["uncertain_excluded"],
            "silver_other_labels": spans["silver_other_labels"],
        },
        "options": {"uncertain": config.uncertain, "missing": config.missing},
        "silver": str(silver),
        "gold": str(gold),
    }
