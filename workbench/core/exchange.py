"""The Parquet exchange format: one row per item, the contract shared by the CLI, the app and other tools.

Columns: `id` (string), `text`, `kind`, `vector` (list<float32>, L2-normalised), the provenance (`provider`,
`model`, `dim`, `task`), optional derived columns (`x`, `y` from `project`; `cluster`, `cluster_name`, with
`--levels 2` `cluster_parent`, `cluster_parent_name`, with `--assign-noise` `cluster_assigned`, from
`cluster`), and every metadata column of the input unchanged. Reading a file gives back the items, vectors,
provenance and derived columns, so `project` and `cluster` can add columns and keep everything else.

A run under a long-text policy (`core.long_texts`) adds the chunk columns `parent_id`, `chunk_index`,
`char_start`, `char_end` (metadata columns to every reader) and records the policy and what it did as JSON in the
file's schema metadata under `workbench.long_texts` (`ExchangeTable.long_texts`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from workbench.core.atomic import atomic_path
from workbench.core.embedders.base import EmbeddingSpec, first_nonfinite_row, first_zero_row
from workbench.core.errors import InputError
from workbench.core.items import ITEM_KINDS, Item, metadata_keys

CORE_COLUMNS = ("id", "text", "kind", "vector", "provider", "model", "dim", "task")
DERIVED_COLUMNS = ("x", "y", "cluster", "cluster_name", "cluster_parent", "cluster_parent_name", "cluster_assigned")
RESERVED_COLUMNS = frozenset(CORE_COLUMNS + DERIVED_COLUMNS)
LONG_TEXTS_KEY = b"workbench.long_texts"  # schema metadata: the long-text policy of the run, as JSON


@dataclass
class ExchangeTable:
    """What a Parquet exchange file holds, in the core's own types."""

    items: list[Item]
    vectors: np.ndarray  # (n, dim) float32
    spec: EmbeddingSpec
    derived: dict[str, np.ndarray] = field(default_factory=dict)  # x, y, cluster, cluster_name when present
    long_texts: dict[str, Any] | None = None  # the long-text policy record, when the run had one

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1]) if self.vectors.ndim == 2 else 0


def to_arrow(
    items: Sequence[Item],
    vectors: np.ndarray,
    spec: EmbeddingSpec,
    derived: Mapping[str, Any] | None = None,
    long_texts: Mapping[str, Any] | None = None,
) -> pa.Table:
    """The exchange table for items and their vectors (rows aligned), with the long-text record if any."""
    vectors = np.asarray(vectors, dtype=np.float32)
    if len(items) != len(vectors):
        raise ValueError(f"{len(items)} items but {len(vectors)} vectors")
    dim = int(vectors.shape[1]) if vectors.ndim == 2 and len(vectors) else int(spec.dim or 0)
    meta_keys = metadata_keys(items)
    clashing = sorted(RESERVED_COLUMNS.intersection(meta_keys))
    if clashing:
        raise InputError(
            f"Metadata column(s) {', '.join(clashing)} clash with the exchange format's own columns; rename them."
        )
    flat = pa.array(vectors.reshape(-1), type=pa.float32())
    vector_column = pa.FixedSizeListArray.from_arrays(flat, dim) if dim else pa.array([[]] * len(items))
    columns: dict[str, Any] = {
        "id": pa.array([i.id for i in items], pa.string()),
        "text": pa.array([i.text for i in items], pa.string()),
        "kind": pa.array([i.kind for i in items], pa.string()),
        "vector": vector_column.cast(pa.list_(pa.float32())),
        "provider": pa.array([spec.provider] * len(items), pa.string()),
        "model": pa.array([spec.model] * len(items), pa.string()),
        "dim": pa.array([dim] * len(items), pa.int32()),
        "task": pa.array([spec.task_for(i.kind) for i in items], pa.string()),
    }
    for name, values in (derived or {}).items():
        columns[name] = pa.array(np.asarray(values).tolist())
    for key in meta_keys:
        columns[key] = pa.array([i.metadata.get(key) for i in items])
    table = pa.table(columns)
    if long_texts:
        table = table.replace_schema_metadata({LONG_TEXTS_KEY: json.dumps(dict(long_texts)).encode("utf-8")})
    return table


def write_parquet(
    path: str | Path,
    items: Sequence[Item],
    vectors: np.ndarray,
    spec: EmbeddingSpec,
    derived: Mapping[str, Any] | None = None,
    long_texts: Mapping[str, Any] | None = None,
) -> None:
    """Write the exchange file atomically (temp file + rename), so a crash never leaves half a file."""
    table = to_arrow(items, vectors, spec, derived, long_texts)
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp)


def refuse_bad_vectors(vectors: np.ndarray, source: str) -> None:
    """InputError naming the first row whose vector holds NaN or an infinity, or only zeros (every number computed
    from it would be wrong without a word)."""
    if vectors.ndim != 2 or not len(vectors):
        return
    if (row := first_nonfinite_row(vectors)) is not None:
        raise InputError(f"{source}: row {row + 1}, field 'vector': NaN or infinite values; embed that item again.")
    if vectors.shape[1] and (row := first_zero_row(vectors)) is not None:
        raise InputError(
            f"{source}: row {row + 1}, field 'vector': all zeros, not an embedding; embed that item again."
        )


