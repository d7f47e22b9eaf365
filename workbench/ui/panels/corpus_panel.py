"""Documents / Queries panel: paste text or import files (button or drag-and-drop), and see what was kept.

Pasted text is parsed through the TaskRunner, debounced so typing does not start a parse per keystroke. Files are
read through the TaskRunner too (progress and Cancel in the status bar); a .csv / .tsv / .jsonl / .parquet file
first opens the import dialog (`import_dialog`) to choose its text, id and metadata columns. A bad file is a
message in this panel's strip and changes nothing: items are replaced only when a whole file has been read.

Imported items carry metadata the editor cannot show: the panel says so, and editing the text replaces them with
plain items. Imports too big to lay out as text (megabytes) show a read-only preview instead, with Clear to start
over, so a truncated preview can never replace the real items. Import adds to the items already there.

"Import folder…" (and a folder dropped on the panel) reads every .md / .txt / .html / .pdf file under a folder as
one item each (`core/folder_import.py`), through the TaskRunner, and shows in the strip what was skipped and why.
"""

from __future__ import annotations

from dataclasses import dataclass
from operator import attrgetter
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from workbench.core.collector import collector_paused
from workbench.core.corpus import ParseReport, SplitMode, items_from_pasted_text
from workbench.core.folder_import import FolderReport, read_folder
from workbench.core.importers import (
    READERS,
    TABULAR_SUFFIXES,
    ImportOptions,
    InvalidEncoding,
    TablePreview,
    preview_table,
    read_items,
)
from workbench.core.items import Item, ItemKind, content_id
from workbench.ui.folder_report_dialog import FolderReportDialog
from workbench.ui.panels.import_dialog import ImportDialog
from workbench.ui.state import AppState
from workbench.ui.tasks import TaskRunner
from workbench.ui.widgets import MessageStrip, flow_row

_DEBOUNCE_MS = 250
_CHECK_ON_GUI_CHARS = 100_000  # re-reading this much text takes ~10 ms; more is checked in a task
_PREVIEW_CHARS = 2_000_000  # beyond this the editor shows a preview: laying out megabytes of text freezes Qt
_PREVIEW_ITEM_CHARS = 500
_PREVIEW_ITEMS = 20_000  # more items set from outside: a preview, worked out in a task


@dataclass(frozen=True)
class EditorText:
    """What the editor shows for items set from outside: their texts (or a preview of the first), and facts."""

    text: str
    multi_line: bool  # some text spans lines: items are separated by blank lines
    size: int  # characters in all the texts
    preview: bool  # too many items or characters to edit here: the first ones, read-only


@collector_paused()  # a million of them: see core/collector.py
def editor_text(items: list[Item]) -> EditorText:
    """The editor's text for `items` (a worker makes it for big corpora: it passes over every item).

    The passes are C loops (attrgetter, len, join) rather than Python ones, so the GUI thread has less Python to
    share the GIL with while a workspace opens; each C call here holds it ~10-20 ms at a million items."""
    texts = list(map(attrgetter("text"), items))
    multi_line = "\n" in "".join(texts)
    size = sum(map(len, texts))
    separator = "\n\n" if multi_line else "\n"
    if size <= _PREVIEW_CHARS and len(items) <= _PREVIEW_ITEMS:
        return EditorText(separator.join(texts), multi_line, size, False)
    shown, total = [], 0
    for text in texts:
        if total > _PREVIEW_CHARS // 4 or len(shown) >= _PREVIEW_ITEMS // 4:
            shown.append(f"… and {len(items) - len(shown)} more")
            break
        piece = text if len(text) <= _PREVIEW_ITEM_CHARS else text[:_PREVIEW_ITEM_CHARS] + " …"
        shown.append(piece)
        total += len(piece)
    return EditorText(separator.join(shown), multi_line, size, True)


FILE_FILTER = "Texts (" + " ".join(f"*{s}" for s in sorted(READERS)) + ");;All files (*)"


