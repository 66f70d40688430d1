"""Compile entries into a matcher artifact: an Aho-Corasick automaton plus compact side tables.

Layout (``n`` keys, ``p`` payloads, keys sorted, payloads of key ``k`` at
``payload_start[k]:payload_start[k + 1]``):

* ``automaton``: folded key -> ``(k << 13) | (case_sensitive << 12) | len(key)``
* ``keys``: the ``n`` folded keys, a :class:`StrTable` (the fuzzy index is built from them)
* per payload: ``payload_label`` (index into ``labels``), ``payload_concept`` (``|``-joined ids),
  ``payload_term`` (the dictionary term reported as ``matched_term``), ``payload_case`` (``""``
  or the ``\\x00``-joined surfaces that a case-sensitive payload accepts), ``payload_uncertain``.

* ``mixed_case``: the keys with an accepted case form that is not all capitals.

:mod:`dictionaries.artifact` writes and reads the artifact file (a JSON header and flat data
sections, no pickle).
"""

from __future__ import annotations

import gc
import hashlib
import json
import logging
from array import array
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import ahocorasick

from binder_core.errors import ConfigError
from dictionaries.config import CASE_POLICIES, CasePolicy, CompileConfig
from dictionaries.filters import TermFilter
from dictionaries.normalize import normalize_term, unify_surface
from dictionaries.records import Entry
from dictionaries.tables import StrTable

logger = logging.getLogger(__name__)

MAGIC = b"BINDER-NER-DICTIONARY\n"
LEN_BITS = 12
CASE_BIT = 1 << LEN_BITS
KEY_SHIFT = LEN_BITS + 1


@dataclass(frozen=True, eq=False)
class CompiledDictionary:
    """A loaded or freshly compiled matcher; build it with :func:`compile_dictionary`.

    Read-only once built: matching keeps what it derives from these tables (per-key match
    records, the fuzzy index) in a :class:`dictionaries.matcher.Matcher` of its own.
    """

    fingerprint: str
    labels: tuple[str, ...]
    config: CompileConfig
    automaton: Any
    keys: StrTable
    payload_start: Sequence[int]  # array("I") when compiled, a uint32 memoryview when loaded
    payload_label: Sequence[int]  # array("H") / uint16
    payload_concept: StrTable
    payload_term: StrTable
    payload_case: StrTable
    payload_uncertain: bytes
    # Keys with an accepted case form that is not all capitals ("Rose" with case=exact).
    mixed_case: frozenset[int] = frozenset()
    # Counts for reports: entries read, kept, and dropped per reason.
    stats: Mapping[str, int] = field(default_factory=dict)
    # Keys per label after filtering and ambiguity handling.
    label_counts: Mapping[str, int] = field(default_factory=dict)

    @property
    def num_terms(self) -> int:
        """Number of distinct folded keys."""
        return len(self.keys)


def _is_acronym(term: str, max_length: int) -> bool:
    """Short, with upper-case letters and no lower-case ones ("CT", "IL-2")."""
    stripped = term.strip()
    return len(stripped) <= max_length and stripped.isupper()


def case_forms(term: str, case: CasePolicy, acronym: bool) -> tuple[str, ...] | None:
    """The surfaces (case kept, see :func:`unify_surface`) that a term accepts, or None when it
    matches in any case."""
    if case == "ignore":
        return (unify_surface(term),) if acronym else None
    own = unify_surface(term)
    if case == "exact":
        return (own,)
    if case == "exact-or-upper":
        return (own, own.upper()) if own.upper() != own else (own,)
    raise ConfigError(f"unknown case policy {case!r}; use one of {', '.join(CASE_POLICIES)}")


class TermGroup:
    """Everything known about one (key, label) pair while compiling."""

    __slots__ = ("cases", "concepts", "term")

    def __init__(self, term: str) -> None:
        self.term = term
        self.concepts: set[str] = set()
        # Surfaces a case-sensitive key accepts; None once any entry is case-insensitive.
        self.cases: set[str] | None = set()


def _label_rank(config: CompileConfig, labels: Iterable[str]) -> dict[str, tuple[int, str]]:
    order = {label: i for i, label in enumerate(config.label_priority)}
    return {lab: (order.get(lab, len(order)), lab) for lab in labels}


def compile_dictionary(
    entries: Iterable[Entry], config: CompileConfig = CompileConfig()
) -> CompiledDictionary:
    """Fold, filter and de-duplicate ``entries`` and build the matcher.

    Entries with the same folded key and label merge: their concept ids are joined with ``|``
    and the smallest original term is kept as ``matched_term``. A key with several labels follows
    ``config.ambiguity``. The result does not depend on the order of ``entries``.
    """
    # Millions of small, acyclic objects: the cyclic collector would rescan them over and over.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _compile(entries, config)
    finally:
        if gc_was_enabled:
            gc.enable()


