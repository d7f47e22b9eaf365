"""Compare two embeddings of the same items: do the two models agree, and which one separates labels better?

Every number is computed on the items present in both (joined on id); how many ids only one side has is reported.
- knn_overlap: mean |N_a(i) ∩ N_b(i)| / k over items, N = the k nearest neighbours by cosine (exact, core.knn).
- similarity_rank_correlation: Spearman correlation of the pairwise cosine similarities under the two models, over
  all n(n-1)/2 pairs up to `max_pairs`, else over all pairs among a seeded random subset of the items (the
  `pairs` note says which).
- with a label column: knn_label_accuracy_{a,b} (leave-one-out vote of the k neighbours, ties to the label met
  first, i.e. the nearest) and silhouette_{a,b} (cosine, scikit-learn; sampled and seeded beyond
  `SILHOUETTE_MAX` items).
- for queries: each query's top-k documents under both models, side by side, and their overlap.

Hand-written rather than a library call because no library compares two embeddings; the pieces it combines
(exact kNN, scipy's spearmanr, sklearn's silhouette_score) are the libraries'.
"""

from __future__ import annotations

import html
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from workbench.core.errors import InputError
from workbench.core.exchange import ExchangeTable
from workbench.core.knn import top_k_neighbours
from workbench.core.progress import CancelledFn, ProgressFn, never_cancelled, no_progress, raise_if_cancelled

MAX_PAIRS = 2_000_000  # 2 000 items give ~2M pairs: exact up to there; a 2M-pair sample estimates ρ to ±0.001
SILHOUETTE_MAX = 10_000  # silhouette is O(n²·d); beyond this it is estimated on a seeded sample of this size


@dataclass
class Comparison:
    """The numbers (JSON-ready: floats, ints, strings, None), the id bookkeeping and the per-query tops."""

    numbers: dict[str, Any]
    only_in_a: int
    only_in_b: int
    query_tops: list[dict[str, Any]] = field(default_factory=list)  # id, text, top_a, top_b, scores_*, overlap

    def as_json(self) -> dict[str, Any]:
        return {**self.numbers, "only_in_a": self.only_in_a, "only_in_b": self.only_in_b, "queries": self.query_tops}


