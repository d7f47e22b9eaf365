"""The pipeline: the one non-widget writer of derived data (vectors, layout, query neighbours, heatmap, clusters,
the comparison), through the one TaskRunner and core functions.

Views never compute these: they send the pipeline an intent (`embed`, `relayout`, `cluster`, `compare`) or,
for the heatmap that only a visible view needs, `ensure_heatmap`, and draw what AppState then holds. Each result
is checked against the embedding it was made from before it is written, so work for replaced vectors is
dropped; a newer request of the same kind supersedes an older one (the TaskRunner's keys). What a view should
tell the person about a step comes out of `notice(topic, level, text)`; an empty level clears that topic.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QObject, Signal

from workbench.core.cache import EmbeddingCache
from workbench.core.child_process import call_in_child
from workbench.core.cluster_names import cluster_prompts, gemini_generate, gemini_names, name_clusters
from workbench.core.clusters import MIN_REDUCE_POINTS, NOISE, Clustering, cluster_documents
from workbench.core.compare import Comparison, compare
from workbench.core.embedders.base import EmbeddingSpec
from workbench.core.embedding import EmbeddingResult, embed_items
from workbench.core.exchange import ExchangeTable
from workbench.core.heatmap import CLUSTER_LABELS, build_heatmap
from workbench.core.long_texts import capped_items, prepare_items
from workbench.core.parents import has_chunks, points_per_parent
from workbench.core.projection import UMAP_MIN_POINTS, Projection, pca_2d, project_2d_in_subprocess, query_neighbours
from workbench.core.secrets import gemini_key_from_env
from workbench.core.tokens import count_tokens
from workbench.core.view_settings import ViewSettings
from workbench.ui.batch_runs import BatchRuns
from workbench.ui.state import AppState
from workbench.ui.tasks import TaskRunner

EMBED_TASK, LAYOUT_TASK, UMAP_TASK, NEIGHBOURS_TASK = "embed", "projection-first", "projection-umap", "query-neighbours"
HEATMAP_TASK, CLUSTER_TASK, COMPARE_TASK = "similarity", "cluster", "compare-b"
TOKENS_TASK, PARENTS_TASK = "count-tokens", "points-per-parent"
ENCODING_TASK = "encoding"  # + the colour-by: one per colouring asked for
TOPICS = ("embed", "layout", "heatmap", "clusters", "compare")


@dataclass
class ComparisonOutcome:
    """Configuration B's vectors and layout beside the embedding A they were compared with."""

    embedding: EmbeddingResult  # A, as it was when B was compared with it
    result_b: EmbeddingResult
    xy_b: np.ndarray
    comparison: Comparison


@dataclass
class ClusterOutcome:
    """Clusters and their sub-clusters with names, and the Gemini prompts behind the names (empty for word names)."""

    clustering: Clustering
    names: dict[int, str]
    sub_names: dict[int, str]
    prompts: dict[int, str]


def heatmap_axes(state: AppState, mode: str) -> tuple[np.ndarray, np.ndarray] | None:
    """Embedding rows along the vertical and horizontal axes for a heatmap mode, or None when it has none."""
    documents, queries = state.rows_of_kind("document"), state.rows_of_kind("query")
    if mode == "docs":
        return (documents, documents) if len(documents) else None
    if mode == "queries":
        return (queries, documents) if len(queries) and len(documents) else None
    rows = np.array([r for r in map(state.row_of, state.selection) if r is not None], dtype=np.int64)
    return (rows, rows) if len(rows) else None


