"""The data a similarity heatmap draws: the ordered matrix (or group means) and a screen-sized overview of it.

`build_heatmap` runs on a worker (the UI's pipeline calls it): it picks the rows and columns, orders them
(input, kind, a metadata column, or hierarchical clustering), computes the cosine matrix with core.similarity,
or group means when the matrix would be too big, and, for a matrix wider than MAX_DRAWN_SIDE, the block means
and maxima a view draws when zoomed out (pyqtgraph maps every drawn cell through the colour table on the GUI
thread: 60 ms for 5 000 x 5 000, and a screen shows ~1 000 cells a side anyway).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from workbench.core.items import Item
from workbench.core.progress import CancelledFn, ProgressFn
from workbench.core.similarity import (
    LEAF_ORDER_MAX,
    BlockView,
    block_means,
    contiguous_groups,
    cosine_matrix,
    fits_full_matrix,
    order_by_clustering,
    order_by_values,
)

BLOCK_GROUPS = 60
MAX_DRAWN_SIDE = 1_200  # cells per side drawn at once: about a screen


@dataclass
class HeatmapData:
    """What the view draws: a matrix (or block means) with the items along each axis, in display order."""

    matrix: np.ndarray
    row_items: list[Item] = field(default_factory=list)
    column_items: list[Item] = field(default_factory=list)
    block: BlockView | None = None
    note: str = ""
    overview: np.ndarray | None = None  # block means of `matrix` for drawing it whole, when it is wider than a screen
    overview_max: np.ndarray | None = None  # block maxima, drawn instead while a threshold is on
    overview_steps: tuple[int, int] = (1, 1)  # matrix rows, columns per overview cell


def build_heatmap(
    vectors: np.ndarray,
    items: list[Item],
    row_rows: np.ndarray,
    column_rows: np.ndarray,
    order: str,
    clusters: np.ndarray | None,
    progress: ProgressFn,
    cancelled: CancelledFn,
) -> HeatmapData:
    """The matrix for rows × columns of the embedding (or block means when too big), ordered as asked."""
    square = np.array_equal(row_rows, column_rows)
    if not fits_full_matrix(len(row_rows), len(column_rows)):
        groups_r = clusters[row_rows] if clusters is not None else contiguous_groups(len(row_rows), BLOCK_GROUPS)
        groups_c = clusters[column_rows] if clusters is not None else contiguous_groups(len(column_rows), BLOCK_GROUPS)
        block = block_means(
            vectors[row_rows],
            groups_r,
            None if square else vectors[column_rows],
            None if square else groups_c,
            progress=progress,
            cancelled=cancelled,
        )
        return HeatmapData(block.means, block=block, note=block.note)
    rows_v, cols_v = vectors[row_rows], vectors[column_rows]
    row_perm, col_perm = np.arange(len(row_rows)), np.arange(len(column_rows))
    note = ""
    if order == "cluster":
        if len(row_rows) <= LEAF_ORDER_MAX:
            row_perm = order_by_clustering(rows_v, cancelled)
            col_perm = row_perm if square else order_by_clustering(cols_v, cancelled)
        else:
            note = f"Clustering order is limited to {LEAF_ORDER_MAX} items; showing input order."
    elif order.startswith("meta:") or order == "kind":
        key = order[5:]
        value = (lambda i: i.kind) if order == "kind" else (lambda i: i.metadata.get(key))
        row_perm = order_by_values([value(items[r]) for r in row_rows])
        col_perm = row_perm if square else order_by_values([value(items[r]) for r in column_rows])
    row_rows, column_rows = row_rows[row_perm], column_rows[col_perm]
    matrix = cosine_matrix(vectors[row_rows], None if square else vectors[column_rows], progress, cancelled)
    data = HeatmapData(matrix, [items[r] for r in row_rows], [items[r] for r in column_rows], note=note)
    if max(matrix.shape) > MAX_DRAWN_SIDE:
        data.overview_steps = (-(-matrix.shape[0] // MAX_DRAWN_SIDE), -(-matrix.shape[1] // MAX_DRAWN_SIDE))
        data.overview, data.overview_max = block_images(matrix, *data.overview_steps)
    return data


def block_images(matrix: np.ndarray, row_step: int, column_step: int) -> tuple[np.ndarray, np.ndarray]:
    """Means and maxima of row_step × column_step blocks (partial blocks at the edges use the cells they have).

    `reduceat` sums block by block without a padded copy: memory stays near one row of blocks, not the matrix.
    """
    row_starts = np.arange(0, matrix.shape[0], row_step)
    column_starts = np.arange(0, matrix.shape[1], column_step)
    sums = np.add.reduceat(np.add.reduceat(matrix, row_starts, axis=0, dtype=np.float64), column_starts, axis=1)
    counts = np.outer(np.diff(row_starts, append=matrix.shape[0]), np.diff(column_starts, append=matrix.shape[1]))
    maxima = np.maximum.reduceat(np.maximum.reduceat(matrix, row_starts, axis=0), column_starts, axis=1)
    return (sums / counts).astype(np.float32), maxima.astype(np.float32)
