"""ResultTable: the one way a ranked list of items is shown: the ranked documents, Milvus' hits, Compare's tops.

Each row is one item: its rank (or ranks, when two rankings are merged: Milvus and exact, A and B), its score(s),
its text, its id and the metadata columns the user chose, one line per row (long values are elided; hovering
a row shows the whole text, id and metadata). A click on a header sorts by that column, numbers as numbers; a
rank or score the item does not have ("—") sorts as the worst. The chosen metadata columns are AppState's
`result_columns` view setting, shared by every result table and set with the table's "Columns" button
(`columns_button`, placed by the panel beside the table), so a workspace keeps them. Column indices (`headers`,
`column_of`) put the text right after the ranks; on screen it follows the scores.

ElidedComboBox is the picker above such a table (the query to rank for): it elides a long entry instead of
widening the window, and its tooltip shows the whole entry.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QAction, QBrush, QColor, QPaintEvent, QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHeaderView,
    QMenu,
    QSizePolicy,
    QStyle,
    QStyleOptionComboBox,
    QStylePainter,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QToolTip,
    QWidget,
)

from workbench.ui.state import AppState

SORT_ROLE = Qt.ItemDataRole.UserRole  # the value a cell sorts by (a number for ranks and scores)
ID_ROLE = Qt.ItemDataRole.UserRole + 1  # the item id, on every cell of its row
TEXT_SHARE = 0.35  # of the table's width that the text keeps before id and metadata columns get room
DETAIL_MIN = 48  # an id or metadata column is never made narrower than this (it elides; hover shows it whole)
TOOLTIP_CHARS = 2_000  # of the text in a row's tooltip


@dataclass(frozen=True)
class ResultRow:
    """One item in a result table; a rank or score is None where the item is not in that ranking."""

    item_id: str
    text: str
    ranks: tuple[int | None, ...]
    scores: tuple[float | None, ...]
    metadata: Mapping[str, Any] = field(default_factory=dict)
    tint: str | None = None  # background of the whole row, e.g. a hit the other ranking lacks
    note: str = ""  # a line the tooltip adds, saying what the tint means


class _Cell(QTableWidgetItem):
    """A read-only cell that sorts by its SORT_ROLE value (numbers as numbers), else by its text."""

    def __init__(self, text: str, sort_key: Any = None) -> None:
        super().__init__(text)
        self.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
        if sort_key is not None:
            self.setData(SORT_ROLE, sort_key)

    def __lt__(self, other: QTableWidgetItem) -> bool:
        mine, theirs = self.data(SORT_ROLE), other.data(SORT_ROLE)
        if mine is not None and theirs is not None:
            return mine < theirs
        return self.text().casefold() < other.text().casefold()


class ResultTable(QTableWidget):
    """Ranks, text, scores, id and the chosen metadata columns of ranked items; sortable, one line a row.

    `state` may come later (`bind`) for a table made before its panel knows AppState; until then it shows the
    first metadata column.
    """

    def __init__(
        self,
        state: AppState | None = None,
        ranks: Sequence[str] = ("#",),
        scores: Sequence[str] = ("score",),
        text: str = "document",
        digits: int = 3,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(0, 0, parent)
        self.state: AppState | None = None
        self.rank_headers, self.score_headers, self.text_header = tuple(ranks), tuple(scores), text
        self.digits = digits
        self.rows: list[ResultRow] = []
        self.available: tuple[str, ...] = ()  # metadata columns the rows have, in the order to offer them
        self.shown_columns: tuple[str, ...] = ()
        self.verticalHeader().hide()
        self.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        self.setWordWrap(False)
        self.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.horizontalHeader().setSortIndicator(0, Qt.SortOrder.AscendingOrder)  # best first
        self.horizontalHeader().setHighlightSections(False)

        self.columns_button = QToolButton()
        self.columns_button.setText("Columns")
        self.columns_button.setToolTip("Metadata columns to show in the result tables (one choice for all of them)")
        self.columns_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.columns_button.setMenu(QMenu(self.columns_button))
        self.columns_button.menu().aboutToShow.connect(self._fill_columns_menu)
        self._render()
        if state is not None:
            self.bind(state)

    def bind(self, state: AppState) -> None:
        """Follow AppState's choice of metadata columns (once; a second call does nothing)."""
        if self.state is None:
            self.state = state
            state.view_changed.connect(self._view_changed)
            self._render()

    # -- what it shows -------------------------------------------------------------------------------------------
    def show_rows(self, rows: Sequence[ResultRow], columns: Sequence[str] | None = None) -> None:
        """Show `rows`; `columns` are the metadata columns to offer (default: those the rows have, first seen first)."""
        self.rows = list(rows)
        if columns is None:
            columns = list(dict.fromkeys(key for row in self.rows for key in row.metadata))
        self.available = tuple(columns)
        self._render()

    def item_id(self, row: int) -> str | None:
        """The id of the item on a row as the table shows it now (sorted), or None."""
        cell = self.item(row, 0)
        return cell.data(ID_ROLE) if cell is not None else None

    def column_of(self, header: str) -> int:
        """The column with this header (a rank, score, "id", or a metadata column), or -1."""
        return self.headers().index(header) if header in self.headers() else -1

    def headers(self) -> list[str]:
        return [*self.rank_headers, self.text_header, *self.score_headers, "id", *self.shown_columns]

    def _chosen(self) -> tuple[str, ...]:
        view = self.state.view if self.state is not None else None
        return view.shown_result_columns(self.available) if view is not None else self.available[:1]

    def _view_changed(self, changed: frozenset[str]) -> None:
        if "result_columns" in changed and self._chosen() != self.shown_columns:
            self._render()

    def _render(self) -> None:
        self.shown_columns = self._chosen()
        self.columns_button.setEnabled(bool(self.available))
        headers = self.headers()
        header = self.horizontalHeader()
        self.setSortingEnabled(False)  # filled unsorted, then sorted once by the header's indicator
        self.clearContents()
        self.setColumnCount(len(headers))
        self.setHorizontalHeaderLabels(headers)
        self.setRowCount(len(self.rows))
        for row, result in enumerate(self.rows):
            for column, cell in enumerate(self._cells(result)):
                self.setItem(row, column, cell)
        text_column = len(self.rank_headers)
        on_screen = [*range(text_column), *range(text_column + 1, text_column + 1 + len(self.score_headers)),
                     text_column, *range(text_column + 1 + len(self.score_headers), len(headers))]  # fmt: skip
        for visual, column in enumerate(on_screen):  # the numbers first, then the text, then id and metadata
            header.moveSection(header.visualIndex(column), visual)
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
        self._fit_columns()
        if header.sortIndicatorSection() >= len(headers):  # it sorted by a column no longer shown
            header.setSortIndicator(0, Qt.SortOrder.AscendingOrder)
        self.setSortingEnabled(True)

    def _fit_columns(self) -> None:
        """Ranks and scores whole; id and metadata columns what they need while the text keeps TEXT_SHARE of the
        width, else an equal share of the rest (elided); the text takes what is left. Where that share would be
        under DETAIL_MIN the text takes the whole width beside the numbers and the others lie to the right (a
        narrow table reads rank, score and text, and scrolls sideways to id and metadata)."""
        header = self.horizontalHeader()
        text_column = len(self.rank_headers)
        first_detail = text_column + 1 + len(self.score_headers)

        def wanted(column: int) -> int:
            return max(self.sizeHintForColumn(column), header.sectionSizeHint(column))

        numbers = {column: wanted(column) for column in range(first_detail) if column != text_column}
        details = {column: wanted(column) for column in range(first_detail, self.columnCount())}
        width = self.viewport().width()
        budget = width * (1 - TEXT_SHARE) - sum(numbers.values())
        share, left = budget / max(len(details), 1), len(details)
        for need in sorted(details.values()):  # water-filling: a narrow column keeps its width, the rest share
            if need > share:
                break
            budget, left = budget - need, left - 1
            share = budget / left if left else math.inf  # every column got what it needs
        widths = {**numbers, **{column: int(max(DETAIL_MIN, min(need, share))) for column, need in details.items()}}
        beside = sum(widths.values()) if share >= DETAIL_MIN else sum(numbers.values())  # else: scroll to them
        widths[text_column] = max(int(width * TEXT_SHARE), width - beside)
        for column, size in widths.items():
            self.setColumnWidth(column, size)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_columns()

    def _cells(self, result: ResultRow) -> list[_Cell]:
        flat = " ".join(result.text.split())
        cells = [_rank_cell(rank) for rank in result.ranks]
        cells.append(_Cell(flat, flat.casefold()))
        cells += [_score_cell(score, self.digits) for score in result.scores]
        cells.append(_Cell(result.item_id))
        for column in self.shown_columns:
            value = result.metadata.get(column)
            cells.append(_Cell("" if value is None else " ".join(str(value).split()), _sort_key(value)))
        tooltip = _tooltip(result, self.shown_columns)
        tint = QBrush(QColor(result.tint)) if result.tint else None
        for cell in cells:
            cell.setData(ID_ROLE, result.item_id)
            cell.setToolTip(tooltip)
            if tint is not None:
                cell.setBackground(tint)
        return cells

    # -- choosing the metadata columns ------------------------------------------------------------------------
    def _fill_columns_menu(self) -> None:
        menu = self.columns_button.menu()
        menu.clear()
        for column in self.available:
            action = QAction(column, menu, checkable=True, checked=column in self.shown_columns)
            action.toggled.connect(lambda on, column=column: self.choose_column(column, on))
            menu.addAction(action)

    def choose_column(self, column: str, shown: bool) -> None:
        """Show or hide a metadata column in every result table (AppState's `result_columns`)."""
        view = self.state.view if self.state is not None else None
        if view is None:
            return
        before = list(view.result_columns) if view.result_columns is not None else list(self.shown_columns)
        chosen = set(before) | {column} if shown else set(before) - {column}
        elsewhere = [c for c in before if c in chosen and c not in self.available]  # another table's columns stay
        self.state.set_view(result_columns=(*(c for c in self.available if c in chosen), *elsewhere))