class Pipeline(QObject):
    """Turns corpus → vectors → layout → similarity data → clusters, and B's comparison, for one AppState."""

    notice = Signal(str, str, str)  # topic (one of TOPICS), level ("error", "warning", "info"; "" clears), text

    def __init__(self, state: AppState, runner: TaskRunner, cache: EmbeddingCache, parent: QObject | None = None):
        super().__init__(parent)
        self.state, self.runner, self.cache = state, runner, cache
        self._heatmap_inputs: tuple | None = None  # what the heatmap in AppState (or under way) was made from
        self._parents_of: tuple[EmbeddingResult, EmbeddingResult] | None = None  # (chunks, one point per parent)
        self._encoding_made_from: dict[str, tuple] = {}  # encoding task -> (embedding, clusters, colours) it encodes
        # Gemini Batch mode: submit, look now and then, collect (ui/batch_runs.py); it ends as a synchronous run does
        self.batch = BatchRuns(self, on_result=self._embedded, on_error=self._embed_failed)
        state.vectors_changed.connect(self._lay_out_new_vectors)
        state.encoding_wanted.connect(self._make_encoding)
        state.view_changed.connect(self._points_chosen)

    def _say(self, topic: str, level: str, text: str = "") -> None:
        self.notice.emit(topic, level, text)

    # -- embedding ---------------------------------------------------------------------------------------------
    def embed(self) -> None:
        """Embed the whole corpus with the chosen model; finished batches are cached even when this fails."""
        items = list(self.state.corpus.items)
        if not items:
            return
        try:
            embedder = self.state.embedder()
        except Exception as error:  # noqa: BLE001 - the sentence is for the user; the app keeps running
            self._say("embed", "error", str(error))
            return
        self._say("embed", "")
        cache, policy, spec = self.cache, self.state.view.long_texts, self.state.spec
        known = self.state.token_counts  # counted for this corpus and spec (AppState drops them on a change)

        def prepare(progress, cancelled):
            read = capped_items(items)  # what the model may read of each text (WORKBENCH_MAX_TEXT_CHARS)
            if known is not None and read != items:  # the counts were of whole texts: count what is read
                counts = count_tokens(read, embedder, progress, cancelled, cache)
            else:
                counts = known if known is not None else count_tokens(read, embedder, progress, cancelled, cache)
            return prepare_items(read, embedder, policy, counts, progress=progress, cancelled=cancelled), counts

        def show_counts(counts) -> None:
            if self.state.spec == spec and list(self.state.corpus.items) == items:
                self.state.set_token_counts(counts)  # the panel shows what this Embed counted

        if self.batch.wanted:  # the long-text policy first (a task: it counts), then the Batch-mode run

            def submit(outcome) -> None:
                prepared, counts = outcome
                show_counts(counts)
                self.batch.start(prepared.items, embedder)

            self.runner.start(EMBED_TASK, f"Counting the tokens of {len(items)} items", prepare, on_done=submit,
                              on_error=self._embed_failed)  # fmt: skip
            return
        self.batch.stop()

        def embed(progress, cancelled):
            prepared, counts = prepare(progress, cancelled)
            result = embed_items(prepared.items, embedder, cache, progress, cancelled)
            result.long_texts = prepared.record() | {"summary": prepared.summary()}
            result.sources = items  # the corpus as given: what the chunks and cut texts come from
            parents = points_per_parent(result).warm() if has_chunks(result.items) else None  # here, not on the GUI
            return result.warm(), counts, parents  # the views' columns, here

        def counted_then_embedded(outcome) -> None:
            result, counts, parents = outcome
            show_counts(counts)
            self._parents_of = (result, parents) if parents is not None else None
            self._embedded(result, embedder)

        self.runner.start(
            EMBED_TASK,
            f"Embedding {len(items)} items",
            embed,
            on_done=counted_then_embedded,
            on_error=self._embed_failed,
            on_cancelled=lambda message: self.state.status_message.emit(message),
        )

    def count_tokens(self) -> None:
        """Count the corpus' tokens for the chosen model (free; Gemini asks countTokens) into AppState."""
        items = list(self.state.corpus.items)
        if not items:
            self.state.set_token_counts(None)
            return
        try:
            embedder = self.state.embedder()
        except Exception as error:  # noqa: BLE001 - the sentence is for the user
            self._say("embed", "error", str(error))
            return
        spec, cache = self.state.spec, self.cache

        def done(counts) -> None:
            if self.state.spec == spec and list(self.state.corpus.items) == items:  # else they count an old corpus
                self.state.set_token_counts(counts)

        self.runner.start(
            TOKENS_TASK,
            f"Counting the tokens of {len(items)} items",
            lambda progress, cancelled: count_tokens(capped_items(items), embedder, progress, cancelled, cache),
            on_done=done,
            on_error=lambda message: self._say("embed", "error", message),
        )

    def _embedded(self, result: EmbeddingResult, embedder: object = None) -> None:
        plan = getattr(embedder, "plan", None)  # the local model: a device that failed or was missing, said here
        if plan is not None and plan.note:
            self._say("embed", "warning", plan.note)
        first = self.state.embedding is None
        parents = self._parents_of[1] if self._parents_of and self._parents_of[0] is result else None
        if self.state.view.points == "parents" and parents is not None:
            self.state.set_embedding(parents, chunks=result)
        else:
            self.state.set_embedding(result)
            if self.state.view.points == "parents" and self.state.chunk_embedding is result:
                self._points_chosen(frozenset({"points"}))  # (a Batch-mode result) its parents, made in a task
        self.state.drop_choices_without_data()
        if first and self.state.view.colour_by == "kind" and result.metadata_keys:
            # a first embedding of labelled texts: the map shows their first metadata column (e.g. topic), which
            # says more than documents vs queries; the person can switch back, and later embeddings keep the choice
            self.state.set_view(colour_by=f"meta:{result.metadata_keys[0]}")
        view = self.state.view
        column = view.colour_by.removeprefix("meta:") if view.colour_by.startswith("meta:") else None
        if view.heatmap_order == "input" and column in result.metadata_keys:
            # input order looks like noise; the column the map is coloured by makes blocks that read (a workspace
            # brings its own order and never comes through here)
            self.state.set_view(heatmap_order=view.colour_by)
        summary = (result.long_texts or {}).get("summary", "")
        self.state.status_message.emit(f"{result.summary()} {summary}".strip())
        if summary and (result.long_texts or {}).get("truncated"):
            self._say("embed", "info", summary)  # a cut text is said where the model is chosen

    def _points_chosen(self, changed: frozenset[str]) -> None:
        """Chunks or one point per parent: the same vectors shown the other way (the layout follows)."""
        chunks = self.state.chunk_embedding
        if "points" not in changed or chunks is None:
            return
        if self.state.view.points == "chunks":
            if self.state.embedding is not chunks:
                self.state.set_embedding(chunks)
                self.state.drop_choices_without_data()
            return
        if self._parents_of is not None and self._parents_of[0] is chunks:
            self._show_parents(chunks, self._parents_of[1])
            return

        def made(parents: EmbeddingResult) -> None:
            self._parents_of = (chunks, parents)
            self._show_parents(chunks, parents)

        self.runner.start(PARENTS_TASK, "One point per document",
                          lambda progress, cancelled: points_per_parent(chunks).warm(), made,
                          lambda message: self._say("layout", "error", message))  # fmt: skip

    def _show_parents(self, chunks: EmbeddingResult, parents: EmbeddingResult) -> None:
        """Show one point per parent, if the chunks and the choice are still those it was made for."""
        if self.state.chunk_embedding is chunks and self.state.view.points == "parents":
            self.state.set_embedding(parents, chunks=chunks)
            self.state.drop_choices_without_data()

    def _embed_failed(self, message: str) -> None:
        self.state.embedders.forget(self.state.spec)  # a failed load must not be reused
        self._say("embed", "error", message)

    # -- layout ------------------------------------------------------------------------------------------------
    def _lay_out_new_vectors(self) -> None:
        """New vectors: lay them out, unless their layout came with them (a workspace); neighbours either way."""
        for task in (UMAP_TASK, HEATMAP_TASK, CLUSTER_TASK, COMPARE_TASK):
            self.runner.cancel(task)
        self._heatmap_inputs = None
        for key in self._encoding_made_from:  # they encode the old vectors (and would keep them in memory)
            self.runner.cancel(key)
        self._encoding_made_from.clear()
        for topic in TOPICS[1:]:
            self._say(topic, "")
        self.relayout(keep_given=True)

    def relayout(self, keep_given: bool = False) -> None:
        """PCA and the query neighbours at once, then UMAP (when chosen) replaces the PCA layout."""
        embedding = self.state.embedding
        self.runner.cancel(UMAP_TASK)
        if embedding is None or len(embedding.items) == 0:
            return
        vectors, kinds = embedding.vectors, embedding.kinds
        with_pca = not (keep_given and self.state.projection is not None)

        make_encoding, state = self.state.encoding_maker(), self.state

        def first(progress, cancelled):
            neighbours = query_neighbours(vectors, kinds, cancelled)
            xy = pca_2d(vectors) if with_pca else None
            # the map's encoding too (a million items: seconds); the colouring is read now, since the first Embed of
            # labelled texts chooses it just after this task starts
            return xy, neighbours, (make_encoding(lambda: state.view.colour_by) if with_pca else None)

        self.runner.start(
            LAYOUT_TASK if with_pca else NEIGHBOURS_TASK,
            "Laying out (PCA)" if with_pca else "Finding each query's nearest documents",
            first,
            on_done=lambda outcome: self._first_layout_done(outcome, embedding),
            on_error=lambda message: self._say("layout", "error", message),
        )

    def _make_encoding(self, colour_by: str) -> None:
        """Make the encoding a view asked for (AppState.encoding_if_ready) on a worker, once per colouring."""
        key, state = f"{ENCODING_TASK}:{colour_by}", self.state
        made_from = (state.embedding, state.clusters, state.colours.to_rows())  # what adopt_encoding checks
        embedding, clusters, colours = self._encoding_made_from.get(key, (None, None, None))
        same = embedding is made_from[0] and clusters is made_from[1] and colours == made_from[2]
        if same and self.runner.is_running(key):
            return  # the views asking again while it is made (every redraw asks) get it when it lands
        self._encoding_made_from[key] = made_from  # else a newer start replaces the older task
        make_encoding = state.encoding_maker()
        self.runner.start(
            key,
            "Colouring the map",
            lambda progress, cancelled: make_encoding(lambda: colour_by),
            on_done=self._encoding_made,
            on_error=lambda message: self._say("layout", "error", message),
        )

    def _encoding_made(self, draft) -> None:
        """Adopt it; made from colours another colouring changed meanwhile (two views asked at once: its new
        categories took slots), it is made again, since the view that asked waits for it."""
        if not self.state.adopt_encoding(draft) and draft.embedding is self.state.embedding:
            self._make_encoding(draft.colour_by)

    def _first_layout_done(self, outcome, embedding: EmbeddingResult) -> None:
        if embedding is not self.state.embedding:
            return
        xy, neighbours, encoding = outcome
        self.state.set_neighbours(neighbours)
        if xy is None:
            return
        self.state.adopt_encoding(encoding, announce=False)  # set_projection below redraws every map
        view = self.state.view
        umap = view.layout_method == "umap" and len(xy) >= UMAP_MIN_POINTS
        if view.layout_method == "umap" and not umap:  # the Layout box says UMAP: say why the map is not
            note = f"{len(xy)} points: PCA shown (UMAP needs {UMAP_MIN_POINTS})."
        else:
            note = "PCA layout" + (" — UMAP is running…" if umap else ".")
        self.state.set_projection(xy, note)
        if not umap:
            return
        vectors = embedding.vectors
        seed = view.layout_seed if view.layout_reproducible else None  # no seed: UMAP on every core
        options = {"method": "umap", "seed": seed, "n_neighbors": view.umap_neighbours,
                   "min_dist": view.umap_min_dist}  # fmt: skip
        self.runner.start(
            UMAP_TASK,
            f"UMAP on {len(vectors)} points",
            lambda progress, cancelled: project_2d_in_subprocess(
                vectors, progress=progress, cancelled=cancelled, **options
            ),
            on_done=lambda projection: self._umap_done(projection, embedding),
            on_error=lambda message: self._say("layout", "error", message),
        )

    def _umap_done(self, projection: Projection, embedding: EmbeddingResult) -> None:
        if embedding is self.state.embedding:
            self.state.set_projection(projection.xy, projection.note)

    # -- similarity heatmap ------------------------------------------------------------------------------------
    def _heatmap_wanted(self, view: ViewSettings) -> tuple:
        state = self.state
        selection = tuple(state.selection) if view.heatmap_mode == "selection" else ()
        names = tuple(sorted(state.cluster_names.items())) if view.heatmap_order == CLUSTER_LABELS else ()
        return (id(state.embedding), view.heatmap_mode, view.heatmap_order, selection, id(state.clusters), names)

    def ensure_heatmap(self) -> None:
        """Make the heatmap for the chosen mode and order unless AppState has it (or it is under way)."""
        state = self.state
        embedding, view = state.embedding, state.view
        wanted = self._heatmap_wanted(view)
        if wanted == self._heatmap_inputs:
            return
        self._heatmap_inputs = wanted
        if embedding is None or len(embedding.items) == 0:
            self.runner.cancel(HEATMAP_TASK)
            state.set_heatmap(None)
            return
        axes = heatmap_axes(state, view.heatmap_mode)
        if axes is None:
            self.runner.cancel(HEATMAP_TASK)
            needed = {"docs": "documents", "queries": "queries and documents", "selection": "a selection"}
            self._say("heatmap", "info", f"This mode needs {needed[view.heatmap_mode]}.")
            state.set_heatmap(None)
            return
        self._say("heatmap", "")
        rows, columns = axes
        vectors, items, clusters, order = embedding.vectors, embedding.items, state.clusters, view.heatmap_order
        names = dict(state.cluster_names)

        def done(data) -> None:
            if embedding is state.embedding:
                state.set_heatmap(data)

        self.runner.start(
            HEATMAP_TASK,
            "Similarity matrix",
            lambda progress, cancelled: build_heatmap(
                vectors, items, rows, columns, order, clusters, progress, cancelled, names
            ),
            on_done=done,
            on_error=lambda message: self._say("heatmap", "error", message),
        )

    # -- clusters ----------------------------------------------------------------------------------------------
    def cluster(self) -> None:
        """Cluster the current documents with the chosen method (UMAP + HDBSCAN in a child process, so numba never
        holds this process's GIL), split each into sub-clusters, and name both: by distinctive words, or by Gemini."""
        embedding, view, state = self.state.embedding, self.state.view, self.state
        if embedding is None:
            self._say("clusters", "warning", "Embed the corpus first.")
            return
        self._say("clusters", "")
        vectors, texts, kinds = embedding.vectors, embedding.texts, embedding.kinds
        options = {"method": view.cluster_method, "k": view.cluster_count, "min_cluster_size": view.cluster_min_size,
                   "levels": 2, "assign_noise": view.cluster_assign_noise, "seed": view.layout_seed}  # fmt: skip
        generate = None
        if view.cluster_names_source == "gemini":
            try:  # a missing key is said at once, before any work
                generate = gemini_generate(state.api_key or gemini_key_from_env(), state.base_url)
            except Exception as error:  # noqa: BLE001 - the sentence is for the user
                self._say("clusters", "error", str(error))
                return

        def find(progress, cancelled) -> ClusterOutcome:
            documents = kinds != "query"
            in_child = view.cluster_method == "hdbscan" and documents.sum() >= MIN_REDUCE_POINTS
            run = (lambda *a, **k: call_in_child(cluster_documents, *a, label="Clustering", **k)) if in_child else \
                cluster_documents  # fmt: skip
            found = run(vectors, kinds, progress=progress, cancelled=cancelled, **options)
            words = [t for t, d in zip(texts, documents, strict=True) if d]  # queries only visit their clusters
            names = name_clusters(words, found.labels[documents])
            sub_names = name_clusters(words, found.sublabels[documents])
            prompts: dict[int, str] = {}
            if generate is not None:
                prompts = cluster_prompts(words, vectors[documents], found.labels[documents], names)
                names = {**names, **gemini_names(prompts, generate, progress=progress, cancelled=cancelled)}
            return ClusterOutcome(found, names, sub_names, prompts)

        self.runner.start(CLUSTER_TASK, "Clustering", find, lambda found: self._clustered(found, embedding),
                          lambda message: self._say("clusters", "error", message))  # fmt: skip

    def _clustered(self, outcome: ClusterOutcome, embedding: EmbeddingResult) -> None:
        if embedding is not self.state.embedding:  # new vectors since: these labels belong to the old rows
            return
        found = outcome.clustering
        self.state.set_clusters(found.labels, outcome.names, found.sublabels, outcome.sub_names, found.parent_of,
                                found.assigned, outcome.prompts)  # fmt: skip
        self.state.set_view(colour_by="cluster")  # who asked for clusters wants to see them
        documents = self.state.embedding.kinds != "query"
        labels = found.labels
        clusters = len(set(labels[documents].tolist()) - {NOISE})
        noise = int((labels[documents] == NOISE).sum())
        assigned = int(found.assigned[documents].sum())
        subclusters = len(found.parent_of or {})
        shown = f"{assigned} documents were noise and went to their nearest cluster" if assigned else \
            f"{noise} documents as noise"  # fmt: skip
        self._say("clusters", "info", f"{clusters} clusters of the documents ({subclusters} sub-clusters), {shown}; "
                                      f"each query takes its nearest document's cluster. {found.note}.")  # fmt: skip

    # -- compare -----------------------------------------------------------------------------------------------
    def compare(self, spec_b: EmbeddingSpec) -> None:
        """Embed the embedded items with configuration B, lay B out and compare it with A (the current vectors)."""
        embedding, view = self.state.embedding, self.state.view
        if embedding is None:
            self._say("compare", "warning", "Embed the corpus first: B is compared with the current embedding.")
            return
        try:
            embedder = self.state.embedder(spec_b, for_b=True)
        except Exception as error:  # noqa: BLE001 - the sentence is for the user
            self._say("compare", "error", str(error))
            return
        self._say("compare", "")
        cache, k, label, method = self.cache, view.compare_k, view.compare_label_column, view.compare_layout_method
        if label == "":  # not chosen yet: the first metadata column, which is often the labels
            label = embedding.metadata_keys[0] if embedding.metadata_keys else None

        # A shows one point per parent: B reads the same documents through its own window (its own chunks, under
        # the same long-text policy) and is shown the same way, so row i is the same document in both
        chunks_a = self.state.chunk_embedding
        sources = chunks_a.sources if chunks_a is not None and chunks_a is not embedding else None
        policy = view.long_texts

        def embed_b(progress, cancelled) -> EmbeddingResult:
            if sources is None:
                return embed_items(embedding.items, embedder, cache, progress, cancelled)
            prepared = prepare_items(capped_items(sources), embedder, policy, progress=progress, cancelled=cancelled)
            chunks_b = embed_items(prepared.items, embedder, cache, progress, cancelled)
            chunks_b.sources = sources
            return points_per_parent(chunks_b)

        def embed_project_compare(progress, cancelled) -> ComparisonOutcome:
            result_b = embed_b(progress, cancelled).warm()
            xy_b = project_2d_in_subprocess(result_b.vectors, method, cancelled=cancelled).xy
            table_a = ExchangeTable(embedding.items, embedding.vectors, embedding.spec)
            table_b = ExchangeTable(result_b.items, result_b.vectors, result_b.spec)
            comparison = compare(table_a, table_b, k=k, label_column=label, progress=progress, cancelled=cancelled)
            return ComparisonOutcome(embedding, result_b, xy_b, comparison)

        def done(outcome: ComparisonOutcome) -> None:
            if outcome.embedding is self.state.embedding:  # else B was compared with replaced vectors
                self.state.set_comparison(outcome)

        self.runner.start(COMPARE_TASK, "Embedding and comparing B", embed_project_compare, done,
                          lambda message: self._say("compare", "error", message))  # fmt: skip