class _Stages:
    """Maps each stage's own (done, total) onto one overall progress, so the caller sees one bar."""

    def __init__(self, progress: ProgressFn, stages: int) -> None:
        self.progress, self.stages, self.current = progress, stages, 0

    def sub(self) -> ProgressFn:
        stage = self.current
        self.current += 1
        return lambda done, total: self.progress(stage * 1000 + (1000 * done // max(total, 1)), self.stages * 1000)

    def done(self) -> None:
        self.progress(self.stages * 1000, self.stages * 1000)


def shared_rows(a: ExchangeTable, b: ExchangeTable) -> tuple[np.ndarray, np.ndarray, int, int]:
    """(rows of A, rows of B) of the ids both hold, in A's order, and how many ids only A / only B holds."""
    index_b = {item.id: row for row, item in enumerate(b.items)}
    rows_a = [row for row, item in enumerate(a.items) if item.id in index_b]
    rows_b = [index_b[a.items[row].id] for row in rows_a]
    shared = len(rows_a)
    if shared < 3:
        raise InputError(f"The two files share {shared} item ids; a comparison needs at least 3 of the same items.")
    return np.array(rows_a), np.array(rows_b), len(a.items) - shared, len(b.items) - shared


def neighbour_overlap(neighbours_a: np.ndarray, neighbours_b: np.ndarray) -> np.ndarray:
    """Per row: the fraction of its neighbours (rows of equal width k) that both lists hold."""
    k = neighbours_a.shape[1]
    if k == 0:
        return np.zeros(len(neighbours_a))
    pairs = zip(neighbours_a.tolist(), neighbours_b.tolist(), strict=True)
    return np.array([len(set(x) & set(y)) / k for x, y in pairs])


def similarity_rank_correlation(
    vectors_a: np.ndarray,
    vectors_b: np.ndarray,
    seed: int = 0,
    max_pairs: int = MAX_PAIRS,
    cancelled: CancelledFn = never_cancelled,
) -> tuple[float | None, str]:
    """(Spearman ρ of the pairwise cosines under A and under B, which pairs it used). None when undefined.

    Beyond `max_pairs` pairs, every pair among a seeded random subset of m items (m(m-1)/2 ≤ max_pairs): each
    pair is equally likely to be in it, like a uniform sample of pairs, and it costs one m × m matmul per model
    instead of gathering millions of scattered rows (5 000 items: 0.3 s instead of 5 s for 2M gathered pairs).
    Undefined when one side's similarities are all equal (ρ divides by their spread); a number would lie.
    """
    from scipy.stats import spearmanr

    n = len(vectors_a)
    pairs = n * (n - 1) // 2
    rows = np.arange(n)
    note = f"all {pairs} pairs"
    if pairs > max_pairs:
        m = max(2, int((1 + math.sqrt(1 + 8 * max_pairs)) // 2))
        rows = np.sort(np.random.default_rng(seed).choice(n, size=m, replace=False))
        note = f"all {m * (m - 1) // 2} pairs among a random {m} of {n} items (seed {seed})"
    i, j = np.triu_indices(len(rows), k=1)
    sims = []
    for vectors in (vectors_a, vectors_b):
        raise_if_cancelled(cancelled)
        v = np.asarray(vectors, dtype=np.float32)[rows]
        sims.append((v @ v.T)[i, j])
    if np.ptp(sims[0]) == 0 or np.ptp(sims[1]) == 0:
        return None, note
    rho = float(spearmanr(sims[0], sims[1]).statistic)
    return (rho if math.isfinite(rho) else None), note


def knn_label_accuracy(neighbours: np.ndarray, labels: Sequence[str]) -> float:
    """Share of rows whose neighbours' majority label is their own (leave-one-out; ties go to the nearest)."""
    hits = 0
    for row, near in enumerate(neighbours.tolist()):
        votes = Counter(labels[j] for j in near)
        best = max(votes.values())
        winner = next(labels[j] for j in near if votes[labels[j]] == best)
        hits += labels[row] == winner
    return hits / len(labels)


def silhouette(vectors: np.ndarray, labels: Sequence[str], seed: int = 0) -> float | None:
    """Mean cosine silhouette of the labelled groups; None when it is undefined (one label, or every label once)."""
    if not 1 < len(set(labels)) < len(labels):
        return None
    from sklearn.metrics import silhouette_score

    sample = SILHOUETTE_MAX if len(labels) > SILHOUETTE_MAX else None
    return float(silhouette_score(vectors, np.asarray(labels), metric="cosine", sample_size=sample, random_state=seed))


def compare(
    a: ExchangeTable,
    b: ExchangeTable,
    k: int = 10,
    label_column: str | None = None,
    seed: int = 0,
    max_pairs: int = MAX_PAIRS,
    progress: ProgressFn = no_progress,
    cancelled: CancelledFn = never_cancelled,
) -> Comparison:
    """Compare B's embedding of the items with A's. InputError for too few shared ids or an unknown label column."""
    rows_a, rows_b, only_a, only_b = shared_rows(a, b)
    va, vb = a.vectors[rows_a], b.vectors[rows_b]
    items = [a.items[r] for r in rows_a]
    n = len(items)
    k = max(1, min(int(k), n - 1))
    labels = _labels(a, b, rows_a, rows_b, label_column) if label_column else None
    stages = _Stages(progress, 4 + (2 if labels else 0))

    neighbours_a, _ = top_k_neighbours(va, k, progress=stages.sub(), cancelled=cancelled)
    neighbours_b, _ = top_k_neighbours(vb, k, progress=stages.sub(), cancelled=cancelled)
    correlation, pairs_note = similarity_rank_correlation(va, vb, seed, max_pairs, cancelled)
    stages.sub()(1, 1)
    numbers: dict[str, Any] = {
        "items": n,
        "k": k,
        "model_a": _model(a),
        "model_b": _model(b),
        "knn_overlap": float(neighbour_overlap(neighbours_a, neighbours_b).mean()),
        "similarity_rank_correlation": correlation,
        "pairs": pairs_note,
    }
    if labels is not None:
        labelled = np.array([i for i, label in enumerate(labels) if label is not None])
        names = [labels[i] for i in labelled]
        numbers["labelled_items"] = len(labelled)
        accuracy: dict[str, float | None] = {"a": None, "b": None}
        silhouettes: dict[str, float | None] = {"a": None, "b": None}
        for side, vectors, neighbours in (("a", va, neighbours_a), ("b", vb, neighbours_b)):
            raise_if_cancelled(cancelled)
            if len(labelled) >= 2:
                if len(labelled) < n:  # neighbours among the labelled items only, so every vote is a label
                    neighbours, _ = top_k_neighbours(vectors[labelled], k, cancelled=cancelled)
                accuracy[side] = knn_label_accuracy(neighbours, names)
                silhouettes[side] = silhouette(vectors[labelled], names, seed)
            stages.sub()(1, 1)
        numbers.update({f"knn_label_accuracy_{side}": value for side, value in accuracy.items()})
        numbers.update({f"silhouette_{side}": value for side, value in silhouettes.items()})
        if len(labelled) > SILHOUETTE_MAX:
            numbers["silhouette_note"] = f"estimated on {SILHOUETTE_MAX} of {len(labelled)} items (seed {seed})"
    tops = query_tops(items, va, vb, k, cancelled)
    if tops:
        numbers["query_top_k_overlap"] = float(np.mean([q["overlap"] for q in tops]))
    stages.done()
    return Comparison(numbers, only_a, only_b, tops)


def _model(table: ExchangeTable) -> str:
    return f"{table.spec.provider} · {table.spec.model} · {table.dim}-d"


def _labels(
    a: ExchangeTable, b: ExchangeTable, rows_a: np.ndarray, rows_b: np.ndarray, column: str
) -> list[str | None]:
    """The label of each shared item from A, else from B; None (left out of label numbers) when blank."""
    sources = [(t, rows) for t, rows in ((a, rows_a), (b, rows_b)) if any(column in i.metadata for i in t.items)]
    if not sources:
        columns = sorted({c for t in (a, b) for i in t.items for c in i.metadata})
        raise InputError(
            f"No column '{column}' in either file; the metadata columns are: {', '.join(columns) or 'none'}."
        )
    table, rows = sources[0]
    values = [table.items[r].metadata.get(column) for r in rows]
    return [None if v is None or str(v).strip() == "" else str(v) for v in values]


def query_tops(
    items: Sequence[Any], va: np.ndarray, vb: np.ndarray, k: int, cancelled: CancelledFn = never_cancelled
) -> list[dict[str, Any]]:
    """Per query item: its k nearest documents under A and under B (ids and cosines) and their overlap."""
    queries = np.array([i for i, item in enumerate(items) if item.kind == "query"], dtype=np.int64)
    documents = np.array([i for i, item in enumerate(items) if item.kind == "document"], dtype=np.int64)
    if not len(queries) or not len(documents):
        return []
    found = []
    for vectors in (va, vb):
        indices, scores = top_k_neighbours(vectors[documents], k, queries=vectors[queries], cancelled=cancelled)
        found.append((documents[indices], scores))
    (top_a, scores_a), (top_b, scores_b) = found
    out = []
    for row, q in enumerate(queries):
        ids_a = [items[i].id for i in top_a[row]]
        ids_b = [items[i].id for i in top_b[row]]
        out.append({
            "id": items[q].id, "text": items[q].text, "top_a": ids_a, "top_b": ids_b,
            "scores_a": [round(float(s), 6) for s in scores_a[row]],
            "scores_b": [round(float(s), 6) for s in scores_b[row]],
            "overlap": len(set(ids_a) & set(ids_b)) / max(len(ids_a), 1),
        })  # fmt: skip
    return out


# -- names and meanings a person reads ------------------------------------------------------------------------
# The keys of `Comparison.numbers` are a contract (the CLI's --json prints them); what a person reads is here.
# A paired measure is held as <stem>_a and <stem>_b; its name and meaning are under the stem.
PAIRED = ("knn_label_accuracy", "silhouette")
DISPLAY_NAMES = {
    "items": "items compared",
    "k": "neighbours per item (k)",
    "model_a": "model of A",
    "model_b": "model of B",
    "only_in_a": "items only in A",
    "only_in_b": "items only in B",
    "knn_overlap": "neighbours shared by A and B",
    "similarity_rank_correlation": "similarities in the same order",
    "pairs": "pairs compared",
    "labelled_items": "labelled items",
    "knn_label_accuracy": "neighbours with the same label",
    "silhouette": "label separation (silhouette)",
    "silhouette_note": "silhouette sample",
    "query_top_k_overlap": "query results shared by A and B",
}
EXPLANATIONS = {
    "items": "items both embeddings hold (joined on id); every number is over these",
    "k": "how many nearest neighbours each number looks at",
    "only_in_a": "left out of every number: an item must be in both to be compared",
    "only_in_b": "left out of every number: an item must be in both to be compared",
    "knn_overlap": "share of each item's k nearest neighbours that A and B agree on (1 = the same)",
    "similarity_rank_correlation": "do A and B rank all pairs of items alike? Spearman ρ, 1 = the same order",
    "pairs": "the pairs of items ρ is computed over",
    "labelled_items": "items with a value in the label column; the label numbers use only these",
    "knn_label_accuracy": "share of items whose k nearest neighbours mostly carry their own label",
    "silhouette": "how well the labels form separate groups (cosine; −1 to 1, higher is better)",
    "silhouette_note": "with many labelled items the silhouette is estimated on a seeded sample",
    "query_top_k_overlap": "share of each query's top k documents that A and B both return",
}


def measure_stem(key: str) -> str:
    """The name a number is explained under: its stem for a paired measure (silhouette_a → silhouette)."""
    return key[:-2] if key[-2:] in ("_a", "_b") and key[:-2] in PAIRED else key


def display_name(key: str) -> str:
    """What a person reads for a key of `numbers` ("knn_overlap" → "neighbours shared by A and B")."""
    stem = measure_stem(key)
    side = f" under {key[-1].upper()}" if stem != key else ""
    return DISPLAY_NAMES.get(stem, key.replace("_", " ")) + side


def explanation(key: str) -> str:
    """The one-line meaning of a key of `numbers` ("" when there is none)."""
    return EXPLANATIONS.get(measure_stem(key), "")


# -- the one-page report ---------------------------------------------------------------------------------------
def report_html(
    comparison: Comparison,
    texts: Mapping[str, str],
    images: Sequence[tuple[str, bytes]] = (),
    title: str = "Embedding comparison",
) -> str:
    """A self-contained one-page HTML report: numbers, explanations, each query's tops side by side.

    `images` are (caption, PNG bytes), embedded as base64 data URIs so the page needs no other file and no network.
    """
    import base64

    e = html.escape
    numbers = comparison.as_json()
    del numbers["queries"]
    rows = "".join(
        f"<tr><td><b>{e(display_name(key))}</b> <small><code>{e(key)}</code></small></td>"
        f"<td>{e(_shown(value))}</td><td>{e(explanation(key))}</td></tr>"
        for key, value in numbers.items()
    )
    figures = "".join(
        f"<figure><img alt='{e(caption)}' src='data:image/png;base64,{base64.b64encode(png).decode()}'>"
        f"<figcaption>{e(caption)}</figcaption></figure>"
        for caption, png in images
    )
    queries = []
    for q in comparison.query_tops:
        pairs = zip(q["top_a"], q["scores_a"], q["top_b"], q["scores_b"], strict=True)
        body = "".join(
            f"<tr><td>{rank}</td><td class='{'same' if ida in q['top_b'] else ''}'>{e(texts.get(ida, ida))}</td>"
            f"<td>{sa:.3f}</td><td class='{'same' if idb in q['top_a'] else ''}'>{e(texts.get(idb, idb))}</td>"
            f"<td>{sb:.3f}</td></tr>"
            for rank, (ida, sa, idb, sb) in enumerate(pairs, start=1)
        )
        queries.append(
            f"<h3>{e(q['text'])} <small>(top-{len(q['top_a'])} overlap {q['overlap']:.2f})</small></h3>"
            f"<table><tr><th>#</th><th>A</th><th>cos</th><th>B</th><th>cos</th></tr>{body}</table>"
        )
    query_part = f"<h2>Queries: top documents side by side</h2>{''.join(queries)}" if queries else ""
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{e(title)}</title><style>"
        "body{font-family:sans-serif;margin:2em;max-width:1200px}td,th{padding:3px 8px;border-bottom:1px solid #ddd;"
        "text-align:left;vertical-align:top}figure{display:inline-block;width:48%;margin:0 1% 1em 0}"
        "img{width:100%;border:1px solid #ccc}.same{background:#e6f4ea}small{color:#666}</style></head><body>"
        f"<h1>{e(title)}</h1><p>A: {e(str(numbers.get('model_a', '')))}<br>B: {e(str(numbers.get('model_b', '')))}"
        f"</p>{figures}<h2>Numbers</h2><table>{rows}</table>{query_part}"
        "<p><small>Green: a document both models return in the top k.</small></p></body></html>"
    )


def _shown(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    return "—" if value is None else str(value)
