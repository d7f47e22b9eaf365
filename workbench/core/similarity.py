"""Cosine similarity matrices, their orderings, and an aggregated view for corpora too big to show cell by cell.

Shaped after Orange's Distance Map: the matrix, its ordering (a permutation) and its drawing are separate, and
this module returns only matrices and permutations. Vectors are L2-normalised, so cosine = dot product: one
float32 matmul, computed in row blocks so progress and cancel work and nothing beyond the output is allocated.
Beyond `FULL_MATRIX_MAX_CELLS` the full matrix is never built: `block_means` gives the mean similarity between
groups (clusters, kinds, or contiguous blocks), computed one block of rows at a time.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from workbench.core.errors import InputError
from workbench.core.progress import CancelledFn, ProgressFn, never_cancelled, no_progress, raise_if_cancelled

FULL_MATRIX_MAX_CELLS = 5_000 * 5_000  # 100 MB of float32: the view shows up to this cell by cell
HARD_LIMIT_CELLS = 10_000 * 10_000  # 400 MB: cosine_matrix refuses more (use block_means or a selection)
LEAF_ORDER_MAX = 3_000  # optimal leaf ordering needs the condensed distance matrix: O(n^2) memory and time
ROW_BLOCK_CELLS = 8_000_000


def cosine_matrix(
    rows: np.ndarray,
    columns: np.ndarray | None = None,
    progress: ProgressFn = no_progress,
    cancelled: CancelledFn = never_cancelled,
) -> np.ndarray:
    """rows × columns cosine similarities (float32) of L2-normalised vectors; columns None means rows × rows."""
    a = np.asarray(rows, dtype=np.float32)
    b = a if columns is None else np.asarray(columns, dtype=np.float32)
    if a.shape[0] * b.shape[0] > HARD_LIMIT_CELLS:
        raise InputError(
            f"A {a.shape[0]} × {b.shape[0]} matrix is too big to build; use the block view or a selection."
        )
    out = np.empty((len(a), len(b)), dtype=np.float32)
    step = max(1, ROW_BLOCK_CELLS // max(len(b), 1))
    for start in range(0, len(a), step):
        raise_if_cancelled(cancelled)
        stop = min(start + step, len(a))
        np.matmul(a[start:stop], b.T, out=out[start:stop])
        progress(stop, len(a))
    if columns is None:
        np.fill_diagonal(out, 1.0)  # exact ones despite float32 rounding
    return out


def fits_full_matrix(n_rows: int, n_columns: int) -> bool:
    """Whether rows × columns may be computed and shown cell by cell."""
    return n_rows * n_columns <= FULL_MATRIX_MAX_CELLS


@dataclass(frozen=True)
class BlockView:
    """Mean similarity between groups of rows and groups of columns, for matrices too big to show."""

    means: np.ndarray  # (row groups, column groups) float32
    row_labels: list[str]
    column_labels: list[str]
    row_sizes: np.ndarray
    column_sizes: np.ndarray
    note: str


def contiguous_groups(n: int, n_groups: int) -> np.ndarray:
    """Group label per row: `n_groups` contiguous, near-equal blocks (used when no clustering is given)."""
    n_groups = max(1, min(n_groups, n))
    return (np.arange(n) * n_groups // max(n, 1)).astype(np.int64)


def block_means(
    rows: np.ndarray,
    row_groups: np.ndarray,
    columns: np.ndarray | None = None,
    column_groups: np.ndarray | None = None,
    row_names: Sequence[str] | None = None,
    column_names: Sequence[str] | None = None,
    progress: ProgressFn = no_progress,
    cancelled: CancelledFn = never_cancelled,
) -> BlockView:
    """Mean cosine between every row group and column group, without allocating the rows × columns matrix.

    The sum of similarities between groups G and H is (Σ_{i∈G} r_i) · (Σ_{j∈H} c_j): summing the vectors per
    group first turns an n × m problem into a groups × groups one. That identity is exact for dot products.
    """
    a = np.asarray(rows, dtype=np.float32)
    same = columns is None
    b = a if same else np.asarray(columns, dtype=np.float32)
    column_groups = row_groups if same and column_groups is None else column_groups
    if column_groups is None:
        raise ValueError("column_groups is required when columns are given")
    row_ids, row_index = np.unique(row_groups, return_inverse=True)
    col_ids, col_index = np.unique(column_groups, return_inverse=True)
    row_sums = np.zeros((len(row_ids), a.shape[1]), dtype=np.float64)
    col_sums = np.zeros((len(col_ids), b.shape[1]), dtype=np.float64)
    step = max(1, ROW_BLOCK_CELLS // max(a.shape[1], 1))
    total = len(a) + len(b)
    for start in range(0, len(a), step):
        raise_if_cancelled(cancelled)
        row_sums += _group_sums(a[start : start + step], row_index[start : start + step], len(row_ids))
        progress(min(start + step, len(a)), total)
    for start in range(0, len(b), step):
        raise_if_cancelled(cancelled)
        col_sums += _group_sums(b[start : start + step], col_index[start : start + step], len(col_ids))
        progress(len(a) + min(start + step, len(b)), total)
    row_sizes = np.bincount(row_index, minlength=len(row_ids))
    col_sizes = np.bincount(col_index, minlength=len(col_ids))
    means = (row_sums @ col_sums.T) / np.outer(row_sizes, col_sizes)
    if same:
        # The diagonal blocks include each item with itself (similarity 1); report the mean over distinct pairs.
        pairs = row_sizes.astype(np.float64) ** 2 - row_sizes
        with np.errstate(invalid="ignore", divide="ignore"):
            inner = (np.diag(row_sums @ row_sums.T) - row_sizes) / pairs
        np.fill_diagonal(means, np.where(pairs > 0, inner, 1.0))
    names_r = list(row_names) if row_names is not None else [str(g) for g in row_ids]
    names_c = list(column_names) if column_names is not None else [str(g) for g in col_ids]
    note = (
        f"{len(a)} × {len(b)} is too many cells to show one by one: each cell shows the mean similarity between "
        f"two groups ({len(row_ids)} × {len(col_ids)} groups); select fewer items to see single pairs."
    )
    return BlockView(means.astype(np.float32), names_r, names_c, row_sizes, col_sizes, note)


def _group_sums(vectors: np.ndarray, group_index: np.ndarray, n_groups: int) -> np.ndarray:
    """Sum of the vectors of each group, as a sparse one-hot product (np.add.at is ~50× slower)."""
    from scipy.sparse import csr_matrix

    one_hot = csr_matrix(
        (np.ones(len(vectors)), (group_index, np.arange(len(vectors)))), shape=(n_groups, len(vectors))
    )
    return np.asarray(one_hot @ vectors.astype(np.float64))


def order_by_clustering(vectors: np.ndarray, cancelled: CancelledFn = never_cancelled) -> np.ndarray:
    """A permutation that puts similar rows next to each other: average-linkage clustering on cosine distance,
    leaves in optimal order (scipy's optimal_leaf_ordering). O(n^2) memory: refused above LEAF_ORDER_MAX rows.
    """
    from scipy.cluster.hierarchy import leaves_list, linkage, optimal_leaf_ordering
    from scipy.spatial.distance import pdist

    array = np.asarray(vectors, dtype=np.float64)
    n = len(array)
    if n <= 2:
        return np.arange(n)
    if n > LEAF_ORDER_MAX:
        raise InputError(f"Clustering order is limited to {LEAF_ORDER_MAX} items (it needs an n × n matrix); n = {n}.")
    distances = np.clip(pdist(array, metric="cosine"), 0.0, 2.0)
    raise_if_cancelled(cancelled)
    tree = linkage(distances, method="average")
    raise_if_cancelled(cancelled)
    return leaves_list(optimal_leaf_ordering(tree, distances)).astype(np.int64)


GROUP_ORDER = "groups by size, largest first"  # how order_by_values lays out groups, in words a view can show


def order_by_values(values: Sequence[object], last: Collection[str] = ()) -> np.ndarray:
    """A stable permutation grouping equal values (compared as text): the biggest group first, equal sizes
    alphabetically, and the groups named in `last` (a missing value, cluster noise) after all the others.

    By size, like the map's legend, so the big blocks of a heatmap come first and read the same in both views.
    """
    keys = [str(v) for v in values]
    names, counts = np.unique(np.array(keys, dtype=str), return_counts=True)
    ranked = sorted(zip(names.tolist(), counts.tolist(), strict=True), key=lambda g: (g[0] in last, -g[1], g[0]))
    rank_of = {name: rank for rank, (name, _) in enumerate(ranked)}
    return np.argsort(np.asarray([rank_of[k] for k in keys], dtype=np.int64), kind="stable")


@dataclass(frozen=True)
class Band:
    """A run of one group along an ordered axis: positions [start, end), the group's shown name and its size."""

    start: int
    end: int
    name: str
    size: int


def bands(ordered_keys: Sequence[object], names: Mapping[str, str] | None = None) -> list[Band]:
    """The runs of equal keys along an axis in display order (what order_by_values made contiguous)."""
    keys = [str(k) for k in ordered_keys]
    if not keys:
        return []
    starts = [0, *(i for i in range(1, len(keys)) if keys[i] != keys[i - 1])]
    ends = [*starts[1:], len(keys)]
    names = names or {}
    return [Band(a, b, names.get(keys[a], keys[a]), b - a) for a, b in zip(starts, ends, strict=True)]
