"""Concept linking: a mention and its type -> concept ids from the dictionary's own names.

``linker`` (character n-gram TF-IDF over the names of each type, abstention below a threshold),
``words`` (how each word is reduced: singular, Snowball stem), ``ngrams`` (hashed n-gram counts
in NumPy), ``synonyms`` (word synonyms mined from the names), ``long_forms`` (a short form
linked by its long form, or by the span that spells it), ``annotated`` (names learned from a
training set's annotated mentions), ``index_file`` (the sibling ``.link.npz`` artifact: numbers
and strings only, checksummed) and ``spans`` (the linker applied to a document's spans).
"""
