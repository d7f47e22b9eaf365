"""Exact cosine similarity: top-k neighbours in row blocks (never an n × n matrix), and one query's scores.

Exact rather than approximate (pynndescent, FAISS): the app promises honest numbers, and for the sizes a desktop
holds a blocked float32 matmul is fast (20 000 × 768 takes a few seconds on 2 cores) with memory bounded by
`block_rows × n`. Vectors are expected L2-normalised, so the dot product is the cosine.

The matmul is BLAS's (every core); choosing each row's top k is numpy's argpartition, one core per call, so a
block's rows are split over a thread pool (numpy releases the GIL there). Without that, picking the top k took
~75 % of the time on 2 cores and would not get faster with more cores (see `bench/knn_crossover.py`).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from workbench.core.embedders.base import l2_normalise
from workbench.core.progress import CancelledFn, ProgressFn, never_cancelled, no_progress, raise_if_cancelled

BLOCK_CELLS = 16_000_000  # 64 MB of float32 scores per block
MIN_ROWS_PER_THREAD = 64


def top_k_neighbours(
    vectors: np.ndarray,
    k: int,
    queries: np.ndarray | None = None,
    exclude_self: bool = True,
    progress: ProgressFn = no_progress,
    cancelled: CancelledFn = never_cancelled,
) -> tuple[np.ndarray, np.ndarray]:
    """(indices, scores), each (m, k'), best first, of the k most similar rows of `vectors` for each query row.

    `queries` None means every row of `vectors` against the others; then `exclude_self` drops each row itself.
    k' = min(k, candidates): with fewer candidates than k, every candidate is returned. Ties break by index.
    """
    base = np.asarray(vectors, dtype=np.float32)
    self_search = queries is None
    probe = base if self_search else np.asarray(queries, dtype=np.float32)
    n, m = len(base), len(probe)
    candidates = n - 1 if (self_search and exclude_self) else n
    k = max(0, min(int(k), candidates))
    if m == 0 or k == 0:
        return np.zeros((m, k), dtype=np.int64), np.zeros((m, k), dtype=np.float32)
    block = max(1, BLOCK_CELLS // max(n, 1))
    indices = np.empty((m, k), dtype=np.int64)
    scores = np.empty((m, k), dtype=np.float32)
    threads = max(1, min(os.cpu_count() or 1, 16))

    def best_k(sims: np.ndarray, into: slice) -> None:
        """The top k of each row of `sims` into rows `into` of indices/scores, best first."""
        if k < n:  # noqa: SIM108 - the else branch allocates a block of indices only when it is needed
            part = np.argpartition(sims, n - k, axis=1)[:, n - k :]  # the k largest, unordered
        else:
            part = np.tile(np.arange(n), (len(sims), 1))
        part_scores = np.take_along_axis(sims, part, axis=1)
        # Sort by score descending, then index ascending, so ties are deterministic.
        order = np.lexsort((part, -part_scores), axis=1)
        indices[into] = np.take_along_axis(part, order, axis=1)
        scores[into] = np.take_along_axis(part_scores, order, axis=1)

    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="top-k") as pool:
        for start in range(0, m, block):
            raise_if_cancelled(cancelled)
            stop = min(start + block, m)
            sims = probe[start:stop] @ base.T
            if self_search and exclude_self:
                sims[np.arange(stop - start), np.arange(start, stop)] = -np.inf
            rows = stop - start
            step = max(MIN_ROWS_PER_THREAD, -(-rows // threads))
            chunks = [(sims[a : a + step], slice(start + a, start + min(a + step, rows))) for a in range(0, rows, step)]
            others = [pool.submit(best_k, *chunk) for chunk in chunks[1:]]  # none for a few queries
            best_k(*chunks[0])
            for other in others:
                other.result()
            progress(stop, m)
    return indices, scores


def cosine_similarities(vectors: np.ndarray, query: np.ndarray) -> np.ndarray:
    """The cosine of each row of `vectors` with one `query` vector, as float32; neither need be normalised.

    For rows read back from a store (a collection made elsewhere may hold raw vectors): a zero row, or a zero
    query, scores 0 rather than NaN.
    """
    return l2_normalise(vectors) @ l2_normalise(np.asarray(query).reshape(-1))[0]
