"""Whole Milvus operations, one connection each, in the shape a `ChildService` runs them.

The app runs these in its Milvus process (`workbench.core.child_process.ChildService`): Milvus Lite's server is
Python threads inside whichever process opens the database, and pymilvus' gRPC start-up holds the GIL, so in
the GUI's process they would freeze the window. Each function opens the database, does one thing and lets it
go, so the `workbench` CLI can use the same Lite file between operations. All take `progress` and `cancelled`
keywords (the child-process protocol), and return plain picklable data.

Search-lab operations (stable API for the UI): `search_side_by_side(target, name, modes, vector, text, k)` ->
{mode label: hits} for one query; `rank_queries(target, name, modes, query_vectors, query_texts, depth)` ->
{mode label: (hits per query, seconds)} for an evaluation; `rebuild_fulltext(target, name)` -> collections after
the re-push that gives a collection made without full text its BM25 field (`CollectionInfo.fulltext` says
which collections need it). Modes are `core.search_modes.SearchMode`s.
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
    mode: Any = None,
    progress: ProgressFn = no_progress,
    cancelled: CancelledFn = never_cancelled,
) -> tuple[str, str, int] | None:
    """Check the collection and filter (and, for a `mode` that reads text, the BM25 field) before a query is
    embedded (a remote embedding costs money).

    Returns (provider, model, dim) of the collection's rows, or None when it is empty.
    """
    with open_milvus(target) as db:
        db.check_filter(name, expression, params)
        if mode is not None and mode.uses_text:
            db.require_fulltext(name)
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


# -- search modes (dense, BM25, hybrid) and the re-push that gives a collection full text ----------------------
QUERY_BATCH = 100  # queries per search request: 100 × 100 hits stay far under the gRPC limit


def rebuild_fulltext(
    target: MilvusTarget, name: str, *, progress: ProgressFn = no_progress, cancelled: CancelledFn = never_cancelled
) -> list[CollectionInfo]:
    """The re-push offered for a collection without full text (`rebuild.rebuild_with_fulltext`); returns the
    collections after it."""
    from workbench.core.milvus.rebuild import rebuild_with_fulltext

    with open_milvus(target) as db:
        rebuild_with_fulltext(db, name, progress, cancelled)
        return db.collections()


def _search_mode(
    db: Any,
    name: str,
    mode: Any,
    vectors: np.ndarray | None,
    texts: Sequence[str],
    k: int,
    expression: str,
    params: Mapping[str, Any] | None,
    with_fields: bool,
    progress: ProgressFn = no_progress,
    cancelled: CancelledFn = never_cancelled,
) -> list[list[Hit]]:
    """One mode's hits for each query (vectors and/or texts, by the mode's kind)."""
    from workbench.core.errors import InputError

    if mode.uses_vectors and vectors is None:
        raise InputError(f"The {mode.label} search needs the query's vector: embed the query first.")
    if mode.kind == "exact":
        return [db.exact_search(name, v, k, expression, params, progress, cancelled)[0] for v in vectors]
    if mode.kind == "dense":
        return db.search(name, vectors, k, expression, params, with_fields=with_fields)
    if mode.kind == "bm25":
        return db.search_text(name, texts, k, expression, params, with_fields=with_fields)
    return db.search_hybrid(
        name, vectors, texts, k, mode.ranker, mode.rrf_k, mode.dense_weight, expression, params, with_fields
    )


def search_side_by_side(
    target: MilvusTarget,
    name: str,
    modes: Sequence[Any],
    vector: np.ndarray | None,
    text: str,
    k: int = 10,
    expression: str = "",
    params: Mapping[str, Any] | None = None,
    *,
    progress: ProgressFn = no_progress,
    cancelled: CancelledFn = never_cancelled,
) -> dict[str, list[Hit]]:
    """Each mode's top-k for one query (its vector and its text), keyed by `SearchMode.label`, in mode order.

    `exact` ranks the collection's own rows with numpy (`MilvusStore.exact_search`). A mode the collection cannot
    serve (BM25 or hybrid without full text) raises the InputError that offers the re-push.
    """
    vectors = None if vector is None else np.atleast_2d(np.asarray(vector, dtype=np.float32))
    out: dict[str, list[Hit]] = {}
    with open_milvus(target) as db:
        for mode in modes:
            out[mode.label] = _search_mode(db, name, mode, vectors, [text], k, expression, params, True)[0]
    return out


def rank_queries(
    target: MilvusTarget,
    name: str,
    modes: Sequence[Any],
    query_vectors: np.ndarray | None,
    query_texts: Sequence[str],
    depth: int = 100,
    expression: str = "",
    *,
    progress: ProgressFn = no_progress,
    cancelled: CancelledFn = never_cancelled,
) -> dict[str, tuple[list[list[Hit]], float]]:
    """Each Milvus mode's (dense, bm25, hybrid) top-`depth` ids and scores for many queries (texts not asked
    for), and the seconds it took.

    Keyed by `SearchMode.label`. `expression` filters the rows every mode searches (e.g. documents only).
    Queries go `QUERY_BATCH` at a time; cancel takes effect between batches.
    """
    import time

    from workbench.core.errors import Cancelled, InputError

    if any(m.kind == "exact" for m in modes):
        raise InputError("rank_queries runs Milvus' modes; rank the exact mode with search_modes.exact_rankings.")
    total = len(query_texts) * len(modes)
    vectors = None if query_vectors is None else np.atleast_2d(np.asarray(query_vectors, dtype=np.float32))
    out: dict[str, tuple[list[list[Hit]], float]] = {}
    done = 0
    with open_milvus(target) as db:
        for mode in modes:
            hits: list[list[Hit]] = []
            started = time.perf_counter()
            for start in range(0, len(query_texts), QUERY_BATCH):
                if cancelled():
                    raise Cancelled(f"Cancelled the {mode.label} search after {start} queries.")
                stop = min(start + QUERY_BATCH, len(query_texts))
                block = None if vectors is None else vectors[start:stop]
                hits += _search_mode(db, name, mode, block, query_texts[start:stop], depth, expression, None, False)
                done += stop - start
                progress(done, total)
            out[mode.label] = (hits, time.perf_counter() - started)
    return out
