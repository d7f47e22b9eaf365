"""`workbench embed INPUT --out OUT`: embed a file's items through the cache and write vectors for other tools.

INPUT: .txt .csv .tsv .jsonl .parquet (core/importers.py), or a folder of .md .txt .html .pdf files, one document
per file (core/folder_import.py; what was skipped and why is printed on stderr). OUT: .parquet (the exchange
format), .csv, .npy with a .jsonl sidecar, or .tsv (the Embedding Projector pair) (core/exports.py).

Before anything is embedded the texts are counted for the model (core/tokens.py; -v prints the count, the texts
over the window and, for Gemini, the estimated price) and --long-texts decides what happens to texts over the
window (core/long_texts.py): chunk (default), truncate, or refuse (exit 2 before anything is paid for).
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from workbench.cli.common import ProgressBar, add_model_options, embedder_from_args, say_done, spec_from_args
from workbench.core.cache import EmbeddingCache
from workbench.core.embedding import embed_items, text_char_limit
from workbench.core.errors import InputError
from workbench.core.exports import export_vectors, refuse_overwriting_inputs
from workbench.core.folder_import import read_folder
from workbench.core.gemini_batch import BatchStatus, embed_items_in_batches
from workbench.core.importers import READERS, ImportOptions, read_items
from workbench.core.long_texts import DEFAULT_OVERLAP_TOKENS, LONG_TEXT_POLICIES, capped_items, prepare_items
from workbench.core.tokens import count_tokens

log = logging.getLogger("workbench.cli.embed")
OUTPUT_SUFFIXES = (".parquet", ".csv", ".npy", ".tsv")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "embed",
        help="embed a file of texts and write vectors",
        description="Embed every item of INPUT (documents as documents, queries as queries) and write OUT in the "
        "exchange format (or CSV / .npy). Texts embedded before with the same model, dim and task come from the "
        "cache, so a run that was stopped resumes where it left off.",
        epilog="examples:\n"
        "  workbench embed notes.txt --out notes.parquet\n"
        "  workbench embed papers.csv --column abstract --id-column doi --out papers.parquet\n"
        "  workbench embed faq.jsonl --kind query --out faq.npy      (writes faq.npy + faq.jsonl)\n"
        "  workbench embed notes/ --out notes.parquet               (.md .txt .html .pdf: one document per file)\n"
        "  workbench embed big.jsonl --provider gemini --batch --no-wait --out big.parquet   (submit, return;\n"
        "      the same command later collects the results and writes big.parquet)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "input",
        type=Path,
        help=f"the texts: {' '.join(sorted(READERS))} (.txt: one item per line, see --split), or a folder of .md "
        ".txt .html .pdf files (one document per file, its relative path as id)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        required=True,
        help=".parquet (exchange format), .csv, .npy (+ a .jsonl sidecar) or .tsv (Embedding Projector pair)",
    )
    parser.add_argument("--column", help="the column that holds the text (default: text, document, content, …)")
    parser.add_argument(
        "--id-column", help="the column that holds each item's id (default: a column named id, else a content hash)"
    )
    parser.add_argument(
        "--metadata-columns",
        metavar="A,B",
        help="comma-separated columns to keep as metadata (default: every other column)",
    )
    parser.add_argument("--delimiter", help=".csv / .tsv: the field delimiter (default: sniffed from the file)")
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
    parser.add_argument(
        "--max-text-chars",
        type=int,
        metavar="N",
        help="cut longer texts to N characters before they are counted, split or read by the model (default: "
        "WORKBENCH_MAX_TEXT_CHARS or 1000000; the models read far less)",
    )
    parser.add_argument(
        "--long-texts",
        choices=LONG_TEXT_POLICIES,
        default="chunk",
        help="texts longer than the model's window: split documents into chunks that fit (default; queries are "
        "truncated), truncate them, or refuse the run before anything is embedded",
    )
    parser.add_argument(
        "--chunk-overlap",
        type=int,
        metavar="TOKENS",
        default=DEFAULT_OVERLAP_TOKENS,
        help=f"tokens neighbouring chunks share (default {DEFAULT_OVERLAP_TOKENS})",
    )
    parser.add_argument(
        "--batch",
        action="store_true",
        help="Gemini Batch mode: half the price, results within a day; the jobs are remembered in the cache, so "
        "a later run with the same texts collects them instead of paying again (waits for them unless --no-wait)",
    )
    parser.add_argument(
        "--no-wait",
        action="store_true",
        help="with --batch: submit (or look at the jobs once) and return; OUT is written by the run that finds "
        "every job finished",
    )
    add_model_options(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if not args.input.exists():
        raise InputError(f"{args.input}: no such file or folder.")
    if not args.input.is_dir() and args.input.suffix.lower() not in READERS:
        raise InputError(
            f"{args.input}: unsupported file type '{args.input.suffix}'; use a folder (of .md .txt .html .pdf "
            f"files) or a file: {', '.join(sorted(READERS))}."
        )
    if args.out.suffix.lower() not in OUTPUT_SUFFIXES:
        raise InputError(f"{args.out}: unsupported output type '{args.out.suffix}'; use {', '.join(OUTPUT_SUFFIXES)}.")
    if args.out.is_dir() or (args.out.parent.exists() and not args.out.parent.is_dir()):
        raise InputError(f"{args.out}: cannot be written there; give a file path in an existing folder.")
    refuse_overwriting_inputs([args.out], [args.input])
    spec = spec_from_args(args)
    if args.no_wait and not args.batch:
        raise InputError("--no-wait goes with --batch (Gemini's Batch mode).")
    if args.batch and spec.provider != "gemini":
        raise InputError("--batch is Gemini's Batch mode: use it with --provider gemini.")
    text_char_limit(args.max_text_chars, "--max-text-chars")  # checked before anything is read
    metadata = None
    if args.metadata_columns is not None:
        metadata = [c.strip() for c in args.metadata_columns.split(",") if c.strip()]
    if args.delimiter is not None and len(args.delimiter.replace("\\t", "\t")) != 1:
        raise InputError(f"--delimiter must be one character, not {args.delimiter!r}.")
    options = ImportOptions(
        kind=args.kind,
        column=args.column,
        id_column=args.id_column,
        metadata_columns=metadata,
        split_mode=args.split,
        encoding_errors=args.encoding_errors,
        delimiter=args.delimiter.replace("\\t", "\t") if args.delimiter else None,
    )
    if args.input.is_dir():
        table_options = ("column", "id_column", "metadata_columns", "delimiter")
        given = [f"--{name.replace('_', '-')}" for name in table_options if getattr(args, name) is not None]
        if given:
            raise InputError(
                f"{args.input}: a folder has one document per file; {', '.join(given)} applies to table files only."
            )
        items, folder_report = read_folder(args.input, args.kind, args.encoding_errors, progress=ProgressBar("reading"))
        for line in folder_report.details():  # skipped files are said, never dropped silently
            log.warning("skipped %s", line)
        if folder_report.skipped or folder_report.other_types:
            log.warning("%s", folder_report.summary())
        log.info("%s: %s", args.input, folder_report.summary())
    else:
        items, report = read_items(args.input, options, progress=ProgressBar("reading"))
        log.info("%s: %s", args.input, report.summary())
    embedder = embedder_from_args(args, spec)
    if args.chunk_overlap < 0:
        raise InputError(f"--chunk-overlap must be 0 or more tokens, not {args.chunk_overlap}.")
    read = capped_items(items, args.max_text_chars)  # what the model may read of each text
    cache = EmbeddingCache()
    try:
        counts = count_tokens(read, embedder, progress=ProgressBar("counting tokens"), cache=cache)
        log.info("%s", counts.summary())
        prepared = prepare_items(read, embedder, args.long_texts, counts, overlap_tokens=args.chunk_overlap)
        # a split or cut text is said even without -v: the output then has other rows or shorter texts than the input
        log.log(logging.WARNING if prepared.chunked or prepared.truncated else logging.INFO, "%s", prepared.summary())
        if args.batch:
            shown: list[str] = []

            def say(status: BatchStatus) -> None:
                if not shown or shown[-1] != status.summary():
                    shown.append(status.summary())
                    log.info("%s", status.summary())

            outcome = embed_items_in_batches(
                prepared.items, embedder, cache, wait=not args.no_wait, progress=ProgressBar("batch"), on_status=say,
                max_text_chars=args.max_text_chars,
            )  # fmt: skip
            if outcome.result is None:
                log.warning(
                    "%s %s is not written yet: run the same command again later to collect the results.",
                    outcome.status.summary(), args.out,
                )  # fmt: skip
                return 0
            result = outcome.result
        else:
            result = embed_items(
                prepared.items, embedder, cache, progress=ProgressBar("embedding"), max_text_chars=args.max_text_chars
            )
    finally:
        cache.close()
    log.info("%s", result.summary())
    try:
        written = export_vectors(
            args.out, result.items, result.vectors, spec, progress=ProgressBar("writing"), long_texts=prepared.record()
        )
    except OSError as error:  # the vectors are cached: a re-run with a writable --out costs nothing
        raise InputError(f"{args.out}: cannot be written ({error.strerror or error}).") from error
    say_done(f"wrote {len(result.items):,} items to {', '.join(str(p) for p in written)}")
    return 0
