"""Exact item queries on a 2-D map of up to millions of points: what lies in a rectangle, under the cursor, in a lasso.

A map answers these by items, never by pixels, so hover, click, search and lasso pick the same items whether the
map is drawn as points or as a density image. `PointIndex` keeps the rows sorted by x (one argsort: ~0.1 s for
1 000 000 points, made on a worker), so a query first cuts the x slab with two binary searches and then filters y
within it: the rows in a zoomed-in view, or near the cursor, cost a few slab elements instead of a pass over all.
scipy's cKDTree was measured and not taken: for 1 000 000 points its import costs 0.4 s and its build 0.5 s, and
it has no rectangle query (the map asks for rectangles on every pan and zoom).

`points_in_polygon` is the lasso's even-odd ray cast, written here (matplotlib's Path would do it, but pulling
matplotlib into a Qt app for one function is not worth it). It sorts the candidates by y once, so each polygon
edge only visits the candidates in its own y band: a 300-vertex lasso over 500 000 points takes tens of
milliseconds instead of 0.6 s.
"""

from __future__ import annotations

import numpy as np


def points_in_polygon(xy: np.ndarray, polygon: np.ndarray, candidates: np.ndarray | None = None) -> np.ndarray:
    """Sorted indices of points inside a polygon (even-odd rule); `candidates` limits the rows looked at."""
    polygon = np.asarray(polygon, dtype=np.float64).reshape(-1, 2)
    if len(polygon) < 3 or len(xy) == 0:
        return np.zeros(0, dtype=np.int64)
    lo, hi = polygon.min(axis=0), polygon.max(axis=0)
    rows = np.arange(len(xy)) if candidates is None else np.asarray(candidates, dtype=np.int64)
    x, y = xy[rows, 0], xy[rows, 1]
    box = (x >= lo[0]) & (x <= hi[0]) & (y >= lo[1]) & (y <= hi[1])
    rows, cx, cy = rows[box], x[box].astype(np.float64), y[box].astype(np.float64)
    by_y = np.argsort(cy, kind="stable")
    rows, cx, cy = rows[by_y], cx[by_y], cy[by_y]
    flags = np.zeros(len(rows), dtype=bool)
    x0, y0 = polygon[:, 0], polygon[:, 1]
    x1, y1 = np.roll(x0, -1), np.roll(y0, -1)
    for ax, ay, bx, by in zip(x0, y0, x1, y1, strict=True):
        if ay == by:
            continue  # a horizontal edge is crossed by no ray
        # (ay > cy) != (by > cy) holds exactly for min(ay, by) <= cy < max(ay, by): one slice of the sorted y.
        start, stop = np.searchsorted(cy, min(ay, by), side="left"), np.searchsorted(cy, max(ay, by), side="left")
        if start == stop:
            continue
        band_y = cy[start:stop]
        at = ax + (band_y - ay) * (bx - ax) / (by - ay)
        flags[start:stop] ^= cx[start:stop] < at
    return np.sort(rows[flags])


class PointIndex:
    """Rows of an (n, 2) array sorted by x, for rectangle counts, rectangle rows and the nearest point."""

    def __init__(self, xy: np.ndarray) -> None:
        self.xy = np.asarray(xy)
        self.order = np.argsort(self.xy[:, 0], kind="stable")
        self.sorted_x = self.xy[self.order, 0]

    def _slab(self, x0: float, x1: float) -> np.ndarray:
        start = np.searchsorted(self.sorted_x, x0, side="left")
        stop = np.searchsorted(self.sorted_x, x1, side="right")
        return self.order[start:stop]

    def rows_in_rect(self, x0: float, x1: float, y0: float, y1: float) -> np.ndarray:
        """Sorted rows with x0 <= x <= x1 and y0 <= y <= y1."""
        slab = self._slab(x0, x1)
        y = self.xy[slab, 1]
        return np.sort(slab[(y >= y0) & (y <= y1)])

    def count_in_rect(self, x0: float, x1: float, y0: float, y1: float) -> int:
        slab = self._slab(x0, x1)
        y = self.xy[slab, 1]
        return int(np.count_nonzero((y >= y0) & (y <= y1)))

    def nearest(self, x: float, y: float, radius: float) -> int | None:
        """The row nearest (x, y) within `radius`, or None; ties go to the lowest row, as argmin's over all rows."""
        slab = self._slab(x - radius, x + radius)
        near = slab[np.abs(self.xy[slab, 1] - y) <= radius]
        if len(near) == 0:
            return None
        squared = (self.xy[near, 0] - x) ** 2 + (self.xy[near, 1] - y) ** 2
        best = squared.min()
        if best > radius * radius:
            return None
        return int(near[squared == best].min())


def nearest_row(xy: np.ndarray, x: float, y: float, radius: float) -> int | None:
    """The row of `xy` nearest (x, y) within `radius`, or None (ties: the lowest row): one pass, no index.

    PointIndex.nearest computes the same squared distances on the same dtype, so both pick the same item.
    """
    if len(xy) == 0:
        return None
    squared = (xy[:, 0] - x) ** 2 + (xy[:, 1] - y) ** 2
    best = int(squared.argmin())
    return best if squared[best] <= radius * radius else None


def sorted_unique(rows: np.ndarray) -> np.ndarray:
    """np.unique of integer rows, by sorting: numpy 2's hash-based unique takes 0.7 s for 300 000 rows, this 10 ms.

    Rows already strictly increasing (a search's np.flatnonzero) come back as they are: one O(n) check instead of
    a sort (30-50 ms on the GUI thread for 500 000 search matches).
    """
    rows = np.asarray(rows, dtype=np.int64).reshape(-1)
    if len(rows) < 2 or bool(np.all(rows[1:] > rows[:-1])):
        return rows
    rows = np.sort(rows)
    if len(rows) < 2:
        return rows
    return rows[np.concatenate(([True], rows[1:] != rows[:-1]))]
