"""Records (the rows of a table file) to items: which field is the text, which the id, which are metadata.

Tabular files (csv, tsv, jsonl, parquet) go through one path: a reader yields `(row number, record)` pairs and
`records_to_items` turns them into items. Every problem is an InputError that names the file, the row and the
field.
"""

from __future__ import annotations

import re
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
# Words that make a column a likelier id than its neighbours, best first ("paper_id", "ID", "slug" all count).
ID_NAME_HINTS = ("id", "uuid", "key", "slug", "name")
MAX_ID_CHARS = 200  # longer values are texts, not ids


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


class ColumnSurvey:
    """What the first rows of a table say about each column: enough to propose its text and id columns.

    Fed one record at a time, so a preview can look at thousands of rows without holding them. A column first
    seen after the first record was missing before it. `complete` is for the caller to set: the rows added were
    the whole file.
    """

    def __init__(self, columns: Iterable[str] = ()) -> None:
        self.columns: list[str] = list(columns)
        self.rows = 0
        self.complete = False
        self.text_chars: dict[str, int] = {}  # characters in string values, per column
        # Values seen so far per column; None once a value was empty, repeated or not id-like.
        self._ids: dict[str, set[str] | None] = {name: set() for name in self.columns}

    def add(self, record: dict[str, Any]) -> None:
        for name in record:
            if name not in self._ids:
                self.columns.append(name)
                self._ids[name] = set() if self.rows == 0 else None
        self.rows += 1
        for name in self.columns:
            value = record.get(name)
            if isinstance(value, str):
                self.text_chars[name] = self.text_chars.get(name, 0) + len(value)
            seen = self._ids[name]
            if seen is None:
                continue
            key = _id_value(value)
            if key is None or key in seen:
                self._ids[name] = None
            else:
                seen.add(key)

    def unique_and_filled(self) -> list[str]:
        """Columns (in file order) whose every value so far is a short, non-empty, distinct string or integer."""
        return [name for name in self.columns if self._ids[name] is not None]


def _id_value(value: Any) -> str | None:
    """The id `records_to_items` would make of a value, or None where the value cannot be an id."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None  # floats, dates, lists: not what a person calls an id
    text = str(value)
    if not text.strip() or "\n" in text or len(text) > MAX_ID_CHARS:
        return None
    return text


def survey_columns(records: Iterable[dict[str, Any]], columns: Iterable[str] = ()) -> ColumnSurvey:
    survey = ColumnSurvey(columns)
    for record in records:
        survey.add(record)
    return survey


def propose_text_column(survey: ColumnSurvey) -> str | None:
    """`guess_text_column`'s answer, else the column whose values hold the most characters (None: no strings)."""
    guess = guess_text_column(survey.columns)
    if guess is not None:
        return guess
    longest = max(survey.columns, key=lambda name: survey.text_chars.get(name, 0), default=None)
    return longest if longest is not None and survey.text_chars.get(longest, 0) > 0 else None


@dataclass(frozen=True)
class IdProposal:
    """The column a person most likely means as the id (None: a hash of each text), and one sentence why."""

    column: str | None
    reason: str


def _hint_rank(name: str) -> int:
    """Where the column's name stands in ID_NAME_HINTS (words of snake_case, camelCase, any case); len: none."""
    words = re.findall(r"[a-z0-9]+", re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name).lower())
    return min((ID_NAME_HINTS.index(word) for word in words if word in ID_NAME_HINTS), default=len(ID_NAME_HINTS))


def propose_id_column(survey: ColumnSurvey, text_column: str | None) -> IdProposal:
    """The first column, other than the text, whose values are all non-empty and distinct, else a content hash.

    Among several such columns one named like an id (id, uuid, key, slug, name) wins. Needs two rows at least:
    one row makes every column unique. The import dialog's default only; `resolve_columns` (the CLI) is unchanged.
    """
    rows = f"{survey.rows:,}".replace(",", " ")
    where = f"all {rows} rows read" if survey.complete else f"the first {rows} rows"
    if survey.rows < 2:
        return IdProposal(None, "Too few rows to tell which column is unique: ids will be a hash of each text.")
    candidates = [name for name in survey.unique_and_filled() if name != text_column]
    if not candidates:
        return IdProposal(
            None, f"No column is unique and non-empty in {where}: ids will be a hash of each text (same text, same id)."
        )
    chosen = min(candidates, key=_hint_rank)  # min keeps the first of equals: file order
    reason = f"'{chosen}' is unique and non-empty in {where}"
    if chosen != candidates[0]:
        reason += f"; preferred to '{candidates[0]}' for its name"
    return IdProposal(chosen, reason + ".")


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
