"""The Compare panel: B through the cache, linked selection and hover, numbers, query tops, exports, clusters."""

from __future__ import annotations

import zlib

import numpy as np
from PySide6.QtCore import Qt
from sklearn.metrics import adjusted_rand_score

from workbench.core.compare import explanation
from workbench.core.embedders.base import EmbeddingSpec, l2_normalise
from workbench.core.embedding import EmbeddingResult
from workbench.core.items import Item
from workbench.ui.panels.cluster_editor import NAME_COLUMN
from workbench.ui.pipeline import CLUSTER_TASK, COMPARE_TASK


def _embedded(window, local_embedder, qtbot) -> None:
    window.docks["Compare"].raise_()  # the maps draw only when the Compare tab is on screen
    window.state.embedders.put(local_embedder)
    window.load_sample_corpus()
    window.projection_view.method.setCurrentIndex(1)  # PCA: this test is about the compare panel
    with qtbot.waitSignal(window.state.vectors_changed, timeout=60_000):
        window.start_embedding()
    qtbot.waitUntil(lambda: window.state.projection is not None, timeout=30_000)


def _ringed(scatter) -> list[tuple[float, float]]:
    return sorted((round(float(x), 4), round(float(y), 4)) for x, y in scatter.selected_positions())


def _positions(scatter, ids: list[str]) -> list[tuple[float, float]]:
    return sorted((round(float(x), 4), round(float(y), 4)) for x, y in scatter.xy[[scatter.ids.index(i) for i in ids]])


def test_selecting_in_one_view_selects_the_same_ids_in_the_other(window, qtbot, local_embedder, tmp_path) -> None:
    _embedded(window, local_embedder, qtbot)
    view = window.compare_view
    assert view.labels.currentData() == "topic"  # the sample corpus's label column is offered and chosen
    view.dim.setValue(128)  # B: the same model truncated to 128 dims (Matryoshka-style), through the cache
    view.layout_method.setCurrentIndex(1)  # PCA for B too: fast, and this test is about linking
    view.run_button.click()
    qtbot.waitUntil(lambda: view.outcome is not None and not window.runner.is_running(COMPARE_TASK), timeout=90_000)
    numbers = view.outcome.comparison.numbers
    assert 0 < numbers["knn_overlap"] <= 1 and numbers["items"] == 46
    assert numbers["knn_label_accuracy_a"] is not None and numbers["silhouette_b"] is not None
    assert "128" in view.title_b.text()
    qtbot.waitUntil(lambda: view.scatter_b.ids == view.scatter_a.ids and len(view.scatter_a.ids) == 46, timeout=5_000)

    ids = window.state.embedding.items
    picked = [ids[i].id for i in (0, 5, 41)]
    view.scatter_a.selection_made.emit(picked, False)  # what a click / rectangle / lasso in A emits
    assert window.state.selection == picked
    assert _ringed(view.scatter_b) == _positions(view.scatter_b, picked)
    assert _ringed(view.scatter_a) == _positions(view.scatter_a, picked)
    # ...and the other way round, adding with shift
    view.scatter_b.selection_made.emit([ids[7].id], True)
    assert window.state.selection == [*picked, ids[7].id]
    assert _ringed(view.scatter_a) == _positions(view.scatter_a, [*picked, ids[7].id])
    # a lasso (polygon in data coordinates) around every point of B selects them all in A too
    lo, hi = view.scatter_b.xy.min(axis=0) - 1, view.scatter_b.xy.max(axis=0) + 1
    view.scatter_b.select_polygon(np.array([[lo[0], lo[1]], [hi[0], lo[1]], [hi[0], hi[1]], [lo[0], hi[1]]]))
    assert len(window.state.selection) == 46 and len(view.scatter_a.selected_positions()) == 46

    view.scatter_b.hovered.emit(picked[0])  # hover in B rings the same item in A
    assert [(round(p["x"], 4), round(p["y"], 4)) for p in view.scatter_a.hover_mark.data] == _positions(
        view.scatter_a, picked[:1]
    )
    view.scatter_b.hovered.emit("")
    assert len(view.scatter_a.hover_mark.data) == 0

    # each query's top documents under A and B, one row per document; a click on one selects the query and it
    queries = [item.text for item in window.state.embedding.items if item.kind == "query"]
    assert [view.query.itemData(i, Qt.ItemDataRole.ToolTipRole) for i in range(view.query.count())] == queries
    tops = view.outcome.comparison.query_tops[0]
    table = view.query_table
    assert table.rowCount() == len(set(tops["top_a"]) | set(tops["top_b"]))
    assert table.headers() == ["A #", "B #", "document", "A cos", "B cos", "id", "topic"]
    first_a = window.state.embedding.items[window.state.row_of(tops["top_a"][0])]
    assert [table.item(0, table.column_of(h)).text() for h in ("A #", "document", "A cos", "id", "topic")] == [
        "1", first_a.text, f"{tops['scores_a'][0]:.3f}", first_a.id, first_a.metadata["topic"]
    ]  # fmt: skip
    table.sortItems(table.column_of("B #"))
    assert table.item(0, table.column_of("B #")).text() == "1"
    view._query_cell_clicked(0, table.column_of("A cos"))
    assert window.state.selection == [tops["id"], tops["top_b"][0]]
    # the numbers in words, each with its meaning below it, as wide as the panel
    view.tabs.setCurrentWidget(view.numbers)
    names = [view.numbers.item(row, 0).text() for row in range(0, view.numbers.rowCount(), 2)]
    assert "neighbours shared by A and B" in names and "labelled items" in names
    assert not set(names) & set(numbers) and not any("_" in name for name in names)
    assert view.numbers.item(1, 0).text() == explanation("items") and view.numbers.columnSpan(1, 0) == 3
    qtbot.waitUntil(lambda: view.numbers.isVisible(), timeout=5_000)
    assert view.numbers.horizontalScrollBar().maximum() == 0

    report = view.export_report(str(tmp_path / "report.html"))
    text = report.read_text(encoding="utf-8")
    assert "knn_overlap" in text and text.count("data:image/png;base64,") == 2 and first_a.text in text
    assert "neighbours shared by A and B" in text  # the report names each number as the panel does
    png = view.export_png(str(tmp_path / "compare.png"))
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    window.grab().save(str(tmp_path / "window.png"))


