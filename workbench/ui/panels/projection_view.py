"""Projection view: documents and queries in one 2-D map to hover, select, search and colour.

The view only draws and sends intents. The layout (PCA at once, then UMAP) and each query's nearest documents
are made by the pipeline into AppState; the layout parameters, the colour-by choice and the query-line k are
AppState's view settings, which the controls show and set (and follow when a workspace or another panel changes
them). How each item is drawn comes from AppState.encoding(), the one visual encoding every view shares.
"""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QPainter
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QSpinBox,
    QSplitter,
    QStackedWidget,
    QTextBrowser,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from workbench.core.exports import export_items
from workbench.core.knn import top_k_neighbours
from workbench.core.projection import MAX_QUERY_NEIGHBOURS, UMAP_MIN_POINTS
from workbench.ui.cluster_names_layer import ClusterNamesLayer
from workbench.ui.lab_overlay import LabOverlay
from workbench.ui.map_search import MapSearch
from workbench.ui.pipeline import Pipeline
from workbench.ui.scatter import ScatterView
from workbench.ui.state import AppState
from workbench.ui.tasks import TaskRunner
from workbench.ui.widgets import ElidedLabel, MessageStrip, StaleNote, flow_row, placeholder_label, synced

LAYOUT_CONTROLS = ("layout_method", "umap_neighbours", "umap_min_dist", "layout_seed", "layout_reproducible", "query_k")
CHUNK_POSITION_COLUMNS = ("chunk_index", "char_start", "char_end")


def colour_choices(state: AppState) -> list[tuple[str, str]]:
    """(label, colour_by) for every colouring the current embedding offers: kind, cluster, each metadata column."""
    choices = [("kind", "kind")]
    if state.clusters is not None:
        choices.append(("cluster", "cluster"))
    keys = list(state.embedding.metadata_keys) if state.embedding else []
    if state.chunk_embedding is not None and "parent_id" not in keys:  # one point per document: each its own colour
        keys.append("parent_id")
    for key in keys:
        if key in CHUNK_POSITION_COLUMNS:  # a colour per offset says nothing
            continue
        choices.append(("parent document" if key == "parent_id" else f"metadata: {key}", f"meta:{key}"))
    return choices


