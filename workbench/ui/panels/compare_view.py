"""Compare panel: the same corpus under a second model configuration, side by side, and clusters with names.

Configuration A is the app's current embedding; B is chosen here, embedded through the shared cache and the
shared embedder pool, and laid out with UMAP in a child process. The two scatters share AppState's selection
(select in one, see the same items in the other) and ring the item hovered in the other. The numbers come from
core.compare; clusters from core.clusters, written to AppState so every view can colour by them.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path

import numpy as np
from PySide6.QtCore import QBuffer, QIODevice, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from workbench.core.cache import EmbeddingCache
from workbench.core.clusters import cluster_vectors, name_clusters
from workbench.core.compare import Comparison, compare
from workbench.core.embedders import default_spec
from workbench.core.embedders.base import EmbeddingSpec
from workbench.core.embedding import EmbeddingResult, embed_items
from workbench.core.exchange import ExchangeTable
from workbench.core.projection import project_2d_in_subprocess
from workbench.ui.scatter import ScatterView
from workbench.ui.state import AppState
from workbench.ui.tasks import TaskRunner
from workbench.ui.widgets import MessageStrip

COMPARE_TASK, CLUSTER_TASK = "compare-b", "cluster"


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
        self.model = QLineEdit("all-MiniLM-L6-v2")
        self.dim = QSpinBox(minimum=0, maximum=3072, specialValueText="native")
        self.k = QSpinBox(minimum=1, maximum=100, value=10)
        self.run_button = QPushButton("Embed B and compare")
        self.report_button = QPushButton("Export report…")
        self.report_button.setEnabled(False)
        top = QHBoxLayout()
        for widget in (QLabel("B:"), self.provider, self.model, QLabel("dim"), self.dim, QLabel("k"), self.k,
                       self.run_button, self.report_button):  # fmt: skip
            top.addWidget(widget)
        top.addStretch(1)
        self.scatter_a, self.scatter_b = ScatterView(), ScatterView()
        self.title_a, self.title_b = QLabel("A: the current embedding"), QLabel("B: not embedded yet")
        pair = QHBoxLayout()
        for title, scatter in ((self.title_a, self.scatter_a), (self.title_b, self.scatter_b)):
            column = QVBoxLayout()
            column.addWidget(title)
            column.addWidget(scatter, 1)
            pair.addLayout(column, 1)
        self.numbers = QTableWidget(0, 2)
        self.numbers.setHorizontalHeaderLabels(["measure", "value"])
        self.numbers.horizontalHeader().setStretchLastSection(True)
        self.numbers.verticalHeader().hide()
        self.numbers.setMaximumHeight(170)

        self.method = QComboBox()
        self.method.addItem("HDBSCAN", "hdbscan")
        self.method.addItem("k-means", "kmeans")
        self.clusters_k = QSpinBox(minimum=2, maximum=200, value=8)
        self.min_size = QSpinBox(minimum=2, maximum=1000, value=5)
        self.cluster_button = QPushButton("Cluster A")
        self.cluster_table = QTableWidget(0, 3)
        self.cluster_table.setHorizontalHeaderLabels(["cluster", "size", "name (editable)"])
        self.cluster_table.horizontalHeader().setStretchLastSection(True)
        self.cluster_table.verticalHeader().hide()
        self.cluster_table.setMaximumHeight(170)
        cluster_row = QHBoxLayout()
        for widget in (QLabel("Clusters:"), self.method, QLabel("k"), self.clusters_k, QLabel("min size"),
                       self.min_size, self.cluster_button):  # fmt: skip
            cluster_row.addWidget(widget)
        cluster_row.addStretch(1)
        self.messages = MessageStrip()
        bottom = QHBoxLayout()
        bottom.addWidget(self.numbers, 1)
        bottom.addWidget(self.cluster_table, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.messages)
        layout.addLayout(pair, 1)
        layout.addLayout(cluster_row)
        layout.addLayout(bottom)

        self.provider.currentIndexChanged.connect(self._provider_changed)
        self.run_button.clicked.connect(self.start_compare)
        self.report_button.clicked.connect(lambda: self.export_report())
        self.cluster_button.clicked.connect(self.start_clustering)
        self.cluster_table.itemChanged.connect(self._renamed)
        for mine, other in ((self.scatter_a, self.scatter_b), (self.scatter_b, self.scatter_a)):
            mine.selection_made.connect(self._selected)
            mine.hovered.connect(other.mark)
        state.projection_changed.connect(self._draw_a)
        state.selection_changed.connect(self._show_selection)
        state.clusters_changed.connect(self._fill_clusters)
        state.vectors_changed.connect(self._forget_b)

    # -- B -----------------------------------------------------------------------------------------------------
    def _provider_changed(self) -> None:
        self.model.setText("all-MiniLM-L6-v2" if self.provider.currentData() == "local" else "gemini-embedding-001")

    def spec_b(self) -> EmbeddingSpec:
        return default_spec(self.provider.currentData(), self.model.text().strip() or None, self.dim.value() or None)

    def start_compare(self) -> None:
        embedding = self.state.embedding
        if embedding is None:
            self.messages.show_warning("Embed the corpus first: B is compared with the current embedding.")
            return
        try:
            embedder = self.state.embedder(self.spec_b())
        except Exception as error:  # noqa: BLE001 - shown to the user
            self.messages.show_error(str(error))
            return
        self.messages.clear()
        items, cache, k = embedding.items, self.cache, self.k.value()

        def embed_project_compare(progress, cancelled):
            result_b = embed_items(items, embedder, cache, progress, cancelled)
            xy_b = project_2d_in_subprocess(result_b.vectors, cancelled=cancelled).xy
            table_a = ExchangeTable(embedding.items, embedding.vectors, embedding.spec)
            table_b = ExchangeTable(result_b.items, result_b.vectors, result_b.spec)
            labels = next((key for item in items for key in item.metadata), None)
            return result_b, xy_b, compare(table_a, table_b, k=k, label_column=labels)

        self.runner.start(COMPARE_TASK, "Embedding and comparing B", embed_project_compare, self._compared,
                          self.messages.show_error)  # fmt: skip

    def _compared(self, outcome) -> None:
        self.result_b, self.xy_b, self.comparison = outcome
        spec = self.result_b.spec
        self.title_b.setText(f"B: {spec.provider} · {spec.model} · {self.result_b.dim}-d")
        self._draw(self.scatter_b, self.xy_b)
        self._fill_numbers()
        self.report_button.setEnabled(True)
        self._show_selection()

    def _forget_b(self) -> None:
        self.result_b = self.xy_b = self.comparison = None
        self.title_b.setText("B: not embedded yet")
        self.numbers.setRowCount(0)
        self.report_button.setEnabled(False)

    def _fill_numbers(self) -> None:
        assert self.comparison is not None
        rows = [(k, v) for k, v in self.comparison.numbers.items() if v is not None]
        rows += [("ids only in A", self.comparison.only_in_a), ("ids only in B", self.comparison.only_in_b)]
        self.numbers.setRowCount(len(rows))
        for row, (key, value) in enumerate(rows):
            self.numbers.setItem(row, 0, QTableWidgetItem(key))
            self.numbers.setItem(row, 1, QTableWidgetItem(f"{value:.3f}" if isinstance(value, float) else str(value)))

    # -- drawing and linking -----------------------------------------------------------------------------------
    def _draw_a(self) -> None:
        embedding = self.state.embedding
        self.title_a.setText(f"A: {embedding.spec.label()}" if embedding else "A: the current embedding")
        if self.state.projection is not None:
            self._draw(self.scatter_a, self.state.projection)

    def _draw(self, scatter: ScatterView, xy: np.ndarray) -> None:
        embedding = self.state.embedding
        if embedding is None or len(xy) != len(embedding.items):
            return
        clusters = self.state.clusters
        if clusters is not None:
            names = [self.state.cluster_names.get(int(c), str(c)) for c in sorted(set(clusters.tolist()))]
            index = {c: i for i, c in enumerate(sorted(set(clusters.tolist())))}
            categories = np.array([index[int(c)] for c in clusters])
        else:
            names = ["documents", "queries"]
            categories = np.array([0 if item.kind == "document" else 1 for item in embedding.items])
        scatter.set_points(
            xy,
            [item.id for item in embedding.items],
            [item.text for item in embedding.items],
            ["o" if item.kind == "document" else "star" for item in embedding.items],
            categories,
            names,
        )

    def _selected(self, ids: list[str], additive: bool) -> None:
        self.state.set_selection([*self.state.selection, *ids] if additive else ids)

    def _show_selection(self) -> None:
        self.scatter_a.set_selected(self.state.selection)
        self.scatter_b.set_selected(self.state.selection)

    # -- clusters ----------------------------------------------------------------------------------------------
    def start_clustering(self) -> None:
        embedding = self.state.embedding
        if embedding is None:
            self.messages.show_warning("Embed the corpus first.")
            return
        vectors, texts = embedding.vectors, [item.text for item in embedding.items]
        method, k, size = self.method.currentData(), self.clusters_k.value(), self.min_size.value()

        def find(progress, cancelled):
            labels = cluster_vectors(vectors, method, k, size)
            return labels, name_clusters(texts, labels)

        self.runner.start(CLUSTER_TASK, "Clustering", find, lambda out: self.state.set_clusters(*out),
                          self.messages.show_error)  # fmt: skip

    def _fill_clusters(self) -> None:
        self.cluster_table.blockSignals(True)
        labels = self.state.clusters
        if labels is None:
            self.cluster_table.setRowCount(0)
        else:
            ids, counts = np.unique(labels, return_counts=True)
            self.cluster_table.setRowCount(len(ids))
            for row, (cluster, count) in enumerate(zip(ids, counts, strict=True)):
                for column, text in enumerate(
                    (str(cluster), str(count), self.state.cluster_names.get(int(cluster), ""))
                ):
                    cell = QTableWidgetItem(text)
                    if column < 2:
                        cell.setFlags(cell.flags() & ~Qt.ItemFlag.ItemIsEditable)
                    self.cluster_table.setItem(row, column, cell)
        self.cluster_table.blockSignals(False)
        self._draw_a()
        if self.xy_b is not None:
            self._draw(self.scatter_b, self.xy_b)

    def _renamed(self, cell: QTableWidgetItem) -> None:
        if cell.column() != 2 or self.state.clusters is None:
            return
        cluster = int(self.cluster_table.item(cell.row(), 0).text())
        names = {**self.state.cluster_names, cluster: cell.text().strip() or f"cluster {cluster}"}
        self.state.set_clusters(self.state.clusters, names)

    # -- report ------------------------------------------------------------------------------------------------
    def export_report(self, path: str | None = None) -> Path | None:
        """A self-contained HTML page: both maps as embedded PNGs, the numbers, each query's top documents."""
        if self.comparison is None:
            return None
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, "Export comparison report", "comparison.html", "*.html")
            if not path:
                return None
        rows = "".join(f"<tr><td>{html.escape(str(k))}</td><td>{v:.4f}</td></tr>" if isinstance(v, float)
                       else f"<tr><td>{html.escape(str(k))}</td><td>{html.escape(str(v))}</td></tr>"
                       for k, v in self.comparison.numbers.items())  # fmt: skip
        texts = {item.id: item.text for item in self.state.embedding.items} if self.state.embedding else {}
        queries = "".join(
            f"<h3>{html.escape(q['text'])} (overlap {q['overlap']:.2f})</h3><table><tr><th>A</th><th>B</th></tr>"
            + "".join(
                f"<tr><td>{html.escape(texts.get(a, a))}</td><td>{html.escape(texts.get(b, b))}</td></tr>"
                for a, b in zip(q["top_a"], q["top_b"], strict=True)
            )
            + "</table>"
            for q in self.comparison.query_tops
        )
        page = (
            "<!doctype html><meta charset='utf-8'><title>Embedding comparison</title>"
            "<style>body{font-family:sans-serif;margin:2em}td,th{padding:2px 8px;border-bottom:1px solid #ddd}"
            "img{width:48%}</style>"
            f"<h1>Embedding comparison</h1><p>{html.escape(self.title_a.text())}<br>{html.escape(self.title_b.text())}"
            f"</p><img src='data:image/png;base64,{_png(self.scatter_a)}'><img src='data:image/png;base64,"
            f"{_png(self.scatter_b)}'><table>{rows}</table>{queries}"
        )
        Path(path).write_text(page, encoding="utf-8")
        return Path(path)


def _png(widget: QWidget) -> str:
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    widget.grab().save(buffer, "PNG")
    return base64.b64encode(bytes(buffer.data())).decode()
