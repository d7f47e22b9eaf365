"""`workbench eval`: search a labelled corpus in every chosen mode and print nDCG@10, Recall@10/100 and MRR@10.

What --corpus accepts: a BEIR folder (corpus.jsonl, queries.jsonl, qrels/<split>.tsv; then --queries and --qrels
may be left out), a BEIR `corpus.jsonl` (`_id`, `title`, `text`), or any file `workbench embed` reads (.txt .csv
.tsv .jsonl .parquet) whose ids are in an `id` column (or --id-column). --queries likewise (BEIR `queries.jsonl` or
an app format, as queries); --qrels is a BEIR qrels TSV (header optional) or a TREC qrels file.

Modes: `exact` ranks with numpy over the vectors computed here (no Milvus); `dense`, `bm25` and `hybrid` run in
Milvus: the collection named by --collection (at --uri) after the documents are upserted into it, else a
throwaway Milvus Lite database in a temporary folder. `all` is the four of them.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from workbench.cli.common import ProgressBar, add_model_options, embedder_from_args, spec_from_args

MODE_CHOICES = "exact, dense, bm25, hybrid, or all (a comma-separated list works too)"


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "eval",
        help="measure dense, BM25 and hybrid search against relevance labels",
        description="Embed the corpus and the labelled queries, search them in each mode and print nDCG@k, "
        "Recall@k, Recall@100 and MRR@k (BEIR's conventions, computed by ir-measures) per mode. Queries without "
        "a relevant label are left out, and said. " + (__doc__ or "").split("\n\n", 1)[1],
        epilog="examples:\n  workbench eval --corpus scifact/  (a BEIR folder: split 'test')\n"
        "  workbench eval --corpus corpus.jsonl --queries queries.jsonl --qrels qrels/test.tsv --mode dense,bm25\n"
        "  workbench eval --corpus scifact/ --uri milvus.db --collection scifact --json",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--corpus", type=Path, required=True, help="a BEIR folder, a BEIR corpus.jsonl or an app file")
    parser.add_argument("--queries", type=Path, help="queries file (default: the BEIR folder's queries.jsonl)")
    parser.add_argument("--qrels", type=Path, help="relevance labels (default: the BEIR folder's qrels/<split>.tsv)")
    parser.add_argument("--split", help="BEIR folder: the qrels split (default: test, or the only one)")
    parser.add_argument("--id-column", help="id column of app-format corpus and queries files (default: id)")
    parser.add_argument("--mode", default="all", help=f"{MODE_CHOICES} (default: all)")
    parser.add_argument("--ranker", choices=("rrf", "weighted"), default="rrf", help="hybrid fusion (default: rrf)")
    parser.add_argument("--rrf-k", type=int, default=60, help="hybrid RRF's k (default: 60)")
    parser.add_argument("--dense-weight", type=float, default=0.5, help="weighted hybrid: dense's share (default 0.5)")
    parser.add_argument("-k", type=int, default=10, help="cutoff of nDCG, Recall and MRR (default: 10)")
    parser.add_argument("--collection", help="Milvus collection to upsert the documents into and search")
    parser.add_argument("--uri", help="Milvus Lite .db path or server URI (default with --collection: milvus.db in "
                        "the user's data dir; without it: a temporary database)")  # fmt: skip
    parser.add_argument("--token", help="server token (default: MILVUS_TOKEN; never printed)")
    parser.add_argument("--json", action="store_true", help="one JSON object per mode")
    parser.add_argument("--worst", type=int, default=0, metavar="N", help="also list each mode's N worst queries")
    add_model_options(parser)
    parser.set_defaults(handler=run_eval)


def _modes(args: argparse.Namespace):
    from dataclasses import replace

    from workbench.core.search_modes import SearchMode, parse_modes

    chosen = parse_modes(args.mode)
    hybrid = SearchMode("hybrid", args.ranker, args.rrf_k, args.dense_weight)  # checks the values
    return [replace(m, ranker=hybrid.ranker, rrf_k=hybrid.rrf_k, dense_weight=hybrid.dense_weight) for m in chosen]


def _labelled(args: argparse.Namespace):
    from workbench.core.beir import read_beir_folder, read_labelled_files
    from workbench.core.errors import InputError

    if not args.corpus.exists():
        raise InputError(f"{args.corpus}: no such file or folder.")
    if args.corpus.is_dir():
        if args.queries is None and args.qrels is None:
            return read_beir_folder(args.corpus, args.split, progress=ProgressBar("reading"))
        folder = args.corpus
        corpus = folder / "corpus.jsonl"
        if not corpus.is_file():
            raise InputError(f"{folder}: not a BEIR folder: corpus.jsonl is missing.")
        queries = args.queries or folder / "queries.jsonl"
        qrels = args.qrels or folder / "qrels" / f"{args.split or 'test'}.tsv"
        return read_labelled_files(corpus, queries, qrels, args.id_column, ProgressBar("reading"))
    if args.queries is None or args.qrels is None:
        raise InputError(
            f"{args.corpus} is a file: give --queries and --qrels too (or pass a BEIR folder as --corpus)."
        )
    if args.split:
        raise InputError("--split chooses among a BEIR folder's qrels; with --qrels it has no meaning.")
    return read_labelled_files(args.corpus, args.queries, args.qrels, args.id_column, ProgressBar("reading"))


def _target(args: argparse.Namespace):
    if not args.collection:
        if args.uri:
            from workbench.core.errors import InputError

            raise InputError("--uri needs --collection: name the collection to search there.")
        return None
    from workbench.cli.milvus import _target as milvus_target

    return milvus_target(args)


def run_eval(args: argparse.Namespace) -> int:
    from workbench.core.cache import EmbeddingCache
    from workbench.core.errors import InputError
    from workbench.core.evaluation import evaluate, search_depth
    from workbench.core.search_lab import embed_labelled, run_modes

    if args.k < 1:
        raise InputError(f"-k must be at least 1, not {args.k}.")
    if args.worst < 0:
        raise InputError(f"--worst must be 0 or more, not {args.worst}.")
    modes = _modes(args)
    spec = spec_from_args(args)
    target = _target(args)
    labelled = _labelled(args)
    for note in labelled.notes:
        print(f"workbench eval: note: {note}", file=sys.stderr)
    embedder = embedder_from_args(args, spec)
    cache = EmbeddingCache()
    try:
        document_vectors, query_vectors = embed_labelled(labelled, embedder, cache, ProgressBar("embedding"))
    finally:
        cache.close()
    runs = run_modes(
        labelled,
        modes,
        document_vectors,
        query_vectors,
        embedder.spec,
        target,
        args.collection,
        search_depth(args.k),
        ProgressBar("searching"),
    )
    for note in dict.fromkeys(n for run in runs for n in run.notes):
        print(f"workbench eval: warning: {note}", file=sys.stderr)
    result = evaluate(labelled, runs, args.k)
    if args.json:
        for scores in result.modes:
            print(json.dumps(scores.as_json()))
    else:
        keys = list(result.modes[0].aggregate)
        print(f"{'mode':<34}" + "".join(f"{key:>12}" for key in keys) + f"{'queries':>9}{'search s':>10}")
        for scores in result.modes:
            values = "".join(f"{scores.aggregate[key]:>12.4f}" for key in keys)
            print(f"{scores.label:<34}{values}{scores.queries:>9}{scores.seconds:>10.2f}")
    worst_stream = sys.stderr if args.json else sys.stdout  # --json keeps stdout one object per mode
    for scores in result.modes if args.worst else []:
        print(f"\n{scores.label}: worst {min(args.worst, scores.queries)} queries", file=worst_stream)
        for query in scores.per_query[: args.worst]:
            values = "  ".join(f"{k}={v:.3f}" for k, v in query.values.items())
            print(f"  {query.query_id}  {values}  {' '.join(query.text.split())[:60]}", file=worst_stream)
    return 0
