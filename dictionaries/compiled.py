"""Compile entries into a matcher: compact tables of folded keys and payloads, and the
Aho-Corasick automaton built from the keys.

Layout (``n`` keys, ``p`` payloads, keys sorted, payloads of key ``k`` at
``payload_start[k]:payload_start[k + 1]``):

* ``keys``: the ``n`` folded keys, a :class:`StrTable` (the fuzzy index is built from them)
* ``automaton``: a :class:`dictionaries.automaton.KeyAutomaton` whose pattern ``k`` is
  ``keys[k]`` (offsets in characters), and ``values[k] = (k << 13) |
  (case_sensitive << 12) | len(keys[k])`` (:func:`pack_values`), what matching keeps per hit
* per payload: ``payload_label`` (index into ``labels``), ``payload_concept`` (``|``-joined ids),
  ``payload_term`` (the dictionary term reported as ``matched_term``), ``payload_case`` (``""``
  or the ``\\x00``-joined surfaces that a case-sensitive payload accepts), ``payload_uncertain``.

* ``mixed_case``: the keys with an accepted case form that is not all capitals.

:mod:`dictionaries.artifact` writes and reads the artifact file (a JSON header and flat data
sections, no pickle), the automaton included in its own serialized form.
"""

from __future__ import annotations

import bisect
import gc
import hashlib
import json
import logging
from array import array
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any

import numpy as np

from binder_core.contract.errors import ConfigError
from dictionaries.automaton import KeyAutomaton
from dictionaries.config import CASE_POLICIES, CasePolicy, CompileConfig
from dictionaries.filters import TermFilter
from dictionaries.normalize import normalize_term, unify_surface
from dictionaries.records import Entry
from dictionaries.tables import StrTable
from dictionaries.variants import term_variants

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
    automaton: KeyAutomaton  # over ``keys``
    values: Sequence[int]  # per key, see the module docstring
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

    def index_of(self, key: str) -> int | None:
        """The index of folded ``key`` (keys are sorted), or None when it is not a key."""
        k = bisect.bisect_left(self.keys, key)
        return k if k < len(self.keys) and self.keys[k] == key else None


def pack_values(lengths: Any, case_sensitive: Any) -> list[int]:
    """``values`` from each key's length and case-sensitivity (arrays of one entry per key)."""
    lengths = np.asarray(lengths, dtype=np.int64)
    flags = np.asarray(case_sensitive, dtype=np.int64)
    k = np.arange(len(lengths), dtype=np.int64)
    packed: list[int] = ((k << KEY_SHIFT) | (flags << LEN_BITS) | lengths).tolist()
    return packed


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
    """Everything known about one (key, label) pair while compiling.

    A UMLS-sized compile holds millions of these, so they stay small: the groups of one key
    are a chain (``next``, see :func:`add_group`) rather than a dict per key, and ``concepts``
    is one id (a string) until a second, different one comes.
    """

    __slots__ = ("cases", "concepts", "label", "next", "term")

    def __init__(self, label: str, term: str) -> None:
        self.label = label
        self.term = term
        self.concepts: str | set[str] = ""
        # Surfaces a case-sensitive key accepts; None once any entry is case-insensitive.
        self.cases: set[str] | None = set()
        self.next: TermGroup | None = None  # the key's group of another label

    def add_concept(self, concept: str) -> None:
        if not concept or concept == self.concepts:
            return
        if isinstance(self.concepts, set):
            self.concepts.add(concept)
        elif self.concepts:
            self.concepts = {self.concepts, concept}
        else:
            self.concepts = concept

    def concept_ids(self) -> str:
        """The ``|``-joined, sorted concept ids."""
        if isinstance(self.concepts, set):
            return "|".join(sorted(self.concepts))
        return self.concepts


Groups = dict[str, TermGroup]
"""Folded key -> the first of its :class:`TermGroup` chain (one group per label)."""


def add_group(groups: Groups, key: str, group: TermGroup) -> None:
    """Put ``group`` (of a label the key has no group for yet) on ``key``'s chain."""
    group.next = groups.get(key)
    groups[key] = group


def key_groups(head: TermGroup | None) -> list[TermGroup]:
    """One key's chain as a list, by label."""
    found = []
    while head is not None:
        found.append(head)
        head = head.next
    if len(found) > 1:
        found.sort(key=_LABEL)
    return found


_LABEL = attrgetter("label")


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
    groups: Groups = {}
    count = 0
    for count, entry in enumerate(entries, start=1):  # noqa: B007
        if keep_labels and entry.label not in keep_labels:
            stats["dropped_label"] += 1
            continue
        if config.variants:
            variants = term_variants(entry.term, config.variants)
            stats["variants"] += len(variants)
            for term in (entry.term, *variants):
                _add_term(groups, term, entry, term_filter, acronym_max, stats)
        else:
            _add_term(groups, entry.term, entry, term_filter, acronym_max, stats)
    stats["entries"] = count
    return build_compiled(groups, config, stats)


