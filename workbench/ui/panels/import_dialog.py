"""The import dialog: which column of a table file holds the text, which the id, which travel as metadata.

Its own module because it is its own window with its own state: it shows a `TablePreview` (the first rows and
our proposals) and hands back `ImportOptions`; the corpus panel opens it and reads the file with what it returns.
The proposals come from core (`records.propose_id_column`): an id column whose values are unique and non-empty,
with a note saying why. The text and id columns are never ticked as metadata.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from workbench.core.importers import ImportOptions, TablePreview
from workbench.core.items import ItemKind

_NO_ID = "(none: a content hash)"


class ImportDialog(QDialog):
    """Choose which column holds the text, which the id, and which travel as metadata; the first rows are shown."""

    def __init__(self, path: Path, preview: TablePreview, kind: ItemKind, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.path, self.preview, self.kind = path, preview, kind
        self.setWindowTitle(f"Import {path.name}")
        self.text_column = QComboBox()
        self.text_column.addItems(preview.columns)
        if preview.text_column:
            self.text_column.setCurrentText(preview.text_column)
        self.id_column = QComboBox()
        self.id_column.addItem(_NO_ID)
        self.id_column.addItems(preview.columns)
        if preview.id_column:
            self.id_column.setCurrentText(preview.id_column)
        self._proposed_id = self.id_column.currentText()
        self.id_note = QLabel(f"Proposed: {preview.id_reason}" if preview.id_reason else "")
        self.id_note.setWordWrap(True)
        self.id_note.setStyleSheet("color:#555;")
        self.id_column.setToolTip(self.id_note.text())
        self.metadata = QListWidget()
        self.metadata.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        for name in preview.columns:
            entry = QListWidgetItem(
                name + (f"  ({preview.column_types[name]})" if name in preview.column_types else "")
            )
            entry.setData(Qt.ItemDataRole.UserRole, name)
            entry.setFlags(entry.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            entry.setCheckState(Qt.CheckState.Checked)
            self.metadata.addItem(entry)
        self.metadata.setMaximumHeight(140)
        self.table = QTableWidget(len(preview.rows), len(preview.columns))
        self.table.setHorizontalHeaderLabels(preview.columns)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        for row, record in enumerate(preview.rows):
            for column, name in enumerate(preview.columns):
                value = record.get(name)
                shown = "" if value is None else str(value)
                self.table.setItem(row, column, QTableWidgetItem(shown[:200].replace("\n", " ⏎ ")))
        self.table.setWordWrap(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.resizeColumnsToContents()
        for column in range(self.table.columnCount()):
            self.table.setColumnWidth(column, min(self.table.columnWidth(column), 320))
        self.problem = QLabel()
        self.problem.setStyleSheet("color:#8a1c17;")
        form = QFormLayout()
        form.addRow("Text column", self.text_column)
        form.addRow("Id column", self.id_column)
        form.addRow("", self.id_note)
        form.addRow("Metadata", self.metadata)
        if preview.delimiter:
            shown = {"\t": "tab", ",": "comma", ";": "semicolon", "|": "bar"}.get(preview.delimiter, preview.delimiter)
            form.addRow("Delimiter", QLabel(f"{shown} (detected)"))
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Import")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(QLabel(f"First {len(preview.rows)} rows:"))
        layout.addWidget(self.table, 1)
        layout.addWidget(self.problem)
        layout.addWidget(self.buttons)
        self._taken: set[str] = set()
        self.text_column.currentTextChanged.connect(self._check)
        self.id_column.currentTextChanged.connect(self._check)
        self._check()
        self.resize(760, 520)

    def _check(self) -> None:
        """The text and id columns are not metadata: untick and grey them; a column they release is ticked again."""
        text = self.text_column.currentText()
        ok = bool(text) and text != self.id_column.currentText()
        taken = {text, self.id_column.currentText()}
        for row in range(self.metadata.count()):
            entry = self.metadata.item(row)
            name = entry.data(Qt.ItemDataRole.UserRole)
            enabled = name not in taken
            flags = entry.flags()
            entry.setFlags(flags | Qt.ItemFlag.ItemIsEnabled if enabled else flags & ~Qt.ItemFlag.ItemIsEnabled)
            if not enabled:
                entry.setCheckState(Qt.CheckState.Unchecked)
            elif name in self._taken:
                entry.setCheckState(Qt.CheckState.Checked)
        self._taken = taken
        self.id_note.setVisible(bool(self.id_note.text()) and self.id_column.currentText() == self._proposed_id)
        self.problem.setText("" if ok else "Choose a text column (not the id column).")
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(ok)

    def set_metadata(self, names: list[str]) -> None:
        for row in range(self.metadata.count()):
            entry = self.metadata.item(row)
            wanted = entry.data(Qt.ItemDataRole.UserRole) in names
            entry.setCheckState(Qt.CheckState.Checked if wanted else Qt.CheckState.Unchecked)

    def options(self) -> ImportOptions:
        text = self.text_column.currentText()
        id_column = None if self.id_column.currentIndex() == 0 else self.id_column.currentText()
        metadata = [
            self.metadata.item(row).data(Qt.ItemDataRole.UserRole)
            for row in range(self.metadata.count())
            if self.metadata.item(row).checkState() == Qt.CheckState.Checked
        ]
        metadata = [name for name in metadata if name not in (text, id_column)]
        return ImportOptions(kind=self.kind, column=text, id_column=id_column, metadata_columns=metadata)
