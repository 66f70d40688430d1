"""``binder dict compile``: load dictionary sources, compile the matcher, write the artifact."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import typer

from cli._common import console, user_errors
from cli._options import config_option, split_csv
from dictionaries.config import CompileConfig, SplitConfig
from dictionaries.loaders.options import AutonerOptions, KbOptions, MeshOptions, UmlsOptions


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""

    @app.command("compile")
    @user_errors
    def compile_cmd(
        out_file: Path = typer.Argument(..., help="Where to write the compiled dictionary."),
        source: list[str] = typer.Option(
            ...,
            "--source",
            "-s",
            help="FORMAT=PATH or FORMAT[OPTION=VALUE,...]=PATH, repeatable. FORMAT: umls (a "
            "META folder), kb (TSV/CSV/JSONL table), autoner (Type<TAB>term lines), mesh (flat "
            "MeSH term table), terms (one term per line; needs label=TYPE). Options of that "
            "source alone: label=TYPE (type of all its terms), case=ignore|exact|exact-or-upper "
            "(default ignore: folded, with the acronym rule), e.g. "
            "'terms[label=PER,case=exact-or-upper]=person.txt'.",
        ),
        # The compile options: default, help and range from CompileConfig (declared once).
        min_length: int = config_option(CompileConfig, "min_length", "--min-length"),
        max_length: int = config_option(CompileConfig, "max_length", "--max-length"),
        stopwords: bool = config_option(
            CompileConfig, "use_stopwords", "--stopwords/--no-stopwords"
        ),
        stopword: list[str] = config_option(CompileConfig, "extra_stopwords", "--stopword"),
        drop_numeric: bool = config_option(
            CompileConfig, "drop_numeric", "--drop-numeric/--no-drop-numeric"
        ),
        acronym_max_length: int = config_option(
            CompileConfig, "acronym_max_length", "--acronym-max-length"
        ),
        ambiguity: str = config_option(CompileConfig, "ambiguity", "--ambiguity"),
        label_priority: list[str] = config_option(
            CompileConfig, "label_priority", "--label-priority"
        ),
        variant: list[str] = config_option(CompileConfig, "variants", "--variant"),
        label: list[str] = config_option(CompileConfig, "labels", "--label"),
        # each source format's options: default and help from dictionaries.loaders.options
        umls_language: list[str] = config_option(UmlsOptions, "languages", "--umls-language"),
        umls_sab: list[str] = config_option(UmlsOptions, "sources", "--umls-sab"),
        umls_tty: list[str] = config_option(UmlsOptions, "term_types", "--umls-tty"),
        umls_keep_suppressed: bool = config_option(
            UmlsOptions, "keep_suppressed", "--umls-keep-suppressed/--no-umls-keep-suppressed"
        ),
        umls_mapping: Path | None = typer.Option(
            None, help="KEY<TAB>LABEL file: semantic type id/name or group code -> label."
        ),
        umls_semantic_groups: Path | None = typer.Option(
            None, help="NLM SemGroups.txt, so the mapping can use group codes (CHEM, DISO)."
        ),
        kb_term_column: str = config_option(KbOptions, "term_column", "--kb-term-column"),
        kb_label_column: str = config_option(KbOptions, "label_column", "--kb-label-column"),
        kb_label: str | None = config_option(KbOptions, "label", "--kb-label"),
        kb_id_column: str | None = config_option(KbOptions, "id_column", "--kb-id-column"),
        kb_synonyms_column: str | None = config_option(
            KbOptions, "synonyms_column", "--kb-synonyms-column"
        ),
        kb_synonym_separator: str = config_option(
            KbOptions, "synonym_separator", "--kb-synonym-separator"
        ),
        mesh_branches: str | None = typer.Option(
            None,
            help="MeSH tree prefix -> label, e.g. 'C=Disease,F03=Disease,D=Chemical,D27='"
            " (empty label excludes a branch). Default: Chemicals and Diseases.",
        ),
        mesh_permuted: bool = config_option(
            MeshOptions, "include_permuted", "--mesh-permuted/--no-mesh-permuted"
        ),
        mesh_trees: Path | None = typer.Option(
            None,
            help="MeSH tree table (TSV with 'Tree Number' and 'Desc Ui' columns): tree numbers"
            " for descriptors the term table gives none, such as the top-level C04 Neoplasms"
            " ('cancer', 'tumor'), which the flat 2024 table lacks.",
        ),
        autoner_detokenize: bool = config_option(
            AutonerOptions, "detokenized", "--autoner-detokenize/--no-autoner-detokenize"
        ),
        link_index: bool = typer.Option(
            False,
            help="Also write the linking index (concept ids for mentions the dictionary does not"
            " match) beside the dictionary, as OUT_FILE.link.npz. Off by default: it takes about"
            " three times the compile's own time and memory on a million terms; commands that"
            " link build it in memory when it is absent.",
        ),
        link_annotations: list[Path] = typer.Option(
            [],
            "--link-annotations",
            help=_ANNOTATIONS_HELP + " Used with --link-index.",
        ),
    ) -> None:
        """Compile dictionary sources into one matcher artifact."""
        from binder_core.contract.atomic import check_file_output
        from dictionaries import (
            compile_dictionary,
            parse_source_spec,
            save_compiled,
        )
        from dictionaries.loaders import iter_sources
        from dictionaries.loaders.tables import parse_branch_map

        started = time.perf_counter()
        check_file_output(out_file)
        specs = [parse_source_spec(s) for s in source]
        config = CompileConfig(
            min_length=min_length,
            max_length=max_length,
            use_stopwords=stopwords,
            extra_stopwords=split_csv(stopword),
            drop_numeric=drop_numeric,
            acronym_max_length=acronym_max_length,
            ambiguity=ambiguity,  # type: ignore[arg-type]  # validated by CompileConfig
            label_priority=split_csv(label_priority),
            labels=split_csv(label),
            variants=split_csv(variant),
        )
        options: dict[str, dict[str, Any]] = {
            "umls": {
                "languages": split_csv(umls_language),
                "sources": split_csv(umls_sab),
                "term_types": split_csv(umls_tty),
                "keep_suppressed": umls_keep_suppressed,
                "mapping": umls_mapping,
                "semantic_groups": umls_semantic_groups,
            },
            "kb": {
                "term_column": kb_term_column,
                "label_column": kb_label_column,
                "label": kb_label,
                "id_column": kb_id_column,
                "synonyms_column": kb_synonyms_column,
                "synonym_separator": kb_synonym_separator,
            },
            "mesh": {
                "branches": parse_branch_map(mesh_branches) if mesh_branches else None,
                "include_permuted": mesh_permuted,
                "trees": mesh_trees,
            },
            "autoner": {"detokenized": autoner_detokenize},
        }
        with console.status("compiling dictionary..."):
            compiled = compile_dictionary(iter_sources(specs, options), config)
            if compiled.num_terms == 0:
                from binder_core.contract.errors import InputError

                raise InputError(
                    "no terms left after filtering; check the sources and the filter options",
                    path=", ".join(source),
                )
            save_compiled(compiled, out_file)
        _print_summary(compiled, out_file, time.perf_counter() - started)
        if link_index:
            _write_link_index(compiled, out_file, link_annotations)
        elif link_annotations:
            from binder_core.contract.errors import ConfigError

            raise ConfigError("--link-annotations needs --link-index")

    @app.command("link-index")
    @user_errors
    def link_index_cmd(
        dictionary: Path = typer.Argument(..., help="A compiled dictionary."),
        annotations: list[Path] = typer.Option([], "--annotations", help=_ANNOTATIONS_HELP),
    ) -> None:
        """Write the linking index of a compiled dictionary beside it (DICTIONARY.link.npz).

        `binder dict compile --link-index` writes it at compile time; this builds it for a
        dictionary compiled without it. Commands that link find it there, and build it in memory
        when it is absent.
        """
        from dictionaries import load_compiled

        _write_link_index(load_compiled(dictionary), dictionary, annotations)

    @app.command("split")
    @user_errors
    def split_cmd(
        dictionary: Path = typer.Argument(..., help="A compiled dictionary to split."),
        holdout: float = config_option(SplitConfig, "holdout", "--holdout"),
        seed: int = config_option(SplitConfig, "seed", "--seed"),
        train: Path = typer.Option(..., "--train", help="Where to write the training part."),
        heldout: Path = typer.Option(..., "--heldout", help="Where to write the held-out part."),
    ) -> None:
        """Hold a share of the concepts out of a dictionary, for model selection.

        Concepts are concept ids (a term without an id is its own concept), chosen by a hash of
        seed and id. Label training text with --train's part only; build a dev set with
        `binder silver build --dict TRAIN --heldout-dict HELDOUT`: its origin dict_heldout spans
        are entities the training dictionary does not hold.
        """
        from binder_core.contract.atomic import check_file_output
        from binder_core.contract.errors import ConfigError
        from dictionaries import load_compiled, save_compiled
        from dictionaries.split import split_dictionary

        config = SplitConfig(holdout=holdout, seed=seed)
        if Path(train).resolve() == Path(heldout).resolve():
            raise ConfigError("--train and --heldout must be different files")
        for target in (train, heldout):
            check_file_output(target)
        result = split_dictionary(load_compiled(dictionary), config)
        counts = result.counts
        if not counts["keys_train"] or not counts["keys_heldout"]:
            raise ConfigError(
                f"--holdout {holdout} leaves one part empty ({counts['concepts']} concepts); "
                "choose a share that holds out some concepts and keeps some"
            )
        save_compiled(result.train, train)
        save_compiled(result.heldout, heldout)
        console.print(
            f"{counts['concepts']:,} concepts: {counts['concepts_train']:,} -> {train} "
            f"({counts['keys_train']:,} terms), {counts['concepts_heldout']:,} -> {heldout} "
            f"({counts['keys_heldout']:,} terms); {counts['keys_in_both']:,} terms in both",
            highlight=False,
        )


_ANNOTATIONS_HELP = (
    "A gold set (contract Parquet, with concept ids; repeat for several) whose annotated"
    " mentions become names of the linking index: the corpus's conventions (BC5CDR grounds"
    " 'nephrotoxicity' in Kidney Diseases). Use training data only, never the set you evaluate on."
)


def _write_link_index(compiled: Any, dictionary: Path, annotations: Sequence[Path] = ()) -> None:
    from binder_core.contract.schema import open_dataset
    from dictionaries.linking.index_file import build_link_index, link_index_path, save_link_index

    for gold in annotations:
        open_dataset(gold)  # a missing or foreign gold set fails here, before the build
    started = time.perf_counter()
    path = link_index_path(dictionary)
    with console.status("building the linking index..."):
        index = build_link_index(compiled, annotations=annotations)
        save_link_index(index, path)
    learned = f" ({index.annotated:,} learned from annotations)" if annotations else ""
    console.print(
        f"linking index -> {path}: {index.num_names:,} names{learned} of "
        f"{len(index.concepts):,} concepts, {path.stat().st_size / 1e6:.1f} MB, "
        f"{time.perf_counter() - started:.1f} s",
        highlight=False,
    )


def _print_summary(compiled: Any, out_file: Path, seconds: float) -> None:
    from rich.table import Table

    console.print(f"dictionary -> {out_file}", highlight=False)
    table = Table(show_header=True)
    table.add_column("label")
    table.add_column("terms", justify="right")
    for label in compiled.labels:
        table.add_row(label, f"{compiled.label_counts.get(label, 0):,}")
    table.add_row("[bold]all[/]", f"[bold]{compiled.num_terms:,}[/]")
    console.print(table)
    dropped = {k.removeprefix("dropped_"): v for k, v in compiled.stats.items() if "dropped" in k}
    console.print(
        f"entries read: {compiled.stats.get('entries', 0):,}   dropped: "
        + (", ".join(f"{k} {v:,}" for k, v in sorted(dropped.items())) or "none")
        + f"   ambiguous terms: {compiled.stats.get('ambiguous_keys', 0):,}"
        + (
            f"   variants: {compiled.stats['variants']:,}" if compiled.stats.get("variants") else ""
        ),
        highlight=False,
    )
    console.print(f"fingerprint: {compiled.fingerprint}   time: {seconds:.1f} s", highlight=False)
