"""Grab what a laptop screen (1366 × 768) shows of three fixes: the Model dock without a scroll, the Layout box
beside a map of too few points for UMAP, and a Compare run reopened from a saved workspace.

Usage: python scripts/laptop_screenshots.py docs/screenshots (offscreen, on a 1366 × 768 screen)
Everything is the real app with the local model: the sample corpus (or 8 of its documents) is embedded, B is the
same model cut to 128 dimensions, laid out with PCA, saved with File ▸ Save workspace and opened in a fresh window.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from PySide6.QtWidgets import QApplication

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("QT_QPA_PLATFORM", f"offscreen:configfile={REPO / 'tests' / 'screens' / '1366x768.json'}")
os.environ.setdefault("WORKBENCH_HOME", tempfile.mkdtemp(prefix="workbench-screenshots-"))  # not the user's files
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("NUMBA_CACHE_DIR", str(REPO / ".numba-cache"))

from scripts.screenshot import settle  # noqa: E402
from workbench.core.cache import EmbeddingCache  # noqa: E402
from workbench.ui.main_window import MainWindow  # noqa: E402
from workbench.ui.state import AppState  # noqa: E402
from workbench.ui.tasks import TaskRunner  # noqa: E402


def new_window(app: QApplication, cache: EmbeddingCache) -> MainWindow:
    window = MainWindow(AppState(), TaskRunner(), cache)
    window.showMaximized()
    settle(app, window.runner, 30)
    return window


def main(out: Path) -> int:
    out.mkdir(parents=True, exist_ok=True)
    app = QApplication(sys.argv)
    cache = EmbeddingCache()
    window = new_window(app, cache)
    window.load_sample_corpus()
    settle(app, window.runner)
    window.docks["Model & key"].grab().save(str(out / "model-panel-no-scroll-1366x768.png"))

    documents = [item for item in window.state.corpus.items if item.kind == "document"]
    window.state.set_items("document", documents[:8])
    window.state.set_items("query", [])
    window.start_embedding()  # UMAP is chosen; 8 points are too few for it
    settle(app, window.runner)
    window.state.set_view(colour_by="meta:topic")
    settle(app, window.runner)
    window.grab().save(str(out / "projection-umap-needs-15-points-1366x768.png"))
    window.close()

    window = new_window(app, cache)
    window.load_sample_corpus()
    window.start_embedding()
    settle(app, window.runner)
    window.docks["Compare"].raise_()
    window.state.set_view(colour_by="meta:topic", compare_dim=128, compare_layout_method="pca")
    window.compare_view.run_button.click()
    settle(app, window.runner)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "compared.workbench"
        window.file_actions.save_to(path)
        settle(app, window.runner)
        window.close()
        window = new_window(app, cache)
        window.file_actions.open(path)
        settle(app, window.runner)
    window.docks["Compare"].raise_()
    settle(app, window.runner)
    window.grab().save(str(out / "compare-reopened-from-workspace-1366x768.png"))
    window.close()
    print(f"saved three screenshots in {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(Path(sys.argv[1] if len(sys.argv) > 1 else REPO / "docs" / "screenshots").resolve()))
