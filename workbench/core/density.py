"""A density image of a 2-D map: how many items fall in each screen pixel, coloured by the pixel's dominant category.

Drawing a million points as sprites costs seconds; binning them costs ~0.1 s of numpy on a worker, and the image
costs the GUI thread one texture whatever the number of points. `density_image` bins the rows of a map into a
(height, width) grid over a data rectangle (the counts are exactly numpy's histogram2d with the same range),
picks for every pixel its dominant category (the most items, from the highest drawing layer present, so cluster
noise stays under every colour), and shades it: the category's colour, more opaque where more items pile up (on a
log scale, so a lone item is still visible next to a dense core). `spread` grows each occupied pixel into its
empty neighbours for display only (datashader calls this "spread"): a lone item is a 3 × 3 dot, not one pixel.
This is a few lines of numpy rather than datashader, which would bring numba, pandas and dask into the app.

Qt-free: colours are hex strings from core.encoding, the result is an RGBA array.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from workbench.core.progress import CancelledFn, never_cancelled, raise_if_cancelled

MIN_ALPHA, MAX_ALPHA = 0.45, 1.0  # a lone item stays visible; the densest pixel is the full colour
SPREAD_ALPHA = 0.55  # a neighbour filled by `spread` is fainter than the pixel it comes from


@dataclass(frozen=True)
class Extent:
    """A data rectangle: the image's pixel (0, 0) is at (x0, y0), its last pixel ends at (x1, y1)."""

    x0: float
    x1: float
    y0: float
    y1: float

    def contains(self, other: Extent) -> bool:
        return self.x0 <= other.x0 and other.x1 <= self.x1 and self.y0 <= other.y0 and other.y1 <= self.y1


@dataclass
class DensityImage:
    """counts[j, i]: items in pixel column i, row j (row 0 at y0, the bottom); dominant: their category or -1."""

    counts: np.ndarray  # (height, width) int64
    dominant: np.ndarray  # (height, width) int16, -1 where empty
    rgba: np.ndarray  # (height, width, 4) uint8, what is drawn
    extent: Extent
    rows: int  # how many items went into the image (those inside the extent)


