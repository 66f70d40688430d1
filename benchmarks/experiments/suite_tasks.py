"""The development suite's tasks: where each one's gold dev set, raw text and dictionary come from.

Each task is prepared once under ``OUT/TASK/`` (gold dev Parquet, the raw training text capped at
the pilot's document count, the compiled dictionary, its silver labels on the training text and
on the gold dev text) and reused by every training variant. The recipes are those of
``08_distant.sh``; the new-domain task (``jnlpba``) is built here:

- ``bc5cdr``: BC5CDR dev gold; raw text BC5CDR train abstracts, PubMedQA and GENIA (BC5CDR dev
  and test left out); ``dict_core`` (AutoNER's core dictionary).
- ``ncbi``: NCBI-disease dev gold (four mention classes -> Disease); raw text NCBI train texts,
  then PubMedQA and GENIA; MeSH 2024, branches C and F03 as Disease, with the 2017 tree table,
  plural and British variants, and composite mentions (BENCHMARKS.md's final NCBI recipe).
- ``conll``: CoNLL ``eng.testa`` gold; raw text ``eng.train`` (labels stripped); the LexiconNER
  gazetteers, case exact-or-upper, whole names around a PER match (``--name-label PER``).
- ``jnlpba``: JNLPBA dev gold (protein, DNA, RNA, cell_type, cell_line: types no other task
  has); raw text the GENIA abstracts that share no sentence with it; a KB from MeSH 2024 trees
  (:data:`JNLPBA_BRANCHES`, top-level tree numbers from the 2017 tree table) without the types'
  own names (:data:`TYPE_NAMES`).
- ``sample``: the shipped ``examples/sample`` (the smoke test's task).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from benchmarks.corpus import _genia_texts

JNLPBA_BRANCHES = ",".join(
    [
        "D12.776=protein",
        "D12.644.276=protein",
        "D23.529=protein",
        "D08.811=protein",
        "D13.444.308=DNA",
        "G05.360.340.024.340=DNA",
        "D13.444.735=RNA",
        "A11=cell_type",
        "A15.145.229=cell_type",
        "A15.382.490=cell_type",
        "A11.251=",
        "A11.251.210=cell_line",
    ]
)
"""MeSH tree prefix -> JNLPBA type (the longest prefix wins; cultured cells other than cell
lines are left out): proteins, signalling peptides and enzymes; DNA and genes; RNA; cells and
blood and immune cells; cell lines."""
TYPE_NAMES = ("cell", "cells", "gene", "genes", "protein", "proteins", "DNA", "RNA", "mRNA",
              "cell line", "cell lines")  # fmt: skip
"""The types' own names, which MeSH holds as the roots of their branches: a mention of one is a
class, not an entity (JNLPBA does not annotate "cells" or "protein" alone)."""
NCBI_MAP = ("SpecificDisease", "DiseaseClass", "Modifier", "CompositeMention")
CONLL_GAZETTEERS = (
    ("PER", "person"),
    ("LOC", "location"),
    ("ORG", "organization"),
    ("MISC", "misc"),
)
MESH = "dictionaries/mesh2024_flat/mesh2024_terms.tsv.gz"
TREES = "dictionaries/mesh2017_tree/2017MeshTree.txt"

Run = Callable[[str, Sequence[str]], None]
"""``run(log_name, argv)``: one command of the suite, logged under that name."""


def binder(*args: str) -> list[str]:
    """The argv of a ``binder`` command run by this checkout's interpreter."""
    return [sys.executable, "-m", "cli.main", *args]


def raw_corpus(*args: str) -> list[str]:
    return [sys.executable, "-m", "benchmarks.raw_corpus", *args]


@dataclass(frozen=True)
class Prepared:
    """A task ready to train: what its variants share."""

    name: str
    gold_dev: Path
    silver_train: Path
    silver_dev: Path  # the gold dev text labelled by the dictionary: the dictionary's output
    dictionary: Path
    types: str


