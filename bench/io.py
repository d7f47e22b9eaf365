"""Datasets in and out: our importers, exports and workspace files against the plain library calls they wrap.

    python bench/io.py [--quick] [--dim 384]

Import: a CSV / JSONL / Parquet file of n rows (text + 2 metadata columns) read into items by `read_items` (sniffing,
validation, content-hash ids, progress and cancel checks) against the bare parse (`pandas.read_csv`, `json.loads`
per line, `pyarrow.parquet.read_table().to_pylist()`), which builds no items at all. Export: n × dim vectors with
ids, texts and metadata against the bare writer of the same bytes (`pq.write_table`, `np.savetxt`, `np.save`).
Workspace: save and open against `np.save` + `np.load` of the vectors alone (the floor for any format).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pyarrow.parquet as pq
from _table import Row, best_seconds, record

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from workbench.core.embedders.base import EmbeddingSpec, l2_normalise
from workbench.core.embedding import EmbeddingResult
from workbench.core.exchange import to_arrow
from workbench.core.exports import export_vectors
from workbench.core.importers import read_items
from workbench.core.items import Item
from workbench.core.session import Workspace, load_workspace, save_workspace


def write_inputs(folder: Path, n: int) -> dict[str, Path]:
    rows = [
        {"text": f'Document {i}, about "topic {i % 7}"; with some words to read.', "topic": f"t{i % 7}", "n": str(i)}
        for i in range(n)
    ]
    paths = {"csv": folder / "in.csv", "jsonl": folder / "in.jsonl", "parquet": folder / "in.parquet"}
    with open(paths["csv"], "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["text", "topic", "n"])
        writer.writeheader()
        writer.writerows(rows)
    with open(paths["jsonl"], "w", encoding="utf-8") as handle:
        handle.writelines(json.dumps(r) + "\n" for r in rows)
    pq.write_table(pa.Table.from_pylist(rows), paths["parquet"])
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="20 000 rows instead of 200 000")
    parser.add_argument("--dim", type=int, default=384)
    args = parser.parse_args()
    n = 20_000 if args.quick else 200_000
    repeat = 3 if args.quick else 1
    rows: list[tuple[str, str, float, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        paths = write_inputs(folder, n)
        try:
            import pandas as pd

            csv_baseline = ("pandas.read_csv", lambda: pd.read_csv(paths["csv"]))
        except ImportError:  # pandas is not a dependency; fall back to the csv module
            csv_baseline = (
                "csv.DictReader",
                lambda: list(csv.DictReader(paths["csv"].read_text("utf-8").splitlines())),
            )
        rows.append(
            (
                "import .csv",
                csv_baseline[0],
                best_seconds(lambda: read_items(paths["csv"]), repeat),
                best_seconds(csv_baseline[1], repeat),
            )
        )
        rows.append(
            (
                "import .jsonl",
                "json.loads per line",
                best_seconds(lambda: read_items(paths["jsonl"]), repeat),
                best_seconds(lambda: [json.loads(x) for x in paths["jsonl"].read_text("utf-8").splitlines()], repeat),
            )
        )
        rows.append(
            (
                "import .parquet",
                "read_table().to_pylist()",
                best_seconds(lambda: read_items(paths["parquet"]), repeat),
                best_seconds(lambda: pq.read_table(paths["parquet"]).to_pylist(), repeat),
            )
        )

        items = [Item.create(f"document {i}", metadata={"topic": f"t{i % 7}"}) for i in range(n)]
        vectors = l2_normalise(np.random.default_rng(0).normal(size=(n, args.dim)))
        spec = EmbeddingSpec()
        out = folder / "out"
        rows.append(
            (
                "export .parquet",
                "pq.write_table",
                best_seconds(lambda: export_vectors(out.with_suffix(".parquet"), items, vectors, spec), repeat),
                best_seconds(lambda: pq.write_table(to_arrow(items, vectors, spec), folder / "b.parquet"), repeat),
            )
        )
        rows.append(
            (
                "export .csv",
                "np.savetxt (vectors only)",
                best_seconds(lambda: export_vectors(out.with_suffix(".csv"), items, vectors, spec), repeat),
                best_seconds(lambda: np.savetxt(folder / "b.csv", vectors, fmt="%.9g", delimiter=","), repeat),
            )
        )
        rows.append(
            (
                "export .npy + .jsonl",
                "np.save (vectors only)",
                best_seconds(lambda: export_vectors(out.with_suffix(".npy"), items, vectors, spec), repeat),
                best_seconds(lambda: np.save(folder / "b.npy", vectors), repeat),
            )
        )
        result = EmbeddingResult(items, vectors, spec, args.dim, n, 0)
        workspace = Workspace(items=items, spec=spec, embedding=result, projection=vectors[:, :2].copy())
        path = folder / "w.workbench"

        def save_and_load_floor() -> None:
            buffer = io.BytesIO()
            np.save(buffer, vectors)
            buffer.seek(0)
            np.load(buffer)

        rows.append(
            (
                "workspace save",
                "np.save (vectors only)",
                best_seconds(lambda: save_workspace(path, workspace), repeat),
                best_seconds(lambda: np.save(folder / "w.npy", vectors), repeat),
            )
        )
        rows.append(
            (
                "workspace open",
                "np.load (vectors only)",
                best_seconds(lambda: load_workspace(path), repeat),
                best_seconds(lambda: np.load(folder / "w.npy"), repeat),
            )
        )
    print(f"{n} rows, {args.dim}-d vectors, best of {repeat}")
    print(f"{'operation':<22}{'ours (s)':>10}  {'baseline':<28}{'base (s)':>10}{'ours/base':>11}")
    for name, baseline, ours, base in rows:
        print(f"{name:<22}{ours:>10.3f}  {baseline:<28}{base:>10.3f}{ours / base:>10.1f}x")
    record([Row(name, str(n), ours, baseline, base) for name, baseline, ours, base in rows])


if __name__ == "__main__":
    main()
