"""Write vectors with their ids, texts, kinds and metadata in the formats other tools read, and read them back.

- `.parquet`: the exchange format itself (`workbench.core.exchange`), what Embedding Atlas, pandas and Milvus'
  bulk import read.
- `.csv`: the same columns; `vector` holds a JSON array (floats with 9 significant digits, exact for float32).
- `.npy` + `.jsonl` sidecar: the vectors as an (n, dim) float32 array; line i of the sidecar holds every other
  column of row i.
- `.tsv`: the TensorFlow Embedding Projector pair, `X.tsv` (vectors, no header) and a metadata TSV with a header
  (`metadata.tsv` beside `vectors.tsv`, else `X.metadata.tsv`). The Projector's TSV has no quoting, so tabs and
  newlines inside texts become spaces there; the other formats keep texts exactly.

Every file is written to a temporary name in the same folder and renamed over the target when complete, so a
crash or a cancel never leaves half a file under the name a user chose (`core/atomic.py`).
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from workbench.core.atomic import atomic_path
from workbench.core.embedders.base import EmbeddingSpec
from workbench.core.errors import InputError
from workbench.core.exchange import (
    DERIVED_COLUMNS,
    RESERVED_COLUMNS,
    ExchangeTable,
    read_parquet,
    refuse_bad_ids,
    refuse_bad_vectors,
    to_arrow,
)
from workbench.core.items import ITEM_KINDS, Item
from workbench.core.progress import CancelledFn, ProgressFn, never_cancelled, no_progress, raise_if_cancelled

EXPORT_FORMATS = {
    ".parquet": "Parquet, the exchange format (*.parquet)",
    ".csv": "CSV (*.csv)",
    ".npy": "NumPy array + JSONL sidecar (*.npy)",
    ".tsv": "TensorFlow Embedding Projector: vectors.tsv + metadata.tsv (*.tsv)",
}
READABLE_EXPORTS = (".parquet", ".csv", ".npy")
_CHUNK = 2_000  # rows between progress reports and cancel checks
_PROJECTOR_SKIP = frozenset({"vector", "provider", "model", "dim", "task", "x", "y"})


def sidecar_path(npy_path: str | Path) -> Path:
    """The JSONL file that travels with a .npy export."""
    return Path(npy_path).with_suffix(".jsonl")


def projector_metadata_path(vectors_path: str | Path) -> Path:
    """`metadata.tsv` beside `vectors.tsv`; `X.metadata.tsv` beside any other `X.tsv`."""
    path = Path(vectors_path)
    return path.with_name("metadata.tsv" if path.stem == "vectors" else f"{path.stem}.metadata.tsv")


def export_files(path: str | Path) -> list[Path]:
    """Every file an export to `path` writes: the file itself and its sidecar (.npy's .jsonl, .tsv's metadata)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".npy":
        return [path, sidecar_path(path)]
    if suffix == ".tsv":
        return [path, projector_metadata_path(path)]
    return [path]


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return a.resolve() == b.resolve()


def refuse_overwriting_inputs(outputs: Sequence[str | Path], inputs: Sequence[str | Path]) -> None:
    """InputError when a file some output writes (sidecars included) is one of the inputs: a run must never replace
    what it reads. Call it before any work, so nothing is written."""
    for output in outputs:
        for written in export_files(output):
            for source in inputs:
                if _same_file(written, Path(source)):
                    via = "" if written == Path(output) else f" (its companion file {written.name})"
                    raise InputError(f"{output}: would overwrite the input {source}{via}; choose another output name.")


