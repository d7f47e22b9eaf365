"""Clustering from the editor on the sample corpus: UMAP + HDBSCAN in a child process, two levels, and names on
the map — the clusters' names zoomed out, their sub-clusters' names zoomed in, at each one's centre."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import adjusted_rand_score

from workbench.ui.cluster_names_layer import COARSE, FINE, cut
from workbench.ui.panels.cluster_editor import NAME_COLUMN, SUBCLUSTERS_COLUMN
from workbench.ui.pipeline import CLUSTER_TASK


def test_sample_corpus_clusters_show_group_names_zoomed_out_and_cluster_names_zoomed_in(
    window, qtbot, local_embedder
) -> None:
    window.state.embedders.put(local_embedder)
    window.load_sample_corpus()
    window.projection_view.method.setCurrentIndex(1)  # PCA: a quick layout; the clusters are found apart from it
    with qtbot.waitSignal(window.state.vectors_changed, timeout=60_000):
        window.start_embedding()
    qtbot.waitUntil(lambda: window.state.projection is not None, timeout=30_000)
    editor = window.compare_view.cluster_editor
    assert editor.min_size.text() == "automatic" and editor.method.currentData() == "hdbscan"
    with qtbot.waitSignal(window.state.clusters_changed, timeout=120_000):
        editor.cluster_button.click()
    assert not window.runner.is_running(CLUSTER_TASK)
    state = window.state
    documents = state.embedding.kinds == "document"
    topics = [item.metadata["topic"] for item, d in zip(state.embedding.items, documents, strict=True) if d]
    assert adjusted_rand_score(topics, state.clusters[documents]) >= 0.95  # the five topics
    assert set(state.subcluster_parent.values()) == set(state.clusters.tolist()) - {-1}
    for sub, parent in state.subcluster_parent.items():  # each sub-cluster lies inside its cluster
        assert set(state.clusters[state.subclusters == sub].tolist()) == {parent}
    assert editor.table.rowCount() == len(set(state.clusters.tolist()))
    split = next(c for c in state.subcluster_parent.values() if list(state.subcluster_parent.values()).count(c) > 1)
    row = [int(editor.table.item(r, 0).text()) for r in range(editor.table.rowCount())].index(split)
    parts = [state.subcluster_names[s] for s, p in sorted(state.subcluster_parent.items()) if p == split]
    assert editor.table.item(row, SUBCLUSTERS_COLUMN).text() == " | ".join(parts)

    layer = window.projection_view.cluster_names
    scatter = window.projection_view.scatter
    scatter.fit_view()
    qtbot.waitUntil(lambda: layer.level == COARSE, timeout=5_000)
    assert sorted(layer.shown_names()) == sorted(cut(n) for c, n in state.cluster_names.items() if c != -1)
    assert layer.visible_names() and set(layer.visible_names()) <= set(layer.shown_names())
    # zoom into one cluster's documents: its sub-clusters' names replace the clusters'
    xy = state.projection[(state.clusters == split) & documents]
    low, high = xy.min(axis=0), xy.max(axis=0)
    scatter.viewbox.setRange(xRange=(low[0], high[0]), yRange=(low[1], high[1]), padding=0.3)
    qtbot.waitUntil(lambda: layer.level == FINE, timeout=5_000)
    assert {cut(part) for part in parts} <= set(layer.shown_names())
    first = min(s for s, p in state.subcluster_parent.items() if p == split)
    at = layer.items[layer.shown_names().index(cut(state.subcluster_names[first]))].pos()
    members = state.projection[(state.subclusters == first) & documents]
    assert np.min(np.hypot(*(members - [at.x(), at.y()]).T)) < 1e-6  # written on one of its own documents
    scatter.fit_view()
    qtbot.waitUntil(lambda: layer.level == COARSE, timeout=5_000)
    editor.table.item(row, NAME_COLUMN).setText("space and stars")  # a rename shows on the map at once
    assert "space and stars" in layer.shown_names()
    assert len(layer.assigned_rows()) == 0  # nothing was given from noise
    editor.assign_noise.setChecked(True)
    with qtbot.waitSignal(window.state.clusters_changed, timeout=120_000):
        editor.cluster_button.click()
    assigned = np.flatnonzero(state.cluster_assigned)
    np.testing.assert_array_equal(layer.assigned_rows(), assigned)  # ringed on the map (maybe none: then none)
    assert len(layer.assigned_rings.data) == len(assigned)
    editor.on_map.setChecked(False)
    assert layer.shown_names() == [] and layer.level == ""


def test_gemini_names_clusters_through_the_fake_server_and_shows_each_prompt(window, qtbot) -> None:
    from tests.core.test_clusters import planted_with_outliers
    from tests.fakes.fake_gemini import FakeGemini
    from workbench.core.embedders.base import EmbeddingSpec
    from workbench.core.embedding import EmbeddingResult
    from workbench.core.items import Item

    vectors, truth = planted_with_outliers(groups=3, n_per=30, outliers=2)
    topics = ["volcano lava", "pasta sauce", "goal kick"]
    items = [Item.create(f"{topics[g]} note {i}" if g >= 0 else f"stray {i}") for i, g in enumerate(truth)]
    window.state.set_embedding(EmbeddingResult(items, vectors, EmbeddingSpec("test", "planted"), 384, 0, 0))
    editor = window.compare_view.cluster_editor
    window.docks["Compare"].raise_()
    window.compare_view.tabs.setCurrentWidget(editor)
    editor.names_source.setCurrentIndex(editor.names_source.findData("gemini"))
    with FakeGemini() as server:
        window.state.set_credentials("test-key", server.base_url)
        with qtbot.waitSignal(window.state.clusters_changed, timeout=120_000):
            editor.cluster_button.click()
        requests = server.generate_requests()
    state = window.state
    clusters = sorted(set(state.clusters.tolist()) - {-1})
    assert len(clusters) == 3 and len(requests) == 3  # one request per cluster
    assert all(state.cluster_names[c].startswith("Topic of ") for c in clusters)
    assert set(state.cluster_prompts) == set(clusters)
    sent = {part["text"] for r in requests for c in r.body["contents"] for part in c["parts"]}
    assert sent == set(state.cluster_prompts.values())  # the prompts kept are the ones sent
    row = [editor.table.item(r, 0).text() for r in range(editor.table.rowCount())].index("0")
    editor.table.setCurrentCell(row, 0)
    assert editor.prompt.isVisibleTo(editor) and editor.prompt.toPlainText() == state.cluster_prompts[0]
    editor.table.item(row, NAME_COLUMN).setText("volcanoes")  # Gemini's names stay editable
    assert state.cluster_names[0] == "volcanoes" and state.cluster_prompts[0]


def test_noise_given_to_the_nearest_cluster_is_ringed_on_the_map(window, qtbot) -> None:
    from tests.core.test_clusters import planted_with_outliers
    from workbench.core.embedders.base import EmbeddingSpec
    from workbench.core.embedding import EmbeddingResult
    from workbench.core.items import Item

    vectors, truth = planted_with_outliers(groups=3, n_per=30, outliers=3)
    items = [Item.create(f"text {i}") for i in range(len(truth))]
    xy = vectors[:, :2] * 10
    window.state.set_embedding(EmbeddingResult(items, vectors, EmbeddingSpec("test", "planted"), 384, 0, 0), xy)
    editor = window.compare_view.cluster_editor
    editor.assign_noise.setChecked(True)
    with qtbot.waitSignal(window.state.clusters_changed, timeout=120_000):
        editor.cluster_button.click()
    state, layer = window.state, window.projection_view.cluster_names
    assert state.view.colour_by == "cluster" and (state.clusters >= 0).all()
    assert state.cluster_assigned[truth < 0].all()  # the outliers were noise, now members marked as assigned
    np.testing.assert_array_equal(layer.assigned_rows(), np.flatnonzero(state.cluster_assigned))
    ringed = np.column_stack([layer.assigned_rings.data["x"], layer.assigned_rings.data["y"]])
    np.testing.assert_allclose(ringed, xy[state.cluster_assigned], atol=1e-5)
    from_noise = [editor.table.item(r, 2).text() for r in range(editor.table.rowCount())]
    assert sum(int(n) for n in from_noise if n) == int(state.cluster_assigned.sum())  # the table counts them
    window.projection_view.colour_by.setCurrentIndex(window.projection_view.colour_by.findData("kind"))
    assert len(layer.assigned_rows()) == 0 and len(layer.assigned_rings.data) == 0  # rings go with the colouring
