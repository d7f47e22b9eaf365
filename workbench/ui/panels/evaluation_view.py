"""Evaluation view: every chosen search mode judged by the relevance labels, and the queries that fail, worst first.

It shows AppState.lab and sends intents; the searching and the scoring (ir-measures, in core) are the lab
pipeline's. The top table is one row per mode with nDCG@10, Recall@10, Recall@100 and MRR@10 over the labelled
queries (the best of each column bold). Below, one row per labelled query with each mode's nDCG@10, sorted worst
first by the mode the map shows; choosing a query draws on the map its relevant documents and that mode's top 10
in three marks (relevant and found, relevant and missed, found but not relevant; ui/lab_overlay.py).
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import replace

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from workbench.core.items import Item
from workbench.core.relevance import RelevanceLabels, check_labels
from workbench.ui.lab_overlay import MODE_STYLES
from workbench.ui.lab_pipeline import EVALUATE_TASK, LabPipeline
from workbench.ui.lab_state import MODE_NAMES, LabEvaluation, relevant_ids
from workbench.ui.panels.milvus_tables import compact_table
from workbench.ui.result_table import SORT_ROLE
from workbench.ui.state import AppState
from workbench.ui.tasks import TaskRunner
from workbench.ui.widgets import ElidedLabel, MessageStrip, StaleNote, TaskProgress, synced

MEASURE_TIPS = {
    "nDCG@10": "normalised discounted cumulative gain of the top 10 (graded labels; 1 = the ideal order)",
    "Recall@10": "share of a query's relevant documents found in the top 10",
    "Recall@100": "share of a query's relevant documents found in the top 100",
    "MRR@10": "1 / rank of the first relevant document in the top 10 (0 when none), averaged",
}
SORT_MEASURE = "nDCG@10"  # the per-query table's measure: the BEIR headline number
ID_ROLE = Qt.ItemDataRole.UserRole + 1


class _Cell(QTableWidgetItem):
    """A cell that sorts by its SORT_ROLE number when it has one."""

    def __init__(self, text: str, sort_key: float | None = None) -> None:
        super().__init__(text)
        if sort_key is not None:
            self.setData(SORT_ROLE, sort_key)
        self.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)

    def __lt__(self, other: QTableWidgetItem) -> bool:
        mine, theirs = self.data(SORT_ROLE), other.data(SORT_ROLE)
        if mine is not None and theirs is not None:
            return mine < theirs
        return self.text() < other.text()


def _number(value: float | None) -> _Cell:
    cell = _Cell("—" if value is None else f"{value:.3f}", math.inf if value is None else float(value))
    cell.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    return cell


def label_mismatch(labels: RelevanceLabels, items: Sequence[Item]) -> str:
    """What the labels name that the corpus no longer holds, in counts ("" when every id is there).

    Checked again whenever the corpus changes: labels imported for one corpus say nothing about another, and a
    line that still named them as if they applied would hide it (they stay, for when that corpus comes back).
    """
    documents = (i.id for i in items if i.kind == "document")
    check = check_labels(labels, documents, (i.id for i in items if i.kind == "query"))
    parts = []
    if check.unknown_queries:
        parts.append(f"{len(check.unknown_queries)} of {len(labels.queries())} labelled queries")
    if check.unknown_documents:
        parts.append(f"{len(check.unknown_documents)} of {len(labels.documents())} judged documents")
    if not parts:
        return ""
    return (f"These labels do not match the corpus now: {' and '.join(parts)} are not in it. Load the corpus they "
            "were made for, or import labels for this one.")  # fmt: skip


class EvaluationView(QWidget):
    def __init__(self, state: AppState, runner: TaskRunner, pipeline: LabPipeline, parent: QWidget | None = None):
        super().__init__(parent)
        self.state, self.runner, self.pipeline = state, runner, pipeline
        self.labels_line = ElidedLabel()
        self.labels_mismatch = QLabel()  # wraps: the counts must be read, not elided
        self.labels_mismatch.setWordWrap(True)
        self.labels_mismatch.setStyleSheet("color:#a33;")
        self.labels_mismatch.hide()
        self.messages = MessageStrip()
        self.messages.follow(pipeline.notice, "evaluate")
        self.evaluate_button = QPushButton("Evaluate")
        self.evaluate_button.setToolTip("Search every labelled query in each mode chosen in the Search lab (top "
                                         "100) and score the rankings against the labels with ir-measures")  # fmt: skip
        self.task_progress = TaskProgress(runner, EVALUATE_TASK, self.evaluate_button)
        self.progress, self.cancel_button = self.task_progress.bar, self.task_progress.cancel_button
        self.summary_table = QTableWidget(0, 0)
        compact_table(self.summary_table, stretch=0)
        self.map_mode = QComboBox()
        self.map_mode.setToolTip("The mode whose hits the map shows for the chosen query, and that sorts the queries")
        self.query_table = QTableWidget(0, 0)
        compact_table(self.query_table, stretch=0)
        self.query_table.setSortingEnabled(True)
        self.query_table.setWordWrap(False)
        self.query_table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.focus_line = QLabel()
        self.focus_line.setWordWrap(True)

        buttons = QHBoxLayout()
        buttons.addWidget(self.evaluate_button)
        buttons.addWidget(self.progress, 1)
        buttons.addWidget(self.cancel_button)
        per_query = QWidget()
        per_query_layout = QVBoxLayout(per_query)
        per_query_layout.setContentsMargins(0, 0, 0, 0)
        chooser = QHBoxLayout()
        chooser.addWidget(QLabel("Queries, worst first by"))
        chooser.addWidget(self.map_mode)
        chooser.addWidget(QLabel(f"{SORT_MEASURE}; the map shows the chosen one"), 1)
        per_query_layout.addLayout(chooser)
        per_query_layout.addWidget(self.query_table, 1)
        per_query_layout.addWidget(self.focus_line)
        self.splitter = splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.summary_table)
        splitter.addWidget(per_query)
        splitter.setSizes([120, 400])
        splitter.setCollapsible(1, False)
        layout = QVBoxLayout(self)
        layout.addWidget(self.labels_line)
        layout.addWidget(self.labels_mismatch)
        self.stale = StaleNote(state, self)  # a result of the previous embedding says so in place
        layout.addWidget(self.stale)
        layout.addLayout(buttons)
        layout.addWidget(self.messages)
        layout.addWidget(splitter, 1)

        self.evaluate_button.clicked.connect(pipeline.evaluate)
        self.map_mode.currentIndexChanged.connect(self._map_mode_chosen)
        self.query_table.itemSelectionChanged.connect(self._query_chosen)
        state.lab_changed.connect(self._lab_changed)
        state.corpus_changed.connect(self._show_labels)
        self._show_labels()
        self._show_evaluation()

    # -- state -> view -------------------------------------------------------------------------------------------
    def _lab_changed(self, changed: frozenset[str]) -> None:
        if "labels" in changed:
            self._show_labels()
        if "evaluation" in changed:
            self._show_evaluation()
        elif "settings" in changed:
            self._show_map_mode()
            self._sort_queries()
        if "focus" in changed or "settings" in changed:
            self._show_focus()

    def _show_labels(self) -> None:
        labels = self.state.lab.labels
        if labels is None:
            self.labels_line.setText("No relevance labels yet: File ▸ Import BEIR folder… or Import qrels…")
            self.labels_mismatch.hide()
            return
        queries = len(labels.labelled_queries())
        source = f" from {labels.source}" if labels.source else ""
        line = f"Labels: {queries} queries with relevant documents, {len(labels)} judgements{source}"
        self.labels_line.setText(line)
        mismatch = label_mismatch(labels, self.state.corpus.items)
        self.labels_mismatch.setText(mismatch)
        self.labels_mismatch.setVisible(bool(mismatch))

    def _show_evaluation(self) -> None:
        evaluation = self.state.lab.evaluation
        self._fill_summary(evaluation)
        self._show_map_mode()
        self._fill_queries(evaluation)
        self._show_focus()

    def _fill_summary(self, evaluation: LabEvaluation | None) -> None:
        table = self.summary_table
        table.clear()
        if evaluation is None:
            table.setRowCount(0)
            table.setColumnCount(0)
            return
        measures, modes = list(evaluation.measures), evaluation.modes()
        table.setColumnCount(len(measures) + 2)
        table.setHorizontalHeaderLabels(["mode", *measures, "queries"])
        for column, measure in enumerate(measures, start=1):
            table.horizontalHeaderItem(column).setToolTip(MEASURE_TIPS.get(measure, measure))
        table.setRowCount(len(modes))
        bold = QFont(table.font())
        bold.setBold(True)
        for row, mode in enumerate(modes):
            name = _Cell(MODE_NAMES.get(mode, mode))
            name.setForeground(QBrush(QColor(MODE_STYLES[mode].colour)) if mode in MODE_STYLES else QBrush())
            table.setItem(row, 0, name)
            for column, measure in enumerate(measures, start=1):
                value = evaluation.aggregate[mode].get(measure)
                cell = _number(value)
                best = max(evaluation.aggregate[m].get(measure, -1.0) for m in modes)
                if value is not None and len(modes) > 1 and value == best:
                    cell.setFont(bold)
                table.setItem(row, column, cell)
            table.setItem(row, len(measures) + 1, _number(len(evaluation.per_query[mode])))
            table.item(row, len(measures) + 1).setText(str(len(evaluation.per_query[mode])))
        table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header = max(table.horizontalHeader().sizeHint().height(), table.horizontalHeader().height())
        table.setMinimumHeight(header + sum(table.rowHeight(r) for r in range(len(modes))) + 6)  # every mode in view

    def _show_map_mode(self) -> None:
        evaluation, chosen = self.state.lab.evaluation, self.state.lab.settings.map_mode
        modes = evaluation.modes() if evaluation else []
        with synced(self.map_mode):
            self.map_mode.clear()
            for mode in modes:
                self.map_mode.addItem(MODE_NAMES.get(mode, mode), mode)
            self.map_mode.setCurrentIndex(max(0, self.map_mode.findData(chosen)))
        self.map_mode.setEnabled(bool(modes))

    def _fill_queries(self, evaluation: LabEvaluation | None) -> None:
        table = self.query_table
        table.setSortingEnabled(False)
        table.clear()
        if evaluation is None:
            table.setRowCount(0)
            table.setColumnCount(0)
            return
        modes = evaluation.modes()
        texts = {item.id: item.text for item in self.state.corpus.queries}
        table.setColumnCount(2 + len(modes))
        table.setHorizontalHeaderLabels(["query", "relevant", *(MODE_NAMES.get(m, m) for m in modes)])
        for column, mode in enumerate(modes, start=2):
            table.horizontalHeaderItem(column).setToolTip(f"{SORT_MEASURE} of each query in {MODE_NAMES.get(mode)}")
        table.setRowCount(len(evaluation.queries))
        for row, query_id in enumerate(evaluation.queries):
            text = " ".join(texts.get(query_id, query_id).split())
            tip = self._query_tip(evaluation, query_id, texts.get(query_id, ""))
            cell = _Cell(text)
            relevant = len(relevant_ids(self.state.lab.labels, query_id))
            cells = [cell, _number(relevant)]
            cells[1].setText(str(relevant))
            cells += [_number(evaluation.per_query[m].get(query_id, {}).get(SORT_MEASURE)) for m in modes]
            for column, item in enumerate(cells):
                item.setData(ID_ROLE, query_id)
                item.setToolTip(tip)
                table.setItem(row, column, item)
        header = table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        table.setSortingEnabled(True)
        self._sort_queries()

    def _query_tip(self, evaluation: LabEvaluation, query_id: str, text: str) -> str:
        lines = [f"<p>{html.escape(text[:600])}</p><p><b>id</b> {html.escape(query_id)}</p><table>"]
        lines.append("<tr><td></td>" + "".join(f"<td><b>{html.escape(m)}</b></td>" for m in evaluation.measures))
        for mode in evaluation.modes():
            values = evaluation.per_query[mode].get(query_id, {})
            lines.append(f"<tr><td><b>{html.escape(MODE_NAMES.get(mode, mode))}</b></td>"
                         + "".join(f"<td>{values[m]:.3f}</td>" if m in values else "<td>—</td>"
                                   for m in evaluation.measures) + "</tr>")  # fmt: skip
        return "".join(lines) + "</table>"

    def _sort_queries(self) -> None:
        """Worst first by the map mode's nDCG@10 (a click on another header sorts by it instead)."""
        evaluation = self.state.lab.evaluation
        if evaluation is None:
            return
        modes = evaluation.modes()
        mode = self.state.lab.settings.map_mode
        column = 2 + (modes.index(mode) if mode in modes else 0)
        self.query_table.sortItems(column, Qt.SortOrder.AscendingOrder)

    def _show_focus(self) -> None:
        lab = self.state.lab
        focus, evaluation = lab.focus, lab.evaluation
        if focus is None or evaluation is None:
            self.focus_line.setText("Choose a query to see its relevant documents and hits on the map."
                                    if evaluation else "")  # fmt: skip
            return
        mode = lab.settings.map_mode if lab.settings.map_mode in evaluation.runs else evaluation.modes()[0]
        found = list(evaluation.runs[mode].get(focus, []))[:10]
        relevant = relevant_ids(lab.labels, focus)
        hit = len(relevant & set(found))
        self.focus_line.setText(f"On the map, {MODE_NAMES.get(mode, mode)}: {hit} of {len(relevant)} relevant found "
                                f"in the top 10, {len(found) - hit} found but not relevant, "
                                f"{len(relevant) - hit} missed")  # fmt: skip
        for row in range(self.query_table.rowCount()):  # keep the table's selection on the shown query
            if self.query_table.item(row, 0).data(ID_ROLE) == focus:
                with synced(self.query_table):
                    self.query_table.selectRow(row)
                break

    # -- view -> intents -----------------------------------------------------------------------------------------
    def _map_mode_chosen(self) -> None:
        mode = self.map_mode.currentData()
        if mode:
            self.state.set_lab(settings=replace(self.state.lab.settings, map_mode=mode))

    def _query_chosen(self) -> None:
        rows = self.query_table.selectionModel().selectedRows()
        if rows:
            self.state.set_lab(focus=self.query_table.item(rows[0].row(), 0).data(ID_ROLE))

    def query_row(self, query_id: str) -> int | None:
        """The row showing a query now (sorted), or None."""
        for row in range(self.query_table.rowCount()):
            if self.query_table.item(row, 0).data(ID_ROLE) == query_id:
                return row
        return None
