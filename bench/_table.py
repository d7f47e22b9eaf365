"""Shared by the bench scripts: print a table of ours vs baseline with ratios, and hand the rows to bench/run.

bench/run sets BENCH_JSON to a file; each script appends its rows there as JSON lines, so one combined table
can be printed at the end. Run alone, a script just prints its own table.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass


@dataclass
class Row:
    operation: str
    size: str
    ours: float
    baseline_name: str
    baseline: float
    unit: str = "s"

    @property
    def ratio(self) -> float:
        return self.ours / self.baseline if self.baseline else float("nan")


def best_seconds(fn: Callable[[], object], repeat: int) -> float:
    """Best of `repeat` wall-clock runs of `fn`, in seconds (the least disturbed run is the fairest comparison)."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def emit(title: str, rows: Sequence[Row], note: str = "") -> None:
    """Print the table; append the rows to $BENCH_JSON when bench/run asked for them."""
    print(f"\n{title}")
    if note:
        print(note)
    print(f"{'operation':<34}{'size':>10}{'ours':>11}  {'baseline':<34}{'base':>10}{'ours/base':>10}")
    for row in rows:
        print(
            f"{row.operation:<34}{row.size:>10}{row.ours:>10.3f}{row.unit[:1]}  {row.baseline_name:<34}"
            f"{row.baseline:>9.3f}{row.unit[:1]}{row.ratio:>10.2f}"
        )
    record(rows)


def record(rows: Sequence[Row]) -> None:
    """Append rows to $BENCH_JSON (for scripts that print their own table)."""
    target = os.environ.get("BENCH_JSON")
    if target:
        with open(target, "a", encoding="utf-8") as handle:
            for row in rows:
                handle.write(json.dumps({**asdict(row), "ratio": row.ratio}) + "\n")
