"""The worst GUI event-loop stall while the real main window does heavy work, and the app's start time.

    python bench/responsiveness.py [--quick] [--trace stalls.txt]

Each operation runs through the app's own panels and TaskRunner, offscreen, with a StallProbe ticking every
10 ms, until no task runs and every map is drawn; the table gives the worst stall (a stall above 100 ms is a
bug) and the wall time. The baseline column is the 100 ms budget itself, so the ratio reads "fraction of the
budget used", except for the maps of 100 000 and 1 000 000 points (8 groups in blobs, coloured by group, PCA
layout, drawn as a density image: ui/density_map.py), whose baseline is the plain pyqtgraph call (one
ScatterPlotItem.setData) on the same points. Start-up is measured in a fresh process up to the window being
shown, with the heavy modules that must not be imported by then. --trace writes every thread's stack at each
stall over 100 ms to a file: where the time went.
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


def settle(busy, app, timeout_s: float = 900) -> None:
    """Spin the loop until `busy()` (a task runs, a map is being drawn) has been false for 0.3 s."""
    deadline, quiet = time.monotonic() + timeout_s, None
    while time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.005)
        if busy():
            quiet = None
        elif quiet is None:
            quiet = time.monotonic()
        elif time.monotonic() - quiet > 0.3:
            return
    raise TimeoutError("tasks did not finish")


def measure(label: str, size: str, start, busy, app, trace=None) -> Row:
    from workbench.ui.stall_probe import StallProbe

    if trace is not None:
        trace.write(f"==== {label} ({size})\n")
    probe = StallProbe(trace_to=trace).start()
    began = time.perf_counter()
    start()
    settle(busy, app)
    wall = time.perf_counter() - began
    worst = probe.stop()
    print(f"  {label}: worst stall {worst:.0f} ms, {wall:.1f} s")
    return Row(f"{label} (worst stall; {wall:.1f} s)", size, worst, "budget", BUDGET_MS, unit="ms")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the sizes")
    parser.add_argument("--trace", type=Path, help="write every thread's stack at each stall over 100 ms here")
    parser.add_argument("--map-only", action="store_true", help="only the map rows (100 000 and 1 000 000 points)")
    args = parser.parse_args()
    scale = 10 if args.quick else 1
    os.environ.setdefault("WORKBENCH_HOME", tempfile.mkdtemp(prefix="wb-bench-"))
    trace = args.trace.open("w", encoding="utf-8") if args.trace else None

    rows = [] if args.map_only else [start_row()]

    from PySide6.QtWidgets import QApplication

    from workbench.core.cache import EmbeddingCache
    from workbench.ui.main_window import MainWindow
    from workbench.ui.scatter import ScatterView
    from workbench.ui.state import AppState
    from workbench.ui.tasks import TaskRunner

    app = QApplication([])
    state, runner = AppState(), TaskRunner()
    window = MainWindow(state, runner, EmbeddingCache())
    window.resize(1600, 1000)
    window.show()
    app.processEvents()
    maps = window.findChildren(ScatterView)

    def busy() -> bool:
        return bool(runner.running()) or any(scatter.is_drawing for scatter in maps)

    def row(label: str, size: int, start) -> Row:
        return measure(label, str(size), start, busy, app, trace)

    if not args.map_only:
        rows += window_rows(app, window, state, row, scale, settle_all=lambda: settle(busy, app))
    window.similarity_view.mode.setCurrentIndex(2)  # selection mode: no matrix in the map rows
    if not args.map_only:
        window.docks["Milvus"].raise_()  # neither the matrix nor the compare maps: these rows are the projection map
    window.projection_view.method.setCurrentIndex(1)  # PCA: UMAP has its own row
    import numpy.ma  # noqa: F401 - np.unique imports it on first use (~100 ms); a full run's earlier rows paid it

    for n_map in (100_000 // scale, 1_000_000 // scale):
        rows += map_rows(app, window, state, row, n_map)

    emit("GUI responsiveness (worst event-loop stall; budget 100 ms)", rows)
    window.close()
    from workbench.ui.panels.milvus_panel import MILVUS_PROCESS

    MILVUS_PROCESS.close()  # as the app does on exit
    if trace is not None:
        trace.close()
    return 0


def window_rows(app, window, state, row, scale: int, settle_all) -> list[Row]:
    """Embed, UMAP, the similarity matrix and Milvus, each through the real window's panels."""
    from workbench.core.embedders.base import EmbeddingSpec, l2_normalise
    from workbench.core.embedding import EmbeddingResult
    from workbench.core.items import Item

    rows: list[Row] = []
    n_embed = 5_000 // scale
    state.set_items("document", [Item.create(t) for t in texts(n_embed)])
    state.embedder()._loaded()  # model load is not what this row measures
    window.projection_view.method.setCurrentIndex(1)  # PCA only here: UMAP has its own row
    rows.append(row("embed with the local model", n_embed, window.start_embedding))

    n_points = 20_000 // scale
    items = [Item.create(f"point {i}") for i in range(n_points)]
    vectors = l2_normalise(np.random.default_rng(1).normal(size=(n_points, 384)))
    result = EmbeddingResult(items, vectors, EmbeddingSpec(provider="bench", model="random"), 384, 0, 0)
    window.projection_view.method.setCurrentIndex(0)
    window.similarity_view.mode.setCurrentIndex(2)  # selection mode: keep the matrix out of this row
    rows.append(row("PCA + UMAP layout (random 384-d)", n_points, lambda: state.set_embedding(result)))

    n_matrix = 5_000 // scale
    small = EmbeddingResult(items[:n_matrix], vectors[:n_matrix], result.spec, 384, 0, 0)
    window.projection_view.method.setCurrentIndex(1)
    window.similarity_view.mode.setCurrentIndex(0)
    window.docks["Similarity"].raise_()
    rows.append(row("similarity matrix docs × docs", n_matrix, lambda: state.set_embedding(small)))

    n_push = 20_000 // scale
    push_result = EmbeddingResult(items[:n_push], vectors[:n_push], result.spec, 384, 0, 0)
    window.similarity_view.mode.setCurrentIndex(2)
    state.set_embedding(push_result)
    settle_all()
    panel = window.milvus_panel
    panel.uri.setText(str(Path(os.environ["WORKBENCH_HOME"]) / "bench.db"))
    # The first look at the tab starts the Milvus process and lists the collections; then the person pushes.
    rows.append(row("open the Milvus tab (process start, listing)", 1, window.docks["Milvus"].raise_))
    rows.append(row("push to Milvus Lite", n_push, panel.push))

    return rows


