"""The exact ranking an index is judged by: rows scored with numpy by the collection's metric, a running top-k.

Milvus' indexes (HNSW, IVF) are approximate. `MilvusStore.exact_search` reads the same filtered rows a batch at a
time and ranks them here with the collection's own metric, so `recall_at_k` measures what the index missed, not
a difference in scoring. Scores are Milvus': similarity for COSINE and IP (higher is nearer), squared distance
for L2 (lower is nearer).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from workbench.core.knn import cosine_similarities


def metric_scores(metric: str, vectors: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Each row's score against one query under a Milvus metric (COSINE, IP or L2), as Milvus would report it."""
    if metric == "L2":
        return ((vectors - query) ** 2).sum(axis=1)
    if metric == "COSINE":
        return cosine_similarities(vectors, query)
    return vectors @ query


class RunningTopK:
    """The k best (id, score) pairs of the batches added so far, best first; ties keep the order rows came in."""

    def __init__(self, k: int, metric: str) -> None:
        self.k = k
        self.sign = -1.0 if metric == "L2" else 1.0  # L2: smaller is nearer
        self.ids: list[str] = []
        self.scores = np.zeros(0, dtype=np.float32)

    def add(self, ids: Sequence[str], scores: np.ndarray) -> None:
        every = self.ids + list(ids)
        merged = np.concatenate([self.scores, np.asarray(scores).astype(np.float32)])
        order = np.argsort(-self.sign * merged, kind="stable")[: self.k]
        self.ids, self.scores = [every[i] for i in order], merged[order]


def recall_at_k(found: Sequence[str], exact: Sequence[str], k: int) -> float | None:
    """Share of the exact top-k that the approximate top-k found; None when there is nothing to find."""
    truth = list(exact)[:k]
    if not truth:
        return None
    return len(set(list(found)[:k]) & set(truth)) / len(truth)
