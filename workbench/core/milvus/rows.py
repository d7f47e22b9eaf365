"""Items and vectors as Milvus rows: checked before anything is sent, cut to Milvus' limits, and batched.

VARCHAR `max_length` counts UTF-8 bytes on a Milvus server (Lite counts characters): texts are cut to the byte
limit at a character boundary, with a warning, instead of failing the batch. Batches stay under a quarter of
the 64 MB gRPC request limit.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from workbench.core.embedders.base import EmbeddingSpec, first_nonfinite_row
from workbench.core.errors import InputError
from workbench.core.items import Item

FIELDS = ("id", "vector", "text", "kind", "provider", "model", "task", "dim", "metadata")
ID_MAX_BYTES = 512
TEXT_MAX_BYTES = 65_535  # the largest VARCHAR Milvus allows
JSON_MAX_BYTES = 65_536  # a JSON field value must stay below this on a server
REQUEST_BUDGET_BYTES = 16 * 1024 * 1024  # a quarter of the 64 MB gRPC request limit: room for protobuf overhead
MAX_BATCH_ROWS = 2_000  # keeps progress and Cancel responsive (~0.5 s per batch on Lite)


def _cut_utf8(text: str, max_bytes: int) -> tuple[str, bool]:
    data = text.encode("utf-8")
    if len(data) <= max_bytes:
        return text, False
    return data[:max_bytes].decode("utf-8", errors="ignore"), True


def _json_safe(value: Any) -> Any:
    """Metadata as plain JSON: numpy scalars unwrapped, NaN/inf as null, unknown types as text."""
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_json_safe(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def check_vectors(items: Sequence[Item], vectors: np.ndarray) -> np.ndarray:
    """Refuse what Milvus would reject or store wrongly, naming the item: shape, NaN/inf, ids."""
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim != 2 or len(vectors) != len(items):
        raise InputError(f"Expected one vector per item ({len(items)}), got an array of shape {vectors.shape}.")
    if (row := first_nonfinite_row(vectors)) is not None:
        item = items[row]
        raise InputError(f"Item '{item.id}' ({item.text[:40]!r}) has NaN or infinite values in its vector.")
    seen: set[str] = set()
    for item in items:
        if not item.id or len(item.id.encode("utf-8")) > ID_MAX_BYTES:
            raise InputError(f"Item id {item.id[:60]!r} must be 1 to {ID_MAX_BYTES} bytes long.")
        if item.id in seen:
            raise InputError(f"Item id '{item.id}' appears twice; ids must be unique to upsert.")
        seen.add(item.id)
    return vectors


def batch_bounds(row_bytes: Sequence[int], max_rows: int = MAX_BATCH_ROWS) -> list[tuple[int, int]]:
    """Consecutive [start, end) ranges whose estimated payload stays under the request budget."""
    bounds, start, size = [], 0, 0
    for i, nbytes in enumerate(row_bytes):
        if i > start and (size + nbytes > REQUEST_BUDGET_BYTES or i - start >= max_rows):
            bounds.append((start, i))
            start, size = i, 0
        size += nbytes
    if start < len(row_bytes):
        bounds.append((start, len(row_bytes)))
    return bounds


def build_rows(
    items: Sequence[Item], spec: EmbeddingSpec, dim: int
) -> tuple[list[dict[str, Any]], list[int], list[str], list[str]]:
    """Rows without their vectors (added batch by batch), each row's estimated request size, the ids of texts
    that were cut, and warnings for the person."""
    rows, row_bytes, truncated_ids, warnings = [], [], [], []
    for item in items:
        text, cut = _cut_utf8(item.text, TEXT_MAX_BYTES)
        if cut:
            truncated_ids.append(item.id)
        metadata = _json_safe(dict(item.metadata))
        encoded = json.dumps(metadata, ensure_ascii=False)
        if len(encoded.encode("utf-8")) >= JSON_MAX_BYTES:
            metadata, encoded = {"_dropped": "metadata over 64 KB"}, "{}"
            warnings.append(f"Item '{item.id}': metadata over 64 KB was not pushed.")
        rows.append(
            {
                "id": item.id,
                "text": text,
                "kind": item.kind,
                "provider": spec.provider[:64],
                "model": spec.model[:1024],
                "task": spec.task_for(item.kind)[:64],
                "dim": dim,
                "metadata": metadata,
            }
        )
        row_bytes.append(4 * dim + len(text.encode("utf-8")) + len(encoded) + len(item.id) + 256)
    if truncated_ids:
        warnings.append(
            f"{len(truncated_ids)} text(s) longer than {TEXT_MAX_BYTES:,} bytes were cut to fit "
            f"(first: item '{truncated_ids[0]}')."
        )
    return rows, row_bytes, truncated_ids, warnings
