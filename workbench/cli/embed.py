"""`workbench embed INPUT --out OUT`: embed a file's items through the cache and write the exchange format."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from workbench.cli.common import ProgressBar, add_model_options, api_key_from_env, spec_from_args
from workbench.core.cache import EmbeddingCache
from workbench.core.embedders import make_embedder
from workbench.core.embedding import embed_items
from workbench.core.errors import InputError
from workbench.core.exchange import write_parquet
from workbench.core.importers import ImportOptions, read_items

log = logging.getLogger("workbench.cli.embed")
OUTPUT_SUFFIXES = (".parquet",)


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "embed",
        help="embed a file of texts and write vectors",
        description="Embed every item of INPUT (documents as documents, queries as queries) and write OUT in the "
        "exchange format. Texts embedded before with the same model, dim and task come from the cache.",
    )
    parser.add_argument("input", type=Path, help="a .txt (one item per line) or .jsonl file")
    parser.add_argument("--out", type=Path, required=True, help="output file (.parquet)")
    parser.add_argument("--column", help="the field that holds the text (default: text, document, content, …)")
    parser.add_argument("--id-column", help="the field that holds each item's id (default: a content hash)")
    parser.add_argument("--kind", choices=("document", "query"), default="document", help="default: document")
    parser.add_argument(
        "--split",
        choices=("lines", "blank_line"),
        default="lines",
        help=".txt: one item per line (default) or items separated by blank lines",
    )
    parser.add_argument(
        "--encoding-errors",
        choices=("strict", "replace"),
        default="strict",
        help="what to do with invalid UTF-8: stop with its position (default) or replace the bytes",
    )
    add_model_options(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if args.out.suffix.lower() not in OUTPUT_SUFFIXES:
        raise InputError(f"{args.out}: unsupported output type '{args.out.suffix}'; use {', '.join(OUTPUT_SUFFIXES)}.")
    spec = spec_from_args(args)
    options = ImportOptions(
        kind=args.kind,
        column=args.column,
        id_column=args.id_column,
        split_mode=args.split,
        encoding_errors=args.encoding_errors,
    )
    items, report = read_items(args.input, options)
    log.info("%s: %s", args.input, report.summary())
    embedder = make_embedder(spec, api_key=api_key_from_env(), base_url=args.base_url)
    cache = EmbeddingCache()
    try:
        result = embed_items(items, embedder, cache, progress=ProgressBar("embedding"))
    finally:
        cache.close()
    write_parquet(args.out, result.items, result.vectors, spec)
    log.info("%s", result.summary())
    return 0