def _rank_cell(rank: int | None) -> _Cell:
    cell = _Cell("—" if rank is None else str(rank), math.inf if rank is None else rank)  # not ranked: last
    cell.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    return cell


def _score_cell(score: float | None, digits: int) -> _Cell:
    cell = _Cell("—" if score is None else f"{score:.{digits}f}", -math.inf if score is None else float(score))
    cell.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    return cell


def _sort_key(value: Any) -> Any:
    """Numbers sort as numbers, everything else by its text; so a column of years sorts 9 < 10."""
    if isinstance(value, bool) or value is None:
        return None
    return float(value) if isinstance(value, int | float) else None


def _tooltip(result: ResultRow, columns: Sequence[str]) -> str:
    """The whole text (up to TOOLTIP_CHARS), then id, metadata and note: rich text, so Qt wraps long lines."""
    text = result.text if len(result.text) <= TOOLTIP_CHARS else result.text[: TOOLTIP_CHARS - 1] + "…"
    details = [f"<b>id</b> {html.escape(result.item_id)}"]
    shown = [*columns, *(key for key in result.metadata if key not in columns)]
    details += [f"<b>{html.escape(str(key))}</b> {html.escape(str(result.metadata[key]))}" for key in shown
                if key in result.metadata]  # fmt: skip
    note = f"<p><i>{html.escape(result.note)}</i></p>" if result.note else ""
    return f"<p>{html.escape(text)}</p><p>{'<br>'.join(details)}</p>{note}"