def map_rows(app, window, state, row, n_map: int) -> list[Row]:
    """A map of n_map points in 8 blobs, coloured by blob, through the real window; then the map widget alone.

    The first row is what a person meets: set_embedding with a layout (PCA, on a worker), the encoding, every
    panel that follows the new vectors, and the map. The others time the map widget alone on the same points
    (set_points with the encoding already made, then zooming in to points and back out to density), so the
    table tells the map's own stall from the rest of the window's. The baseline of each is one plain pyqtgraph
    ScatterPlotItem.setData of the same points (what the map did before it drew density). Two more rows against
    the budget: a workspace reopened with its layout (the encoding is then asked for by the map and made on a
    worker), a new colour-by over every point, and File ▸ Open of the saved workspace (corpus, vectors, layout).
    """
    from workbench.core.embedders.base import EmbeddingSpec, l2_normalise
    from workbench.core.embedding import EmbeddingResult
    from workbench.core.items import Item

    rng = np.random.default_rng(2)
    groups = rng.integers(0, 8, size=n_map)
    many = [Item(f"m{i}", f"map point {i}", "document", {"group": f"g{g}"}) for i, g in enumerate(groups.tolist())]
    centres = rng.normal(scale=3.0, size=(8, 32))
    many_vectors = l2_normalise((centres[groups] + rng.normal(size=(n_map, 32))).astype(np.float32))
    spec = EmbeddingSpec(provider="bench", model="random")
    big = EmbeddingResult(many, many_vectors, spec, 32, 0, 0).warm()  # as the pipeline makes it: off the GUI
    state.set_view(colour_by="meta:group")
    opened = row("map: window opens a PCA layout", n_map, lambda: state.set_embedding(big))
    plain = plain_scatter_stall(app, state.projection, n_map)  # the same points
    baseline = "one pyqtgraph setData call"
    rows = [Row(opened.operation, opened.size, opened.ours, baseline, plain, unit="ms")]
    scatter = window.projection_view.scatter
    xy, encoding = state.projection, state.encoding()  # made on the worker with the layout
    alone = row(
        "map widget alone: set_points",
        n_map,
        lambda: scatter.set_points(xy, big.ids, big.texts, encoding, row_of=state.row_of),
    )
    rows.append(Row(alone.operation, alone.size, alone.ours, baseline, plain, unit="ms"))
    layout, note = state.projection.copy(), "a reopened workspace"
    state.set_embedding(None)
    reopen = lambda: state.set_embedding(big, layout, note)  # noqa: E731
    reopened = row("map: window opens a workspace (layout given)", n_map, reopen)
    recoloured = row("map: colour by kind instead of group", n_map, lambda: state.set_view(colour_by="kind"))
    back = row("map: colour by group again (kept)", n_map, lambda: state.set_view(colour_by="meta:group"))
    rows += [reopened, recoloured, back]
    state.set_items("document", many)  # a workspace holds the corpus as well: the Documents panel shows it
    saved = Path(os.environ["WORKBENCH_HOME"]) / f"map-{n_map}.workbench"
    row("(saving the workspace)", n_map, lambda: window.file_actions.save_to(saved))
    state.set_items("document", [])
    state.set_embedding(None)
    rows.append(row("map: File ▸ Open of that workspace", n_map, lambda: window.file_actions.open(saved)))
    x, y = xy[0].tolist()  # a point of the map, so the zoomed view holds some
    span = (np.ptp(xy, axis=0) / 40).tolist()  # 1/40 of the map across: a few thousand points, drawn as points
    zoom_in = lambda: scatter.viewbox.setRange(xRange=(x - span[0], x + span[0]), yRange=(y - span[1], y + span[1]))  # noqa: E731
    for label, change in (("zoom in", zoom_in), ("zoom out", scatter.fit_view)):
        zoomed = row(f"map widget: {label}", n_map, change)
        shown = "density" if scatter.density.is_image("base") else f"{scatter.point_count()} pts"
        zoomed.operation = zoomed.operation.replace(label, f"{label} ({shown})")
        rows.append(zoomed)
    state.set_embedding(None)
    return rows


