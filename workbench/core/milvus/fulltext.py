"""Full-text search in a collection: Milvus builds a BM25 sparse vector from the text field itself.

A collection made with full text has `text` as a VARCHAR with `enable_analyzer=True`, a `SPARSE_FLOAT_VECTOR`
field `text_sparse` that a `FunctionType.BM25` function fills from `text` on every insert/upsert (rows never
carry it), indexed `SPARSE_INVERTED_INDEX` with metric `BM25`; a search sends the raw query text. Checked with
Milvus Lite 3.2 (pymilvus 3.0): upsert, search and `hybrid_search` with `RRFRanker` / `WeightedRanker` work.

Milvus Lite reports a BM25 hit's score negated (best first, most negative); a server reports it positive. A BM25
score is never negative, so `bm25_score` takes its magnitude and both read the same.

The function lives in the collection's schema, so a collection made before full text cannot gain it;
`MilvusStore.rebuild_with_fulltext` copies its rows into a new collection that has it (the "re-push").
pymilvus is imported inside the functions, as everywhere in this package.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

SPARSE_FIELD = "text_sparse"
BM25_FUNCTION = "text_bm25"
SPARSE_INDEX = {"index_type": "SPARSE_INVERTED_INDEX", "metric_type": "BM25"}


def add_bm25(schema: Any, index: Any) -> None:
    """Add the sparse field, the BM25 function from `text` and its index to a schema and its index params."""
    from pymilvus import DataType, Function, FunctionType

    schema.add_field(SPARSE_FIELD, DataType.SPARSE_FLOAT_VECTOR)
    schema.add_function(
        Function(
            name=BM25_FUNCTION,
            function_type=FunctionType.BM25,
            input_field_names=["text"],
            output_field_names=[SPARSE_FIELD],
        )
    )
    index.add_index(SPARSE_FIELD, **SPARSE_INDEX)


def fulltext_field(schema: Mapping[str, Any]) -> str | None:
    """The sparse field a BM25 function fills from `text` in a described collection, or None."""
    from pymilvus import FunctionType

    for function in schema.get("functions") or []:
        kind = function.get("type")
        if kind in (FunctionType.BM25, "BM25", int(FunctionType.BM25)) and "text" in function.get(
            "input_field_names", []
        ):
            outputs = function.get("output_field_names") or []
            return str(outputs[0]) if outputs else None
    return None


def bm25_score(distance: float) -> float:
    """A BM25 hit's score as a positive number (Milvus Lite reports it negated)."""
    return abs(float(distance))


def ranker(kind: str, rrf_k: int, dense_weight: float) -> Any:
    """The pymilvus ranker of a hybrid search: RRF with its k, or weighted (dense, BM25)."""
    from pymilvus import RRFRanker, WeightedRanker

    if kind == "rrf":
        return RRFRanker(int(rrf_k))
    return WeightedRanker(float(dense_weight), 1.0 - float(dense_weight))


def no_fulltext_message(name: str) -> str:
    return (
        f"Collection '{name}' was made without full text (no BM25 field), so it cannot be searched by BM25 or "
        "hybrid: re-push it (the Milvus panel offers it; `workbench push --collection NAME --add-fulltext` does it)."
    )