def _compile(entries: Iterable[Entry], config: CompileConfig) -> CompiledDictionary:
    term_filter = TermFilter.from_config(config)
    keep_labels = set(config.labels)
    acronym_max = config.acronym_max_length
    stats: Counter[str] = Counter()
    groups: dict[str, dict[str, TermGroup]] = {}
    count = 0
    for count, entry in enumerate(entries, start=1):  # noqa: B007
        term, label = entry.term, entry.label
        if keep_labels and label not in keep_labels:
            stats["dropped_label"] += 1
            continue
        key = normalize_term(term)
        acronym = acronym_max > 0 and _is_acronym(term, acronym_max)
        reason = term_filter.reject_reason(key, acronym)
        if reason is not None:
            stats["dropped_" + reason] += 1
            continue
        by_label = groups.get(key)
        if by_label is None:
            by_label = groups[key] = {}
        group = by_label.get(label)
        if group is None:
            group = by_label[label] = TermGroup(term)
        elif term < group.term:
            group.term = term
        if entry.concept_id:
            group.concepts.add(entry.concept_id)
        if group.cases is not None:
            forms = case_forms(term, entry.case, acronym)
            if forms is None:
                group.cases = None
            else:
                group.cases.update(forms)
    stats["entries"] = count
    return build_compiled(groups, config, stats)


def build_compiled(
    groups: dict[str, dict[str, TermGroup]], config: CompileConfig, stats: Counter[str]
) -> CompiledDictionary:
    """The matcher of folded keys -> label -> :class:`TermGroup` (filters already applied;
    ambiguity follows ``config``). ``stats`` gets the key counts."""
    all_labels = sorted({lab for by_label in groups.values() for lab in by_label})
    label_index = {lab: i for i, lab in enumerate(all_labels)}
    rank = _label_rank(config, all_labels)
    automaton = ahocorasick.Automaton(ahocorasick.STORE_INTS)
    add_word = automaton.add_word
    keys: list[str] = []
    values: list[int] = []
    payload_start = array("I", [0])
    payload_label = array("H")
    concepts: list[str] = []
    terms: list[str] = []
    cases: list[str] = []
    uncertain = bytearray()
    mixed_case: set[int] = set()
    label_counts: Counter[str] = Counter()
    for key in sorted(groups):
        by_label = groups[key]
        is_uncertain = False
        if len(by_label) == 1:
            chosen: list[str] = list(by_label)
        else:
            chosen = sorted(by_label)
            stats["ambiguous_keys"] += 1
            if config.ambiguity == "drop":
                stats["dropped_ambiguous"] += 1
                continue
            if config.ambiguity == "priority":
                chosen = [min(chosen, key=rank.__getitem__)]
            else:
                is_uncertain = True
        k = len(keys)
        keys.append(key)
        case_sensitive = True
        for lab in chosen:
            group = by_label[lab]
            if group.cases is None:
                case_sensitive = False
                cases.append("")
            else:
                cases.append("\x00".join(sorted(group.cases)))
                if not all(form.isupper() for form in group.cases):
                    mixed_case.add(k)
            concepts.append("|".join(sorted(group.concepts)) if group.concepts else "")
            terms.append(group.term)
            payload_label.append(label_index[lab])
            uncertain.append(is_uncertain)
            label_counts[lab] += 1
        payload_start.append(len(payload_label))
        values.append((k << KEY_SHIFT) | (CASE_BIT if case_sensitive else 0) | len(key))
    for k in _insertion_order(keys):
        add_word(keys[k], values[k])
    automaton.make_automaton()
    stats["keys"] = len(keys)
    used_labels = tuple(lab for lab in all_labels if label_counts[lab])
    key_table = StrTable(keys)
    concept_table = StrTable(concepts)
    term_table = StrTable(terms)
    case_table = StrTable(cases)
    payload_label = _relabel(payload_label, all_labels, used_labels)
    digest = hashlib.sha256(MAGIC + config.to_json().encode())
    digest.update(json.dumps(used_labels).encode())
    for table in (key_table, concept_table, term_table, case_table):
        table.digest_into(digest)
    for raw in (payload_start.tobytes(), payload_label.tobytes(), bytes(uncertain)):
        digest.update(len(raw).to_bytes(8, "little") + raw)
    logger.info("compiled %d keys (%s)", len(keys), dict(label_counts))
    return CompiledDictionary(
        fingerprint="sha256:" + digest.hexdigest()[:32],
        labels=used_labels,
        config=config,
        automaton=automaton,
        payload_start=payload_start,
        payload_label=payload_label,
        payload_uncertain=bytes(uncertain),
        mixed_case=frozenset(mixed_case),
        stats=dict(stats),
        label_counts=dict(label_counts),
        keys=key_table,
        payload_concept=concept_table,
        payload_term=term_table,
        payload_case=case_table,
    )


def _insertion_order(keys: list[str]) -> list[int]:
    """Key indices in the order to add them to the automaton.

    pyahocorasick finds a node's child by scanning the children in insertion order. Adding keys
    sorted by their characters ranked by frequency (most frequent first) puts the children most
    often taken first at every node, which makes scanning text about a tenth faster. The
    automaton holds the same keys and values whatever the order.
    """
    counts = Counter("".join(keys))
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    rank = {ord(ch): chr(i) for i, (ch, _) in enumerate(ranked)}
    return sorted(range(len(keys)), key=lambda k: keys[k].translate(rank))


def _relabel(payload_label: array[int], old: list[str], new: tuple[str, ...]) -> array[int]:
    """Re-index labels after labels whose every key was dropped disappear."""
    if len(old) == len(new):
        return payload_label
    index = {lab: i for i, lab in enumerate(new)}
    return array("H", (index[old[i]] for i in payload_label))
