"""Screenshots of clusters: the map with names zoomed out (groups) and zoomed in (clusters), and the cluster table.

Usage: QT_QPA_PLATFORM=offscreen python scripts/cluster_screenshots.py [docs/screenshots]
Drives the real window at 1366 × 768 as a person would: 600 Debian package descriptions in 10 sections
(bench/_debian_corpus.py; the sample corpus where apt-cache is missing) as documents, Embed (local model, UMAP
layout), then Cluster with the defaults. Saves clusters-map-zoomed-out.png, clusters-map-zoomed-in.png and
clusters-table.png.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from PySide6.QtWidgets import QApplication

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _debian_corpus import debian_descriptions
from screenshot import settle

from workbench.core.cache import EmbeddingCache
from workbench.core.items import Item
from workbench.ui.main_window import MainWindow
from workbench.ui.state import AppState
from workbench.ui.tasks import TaskRunner


def main(folder: str) -> int:
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    app = QApplication(sys.argv)
    window = MainWindow(AppState(), TaskRunner(), EmbeddingCache())
    window.resize(1366, 768)
    window.show()
    corpus = debian_descriptions()
    if corpus is None:
        window.load_sample_corpus()
    else:
        texts, sections = corpus
        window.state.set_items(
            "document", [Item.create(t, metadata={"section": s}) for t, s in zip(texts, sections, strict=True)]
        )
    settle(app, window.runner)
    print("window.start_embedding()", flush=True)
    window.start_embedding()
    settle(app, window.runner)
    editor = window.compare_view.cluster_editor
    window.docks["Compare"].raise_()
    window.compare_view.tabs.setCurrentWidget(editor)
    print("editor.cluster_button.click()", flush=True)
    editor.cluster_button.click()
    settle(app, window.runner)
    view = window.projection_view
    view.scatter.fit_view()
    settle(app, window.runner, 3)
    print("grabbing", flush=True)
    view.grab().save(str(out / "clusters-map-zoomed-out.png"))
    state = window.state
    xy = state.projection[state.clusters == 0]  # zoom to the biggest cluster and what lies around it
    centre, span = np.median(xy, axis=0), np.ptp(state.projection, axis=0) / 3.2
    view.scatter.viewbox.setRange(xRange=(centre[0] - span[0] / 2, centre[0] + span[0] / 2),
                                  yRange=(centre[1] - span[1] / 2, centre[1] + span[1] / 2), padding=0)  # fmt: skip
    settle(app, window.runner, 3)
    view.grab().save(str(out / "clusters-map-zoomed-in.png"))
    window.docks["Compare"].grab().save(str(out / "clusters-table.png"))  # as docked at 1366 × 768
    editor.table.resizeColumnsToContents()
    window.docks["Compare"].setFloating(True)  # and given room, as a person can by undocking it
    window.docks["Compare"].resize(1100, 720)
    settle(app, window.runner, 3)
    window.docks["Compare"].grab().save(str(out / "clusters-table-undocked.png"))
    print(f"saved to {out}: level {view.cluster_names.level}, {len(set(state.clusters.tolist()))} clusters")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots"))
