"""The Milvus panel's tables: the collections at a target, and Milvus' hits beside the exact ranking.

What the panel draws row by row, apart from what it asks Milvus: in the results, each rank shows Milvus' hit and
the exact hit, and a Milvus hit the exact top-k does not hold is tinted, so what the index missed shows at a
glance.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem, QWidget

from workbench.core.milvus import CollectionInfo
from workbench.core.milvus.operations import SearchOutcome

MISSED_COLOUR = "#fde2e1"  # a Milvus hit that the exact top-k does not hold


def compact_table(table: QTableWidget, stretch: int) -> None:
    """Read-only rows, one selected at a time, columns sized to their contents but `stretch`."""
    table.verticalHeader().hide()
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)


class CollectionsTable(QTableWidget):
    """Name, rows, dim, metric and index of each collection."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, 5, parent)
        self.setHorizontalHeaderLabels(["Collection", "Rows", "Dim", "Metric", "Index"])
        compact_table(self, stretch=0)

    def show_collections(self, infos: list[CollectionInfo], selected: str) -> None:
        """One row per collection; the one named `selected` is selected, without a selection signal."""
        self.blockSignals(True)
        self.setRowCount(len(infos))
        for row, info in enumerate(infos):
            for column, value in enumerate((info.name, info.rows, info.dim, info.metric, info.index_type)):
                cell = QTableWidgetItem(str(value))
                if column in (1, 2):
                    cell.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.setItem(row, column, cell)
            if info.name == selected:
                self.selectRow(row)
        self.blockSignals(False)


class SearchResultsTable(QTableWidget):
    """Rank, Milvus' score and hit, the exact score and hit; each hit cell keeps its item id (UserRole)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, 5, parent)
        self.setHorizontalHeaderLabels(["#", "Milvus", "Milvus hit", "Exact", "Exact hit"])
        compact_table(self, stretch=2)
        self.horizontalHeader().setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)

    def show_outcome(self, outcome: SearchOutcome) -> None:
        exact_ids = {h.id for h in outcome.exact}
        missed = QBrush(QColor(MISSED_COLOUR))
        self.setRowCount(max(len(outcome.hits), len(outcome.exact)))
        for row in range(self.rowCount()):
            self.setItem(row, 0, QTableWidgetItem(str(row + 1)))
            for column, hits in ((1, outcome.hits), (3, outcome.exact)):
                hit = hits[row] if row < len(hits) else None
                score = QTableWidgetItem(f"{hit.score:.4f}" if hit else "")
                cell = QTableWidgetItem(" ".join(hit.text.split())[:200] if hit else "")
                if hit:
                    cell.setData(Qt.ItemDataRole.UserRole, hit.id)
                    cell.setToolTip(f"{hit.id}\n{hit.text[:1000]}\n{dict(hit.metadata)}")
                    if column == 1 and hit.id not in exact_ids:
                        cell.setBackground(missed)
                        score.setBackground(missed)
                self.setItem(row, column, score)
                self.setItem(row, column + 1, cell)

    def hit_id(self, row: int, column: int) -> str | None:
        """The item id of the hit on that side of a row (Milvus' for columns 0-2, the exact one's for 3-4)."""
        cell = self.item(row, 2 if column <= 2 else 4)
        return cell.data(Qt.ItemDataRole.UserRole) if cell else None
