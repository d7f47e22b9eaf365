"""Grab the search lab at 1366 × 768: the side-by-side search, and the evaluation with one query shown on the map.

Usage: QT_QPA_PLATFORM=offscreen python scripts/search_lab_screenshots.py docs/screenshots
It drives the app as a person would: File ▸ Import BEIR folder (the demo folder `make_beir_demo.py` writes from
the sample corpus), Embed, push to a Milvus Lite file in a temporary folder, search one query in every mode, then
Evaluate and choose the worst query. It waits for every background task before each grab.
"""

from __future__ import annotations

import sys
from pathlib import Path
from tempfile import TemporaryDirectory

from PySide6.QtWidgets import QApplication

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_beir_demo import write_demo
from screenshot import settle

from workbench.core.cache import EmbeddingCache
from workbench.ui.main_window import MainWindow
from workbench.ui.state import AppState
from workbench.ui.tasks import TaskRunner

QUERY = "How do telescopes find planets around other stars?"


def main(out: Path) -> int:
    app = QApplication(sys.argv)
    out.mkdir(parents=True, exist_ok=True)
    with TemporaryDirectory() as scratch:
        window = MainWindow(AppState(), TaskRunner(), EmbeddingCache())
        window.resize(1366, 768)
        window.show()
        window.lab_files.import_beir(write_demo(Path(scratch) / "beir-demo"))
        settle(app, window.runner)
        window.start_embedding()
        settle(app, window.runner)
        window.milvus_panel.uri.setText(str(Path(scratch) / "lab.db"))
        window.milvus_panel.push()
        settle(app, window.runner)
        window.docks["Search lab"].raise_()
        window.search_lab.query.setEditText(QUERY)
        window.search_lab.search()
        settle(app, window.runner)
        window.grab().save(str(out / "search-lab-side-by-side-1366x768.png"))
        window.search_lab.views.setCurrentIndex(1)  # the same hits, one row per item
        settle(app, window.runner)
        window.search_lab.grab().save(str(out / "search-lab-one-row-per-item.png"))
        window.docks["Evaluation"].raise_()
        window.lab_pipeline.evaluate()
        settle(app, window.runner)
        view = window.evaluation_view
        view.query_table.selectRow(0)  # the worst query by dense nDCG@10
        settle(app, window.runner)
        window.grab().save(str(out / "search-lab-evaluation-1366x768.png"))
        window.close()
    print(f"saved to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots")))
