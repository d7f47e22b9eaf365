"""Similarity view: cosine heatmaps (documents × documents, queries × documents, selection × selection).

The matrix and its ordering are made by the pipeline (core.heatmap on a worker) into AppState.heatmap; this view
asks for it when it is on screen (`Pipeline.ensure_heatmap`) and draws it. Mode, order, colour range and
threshold are AppState's view settings, shown and set by the controls. Above the core's full-matrix limit it
shows the mean similarity between groups (clusters when they exist, else contiguous blocks) and says so, so a
big corpus never allocates an n × n matrix. For queries × documents a ranked list (RankedDocuments) under the
heatmap gives, for the chosen query, the documents by score.

Drawing stays cheap at any size: pyqtgraph maps every cell of an image through the colour table on the GUI
thread (60 ms for 5 000 × 5 000), and a screen shows ~1 000 cells a side anyway. So a matrix wider than
MAX_DRAWN_SIDE is drawn from an overview made on the worker (block means; block maxima while a threshold is on,
so a cell above it never vanishes into a mean), until the person zooms in far enough to see cells; then just
the visible part (plus a margin) is drawn at full resolution. Each axis has its own block size, so 20 queries
× 100 000 documents keeps its 20 rows.

Ordered by groups (kind, a metadata column, cluster labels), each axis shows its bands as the core made them
(HeatmapBands: strips, names and sizes, lines between groups), each strip in its group's colour on the map
(AppState.encoding for that grouping), and the note says how the groups are ordered.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, QTimer
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QSlider,
    QSplitter,
    QStackedWidget,
    QTextBrowser,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from workbench.core.exports import export_matrix
from workbench.core.heatmap import CLUSTER_LABELS, HeatmapData, region_to_draw, visible_cells
from workbench.core.items import Item
from workbench.core.similarity import Band
from workbench.core.view_settings import HEATMAP_FIELDS
from workbench.ui.panels.heatmap_bands import HeatmapBands
from workbench.ui.panels.ranked_documents import RankedDocuments
from workbench.ui.pipeline import HEATMAP_TASK, Pipeline
from workbench.ui.scatter import shorten
from workbench.ui.state import AppState
from workbench.ui.tasks import TaskRunner
from workbench.ui.widgets import MessageStrip, OnScreenRefresher, StaleNote, flow_row, placeholder_label, synced

NO_EMBEDDING = "Similarity heatmaps come with embeddings: press Embed first."
MODES = (("documents × documents", "docs"), ("queries × documents", "queries"), ("selection × selection", "selection"))
MAX_LABELLED = 40
MAX_LABELLED_COLUMNS = 12  # horizontal labels overlap beyond this
NO_COLOUR = "#888888"  # a band whose items are not in the embedding any more


class SimilarityView(QWidget):
    def __init__(self, state: AppState, runner: TaskRunner, pipeline: Pipeline, parent: QWidget | None = None):
        super().__init__(parent)
        self.state, self.runner, self.pipeline = state, runner, pipeline
        self.data: HeatmapData | None = None
        self.hovered_cell: tuple[int, int] | None = None
        self.on_screen = OnScreenRefresher(self, self.refresh)

        self.mode = QComboBox()
        for label, key in MODES:
            self.mode.addItem(label, key)
        self.order = QComboBox()
        self.low = QDoubleSpinBox(minimum=-1.0, maximum=1.0, singleStep=0.05, decimals=2)
        self.high = QDoubleSpinBox(minimum=-1.0, maximum=1.0, singleStep=0.05, decimals=2)
        self.threshold = QSlider(Qt.Orientation.Horizontal, minimum=-100, maximum=100)
        self.threshold.setToolTip("grey out cells below this similarity")
        self.threshold_label = QLabel("threshold off")
        self.export = QToolButton(text="Export ▾", popupMode=QToolButton.ToolButtonPopupMode.InstantPopup)
        from PySide6.QtWidgets import QMenu

        menu = QMenu(self.export)
        menu.addAction("Matrix as CSV…", lambda: self.export_matrix(".csv"))
        menu.addAction("Matrix as .npy…", lambda: self.export_matrix(".npy"))
        menu.addAction("Picture as PNG…", lambda: self.export_picture())
        self.export.setMenu(menu)
        for combo, letters in ((self.mode, 20), (self.order, 14)):  # the list shows whole names; the box may cut
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(letters)
            combo.currentTextChanged.connect(combo.setToolTip)
        range_box = QWidget()  # low and high wrap together
        range_layout = QHBoxLayout(range_box)
        range_layout.setContentsMargins(0, 0, 0, 0)
        for widget in (QLabel("colour range"), self.low, self.high):
            range_layout.addWidget(widget)
        self.threshold.setMinimumWidth(80)
        controls = flow_row(self.mode, ("order", self.order), range_box, self.threshold, self.threshold_label,
                            self.export)  # fmt: skip

        self.plot = pg.PlotWidget(background="w")
        self.plot.setAspectLocked(False)
        self.plot.invertY(True)
        self.plot.setMenuEnabled(False)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.plot.addItem(self.image)
        self.bands = HeatmapBands(self.plot)
        self.colour_bar = pg.ColorBarItem(values=(0.0, 1.0), colorMap=pg.colormap.get("viridis"), limits=(-1, 1))
        self.colour_bar.setImageItem(self.image, insert_in=self.plot.getPlotItem())
        self.colour_bar.sigLevelsChangeFinished.connect(self._levels_from_bar)
        self.ranked_list = RankedDocuments(state)
        self.cell_detail = QTextBrowser()
        self.cell_detail.setPlaceholderText("Click a cell to read both texts in full.")
        self.cell_detail.setMinimumHeight(48)
        # One column, top to bottom: the heatmap, the ranked documents (queries × documents only: a handful of
        # query rows need little height, and the ranked list wants the dock's whole width for its columns), then
        # the clicked cell's texts. Drag the handles to share the height differently.
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.plot)
        splitter.addWidget(self.ranked_list)
        splitter.addWidget(self.cell_detail)
        splitter.setSizes([420, 300, 90])
        splitter.setCollapsible(0, False)
        content = QWidget()
        content_layout = QVBoxLayout(content)
        content_layout.setContentsMargins(0, 0, 0, 0)
        content_layout.addWidget(splitter, 1)
        self.placeholder = placeholder_label(NO_EMBEDDING)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.placeholder)
        self.stack.addWidget(content)
        self.hover_label = QLabel()
        self.hover_label.setWordWrap(True)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color:#555;")
        self.messages = MessageStrip()
        self.stale = StaleNote(state, self)
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addWidget(self.stale)
        layout.addWidget(self.messages)
        layout.addWidget(self.stack, 1)
        layout.addWidget(self.note)
        layout.addWidget(self.hover_label)

        self._threshold_timer = QTimer(self, singleShot=True, interval=80)
        self._threshold_timer.timeout.connect(self._draw_image)
        self._drawn: tuple[bool, QRectF] | None = None  # (overview?, region of the matrix) now on screen
        self._range_timer = QTimer(self, singleShot=True, interval=60)
        self._range_timer.timeout.connect(self._draw_if_region_changed)
        self.plot.getViewBox().sigRangeChanged.connect(lambda *_: self._range_timer.start())
        self.plot.getViewBox().sigResized.connect(lambda *_: self._range_timer.start())
        self._hover_timer = QTimer(self, singleShot=True, interval=30)
        self._hover_timer.timeout.connect(self._hover_now)
        self._pending_hover: QPointF | None = None
        self._show_view_settings(HEATMAP_FIELDS | {"heatmap_low", "heatmap_high", "heatmap_threshold"})
        state.vectors_changed.connect(self._on_vectors_changed)
        state.selection_changed.connect(self._on_selection_changed)
        state.clusters_changed.connect(self._fill_orders)
        state.clusters_changed.connect(self.on_screen.request)
        state.heatmap_changed.connect(self._show)
        pipeline.runner.task_finished.connect(self._task_finished)
        state.encoding_ready.connect(self._encoding_ready)
        state.view_changed.connect(self._show_view_settings)
        self.messages.follow(pipeline.notice, "heatmap")
        self.mode.currentIndexChanged.connect(lambda: state.set_view(heatmap_mode=self.mode.currentData()))
        self.order.currentIndexChanged.connect(lambda: state.set_view(heatmap_order=self.order.currentData()))
        self.low.valueChanged.connect(lambda value: state.set_view(heatmap_low=round(value, 2)))
        self.high.valueChanged.connect(lambda value: state.set_view(heatmap_high=round(value, 2)))
        self.threshold.valueChanged.connect(self._threshold_moved)
        self.plot.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.plot.scene().sigMouseClicked.connect(self._on_clicked)
        self._fill_orders()

    # -- view settings -----------------------------------------------------------------------------------------
    def _show_view_settings(self, changed: frozenset[str]) -> None:
        """Show AppState's heatmap settings without sending them back; recompute or redraw what they change."""
        view = self.state.view
        with synced(self.mode, self.order, self.low, self.high, self.threshold):
            self.mode.setCurrentIndex(max(0, self.mode.findData(view.heatmap_mode)))
            self.order.setCurrentIndex(max(0, self.order.findData(view.heatmap_order)))
            self.low.setValue(view.heatmap_low)
            self.high.setValue(view.heatmap_high)
            threshold = view.heatmap_threshold
            self.threshold.setValue(-100 if threshold is None else round(threshold * 100))
        self.threshold_label.setText("threshold off" if threshold is None else f"below {threshold:.2f} greyed")
        if changed & HEATMAP_FIELDS:
            self.on_screen.request()
        if changed & {"heatmap_low", "heatmap_high"} and view.heatmap_low < view.heatmap_high:
            self._draw_image()
        if "heatmap_threshold" in changed:
            self._threshold_timer.start()

    def _threshold_moved(self, value: int) -> None:
        self.state.set_view(heatmap_threshold=None if value == -100 else value / 100)

    # -- computing ---------------------------------------------------------------------------------------------
    def _fill_orders(self) -> None:
        with synced(self.order):
            self.order.clear()
            self.order.addItem("input order", "input")
            self.order.addItem("by kind", "kind")
            self.order.addItem("by clustering (optimal leaf order)", "cluster")
            if self.state.clusters is not None:
                self.order.addItem("by cluster labels", CLUSTER_LABELS)
            for key in self.state.embedding.metadata_keys if self.state.embedding else []:
                self.order.addItem(f"by {key}", f"meta:{key}")
            self.order.setCurrentIndex(max(0, self.order.findData(self.state.view.heatmap_order)))

    def _on_vectors_changed(self) -> None:
        """Ask for the matrix when on screen; a hidden tab waits for its first paint (no matrix nobody looks at)."""
        self._fill_orders()
        self.on_screen.request()

    def _on_selection_changed(self) -> None:
        if self.state.view.heatmap_mode == "selection":
            self.on_screen.request()

    def refresh(self) -> None:
        """Ask the pipeline for the matrix of the chosen mode and order (it computes only what it lacks)."""
        self.on_screen.stale = False
        self.pipeline.ensure_heatmap()

    # -- drawing -----------------------------------------------------------------------------------------------
    def _show(self) -> None:
        data = self.data = self.state.heatmap
        if data is None:
            self.image.clear()
            self._drawn = None
            self._draw_bands()
            self.ranked_list.show_for(None)
            self.placeholder.setText(self._nothing_shown_because())
            self.stack.setCurrentWidget(self.placeholder)
            return
        self.stack.setCurrentIndex(1)
        self.note.setText(" ".join(text for text in (data.order_note, data.note) if text))
        rows, columns = data.matrix.shape
        left, top = HeatmapBands.margin(data)
        self.plot.getViewBox().setRange(xRange=(left, columns), yRange=(top, rows), padding=0.02)
        self._draw_image()
        self._draw_bands()
        self._label_axes()
        self.ranked_list.show_for(data if self.state.view.heatmap_mode == "queries" else None)

    def _task_finished(self, key: str) -> None:
        if key == HEATMAP_TASK and self.data is None:  # it failed or was cancelled: no longer "working out"
            self.placeholder.setText(self._nothing_shown_because())

    def _nothing_shown_because(self) -> str:
        if self.state.embedding is None:
            return NO_EMBEDDING
        if self.pipeline.runner.is_running(HEATMAP_TASK):
            return "Working out the similarity matrix…"
        if self.state.view.heatmap_mode == "selection":
            return "Select points on the map (Rectangle or Lasso, or click): their similarities show here."
        return "No matrix to show: the message above says why."

    def _draw_image(self) -> None:
        """Draw what the view shows: the overview when zoomed out, else the visible cells (with a margin)."""
        if self.data is None:
            return
        wanted = self._wanted_region()
        if wanted is None:  # the view shows no part of the matrix: keep what is drawn
            return
        use_overview, region = wanted
        view = self.state.view
        thresholded = view.heatmap_threshold is not None
        if use_overview:
            image = self.data.overview_max if thresholded else self.data.overview
        else:
            top, left = int(region.top()), int(region.left())
            image = self.data.matrix[top : top + int(region.height()), left : left + int(region.width())]
        if thresholded:
            image = np.where(image >= view.heatmap_threshold, image, np.nan).astype(np.float32)
        levels = (view.heatmap_low, view.heatmap_high)
        self.image.setImage(image, levels=levels, autoLevels=False)
        self.image.setRect(region)
        with synced(self.colour_bar):
            self.colour_bar.setLevels(levels)
        self._drawn = (use_overview, region)

    def _visible_cells(self) -> QRectF | None:
        assert self.data is not None
        cells = visible_cells(self.data.matrix.shape, *self.plot.getViewBox().viewRange())
        return None if cells is None else QRectF(*cells)

    def _wanted_region(self) -> tuple[bool, QRectF] | None:
        assert self.data is not None
        wanted = region_to_draw(self.data, *self.plot.getViewBox().viewRange())
        return None if wanted is None else (wanted[0], QRectF(*wanted[1]))

    def _draw_if_region_changed(self) -> None:
        """After a pan or zoom: redraw only when the overview/detail choice changes or the view leaves the region."""
        if self.data is not None and self.data.column_bands:
            self._label_axes()  # bottom band names are elided to their width on screen
        if self.data is None or self.data.overview is None or self._drawn is None:
            return
        wanted, visible = self._wanted_region(), self._visible_cells()
        if wanted is None or visible is None:
            return
        drawn_overview, drawn = self._drawn
        if wanted[0] != drawn_overview or (not drawn_overview and not drawn.contains(visible)):
            self._draw_image()

    def _encoding_ready(self, colour_by: str) -> None:
        if self.data is not None and self.data.group_by == colour_by:
            self._draw_bands()

    def _draw_bands(self) -> None:
        """The groups' strips and boundaries, each strip in its group's colour on the map."""
        data = self.data
        if data is None or not data.row_bands:
            self.bands.show(None, [], [])
            return
        encoding = self.state.encoding_if_ready(data.group_by)  # None while a worker makes it: grey until then

        def colours(bands: list[Band], items: list[Item]) -> list[str]:  # a band's colour: its first item's
            rows = [self.state.row_of(items[band.start].id) for band in bands]
            if encoding is None:
                return [NO_COLOUR] * len(rows)
            return [NO_COLOUR if r is None else encoding.colours[encoding.categories[r]] for r in rows]

        self.bands.show(data, colours(data.row_bands, data.row_items), colours(data.column_bands, data.column_items))

    def _label_axes(self) -> None:
        data = self.data
        assert data is not None
        left, bottom = self.plot.getAxis("left"), self.plot.getAxis("bottom")
        if self.bands.label_axes():
            return
        if data.block is not None:
            rows, cols = data.block.row_labels, data.block.column_labels
        else:  # only axes short enough to label: wrapping 5 000 texts nobody sees costs a frozen moment
            rows = [shorten(i.text, 24, 24) for i in data.row_items] if len(data.row_items) <= MAX_LABELLED else []
            cols = (
                [shorten(i.text, 12, 12) for i in data.column_items]
                if len(data.column_items) <= MAX_LABELLED_COLUMNS
                else []
            )
        left.setTicks([[(r + 0.5, t) for r, t in enumerate(rows)]] if len(rows) <= MAX_LABELLED else [[]])
        bottom.setTicks([[(c + 0.5, t) for c, t in enumerate(cols)]] if len(cols) <= MAX_LABELLED_COLUMNS else [[]])

    def _levels_from_bar(self) -> None:
        low, high = self.colour_bar.levels()
        self.state.set_view(heatmap_low=round(float(low), 2), heatmap_high=round(float(high), 2))

    # -- hover and click ---------------------------------------------------------------------------------------
    def cell_at(self, scene_pos: QPointF) -> tuple[int, int] | None:
        if self.data is None:
            return None
        point = self.plot.getViewBox().mapSceneToView(scene_pos)
        row, column = int(np.floor(point.y())), int(np.floor(point.x()))
        rows, columns = self.data.matrix.shape
        return (row, column) if 0 <= row < rows and 0 <= column < columns else None

    def describe_cell(self, row: int, column: int, limit: int = 90) -> str:
        data = self.data
        assert data is not None
        score = float(data.matrix[row, column])
        if data.block is not None:
            return (
                f"{data.block.row_labels[row]} ({data.block.row_sizes[row]} items) × {data.block.column_labels[column]}"
                f" ({data.block.column_sizes[column]} items): mean similarity {score:.3f}"
            )
        a, b = data.row_items[row], data.column_items[column]
        return f"{score:.3f}  ·  “{shorten(a.text, limit, 1000)}”  ↔  “{shorten(b.text, limit, 1000)}”"

    def _on_mouse_moved(self, scene_pos: QPointF) -> None:
        self._pending_hover = QPointF(scene_pos)
        if not self._hover_timer.isActive():
            self._hover_timer.start()

    def _hover_now(self) -> None:
        cell = self.cell_at(self._pending_hover) if self._pending_hover is not None else None
        self.hovered_cell = cell
        if cell is None:
            pending = self._pending_hover
            point = None if pending is None else self.plot.getViewBox().mapSceneToView(pending)
            band = self.bands.band_at(point) if point is not None else None
            self.hover_label.setText("" if band is None else f"{band.name}: {band.size} items")
            self.plot.getAxis("bottom").setToolTip("" if band is None else f"{band.name} ({band.size})")  # a cut name
            return
        self.hover_label.setText(self.describe_cell(*cell))

    def _on_clicked(self, event) -> None:
        cell = self.cell_at(event.scenePos())
        if cell is None or self.data is None:
            return
        if self.data.block is not None:
            self.cell_detail.setPlainText(self.describe_cell(*cell))
            return
        a, b = self.data.row_items[cell[0]], self.data.column_items[cell[1]]
        score = float(self.data.matrix[cell])
        self.cell_detail.setPlainText(f"similarity {score:.4f}\n\n[{a.kind}] {a.text}\n\n[{b.kind}] {b.text}")

    # -- exports -----------------------------------------------------------------------------------------------
    def export_matrix(self, suffix: str, path: str | None = None) -> Path | None:
        if self.data is None:
            self.messages.show_warning("Nothing to export yet.")
            return None
        if suffix == ".csv" and self.data.matrix.size > 4_000_000:
            self.messages.show_warning("That matrix is too big for a readable CSV; export it as .npy.")
            return None
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, "Export matrix", f"similarity{suffix}", f"*{suffix}")
            if not path:
                return None
        data, target = self.data, Path(path)
        if data.block is None:
            rows, columns = [i.id for i in data.row_items], [i.id for i in data.column_items]
        else:
            rows, columns = data.block.row_labels, data.block.column_labels
        self.runner.start("similarity-export", "Exporting matrix",
                          lambda progress, cancelled: export_matrix(target, data.matrix, rows, columns, cancelled),
                          on_done=lambda p: self.state.status_message.emit(f"Saved {p}."),
                          on_error=self.messages.show_error)  # fmt: skip
        return target

    def export_picture(self, path: str | None = None) -> Path | None:
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, "Export picture", "similarity.png", "*.png")
            if not path:
                return None
        self.plot.grab().save(str(path))
        return Path(path)