def test_clustering_sets_app_state_and_renaming_updates_names(window, qtbot) -> None:
    rng = np.random.default_rng(0)
    centres = l2_normalise(rng.normal(size=(2, 16)))
    labels = np.repeat([0, 1], 20)
    vectors = l2_normalise(centres[labels] + 0.05 * rng.normal(size=(40, 16)))
    words = ["volcano lava", "pasta sauce"]
    items = [Item.create(f"{words[c]} note {i}") for i, c in enumerate(labels)]
    window.docks["Compare"].raise_()
    window.state.set_embedding(EmbeddingResult(items, vectors, EmbeddingSpec("test", "planted"), 16, 0, 0))
    view = window.compare_view
    editor = view.cluster_editor
    editor.method.setCurrentIndex(1)
    assert editor.clusters_k.isEnabled() and not editor.min_size.isEnabled()
    editor.clusters_k.setValue(2)
    with qtbot.waitSignal(window.state.clusters_changed, timeout=30_000):
        editor.cluster_button.click()
    assert not window.runner.is_running(CLUSTER_TASK)
    assert len(set(window.state.clusters.tolist())) == 2
    assert editor.table.rowCount() == 2
    first_terms = sorted(name.split(" · ")[0] for name in window.state.cluster_names.values())
    assert first_terms == ["pasta sauce", "volcano lava"]  # each group's phrase; "note" is in both: names neither
    assert adjusted_rand_score(labels, window.state.clusters) == 1.0  # the two planted groups, exactly
    editor.table.item(0, NAME_COLUMN).setText("fire mountains")
    cluster = int(editor.table.item(0, 0).text())
    assert window.state.cluster_names[cluster] == "fire mountains"
    assert editor.table.item(0, NAME_COLUMN).text() == "fire mountains"
    # the map's legend too, once the view has redrawn (on the next event-loop turn)
    qtbot.waitUntil(lambda: "fire mountains" in [label.text for _, label in view.scatter_a.legend.items], timeout=5_000)


class _RandomB:
    """Configuration B as a provider would answer: one fixed unit vector per text (seeded by the text)."""

    batch_size, max_concurrency = 16, 1
    spec = EmbeddingSpec("hash", "random-b", 12, "document", "query")
    dim = 12

    def encode_documents(self, texts: list[str]) -> list[np.ndarray]:
        rows = [np.random.default_rng(zlib.crc32(t.encode())).normal(size=12) for t in texts]
        return list(l2_normalise(np.stack(rows)))

    encode_queries = encode_documents


