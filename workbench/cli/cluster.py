"""`workbench cluster IN --out OUT`: find the topics in an embed output and name them; every other column stays.

The default is the app's: UMAP to a few dimensions, then HDBSCAN with an automatic smallest cluster; names are each
cluster's distinctive words and phrases, or with `--names gemini` a Gemini text model's (the key from GEMINI_API_KEY
/ GOOGLE_API_KEY, the endpoint from --base-url or GOOGLE_GEMINI_BASE_URL; -v prints each prompt as sent). `--levels
2` splits each cluster: `cluster` is then the sub-cluster and `cluster_parent` the cluster; `--assign-noise` gives
noise to the nearest cluster and says which rows were noise in `cluster_assigned`.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import numpy as np

from workbench.cli.common import ProgressBar
from workbench.core.cluster_names import (
    GEMINI_NAME_MODEL,
    cluster_prompts,
    gemini_generate,
    gemini_names,
    name_clusters,
)
from workbench.core.clusters import AUTOMATIC, METHODS, NOISE, REDUCE_TO, cluster_documents
from workbench.core.errors import InputError
from workbench.core.exchange import read_parquet, write_parquet
from workbench.core.secrets import gemini_key_from_env

log = logging.getLogger("workbench.cli.cluster")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    cluster = subparsers.add_parser(
        "cluster",
        help="find the topics in embeddings and name them",
        description="Writes OUT with every input column plus cluster (int, -1 = noise) and cluster_name (the "
        "cluster's most distinctive words and two-word phrases by class-based TF-IDF, or Gemini's name; 'noise' "
        "for -1); with --levels 2, cluster is each item's sub-cluster and cluster_parent, cluster_parent_name "
        "the cluster it lies in; with --assign-noise also cluster_assigned (true where an item was noise and was "
        "given to its nearest cluster). Documents are clustered; each query takes its nearest document's cluster.",
        epilog="example:\n  workbench cluster notes.parquet --out notes-clustered.parquet\n"
        "  workbench cluster notes.parquet --out c.parquet --levels 2 --min-cluster-size 20 --assign-noise\n"
        "  workbench cluster notes.parquet --out c.parquet --method kmeans --k 12 --names gemini",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    cluster.add_argument("input", type=Path, help="an embed output (.parquet)")
    cluster.add_argument("--out", type=Path, required=True, help="output .parquet (every input column kept)")
    cluster.add_argument("--method", choices=METHODS, default="hdbscan",
                         help="hdbscan (default: UMAP, then HDBSCAN; finds how many) or kmeans")  # fmt: skip
    cluster.add_argument("--k", type=int, default=8, help="k-means: how many clusters, about (default 8)")
    cluster.add_argument("--min-cluster-size", type=int, default=AUTOMATIC,
                         help="HDBSCAN: the smallest cluster (default 0: automatic, half the square root of the "
                         "number of documents, at least 4)")  # fmt: skip
    cluster.add_argument("--levels", type=int, choices=(1, 2), default=1,
                         help="2: split each cluster into sub-clusters (cluster); the clusters become "
                         "cluster_parent")  # fmt: skip
    cluster.add_argument("--assign-noise", action="store_true",
                         help="give each noise item to its nearest cluster (marked in cluster_assigned)")  # fmt: skip
    cluster.add_argument("--names", choices=("tfidf", "gemini"), default="tfidf",
                         help="tfidf: distinctive words (offline, default); gemini: a Gemini text model names "
                         "each cluster from its most central texts (one request per cluster, cached)")  # fmt: skip
    cluster.add_argument("--gemini-model", default=GEMINI_NAME_MODEL, help=f"default {GEMINI_NAME_MODEL}")
    cluster.add_argument("--base-url", help="Gemini endpoint (default: GOOGLE_GEMINI_BASE_URL or Google's)")
    cluster.add_argument("--seed", type=int, default=0, help="seed for UMAP and k-means (default 0)")
    cluster.add_argument("--reduce-dim", type=int, default=REDUCE_TO,
                         help=f"HDBSCAN: first reduce the vectors to this many dimensions with UMAP (default "
                         f"{REDUCE_TO}; 0: never)")  # fmt: skip
    cluster.set_defaults(handler=run_cluster)


def run_cluster(args: argparse.Namespace) -> int:
    if args.out.suffix.lower() != ".parquet":
        raise InputError(f"{args.out}: unsupported output type '{args.out.suffix}'; use .parquet.")
    if args.reduce_dim < 0:
        raise InputError(f"--reduce-dim must be 0 or more, not {args.reduce_dim}.")
    if args.min_cluster_size != AUTOMATIC and args.min_cluster_size < 2:
        raise InputError(f"--min-cluster-size must be at least 2 (or 0: automatic), not {args.min_cluster_size}.")
    generate = None
    if args.names == "gemini":  # before any work: a missing key is bad input, said at once
        generate = gemini_generate(gemini_key_from_env(), args.base_url, args.gemini_model)
    table = read_parquet(args.input)
    if not len(table.items):
        raise InputError(f"{args.input}: no rows to cluster.")
    kinds = np.array([item.kind for item in table.items])
    found = cluster_documents(
        table.vectors, kinds, args.method, args.k, args.min_cluster_size, progress=ProgressBar(f"clustering "
        f"({args.method})"), levels=args.levels, assign_noise=args.assign_noise, reduce_to=args.reduce_dim,
        seed=args.seed,
    )  # fmt: skip
    documents = kinds != "query"  # names from the documents' words: queries only visit their clusters
    texts = [item.text for item, is_document in zip(table.items, documents, strict=True) if is_document]
    vectors = table.vectors[documents]
    # with two levels, `cluster` is the sub-cluster and `cluster_parent` the cluster it lies in
    levels = [found.labels] if found.sublabels is None else [found.sublabels, found.labels]
    named = []
    for labels in levels:
        names = name_clusters(texts, labels[documents])
        if generate is not None:
            names = {**names, **_gemini(texts, vectors, labels[documents], names, generate, args.gemini_model)}
        named.append((labels, names))
    derived = dict(table.derived)
    for stale in ("cluster_parent", "cluster_parent_name", "cluster_assigned"):  # from an earlier run
        derived.pop(stale, None)
    for (labels, names), prefix in zip(named, ("cluster", "cluster_parent"), strict=False):
        derived[prefix] = labels
        derived[f"{prefix}_name"] = np.array([names.get(int(label), "") for label in labels], dtype=object)
    if args.assign_noise:
        derived["cluster_assigned"] = found.assigned
    try:
        write_parquet(args.out, table.items, table.vectors, table.spec, derived)
    except OSError as error:
        raise InputError(f"{args.out}: cannot be written ({error.strerror or error}).") from error
    labels, names = named[-1]
    clusters = sorted(set(labels.tolist()) - {NOISE})
    log.info("%s: %d clusters, %d noise items: %s", found.note, len(clusters), int((labels == NOISE).sum()),
             "; ".join(f"{c}: {names[c]}" for c in clusters[:20]))  # fmt: skip
    return 0


def _gemini(texts, vectors, labels, word_names, generate, model) -> dict[int, str]:
    prompts = cluster_prompts(texts, vectors, labels, word_names)
    for cluster, prompt in prompts.items():
        log.info("prompt for cluster %d:\n%s", cluster, prompt)
    return gemini_names(prompts, generate, model, progress=ProgressBar("naming (Gemini)"))
