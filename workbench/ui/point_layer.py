"""PointLayer: points of a scatter drawn as one pyqtgraph ScatterPlotItem per style, without freezing the window.

pyqtgraph's ScatterPlotItem styles every point in a Python loop (~5 µs a point even when all share one style), so
100 000 points set in one call block the GUI for half a second. A layer is therefore filled CHUNK_POINTS points at
a time, for a slice of each event-loop turn that its owner chooses, until all are in, and then swapped in whole for
the layer it replaces. Size and outline are per style (a whole item), never per point, so they cost nothing extra.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QPen

CHUNK_POINTS = 2_500  # points added to a layer per step: ~12 ms of pyqtgraph's per-point styling

# symbol, brush, drawing layer (core.encoding's LAYER_*), size in pixels, pen (None: the PointLayer's)
Style = tuple[str, QBrush | None, int, float, QPen | None]
LAYER_Z_STEP = 0.01  # z added per drawing layer: queries stay above documents whatever is added later


class PointLayer:
    """Rows of the scatter drawn as one ScatterPlotItem per style, filled CHUNK_POINTS points at a time.

    `replace` only plans the chunks; `fill` adds them until a deadline, so the owner can spread a big layer over
    several event-loop turns (one item per style, not per chunk: every item costs ~1 ms of each repaint). New
    items stay out of the scene, and the layer they replace stays on screen, until the last chunk is in: the
    person never sees a half-drawn layer, and no repaint is spent on one (an item added to the scene, even
    hidden, repaints the whole plot). Items skip pyqtgraph's bounds bookkeeping: ScatterView fits the view from
    the positions itself.
    """

    def __init__(self, plot: pg.PlotWidget, z: float, pen: QPen | None = None) -> None:
        self.plot, self.z = plot, z
        self.pen = pen if pen is not None else pg.mkPen(None)
        self.items: list[pg.ScatterPlotItem] = []
        self._shown = self.items  # what is on screen; another list while `items` is being built
        self._pending: deque[tuple[int, np.ndarray, Style]] = deque()  # style group, positions, look
        self._groups: list[int] = []  # the style group of each item being built
        self._opacity = 1.0

    def replace(self, xy: np.ndarray, rows: np.ndarray, styles: np.ndarray, table: Sequence[Style]):
        """Draw `xy[rows]`; `styles[i]` indexes `table` (symbol, brush, layer, size, pen) for `rows[i]`.

        Lower layers are drawn first and sit lower in z (cluster noise under everything, queries over everything);
        within a layer bigger groups go first, so small categories stay visible on top of big ones.
        """
        if self.items is not self._shown:  # a replacement still being built is dropped; the shown one stays
            self._remove(self.items)
        self.items, self._groups, self._pending = [], [], deque()
        rows = np.asarray(rows, dtype=np.int64)
        styles = np.asarray(styles, dtype=np.int64)
        if len(rows):
            order = np.argsort(styles, kind="stable")
            codes, starts, counts = np.unique(styles[order], return_index=True, return_counts=True)
            for group in sorted(range(len(codes)), key=lambda g: (table[codes[g]][2], -counts[g])):
                members = rows[order[starts[group] : starts[group] + counts[group]]]
                style = table[codes[group]]
                for chunk in range(0, len(members), CHUNK_POINTS):
                    self._pending.append((group, xy[members[chunk : chunk + CHUNK_POINTS]], style))
        if not self._pending:
            self._show()  # nothing to draw: the old layer goes at once

    def fill(self, deadline: float) -> bool:
        """Create pending chunks until `deadline` (perf_counter); True when the whole layer is on screen.

        A layer built over several turns is shown in a turn of its own, after the turn that made its last chunk,
        because showing it repaints every point; a layer built in one call is shown at once.
        """
        if not self._pending and self._shown is not self.items:
            self._show()
            return True
        built_before = bool(self.items)
        while self._pending and time.perf_counter() < deadline:
            group, positions, (symbol, brush, layer, size, pen) = self._pending.popleft()
            if self._groups and self._groups[-1] == group:
                self.items[-1].addPoints(pos=positions)
                continue
            pen = self.pen if pen is None else pen
            item = pg.ScatterPlotItem(pxMode=True, size=size, pen=pen, brush=brush, symbol=symbol)
            item.setAcceptedMouseButtons(Qt.MouseButton.NoButton)  # clicks go through row_at_scene_pos instead
            item.setZValue(self.z + LAYER_Z_STEP * layer)
            item.setOpacity(self._opacity)
            item.setData(pos=positions)
            self.items.append(item)
            self._groups.append(group)
        if not self._pending and not built_before:
            self._show()
        return self._shown is self.items

    def _show(self) -> None:
        self._remove(self._shown)
        self._shown = self.items
        for item in self.items:
            self.plot.addItem(item, ignoreBounds=True)

    @property
    def done(self) -> bool:
        return self._shown is self.items

    def pending_points(self) -> int:
        return sum(len(chunk[1]) for chunk in self._pending)

    def point_count(self) -> int:
        """Points on screen now (a replacement still being built is not counted)."""
        return sum(len(item.data) for item in self._shown)

    def positions(self) -> np.ndarray:
        if not self._shown:
            return np.zeros((0, 2))
        return np.concatenate([np.stack([item.data["x"], item.data["y"]], axis=1) for item in self._shown])

    def set_opacity(self, opacity: float) -> None:
        self._opacity = opacity
        for item in self._all():
            item.setOpacity(opacity)

    def clear(self) -> None:
        self._pending.clear()
        self._remove(self._all())
        self.items = self._shown = []

    def _all(self) -> list[pg.ScatterPlotItem]:
        return self.items if self._shown is self.items else self.items + self._shown

    def _remove(self, items: list[pg.ScatterPlotItem]) -> None:
        for item in items:
            if item.scene() is not None:
                self.plot.removeItem(item)
