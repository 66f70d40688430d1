"""Compile entries into a matcher artifact: an Aho-Corasick automaton plus compact side tables.

Layout (``n`` keys, ``p`` payloads, keys sorted, payloads of key ``k`` at
``payload_start[k]:payload_start[k + 1]``):

* ``automaton``: folded key -> ``(k << 13) | (case_sensitive << 12) | len(key)``
* ``keys``: the ``n`` folded keys, a :class:`StrTable` (the fuzzy index is built from them)
* per payload: ``payload_label`` (index into ``labels``), ``payload_concept`` (``|``-joined ids),
  ``payload_term`` (the dictionary term reported as ``matched_term``), ``payload_case`` (``""``
  or the ``\\x00``-joined surfaces that a case-sensitive payload accepts), ``payload_uncertain``.

The artifact file is a magic line, a format version, a small JSON header (fingerprint, labels,
config, counts: :func:`load_info` reads only this) and one pickle (protocol 5) of the tables.
Only load artifacts you wrote: unpickling runs code from the file.
"""

from __future__ import annotations

import gc
import hashlib
import json
import logging
import os
import pickle
import struct
from array import array
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import ahocorasick

from binder_core.errors import ConfigError, InputError
from dictionaries.config import CASE_POLICIES, CasePolicy, CompileConfig
from dictionaries.filters import TermFilter
from dictionaries.normalize import normalize_term, unify_surface
from dictionaries.records import Entry

logger = logging.getLogger(__name__)

MAGIC = b"BINDER-NER-DICTIONARY\n"
FORMAT_VERSION = 2
LEN_BITS = 12
CASE_BIT = 1 << LEN_BITS
KEY_SHIFT = LEN_BITS + 1


@dataclass(frozen=True, eq=False)
class CompiledDictionary:
    """A loaded or freshly compiled matcher; build it with :func:`compile_dictionary`."""

    fingerprint: str
    labels: tuple[str, ...]
    config: CompileConfig
    automaton: Any
    keys: StrTable
    payload_start: array[int]
    payload_label: array[int]
    payload_concept: StrTable
    payload_term: StrTable
    payload_case: StrTable
    payload_uncertain: bytes
    # Counts for reports: entries read, kept, and dropped per reason.
    stats: Mapping[str, int] = field(default_factory=dict)
    # Keys per label after filtering and ambiguity handling.
    label_counts: Mapping[str, int] = field(default_factory=dict)
    # Lazily built helpers (fuzzy index); not saved.
    cache: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def num_terms(self) -> int:
        """Number of distinct folded keys."""
        return len(self.keys)


class StrTable:
    """An immutable list of strings stored as one string plus offsets.

    Pickles and loads in one piece (no per-string objects), which keeps artifact loading fast;
    items are sliced out on access.
    """

    __slots__ = ("_blob", "_offsets")

    def __init__(self, items: Iterable[str] = ()) -> None:
        parts = list(items)
        offsets = array("Q", [0])
        total = 0
        for part in parts:
            total += len(part)
            offsets.append(total)
        self._blob = "".join(parts)
        self._offsets = offsets

    def __len__(self) -> int:
        return len(self._offsets) - 1

    def __getitem__(self, i: int) -> str:
        return self._blob[self._offsets[i] : self._offsets[i + 1]]

    def __iter__(self) -> Iterator[str]:
        blob, offsets = self._blob, self._offsets
        return (blob[offsets[i] : offsets[i + 1]] for i in range(len(offsets) - 1))

    def __getstate__(self) -> tuple[str, array[int]]:
        return self._blob, self._offsets

    def __setstate__(self, state: tuple[str, array[int]]) -> None:
        self._blob, self._offsets = state

    def digest_into(self, digest: Any) -> None:
        """Feed the content to a hashlib object (offsets first, so boundaries count)."""
        digest.update(self._offsets.tobytes())
        digest.update(self._blob.encode("utf-8", "surrogatepass"))


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


_HEAVY_FIELDS = (
    "automaton",
    "keys",
    "payload_start",
    "payload_label",
    "payload_concept",
    "payload_term",
    "payload_case",
    "payload_uncertain",
)
_LENGTH = struct.Struct("<Q")
_MAX_HEADER_BYTES = 1 << 24  # labels and counts: far below this


