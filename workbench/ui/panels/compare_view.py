"""Compare panel: the same corpus under a second model configuration, side by side, and clusters with names.

Configuration A is the app's current embedding (and its layout); B is chosen here (provider, model, dim, task),
embedded through the shared cache and embedder pool, and laid out off the GUI thread. The two scatters share
AppState's selection (select in one, the same ids are ringed in the other) and ring the item hovered in the other.
The numbers come from core.compare, the report page from core.compare.report_html. The Clusters tab is the
ClusterEditor (cluster_editor.py); both maps colour by AppState's clusters when there are any.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
from PySide6.QtCore import QBuffer, QIODevice, Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from workbench.core.cache import EmbeddingCache
from workbench.core.compare import EXPLANATIONS, Comparison, compare, report_html
from workbench.core.embedders import DEFAULT_MODELS, default_spec
from workbench.core.embedders.base import EmbeddingSpec
from workbench.core.embedders.gemini import TASK_TYPES
from workbench.core.embedding import EmbeddingResult, embed_items
from workbench.core.exchange import ExchangeTable
from workbench.core.items import metadata_keys
from workbench.core.projection import project_2d_in_subprocess
from workbench.ui.panels.cluster_editor import ClusterEditor, make_cell, make_table
from workbench.ui.scatter import ScatterView
from workbench.ui.state import AppState
from workbench.ui.tasks import TaskRunner
from workbench.ui.widgets import MessageStrip, OnScreenRefresher

COMPARE_TASK = "compare-b"
SAME = QColor("#e6f4ea")  # a document both models put in a query's top k
PAIRED = {"knn_label_accuracy": "k-NN label accuracy", "silhouette": "silhouette (cosine)"}


def _shown(value: object) -> str:
    return f"{value:.3f}" if isinstance(value, float) else ("—" if value is None else str(value))


class CompareView(QWidget):
    def __init__(
        self, state: AppState, runner: TaskRunner, parent: QWidget | None = None, cache: EmbeddingCache | None = None
    ) -> None:
        super().__init__(parent)
        self.state, self.runner, self.cache = state, runner, cache
        self.result_b: EmbeddingResult | None = None
        self.xy_b: np.ndarray | None = None
        self.comparison: Comparison | None = None

        self.provider = QComboBox()
        self.provider.addItem("Local", "local")
        self.provider.addItem("Gemini", "gemini")
        self.model = QComboBox(editable=True)
        self.dim = QSpinBox(minimum=0, maximum=3072, specialValueText="native")
        self.task = QComboBox()
        self.layout_method = QComboBox()
        self.layout_method.addItem("UMAP", "umap")
        self.layout_method.addItem("PCA", "pca")
        self.k = QSpinBox(minimum=1, maximum=100, value=10)
        self.labels = QComboBox()
        self.labels.setToolTip("A metadata column holding class labels: adds k-NN label accuracy and silhouette")
        self.run_button = QPushButton("Embed B and compare")
        self.html_button, self.png_button = QPushButton("Report HTML…"), QPushButton("PNG…")
        top = QHBoxLayout()
        for widget in (QLabel("B:"), self.provider, self.model, QLabel("dim"), self.dim, QLabel("task"), self.task,
                       QLabel("layout"), self.layout_method):  # fmt: skip
            top.addWidget(widget)
        top.addStretch(1)
        second = QHBoxLayout()
        for widget in (QLabel("k"), self.k, QLabel("labels"), self.labels, self.run_button, self.html_button,
                       self.png_button):  # fmt: skip
            second.addWidget(widget)
        second.addStretch(1)

        self.scatter_a, self.scatter_b = ScatterView(), ScatterView()
        self.title_a, self.title_b = QLabel("A: the current embedding"), QLabel("B: not embedded yet")
        pair = QHBoxLayout()
        for title, scatter in ((self.title_a, self.scatter_a), (self.title_b, self.scatter_b)):
            title.setWordWrap(True)
            column = QVBoxLayout()
            column.addWidget(title)
            column.addWidget(scatter, 1)
            pair.addLayout(column, 1)

        self.numbers = make_table(["measure", "A", "B", "what it says"])
        self.query = QComboBox()
        self.query_table = make_table(["#", "A: top documents", "cos", "B: top documents", "cos"])
        self.query_table.horizontalHeader().setStretchLastSection(False)
        for column in (1, 3):  # the two lists share the width equally, side by side
            self.query_table.horizontalHeader().setSectionResizeMode(column, QHeaderView.ResizeMode.Stretch)
        queries = QWidget()
        query_layout = QVBoxLayout(queries)
        query_layout.setContentsMargins(0, 0, 0, 0)
        query_layout.addWidget(self.query)
        query_layout.addWidget(self.query_table, 1)

        self.cluster_editor = ClusterEditor(state, runner)

        self.tabs = QTabWidget()
        self.tabs.addTab(self.numbers, "Numbers")
        self.tabs.addTab(queries, "Queries")
        self.tabs.addTab(self.cluster_editor, "Clusters")
        self.tabs.setMaximumHeight(240)
        self.messages = MessageStrip()
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(second)
        layout.addWidget(self.messages)
        layout.addLayout(pair, 1)
        layout.addWidget(self.tabs)

        self.provider.currentIndexChanged.connect(self._provider_changed)
        self.run_button.clicked.connect(self.start_compare)
        self.html_button.clicked.connect(lambda: self.export_report())
        self.png_button.clicked.connect(lambda: self.export_png())
        self.query.currentIndexChanged.connect(self._fill_query)
        self.query_table.cellClicked.connect(self._query_cell_clicked)
        self._chosen_labels: str | None = ""  # "": the user has not chosen; None: chose "(none)"
        self.labels.activated.connect(lambda: setattr(self, "_chosen_labels", self.labels.currentData()))
        self.on_screen = OnScreenRefresher(self, self._redraw_both)  # two maps of every point: only when seen
        self.labels.currentIndexChanged.connect(self.on_screen.request)
        for mine, other in ((self.scatter_a, self.scatter_b), (self.scatter_b, self.scatter_a)):
            mine.selection_made.connect(self._selected)
            mine.hovered.connect(other.mark)
        state.projection_changed.connect(self.on_screen.request)
        state.selection_changed.connect(self._show_selection)
        state.clusters_changed.connect(self.on_screen.request)
        state.vectors_changed.connect(self._forget_b)
        state.corpus_changed.connect(self._fill_label_columns)
        self._provider_changed()
        self._fill_label_columns()
        self._forget_b()

    # -- configuration B ---------------------------------------------------------------------------------------
    def _provider_changed(self) -> None:
        provider = self.provider.currentData()
        self.model.clear()
        self.model.addItem(DEFAULT_MODELS[provider])
        if provider == "gemini":
            self.model.addItems(["gemini-embedding-2"])
        self.task.clear()
        self.task.addItem("per kind (default)", None)
        if provider == "gemini":
            for task in TASK_TYPES:
                self.task.addItem(task, task)

    def _fill_label_columns(self) -> None:
        """Offer the metadata columns; keep the user's choice, else take the first column (often the labels)."""
        embedding = self.state.embedding
        columns = embedding.metadata_keys if embedding else metadata_keys(self.state.corpus.documents)
        self.labels.blockSignals(True)
        self.labels.clear()
        self.labels.addItem("(none)", None)
        for column in columns:
            self.labels.addItem(column, column)
        index = self.labels.findData(self._chosen_labels) if self._chosen_labels != "" else -1
        self.labels.setCurrentIndex(index if index >= 0 else min(1, self.labels.count() - 1))
        self.labels.blockSignals(False)

    def spec_b(self) -> EmbeddingSpec:
        model = self.model.currentText().strip() or None
        spec = default_spec(self.provider.currentData(), model, self.dim.value() or None)
        task = self.task.currentData()
        return replace(spec, document_task=task, query_task=task) if task else spec

    # -- embed, lay out, compare -------------------------------------------------------------------------------
    def start_compare(self) -> None:
        embedding = self.state.embedding
        if embedding is None:
            self.messages.show_warning("Embed the corpus first: B is compared with the current embedding.")
            return
        try:
            embedder = self.state.embedder(self.spec_b())
        except Exception as error:  # noqa: BLE001 - the sentence is for the user
            self.messages.show_error(str(error))
            return
        self.messages.clear()
        cache, k, label = self.cache, self.k.value(), self.labels.currentData()
        method, xy_a = self.layout_method.currentData(), self.state.projection

        def embed_project_compare(progress, cancelled):
            result_b = embed_items(embedding.items, embedder, cache, progress, cancelled)
            xy_b = project_2d_in_subprocess(result_b.vectors, method, cancelled=cancelled).xy
            layout_a = xy_a  # A has no layout yet (rare: the projection view lays out new vectors): make one
            if layout_a is None:
                layout_a = project_2d_in_subprocess(embedding.vectors, method, cancelled=cancelled).xy
            table_a = ExchangeTable(embedding.items, embedding.vectors, embedding.spec)
            table_b = ExchangeTable(result_b.items, result_b.vectors, result_b.spec)
            comparison = compare(table_a, table_b, k=k, label_column=label, progress=progress, cancelled=cancelled)
            return embedding, result_b, xy_b, layout_a, comparison

        self.runner.start(COMPARE_TASK, "Embedding and comparing B", embed_project_compare, self._compared,
                          self.messages.show_error)  # fmt: skip

    def _compared(self, outcome) -> None:
        embedding, result_b, xy_b, xy_a, comparison = outcome
        if embedding is not self.state.embedding:  # new vectors since: B was compared with the old A
            return
        self.result_b, self.xy_b, self.comparison = result_b, xy_b, comparison
        if self.state.projection is None:
            self.state.set_projection(xy_a, "Layout from the Compare panel.")
        self.title_b.setText(f"B: {_label(result_b)}")
        self.on_screen.request()
        self._fill_numbers()
        self._fill_queries()
        for button in (self.html_button, self.png_button):
            button.setEnabled(True)

    def _forget_b(self) -> None:
        self.runner.cancel(COMPARE_TASK)
        self.result_b = self.xy_b = self.comparison = None
        self.title_b.setText("B: not embedded yet")
        self.scatter_b.set_points(np.zeros((0, 2)), [], [], [], np.zeros(0), [])
        self.numbers.setRowCount(0)
        self.query.clear()
        self.query_table.setRowCount(0)
        for button in (self.html_button, self.png_button):
            button.setEnabled(False)
        self._fill_label_columns()

    def _fill_numbers(self) -> None:
        """One row per measure: paired ones (…_a, …_b) in the A and B columns, shared ones across both."""
        assert self.comparison is not None
        numbers = dict(self.comparison.numbers)
        rows: list[tuple[str, str, str | None, str]] = [
            ("model", str(numbers.pop("model_a")), str(numbers.pop("model_b")), ""),
            ("ids only in one file", str(self.comparison.only_in_a), str(self.comparison.only_in_b),
             "items compared are those in both"),
        ]  # fmt: skip
        pairs = numbers.pop("pairs", "")
        for key, value in numbers.items():
            stem = key[:-2]
            meaning = EXPLANATIONS.get(key, "") + (f" ({pairs})" if key == "similarity_rank_correlation" else "")
            if key.endswith("_a") and stem in PAIRED:
                rows.append((PAIRED[stem], _shown(value), _shown(numbers.get(f"{stem}_b")), meaning))
            elif not (key.endswith("_b") and stem in PAIRED):
                rows.append((key, _shown(value), None, meaning))
        self.numbers.clearSpans()
        self.numbers.setRowCount(len(rows))
        for row, (name, a, b, meaning) in enumerate(rows):
            self.numbers.setItem(row, 0, make_cell(name))
            self.numbers.setItem(row, 1, make_cell(a))
            if b is None:
                self.numbers.setItem(row, 2, make_cell(""))
                self.numbers.setSpan(row, 1, 1, 2)  # one number for both models
            else:
                self.numbers.setItem(row, 2, make_cell(b))
            self.numbers.setItem(row, 3, make_cell(meaning))
            self.numbers.item(row, 3).setToolTip(meaning)
        self.numbers.resizeColumnsToContents()

    def _fill_queries(self) -> None:
        self.query.blockSignals(True)
        self.query.clear()
        for tops in self.comparison.query_tops if self.comparison else []:
            self.query.addItem(f"{tops['text'][:80]}  (overlap {tops['overlap']:.2f})", tops["id"])
        self.query.blockSignals(False)
        self._fill_query()

    def _fill_query(self) -> None:
        tops = next((q for q in (self.comparison.query_tops if self.comparison else [])
                     if q["id"] == self.query.currentData()), None)  # fmt: skip
        self.query_table.setRowCount(0 if tops is None else len(tops["top_a"]))
        if tops is None:
            return
        texts = {item.id: item.text for item in self.state.embedding.items} if self.state.embedding else {}
        pairs = zip(tops["top_a"], tops["scores_a"], tops["top_b"], tops["scores_b"], strict=True)
        for row, (ida, sa, idb, sb) in enumerate(pairs):
            values = (str(row + 1), texts.get(ida, ida), f"{sa:.3f}", texts.get(idb, idb), f"{sb:.3f}")
            cells = [make_cell(value) for value in values]
            cells[1].setData(Qt.ItemDataRole.UserRole, ida)
            cells[3].setData(Qt.ItemDataRole.UserRole, idb)
            for column, shared in ((1, ida in tops["top_b"]), (3, idb in tops["top_a"])):
                if shared:
                    cells[column].setBackground(QBrush(SAME))
            for column, cell in enumerate(cells):
                self.query_table.setItem(row, column, cell)

    def _query_cell_clicked(self, row: int, column: int) -> None:
        cell = self.query_table.item(row, column)
        item_id = cell.data(Qt.ItemDataRole.UserRole) if cell else None
        if item_id:
            self.state.set_selection([self.query.currentData(), item_id])

    # -- drawing and linking -----------------------------------------------------------------------------------
    def _draw_a(self) -> None:
        embedding = self.state.embedding
        self.title_a.setText(f"A: {_label(embedding)}" if embedding else "A: the current embedding")
        if self.state.projection is not None:
            self._draw(self.scatter_a, self.state.projection)
        else:
            self.scatter_a.set_points(np.zeros((0, 2)), [], [], [], np.zeros(0), [])

    def _redraw_both(self) -> None:
        self._draw_a()
        if self.xy_b is not None:
            self._draw(self.scatter_b, self.xy_b)

    def _draw(self, scatter: ScatterView, xy: np.ndarray) -> None:
        """Colour by cluster when there are clusters, else by the chosen label column, else by kind."""
        embedding = self.state.embedding
        if embedding is None or len(xy) != len(embedding.items):
            return
        items, column, clusters = embedding.items, self.labels.currentData(), self.state.clusters
        if clusters is not None:  # one colour per cluster id (names may repeat), largest first, noise last
            keys: list = [int(c) for c in clusters]
            order = sorted(set(keys), key=lambda c: (c == -1, c))
            names = [self.state.cluster_names.get(c, f"cluster {c}") for c in order]
        else:
            if column:
                keys = [str(item.metadata.get(column, "—")) for item in items]
            else:
                keys = ["documents" if item.kind == "document" else "queries" for item in items]
            order = names = list(dict.fromkeys(keys))
        index = {key: i for i, key in enumerate(order)}
        values = [index[key] for key in keys]
        symbols = ["o" if item.kind == "document" else "star" for item in items]
        scatter.set_points(xy, [i.id for i in items], [i.text for i in items], symbols,
                           np.array(values), names, row_of=self.state.row_of)  # fmt: skip
        scatter.set_selected(self.state.selection)

    def _selected(self, ids: list[str], additive: bool) -> None:
        self.state.set_selection([*self.state.selection, *ids] if additive else ids)

    def _show_selection(self) -> None:
        self.scatter_a.set_selected(self.state.selection)
        self.scatter_b.set_selected(self.state.selection)

    # -- exports -----------------------------------------------------------------------------------------------
    def export_report(self, path: str | None = None) -> Path | None:
        """A self-contained HTML page: both maps as embedded PNGs, the numbers, each query's tops side by side."""
        if self.comparison is None:
            return None
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, "Export comparison report", "comparison.html", "*.html")
            if not path:
                return None
        texts = {item.id: item.text for item in self.state.embedding.items} if self.state.embedding else {}
        images = [(self.title_a.text(), _png(self.scatter_a)), (self.title_b.text(), _png(self.scatter_b))]
        return self._write(Path(path), report_html(self.comparison, texts, images).encode("utf-8"))

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