def pixel_of_points(xy: np.ndarray, extent: Extent, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """(flat pixel index, rows) of the points inside `extent`, as numpy.histogram2d bins them.

    Bins are half-open [left, right) except the last, which includes its right edge, so a point on the
    extent's edge is counted once, as histogram2d counts it.
    """
    x_edges = np.linspace(extent.x0, extent.x1, width + 1)
    y_edges = np.linspace(extent.y0, extent.y1, height + 1)
    # searchsorted on the same edges histogram2d uses, as it does: exact agreement, not a float-rounded division.
    column = _bin(xy[:, 0], x_edges)
    row = _bin(xy[:, 1], y_edges)
    inside = np.flatnonzero((column >= 0) & (column < width) & (row >= 0) & (row < height))
    column, row = column[inside], row[inside]
    return row * width + column, inside


def density_image(
    xy: np.ndarray,
    categories: np.ndarray,
    colours: list[str],
    layers: list[int],
    extent: Extent,
    width: int,
    height: int,
    rows: np.ndarray | None = None,
    spread: int = 1,
    cancelled: CancelledFn = never_cancelled,
) -> DensityImage:
    """Bin `xy[rows]` (default all) into width × height pixels over `extent`, coloured by dominant category.

    `categories[row]` indexes `colours` (hex) and `layers` (core.encoding's drawing layers). Checks `cancelled`
    between categories, so a newer view can stop an older image quickly.
    """
    width, height = max(1, int(width)), max(1, int(height))
    points = xy if rows is None else xy[rows]
    point_categories = categories if rows is None else categories[rows]
    pixels, inside = pixel_of_points(points, extent, width, height)
    point_categories = np.asarray(point_categories)[inside]
    size = width * height
    counts = np.bincount(pixels, minlength=size)
    raise_if_cancelled(cancelled)
    # Dominant category: the highest layer present wins, then the biggest count (a score of layer × n + count).
    # Worked out over the occupied pixels only (a zoomed-out map of a million items fills a fraction of the screen).
    occupied = np.flatnonzero(counts)
    compact = np.zeros(size, dtype=np.int64)
    compact[occupied] = np.arange(len(occupied))
    point_pixel = compact[pixels]
    best = np.zeros(len(occupied), dtype=np.int64)
    best_category = np.full(len(occupied), -1, dtype=np.int16)
    weight = len(pixels) + 1
    by_category = np.argsort(point_categories.astype(np.int16), kind="stable")  # a radix sort: O(n)
    present, starts = np.unique(point_categories[by_category], return_index=True)
    bounds = [*starts.tolist(), len(by_category)]
    for index, category in enumerate(present.tolist()):
        raise_if_cancelled(cancelled)
        score = np.bincount(point_pixel[by_category[bounds[index] : bounds[index + 1]]], minlength=len(occupied))
        score[score > 0] += layers[category] * weight
        better = score > best
        best = np.where(better, score, best)
        best_category = np.where(better, np.int16(category), best_category)
    dominant = np.full(size, -1, dtype=np.int16)
    dominant[occupied] = best_category
    counts, dominant = counts.reshape(height, width), dominant.reshape(height, width)
    rgba = shade(counts, dominant, colours, spread)
    return DensityImage(counts, dominant, rgba, extent, len(pixels))


def shade(counts: np.ndarray, dominant: np.ndarray, colours: list[str], spread: int = 1) -> np.ndarray:
    """RGBA pixels: each occupied pixel in its dominant colour, alpha rising with log(count); `spread` for display."""
    palette = np.array([_rgb(colour) for colour in colours] or [(0, 0, 0)], dtype=np.uint8)
    occupied = counts > 0
    top = float(np.log1p(counts.max())) if occupied.any() else 1.0
    alpha = np.zeros(counts.shape, dtype=np.float32)
    alpha[occupied] = MIN_ALPHA + (MAX_ALPHA - MIN_ALPHA) * np.log1p(counts[occupied]) / max(top, 1e-9)
    # One int32 key per pixel, alpha in the high bits and category + 1 below: the strongest neighbour is a max.
    key = (np.round(alpha * 255).astype(np.int32) << 16) | (dominant.astype(np.int32) + 1)
    for _ in range(max(0, spread)):
        key = _spread_once(key)
    category = (key & 0xFFFF) - 1
    rgba = np.zeros((*counts.shape, 4), dtype=np.uint8)
    filled = category >= 0
    rgba[filled, :3] = palette[category[filled]]
    rgba[..., 3] = (key >> 16).astype(np.uint8)
    return rgba


def _spread_once(key: np.ndarray) -> np.ndarray:
    """Fill each empty pixel from its strongest 8-neighbour, fainter (SPREAD_ALPHA); occupied pixels keep theirs."""
    height, width = key.shape
    padded = np.zeros((height + 2, width + 2), dtype=key.dtype)
    padded[1:-1, 1:-1] = key
    strongest = np.zeros_like(key)
    for dy in (0, 1, 2):
        for dx in (0, 1, 2):
            if (dx, dy) != (1, 1):
                np.maximum(strongest, padded[dy : dy + height, dx : dx + width], out=strongest)
    faint = ((((strongest >> 16) * SPREAD_ALPHA).astype(np.int32)) << 16) | (strongest & 0xFFFF)
    return np.where(key == 0, faint, key)


def _bin(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """The bin of each value (-1 below, len(edges) - 1 above), the last bin closed on the right, as histogramdd.

    A division guesses the bin and one comparison with the real edges on each side corrects it, so the answer is
    searchsorted's (what histogramdd does) at a fifth of its cost.
    """
    bins = len(edges) - 1
    values = values.astype(np.float64)
    guess = np.floor((values - edges[0]) * (bins / (edges[-1] - edges[0])))
    index = np.clip(np.nan_to_num(guess, nan=-1.0, posinf=bins, neginf=-1.0), -1, bins).astype(np.int64)
    index = np.where((index >= 0) & (values < edges[np.clip(index, 0, bins)]), index - 1, index)
    index = np.where((index < bins) & (values >= edges[np.clip(index + 1, 0, bins)]), index + 1, index)
    index[values == edges[-1]] = bins - 1
    return index


def _rgb(colour: str) -> tuple[int, int, int]:
    value = colour.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)
