"""Beam pipelines and the plain functions under them.

- ``readers``: corpus files (text, JSONL, PubTator; globs, ``.gz``) -> documents or dead letters.
- ``label``: the silver labeling pipeline (``run(argv)``, ``build_silver(config, execution)``).
- ``runners``: local (FnApiRunner, no network) and remote runner options.
- ``shards``: deterministic Parquet shards, dead-letter files and the run manifest.
- ``convert``: gold data sets to the same Parquet schema. ``report``: silver stats and scores.

Importing this package imports neither Beam nor torch; the modules do what they need.
"""
