"""A big map is a density image zoomed out and points zoomed in; hover, lasso, search and selection stay exact."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import QPointF
from PySide6.QtGui import QGuiApplication

from tests.ui.mouse import move_mouse
from workbench.core.encoding import (
    DOCUMENT_SYMBOL,
    LAYER_NORMAL,
    PALETTE,
    QUERY_SYMBOL,
    CategoryColours,
    Encoding,
    LegendEntry,
    encode,
)
from workbench.core.items import Item
from workbench.core.point_index import nearest_row
from workbench.ui.density_map import POINT_LIMIT
from workbench.ui.scatter import DIM_OPACITY, HOVER_RADIUS_PX, ScatterView
from workbench.ui.stall_probe import StallProbe

N, QUERIES = 120_000, 5


def _blobs(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(xy float32, topic per row): six Gaussian blobs of different sizes, the last QUERIES rows are queries."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(-8, 8, size=(6, 2))
    topic = rng.integers(0, 6, size=n)
    xy = centres[topic] + rng.normal(size=(n, 2)) * rng.uniform(0.5, 1.5, size=6)[topic, None]
    return xy.astype(np.float32), topic


@pytest.fixture(scope="module")
def data() -> dict:
    xy, topic = _blobs(N)
    kinds = np.array(["document"] * (N - QUERIES) + ["query"] * QUERIES)
    rows = enumerate(zip(kinds.tolist(), topic.tolist(), strict=True))
    items = [Item(f"r{row}", f"text {row}", kind, {"topic": f"t{t}"}) for row, (kind, t) in rows]
    encoding = encode(items, kinds, "meta:topic", CategoryColours())
    return {"xy": xy, "ids": [i.id for i in items], "texts": [i.text for i in items], "encoding": encoding}


@pytest.fixture
def scatter(qtbot, data):
    view = ScatterView()
    view.resize(900, 600)
    qtbot.addWidget(view)
    view.show()
    qtbot.waitExposed(view)
    view.set_points(**data)
    qtbot.waitUntil(lambda: not view.is_drawing, timeout=60_000)
    return view


def _settle(view: ScatterView, qtbot) -> None:
    qtbot.waitUntil(lambda: not view.is_drawing, timeout=60_000)


def _zoom(view: ScatterView, qtbot, x0: float, x1: float, y0: float, y1: float) -> None:
    view.viewbox.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0)
    qtbot.wait(1)  # the range change is followed once it settles
    qtbot.waitUntil(lambda: not view.density._settle.isActive(), timeout=5_000)
    _settle(view, qtbot)


def _zoom_in_window(data: dict) -> tuple[float, float, float, float]:
    """A view at the centre of the biggest blob: thousands of points, fewer than POINT_LIMIT (points mode)."""
    biggest = data["encoding"].categories == 0
    x0, y0 = data["xy"][biggest].mean(axis=0)
    return float(x0 - 0.6), float(x0 + 0.6), float(y0 - 0.4), float(y0 + 0.4)


def _histogram(xy: np.ndarray, image) -> np.ndarray:
    extent, (height, width) = image.extent, image.counts.shape
    counts, _, _ = np.histogram2d(
        xy[:, 0], xy[:, 1], bins=[width, height], range=[[extent.x0, extent.x1], [extent.y0, extent.y1]]
    )
    return counts.T.astype(np.int64)


def test_zoomed_out_a_density_image_replaces_the_sprites_and_counts_what_numpy_counts(scatter, data) -> None:
    density = scatter.density
    image = density.showing_image("base")
    assert density.is_image("base") and image is not None
    documents = data["xy"][: N - QUERIES]
    np.testing.assert_array_equal(image.counts, _histogram(documents, image))  # every document, once
    assert image.counts.sum() == N - QUERIES
    assert image.counts.shape == (round(scatter.viewbox.height()), round(scatter.viewbox.width()))
    assert scatter.point_count() == QUERIES  # the queries stay stars, drawn over the image
    assert min(item.zValue() for item in scatter.base.items) > density.images["base"].zValue()
    dominant_colour = image.rgba[image.counts > 0][:, :3]
    palette = {tuple(int(c[i : i + 2], 16) for i in (1, 3, 5)) for c in data["encoding"].colours}
    assert {tuple(c) for c in dominant_colour.tolist()} <= palette  # each pixel in one of the encoding's colours


def test_zooming_in_swaps_the_image_for_the_points_in_view_and_zooming_out_swaps_back(scatter, qtbot, data) -> None:
    xy = data["xy"]
    _zoom(scatter, qtbot, *_zoom_in_window(data))
    density = scatter.density
    assert not density.is_image("base") and not density.images["base"].isVisible()
    region = density.shown["base"].region
    inside = (xy[:, 0] >= region.x0) & (xy[:, 0] <= region.x1) & (xy[:, 1] >= region.y0) & (xy[:, 1] <= region.y1)
    assert 0 < scatter.point_count() == inside.sum() <= POINT_LIMIT
    drawn = np.sort(np.concatenate([np.stack([i.data["x"], i.data["y"]], 1) for i in scatter.base.items]), 0)
    np.testing.assert_allclose(drawn, np.sort(xy[inside], 0))
    # a small pan stays inside the drawn margin: nothing is redrawn
    items_before = list(scatter.base.items)
    scatter.viewbox.translateBy(x=0.1)
    qtbot.waitUntil(lambda: not scatter.density._settle.isActive(), timeout=5_000)
    assert scatter.base.items == items_before
    scatter.fit_view()
    qtbot.waitUntil(lambda: density.images["base"].isVisible() and not scatter.is_drawing, timeout=60_000)
    assert density.is_image("base") and scatter.point_count() == QUERIES


def _isolated_rows(xy: np.ndarray, radius: float, count: int) -> np.ndarray:
    """Rows with no other point within `radius`: an unambiguous target for the cursor at any zoom."""
    order = np.argsort(np.hypot(*(xy - xy.mean(axis=0)).T))[::-1][:400]  # the outskirts
    lonely = [r for r in order if np.sort(np.hypot(*(xy - xy[r]).T))[1] > radius]
    return np.array(lonely[:count])


def _hover(view: ScatterView, qtbot, x: float, y: float) -> str:
    scene = view.viewbox.mapViewToScene(QPointF(x, y))
    move_mouse(view.plot.viewport(), view.plot.mapFromScene(scene))
    qtbot.waitUntil(lambda: not view._hover_timer.isActive(), timeout=2_000)
    return "" if view.hovered_row is None else view.ids[view.hovered_row]


def test_hover_and_lasso_pick_the_same_items_in_the_density_view_and_the_point_view(scatter, qtbot, data) -> None:
    xy, ids = data["xy"], data["ids"]
    assert scatter.density.index is not None  # built on a worker while the map was drawn
    targets = _isolated_rows(xy, 2 * max(scatter.viewbox.viewPixelSize()), 3)  # 2 px apart at the zoomed-out view
    assert len(targets) == 3
    window = _zoom_in_window(data)
    cx, cy = (window[0] + window[1]) / 2, (window[2] + window[3]) / 2
    triangle = np.array([[cx - 0.4, cy - 0.3], [cx + 0.45, cy - 0.2], [cx - 0.1, cy + 0.35]])
    edges = [(triangle[k], triangle[(k + 1) % 3]) for k in range(3)]  # a convex lasso: inside = left of every edge
    left = [(b[0] - a[0]) * (xy[:, 1] - a[1]) - (b[1] - a[1]) * (xy[:, 0] - a[0]) > 0 for a, b in edges]
    inside = sorted(ids[r] for r in np.flatnonzero(np.logical_and.reduce(left)))
    assert len(inside) > 100

    picked = {}
    for zoom in ("out", "in"):
        hovered = []
        for row in targets:
            x, y = float(xy[row, 0]), float(xy[row, 1])
            if zoom == "in":  # the point view of each target: zoomed in around it
                _zoom(scatter, qtbot, x - 0.5, x + 0.5, y - 0.35, y + 0.35)
            assert scatter.density.is_image("base") is (zoom == "out")
            hovered.append(_hover(scatter, qtbot, x, y))
        if zoom == "in":
            _zoom(scatter, qtbot, *window)
        assert scatter.density.is_image("base") is (zoom == "out")
        # in a dense part of the map the cursor finds the nearest item (not a pixel's colour), at any zoom
        at = scatter.plot.mapFromScene(scatter.viewbox.mapViewToScene(QPointF(cx, cy)))
        dense = _hover(scatter, qtbot, cx, cy)
        cursor = scatter.viewbox.mapSceneToView(scatter.plot.mapToScene(at))
        radius = HOVER_RADIUS_PX * max(scatter.viewbox.viewPixelSize())
        assert dense and dense == ids[nearest_row(xy, cursor.x(), cursor.y(), radius)]
        with qtbot.waitSignal(scatter.selection_made) as selection:
            scatter.select_polygon(triangle)
        picked[zoom] = (hovered, sorted(selection.args[0]))
    assert picked["out"][0] == picked["in"][0] == [ids[r] for r in targets]
    assert picked["out"][1] == picked["in"][1] == inside


def test_search_and_selection_over_a_density_map(scatter, qtbot, data) -> None:
    xy = data["xy"]
    many = np.arange(0, N - QUERIES, 3)
    scatter.highlight(many)
    _settle(scatter, qtbot)
    density = scatter.density
    matches = density.showing_image("matches")
    assert matches is not None and scatter.matches.point_count() == 0
    np.testing.assert_array_equal(matches.counts, _histogram(xy[many], matches))
    assert density.images["base"].opacity() == pytest.approx(DIM_OPACITY)
    few = np.arange(0, N - QUERIES, N // 40)
    scatter.highlight(few)
    _settle(scatter, qtbot)
    assert density.showing_image("matches") is None and scatter.matches.point_count() == len(few)
    scatter.highlight(None)
    assert density.images["base"].opacity() == 1.0
    scatter.set_selected(data["ids"][:7])
    _settle(scatter, qtbot)
    np.testing.assert_allclose(np.sort(scatter.selected_positions(), 0), np.sort(xy[:7], 0))
    everything_but_queries = data["ids"][: N - QUERIES]
    scatter.set_selected(everything_but_queries)
    _settle(scatter, qtbot)
    rings = density.showing_image("rings")
    assert rings is not None and rings.counts.sum() == N - QUERIES  # a selection too big for rings: its density


def _million_encoding(topic: np.ndarray, queries: np.ndarray) -> Encoding:
    """The encoding of a million rows made directly (encode() would need a million Item objects first)."""
    names = [f"topic {t}" for t in range(int(topic.max()) + 1)]
    legend = [LegendEntry(name, PALETTE[k], DOCUMENT_SYMBOL) for k, name in enumerate(names)]
    symbols = np.where(queries, QUERY_SYMBOL, DOCUMENT_SYMBOL)
    return Encoding(topic, names, list(PALETTE[: len(names)]), [LAYER_NORMAL] * len(names), symbols, legend)


def test_a_million_point_map_opens_without_drawing_a_million_sprites(qtbot, record_property) -> None:
    n = 1_000_000
    xy, topic = _blobs(n, seed=7)
    queries = np.zeros(n, dtype=bool)
    queries[-3:] = True
    ids = [f"m{row}" for row in range(n)]
    view = ScatterView()
    view.resize(1200, 700)
    qtbot.addWidget(view)
    view.show()
    qtbot.waitExposed(view)
    probe = StallProbe().start()
    view.set_points(xy, ids, ids, _million_encoding(topic, queries))
    assert view.density.busy and view.density.showing_image("base") is None  # the image is made off this thread
    with qtbot.waitSignal(view.drawn, timeout=120_000):
        pass
    worst = probe.stop()
    record_property("million_point_map_worst_stall_ms", round(worst))
    print(f"\n1 000 000-point map: worst GUI stall {worst:.0f} ms over {probe.ticks} ticks")
    assert probe.ticks > 0  # the event loop kept turning while the image and the index were made
    image = view.density.showing_image("base")
    assert image is not None and image.counts.sum() == n - 3 and view.point_count() == 3
    x, y = float(xy[123_456, 0]), float(xy[123_456, 1])
    scene = view.viewbox.mapViewToScene(pg.Point(x, y))
    assert view.row_at_scene_pos(scene) == 123_456 or np.hypot(*(xy[view.row_at_scene_pos(scene)] - (x, y))) == 0


def test_maps_paint_in_software_unless_opengl_is_asked_for_and_there(qapp, monkeypatch) -> None:
    from workbench.ui.opengl import opengl_renderer, use_opengl

    use_opengl.cache_clear()
    monkeypatch.delenv("WORKBENCH_OPENGL", raising=False)
    assert not use_opengl()
    use_opengl.cache_clear()
    monkeypatch.setenv("WORKBENCH_OPENGL", "1")
    renderer = opengl_renderer()
    if QGuiApplication.platformName() == "offscreen":
        assert renderer is None  # the offscreen platform has no OpenGL: software
    assert use_opengl() == (renderer is not None)  # asked for: OpenGL where a context can be made (Xvfb: llvmpipe)
    use_opengl.cache_clear()
    monkeypatch.delenv("WORKBENCH_OPENGL")
    view = ScatterView()
    assert view.plot.viewport().metaObject().className() == "QWidget"  # not asked for: the raster viewport
    use_opengl.cache_clear()
