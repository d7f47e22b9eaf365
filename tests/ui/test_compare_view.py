from __future__ import annotations

import numpy as np

from workbench.core.embedders.base import EmbeddingSpec, l2_normalise
from workbench.core.embedding import EmbeddingResult
from workbench.core.items import Item
from workbench.ui.panels.compare_view import CLUSTER_TASK, COMPARE_TASK


def _embedded(window, local_embedder, qtbot) -> None:
    window.state.embedders.put(local_embedder)
    window.load_sample_corpus()
    window.projection_view.method.setCurrentIndex(1)  # PCA: this test is about the compare panel
    with qtbot.waitSignal(window.state.vectors_changed, timeout=60_000):
        window.start_embedding()
    qtbot.waitUntil(lambda: window.state.projection is not None, timeout=30_000)


def test_selecting_in_one_view_selects_the_same_ids_in_the_other(window, qtbot, local_embedder, tmp_path) -> None:
    _embedded(window, local_embedder, qtbot)
    view = window.compare_view
    view.dim.setValue(128)  # B: the same model truncated to 128 dims (Matryoshka-style), through the cache
    view.run_button.click()
    qtbot.waitUntil(lambda: view.comparison is not None and not window.runner.is_running(COMPARE_TASK), timeout=90_000)
    numbers = view.comparison.numbers
    assert 0 < numbers["knn_overlap"] <= 1 and numbers["items"] == 46
    assert "knn_label_accuracy_a" in numbers  # the sample corpus has a topic column
    picked = [window.state.embedding.items[i].id for i in (0, 5, 41)]
    view.scatter_a.selection_made.emit(picked, False)  # what a click / lasso in A emits
    assert window.state.selection == picked
    rows_b = view.scatter_b.selection_marks.data
    assert len(rows_b) == 3
    expected = view.scatter_b.xy[[view.scatter_b._row_of[i] for i in picked]]
    ringed = np.array([(p["x"], p["y"]) for p in rows_b], dtype=np.float32)
    assert sorted(map(tuple, ringed.round(4).tolist())) == sorted(map(tuple, expected.round(4).tolist()))
    view.scatter_b.hovered.emit(picked[0])
    assert len(view.scatter_a.hover_mark.data) == 1
    report = view.export_report(str(tmp_path / "report.html"))
    text = report.read_text()
    assert "knn_overlap" in text and "data:image/png;base64," in text


def test_clustering_sets_app_state_and_renaming_updates_names(window, qtbot) -> None:
    rng = np.random.default_rng(0)
    centres = l2_normalise(rng.normal(size=(2, 16)))
    labels = np.repeat([0, 1], 20)
    vectors = l2_normalise(centres[labels] + 0.05 * rng.normal(size=(40, 16)))
    words = ["volcano lava", "pasta sauce"]
    items = [Item.create(f"{words[c]} note {i}") for i, c in enumerate(labels)]
    window.state.set_embedding(EmbeddingResult(items, vectors, EmbeddingSpec("test", "planted"), 16, 0, 0))
    view = window.compare_view
    view.method.setCurrentIndex(1)
    view.clusters_k.setValue(2)
    view.cluster_button.click()
    qtbot.waitUntil(lambda: window.state.clusters is not None and not window.runner.is_running(CLUSTER_TASK),
                    timeout=30_000)  # fmt: skip
    assert len(set(window.state.clusters.tolist())) == 2
    assert view.cluster_table.rowCount() == 2
    first_words = sorted(name.split(" · ")[0] for name in window.state.cluster_names.values())
    assert first_words in (["lava", "pasta"], ["lava", "sauce"], ["pasta", "volcano"], ["sauce", "volcano"])
    view.cluster_table.item(0, 2).setText("fire mountains")
    assert window.state.cluster_names[int(view.cluster_table.item(0, 0).text())] == "fire mountains"
