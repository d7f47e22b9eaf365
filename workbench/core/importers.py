"""Read items from files as people have them: .txt, .csv / .tsv, .jsonl, .parquet, and .md / .html / .pdf.

Every problem is an InputError that names the file, the row and the field, so the CLI can exit 2 with it and the
UI can show it without losing what is already loaded. More formats register in `READERS`.

Tabular files (csv, tsv, jsonl, parquet) go through one path: a reader yields `(row number, record)` pairs and
`records.records_to_items` turns them into items (text column, id column, metadata columns). Readers stream: a
file is never held twice in memory, progress is reported as bytes or rows read, and cancel is honoured between
chunks. This module holds the entry points and the .txt, .jsonl and .parquet readers; `delimited` reads .csv and
.tsv, `records` chooses columns, `text_files` decodes UTF-8. A single .md, .html or .pdf file is one document,
read by `folder_import` exactly as a folder import reads it (same extraction, same metadata), so they never disagree.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from workbench.core.collector import collector_paused
from workbench.core.corpus import ParseReport, items_from_pasted_text
from workbench.core.delimited import open_csv, read_csv, sniff_delimiter
from workbench.core.errors import InputError
from workbench.core.folder_import import FOLDER_SUFFIXES, read_document_file
from workbench.core.items import Item
from workbench.core.progress import CancelledFn, ProgressFn, never_cancelled, no_progress, raise_if_cancelled
from workbench.core.records import (
    PROGRESS_EVERY,
    ColumnSurvey,
    ImportOptions,
    propose_id_column,
    propose_text_column,
    records_to_items,
    resolve_columns,
)
from workbench.core.text_files import InvalidEncoding, TextStream, locate_invalid_utf8, read_text_file

__all__ = [  # ImportOptions, InvalidEncoding and sniff_delimiter live beside their concepts; callers import them here
    "READERS",
    "TABULAR_SUFFIXES",
    "ImportOptions",
    "InvalidEncoding",
    "TablePreview",
    "preview_table",
    "read_items",
    "sniff_delimiter",
]
_PARQUET_BATCH = 10_000
# Rows the import dialog's preview reads to propose an id column (unique and non-empty): ~30 ms of csv.
SURVEY_ROWS = 10_000


@dataclass
class TablePreview:
    """The first rows of a tabular file and our proposals, for the import dialog's column choosers.

    `id_column` None proposes a content hash; `id_reason` says in a sentence why that column (or none).
    """

    columns: list[str]
    rows: list[dict[str, Any]]
    text_column: str | None
    id_column: str | None
    delimiter: str | None = None
    column_types: dict[str, str] = field(default_factory=dict)
    id_reason: str = ""


# -- .txt -----------------------------------------------------------------------------------------------------
def _read_txt(
    path: Path, options: ImportOptions, progress: ProgressFn, cancelled: CancelledFn
) -> tuple[list[Item], ParseReport]:
    text = read_text_file(path, options.encoding_errors)
    raise_if_cancelled(cancelled)
    result = items_from_pasted_text(text, options.kind, options.split_mode)
    progress(1, 1)
    return result


# -- .jsonl ---------------------------------------------------------------------------------------------------
def jsonl_records(
    path: Path, stream: TextStream, progress: ProgressFn = no_progress, cancelled: CancelledFn = never_cancelled
) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for each non-blank line of a JSON Lines file (the app's and BEIR's readers share it);
    a line that is not a JSON object is an InputError naming the file and line."""
    # Universal newlines split records: JSON escapes every control character, so a raw "\r" or "\n" can only end
    # a line, while U+2028 and friends (which str.splitlines would split on) may sit raw inside strings.
    number = 0
    while True:
        try:
            line = stream.text.readline()
        except UnicodeDecodeError as error:
            raise locate_invalid_utf8(path) from error
        if not line:
            break
        number += 1
        if number % PROGRESS_EVERY == 0:
            raise_if_cancelled(cancelled)
            progress(stream.position, stream.total)
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise InputError(f"{path}: line {number}: not valid JSON ({error.msg}).") from error
        if not isinstance(record, dict):
            raise InputError(f"{path}: line {number}: expected a JSON object, found {type(record).__name__}.")
        yield number, record
    progress(stream.total, stream.total)


def _read_jsonl(
    path: Path, options: ImportOptions, progress: ProgressFn, cancelled: CancelledFn
) -> tuple[list[Item], ParseReport]:
    stream = TextStream(path, options.encoding_errors)
    try:
        return records_to_items(jsonl_records(path, stream, progress, cancelled), path, options)
    finally:
        stream.close()


# -- .parquet -------------------------------------------------------------------------------------------------
def _open_parquet(path: Path) -> pq.ParquetFile:
    try:
        return pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as error:
        raise InputError(f"{path}: not a readable Parquet file ({error}).") from error


def _is_text_type(type_: pa.DataType) -> bool:
    if pa.types.is_dictionary(type_):
        type_ = type_.value_type
    return pa.types.is_string(type_) or pa.types.is_large_string(type_) or pa.types.is_null(type_)


def _first_non_null_row(parquet: pq.ParquetFile, column: str) -> int:
    offset = 0
    for batch in parquet.iter_batches(batch_size=_PARQUET_BATCH, columns=[column]):
        values = batch.column(0)
        if values.null_count < len(values):
            return offset + next(i for i, v in enumerate(values.is_valid().to_pylist()) if v) + 1
        offset += len(values)
    return 1


