"""A whole evaluation run: embed a labelled set, search it in every chosen mode, hand the runs to `evaluation`.

API (stable; the CLI uses it whole, the UI step by step in its worker and Milvus processes):
- `embed_labelled(labelled, embedder, cache)` -> (document vectors, vectors of the evaluated queries).
- `exact_run(labelled, document_vectors, query_vectors, depth)` -> `ModeRun` of the exact dense mode (numpy).
- `milvus_runs(labelled, modes, document_vectors, query_vectors, spec, target, collection, depth)` -> `ModeRun`s
  of the Milvus modes (dense, bm25, hybrid). The documents are upserted first (by id, so a collection that holds
  them already changes nothing; a new collection gets full text), and only rows of kind document are ranked.
  `target` None uses a throwaway Milvus Lite database in a temporary folder, so BM25 and hybrid need no set-up.
- `run_modes(...)`: both, in the order of `modes`.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from workbench.core.beir import LabelledSet
from workbench.core.embedders.base import Embedder, EmbeddingSpec
from workbench.core.milvus.target import MilvusTarget
from workbench.core.progress import CancelledFn, ProgressFn, never_cancelled, no_progress
from workbench.core.search_modes import ModeRun, SearchMode, exact_rankings

SCRATCH_COLLECTION = "evaluation"
# A collection the app pushed may hold its queries too; an evaluation ranks documents only.
DOCUMENTS_ONLY = 'kind == "document"'


def embed_labelled(
    labelled: LabelledSet,
    embedder: Embedder,
    cache: object | None = None,
    progress: ProgressFn = no_progress,
    cancelled: CancelledFn = never_cancelled,
) -> tuple[np.ndarray, np.ndarray]:
    """Vectors of the documents and of the evaluated queries (in `labelled.evaluated_queries` order)."""
    from workbench.core.embedding import embed_items

    queries = labelled.evaluated_queries
    result = embed_items([*labelled.documents, *queries], embedder, cache, progress, cancelled)  # type: ignore[arg-type]
    n = len(labelled.documents)
    return result.vectors[:n], result.vectors[n:]


def exact_run(
    labelled: LabelledSet,
    document_vectors: np.ndarray,
    query_vectors: np.ndarray,
    depth: int = 100,
    progress: ProgressFn = no_progress,
    cancelled: CancelledFn = never_cancelled,
) -> ModeRun:
    started = time.perf_counter()
    hits = exact_rankings(labelled.documents, document_vectors, query_vectors, depth, progress, cancelled)
    ids = [q.id for q in labelled.evaluated_queries]
    return ModeRun(SearchMode("exact"), ids, hits, time.perf_counter() - started)


def milvus_runs(
    labelled: LabelledSet,
    modes: Sequence[SearchMode],
    document_vectors: np.ndarray,
    query_vectors: np.ndarray,
    spec: EmbeddingSpec,
    target: MilvusTarget | None = None,
    collection: str | None = None,
    depth: int = 100,
    progress: ProgressFn = no_progress,
    cancelled: CancelledFn = never_cancelled,
) -> list[ModeRun]:
    """The Milvus modes' runs (see the module docstring); progress counts pushed rows, then searched queries."""
    from workbench.core.milvus.connection import open_milvus
    from workbench.core.milvus.operations import rank_queries

    modes = [m for m in modes if m.needs_milvus]
    if not modes:
        return []
    with tempfile.TemporaryDirectory(prefix="workbench-eval-") as scratch:
        if target is None:
            target = MilvusTarget(str(Path(scratch) / "evaluation.db"))
        name = collection or SCRATCH_COLLECTION
        with open_milvus(target) as db:
            info = db.describe(name)
            metric = info.metric if info is not None else "COSINE"
            index = info.index_type if info is not None and info.index_type != "none" else "AUTOINDEX"
            report = db.push(
                name, labelled.documents, document_vectors, spec, metric, index, progress, cancelled, fulltext=True
            )
            if any(m.uses_text for m in modes):
                db.require_fulltext(name)
        queries = labelled.evaluated_queries
        ranked = rank_queries(
            target,
            name,
            modes,
            query_vectors,
            [q.text for q in queries],
            depth,
            DOCUMENTS_ONLY,
            progress=progress,
            cancelled=cancelled,
        )
    ids = [q.id for q in queries]
    notes = list(report.warnings)
    return [ModeRun(m, ids, ranked[m.label][0], ranked[m.label][1], notes) for m in modes]


def run_modes(
    labelled: LabelledSet,
    modes: Sequence[SearchMode],
    document_vectors: np.ndarray,
    query_vectors: np.ndarray,
    spec: EmbeddingSpec,
    target: MilvusTarget | None = None,
    collection: str | None = None,
    depth: int = 100,
    progress: ProgressFn = no_progress,
    cancelled: CancelledFn = never_cancelled,
) -> list[ModeRun]:
    """Every chosen mode's run, in the order of `modes` (exact in numpy, the rest in Milvus)."""
    runs: dict[str, ModeRun] = {}
    if any(m.kind == "exact" for m in modes):
        exact = exact_run(labelled, document_vectors, query_vectors, depth, progress, cancelled)
        runs[exact.mode.label] = exact
    for run in milvus_runs(
        labelled, modes, document_vectors, query_vectors, spec, target, collection, depth, progress, cancelled
    ):
        runs[run.mode.label] = run
    return [runs[m.label] for m in modes]