def start_row() -> Row:
    """Start-up, in a fresh process, up to the window being shown."""
    done = subprocess.run([sys.executable, "-c", START_SCRIPT % (HEAVY,)], capture_output=True, text=True, cwd=REPO)
    start_info = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"heavy modules imported at start: {start_info['heavy'] or 'none'}")
    return Row("start to a shown window", "-", start_info["shown"], "budget 2 s", 2.0)


def plain_scatter_stall(app, xy: np.ndarray, n: int) -> float:
    """The baseline for the map row: the same points, coloured in 8 groups, set in one pyqtgraph call."""
    import pyqtgraph as pg

    from workbench.ui.stall_probe import StallProbe

    widget = pg.PlotWidget()
    widget.resize(1000, 800)
    widget.show()
    item = pg.ScatterPlotItem(pxMode=True, size=9, pen=None)
    widget.addItem(item)
    brushes = [pg.mkBrush(pg.intColor(i, 8)) for i in range(8)]
    app.processEvents()
    probe = StallProbe().start()
    item.setData(pos=xy, brush=[brushes[i % 8] for i in range(n)])
    for _ in range(30):
        app.processEvents()
        time.sleep(0.005)
    worst = probe.stop()
    widget.close()
    print(f"  baseline, one pyqtgraph setData: worst stall {worst:.0f} ms")
    return worst


if __name__ == "__main__":
    raise SystemExit(main())