def cap_lines(source: Iterable[str], out: Path, limit: int) -> int:
    """Write the first ``limit`` non-empty lines of ``source`` to ``out``; return how many."""
    count = 0
    with out.open("w", encoding="utf-8") as fh:
        for line in source:
            if count >= limit:
                break
            if line.strip():
                fh.write(line.rstrip("\n") + "\n")
                count += 1
    return count


def conll_sentences(path: Path) -> list[str]:
    """The sentences of a ``token<TAB>tag`` file, tokens joined by single spaces."""
    sentences: list[str] = []
    tokens: list[str] = []
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        token = line.split("\t")[0].strip()
        if not token or token == "-DOCSTART-":
            if tokens:
                sentences.append(" ".join(tokens))
            tokens = []
            continue
        tokens.append(token)
    return sentences


def without_sentences(
    docs: Iterable[tuple[str, str]], sentences: Iterable[str], min_chars: int = 30
) -> Iterator[tuple[str, str]]:
    """The documents that contain none of ``sentences`` (those of ``min_chars`` or more: a short
    one such as "Results ." says nothing about where a document comes from)."""
    held = [s for s in sentences if len(s) >= min_chars]
    for doc_id, text in docs:
        if not any(s in text for s in held):
            yield doc_id, text


def _jsonl(docs: Iterable[tuple[str, str]]) -> Iterator[str]:
    for doc_id, text in docs:
        yield json.dumps({"id": doc_id, "text": text}, ensure_ascii=False)