def _read_parquet(
    path: Path, options: ImportOptions, progress: ProgressFn, cancelled: CancelledFn
) -> tuple[list[Item], ParseReport]:
    parquet = _open_parquet(path)
    schema = parquet.schema_arrow
    columns = list(schema.names)
    chosen = resolve_columns(columns, path, options, "schema")
    text_type = schema.field(chosen.text).type
    if not _is_text_type(text_type):
        row = _first_non_null_row(parquet, chosen.text)
        raise InputError(
            f"{path}: row {row}, field '{chosen.text}': expected text, found {text_type}; choose a text column "
            f"with --column."
        )
    if chosen.metadata is None:
        wanted = [c for c in columns if c not in chosen.skip or c in (chosen.text, chosen.id)]
    else:
        wanted = list(dict.fromkeys([chosen.text, *([chosen.id] if chosen.id else []), *chosen.metadata]))
    total = max(parquet.metadata.num_rows, 1)

    def records() -> Iterator[tuple[int, dict[str, Any]]]:
        row = 0
        for batch in parquet.iter_batches(batch_size=_PARQUET_BATCH, columns=wanted):
            raise_if_cancelled(cancelled)
            for record in batch.to_pylist():
                row += 1
                yield row, record
            progress(row, total)
        progress(total, total)

    return records_to_items(records(), path, options, "row", columns)


# -- .md, .html, .pdf: one document, as a folder import reads it ---------------------------------------------
def _read_document(
    path: Path, options: ImportOptions, progress: ProgressFn, cancelled: CancelledFn
) -> tuple[list[Item], ParseReport]:
    item = read_document_file(path, options.kind, options.encoding_errors, cancelled)
    progress(1, 1)
    return [item], ParseReport(kept=1)


# -- the entry points -----------------------------------------------------------------------------------------
Reader = Callable[[Path, ImportOptions, ProgressFn, CancelledFn], tuple[list[Item], ParseReport]]
READERS: dict[str, Reader] = {
    ".txt": _read_txt,  # one item per line (or paragraph): a single .txt is a list of texts, not a document
    ".csv": read_csv,
    ".tsv": read_csv,
    ".jsonl": _read_jsonl,
    ".parquet": _read_parquet,
    **{suffix: _read_document for suffix in FOLDER_SUFFIXES if suffix != ".txt"},
}
TABULAR_SUFFIXES = (".csv", ".tsv", ".jsonl", ".parquet")


def _check_path(path: Path) -> None:
    if not path.exists():  # first: a missing path has no type to complain about
        raise InputError(f"{path}: no such file.")
    if path.suffix.lower() not in READERS:
        raise InputError(f"{path}: unsupported file type '{path.suffix}'; use one of {', '.join(sorted(READERS))}.")
    if not path.is_file():
        raise InputError(f"{path}: not a file.")
    if path.stat().st_size == 0:
        raise InputError(f"{path}: the file is empty.")


@collector_paused()  # a million of them: see core/collector.py
def read_items(
    path: str | Path,
    options: ImportOptions | None = None,
    progress: ProgressFn = no_progress,
    cancelled: CancelledFn = never_cancelled,
) -> tuple[list[Item], ParseReport]:
    """Items from a file of any supported format; an empty result is an InputError (nothing to embed).

    `progress(done, total)` counts bytes (text files) or rows (parquet); `cancelled()` is polled between chunks.
    """
    path = Path(path)
    options = options or ImportOptions()
    _check_path(path)
    items, report = READERS[path.suffix.lower()](path, options, progress, cancelled)
    if not items:
        raise InputError(f"{path}: no items with text found ({report.summary()}).")
    return items, report


def preview_table(
    path: str | Path, options: ImportOptions | None = None, max_rows: int = 20, survey_rows: int = SURVEY_ROWS
) -> TablePreview:
    """Columns, first rows and our proposals for a .csv / .tsv / .jsonl / .parquet file (the import dialog).

    Shows `max_rows` rows; reads up to `survey_rows` to propose an id column whose values are unique and non-empty
    (`records.propose_id_column`) and, where no column has a text-like name, the column with the most text.
    """
    path = Path(path)
    options = options or ImportOptions()
    survey_rows = max(survey_rows, max_rows)
    _check_path(path)
    suffix = path.suffix.lower()
    if suffix not in TABULAR_SUFFIXES:
        raise InputError(f"{path}: a {suffix} file has no columns to choose.")
    rows: list[dict[str, Any]] = []
    delimiter: str | None = None
    types: dict[str, str] = {}
    survey = ColumnSurvey()

    def take(record: dict[str, Any]) -> bool:
        """Count a record in; False once enough are read."""
        if survey.rows >= survey_rows:
            return False
        survey.add(record)
        if len(rows) < max_rows:
            rows.append(record)
        return True

    if suffix in (".csv", ".tsv"):
        stream, reader, columns, delimiter = open_csv(path, options)
        survey = ColumnSurvey(columns)
        try:
            survey.complete = all(take(dict(zip(columns, row, strict=False))) for row in reader if row)
        except (csv.Error, UnicodeDecodeError):
            pass  # the preview shows what could be read; the import itself reports the problem precisely
        finally:
            stream.close()
    elif suffix == ".jsonl":
        stream = TextStream(path, options.encoding_errors)
        try:
            records = jsonl_records(path, stream)
            survey.complete = all(take(record) for _, record in records)
        finally:
            stream.close()
        columns = survey.columns  # every key of the rows read, not only of those shown
    else:
        parquet = _open_parquet(path)
        columns = list(parquet.schema_arrow.names)
        types = {f.name: str(f.type) for f in parquet.schema_arrow}
        survey = ColumnSurvey(columns)
        survey.complete = all(
            take(record) for batch in parquet.iter_batches(batch_size=survey_rows) for record in batch.to_pylist()
        )
    text = propose_text_column(survey)
    proposal = propose_id_column(survey, text or (columns[0] if columns else None))
    return TablePreview(columns, rows, text, proposal.column, delimiter, types, proposal.reason)
