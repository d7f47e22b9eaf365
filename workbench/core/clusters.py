"""Find clusters in embeddings and name them offline with their most distinctive words.

Clustering is scikit-learn's HDBSCAN (finds the number of clusters itself and leaves outliers as noise, label -1)
or k-means with a chosen k, both on L2-normalised vectors, where Euclidean distance is a monotone function of
cosine distance. Names come from class-based TF-IDF (as in BERTopic): each cluster's texts are one document,
a word scores tf(word, cluster) · log(1 + mean words per cluster / total frequency of the word), and the top three
words name the cluster. Hand-written because it is twelve lines over sklearn's CountVectorizer and pulling in
BERTopic would bring torch-based models we do not want here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np

from workbench.core.errors import InputError

Method = Literal["hdbscan", "kmeans"]
NOISE = -1


def cluster_vectors(
    vectors: np.ndarray, method: Method = "hdbscan", k: int = 8, min_cluster_size: int = 5, seed: int = 0
) -> np.ndarray:
    """An int label per row (-1 = noise for HDBSCAN), clusters numbered by size, largest first."""
    array = np.asarray(vectors, dtype=np.float64)
    n = len(array)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    if method == "kmeans":
        from sklearn.cluster import KMeans

        if k < 1:
            raise InputError(f"k must be at least 1, not {k}.")
        labels = KMeans(n_clusters=min(k, n), n_init=10, random_state=seed).fit_predict(array)
    elif method == "hdbscan":
        from sklearn.cluster import HDBSCAN

        if n < 2:
            return np.zeros(n, dtype=np.int64)
        size = max(2, min(min_cluster_size, n))
        labels = HDBSCAN(min_cluster_size=size, copy=True).fit_predict(array)
    else:
        raise InputError(f"Unknown clustering method '{method}': use hdbscan or kmeans.")
    return _renumber_by_size(np.asarray(labels, dtype=np.int64))


def _renumber_by_size(labels: np.ndarray) -> np.ndarray:
    ids, counts = np.unique(labels[labels != NOISE], return_counts=True)
    mapping = {int(old): new for new, old in enumerate(ids[np.argsort(-counts, kind="stable")])}
    return np.array([mapping.get(int(label), NOISE) for label in labels], dtype=np.int64)


def name_clusters(texts: Sequence[str], labels: np.ndarray, words: int = 3) -> dict[int, str]:
    """Cluster id -> its `words` most distinctive words (class-based TF-IDF), joined with ' · '; -1 -> 'noise'."""
    from sklearn.feature_extraction.text import CountVectorizer

    labels = np.asarray(labels)
    names: dict[int, str] = {NOISE: "noise"} if (labels == NOISE).any() else {}
    cluster_ids = [int(c) for c in np.unique(labels) if c != NOISE]
    if not cluster_ids:
        return names
    joined = [" ".join(t for t, label in zip(texts, labels, strict=True) if label == c) for c in cluster_ids]
    try:
        counts = CountVectorizer(stop_words="english", token_pattern=r"(?u)\b[a-zA-Z][a-zA-Z]+\b").fit(joined)
    except ValueError:  # only stop words or no words at all
        return {**names, **{c: f"cluster {c}" for c in cluster_ids}}
    matrix = counts.transform(joined).toarray().astype(np.float64)
    vocabulary = counts.get_feature_names_out()
    tf = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    average_words = matrix.sum() / len(cluster_ids)
    idf = np.log(1 + average_words / np.maximum(matrix.sum(axis=0), 1))
    scores = tf * idf
    for row, cluster in enumerate(cluster_ids):
        top = [vocabulary[i] for i in np.argsort(-scores[row], kind="stable")[:words] if scores[row, i] > 0]
        names[cluster] = " · ".join(top) if top else f"cluster {cluster}"
    return names
