"""Search lab: one query searched by dense, BM25, hybrid and exact dense search, the rankings side by side.

The panel shows AppState.lab and sends intents; the searching is the lab pipeline's (ui/lab_pipeline.py). Two
views of the same hits: "Side by side" is one column per mode, rank by rank (what a person comparing rankings
reads), and "One row per item" is the shared ResultTable with each item's rank in every mode (its scores on
hover), its id and the chosen metadata columns (sortable by any of them). In both, an item that another mode did
not return is tinted: amber where some other mode missed it, orange where no other mode found it. The map draws
the query and a line to each mode's hits, one line style per mode (ui/lab_overlay.py); each mode's header shows
its style.
Milvus' database and collection are the ones chosen in the Milvus panel (AppState.milvus_target).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import replace

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSlider,
    QSpinBox,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from workbench.core.milvus.results import Hit
from workbench.ui.lab_overlay import MODE_STYLES
from workbench.ui.lab_pipeline import SEARCH_TASK, LabPipeline
from workbench.ui.lab_state import MODE_NAMES, MODE_TIPS, MODES, LabSearch, relevant_ids
from workbench.ui.result_table import ElidedComboBox, ResultRow, ResultTable
from workbench.ui.state import AppState
from workbench.ui.tasks import TaskRunner
from workbench.ui.widgets import ElidedLabel, MessageStrip, TaskProgress, flow_row, synced

SHORT_NAMES = {"dense": "dense", "bm25": "BM25", "hybrid": "hybrid", "exact": "exact"}  # narrow rank columns
SOME_MISSED = "#fff4d6"  # another mode did not return this item
ONLY_HERE = "#ffd8a8"  # no other mode returned it
FAILED_COLUMN_PX = 84  # a mode that could not run: its reason, wrapped down the column
DASH_NAMES = {Qt.PenStyle.SolidLine: "solid", Qt.PenStyle.DashLine: "dashed", Qt.PenStyle.DashDotLine: "dash-dot",
              Qt.PenStyle.DotLine: "dotted"}  # fmt: skip
DASH_GLYPHS = {Qt.PenStyle.SolidLine: "━━", Qt.PenStyle.DashLine: "╍╍", Qt.PenStyle.DashDotLine: "─·─",
               Qt.PenStyle.DotLine: "┈┈"}  # fmt: skip


def missing_modes(search: LabSearch) -> dict[str, list[str]]:
    """Item id -> the shown modes that did not return it (empty: every mode found it)."""
    modes = search.modes()
    found = {mode: {hit.id for hit in search.hits[mode]} for mode in modes}
    every = {hit.id for mode in modes for hit in search.hits[mode]}
    return {item: [m for m in modes if item not in found[m]] for item in every}


def tint_of(missing: Sequence[str], modes: Sequence[str]) -> str | None:
    if not missing:
        return None
    return ONLY_HERE if len(missing) == len(modes) - 1 else SOME_MISSED


def missing_note(missing: Sequence[str], modes: Sequence[str]) -> str:
    if not missing:
        return ""
    if len(missing) == len(modes) - 1:
        return "Only this mode found it."
    return "Not found by " + ", ".join(MODE_NAMES[m] for m in missing) + "."


class SideBySideTable(QTableWidget):
    """Ranks down, modes across: each cell the hit's score and text; the same item selected in every column."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, 0, parent)
        self.search: LabSearch | None = None
        self.relevant: set[str] | frozenset[str] = frozenset()
        self.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() * 2 + 10)
        self.setWordWrap(True)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QAbstractItemView.SelectionMode.MultiSelection)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.cellClicked.connect(self.select_item_at)

    def show_search(self, search: LabSearch | None, relevant: set[str] | frozenset[str] = frozenset()) -> None:
        """The hits of each mode down its column; `relevant` (the labels' documents for this query) get a ✓."""
        self.search, self.relevant = search, relevant
        self.clear()
        self.clearSpans()
        modes = search.modes() if search else []
        # every chosen mode has a column: its hits, or in place of them why it could not run
        columns = [m for m in MODES if m in search.hits or m in search.failures] if search else []
        self.setColumnCount(len(columns))
        rows = max((len(search.hits[m]) for m in modes), default=0) if search else 0
        self.setRowCount(max(rows, 1) if search and search.failures else rows)
        if search is None:
            return
        missing = missing_modes(search)
        for column, mode in enumerate(columns):
            if mode not in search.hits:
                self._show_failure(column, mode, search.failures[mode])
                continue
            self.horizontalHeader().setSectionResizeMode(column, QHeaderView.ResizeMode.Stretch)
            style = MODE_STYLES[mode]
            header = QTableWidgetItem(f"{MODE_NAMES[mode]} {DASH_GLYPHS[style.dash]}")
            header.setForeground(QBrush(QColor(style.colour)))
            header.setToolTip(MODE_TIPS[mode] + f"; on the map: {DASH_NAMES[style.dash]} lines")
            self.setHorizontalHeaderItem(column, header)
            for row, hit in enumerate(search.hits[mode]):
                self.setItem(row, column, self._cell(hit, missing[hit.id], modes))
        self.setVerticalHeaderLabels([str(r + 1) for r in range(self.rowCount())])

    def _show_failure(self, column: int, mode: str, why: str) -> None:
        """A mode that could not run: its column says why, down its whole height, instead of vanishing."""
        header = QTableWidgetItem(f"{MODE_NAMES[mode]} ✕")  # greyed; the cell below says why
        header.setForeground(QBrush(QColor("#888")))
        header.setToolTip(why)
        self.setHorizontalHeaderItem(column, header)
        cell = QTableWidgetItem(f"Not run: {why}")
        cell.setForeground(QBrush(QColor("#a33")))
        cell.setTextAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        cell.setToolTip(why)
        self.setItem(0, column, cell)
        if self.rowCount() > 1:
            self.setSpan(0, column, self.rowCount(), 1)
        header_view = self.horizontalHeader()  # narrow: the modes that did run keep the room for their hits
        header_view.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
        self.setColumnWidth(column, FAILED_COLUMN_PX)

    def _cell(self, hit: Hit, missing: list[str], modes: list[str]) -> QTableWidgetItem:
        flat = " ".join(hit.text.split())
        judged = "✓ " if hit.id in self.relevant else ""
        cell = QTableWidgetItem(f"{judged}{hit.score:.3f}  {flat}")
        cell.setData(Qt.ItemDataRole.UserRole, hit.id)
        tint = tint_of(missing, modes)
        if tint:
            cell.setBackground(QBrush(QColor(tint)))
        metadata = "<br>".join(f"<b>{html.escape(str(k))}</b> {html.escape(str(v))}" for k, v in hit.metadata.items())
        note = " ".join(part for part in (missing_note(missing, modes), "Relevant (labels)." if judged else "") if part)
        cell.setToolTip(f"<p>{html.escape(hit.text[:2000])}</p><p><b>id</b> {html.escape(hit.id)}<br>{metadata}</p>"
                        + (f"<p><i>{html.escape(note)}</i></p>" if note else ""))  # fmt: skip
        return cell

    def item_id(self, row: int, column: int) -> str | None:
        cell = self.item(row, column)
        return cell.data(Qt.ItemDataRole.UserRole) if cell is not None else None

    def select_item_at(self, row: int, column: int) -> None:
        """Select every cell that holds the clicked item: where each mode ranked it, at a glance."""
        item_id = self.item_id(row, column)
        self.clearSelection()
        if item_id is None:
            return
        for c in range(self.columnCount()):
            for r in range(self.rowCount()):
                if self.item_id(r, c) == item_id:
                    self.item(r, c).setSelected(True)

    def selected_places(self) -> list[tuple[int, int]]:
        return sorted((cell.row(), cell.column()) for cell in self.selectedItems())


