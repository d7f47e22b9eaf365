"""Grab the real main window, with the sample corpus embedded, to a PNG (the README's screenshot).

Usage: QT_QPA_PLATFORM=offscreen python scripts/screenshot.py resources/screenshot.png [--via-workspace]
It drives the app as a person would (Load sample corpus, Embed, colour by topic), waits until every background
task is done, and saves `window.grab()`. With --via-workspace it also clusters and sets a few view settings,
saves a workspace, opens it in a second, fresh window and grabs that one: what a person sees on reopening.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from tempfile import TemporaryDirectory

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


def new_window() -> MainWindow:
    window = MainWindow(AppState(), TaskRunner(), EmbeddingCache())
    window.resize(1600, 1000)
    window.show()
    return window


def main(out: str, via_workspace: bool = False) -> int:
    app = QApplication(sys.argv)
    window = new_window()
    window.load_sample_corpus()
    settle(app, window.runner)
    window.start_embedding()
    settle(app, window.runner)
    colour = window.projection_view.colour_by
    colour.setCurrentIndex(max(0, colour.findData("meta:topic")))  # the sample corpus' five topics
    settle(app, window.runner)
    if via_workspace:
        window.similarity_view.order.setCurrentIndex(window.similarity_view.order.findData("meta:topic"))
        window.compare_view.cluster_editor.cluster_button.click()
        settle(app, window.runner)
        colour.setCurrentIndex(max(0, colour.findData("meta:topic")))  # clustering switched the colouring
        with TemporaryDirectory() as folder:
            path = Path(folder) / "sample.workbench"
            window.file_actions.save_to(path)
            settle(app, window.runner)
            window.close()
            window = new_window()
            window.file_actions.open(path)
            settle(app, window.runner)
    window.grab().save(out)
    print(f"saved {out}")
    return 0


if __name__ == "__main__":
    arguments = [a for a in sys.argv[1:] if not a.startswith("--")]
    raise SystemExit(main(arguments[0] if arguments else "resources/screenshot.png", "--via-workspace" in sys.argv))