def refuse_bad_ids(ids: Sequence[Any], source: str) -> None:
    """InputError naming the first row whose id is missing or empty (it would become the id "None" or "")."""
    for row, value in enumerate(ids):
        if value is None or str(value).strip() == "":
            raise InputError(f"{source}: row {row + 1}, field 'id': empty; every item needs an id.")


def read_parquet(path: str | Path) -> ExchangeTable:
    """Read an exchange file; a missing or mistyped core column is an InputError naming file and column."""
    path = Path(path)
    try:
        table = pq.read_table(path)
    except FileNotFoundError as error:
        raise InputError(f"{path}: no such file.") from error
    except (pa.ArrowInvalid, OSError) as error:
        # Arrow's own words ("Parquet magic bytes not found in footer") only help when the file was meant to be one
        why = f" ({error})" if path.suffix.lower() == ".parquet" else ""
        raise InputError(
            f"{path}: not a Parquet file{why}; this reads the .parquet exchange file that `workbench embed` writes "
            f"(columns id, text, kind, vector)."
        ) from error
    return from_arrow(table, str(path))


def from_arrow(table: pa.Table, source: str = "table") -> ExchangeTable:
    missing = [c for c in ("id", "text", "kind", "vector") if c not in table.column_names]
    if missing:
        raise InputError(f"{source}: missing column(s) {', '.join(missing)}; is this an embed output?")
    rows = table.num_rows
    raw_ids = table.column("id").to_pylist()
    refuse_bad_ids(raw_ids, source)
    ids = [str(v) for v in raw_ids]
    vector_type = table.schema.field("vector").type
    if not (
        (
            pa.types.is_list(vector_type)
            or pa.types.is_large_list(vector_type)
            or pa.types.is_fixed_size_list(vector_type)
        )
        and (pa.types.is_floating(vector_type.value_type) or pa.types.is_integer(vector_type.value_type))
    ):
        raise InputError(
            f"{source}: field 'vector' holds {vector_type}, not lists of numbers; is this an embed output?"
        )
    texts = table.column("text").to_pylist()
    kinds = table.column("kind").to_pylist()
    for row, kind in enumerate(kinds):
        if kind not in ITEM_KINDS:
            raise InputError(f"{source}: row {row + 1}, field 'kind': {kind!r} is not 'document' or 'query'.")
    vector_list = table.column("vector").to_pylist()
    lengths = {len(v) if v is not None else -1 for v in vector_list}
    if len(lengths) > 1 or -1 in lengths:
        bad = next(r for r, v in enumerate(vector_list) if v is None or len(v) != len(vector_list[0] or []))
        raise InputError(f"{source}: row {bad + 1}, field 'vector': missing or of another length than row 1.")
    try:
        vectors = np.asarray(vector_list, dtype=np.float32).reshape(rows, -1) if rows else np.zeros((0, 0), np.float32)
    except (TypeError, ValueError) as error:
        raise InputError(f"{source}: field 'vector' does not hold numbers ({error}).") from error
    refuse_bad_vectors(vectors, source)

    def first(column: str, default: Any) -> Any:
        if column in table.column_names and rows:
            return table.column(column)[0].as_py()
        return default

    kind_tasks = {}
    if "task" in table.column_names:
        for kind, task in zip(kinds, table.column("task").to_pylist(), strict=True):
            kind_tasks.setdefault(kind, task)
    dim_value = first("dim", vectors.shape[1] if vectors.ndim == 2 else None)
    spec = EmbeddingSpec(
        provider=str(first("provider", "unknown")),
        model=str(first("model", "unknown")),
        dim=int(dim_value) if dim_value else None,
        document_task=str(kind_tasks.get("document", "document")),
        query_task=str(kind_tasks.get("query", "query")),
    )
    meta_names = [c for c in table.column_names if c not in RESERVED_COLUMNS]
    meta_values = {c: table.column(c).to_pylist() for c in meta_names}
    items = [
        Item(id=ids[r], text=texts[r] or "", kind=kinds[r], metadata={c: meta_values[c][r] for c in meta_names})
        for r in range(rows)
    ]
    derived = {c: np.asarray(table.column(c).to_pylist()) for c in DERIVED_COLUMNS if c in table.column_names}
    return ExchangeTable(items=items, vectors=vectors, spec=spec, derived=derived, long_texts=long_texts_of(table))


def long_texts_of(table: pa.Table) -> dict[str, Any] | None:
    """The long-text record of an exchange table, or None (none written, or not JSON: ignored, not fatal)."""
    raw = (table.schema.metadata or {}).get(LONG_TEXTS_KEY)
    if raw is None:
        return None
    try:
        record = json.loads(raw)
    except ValueError:
        return None
    return record if isinstance(record, dict) else None
