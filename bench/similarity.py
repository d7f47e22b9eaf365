"""Cosine-matrix time against the machine's own float32 matmul throughput (the physical limit).

    python bench/similarity.py [--quick]

For n items at d dims, `core.similarity.cosine_matrix` (blocked, with progress and cancel checks) is timed
against one bare `a @ a.T` of the same arrays in the same process; the bare product is what the hardware can
do, so the ratio says what our blocking and bookkeeping cost. GFLOP/s = 2·n²·d / time.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _table import Row, best_seconds, emit

from workbench.core.embedders.base import l2_normalise
from workbench.core.similarity import block_means, contiguous_groups, cosine_matrix


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="1k and 5k items at 768 dims only")
    args = parser.parse_args()
    sizes = (
        [(1_000, 768), (5_000, 768)] if args.quick else [(n, d) for d in (768, 3072) for n in (1_000, 5_000, 10_000)]
    )
    rows = []
    for n, dim in sizes:
        vectors = l2_normalise(np.random.default_rng(0).normal(size=(n, dim)))
        repeat = 3 if n <= 5_000 else 1
        ours = best_seconds(lambda v=vectors: cosine_matrix(v), repeat)
        bare = best_seconds(lambda v=vectors: v @ v.T, repeat)
        gflops = 2 * n * n * dim / bare / 1e9
        rows.append(Row(f"cosine matrix ({gflops:.0f} GFLOP/s bare)", f"{n}x{dim}", ours, "numpy a @ a.T", bare))
    big = l2_normalise(np.random.default_rng(1).normal(size=(30_000, 384)))
    groups = contiguous_groups(len(big), 60)
    ours = best_seconds(lambda: block_means(big, groups), 1)
    sample = big[:5_000]
    bare = best_seconds(lambda: sample @ sample.T, 1) * (30_000 / 5_000) ** 2  # extrapolated: the full one is 3.6 GB
    rows.append(Row("block means (no n×n matrix)", "30000x384", ours, "full matmul, extrapolated", bare))
    emit("Similarity matrices", rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
