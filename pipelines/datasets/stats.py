"""Silver data reports: summary statistics, with charts and an HTML page.

The Parquet shards are streamed through :func:`binder_core.contract.schema.iter_documents`, so the
schema is checked and memory stays bounded by one record batch, plus the per-label term counts.
What the labeling step counted (abbreviation definitions found, spans it added) is read from
the run's ``_manifest.json`` when the data set has one.

Scoring against gold (``binder silver eval``) lives in :mod:`pipelines.datasets.evaluate`.
"""

from __future__ import annotations

import base64
import html
import io
import json
import os
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from binder_core.contract.schema import MANIFEST_NAME, iter_documents, open_dataset

SPANS_PER_DOC_BINS: tuple[tuple[int, int | None], ...] = (
    (0, 0), (1, 1), (2, 2), (3, 3), (4, 5), (6, 10), (11, 20), (21, 50), (51, None)
)  # fmt: skip
SPAN_WORDS_MAX = 10  # span-length histogram: 1..10 words, then "11+"
COVERAGE_BINS = 20  # per-document share of characters covered, in steps of 5%


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
    # The manifest's ``counts.labeling`` (abbreviations, held-out and uncertain-dictionary
    # spans); empty when the data set has no silver manifest.
    labeling: Mapping[str, int] = field(default_factory=dict)

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


def _manifest_labeling(path: str | os.PathLike[str]) -> dict[str, int]:
    manifest = Path(path) / MANIFEST_NAME
    if not manifest.is_file():
        return {}
    try:
        counts = json.loads(manifest.read_text(encoding="utf-8")).get("counts", {})
    except (json.JSONDecodeError, AttributeError):
        return {}
    labeling = counts.get("labeling", {}) if isinstance(counts, dict) else {}
    return {str(k): int(v) for k, v in labeling.items()} if isinstance(labeling, dict) else {}


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
        labeling=_manifest_labeling(path),
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
        *((k.replace("_", " "), f"{v:,}") for k, v in stats.labeling.items() if v),
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
