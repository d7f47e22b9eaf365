"""Start the desktop app: one QApplication, one AppState, one TaskRunner, one main window.

Only this module's caller (`workbench` with no sub-command) imports Qt; the CLI never reaches here.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from workbench.core.cache import EmbeddingCache
from workbench.core.crash_report import configure_app_logging
from workbench.core.projection import warm_up_umap_in_subprocess
from workbench.ui.main_window import MainWindow
from workbench.ui.panels.milvus_panel import MILVUS_PROCESS
from workbench.ui.state import AppState, keep_out_of_collector_scans
from workbench.ui.tasks import TaskRunner

ICON = Path(__file__).resolve().parents[1] / "resources" / "icon.svg"


def run_app(argv: list[str] | None = None) -> int:
    configure_app_logging()  # a rotating, scrubbed log in the data dir; its tail goes into crash reports
    app = QApplication.instance() or QApplication(argv if argv is not None else sys.argv)
    app.setApplicationName("Embedding Workbench")
    app.setOrganizationName("embedding-workbench")
    app.setWindowIcon(QIcon(str(ICON)))
    state = AppState()
    runner = TaskRunner()
    window = MainWindow(state, runner, EmbeddingCache())
    window.crash_handler.install()
    window.show()
    keep_out_of_collector_scans()  # Qt, pyqtgraph and numpy: what start-up built stays for the session
    # umap's import and numba compile cost ~20 s cold: pay them in a child process while the person pastes texts.
    warm_up_umap_in_subprocess()
    code = int(app.exec())
    MILVUS_PROCESS.close()  # after the window's close waited for its tasks: nothing is being written now
    return code
