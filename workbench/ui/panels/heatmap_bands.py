"""HeatmapBands: the groups of a heatmap ordered by kind, a metadata column or cluster labels, drawn on its plot.

The core (core.heatmap) says where each group starts and ends along each axis, its name and size; this draws
them: a strip beside the matrix in each group's colour on the map, the name and size on the axis at the middle
of the band, and thin white lines where one group ends (clear on every viridis colour); `label_axes` again after a
zoom or resize.

Names along the bottom are read across, whole: a band is often narrower than its name ("astronomy (8)" under a
68-pixel band on a laptop), so a name that would run into its left neighbour's goes one line lower (up to
BOTTOM_LINES lines, the axis as tall as the lines used), like the staggered labels of a printed chart. Only when no
line has room is the name cut in the middle ("progr…ming"), and the whole name is on hover (the strip's tooltip and
the view's hover line, over the strip or the name). Rotated names would need a hand-drawn axis and are slower to read.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

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
BOTTOM_LINES = 3  # staggered lines of names along the bottom before a name is cut
NAME_GAP = 8  # pixels between two names on one line


def band_label(band: Band) -> str:
    """`cooking (8)`: a group's name, cut to NAME_CHARACTERS, and its size."""
    return f"{shorten(band.name, NAME_CHARACTERS, NAME_CHARACTERS)} ({band.size})"


def staggered_names(
    bands: Sequence[tuple[float, float]],
    names: Sequence[tuple[str, str]],
    width: Callable[[str], float],
    elided: Callable[[str, float], str],
    span: tuple[float, float],
    lines: int = BOTTOM_LINES,
) -> list[tuple[int, float, str] | None]:
    """For each band (left and right edge in pixels, left to right): (line, shift, text) of its name, or None.

    `names` holds each band's (label with size, bare name). The label is taken where it fits, else the bare name,
    on the first line where it keeps NAME_GAP from the name before it on that line and stays inside `span`; its
    centre is the band's middle, moved `shift` pixels (within the band) only to keep a name at the plot's edge
    inside. Where neither fits on any line, the bare name is cut in the middle (`elided(text, room)`) on the line
    with the most room; a name cut below MIN_SHOWN_CHARACTERS is left out.
    """
    ends = [-math.inf] * lines  # where each line's last name ends
    placed: list[tuple[int, float, str] | None] = []

    def centre_on(line: int, band: tuple[float, float], text_width: float) -> float | None:
        """Where the name goes on `line`: under the band's middle, moved only to stay inside the span."""
        low, high = span[0] + text_width / 2, span[1] - text_width / 2
        centre = min(max((band[0] + band[1]) / 2, low), high)
        clear = centre - text_width / 2 >= ends[line] + NAME_GAP
        return centre if clear and low <= high and band[0] <= centre <= band[1] else None

    for band, candidates in zip(bands, names, strict=True):
        if band[1] < span[0] or band[0] > span[1]:  # off screen (zoomed in): nothing to measure
            placed.append(None)
            continue
        found = None
        for text in dict.fromkeys(candidates):
            text_width = width(text)
            spot = next(((i, c) for i in range(lines) if (c := centre_on(i, band, text_width)) is not None), None)
            if spot is not None:
                found = (*spot, text, text_width)
                break
        if found is None:  # the bare name, cut to the room on the freest line around the band's middle
            line = min(range(lines), key=lambda i: ends[i])
            middle = min(max((band[0] + band[1]) / 2, span[0]), span[1])
            room = 2 * min(middle - max(span[0], ends[line] + NAME_GAP), span[1] - middle)
            text = elided(candidates[1], room) if room > 0 else ""
            centre = centre_on(line, band, width(text)) if text else None
            if len(text.replace("…", "")) >= MIN_SHOWN_CHARACTERS and centre is not None:
                found = (line, centre, text, width(text))
        if found is None:
            placed.append(None)
            continue
        line, centre, text, text_width = found
        ends[line] = centre + text_width / 2
        placed.append((line, centre - (band[0] + band[1]) / 2, text))
    return placed


class HeatmapBands:
    """Strips, axis labels and boundary lines for the bands of the HeatmapData a plot shows."""

    def __init__(self, plot: pg.PlotWidget) -> None:
        self.plot = plot
        self.boundaries = pg.PlotDataItem(connect="pairs", pen=pg.mkPen(BOUNDARY_PEN, width=1))
        self.boundaries.setZValue(5)
        plot.addItem(self.boundaries, ignoreBounds=True)
        self.strips: list[tuple[QGraphicsRectItem, str, Band]] = []  # (item, "left" or "bottom", its band)
        self.axis_labels: dict[str, list[tuple[float, str]]] = {"left": [], "bottom": []}  # (position, name shown)
        self.bottom_lines: list[int] = []  # the line each bottom name is on (0: next to the axis)
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
        """The group whose strip holds `point` (view coordinates), or whose name below the matrix it is over."""
        found = next((band for item, _, band in self.strips if item.rect().contains(point)), None)
        if found is None and self.data is not None and point.y() > self.data.matrix.shape[0]:
            found = next((b for b in self.data.column_bands if b.start <= point.x() < b.start + b.size), None)
        return found

    def label_axes(self) -> bool:
        """Name each band on its axis (left: every band a line high; bottom: staggered); False: no bands."""
        left, bottom = self.plot.getAxis("left"), self.plot.getAxis("bottom")
        if self.data is None:
            bottom.setHeight(None)  # the plain axis takes its own height again
            return False
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
        (x_min, x_max), _ = self.plot.getViewBox().viewRange()
        bands = self.data.column_bands
        placed = staggered_names(
            [((band.start - x_min) * per_column, (band.start + band.size - x_min) * per_column) for band in bands],
            [(band_label(band), shorten(band.name, NAME_CHARACTERS, NAME_CHARACTERS)) for band in bands],
            metrics.horizontalAdvance,
            lambda text, room: metrics.elidedText(text, Qt.TextElideMode.ElideMiddle, int(room)),
            (2.0, (x_max - x_min) * per_column - 2.0),  # pyqtgraph drops a name that leaves the axis by a hair
        )
        shown = [(band, spot) for band, spot in zip(bands, placed, strict=True) if spot is not None]
        columns = [(band.start + band.size / 2 + shift / per_column, text) for band, (_, shift, text) in shown]
        self.bottom_lines = [line for _, (line, _, _) in shown]
        self.axis_labels = {"left": rows, "bottom": columns}
        lines = max(self.bottom_lines, default=0) + 1
        style = bottom.style
        bottom.setHeight(lines * metrics.lineSpacing() + style["tickTextOffset"][1] + max(0, style["tickLength"]) + 2)
        left.setTicks([rows])
        # a name one line lower is drawn after a blank line: pyqtgraph draws a tick's text as one block
        bottom.setTicks([[(x, "\n" * line + text) for (x, text), line in zip(columns, self.bottom_lines, strict=True)]])
        return True
