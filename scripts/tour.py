"""Screenshots of every tab at a laptop and a desktop screen size, with the sample corpus embedded (docs/screenshots).

Usage: python scripts/tour.py [docs/screenshots]
Each screen size runs in its own process on Qt's offscreen platform with that screen (tests/screens/*.json), so
the window opens exactly as it would there: at most the screen's free area, docks at their default sizes. The
tour drives the app as a person would: Load sample corpus, Embed, colour by topic; Similarity as queries ×
documents (the semantic-search demo); push to Milvus Lite and search; Compare against the same model cut to
128 dimensions, with k-means clusters. Each tab is grabbed as `<tab>-<size>.png`.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SIZES = ("1366x768", "1920x1080")


def tour(out: Path, size: str) -> None:
    sys.path.insert(0, str(REPO / "scripts"))
    from PySide6.QtWidgets import QApplication
    from screenshot import settle

    from workbench.core.cache import EmbeddingCache
    from workbench.ui.main_window import MainWindow
    from workbench.ui.state import AppState
    from workbench.ui.tasks import TaskRunner

    app = QApplication(sys.argv)
    window = MainWindow(AppState(), TaskRunner(), EmbeddingCache())  # sized for the screen, as the app opens it
    window.showMaximized()  # (not first at 1600 × 1000: the docks would keep that window's proportions)
    settle(app, window.runner, 30)
    window.load_sample_corpus()
    window.start_embedding()
    settle(app, window.runner)
    window.state.set_view(colour_by="meta:topic", heatmap_mode="queries", heatmap_order="meta:topic")
    window.docks["Similarity"].raise_()
    settle(app, window.runner)
    window.grab().save(str(out / f"similarity-{size}.png"))

    window.docks["Milvus"].raise_()
    settle(app, window.runner)
    milvus = window.milvus_panel
    milvus.push()
    settle(app, window.runner)
    milvus.query.setText("How do telescopes find planets?")
    milvus.search()
    settle(app, window.runner)
    window.grab().save(str(out / f"milvus-{size}.png"))

    window.docks["Compare"].raise_()
    window.state.set_view(cluster_method="kmeans", cluster_count=5, compare_dim=128, compare_layout_method="pca")
    window.pipeline.cluster()
    settle(app, window.runner)
    window.state.set_view(colour_by="meta:topic")
    window.compare_view.run_button.click()
    settle(app, window.runner)
    window.grab().save(str(out / f"compare-{size}.png"))
    window.close()


def main() -> int:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else REPO / "docs" / "screenshots").resolve()
    if os.environ.get("TOUR_SIZE"):
        tour(out, os.environ["TOUR_SIZE"])
        return 0
    out.mkdir(parents=True, exist_ok=True)
    for size in SIZES:
        with tempfile.TemporaryDirectory() as home:  # a fresh data dir: its own Milvus Lite file, no old layout
            screen = REPO / "tests" / "screens" / f"{size}.json"
            env = {"NUMBA_CACHE_DIR": str(REPO / ".numba-cache"), "HF_HUB_OFFLINE": "1", **os.environ}
            env.update(TOUR_SIZE=size, WORKBENCH_HOME=home, QT_QPA_PLATFORM=f"offscreen:configfile={screen}")
            subprocess.run([sys.executable, __file__, str(out)], env=env, check=True)
        print(f"{size}: saved similarity, milvus and compare screenshots in {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
