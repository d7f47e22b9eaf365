"""Screenshots of a map of a million points in the real window at 1366 × 768: zoomed out (density), zoomed in (points).

Usage: python scripts/million_map.py [docs/screenshots] [--points N]
The items, their layout and stand-in vectors are made directly (bench/_map_data.py: Gaussian blobs, one topic per
blob, a few queries), as a workspace brings a layout with its vectors; the map is coloured by topic. Runs on Qt's
offscreen platform with the laptop screen (tests/screens/1366x768.json); prints the worst GUI stall while the
map opened and while it zoomed in (StallProbe). Saves map-million-density-1366x768.png and
map-million-points-1366x768.png.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SCREEN = REPO / "tests" / "screens" / "1366x768.json"
os.environ.setdefault("QT_QPA_PLATFORM", f"offscreen:configfile={SCREEN}")
os.environ.setdefault("WORKBENCH_HOME", tempfile.mkdtemp(prefix="wb-million-"))
sys.path[:0] = [str(REPO), str(REPO / "bench"), str(REPO / "scripts")]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", nargs="?", type=Path, default=REPO / "docs" / "screenshots")
    parser.add_argument("--points", type=int, default=1_000_000)
    args = parser.parse_args()
    from _map_data import blob_map
    from PySide6.QtWidgets import QApplication
    from screenshot import new_window

    from workbench.core.embedding import EmbeddingResult
    from workbench.ui.stall_probe import StallProbe

    app = QApplication(sys.argv)
    window = new_window()
    window.showMaximized()
    window.state.set_view(layout_method="pca", colour_by="meta:topic")
    window.similarity_view.mode.setCurrentIndex(2)  # the map is the subject: no matrix of a million rows
    scatter = window.projection_view.scatter

    def settle() -> None:
        quiet = None
        while True:
            app.processEvents()
            time.sleep(0.005)
            if window.runner.running() or scatter.is_drawing:
                quiet = None
            elif quiet is None:
                quiet = time.monotonic()
            elif time.monotonic() - quiet > 0.5:
                return

    settle()
    items, xy, vectors = blob_map(args.points)
    # stand-in vectors under the chosen model's name, so the views do not call them stale
    result = EmbeddingResult(items, vectors, window.state.spec, 8, 0, 0).warm()
    window.state.set_items("document", [item for item in items if item.kind == "document"])
    window.state.set_items("query", [item for item in items if item.kind == "query"])
    settle()
    probe = StallProbe().start()
    window.state.set_embedding(result, projection=xy, projection_note=f"{args.points:,} points in Gaussian blobs")
    settle()
    print(f"opened: worst GUI stall {probe.stop():.0f} ms; density image: {scatter.density.is_image('base')}")
    args.out.mkdir(parents=True, exist_ok=True)
    window.grab().save(str(args.out / "map-million-density-1366x768.png"))

    x, y = xy[xy[:, 0].argsort()[len(xy) // 2]]  # somewhere in the middle of the crowd
    probe = StallProbe().start()
    scatter.viewbox.setRange(xRange=(float(x) - 0.15, float(x) + 0.15), yRange=(float(y) - 0.1, float(y) + 0.1))
    settle()
    shown = scatter.point_count()
    print(f"zoomed in: worst GUI stall {probe.stop():.0f} ms; {shown} points drawn as points")
    window.grab().save(str(args.out / "map-million-points-1366x768.png"))
    window.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