class ProjectionView(QWidget):
    def __init__(self, state: AppState, runner: TaskRunner, pipeline: Pipeline, parent: QWidget | None = None):
        super().__init__(parent)
        self.state, self.runner, self.pipeline = state, runner, pipeline
        self.match_rows: np.ndarray | None = None

        self.method = QComboBox()
        self.method.addItem("UMAP", "umap")
        self.method.addItem("PCA", "pca")
        self.method_note = QLabel()  # beside the box: PCA stands in for the chosen UMAP (too few points)
        self.method_note.setStyleSheet("color:#b45309;")
        self.method_note.hide()
        method_box = QWidget()  # the label, the box and its note wrap as one
        method_layout = QHBoxLayout(method_box)
        method_layout.setContentsMargins(0, 0, 0, 0)
        method_layout.setSpacing(4)
        for widget in (QLabel("Layout"), self.method, self.method_note):
            method_layout.addWidget(widget)
        self.neighbours_knob = _spin(2, 200, "UMAP n_neighbors: small shows local structure, large global")
        self.min_dist = QDoubleSpinBox(minimum=0.0, maximum=1.0, singleStep=0.05, decimals=2)
        self.min_dist.setToolTip("UMAP min_dist: how tightly points may pack")
        self.seed = _spin(0, 2**31 - 1, "random seed: the same seed gives the same layout")
        self.reproducible = QCheckBox("Reproducible, seed")
        self.reproducible.setToolTip(
            "On: the same seed gives the same layout, but UMAP runs on one core. "
            "Off (default): UMAP uses every core, and each run differs a little."
        )
        reproducible = QWidget()  # the box and its seed wrap as one
        reproducible_layout = QHBoxLayout(reproducible)
        reproducible_layout.setContentsMargins(0, 0, 0, 0)
        reproducible_layout.addWidget(self.reproducible)
        reproducible_layout.addWidget(self.seed)
        self.reproject = QPushButton("Re-project")
        self.reproject.setToolTip("Lay the vectors out again with these settings")
        self.colour_by = QComboBox()
        self.colour_by.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.colour_by.setMinimumContentsLength(18)  # "metadata: topic" without an ellipsis
        self.points = QComboBox()  # after a chunked Embed: each chunk, or one point per parent document
        self.points.addItem("each chunk", "chunks")
        self.points.addItem("one per document", "parents")
        self.query_k = _spin(0, MAX_QUERY_NEIGHBOURS, "lines from each query to its k nearest documents (cosine)")
        self.search = QLineEdit(placeholderText="Search texts…", clearButtonEnabled=True)
        self.search.setMinimumWidth(150)
        self.regex = QCheckBox("regex")
        self.match_count = QLabel()
        # As wide as a million-item count, so the buttons after it stay put while "searching…" and counts alternate;
        # shown only while there is a search, so on a laptop the empty space does not push Export onto a line alone
        self.match_count.setMinimumWidth(self.match_count.fontMetrics().horizontalAdvance("1000000 of 1000000 match"))
        self.match_count.hide()
        self.modes = QButtonGroup(self)
        mode_buttons = []
        for index, (mode, label, tip) in enumerate(
            (("pan", "Pan", "drag pans, wheel zooms"), ("rect", "Rectangle", "drag selects a rectangle (shift adds)"),
             ("lasso", "Lasso", "drag draws a lasso (shift adds)"))
        ):  # fmt: skip
            button = QToolButton(text=label, checkable=True, toolTip=tip)
            button.setProperty("mode", mode)
            self.modes.addButton(button, index)
            mode_buttons.append(button)
        mode_buttons[0].setChecked(True)
        self.fit = QToolButton(text="Fit view")
        self.export = QToolButton(text="Export ▾", popupMode=QToolButton.ToolButtonPopupMode.InstantPopup)
        export_menu = QMenu(self.export)
        self.export.setMenu(export_menu)
        export_menu.addAction("Selection as CSV…", lambda: self.export_selection(".csv"))
        export_menu.addAction("Selection as JSONL…", lambda: self.export_selection(".jsonl"))
        export_menu.addAction("Plot as PNG…", lambda: self.export_plot(".png"))
        export_menu.addAction("Plot as SVG…", lambda: self.export_plot(".svg"))

        modes = QWidget()  # Pan, Rectangle, Lasso wrap as one group
        modes_layout = QHBoxLayout(modes)
        modes_layout.setContentsMargins(0, 0, 0, 0)
        modes_layout.setSpacing(0)
        for button in mode_buttons:
            modes_layout.addWidget(button)
        controls = flow_row(method_box, ("neighbours", self.neighbours_knob), ("min_dist", self.min_dist),
                            reproducible, self.reproject, ("Colour", self.colour_by),
                            ("Points", self.points), ("query lines k", self.query_k), self.search, self.regex,
                            self.match_count, modes, self.fit, self.export)  # fmt: skip

        self.scatter = ScatterView()
        self.cluster_names = ClusterNamesLayer(state, self.scatter)  # names at cluster centres, by zoom level
        self.lab_overlay = LabOverlay(self.scatter, state)  # the search lab's query, hits and judged documents
        self.detail = QTextBrowser()
        self.detail.setPlaceholderText("Click a point to see its full text, metadata and nearest neighbours.")
        # The clicked item's text, metadata and neighbours go under the map, so the map keeps the whole width
        # (on a laptop screen the centre of the window is only ~400 px wide); drag the handle to give it more.
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.scatter)
        splitter.addWidget(self.detail)
        splitter.setSizes([600, 130])
        splitter.setCollapsible(0, False)
        self.detail.setMinimumHeight(60)
        self.placeholder = placeholder_label(
            "Projection comes with embeddings: press Embed to see a 2-D map of documents and queries."
        )
        self.stack = QStackedWidget()
        self.stack.addWidget(self.placeholder)
        self.stack.addWidget(splitter)
        self.note = ElidedLabel()
        self.note.setStyleSheet("color:#555;")
        self.hover_line = ElidedLabel()
        self.hover_line.setStyleSheet("color:#333;")
        self.messages = MessageStrip()
        self.stale = StaleNote(state, self)
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addWidget(self.stale)
        layout.addWidget(self.messages)
        layout.addWidget(self.stack, 1)
        bottom = QHBoxLayout()  # the note and the hovered text share the line; each is cut, never the window
        bottom.addWidget(self.note, 1)
        bottom.addWidget(self.hover_line, 1)
        self.hover_line.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        layout.addLayout(bottom)

        self._show_view_settings(frozenset(LAYOUT_CONTROLS))
        self.method.currentIndexChanged.connect(lambda: state.set_view(layout_method=self.method.currentData()))
        self.neighbours_knob.valueChanged.connect(lambda value: state.set_view(umap_neighbours=value))
        self.min_dist.valueChanged.connect(lambda value: state.set_view(umap_min_dist=round(value, 2)))
        self.seed.valueChanged.connect(lambda value: state.set_view(layout_seed=value))
        self.reproducible.toggled.connect(lambda checked: state.set_view(layout_reproducible=checked))
        self.query_k.valueChanged.connect(lambda value: state.set_view(query_k=value))
        self.colour_by.currentIndexChanged.connect(self._colour_chosen)
        self.points.currentIndexChanged.connect(lambda: state.set_view(points=self.points.currentData()))
        self.reproject.clicked.connect(lambda: pipeline.relayout())
        state.view_changed.connect(self._show_view_settings)
        state.vectors_changed.connect(self._show_vectors)
        state.projection_changed.connect(self._redraw)
        state.neighbours_changed.connect(self._draw_lines)
        state.selection_changed.connect(self._show_selection)
        state.clusters_changed.connect(self._redraw)
        state.encoding_ready.connect(lambda colour_by: colour_by == state.view.colour_by and self._redraw())
        for signal in (state.projection_changed, state.vectors_changed, state.view_changed):
            signal.connect(self._show_method_note)
        self._show_method_note()
        self.messages.follow(pipeline.notice, "layout")
        self.text_search = MapSearch(runner, self)
        self.text_search.found.connect(self._show_matches)
        self.text_search.status.connect(self.match_count.setText)
        self.search.textChanged.connect(self.apply_search)
        self.search.textChanged.connect(lambda text: self.match_count.setVisible(bool(text)))
        self.regex.toggled.connect(self.apply_search)
        self.modes.idClicked.connect(lambda index: self.scatter.set_mode(self.modes.button(index).property("mode")))
        self.fit.clicked.connect(self.scatter.fit_view)
        self.scatter.selection_made.connect(self._on_selection_made)
        self.scatter.hovered.connect(self._on_hovered)
        self._fill_colour_choices()
        self._enable_points()

    # -- view settings -----------------------------------------------------------------------------------------
    def _show_view_settings(self, changed: frozenset[str]) -> None:
        """Show AppState's settings in the controls without sending them back; redraw what they change."""
        view = self.state.view
        with synced(
            self.method, self.neighbours_knob, self.min_dist, self.seed, self.reproducible, self.query_k, self.points
        ):
            self.method.setCurrentIndex(max(0, self.method.findData(view.layout_method)))
            self.points.setCurrentIndex(max(0, self.points.findData(view.points)))
            self.neighbours_knob.setValue(view.umap_neighbours)
            self.min_dist.setValue(view.umap_min_dist)
            self.seed.setValue(view.layout_seed)
            self.reproducible.setChecked(view.layout_reproducible)
            self.seed.setEnabled(view.layout_reproducible)
            self.query_k.setValue(view.query_k)
        if "colour_by" in changed:
            self._fill_colour_choices()
            self._redraw()
        if "query_k" in changed:
            self._draw_lines()

    def _show_method_note(self) -> None:
        """The box keeps the person's UMAP; when the map shows PCA for want of points, the note beside it says so."""
        embedding, view = self.state.embedding, self.state.view
        points = 0 if embedding is None else len(embedding.items)
        stand_in = view.layout_method == "umap" and self.state.projection is not None and points < UMAP_MIN_POINTS
        self.method_note.setText(f"PCA shown: UMAP needs {UMAP_MIN_POINTS} points" if stand_in else "")
        self.method_note.setVisible(stand_in)
        self.method.setToolTip(
            f"UMAP is chosen and kept, but {points} points are too few for it (it needs {UMAP_MIN_POINTS}): the map "
            "shows PCA until there are more."
            if stand_in
            else "How the vectors are laid out in 2-D: UMAP keeps neighbourhoods; PCA is linear, fast and exact"
        )

    def _fill_colour_choices(self) -> None:
        with synced(self.colour_by):
            self.colour_by.clear()
            for label, value in colour_choices(self.state):
                self.colour_by.addItem(label, value)
            self.colour_by.setCurrentIndex(max(0, self.colour_by.findData(self.state.view.colour_by)))

    def _colour_chosen(self) -> None:
        self.state.set_view(colour_by=self.colour_by.currentData() or "kind")

    def _enable_points(self) -> None:
        """Only a chunked Embed has parents to show; until then the box is off and its tooltip says why."""
        chunked = self.state.chunk_embedding is not None
        self.points.setEnabled(chunked)
        self.points.setToolTip(
            "Show every chunk, or one point per document: the mean of its chunks' vectors"
            if chunked
            else "Off: no text was split into chunks. After an Embed that chunks long texts, choose each chunk or "
            "one point per document."
        )

    # -- drawing -----------------------------------------------------------------------------------------------
    def _show_vectors(self) -> None:
        self._fill_colour_choices()
        self._enable_points()
        if self.state.embedding is None or len(self.state.embedding.items) == 0:
            self.stack.setCurrentWidget(self.placeholder)
            self.scatter.set_points(np.zeros((0, 2)), [], [], None)
            self.detail.clear()
            self.note.setText("")

    def _redraw(self) -> None:
        embedding, xy = self.state.embedding, self.state.projection
        if embedding is None or xy is None:
            if embedding is None:
                self.stack.setCurrentWidget(self.placeholder)
            return
        self._fill_colour_choices()
        encoding = self.state.encoding_if_ready()
        if encoding is None:  # a worker colours the points (a million of them); encoding_ready draws them
            self.note.setText(f"Colouring {len(embedding.items):,} points…".replace(",", " "))
            return
        self.scatter.set_points(xy, embedding.ids, embedding.texts, encoding, row_of=self.state.row_of)
        self.stack.setCurrentIndex(1)
        self.note.setText(self.state.projection_note)
        self._draw_lines()
        self.apply_search()
        self._show_selection()

    def _draw_lines(self) -> None:
        xy, k, neighbours = self.state.projection, self.state.view.query_k, self.state.neighbours.neighbours
        if xy is None or k == 0 or neighbours.size == 0 or len(xy) != len(self.state.embedding.items):
            self.scatter.set_lines(np.zeros((0, 2, 2)))
            return
        ends = neighbours[:, :k]
        starts = np.repeat(self.state.neighbours.query_rows, ends.shape[1])
        ranks = np.tile(np.arange(ends.shape[1]), len(ends))  # 0: each query's nearest document, drawn strongest
        self.scatter.set_lines(np.stack([xy[starts], xy[ends.reshape(-1)]], axis=1), ranks)

    def line_ends(self) -> dict[str, list[str]]:
        """Query id -> ids of the documents its lines end at (what a test or a person can check)."""
        embedding, k, found = self.state.embedding, self.state.view.query_k, self.state.neighbours
        if embedding is None or found.neighbours.size == 0:
            return {}
        return {
            embedding.items[q].id: [embedding.items[d].id for d in row[:k]]
            for q, row in zip(found.query_rows, found.neighbours, strict=True)
        }

    # -- search, hover, selection ------------------------------------------------------------------------------
    def apply_search(self) -> None:
        """Highlight items whose text matches (substring, case-insensitive, or regex); dim the rest.

        A large corpus is matched on a worker (ui/map_search.py): the count and highlight follow when it lands.
        """
        self.text_search.request(self.state.embedding, self.search.text(), self.regex.isChecked())

    def _show_matches(self, rows: np.ndarray | None, label: str) -> None:
        self.match_rows = rows
        self.match_count.setText(label)
        self.scatter.highlight(rows)

    def _on_hovered(self, item_id: str) -> None:
        row = self.state.row_of(item_id) if item_id else None
        text = "" if row is None else self.state.embedded_item(row).text
        self.hover_line.setText(" ".join(text[:2000].split()))

    def _on_selection_made(self, ids: list[str], additive: bool) -> None:
        self.state.set_selection([*self.state.selection, *ids] if additive else ids)

    def _show_selection(self) -> None:
        self.scatter.set_selected(self.state.selection)
        rows = [r for r in (self.state.row_of(i) for i in self.state.selection) if r is not None]
        if not rows:
            self.detail.clear()
            return
        if len(rows) == 1:
            self.detail.setHtml(self._detail_html(rows[0]))
            return
        items = [self.state.embedded_item(r) for r in rows[:30]]
        listing = "".join(f"<li>{html.escape(i.text[:160])}</li>" for i in items)
        more = f"<p>… and {len(rows) - 30} more</p>" if len(rows) > 30 else ""
        self.detail.setHtml(f"<h3>{len(rows)} selected</h3><ul>{listing}</ul>{more}")

    def _detail_html(self, row: int) -> str:
        """Full text, metadata and the 8 nearest items by cosine (one row × n product: well under 20 ms)."""
        embedding = self.state.embedding
        assert embedding is not None
        item = embedding.items[row]
        indices, scores = top_k_neighbours(embedding.vectors, 8, queries=embedding.vectors[row : row + 1])
        neighbours = "".join(
            f"<tr><td>{score:.3f}</td><td>{embedding.items[i].kind}</td><td>{html.escape(embedding.items[i].text[:140])}"
            f"</td></tr>"
            for i, score in zip(indices[0], scores[0], strict=True)
            if i != row
        )
        metadata = "".join(f"<tr><td><b>{html.escape(str(k))}</b></td><td>{html.escape(str(v))}</td></tr>"
                           for k, v in item.metadata.items())  # fmt: skip
        return (
            f"<p><b>{item.kind}</b> · id {html.escape(item.id)}</p><p>{_paragraph(item.text)}</p>"
            + (f"<table>{metadata}</table>" if metadata else "")
            + f"<h4>Nearest (cosine)</h4><table cellspacing=4>{neighbours}</table>"
        )

    # -- exports -----------------------------------------------------------------------------------------------
    def export_selection(self, suffix: str, path: str | None = None) -> Path | None:
        """Write the selected items (id, text, kind, metadata, vector, x, y) as CSV or JSONL."""
        embedding = self.state.embedding
        rows = [r for r in (self.state.row_of(i) for i in self.state.selection) if r is not None]
        if embedding is None or not rows:
            self.messages.show_warning("Select some points first (click, rectangle or lasso).")
            return None
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, "Export selection", f"selection{suffix}", f"*{suffix}")
            if not path:
                return None
        items = [embedding.items[r] for r in rows]
        derived = {}
        if self.state.projection is not None:
            derived = {"x": self.state.projection[rows, 0], "y": self.state.projection[rows, 1]}
        vectors = embedding.vectors[rows]
        target = Path(path)
        self.runner.start(
            "export-selection",
            f"Exporting {len(items)} items",
            lambda progress, cancelled: export_items(target, items, vectors, embedding.spec, derived),
            on_done=lambda _: self.state.status_message.emit(f"Exported {len(items)} items to {target}."),
            on_error=self.messages.show_error,
        )
        return target

    def export_plot(self, suffix: str, path: str | None = None) -> Path | None:
        """PNG or SVG of the plot as shown (rendering must happen on the GUI thread; it takes milliseconds).

        SVG goes through Qt's QSvgGenerator rather than pyqtgraph's SVGExporter, which fails on the path data
        that current PySide6 writes.
        """
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, "Export plot", f"projection{suffix}", f"*{suffix}")
            if not path:
                return None
        widget = self.scatter.plot
        if suffix == ".svg":
            generator = QSvgGenerator()
            generator.setFileName(str(path))
            generator.setSize(widget.size())
            generator.setViewBox(widget.rect())
            generator.setTitle("Embedding Workbench projection")
            painter = QPainter(generator)
            widget.render(painter)
            painter.end()
        elif not widget.grab().save(str(path)):
            self.messages.show_error(f"Could not write {path}.")
            return None
        return Path(path)


def _spin(low: int, high: int, tip: str) -> QSpinBox:
    spin = QSpinBox(minimum=low, maximum=high)
    spin.setToolTip(tip)
    return spin


def _paragraph(text: str) -> str:
    """Plain text as HTML with its line breaks kept."""
    return html.escape(text).replace("\n", "<br>")
