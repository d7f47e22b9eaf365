"""ScatterView draws big point sets a slice at a time, swaps layers whole, and leaves nothing behind in the scene."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest

from workbench.core.encoding import CategoryColours, encode
from workbench.core.items import Item
from workbench.ui.point_layer import CHUNK_POINTS
from workbench.ui.scatter import DIM_OPACITY, ScatterView


@pytest.fixture
def scatter(qtbot):
    view = ScatterView()
    view.resize(800, 600)
    qtbot.addWidget(view)
    view.show()
    return view


def _points(n: int, seed: int = 0, groups: int = 3) -> dict:
    rng = np.random.default_rng(seed)
    ids = [f"p{seed}-{i}" for i in range(n)]
    kinds = np.where(np.arange(n) % 10 == 0, "query", "document")
    items = [
        Item(i, i, str(kind), {"group": f"group {k % groups}"})
        for k, (i, kind) in enumerate(zip(ids, kinds, strict=True))
    ]
    return {
        "xy": rng.normal(size=(n, 2)).astype(np.float32),
        "ids": ids,
        "texts": ids,
        "encoding": encode(items, kinds, "meta:group", CategoryColours()),
    }


def _items_in_scene(view: ScatterView) -> list[pg.ScatterPlotItem]:
    legend = {id(sample) for sample, _ in view.legend.items}
    return [
        item
        for item in view.plot.getPlotItem().items
        if isinstance(item, pg.ScatterPlotItem) and item is not view.hover_mark and id(item) not in legend
    ]


def test_a_big_set_arrives_over_several_turns_and_then_is_all_there(scatter, qtbot) -> None:
    n = 12 * CHUNK_POINTS
    scatter.set_points(**_points(n))
    assert scatter.is_drawing and scatter.point_count() == 0  # set_points returned before drawing it all
    with qtbot.waitSignal(scatter.drawn, timeout=30_000):
        pass
    assert not scatter.is_drawing and scatter.point_count() == n
    assert len(_items_in_scene(scatter)) == 6  # one item per (colour, shape): 3 groups × 2 shapes


def test_a_new_set_replaces_one_still_being_built_without_leaving_items_behind(scatter, qtbot) -> None:
    scatter.set_points(**_points(8 * CHUNK_POINTS, seed=1))
    qtbot.waitSignal(scatter.drawn, timeout=30_000).wait()
    scatter.set_points(**_points(10 * CHUNK_POINTS, seed=2))  # starts building
    assert scatter.point_count() == 8 * CHUNK_POINTS  # the old map stays on screen meanwhile
    small = _points(50, seed=3, groups=2)
    scatter.set_points(**small)  # supersedes the half-built one
    qtbot.waitUntil(lambda: not scatter.is_drawing, timeout=30_000)
    encoding = small["encoding"]
    styles = set(zip(encoding.categories.tolist(), encoding.symbols.tolist(), strict=True))
    assert scatter.point_count() == 50 and len(_items_in_scene(scatter)) == len(styles)  # nothing old is left
    drawn = np.sort(np.concatenate([np.stack([i.data["x"], i.data["y"]], 1) for i in _items_in_scene(scatter)]), 0)
    np.testing.assert_allclose(drawn, np.sort(small["xy"], 0))


def test_highlight_dims_the_rest_once_the_matches_are_drawn_and_selection_rings_follow(scatter, qtbot) -> None:
    data = _points(4 * CHUNK_POINTS)
    scatter.set_points(**data)
    qtbot.waitUntil(lambda: not scatter.is_drawing, timeout=30_000)
    matches = np.arange(0, len(data["ids"]), 7)
    scatter.highlight(matches)
    qtbot.waitUntil(lambda: not scatter.is_drawing, timeout=30_000)
    assert scatter.matches.point_count() == len(matches)
    assert all(item.opacity() == pytest.approx(DIM_OPACITY) for item in scatter.base.items)
    scatter.highlight(None)
    assert scatter.matches.point_count() == 0 and all(item.opacity() == 1.0 for item in scatter.base.items)
    scatter.set_selected([*data["ids"][:3], "not plotted"])
    qtbot.waitUntil(lambda: not scatter.is_drawing, timeout=30_000)
    np.testing.assert_allclose(np.sort(scatter.selected_positions(), 0), np.sort(data["xy"][:3], 0))


def test_the_point_under_the_cursor_is_found_within_a_few_pixels_only(scatter) -> None:
    data = _points(5_000)
    scatter.set_points(**data)
    target = 1234
    scene = scatter.viewbox.mapViewToScene(pg.Point(*map(float, data["xy"][target])))
    assert scatter.row_at_scene_pos(scene) == target
    corner = scatter.viewbox.mapViewToScene(pg.Point(1e6, 1e6))
    assert scatter.row_at_scene_pos(corner) is None


def test_query_stars_are_bigger_drawn_later_and_higher_than_documents_and_rings_fit_them(scatter, qtbot) -> None:
    items = [Item(f"d{i}", f"d{i}", "document", {"group": f"g{i % 2}"}) for i in range(40)]
    items += [Item(f"q{i}", f"q{i}", "query", {}) for i in range(3)]  # typed queries: no metadata
    kinds = np.array([i.kind for i in items])
    encoding = encode(items, kinds, "meta:group", CategoryColours())
    xy = np.random.default_rng(0).normal(size=(len(items), 2))
    scatter.set_points(xy, [i.id for i in items], [i.text for i in items], encoding)
    qtbot.waitUntil(lambda: not scatter.is_drawing, timeout=10_000)
    drawn = _items_in_scene(scatter)
    order = {id(item): n for n, item in enumerate(scatter.plot.getPlotItem().items)}
    stars = [i for i in drawn if i.opts["symbol"] == "star"]
    dots = [i for i in drawn if i.opts["symbol"] == "o"]
    assert len(stars) == 1 and len(dots) == 2 and len(stars[0].data) == 3
    assert stars[0].opts["size"] >= 2 * max(d.opts["size"] for d in dots)
    assert stars[0].zValue() > max(d.zValue() for d in dots)
    assert order[id(stars[0])] > max(order[id(d)] for d in dots)
    assert stars[0].opts["pen"].color().name() == "#ffffff"  # a rim that parts the star from the dots under it
    legend = [(label.text, sample.item.opts["symbol"]) for sample, label in scatter.legend.items]
    assert legend == [("g0", "o"), ("g1", "o"), ("query", "star")]  # not a "—" category
    scatter.set_selected(["d0", "q0"])
    qtbot.waitUntil(lambda: not scatter.is_drawing, timeout=10_000)
    ring_sizes = sorted(item.opts["size"] for item in scatter.rings.items)
    assert ring_sizes[0] > dots[0].opts["size"] and ring_sizes[1] > stars[0].opts["size"]


def test_the_legend_sits_beside_the_data_and_hover_text_opens_towards_the_middle(scatter, qtbot) -> None:
    data = _points(300, groups=12)
    scatter.set_points(**data)
    qtbot.waitUntil(lambda: not scatter.is_drawing, timeout=10_000)
    plot_area = scatter.viewbox.sceneBoundingRect
    beside = lambda: scatter.legend.sceneBoundingRect().left() >= plot_area().right() - 1  # noqa: E731
    qtbot.waitUntil(beside, timeout=2_000)  # the plot's grid lays the legend out on the next turn
    assert scatter.legend.sceneBoundingRect().width() > 0  # never over points or query stars
    plot_area = plot_area()
    right = int(np.argmax(data["xy"][:, 0]))
    scatter._pending_hover = scatter.viewbox.mapViewToScene(pg.Point(*data["xy"][right]))
    scatter._hover_now()
    assert scatter.hovered_row == right
    text = scatter.hover_text.sceneBoundingRect()
    assert plot_area.contains(text.topLeft()) or text.right() <= plot_area.right() + 1  # not cut at the right edge
    assert scatter.hover_text.anchor.x() == 1  # opens to the left of a point in the right half
