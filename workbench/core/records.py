"""Records (the rows of a table file) to items: which field is the text, which the id, which are metadata.

Tabular files (csv, tsv, jsonl, parquet) go through one path: a reader yields `(row number, record)` pairs and
`records_to_items` turns them into items. Every problem is an InputError that names the file, the row and the
field.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench.core.corpus import ParseReport, SplitMode
from workbench.core.errors import InputError
from workbench.core.exchange import RESERVED_COLUMNS
from workbench.core.items import Item, ItemKind

TEXT_FIELD_GUESSES = ("text", "document", "content", "sentence", "body", "query")
ID_FIELD_GUESS = "id"
# Columns that mark a file as one of our own exports: its `id` is the id, and the exchange format's own columns
# (vector, provenance, x/y, clusters) are not metadata of the item.
EXPORT_MARKERS = frozenset({"id", "text", "kind", "provider", "model", "task"})
PROGRESS_EVERY = 2_000  # records between progress reports / cancel checks


@dataclass
class ImportOptions:
    """How to read a file: the items' kind, which column holds text / id / metadata, how .txt splits.

    `column` None guesses the text column (text, document, content, …, or the only column). `id_column` None uses
    a column named `id` when there is one, else a content hash. `metadata_columns` None keeps every other column
    as metadata; a list keeps just those. `delimiter` None sniffs it (.csv / .tsv).
    """

    kind: ItemKind = "document"
    column: str | None = None
    id_column: str | None = None
    metadata_columns: list[str] | None = None
    split_mode: SplitMode = "lines"
    encoding_errors: str = "strict"  # "replace" lets a user load a file with invalid UTF-8 anyway
    delimiter: str | None = None


def guess_text_column(columns: Iterable[str]) -> str | None:
    """The column that most likely holds the text: a known name (any case), else the only column."""
    columns = list(columns)
    lowered = {c.lower(): c for c in columns}
    for guess in TEXT_FIELD_GUESSES:
        if guess in lowered:
            return lowered[guess]
    return columns[0] if len(columns) == 1 else None


def _is_export(columns: Iterable[str]) -> bool:
    return EXPORT_MARKERS.issubset(columns)


@dataclass
class Columns:
    text: str
    id: str | None
    metadata: list[str] | None  # None: every other key of each record
    skip: frozenset[str]


def resolve_columns(columns: list[str], path: Path, options: ImportOptions, where: str) -> Columns:
    """Text / id / metadata columns for a file whose columns are known; a missing one names what there is."""
    listing = ", ".join(columns) or "none"
    export = _is_export(columns)
    text = options.column or guess_text_column(columns)
    if text is None:
        raise InputError(
            f"{path}: {where}: no text column found (looked for {', '.join(TEXT_FIELD_GUESSES)}); name it with "
            f"--column. Columns here: {listing}."
        )
    if text not in columns:
        raise InputError(f"{path}: {where}: no column '{text}'. Columns here: {listing}.")
    id_column = options.id_column or (ID_FIELD_GUESS if ID_FIELD_GUESS in columns and text != ID_FIELD_GUESS else None)
    if id_column is not None and id_column not in columns:
        raise InputError(f"{path}: {where}: no id column '{id_column}'. Columns here: {listing}.")
    skip = frozenset({text, *([id_column] if id_column else []), *(RESERVED_COLUMNS if export else ())})
    metadata = options.metadata_columns
    if metadata is not None:
        missing = [c for c in metadata if c not in columns]
        if missing:
            raise InputError(f"{path}: {where}: no metadata column '{missing[0]}'. Columns here: {listing}.")
        metadata = [c for c in metadata if c not in (text, id_column)]
    return Columns(text, id_column, metadata, skip)


def records_to_items(
    records: Iterable[tuple[int, dict[str, Any]]],
    path: Path,
    options: ImportOptions,
    row_word: str = "line",
    columns: list[str] | None = None,
) -> tuple[list[Item], ParseReport]:
    """Items from (row number, record) pairs: text from the text column, id from the id column, the rest metadata.

    `columns`, when the file has a header or schema, lets a missing column be reported before any row is read;
    without it (jsonl) the first record's keys stand in. Rows whose text is empty are dropped and counted.
    Duplicate ids from an id column are an error (two records claiming one id would overwrite each other in
    Milvus); identical records without an id collapse and are counted.
    """
    report = ParseReport()
    items: list[Item] = []
    seen: dict[str, int] = {}
    chosen = resolve_columns(columns, path, options, "header") if columns is not None else None
    for row_number, record in records:
        if chosen is None:
            chosen = resolve_columns(list(record), path, options, f"{row_word} {row_number}")
        where = f"{path}: {row_word} {row_number}"
        if chosen.text not in record:
            raise InputError(f"{where}: field '{chosen.text}' is missing.")
        value = record[chosen.text]
        if value is not None and not isinstance(value, str):
            raise InputError(f"{where}, field '{chosen.text}': expected text, found {type(value).__name__}.")
        # One newline convention for item texts, so a CRLF copy of a file gives the same ids and cache hits.
        text = (value or "").replace("\r\n", "\n").replace("\r", "\n").strip()
        if not text:
            report.dropped_empty += 1
            continue
        item_id = None
        if chosen.id:
            raw_id = record.get(chosen.id)
            if raw_id is None or raw_id == "":
                raise InputError(f"{where}, field '{chosen.id}': the id is missing.")
            item_id = str(raw_id)
        if chosen.metadata is None:
            metadata = {k: v for k, v in record.items() if k not in chosen.skip}
        else:
            metadata = {k: record.get(k) for k in chosen.metadata}
        item = Item.create(text, options.kind, metadata, item_id)
        if item.id in seen:
            if chosen.id:
                raise InputError(f"{where}, field '{chosen.id}': id {item.id!r} repeats {row_word} {seen[item.id]}.")
            report.collapsed_duplicates += 1
            continue
        seen[item.id] = row_number
        items.append(item)
    report.kept = len(items)
    return items, report
