"""Read items from files as people have them: .txt, .csv / .tsv, .jsonl and .parquet.

Every problem is an InputError that names the file, the row and the field, so the CLI can exit 2 with it and the
UI can show it without losing what is already loaded. More formats register in `READERS`.

Tabular files (csv, tsv, jsonl, parquet) go through one path: a reader yields `(row number, record)` pairs and
`records_to_items` turns them into items (text column, id column, metadata columns). Readers stream: a file is
never held twice in memory, progress is reported as bytes or rows read, and cancel is honoured between chunks.

We hand-write the delimiter sniffing instead of using `csv.Sniffer` because the Sniffer guesses from character
frequencies and is easily fooled by prose (commas and semicolons inside quoted text); ours parses the sample with
each candidate delimiter, quotes included, and picks the one that gives a consistent table.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from workbench.core.corpus import ParseReport, SplitMode, items_from_pasted_text
from workbench.core.errors import InputError
from workbench.core.exchange import RESERVED_COLUMNS
from workbench.core.items import Item, ItemKind
from workbench.core.progress import CancelledFn, ProgressFn, never_cancelled, no_progress, raise_if_cancelled

TEXT_FIELD_GUESSES = ("text", "document", "content", "sentence", "body", "query")
ID_FIELD_GUESS = "id"
DELIMITER_CANDIDATES = (",", "\t", ";", "|")
# Columns that mark a file as one of our own exports: its `id` is the id, and the exchange format's own columns
# (vector, provenance, x/y, clusters) are not metadata of the item.
EXPORT_MARKERS = frozenset({"id", "text", "kind", "provider", "model", "task"})
_SNIFF_BYTES = 64 * 1024
_CSV_FIELD_LIMIT = 2**31 - 1  # csv's default (128 KiB) refuses a long document; the C long maximum is portable
_PROGRESS_EVERY = 2_000  # records between progress reports / cancel checks
_PARQUET_BATCH = 10_000


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


class InvalidEncoding(InputError):
    """A file is not valid UTF-8; carries where, so the UI can offer to import it with the bytes replaced."""

    def __init__(self, path: Path, line: int, byte: int) -> None:
        self.path, self.line, self.byte = path, line, byte
        super().__init__(
            f"{path}: line {line}, byte {byte}: not valid UTF-8. Convert the file to UTF-8, or import it with "
            f"invalid bytes replaced (--encoding-errors replace)."
        )


@dataclass
class TablePreview:
    """The first rows of a tabular file and our guesses, for the import dialog's column choosers."""

    columns: list[str]
    rows: list[dict[str, Any]]
    text_column: str | None
    id_column: str | None
    delimiter: str | None = None
    column_types: dict[str, str] = field(default_factory=dict)


# -- text decoding --------------------------------------------------------------------------------------------
def _locate_invalid_utf8(path: Path) -> InvalidEncoding:
    """The exact place of the first invalid byte (only run once decoding has failed, so speed does not matter)."""
    data = path.read_bytes()
    try:
        data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        return InvalidEncoding(path, data[: error.start].count(b"\n") + 1, error.start)
    return InvalidEncoding(path, 1, 0)  # pragma: no cover - only called after a decode error


