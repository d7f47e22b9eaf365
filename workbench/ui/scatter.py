"""ScatterView: a pyqtgraph scatter of items that a person can explore, reusable by every view that plots items.

Drawing never freezes the window, whatever the number of points: points are drawn as layers (point_layer's
PointLayer), each filled for a slice of every event-loop turn (SLICE_BUDGET_S) until all are in, then swapped in
whole; `drawn` says when. Highlighting lowers the opacity of the whole base layer (one call, no per-point work)
and draws the matches again on top; the selection rings are a layer of their own. Marker size, outline and layer
come from the encoding per style (queries: big stars above every document), and query lines are one item per
rank, fading with rank, drawn over the documents and under the queries.

A map of more than density_map.POINT_LIMIT points is drawn by level of detail (density_map's DensityMap): a
density image where the view holds more, the points in view where it holds fewer, each layer deciding for itself.

Hover (throttled to one lookup per 30 ms) and clicks find the item under the cursor by position, never by pixel
(core.point_index: one vectorised pass, or an index built on a worker for a big map), so they find the same item
whether the map shows points or density. Selection: click (shift adds), rectangle and lasso drags in their
modes; the widget only emits the ids, the owner decides what a selection means (usually AppState.set_selection).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsPathItem, QSizePolicy, QVBoxLayout, QWidget

from workbench.core.encoding import (
    DOCUMENT_SYMBOL,
    LAYER_NORMAL,
    LAYER_TOP,
    MARKERS,
    QUERY_LINE_COLOUR,
    Encoding,
    Marker,
    query_line_styles,
)
from workbench.core.point_index import sorted_unique
from workbench.ui.density_map import DensityMap, LayerRows, factorize
from workbench.ui.opengl import use_opengl
from workbench.ui.point_layer import CHUNK_POINTS, LAYER_Z_STEP, PointLayer, Style

DIM_OPACITY = 0.16  # the base layer while a search highlights some points
HOVER_RADIUS_PX = 8
RING_MARGIN, HOVER_MARGIN = 5, 9  # pixels a selection ring and the hover ring reach beyond their marker
LEGEND_MAX_SIZE = 15.0  # a marker in the legend: big enough to tell a star, small enough for one line
BASE_Z = 2.0
LINES_Z = BASE_Z + LAYER_Z_STEP * (LAYER_NORMAL + 0.5)  # over the documents, under the query stars
SLICE_BUDGET_S = 0.02  # drawing work per event-loop turn (a turn that shows a finished layer also paints it)
LEGEND_NAME_CHARS, LEGEND_ROW_PX = 24, 20
SELECT_MODES = ("pan", "rect", "lasso")
RING_IMAGE_COLOUR = "#111111"  # a selection too big for rings: its density, dark over the map


class _SelectingViewBox(pg.ViewBox):
    """A ViewBox whose left-drag pans, or draws a selection rectangle / lasso, by mode."""

    def __init__(self, owner: ScatterView) -> None:
        super().__init__()
        self.owner = owner
        self.mode = "pan"
        self._path: list[QPointF] = []
        self._outline = QGraphicsPathItem()
        self._outline.setPen(QPen(QColor("#333"), 0, Qt.PenStyle.DashLine))
        self._outline.setZValue(1e9)
        self.addItem(self._outline, ignoreBounds=True)

    def mouseDragEvent(self, ev, axis=None) -> None:
        if self.mode == "pan" or ev.button() != Qt.MouseButton.LeftButton:
            super().mouseDragEvent(ev, axis)
            return
        ev.accept()
        point = self.mapSceneToView(ev.scenePos())
        if ev.isStart():
            self._path = [self.mapSceneToView(ev.buttonDownScenePos()), point]
        else:
            self._path.append(point)
        polygon = self._polygon()
        path = QPainterPath()
        path.moveTo(polygon[0][0], polygon[0][1])
        for px, py in polygon[1:]:
            path.lineTo(px, py)
        path.closeSubpath()
        self._outline.setPath(path)
        if ev.isFinish():
            self._outline.setPath(QPainterPath())
            self.owner.select_polygon(
                np.asarray(polygon), additive=bool(ev.modifiers() & Qt.KeyboardModifier.ShiftModifier)
            )

    def _polygon(self) -> list[tuple[float, float]]:
        if self.mode == "rect":
            a, b = self._path[0], self._path[-1]
            return [(a.x(), a.y()), (b.x(), a.y()), (b.x(), b.y()), (a.x(), b.y())]
        return [(p.x(), p.y()) for p in self._path]


class ScatterView(QWidget):
    """Points with ids, kinds and colours; emits hovered(id), selection_made(ids, additive) and drawn()."""

    hovered = Signal(str)  # id under the cursor, "" when none
    selection_made = Signal(list, bool)  # ids chosen by click, rectangle or lasso; True: add to the selection
    drawn = Signal()  # every point, highlight and selection ring asked for is on screen

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.viewbox = _SelectingViewBox(self)
        self.plot = pg.PlotWidget(viewBox=self.viewbox, background="w")
        if use_opengl():  # paint through the GPU where there is one (ui/opengl.py); Qt's raster engine elsewhere
            self.plot.useOpenGL(True)
        self.plot.hideAxis("left")
        self.plot.hideAxis("bottom")
        self.plot.setMenuEnabled(False)
        self.base = PointLayer(self.plot, BASE_Z)
        self.matches = PointLayer(self.plot, BASE_Z + 0.5)
        self.rings = PointLayer(self.plot, BASE_Z + 1, pg.mkPen("#111", width=1.5))
        self._layers = (self.base, self.matches, self.rings)
        image_z = {"base": BASE_Z, "matches": BASE_Z + 0.5, "rings": BASE_Z + 1}  # each under its layer's points
        self.density = DensityMap(self.plot, self.viewbox, image_z, self._schedule_fill)
        self.hover_mark = pg.ScatterPlotItem(pxMode=True, size=18, pen=pg.mkPen("#d62728", width=2), brush=None)
        self.hover_mark.setZValue(BASE_Z + 2)
        self.lines: list[pg.PlotDataItem] = []  # one per rank: lines[0] joins each query to its nearest document
        self.hover_text = pg.TextItem(color="#111", fill=pg.mkBrush(255, 255, 240, 235), border="#999", anchor=(0, 1))
        self.hover_text.setZValue(10)
        self.hover_text.hide()
        self.plot.addItem(self.hover_mark)
        self.plot.addItem(self.hover_text, ignoreBounds=True)
        # The legend has a column of its own beside the data (the hidden right axis is column 2 of the plot's grid),
        # so it never covers points or query stars, however many categories there are.
        self.legend = pg.LegendItem(labelTextColor="#222", verSpacing=-4)
        self.legend.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Maximum)  # as small as its rows
        grid = self.plot.getPlotItem().layout
        grid.addItem(self.legend, 2, 3)
        grid.setAlignment(self.legend, Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot)

        self.xy = np.zeros((0, 2), np.float32)
        self.ids: list[str] = []
        self.texts: list[str] = []
        self._row_of: dict[str, int] | None = None  # built on first use (57 ms for 100 000 ids)
        self._row_lookup: Callable[[str], int | None] | None = None
        self._styles = np.zeros(0, dtype=np.int64)
        self._style_table: list[Style] = []
        self._shape_of_row = np.zeros(0, dtype=np.int64)  # index into _shape_sizes, per row
        self._shape_sizes: list[float] = [MARKERS[DOCUMENT_SYMBOL].size]
        self._categories = np.zeros(0, dtype=np.int64)  # per row: what colours it in a density image
        self._colours, self._category_layers = [QUERY_LINE_COLOUR], [LAYER_NORMAL]
        self._on_top = np.zeros(0, dtype=bool)
        self.highlighted: np.ndarray | None = None
        self.hovered_row: int | None = None
        self._pending_hover: QPointF | None = None
        self._hover_timer = QTimer(self, singleShot=True, interval=30)
        self._hover_timer.timeout.connect(self._hover_now)
        self._fill_timer = QTimer(self, singleShot=True, interval=0)
        self._fill_timer.timeout.connect(self._fill_some)
        self.plot.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.plot.scene().sigMouseClicked.connect(self._on_clicked)

    # -- data --------------------------------------------------------------------------------------------------
    def set_points(
        self,
        xy: np.ndarray,
        ids: Sequence[str],
        texts: Sequence[str],
        encoding: Encoding | None,
        row_of: Callable[[str], int | None] | None = None,
    ) -> None:
        """Replace every point, drawn as `encoding` says (core.encoding: colour, marker and layer per item).

        `row_of` maps an id to its row when the caller already has that index (AppState does), so the view does
        not build a second one. Returns at once; a big set arrives over a few event-loop turns (`drawn` then).
        The view fits the points when their positions changed; a recolouring (clusters found or renamed) keeps
        the person's zoom.
        """
        moved = not np.array_equal(self.xy, np.asarray(xy, dtype=np.float32).reshape(-1, 2))
        self.xy = np.asarray(xy, dtype=np.float32).reshape(-1, 2)
        self.ids = ids if isinstance(ids, list) else list(ids)  # not copied: callers hand over fresh or cached lists
        self.texts = texts if isinstance(texts, list) else list(texts)
        self._row_of, self._row_lookup = None, row_of
        self.legend.clear()
        if encoding is None or len(self.xy) == 0:
            self._style_table, self._styles = [], np.zeros(len(self.xy), dtype=np.int64)
            self._shape_of_row = np.zeros(len(self.xy), dtype=np.int64)
            self._shape_sizes = [MARKERS[DOCUMENT_SYMBOL].size]
            self._categories, self._on_top = np.zeros(len(self.xy), dtype=np.int64), np.zeros(len(self.xy), bool)
            self._colours, self._category_layers = [QUERY_LINE_COLOUR], [LAYER_NORMAL]
        else:
            shapes, shape_of_row = factorize(np.asarray(encoding.symbols, dtype=str), list(encoding.markers))
            markers = [encoding.marker(shape) for shape in shapes]
            pens = [_outline(marker) for marker in markers]
            brushes = [pg.mkBrush(QColor(colour)) for colour in encoding.colours]
            self._style_table = [
                (shape, brush, encoding.layer_of(category, shape), marker.size, pen)
                for category, brush in enumerate(brushes)
                for shape, marker, pen in zip(shapes, markers, pens, strict=True)
            ]
            categories = np.asarray(encoding.categories, dtype=np.int64).reshape(-1)
            self._shape_of_row = shape_of_row.reshape(-1)
            self._shape_sizes = [marker.size for marker in markers]
            self._styles = categories * len(shapes) + self._shape_of_row
            self._categories, self._colours, self._category_layers = categories, encoding.colours, encoding.layers
            self._on_top = np.array([marker.layer == LAYER_TOP for marker in markers], dtype=bool)[self._shape_of_row]
            for entry in encoding.legend:
                marker = encoding.marker(entry.symbol)
                hollow = entry.colour is None  # members of several colours: the shape alone, outlined
                sample = pg.ScatterPlotItem(
                    size=min(marker.size, LEGEND_MAX_SIZE),
                    symbol=entry.symbol,
                    brush=pg.mkBrush("#ffffff" if hollow else QColor(entry.colour)),
                    pen=pg.mkPen("#333", width=1) if hollow else None,
                )
                self.legend.addItem(sample, shorten(entry.name, LEGEND_NAME_CHARS, LEGEND_NAME_CHARS))
            rows_that_fit = max(4, self.plot.height() // LEGEND_ROW_PX)
            self.legend.setColumnCount(max(1, -(-len(encoding.legend) // rows_that_fit)))
        self.density.reset(self.xy)
        self.highlighted = None
        self.mark("")
        if moved:  # a recolouring (clusters found or renamed) keeps the person's zoom
            self.fit_view()  # first: a big map draws what this view shows
        self.density.draw("base", self._layer_rows(self.base, None))
        self._set_base_opacity(1.0)
        for name, layer in (("matches", self.matches), ("rings", self.rings)):
            layer.clear()
            self.density.clear(name)
        self._schedule_fill()

    def _layer_rows(self, layer: PointLayer, rows: np.ndarray | None) -> LayerRows:
        """Rows of the base or matches layer, drawn as the encoding says (as points, or as density)."""
        return LayerRows(layer, rows, self._styles, self._style_table, self._categories, self._colours,
                         self._category_layers, self._on_top)  # fmt: skip

    def _set_base_opacity(self, opacity: float) -> None:
        self.base.set_opacity(opacity)
        self.density.set_opacity("base", opacity)

    def _schedule_fill(self) -> None:
        """Draw a small change at once (what tests and small corpora see); a big one from the next turn on."""
        if sum(layer.pending_points() for layer in self._layers) <= CHUNK_POINTS:
            self._fill_some()
        else:
            self._fill_timer.start()

    def _fill_some(self) -> None:
        """Draw pending chunks for one time slice; come back on the next event-loop turn until all are drawn."""
        deadline = time.perf_counter() + SLICE_BUDGET_S
        finished = self.base.fill(deadline)
        if finished:  # matches and rings belong to the new base: never shown over the old one
            finished = all([self.matches.fill(deadline), self.rings.fill(deadline)])
        if self.highlighted is not None and self.matches.done:
            self._set_base_opacity(DIM_OPACITY)  # only once the matches are there to stand out
        if not finished:
            self._fill_timer.start()
            return
        self.density.sync_images()  # an image that points now replace goes once they are on screen
        if not self.density.busy:  # else the density map calls back when its images are in
            self.drawn.emit()

    @property
    def is_drawing(self) -> bool:
        return not all(layer.done for layer in self._layers) or self.density.busy

    def point_count(self) -> int:
        """Points of the base layer on screen now."""
        return self.base.point_count()

    def selected_positions(self) -> np.ndarray:
        """(m, 2) positions of the selection rings on screen."""
        return self.rings.positions()

    def set_lines(self, segments: np.ndarray, ranks: np.ndarray | None = None) -> None:
        """Line segments as (m, 2, 2) start/end points, each with its rank (0: a query's nearest document).

        One item per rank, so the whole set costs k items whatever the number of queries; each rank's opacity
        and width come from core.encoding.query_line_styles (rank 1 strongest).
        """
        segments = np.asarray(segments, dtype=np.float32).reshape(-1, 2, 2)
        ranks = np.zeros(len(segments), dtype=np.int64) if ranks is None else np.asarray(ranks, dtype=np.int64)
        styles = query_line_styles(int(ranks.max()) + 1 if len(segments) else 0)
        while len(self.lines) < len(styles):
            item = pg.PlotDataItem(connect="pairs")
            item.setZValue(LINES_Z)
            self.plot.addItem(item, ignoreBounds=True)
            self.lines.append(item)
        for rank, item in enumerate(self.lines):
            if rank >= len(styles):
                item.setData([], [])
                continue
            opacity, width = styles[rank]
            colour = QColor(QUERY_LINE_COLOUR)
            colour.setAlphaF(opacity)
            flat = segments[ranks == rank].reshape(-1, 2)
            item.setData(flat[:, 0], flat[:, 1], pen=pg.mkPen(colour, width=width))

    def line_opacities(self) -> list[float]:
        """The opacity of each rank's lines now drawn, nearest rank first (what a test or a person can check)."""
        return [item.opts["pen"].color().alphaF() for item in self.lines if item.xData is not None and len(item.xData)]

    def highlight(self, rows: np.ndarray | None) -> None:
        """Dim every point but `rows`; None shows all at full strength."""
        rows = None if rows is None else sorted_unique(rows)
        same = rows is None and self.highlighted is None
        if same or (rows is not None and self.highlighted is not None and np.array_equal(rows, self.highlighted)):
            return
        self.highlighted = rows
        if rows is None:
            self.matches.clear()
            self.density.clear("matches")
            self._set_base_opacity(1.0)
        else:
            self.density.draw("matches", self._layer_rows(self.matches, rows))
        self._schedule_fill()

    def set_selected(self, ids: Sequence[str]) -> None:
        """Ring the selected points (the selection itself lives in AppState)."""
        found = (self.row_of(i) for i in ids)
        rows = np.array([row for row in found if row is not None], dtype=np.int64)
        table: list[Style] = [("o", None, LAYER_TOP, size + RING_MARGIN, None) for size in self._shape_sizes]
        categories = np.zeros(len(self.xy), dtype=np.int64)  # as an image: one dark colour over the map
        layer = LayerRows(self.rings, rows, self._shape_of_row, table, categories, [RING_IMAGE_COLOUR], [LAYER_NORMAL],
                          self._on_top)  # fmt: skip
        self.density.draw("rings", layer)
        self._schedule_fill()

    def row_of(self, item_id: str) -> int | None:
        """The row of a point by id, or None when it is not plotted here."""
        if self._row_lookup is not None:
            row = self._row_lookup(item_id)
            return row if row is not None and row < len(self.ids) and self.ids[row] == item_id else None
        if self._row_of is None:
            self._row_of = {known: row for row, known in enumerate(self.ids)}
        return self._row_of.get(item_id)

    def mark(self, item_id: str) -> None:
        """Ring one point (e.g. the one hovered in a linked view); an unknown or empty id clears the ring."""
        row = self.row_of(item_id) if item_id else None
        if row is None:
            self.hover_mark.setData(pos=np.zeros((0, 2)))
            return
        self.hover_mark.setData(pos=self.xy[[row]], size=self._shape_sizes[self._shape_of_row[row]] + HOVER_MARGIN)

    def set_mode(self, mode: str) -> None:
        assert mode in SELECT_MODES
        self.viewbox.mode = mode

    def fit_view(self) -> None:
        """Show every point with a margin (from the positions, so it works before all chunks are drawn)."""
        if len(self.xy):
            low = np.array([self.xy[:, 0].min(), self.xy[:, 1].min()])  # per column: 100x faster than axis=0
            high = np.array([self.xy[:, 0].max(), self.xy[:, 1].max()])
            span = np.maximum(high - low, 1e-6)
            low, high = low - 0.08 * span, high + 0.08 * span
            self.viewbox.setRange(
                xRange=(float(low[0]), float(high[0])), yRange=(float(low[1]), float(high[1])), padding=0
            )

    # -- interaction -------------------------------------------------------------------------------------------
    def row_at_scene_pos(self, scene_pos: QPointF) -> int | None:
        """The point nearest the cursor within HOVER_RADIUS_PX screen pixels, or None."""
        if len(self.xy) == 0:
            return None
        view = self.viewbox.mapSceneToView(scene_pos)
        pixel = self.viewbox.viewPixelSize()
        radius = HOVER_RADIUS_PX * max(pixel[0], pixel[1])
        return self.density.nearest(view.x(), view.y(), radius)

    def _on_mouse_moved(self, scene_pos: QPointF) -> None:
        self._pending_hover = QPointF(scene_pos)
        if not self._hover_timer.isActive():
            self._hover_timer.start()

    def _hover_now(self) -> None:
        if self._pending_hover is None:
            return
        row = self.row_at_scene_pos(self._pending_hover)
        if row == self.hovered_row:
            return
        self.hovered_row = row
        if row is None:
            self.hover_text.hide()
            self.hovered.emit("")
            return
        self.hover_text.setText(shorten(self.texts[row]))
        x, y = float(self.xy[row, 0]), float(self.xy[row, 1])
        view = self.viewbox.viewRect()  # the text opens towards the middle, so the plot's edge never cuts it
        right_half = x > view.center().x()
        upper_half = y > view.center().y()
        self.hover_text.setAnchor((1 if right_half else 0, 0 if upper_half else 1))
        self.hover_text.setPos(x, y)
        self.hover_text.show()
        self.hovered.emit(self.ids[row])

    def _on_clicked(self, ev) -> None:
        """A left click on a point selects it (shift adds); a click on empty space does nothing."""
        if ev.button() != Qt.MouseButton.LeftButton or ev.double():
            return
        row = self.row_at_scene_pos(ev.scenePos())
        if row is not None:
            additive = bool(ev.modifiers() & Qt.KeyboardModifier.ShiftModifier)
            self.selection_made.emit([self.ids[row]], additive)

    def select_polygon(self, polygon: np.ndarray, additive: bool = False) -> list[str]:
        """Select the points inside a polygon in data coordinates (the lasso and rectangle land here)."""
        rows = self.density.in_polygon(polygon)
        ids = [self.ids[r] for r in rows]
        self.selection_made.emit(ids, additive)
        return ids


def _outline(marker: Marker) -> QPen | None:
    """The pen of a marker's outline, or None for the layer's default (no outline)."""
    return None if marker.outline is None else pg.mkPen(QColor(marker.outline), width=marker.outline_width)


def shorten(text: str, limit: int = 280, width: int = 60) -> str:
    """Wrapped to `width` columns and cut at `limit` characters with an ellipsis: hover text that stays readable."""
    import textwrap

    cut = text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
    return "\n".join(textwrap.wrap(cut, width=width)[:8])
