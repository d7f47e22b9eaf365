"""The search lab's pipeline: the one writer of its derived data (a side-by-side search, an evaluation), through
the TaskRunner, beside the main `Pipeline` (ui/pipeline.py) and built the same way.

Views send intents (`search`, `evaluate`, `cancel_*`) and draw what AppState.lab then holds. Milvus modes run in
the app's Milvus process (`MILVUS_PROCESS`, see the Milvus panel), never in the GUI's; exact dense search is numpy
over the embedded documents on a worker thread. Results are checked against the embedding they were made from
before they are written, so work for replaced vectors is dropped, and new vectors or labels clear what no longer
holds. What a view should say goes out as `notice(topic, level, text)`, as the main pipeline's notices do.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QObject, Signal

from workbench.core.beir import labelled_set
from workbench.core.embedding import EmbeddingResult
from workbench.core.errors import InputError
from workbench.core.evaluation import ModeScores, evaluate, metric_keys, search_depth
from workbench.core.items import Item
from workbench.core.milvus.filters import search_filter
from workbench.core.milvus.operations import search_side_by_side
from workbench.core.milvus.results import Hit
from workbench.core.milvus.store import embed_query
from workbench.core.milvus.target import MilvusTarget, MissingCollection
from workbench.core.progress import CancelledFn, ProgressFn
from workbench.core.relevance import RelevanceLabels
from workbench.core.search_lab import exact_run, milvus_runs
from workbench.core.search_modes import ModeRun, SearchMode, exact_rankings
from workbench.ui.lab_state import COMPARE_B, MODE_NAMES, MODES, LabEvaluation, LabSearch, LabSettings
from workbench.ui.panels.milvus_panel import MILVUS_PROCESS
from workbench.ui.state import AppState
from workbench.ui.tasks import TaskRunner

SEARCH_TASK, EVALUATE_TASK = "lab-search", "lab-evaluate"
MILVUS_MODES = ("dense", "bm25", "hybrid")
DOCUMENTS_ONLY = search_filter("document", "", "", "")  # a collection may hold the queries too: they are no answers


@dataclass(frozen=True)
class SearchRequest:
    """Everything a side-by-side search needs, read from AppState on the GUI thread."""

    text: str
    query_id: str | None
    vector: np.ndarray | None  # the query's own vector when it is an embedded query (no second encoding)
    settings: LabSettings
    target: MilvusTarget
    collection: str


def embedded_documents(embedding: EmbeddingResult) -> tuple[list[Item], np.ndarray]:
    """The embedded documents and their vectors: what exact dense search ranks (queries are not results)."""
    rows = np.flatnonzero(embedding.kinds == "document")
    return [embedding.items[r] for r in rows], embedding.vectors[rows]


def exact_hits(embedding: EmbeddingResult, vector: np.ndarray, k: int) -> list[Hit]:
    """The k embedded documents nearest the query by cosine, in numpy (every document scored, no index)."""
    documents, vectors = embedded_documents(embedding)
    return exact_rankings(documents, vectors, vector.reshape(1, -1), k)[0]


class LabPipeline(QObject):
    notice = Signal(str, str, str)  # topic ("search" or "evaluate"), level ("" clears), text

    def __init__(self, state: AppState, runner: TaskRunner, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.state, self.runner = state, runner
        state.vectors_changed.connect(self._vectors_replaced)
        state.lab_changed.connect(self._lab_changed)

    def say(self, topic: str, level: str, text: str = "") -> None:
        self.notice.emit(topic, level, text)

    def _vectors_replaced(self) -> None:
        """Hits and scores of other vectors mean nothing now: the lab says so by showing none."""
        for task in (SEARCH_TASK, EVALUATE_TASK):
            self.runner.cancel(task)
        if self.state.lab.search is not None or self.state.lab.evaluation is not None:
            self.state.set_lab(search=None, evaluation=None, focus=None)

    def _lab_changed(self, changed: frozenset[str]) -> None:
        if "labels" in changed and self.state.lab.evaluation is not None:  # judged by other labels
            self.runner.cancel(EVALUATE_TASK)
            self.state.set_lab(evaluation=None, focus=None)

    # -- search --------------------------------------------------------------------------------------------------
    def request(self, text: str) -> SearchRequest | None:
        """The search for `text` as AppState holds it now; None (and a notice) when it cannot run."""
        state, text = self.state, text.strip()
        if not text:
            self.say("search", "warning", "Type a query first.")
            return None
        settings = state.lab.settings
        if not settings.modes:
            self.say("search", "warning", "Choose at least one search mode.")
            return None
        embedding = state.embedding
        query_id, vector = None, None
        if embedding is not None:
            queries = (embedding.items[row] for row in state.rows_of_kind("query"))  # not every document, in Python
            query = next((i for i in queries if i.text.strip() == text), None)
            if query is not None:
                query_id, vector = query.id, embedding.vectors[embedding.row_by_id[query.id]]
        return SearchRequest(text, query_id, vector, settings, state.milvus_target, state.milvus_collection)

    def search(self, text: str) -> None:
        """Search `text` in every chosen mode and write the hits side by side into AppState.lab.search."""
        request = self.request(text)
        if request is None:
            return
        state, embedding = self.state, self.state.embedding
        needs_vector = any(mode != "bm25" for mode in request.settings.modes)
        if needs_vector and embedding is None:
            self.say("search", "warning", "Embed the corpus first: dense, hybrid and exact search need its model.")
            return
        embedder = None
        if needs_vector and request.vector is None:
            try:
                embedder = state.embedder(embedding.spec)  # the query must meet the documents' model
            except Exception as error:  # noqa: BLE001 - the sentence is for the person; the app keeps running
                self.say("search", "error", str(error))
                return
        self.say("search", "")

        def run(progress: ProgressFn, cancelled: CancelledFn) -> LabSearch:
            vector = request.vector
            if vector is None and embedder is not None:
                vector = embed_query(request.text, embedder)
            return search_modes(request, embedding, vector, progress, cancelled)

        def done(search: LabSearch) -> None:
            if embedding is not state.embedding:
                return  # other vectors since: these scores belong to the old ones
            state.set_lab(search=search, focus=None)
            if search.failures:
                self.say("search", "error", failures_sentence(search.failures, search.unpushed))

        self.runner.start(SEARCH_TASK, f"Searching “{request.text[:40]}”", run, done,
                          on_error=lambda message: self.say("search", "error", message),
                          on_cancelled=lambda message: self.say("search", "warning", message))  # fmt: skip

    # -- evaluation ----------------------------------------------------------------------------------------------
    def evaluate(self) -> None:
        """Run every chosen mode over every labelled, embedded query and judge the runs against the labels."""
        state = self.state
        labels, embedding, settings = state.lab.labels, state.embedding, state.lab.settings
        if labels is None:
            self.say("evaluate", "warning", "Import relevance labels first (File ▸ Import BEIR folder / qrels).")
            return
        if embedding is None:
            self.say("evaluate", "warning", "Embed the corpus first: the queries are searched with its vectors.")
            return
        if not settings.modes:
            self.say("evaluate", "warning", "Choose at least one search mode.")
            return
        if state.vectors_stale:  # the vectors are of other documents or another model: their scores would mislead
            self.say("evaluate", "warning", f"Embed again first: {stale_cause(state)}")
            return
        comparison = state.comparison
        result_b = comparison.result_b if comparison is not None and comparison.embedding is embedding else None
        self.say("evaluate", "")

        def run(progress: ProgressFn, cancelled: CancelledFn) -> LabEvaluation:
            return evaluate_modes(embedding, labels, settings, result_b, progress, cancelled)

        def done(evaluation: LabEvaluation) -> None:
            if embedding is not state.embedding or labels is not state.lab.labels:
                return
            state.set_lab(evaluation=evaluation, focus=None)
            if evaluation.notes:
                self.say("evaluate", "info", " ".join(evaluation.notes))

        self.runner.start(EVALUATE_TASK, "Evaluating the search modes", run, done,
                          on_error=lambda message: self.say("evaluate", "error", message),
                          on_cancelled=lambda message: self.say("evaluate", "warning", message))  # fmt: skip


def stale_cause(state: AppState) -> str:
    """Why the embedding on hand no longer answers for the corpus or model chosen now (see AppState.vectors_stale)."""
    if state.corpus_stale:
        return "the documents or queries changed since the last Embed, and Evaluate searches with its vectors."
    return "the model settings changed since the last Embed, and Evaluate searches with its vectors."


def failures_sentence(failures: Mapping[str, str], unpushed: Collection[str] = ()) -> str:
    """Every mode that could not run, grouped by why: "Dense, BM25 and hybrid: <why>" (one failure never hides
    another). Modes in `unpushed` failed for a missing collection: their sentence says the documents need pushing."""
    by_reason: dict[str, list[str]] = {}
    for mode in sorted(failures, key=lambda m: MODES.index(m) if m in MODES else len(MODES)):  # the columns' order
        by_reason.setdefault(failures[mode], []).append(mode)
    sentences = []
    for why, modes in by_reason.items():
        names = [MODE_NAMES[mode] for mode in modes]
        who = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
        who = who[:1].upper() + who[1:]
        if set(modes) <= set(unpushed):
            sentences.append(f"{who} need{'s' if len(names) == 1 else ''} the documents in Milvus: {why} Push them "
                             "in the Milvus panel (or untick these modes; exact dense needs no Milvus).")  # fmt: skip
        else:
            sentences.append(f"{who}: {why}")
    return " ".join(sentences)


# -- the work itself: plain functions a worker thread runs --------------------------------------------------------
MEASURE_NAMES = {"ndcg": "nDCG", "recall": "Recall", "mrr": "MRR"}  # core's metric keys -> the names shown


def measure_name(key: str) -> str:
    """ "ndcg@10" -> "nDCG@10" (core keys its metrics in lower case, as the CLI's JSON does)."""
    base, _, depth = key.partition("@")
    return f"{MEASURE_NAMES.get(base, base)}@{depth}"


def per_query_values(scores: ModeScores) -> dict[str, dict[str, float]]:
    return {q.query_id: {measure_name(k): v for k, v in q.values.items()} for q in scores.per_query}


def search_mode_of(kind: str, settings: LabSettings) -> SearchMode:
    return SearchMode(kind, settings.ranker, settings.rrf_k, settings.dense_weight)  # type: ignore[arg-type]


def search_modes(
    request: SearchRequest,
    embedding: EmbeddingResult | None,
    vector: np.ndarray | None,
    progress: ProgressFn,
    cancelled: CancelledFn,
) -> LabSearch:
    """Each chosen mode's hits for one query. Milvus modes go in one call; when the collection cannot serve BM25
    (no full text) the dense mode still runs and BM25 and hybrid say why, so one missing field hides nothing."""
    settings = request.settings
    hits: dict[str, list[Hit]] = {}
    failures: dict[str, str] = {}
    unpushed: set[str] = set()  # modes that failed because the collection does not exist
    if "exact" in settings.modes and embedding is not None and vector is not None:
        hits["exact"] = exact_hits(embedding, vector, settings.k)
    progress(1, 2)
    wanted = [search_mode_of(kind, settings) for kind in settings.modes if kind in MILVUS_MODES]
    while wanted:
        try:
            found = MILVUS_PROCESS.call(search_side_by_side, request.target, request.collection, wanted, vector,
                                        request.text, settings.k, *DOCUMENTS_ONLY, cancelled=cancelled)  # fmt: skip
        except InputError as error:
            textual = [mode for mode in wanted if mode.uses_text]
            failed = wanted if not textual or len(textual) == len(wanted) else textual  # else retry without them
            failures.update({mode.kind: str(error) for mode in failed})
            if isinstance(error, MissingCollection):
                unpushed.update(mode.kind for mode in failed)
            if failed is wanted:  # nothing left to try without them
                break
            wanted = [mode for mode in wanted if not mode.uses_text]
            continue
        hits.update({mode.kind: found[mode.label] for mode in wanted})
        break
    progress(2, 2)
    ordered = {kind: hits[kind] for kind in settings.modes if kind in hits}
    return LabSearch(request.text, request.query_id, ordered, failures, ranker_note(settings), frozenset(unpushed))


def ranker_note(settings: LabSettings) -> str:
    if settings.ranker == "rrf":
        return f"RRF k={settings.rrf_k}"
    return f"weights dense {settings.dense_weight:.2f} / BM25 {1 - settings.dense_weight:.2f}"


def evaluate_modes(
    embedding: EmbeddingResult,
    labels: RelevanceLabels,
    settings: LabSettings,
    comparison_b: EmbeddingResult | None,
    progress: ProgressFn,
    cancelled: CancelledFn,
) -> LabEvaluation:
    """Every chosen mode over the embedded, labelled queries, scored by core.evaluation (ir-measures).

    The documents and queries are the embedded ones (their vectors are what is judged). Milvus modes run in a
    temporary Milvus Lite database in the Milvus process, holding exactly these documents: an evaluation never
    writes into a collection of the person's. Compare's B, when there is one, adds its exact dense run.
    """
    documents, document_vectors = embedded_documents(embedding)
    query_rows = np.flatnonzero(embedding.kinds == "query")
    queries = [embedding.items[r] for r in query_rows]
    labelled = labelled_set(documents, queries, labels)  # ids the labels name but the corpus lacks: InputError
    evaluated = {q.id for q in labelled.evaluated_queries}
    query_vectors = embedding.vectors[[r for r in query_rows if embedding.items[r].id in evaluated]]
    modes = [search_mode_of(kind, settings) for kind in settings.modes]
    depth = search_depth(10)
    runs: dict[str, ModeRun] = {}
    steps = len(modes) + (1 if comparison_b is not None else 0) + 1
    if any(mode.kind == "exact" for mode in modes):
        runs["exact"] = exact_run(labelled, document_vectors, query_vectors, depth, cancelled=cancelled)
        progress(1, steps)
    milvus_modes = [mode for mode in modes if mode.needs_milvus]
    if milvus_modes:
        # progress: the rows pushed into the scratch database, then the queries searched
        found = MILVUS_PROCESS.call(milvus_runs, labelled, milvus_modes, document_vectors, query_vectors,
                                    embedding.spec, None, None, depth, progress=progress,
                                    cancelled=cancelled)  # fmt: skip
        for run in found:
            runs[run.mode.kind] = run
        progress(len(runs), steps)
    scored = evaluate(labelled, [runs[mode.kind] for mode in modes if mode.kind in runs], 10, cancelled=cancelled)
    per_mode = {score.mode: score for score in scored.modes}
    hits = {kind: {q: [h.id for h in found] for q, found in run.by_query().items()} for kind, run in runs.items()}
    notes = list(scored.notes)
    if milvus_modes:
        notes.append(f"Dense, BM25 and hybrid ran in a temporary Milvus Lite database holding the {len(documents)} "
                     "embedded documents.")  # fmt: skip
    if comparison_b is not None:
        b_documents, b_vectors = embedded_documents(comparison_b)
        b_queries = [comparison_b.items[r] for r in np.flatnonzero(comparison_b.kinds == "query")]
        b_query_vectors = comparison_b.vectors[[comparison_b.row_by_id[q.id] for q in labelled.evaluated_queries]]
        b_labelled = labelled_set(b_documents, b_queries, labels)
        b_run = exact_run(b_labelled, b_vectors, b_query_vectors, depth, cancelled=cancelled)
        b_run.mode = SearchMode("exact")
        per_mode[COMPARE_B] = evaluate(b_labelled, [b_run], 10).modes[0]
        hits[COMPARE_B] = {q: [h.id for h in found] for q, found in b_run.by_query().items()}
        notes.append(f"exact dense, B: Compare's configuration B ({comparison_b.spec.provider} · "
                     f"{comparison_b.spec.model}) on the same documents and queries.")  # fmt: skip
    progress(steps, steps)
    keys = metric_keys(10)
    return LabEvaluation(
        measures=tuple(measure_name(key) for key in keys),
        aggregate={mode: {measure_name(k): v for k, v in s.aggregate.items()} for mode, s in per_mode.items()},
        per_query={mode: per_query_values(s) for mode, s in per_mode.items()},
        runs=hits,
        queries=tuple(q.id for q in labelled.evaluated_queries),
        notes=tuple(notes),
    )
