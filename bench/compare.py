"""Model comparison and clustering against the plain library calls that compute the same things.

    python bench/compare.py [--quick]

- compare(): k-NN overlap, similarity rank correlation, label accuracy and silhouette for two embeddings of n
  items, against the textbook route: sklearn NearestNeighbors (brute, cosine) for each model, scipy spearmanr of
  every pair's similarity, sklearn silhouette_score (the same sampling rule as ours, so the work is the same).
- cluster_vectors(hdbscan): ours (UMAP to 5 dims, then sklearn HDBSCAN; see also bench/clusters.py) against
  sklearn HDBSCAN on the raw vectors; the adjusted Rand index against the planted groups is printed beside it,
  so speed is not bought with quality. Raw HDBSCAN is skipped beyond 5 000 items (it grows near-quadratically
  in 384 dims: minutes).
- name_clusters(): class-based TF-IDF names against fitting sklearn's TfidfVectorizer on the same cluster texts.
Data: planted groups of unit vectors (20 centres, 384 dims), as a small sentence model's output looks.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _table import Row, emit

from workbench.core.cluster_names import name_clusters
from workbench.core.clusters import cluster_vectors
from workbench.core.compare import MAX_PAIRS, SILHOUETTE_MAX, compare
from workbench.core.embedders.base import EmbeddingSpec, l2_normalise
from workbench.core.exchange import ExchangeTable
from workbench.core.items import Item

DIM, GROUPS, K = 384, 20, 10


def planted(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """Model A, model B (A blurred: a different but related model), the planted labels, texts with topic words."""
    rng = np.random.default_rng(seed)
    centres = l2_normalise(rng.normal(size=(GROUPS, DIM)))
    labels = rng.integers(0, GROUPS, n)
    a = l2_normalise(centres[labels] + 0.6 * rng.normal(size=(n, DIM)) / np.sqrt(DIM)).astype(np.float32)
    b = l2_normalise(a + 0.5 * rng.normal(size=(n, DIM)) / np.sqrt(DIM)).astype(np.float32)
    vocabulary = [f"topic{chr(97 + g)}word" for g in range(GROUPS)]
    fillers = ["report", "people", "today", "again", "story", "week", "noticed"]
    texts = [f"{vocabulary[g]} {fillers[i % 7]} {fillers[(i * 3) % 7]}" for i, g in enumerate(labels)]
    return a, b, labels, texts


def timed(fn, *args, **kwargs) -> tuple[float, object]:
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return time.perf_counter() - start, out


def baseline_compare(a: np.ndarray, b: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    from scipy.stats import spearmanr
    from sklearn.metrics import silhouette_score
    from sklearn.neighbors import NearestNeighbors

    n = len(a)
    neighbours = []
    for v in (a, b):
        found = NearestNeighbors(n_neighbors=K + 1, metric="cosine", algorithm="brute").fit(v).kneighbors(v)[1]
        neighbours.append(found[:, 1:])
    overlap = np.mean([len(set(x) & set(y)) / K for x, y in zip(*neighbours, strict=True)])
    if n * (n - 1) // 2 <= MAX_PAIRS:
        i, j = np.triu_indices(n, 1)
        rho = spearmanr((a @ a.T)[i, j], (b @ b.T)[i, j]).statistic
    else:  # the textbook sample: MAX_PAIRS random pairs, gathered 200 000 at a time (at once: 3 GB per side)
        rng = np.random.default_rng(0)
        i, j = rng.integers(0, n, MAX_PAIRS), rng.integers(0, n, MAX_PAIRS)
        chunks = [slice(s, s + 200_000) for s in range(0, MAX_PAIRS, 200_000)]
        dots = [np.concatenate([np.einsum("ij,ij->i", v[i[c]], v[j[c]]) for c in chunks]) for v in (a, b)]
        rho = spearmanr(*dots).statistic
    sample = SILHOUETTE_MAX if n > SILHOUETTE_MAX else None
    silhouettes = [silhouette_score(v, labels, metric="cosine", sample_size=sample, random_state=0) for v in (a, b)]
    return {"knn_overlap": overlap, "rho": rho, "silhouette_a": silhouettes[0]}


def one_size(n: int) -> tuple[list[Row], str]:
    from sklearn.cluster import HDBSCAN
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.metrics import adjusted_rand_score

    a, b, labels, texts = planted(n)
    items = [
        Item(f"id{i}", t, "document", {"label": str(g)}) for i, (t, g) in enumerate(zip(texts, labels, strict=True))
    ]
    ta = ExchangeTable(items, a, EmbeddingSpec("bench", "a", DIM))
    tb = ExchangeTable(items, b, EmbeddingSpec("bench", "b", DIM))
    rows = []
    ours, result = timed(compare, ta, tb, k=K, label_column="label")
    base, reference = timed(baseline_compare, a, b, labels.astype(str))
    assert abs(result.numbers["knn_overlap"] - reference["knn_overlap"]) < 0.01  # the same numbers
    rows.append(Row("compare (kNN×2, ρ, labels, silh.)", f"{n}", ours, "sklearn NN + spearmanr + silh.", base))

    ours, found = timed(cluster_vectors, a, "hdbscan", min_cluster_size=10)
    note = f"n={n}: ARI vs planted groups, ours {adjusted_rand_score(labels, found):.3f}"
    if n <= 5000:
        base, raw = timed(HDBSCAN(min_cluster_size=10, copy=True).fit_predict, a)
        note += f", raw HDBSCAN {adjusted_rand_score(labels, raw):.3f}"
    else:
        base = float("nan")
        note += " (raw HDBSCAN not run: minutes)"
    rows.append(Row("cluster hdbscan (UMAP 5)", f"{n}", ours, "sklearn HDBSCAN on raw vectors", base))

    ours, _ = timed(name_clusters, texts, found)
    clusters = sorted(set(found.tolist()))
    joined = [" ".join(t for t, c in zip(texts, found, strict=True) if c == g) for g in clusters]
    base, _ = timed(TfidfVectorizer(stop_words="english").fit_transform, joined)
    rows.append(Row("name clusters (c-TF-IDF)", f"{n}", ours, "TfidfVectorizer on cluster texts", base))
    return rows, note


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="2 000 items only")
    args = parser.parse_args()
    rows: list[Row] = []
    notes = []
    for n in [2000] if args.quick else [2000, 5000, 20000]:
        size_rows, note = one_size(n)
        rows += size_rows
        notes.append(note)
    emit("Compare and clusters (384-d, 20 planted groups)", rows, "\n".join(notes))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
