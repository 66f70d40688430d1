"""Knowledge-base tables (TSV, CSV, JSONL) and the MeSH preset over them."""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Literal

from binder_core.contract.errors import ConfigError, InputError
from binder_core.contract.options import default_of
from dictionaries.loaders._io import iter_lines, open_text
from dictionaries.loaders.options import KbOptions, MeshOptions
from dictionaries.records import Entry

TableFormat = Literal["tsv", "csv", "jsonl"]
TABLE_FORMATS: tuple[str, ...] = ("tsv", "csv", "jsonl")


def infer_table_format(path: str | os.PathLike[str]) -> TableFormat:
    """``tsv``/``csv``/``jsonl`` from the file name (a trailing ``.gz`` is ignored)."""
    name = Path(path).name.lower().removesuffix(".gz")
    for suffix, fmt in ((".csv", "csv"), (".jsonl", "jsonl"), (".json", "jsonl")):
        if name.endswith(suffix):
            return fmt  # type: ignore[return-value]
    return "tsv"


def iter_table_rows(
    path: str | os.PathLike[str], table_format: TableFormat | None = None
) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line number, row)`` for each record; TSV/CSV files start with a header line."""
    fmt = table_format or infer_table_format(path)
    if fmt not in TABLE_FORMATS:
        raise ConfigError(f"table format must be one of {', '.join(TABLE_FORMATS)}, got {fmt!r}")
    if fmt == "jsonl":
        for line_no, line in iter_lines(path):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"broken JSON ({exc.msg})", path=str(path), line=line_no) from None
            if not isinstance(row, dict):
                raise InputError("expected a JSON object per line", path=str(path), line=line_no)
            yield line_no, row
        return
    delimiter = "\t" if fmt == "tsv" else ","
    with open_text(path) as f:
        reader = csv.reader(f, delimiter=delimiter, quoting=csv.QUOTE_MINIMAL)
        try:
            header = next(reader, None)
            if header is None:
                return
            for cells in reader:
                if not any(cells):
                    continue
                if len(cells) != len(header):
                    raise InputError(
                        f"{len(cells)} fields where the header has {len(header)}",
                        path=str(path),
                        line=reader.line_num,
                    )
                yield reader.line_num, dict(zip(header, cells, strict=True))
        except csv.Error as exc:
            raise InputError(
                f"malformed {fmt} ({exc})", path=str(path), line=reader.line_num
            ) from None
        except UnicodeDecodeError as exc:
            raise InputError(
                f"not valid UTF-8 ({exc.reason})", path=str(path), line=reader.line_num + 1
            ) from None


def _require(row: Mapping[str, Any], column: str, path: str | os.PathLike[str], line: int) -> str:
    if column not in row:
        raise InputError(
            f"no column {column!r} (columns: {', '.join(map(str, row))}); "
            "name the right one with the kb column options",
            path=str(path),
            line=line,
        )
    value = row[column]
    if value is None or not str(value).strip():
        raise InputError(f"empty {column!r}; fill it or remove the row", path=str(path), line=line)
    return str(value).strip()


def _split_synonyms(value: Any, separator: str) -> list[str]:
    if value is None:
        return []
    items = value if isinstance(value, list) else str(value).split(separator)
    return [str(s).strip() for s in items if str(s).strip()]


def load_kb(
    path: str | os.PathLike[str],
    *,
    term_column: str = default_of(KbOptions, "term_column"),
    label_column: str = default_of(KbOptions, "label_column"),
    label: str | None = default_of(KbOptions, "label"),
    id_column: str | None = default_of(KbOptions, "id_column"),
    synonyms_column: str | None = default_of(KbOptions, "synonyms_column"),
    synonym_separator: str = default_of(KbOptions, "synonym_separator"),
    table_format: TableFormat | None = None,
    source: str = "kb",
) -> Iterator[Entry]:
    """Entries of a KB table, one per term and synonym.

    The label is the fixed ``label`` if given, else the ``label_column`` cell. ``id_column`` and
    ``synonyms_column`` default to ``id`` and ``synonyms`` when the table has such columns.
    """
    for line_no, row in iter_table_rows(path, table_format):
        term = _require(row, term_column, path, line_no)
        row_label = label if label is not None else _require(row, label_column, path, line_no)
        if id_column is not None:
            concept = _require(row, id_column, path, line_no)
        else:
            concept = str(row.get("id") or "").strip()
        yield Entry(term, row_label, concept, source)
        synonyms = row.get(synonyms_column or "synonyms")
        if synonyms_column is not None and synonyms_column not in row:
            _require(row, synonyms_column, path, line_no)
        for synonym in _split_synonyms(synonyms, synonym_separator):
            if synonym != term:
                yield Entry(synonym, row_label, concept, source)


DEFAULT_MESH_BRANCHES: Mapping[str, str] = {
    "C": "Disease",  # Diseases
    "F03": "Disease",  # Mental Disorders
    "D": "Chemical",  # Chemicals and Drugs, except:
    "D08": "",  # Enzymes and Coenzymes
    "D12.776": "",  # Proteins
    "D13": "",  # Nucleic Acids, Nucleotides, and Nucleosides
    "D27": "",  # Chemical Actions and Uses (drug classes: "analgesics", "antipsychotics")
}
"""MeSH tree prefix -> label; the longest matching prefix wins and ``""`` excludes a branch.