def _cell(value: Any) -> str:
    """A metadata value as CSV text: None is empty, lists and dicts are JSON, everything else its str()."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, (list, dict, tuple)):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def _vector_text(row: np.ndarray, separator: str) -> str:
    # 9 significant digits are enough to get every float32 back bit for bit; one %-format per row is the fastest
    # pure-Python way to print them (about 20 % faster than joining f-strings).
    return separator.join(["%.9g"] * len(row)) % tuple(row.tolist())


def _columns_and_rows(
    items: Sequence[Item], vectors: np.ndarray, spec: EmbeddingSpec, derived: Mapping[str, Any] | None
) -> tuple[np.ndarray, list[str], pa.Table]:
    """The vectors as float32 (one per item, checked), the exchange table's column names, and the table without
    its vector column (vectors are written from the array, faster)."""
    vectors = _check_aligned(items, vectors)
    table = to_arrow(items, vectors, spec, derived)
    return vectors, table.column_names, table.drop_columns(["vector"])


def _rows_checked(count: int, progress: ProgressFn, cancelled: CancelledFn) -> Iterator[int]:
    """0 … count - 1, with a cancel check and a progress report every _CHUNK rows, and a last report at count."""
    for row in range(count):
        if row % _CHUNK == 0:
            raise_if_cancelled(cancelled)
            progress(row, count)
        yield row
    progress(count, count)


def _check_aligned(items: Sequence[Item], vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim != 2 or len(vectors) != len(items):
        raise ValueError(f"{len(items)} items but vectors of shape {vectors.shape}")
    return vectors


def write_parquet_export(
    path: Path,
    items: Sequence[Item],
    vectors: np.ndarray,
    spec: EmbeddingSpec,
    derived: Mapping[str, Any] | None = None,
    progress: ProgressFn = no_progress,
    cancelled: CancelledFn = never_cancelled,
    long_texts: Mapping[str, Any] | None = None,
) -> list[Path]:
    """The exchange format, row groups written one chunk at a time so progress and cancel work on big sets."""
    table = to_arrow(items, _check_aligned(items, vectors), spec, derived, long_texts)
    with atomic_path(path) as tmp, pq.ParquetWriter(tmp, table.schema) as writer:
        for start in range(0, max(table.num_rows, 1), _CHUNK * 10):
            raise_if_cancelled(cancelled)
            writer.write_table(table.slice(start, _CHUNK * 10))
            progress(min(start + _CHUNK * 10, table.num_rows), table.num_rows)
    return [path]


def write_csv_export(
    path: Path,
    items: Sequence[Item],
    vectors: np.ndarray,
    spec: EmbeddingSpec,
    derived: Mapping[str, Any] | None = None,
    progress: ProgressFn = no_progress,
    cancelled: CancelledFn = never_cancelled,
) -> list[Path]:
    """The exchange columns as CSV (UTF-8, a header, RFC 4180 quoting); `vector` is a JSON array."""
    vectors, names, table = _columns_and_rows(items, vectors, spec, derived)
    columns = {name: table.column(name).to_pylist() for name in table.column_names}
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(names)
        for row in _rows_checked(len(items), progress, cancelled):
            writer.writerow(
                "[" + _vector_text(vectors[row], ",") + "]" if name == "vector" else _cell(columns[name][row])
                for name in names
            )
    return [path]


def _write_jsonl(path: Path, table: pa.Table, cancelled: CancelledFn) -> None:
    columns = {name: table.column(name).to_pylist() for name in table.column_names}
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        for row in _rows_checked(table.num_rows, no_progress, cancelled):
            record = {name: values[row] for name, values in columns.items()}
            handle.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")


def write_npy_export(
    path: Path,
    items: Sequence[Item],
    vectors: np.ndarray,
    spec: EmbeddingSpec,
    derived: Mapping[str, Any] | None = None,
    progress: ProgressFn = no_progress,
    cancelled: CancelledFn = never_cancelled,
) -> list[Path]:
    """`path` (.npy, float32 (n, dim)) and its `.jsonl` sidecar: line i holds the other columns of row i."""
    vectors, _, table = _columns_and_rows(items, vectors, spec, derived)
    sidecar = sidecar_path(path)
    with atomic_path(sidecar) as tmp_sidecar, atomic_path(path) as tmp_npy:
        _write_jsonl(tmp_sidecar, table, cancelled)
        progress(len(items) // 2, len(items))
        with open(tmp_npy, "wb") as handle:
            np.save(handle, vectors, allow_pickle=False)
    progress(len(items), len(items))
    return [path, sidecar]


def write_projector_export(
    path: Path,
    items: Sequence[Item],
    vectors: np.ndarray,
    spec: EmbeddingSpec,
    derived: Mapping[str, Any] | None = None,
    progress: ProgressFn = no_progress,
    cancelled: CancelledFn = never_cancelled,
) -> list[Path]:
    """The Embedding Projector pair: `path` (one tab-separated vector per line) and the metadata TSV with a header.

    The metadata always has several columns (id, text, kind, …), and the Projector expects a header row then.
    """
    vectors, _, table = _columns_and_rows(items, vectors, spec, derived)
    names = [n for n in table.column_names if n not in _PROJECTOR_SKIP]
    columns = {name: table.column(name).to_pylist() for name in names}

    def clean(value: Any) -> str:
        return " ".join(_cell(value).replace("\r\n", " ").replace("\r", " ").replace("\n", " ").split("\t"))

    metadata = projector_metadata_path(path)
    with (
        atomic_path(metadata) as tmp_meta,
        atomic_path(path) as tmp_vectors,
        open(tmp_vectors, "w", encoding="utf-8", newline="\n") as vec_out,
        open(tmp_meta, "w", encoding="utf-8", newline="\n") as meta_out,
    ):
        meta_out.write("\t".join(clean(n) for n in names) + "\n")
        for row in _rows_checked(len(items), progress, cancelled):
            vec_out.write(_vector_text(vectors[row], "\t") + "\n")
            meta_out.write("\t".join(clean(columns[n][row]) for n in names) + "\n")
    return [path, metadata]


WRITERS = {
    ".parquet": write_parquet_export,
    ".csv": write_csv_export,
    ".npy": write_npy_export,
    ".tsv": write_projector_export,
}


def export_vectors(
    path: str | Path,
    items: Sequence[Item],
    vectors: np.ndarray,
    spec: EmbeddingSpec,
    derived: Mapping[str, Any] | None = None,
    progress: ProgressFn = no_progress,
    cancelled: CancelledFn = never_cancelled,
    long_texts: Mapping[str, Any] | None = None,
) -> list[Path]:
    """Write items and their vectors in the format the suffix names; return every file written.

    `long_texts` (the run's long-text record) goes into a Parquet file's schema metadata; the other formats keep
    the chunk columns only."""
    path = Path(path)
    writer = WRITERS.get(path.suffix.lower())
    if writer is None:
        raise InputError(f"{path}: unsupported export type '{path.suffix}'; use one of {', '.join(WRITERS)}.")
    if writer is write_parquet_export:
        return write_parquet_export(path, items, vectors, spec, derived, progress, cancelled, long_texts)
    return writer(path, items, vectors, spec, derived, progress, cancelled)


# -- reading exports back -------------------------------------------------------------------------------------
def _from_records(records: list[dict[str, Any]], vectors: np.ndarray, source: str, numeric: bool) -> ExchangeTable:
    """An ExchangeTable from an export's rows (CSV cells are text: `numeric` converts dim, x, y and cluster)."""
    if records:
        missing = [c for c in ("id", "text", "kind") if c not in records[0]]
        if missing:
            raise InputError(f"{source}: missing column(s) {', '.join(missing)}; is this a workbench export?")
    refuse_bad_ids([record.get("id") for record in records], source)
    refuse_bad_vectors(vectors, source)
    items: list[Item] = []
    for row, record in enumerate(records, start=1):
        if record["kind"] not in ITEM_KINDS:
            raise InputError(f"{source}: row {row}, field 'kind': {record['kind']!r} is not 'document' or 'query'.")
        metadata = {k: v for k, v in record.items() if k not in RESERVED_COLUMNS}
        items.append(Item(id=str(record["id"]), text=record["text"] or "", kind=record["kind"], metadata=metadata))
    first = records[0] if records else {}
    tasks = {r["kind"]: r.get("task") for r in reversed(records)}
    dim = first.get("dim") or (vectors.shape[1] if vectors.ndim == 2 else None)
    spec = EmbeddingSpec(
        provider=str(first.get("provider", "unknown")),
        model=str(first.get("model", "unknown")),
        dim=int(dim) if dim else None,
        document_task=str(tasks.get("document") or "document"),
        query_task=str(tasks.get("query") or "query"),
    )
    derived: dict[str, np.ndarray] = {}
    for name in DERIVED_COLUMNS:
        if records and name in first:
            values = [r.get(name) for r in records]
            if numeric and name in ("x", "y"):
                derived[name] = np.asarray([float(v) if v not in (None, "") else np.nan for v in values])
            elif numeric and name in ("cluster", "cluster_parent"):
                derived[name] = np.asarray([int(v) if v not in (None, "") else -1 for v in values])
            else:
                derived[name] = np.asarray(values)
    return ExchangeTable(items=items, vectors=vectors, spec=spec, derived=derived)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _read_csv_export(path: Path) -> ExchangeTable:
    csv.field_size_limit(2**31 - 1)
    records: list[dict[str, Any]] = []
    vectors: list[list[float]] = []
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle, strict=True)
            if not reader.fieldnames or "vector" not in reader.fieldnames:
                raise InputError(f"{path}: no 'vector' column; is this a workbench CSV export?")
            for row, record in enumerate(reader, start=1):
                try:
                    values = json.loads(record.pop("vector"))
                    if not isinstance(values, list) or not all(_is_number(v) for v in values):
                        raise ValueError("not numbers")
                    vectors.append([float(v) for v in values])
                except (TypeError, ValueError, RecursionError) as error:
                    raise InputError(f"{path}: row {row}, field 'vector': not a list of numbers.") from error
                records.append(record)
    except (csv.Error, UnicodeDecodeError) as error:
        raise InputError(f"{path}: not a readable CSV export ({error}).") from error
    if len({len(v) for v in vectors}) > 1:
        bad = next(r for r, v in enumerate(vectors, start=1) if len(v) != len(vectors[0]))
        raise InputError(f"{path}: row {bad}, field 'vector': of another length than row 1.")
    array = np.asarray(vectors, dtype=np.float32).reshape(len(vectors), -1)
    return _from_records(records, array, str(path), numeric=True)


