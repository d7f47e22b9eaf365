"""`workbench push` and `workbench search`: the exchange file into a Milvus collection, and a query against it.

A new collection gets full text (a BM25 field Milvus builds from the text; --no-fulltext leaves it out), so
`search --mode bm25|hybrid` works on it; `push --add-fulltext` gives an older collection the field by copying
its rows (the re-push). `search --mode bm25` embeds nothing.

pymilvus is imported only when one of these commands runs, so `workbench embed` does not pay for it.
The token comes from --token or MILVUS_TOKEN and is never printed, not even with -v.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

from workbench.cli.common import ProgressBar, add_model_options, embedder_from_args, spec_from_args

log = logging.getLogger("workbench.cli.milvus")
INDEX_CHOICES = ("AUTOINDEX", "HNSW", "IVF_FLAT", "FLAT")  # = core.milvus.INDEX_TYPES, without importing pymilvus
METRIC_CHOICES = ("COSINE", "IP", "L2")


def _add_target_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--collection", required=True, help="collection name (letters, digits, _)")
    parser.add_argument("--uri", help="Milvus Lite .db path or server URI (default: milvus.db in the user's data dir)")
    parser.add_argument("--token", help="server token (default: MILVUS_TOKEN; never printed)")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    push = subparsers.add_parser(
        "push",
        help="upsert an exchange file's vectors into a Milvus collection",
        description="Upsert every row of IN.parquet (written by `workbench embed`) into a Milvus collection, keyed "
        "by item id: pushing the same file again changes nothing. The collection is created when missing and "
        "reused when its dim and metric match.",
    )
    push.add_argument(
        "input",
        type=Path,
        nargs="?",
        help="an exchange file (.parquet) from `workbench embed` (optional with --add-fulltext)",
    )
    _add_target_options(push)
    push.add_argument("--metric", choices=METRIC_CHOICES, default="COSINE", type=str.upper, help="default: COSINE")
    push.add_argument("--index", choices=INDEX_CHOICES, default="AUTOINDEX", type=str.upper, help="default: AUTOINDEX")
    push.add_argument("--no-fulltext", action="store_true", help="make a new collection without the BM25 field")
    push.add_argument(
        "--add-fulltext",
        action="store_true",
        help="first give an existing collection made without full text its BM25 field (its rows are copied into "
        "a new collection of the same name; the original stays if this fails)",
    )
    push.set_defaults(handler=run_push)

    search = subparsers.add_parser(
        "search",
        help="search a Milvus collection with a text query",
        description="Embed QUERY as a query with the model options and print the collection's nearest rows; "
        "--mode bm25 sends the text to the collection's BM25 field instead (no model), --mode hybrid both, fused.",
    )
    search.add_argument("query", help="the query text")
    _add_target_options(search)
    search.add_argument("-k", type=int, default=10, help="number of hits (default: 10)")
    search.add_argument("--filter", default="", help='a Milvus filter expression, e.g. \'metadata["topic"] == "x"\'')
    search.add_argument(
        "--mode",
        choices=("dense", "bm25", "hybrid"),
        default="dense",
        help="dense vectors, BM25 full text, or both fused (default: dense)",
    )
    search.add_argument("--ranker", choices=("rrf", "weighted"), default="rrf", help="hybrid fusion (default: rrf)")
    search.add_argument("--rrf-k", type=int, default=60, help="hybrid RRF's k (default: 60)")
    search.add_argument("--dense-weight", type=float, default=0.5, help="weighted hybrid: dense's share (default 0.5)")
    search.add_argument("--json", action="store_true", help="one JSON object per hit: id, score, text, metadata")
    add_model_options(search)
    search.set_defaults(handler=run_search)


def _target(args: argparse.Namespace):
    from workbench.core.milvus import MilvusTarget
    from workbench.core.secrets import register_secret, register_url_secrets

    token = args.token or os.environ.get("MILVUS_TOKEN", "")
    register_secret(token)
    register_url_secrets(args.uri)
    return MilvusTarget(uri=args.uri or "", token=token)


def run_push(args: argparse.Namespace) -> int:
    from workbench.core.errors import InputError
    from workbench.core.exchange import read_parquet
    from workbench.core.milvus import open_milvus

    if args.input is None and not args.add_fulltext:
        raise InputError("Name the exchange file to push (or use --add-fulltext on its own).")
    if args.add_fulltext and args.no_fulltext:
        raise InputError("--add-fulltext and --no-fulltext contradict each other.")
    target = _target(args)
    if args.add_fulltext:
        from workbench.core.milvus.rebuild import rebuild_with_fulltext

        with open_milvus(target) as db:
            had = db.describe(args.collection)
            info = rebuild_with_fulltext(db, args.collection, progress=ProgressBar("copying"))
        done = "already had" if had is not None and had.fulltext else "now has"
        print(f"Collection '{args.collection}' {done} full text (BM25); {info.rows} rows.")
        if args.input is None:
            return 0
    table = read_parquet(args.input)
    log.info("pushing %d rows of %s to %s", len(table.items), args.input, target.display)
    with open_milvus(target) as db:
        report = db.push(
            args.collection,
            table.items,
            table.vectors,
            table.spec,
            metric=args.metric,
            index_type=args.index,
            progress=ProgressBar("pushing"),
            fulltext=not args.no_fulltext,
        )
    for warning in report.warnings:
        print(f"workbench push: warning: {warning}", file=sys.stderr)
    print(report.summary())
    return 0


def run_search(args: argparse.Namespace) -> int:
    from workbench.core.cache import EmbeddingCache
    from workbench.core.errors import InputError
    from workbench.core.milvus import embed_query, other_model_message
    from workbench.core.milvus.operations import prepare_search, search_side_by_side
    from workbench.core.search_modes import SearchMode

    if args.k < 1:
        raise InputError(f"-k must be at least 1, not {args.k}.")
    mode = SearchMode(args.mode, args.ranker, args.rrf_k, args.dense_weight)
    if not args.query.strip():
        raise InputError("The search query is empty.")
    spec = spec_from_args(args)
    target = _target(args)
    stored = prepare_search(target, args.collection, args.filter, mode=mode)  # fails before the query is paid for
    vector = None
    if mode.uses_vectors:
        if warning := other_model_message(args.collection, stored, spec):
            print(f"workbench search: warning: {warning}", file=sys.stderr)
        embedder = embedder_from_args(args, spec)
        cache = EmbeddingCache()
        try:
            vector = embed_query(args.query, embedder, cache)
        finally:
            cache.close()
    # opened again: the database stays free while the model loads
    hits = search_side_by_side(target, args.collection, [mode], vector, args.query, args.k, args.filter)[mode.label]
    for rank, hit in enumerate(hits, 1):
        if args.json:
            print(json.dumps(hit.as_json(), ensure_ascii=False))
        else:
            text = " ".join(hit.text.split())
            print(f"{rank:>3}  {hit.score:8.4f}  {hit.id}  {text[:100]}")
    return 0
