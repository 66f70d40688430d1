"""Beam pipelines and the plain functions under them.

- ``corpus``: raw corpus files (text, JSONL, PubTator; globs, compressed) -> documents or dead
  letters.
- ``silver``: the silver labeling pipeline (``build_silver(config, execution)``), its options,
  its pure per-document step, its transforms, shards and manifest, and self-training.
- ``gold``: gold data sets (PubTator, CoNLL, BINDER JSONL) to the same Parquet schema.
- ``datasets``: operations on contract data sets: split, texts, statistics, evaluation.
- ``predict``: a model inside a Beam pipeline (``RunInference``).
- ``runners``: the local FnApiRunner (no network), remote runner options, the worker pool.

Importing this package, or any sub-package, imports neither Beam nor torch; the modules do what
they need.
"""
