"""Beam pipelines and the plain functions under them.

- ``readers``: corpus files (text, JSONL, PubTator; globs, ``.gz``) -> documents or dead letters;
  ``pubtator``: the PubTator line grammar it shares with the gold converter.
- ``silver_config``: the options of a labeling run (Beam-free; the CLI reads their defaults).
- ``label``: the silver labeling pipeline (``run(argv)``, ``build_silver(config, execution)``);
  ``labeling``: its pure per-document step (dictionary matches, abbreviations, held-out and
  uncertain dictionaries); ``transforms``: its reading and writing transforms;
  ``dictionary_files``: compiled dictionaries from local or remote paths.
- ``runners``: local (FnApiRunner, no network) and remote runner options.
- ``shards``: deterministic Parquet shards, dead-letter files and the run manifest.
- ``convert``: gold data sets to the same Parquet schema; ``texts``: a data set's texts as a
  JSONL corpus. ``report``: silver stats; ``silver_eval``: scores against gold.

Importing this package imports neither Beam nor torch; the modules do what they need.
"""
