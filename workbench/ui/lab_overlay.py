"""What the search lab draws over the map: the query, lines to each mode's hits (one line style per mode) and,
for a labelled query chosen in the evaluation, its relevant documents and one mode's hits in three marks.

The overlay only draws what AppState's `lab` holds (the pipeline wrote it); it owns a few pyqtgraph items on the
map's plot and a legend of its own in the plot's top-left corner, so the map's category legend stays as it is.
Where the query is an embedded item it is drawn at its own point; a typed query that is not in the corpus has no
place in the 2-D layout (UMAP places only what it was fitted on), so it is drawn at the centre of its nearest
documents and the legend says so: an honest approximation, never presented as a projected point.
Mode colours are dark and saturated, apart from the category palette (core.encoding) they are drawn over.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QGraphicsLinearLayout, QGraphicsWidget, QSizePolicy

from workbench.core.evaluation import judge
from workbench.ui.lab_state import COMPARE_B, MODE_NAMES
from workbench.ui.scatter import ScatterView
from workbench.ui.state import AppState

OVERLAY_Z = 50.0  # over every point layer, the query stars included
LANE_PX = 2.5  # screen pixels between the parallel lines of two modes to one document
PLACED_FROM = 3  # a query not on the map is drawn at the centre of this many of its nearest hits


@dataclass(frozen=True)
class ModeStyle:
    colour: str
    dash: Qt.PenStyle
    width: float = 2.0


MODE_STYLES = {
    "dense": ModeStyle("#0b3d91", Qt.PenStyle.SolidLine),
    "bm25": ModeStyle("#c0392b", Qt.PenStyle.DashLine),
    "hybrid": ModeStyle("#7b1fa2", Qt.PenStyle.DashDotLine),
    "exact": ModeStyle("#111111", Qt.PenStyle.DotLine),
    COMPARE_B: ModeStyle("#00796b", Qt.PenStyle.DotLine),
}
# How a document is marked for the chosen labelled query and mode: (name, symbol, outline colour, size in pixels).
JUDGED_STYLES = {
    "found": ("relevant, found", "o", "#1e8c3a", 20.0),
    "missed": ("relevant, missed", "s", "#d62728", 20.0),
    "wrong": ("found, not relevant", "t", "#e67e00", 18.0),
}


def mode_pen(mode: str, width: float | None = None):
    style = MODE_STYLES[mode]
    return pg.mkPen(style.colour, width=width or style.width, style=style.dash)


class LabOverlay(QObject):
    """Draws AppState.lab's search or chosen labelled query on `scatter`; follows the state by itself."""

    def __init__(self, scatter: ScatterView, state: AppState) -> None:
        super().__init__(scatter)
        self.scatter, self.state = scatter, state
        plot = scatter.plot
        self.lines: dict[str, pg.PlotDataItem] = {}
        for mode in MODE_STYLES:
            item = pg.PlotDataItem(connect="pairs")
            item.setZValue(OVERLAY_Z)
            plot.addItem(item, ignoreBounds=True)
            self.lines[mode] = item
        self.marks: dict[str, pg.ScatterPlotItem] = {}
        for kind, (_name, symbol, colour, size) in JUDGED_STYLES.items():
            item = pg.ScatterPlotItem(pxMode=True, size=size, symbol=symbol, brush=None, pen=pg.mkPen(colour, width=3))
            item.setZValue(OVERLAY_Z + 1)
            plot.addItem(item, ignoreBounds=True)
            self.marks[kind] = item
        self.query_mark = pg.ScatterPlotItem(pxMode=True, size=26, symbol="star", brush=pg.mkBrush("#ffd400"),
                                             pen=pg.mkPen("#111", width=1.5))  # fmt: skip
        self.query_mark.setZValue(OVERLAY_Z + 2)
        plot.addItem(self.query_mark, ignoreBounds=True)
        self.legend = pg.LegendItem(labelTextColor="#222", verSpacing=-6, pen=pg.mkPen("#bbb"))
        self.legend.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Maximum)
        self._stack_legends(scatter)
        self.drawn: dict[str, list[str]] = {}  # what is on the map now, by part (what a test or a person checks)
        self.query_placed = False  # the query is drawn at the centre of its hits, not at a point of its own
        self._lanes = None
        state.lab_changed.connect(self.redraw)
        state.projection_changed.connect(self.redraw)
        state.vectors_changed.connect(self.redraw)
        scatter.viewbox.sigRangeChanged.connect(self._range_changed)  # the lanes are screen pixels apart
        scatter.viewbox.sigResized.connect(self._range_changed)
        self.redraw()

    def _stack_legends(self, scatter: ScatterView) -> None:
        """Put this legend under the map's category legend, in the column beside the data: it never covers a
        point or the query, and the map loses no more width than the category legend already takes."""
        grid = scatter.plot.getPlotItem().layout
        column = QGraphicsWidget()
        stack = QGraphicsLinearLayout(Qt.Orientation.Vertical, column)
        stack.setContentsMargins(0, 0, 0, 0)
        grid.removeItem(scatter.legend)
        stack.addItem(scatter.legend)
        stack.addItem(self.legend)
        stack.addStretch(1)
        grid.addItem(column, 2, 3)
        grid.setAlignment(column, Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)

    def _range_changed(self, *_: object) -> None:
        """Zoom or pan: only the lines move (their lanes are screen pixels apart); marks and legend stay."""
        if self._lanes is not None:
            self._draw_lines(*self._lanes)

    # -- drawing -------------------------------------------------------------------------------------------------
    def clear(self) -> None:
        for item in self.lines.values():
            item.setData([], [])
        for item in self.marks.values():
            item.setData(pos=np.zeros((0, 2)))
        self.query_mark.setData(pos=np.zeros((0, 2)))
        self.legend.clear()
        self.legend.hide()
        self.drawn, self.query_placed = {}, False
        self._lanes: tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]] | None = None  # what the lines join

    def redraw(self, *_: object) -> None:
        self.clear()
        state, lab = self.state, self.state.lab
        xy = state.projection
        if xy is None or state.embedding is None or len(xy) != len(state.embedding.items):
            return
        if lab.focus is not None and lab.evaluation is not None:
            self._draw_focus(xy, lab.focus)
        elif lab.search is not None:
            search = lab.search
            hits = {mode: [hit.id for hit in search.hits[mode]] for mode in search.modes()}
            self._draw_query(xy, search.query_id, hits, search.text)

    def _rows(self, ids: Sequence[str]) -> np.ndarray:
        rows = (self.state.row_of(item_id) for item_id in ids)
        return np.array([row for row in rows if row is not None], dtype=np.int64)

    def _query_point(self, xy: np.ndarray, query_id: str | None, hits: dict[str, list[str]]) -> np.ndarray | None:
        """The query's own point, else the centre of its nearest hits (exact first: the truest ranking)."""
        row = self.state.row_of(query_id) if query_id else None
        if row is not None:
            return xy[row]
        for mode in ("exact", "dense", "hybrid", "bm25", COMPARE_B):
            rows = self._rows(hits.get(mode, [])[:PLACED_FROM])
            if len(rows):
                self.query_placed = True
                return xy[rows].mean(axis=0)
        return None

    def _draw_query(self, xy: np.ndarray, query_id: str | None, hits: dict[str, list[str]], text: str) -> None:
        point = self._query_point(xy, query_id, hits)
        if point is None:
            return
        self.query_mark.setData(pos=point.reshape(1, 2))
        self.legend.show()
        self.legend.addItem(self.query_mark, "query (at its nearest hits)" if self.query_placed else "query")
        self.drawn["query"] = [query_id or text]
        rows_of_mode = {mode: self._rows(ids) for mode, ids in hits.items()}
        rows_of_mode = {mode: rows for mode, rows in rows_of_mode.items() if len(rows)}
        self._lanes = (xy, point, rows_of_mode)
        self._draw_lines(*self._lanes)
        for mode, rows in rows_of_mode.items():
            self.legend.addItem(self.lines[mode], f"{MODE_NAMES[mode]} ({len(rows)})")
            self.drawn[mode] = [self.state.embedding.items[r].id for r in rows]

    def _draw_lines(self, xy: np.ndarray, point: np.ndarray, rows_of_mode: dict[str, np.ndarray]) -> None:
        for index, (mode, rows) in enumerate(rows_of_mode.items()):
            pairs = np.empty((2 * len(rows), 2), dtype=np.float32)
            pairs[0::2], pairs[1::2] = point, xy[rows]
            pairs += np.repeat(self._side_steps(point, xy[rows], index - (len(rows_of_mode) - 1) / 2), 2, axis=0)
            self.lines[mode].setData(pairs[:, 0], pairs[:, 1], pen=mode_pen(mode))

    def _side_steps(self, start: np.ndarray, ends: np.ndarray, lane: float) -> np.ndarray:
        """Offsets (data units) that move each line LANE_PX * `lane` screen pixels sideways: modes that found the
        same document draw parallel lines instead of one over another, so every mode's style stays visible."""
        pixel = np.asarray(self.scatter.viewbox.viewPixelSize(), dtype=np.float64)
        if lane == 0 or not np.all(np.isfinite(pixel)) or np.any(pixel <= 0):
            return np.zeros((len(ends), 2))
        direction = (ends - start) / pixel  # in screen pixels
        length = np.linalg.norm(direction, axis=1, keepdims=True)
        normal = np.column_stack([-direction[:, 1], direction[:, 0]]) / np.maximum(length, 1e-9)
        return normal * LANE_PX * lane * pixel

    def _draw_focus(self, xy: np.ndarray, query_id: str) -> None:
        """The chosen labelled query: the map mode's top 10 as lines, and every relevant document marked."""
        lab = self.state.lab
        evaluation = lab.evaluation
        mode = lab.settings.map_mode if lab.settings.map_mode in evaluation.runs else next(iter(evaluation.runs), None)
        if mode is None:
            return
        found = list(evaluation.runs[mode].get(query_id, []))[:10]
        self._draw_query(xy, query_id, {mode: found}, query_id)
        relevant = lab.labels.relevant(query_id) if lab.labels is not None else {}
        right, wrong, missed = judge(found, relevant)
        parts = {"found": right, "missed": missed, "wrong": wrong}
        for kind, ids in parts.items():
            rows = self._rows(ids)
            self.marks[kind].setData(pos=xy[rows] if len(rows) else np.zeros((0, 2)))
            self.legend.addItem(self.marks[kind], f"{JUDGED_STYLES[kind][0]} ({len(rows)})")
            self.drawn[kind] = [self.state.embedding.items[r].id for r in rows]
        if any(len(self._rows(ids)) < len(ids) for ids in parts.values()):
            self.drawn["not on the map"] = [i for ids in parts.values() for i in ids if self.state.row_of(i) is None]
