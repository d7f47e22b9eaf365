"""Grab the real main window, with the sample corpus embedded, to a PNG (the README's screenshot).

Usage: QT_QPA_PLATFORM=offscreen python scripts/screenshot.py resources/screenshot.png
It drives the app as a person would (Load sample corpus, Embed), waits until every background task is done,
and saves `window.grab()`.
"""

from __future__ import annotations

import sys
import time

from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication

from workbench.core.cache import EmbeddingCache
from workbench.ui.main_window import MainWindow
from workbench.ui.state import AppState
from workbench.ui.tasks import TaskRunner


def settle(app: QApplication, runner: TaskRunner, timeout_s: float = 300) -> None:
    """Spin the event loop until no task has run for a moment (embedding starts projection, and so on)."""
    deadline = time.monotonic() + timeout_s
    quiet_since = None
    while time.monotonic() < deadline:
        loop = QEventLoop()
        QTimer.singleShot(100, loop.quit)
        loop.exec()
        if runner.running():
            quiet_since = None
        elif quiet_since is None:
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since > 1.5:
            return


def main(out: str) -> int:
    app = QApplication(sys.argv)
    state, runner = AppState(), TaskRunner()
    window = MainWindow(state, runner, EmbeddingCache())
    window.resize(1600, 1000)
    window.show()
    window.load_sample_corpus()
    settle(app, runner)
    window.start_embedding()
    settle(app, runner)
    colour = window.projection_view.colour_by
    colour.setCurrentIndex(max(0, colour.findText("metadata: topic")))  # the sample corpus' five topics
    settle(app, runner)
    window.grab().save(out)
    print(f"saved {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1] if len(sys.argv) > 1 else "resources/screenshot.png"))