def prepare(
    task: str, data: Path, root: Path, run: Run, max_train_docs: int, repo: Path
) -> Prepared:
    """Build (or reuse) ``root/task``'s gold dev set, raw text, dictionary and silver labels."""
    t = root / task
    t.mkdir(parents=True, exist_ok=True)
    gold_dev, raw = t / "gold_dev", t / "raw_train.jsonl"
    compile_args: list[str]
    silver_args: list[str] = []
    if task == "bc5cdr":
        p = data / "bc5cdr/pubtator"
        types = "bc5cdr"
        _convert(
            run, gold_dev, [str(p / "CDR_DevelopmentSet.PubTator.txt"), "--format", "pubtator"]
        )
        if not raw.exists():
            full = t / "raw_all.jsonl"
            run(
                "raw_corpus",
                raw_corpus(
                    str(full),
                    "--data-dir",
                    str(data),
                    "--exclude-pubtator",
                    str(p / "CDR_DevelopmentSet.PubTator.txt"),
                    "--exclude-pubtator",
                    str(p / "CDR_TestSet.PubTator.txt"),
                ),
            )
            cap_lines(full.open(encoding="utf-8"), raw, max_train_docs)
        compile_args = ["--source", f"autoner={data / 'bc5cdr/autoner/dict_core.txt'}"]
    elif task == "ncbi":
        n = data / "ncbi_disease/original"
        types = "ncbi_disease"
        maps = [a for label in NCBI_MAP for a in ("--label-map", f"{label}=Disease")]
        _convert(
            run, gold_dev, [str(n / "NCBIdevelopset_corpus.txt"), "--format", "pubtator", *maps]
        )
        if not raw.exists():
            _convert(
                run,
                t / "gold_train",
                [str(n / "NCBItrainset_corpus.txt"), "--format", "pubtator", *maps],
            )
            run(
                "texts_train",
                binder("data", "texts", str(t / "gold_train"), str(t / "raw_ncbi.jsonl")),
            )
            run(
                "raw_corpus",
                raw_corpus(
                    str(t / "raw_other.jsonl"),
                    "--data-dir",
                    str(data),
                    "--sources",
                    "pubmedqa,genia,genia-test",
                    "--exclude-pubtator",
                    str(n / "NCBItestset_corpus.txt"),
                    "--exclude-pubtator",
                    str(n / "NCBIdevelopset_corpus.txt"),
                ),
            )
            lines = [
                *(t / "raw_ncbi.jsonl").open(encoding="utf-8"),
                *(t / "raw_other.jsonl").open(encoding="utf-8"),
            ]
            cap_lines(lines, raw, max_train_docs)
        compile_args = [
            "--source",
            f"mesh={data / MESH}",
            "--mesh-branches",
            "C=Disease,F03=Disease",
            "--mesh-trees",
            str(data / TREES),
            "--variant",
            "plural,british",
        ]
        silver_args = ["--composite-mentions"]
    elif task == "conll":
        c = data / "conll2003"
        types = "conll2003"
        _convert(run, gold_dev, [str(c / "eng.testa"), "--format", "conll"])
        if not raw.exists():
            _convert(run, t / "gold_train", [str(c / "eng.train"), "--format", "conll"])
            run(
                "texts_train",
                binder("data", "texts", str(t / "gold_train"), str(t / "raw_all.jsonl")),
            )
            cap_lines((t / "raw_all.jsonl").open(encoding="utf-8"), raw, max_train_docs)
        lex = data / "dictionaries/conll2003_lexiconner"
        compile_args = [
            a
            for label, name in CONLL_GAZETTEERS
            for a in ("--source", f"terms[label={label},case=exact-or-upper]={lex / name}.txt")
        ]
        silver_args = ["--name-label", "PER"]  # whole names around a gazetteer's first name
    elif task == "jnlpba":
        dev = data / "jnlpba/devel.tsv"
        types = "genia"
        _convert(run, gold_dev, [str(dev), "--format", "conll"])
        if not raw.exists():
            genia = [
                *_genia_texts(data / "raw_text/genia_pos/GENIAtrain.pos"),
                *_genia_texts(data / "raw_text/genia_pos/GENIAtest.pos"),
            ]
            kept = without_sentences(genia, conll_sentences(dev))
            cap_lines(_jsonl(kept), raw, max_train_docs)
        compile_args = [
            *[a for word in TYPE_NAMES for a in ("--stopword", word)],
            "--source",
            f"mesh={data / MESH}",
            "--mesh-branches",
            JNLPBA_BRANCHES,
            "--mesh-trees",
            str(data / TREES),
        ]
    elif task == "sample":
        s = repo / "examples/sample"
        types = str(s / "types.json")
        _convert(run, gold_dev, [str(s / "gold_test.pubtator"), "--format", "pubtator"])
        if not raw.exists():
            cap_lines((s / "corpus_train.jsonl").open(encoding="utf-8"), raw, max_train_docs)
        compile_args = ["--source", f"kb={s / 'dictionary.tsv'}"]
    else:
        raise ValueError(f"unknown task {task!r}")
    dictionary = t / "dictionary.dict"
    if not dictionary.exists():
        run("compile", binder("dict", "compile", str(dictionary), *compile_args))
    silver_train, silver_dev = t / "silver_train", t / "silver_dev"
    if not silver_train.exists():
        run(
            "silver_train",
            binder(
                "silver",
                "build",
                str(raw),
                "--dict",
                str(dictionary),
                "--out",
                str(silver_train),
                "--format",
                "jsonl",
                *silver_args,
            ),
        )
    if not silver_dev.exists():
        run("texts_dev", binder("data", "texts", str(gold_dev), str(t / "dev_text.jsonl")))
        run(
            "silver_dev",
            binder(
                "silver",
                "build",
                str(t / "dev_text.jsonl"),
                "--dict",
                str(dictionary),
                "--out",
                str(silver_dev),
                "--format",
                "jsonl",
                *silver_args,
            ),
        )
    return Prepared(task, gold_dev, silver_train, silver_dev, dictionary, types)


def _convert(run: Run, out: Path, args: list[str]) -> None:
    if not out.exists():
        run(f"convert_{out.name}", binder("data", "convert", args[0], str(out), *args[1:]))