def test_a_comparison_is_saved_in_the_workspace_and_shown_again_on_open(window, qtbot, tmp_path) -> None:
    from workbench.ui.main_window import MainWindow
    from workbench.ui.state import AppState
    from workbench.ui.tasks import TaskRunner
    from workbench.ui.widgets import StaleNote

    topics = ["space", "cooking", "music"]
    items = [Item.create(f"{t} text {i}", "document", {"topic": t}) for t in topics for i in range(6)]
    items += [Item.create(f"question about {t}", "query") for t in topics]
    window.docks["Compare"].raise_()
    state, view = window.state, window.compare_view
    state.set_items("document", [i for i in items if i.kind == "document"])
    state.set_items("query", [i for i in items if i.kind == "query"])
    vectors = l2_normalise(np.random.default_rng(0).normal(size=(len(items), 16)))
    state.set_embedding(EmbeddingResult(items, vectors, state.spec, 16, len(items), 0).warm(),
                        np.random.default_rng(1).normal(size=(len(items), 2)), "test layout")  # fmt: skip
    state.embedders.put(_RandomB())
    state.set_view(compare_layout_method="pca", compare_k=4)
    window.pipeline.compare(_RandomB.spec)
    qtbot.waitUntil(lambda: view.outcome is not None and not window.runner.is_running(COMPARE_TASK), timeout=30_000)
    before = view.outcome
    numbers = [[view.numbers.item(r, c).text() for c in range(3) if view.numbers.item(r, c)]
               for r in range(view.numbers.rowCount())]  # fmt: skip

    path = tmp_path / "compared.workbench"
    window.file_actions.save_to(path)
    qtbot.waitUntil(lambda: "Saved" in window.file_actions.last_message, timeout=20_000)
    other = MainWindow(AppState(), TaskRunner(), window.cache)
    qtbot.addWidget(other)
    other.show()
    other.docks["Compare"].raise_()
    started: list[str] = []
    other.runner.task_started.connect(lambda key, label: started.append(key))
    with qtbot.waitSignal(other.state.comparison_changed, timeout=20_000):
        other.file_actions.open(path)
    after = other.compare_view
    assert COMPARE_TASK not in started  # shown from the file: B is not embedded again
    assert after.outcome is not None and after.outcome.embedding is other.state.embedding
    assert after.outcome.comparison.as_json() == before.comparison.as_json()
    np.testing.assert_array_equal(after.outcome.result_b.vectors, before.result_b.vectors)
    np.testing.assert_array_equal(after.outcome.xy_b, before.xy_b)
    assert after.title_b.text() == view.title_b.text() == "B: hash · random-b · 12-d"
    assert [[after.numbers.item(r, c).text() for c in range(3) if after.numbers.item(r, c)]
            for r in range(after.numbers.rowCount())] == numbers  # fmt: skip
    assert after.query.count() == 3 and after.query_table.rowCount() > 0 and after.html_button.isEnabled()
    qtbot.waitUntil(lambda: after.scatter_b.ids == other.state.embedding.ids, timeout=5_000)  # B's map is drawn

    stale = after.findChild(StaleNote)
    assert not stale.isVisible()
    other.state.set_items("document", [i for i in items if i.kind == "document"][:-1])  # the corpus changes
    assert stale.isVisible() and after.outcome is not None  # kept, and said to be of the old corpus, as before


def test_a_comparison_whose_rows_are_not_the_embeddings_is_left_out_and_the_rest_is_saved(window, qtbot, tmp_path):
    from workbench.core.compare import Comparison
    from workbench.core.session import load_workspace
    from workbench.ui.file_actions import saved_comparison
    from workbench.ui.pipeline import ComparisonOutcome

    items = [Item.create(f"text {i}") for i in range(6)]
    vectors = l2_normalise(np.random.default_rng(0).normal(size=(6, 8)))
    window.state.set_items("document", items)
    window.state.set_embedding(EmbeddingResult(items, vectors, window.state.spec, 8, 6, 0).warm())
    a = window.state.embedding
    b = EmbeddingResult(items[::-1], vectors[::-1], _RandomB.spec, 8, 6, 0).warm()  # rows in another order
    window.state.set_comparison(ComparisonOutcome(a, b, np.zeros((6, 2)), Comparison({"items": 6}, 0, 0)))
    assert saved_comparison(window.state) is None
    path = tmp_path / "w.workbench"
    window.file_actions.save_to(path)
    qtbot.waitUntil(lambda: "Saved" in window.file_actions.last_message, timeout=20_000)
    opened = load_workspace(path)
    assert opened.comparison is None and opened.embedding is not None and len(opened.embedding.items) == 6
