"""Every choice a person makes about how the workspace is shown, as one value that a workspace saves.

Why one frozen dataclass: the UI's AppState holds exactly one `ViewSettings`; a widget that changes a choice
sends `AppState.set_view(field=value)`, every view that shows the choice follows the `view_changed` signal, and
a workspace writes `to_dict()` and reads `from_dict()`. No widget owns a setting, so two views cannot disagree
and nothing is lost on save. `from_dict` takes what a file says field by field and keeps the default for a
missing or malformed field, so an older or hand-edited workspace still opens.

Field names avoid words that `core.session.without_secrets` drops (key, token, auth, ...).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from workbench.core.devices import DEVICE_CHOICES
from workbench.core.long_texts import LONG_TEXT_POLICIES

LAYOUT_METHODS = ("umap", "pca")
HEATMAP_MODES = ("docs", "queries", "selection")
CLUSTER_METHODS = ("hdbscan", "kmeans")
CLUSTER_NAME_SOURCES = ("words", "gemini")
POINT_CHOICES = ("chunks", "parents")  # the map shows each chunk, or one point per parent document (core.parents)
HEATMAP_FIELDS = frozenset({"heatmap_mode", "heatmap_order"})


@dataclass(frozen=True)
class ViewSettings:
    """How the map, the heatmap, the clusters and Compare are shown; defaults are what a newcomer meets first.

    `colour_by` is "kind", "cluster" or "meta:<column>"; `heatmap_order` is "input", "kind", "cluster"
    (hierarchical clustering, optimal leaf order), "clusters" (grouped by cluster label) or "meta:<column>";
    `heatmap_threshold` None means no threshold; `result_columns` are the metadata columns that
    the result tables (ranked documents, Milvus hits, Compare's query tops) show beside rank, score and id.
    """

    layout_method: str = "umap"
    umap_neighbours: int = 15
    umap_min_dist: float = 0.1
    layout_seed: int = 0
    layout_reproducible: bool = False  # False: UMAP on every core, no seed; True: layout_seed, one core, same map
    colour_by: str = "kind"
    query_k: int = 3
    heatmap_mode: str = "docs"
    heatmap_order: str = "input"
    heatmap_low: float = 0.0
    heatmap_high: float = 1.0
    heatmap_threshold: float | None = None
    cluster_method: str = "hdbscan"
    cluster_count: int = 8
    cluster_min_size: int = 0  # the smallest cluster; 0: automatic (core.clusters.automatic_smallest)
    cluster_assign_noise: bool = False  # give each noise item to its nearest cluster (marked as assigned)
    cluster_names_source: str = "words"  # "words": distinctive words offline; "gemini": a Gemini text model's names
    cluster_names_on_map: bool = True  # cluster names drawn on the map at each cluster's centre
    compare_provider: str = "local"
    compare_model: str = ""  # "": the provider's default model
    compare_dim: int = 0  # 0: the model's native size
    compare_document_task: str = ""  # "": the provider's default task for documents
    compare_query_task: str = ""  # "": the provider's default task for queries
    compare_k: int = 10
    compare_label_column: str | None = ""  # "": the first metadata column; None: no label column
    compare_layout_method: str = "umap"
    result_columns: tuple[str, ...] | None = None  # metadata columns of the result tables; None: the first there is
    gemini_batch: bool = False  # Gemini runs go through Batch mode (half price, within a day): core/gemini_batch.py
    batch_offer_above: int = 2000  # the Model panel offers Batch mode for Gemini runs of more texts than this
    long_texts: str = "chunk"  # what the next Embed does with texts over the model's window (core.long_texts)
    points: str = "chunks"  # after a chunked Embed: every chunk, or one point per parent document
    embed_device: str = "auto"  # the local model's device (core.devices.DEVICE_CHOICES)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON values (a tuple becomes a list), so a workspace can write them as they are."""
        return {name: list(value) if isinstance(value, tuple) else value for name, value in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: Any) -> ViewSettings:
        """Settings from a saved dict: unknown fields ignored, a field of the wrong type left at its default."""
        if not isinstance(data, dict):
            return cls()
        defaults, chosen = cls(), {}
        for spec in fields(cls):
            if spec.name not in data:
                continue
            value = _checked(spec.name, data[spec.name], getattr(defaults, spec.name))
            if value is not _INVALID:
                chosen[spec.name] = value
        return replace(defaults, **chosen)

    def shown_result_columns(self, available: Sequence[str]) -> tuple[str, ...]:
        """The metadata columns a result table shows among those its rows have, in the chosen order.

        Nothing chosen yet (None): the first available column, if any, which is often the label.
        """
        if self.result_columns is None:
            return tuple(available[:1])
        return tuple(column for column in self.result_columns if column in available)

    def changed_fields(self, other: ViewSettings) -> frozenset[str]:
        return frozenset(spec.name for spec in fields(self) if getattr(self, spec.name) != getattr(other, spec.name))


_INVALID = object()
_CHOICES = {
    "layout_method": LAYOUT_METHODS,
    "compare_layout_method": LAYOUT_METHODS,
    "heatmap_mode": HEATMAP_MODES,
    "cluster_method": CLUSTER_METHODS,
    "cluster_names_source": CLUSTER_NAME_SOURCES,
    "compare_provider": ("local", "gemini"),
    "long_texts": LONG_TEXT_POLICIES,
    "points": POINT_CHOICES,
    "embed_device": DEVICE_CHOICES,
}
_OPTIONAL = {"heatmap_threshold": float, "compare_label_column": str}
_STRING_TUPLES = frozenset({"result_columns"})  # None, or a list of names (a tuple in memory)


def _checked(name: str, value: Any, default: Any) -> Any:
    """`value` when it fits field `name` (typed like its default, one of its choices), else _INVALID."""
    if name in _STRING_TUPLES:
        if value is None:
            return None
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            return _INVALID
        return tuple(dict.fromkeys(value))  # as saved, each name once
    if name in _OPTIONAL:
        if value is None:
            return None
        kind = _OPTIONAL[name]
    else:
        kind = type(default)
    if kind is float and isinstance(value, int | float) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        return _INVALID
    if name in _CHOICES and value not in _CHOICES[name]:
        return _INVALID
    return value
