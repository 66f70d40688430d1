"""The linking index of a ~1M-term dictionary: build time, file size, load time, linking speed.

Run from the repository root::

    python -m benchmarks.bench_link_index [--data-dir ../shared/data] [--terms 1000000]
        [--work-dir /tmp/binder-bench-link] [--json OUT]

The dictionary is the one ``benchmarks.bench_compile`` builds (MeSH 2024 Chemicals + Diseases
and generated variants, every term with its descriptor id), compiled in this process. Timed:
``build_link_index`` (the names, the n-gram TF-IDF rows), ``save_link_index``, a fresh
``load_link_index`` with its checks, mining the word synonyms (on a linker's first use), and
linking 2,000 of the dictionary's own terms with a letter changed (the linker's work per
mention). Peak RSS is this process's (``ru_maxrss``) after each step.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from benchmarks.bench_compile import generate_terms
from benchmarks.bench_silver import MB, MESH_TERMS, check_data, mesh_entries
from benchmarks.corpus import DEFAULT_DATA
from dictionaries import compile_dictionary
from dictionaries.linking.index_file import build_link_index, load_link_index, save_link_index
from dictionaries.linking.linker import Linker

QUERIES = 2_000


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def misspelled(term: str, rng: random.Random) -> str:
    """``term`` with one letter replaced (a mention the dictionary does not hold exactly)."""
    positions = [i for i, c in enumerate(term) if c.isalpha()]
    if not positions:
        return term
    i = rng.choice(positions)
    return term[:i] + ("e" if term[i] != "e" else "a") + term[i + 1 :]


def run(data_dir: Path, terms: int, work: Path) -> dict[str, float]:
    entries = generate_terms(mesh_entries(data_dir, "full"), terms)
    compiled = compile_dictionary(entries)
    out: dict[str, float] = {"terms": len(entries), "keys": compiled.num_terms}
    out["peak_rss_mb_after_compile"] = _peak_mb()
    t0 = time.perf_counter()
    index = build_link_index(compiled)
    out["build_s"] = time.perf_counter() - t0
    out["names"] = index.num_names
    out["concepts"] = len(index.concepts)
    out["peak_rss_mb_after_build"] = _peak_mb()
    path = work / "bench.dict.link.npz"
    t0 = time.perf_counter()
    save_link_index(index, path)
    out["save_s"] = time.perf_counter() - t0
    out["file_mb"] = path.stat().st_size / MB
    t0 = time.perf_counter()
    loaded = load_link_index(path, fingerprint=compiled.fingerprint)
    out["load_s"] = time.perf_counter() - t0
    rng = random.Random(0)
    sample = rng.sample(entries, QUERIES)
    mentions = [misspelled(e.term, rng) for e in sample]
    linker = Linker(loaded)
    t0 = time.perf_counter()
    out["synonym_words"] = len(linker.synonyms)
    out["synonyms_s"] = time.perf_counter() - t0
    linker.link(mentions[:10], [e.label for e in sample[:10]])  # each label's block, once
    t0 = time.perf_counter()
    links = linker.link(mentions, [e.label for e in sample])
    out["link_ms_per_mention"] = (time.perf_counter() - t0) * 1000 / QUERIES
    out["linked_to_its_concept"] = (
        sum(link.concept_id == e.concept_id for link, e in zip(links, sample, strict=True))
        / QUERIES
    )
    out["peak_rss_mb"] = _peak_mb()
    path.unlink()
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--terms", type=int, default=1_000_000)
    parser.add_argument("--work-dir", type=Path, default=Path("/tmp/binder-bench-link"))
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    missing = check_data(args.data_dir, (MESH_TERMS,))
    if missing:
        print(f"bench_link_index skipped: {missing}", file=sys.stderr)
        return 0
    args.work_dir.mkdir(parents=True, exist_ok=True)
    result = run(args.data_dir, args.terms, args.work_dir)
    for key, value in result.items():
        print(f"{key:28s} {value:,.3f}" if isinstance(value, float) else f"{key:28s} {value:,}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
