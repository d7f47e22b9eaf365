"""`workbench compare A B` and `workbench cluster IN --out OUT`: compare two embeddings; find and name clusters."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from workbench.core.clusters import cluster_vectors, name_clusters
from workbench.core.compare import compare
from workbench.core.errors import InputError
from workbench.core.exchange import read_parquet, write_parquet


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "compare",
        help="compare two embeddings of the same items",
        description="How much do two embeddings of the same items (joined on id) agree? Prints k-NN overlap, the "
        "rank correlation of pairwise similarities and, with --label-column, k-NN label accuracy and silhouette.",
    )
    parser.add_argument("a", type=Path, help="first embed output (.parquet)")
    parser.add_argument("b", type=Path, help="second embed output (.parquet)")
    parser.add_argument("--label-column", help="a metadata column that holds class labels")
    parser.add_argument("-k", type=int, default=10, help="neighbours per item (default 10)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(handler=run_compare)

    cluster = subparsers.add_parser(
        "cluster",
        help="cluster vectors and name the clusters",
        description="Adds the columns cluster (int, -1 = noise) and cluster_name (its most distinctive words).",
    )
    cluster.add_argument("input", type=Path, help="an embed output (.parquet)")
    cluster.add_argument("--out", type=Path, required=True, help="output .parquet (every input column kept)")
    cluster.add_argument("--method", choices=("hdbscan", "kmeans"), default="hdbscan", help="default: hdbscan")
    cluster.add_argument("--k", type=int, default=8, help="k-means: number of clusters (default 8)")
    cluster.add_argument("--min-cluster-size", type=int, default=5, help="HDBSCAN: smallest cluster (default 5)")
    cluster.add_argument("--seed", type=int, default=0, help="k-means seed (default 0)")
    cluster.set_defaults(handler=run_cluster)


def run_compare(args: argparse.Namespace) -> int:
    if args.k < 1:
        raise InputError(f"-k must be at least 1, not {args.k}.")
    result = compare(read_parquet(args.a), read_parquet(args.b), k=args.k, label_column=args.label_column)
    numbers = {**result.numbers, "only_in_a": result.only_in_a, "only_in_b": result.only_in_b}
    if args.json:
        print(json.dumps({**numbers, "queries": result.query_tops}))
        return 0
    width = max(len(key) for key in numbers)
    for key, value in numbers.items():
        shown = f"{value:.4f}" if isinstance(value, float) else str(value)
        print(f"{key:<{width}}  {shown}")
    for query in result.query_tops:
        print(f"\nquery: {query['text'][:80]}  (top-{numbers['k']} overlap {query['overlap']:.2f})", file=sys.stdout)
    return 0


def run_cluster(args: argparse.Namespace) -> int:
    table = read_parquet(args.input)
    labels = cluster_vectors(table.vectors, args.method, args.k, args.min_cluster_size, args.seed)
    names = name_clusters([item.text for item in table.items], labels)
    derived = dict(table.derived)
    derived["cluster"] = labels
    derived["cluster_name"] = np.array([names.get(int(label), "") for label in labels], dtype=object)
    write_parquet(args.out, table.items, table.vectors, table.spec, derived)
    return 0
