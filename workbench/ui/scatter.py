"""ScatterView: a pyqtgraph scatter of items that a person can explore, reusable by every view that plots items.

One ScatterPlotItem holds every point (set in one call: 100 000 points in ~0.2 s); a scipy cKDTree finds the
point under the cursor in O(log n) so hover never scans all points; hover is throttled to one lookup per 30 ms.
Selection: click (shift adds), rectangle and lasso drags in their modes; the widget only emits the ids, the
owner decides what a selection means (usually AppState.set_selection). Highlighting dims what does not match
(dimmed, never hidden). Point-in-polygon for the lasso is a vectorised ray cast written here: matplotlib's Path
would do it, but pulling matplotlib into a Qt app for one function is not worth it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsPathItem, QVBoxLayout, QWidget
from scipy.spatial import cKDTree

PALETTE = (
    "#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac",
)  # fmt: skip
DIM_ALPHA = 40
HOVER_RADIUS_PX = 8
SELECT_MODES = ("pan", "rect", "lasso")


def colour_for(index: int) -> QColor:
    """A qualitative colour per category; beyond the palette, pyqtgraph's evenly spaced hues."""
    return QColor(PALETTE[index]) if index < len(PALETTE) else pg.intColor(index, hues=24)


def points_in_polygon(xy: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """Indices of points inside a polygon (even-odd rule, vectorised ray casting over its edges)."""
    if len(polygon) < 3 or len(xy) == 0:
        return np.zeros(0, dtype=np.int64)
    x, y = xy[:, 0], xy[:, 1]
    inside = np.zeros(len(xy), dtype=bool)
    lo, hi = polygon.min(axis=0), polygon.max(axis=0)
    box = (x >= lo[0]) & (x <= hi[0]) & (y >= lo[1]) & (y <= hi[1])
    candidates = np.flatnonzero(box)
    cx, cy = x[candidates], y[candidates]
    flags = np.zeros(len(candidates), dtype=bool)
    x0, y0 = polygon[:, 0], polygon[:, 1]
    x1, y1 = np.roll(x0, -1), np.roll(y0, -1)
    for ax, ay, bx, by in zip(x0, y0, x1, y1, strict=True):
        crosses = (ay > cy) != (by > cy)
        with np.errstate(divide="ignore", invalid="ignore"):
            at = ax + (cy - ay) * (bx - ax) / (by - ay)
        flags ^= crosses & (cx < at)
    inside[candidates] = flags
    return np.flatnonzero(inside)


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
    """Points with ids, kinds and colours; emits hovered(id) and selection_made(ids, additive)."""

    hovered = Signal(str)  # id under the cursor, "" when none
    selection_made = Signal(list, bool)  # ids chosen by click, rectangle or lasso; True: add to the selection

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.viewbox = _SelectingViewBox(self)
        self.plot = pg.PlotWidget(viewBox=self.viewbox, background="w")
        self.plot.hideAxis("left")
        self.plot.hideAxis("bottom")
        self.plot.setMenuEnabled(False)
        self.points = pg.ScatterPlotItem(pxMode=True, size=9, pen=pg.mkPen(None), hoverable=False)
        self.points.setZValue(2)
        self.selection_marks = pg.ScatterPlotItem(pxMode=True, size=14, pen=pg.mkPen("#111", width=1.5), brush=None)
        self.selection_marks.setZValue(3)
        self.hover_mark = pg.ScatterPlotItem(pxMode=True, size=18, pen=pg.mkPen("#d62728", width=2), brush=None)
        self.hover_mark.setZValue(4)
        self.lines = pg.PlotDataItem(pen=pg.mkPen(QColor(120, 120, 120, 110), width=1), connect="pairs")
        self.lines.setZValue(1)
        self.hover_text = pg.TextItem(color="#111", fill=pg.mkBrush(255, 255, 240, 235), border="#999", anchor=(0, 1))
        self.hover_text.setZValue(10)
        self.hover_text.hide()
        for item in (self.lines, self.points, self.selection_marks, self.hover_mark):
            self.plot.addItem(item)
        self.plot.addItem(self.hover_text, ignoreBounds=True)
        self.legend = self.plot.addLegend(offset=(10, 10), labelTextColor="#222", brush=pg.mkBrush(255, 255, 255, 200))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot)

        self.xy = np.zeros((0, 2), np.float32)
        self.ids: list[str] = []
        self.texts: list[str] = []
        self._row_of: dict[str, int] = {}
        self._tree: cKDTree | None = None
        self._brushes: list = []
        self._dimmed = np.zeros(0, dtype=bool)
        self.hovered_row: int | None = None
        self._pending_hover: QPointF | None = None
        self._hover_timer = QTimer(self, singleShot=True, interval=30)
        self._hover_timer.timeout.connect(self._hover_now)
        self.plot.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.points.sigClicked.connect(self._on_clicked)

    # -- data --------------------------------------------------------------------------------------------------
    def set_points(
        self,
        xy: np.ndarray,
        ids: Sequence[str],
        texts: Sequence[str],
        symbols: Sequence[str],
        categories: np.ndarray,
        category_names: Sequence[str],
        symbol_names: dict[str, str] | None = None,
    ) -> None:
        """Replace every point. `categories` indexes `category_names` (colour); `symbols` per point (shape)."""
        self.xy = np.asarray(xy, dtype=np.float32)
        self.ids, self.texts = list(ids), list(texts)
        self._row_of = {item_id: row for row, item_id in enumerate(self.ids)}
        self._tree = cKDTree(self.xy) if len(self.xy) else None
        shared = [pg.mkBrush(colour_for(i)) for i in range(len(category_names))]
        dim = [pg.mkBrush(_with_alpha(colour_for(i), DIM_ALPHA)) for i in range(len(category_names))]
        self._brushes = [shared, dim]
        self._categories = np.asarray(categories, dtype=np.int64)
        self._symbols = list(symbols)
        self._dimmed = np.zeros(len(self.xy), dtype=bool)
        self._redraw_points()
        self.legend.clear()
        for index, name in enumerate(category_names):
            self.legend.addItem(pg.ScatterPlotItem(size=9, brush=shared[index], pen=None, symbol="o"), name)
        for symbol, name in (symbol_names or {}).items():
            self.legend.addItem(pg.ScatterPlotItem(size=9, brush=pg.mkBrush("#888"), pen=None, symbol=symbol), name)
        self.set_selected([])
        self.fit_view()

    def _redraw_points(self) -> None:
        shared, dim = self._brushes
        brushes = [dim[c] if d else shared[c] for c, d in zip(self._categories, self._dimmed, strict=True)]
        self.points.setData(pos=self.xy, symbol=self._symbols, brush=brushes, data=np.arange(len(self.xy)))

    def set_lines(self, segments: np.ndarray) -> None:
        """Line segments as (m, 2, 2) start/end points (e.g. each query to its nearest documents)."""
        if len(segments) == 0:
            self.lines.setData([], [])
            return
        flat = np.asarray(segments, dtype=np.float32).reshape(-1, 2)
        self.lines.setData(flat[:, 0], flat[:, 1])

    def highlight(self, rows: np.ndarray | None) -> None:
        """Dim every point but `rows`; None shows all at full strength."""
        dimmed = np.zeros(len(self.xy), dtype=bool)
        if rows is not None:
            dimmed[:] = True
            dimmed[np.asarray(rows, dtype=np.int64)] = False
        if not np.array_equal(dimmed, self._dimmed):
            self._dimmed = dimmed
            self._redraw_points()

    def set_selected(self, ids: Sequence[str]) -> None:
        """Ring the selected points (the selection itself lives in AppState)."""
        rows = [self._row_of[i] for i in ids if i in self._row_of]
        self.selection_marks.setData(pos=self.xy[rows] if rows else np.zeros((0, 2)), symbol="o")

    def mark(self, item_id: str) -> None:
        """Ring one point (e.g. the one hovered in a linked view); an unknown or empty id clears the ring."""
        row = self._row_of.get(item_id)
        self.hover_mark.setData(pos=self.xy[[row]] if row is not None else np.zeros((0, 2)))

    def set_mode(self, mode: str) -> None:
        assert mode in SELECT_MODES
        self.viewbox.mode = mode

    def fit_view(self) -> None:
        if len(self.xy):
            self.plot.getViewBox().autoRange(padding=0.08, items=[self.points])

    # -- interaction -------------------------------------------------------------------------------------------
    def row_at_scene_pos(self, scene_pos: QPointF) -> int | None:
        """The point nearest the cursor within HOVER_RADIUS_PX screen pixels, found through the k-d tree."""
        if self._tree is None:
            return None
        view = self.viewbox.mapSceneToView(scene_pos)
        pixel = self.viewbox.viewPixelSize()
        radius = HOVER_RADIUS_PX * max(pixel[0], pixel[1])
        distance, row = self._tree.query([view.x(), view.y()], distance_upper_bound=radius)
        return int(row) if np.isfinite(distance) else None

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
        self.hover_text.setPos(float(self.xy[row, 0]), float(self.xy[row, 1]))
        self.hover_text.show()
        self.hovered.emit(self.ids[row])

    def _on_clicked(self, item, points, ev) -> None:
        if not len(points):
            return
        row = int(points[0].data())
        additive = bool(ev.modifiers() & Qt.KeyboardModifier.ShiftModifier)
        self.selection_made.emit([self.ids[row]], additive)

    def select_polygon(self, polygon: np.ndarray, additive: bool = False) -> list[str]:
        """Select the points inside a polygon in data coordinates (the lasso and rectangle land here)."""
        rows = points_in_polygon(self.xy, polygon)
        ids = [self.ids[r] for r in rows]
        self.selection_made.emit(ids, additive)
        return ids

    def select_rect(self, rect: QRectF) -> list[str]:
        corners = np.array([[rect.left(), rect.top()], [rect.right(), rect.top()], [rect.right(), rect.bottom()],
                            [rect.left(), rect.bottom()]])  # fmt: skip
        return self.select_polygon(corners)


def shorten(text: str, limit: int = 280, width: int = 60) -> str:
    """Wrapped to `width` columns and cut at `limit` characters with an ellipsis: hover text that stays readable."""
    import textwrap

    cut = text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
    return "\n".join(textwrap.wrap(cut, width=width)[:8])


def _with_alpha(colour: QColor, alpha: int) -> QColor:
    faded = QColor(colour)
    faded.setAlpha(alpha)
    return faded
