"""A heatmap ordered by groups names its bands: each axis's runs of one group, largest first, as the map names them."""

from __future__ import annotations

import numpy as np

from workbench.core.embedders.base import l2_normalise
from workbench.core.heatmap import CLUSTER_LABELS, build_heatmap
from workbench.core.items import Item
from workbench.core.progress import never_cancelled, no_progress
from workbench.core.similarity import GROUP_ORDER

TOPICS = ["music"] * 3 + ["cooking"] * 5 + ["space"] * 2 + ["cooking"] * 3 + ["music"] * 2


def _corpus() -> tuple[list[Item], np.ndarray]:
    items = [Item.create(f"{t} text {i}", "document", {"topic": t}) for i, t in enumerate(TOPICS)]
    items += [Item.create("a question", "query"), Item.create("another", "query", {"topic": "space"})]
    vectors = l2_normalise(np.random.default_rng(0).normal(size=(len(items), 8)))
    return items, vectors


def _build(order: str, rows: np.ndarray, columns: np.ndarray, clusters=None, names=None):
    items, vectors = _corpus()
    return build_heatmap(vectors, items, rows, columns, order, clusters, no_progress, never_cancelled, names)


def test_bands_by_a_metadata_column_match_the_items_along_the_axis_largest_group_first() -> None:
    documents = np.arange(len(TOPICS))
    data = _build("meta:topic", documents, documents)
    assert [(b.name, b.size) for b in data.row_bands] == [("cooking", 8), ("music", 5), ("space", 2)]
    assert data.column_bands == data.row_bands and data.group_by == "meta:topic"
    for band in data.row_bands:  # every item in a band has its value; the bands tile the axis
        assert {item.metadata["topic"] for item in data.row_items[band.start : band.end]} == {band.name}
    assert [b.start for b in data.row_bands] == [0, 8, 13] and data.row_bands[-1].end == len(TOPICS)
    assert GROUP_ORDER in data.order_note and "topic" in data.order_note


def test_queries_by_documents_has_bands_per_axis_and_a_missing_value_comes_last() -> None:
    data = _build("meta:topic", np.array([15, 16]), np.arange(len(TOPICS)))
    assert [(b.name, b.size) for b in data.row_bands] == [("space", 1), ("no topic", 1)]
    assert [b.name for b in data.column_bands] == ["cooking", "music", "space"]
    assert data.row_items[0].metadata.get("topic") == "space"


def test_cluster_labels_order_names_the_clusters_with_noise_last_and_cluster_keeps_leaf_order() -> None:
    rows = np.arange(len(TOPICS) + 2)
    clusters = np.array([0, 0, -1, 1, 1, 1, 1, 1, -1, -1, 0, 2, 2, 2, 2, 1, 1])
    data = _build(CLUSTER_LABELS, rows, rows, clusters, {0: "tunes", 1: "recipes", 2: "stars"})
    assert [(b.name, b.size) for b in data.row_bands] == [("recipes", 7), ("stars", 4), ("tunes", 3), ("noise", 3)]
    assert data.group_by == "cluster"
    leaf = _build("cluster", rows, rows, clusters)
    assert leaf.row_bands == [] and leaf.order_note == ""
    without = _build(CLUSTER_LABELS, rows, rows)
    assert without.row_bands == [] and "No clusters" in without.note
