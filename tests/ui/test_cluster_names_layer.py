"""Clustering from the editor on the sample corpus: UMAP + HDBSCAN in a child process, two levels, and names on
the map — the groups' names zoomed out, the clusters' names zoomed in, at each one's centre."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import adjusted_rand_score

from workbench.ui.cluster_names_layer import COARSE, FINE
from workbench.ui.panels.cluster_editor import GROUP_COLUMN, NAME_COLUMN
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
    groups = sorted(set(state.cluster_groups.values()))
    assert len(groups) >= 2 and set(state.cluster_group_names) == set(groups)
    assert editor.table.rowCount() == len(set(state.clusters.tolist()))
    assert editor.table.item(0, GROUP_COLUMN).text().startswith(f"{state.cluster_groups[0]}: ")

    layer = window.projection_view.cluster_names
    scatter = window.projection_view.scatter
    scatter.fit_view()
    qtbot.waitUntil(lambda: layer.level == COARSE, timeout=5_000)
    assert sorted(layer.shown_names()) == sorted(state.cluster_group_names[g] for g in groups)
    # zoom into the first cluster's documents: the clusters' own names replace the groups'
    xy = state.projection[(state.clusters == 0) & documents]
    low, high = xy.min(axis=0), xy.max(axis=0)
    scatter.viewbox.setRange(xRange=(low[0], high[0]), yRange=(low[1], high[1]), padding=0.3)
    qtbot.waitUntil(lambda: layer.level == FINE, timeout=5_000)
    assert state.cluster_names[0] in layer.shown_names()
    at = layer.items[layer.shown_names().index(state.cluster_names[0])].pos()
    assert np.min(np.hypot(*(xy - [at.x(), at.y()]).T)) < 1e-6  # written on one of its own documents
    editor.table.item(0, NAME_COLUMN).setText("space and stars")  # a rename shows on the map at once
    assert "space and stars" in layer.shown_names()
    editor.on_map.setChecked(False)
    assert layer.shown_names() == [] and layer.level == ""
