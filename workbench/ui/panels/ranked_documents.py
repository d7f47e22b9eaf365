"""RankedDocuments: for the chosen query, the documents by score, best first: the heart of a semantic-search demo.

SimilarityView shows it beside the queries × documents heatmap and hands it that matrix, so the list ranks exactly
the scores the heatmap draws. It hides itself for anything else, block means included (a group is not a document).
"""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QComboBox, QLabel, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget

from workbench.core.heatmap import HeatmapData
from workbench.core.items import Item
from workbench.ui.scatter import shorten
from workbench.ui.widgets import synced

MAX_RANKED = 500  # rows of the table


class RankedDocuments(QWidget):
    """A query chooser over a (score, document) table; `show_for` gives it the matrix to rank, or None to hide."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.data: HeatmapData | None = None
        self.title = QLabel("Documents for query")
        self.query_choice = QComboBox()
        self.table = QTableWidget(0, 2)
        self.table.setHorizontalHeaderLabels(["score", "document"])
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.verticalHeader().hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.query_choice)
        layout.addWidget(self.table, 1)
        self.query_choice.currentIndexChanged.connect(self._fill_table)

    def show_for(self, data: HeatmapData | None) -> None:
        """Rank the documents of a queries × documents matrix (rows: queries); hidden for None or block means."""
        self.data = data if data is not None and data.block is None else None
        self.setVisible(self.data is not None)
        if self.data is None:
            return
        with synced(self.query_choice):
            self.query_choice.clear()
            for item in self.data.row_items:
                self.query_choice.addItem(shorten(item.text, 80, 80), item.id)
        self._fill_table()

    def ranked_documents(self, query_index: int) -> list[tuple[float, Item]]:
        """The documents for one query row of the matrix, best first."""
        assert self.data is not None
        scores = self.data.matrix[query_index]
        order = np.argsort(-scores, kind="stable")
        return [(float(scores[c]), self.data.column_items[c]) for c in order]

    def _fill_table(self) -> None:
        index = self.query_choice.currentIndex()
        if self.data is None or index < 0:
            return
        ranked = self.ranked_documents(index)
        shown = f" (top {MAX_RANKED} of {len(ranked)})" if len(ranked) > MAX_RANKED else ""
        self.title.setText(f"Documents for query{shown}")
        ranked = ranked[:MAX_RANKED]
        self.table.setRowCount(len(ranked))
        for row, (score, item) in enumerate(ranked):
            self.table.setItem(row, 0, QTableWidgetItem(f"{score:.3f}"))
            cell = QTableWidgetItem(item.text)
            cell.setToolTip(item.text)
            self.table.setItem(row, 1, cell)
