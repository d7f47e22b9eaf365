"""Clusters of the current vectors: ask the pipeline to find them, list them with sizes, let the user rename them.

The labels and names live in AppState, so every view colours by them and exports, workspaces and Milvus carry
them; the method and its parameters are AppState's view settings, shown in words a person reasons with ("smallest
cluster", "how many clusters, about"). This widget only sends intents (cluster, rename) and shows the table: each
cluster with the colour the map gives it (AppState.encoding), how many of its documents were noise given to it,
its sub-clusters (the second level, named on the map when zoomed in), and, when Gemini named it, the prompt that
did, under the table.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
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

COLUMNS = ["cluster", "documents", "from noise", "name (double-click to rename)", "sub-clusters (zoom in on the map)"]
NAME_COLUMN, SUBCLUSTERS_COLUMN = 3, 4


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
        self.method.addItem("UMAP + HDBSCAN", "hdbscan")
        self.method.addItem("k-means", "kmeans")
        self.method.setToolTip("UMAP + HDBSCAN finds how many clusters there are and leaves outliers as noise; "
                               "k-means makes as many as you say")  # fmt: skip
        self.clusters_k = QSpinBox(minimum=2, maximum=200)
        self.clusters_k.setToolTip("k-means: the number of clusters it makes")
        self.min_size = QSpinBox(minimum=0, maximum=10_000)
        self.min_size.setSpecialValueText("automatic")
        self.min_size.setToolTip("The fewest documents a topic may have; smaller groups are noise. Automatic: half "
                                 "the square root of the number of documents, at least 4.")  # fmt: skip
        self.assign_noise = QCheckBox("noise → nearest cluster")
        self.assign_noise.setToolTip("Each noise document joins the cluster whose centre is nearest (cosine); the "
                                     "table counts them under 'from noise'")  # fmt: skip
        self.names_source = QComboBox()
        self.names_source.addItem("words", "words")
        self.names_source.addItem("Gemini", "gemini")
        self.names_source.setToolTip("words: each cluster's distinctive words and phrases, offline. Gemini: one "
                                     "request per cluster (needs a key); the prompt shows under the table")  # fmt: skip
        self.on_map = QCheckBox("on the map")
        self.on_map.setToolTip("Write cluster names on the map: clusters zoomed out, sub-clusters zoomed in")
        self.cluster_button = QPushButton("Cluster")
        self.cluster_button.setToolTip("Cluster the current embedding, split each cluster, and name both levels")
        self.table = make_table(COLUMNS)
        self.prompt = QPlainTextEdit(readOnly=True)
        self.prompt.setPlaceholderText("Gemini names: the prompt of the selected cluster shows here, as it was sent.")
        self.prompt.setMaximumHeight(90)
        self.messages = MessageStrip()
        self.messages.follow(pipeline.notice, "clusters")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        # three fixed rows rather than a flowing one: in the docked Compare panel at 1366 × 768 the tab is short, and
        # a flowing row's height was not reserved there (the message strip covered its last line)
        for row in ((self.method, QLabel("smallest cluster"), self.min_size),
                    (QLabel("how many clusters, about"), self.clusters_k, self.assign_noise),
                    (QLabel("names"), self.names_source, self.on_map, self.cluster_button)):  # fmt: skip
            line = QHBoxLayout()
            for widget in row:
                line.addWidget(widget)
            line.addStretch(1)
            layout.addLayout(line)
        layout.addWidget(StaleNote(state, self))
        layout.addWidget(self.messages)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.prompt)

        self._show_view_settings()
        self.method.currentIndexChanged.connect(lambda: state.set_view(cluster_method=self.method.currentData()))
        self.clusters_k.valueChanged.connect(lambda value: state.set_view(cluster_count=value))
        self.min_size.valueChanged.connect(lambda value: state.set_view(cluster_min_size=max(value, 2) if value
                                                                        else 0))  # fmt: skip
        self.assign_noise.toggled.connect(lambda on: state.set_view(cluster_assign_noise=on))
        self.names_source.currentIndexChanged.connect(
            lambda: state.set_view(cluster_names_source=self.names_source.currentData())
        )
        self.on_map.toggled.connect(lambda on: state.set_view(cluster_names_on_map=on))
        self.cluster_button.clicked.connect(pipeline.cluster)
        self.table.itemChanged.connect(self._renamed)
        self.table.currentCellChanged.connect(self._show_prompt)
        state.view_changed.connect(self._show_view_settings)
        state.clusters_changed.connect(self._fill)
        state.encoding_ready.connect(lambda colour_by: colour_by == "cluster" and self._fill())

    def _show_view_settings(self, *_: object) -> None:
        view = self.state.view
        with synced(self.method, self.clusters_k, self.min_size, self.assign_noise, self.names_source, self.on_map):
            self.method.setCurrentIndex(max(0, self.method.findData(view.cluster_method)))
            self.clusters_k.setValue(view.cluster_count)
            self.min_size.setValue(view.cluster_min_size)
            self.assign_noise.setChecked(view.cluster_assign_noise)
            self.names_source.setCurrentIndex(max(0, self.names_source.findData(view.cluster_names_source)))
            self.on_map.setChecked(view.cluster_names_on_map)
        kmeans = view.cluster_method == "kmeans"
        self.clusters_k.setEnabled(kmeans)
        self.min_size.setEnabled(not kmeans)
        self.assign_noise.setEnabled(not kmeans)  # k-means leaves no noise

    def _fill(self) -> None:
        labels, ids, first, counts, encoding = self.state.clusters, [], [], [], None
        from_noise: dict[int, int] = {}
        if labels is not None and self.state.embedding is not None:
            ids, first = np.unique(labels, return_index=True)
            documents = self.state.embedding.kinds != "query"  # sizes count documents, as the message does
            sizes = dict(zip(*np.unique(labels[documents], return_counts=True), strict=True))
            counts = [int(sizes.get(cluster, 0)) for cluster in ids]
            assigned = self.state.cluster_assigned
            if assigned is not None:
                from_noise = dict(zip(*np.unique(labels[documents & assigned], return_counts=True), strict=True))
            encoding = self.state.encoding_if_ready("cluster")  # None while a worker makes it: swatches later
        inside: dict[int, list[str]] = {}
        for sub, parent in sorted(self.state.subcluster_parent.items()):
            inside.setdefault(parent, []).append(self.state.subcluster_names.get(sub, f"cluster {sub}"))
        with synced(self.table):
            self.table.setRowCount(len(ids))
            for row, (cluster, at, count) in enumerate(zip(ids, first, counts, strict=True)):
                cluster = int(cluster)
                name = self.state.cluster_names.get(cluster, "")
                parts = inside.get(cluster, [])
                cells = (make_cell(str(cluster)), make_cell(str(count)),
                         make_cell(str(from_noise.get(cluster, "")) if cluster != NOISE else ""),
                         make_cell(name, cluster != NOISE),
                         make_cell(" | ".join(parts) if len(parts) > 1 else ""))  # fmt: skip
                cells[4].setToolTip("\n".join(parts))
                if encoding is not None:  # the colour the map gives this cluster, as a swatch
                    cells[0].setData(Qt.ItemDataRole.DecorationRole, QColor(encoding.colours[encoding.categories[at]]))
                for column, cell in enumerate(cells):
                    self.table.setItem(row, column, cell)
        self.prompt.setVisible(bool(self.state.cluster_prompts))
        self._show_prompt(self.table.currentRow())

    def _show_prompt(self, row: int, *_: object) -> None:
        cell = self.table.item(row, 0) if row >= 0 else None
        self.prompt.setPlainText(self.state.cluster_prompts.get(int(cell.text()), "") if cell is not None else "")

    def _renamed(self, cell: QTableWidgetItem) -> None:
        if cell.column() == NAME_COLUMN:
            self.state.rename_cluster(int(self.table.item(cell.row(), 0).text()), cell.text())