class ElidedComboBox(QComboBox):
    """A combo box that elides its entry ("How do telesc…") to the width it has and shows the whole on hover.

    Without `max_width` it asks for a few characters only and takes the width its row gives it (a query picker);
    with it, it is as wide as its longest entry up to `max_width`. Either way a long entry cannot widen the window.
    """

    def __init__(self, max_width: int | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.elided = False  # whether the entry shown is cut (set when painted)
        if max_width is None:
            self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            self.setMinimumContentsLength(4)
            self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        else:
            self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
            self.setMaximumWidth(max_width)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QStylePainter(self)
        option = QStyleOptionComboBox()
        self.initStyleOption(option)
        painter.drawComplexControl(QStyle.ComplexControl.CC_ComboBox, option)
        field_rect = self.style().subControlRect(
            QStyle.ComplexControl.CC_ComboBox, option, QStyle.SubControl.SC_ComboBoxEditField, self
        )
        shown = self.fontMetrics().elidedText(option.currentText, Qt.TextElideMode.ElideRight, field_rect.width() - 4)
        self.elided = shown != option.currentText
        option.currentText = shown
        painter.drawControl(QStyle.ControlElement.CE_ComboBoxLabel, option)

    def hover_text(self) -> str:
        """What hovering shows: the whole entry when it is cut, then the combo's own tooltip, if any."""
        return "\n".join(text for text in (self.currentText() if self.elided else "", self.toolTip()) if text)

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and self.elided:
            QToolTip.showText(event.globalPos(), self.hover_text(), self)
            return True
        return super().event(event)
