"""The Milvus panel's tables: the collections at a target, and Milvus' hits beside the exact ranking.

What the panel draws row by row, apart from what it asks Milvus: the results are one shared ResultTable (see
`ui/result_table.py`) with one row per item that either ranking returned, its rank under Milvus and under the
exact search side by side; a Milvus hit the exact top-k does not hold is tinted red, an exact top-k item Milvus
did not return amber, so what the index missed shows at a glance.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem, QWidget

from workbench.core.milvus import CollectionInfo
from workbench.core.milvus.operations import SearchOutcome
from workbench.ui.result_table import ResultRow, ResultTable
from workbench.ui.state import AppState

MISSED_COLOUR = "#fde2e1"  # a Milvus hit that the exact top-k does not hold
ABSENT_COLOUR = "#fff4d6"  # an exact top-k item that Milvus did not return


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
    """Name, rows, dim, metric, index of each collection, and whether it has full text (BM25)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, 6, parent)
        self.setHorizontalHeaderLabels(["Collection", "Rows", "Dim", "Metric", "Index", "BM25"])
        self.horizontalHeaderItem(5).setToolTip("Full text: a BM25 field Milvus builds from the text (BM25 and "
                                                "hybrid search need it)")  # fmt: skip
        compact_table(self, stretch=0)

    def show_collections(self, infos: list[CollectionInfo], selected: str) -> None:
        """One row per collection; the one named `selected` is selected, without a selection signal."""
        self.blockSignals(True)
        self.setRowCount(len(infos))
        for row, info in enumerate(infos):
            full_text = "yes" if info.fulltext else "no"
            for column, value in enumerate((info.name, info.rows, info.dim, info.metric, info.index_type, full_text)):
                cell = QTableWidgetItem(str(value))
                if column in (1, 2):
                    cell.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.setItem(row, column, cell)
            if info.name == selected:
                self.selectRow(row)
        self.blockSignals(False)


class SearchResultsTable(ResultTable):
    """Milvus' hits and the exact top-k merged, one row per item: its rank in each, score, id and metadata.

    Sorted by Milvus' rank, the exact top-k items Milvus did not return follow its hits.
    """

    def __init__(self, state: AppState | None = None, parent: QWidget | None = None) -> None:
        super().__init__(state, ranks=("Milvus", "exact"), scores=("score",), text="hit", digits=4, parent=parent)
        for column, tip in enumerate(("Rank among Milvus' hits", "Rank in the exact search of the same rows")):
            self.horizontalHeaderItem(column).setToolTip(tip)

    def show_outcome(self, outcome: SearchOutcome, preferred: Sequence[str] = ()) -> None:
        """The merged rows; the metadata columns the hits have are offered in `preferred` order (the workspace's)."""
        rows = outcome_rows(outcome)
        present = dict.fromkeys(key for row in rows for key in row.metadata)
        self.show_rows(rows, [*(k for k in preferred if k in present), *(k for k in present if k not in preferred)])


def outcome_rows(outcome: SearchOutcome) -> list[ResultRow]:
    """Milvus' hits in its order, then the exact hits it missed; each with its rank in both (None: absent)."""
    exact_rank = {hit.id: rank for rank, hit in enumerate(outcome.exact, start=1)}
    milvus_ids = {hit.id for hit in outcome.hits}
    k = len(outcome.exact)
    rows = []
    for rank, hit in enumerate(outcome.hits, start=1):
        in_exact = hit.id in exact_rank
        rows.append(ResultRow(
            hit.id, hit.text, (rank, exact_rank.get(hit.id)), (hit.score,), hit.metadata,
            tint=None if in_exact else MISSED_COLOUR,
            note="" if in_exact else f"Not in the exact top {k}: the index returned it in place of a nearer item.",
        ))  # fmt: skip
    for rank, hit in enumerate(outcome.exact, start=1):
        if hit.id not in milvus_ids:
            note = f"In the exact top {k}, but Milvus did not return it (the exact score)."
            rows.append(ResultRow(hit.id, hit.text, (None, rank), (hit.score,), hit.metadata, ABSENT_COLOUR, note))
    return rows
