"""The main window driven as a person would: sample corpus → Embed → UMAP map → push to Milvus → search."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt

from workbench.ui.panels.milvus_panel import PUSH_TASK, SEARCH_TASK
from workbench.ui.pipeline import UMAP_TASK


def test_sample_corpus_embed_project_push_search_and_a_screenshot(window, qtbot, local_embedder, tmp_path) -> None:
    window.resize(1500, 950)
    window.state.embedders.put(local_embedder)
    window.sample_action.trigger()
    qtbot.mouseClick(window.milvus_panel.push_button, Qt.MouseButton.LeftButton)  # disabled: nothing embedded
    assert not window.runner.is_running(PUSH_TASK)
    with qtbot.waitSignal(window.state.vectors_changed, timeout=60_000):
        window.embed_action.trigger()
    qtbot.waitUntil(lambda: window.state.projection_note.startswith("UMAP"), timeout=120_000)
    assert not window.runner.is_running(UMAP_TASK)
    assert window.state.projection.shape == (46, 2)

    panel = window.milvus_panel
    panel.uri.setText(str(tmp_path / "e2e.db"))
    window.docks["Milvus"].raise_()
    qtbot.mouseClick(panel.push_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not window.runner.is_running(PUSH_TASK), timeout=60_000)
    assert panel.count_label.text() == "46 rows in 'workbench'"
    panel.query.setText("Which telescope looks at galaxies in infrared?")
    panel.search()
    qtbot.waitUntil(lambda: not window.runner.is_running(SEARCH_TASK) and panel.results.rowCount() > 0,
                    timeout=60_000)  # fmt: skip
    first_row = " ".join(
        panel.results.item(0, c).text() for c in range(panel.results.columnCount()) if panel.results.item(0, c)
    )
    assert "James Webb" in first_row

    window.docks["Similarity"].raise_()
    qtbot.waitUntil(lambda: window.similarity_view.data is not None, timeout=30_000)
    image = window.grab().toImage()
    path = tmp_path / "window.png"
    assert image.save(str(path))
    pixels = np.array([[image.pixel(x, y) for x in range(0, image.width(), 7)] for y in range(0, image.height(), 7)])
    assert len(np.unique(pixels)) > 50  # a real picture: text, points, a heatmap — not a blank window
    scatter = window.projection_view.scatter.plot.grab().toImage()
    colours = {scatter.pixel(x, y) for x in range(0, scatter.width(), 3) for y in range(0, scatter.height(), 3)}
    assert len(colours) > 5  # points of both kinds on a white background
