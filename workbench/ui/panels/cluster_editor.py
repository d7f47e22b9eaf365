"""Clusters of the current vectors: find them off the GUI thread, list them with sizes, let the user rename them.

The labels and names live in AppState (`set_clusters`), so every view colours by them and exports, workspaces and
Milvus carry them; this widget only starts the work and edits the names. The work is core.clusters.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from workbench.core.clusters import NOISE, cluster_vectors, name_clusters
from workbench.ui.state import AppState
from workbench.ui.tasks import TaskRunner
from workbench.ui.widgets import MessageStrip

CLUSTER_TASK = "cluster"


def make_table(columns: list[str]) -> QTableWidget:
    """A compact read-mostly table: no row numbers, no word wrap, columns sized to their contents."""
    table = QTableWidget(0, len(columns))
    table.setHorizontalHeaderLabels(columns)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    table.horizontalHeader().setStretchLastSection(True)
    table.verticalHeader().hide()
    table.verticalHeader().setDefaultSectionSize(table.fontMetrics().height() + 6)
    table.setWordWrap(False)
    return table


def make_cell(text: str, editable: bool = False) -> QTableWidgetItem:
    cell = QTableWidgetItem(text)
    if not editable:
        cell.setFlags(cell.flags() & ~Qt.ItemFlag.ItemIsEditable)
    return cell


class ClusterEditor(QWidget):
    """HDBSCAN or k-means over AppState's vectors; a table of clusters whose names the user may edit."""

    def __init__(self, state: AppState, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state, self.runner = state, runner
        self.method = QComboBox()
        self.method.addItem("HDBSCAN", "hdbscan")
        self.method.addItem("k-means", "kmeans")
        self.clusters_k = QSpinBox(minimum=2, maximum=200, value=8)
        self.min_size = QSpinBox(minimum=2, maximum=1000, value=5)
        self.cluster_button = QPushButton("Cluster")
        self.cluster_button.setToolTip("Cluster the current embedding; names are each cluster's distinctive words")
        self.table = make_table(["cluster", "size", "name (double-click to rename)"])
        self.messages = MessageStrip()
        row = QHBoxLayout()
        for widget in (self.method, QLabel("k"), self.clusters_k, QLabel("min size"), self.min_size,
                       self.cluster_button):  # fmt: skip
            row.addWidget(widget)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.messages)
        layout.addWidget(self.table, 1)

        self.method.currentIndexChanged.connect(self._method_changed)
        self.cluster_button.clicked.connect(self.start_clustering)
        self.table.itemChanged.connect(self._renamed)
        state.clusters_changed.connect(self._fill)
        self._method_changed()

    def _method_changed(self) -> None:
        kmeans = self.method.currentData() == "kmeans"
        self.clusters_k.setEnabled(kmeans)
        self.min_size.setEnabled(not kmeans)

    def start_clustering(self) -> None:
        embedding = self.state.embedding
        if embedding is None:
            self.messages.show_warning("Embed the corpus first.")
            return
        self.messages.clear()
        vectors, texts = embedding.vectors, [item.text for item in embedding.items]
        method, k, size = self.method.currentData(), self.clusters_k.value(), self.min_size.value()

        def find(progress, cancelled):
            labels = cluster_vectors(vectors, method, k, size, progress=progress, cancelled=cancelled)
            return embedding, labels, name_clusters(texts, labels)

        self.runner.start(CLUSTER_TASK, "Clustering", find, self._clustered, self.messages.show_error)

    def _clustered(self, outcome) -> None:
        embedding, labels, names = outcome
        if embedding is not self.state.embedding:  # new vectors since: these labels belong to the old rows
            return
        self.state.set_clusters(labels, names)
        found = len(set(labels.tolist()) - {NOISE})
        self.messages.show_info(f"{found} clusters, {int((labels == NOISE).sum())} items as noise.")

    def _fill(self) -> None:
        self.table.blockSignals(True)
        labels = self.state.clusters
        ids, counts = np.unique(labels, return_counts=True) if labels is not None else ([], [])
        self.table.setRowCount(len(ids))
        for row, (cluster, count) in enumerate(zip(ids, counts, strict=True)):
            name = self.state.cluster_names.get(int(cluster), "")
            cells = (make_cell(str(cluster)), make_cell(str(count)), make_cell(name, int(cluster) != NOISE))
            for column, cell in enumerate(cells):
                self.table.setItem(row, column, cell)
        self.table.blockSignals(False)

    def _renamed(self, cell: QTableWidgetItem) -> None:
        if cell.column() != 2 or self.state.clusters is None:
            return
        cluster = int(self.table.item(cell.row(), 0).text())
        names = {**self.state.cluster_names, cluster: cell.text().strip() or f"cluster {cluster}"}
        self.state.set_clusters(self.state.clusters, names)
