"""Where exact neighbours stop paying: our blocked exact kNN against umap-learn's own NN-descent, by n.

    python bench/knn_crossover.py [--quick] [--sizes 2000,10000,...]

UMAP's first step is each point's 15 nearest neighbours. `core.knn.top_k_neighbours` computes them exactly
(a blocked float32 matmul, then a partial sort per row); umap-learn computes them approximately with
pynndescent's NN-descent on every core (`umap.umap_.nearest_neighbors`, n_jobs=-1, what a fit without a seed
does). Whichever is faster at a given n and core count is what `core.projection.exact_knn_wins` should pick:
the rule there quotes this table. Both run in this process after an untimed warm-up, so numba's compilation
is not counted (the app warms it at start). Data: 384-d vectors around 20 planted centres.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _table import Row, emit
from projection import data

K = 15


def exact(vectors) -> float:
    from workbench.core.knn import top_k_neighbours

    start = time.perf_counter()
    top_k_neighbours(vectors, K, exclude_self=False)
    return time.perf_counter() - start


def nn_descent(vectors) -> float:
    from umap.umap_ import nearest_neighbors

    start = time.perf_counter()
    nearest_neighbors(vectors, K, "cosine", {}, False, None, low_memory=True, n_jobs=-1)
    return time.perf_counter() - start


FRESH = """
import sys, time
sys.path[:0] = {paths!r}
from projection import data
from workbench.core.projection import import_umap
import_umap()  # as the app imports it: numba keeps what it can of NN-descent's compilation on disk
from umap.umap_ import nearest_neighbors
vectors = data(5_000)
times = []
for _ in range(2):
    start = time.perf_counter()
    nearest_neighbors(vectors, 15, "cosine", {{}}, False, None, low_memory=True, n_jobs=-1)
    times.append(time.perf_counter() - start)
print(*times)
"""


def fresh_compile_seconds() -> float:
    """NN-descent's first call minus its second, in a new process: what every fresh process pays (the GUI's
    UMAP child, a CLI run) for the part of that compilation numba cannot keep on disk."""
    paths = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1])]
    done = subprocess.run([sys.executable, "-c", FRESH.format(paths=paths)], capture_output=True, text=True, check=True)
    first, second = map(float, done.stdout.split()[-2:])
    return first - second


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="2k, 5k and 10k points only")
    parser.add_argument("--sizes", help="comma-separated point counts")
    args = parser.parse_args()
    if args.sizes:
        sizes = [int(s) for s in args.sizes.split(",")]
    else:
        sizes = [2_000, 5_000, 10_000] if args.quick else [2_000, 5_000, 10_000, 20_000, 50_000]
    from workbench.core.projection import import_umap

    import_umap()  # numba's cache dir set (and what it can cache cached) before nearest_neighbors is compiled
    warm = data(5_000)  # 4 096+ points take NN-descent's other (compiled) path
    exact(warm), nn_descent(warm)
    rows = [
        Row("exact kNN (ours)", str(n), exact(v := data(n)), "umap NN-descent, all cores", nn_descent(v)) for n in sizes
    ]
    compile_s = fresh_compile_seconds()
    note = (
        f"NN-descent's first call in a fresh process compiles for {compile_s:.1f} s more (what numba cannot cache); "
        "every layout runs in a fresh process, so exact wins while its time < NN-descent's + that"
    )
    emit(f"Exact kNN vs NN-descent, warm (k={K}, 384-d, {os.cpu_count()} cores)", rows, note)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
