"""The linking index file: a sibling of the compiled dictionary, numbers and strings only.

``chem_dis.dict`` gets ``chem_dis.dict.link.npz`` (:func:`link_index_path`), written by
``binder dict compile`` (or ``binder dict link-index`` for a dictionary compiled before). It is
a NumPy ``.npz`` archive read with ``allow_pickle=False``, so loading runs no code from the file:

* ``header``: UTF-8 JSON (format version, the dictionary's fingerprint, the :class:`LinkConfig`,
  labels, the matrix shape, the number of names learned from annotations, and the SHA-256 of
  every other array);
* ``label_start``, ``indptr``, ``indices``, ``data``: the TF-IDF rows (CSR) grouped by label;
* ``idf_columns``, ``idf_values``: the IDF of every column some name has (the others get the
  IDF of an unseen n-gram, worked out from the number of names);
* ``concepts.text`` / ``concepts.offsets`` and ``terms.*``: string tables (UTF-8 bytes and
  uint64 character offsets, :class:`dictionaries.tables.StrTable`), with ``row_concept`` and
  ``row_term`` pointing into them.

Every array is checked (checksum, dtype, ranges) before anything is built from it; a file that
fails, or one built from another dictionary, is an :class:`InputError` naming the file.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse

from binder_core.contract.atomic import atomic_path
from binder_core.contract.errors import InputError
from dictionaries.linking.annotated import annotated_names, read_annotations, with_annotations
from dictionaries.linking.linker import (
    LinkConfig,
    Linker,
    LinkIndex,
    build_index,
    dictionary_names,
    smooth_idf,
)
from dictionaries.tables import StrTable

logger = logging.getLogger(__name__)

FORMAT_VERSION = 2  # 2: LinkConfig.word_form, names from annotations
SUFFIX = ".link.npz"
_DTYPES = {
    "label_start": "<i8",
    "indptr": "<i8",
    "indices": "<i4",
    "data": "<f4",
    "idf_columns": "<i4",
    "idf_values": "<f4",
    "row_concept": "<i4",
    "row_term": "<i4",
    "concepts.text": "|u1",
    "concepts.offsets": "<u8",
    "terms.text": "|u1",
    "terms.offsets": "<u8",
}


def link_index_path(dictionary: str | os.PathLike[str]) -> Path:
    """Where the linking index of the compiled dictionary at ``dictionary`` lives."""
    path = Path(dictionary)
    return path.with_name(path.name + SUFFIX)


def _arrays(index: LinkIndex) -> dict[str, np.ndarray]:
    matrix = index.matrix
    columns = np.flatnonzero(index.idf != index.idf.max()).astype(np.int32)
    arrays = {
        "label_start": index.label_start,
        "indptr": matrix.indptr,
        "indices": matrix.indices,
        "data": matrix.data,
        "idf_columns": columns,
        "idf_values": index.idf[columns],
        "row_concept": index.row_concept,
        "row_term": index.row_term,
    }
    for name in ("concepts", "terms"):
        text, offsets = getattr(index, name).to_bytes()
        arrays[f"{name}.text"] = np.frombuffer(text, dtype=np.uint8)
        arrays[f"{name}.offsets"] = np.frombuffer(offsets, dtype="<u8")
    return {name: np.ascontiguousarray(a, dtype=_DTYPES[name]) for name, a in arrays.items()}


def _digest(array: np.ndarray) -> str:
    return hashlib.sha256(array.tobytes()).hexdigest()


def save_link_index(index: LinkIndex, path: str | os.PathLike[str]) -> None:
    """Write ``index`` atomically (layout in the module docstring)."""
    arrays = _arrays(index)
    header = {
        "format": FORMAT_VERSION,
        "fingerprint": index.fingerprint,
        "config": index.config.to_dict(),
        "labels": list(index.labels),
        "shape": list(index.matrix.shape),
        "annotated": index.annotated,
        "sha256": {name: _digest(a) for name, a in arrays.items()},
    }
    raw = np.frombuffer(json.dumps(header, sort_keys=True).encode("utf-8"), dtype=np.uint8)
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.savez(f, header=raw, **arrays)  # type: ignore[arg-type]


def load_link_index(path: str | os.PathLike[str], fingerprint: str | None = None) -> LinkIndex:
    """Read an index written by :func:`save_link_index`; with ``fingerprint``, refuse an index
    built from another dictionary. A damaged or foreign file is an :class:`InputError`."""
    where = str(path)
    if not Path(path).is_file():
        raise InputError(
            "no linking index here; build one with `binder dict link-index`", path=where
        )
    try:
        with np.load(path, allow_pickle=False) as npz:
            header = json.loads(bytes(npz["header"]).decode("utf-8"))
            if header.get("format") != FORMAT_VERSION:
                raise InputError(
                    f"linking index format {header.get('format')}, this binder-ner reads format "
                    f"{FORMAT_VERSION}; rebuild it with `binder dict link-index`",
                    path=where,
                )
            arrays = {name: npz[name] for name in _DTYPES}
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        raise InputError(f"not a readable linking index ({exc}); rebuild it", path=where) from None
    if fingerprint is not None and header["fingerprint"] != fingerprint:
        raise InputError(
            "linking index built from another dictionary (fingerprint "
            f"{header['fingerprint']}, the dictionary's is {fingerprint}); rebuild it with "
            "`binder dict link-index`",
            path=where,
        )
    try:
        return _assemble(header, arrays)
    except (ValueError, KeyError, TypeError, IndexError) as exc:
        raise InputError(f"linking index is damaged ({exc}); rebuild it", path=where) from None


def _assemble(header: dict[str, Any], arrays: dict[str, np.ndarray]) -> LinkIndex:
    for name, dtype in _DTYPES.items():
        a = arrays[name]
        if a.dtype != np.dtype(dtype) or a.ndim != 1:
            raise ValueError(f"array {name} is not a 1-d {dtype} array")
        if _digest(a) != header["sha256"][name]:
            raise ValueError(f"array {name} fails its checksum")
    config = LinkConfig.from_dict(header["config"])
    rows, columns = (int(n) for n in header["shape"])
    labels = tuple(str(label) for label in header["labels"])
    indptr, indices, label_start = arrays["indptr"], arrays["indices"], arrays["label_start"]
    if columns != 2**config.hash_bits or len(indptr) != rows + 1 or indptr[0] != 0:
        raise ValueError("matrix shape and config disagree")
    if np.any(np.diff(indptr) < 0) or not indptr[-1] == len(indices) == len(arrays["data"]):
        raise ValueError("matrix row offsets out of order")
    if len(indices) and (indices.min() < 0 or indices.max() >= columns):
        raise ValueError("a matrix column out of range")
    if len(label_start) != len(labels) + 1 or label_start[0] != 0 or label_start[-1] != rows:
        raise ValueError("label offsets do not fit the matrix")
    if np.any(np.diff(label_start) < 0):
        raise ValueError("label offsets out of order")
    tables = {
        name: StrTable.from_bytes(
            arrays[f"{name}.text"].tobytes(), arrays[f"{name}.offsets"].tobytes()
        )
        for name in ("concepts", "terms")
    }
    for name in ("concept", "term"):
        pointers = arrays[f"row_{name}"]
        if len(pointers) != rows:
            raise ValueError(f"row_{name} does not fit the matrix")
        if rows and (pointers.min() < 0 or pointers.max() >= len(tables[name + "s"])):
            raise ValueError(f"a row_{name} out of range")
    idf = np.full(columns, smooth_idf(np.zeros(1), rows)[0], dtype=np.float32)
    idf_columns = arrays["idf_columns"]
    if len(idf_columns) and (idf_columns.min() < 0 or idf_columns.max() >= columns):
        raise ValueError("an IDF column out of range")
    idf[idf_columns] = arrays["idf_values"]
    matrix = sparse.csr_matrix((arrays["data"], indices, indptr), shape=(rows, columns))
    return LinkIndex(
        fingerprint=str(header["fingerprint"]),
        config=config,
        labels=labels,
        label_start=label_start,
        matrix=matrix,
        idf=idf,
        concepts=tables["concepts"],
        row_concept=arrays["row_concept"],
        terms=tables["terms"],
        row_term=arrays["row_term"],
        annotated=int(header["annotated"]),
    )


def build_link_index(
    compiled: Any,
    config: LinkConfig = LinkConfig(),
    annotations: Sequence[str | os.PathLike[str]] = (),
) -> LinkIndex:
    """The linking index of a compiled dictionary (its names, see :mod:`dictionaries.linking`),
    with the names that the gold sets ``annotations`` teach
    (:mod:`dictionaries.linking.annotated`)."""
    if not annotations:
        return build_index(dictionary_names(compiled), compiled.fingerprint, config)
    names = list(dictionary_names(compiled))
    mentions = (m for gold in annotations for m in read_annotations(gold))
    learned = annotated_names(mentions, {n.concept_id for n in names})
    names = with_annotations(names, learned)
    return build_index(names, compiled.fingerprint, config, annotated=len(learned))


_LINKERS: dict[tuple[str, str], Linker] = {}


def linker_for(dictionary: str | os.PathLike[str], compiled: Any) -> Linker:
    """The linker of the compiled dictionary at ``dictionary`` (``compiled``, loaded from it).

    Reads the sibling index when there is one built from this dictionary, else builds the index
    in memory (and says so in the log). Kept per process: a worker that asks again for the
    same dictionary gets the same linker.
    """
    key = (str(dictionary), compiled.fingerprint)
    found = _LINKERS.get(key)
    if found is not None:
        return found
    path = link_index_path(dictionary)
    if path.is_file():
        index = load_link_index(path, fingerprint=compiled.fingerprint)
    else:
        logger.warning(
            "%s: no linking index beside the dictionary; building it in memory "
            "(`binder dict link-index` writes it once)",
            dictionary,
        )
        index = build_link_index(compiled)
    found = _LINKERS[key] = Linker(index)
    return found
