"""DensityMap: a ScatterView's level of detail, so a map of a million points opens and pans without freezing.

Drawing every item as a sprite costs the GUI thread ~5 µs a point to set and a software-rastered repaint of
every sprite on every frame (100 000 points: 83-180 ms a frame). So a map with more than POINT_LIMIT points
in view is drawn as a density image (core.density: counts per pixel, coloured by the dominant category, made on
a worker), and only the rows in view (plus a margin, so a small pan needs no redraw) are drawn as points once
the view holds POINT_LIMIT or fewer. Each of the scatter's three layers (base, search matches, selection rings)
decides for itself: a search that matches 300 000 items is an image over the dimmed base, one that matches 50
is 50 points. Rows drawn on top (queries: core.encoding's LAYER_TOP markers) stay points over the image.

Item queries never look at pixels: hover, click and lasso ask core.point_index about the rows themselves (the
index is built on a worker; until it is there the same answer comes from one pass over all points), so they pick
the same items at every zoom. Images and the index come from a private TaskRunner: a newer view supersedes an
older image, and a generation number drops anything made for data that has since been replaced. A map of
POINT_LIMIT points or fewer is drawn exactly as before: every point, no image, no work on pan or zoom.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, QRectF, QTimer

from workbench.core.density import DensityImage, Extent, density_image
from workbench.core.point_index import PointIndex, nearest_row, points_in_polygon
from workbench.ui.point_layer import PointLayer, Style
from workbench.ui.tasks import TaskRunner

# Points in view drawn as sprites; more become an image. Measured on the software raster (2 busy cores): zooming a
# million-point map to views of 2 700-26 600 points stalled 18-54 ms; 100 000 sprites stall 83-180 ms a frame.
POINT_LIMIT = 30_000
REGION_MARGIN = 0.5  # points mode draws this fraction of the view's size beyond each edge
SETTLE_MS = 80  # a pan or zoom is followed once it pauses this long (a wheel turn sends many range changes)
INDEX_FROM = POINT_LIMIT  # below this a pass over all points answers a lookup in well under a millisecond


@dataclass
class LayerRows:
    """What one of the scatter's layers shows: `rows` of the map (None: all), drawn as `styles` index `table`,
    and, as an image, in `colours[categories[row]]` on `layers[categories[row]]`; rows in `on_top` stay points."""

    points: PointLayer
    rows: np.ndarray | None
    styles: np.ndarray
    table: list[Style]
    categories: np.ndarray
    colours: list[str]
    layers: list[int]
    on_top: np.ndarray  # bool per row of the map


@dataclass
class _Shown:
    """How a layer is drawn now: as points of the rows in `region` (None: every row), or as an image of `extent`."""

    region: Extent | None = None
    extent: Extent | None = None
    size: tuple[int, int] = (0, 0)


class DensityMap(QObject):
    """The level of detail of one ScatterView: which rows each layer draws as points, which as a density image."""

    def __init__(self, plot: pg.PlotWidget, viewbox: pg.ViewBox, image_z: dict[str, float], changed: Callable):
        super().__init__(plot)
        self.plot, self.viewbox, self._changed = plot, viewbox, changed
        self.runner = TaskRunner(self, max_threads=2)
        self.xy = np.zeros((0, 2), np.float32)
        self.bounds: Extent | None = None  # the smallest rectangle holding every point
        self.index: PointIndex | None = None
        self.generation = 0
        self.layers: dict[str, LayerRows] = {}
        self.shown: dict[str, _Shown] = {}
        self.images: dict[str, pg.ImageItem] = {}
        self.pending_images: set[str] = set()
        self.last_image: dict[str, DensityImage] = {}
        for name, z in image_z.items():
            item = pg.ImageItem(axisOrder="row-major")
            item.setZValue(z)
            item.hide()
            self.plot.addItem(item, ignoreBounds=True)
            self.images[name] = item
        self._settle = QTimer(self, singleShot=True, interval=SETTLE_MS)
        self._settle.timeout.connect(self.follow_view)
        viewbox.sigRangeChanged.connect(self._range_changed)
        viewbox.sigResized.connect(self._range_changed)  # more or fewer pixels: a sharper or cheaper image

    # -- data --------------------------------------------------------------------------------------------------
    @property
    def big(self) -> bool:
        return len(self.xy) > POINT_LIMIT

    def reset(self, xy: np.ndarray) -> None:
        """New positions: forget the index, images and regions made for the old ones; index the new ones on a worker."""
        self.generation += 1
        self.runner.cancel_all()
        self.pending_images.clear()
        self.xy, self.index, self.layers, self.shown = xy, None, {}, {}
        self.bounds = None if len(xy) == 0 else Extent(*_column_range(xy[:, 0]), *_column_range(xy[:, 1]))
        if len(xy) > INDEX_FROM:
            generation = self.generation
            index = self._indexed(generation)
            self.runner.start("index", "Indexing the map", lambda progress, cancelled: PointIndex(xy), on_done=index,
                              on_error=self._settled, on_cancelled=self._settled)  # fmt: skip

    def _indexed(self, generation: int) -> Callable[[PointIndex], None]:
        def done(index: PointIndex) -> None:
            if generation == self.generation:
                self.index = index
                self._changed()

        return done

    def _settled(self, message: str = "") -> None:
        """A task ended without a result (cancelled, or failed: TaskRunner logged why): the owner re-checks."""
        self._changed()

    @property
    def busy(self) -> bool:
        """An image or the index is being made, or a pan or zoom waits to be followed."""
        return bool(self.runner.running()) or bool(self.pending_images) or self._settle.isActive()

    # -- lookups: by item, never by pixel ----------------------------------------------------------------------
    def nearest(self, x: float, y: float, radius: float) -> int | None:
        """The row nearest (x, y) within `radius`, or None: the same answer with or without the index."""
        if self.index is not None:
            return self.index.nearest(x, y, radius)
        return nearest_row(self.xy, x, y, radius)

    def in_polygon(self, polygon: np.ndarray) -> np.ndarray:
        polygon = np.asarray(polygon, dtype=np.float64).reshape(-1, 2)
        if self.index is None or len(polygon) < 3:
            return points_in_polygon(self.xy, polygon)
        lo, hi = polygon.min(axis=0), polygon.max(axis=0)
        return points_in_polygon(self.xy, polygon, self.index.rows_in_rect(lo[0], hi[0], lo[1], hi[1]))

    def rows_in(self, extent: Extent, rows: np.ndarray | None = None) -> np.ndarray:
        """Sorted rows (of `rows`, default all) inside `extent`."""
        if rows is None and self.index is not None:
            return self.index.rows_in_rect(extent.x0, extent.x1, extent.y0, extent.y1)
        candidates = np.arange(len(self.xy)) if rows is None else rows
        x, y = self.xy[candidates, 0], self.xy[candidates, 1]
        return candidates[(x >= extent.x0) & (x <= extent.x1) & (y >= extent.y0) & (y <= extent.y1)]

    def count_in(self, extent: Extent, rows: np.ndarray | None = None) -> int:
        if self.bounds is not None and extent.contains(self.bounds):  # a fitted view holds them all: nothing to count
            return len(self.xy) if rows is None else len(rows)
        if rows is None and self.index is not None:
            return self.index.count_in_rect(extent.x0, extent.x1, extent.y0, extent.y1)
        return len(self.rows_in(extent, rows))

    # -- drawing -----------------------------------------------------------------------------------------------
    def view_extent(self) -> Extent:
        (x0, x1), (y0, y1) = self.viewbox.viewRange()
        return Extent(float(x0), float(x1), float(y0), float(y1))

    def view_pixels(self) -> tuple[int, int]:
        ratio = self.plot.devicePixelRatioF()
        return max(1, round(self.viewbox.width() * ratio)), max(1, round(self.viewbox.height() * ratio))

    def is_image(self, name: str) -> bool:
        """Whether the layer `name` is drawn as a density image now (or one is being made for it)."""
        shown = self.shown.get(name)
        return shown is not None and shown.extent is not None

    def draw(self, name: str, layer: LayerRows) -> None:
        """Draw a layer as its rows and the view ask: every row (a small map), the rows near the view, or an image."""
        self.layers[name] = layer
        if not self.big:
            rows = np.arange(len(self.xy)) if layer.rows is None else layer.rows
            self._points(name, layer, rows, _Shown())
            return
        view = self.view_extent()
        for extent in (_grown(view, REGION_MARGIN), view):  # a margin when it fits, so a small pan needs no redraw
            if self.count_in(extent, layer.rows) <= POINT_LIMIT:
                self._points(name, layer, self.rows_in(extent, layer.rows), _Shown(region=extent))
                return
        on_top = np.flatnonzero(layer.on_top) if layer.rows is None else layer.rows[layer.on_top[layer.rows]]
        top = self.rows_in(view, on_top)
        pictured_top = len(top) > POINT_LIMIT  # too many to draw as points: they go into the image too
        top = top[:0] if pictured_top else top
        layer.points.replace(self.xy, top, layer.styles[top], layer.table)
        shown = _Shown(extent=view, size=self.view_pixels())
        self.shown[name] = shown
        self._image(name, layer, shown, pictured_top)

    def _points(self, name: str, layer: LayerRows, rows: np.ndarray, shown: _Shown) -> None:
        layer.points.replace(self.xy, rows, layer.styles[rows], layer.table)
        self.shown[name] = shown
        self.pending_images.discard(name)
        self.runner.cancel(f"image {name}")
        # The image stays until the points that replace it are on screen (sync_images), so nothing blinks.

    def _image(self, name: str, layer: LayerRows, shown: _Shown, with_top: bool) -> None:
        xy, generation, extent, (width, height) = self.xy, self.generation, shown.extent, shown.size
        categories, colours, layers = layer.categories, list(layer.colours), list(layer.layers)
        chosen, on_top = layer.rows, layer.on_top
        self.pending_images.add(name)

        def make(progress, cancelled) -> DensityImage:
            rows = chosen  # which rows go into the image is worked out here: a million-row mask is no GUI work
            if not with_top:
                rows = np.flatnonzero(~on_top) if chosen is None else chosen[~on_top[chosen]]
            return density_image(xy, categories, colours, layers, extent, width, height, rows, cancelled=cancelled)

        def done(image: DensityImage) -> None:
            if generation != self.generation or self.shown.get(name) is not shown:
                return  # made for data or a view that has since been replaced
            self.pending_images.discard(name)
            self.last_image[name] = image
            item = self.images[name]
            item.setImage(image.rgba, autoLevels=False, levels=(0, 255))
            extent = image.extent
            item.setRect(QRectF(extent.x0, extent.y0, extent.x1 - extent.x0, extent.y1 - extent.y0))
            item.show()
            self._changed()

        def failed(message: str) -> None:
            self.pending_images.discard(name)
            self._settled(message)

        self.runner.start(f"image {name}", "Drawing the map's density", make, on_done=done, on_error=failed,
                          on_cancelled=self._settled)  # fmt: skip

    def sync_images(self) -> None:
        """Hide the images of layers now drawn as points (called once their points are on screen)."""
        for name, item in self.images.items():
            if not self.is_image(name) and item.isVisible():
                item.hide()

    def showing_image(self, name: str) -> DensityImage | None:
        """The density image on screen for layer `name`, or None when that layer shows points only."""
        return self.last_image.get(name) if self.images[name].isVisible() else None

    def set_opacity(self, name: str, opacity: float) -> None:
        self.images[name].setOpacity(opacity)

    def clear(self, name: str) -> None:
        self.layers.pop(name, None)
        self.shown.pop(name, None)
        self.pending_images.discard(name)
        self.runner.cancel(f"image {name}")
        self.images[name].hide()

    # -- following the view ------------------------------------------------------------------------------------
    def _range_changed(self, *_) -> None:
        if self.big and self.layers:
            self._settle.start()

    def follow_view(self) -> None:
        """Redraw each layer whose drawing no longer fits the view: an image of another view, points that end."""
        if not self.big:
            return
        view, size = self.view_extent(), self.view_pixels()
        for name, layer in list(self.layers.items()):
            shown = self.shown.get(name)
            if shown is None:
                continue
            if shown.extent is not None:
                stale = shown.extent != view or shown.size != size
            else:
                stale = shown.region is not None and not shown.region.contains(view)
            if stale:
                self.draw(name, layer)
        self._changed()  # redrawn or not, the owner checks whether everything asked for is on screen


def _column_range(values: np.ndarray) -> tuple[float, float]:
    return float(values.min()), float(values.max())


def _grown(extent: Extent, margin: float) -> Extent:
    dx, dy = (extent.x1 - extent.x0) * margin, (extent.y1 - extent.y0) * margin
    return Extent(extent.x0 - dx, extent.x1 + dx, extent.y0 - dy, extent.y1 + dy)


def factorize(values: np.ndarray, expected: list[str]) -> tuple[list[str], np.ndarray]:
    """(sorted distinct values, index of each value in them): np.unique(return_inverse=True)'s answer.

    A map holds a million markers of two or three kinds; comparing with each expected kind costs a few ms where
    np.unique's sort of a million strings costs a tenth of a second. Falls back to np.unique on anything else.
    """
    masks = {value: values == value for value in sorted(expected)}
    present = [value for value, mask in masks.items() if mask.any()]
    if sum(int(np.count_nonzero(masks[value])) for value in present) != len(values):
        distinct, codes = np.unique(values, return_inverse=True)
        return [str(value) for value in distinct], codes.reshape(-1)
    codes = np.zeros(len(values), dtype=np.int64)
    for code, value in enumerate(present):
        codes[masks[value]] = code
    return present, codes
