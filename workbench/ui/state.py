"""AppState: the one QObject that holds every fact and every user choice, and says what changed by named signals.

Widgets never call each other and never keep a choice of their own: they show AppState, send it intents
(`set_items`, `set_spec`, `set_credentials`, `set_view`, `set_selection`, ...) and follow its signals, also when
the change came from elsewhere (a workspace, another panel). Derived data (vectors, layout, query neighbours,
heatmap, clusters, the comparison) is written only by the pipeline (`ui/pipeline.py`). The core objects held here
are Qt-free, so a workspace file, a test or the CLI can produce them. `vectors_stale` says when the corpus no
longer matches the vectors on screen, so every view can say so in place.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal

from workbench.core.collector import keep_out_of_collector_scans
from workbench.core.corpus import Corpus, ParseReport
from workbench.core.embedders import Embedder, EmbedderPool
from workbench.core.embedders.base import EmbeddingSpec
from workbench.core.embedding import EmbeddingResult
from workbench.core.encoding import CategoryColours, Encoding, encode
from workbench.core.heatmap import HeatmapData
from workbench.core.items import Item, ItemKind
from workbench.core.milvus.target import MilvusTarget
from workbench.core.parents import parent_id_of
from workbench.core.projection import QueryNeighbours
from workbench.core.secrets import register_secret
from workbench.core.view_settings import ViewSettings
from workbench.ui.lab_state import LabState

ENCODE_ON_GUI_MAX_ITEMS = 50_000  # encode() of 50 000 items: ~15-30 ms, within a frame; above, a worker makes it


@dataclass(frozen=True)
class EncodingDraft:
    """An encoding made off the GUI thread, with what it was made from (AppState.adopt_encoding checks them)."""

    embedding: Any
    clusters: Any
    colour_rows: list
    colour_by: str
    colours: CategoryColours
    encoding: Encoding


class AppState(QObject):
    """Corpus, model choice and key, vectors, layout, clusters, selection and view settings of the workspace."""

    corpus_changed = Signal()
    spec_changed = Signal()
    credentials_changed = Signal()
    vectors_changed = Signal()
    projection_changed = Signal()
    neighbours_changed = Signal()
    selection_changed = Signal()
    clusters_changed = Signal()
    heatmap_changed = Signal()
    comparison_changed = Signal()
    view_changed = Signal(object)  # frozenset of the ViewSettings fields that changed
    stale_changed = Signal()
    milvus_changed = Signal()  # the Milvus database or collection chosen in the Milvus panel
    lab_changed = Signal(object)  # frozenset of the LabState fields that changed (labels, search, evaluation, ...)
    status_message = Signal(str)
    token_counts_changed = Signal()
    # An encoding too big to make on the GUI thread is wanted (the colour-by it is for): the pipeline makes it on a
    # worker and hands it to adopt_encoding, which announces `encoding_ready` (the colour-by); views then draw again.
    encoding_wanted = Signal(str)
    encoding_ready = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.corpus = Corpus()
        self.spec = EmbeddingSpec()
        self._api_key: str | None = None  # held in memory only; never persisted
        self._base_url: str | None = None
        self._credentials_b: tuple[str | None, str | None] = (None, None)  # Compare's B: its own key and endpoint
        self.embedding: EmbeddingResult | None = None
        self.projection: np.ndarray | None = None
        self.projection_note = ""
        self.neighbours = QueryNeighbours.none()
        self.selection: list[str] = []
        self.clusters: np.ndarray | None = None
        self.cluster_names: dict[int, str] = {}
        self.subclusters: np.ndarray | None = None  # each row's sub-cluster (the second level), when made
        self.subcluster_names: dict[int, str] = {}
        self.subcluster_parent: dict[int, int] = {}  # sub-cluster -> the cluster it lies in
        self.cluster_assigned: np.ndarray | None = None  # rows that were noise, given to their nearest cluster
        self.cluster_prompts: dict[int, str] = {}  # cluster -> the prompt its Gemini name came from
        self.heatmap: HeatmapData | None = None
        self.comparison: Any = None  # ui.pipeline.ComparisonOutcome, for the embedding it was made from
        self.view = ViewSettings()
        self._colour_before_clusters = "kind"  # what colour-by was before clusters were shown
        self.colours = CategoryColours()
        self._encodings: dict[str, Encoding] = {}  # colour_by -> encoding of the current vectors and clusters
        self.corpus_stale = False  # the corpus no longer holds exactly the embedded items
        self.embedders = EmbedderPool()
        # Token counts of the corpus for the chosen model (core.tokens), made by the pipeline before embedding;
        # None once the corpus or the model changes. `chunk_embedding`: after a chunked Embed, the chunk-level
        # result, while `embedding` shows one point per parent (ViewSettings.points).
        self.token_counts: Any = None
        self.chunk_embedding: EmbeddingResult | None = None
        self.milvus_target = MilvusTarget.default()  # its token lives in memory only, like the API key
        self.milvus_collection = "workbench"
        self.lab = LabState()  # the search lab: relevance labels, modes, last search and evaluation (ui/lab_state.py)

    # -- intents: the user's choices ---------------------------------------------------------------------------
    def set_items(self, kind: ItemKind, items: Iterable[Item]) -> ParseReport:
        """Replace the documents or the queries. Vectors stay until the next Embed, marked stale if they differ."""
        report = self.corpus.replace_kind(kind, items)
        self.corpus_changed.emit()
        self._update_stale()
        self.set_token_counts(None)  # they counted the corpus before
        return report

    def set_corpus(self, corpus: Corpus) -> None:
        """Replace the whole corpus with one made elsewhere (a workspace read on a worker, its lists warmed there)."""
        self.corpus = corpus
        self.corpus_changed.emit()
        self._update_stale()
        self.set_token_counts(None)

    def set_spec(self, spec: EmbeddingSpec) -> None:
        if spec != self.spec:
            self.spec = spec
            self.spec_changed.emit()
            self.stale_changed.emit()  # the vectors on screen may now be from another model
            self.set_token_counts(None)  # another model counts otherwise

    def set_credentials(self, api_key: str | None, base_url: str | None) -> None:
        """The provider key and endpoint for this session (memory only; every view that needs them asks here)."""
        api_key, base_url = (api_key or "").strip() or None, (base_url or "").strip() or None
        if (api_key, base_url) != (self._api_key, self._base_url):
            register_secret(api_key)  # scrubbed from logs and crash reports from now on
            self._api_key, self._base_url = api_key, base_url
            self.credentials_changed.emit()

    def set_credentials_b(self, api_key: str | None, base_url: str | None) -> None:
        """A key and endpoint for Compare's B only; empty ones mean "the same as A" (memory only, like A's)."""
        credentials = ((api_key or "").strip() or None, (base_url or "").strip() or None)
        if credentials != self._credentials_b:
            register_secret(credentials[0])
            self._credentials_b = credentials
            self.credentials_changed.emit()

    @property
    def api_key(self) -> str | None:
        return self._api_key

    @property
    def base_url(self) -> str | None:
        return self._base_url

    def set_view(self, **changes: Any) -> None:
        """Change view settings by field name; `view_changed` names the fields that really changed."""
        self.replace_view(replace(self.view, **changes))

    def replace_view(self, view: ViewSettings) -> None:
        changed = view.changed_fields(self.view)
        if changed:
            if view.colour_by == "cluster" and self.view.colour_by != "cluster":
                self._colour_before_clusters = self.view.colour_by
            self.view = view
            self.view_changed.emit(changed)

    def drop_choices_without_data(self) -> None:
        """After an Embed: clusters went with the old vectors, and a metadata column may be gone. Choices that
        showed them fall back, so what the controls show, what the views draw and what a workspace saves stay one
        thing. (A workspace brings vectors and choices that belong together and does not come through here.)"""
        columns = set(self.embedding.metadata_keys) if self.embedding is not None else set()
        if self.chunk_embedding is not None:  # one point per document still has a parent document: itself
            columns.add("parent_id")
        changes: dict[str, Any] = {}
        colour_by = self._colour_before_clusters if self.view.colour_by == "cluster" else self.view.colour_by
        if colour_by.startswith("meta:") and colour_by[5:] not in columns:
            colour_by = "kind"
        if colour_by != self.view.colour_by:
            changes["colour_by"] = colour_by
        order = self.view.heatmap_order
        if order == "clusters" or (order.startswith("meta:") and order[5:] not in columns):
            changes["heatmap_order"] = "input"
        if changes:
            self.set_view(**changes)

    def set_milvus(self, target: MilvusTarget, collection: str) -> None:
        """The Milvus database and collection that every Milvus view (panel, search lab) searches."""
        if (target, collection) != (self.milvus_target, self.milvus_collection):
            self.milvus_target, self.milvus_collection = target, collection
            self.milvus_changed.emit()

    def set_lab(self, **changes: Any) -> None:
        """Change the search lab's state by field name; `lab_changed` names the fields that really changed."""
        lab = replace(self.lab, **changes)
        changed = lab.changed_fields(self.lab)
        if changed:
            self.lab = lab
            self.lab_changed.emit(changed)

    def set_colours(self, colours: CategoryColours) -> None:
        """The remembered category colours (a workspace brings its own); views redraw through `view_changed`."""
        self.colours = colours
        self._encodings.clear()
        self.view_changed.emit(frozenset({"colour_by"}))

    def set_selection(self, ids: Iterable[str]) -> None:
        ids = list(dict.fromkeys(ids))
        if ids != self.selection:
            self.selection = ids
            self.selection_changed.emit()

    # -- derived data: written by the pipeline ------------------------------------------------------------------
    def set_embedding(
        self,
        result: EmbeddingResult | None,
        projection: np.ndarray | None = None,
        projection_note: str = "",
        chunks: EmbeddingResult | None = None,
    ) -> None:
        """New vectors: the old layout, neighbours, heatmap, clusters and comparison belonged to the old rows.

        A layout that belongs to these vectors (an opened workspace) comes in the same call, so the pipeline sees
        it already there and does not recompute it.
        """
        if projection is not None and (result is None or len(projection) != len(result.items)):
            raise ValueError("a projection must have one row per embedded item")
        self.embedding = result
        # `chunks`: the chunk-level result when `result` shows one point per parent; else `result` itself when it
        # has chunk columns (a chunked Embed, a reopened workspace of chunks), so the map can switch either way
        has_columns = result is not None and bool(result.items) and "parent_id" in result.items[0].metadata
        self.chunk_embedding = chunks if chunks is not None else (result if has_columns else None)
        self._encodings.clear()
        self.projection = None if projection is None else np.asarray(projection, dtype=np.float32)
        self.projection_note = projection_note if projection is not None else ""
        self.neighbours = QueryNeighbours.none()
        self.clusters = None
        self.cluster_names = {}
        self.subclusters, self.subcluster_names, self.subcluster_parent = None, {}, {}
        self.cluster_assigned, self.cluster_prompts = None, {}
        self.heatmap = None
        self.comparison = None
        self.vectors_changed.emit()
        self.projection_changed.emit()
        self.neighbours_changed.emit()
        self.clusters_changed.emit()
        self.heatmap_changed.emit()
        self.comparison_changed.emit()
        if self.selection:
            self.set_selection([i for i in self.selection if self.row_of(i) is not None])
        self._update_stale()
        keep_out_of_collector_scans(collect_young=False)  # the model and the items are here to stay

    def set_projection(self, xy: np.ndarray | None, note: str = "") -> None:
        if xy is not None and (self.embedding is None or len(xy) != len(self.embedding.items)):
            raise ValueError("a projection must have one row per embedded item")
        self.projection = None if xy is None else np.asarray(xy, dtype=np.float32)
        self.projection_note = note
        self.projection_changed.emit()

    def set_neighbours(self, neighbours: QueryNeighbours) -> None:
        self.neighbours = neighbours
        self.neighbours_changed.emit()

    def set_clusters(
        self,
        labels: np.ndarray | None,
        names: dict[int, str] | None = None,
        subclusters: np.ndarray | None = None,
        subcluster_names: dict[int, str] | None = None,
        subcluster_parent: dict[int, int] | None = None,
        assigned: np.ndarray | None = None,
        prompts: dict[int, str] | None = None,
    ) -> None:
        """Cluster labels and names; with two levels each row's sub-cluster, their names and clusters; the rows given
        to their nearest cluster from noise; the Gemini prompt behind each cluster's name, when Gemini named them."""
        rows = None if self.embedding is None else len(self.embedding.items)
        if labels is not None and len(labels) != rows:
            raise ValueError("clusters must have one label per embedded item")
        if subclusters is not None and (labels is None or len(subclusters) != rows):
            raise ValueError("sub-clusters must have one label per embedded item")
        self.clusters = None if labels is None else np.asarray(labels, dtype=np.int64)
        self.cluster_names = dict(names or {})
        self.subclusters = None if subclusters is None else np.asarray(subclusters, dtype=np.int64)
        self.subcluster_names, self.subcluster_parent = dict(subcluster_names or {}), dict(subcluster_parent or {})
        self.cluster_assigned = None if assigned is None or labels is None else np.asarray(assigned, dtype=bool)
        self.cluster_prompts = dict(prompts or {})
        self._encodings.clear()
        self.clusters_changed.emit()

    def rename_cluster(self, cluster: int, name: str) -> None:
        if self.clusters is not None:
            names = {**self.cluster_names, cluster: name.strip() or f"cluster {cluster}"}
            self.set_clusters(self.clusters, names, self.subclusters, self.subcluster_names, self.subcluster_parent,
                              self.cluster_assigned, self.cluster_prompts)  # fmt: skip

    def set_token_counts(self, counts: Any) -> None:
        """Token counts (core.tokens.TokenCounts) of the current corpus for the current spec, or None."""
        if counts is not None or self.token_counts is not None:
            self.token_counts = counts
            self.token_counts_changed.emit()

    def set_heatmap(self, data: HeatmapData | None) -> None:
        self.heatmap = data
        self.heatmap_changed.emit()

    def set_comparison(self, outcome: Any) -> None:
        self.comparison = outcome
        self.comparison_changed.emit()

    def _update_stale(self) -> None:
        """Corpus-stale: there are vectors, and the corpus no longer holds exactly the embedded items."""
        embedding, items = self.embedding, self.corpus.items
        # after a long-text policy the embedded rows are chunks or cut texts of the corpus as it was (`sources`; a
        # reopened workspace has only the chunks: their parents' ids, in order, are the corpus' ids)
        if embedding is None:
            stale = False
        elif embedding.sources is not None:
            stale = [(i.id, i.text) for i in items] != [(i.id, i.text) for i in embedding.sources]
        elif any("parent_id" in i.metadata for i in embedding.items[:1]):
            stale = [i.id for i in items] != list(dict.fromkeys(parent_id_of(i) for i in embedding.items))
        else:
            # Comparing the item lists first: the very Item objects (an Embed of this corpus, a reopened workspace)
            # compare by identity in C, under 1 ms for a million, where building their id and text lists on the
            # GUI thread took 200-300 ms; only items that differ in more than id and text need the lists.
            stale = len(items) != len(embedding.items) or not (
                items == embedding.items
                or ([i.id for i in items] == embedding.ids and [i.text for i in items] == embedding.texts)
            )
        if stale != self.corpus_stale:
            self.corpus_stale = stale
            self.stale_changed.emit()

    @property
    def model_stale(self) -> bool:
        """The chosen model settings are not the ones that made the vectors on screen."""
        return self.embedding is not None and self.embedding.spec != self.spec

    @property
    def vectors_stale(self) -> bool:
        return self.corpus_stale or self.model_stale

    def stale_reason(self) -> str:
        """One sentence for every view that shows vectors: what changed since they were made, or ""."""
        if self.corpus_stale:
            return "Shows the previous embedding: the documents or queries changed since. Embed to refresh."
        if self.model_stale:
            made = self.embedding.spec
            return (f"Shows vectors made with {made.provider} · {made.model}; the model settings changed since. "
                    "Embed to use them.")  # fmt: skip
        return ""

    # -- reads -------------------------------------------------------------------------------------------------
    def row_of(self, item_id: str) -> int | None:
        """Row of an item in `embedding.items` / `projection`, or None when it is not embedded."""
        return self.embedding.row_by_id.get(item_id) if self.embedding is not None else None

    def rows_of_kind(self, kind: ItemKind) -> np.ndarray:
        if self.embedding is None:
            return np.zeros(0, dtype=np.int64)
        return np.flatnonzero(self.embedding.kinds == kind)

    def embedder(self, spec: EmbeddingSpec | None = None, for_b: bool = False) -> Embedder:
        """The shared embedder for `spec` (default: the current one), with the current key and endpoint.

        `for_b`: Compare's B, with its own key and endpoint where the person gave them, else A's.
        """
        key, base_url = self._api_key, self._base_url
        if for_b:
            key, base_url = self._credentials_b[0] or key, self._credentials_b[1] or base_url
        return self.embedders.get(spec or self.spec, api_key=key, base_url=base_url, device=self.view.embed_device)

    def embedded_item(self, row: int) -> Item:
        assert self.embedding is not None
        return self.embedding.items[row]

    def encoding(self, colour_by: str | None = None) -> Encoding:
        """How every embedded item is drawn for `colour_by` (default: the chosen one): the one visual encoding.

        Made once per colouring and kept until the vectors, the clusters or the colours change: for 100 000 items
        one encoding costs 25-60 ms (sorting the category keys), and the map, both Compare maps and the cluster
        table each ask for it on a redraw. Views ask through `encoding_if_ready`, which never makes a big one here.
        """
        embedding = self.embedding
        assert embedding is not None
        colour_by = colour_by or self.view.colour_by
        if colour_by not in self._encodings:
            self._encodings[colour_by] = encode(embedding.items, embedding.kinds, colour_by, self.colours,
                                                self.clusters, self.cluster_names)  # fmt: skip
        return self._encodings[colour_by]

    def encoding_if_ready(self, colour_by: str | None = None) -> Encoding | None:
        """The encoding for `colour_by` when it is made, or cheap enough to make now; else None, and it is asked for.

        Above ENCODE_ON_GUI_MAX_ITEMS items encode() takes longer than a GUI frame (0.35-1.8 s for a million: a
        reopened workspace, a new colour-by, renamed clusters), so `encoding_wanted` asks the pipeline to make it
        on a worker; the view keeps what it shows until `encoding_ready`.
        """
        embedding = self.embedding
        assert embedding is not None
        colour_by = colour_by or self.view.colour_by
        if colour_by in self._encodings or len(embedding.items) <= ENCODE_ON_GUI_MAX_ITEMS:
            return self.encoding(colour_by)
        self.encoding_wanted.emit(colour_by)
        return None

    def encoding_maker(self) -> Callable[[Callable[[], str]], EncodingDraft]:
        """A function for a worker that makes the encoding of the current vectors, to hand to `adopt_encoding`.

        For a million items encode() costs 0.35-1.8 s, too long for the GUI thread: the pipeline makes it beside the
        layout. It works on a copy of the colours taken here, so the GUI's copy is never touched from the worker.
        """
        embedding, clusters, names = self.embedding, self.clusters, dict(self.cluster_names)
        rows = self.colours.to_rows()

        def make(colour_by: Callable[[], str]) -> EncodingDraft:
            assert embedding is not None
            colours, chosen = CategoryColours.from_rows(rows), colour_by()
            encoded = encode(embedding.items, embedding.kinds, chosen, colours, clusters, names)
            return EncodingDraft(embedding, clusters, rows, chosen, colours, encoded)

        return make

    def adopt_encoding(self, draft: EncodingDraft, announce: bool = True) -> bool:
        """Keep an encoding made on a worker, unless the vectors, clusters or colours changed since it began;
        True when kept (or one for its colouring is already kept).

        `announce=False` when a signal that redraws every view follows at once (a new layout), so a million
        points are not drawn twice."""
        if draft.embedding is self.embedding and draft.colour_by in self._encodings:
            return True
        if (draft.embedding is self.embedding and draft.clusters is self.clusters and
                self.colours.to_rows() == draft.colour_rows):  # fmt: skip
            self.colours = draft.colours  # the same slots, and those the draft handed out to new categories
            self._encodings[draft.colour_by] = draft.encoding
            if announce:
                self.encoding_ready.emit(draft.colour_by)
            return True
        return False
