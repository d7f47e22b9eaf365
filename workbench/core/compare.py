"""Compare two embeddings of the same items: do the two models agree, and which one separates labels better?

Numbers, all computed on items present in both (joined on id):
- knn_overlap: mean |N_a(i) ∩ N_b(i)| / k over items, N = the k nearest neighbours by cosine (exact, core.knn).
- similarity_rank_correlation: Spearman correlation of the pairwise cosine similarities of the two models, over
  all pairs up to `MAX_PAIRS`, else over a seeded random sample of pairs (and the result says so).
- with labels: knn_label_accuracy_{a,b} (leave-one-out majority vote of the k neighbours) and silhouette_{a,b}
  (cosine, scikit-learn).
- for queries: each query's top-k documents under both models, and their overlap.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from workbench.core.errors import InputError
from workbench.core.exchange import ExchangeTable
from workbench.core.knn import top_k_neighbours

MAX_PAIRS = 2_000_000


@dataclass
class Comparison:
    numbers: dict[str, Any]
    only_in_a: int
    only_in_b: int
    query_tops: list[dict[str, Any]] = field(default_factory=list)  # per query: id, text, top_a, top_b, overlap


def _aligned(a: ExchangeTable, b: ExchangeTable) -> tuple[list[int], list[int], int, int]:
    index_b = {item.id: row for row, item in enumerate(b.items)}
    rows_a = [row for row, item in enumerate(a.items) if item.id in index_b]
    rows_b = [index_b[a.items[row].id] for row in rows_a]
    shared = len(rows_a)
    if shared < 3:
        raise InputError(f"The two files share {shared} item ids; a comparison needs at least 3 of the same items.")
    return rows_a, rows_b, len(a.items) - shared, len(b.items) - shared


def knn_overlap(vectors_a: np.ndarray, vectors_b: np.ndarray, k: int) -> float:
    neighbours_a, _ = top_k_neighbours(vectors_a, k)
    neighbours_b, _ = top_k_neighbours(vectors_b, k)
    k_eff = neighbours_a.shape[1]
    overlaps = [len(set(x) & set(y)) / k_eff for x, y in zip(neighbours_a, neighbours_b, strict=True)]
    return float(np.mean(overlaps))


def similarity_rank_correlation(vectors_a: np.ndarray, vectors_b: np.ndarray, seed: int = 0) -> tuple[float, str]:
    from scipy.stats import spearmanr

    n = len(vectors_a)
    pairs = n * (n - 1) // 2
    if pairs <= MAX_PAIRS:
        upper = np.triu_indices(n, k=1)
        sims_a = (vectors_a @ vectors_a.T)[upper]
        sims_b = (vectors_b @ vectors_b.T)[upper]
        note = f"all {pairs} pairs"
    else:
        rng = np.random.default_rng(seed)
        i, j = rng.integers(0, n, MAX_PAIRS), rng.integers(0, n, MAX_PAIRS)
        keep = i != j
        i, j = i[keep], j[keep]
        sims_a = np.einsum("ij,ij->i", vectors_a[i], vectors_a[j])
        sims_b = np.einsum("ij,ij->i", vectors_b[i], vectors_b[j])
        note = f"a random sample of {keep.sum()} of {pairs} pairs (seed {seed})"
    return float(spearmanr(sims_a, sims_b).statistic), note


def knn_label_accuracy(vectors: np.ndarray, labels: list[str], k: int) -> float:
    neighbours, _ = top_k_neighbours(vectors, k)
    hits = 0
    for row, near in enumerate(neighbours):
        votes = Counter(labels[j] for j in near).most_common()
        best = votes[0][1]
        winners = sorted(label for label, count in votes if count == best)
        hits += labels[row] == winners[0]
    return hits / len(labels)


def compare(a: ExchangeTable, b: ExchangeTable, k: int = 10, label_column: str | None = None) -> Comparison:
    rows_a, rows_b, only_a, only_b = _aligned(a, b)
    va, vb = a.vectors[rows_a], b.vectors[rows_b]
    k = max(1, min(k, len(rows_a) - 1))
    correlation, pairs_note = similarity_rank_correlation(va, vb)
    numbers: dict[str, Any] = {
        "items": len(rows_a),
        "k": k,
        "model_a": f"{a.spec.provider}/{a.spec.model}/{a.dim}",
        "model_b": f"{b.spec.provider}/{b.spec.model}/{b.dim}",
        "knn_overlap": knn_overlap(va, vb, k),
        "similarity_rank_correlation": correlation,
        "pairs": pairs_note,
    }
    if label_column:
        if not any(label_column in item.metadata for item in a.items):
            raise InputError(f"No column '{label_column}' in the first file; its metadata columns are: "
                             f"{', '.join(sorted({c for i in a.items for c in i.metadata})) or 'none'}.")  # fmt: skip
        labels = [str(a.items[r].metadata.get(label_column)) for r in rows_a]
        numbers["knn_label_accuracy_a"] = knn_label_accuracy(va, labels, k)
        numbers["knn_label_accuracy_b"] = knn_label_accuracy(vb, labels, k)
        if 1 < len(set(labels)) < len(labels):
            from sklearn.metrics import silhouette_score

            numbers["silhouette_a"] = float(silhouette_score(va, labels, metric="cosine"))
            numbers["silhouette_b"] = float(silhouette_score(vb, labels, metric="cosine"))
        else:
            numbers["silhouette_a"] = numbers["silhouette_b"] = None
    return Comparison(numbers, only_a, only_b, _query_tops(a, b, rows_a, rows_b, k))


def _query_tops(a: ExchangeTable, b: ExchangeTable, rows_a: list[int], rows_b: list[int], k: int) -> list[dict]:
    kinds = [a.items[r].kind for r in rows_a]
    queries = [i for i, kind in enumerate(kinds) if kind == "query"]
    documents = np.array([i for i, kind in enumerate(kinds) if kind == "document"])
    if not queries or not len(documents):
        return []
    out = []
    tops = []
    for table, rows in ((a, rows_a), (b, rows_b)):
        vectors = table.vectors[rows]
        indices, _ = top_k_neighbours(vectors[documents], min(k, len(documents)), queries=vectors[queries])
        tops.append(documents[indices])
    for q, top_a, top_b in zip(queries, tops[0], tops[1], strict=True):
        ids_a = [a.items[rows_a[i]].id for i in top_a]
        ids_b = [a.items[rows_a[i]].id for i in top_b]
        out.append({
            "id": a.items[rows_a[q]].id, "text": a.items[rows_a[q]].text,
            "top_a": ids_a, "top_b": ids_b, "overlap": len(set(ids_a) & set(ids_b)) / len(ids_a),
        })  # fmt: skip
    return out
