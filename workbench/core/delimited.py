"""Comma-, tab-, semicolon- or pipe-separated files: the delimiter sniffed, the header checked, rows streamed.

We hand-write the delimiter sniffing instead of using `csv.Sniffer` because the Sniffer guesses from character
frequencies and is easily fooled by prose (commas and semicolons inside quoted text); ours parses the sample with
each candidate delimiter, quotes included, and picks the one that gives a consistent table.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from workbench.core.corpus import ParseReport
from workbench.core.errors import InputError
from workbench.core.items import Item
from workbench.core.progress import CancelledFn, ProgressFn, raise_if_cancelled
from workbench.core.records import PROGRESS_EVERY, ImportOptions, records_to_items
from workbench.core.text_files import TextStream, locate_invalid_utf8

DELIMITER_CANDIDATES = (",", "\t", ";", "|")
_SNIFF_BYTES = 64 * 1024
_CSV_FIELD_LIMIT = 2**31 - 1  # csv's default (128 KiB) refuses a long document; the C long maximum is portable


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


def open_csv(path: Path, options: ImportOptions) -> tuple[TextStream, Any, list[str], str]:
    """The stream, a csv reader positioned after the header, the header and the delimiter."""
    preferred = "\t" if path.suffix.lower() == ".tsv" else ","
    stream = TextStream(path, options.encoding_errors)
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
        raise locate_invalid_utf8(path) from error
    except csv.Error as error:
        stream.close()
        raise InputError(f"{path}: line 1: cannot read the header ({error}).") from error
    except BaseException:
        stream.close()
        raise


def _csv_records(
    path: Path, options: ImportOptions, progress: ProgressFn, cancelled: CancelledFn
) -> tuple[list[str], Iterator[tuple[int, dict[str, Any]]], TextStream]:
    stream, reader, header, _ = open_csv(path, options)

    def records() -> Iterator[tuple[int, dict[str, Any]]]:
        count = 0
        while True:
            start = reader.line_num + 1
            try:
                row = next(reader, None)
            except UnicodeDecodeError as error:
                raise locate_invalid_utf8(path) from error
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
            if count % PROGRESS_EVERY == 0:
                raise_if_cancelled(cancelled)
                progress(stream.position, stream.total)
            yield start, dict(zip(header, row, strict=True))
        progress(stream.total, stream.total)

    return header, records(), stream


def read_csv(
    path: Path, options: ImportOptions, progress: ProgressFn, cancelled: CancelledFn
) -> tuple[list[Item], ParseReport]:
    header, records, stream = _csv_records(path, options, progress, cancelled)
    try:
        return records_to_items(records, path, options, "line", header)
    finally:
        stream.close()
