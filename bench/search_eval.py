"""The search lab's evaluation: 1 000 queries over 1 000 documents, time per mode, ours beside the plain calls.

    python bench/search_eval.py [--quick] [--docs 1000] [--queries 1000] [--dim 384]

Synthetic, seeded data without a model (embedding time is the embedder's, measured elsewhere): documents of 30
words drawn from a 2 000-word vocabulary, each query 5 words of one document plus 2 random ones, with that
document as its relevant label (grade 1) and, for every third query, a second document at grade 2; random unit
document vectors, each query's vector its document's plus noise. Every query retrieves 100 deep (Recall@100).

Rows (ours / the plain call beside it; each mode is warmed up with one batch first):
- push 1 000 documents with the BM25 field / the same push without it (what full text costs at push time);
- exact: `search_modes.exact_rankings` (blocked top-k, Hit objects) / one numpy matmul + argpartition + argsort;
- dense, bm25, hybrid: `operations.rank_queries` (a connection per call, batches of 100 queries, Hit objects)
  / bare `MilvusClient.search` / `hybrid_search` loops over the same batches on an open client, hits read out as
  (id, score) pairs;
- metrics: `evaluation.score_run` per mode (rank-scored run, per-query table, worst first) /
  `ir_measures.calc_aggregate` on the raw run.
--quick runs the same sizes (they are the issue's and take seconds).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _table import Row, emit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from workbench.core.embedders.base import EmbeddingSpec, l2_normalise
from workbench.core.evaluation import metric_keys, score_run
from workbench.core.items import Item
from workbench.core.milvus import MilvusTarget, open_milvus
from workbench.core.milvus.operations import QUERY_BATCH, rank_queries
from workbench.core.relevance import RelevanceLabels
from workbench.core.search_modes import SearchMode, exact_rankings

DEPTH = 100


def make_data(n_docs: int, n_queries: int, dim: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    vocabulary = [f"w{i}" for i in range(2_000)]
    weights = 1.0 / np.arange(1, len(vocabulary) + 1)  # Zipf-like: a few words are everywhere
    weights /= weights.sum()
    words = rng.choice(len(vocabulary), size=(n_docs, 30), p=weights)
    documents = [Item(f"d{i}", " ".join(vocabulary[w] for w in row), "document") for i, row in enumerate(words)]
    doc_vectors = l2_normalise(rng.normal(size=(n_docs, dim)))
    sources = rng.integers(0, n_docs, size=n_queries)
    texts, grades = [], {}
    for q, source in enumerate(sources):
        own = rng.choice(words[source], size=5, replace=False)
        noise = rng.integers(0, len(vocabulary), size=2)
        texts.append(" ".join(vocabulary[w] for w in [*own, *noise]))
        grades[f"q{q}"] = {f"d{source}": 1}
        if q % 3 == 0:
            grades[f"q{q}"][f"d{(source + 1) % n_docs}"] = 2
    query_vectors = l2_normalise(doc_vectors[sources] + 0.08 * rng.normal(size=(n_queries, dim)))
    return documents, doc_vectors, texts, query_vectors, RelevanceLabels(grades)


def plain_exact(doc_vectors: np.ndarray, query_vectors: np.ndarray, depth: int) -> tuple[np.ndarray, np.ndarray]:
    scores = query_vectors @ doc_vectors.T
    part = np.argpartition(-scores, depth - 1, axis=1)[:, :depth]
    part_scores = np.take_along_axis(scores, part, axis=1)
    order = np.argsort(-part_scores, axis=1)
    return np.take_along_axis(part, order, axis=1), np.take_along_axis(part_scores, order, axis=1)


def plain_milvus(client, name: str, mode: SearchMode, query_vectors: np.ndarray, texts: list[str]) -> list:
    """The bare pymilvus calls for one mode over every query, in the same batches as rank_queries, read out as
    (id, score) pairs: pymilvus materialises a result's hits only when they are read, so a loop that never reads
    them would time half the work."""
    from pymilvus import AnnSearchRequest, RRFRanker

    found: list = []
    for lo in range(0, len(texts), QUERY_BATCH):
        vectors, words = query_vectors[lo : lo + QUERY_BATCH].tolist(), texts[lo : lo + QUERY_BATCH]
        if mode.kind == "dense":
            results = client.search(name, data=vectors, anns_field="vector", limit=DEPTH, output_fields=[])
        elif mode.kind == "bm25":
            results = client.search(
                name, data=words, anns_field="text_sparse", limit=DEPTH, search_params={"metric_type": "BM25"}
            )
        else:
            requests = [
                AnnSearchRequest(vectors, "vector", {"metric_type": "COSINE"}, DEPTH),
                AnnSearchRequest(words, "text_sparse", {"metric_type": "BM25"}, DEPTH),
            ]
            results = client.hybrid_search(name, reqs=requests, ranker=RRFRanker(60), limit=DEPTH, output_fields=[])
        found += [[(hit["id"], hit["distance"]) for hit in hits] for hits in results]
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="the same sizes (kept for bench/run)")
    parser.add_argument("--docs", type=int, default=1_000)
    parser.add_argument("--queries", type=int, default=1_000)
    parser.add_argument("--dim", type=int, default=384)
    args = parser.parse_args()
    import ir_measures

    documents, doc_vectors, texts, query_vectors, labels = make_data(args.docs, args.queries, args.dim)
    query_ids = [f"q{i}" for i in range(args.queries)]
    spec = EmbeddingSpec("local", "bench", args.dim)
    size = f"{args.queries}x{args.docs}"
    rows: list[Row] = []
    measures = [ir_measures.nDCG @ 10, ir_measures.R @ 10, ir_measures.R @ 100, ir_measures.RR @ 10]
    runs: dict[str, dict[str, list]] = {}
    summary: list[str] = []

    ir_measures.calc_aggregate(measures, {"q": {"d": 1}}, {"q": {"d": 1.0}})  # warm: pytrec_eval's first call
    start = time.perf_counter()
    hits = exact_rankings(documents, doc_vectors, query_vectors, DEPTH)
    ours = time.perf_counter() - start
    start = time.perf_counter()
    plain_exact(doc_vectors, query_vectors, DEPTH)
    rows.append(Row("exact: rank (numpy)", size, ours, "numpy matmul + argpartition", time.perf_counter() - start))
    runs["exact"] = dict(zip(query_ids, hits, strict=True))

    with tempfile.TemporaryDirectory() as scratch:
        target = MilvusTarget(str(Path(scratch) / "bench.db"))
        with open_milvus(target) as db:
            start = time.perf_counter()
            db.push("fulltext", documents, doc_vectors, spec)
            with_bm25 = time.perf_counter() - start
            start = time.perf_counter()
            db.push("plain", documents, doc_vectors, spec, fulltext=False)
            rows.append(Row("push (+ BM25 field)", f"{args.docs}", with_bm25, "push without BM25",
                            time.perf_counter() - start))  # fmt: skip
        modes = [SearchMode("dense"), SearchMode("bm25"), SearchMode("hybrid")]
        for mode in modes:
            with open_milvus(target) as db:  # warm: load the collection and this mode's index once
                db.count("fulltext")
                plain_milvus(db.client, "fulltext", mode, query_vectors[:QUERY_BATCH], texts[:QUERY_BATCH])
            start = time.perf_counter()
            ranked = rank_queries(target, "fulltext", [mode], query_vectors, texts, DEPTH)
            ours = time.perf_counter() - start
            runs[mode.kind] = dict(zip(query_ids, ranked[mode.label][0], strict=True))
            with open_milvus(target) as db:
                db.count("fulltext")  # loaded, as rank_queries' connection does first
                start = time.perf_counter()
                plain_milvus(db.client, "fulltext", mode, query_vectors, texts)
                baseline = time.perf_counter() - start
            rows.append(
                Row(
                    f"{mode.kind}: rank (Milvus Lite)",
                    size,
                    ours,
                    f"bare client.{'hybrid_' * (mode.kind == 'hybrid')}search loop",
                    baseline,
                )
            )

    for name, by_query in runs.items():
        start = time.perf_counter()
        scores = score_run(name, by_query, labels, query_ids)
        ours = time.perf_counter() - start
        raw = {q: {h.id: h.score for h in hits} for q, hits in by_query.items()}
        start = time.perf_counter()
        ir_measures.calc_aggregate(measures, dict(labels.grades), raw)
        rows.append(Row(f"{name}: metrics", size, ours, "ir_measures.calc_aggregate", time.perf_counter() - start))
        summary.append(f"  {name:<7}" + "  ".join(f"{k}={scores.aggregate[k]:.3f}" for k in metric_keys(10)))
    emit("Search lab evaluation: 1 000 queries over 1 000 documents, retrieved 100 deep", rows,
         "Metrics on this synthetic set (a sanity check, not a result):\n" + "\n".join(summary))  # fmt: skip


if __name__ == "__main__":
    main()
