"""Gold data sets to the contract Parquet.

``convert`` (the entry point), ``pubtator``, ``conll`` and ``jsonl`` (one reader per format) and
``common`` (what they share).
"""
