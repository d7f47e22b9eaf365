"""Retrieval quality against relevance labels: nDCG@10, Recall@10, Recall@100 and MRR@10 per search mode.

API (stable; the UI and the CLI build on it):
- `score_run(name, hits_by_query, labels, query_ids, k=10)` -> `ModeScores`: one mode's ranked hits for the
  evaluated queries, scored by ir-measures. `ModeScores.aggregate` maps `metric_keys(k)` ("ndcg@10",
  "recall@10", "recall@100", "mrr@10") to the mean over the queries; `per_query` is a list of `QueryScores`
  sorted worst first (lowest nDCG@k, then Recall@100, then id); `as_json()` is the CLI's object.
- `evaluate(labelled, runs, k=10, progress, cancelled)` -> `Evaluation`: every `ModeRun` of a `LabelledSet`'s
  evaluated queries, with the set's notes.
- `evaluate_embedding(items, vectors, labels, k=10)` -> `ModeScores`: the exact dense mode on an embedding's own
  documents and queries (items split by kind): what Compare shows for each of its two configurations.
- `judge(hit_ids, relevant)`: for one query, which hits are relevant-and-found, which found-not-relevant, and
  which relevant documents were missed (the map's three styles).

Conventions (BEIR's, which computes them with pytrec_eval): a document is relevant when its grade is > 0; nDCG
uses the grades as gains (trec_eval's `ndcg_cut`); Recall@k is the share of a query's relevant documents in its
top k; MRR@10 is 1/rank of the first relevant hit in the top 10, else 0; each metric is the mean over the queries
with at least one relevant document. A query with no hits scores 0 on every metric (trec_eval would leave it out
of the mean and flatter the mode). BEIR drops a hit whose id equals the query's (`ignore_identical_ids`, for
ArguAna and Quora, whose queries are documents); we keep every hit, as the app shows them.

The metrics are ir-measures' (with pytrec-eval-terrier underneath), never ours. One adaptation: the run handed to
it scores each hit by its rank (depth - rank), because trec_eval re-sorts equal scores by document id, and RRF
gives equal scores often; the app's numbers must be those of the ranking it shows.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from workbench.core.beir import LabelledSet
from workbench.core.errors import InputError
from workbench.core.items import Item
from workbench.core.milvus.results import Hit
from workbench.core.progress import CancelledFn, ProgressFn, never_cancelled, no_progress, raise_if_cancelled
from workbench.core.relevance import RelevanceLabels, check_labels
from workbench.core.search_modes import ModeRun, SearchMode, exact_rankings

RECALL_DEPTH = 100  # Recall@100 is always reported; a run is searched this deep (or k, when larger)


def metric_keys(k: int = 10) -> tuple[str, str, str, str]:
    """The four metric names, in the order they are shown: nDCG@k, Recall@k, Recall@100, MRR@k."""
    return (f"ndcg@{k}", f"recall@{k}", f"recall@{RECALL_DEPTH}", f"mrr@{k}")


def search_depth(k: int = 10) -> int:
    return max(k, RECALL_DEPTH)


def _measures(k: int) -> dict[str, Any]:
    import ir_measures

    return dict(
        zip(
            metric_keys(k),
            (ir_measures.nDCG @ k, ir_measures.R @ k, ir_measures.R @ RECALL_DEPTH, ir_measures.RR @ k),
            strict=True,
        )
    )


@dataclass(frozen=True)
class QueryScores:
    """One query's metrics, and how many relevant documents it has and its run found (within the run's depth)."""

    query_id: str
    text: str
    values: Mapping[str, float]
    relevant: int
    found: int


@dataclass
class ModeScores:
    """One mode's metrics: the mean over the evaluated queries, and each query's, worst first."""

    mode: str
    k: int
    aggregate: dict[str, float]
    per_query: list[QueryScores]
    seconds: float = 0.0
    label: str = ""

    @property
    def queries(self) -> int:
        return len(self.per_query)

    def as_json(self) -> dict[str, Any]:
        """The CLI's object: mode, the four metrics (rounded to 4 places), queries."""
        return {"mode": self.mode, **{m: round(v, 4) for m, v in self.aggregate.items()}, "queries": self.queries}


@dataclass
class Evaluation:
    modes: list[ModeScores]
    notes: list[str] = field(default_factory=list)


def judge(hit_ids: Sequence[str], relevant: Mapping[str, int]) -> tuple[list[str], list[str], list[str]]:
    """(relevant and found, found but not relevant, relevant but missed), each in hit order / label order."""
    shown = list(dict.fromkeys(hit_ids))
    found = set(shown)
    return (
        [i for i in shown if relevant.get(i, 0) > 0],
        [i for i in shown if relevant.get(i, 0) <= 0],
        [d for d, g in relevant.items() if g > 0 and d not in found],
    )


