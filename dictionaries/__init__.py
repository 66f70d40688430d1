"""Dictionaries: load (UMLS, KB tables, AutoNER, MeSH), fold, filter, compile, and match.

``compile_dictionary(load_source("kb", path))`` builds a matcher; ``match(text, compiled)`` is the
pure function the pipelines call for every document.
"""

from __future__ import annotations

from dictionaries.artifact import load_compiled, save_compiled
from dictionaries.compiled import CompiledDictionary, compile_dictionary
from dictionaries.config import CompileConfig, MatchOptions
from dictionaries.loaders import SOURCE_FORMATS, load_source, parse_source_spec
from dictionaries.matcher import Matcher, match
from dictionaries.records import Entry, Match
from dictionaries.terms import terms_by_label

__all__ = [
    "SOURCE_FORMATS",
    "CompileConfig",
    "CompiledDictionary",
    "Entry",
    "Match",
    "MatchOptions",
    "Matcher",
    "compile_dictionary",
    "load_compiled",
    "load_source",
    "match",
    "parse_source_spec",
    "save_compiled",
    "terms_by_label",
]