class MergedTable(ResultTable):
    """One row per item any mode returned: its rank in each mode, text, id and metadata; each mode's score is in
    the row's tooltip. Four score columns beside four rank columns would leave a docked table no room for the
    text, and scores of different modes are not comparable anyway (cosine, BM25, fused): ranks are."""

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(state, ranks=(), scores=(), text="text", digits=3, parent=parent)

    def show_search(self, search: LabSearch | None, preferred: Sequence[str] = ()) -> None:
        modes = search.modes() if search else []
        self.rank_headers = tuple(SHORT_NAMES[m] for m in modes)
        rows: list[ResultRow] = []
        if search is not None:
            missing = missing_modes(search)
            seen: dict[str, Hit] = {}
            ranks: dict[str, dict[str, tuple[int, float]]] = {m: {} for m in modes}
            for mode in modes:
                for rank, hit in enumerate(search.hits[mode], start=1):
                    seen.setdefault(hit.id, hit)
                    ranks[mode][hit.id] = (rank, hit.score)
            for item_id, hit in seen.items():
                scores = "; ".join(f"{MODE_NAMES[m]} #{ranks[m][item_id][0]}, score {ranks[m][item_id][1]:.3f}"
                                   for m in modes if item_id in ranks[m])  # fmt: skip
                note = " ".join(part for part in (scores + ".", missing_note(missing[item_id], modes)) if part)
                rows.append(ResultRow(
                    item_id, hit.text, tuple(ranks[m].get(item_id, (None, None))[0] for m in modes), (),
                    hit.metadata, tint_of(missing[item_id], modes), note,
                ))  # fmt: skip
        present = dict.fromkeys(key for row in rows for key in row.metadata)
        self.show_rows(rows, [*(k for k in preferred if k in present), *(k for k in present if k not in preferred)])
        for column, mode in enumerate(modes):
            self.horizontalHeaderItem(column).setToolTip(f"Rank in {MODE_NAMES[mode]}: {MODE_TIPS[mode]}")


