"""The torch-free contract that every package may use.

``schema`` (the Parquet contract), ``errors`` (one hierarchy of user-facing errors),
``metrics`` (exact-match span metrics), ``atomic`` (whole-or-absent files), ``outputs`` and
``markers`` (whole-or-unfinished output folders), ``options`` (options declared once, with
default, bounds and help), ``quiet`` (what the libraries underneath may print).
"""
