"""Time to the first layout and to the final UMAP, each in a fresh process, against plain umap-learn.

    python bench/projection.py [--quick]

Ours: `core.projection` in a new Python process — PCA (what the view shows at once), then UMAP from our exact
kNN with numba's cache in the user cache dir. Baseline: `umap.UMAP(metric="cosine").fit_transform` in a new
process. Both clocks start before `import umap`, after numpy and the data exist, so import and compile costs
count, as a user feels them. Both numba caches are warmed by an untimed run first (a user's second start).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _table import Row, emit

REPO = Path(__file__).resolve().parents[1]


def data(n: int, dim: int = 384):
    import numpy as np

    rng = np.random.default_rng(0)
    centres = rng.normal(size=(20, dim)) * 3
    vectors = centres[rng.integers(0, 20, n)] + rng.normal(size=(n, dim))
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


def worker(kind: str, n: int) -> None:
    vectors = data(n)
    start = time.perf_counter()
    result = {}
    if kind == "ours":
        sys.path.insert(0, str(REPO))
        from workbench.core.projection import pca_2d, project_2d

        pca_2d(vectors)
        result["first"] = time.perf_counter() - start
        project_2d(vectors, method="umap", seed=None)
    else:
        import umap

        umap.UMAP(metric="cosine").fit_transform(vectors)
    result["final"] = time.perf_counter() - start
    print(json.dumps(result))


def run(kind: str, n: int) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, __file__, "--worker", kind, str(n)], capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="1k and 5k points only")
    parser.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker[0], int(args.worker[1]))
        return 0
    sizes = [1_000, 5_000] if args.quick else [1_000, 5_000, 20_000, 100_000]
    # One untimed run of each first, so both sides find their numba caches warm (ours in the user cache dir,
    # umap-learn's beside its sources), as on any start after the first on a user's machine.
    run("ours", 1_000), run("baseline", 1_000)
    rows = []
    for n in sizes:
        ours, base = run("ours", n), run("baseline", n)
        rows.append(Row("first layout (PCA), fresh process", str(n), ours["first"], "plain UMAP final", base["final"]))
        rows.append(Row("final UMAP, fresh process", str(n), ours["final"], "plain UMAP final", base["final"]))
    emit("Projection (384-d, 20 planted clusters)", rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
