"""The silver labeling pipeline.

``config`` (the run's options), ``labeling_config`` (the per-document step's options),
``labeling`` (one document's spans, pure), ``span_rules`` (text rules on typed spans),
``dictionary_files`` (compiled dictionaries from any filesystem), ``transforms`` (reading and
writing transforms), ``batches``, ``shards`` (deterministic shards, dead letters, manifest),
``pipeline`` (``build_silver``), ``tagging`` (a dictionary as a text -> spans function, outside
Beam) and ``augment`` (self-training: predictions join the silver labels).
"""
