"""Running a model on text.

``options`` (backends, decodings, batch size), ``engine`` (windows -> batches -> encoder ->
decode, backend-neutral numpy), ``batching`` (windows to numpy inputs), ``decoding`` (scores to
spans, pure), ``torch_backend``, ``backends`` (a path to a predictor), ``hybrid`` (the merge
with a dictionary), ``evaluate`` (scores against gold) and ``predict`` (files in, spans out).
"""