def _rank_scored(hits: Sequence[Hit] | Sequence[str]) -> dict[str, float]:
    """A run row for ir-measures: each distinct id scored by its rank, best highest (see the module docstring)."""
    ids = list(dict.fromkeys(h if isinstance(h, str) else h.id for h in hits))
    return {doc: float(len(ids) - rank) for rank, doc in enumerate(ids)}


def score_run(
    name: str,
    hits_by_query: Mapping[str, Sequence[Hit] | Sequence[str]],
    labels: RelevanceLabels,
    query_ids: Sequence[str] | None = None,
    k: int = 10,
    texts: Mapping[str, str] | None = None,
    seconds: float = 0.0,
    label: str = "",
) -> ModeScores:
    """Score one mode's ranked hits per query (hits or ids, best first) with ir-measures.

    `query_ids` None evaluates every query with a relevant label; a query given here without one is an
    InputError (it cannot be scored), and one without hits scores 0.
    """
    import ir_measures

    if k < 1:
        raise InputError(f"k must be at least 1, not {k}.")
    labelled = set(labels.labelled_queries())
    query_ids = list(dict.fromkeys(query_ids if query_ids is not None else labels.labelled_queries()))
    unlabelled = [q for q in query_ids if q not in labelled]
    if unlabelled:
        raise InputError(f"Query {unlabelled[0]!r} has no relevant label and cannot be scored.")
    if not query_ids:
        raise InputError("No query has a relevant label; nothing to score.")
    measures = _measures(k)
    names = {measure: key for key, measure in measures.items()}
    qrels = {q: dict(labels.grades[q]) for q in query_ids}
    run = {q: _rank_scored(hits_by_query.get(q, [])) for q in query_ids}
    run = {q: row for q, row in run.items() if row}
    values: dict[str, dict[str, float]] = {q: dict.fromkeys(measures, 0.0) for q in query_ids}
    for metric in ir_measures.iter_calc(list(measures.values()), qrels, run):
        values[metric.query_id][names[metric.measure]] = float(metric.value)
    keys = metric_keys(k)
    per_query = []
    for q in query_ids:
        relevant = labels.relevant(q)
        found = sum(1 for doc in run.get(q, {}) if doc in relevant)
        per_query.append(QueryScores(q, (texts or {}).get(q, ""), values[q], len(relevant), found))
    per_query.sort(key=lambda s: (s.values[keys[0]], s.values[keys[2]], s.query_id))
    aggregate = {key: float(np.mean([values[q][key] for q in query_ids])) for key in keys}
    if not all(math.isfinite(v) for v in aggregate.values()):
        raise InputError(f"The {name} metrics are not finite numbers; the run or the labels are damaged.")
    return ModeScores(name, k, aggregate, per_query, seconds, label or name)


def evaluate(
    labelled: LabelledSet,
    runs: Sequence[ModeRun],
    k: int = 10,
    progress: ProgressFn = no_progress,
    cancelled: CancelledFn = never_cancelled,
) -> Evaluation:
    """Every run scored over the labelled set's evaluated queries (progress counts runs)."""
    texts = {q.id: q.text for q in labelled.queries}
    evaluated = [q.id for q in labelled.evaluated_queries]
    scores = []
    for done, run in enumerate(runs):
        raise_if_cancelled(cancelled)
        scores.append(
            score_run(run.mode.name, run.by_query(), labelled.labels, evaluated, k, texts, run.seconds, run.mode.label)
        )
        progress(done + 1, len(runs))
    return Evaluation(scores, list(labelled.notes))


def evaluate_embedding(
    items: Sequence[Item],
    vectors: np.ndarray,
    labels: RelevanceLabels,
    k: int = 10,
    progress: ProgressFn = no_progress,
    cancelled: CancelledFn = never_cancelled,
) -> ModeScores:
    """The exact dense mode scored on an embedding's own items (documents and queries by kind), e.g. one Compare
    configuration. Queries without a relevant label are left out; labelled ids absent here raise InputError."""
    vectors = np.asarray(vectors, dtype=np.float32)
    if len(items) != len(vectors):
        raise InputError(f"Expected one vector per item ({len(items)}), got {len(vectors)}.")
    kinds = np.array([i.kind for i in items])
    documents = [i for i in items if i.kind == "document"]
    queries = [i for i in items if i.kind == "query"]
    check = check_labels(labels, (d.id for d in documents), (q.id for q in queries))
    if (error := check.error()) is not None:
        raise error
    labelled = set(check.labelled_queries)
    chosen = [i for i, q in enumerate(queries) if q.id in labelled]
    query_vectors = vectors[kinds == "query"][chosen]
    started = time.perf_counter()
    hits = exact_rankings(documents, vectors[kinds == "document"], query_vectors, search_depth(k), progress, cancelled)
    mode = SearchMode("exact")
    run = ModeRun(mode, [queries[i].id for i in chosen], hits, time.perf_counter() - started)
    texts = {q.id: q.text for q in queries}
    return score_run(mode.name, run.by_query(), labels, run.query_ids, k, texts, run.seconds, mode.label)