def _read_npy_export(path: Path) -> ExchangeTable:
    sidecar = sidecar_path(path)
    if not sidecar.is_file():
        raise InputError(f"{path}: its sidecar {sidecar.name} is missing; keep the two files together.")
    try:
        vectors = np.load(path, allow_pickle=False)
    except (ValueError, OSError) as error:
        raise InputError(f"{path}: not a readable .npy file ({error}).") from error
    if vectors.ndim != 2:
        raise InputError(f"{path}: expected a 2-D array of vectors, found shape {vectors.shape}.")
    if not (np.issubdtype(vectors.dtype, np.floating) or np.issubdtype(vectors.dtype, np.integer)):
        raise InputError(f"{path}: holds {vectors.dtype} values, not numbers; is this a workbench .npy export?")
    records = []
    with open(sidecar, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                try:
                    records.append(json.loads(line))
                except json.JSONDecodeError as error:
                    raise InputError(f"{sidecar}: line {number}: not valid JSON ({error.msg}).") from error
    if len(records) != len(vectors):
        raise InputError(f"{sidecar}: {len(records)} rows but {path.name} holds {len(vectors)} vectors.")
    return _from_records(records, vectors.astype(np.float32, copy=False), str(sidecar), numeric=False)


def read_export(path: str | Path) -> ExchangeTable:
    """Items, vectors, provenance and derived columns back from a .parquet, .csv or .npy (+ sidecar) export."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in READABLE_EXPORTS:
        raise InputError(f"{path}: cannot read vectors from a '{suffix}' file; use {', '.join(READABLE_EXPORTS)}.")
    if not path.is_file():
        raise InputError(f"{path}: no such file.")
    if suffix == ".parquet":
        return read_parquet(path)
    if suffix == ".csv":
        return _read_csv_export(path)
    return _read_npy_export(path)


def export_items(
    path: str | Path,
    items: Sequence[Item],
    vectors: np.ndarray,
    spec: EmbeddingSpec,
    derived: Mapping[str, Any] | None = None,
    progress: ProgressFn = no_progress,
    cancelled: CancelledFn = never_cancelled,
) -> list[Path]:
    """A subset of items (e.g. a selection) as .csv, .jsonl or any `export_vectors` format."""
    path = Path(path)
    if path.suffix.lower() != ".jsonl":
        return export_vectors(path, items, vectors, spec, derived, progress, cancelled)
    vectors, _, table = _columns_and_rows(items, vectors, spec, derived)
    with atomic_path(path) as tmp:
        _write_jsonl(tmp, table, cancelled)
    return [path]


def export_matrix(
    path: str | Path,
    matrix: np.ndarray,
    row_labels: Sequence[str],
    column_labels: Sequence[str],
    cancelled: CancelledFn = never_cancelled,
) -> Path:
    """A similarity matrix as `.npy` (the numbers alone) or `.csv` (a header of column labels, a label per row).

    The CSV goes through the `csv` module, so an id or a cluster name holding a comma, a quote or a newline
    stays one field.
    """
    path = Path(path)
    if matrix.shape != (len(row_labels), len(column_labels)):
        raise InputError(f"{path.name}: {matrix.shape} matrix with {len(row_labels)} × {len(column_labels)} labels.")
    with atomic_path(path) as tmp:
        if path.suffix.lower() == ".npy":
            with open(tmp, "wb") as handle:
                np.save(handle, matrix)
            return path
        with open(tmp, "w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["", *column_labels])
            for start in range(0, len(row_labels), _CHUNK):
                raise_if_cancelled(cancelled)
                for label, values in zip(row_labels[start : start + _CHUNK], matrix[start : start + _CHUNK],
                                         strict=True):  # fmt: skip
                    writer.writerow([label, *(f"{v:.6f}" for v in values)])
    return path
