"""`workbench compare A B`: how much two embeddings of the same items agree. (`workbench cluster` is cluster.py.)"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
from pathlib import Path

from workbench.cli.common import ProgressBar
from workbench.core.compare import Comparison, compare, report_html
from workbench.core.errors import InputError
from workbench.core.exchange import read_parquet

log = logging.getLogger("workbench.cli.compare")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "compare",
        help="compare two embeddings of the same items",
        description="How much do two embeddings of the same items (joined on id) agree? Prints the k-NN overlap, "
        "the rank correlation of pairwise similarities, with --label-column the k-NN label accuracy and "
        "silhouette of each, and for queries their top-k documents under both, side by side.",
        epilog="example:\n  workbench embed notes.jsonl --out a.parquet\n"
        "  workbench embed notes.jsonl --out b.parquet --provider gemini --dim 768\n"
        "  workbench compare a.parquet b.parquet --label-column topic --report comparison.html",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("a", type=Path, help="first embed output (.parquet)")
    parser.add_argument("b", type=Path, help="second embed output of the same items (.parquet)")
    parser.add_argument("--label-column", help="a metadata column that holds class labels")
    parser.add_argument("-k", type=int, default=10, help="neighbours per item (default 10)")
    parser.add_argument("--json", action="store_true", help="print one JSON object (numbers and per-query tops)")
    parser.add_argument("--seed", type=int, default=0, help="seed for sampled pairs and silhouette (default 0)")
    parser.add_argument("--report", type=Path, help="also write a one-page HTML report here")
    parser.add_argument(
        "--qrels",
        type=Path,
        help="relevance labels (BEIR TSV or TREC) for the files' queries and documents: adds nDCG@10, Recall@10, "
        "Recall@100 and MRR@10 of exact dense search under A and under B",
    )
    parser.set_defaults(handler=run_compare)


def run_compare(args: argparse.Namespace) -> int:
    if args.k < 1:
        raise InputError(f"-k must be at least 1, not {args.k}.")
    if args.report is not None and args.report.suffix.lower() not in (".html", ".htm"):
        raise InputError(f"{args.report}: the report is an HTML page; name it .html.")
    labels = None
    if args.qrels is not None:
        from workbench.core.relevance import read_qrels

        labels = read_qrels(args.qrels)
    a, b = read_parquet(args.a), read_parquet(args.b)
    retrieval = {}
    if labels is not None:
        from workbench.core.evaluation import evaluate_embedding

        for side, table, path in (("a", a, args.a), ("b", b, args.b)):
            try:
                retrieval[side] = evaluate_embedding(table.items, table.vectors, labels).as_json()
            except InputError as error:
                raise InputError(f"{path}: {error}") from error
    result = compare(a, b, k=args.k, label_column=args.label_column, seed=args.seed, progress=ProgressBar("comparing"))
    if result.only_in_a or result.only_in_b:
        log.warning("compared %d shared ids; %d only in %s, %d only in %s", result.numbers["items"],
                    result.only_in_a, args.a, result.only_in_b, args.b)  # fmt: skip
    if args.report is not None:
        texts = {item.id: item.text for item in a.items}
        try:
            args.report.write_text(report_html(result, texts), encoding="utf-8")
        except OSError as error:
            raise InputError(f"{args.report}: cannot be written ({error.strerror or error}).") from error
        log.info("wrote %s", args.report)
    if args.json:
        extra = {"retrieval": retrieval} if retrieval else {}
        print(json.dumps({**result.as_json(), **extra}, ensure_ascii=False, allow_nan=False))
    else:
        print(_as_text(result, {item.id: item.text for item in a.items}))
        for side, scores in retrieval.items():
            values = "  ".join(f"{key} {value:.4f}" for key, value in scores.items() if key not in ("mode", "queries"))
            print(f"{'' if side == 'b' else chr(10)}retrieval {side.upper()} (exact dense, {scores['queries']} "
                  f"labelled queries): {values}")  # fmt: skip
    return 0


def _as_text(result: Comparison, texts: dict[str, str]) -> str:
    """Numbers as an aligned two-column list; then each query's top documents under A and B side by side."""
    numbers = {**result.numbers, "only_in_a": result.only_in_a, "only_in_b": result.only_in_b}
    width = max(len(key) for key in numbers)
    lines = []
    for key, value in numbers.items():
        shown = f"{value:.4f}" if isinstance(value, float) else ("—" if value is None else str(value))
        lines.append(f"{key:<{width}}  {shown}")
    column = max(20, (shutil.get_terminal_size((120, 20)).columns - 12) // 2)
    cut = lambda text: text if len(text) <= column else text[: column - 1] + "…"  # noqa: E731
    if result.query_tops:
        lines += ["", "Each query's top documents under A and under B ('=': in both tops)."]
    for query in result.query_tops:
        lines += ["", f"query: {cut(query['text'])}  (top-{len(query['top_a'])} overlap {query['overlap']:.2f})"]
        lines.append(f"  #  {'A':<{column}}  B")
        for rank, (ida, idb) in enumerate(zip(query["top_a"], query["top_b"], strict=True), start=1):
            mark_a, mark_b = ("=" if ida in query["top_b"] else " "), ("=" if idb in query["top_a"] else " ")
            lines.append(f"{rank:>3} {mark_a}{cut(texts.get(ida, ida)):<{column}} {mark_b}{cut(texts.get(idb, idb))}")
    return "\n".join(lines)
