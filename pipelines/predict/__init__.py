"""Corpus-scale prediction: a model inside a Beam pipeline (``pipeline``)."""
