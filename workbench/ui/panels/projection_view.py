"""Projection view: documents and queries in one 2-D map to hover, select, search and colour.

On new vectors a PCA layout appears at once (one task), then UMAP replaces it (a second task); both run through
the TaskRunner, and a newer embedding supersedes an older layout. Queries are joined to their k nearest
documents by cosine in the original space (computed with the PCA task, from core.knn), never by 2-D distance.
The view only draws: layouts, neighbours and exports come from the core; selection lives in AppState.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
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
    QPushButton,
    QSpinBox,
    QSplitter,
    QStackedWidget,
    QTextBrowser,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from workbench.core.knn import top_k_neighbours
from workbench.core.progress import CancelledFn, ProgressFn
from workbench.core.projection import Projection, pca_2d, project_2d_in_subprocess
from workbench.ui.scatter import ScatterView
from workbench.ui.state import AppState
from workbench.ui.tasks import TaskRunner
from workbench.ui.widgets import MessageStrip, placeholder_label

LAYOUT_TASK, UMAP_TASK = "projection-first", "projection-umap"
MAX_QUERY_NEIGHBOURS = 20
MAX_CATEGORIES = 12
SYMBOLS = {"document": "o", "query": "star"}


@dataclass
class FirstLayout:
    """The instant layout and what the neighbour lines need, computed together off the GUI thread."""

    xy: np.ndarray
    query_rows: np.ndarray  # rows of the queries in embedding order
    query_neighbours: np.ndarray  # (queries, ≤ MAX_QUERY_NEIGHBOURS) rows of their nearest documents


def first_layout(
    vectors: np.ndarray,
    kinds: np.ndarray,
    progress: ProgressFn,
    cancelled: CancelledFn,
    with_pca: bool = True,
) -> FirstLayout:
    """PCA plus each query's nearest documents (exact cosine; queries × documents, cheap next to a layout)."""
    query_rows = np.flatnonzero(kinds == "query")
    document_rows = np.flatnonzero(kinds == "document")
    neighbours = np.zeros((len(query_rows), 0), dtype=np.int64)
    if len(query_rows) and len(document_rows):
        local, _ = top_k_neighbours(
            vectors[document_rows], MAX_QUERY_NEIGHBOURS, queries=vectors[query_rows], cancelled=cancelled
        )
        neighbours = document_rows[local]
    return FirstLayout(pca_2d(vectors) if with_pca else np.zeros((0, 2), np.float32), query_rows, neighbours)


