"""A small dialog that lists every file a folder import skipped and why.

A dock's message strip has room for one summary line; the reasons (an empty file, a scan without text, bytes that
are not UTF-8) need a line each and must be readable without hovering. Where some file was skipped for invalid
UTF-8, the dialog offers to import the folder again with those bytes replaced (U+FFFD), as the single-file import
does.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget

from workbench.core.folder_import import FolderReport

INVALID_UTF8_REASON = "not valid UTF-8"  # how core.folder_import's reason for undecodable bytes begins


def skipped_for_encoding(report: FolderReport) -> list[str]:
    """The skipped files that importing with invalid bytes replaced would read."""
    return [s.path for s in report.skipped if s.reason.startswith(INVALID_UTF8_REASON)]


class FolderReportDialog(QDialog):
    """Each skipped file and its reason; `reimport_replacing` (when given) re-reads the folder replacing bad bytes."""

    def __init__(self, report: FolderReport, reimport_replacing: Callable[[], None] | None, parent: QWidget | None):
        super().__init__(parent)
        self.setWindowTitle(f"Import of {report.folder or 'the folder'}")
        self.resize(560, 320)
        layout = QVBoxLayout(self)
        summary = QLabel(f"Imported {report.summary()}.")
        summary.setWordWrap(True)
        layout.addWidget(summary)
        self.listing = QPlainTextEdit(readOnly=True)
        self.listing.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.listing.setPlainText("\n".join(report.details(limit=len(report.skipped))))
        layout.addWidget(self.listing, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        self.reimport: QPushButton | None = None
        bad = skipped_for_encoding(report)
        if bad and reimport_replacing is not None:
            self.reimport = buttons.addButton(
                f"Re-import, replacing invalid bytes ({len(bad)} file{'s' if len(bad) != 1 else ''})",
                QDialogButtonBox.ButtonRole.ActionRole,
            )
            self.reimport.setToolTip("Read the folder again; bytes that are not UTF-8 become � instead of skipping")
            self.reimport.clicked.connect(lambda: (self.accept(), reimport_replacing()))
        layout.addWidget(buttons)
