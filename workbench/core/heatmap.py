"""The data a similarity heatmap draws: the ordered matrix (or group means) and a screen-sized overview of it.

`build_heatmap` runs on a worker (the UI's pipeline calls it): it picks the rows and columns, orders them
(input, kind, a metadata column, the cluster labels, or hierarchical clustering), computes the cosine matrix
with core.similarity, or group means when the matrix would be too big, and, for a matrix wider than
MAX_DRAWN_SIDE, the block means and maxima a view draws when zoomed out (pyqtgraph maps every drawn cell through
the colour table on the GUI thread: 60 ms for 5 000 x 5 000, and a screen shows ~1 000 cells a side anyway).
An order by groups (kind, a metadata column, cluster labels) also gives each axis its bands: where each group
starts and ends, its name and size, grouped and named as the map's encoding does (core.encoding's
category_labels), so a view can label them in the map's colours.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from workbench.core.encoding import MISSING_VALUE, NOISE_NAME, category_labels
from workbench.core.items import Item
from workbench.core.progress import CancelledFn, ProgressFn
from workbench.core.similarity import (
    GROUP_ORDER,
    LEAF_ORDER_MAX,
    Band,
    BlockView,
    bands,
    block_means,
    contiguous_groups,
    cosine_matrix,
    fits_full_matrix,
    order_by_clustering,
    order_by_values,
)

BLOCK_GROUPS = 60
MAX_DRAWN_SIDE = 1_200  # cells per side drawn at once: about a screen
CLUSTER_LABELS = "clusters"  # the order that groups rows by cluster label ("cluster" is hierarchical clustering)


def group_colouring(order: str) -> str | None:
    """The colour-by whose categories are the groups of a heatmap order (None: the order makes no groups)."""
    if order == CLUSTER_LABELS:
        return "cluster"
    return order if order == "kind" or order.startswith("meta:") else None


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
    row_bands: list[Band] = field(default_factory=list)  # the groups along each axis, when the order makes groups
    column_bands: list[Band] = field(default_factory=list)
    group_by: str | None = None  # the colour-by whose categories the bands are (core.encoding), for their colours
    order_note: str = ""  # how the groups are ordered, in words


def build_heatmap(
    vectors: np.ndarray,
    items: list[Item],
    row_rows: np.ndarray,
    column_rows: np.ndarray,
    order: str,
    clusters: np.ndarray | None,
    progress: ProgressFn,
    cancelled: CancelledFn,
    cluster_names: dict[int, str] | None = None,
) -> HeatmapData:
    """The matrix for rows × columns of the embedding (or block means when too big), ordered as asked.

    `order` is "input", "cluster" (hierarchical, optimal leaf order), or a grouping: "kind", "meta:<column>" or
    CLUSTER_LABELS; a grouping orders the groups by size, largest first (a missing value and noise last), and
    fills `row_bands` and `column_bands`.
    """
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
    row_bands: list[Band] = []
    column_bands: list[Band] = []
    group_by = group_colouring(order)
    if order == CLUSTER_LABELS and clusters is None:
        note, group_by = "No clusters yet: showing input order (Cluster first to group by cluster).", None
    if order == "cluster":
        if len(row_rows) <= LEAF_ORDER_MAX:
            row_perm = order_by_clustering(rows_v, cancelled)
            col_perm = row_perm if square else order_by_clustering(cols_v, cancelled)
        else:
            note = f"Clustering order is limited to {LEAF_ORDER_MAX} items; showing input order."
    elif group_by is not None:
        row_perm, row_bands = _grouped(items, row_rows, group_by, clusters, cluster_names)
        col_perm, column_bands = (
            (row_perm, row_bands) if square else _grouped(items, column_rows, group_by, clusters, cluster_names)
        )
    row_rows, column_rows = row_rows[row_perm], column_rows[col_perm]
    matrix = cosine_matrix(vectors[row_rows], None if square else vectors[column_rows], progress, cancelled)
    data = HeatmapData(matrix, [items[r] for r in row_rows], [items[r] for r in column_rows], note=note)
    if row_bands:
        data.row_bands, data.column_bands, data.group_by = row_bands, column_bands, group_by
        data.order_note = f"{_order_name(order)}: {GROUP_ORDER}."
    if max(matrix.shape) > MAX_DRAWN_SIDE:
        data.overview_steps = (-(-matrix.shape[0] // MAX_DRAWN_SIDE), -(-matrix.shape[1] // MAX_DRAWN_SIDE))
        data.overview, data.overview_max = block_images(matrix, *data.overview_steps)
    return data


def _grouped(
    items: list[Item], rows: np.ndarray, colour_by: str, clusters: np.ndarray | None, cluster_names: dict | None
) -> tuple[np.ndarray, list[Band]]:
    """The permutation that groups `rows` by the map's categories for `colour_by`, and the bands it makes."""
    chosen = [items[r] for r in rows]
    kinds = np.array([item.kind for item in chosen])
    labels = None if clusters is None else np.asarray(clusters)[rows]
    keys, shown = category_labels(chosen, kinds, colour_by, labels, cluster_names or {})
    keys = [str(k) for k in keys]
    if colour_by.startswith("meta:"):
        shown = {**shown, MISSING_VALUE: f"no {colour_by[5:]}"}
    last = {str(k) for k, name in shown.items() if name == NOISE_NAME} | {MISSING_VALUE}
    perm = order_by_values(keys, last)
    return perm, bands([keys[i] for i in perm], shown)


def _order_name(order: str) -> str:
    if order == CLUSTER_LABELS:
        return "By cluster"
    return "By kind" if order == "kind" else f"By {order[5:]}"


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


Cells = tuple[int, int, int, int]  # left, top, width, height of a part of the matrix, in cells


def visible_cells(shape: tuple[int, int], x_range: tuple[float, float], y_range: tuple[float, float]) -> Cells | None:
    """The part of a (rows, columns) matrix inside a view's x/y range, or None when the view shows none of it."""
    rows, columns = shape
    left, right = max(0, int(np.floor(x_range[0]))), min(columns, int(np.ceil(x_range[1])))
    top, bottom = max(0, int(np.floor(y_range[0]))), min(rows, int(np.ceil(y_range[1])))
    if right <= left or bottom <= top:
        return None
    return left, top, right - left, bottom - top


def region_to_draw(
    data: HeatmapData, x_range: tuple[float, float], y_range: tuple[float, float]
) -> tuple[bool, Cells] | None:
    """(draw the overview?, the region in cells) for a view range; None when the view shows none of the matrix.

    Zoomed out over a matrix wider than MAX_DRAWN_SIDE, the overview is drawn whole; zoomed in, the visible cells
    plus a margin (so small pans stay inside what is drawn) at full resolution.
    """
    rows, columns = data.matrix.shape
    if data.overview is None:
        return False, (0, 0, columns, rows)
    visible = visible_cells((rows, columns), x_range, y_range)
    if visible is None:
        return None
    row_step, column_step = data.overview_steps
    if (row_step > 1 and visible[3] > MAX_DRAWN_SIDE // 2) or (column_step > 1 and visible[2] > MAX_DRAWN_SIDE // 2):
        return True, (0, 0, data.overview.shape[1] * column_step, data.overview.shape[0] * row_step)
    margin = MAX_DRAWN_SIDE // 4
    left, top = max(0, visible[0] - margin), max(0, visible[1] - margin)
    right, bottom = min(columns, visible[0] + visible[2] + margin), min(rows, visible[1] + visible[3] + margin)
    return False, (left, top, right - left, bottom - top)
