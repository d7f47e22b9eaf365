"""Documents / Queries panel: paste text (one item per line, or blank-line separated) and see what was kept.

Parsing runs through the TaskRunner (100 000 pasted lines hash in a fraction of a second, but that is still
too long for the GUI thread), debounced so typing does not start a parse per keystroke.
"""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPlainTextEdit, QVBoxLayout, QWidget

from workbench.core.corpus import ParseReport, SplitMode, items_from_pasted_text
from workbench.core.items import Item, ItemKind
from workbench.ui.state import AppState
from workbench.ui.tasks import TaskRunner
from workbench.ui.widgets import MessageStrip

_DEBOUNCE_MS = 250


class CorpusPanel(QWidget):
    def __init__(self, state: AppState, runner: TaskRunner, kind: ItemKind, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state, self.runner, self.kind = state, runner, kind
        self.editor = QPlainTextEdit()
        noun = "documents" if kind == "document" else "queries"
        self.editor.setPlaceholderText(f"Paste {noun} here, one per line.")
        self.mode = QComboBox()
        self.mode.addItem("One item per line", "lines")
        self.mode.addItem("Blank line separates items", "blank_line")
        self.count = QLabel(f"0 {noun}")
        self.messages = MessageStrip()
        bar = QHBoxLayout()
        bar.addWidget(self.mode)
        bar.addStretch(1)
        bar.addWidget(self.count)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.editor, 1)
        layout.addWidget(self.messages)
        self._debounce = QTimer(self, singleShot=True, interval=_DEBOUNCE_MS)
        self._debounce.timeout.connect(self.parse_now)
        self.editor.textChanged.connect(self._on_edited)
        self.mode.currentIndexChanged.connect(self.parse_now)
        self._showing_items: list[str] = []  # ids the editor shows, to tell our own updates from outside ones
        state.corpus_changed.connect(self._on_corpus_changed)

    @property
    def task_key(self) -> str:
        return f"parse-{self.kind}"

    def _on_edited(self) -> None:
        self._debounce.start()

    def parse_now(self) -> None:
        """Parse the editor's text off the GUI thread and hand the items to AppState."""
        self._debounce.stop()
        text = self.editor.toPlainText()
        mode: SplitMode = self.mode.currentData()
        kind = self.kind

        def parse(progress, cancelled) -> tuple[list[Item], ParseReport]:
            return items_from_pasted_text(text, kind, mode)

        self.runner.start(self.task_key, f"Reading {self.kind}s", parse, self._parsed, self.messages.show_error)

    def _parsed(self, result: tuple[list[Item], ParseReport]) -> None:
        items, report = result
        self._showing_items = [i.id for i in items]
        self.state.set_items(self.kind, items)
        self._show_report(report)

    def _show_report(self, report: ParseReport) -> None:
        noun = "documents" if self.kind == "document" else "queries"
        self.count.setText(report.summary().replace("items", noun).replace("item", noun[:-1]))
        self.messages.clear()

    def _on_corpus_changed(self) -> None:
        """Items set from outside (sample corpus, import, workspace): show their texts in the editor."""
        items = self.state.corpus.of_kind(self.kind)
        if [i.id for i in items] == self._showing_items:
            return
        self._showing_items = [i.id for i in items]
        multi_line = any("\n" in i.text for i in items)
        self.mode.blockSignals(True)
        self.mode.setCurrentIndex(1 if multi_line else 0)
        self.mode.blockSignals(False)
        self.editor.blockSignals(True)
        self.editor.setPlainText(("\n\n" if multi_line else "\n").join(i.text for i in items))
        self.editor.blockSignals(False)
        self._show_report(ParseReport(kept=len(items)))
        if any(i.metadata for i in items):
            self.messages.show_info("Loaded with metadata; editing the text here replaces these items.")
