"""The worst GUI event-loop stall while the real main window does heavy work, and the app's start time.

    python bench/responsiveness.py [--quick]

Each operation runs through the app's own panels and TaskRunner, offscreen, with a StallProbe ticking every
10 ms; the table gives the worst stall (a stall above 100 ms is a bug) and the wall time. The baseline column is
the 100 ms budget itself, so the ratio reads "fraction of the budget used". Start-up is measured in a fresh
process up to the window being shown, with the heavy modules that must not be imported by then.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
from _table import Row, emit  # noqa: E402

HEAVY = ("torch", "umap", "pymilvus", "google.genai", "sentence_transformers")
BUDGET_MS = 100.0
START_SCRIPT = """
import sys, time, json
start = time.perf_counter()
from PySide6.QtWidgets import QApplication
from PySide6.QtCore import QTimer
from workbench.core.cache import EmbeddingCache
from workbench.ui.main_window import MainWindow
from workbench.ui.state import AppState
from workbench.ui.tasks import TaskRunner
app = QApplication([])
window = MainWindow(AppState(), TaskRunner(), EmbeddingCache())
window.show()
app.processEvents()
shown = time.perf_counter() - start
print(json.dumps({"shown": shown, "heavy": [m for m in %r if m in sys.modules]}))
"""


def texts(n: int) -> list[str]:
    rng = np.random.default_rng(0)
    words = [
        "star",
        "planet",
        "bread",
        "oven",
        "bank",
        "rate",
        "goal",
        "match",
        "code",
        "thread",
        "river",
        "mountain",
        "music",
        "film",
        "law",
        "court",
    ]
    return [" ".join(rng.choice(words, size=12)) + f" #{i}" for i in range(n)]


def settle(runner, app, timeout_s: float = 900) -> None:
    """Spin the loop until no task has been running for 0.3 s."""
    deadline, quiet = time.monotonic() + timeout_s, None
    while time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.005)
        if runner.running():
            quiet = None
        elif quiet is None:
            quiet = time.monotonic()
        elif time.monotonic() - quiet > 0.3:
            return
    raise TimeoutError("tasks did not finish")


def measure(label: str, size: str, start, runner, app) -> Row:
    from workbench.ui.stall_probe import StallProbe

    probe = StallProbe().start()
    began = time.perf_counter()
    start()
    settle(runner, app)
    wall = time.perf_counter() - began
    worst = probe.stop()
    print(f"  {label}: worst stall {worst:.0f} ms, {wall:.1f} s")
    return Row(f"{label} (worst stall; {wall:.1f} s)", size, worst, "budget", BUDGET_MS, unit="ms")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the sizes")
    args = parser.parse_args()
    scale = 10 if args.quick else 1
    os.environ.setdefault("WORKBENCH_HOME", tempfile.mkdtemp(prefix="wb-bench-"))

    done = subprocess.run([sys.executable, "-c", START_SCRIPT % (HEAVY,)], capture_output=True, text=True, cwd=REPO)
    start_info = json.loads(done.stdout.strip().splitlines()[-1])
    rows = [Row("start to a shown window", "-", start_info["shown"], "budget 2 s", 2.0)]
    print(f"heavy modules imported at start: {start_info['heavy'] or 'none'}")

    from PySide6.QtWidgets import QApplication

    from workbench.core.cache import EmbeddingCache
    from workbench.core.embedders.base import EmbeddingSpec, l2_normalise
    from workbench.core.embedding import EmbeddingResult
    from workbench.core.items import Item
    from workbench.ui.main_window import MainWindow
    from workbench.ui.state import AppState
    from workbench.ui.tasks import TaskRunner

    app = QApplication([])
    state, runner = AppState(), TaskRunner()
    window = MainWindow(state, runner, EmbeddingCache())
    window.resize(1600, 1000)
    window.show()
    app.processEvents()

    n_embed = 5_000 // scale
    state.set_items("document", [Item.create(t) for t in texts(n_embed)])
    state.embedder()._loaded()  # model load is not what this row measures
    window.projection_view.method.setCurrentIndex(1)  # PCA only here: UMAP has its own row
    rows.append(measure("embed with the local model", str(n_embed), window.start_embedding, runner, app))

    n_points = 20_000 // scale
    items = [Item.create(f"point {i}") for i in range(n_points)]
    vectors = l2_normalise(np.random.default_rng(1).normal(size=(n_points, 384)))
    result = EmbeddingResult(items, vectors, EmbeddingSpec(provider="bench", model="random"), 384, 0, 0)
    window.projection_view.method.setCurrentIndex(0)
    window.similarity_view.mode.setCurrentIndex(2)  # selection mode: keep the matrix out of this row
    rows.append(measure("PCA + UMAP layout (random 384-d)", str(n_points), lambda: state.set_embedding(result),
                        runner, app))  # fmt: skip

    n_matrix = 5_000 // scale
    small = EmbeddingResult(items[:n_matrix], vectors[:n_matrix], result.spec, 384, 0, 0)
    window.projection_view.method.setCurrentIndex(1)
    window.similarity_view.mode.setCurrentIndex(0)
    window.docks["Similarity"].raise_()
    rows.append(measure("similarity matrix docs × docs", str(n_matrix), lambda: state.set_embedding(small),
                        runner, app))  # fmt: skip

    n_push = 20_000 // scale
    push_result = EmbeddingResult(items[:n_push], vectors[:n_push], result.spec, 384, 0, 0)
    window.similarity_view.mode.setCurrentIndex(2)
    state.set_embedding(push_result)
    settle(runner, app)
    panel = window.milvus_panel
    panel.uri.setText(str(Path(os.environ["WORKBENCH_HOME"]) / "bench.db"))
    window.docks["Milvus"].raise_()
    rows.append(measure("push to Milvus Lite", str(n_push), panel.push, runner, app))

    emit("GUI responsiveness (worst event-loop stall; budget 100 ms)", rows)
    window.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
