"""Start the desktop app: one QApplication, one AppState, one TaskRunner, one main window."""

from __future__ import annotations

import sys

from workbench.core.cache import EmbeddingCache


def run_app(argv: list[str] | None = None) -> int:
    from PySide6.QtWidgets import QApplication

    from workbench.ui.main_window import MainWindow
    from workbench.ui.state import AppState
    from workbench.ui.tasks import TaskRunner

    app = QApplication.instance() or QApplication(argv if argv is not None else sys.argv)
    app.setApplicationName("Embedding Workbench")
    app.setOrganizationName("embedding-workbench")
    from pathlib import Path

    from PySide6.QtGui import QIcon

    app.setWindowIcon(QIcon(str(Path(__file__).resolve().parents[1] / "resources" / "icon.svg")))
    state = AppState()
    runner = TaskRunner()
    window = MainWindow(state, runner, EmbeddingCache())
    window.show()
    return int(app.exec())
