"""Read items from files: .txt (line or blank-line mode) and .jsonl (a text field, optional id and metadata).

Every problem is an InputError that names the file, the row and the field, so the CLI can exit 2 with it and the
UI can show it without losing what is already loaded. More formats register in `READERS`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench.core.corpus import ParseReport, SplitMode, items_from_pasted_text
from workbench.core.errors import InputError
from workbench.core.items import Item, ItemKind

TEXT_FIELD_GUESSES = ("text", "document", "content", "sentence", "body", "query")


@dataclass
class ImportOptions:
    """How to read a file: which kind its items are, which column holds text / id, how .txt splits."""

    kind: ItemKind = "document"
    column: str | None = None
    id_column: str | None = None
    split_mode: SplitMode = "lines"
    encoding_errors: str = "strict"  # "replace" lets a user load a file with invalid UTF-8 anyway


def read_text_file(path: Path, errors: str = "strict") -> str:
    """A file's text as UTF-8 (a BOM is dropped); invalid bytes are an InputError that says where they are."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig", errors=errors)
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise InputError(
            f"{path}: line {line}, byte {error.start}: not valid UTF-8. Convert the file to UTF-8, or import it "
            f"with invalid bytes replaced (--encoding-errors replace)."
        ) from error


def _read_txt(path: Path, options: ImportOptions) -> tuple[list[Item], ParseReport]:
    return items_from_pasted_text(read_text_file(path, options.encoding_errors), options.kind, options.split_mode)


def _pick_text_field(row: dict[str, Any], path: Path, line: int, options: ImportOptions) -> str:
    if options.column:
        return options.column
    for guess in TEXT_FIELD_GUESSES:
        if guess in row:
            return guess
    raise InputError(
        f"{path}: line {line}: no text field found (looked for {', '.join(TEXT_FIELD_GUESSES)}); "
        f"name it with --column. Fields here: {', '.join(row) or 'none'}."
    )


def records_to_items(
    records: list[tuple[int, dict[str, Any]]], path: Path, options: ImportOptions, row_word: str = "line"
) -> tuple[list[Item], ParseReport]:
    """Items from (row number, record) pairs: text from the text column, id from the id column, rest metadata.

    Rows whose text is empty are dropped and counted. Duplicate ids from an id column are an error (two records
    claiming one id would overwrite each other in Milvus); identical records without an id collapse and are
    counted.
    """
    report = ParseReport()
    items: list[Item] = []
    seen: dict[str, int] = {}
    text_field: str | None = None
    for row_number, record in records:
        text_field = text_field or _pick_text_field(record, path, row_number, options)
        if text_field not in record:
            raise InputError(f"{path}: {row_word} {row_number}: field '{text_field}' is missing.")
        value = record[text_field]
        if value is not None and not isinstance(value, str):
            raise InputError(
                f"{path}: {row_word} {row_number}, field '{text_field}': expected text, found {type(value).__name__}."
            )
        text = (value or "").strip()
        if not text:
            report.dropped_empty += 1
            continue
        item_id = None
        if options.id_column:
            if options.id_column not in record or record[options.id_column] in (None, ""):
                raise InputError(f"{path}: {row_word} {row_number}: id field '{options.id_column}' is missing.")
            item_id = str(record[options.id_column])
        metadata = {k: v for k, v in record.items() if k not in (text_field, options.id_column)}
        item = Item.create(text, options.kind, metadata, item_id)
        if item.id in seen:
            if options.id_column:
                raise InputError(
                    f"{path}: {row_word} {row_number}, field '{options.id_column}': id {item.id!r} "
                    f"repeats {row_word} {seen[item.id]}."
                )
            report.collapsed_duplicates += 1
            continue
        seen[item.id] = row_number
        items.append(item)
    report.kept = len(items)
    return items, report


def _read_jsonl(path: Path, options: ImportOptions) -> tuple[list[Item], ParseReport]:
    records: list[tuple[int, dict[str, Any]]] = []
    blank = 0
    for number, line in enumerate(read_text_file(path, options.encoding_errors).splitlines(), start=1):
        if not line.strip():
            blank += 1
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise InputError(f"{path}: line {number}: not valid JSON ({error.msg}).") from error
        if not isinstance(record, dict):
            raise InputError(f"{path}: line {number}: expected a JSON object, found {type(record).__name__}.")
        records.append((number, record))
    return records_to_items(records, path, options)


READERS: dict[str, Callable[[Path, ImportOptions], tuple[list[Item], ParseReport]]] = {
    ".txt": _read_txt,
    ".jsonl": _read_jsonl,
}


def read_items(path: str | Path, options: ImportOptions | None = None) -> tuple[list[Item], ParseReport]:
    """Items from a file of any supported format; an empty result is an InputError (nothing to embed)."""
    path = Path(path)
    options = options or ImportOptions()
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        raise InputError(f"{path}: unsupported file type '{path.suffix}'; use one of {', '.join(sorted(READERS))}.")
    if not path.is_file():
        raise InputError(f"{path}: no such file.")
    items, report = reader(path, options)
    if not items:
        raise InputError(f"{path}: no items with text found ({report.summary()}).")
    return items, report
