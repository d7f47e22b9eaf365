"""The main window fits a laptop (1366 × 768) and a desktop (1920 × 1080) screen, with every dock on screen.

Each screen size is its own process (Qt's offscreen platform takes the screen from a config file at start-up),
running the real window with the sample corpus embedded (random vectors: the layout is what is tested here).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

REPO = Path(__file__).resolve().parents[2]
PROBE = r"""
import json, sys
import numpy as np
from PySide6.QtWidgets import QApplication
app = QApplication(sys.argv)
from workbench.core.cache import EmbeddingCache
from workbench.core.embedders.base import EmbeddingSpec, l2_normalise
from workbench.core.embedding import EmbeddingResult
from workbench.ui.main_window import MainWindow
from workbench.ui.state import AppState
from workbench.ui.tasks import TaskRunner

window = MainWindow(AppState(), TaskRunner(), EmbeddingCache())
window.load_sample_corpus()
items = list(window.state.corpus.items)
vectors = l2_normalise(np.random.default_rng(0).normal(size=(len(items), 64)))
layout = np.random.default_rng(1).normal(size=(len(items), 2))
window.state.set_embedding(EmbeddingResult(items, vectors, EmbeddingSpec(), 64, len(items), 0), layout, "test")
window.state.set_view(colour_by="meta:topic")
window.show()
screen = window.screen().availableGeometry()
docks = {}
for name, dock in window.docks.items():  # each tabbed dock in turn, as a person would open it
    dock.raise_()
    for _ in range(10):
        app.processEvents()
    top_left = dock.mapToGlobal(dock.rect().topLeft())
    docks[name] = [top_left.x(), top_left.y(), dock.width(), dock.height(), dock.isVisible()]
frame = window.frameGeometry()
model_area = window.docks["Model & key"].widget()  # the Model panel's scroll area
print(json.dumps({
    "model_scroll": model_area.verticalScrollBar().maximum(),
    "screen": [screen.x(), screen.y(), screen.width(), screen.height()],
    "window": [frame.x(), frame.y(), frame.width(), frame.height()],
    "minimum": [window.minimumSizeHint().width(), window.minimumSizeHint().height()],
    "central": [window.centralWidget().width(), window.centralWidget().height()],
    "docks": docks,
}))
"""


def _probe(size: str, tmp_path: Path) -> dict:
    env = dict(os.environ)
    env["QT_QPA_PLATFORM"] = f"offscreen:configfile={REPO / 'tests' / 'screens' / f'{size}.json'}"
    env["PYTHONPATH"] = str(REPO)
    done = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=120,
                          cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("size", ["1366x768", "1920x1080"])
def test_the_window_and_every_dock_lie_on_the_screen(size: str, tmp_path: Path) -> None:
    found = _probe(size, tmp_path)
    sx, sy, sw, sh = found["screen"]
    wx, wy, ww, wh = found["window"]
    assert sx <= wx and sy <= wy and wx + ww <= sx + sw and wy + wh <= sy + sh, found
    assert found["minimum"][0] <= 1280 and found["minimum"][1] <= 720, found["minimum"]
    for name, (x, y, width, height, visible) in found["docks"].items():
        assert visible, f"{name} is not shown"
        assert sx <= x and sy <= y and x + width <= sx + sw and y + height <= sy + sh, (name, found)
        assert width >= 200 and height >= 150, (name, width, height)  # big enough to use, not a sliver
    assert found["central"][0] >= 0.3 * ww, found  # the map keeps a fair share of the window
    assert found["model_scroll"] == 0, found  # every Model row, Batch, Long texts and the token summary on screen


def test_the_arrangement_is_remembered_and_reset_layout_restores_the_default(window, qtbot) -> None:
    from workbench.ui.main_window import MainWindow
    from workbench.ui.state import AppState
    from workbench.ui.tasks import TaskRunner

    window.docks["Milvus"].close()
    window.removeDockWidget(window.docks["Queries"])
    window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, window.docks["Queries"])
    window.docks["Queries"].show()
    window.close()  # the arrangement is saved on close

    again = MainWindow(AppState(), TaskRunner(), window.cache)
    qtbot.addWidget(again)
    again.show()
    qtbot.waitExposed(again)
    right = Qt.DockWidgetArea.RightDockWidgetArea
    assert not again.docks["Milvus"].isVisible()
    assert again.dockWidgetArea(again.docks["Queries"]) == right

    again.reset_layout_action.trigger()
    qtbot.waitUntil(lambda: again.docks["Milvus"].isVisibleTo(again), timeout=2_000)
    assert again.dockWidgetArea(again.docks["Queries"]) == Qt.DockWidgetArea.LeftDockWidgetArea
    assert all(dock.isVisibleTo(again) for dock in again.docks.values())
    assert again.window_layout.settings().value("state") is None  # the remembered arrangement is gone
