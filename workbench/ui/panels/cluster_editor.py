"""Clusters of the current vectors: ask the pipeline to find them, list them with sizes, let the user rename them.

The labels and names live in AppState, so every view colours by them and exports, workspaces and Milvus carry
them; the method and its parameters are AppState's view settings. This widget only sends intents (cluster,
rename) and shows the table, each cluster with the colour the map gives it (AppState.encoding).
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
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

from workbench.core.clusters import NOISE
from workbench.ui.pipeline import Pipeline
from workbench.ui.state import AppState
from workbench.ui.widgets import MessageStrip, StaleNote, synced


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

    def __init__(self, state: AppState, pipeline: Pipeline, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.method = QComboBox()
        self.method.addItem("HDBSCAN", "hdbscan")
        self.method.addItem("k-means", "kmeans")
        self.clusters_k = QSpinBox(minimum=2, maximum=200)
        self.min_size = QSpinBox(minimum=2, maximum=1000)
        self.cluster_button = QPushButton("Cluster")
        self.cluster_button.setToolTip("Cluster the current embedding; names are each cluster's distinctive words")
        self.table = make_table(["cluster", "documents", "name (double-click to rename)"])
        self.messages = MessageStrip()
        self.messages.follow(pipeline.notice, "clusters")
        row = QHBoxLayout()
        for widget in (self.method, QLabel("k"), self.clusters_k, QLabel("min size"), self.min_size,
                       self.cluster_button):  # fmt: skip
            row.addWidget(widget)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(StaleNote(state, self))
        layout.addWidget(self.messages)
        layout.addWidget(self.table, 1)

        self._show_view_settings()
        self.method.currentIndexChanged.connect(lambda: state.set_view(cluster_method=self.method.currentData()))
        self.clusters_k.valueChanged.connect(lambda value: state.set_view(cluster_count=value))
        self.min_size.valueChanged.connect(lambda value: state.set_view(cluster_min_size=value))
        self.cluster_button.clicked.connect(pipeline.cluster)
        self.table.itemChanged.connect(self._renamed)
        state.view_changed.connect(self._show_view_settings)
        state.clusters_changed.connect(self._fill)

    def _show_view_settings(self, *_: object) -> None:
        view = self.state.view
        with synced(self.method, self.clusters_k, self.min_size):
            self.method.setCurrentIndex(max(0, self.method.findData(view.cluster_method)))
            self.clusters_k.setValue(view.cluster_count)
            self.min_size.setValue(view.cluster_min_size)
        kmeans = view.cluster_method == "kmeans"
        self.clusters_k.setEnabled(kmeans)
        self.min_size.setEnabled(not kmeans)

    def _fill(self) -> None:
        labels, ids, first, counts, encoding = self.state.clusters, [], [], [], None
        if labels is not None and self.state.embedding is not None:
            ids, first = np.unique(labels, return_index=True)
            documents = labels[self.state.embedding.kinds != "query"]  # sizes count documents, as the message does
            sizes = dict(zip(*np.unique(documents, return_counts=True), strict=True))
            counts = [int(sizes.get(cluster, 0)) for cluster in ids]
            encoding = self.state.encoding("cluster")
        with synced(self.table):
            self.table.setRowCount(len(ids))
            for row, (cluster, at, count) in enumerate(zip(ids, first, counts, strict=True)):
                cluster = int(cluster)
                name = self.state.cluster_names.get(cluster, "")
                cells = (make_cell(str(cluster)), make_cell(str(count)), make_cell(name, cluster != NOISE))
                if encoding is not None:  # the colour the map gives this cluster, as a swatch
                    cells[0].setData(Qt.ItemDataRole.DecorationRole, QColor(encoding.colours[encoding.categories[at]]))
                for column, cell in enumerate(cells):
                    self.table.setItem(row, column, cell)

    def _renamed(self, cell: QTableWidgetItem) -> None:
        if cell.column() == 2:
            self.state.rename_cluster(int(self.table.item(cell.row(), 0).text()), cell.text())
