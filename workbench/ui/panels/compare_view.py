"""Compare panel: the same corpus under a second model configuration, side by side, and clusters with names.

Configuration A is the app's current embedding (and its layout); B is chosen here with the same SpecChooser as
the Model panel (provider, model, dim, task per kind: AppState's view settings, like k, the label column and B's
layout method; B uses A's key and endpoint). The pipeline embeds B through the
shared cache, lays it out and compares it into AppState.comparison; this view draws it. Both maps use the one
visual encoding (AppState's colour-by), share AppState's selection (select in one, the same ids are ringed in
the other) and ring the item hovered in the other. The numbers come from core.compare, the report page from
core.compare.report_html. The Clusters tab is the ClusterEditor (cluster_editor.py).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QBuffer, QIODevice, Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from workbench.core.compare import display_name, explanation, measure_stem, report_html
from workbench.core.embedders import DEFAULT_MODELS, DEFAULT_TASKS
from workbench.core.embedders.base import EmbeddingSpec
from workbench.core.embedding import EmbeddingResult
from workbench.ui.panels.cluster_editor import ClusterEditor, make_cell, make_table
from workbench.ui.pipeline import ComparisonOutcome, Pipeline
from workbench.ui.result_table import ElidedComboBox, ResultRow, ResultTable
from workbench.ui.scatter import ScatterView
from workbench.ui.spec_chooser import SpecChooser
from workbench.ui.state import AppState
from workbench.ui.widgets import MessageStrip, OnScreenRefresher, StaleNote, flow_row, synced

SPEC_B_FIELDS = frozenset({"compare_provider", "compare_model", "compare_dim", "compare_document_task",
                           "compare_query_task"})  # fmt: skip
COMPARE_FIELDS = SPEC_B_FIELDS | {"compare_k", "compare_label_column", "compare_layout_method"}
SAME = QColor("#e6f4ea")  # a document both models put in a query's top k


def _shown(value: object) -> str:
    return f"{value:.3f}" if isinstance(value, float) else ("—" if value is None else str(value))


class CompareView(QWidget):
    def __init__(self, state: AppState, pipeline: Pipeline, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state, self.pipeline = state, pipeline

        self.chooser = SpecChooser(self)
        self.provider, self.model, self.dim = self.chooser.provider, self.chooser.model, self.chooser.dim
        self.layout_method = ElidedComboBox(max_width=200)
        self.layout_method.addItem("UMAP", "umap")
        self.layout_method.addItem("PCA", "pca")
        self.k = QSpinBox(minimum=1, maximum=100)
        self.labels = ElidedComboBox(max_width=200)
        self.labels.setToolTip("A metadata column holding class labels: adds k-NN label accuracy and silhouette")
        self.key_b = QLineEdit(placeholderText="B's Gemini key: same as A")
        self.key_b.setEchoMode(QLineEdit.EchoMode.Password)
        self.key_b.setToolTip("Leave empty to use the Model panel's key; a key typed here is for B only (never saved)")
        self.base_url_b = QLineEdit(placeholderText="B's base URL: same as A")
        for field in (self.key_b, self.base_url_b):
            field.setMinimumWidth(150)
            field.textChanged.connect(lambda: state.set_credentials_b(self.key_b.text(), self.base_url_b.text()))
        self.run_button = QPushButton("Embed B and compare")
        self.html_button, self.png_button = QPushButton("Report HTML…"), QPushButton("PNG…")
        spec_rows = [(label.lower() if label != "Provider" else "B:", widget) for label, widget in self.chooser.rows()]
        controls = flow_row(*spec_rows, self.key_b, self.base_url_b, ("layout", self.layout_method), ("k", self.k),
                            ("labels", self.labels), self.run_button, self.html_button, self.png_button)  # fmt: skip

        self.scatter_a, self.scatter_b = ScatterView(), ScatterView()
        self.title_a, self.title_b = QLabel("A: the current embedding"), QLabel("B: not embedded yet")
        maps = QWidget()
        pair = QHBoxLayout(maps)
        pair.setContentsMargins(0, 0, 0, 0)
        for title, scatter in ((self.title_a, self.scatter_a), (self.title_b, self.scatter_b)):
            title.setWordWrap(True)
            column = QVBoxLayout()
            column.addWidget(title)
            column.addWidget(scatter, 1)
            pair.addLayout(column, 1)

        self.numbers = numbers_table()
        self.query = ElidedComboBox()
        self.query_table = ResultTable(state, ranks=("A #", "B #"), scores=("A cos", "B cos"))
        self.query_table.setToolTip("Each document in either model's top k for the query; green: in both")
        queries = QWidget()
        query_layout = QVBoxLayout(queries)
        query_layout.setContentsMargins(0, 0, 0, 0)
        query_row = QHBoxLayout()
        query_row.addWidget(self.query, 1)
        query_row.addWidget(self.query_table.columns_button)
        query_layout.addLayout(query_row)
        query_layout.addWidget(self.query_table, 1)

        self.cluster_editor = ClusterEditor(state, pipeline)

        self.tabs = QTabWidget()
        self.tabs.addTab(self.numbers, "Numbers")
        self.tabs.addTab(queries, "Queries")
        self.tabs.addTab(self.cluster_editor, "Clusters")
        # The maps above, the tables below, sharing the height by a handle the person can drag: on a laptop the
        # Numbers and the per-query tops need more than a few rows.
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(maps)
        split.addWidget(self.tabs)
        split.setSizes([500, 300])
        split.setCollapsible(0, False)
        self.messages = MessageStrip()
        self.messages.follow(pipeline.notice, "compare")
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addWidget(StaleNote(state, self))
        layout.addWidget(self.messages)
        layout.addWidget(split, 1)

        self._show_view_settings(COMPARE_FIELDS)
        self.chooser.edited.connect(self._spec_b_edited)
        self.chooser.provider_chosen.connect(lambda _: self.messages.clear())  # a message was about the old B
        self.layout_method.currentIndexChanged.connect(
            lambda: state.set_view(compare_layout_method=self.layout_method.currentData())
        )
        self.k.valueChanged.connect(lambda value: state.set_view(compare_k=value))
        self.labels.currentIndexChanged.connect(lambda: state.set_view(compare_label_column=self.labels.currentData()))
        self.run_button.clicked.connect(lambda: pipeline.compare(self.spec_b()))
        self.html_button.clicked.connect(lambda: self.export_report())
        self.png_button.clicked.connect(lambda: self.export_png())
        self.query.currentIndexChanged.connect(self._fill_query)
        self.query_table.cellClicked.connect(self._query_cell_clicked)
        self.on_screen = OnScreenRefresher(self, self._redraw_both)  # two maps of every point: only when seen
        for mine, other in ((self.scatter_a, self.scatter_b), (self.scatter_b, self.scatter_a)):
            mine.selection_made.connect(self._selected)
            mine.hovered.connect(other.mark)
        state.view_changed.connect(self._show_view_settings)
        state.projection_changed.connect(self.on_screen.request)
        state.selection_changed.connect(self._show_selection)
        state.clusters_changed.connect(self.on_screen.request)
        state.encoding_ready.connect(lambda colour_by: colour_by == state.view.colour_by and self.on_screen.request())
        state.comparison_changed.connect(self._show_comparison)
        state.vectors_changed.connect(self._fill_label_columns)
        state.corpus_changed.connect(self._fill_label_columns)
        self._show_comparison()

    # -- configuration B ---------------------------------------------------------------------------------------
    def _show_view_settings(self, changed: frozenset[str]) -> None:
        """Show AppState's Compare settings without sending them back; redraw the maps on a new colouring."""
        view = self.state.view
        if changed & SPEC_B_FIELDS:
            self.chooser.show_spec(self.spec_b())
            for field in (self.key_b, self.base_url_b):  # only a remote B has a key and an endpoint
                field.setVisible(view.compare_provider == "gemini")
        with synced(self.layout_method, self.k):
            self.layout_method.setCurrentIndex(max(0, self.layout_method.findData(view.compare_layout_method)))
            self.k.setValue(view.compare_k)
        if "compare_label_column" in changed:
            self._fill_label_columns()
        if "colour_by" in changed:
            self.on_screen.request()

    def _spec_b_edited(self) -> None:
        """Store what the chooser shows; a field left at the provider's default is stored as "" (follow it)."""
        spec = self.chooser.spec()
        document_default, query_default = DEFAULT_TASKS[spec.provider]
        self.state.set_view(
            compare_provider=spec.provider,
            compare_model="" if spec.model == DEFAULT_MODELS[spec.provider] else spec.model,
            compare_dim=spec.dim or 0,
            compare_document_task="" if spec.document_task == document_default else spec.document_task,
            compare_query_task="" if spec.query_task == query_default else spec.query_task,
        )

    def _fill_label_columns(self) -> None:
        """Offer the metadata columns; the chosen one, else (nothing chosen yet) the first: often the labels."""
        embedding = self.state.embedding
        columns = embedding.metadata_keys if embedding else self.state.corpus.metadata_keys("document")
        chosen = self.state.view.compare_label_column
        with synced(self.labels):
            self.labels.clear()
            self.labels.addItem("(none)", None)
            for column in columns:
                self.labels.addItem(column, column)
            index = self.labels.findData(chosen) if chosen else (-1 if chosen is None else 0)
            self.labels.setCurrentIndex(index if index > 0 or chosen is None else min(1, self.labels.count() - 1))

    def spec_b(self) -> EmbeddingSpec:
        """Configuration B as AppState's view settings hold it ("" fields: the provider's defaults)."""
        view = self.state.view
        document_default, query_default = DEFAULT_TASKS[view.compare_provider]
        return EmbeddingSpec(
            view.compare_provider,
            view.compare_model or DEFAULT_MODELS[view.compare_provider],
            view.compare_dim or None,
            view.compare_document_task or document_default,
            view.compare_query_task or query_default,
        )

    # -- the comparison ----------------------------------------------------------------------------------------
    @property
    def outcome(self) -> ComparisonOutcome | None:
        return self.state.comparison

    def _show_comparison(self) -> None:
        outcome = self.outcome
        self.title_b.setText(f"B: {_label(outcome.result_b)}" if outcome else "B: not embedded yet")
        if outcome is None:
            self.scatter_b.set_points(np.zeros((0, 2)), [], [], None)
        self.on_screen.request()
        self._fill_numbers()
        self._fill_queries()
        for button in (self.html_button, self.png_button):
            button.setEnabled(outcome is not None)

    def _fill_numbers(self) -> None:
        """Two lines per measure: its name with A's and B's value (one value across both when they share it), then
        its meaning in grey across the table; the model names are the maps' titles, so they are not repeated."""
        self.numbers.clearSpans()
        self.numbers.setRowCount(0)
        if self.outcome is None:
            return
        comparison = self.outcome.comparison
        numbers = dict(comparison.numbers)
        notes = {  # said with the number they qualify
            "similarity_rank_correlation": numbers.pop("pairs", ""),
            "silhouette_a": numbers.pop("silhouette_note", ""),
        }
        rows: list[tuple[str, str, str | None, str]] = []
        for key, value in numbers.items():
            stem = measure_stem(key)
            if key in ("model_a", "model_b") or (key.endswith("_b") and stem != key):
                continue
            meaning = explanation(key) + (f" ({notes[key]})" if notes.get(key) else "")
            if stem != key:  # a paired measure: A's and B's value side by side
                rows.append((display_name(stem), _shown(value), _shown(numbers.get(f"{stem}_b")), meaning))
            else:
                rows.append((display_name(key), _shown(value), None, meaning))
            if key == "items":
                rows.append(("items only in A / only in B", str(comparison.only_in_a), str(comparison.only_in_b),
                             explanation("only_in_a")))  # fmt: skip
        self.numbers.setRowCount(2 * len(rows))
        grey = QBrush(QColor("#666666"))
        for index, (name, a, b, meaning) in enumerate(rows):
            row = 2 * index
            self.numbers.setItem(row, 0, make_cell(name))
            self.numbers.setItem(row, 1, make_cell(a))
            self.numbers.setItem(row, 2, make_cell(a if b is None else b))
            if b is None:
                self.numbers.setSpan(row, 1, 1, 2)  # one number for both models
            for column in (1, 2):
                self.numbers.item(row, column).setTextAlignment(Qt.AlignmentFlag.AlignCenter)
            below = make_cell(meaning)
            below.setForeground(grey)
            self.numbers.setItem(row + 1, 0, below)
            self.numbers.setSpan(row + 1, 0, 1, 3)
            for column in (0, 1, 2):
                cell = self.numbers.item(row, column)
                cell.setToolTip(f"{name}: {meaning}")
            below.setToolTip(meaning)

    def _fill_queries(self) -> None:
        """The queries in the order they were typed (the embedding's, which the comparison keeps)."""
        chosen = self.query.currentData()
        with synced(self.query):
            self.query.clear()
            for tops in self.outcome.comparison.query_tops if self.outcome else []:
                k, shared = len(tops["top_a"]), round(tops["overlap"] * len(tops["top_a"]))
                self.query.addItem(f"{shared} of {k} shared · {' '.join(tops['text'].split())}", tops["id"])
                self.query.setItemData(self.query.count() - 1, tops["text"], Qt.ItemDataRole.ToolTipRole)
            self.query.setCurrentIndex(max(0, self.query.findData(chosen)))
        self._fill_query()

    def _fill_query(self) -> None:
        """Every document in A's or B's top k for the query: its rank and cosine under each (— when outside)."""
        tops = next((q for q in (self.outcome.comparison.query_tops if self.outcome else [])
                     if q["id"] == self.query.currentData()), None)  # fmt: skip
        if tops is None:
            self.query_table.show_rows([])
            return
        embedding = self.outcome.embedding
        rank_a, rank_b = _ranks(tops["top_a"], tops["scores_a"]), _ranks(tops["top_b"], tops["scores_b"])
        rows = []
        for doc in dict.fromkeys([*tops["top_a"], *tops["top_b"]]):
            (ra, sa), (rb, sb) = rank_a.get(doc, (None, None)), rank_b.get(doc, (None, None))
            row = embedding.row_by_id.get(doc)
            item = embedding.items[row] if row is not None else None
            shared = ra is not None and rb is not None
            rows.append(ResultRow(doc, item.text if item else doc, (ra, rb), (sa, sb), item.metadata if item else {},
                                  tint=SAME.name() if shared else None,
                                  note="" if shared else f"In {'A' if rb is None else 'B'}'s top k only."))  # fmt: skip
        self.query_table.show_rows(rows, embedding.metadata_keys)

    def _query_cell_clicked(self, row: int, column: int) -> None:
        item_id = self.query_table.item_id(row)
        if item_id:
            self.state.set_selection([self.query.currentData(), item_id])

    # -- drawing and linking -----------------------------------------------------------------------------------
    def _draw_a(self) -> None:
        embedding = self.state.embedding
        self.title_a.setText(f"A: {_label(embedding)}" if embedding else "A: the current embedding")
        if self.state.projection is not None:
            self._draw(self.scatter_a, self.state.projection)
        else:
            self.scatter_a.set_points(np.zeros((0, 2)), [], [], None)

    def _redraw_both(self) -> None:
        self._draw_a()
        if self.outcome is not None:
            self._draw(self.scatter_b, self.outcome.xy_b)

    def _draw(self, scatter: ScatterView, xy: np.ndarray) -> None:
        """Points as every view draws them (AppState.encoding: the chosen colour-by, noise under, queries on top)."""
        embedding = self.state.embedding
        if embedding is None or len(xy) != len(embedding.items):
            return
        encoding = self.state.encoding_if_ready()
        if encoding is None:
            return  # a worker colours these points; encoding_ready draws them
        scatter.set_points(xy, embedding.ids, embedding.texts, encoding, row_of=self.state.row_of)
        scatter.set_selected(self.state.selection)

    def _selected(self, ids: list[str], additive: bool) -> None:
        self.state.set_selection([*self.state.selection, *ids] if additive else ids)

    def _show_selection(self) -> None:
        self.scatter_a.set_selected(self.state.selection)
        self.scatter_b.set_selected(self.state.selection)

    # -- exports -----------------------------------------------------------------------------------------------
    def export_report(self, path: str | None = None) -> Path | None:
        """A self-contained HTML page: both maps as embedded PNGs, the numbers, each query's tops side by side."""
        if self.outcome is None:
            return None
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, "Export comparison report", "comparison.html", "*.html")
            if not path:
                return None
        texts = dict(zip(self.outcome.embedding.ids, self.outcome.embedding.texts, strict=True))
        images = [(self.title_a.text(), _png(self.scatter_a)), (self.title_b.text(), _png(self.scatter_b))]
        return self._write(Path(path), report_html(self.outcome.comparison, texts, images).encode("utf-8"))

    def export_png(self, path: str | None = None) -> Path | None:
        """The whole panel as it is on screen (both maps and the open table) as one PNG."""
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, "Export comparison as PNG", "comparison.png", "*.png")
            if not path:
                return None
        return self._write(Path(path), _png(self))

    def _write(self, path: Path, data: bytes) -> Path | None:
        try:
            path.write_bytes(data)
        except OSError as error:
            self.messages.show_error(f"{path} could not be written ({error.strerror or error}); choose another place.")
            return None
        self.messages.show_info(f"Saved {path.name}.")
        return path


def _label(result: EmbeddingResult) -> str:
    """'local · all-MiniLM-L6-v2 · 384-d': the dimension the vectors have, not the spec's "native"."""
    return f"{result.spec.provider} · {result.spec.model} · {result.dim}-d"


def _png(widget: QWidget) -> bytes:
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    widget.grab().save(buffer, "PNG")
    return bytes(buffer.data())


def _ranks(ids: list[str], scores: list[float]) -> dict[str, tuple[int, float]]:
    return {doc: (rank, score) for rank, (doc, score) in enumerate(zip(ids, scores, strict=True), start=1)}


def numbers_table() -> QTableWidget:
    """Measure, A, B: each measure's row followed by its meaning across the table; never wider than the panel."""
    table = make_table(["measure", "A", "B"])
    header = table.horizontalHeader()
    header.setStretchLastSection(False)
    header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
    for column in (1, 2):
        header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
    table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    table.setTextElideMode(Qt.TextElideMode.ElideRight)
    table.setSelectionMode(QTableWidget.SelectionMode.NoSelection)
    return table
