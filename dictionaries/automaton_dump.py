"""The automaton as plain arrays: written from a pyahocorasick automaton, checked, and turned
back into one without pickle.

pyahocorasick (2.x) dumps an automaton as byte chunks (what its ``__reduce__`` returns): an
int64 node count, then per node a 24-byte header (``output`` uint64, ``fail`` node id uint64,
``n`` children uint32, ``eow`` uint8, padding) and ``n`` 12-byte pairs (``letter`` uint32,
``child`` node id uint64). Node ids are 1-based; the root is node 1.

Its loader checks that chunks are long enough and that ids are at most the node count, but it
takes id 0 for a child (an uninitialized pointer), a node reached from two parents (freed twice)
and a node that is its own ancestor. So the artifact holds a *canonical* dump instead
(:func:`canonical_dump`): one chunk, nodes numbered breadth-first, so that the child links, read
in order, are exactly ``2, 3, ..., N``, with every node's child count stored next to it.
:func:`automaton_from_dump` checks that with numpy over whole arrays (then every node but the
root has exactly one parent, which comes before it) and that every other node has a fail link,
before handing the bytes to pyahocorasick. A round trip of a tiny automaton
(:func:`check_layout`) refuses a pyahocorasick whose dump layout differs from this one.
"""

from __future__ import annotations

from array import array
from collections.abc import Mapping, Sequence
from typing import Any

import ahocorasick
import numpy as np

from dictionaries.compiled import KEY_SHIFT

_HEADER_WORDS = 6  # 24 bytes
_PAIR_WORDS = 3  # 12 bytes
_COUNT_WORDS = 2  # the int64 node count of a chunk
_KIND = 2  # ahocorasick.AHOCORASICK: built with make_automaton()
SCALARS = ("kind", "store", "key_type", "words", "longest_word")


def _chunk_nodes(chunk: bytes) -> int:
    count = int.from_bytes(chunk[: 4 * _COUNT_WORDS], "little", signed=True)
    if count <= 0:
        raise ValueError("automaton chunk without nodes")
    return count