class SearchLabPanel(QWidget):
    def __init__(self, state: AppState, runner: TaskRunner, pipeline: LabPipeline, parent: QWidget | None = None):
        super().__init__(parent)
        self.state, self.runner, self.pipeline = state, runner, pipeline
        self.messages = MessageStrip()
        self.messages.follow(pipeline.notice, "search")
        self.push_button = QPushButton("Open the Milvus panel")  # offered when the Milvus modes lack a collection
        self.push_button.setToolTip("Push the embedded documents there; dense, BM25 and hybrid search them")
        self.push_button.hide()
        self.where = ElidedLabel()
        self.where.setStyleSheet("color:#555;")

        self.query = ElidedComboBox()
        self.query.setEditable(True)
        self.query.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.query.lineEdit().setPlaceholderText("Type a query, or pick one of the corpus' queries; Enter searches")
        self.search_button = QPushButton("Search")
        self.mode_boxes: dict[str, QCheckBox] = {}
        for mode in MODES:
            box = QCheckBox(MODE_NAMES[mode])
            box.setToolTip(MODE_TIPS[mode])
            self.mode_boxes[mode] = box
        self.ranker = QComboBox()
        self.ranker.addItem("RRF", "rrf")
        self.ranker.addItem("weighted", "weighted")
        self.ranker.setToolTip("How hybrid search fuses the dense and BM25 rankings")
        self.rrf_k = QSpinBox(minimum=1, maximum=16_384)
        self.rrf_k.setPrefix("k ")
        self.rrf_k.setToolTip("RRF: each ranking adds 1 / (k + rank); a larger k flattens the difference ranks make")
        self.weight = QSlider(Qt.Orientation.Horizontal, minimum=0, maximum=100)
        self.weight.setMinimumWidth(90)
        self.weight.setToolTip("Weighted fusion: the dense ranking's weight; BM25 gets the rest")
        self.weight_label = QLabel()
        weighted = QWidget()
        weighted_layout = QHBoxLayout(weighted)
        weighted_layout.setContentsMargins(0, 0, 0, 0)
        weighted_layout.addWidget(self.weight)
        weighted_layout.addWidget(self.weight_label)
        self.fusion = QStackedWidget()  # RRF's k or the weight slider, whichever the ranker uses
        self.fusion.setMaximumWidth(230)
        self.rrf_k.setMaximumWidth(90)
        self.fusion.addWidget(self.rrf_k)
        self.fusion.addWidget(weighted)
        self.top_k = QSpinBox(minimum=1, maximum=100)
        self.top_k.setPrefix("top ")
        self.task_progress = TaskProgress(runner, SEARCH_TASK, self.search_button)
        self.progress, self.cancel_button = self.task_progress.bar, self.task_progress.cancel_button
        self.progress.setMaximumWidth(120)

        query_row = QHBoxLayout()
        query_row.addWidget(self.query, 1)
        query_row.addWidget(self.top_k)
        query_row.addWidget(self.search_button)
        modes = flow_row(*self.mode_boxes.values(), ("hybrid by", self.ranker), self.fusion, self.progress,
                         self.cancel_button)  # fmt: skip
        self.side_by_side = SideBySideTable()
        self.merged = MergedTable(state)
        self.views = QTabWidget()
        self.views.addTab(self.side_by_side, "Side by side")
        self.views.addTab(self.merged, "One row per item")
        self.views.setCornerWidget(self.merged.columns_button)
        self.legend = QLabel(f"<span style='background:{SOME_MISSED}'>&nbsp;missed by another mode&nbsp;</span> "
                             f"<span style='background:{ONLY_HERE}'>&nbsp;only this mode&nbsp;</span>")  # fmt: skip
        self.summary = ElidedLabel()
        bottom = QHBoxLayout()
        bottom.addWidget(self.summary, 1)
        bottom.addWidget(self.legend)

        layout = QVBoxLayout(self)
        layout.addWidget(self.where)
        layout.addLayout(query_row)
        layout.addLayout(modes)
        message_row = QHBoxLayout()
        message_row.addWidget(self.messages, 1)
        message_row.addWidget(self.push_button, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(message_row)
        layout.addWidget(self.views, 1)
        layout.addLayout(bottom)

        for mode, box in self.mode_boxes.items():
            box.toggled.connect(lambda on, mode=mode: self._mode_toggled(mode, on))
        self.ranker.currentIndexChanged.connect(lambda: self._set(ranker=self.ranker.currentData()))
        self.rrf_k.valueChanged.connect(lambda value: self._set(rrf_k=value))
        self.weight.valueChanged.connect(lambda value: self._set(dense_weight=round(value / 100, 2)))
        self.top_k.valueChanged.connect(lambda value: self._set(k=value))
        self.search_button.clicked.connect(self.search)
        self.push_button.clicked.connect(self._open_milvus_panel)
        self.query.lineEdit().returnPressed.connect(self.search)
        self.query.activated.connect(lambda _index: self.search())
        self.side_by_side.cellDoubleClicked.connect(self._select_in_views)
        state.lab_changed.connect(self._lab_changed)
        state.corpus_changed.connect(self._fill_queries)
        state.milvus_changed.connect(self._show_where)
        self._show_settings()
        self._show_search()
        self._fill_queries()
        self._show_where()

    # -- choices -------------------------------------------------------------------------------------------------
    def _set(self, **changes) -> None:
        self.state.set_lab(settings=replace(self.state.lab.settings, **changes))

    def _mode_toggled(self, mode: str, on: bool) -> None:
        chosen = set(self.state.lab.settings.modes) | {mode} if on else set(self.state.lab.settings.modes) - {mode}
        self._set(modes=tuple(m for m in MODES if m in chosen))

    def _show_settings(self) -> None:
        settings = self.state.lab.settings
        with synced(self.ranker, self.rrf_k, self.weight, self.top_k, *self.mode_boxes.values()):
            for mode, box in self.mode_boxes.items():
                box.setChecked(mode in settings.modes)
            self.ranker.setCurrentIndex(max(0, self.ranker.findData(settings.ranker)))
            self.rrf_k.setValue(settings.rrf_k)
            self.weight.setValue(round(settings.dense_weight * 100))
            self.top_k.setValue(settings.k)
        self.fusion.setCurrentIndex(0 if settings.ranker == "rrf" else 1)
        self.weight_label.setText(f"dense {settings.dense_weight:.2f} · BM25 {1 - settings.dense_weight:.2f}")
        hybrid = "hybrid" in settings.modes
        self.ranker.setEnabled(hybrid)
        self.fusion.setEnabled(hybrid)

    def _fill_queries(self) -> None:
        texts = [item.text for item in self.state.corpus.queries]
        current = self.query.currentText()
        with synced(self.query):
            self.query.clear()
            self.query.addItems(texts)
            self.query.setEditText(current)

    def _show_where(self) -> None:
        target = self.state.milvus_target
        self.where.setText(f"Milvus modes search '{self.state.milvus_collection}' at {target.display} "
                           "(choose it in the Milvus panel)")  # fmt: skip

    # -- searching -----------------------------------------------------------------------------------------------
    def search(self) -> None:
        self.pipeline.search(self.query.currentText())

    def _lab_changed(self, changed: frozenset[str]) -> None:
        if "settings" in changed:
            self._show_settings()
        if "search" in changed or "labels" in changed:
            self._show_search()

    def _open_milvus_panel(self) -> None:
        dock = getattr(self.window(), "docks", {}).get("Milvus")
        if dock is not None:
            dock.show()
            dock.raise_()

    def _show_search(self) -> None:
        search = self.state.lab.search
        self.push_button.setVisible(bool(search and search.unpushed))
        embedding = self.state.embedding
        relevant = relevant_ids(self.state.lab.labels, search.query_id) if search and search.query_id else set()
        self.side_by_side.show_search(search, relevant)
        self.merged.show_search(search, embedding.metadata_keys if embedding else ())
        if search is None:
            self.summary.setText("")
            return
        missing = missing_modes(search)
        differing = sum(1 for modes in missing.values() if modes)
        hybrid = f"; hybrid by {search.ranker_note}" if "hybrid" in search.hits else ""
        judged = f"; ✓ relevant by the labels ({len(relevant)} for this query)" if relevant else ""
        self.summary.setText(f"{len(missing)} items across {len(search.modes())} modes, {differing} not found by "
                             f"every mode{judged}{hybrid}")  # fmt: skip

    def _select_in_views(self, row: int, column: int) -> None:
        """Double-click a hit: select it on the map and in the other views."""
        item_id = self.side_by_side.item_id(row, column)
        if item_id and self.state.row_of(item_id) is not None:
            self.state.set_selection([item_id])
