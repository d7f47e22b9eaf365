"""`workbench project IN.parquet --out OUT.parquet`: add a 2-D layout (columns x, y) to an exchange file.

Works on the Arrow table itself, so every other column (metadata, clusters, provenance) leaves exactly as it came
in, types and order included; x and y are replaced when the input already has them.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from workbench.cli.common import ProgressBar
from workbench.core.atomic import atomic_path
from workbench.core.errors import InputError
from workbench.core.exchange import from_arrow

log = logging.getLogger("workbench.cli.project")
METHODS = ("umap", "pca")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "project",
        help="add a 2-D layout (x, y) to an embed output",
        description="Lay the vectors of IN.parquet out in 2-D and write OUT.parquet: the same rows and columns "
        "plus x and y. UMAP keeps neighbourhoods; PCA is fast and deterministic. Without --seed UMAP uses every "
        "core (fastest; each run differs a little); with --seed N it runs on one core and the same seed gives the "
        "same layout.",
        epilog="example:\n  workbench embed notes.txt --out notes.parquet\n"
        "  workbench project notes.parquet --out notes-2d.parquet --method umap --seed 7",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("input", type=Path, help="an exchange .parquet file (the output of `workbench embed`)")
    parser.add_argument("--out", type=Path, required=True, help="output .parquet (may be the input file)")
    parser.add_argument("--method", choices=METHODS, default="umap", help="default: umap")
    parser.add_argument(
        "--seed",
        type=int,
        default=None,
        metavar="N",
        help="UMAP: a reproducible layout from seed N, on one core (default: no seed, every core, fastest)",
    )
    parser.set_defaults(handler=run)


def _read(path: Path) -> pa.Table:
    if path.suffix.lower() != ".parquet":
        raise InputError(f"{path}: expected a .parquet file from `workbench embed`.")
    try:
        return pq.read_table(path)
    except FileNotFoundError as error:
        raise InputError(f"{path}: no such file.") from error
    except (pa.ArrowInvalid, OSError) as error:
        raise InputError(f"{path}: not a readable Parquet file ({error}).") from error


def with_xy(table: pa.Table, xy: np.ndarray) -> pa.Table:
    """`table` with float32 columns x and y set from `xy` (replaced in place when present, else appended)."""
    for index, name in enumerate(("x", "y")):
        column = pa.array(np.ascontiguousarray(xy[:, index], dtype=np.float32))
        if name in table.column_names:
            table = table.set_column(table.column_names.index(name), name, column)
        else:
            table = table.append_column(name, column)
    return table


def run(args: argparse.Namespace) -> int:
    if args.out.suffix.lower() != ".parquet":
        raise InputError(f"{args.out}: unsupported output type '{args.out.suffix}'; use .parquet.")
    table = _read(args.input)
    vectors = from_arrow(table, str(args.input)).vectors  # checks the exchange columns and the vectors
    if len(vectors) == 0:
        raise InputError(f"{args.input}: no rows to project.")
    from workbench.core.projection import project_2d  # deferred: umap's import alone takes seconds

    projection = project_2d(
        vectors, method=args.method, seed=args.seed, progress=ProgressBar(f"projecting ({args.method})")
    )
    log.info("%s", projection.note or projection.method)
    try:
        with atomic_path(args.out) as tmp:
            pq.write_table(with_xy(table, np.asarray(projection.xy)), tmp)
    except OSError as error:
        raise InputError(f"{args.out}: cannot be written ({error.strerror or error}).") from error
    log.info("wrote %s (%d rows with x, y)", args.out, len(vectors))
    return 0