def _child_counts(chunks: Sequence[bytes]) -> np.ndarray:
    """The number of children of every node of a dump, in node order."""
    counts = array("I")
    append = counts.append
    for chunk in chunks:
        words = memoryview(chunk)[: len(chunk) // 4 * 4].cast("I")
        at = _COUNT_WORDS + 4  # word index of the first node's child count
        for _ in range(_chunk_nodes(chunk)):
            n = words[at]
            append(n)
            at += _HEADER_WORDS + _PAIR_WORDS * n
    return np.frombuffer(counts.tobytes(), dtype="<u4")


def _exclusive_cumsum(n: np.ndarray) -> np.ndarray:
    before = np.cumsum(n, dtype=np.int64)
    before -= n
    return before


def _headers(n: np.ndarray, before: np.ndarray) -> np.ndarray:
    """Word index of each node header in a chunk whose nodes have ``n`` children."""
    at = np.arange(_COUNT_WORDS, _COUNT_WORDS + _HEADER_WORDS * len(n), _HEADER_WORDS)
    at += _PAIR_WORDS * before
    return at


def _pairs(n: np.ndarray, at: np.ndarray, before: np.ndarray) -> np.ndarray:
    """Word index of each pair (its letter), pairs in node order."""
    pair_at = np.repeat(at + _HEADER_WORDS - _PAIR_WORDS * before, n)
    pair_at += np.arange(0, _PAIR_WORDS * len(pair_at), _PAIR_WORDS, dtype=np.int64)
    return pair_at


def _u64(words: np.ndarray, index: np.ndarray) -> np.ndarray:
    return words[index].astype(np.int64) | (words[index + 1].astype(np.int64) << 32)


def _parse(chunks: Sequence[bytes]) -> dict[str, np.ndarray]:
    """Per node (0-based, dump order): ``n``, ``fail`` (0-based, -1 for none), ``eow``,
    ``output``; per pair (node order): ``letter``, ``child`` (0-based)."""
    n_all = _child_counts(chunks)
    parts: dict[str, list[np.ndarray]] = {
        k: [] for k in ("fail", "eow", "output", "letter", "child")
    }
    first = 0
    for chunk in chunks:
        count = _chunk_nodes(chunk)
        n = n_all[first : first + count]
        words = np.frombuffer(chunk, dtype="<u4", count=len(chunk) // 4)
        before = _exclusive_cumsum(n)
        at = _headers(n, before)
        pair_at = _pairs(n, at, before)
        parts["fail"].append(_u64(words, at + 2) - 1)
        parts["eow"].append((words[at + 5] & 0xFF) != 0)
        parts["output"].append(_u64(words, at))
        parts["letter"].append(words[pair_at])
        parts["child"].append(_u64(words, pair_at + 1) - 1)
        first += count
    found = {k: np.concatenate(v) for k, v in parts.items()}
    found["n"] = n_all
    return found


def canonical_dump(automaton: Any) -> tuple[bytes, bytes, dict[str, int]]:
    """``(dump, child counts, loader scalars)`` of ``automaton``, nodes renumbered
    breadth-first (children in their order), padding zeroed."""
    chunks, kind, store, key_type, words_count, longest, _ = automaton.__reduce__()[1]
    d = _parse(chunks)
    n, child = d["n"], d["child"]
    total = len(n)
    before = _exclusive_cumsum(n)
    order, pair_order = [np.zeros(1, dtype=np.int64)], []
    frontier = order[0]
    while len(frontier):
        counts = n[frontier]
        pair_index = np.repeat(before[frontier] - _exclusive_cumsum(counts), counts)
        pair_index += np.arange(len(pair_index), dtype=np.int64)
        pair_order.append(pair_index)
        frontier = child[pair_index]
        order.append(frontier)
    bfs, pairs = np.concatenate(order), np.concatenate(pair_order)
    new_id = np.empty(total, dtype=np.int64)
    new_id[bfs] = np.arange(total)
    fail = d["fail"][bfs]
    n_bfs = n[bfs]
    out = np.zeros(_COUNT_WORDS + _HEADER_WORDS * total + _PAIR_WORDS * len(pairs), "<u4")
    out[0], out[1] = total & 0xFFFFFFFF, total >> 32
    before_bfs = _exclusive_cumsum(n_bfs)
    at = _headers(n_bfs, before_bfs)
    output = d["output"][bfs] * d["eow"][bfs]
    out[at] = output & 0xFFFFFFFF
    out[at + 1] = output >> 32
    out[at + 2] = np.where(fail < 0, 0, new_id[np.maximum(fail, 0)] + 1)
    out[at + 4] = n_bfs
    out[at + 5] = d["eow"][bfs]
    pair_at = _pairs(n_bfs, at, before_bfs)
    out[pair_at] = d["letter"][pairs]
    out[pair_at + 1] = new_id[child[pairs]] + 1
    scalars = dict(zip(SCALARS, (kind, store, key_type, words_count, longest), strict=True))
    return out.tobytes(), n_bfs.astype("<u4").tobytes(), scalars


def automaton_from_dump(
    dump: bytes, children: bytes, scalars: Mapping[str, Any], key_lengths: np.ndarray
) -> Any:
    """The automaton of a canonical dump, after checking it (``ValueError`` if it is not one
    of the keys whose lengths are ``key_lengths``, in key order)."""
    check_layout()
    kind, store, key_type, words_count, longest = (int(scalars[k]) for k in SCALARS)
    if (kind, store, key_type) != (_KIND, ahocorasick.STORE_INTS, ahocorasick.KEY_STRING):
        raise ValueError("not an integer-valued string automaton")
    if words_count != len(key_lengths) or longest != int(key_lengths.max()):
        raise ValueError("automaton and key table disagree")
    _check(dump, children)
    return ahocorasick.Automaton([dump], kind, store, key_type, words_count, longest, None)


def _check(dump: bytes, children: bytes) -> None:
    """What pyahocorasick's loader does not check (see the module docstring). Word values are
    not needed for memory safety (the matcher indexes Python tables with them) and the
    section checksums catch damage."""
    if len(children) % 4 or len(dump) % 4:
        raise ValueError("automaton sections cut short")
    n = np.frombuffer(children, dtype="<u4").astype(np.int64)
    total = len(n)
    if total == 0 or int(n.sum()) != total - 1:
        raise ValueError("automaton child counts disagree")
    if len(dump) != 4 * (_COUNT_WORDS + _HEADER_WORDS * total + _PAIR_WORDS * (total - 1)):
        raise ValueError("automaton dump of the wrong size")
    words = np.frombuffer(dump, dtype="<u4")
    if _chunk_nodes(dump) != total:
        raise ValueError("automaton node counts disagree")
    before = _exclusive_cumsum(n)
    at = _headers(n, before)
    if not np.array_equal(words[at + 4], n):
        raise ValueError("automaton child counts disagree")
    # Children, read in order, are nodes 2, 3, ..., N, and each node's first child comes after
    # it: a tree rooted at node 1 (ids are 1-based, indices here 0-based). Ids above N are
    # refused by pyahocorasick's loader (in 64 bits), so low words are enough here.
    parents = np.flatnonzero(n)
    if np.any(before[parents] + 1 <= parents):
        raise ValueError("automaton child links point backwards")
    if total > 1:
        if not np.array_equal(words[_pairs(n, at, before) + 1], np.arange(2, total + 1)):
            raise ValueError("automaton child links are not breadth-first")
        if words[at[1:] + 2].min() < 1:
            raise ValueError("automaton node without a fail link")
    if words[at[0] + 2] or words[at[0] + 3]:
        raise ValueError("automaton root has a fail link")


_LAYOUT_OK: list[bool] = []


def check_layout() -> None:
    """Refuse a pyahocorasick whose dump differs from the layout this module reads."""
    if _LAYOUT_OK:
        return
    probe = ahocorasick.Automaton(ahocorasick.STORE_INTS)
    words = ("he", "she", "his", "hers")
    for i, word in enumerate(words):
        probe.add_word(word, (i << KEY_SHIFT) | len(word))
    probe.make_automaton()
    dump, children, scalars = canonical_dump(probe)
    _check(dump, children)
    copy = ahocorasick.Automaton([dump], *scalars.values(), None)
    text = "ushers say his hershey"
    if list(copy.iter(text)) != list(probe.iter(text)) or sorted(copy.items()) != sorted(
        probe.items()
    ):
        raise RuntimeError(
            "this pyahocorasick build dumps automata in a layout binder-ner does not know; "
            "install pyahocorasick 2.x from PyPI"
        )
    _LAYOUT_OK.append(True)