@dataclass(frozen=True)
class DictionaryInfo:
    """What an artifact's header says: enough to label a run without loading the matcher."""

    fingerprint: str
    labels: tuple[str, ...]
    config: CompileConfig
    num_terms: int
    stats: Mapping[str, int] = field(default_factory=dict)
    label_counts: Mapping[str, int] = field(default_factory=dict)


def save_compiled(compiled: CompiledDictionary, path: str | os.PathLike[str]) -> None:
    """Write the artifact atomically (temp file in the same folder, then rename).

    Layout: magic line, format version, a length-prefixed JSON header (:class:`DictionaryInfo`),
    then one pickle of the matcher tables. The header alone is cheap to read.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    header = json.dumps(
        {
            "fingerprint": compiled.fingerprint,
            "labels": list(compiled.labels),
            "config": json.loads(compiled.config.to_json()),
            "num_terms": compiled.num_terms,
            "stats": dict(compiled.stats),
            "label_counts": dict(compiled.label_counts),
        },
        sort_keys=True,
    ).encode("utf-8")
    state = {name: getattr(compiled, name) for name in _HEAVY_FIELDS}
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, "wb") as f:
            f.write(MAGIC)
            f.write(struct.pack("<I", FORMAT_VERSION))
            f.write(_LENGTH.pack(len(header)))
            f.write(header)
            pickle.dump(state, f, protocol=5)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def read_info(stream: IO[bytes], where: str) -> DictionaryInfo:
    """Read the header of an artifact from ``stream`` (positioned at its start).

    Leaves ``stream`` at the start of the pickled tables. ``where`` names the file in errors.
    """
    head = stream.read(len(MAGIC) + 4)
    if len(head) < len(MAGIC) + 4 or head[: len(MAGIC)] != MAGIC:
        raise InputError(
            "not a binder-ner compiled dictionary; build one with `binder dict compile`",
            path=where,
        )
    (version,) = struct.unpack("<I", head[len(MAGIC) :])
    if version != FORMAT_VERSION:
        raise InputError(
            f"compiled dictionary format {version}, this binder-ner reads format "
            f"{FORMAT_VERSION}; recompile it with `binder dict compile`",
            path=where,
        )
    try:
        raw_length = stream.read(_LENGTH.size)
        (length,) = _LENGTH.unpack(raw_length)
        if length > _MAX_HEADER_BYTES:
            raise ValueError(f"header of {length} bytes")
        raw = stream.read(length)
        if len(raw) != length:
            raise ValueError("header cut short")
        header = json.loads(raw.decode("utf-8"))
        return DictionaryInfo(
            fingerprint=str(header["fingerprint"]),
            labels=tuple(header["labels"]),
            config=CompileConfig.from_dict(header["config"]),
            num_terms=int(header["num_terms"]),
            stats=dict(header["stats"]),
            label_counts=dict(header["label_counts"]),
        )
    except (struct.error, ValueError, KeyError, TypeError) as exc:
        raise InputError(
            f"compiled dictionary is damaged ({exc}); recompile it", path=where
        ) from None


def _open_artifact(path: str | os.PathLike[str]) -> IO[bytes]:
    source = Path(path)
    if not source.is_file():
        raise InputError(
            "no compiled dictionary here; build one with `binder dict compile`", path=str(source)
        )
    return open(source, "rb")


def load_info(path: str | os.PathLike[str]) -> DictionaryInfo:
    """The header of a local artifact (fingerprint, labels, config, counts), without the
    matcher: milliseconds, whatever the dictionary's size."""
    with _open_artifact(path) as f:
        return read_info(f, str(path))


def load_compiled(path: str | os.PathLike[str]) -> CompiledDictionary:
    """Read an artifact written by :func:`save_compiled` (by this binder-ner version)."""
    with _open_artifact(path) as f:
        info = read_info(f, str(path))
        try:
            state = pickle.load(f)
        except (pickle.UnpicklingError, EOFError, ValueError) as exc:
            raise InputError(
                f"compiled dictionary is damaged ({exc}); recompile it", path=str(path)
            ) from None
    if (
        not isinstance(state, dict)
        or set(state) != set(_HEAVY_FIELDS)
        or len(state["keys"]) != info.num_terms
    ):
        raise InputError(
            "compiled dictionary is damaged (header and tables disagree); recompile it",
            path=str(path),
        )
    return CompiledDictionary(
        fingerprint=info.fingerprint,
        labels=info.labels,
        config=info.config,
        stats=info.stats,
        label_counts=info.label_counts,
        **state,
    )
