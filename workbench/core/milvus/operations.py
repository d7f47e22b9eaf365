"""Whole Milvus operations, one connection each, in the shape a `ChildService` runs them.

The app runs these in its Milvus process (`workbench.core.child_process.ChildService`): Milvus Lite's server is
Python threads inside whichever process opens the database, and pymilvus' gRPC start-up holds the GIL, so in
the GUI's process they would freeze the window. Each function opens the database, does one thing and lets it
go, so the `workbench` CLI can use the same Lite file between operations. All take `progress` and `cancelled`
keywords (the child-process protocol), and return plain picklable data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from workbench.core.embedders.base import EmbeddingSpec
from workbench.core.items import Item
from workbench.core.milvus.connection import open_milvus
from workbench.core.milvus.exact import recall_at_k
from workbench.core.milvus.results import CollectionInfo, Hit, PushReport
from workbench.core.milvus.target import MilvusTarget
from workbench.core.progress import CancelledFn, ProgressFn, never_cancelled, no_progress


@dataclass
class SearchOutcome:
    """Milvus' hits beside the exact ranking of the same filtered rows."""

    hits: list[Hit]
    exact: list[Hit]
    scanned: int  # rows the exact ranking read
    recall: float | None  # recall@k of the hits against the exact top-k; None when no row matches


def list_collections(
    target: MilvusTarget, *, progress: ProgressFn = no_progress, cancelled: CancelledFn = never_cancelled
) -> list[CollectionInfo]:
    with open_milvus(target) as db:
        return db.collections()


def drop_collection(
    target: MilvusTarget, name: str, *, progress: ProgressFn = no_progress, cancelled: CancelledFn = never_cancelled
) -> list[CollectionInfo]:
    """Drop one collection; returns the collections left."""
    with open_milvus(target) as db:
        db.drop(name)
        return db.collections()


def push_items(
    target: MilvusTarget,
    name: str,
    items: Sequence[Item],
    vectors: np.ndarray,
    spec: EmbeddingSpec,
    metric: str = "COSINE",
    index_type: str = "AUTOINDEX",
    *,
    progress: ProgressFn = no_progress,
    cancelled: CancelledFn = never_cancelled,
) -> tuple[PushReport, list[CollectionInfo]]:
    """Upsert the items (see `MilvusStore.push`); returns the report and the collections after it."""
    with open_milvus(target) as db:
        report = db.push(name, items, vectors, spec, metric, index_type, progress, cancelled)
        return report, db.collections()


def prepare_search(
    target: MilvusTarget,
    name: str,
    expression: str = "",
    params: Mapping[str, Any] | None = None,
    *,
    progress: ProgressFn = no_progress,
    cancelled: CancelledFn = never_cancelled,
) -> tuple[str, str, int] | None:
    """Check the collection and filter before a query is embedded (a remote embedding costs money).

    Returns (provider, model, dim) of the collection's rows, or None when it is empty.
    """
    with open_milvus(target) as db:
        db.check_filter(name, expression, params)
        return db.stored_spec(name)


def search_beside_exact(
    target: MilvusTarget,
    name: str,
    vector: np.ndarray,
    k: int = 10,
    expression: str = "",
    params: Mapping[str, Any] | None = None,
    *,
    progress: ProgressFn = no_progress,
    cancelled: CancelledFn = never_cancelled,
) -> SearchOutcome:
    """Milvus' top-k for one query vector, and the exact top-k of the same rows with recall@k."""
    with open_milvus(target) as db:
        hits = db.search(name, vector, k, expression, params)[0]
        exact, scanned = db.exact_search(name, vector, k, expression, params, progress, cancelled)
    return SearchOutcome(hits, exact, scanned, recall_at_k([h.id for h in hits], [h.id for h in exact], k))
