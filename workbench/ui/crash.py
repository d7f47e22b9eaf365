"""When the app itself fails: a crash report on disk, an autosave, a message, and the window keeps running.

PySide6 reports an exception raised in a slot through `sys.excepthook` and carries on; a worker thread's escapes
through `threading.excepthook` (TaskRunner catches its tasks' errors, so those are rare). Both land in
`CrashHandler.handle`, which may run on any thread: the report and the log line are written at once, and the
autosave and the message are sent to the GUI thread through a queued signal.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QMainWindow, QMessageBox

from workbench.core.crash_report import write_crash_report
from workbench.core.secrets import scrub

log = logging.getLogger("workbench.ui.crash")


class CrashHandler(QObject):
    """Installed by the app (`install`); tests call `handle` directly with a real exception."""

    crashed = Signal(str, str)  # the one-line error (scrubbed), the report's path

    def __init__(self, window: QMainWindow, autosave: Callable[[], None]) -> None:
        super().__init__(window)
        self.window, self.autosave = window, autosave  # autosave: write the workspace now, whatever changed
        self.reports: list[Path] = []
        self._handling = threading.local()
        self.crashed.connect(self._tell_the_person)  # queued when emitted from another thread

    def install(self) -> None:
        sys.excepthook = self.handle
        threading.excepthook = lambda args: self.handle(args.exc_type, args.exc_value, args.exc_traceback)

    def handle(self, kind: type[BaseException], error: BaseException, trace: TracebackType | None) -> Path | None:
        if issubclass(kind, KeyboardInterrupt) or getattr(self._handling, "active", False):
            sys.__excepthook__(kind, error, trace)  # Ctrl+C in a terminal, or a failure inside this handler
            return None
        self._handling.active = True
        try:
            log.error("unexpected error", exc_info=(kind, error, trace))
            path = write_crash_report(kind, error, trace, context=[f"PySide6 {pyside_version}"])
            self.reports.append(path)
            self.crashed.emit(scrub(f"{kind.__name__}: {error}")[:300], str(path))
            return path
        except Exception:  # noqa: BLE001 - the handler must never raise; the original error still gets printed
            sys.__excepthook__(kind, error, trace)
            return None
        finally:
            self._handling.active = False

    def _tell_the_person(self, summary: str, report: str) -> None:
        self.autosave()
        box = QMessageBox(self.window)
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle("Something went wrong")
        box.setText(f"Embedding Workbench met an error it did not expect:\n{summary}")
        box.setInformativeText(
            "Your work has been autosaved and the app keeps running. If something looks wrong, save your "
            f"workspace and restart.\n\nA report (no keys or tokens in it) was written to:\n{report}"
        )
        box.setModal(False)
        box.show()
        self.window.statusBar().showMessage(f"Unexpected error; report written to {report}", 30_000)