class CorpusPanel(QWidget):
    def __init__(self, state: AppState, runner: TaskRunner, kind: ItemKind, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state, self.runner, self.kind = state, runner, kind
        self.noun = "documents" if kind == "document" else "queries"
        self.editor = QPlainTextEdit()
        self.editor.setPlaceholderText(f"Paste {self.noun} here, one per line, or drop a file here.")
        self.mode = QComboBox()
        self.mode.addItem("One item per line", "lines")
        self.mode.addItem("Blank line separates items", "blank_line")
        self.import_button = QPushButton("Import…")
        self.import_button.setToolTip(f"Read {self.noun} from .txt, .csv, .tsv, .jsonl or .parquet")
        self.import_button.clicked.connect(self.choose_file)
        self.folder_button = QPushButton("Import folder…")
        self.folder_button.setToolTip(
            f"Read every .md, .txt, .html and .pdf file of a folder as one of the {self.noun}"
        )
        self.folder_button.clicked.connect(self.choose_folder)
        self.clear_button = QPushButton("Clear")
        self.clear_button.setToolTip(f"Remove all {self.noun}")
        self.clear_button.clicked.connect(self.clear_items)
        self.count = QLabel(f"0 {self.noun}")
        self.messages = MessageStrip()
        self.replace_button = QPushButton("Import with invalid bytes replaced")
        self.replace_button.clicked.connect(self._import_replacing)
        self.replace_button.hide()
        self.details_button = QPushButton("Details…")  # on the strip: each skipped file of a folder import and why
        self.details_button.clicked.connect(self.show_folder_report)
        self.details_button.hide()
        self.messages.layout().insertWidget(1, self.details_button)
        self._folder_report: tuple[Path, FolderReport] | None = None
        self.report_dialog: FolderReportDialog | None = None
        bar = flow_row(self.mode, self.import_button, self.folder_button, self.clear_button, self.count)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.messages)  # under the Import buttons it speaks for: a short dock still shows it
        layout.addWidget(self.replace_button)
        layout.addWidget(self.editor, 1)
        self._debounce = QTimer(self, singleShot=True, interval=_DEBOUNCE_MS)
        self._debounce.timeout.connect(self.parse_now)
        self.editor.textChanged.connect(self._on_edited)
        self.mode.currentIndexChanged.connect(self.parse_now)
        self._showing_items: list[Item] = []  # what the editor shows, to tell our own updates from outside ones
        self._failed_import: tuple[Path, ImportOptions] | None = None
        self.import_dialog: ImportDialog | None = None
        self.setAcceptDrops(True)
        self.editor.viewport().installEventFilter(self)  # file drops on the editor import; text drops paste
        state.corpus_changed.connect(self._on_corpus_changed)

    @property
    def task_key(self) -> str:
        return f"parse-{self.kind}"

    @property
    def import_key(self) -> str:
        return f"import-{self.kind}"

    # -- pasted text -------------------------------------------------------------------------------------------
    def _on_edited(self) -> None:
        if not self.editor.isReadOnly():
            self._debounce.start()

    def parse_now(self) -> None:
        """Parse the editor's text off the GUI thread and hand the items to AppState."""
        self._debounce.stop()
        if self.editor.isReadOnly():
            return  # the editor shows a preview of a big import; it is not re-parsed from its text
        text = self.editor.toPlainText()
        mode: SplitMode = self.mode.currentData()
        kind = self.kind

        def parse(progress, cancelled) -> tuple[list[Item], ParseReport]:
            return items_from_pasted_text(text, kind, mode)

        self.runner.start(self.task_key, f"Reading {self.noun}", parse, self._parsed, self.messages.show_error)

    def _parsed(self, result: tuple[list[Item], ParseReport]) -> None:
        items, report = result
        self._showing_items = items
        self.state.set_items(self.kind, items)
        self._show_report(report)
        self.messages.clear()

    def _show_report(self, report: ParseReport) -> None:
        self.count.setText(report.summary().replace("items", self.noun).replace("item", self.noun[:-1]))

    def clear_items(self) -> None:
        """Remove this panel's items (and leave the preview mode of a big import)."""
        self._debounce.stop()
        self.runner.cancel(self.import_key)
        self.editor.setReadOnly(False)
        self.state.set_items(self.kind, [])
        self.messages.clear()
        self.replace_button.hide()

    # -- items set from outside --------------------------------------------------------------------------------
    def _on_corpus_changed(self) -> None:
        """Items set from outside (import, sample corpus, workspace): show their texts in the editor.

        Above _PREVIEW_ITEMS items what the editor shows is worked out in a task (each pass over a million items
        costs 40-60 ms), and the editor is a read-only preview: laying out more lines freezes Qt.
        """
        items = self.state.corpus.of_kind(self.kind)
        if items == self._showing_items:  # the very items (our own parse): compared by identity, in C
            return
        self._showing_items = items
        if len(items) <= _PREVIEW_ITEMS:
            self._show_items(items, editor_text(items))
            return
        self.editor.setReadOnly(True)
        self.count.setText(f"Showing {len(items):,} {self.noun}…".replace(",", " "))
        self.runner.start(
            f"show-{self.kind}",
            f"Showing {self.noun}",
            lambda progress, cancelled: editor_text(items),
            lambda shown: self._show_items(items, shown) if self._showing_items is items else None,
            self.messages.show_error,
        )

    def _show_items(self, items: list[Item], shown: EditorText) -> None:
        self.mode.blockSignals(True)
        self.mode.setCurrentIndex(1 if shown.multi_line else 0)
        self.mode.blockSignals(False)
        self.editor.blockSignals(True)
        self.editor.setPlainText(shown.text)
        self.editor.blockSignals(False)
        self.editor.setReadOnly(bool(items))  # until it is checked that an edit cannot lose their ids (below)
        self._show_report(ParseReport(kept=len(items)))
        self.messages.clear()
        if shown.preview:
            self.messages.show_info(
                f"{len(items)} {self.noun} ({shown.size / 1e6:.1f} M characters): showing a preview; Clear to paste "
                "anew."
            )
            return
        text, mode, kind = shown.text, self.mode.currentData(), self.kind

        def gives_back(progress, cancelled) -> bool:  # up to 2 M characters re-read: ~0.2 s, not on the GUI thread
            return text_gives_back(items, text, kind, mode)

        def checked(editable: bool) -> None:
            if self._showing_items is not items:
                return  # other items came meanwhile; their own check decides
            self.editor.setReadOnly(not editable)
            if not self.messages.isHidden():
                return  # a message about this import (a folder's report) stays
            if not editable:
                self.messages.show_info(
                    "Imported ids and whole texts (with their blank lines) are kept: read-only here; Clear to paste "
                    "anew."
                )
            elif any(i.metadata for i in items):
                self.messages.show_info("Loaded with metadata; editing the text here replaces these items.")

        if shown.size <= _CHECK_ON_GUI_CHARS:
            checked(gives_back(None, None))  # ~10 ms at most: no task, the editor is ready at once
        else:
            self.runner.start(f"check-{kind}", f"Checking {self.noun}", gives_back, checked, self.messages.show_error)

    # -- files -------------------------------------------------------------------------------------------------
    def choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, f"Import {self.noun}", "", FILE_FILTER)
        if path:
            self.import_path(Path(path))

    def import_path(self, path: Path, options: ImportOptions | None = None) -> None:
        """Import a file: tabular files first show the column dialog (unless `options` are given)."""
        path = Path(path)
        self.messages.clear()
        self.replace_button.hide()
        suffix = path.suffix.lower()
        if suffix not in READERS:
            self.messages.show_error(
                f"{path.name}: cannot import a '{suffix}' file; use one of {', '.join(sorted(READERS))}."
            )
            return
        if options is None and suffix in TABULAR_SUFFIXES:
            self.runner.start(
                f"preview-{self.kind}",
                f"Reading the columns of {path.name}",
                lambda progress, cancelled: preview_table(path),
                lambda preview: self._show_import_dialog(path, preview),
                self.messages.show_error,
            )
            return
        if options is None:
            options = ImportOptions(kind=self.kind, split_mode=self.mode.currentData())
        self._start_import(path, options)

    def _show_import_dialog(self, path: Path, preview: TablePreview) -> None:
        """Non-modal, so the app keeps drawing while the user chooses (and tests can drive it)."""
        dialog = ImportDialog(path, preview, self.kind, self)
        self.import_dialog = dialog
        dialog.accepted.connect(lambda: self._start_import(path, dialog.options()))
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()

    def _start_import(self, path: Path, options: ImportOptions) -> None:
        options.kind = self.kind

        def read(progress, cancelled) -> Any:
            try:
                return read_items(path, options, progress, cancelled)
            except InvalidEncoding as error:
                return error  # returned, not raised: the panel offers to import with the bytes replaced

        self.count.setText(f"Importing {path.name}…")
        self.runner.start(
            self.import_key,
            f"Importing {path.name}",
            read,
            lambda result: self._imported(path, options, result),
            lambda message: self._import_failed(message),
            on_cancelled=lambda message: self._import_failed(f"Import of {path.name} cancelled; nothing changed."),
        )

    def _imported(self, path: Path, options: ImportOptions, result: Any) -> None:
        if isinstance(result, InvalidEncoding):
            self._failed_import = (path, options)
            self._import_failed(
                f"{path.name}: line {result.line}, byte {result.byte}: not valid UTF-8. Convert the file to UTF-8, or "
                f"import it with the invalid bytes replaced by �."
            )
            self.replace_button.show()
            return
        items, report = result
        existing = list(self.state.corpus.of_kind(self.kind))
        added = self.state.set_items(self.kind, existing + items)
        total = len(self.state.corpus.of_kind(self.kind))
        duplicates = report.collapsed_duplicates + added.collapsed_duplicates
        self._show_report(ParseReport(kept=total, dropped_empty=report.dropped_empty, collapsed_duplicates=duplicates))
        note = ""
        if self.editor.isReadOnly():
            note = "; too large to edit here, so the editor shows a preview"
        elif self.messages.level == "info":  # they carry metadata
            note = "; editing the text here replaces them with plain items"
        self.messages.show_info(f"Imported {report.kept} {self.noun} from {path.name}{note}.")
        self.state.status_message.emit(f"Imported {report.kept} {self.noun} from {path.name}.")

    # -- folders -----------------------------------------------------------------------------------------------
    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, f"Import a folder of {self.noun}")
        if folder:
            self.import_folder(Path(folder))

    def import_folder(self, folder: Path, encoding_errors: str = "strict") -> None:
        """Read a folder's files off the GUI thread; the items are added when the whole folder is read."""
        folder = Path(folder)
        self.messages.clear()
        self.replace_button.hide()
        self.details_button.hide()
        kind = self.kind
        self.count.setText(f"Importing {folder.name}…")
        self.runner.start(
            self.import_key,
            f"Importing the folder {folder.name}",
            lambda progress, cancelled: read_folder(folder, kind, encoding_errors, progress, cancelled),
            lambda result: self._folder_imported(result, folder),
            self._import_failed,
            on_cancelled=lambda message: self._import_failed(f"Import of {folder.name} cancelled; nothing changed."),
        )

    def _folder_imported(self, result: tuple[list[Item], FolderReport], folder: Path | None = None) -> None:
        items, report = result
        existing = list(self.state.corpus.of_kind(self.kind))
        added = self.state.set_items(self.kind, existing + items)
        self._show_report(
            ParseReport(kept=len(self.state.corpus.of_kind(self.kind)), collapsed_duplicates=added.collapsed_duplicates)
        )
        text = f"Imported {report.summary()}"
        if report.skipped:  # a dock is short: the strip says how many, Details… lists each file and why
            self.messages.show_warning(text + ".")
            self._folder_report = (folder, report) if folder is not None else None
            self.details_button.setVisible(folder is not None)
        else:
            self.messages.show_info(text + ".")
        self.state.status_message.emit(text + ".")

    def show_folder_report(self) -> None:
        """The last folder import's skipped files and reasons, with a re-import replacing invalid bytes."""
        if self._folder_report is None:
            return
        folder, report = self._folder_report
        self.report_dialog = FolderReportDialog(report, lambda: self.import_folder(folder, "replace"), self)
        self.report_dialog.open()

    def _import_failed(self, message: str) -> None:
        self._show_report(ParseReport(kept=len(self.state.corpus.of_kind(self.kind))))
        self.messages.show_error(message)

    def _import_replacing(self) -> None:
        if self._failed_import is None:
            return
        path, options = self._failed_import
        self._failed_import = None
        self.replace_button.hide()
        options.encoding_errors = "replace"
        self._start_import(path, options)

    # -- drag and drop -----------------------------------------------------------------------------------------
    @staticmethod
    def _dropped_files(event: QDragEnterEvent | QDropEvent) -> list[Path]:
        mime = event.mimeData()
        if not mime.hasUrls():
            return []
        return [Path(url.toLocalFile()) for url in mime.urls() if url.isLocalFile()]

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if self._dropped_files(event):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        files = self._dropped_files(event)
        if not files:
            return
        event.acceptProposedAction()
        if files[0].is_dir():
            self.import_folder(files[0])
            return
        self.import_path(files[0])
        if len(files) > 1:
            self.messages.show_warning(f"{len(files)} files dropped; importing the first, {files[0].name}.")

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind in (QEvent.Type.DragEnter, QEvent.Type.DragMove) and self._dropped_files(event):  # type: ignore[arg-type]
            event.acceptProposedAction()  # type: ignore[attr-defined]
            return True
        if kind == QEvent.Type.Drop and self._dropped_files(event):  # type: ignore[arg-type]
            self.dropEvent(event)  # type: ignore[arg-type]
            return True
        return super().eventFilter(watched, event)


def text_gives_back(items: list[Item], text: str, kind: str, mode: SplitMode) -> bool:
    """Whether an edit would lose nothing that only the import had: re-reading the editor's text gives the same
    texts, and every id is one the app made from the item (`content_id`), not one the source gave (a file's path,
    an id column). A document with blank lines would be split, and a given id replaced by a hash, so those are
    read-only; metadata is said to be replaced on edit, as before."""
    again, _ = items_from_pasted_text(text, kind, mode)
    return [i.text for i in again] == [i.text for i in items] and all(
        i.id == content_id(i.text, i.kind, i.metadata) for i in items
    )
