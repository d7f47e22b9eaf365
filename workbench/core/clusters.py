"""Find clusters in embeddings and name them offline with their most distinctive words.

Clustering is scikit-learn's HDBSCAN (finds the number of clusters itself and leaves outliers as noise, label -1)
or k-means with a chosen k, both on the L2-normalised vectors, where Euclidean distance is a monotone function of
cosine distance. Before HDBSCAN, vectors wider than `REDUCE_TO` dimensions are reduced with PCA: density-based
clustering degrades in hundreds of dimensions (distances concentrate) and sklearn's HDBSCAN falls back to
near-quadratic work there (5 000 × 384: 14 s raw, 0.4 s after PCA to 32-50 dims; measured on this 2-core box).

Names come from class-based TF-IDF (as in BERTopic): each cluster's texts (noise included, as its own class) are
one document; a word scores tf(word, cluster) · log(1 + mean words per class / frequency of the word over all
classes), and the top three words name the cluster. Hand-written because it is a dozen lines over sklearn's
CountVectorizer, and BERTopic would bring torch-based models and UMAP settings we do not want here.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Literal

import numpy as np

from workbench.core.errors import InputError
from workbench.core.progress import CancelledFn, ProgressFn, never_cancelled, no_progress, raise_if_cancelled

Method = Literal["hdbscan", "kmeans"]
METHODS: tuple[Method, ...] = ("hdbscan", "kmeans")
NOISE = -1
NOISE_NAME = "noise"
REDUCE_TO = 50
NAME_SEPARATOR = " · "
# Words of two or more letters in any script; digits, ids and underscores are not topics.
TOKEN_PATTERN = r"(?u)\b[^\W\d_]{2,}\b"


def cluster_vectors(
    vectors: np.ndarray,
    method: Method = "hdbscan",
    k: int = 8,
    min_cluster_size: int = 5,
    seed: int = 0,
    reduce_to: int | None = REDUCE_TO,
    progress: ProgressFn = no_progress,
    cancelled: CancelledFn = never_cancelled,
) -> np.ndarray:
    """An int label per row (-1 = noise, HDBSCAN only), clusters numbered by size, largest first, then by row.

    Deterministic for a given seed. The fit itself cannot be interrupted; `cancelled` is checked before and after
    it (the UI drops a superseded result anyway).
    """
    array = np.asarray(vectors, dtype=np.float64)
    n = len(array)
    if method not in METHODS:
        raise InputError(f"Unknown clustering method '{method}': use hdbscan or kmeans.")
    if method == "kmeans" and k < 1:
        raise InputError(f"k must be at least 1, not {k}.")
    if method == "hdbscan" and min_cluster_size < 2:
        raise InputError(f"The minimum cluster size must be at least 2, not {min_cluster_size}.")
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    if not np.isfinite(array).all():
        row = int(np.argwhere(~np.isfinite(array))[0, 0])
        raise InputError(f"Row {row + 1} has a vector with NaN or infinite values; re-embed that item.")
    progress(0, 3)
    raise_if_cancelled(cancelled)
    if method == "kmeans":
        from sklearn.cluster import KMeans

        with warnings.catch_warnings():  # duplicate points leave fewer distinct clusters than k: fine, not a warning
            warnings.simplefilter("ignore")
            labels = KMeans(n_clusters=min(k, n), n_init=10, random_state=seed).fit_predict(array)
        progress(2, 3)
    else:
        if n < 2:
            return np.zeros(n, dtype=np.int64)
        if reduce_to and array.shape[1] > reduce_to and n > reduce_to:
            from sklearn.decomposition import PCA

            array = PCA(n_components=reduce_to, random_state=seed).fit_transform(array)
        progress(1, 3)
        raise_if_cancelled(cancelled)
        from sklearn.cluster import HDBSCAN

        size = min(min_cluster_size, n)
        labels = HDBSCAN(min_cluster_size=size, copy=True).fit_predict(array)
        progress(2, 3)
    raise_if_cancelled(cancelled)
    progress(3, 3)
    return _renumber_by_size(np.asarray(labels, dtype=np.int64))


def cluster_documents(
    vectors: np.ndarray,
    kinds: np.ndarray,
    method: Method = "hdbscan",
    k: int = 8,
    min_cluster_size: int = 5,
    progress: ProgressFn = no_progress,
    cancelled: CancelledFn = never_cancelled,
) -> np.ndarray:
    """Labels for every row, found among the documents only; each query takes its nearest document's cluster.

    Queries are questions about the corpus, not part of it: clustered along, a handful of them can pull a
    cluster or end up as noise. With the documents' clusters, a query's label says where it lands.
    """
    documents = np.flatnonzero(kinds != "query")
    queries = np.flatnonzero(kinds == "query")
    labels = np.full(len(vectors), NOISE, dtype=np.int64)
    if len(documents) == 0:
        return labels
    labels[documents] = cluster_vectors(vectors[documents], method, k, min_cluster_size, progress=progress,
                                        cancelled=cancelled)  # fmt: skip
    if len(queries):
        from workbench.core.knn import top_k_neighbours

        nearest, _ = top_k_neighbours(vectors[documents], 1, queries=vectors[queries], cancelled=cancelled)
        labels[queries] = labels[documents][nearest[:, 0]]
    return labels


def _renumber_by_size(labels: np.ndarray) -> np.ndarray:
    ids, first_rows, counts = np.unique(labels[labels != NOISE], return_index=True, return_counts=True)
    order = np.lexsort((first_rows, -counts))  # by size, ties by first appearance: stable across runs
    mapping = {int(ids[old]): new for new, old in enumerate(order)}
    return np.array([mapping.get(int(label), NOISE) for label in labels], dtype=np.int64)


def name_clusters(texts: Sequence[str], labels: np.ndarray, words: int = 3) -> dict[int, str]:
    """Cluster id -> its `words` most distinctive words (class-based TF-IDF) joined with ' · '; -1 -> 'noise'.

    A cluster whose texts hold no word beyond English stop words is called 'cluster N'.
    """
    from sklearn.feature_extraction.text import CountVectorizer

    labels = np.asarray(labels)
    if len(texts) != len(labels):
        raise ValueError(f"{len(texts)} texts but {len(labels)} labels")
    classes = [int(c) for c in np.unique(labels)]
    names: dict[int, str] = {NOISE: NOISE_NAME} if NOISE in classes else {}
    clusters = [c for c in classes if c != NOISE]
    if not clusters:
        return names
    fallback = {c: f"cluster {c}" for c in clusters}
    joined = [" ".join(str(t) for t, label in zip(texts, labels, strict=True) if label == c) for c in classes]
    try:
        vectorizer = CountVectorizer(stop_words="english", token_pattern=TOKEN_PATTERN, lowercase=True)
        counts = vectorizer.fit_transform(joined).toarray().astype(np.float64)
    except ValueError:  # only stop words, or no words at all
        return {**names, **fallback}
    vocabulary = vectorizer.get_feature_names_out()
    tf = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    average_words = counts.sum() / len(classes)
    idf = np.log(1 + average_words / np.maximum(counts.sum(axis=0), 1))
    scores = tf * idf
    for row, cluster in enumerate(classes):
        if cluster == NOISE:
            continue
        best = np.lexsort((np.arange(len(vocabulary)), -scores[row]))[:words]  # ties: alphabetical
        top = [str(vocabulary[i]) for i in best if scores[row, i] > 0]
        names[cluster] = NAME_SEPARATOR.join(top) if top else fallback[cluster]
    return names
