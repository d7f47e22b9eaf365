"""A Compare run in a workspace file: configuration B's vectors, its 2-D layout, its spec and the computed numbers.

A comparison is what a person waited for (B embedded, perhaps paid for, laid out, compared), so a workspace keeps
it like the clusters: `compare_vectors.npy` and `compare_projection.npy` beside A's, and in the manifest a
`comparison` table with B's spec and counts and `Comparison`'s fields as they are (`numbers`, `only_in_a`,
`only_in_b`, `query_tops`: already JSON, the same keys the CLI's `compare --json` prints). B's rows are A's embedded
items in A's order (the pipeline compares B over exactly those), so B's items are not written twice; a comparison
whose rows are not A's is not saved. No key: B's key and endpoint are credentials, never part of a spec.

Opening checks every field's type with the manifest, before any member is read (`comparison_problem`), then the
arrays against A's rows; a workspace written before comparisons were saved has no `comparison` and opens as before.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from workbench.core.compare import Comparison
from workbench.core.embedders.base import first_nonfinite_row, first_zero_row
from workbench.core.embedding import EmbeddingResult
from workbench.core.errors import InputError
from workbench.core.workspace_archive import (
    COMPARISON_MEMBERS,
    MAX_DIM,
    check_spec,
    damaged,
    is_count,
    npy_bytes,
    spec_from_json,
    spec_to_json,
)

VECTORS_B, LAYOUT_B = COMPARISON_MEMBERS


@dataclass
class SavedComparison:
    """B's embedding (row i is A's row i), B's 2-D layout and the comparison of B with A."""

    result_b: EmbeddingResult
    xy_b: np.ndarray
    comparison: Comparison


def comparison_entry(
    saved: SavedComparison, embedding: EmbeddingResult | None
) -> tuple[dict[str, Any], dict[str, bytes]]:
    """(the manifest's `comparison` table, the members) for `saved`; ValueError when its rows are not A's."""
    result_b = saved.result_b
    if embedding is None or [i.id for i in result_b.items] != [i.id for i in embedding.items]:
        raise ValueError("a saved comparison must have one row per embedded item, in the same order")
    if np.shape(saved.xy_b) != (len(result_b.items), 2):
        raise ValueError("B's layout must have one row per embedded item")
    comparison = saved.comparison
    entry = {
        "spec": spec_to_json(result_b.spec),
        "dim": int(result_b.dim),
        "rows": len(result_b.items),
        "encoded": int(result_b.encoded),
        "from_cache": int(result_b.from_cache),
        "numbers": dict(comparison.numbers),
        "only_in_a": int(comparison.only_in_a),
        "only_in_b": int(comparison.only_in_b),
        "query_tops": list(comparison.query_tops),
    }
    members = {
        VECTORS_B: npy_bytes(np.asarray(result_b.vectors, dtype=np.float32)),
        LAYOUT_B: npy_bytes(np.asarray(saved.xy_b, dtype=np.float32)),
    }
    return entry, members


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _query_problem(tops: Any) -> str | None:
    if not isinstance(tops, dict):
        return "a query's tops are not a table"
    if not (isinstance(tops.get("id"), str) and isinstance(tops.get("text"), str) and _is_number(tops.get("overlap"))):
        return "a query's id, text or overlap is damaged"
    for side in ("a", "b"):
        ids, scores = tops.get(f"top_{side}"), tops.get(f"scores_{side}")
        if not (isinstance(ids, list) and all(isinstance(i, str) for i in ids)):
            return f"a query's top {side.upper()} is not a list of ids"
        if not (isinstance(scores, list) and len(scores) == len(ids) and all(_is_number(s) for s in scores)):
            return f"a query's scores under {side.upper()} do not match its top"
    return None


def comparison_problem(entry: Any) -> str | None:
    """What in the manifest's `comparison` table breaks its schema, or None (also None when there is none)."""
    if entry is None:
        return None
    if not isinstance(entry, dict):
        return "the comparison is not a table"
    if (problem := check_spec(entry.get("spec"))) is not None:
        return f"the comparison's {problem}"
    if not (is_count(entry.get("dim")) and 1 <= entry["dim"] <= MAX_DIM):
        return f"B's dim {entry.get('dim')!r} is not a size"
    for name in ("rows", "encoded", "from_cache", "only_in_a", "only_in_b"):
        if not is_count(entry.get(name)):
            return f"the comparison's {name} {entry.get(name)!r} is not a count"
    numbers = entry.get("numbers")
    if not isinstance(numbers, dict):
        return "the comparison's numbers are not a table"
    for key, value in numbers.items():
        if not (value is None or isinstance(value, str) or _is_number(value)):
            return f"the comparison's number {key!r} is not a number"
    tops = entry.get("query_tops")
    if not isinstance(tops, list):
        return "the comparison's queries are not a list"
    return next((problem for problem in map(_query_problem, tops) if problem is not None), None)


def comparison_from(
    entry: Any, vectors: np.ndarray | None, xy: np.ndarray | None, embedding: EmbeddingResult | None, path: Path
) -> SavedComparison | None:
    """The comparison a workspace holds over `embedding` (A), checked against A's rows; None when it has none."""
    if entry is None and vectors is None and xy is None:
        return None
    if entry is None or vectors is None or xy is None or embedding is None:
        raise damaged(path, "the comparison is incomplete")
    rows = len(embedding.items)
    if entry["rows"] != rows or vectors.ndim != 2 or vectors.shape != (rows, entry["dim"]):
        raise damaged(path, "B's vectors do not match the embedded items")
    if not np.issubdtype(vectors.dtype, np.floating) or first_nonfinite_row(vectors) is not None:
        raise damaged(path, "B's vectors hold NaN or infinite rows")
    if first_zero_row(vectors) is not None:
        raise damaged(path, "B's vectors hold all-zero rows")
    if xy.shape != (rows, 2) or not np.issubdtype(xy.dtype, np.floating) or not np.isfinite(xy).all():
        raise damaged(path, "B's 2-D layout does not match the embedded items")
    try:
        spec = spec_from_json(entry["spec"], str(path))
    except InputError as error:
        raise damaged(path, "B's model settings cannot be read") from error
    numbers = {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in entry["numbers"].items()}
    result_b = EmbeddingResult(
        items=list(embedding.items),
        vectors=vectors.astype(np.float32, copy=False),
        spec=spec,
        dim=int(entry["dim"]),
        encoded=int(entry["encoded"]),
        from_cache=int(entry["from_cache"]),
    )
    comparison = Comparison(numbers, int(entry["only_in_a"]), int(entry["only_in_b"]), list(entry["query_tops"]))
    return SavedComparison(result_b, xy.astype(np.float32, copy=False), comparison)
