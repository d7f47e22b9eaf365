"""Find the topics in embeddings: UMAP to a few dimensions, then HDBSCAN (the default), or k-means; two levels.

Why UMAP first: density-based clustering in hundreds of dimensions sees every point about as far from every other
(distances concentrate), so HDBSCAN calls most of a real corpus noise. Measured on 600 Debian package descriptions
in 10 sections (bench/clusters.py): plain HDBSCAN on the 384-d vectors left 68 % as noise at ARI 0.06; reduced with
UMAP (cosine, 5 dimensions, min_dist 0, as BERTopic, latent-scope and Embedding Atlas do) it finds the sections at
ARI about 0.5 with about 15 % noise. UMAP gets exact neighbours from `core.knn` (or the ones a caller already has),
which skips its nearest-neighbour descent and that stage's numba compile, as `core.projection` does.

Parameters are the ones a person can reason about: the smallest cluster worth calling a topic (HDBSCAN; 0 picks
one from the corpus size) and how many clusters, about (k-means). Noise (label -1) can be given to the nearest
cluster by cosine to the cluster centres; `Clustering.assigned` marks those rows, so a view can say so.

Two levels: the clusters (topics), and inside each one its sub-clusters, found by the same method on the cluster's
members alone: HDBSCAN in the same reduced space with half the smallest size (no sub-cluster may hold more than half
the cluster, so a cluster with parts is split), k-means into 2-4 parts by the best silhouette. Sub-clusters nest by
construction and lie where their cluster lies on a map, so a map can name the clusters zoomed out and the
sub-clusters zoomed in. A member that the split leaves as noise goes to its nearest sub-cluster: it belongs to the
topic, and the sub-clusters partition it. (Grouping clusters into coarser ones by their centres was tried first: on
600 package descriptions in 10 distinct sections it made groups such as games + audio + amateur radio, scattered
across the map, which named nothing.)

Names live in `core.cluster_names`.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Literal

import numpy as np

from workbench.core.errors import InputError
from workbench.core.progress import CancelledFn, ProgressFn, never_cancelled, no_progress, raise_if_cancelled

Method = Literal["hdbscan", "kmeans"]
METHODS: tuple[Method, ...] = ("hdbscan", "kmeans")
NOISE = -1
NOISE_NAME = "noise"
REDUCE_TO = 5  # UMAP dimensions before HDBSCAN: a few, as BERTopic's default
REDUCE_NEIGHBOURS = 15
MIN_REDUCE_POINTS = 15  # below this UMAP's defaults break (see core.projection): cluster the vectors themselves
# HDBSCAN's excess-of-mass choice can prefer one cluster holding most of the data over the topics inside it (three
# planted groups came out as two; 600 package descriptions in 10 sections as 2 clusters at smallest 20, seed 1):
# a cluster of more than half the points is not taken, its parts are.
MAX_SHARE = 0.5
AUTOMATIC = 0  # "smallest cluster" 0: chosen from the number of documents
Knn = tuple[np.ndarray, np.ndarray]  # (indices, cosine distances), each (n, k), every row's own index first


def automatic_smallest(n: int) -> int:
    """The smallest cluster when the person leaves it to us: half the square root of n, at least 4.

    40 documents: 4 (the sample corpus's topics have 8); 600: 12; 20 000: 71. Grows slower than n, as the number
    of topics a person can read on a map does.
    """
    return max(4, round(math.sqrt(max(n, 0)) / 2))


def automatic_neighbours(smallest: int) -> int:
    """UMAP's neighbourhood for clustering: twice the smallest cluster, at most REDUCE_NEIGHBOURS (15).

    Wide enough to tie a cluster's members together, narrow enough not to blend two small topics: with 15
    neighbours the sample corpus's 8-text topics merged in pairs for 3 of 5 seeds; with 8, none of 10 did.
    """
    return max(2, min(REDUCE_NEIGHBOURS, 2 * smallest))


@dataclass
class Clustering:
    """Labels found for every row, and how they were found.

    `labels`: the clusters (-1 noise), numbered by size, largest first. With two levels, `sublabels` gives each
    row's sub-cluster (numbered across all clusters: by cluster, then by size; -1 exactly where `labels` is) and
    `parent_of[s]` is sub-cluster s's cluster. `assigned`: rows that were noise and were given to their nearest
    cluster. `note`: one sentence of what ran, for a view or a log.
    """

    labels: np.ndarray
    assigned: np.ndarray
    sublabels: np.ndarray | None = None
    parent_of: dict[int, int] | None = None
    note: str = ""

    @property
    def levels(self) -> int:
        return 1 if self.sublabels is None else 2


def knn_graph(vectors: np.ndarray, neighbours: int, cancelled: CancelledFn = never_cancelled) -> Knn:
    """Exact cosine neighbours in the shape UMAP's `precomputed_knn` takes (each row itself first, distance 0)."""
    from workbench.core.knn import top_k_neighbours

    indices, scores = top_k_neighbours(vectors, neighbours, exclude_self=False, cancelled=cancelled)
    return indices, np.clip(1.0 - scores, 0.0, 2.0).astype(np.float32)


def reduce_for_clustering(
    vectors: np.ndarray,
    dims: int = REDUCE_TO,
    neighbours: int = REDUCE_NEIGHBOURS,
    seed: int | None = 0,
    knn: Knn | None = None,
    cancelled: CancelledFn = never_cancelled,
) -> np.ndarray | None:
    """UMAP (cosine, min_dist 0) of the rows to `dims` dimensions, or None where reducing does not apply.

    None: `dims` 0, vectors no wider than `dims`, or fewer than MIN_REDUCE_POINTS rows. `knn`, when given, must
    be the rows' own neighbours (at least `neighbours` per row, itself first); else exact ones are computed.
    """
    from workbench.core.projection import exact_knn_wins, import_umap, umap_options

    n, width = vectors.shape
    if not dims or width <= dims or n < MIN_REDUCE_POINTS:
        return None
    neighbours = max(2, min(neighbours, n - 1))
    if knn is not None and (len(knn[0]) != n or knn[0].shape[1] < neighbours):
        knn = None  # made for other rows or fewer neighbours: not usable here
    if knn is None and exact_knn_wins(n):
        knn = knn_graph(vectors, neighbours, cancelled)
    raise_if_cancelled(cancelled)
    umap = import_umap()
    precomputed = (knn[0][:, :neighbours], knn[1][:, :neighbours], None) if knn is not None else (None, None, None)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*knn_search_index.*")  # we never call transform()
        reducer = umap.UMAP(
            n_components=dims,
            n_neighbors=neighbours,
            min_dist=0.0,
            metric="cosine",
            precomputed_knn=precomputed,
            low_memory=True,
            **umap_options(n, seed),  # threads (one with a seed) and, for large inputs, epochs: as the layout's
        )
        return np.asarray(reducer.fit_transform(vectors), dtype=np.float64)


def far_from_their_cluster(knn: Knn, labels: np.ndarray, smallest: int) -> np.ndarray:
    """Members whose neighbourhood in the original space is far sparser than their cluster's: Tukey's far-out fence.

    UMAP gives every point a nearest neighbour at full strength, so an item far from everything can land next
    to a cluster in the reduced space and be taken in. HDBSCAN's own measure of how isolated a point is, its
    core distance (the cosine distance within which it has `smallest` items, itself included, in the original
    space), finds them:
    a member whose core distance lies beyond the third quartile of its cluster's plus three interquartile ranges
    is noise.
    """
    distances = knn[1]
    core = distances[:, max(0, min(smallest, distances.shape[1]) - 1)]  # column 0 is the item itself
    far = np.zeros(len(labels), dtype=bool)
    for cluster in set(labels.tolist()) - {NOISE}:
        members = labels == cluster
        low, high = np.percentile(core[members], [25, 75])
        far |= members & (core > high + 3 * (high - low))
    return far


def _hdbscan(points: np.ndarray, smallest: int) -> np.ndarray:
    from sklearn.cluster import HDBSCAN

    """HDBSCAN's labels; no cluster may hold more than half the points (see MAX_SHARE)."""
    if len(points) < 2:
        return np.full(len(points), NOISE, dtype=np.int64)
    size = min(smallest, len(points))
    largest = max(size, int(MAX_SHARE * len(points)))
    return HDBSCAN(min_cluster_size=size, max_cluster_size=largest, copy=True).fit_predict(points).astype(np.int64)


def _kmeans(points: np.ndarray, k: int, seed: int) -> np.ndarray:
    from sklearn.cluster import KMeans

    with warnings.catch_warnings():  # duplicate points leave fewer distinct clusters than k: fine, not a warning
        warnings.simplefilter("ignore")
        return KMeans(n_clusters=min(k, len(points)), n_init=10, random_state=seed).fit_predict(points)


def _check(vectors: np.ndarray, method: str, count: int, smallest: int) -> np.ndarray:
    array = np.asarray(vectors, dtype=np.float64)
    if method not in METHODS:
        raise InputError(f"Unknown clustering method '{method}': use hdbscan or kmeans.")
    if method == "kmeans" and count < 1:
        raise InputError(f"k must be at least 1, not {count}.")
    if method == "hdbscan" and smallest != AUTOMATIC and smallest < 2:
        raise InputError(f"The smallest cluster must hold at least 2 items (or 0: automatic), not {smallest}.")
    if array.ndim != 2:
        raise InputError(f"Expected a 2-D array of vectors, got shape {array.shape}.")
    if len(array) and not np.isfinite(array).all():
        row = int(np.argwhere(~np.isfinite(array))[0, 0])
        raise InputError(f"Row {row + 1} has a vector with NaN or infinite values; re-embed that item.")
    norms = np.linalg.norm(array, axis=1, keepdims=True)
    return array / np.where(norms == 0, 1.0, norms)  # Euclidean on unit rows orders pairs as cosine does


def find_clusters(
    vectors: np.ndarray,
    method: Method = "hdbscan",
    count: int = 8,
    smallest: int = AUTOMATIC,
    levels: int = 1,
    assign_noise: bool = False,
    reduce_to: int = REDUCE_TO,
    neighbours: int = AUTOMATIC,
    seed: int | None = 0,
    knn: Knn | None = None,
    progress: ProgressFn = no_progress,
    cancelled: CancelledFn = never_cancelled,
) -> Clustering:
    """Clusters of the rows of `vectors` (any scale; compared by cosine). Deterministic for a given seed.

    hdbscan: UMAP to `reduce_to` dimensions (0: never), then HDBSCAN with `smallest` as the smallest cluster (0:
    `automatic_smallest`), UMAP's `neighbours` 0 meaning `automatic_neighbours`. kmeans: `count` clusters on the
    vectors themselves (no noise). `levels` 2 adds each cluster's sub-clusters (`split_clusters`). The fits cannot
    be interrupted; `cancelled` is checked between stages.
    """
    array = _check(vectors, method, count, smallest)
    if levels not in (1, 2):
        raise InputError(f"--levels must be 1 or 2, not {levels}.")
    n = len(array)
    empty = np.zeros(n, dtype=bool)
    if n == 0:
        none = np.zeros(0, dtype=np.int64)
        return Clustering(none, empty, none.copy() if levels == 2 else None, {} if levels == 2 else None)
    stages = 4
    progress(0, stages)
    raise_if_cancelled(cancelled)
    seed_value = 0 if seed is None else seed
    size = 0
    if method == "kmeans":
        points, note = array, f"k-means, {min(count, n)} clusters"
        labels = _kmeans(array, count, seed_value)
    else:
        size = automatic_smallest(n) if smallest == AUTOMATIC else smallest
        neighbours = automatic_neighbours(size) if neighbours == AUTOMATIC else neighbours
        from workbench.core.projection import exact_knn_wins

        wanted = min(max(neighbours, size), n - 1)
        if exact_knn_wins(n) and n >= 2 and (knn is None or len(knn[0]) != n or knn[0].shape[1] < wanted + 1):
            knn = knn_graph(array, wanted + 1, cancelled)  # the layout's, when it was made for these rows, else ours
        progress(1, stages)
        reduced = reduce_for_clustering(array, reduce_to, neighbours, seed, knn, cancelled)
        points = array if reduced is None else reduced
        where = "the vectors" if reduced is None else f"UMAP {reduce_to}-d ({min(neighbours, n - 1)} neighbours)"
        note = f"HDBSCAN on {where}, smallest cluster {size}" + (" (automatic)" if smallest == AUTOMATIC else "")
        progress(2, stages)
        raise_if_cancelled(cancelled)
        labels = _hdbscan(points, size) if n >= 2 else np.zeros(n, dtype=np.int64)
        if reduced is not None and knn is not None:
            labels = np.where(far_from_their_cluster(knn, labels, size), NOISE, labels)
    labels = renumber_by_size(np.asarray(labels, dtype=np.int64))
    assigned = empty.copy()
    if assign_noise and (labels == NOISE).any() and (labels != NOISE).any():
        assigned = labels == NOISE
        labels = labels.copy()
        labels[assigned] = nearest_cluster(array, labels, np.flatnonzero(assigned))
        note += f"; {int(assigned.sum())} noise items given to their nearest cluster"
    progress(3, stages)
    raise_if_cancelled(cancelled)
    clustering = Clustering(labels, assigned, note=note)
    if levels == 2:
        clustering.sublabels, clustering.parent_of = split_clusters(array, points, labels, method, size, seed_value,
                                                                    cancelled)  # fmt: skip
    progress(stages, stages)
    return clustering


def split_clusters(
    vectors: np.ndarray, points: np.ndarray, labels: np.ndarray, method: str, smallest: int, seed: int,
    cancelled: CancelledFn = never_cancelled,
) -> tuple[np.ndarray, dict[int, int]]:  # fmt: skip
    """Sub-cluster labels (numbered across clusters, by cluster then by size) and each sub-cluster's cluster.

    `points` are the rows as HDBSCAN saw them (the reduced ones); k-means splits the `vectors` themselves.
    """
    sublabels = np.full(len(labels), NOISE, dtype=np.int64)
    parent_of: dict[int, int] = {}
    for cluster in sorted(set(labels.tolist()) - {NOISE}):
        raise_if_cancelled(cancelled)
        rows = np.flatnonzero(labels == cluster)
        if method == "kmeans":
            local = _kmeans_best_split(vectors[rows], seed)
        else:
            part = max(2, smallest // 2)
            local = _hdbscan(points[rows], part) if len(rows) >= 2 * part else None
        if local is None or len(set(local.tolist()) - {NOISE}) < 2:
            local = np.zeros(len(rows), dtype=np.int64)  # nothing to split: one sub-cluster, the cluster itself
        local = renumber_by_size(np.asarray(local, dtype=np.int64))
        if (local == NOISE).any():
            lost = np.flatnonzero(local == NOISE)
            local[lost] = nearest_cluster(vectors[rows], local, lost)
        first = len(parent_of)
        sublabels[rows] = first + local
        parent_of.update({first + s: cluster for s in range(int(local.max()) + 1)})
    return sublabels, parent_of


def _kmeans_best_split(vectors: np.ndarray, seed: int) -> np.ndarray | None:
    """k-means into 2, 3 or 4 parts, whichever has the best silhouette (cosine); None for fewer than 6 rows."""
    from sklearn.metrics import silhouette_score

    best, best_score = None, -2.0
    for k in range(2, min(4, len(vectors) // 3) + 1):
        found = _kmeans(vectors, k, seed)
        if len(set(found.tolist())) < 2:
            continue
        score = silhouette_score(vectors, found, metric="cosine")
        if score > best_score:
            best, best_score = found, score
    return best


def nearest_cluster(vectors: np.ndarray, labels: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """The cluster whose centre (mean of its unit vectors) is nearest by cosine, for each of `rows`."""
    clusters = np.array(sorted(set(labels.tolist()) - {NOISE}), dtype=np.int64)
    unit = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    centres = np.stack([unit[labels == c].mean(axis=0) for c in clusters])
    centres /= np.maximum(np.linalg.norm(centres, axis=1, keepdims=True), 1e-12)
    return clusters[(unit[rows] @ centres.T).argmax(axis=1)]


def cluster_vectors(
    vectors: np.ndarray,
    method: Method = "hdbscan",
    k: int = 8,
    min_cluster_size: int = AUTOMATIC,
    seed: int = 0,
    reduce_to: int | None = REDUCE_TO,
    progress: ProgressFn = no_progress,
    cancelled: CancelledFn = never_cancelled,
) -> np.ndarray:
    """An int label per row (-1 = noise, HDBSCAN only), clusters numbered by size: `find_clusters`' labels."""
    return find_clusters(vectors, method, k, min_cluster_size, reduce_to=reduce_to or 0, seed=seed,
                         progress=progress, cancelled=cancelled).labels  # fmt: skip


def cluster_documents(
    vectors: np.ndarray,
    kinds: np.ndarray,
    method: Method = "hdbscan",
    k: int = 8,
    min_cluster_size: int = AUTOMATIC,
    progress: ProgressFn = no_progress,
    cancelled: CancelledFn = never_cancelled,
    **options,
) -> Clustering:
    """Clusters found among the documents only; each query takes its nearest document's cluster and sub-cluster.

    Queries are questions about the corpus, not part of it: clustered along, a handful of them can pull a
    cluster or end up as noise. With the documents' clusters, a query's label says where it lands. `options` go
    to `find_clusters` (levels, assign_noise, reduce_to, neighbours, seed, knn: the documents' own).
    """
    documents = np.flatnonzero(kinds != "query")
    queries = np.flatnonzero(kinds == "query")
    n = len(vectors)
    found = find_clusters(np.asarray(vectors)[documents], method, k, min_cluster_size, progress=progress,
                          cancelled=cancelled, **options)  # fmt: skip
    labels, assigned = np.full(n, NOISE, dtype=np.int64), np.zeros(n, dtype=bool)
    labels[documents], assigned[documents] = found.labels, found.assigned
    sublabels = None
    if found.sublabels is not None:
        sublabels = np.full(n, NOISE, dtype=np.int64)
        sublabels[documents] = found.sublabels
    if len(queries) and len(documents):
        from workbench.core.knn import top_k_neighbours

        nearest, _ = top_k_neighbours(vectors[documents], 1, queries=vectors[queries], cancelled=cancelled)
        labels[queries] = labels[documents][nearest[:, 0]]
        if sublabels is not None:
            sublabels[queries] = sublabels[documents][nearest[:, 0]]
    return Clustering(labels, assigned, sublabels, found.parent_of, found.note)


def renumber_by_size(labels: np.ndarray) -> np.ndarray:
    """Clusters numbered 0, 1, ... by size, largest first, ties by first row: stable across runs; -1 stays."""
    ids, first_rows, counts = np.unique(labels[labels != NOISE], return_index=True, return_counts=True)
    order = np.lexsort((first_rows, -counts))
    mapping = np.full(int(ids.max()) + 2 if len(ids) else 1, NOISE, dtype=np.int64)
    mapping[ids[order]] = np.arange(len(ids))
    return np.where(labels == NOISE, NOISE, mapping[np.where(labels == NOISE, 0, labels)])


def label_positions(xy: np.ndarray, labels: np.ndarray) -> dict[int, tuple[float, float]]:
    """Where to write each cluster's name on a 2-D map: the member nearest the members' median (noise has none).

    A member rather than the mean: a curved or split cluster's mean can fall between its points, or on another
    cluster; the median's nearest member always sits on the cluster's own points, in its thick part.
    """
    positions = {}
    for cluster in sorted(set(np.asarray(labels).tolist()) - {NOISE}):
        members = xy[labels == cluster]
        middle = np.median(members, axis=0)
        nearest = members[np.argmin(((members - middle) ** 2).sum(axis=1))]
        positions[cluster] = (float(nearest[0]), float(nearest[1]))
    return positions