def _add_term(
    groups: Groups,
    term: str,
    entry: Entry,
    term_filter: TermFilter,
    acronym_max: int,
    stats: Counter[str],
) -> None:
    """Fold ``term`` (``entry``'s own or a variant of it) into ``groups`` unless filtered."""
    key = normalize_term(term)
    acronym = acronym_max > 0 and _is_acronym(term, acronym_max)
    reason = term_filter.reject_reason(key, acronym)
    if reason is not None:
        stats["dropped_" + reason] += 1
        return
    group = groups.get(key)
    while group is not None and group.label != entry.label:
        group = group.next
    if group is None:
        group = TermGroup(entry.label, term)
        add_group(groups, key, group)
    elif term < group.term:
        group.term = term
    group.add_concept(entry.concept_id)
    if group.cases is not None:
        forms = case_forms(term, entry.case, acronym)
        if forms is None:
            group.cases = None
        else:
            group.cases.update(forms)


def build_compiled(
    groups: Groups, config: CompileConfig, stats: Counter[str]
) -> CompiledDictionary:
    """The matcher of folded keys -> :class:`TermGroup` chains (filters already applied;
    ambiguity follows ``config``). ``stats`` gets the key counts.

    ``groups`` is consumed: each key's groups leave it as its payloads are written, so the
    memory of the objects is given back while the flat tables fill."""
    all_labels = sorted({g.label for head in groups.values() for g in key_groups(head)})
    label_index = {lab: i for i, lab in enumerate(all_labels)}
    rank = _label_rank(config, all_labels)
    keys: list[str] = []
    case_flags: list[bool] = []
    payload_start = array("I", [0])
    payload_label = array("H")
    concepts: list[str] = []
    terms: list[str] = []
    cases: list[str] = []
    uncertain = bytearray()
    mixed_case: set[int] = set()
    label_counts: Counter[str] = Counter()
    for key in sorted(groups):
        chosen = key_groups(groups.pop(key))
        is_uncertain = False
        if len(chosen) > 1:
            stats["ambiguous_keys"] += 1
            if config.ambiguity == "drop":
                stats["dropped_ambiguous"] += 1
                continue
            if config.ambiguity == "priority":
                chosen = [min(chosen, key=lambda g: rank[g.label])]
            else:
                is_uncertain = True
        k = len(keys)
        keys.append(key)
        case_sensitive = True
        for group in chosen:
            lab = group.label
            if group.cases is None:
                case_sensitive = False
                cases.append("")
            else:
                cases.append("\x00".join(sorted(group.cases)))
                if not all(form.isupper() for form in group.cases):
                    mixed_case.add(k)
            concepts.append(group.concept_ids())
            terms.append(group.term)
            payload_label.append(label_index[lab])
            uncertain.append(is_uncertain)
            label_counts[lab] += 1
        payload_start.append(len(payload_label))
        case_flags.append(case_sensitive)
    stats["keys"] = len(keys)
    used_labels = tuple(lab for lab in all_labels if label_counts[lab])
    key_table = StrTable(keys)
    key_lengths = array("I", map(len, keys))
    del keys
    concept_table = StrTable(concepts)
    term_table = StrTable(terms)
    case_table = StrTable(cases)
    del concepts, terms, cases  # their strings go before the automaton's build needs memory
    payload_label = _relabel(payload_label, all_labels, used_labels)
    digest = hashlib.sha256(MAGIC + config.to_json().encode())
    digest.update(json.dumps(used_labels).encode())
    for table in (key_table, concept_table, term_table, case_table):
        table.digest_into(digest)
    for raw in (payload_start.tobytes(), payload_label.tobytes(), bytes(uncertain)):
        digest.update(len(raw).to_bytes(8, "little") + raw)
    automaton = KeyAutomaton.build(key_table)
    logger.info("compiled %d keys (%s)", len(key_table), dict(label_counts))
    return CompiledDictionary(
        fingerprint="sha256:" + digest.hexdigest()[:32],
        labels=used_labels,
        config=config,
        automaton=automaton,
        values=pack_values(key_lengths, case_flags),
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


def _relabel(payload_label: array[int], old: list[str], new: tuple[str, ...]) -> array[int]:
    """Re-index labels after labels whose every key was dropped disappear."""
    if len(old) == len(new):
        return payload_label
    index = {lab: i for i, lab in enumerate(new)}
    return array("H", (index[old[i]] for i in payload_label))