class ProjectionView(QWidget):
    def __init__(self, state: AppState, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state, self.runner = state, runner
        self.query_rows = np.zeros(0, dtype=np.int64)
        self.query_neighbours = np.zeros((0, 0), dtype=np.int64)
        self.match_rows: np.ndarray | None = None

        self.method = QComboBox()
        self.method.addItem("UMAP", "umap")
        self.method.addItem("PCA", "pca")
        self.neighbours_knob = _spin(2, 200, 15, "UMAP n_neighbors: small shows local structure, large global")
        self.min_dist = QDoubleSpinBox(minimum=0.0, maximum=1.0, singleStep=0.05, value=0.1, decimals=2)
        self.min_dist.setToolTip("UMAP min_dist: how tightly points may pack")
        self.seed = _spin(0, 2**31 - 1, 0, "random seed: the same seed gives the same layout")
        self.reproject = QPushButton("Re-project")
        self.colour_by = QComboBox()
        self.colour_by.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.colour_by.setMinimumContentsLength(18)  # "metadata: topic" without an ellipsis
        self.query_k = _spin(0, MAX_QUERY_NEIGHBOURS, 3, "lines from each query to its k nearest documents (cosine)")
        self.search = QLineEdit(placeholderText="Search texts…", clearButtonEnabled=True)
        self.search.setMinimumWidth(180)
        self.regex = QCheckBox("regex")
        self.match_count = QLabel()
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
        export_menu = self.export.menu() or _menu(self.export)
        export_menu.addAction("Selection as CSV…", lambda: self.export_selection(".csv"))
        export_menu.addAction("Selection as JSONL…", lambda: self.export_selection(".jsonl"))
        export_menu.addAction("Plot as PNG…", lambda: self.export_plot(".png"))
        export_menu.addAction("Plot as SVG…", lambda: self.export_plot(".svg"))

        top = QHBoxLayout()
        for widget in (QLabel("Layout"), self.method, QLabel("neighbours"), self.neighbours_knob, QLabel("min_dist"),
                       self.min_dist, QLabel("seed"), self.seed, self.reproject):  # fmt: skip
            top.addWidget(widget)
        top.addStretch(1)
        second = QHBoxLayout()
        for widget in (QLabel("Colour"), self.colour_by, QLabel("query lines k"), self.query_k, self.search,
                       self.regex, self.match_count, *mode_buttons, self.fit, self.export):  # fmt: skip
            second.addWidget(widget)

        self.scatter = ScatterView()
        self.detail = QTextBrowser()
        self.detail.setPlaceholderText("Click a point to see its full text, metadata and nearest neighbours.")
        splitter = QSplitter()
        splitter.addWidget(self.scatter)
        splitter.addWidget(self.detail)
        splitter.setSizes([800, 260])
        self.placeholder = placeholder_label(
            "Projection comes with embeddings: press Embed to see a 2-D map of documents and queries."
        )
        self.stack = QStackedWidget()
        self.stack.addWidget(self.placeholder)
        self.stack.addWidget(splitter)
        self.note = QLabel()
        self.note.setStyleSheet("color:#555;")
        self.hover_line = QLabel()
        self.hover_line.setStyleSheet("color:#333;")
        self.messages = MessageStrip()
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(second)
        layout.addWidget(self.messages)
        layout.addWidget(self.stack, 1)
        bottom = QHBoxLayout()
        bottom.addWidget(self.note)
        bottom.addStretch(1)
        bottom.addWidget(self.hover_line)
        layout.addLayout(bottom)

        state.vectors_changed.connect(self.start_layout)
        state.projection_changed.connect(self._redraw)
        state.selection_changed.connect(self._show_selection)
        state.clusters_changed.connect(self._fill_colour_choices)
        state.clusters_changed.connect(self._redraw)
        self.reproject.clicked.connect(lambda: self.start_layout(explicit=True))
        self.colour_by.currentIndexChanged.connect(self._redraw)
        self.query_k.valueChanged.connect(self._draw_lines)
        self.search.textChanged.connect(self.apply_search)
        self.regex.toggled.connect(self.apply_search)
        self.modes.idClicked.connect(lambda index: self.scatter.set_mode(self.modes.button(index).property("mode")))
        self.fit.clicked.connect(self.scatter.fit_view)
        self.scatter.selection_made.connect(self._on_selection_made)
        self.scatter.hovered.connect(self._on_hovered)
        self._fill_colour_choices()

    # -- layouts -----------------------------------------------------------------------------------------------
    def start_layout(self, explicit: bool = False) -> None:
        """PCA and query neighbours at once, then UMAP (if chosen) replaces the PCA layout.

        On new vectors that arrive with their layout (a workspace), nothing is recomputed unless `explicit`.
        """
        embedding = self.state.embedding
        self.runner.cancel(UMAP_TASK)
        if embedding is None or len(embedding.items) == 0:
            self.stack.setCurrentWidget(self.placeholder)
            return
        vectors = embedding.vectors
        kinds = np.array([item.kind for item in embedding.items])
        if self.state.projection is not None and not explicit:
            # The layout came with the vectors (an opened workspace): keep it; only the query lines are needed.
            layout = first_layout(vectors, kinds, lambda d, t: None, lambda: False, with_pca=False)
            self.query_rows, self.query_neighbours = layout.query_rows, layout.query_neighbours
            self._redraw()
            return
        self.runner.start(
            LAYOUT_TASK,
            "Laying out (PCA)",
            lambda progress, cancelled: first_layout(vectors, kinds, progress, cancelled),
            on_done=lambda layout: self._first_layout_done(layout, embedding),
            on_error=self.messages.show_error,
        )

    def _first_layout_done(self, layout: FirstLayout, embedding) -> None:
        if embedding is not self.state.embedding:
            return
        self.query_rows, self.query_neighbours = layout.query_rows, layout.query_neighbours
        method = self.method.currentData()
        running = method == "umap" and len(layout.xy) >= 15
        self.state.set_projection(layout.xy, "PCA layout" + (" — UMAP is running…" if running else "."))
        if method != "umap":
            return
        vectors = embedding.vectors
        options = {
            "method": "umap",
            "seed": self.seed.value(),
            "n_neighbors": self.neighbours_knob.value(),
            "min_dist": self.min_dist.value(),
        }
        self.runner.start(
            UMAP_TASK,
            f"UMAP on {len(vectors)} points",
            lambda progress, cancelled: project_2d_in_subprocess(
                vectors, progress=progress, cancelled=cancelled, **options
            ),
            on_done=lambda projection: self._umap_done(projection, embedding),
            on_error=self.messages.show_error,
        )

    def _umap_done(self, projection: Projection, embedding) -> None:
        if embedding is self.state.embedding:
            self.state.set_projection(projection.xy, projection.note)

    # -- drawing -----------------------------------------------------------------------------------------------
    def _fill_colour_choices(self) -> None:
        current = self.colour_by.currentText()  # by text: tuples do not survive findData
        self.colour_by.blockSignals(True)
        self.colour_by.clear()
        self.colour_by.addItem("kind", ("kind", None))
        if self.state.clusters is not None:
            self.colour_by.addItem("cluster", ("cluster", None))
        for key in self.state.embedding.metadata_keys if self.state.embedding else []:
            self.colour_by.addItem(f"metadata: {key}", ("metadata", key))
        index = max(0, self.colour_by.findText(current)) if current else 0
        self.colour_by.setCurrentIndex(index)
        self.colour_by.blockSignals(False)

    def categories(self) -> tuple[np.ndarray, list[str]]:
        """Category index per embedded row and the category names, for the chosen colouring."""
        embedding = self.state.embedding
        assert embedding is not None
        how, key = self.colour_by.currentData() or ("kind", None)
        if how == "cluster" and self.state.clusters is not None:
            ids, row_codes = np.unique(self.state.clusters, return_inverse=True)
            labels = np.array([self.state.cluster_names.get(int(c), f"cluster {c}") for c in ids])[row_codes]
        elif how == "metadata":
            labels = np.array([str(item.metadata.get(key, "—")) for item in embedding.items])
        else:
            labels = np.where(embedding.kinds == "document", "documents", "queries")
        values, row_codes, counts = np.unique(labels, return_inverse=True, return_counts=True)
        ranking = np.argsort(-counts, kind="stable")  # the biggest category gets the first colour
        names = [str(v) for v in values[ranking[:MAX_CATEGORIES]]]
        if len(values) > MAX_CATEGORIES:
            names.append("other")
        category_of_value = np.empty(len(values), dtype=np.int64)
        category_of_value[ranking] = np.minimum(np.arange(len(values)), MAX_CATEGORIES)
        return category_of_value[row_codes.reshape(-1)], names

    def _redraw(self) -> None:
        embedding, xy = self.state.embedding, self.state.projection
        if embedding is None or xy is None:
            if embedding is None:
                self.stack.setCurrentWidget(self.placeholder)
            return
        self._fill_colour_choices()
        categories, names = self.categories()
        how = (self.colour_by.currentData() or ("kind", None))[0]
        queries = embedding.kinds == "query"
        self.scatter.set_points(
            xy,
            embedding.ids,
            embedding.texts,
            np.where(queries, SYMBOLS["query"], SYMBOLS["document"]),
            categories,
            names,
            symbol_names=None if how == "kind" or not queries.any() else {"o": "document", "star": "query"},
            row_of=self.state.row_of,
        )
        self.stack.setCurrentIndex(1)
        self.note.setText(self.state.projection_note)
        self._draw_lines()
        self.apply_search()
        self._show_selection()

    def _draw_lines(self) -> None:
        xy, k = self.state.projection, self.query_k.value()
        if xy is None or k == 0 or self.query_neighbours.size == 0:
            self.scatter.set_lines(np.zeros((0, 2, 2)))
            return
        ends = self.query_neighbours[:, :k]
        starts = np.repeat(self.query_rows, ends.shape[1])
        self.scatter.set_lines(np.stack([xy[starts], xy[ends.reshape(-1)]], axis=1))

    def line_ends(self) -> dict[str, list[str]]:
        """Query id -> ids of the documents its lines end at (what a test or a person can check)."""
        embedding, k = self.state.embedding, self.query_k.value()
        if embedding is None or self.query_neighbours.size == 0:
            return {}
        return {
            embedding.items[q].id: [embedding.items[d].id for d in row[:k]]
            for q, row in zip(self.query_rows, self.query_neighbours, strict=True)
        }

    # -- search, hover, selection ------------------------------------------------------------------------------
    def apply_search(self) -> None:
        """Highlight items whose text matches (substring, case-insensitive, or regex); dim the rest."""
        embedding, pattern = self.state.embedding, self.search.text()
        if embedding is None or not pattern:
            self.match_rows = None
            self.match_count.setText("")
            self.scatter.highlight(None)
            return
        try:
            if self.regex.isChecked():
                compiled = re.compile(pattern, re.IGNORECASE)
                rows = [r for r, item in enumerate(embedding.items) if compiled.search(item.text)]
            else:
                needle = pattern.casefold()
                rows = [r for r, item in enumerate(embedding.items) if needle in item.text.casefold()]
        except re.error as error:
            self.match_count.setText(f"bad regex: {error.msg}")
            return
        self.match_rows = np.array(rows, dtype=np.int64)
        self.match_count.setText(f"{len(rows)} of {len(embedding.items)} match")
        self.scatter.highlight(self.match_rows)

    def _on_hovered(self, item_id: str) -> None:
        row = self.state.row_of(item_id) if item_id else None
        self.hover_line.setText("" if row is None else self.state.embedded_item(row).text[:120])

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
        listing = "".join(f"<li>{_escape(i.text[:160])}</li>" for i in items)
        more = f"<p>… and {len(rows) - 30} more</p>" if len(rows) > 30 else ""
        self.detail.setHtml(f"<h3>{len(rows)} selected</h3><ul>{listing}</ul>{more}")

    def _detail_html(self, row: int) -> str:
        """Full text, metadata and the 8 nearest items by cosine (one row × n product: well under 20 ms)."""
        embedding = self.state.embedding
        assert embedding is not None
        item = embedding.items[row]
        indices, scores = top_k_neighbours(embedding.vectors, 8, queries=embedding.vectors[row : row + 1])
        neighbours = "".join(
            f"<tr><td>{score:.3f}</td><td>{embedding.items[i].kind}</td><td>{_escape(embedding.items[i].text[:140])}"
            f"</td></tr>"
            for i, score in zip(indices[0], scores[0], strict=True)
            if i != row
        )
        metadata = "".join(f"<tr><td><b>{_escape(str(k))}</b></td><td>{_escape(str(v))}</td></tr>"
                           for k, v in item.metadata.items())  # fmt: skip
        return (
            f"<p><b>{item.kind}</b> · id {item.id}</p><p>{_escape(item.text)}</p>"
            + (f"<table>{metadata}</table>" if metadata else "")
            + f"<h4>Nearest (cosine)</h4><table cellspacing=4>{neighbours}</table>"
        )

    # -- exports -----------------------------------------------------------------------------------------------
    def export_selection(self, suffix: str, path: str | None = None) -> Path | None:
        """Write the selected items (id, text, kind, metadata, vector, x, y) as CSV or JSONL."""
        from workbench.core.exports import export_items

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


def _spin(low: int, high: int, value: int, tip: str) -> QSpinBox:
    spin = QSpinBox(minimum=low, maximum=high, value=value)
    spin.setToolTip(tip)
    return spin


def _menu(button: QToolButton):
    from PySide6.QtWidgets import QMenu

    menu = QMenu(button)
    button.setMenu(menu)
    return menu


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\n", "<br>")
