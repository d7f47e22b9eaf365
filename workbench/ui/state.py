"""AppState: the one QObject that holds what the app knows, and says what changed through named signals.

Widgets never call each other: they read AppState and send it intents (`set_items`, `set_embedding`, ...).
The core objects it holds (Corpus, EmbeddingResult, numpy arrays) are Qt-free, so a workspace file, a test or
the CLI can produce them. Derived state is not stored twice: the row of an id is looked up from the embedding.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable

import numpy as np
from PySide6.QtCore import QObject, Signal

from workbench.core.corpus import Corpus, ParseReport
from workbench.core.embedders import Embedder, EmbedderPool
from workbench.core.embedders.base import EmbeddingSpec
from workbench.core.embedding import EmbeddingResult
from workbench.core.items import Item, ItemKind


def keep_out_of_collector_scans() -> None:
    """Move every object alive now out of the cyclic garbage collector's full scans (`gc.freeze`).

    A full collection visits every tracked object, with the GIL held: once torch and the local model are loaded
    that is ~400 ms, and with 100 000 items another 60-100 ms, a freeze at a random moment (seen mid-draw). What
    is alive after an embedding arrives (modules, the model, the items) lives long and holds few cycles, and
    reference counting still frees frozen objects (pyqtgraph items removed later were checked to go). The
    young generations are collected first, so fresh cyclic garbage is not frozen with them.
    """
    gc.collect(1)
    gc.freeze()


class AppState(QObject):
    """Corpus, model choice, vectors, 2-D layout, selection and clusters of the open workspace."""

    corpus_changed = Signal()
    spec_changed = Signal()
    vectors_changed = Signal()
    projection_changed = Signal()
    selection_changed = Signal()
    clusters_changed = Signal()
    status_message = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.corpus = Corpus()
        self.spec = EmbeddingSpec()
        self.api_key: str | None = None  # held in memory only; never persisted
        self.base_url: str | None = None
        self.embedding: EmbeddingResult | None = None
        self.projection: np.ndarray | None = None
        self.projection_note = ""
        self.selection: list[str] = []
        self.clusters: np.ndarray | None = None
        self.cluster_names: dict[int, str] = {}
        self.embedders = EmbedderPool()

    # -- intents -----------------------------------------------------------------------------------------------
    def set_items(self, kind: ItemKind, items: Iterable[Item]) -> ParseReport:
        """Replace the documents or the queries. Vectors stay until the next Embed (they may be stale)."""
        report = self.corpus.replace_kind(kind, items)
        self.corpus_changed.emit()
        return report

    def set_spec(self, spec: EmbeddingSpec) -> None:
        if spec != self.spec:
            self.spec = spec
            self.spec_changed.emit()

    def set_embedding(
        self, result: EmbeddingResult | None, projection: np.ndarray | None = None, projection_note: str = ""
    ) -> None:
        """New vectors: the old layout, selection and clusters belonged to the old rows, so they go.

        A layout that belongs to these vectors (an opened workspace) comes in the same call, so views that lay
        out new vectors see it already there and do not recompute it.
        """
        if projection is not None and (result is None or len(projection) != len(result.items)):
            raise ValueError("a projection must have one row per embedded item")
        self.embedding = result
        self.projection = None if projection is None else np.asarray(projection, dtype=np.float32)
        self.projection_note = projection_note if projection is not None else ""
        self.clusters = None
        self.cluster_names = {}
        self.vectors_changed.emit()
        self.projection_changed.emit()
        self.clusters_changed.emit()
        if self.selection:
            self.set_selection([i for i in self.selection if self.row_of(i) is not None])
        keep_out_of_collector_scans()  # the model and the items are here to stay

    def set_projection(self, xy: np.ndarray | None, note: str = "") -> None:
        if xy is not None and (self.embedding is None or len(xy) != len(self.embedding.items)):
            raise ValueError("a projection must have one row per embedded item")
        self.projection = None if xy is None else np.asarray(xy, dtype=np.float32)
        self.projection_note = note
        self.projection_changed.emit()

    def set_selection(self, ids: Iterable[str]) -> None:
        ids = list(dict.fromkeys(ids))
        if ids != self.selection:
            self.selection = ids
            self.selection_changed.emit()

    def set_clusters(self, labels: np.ndarray | None, names: dict[int, str] | None = None) -> None:
        if labels is not None and (self.embedding is None or len(labels) != len(self.embedding.items)):
            raise ValueError("clusters must have one label per embedded item")
        self.clusters = None if labels is None else np.asarray(labels, dtype=np.int64)
        self.cluster_names = dict(names or {})
        self.clusters_changed.emit()

    # -- reads -------------------------------------------------------------------------------------------------
    def row_of(self, item_id: str) -> int | None:
        """Row of an item in `embedding.items` / `projection`, or None when it is not embedded."""
        return self.embedding.row_by_id.get(item_id) if self.embedding is not None else None

    def rows_of_kind(self, kind: ItemKind) -> np.ndarray:
        if self.embedding is None:
            return np.zeros(0, dtype=np.int64)
        return np.flatnonzero(self.embedding.kinds == kind)

    def embedder(self, spec: EmbeddingSpec | None = None) -> Embedder:
        """The shared embedder for `spec` (default: the current one), with the current key and endpoint."""
        return self.embedders.get(spec or self.spec, api_key=self.api_key, base_url=self.base_url)

    def embedded_item(self, row: int) -> Item:
        assert self.embedding is not None
        return self.embedding.items[row]
