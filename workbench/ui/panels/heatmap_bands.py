"""HeatmapBands: the groups of a heatmap ordered by kind, a metadata column or cluster labels, drawn on its plot.

The core (core.heatmap) says where each group starts and ends along each axis, its name and size; this draws
them: a strip beside the matrix in each group's colour on the map, the name and size on the axis at the middle
of the band, and thin white lines where one group ends (clear on every viridis colour). Names along the bottom
are cut to the width their band has on screen, so they never overlap; `label_axes` again after a zoom or resize.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFontMetrics
from PySide6.QtWidgets import QGraphicsRectItem

from workbench.core.heatmap import HeatmapData
from workbench.core.similarity import Band
from workbench.ui.scatter import shorten

STRIP, STRIP_GAP = 0.035, 0.008  # a strip's width and its gap to the matrix, as fractions of the axis it faces
BOUNDARY_PEN = (255, 255, 255, 230)
NAME_CHARACTERS = 24
ROW_TEXTS_MAX = 40  # one band over at most this many rows: each row is named by its own text instead
MIN_SHOWN_CHARACTERS = 3  # a bottom name cut shorter than this is left out (the strip's tooltip and hover say it)


def band_label(band: Band) -> str:
    """`cooking (8)`: a group's name, cut to NAME_CHARACTERS, and its size."""
    return f"{shorten(band.name, NAME_CHARACTERS, NAME_CHARACTERS)} ({band.size})"


class HeatmapBands:
    """Strips, axis labels and boundary lines for the bands of the HeatmapData a plot shows."""

    def __init__(self, plot: pg.PlotWidget) -> None:
        self.plot = plot
        self.boundaries = pg.PlotDataItem(connect="pairs", pen=pg.mkPen(BOUNDARY_PEN, width=1))
        self.boundaries.setZValue(5)
        plot.addItem(self.boundaries, ignoreBounds=True)
        self.strips: list[tuple[QGraphicsRectItem, str, Band]] = []  # (item, "left" or "bottom", its band)
        self.axis_labels: dict[str, list[tuple[float, str]]] = {"left": [], "bottom": []}  # as given to the axes
        self.data: HeatmapData | None = None

    @staticmethod
    def margin(data: HeatmapData) -> tuple[float, float]:
        """How far left of and above the matrix (in cells) the strips reach; (0, 0) without bands."""
        rows, columns = data.matrix.shape
        return (-(STRIP + STRIP_GAP) * columns, -(STRIP + STRIP_GAP) * rows) if data.row_bands else (0.0, 0.0)

    def show(self, data: HeatmapData | None, row_colours: list[str], column_colours: list[str]) -> None:
        """Draw the bands of `data` (none: clear), each axis's strips in the given colours, one per band."""
        for item, _, _ in self.strips:
            self.plot.removeItem(item)
        self.strips = []
        self.data = data if data is not None and data.row_bands else None
        if self.data is None:
            self.boundaries.setData([], [])
            return
        rows, columns = self.data.matrix.shape
        x0, y0 = self.margin(self.data)
        segments: list[tuple[float, float]] = []
        for band, colour in zip(self.data.row_bands, row_colours, strict=True):
            self._add_strip("left", band, colour, QRectF(x0, band.start, STRIP * columns, band.size))
            if band.start:
                segments += [(x0, band.start), (columns, band.start)]
        for band, colour in zip(self.data.column_bands, column_colours, strict=True):
            self._add_strip("bottom", band, colour, QRectF(band.start, y0, band.size, STRIP * rows))
            if band.start:
                segments += [(band.start, y0), (band.start, rows)]
        xy = np.array(segments, dtype=np.float64).reshape(-1, 2)
        self.boundaries.setData(xy[:, 0], xy[:, 1])

    def _add_strip(self, axis: str, band: Band, colour: str, rect: QRectF) -> None:
        item = QGraphicsRectItem(rect)
        item.setBrush(pg.mkBrush(QColor(colour)))
        item.setPen(pg.mkPen(None))
        item.setToolTip(band_label(band))
        self.plot.addItem(item, ignoreBounds=True)
        self.strips.append((item, axis, band))

    def band_at(self, point: QPointF) -> Band | None:
        """The group whose strip holds `point` (view coordinates), or None."""
        return next((band for item, _, band in self.strips if item.rect().contains(point)), None)

    def label_axes(self) -> bool:
        """Name each band on its axis (left: every band a line high; bottom: cut to its width); False: no bands."""
        if self.data is None:
            return False
        left, bottom = self.plot.getAxis("left"), self.plot.getAxis("bottom")
        pixel_width, pixel_height = self.plot.getViewBox().viewPixelSize()
        per_row, per_column = 1.0 / max(pixel_height, 1e-9), 1.0 / max(pixel_width, 1e-9)
        metrics = QFontMetrics(bottom.style["tickFont"] or bottom.font())
        rows = [
            (band.start + band.size / 2, band_label(band))
            for band in self.data.row_bands
            if band.size * per_row >= 0.8 * metrics.height() or len(self.data.row_bands) == 1
        ]
        if len(self.data.row_bands) == 1 and len(self.data.row_items) <= ROW_TEXTS_MAX:
            # one group ("no topic (8)": typed queries without the column) names nothing: name the rows instead
            rows = [
                (r + 0.5, shorten(item.text, NAME_CHARACTERS, NAME_CHARACTERS))
                for r, item in enumerate(self.data.row_items)
            ]
        columns = []
        for band in self.data.column_bands:
            room = int(band.size * per_column) - 6
            text = band_label(band)
            if metrics.horizontalAdvance(text) > room:
                text = metrics.elidedText(band.name, Qt.TextElideMode.ElideRight, room)
            if len(text.rstrip("…")) >= MIN_SHOWN_CHARACTERS and metrics.horizontalAdvance(text) <= room:
                columns.append((band.start + band.size / 2, text))
        self.axis_labels = {"left": rows, "bottom": columns}
        left.setTicks([rows])
        bottom.setTicks([columns])
        return True