A descriptor gets every label of its tree positions, so aspirin (D02 and D27) stays a Chemical.
The exclusions follow the usual chemical-NER guidelines (BC5CDR, CHEMDNER), which leave out
proteins, enzymes, nucleic acids and drug classes.
"""


def mesh_labels(tree_numbers: str, branches: Mapping[str, str]) -> list[str]:
    """Sorted labels of a descriptor from its ``;``-joined tree numbers."""
    found: set[str] = set()
    prefixes = sorted(branches, key=len, reverse=True)
    for tree in tree_numbers.split(";"):
        tree = tree.strip()
        for prefix in prefixes:
            if (
                tree == prefix
                or tree.startswith(prefix + ".")
                or (len(prefix) == 1 and tree.startswith(prefix))
            ):
                if branches[prefix]:
                    found.add(branches[prefix])
                break
    return sorted(found)


def load_mesh(
    path: str | os.PathLike[str],
    *,
    branches: Mapping[str, str] | None = None,
    include_permuted: bool = default_of(MeshOptions, "include_permuted"),
    trees: str | os.PathLike[str] | None = None,
    source: str = "mesh",
) -> Iterator[Entry]:
    """Entries of the flat MeSH term table (``mesh2024_terms.tsv.gz`` layout), labelled by branch.

    Permuted terms ("Acid, Ascorbic") are skipped unless ``include_permuted``: they do not occur
    in running text. ``trees`` (a MeSH tree table, see :func:`load_mesh_trees`) gives the tree
    numbers of descriptors whose ``tree_numbers`` cell is empty: a flat table can lack the
    top-level descriptors (C04 Neoplasms: "cancer", "tumor"), and without a tree position a
    descriptor is in no branch.
    """
    branch_map = DEFAULT_MESH_BRANCHES if branches is None else branches
    filled = load_mesh_trees(trees) if trees is not None else {}
    for line_no, row in iter_table_rows(path, "tsv"):
        if not include_permuted and row.get("permuted") == "Y":
            continue
        term = _require(row, "term", path, line_no)
        concept = _require(row, "descriptor_ui", path, line_no)
        if "tree_numbers" not in row:
            _require(row, "tree_numbers", path, line_no)
        tree_numbers = row["tree_numbers"] or filled.get(concept, "")
        for label in mesh_labels(tree_numbers, branch_map):
            yield Entry(term, label, concept, source)


def load_mesh_trees(path: str | os.PathLike[str]) -> dict[str, str]:
    """Descriptor UI -> ``;``-joined tree numbers, from a TSV whose header names the columns
    ``Tree Number`` and ``Desc Ui`` (one row per tree position; other columns are ignored)."""
    positions: dict[str, list[str]] = {}
    for line_no, row in iter_table_rows(path, "tsv"):
        cells = {_column_name(k): v.strip() for k, v in row.items()}
        tree, descriptor = cells.get("tree number"), cells.get("desc ui")
        if tree is None or descriptor is None:
            raise InputError(
                "a MeSH tree table needs the columns 'Tree Number' and 'Desc Ui' "
                f"(columns: {', '.join(map(str, row))})",
                path=str(path),
                line=line_no,
            )
        if not tree or not descriptor:
            raise InputError(
                "empty tree number or descriptor; fill it or remove the row",
                path=str(path),
                line=line_no,
            )
        positions.setdefault(descriptor, []).append(tree)
    return {d: ";".join(trees) for d, trees in positions.items()}


def _column_name(header: str) -> str:
    """``"\\ufeffTree_Number "`` -> ``"tree number"`` (a byte-order mark, case, ``_`` folded)."""
    return header.lstrip("\ufeff").strip().lower().replace("_", " ")


def parse_branch_map(spec: str) -> dict[str, str]:
    """``"C=Disease,F03=Disease,D=Chemical,D12="`` -> a branch map (empty label excludes)."""
    out: dict[str, str] = {}
    for item in spec.split(","):
        if not item.strip():
            continue
        prefix, sep, label = item.partition("=")
        if not sep or not prefix.strip():
            raise ConfigError(f"bad MeSH branch {item!r}; write BRANCH=LABEL, e.g. D=Chemical")
        out[prefix.strip()] = label.strip()
    return out
