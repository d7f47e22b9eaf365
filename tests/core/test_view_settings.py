"""View settings: one value saved whole, read back field by field (a bad field keeps its default)."""

from __future__ import annotations

from workbench.core.session import without_secrets
from workbench.core.view_settings import ViewSettings


def test_a_round_trip_keeps_every_field_and_no_field_name_looks_like_a_secret() -> None:
    chosen = ViewSettings(layout_method="pca", umap_min_dist=0.3, colour_by="meta:topic", heatmap_threshold=0.4,
                          compare_label_column=None, compare_document_task="CLUSTERING")  # fmt: skip
    saved = chosen.to_dict()
    assert without_secrets(saved) == saved  # the workspace's secret filter would drop nothing
    assert ViewSettings.from_dict(saved) == chosen


def test_unknown_missing_or_malformed_fields_fall_back_to_defaults() -> None:
    defaults = ViewSettings()
    read = ViewSettings.from_dict(
        {"layout_method": "tsne", "umap_neighbours": "15", "query_k": True, "umap_min_dist": 1, "layout_seed": 9,
         "heatmap_threshold": None, "someday": 1}
    )  # fmt: skip
    assert read == ViewSettings(umap_min_dist=1.0, layout_seed=9)
    assert ViewSettings.from_dict("not a dict") == defaults
    assert ViewSettings(query_k=4).changed_fields(defaults) == frozenset({"query_k"})