def read_text_file(path: Path, errors: str = "strict") -> str:
    """A file's text as UTF-8 (a BOM is dropped); invalid bytes are an InputError that says where they are."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig", errors=errors)
    except UnicodeDecodeError as error:
        raise InvalidEncoding(path, data[: error.start].count(b"\n") + 1, error.start) from error


class _TextStream:
    """A file opened as UTF-8 text without newline translation, with the bytes read so far for progress."""

    def __init__(self, path: Path, errors: str) -> None:
        self.path = path
        self.total = max(path.stat().st_size, 1)
        self._raw = open(path, "rb")  # noqa: SIM115 - closed by close()
        self.text = io.TextIOWrapper(self._raw, encoding="utf-8-sig", errors=errors, newline="")

    @property
    def position(self) -> int:
        return min(self._raw.tell(), self.total)

    def close(self) -> None:
        self.text.close()


# -- choosing columns -----------------------------------------------------------------------------------------
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
class _Columns:
    text: str
    id: str | None
    metadata: list[str] | None  # None: every other key of each record
    skip: frozenset[str]


def _resolve_columns(columns: list[str], path: Path, options: ImportOptions, where: str) -> _Columns:
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
    return _Columns(text, id_column, metadata, skip)


# -- records to items -----------------------------------------------------------------------------------------
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
    chosen = _resolve_columns(columns, path, options, "header") if columns is not None else None
    for row_number, record in records:
        if chosen is None:
            chosen = _resolve_columns(list(record), path, options, f"{row_word} {row_number}")
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


# -- .txt -----------------------------------------------------------------------------------------------------
def _read_txt(
    path: Path, options: ImportOptions, progress: ProgressFn, cancelled: CancelledFn
) -> tuple[list[Item], ParseReport]:
    text = read_text_file(path, options.encoding_errors)
    raise_if_cancelled(cancelled)
    result = items_from_pasted_text(text, options.kind, options.split_mode)
    progress(1, 1)
    return result


# -- .csv / .tsv ----------------------------------------------------------------------------------------------
def sniff_delimiter(sample: str, preferred: str = ",", truncated: bool = False) -> str:
    """The delimiter that parses `sample` into the most consistent table with more than one column.

    Each candidate parses the sample with quotes honoured; the score is the share of rows with as many fields as
    the header, then the header's width; `preferred` (the extension's own delimiter) wins ties. A file with one
    column gets `preferred`. `truncated` drops the sample's last row, which may be cut in half.
    """
    best, best_score = preferred, (0.0, 1, True)
    for delimiter in (preferred, *[d for d in DELIMITER_CANDIDATES if d != preferred]):
        try:
            rows = [r for r in csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter) if r]
        except csv.Error:
            continue
        if truncated and len(rows) > 1:
            rows = rows[:-1]
        if not rows or len(rows[0]) < 2:
            continue
        width = len(rows[0])
        score = (sum(len(r) == width for r in rows) / len(rows), width, delimiter == preferred)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _csv_header(row: list[str], path: Path, line: int) -> list[str]:
    header = [name.strip() or f"column_{i + 1}" for i, name in enumerate(row)]
    seen: set[str] = set()
    for name in header:
        if name in seen:
            raise InputError(f"{path}: line {line}: the header names column '{name}' twice; rename one.")
        seen.add(name)
    return header


def _open_csv(path: Path, options: ImportOptions) -> tuple[_TextStream, Any, list[str], str]:
    """The stream, a csv reader positioned after the header, the header and the delimiter."""
    preferred = "\t" if path.suffix.lower() == ".tsv" else ","
    stream = _TextStream(path, options.encoding_errors)
    try:
        sample = stream.text.read(_SNIFF_BYTES)
        truncated = len(sample) == _SNIFF_BYTES
        delimiter = options.delimiter or sniff_delimiter(sample, preferred, truncated)
        stream.text.seek(0)
        csv.field_size_limit(_CSV_FIELD_LIMIT)
        reader = csv.reader(stream.text, delimiter=delimiter, strict=True)
        header_row: list[str] = []
        while not header_row:
            header_row = next(reader, None)  # type: ignore[assignment]
            if header_row is None:
                raise InputError(f"{path}: the file has no header row and no data.")
        return stream, reader, _csv_header(header_row, path, reader.line_num), delimiter
    except UnicodeDecodeError as error:
        stream.close()
        raise _locate_invalid_utf8(path) from error
    except csv.Error as error:
        stream.close()
        raise InputError(f"{path}: line 1: cannot read the header ({error}).") from error
    except BaseException:
        stream.close()
        raise


def _csv_records(
    path: Path, options: ImportOptions, progress: ProgressFn, cancelled: CancelledFn
) -> tuple[list[str], Iterator[tuple[int, dict[str, Any]]], _TextStream]:
    stream, reader, header, _ = _open_csv(path, options)

    def records() -> Iterator[tuple[int, dict[str, Any]]]:
        count = 0
        while True:
            start = reader.line_num + 1
            try:
                row = next(reader, None)
            except UnicodeDecodeError as error:
                raise _locate_invalid_utf8(path) from error
            except csv.Error as error:
                raise InputError(
                    f"{path}: line {start}: {error} (a quote opened and never closed, or a stray quote?)."
                ) from error
            if row is None:
                break
            if not row or (row == [""] and len(header) > 1):
                continue  # a blank line between records
            if len(row) != len(header):
                raise InputError(
                    f"{path}: line {start}: {len(row)} field{'s' if len(row) != 1 else ''} where the header has "
                    f"{len(header)}; check the delimiter and the quotes on that line."
                )
            count += 1
            if count % _PROGRESS_EVERY == 0:
                raise_if_cancelled(cancelled)
                progress(stream.position, stream.total)
            yield start, dict(zip(header, row, strict=True))
        progress(stream.total, stream.total)

    return header, records(), stream


def _read_csv(
    path: Path, options: ImportOptions, progress: ProgressFn, cancelled: CancelledFn
) -> tuple[list[Item], ParseReport]:
    header, records, stream = _csv_records(path, options, progress, cancelled)
    try:
        return records_to_items(records, path, options, "line", header)
    finally:
        stream.close()


# -- .jsonl ---------------------------------------------------------------------------------------------------
def _jsonl_records(
    path: Path, options: ImportOptions, progress: ProgressFn, cancelled: CancelledFn, stream: _TextStream
) -> Iterator[tuple[int, dict[str, Any]]]:
    # Universal newlines split records: JSON escapes every control character, so a raw "\r" or "\n" can only end
    # a line, while U+2028 and friends (which str.splitlines would split on) may sit raw inside strings.
    number = 0
    while True:
        try:
            line = stream.text.readline()
        except UnicodeDecodeError as error:
            raise _locate_invalid_utf8(path) from error
        if not line:
            break
        number += 1
        if number % _PROGRESS_EVERY == 0:
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
    stream = _TextStream(path, options.encoding_errors)
    try:
        return records_to_items(_jsonl_records(path, options, progress, cancelled, stream), path, options)
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
    chosen = _resolve_columns(columns, path, options, "schema")
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


# -- the entry points -----------------------------------------------------------------------------------------
Reader = Callable[[Path, ImportOptions, ProgressFn, CancelledFn], tuple[list[Item], ParseReport]]
READERS: dict[str, Reader] = {
    ".txt": _read_txt,
    ".csv": _read_csv,
    ".tsv": _read_csv,
    ".jsonl": _read_jsonl,
    ".parquet": _read_parquet,
}
TABULAR_SUFFIXES = (".csv", ".tsv", ".jsonl", ".parquet")


def _check_path(path: Path) -> None:
    if path.suffix.lower() not in READERS:
        raise InputError(f"{path}: unsupported file type '{path.suffix}'; use one of {', '.join(sorted(READERS))}.")
    if not path.is_file():
        raise InputError(f"{path}: no such file.")
    if path.stat().st_size == 0:
        raise InputError(f"{path}: the file is empty.")


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


def preview_table(path: str | Path, options: ImportOptions | None = None, max_rows: int = 20) -> TablePreview:
    """Columns, first rows and our guesses for a .csv / .tsv / .jsonl / .parquet file (the import dialog)."""
    path = Path(path)
    options = options or ImportOptions()
    _check_path(path)
    suffix = path.suffix.lower()
    if suffix not in TABULAR_SUFFIXES:
        raise InputError(f"{path}: a {suffix} file has no columns to choose.")
    rows: list[dict[str, Any]] = []
    delimiter: str | None = None
    types: dict[str, str] = {}
    if suffix in (".csv", ".tsv"):
        stream, reader, columns, delimiter = _open_csv(path, options)
        try:
            for row in reader:
                if len(rows) >= max_rows:
                    break
                if row:
                    rows.append(dict(zip(columns, row, strict=False)))
        except (csv.Error, UnicodeDecodeError):
            pass  # the preview shows what could be read; the import itself reports the problem precisely
        finally:
            stream.close()
    elif suffix == ".jsonl":
        stream = _TextStream(path, options.encoding_errors)
        try:
            for _, record in _jsonl_records(path, options, no_progress, never_cancelled, stream):
                rows.append(record)
                if len(rows) >= max_rows:
                    break
        finally:
            stream.close()
        columns = list(dict.fromkeys(key for row in rows for key in row))
    else:
        parquet = _open_parquet(path)
        columns = list(parquet.schema_arrow.names)
        types = {f.name: str(f.type) for f in parquet.schema_arrow}
        for batch in parquet.iter_batches(batch_size=max_rows):
            rows = batch.to_pylist()[:max_rows]
            break
    text = guess_text_column(columns)
    id_column = ID_FIELD_GUESS if ID_FIELD_GUESS in columns and text != ID_FIELD_GUESS else None
    return TablePreview(columns, rows, text, id_column, delimiter, types)
