"""The density image counts what numpy counts, and the point index answers what a pass over all points answers."""

from __future__ import annotations

import numpy as np
import pytest

from workbench.core.density import Extent, density_image, pixel_of_points, shade
from workbench.core.encoding import LAYER_NORMAL, LAYER_UNDER
from workbench.core.errors import Cancelled
from workbench.core.point_index import PointIndex, nearest_row, points_in_polygon, sorted_unique

COLOURS = ["#ff0000", "#00ff00", "#0000ff"]


def _cloud(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    xy = rng.normal(size=(n, 2)).astype(np.float32)
    return xy, rng.integers(0, 3, size=n)


def test_counts_equal_numpys_histogram_edges_and_outside_points_included() -> None:
    xy, categories = _cloud(50_000)
    extent = Extent(-1.5, 2.0, -1.0, 1.25)
    # points exactly on the edges (histogram2d keeps the right/top edge in the last bin) and far outside
    xy[:4] = [[-1.5, 0.0], [2.0, 0.0], [0.0, 1.25], [2.0, -1.0]]
    xy[4:6] = [[9.0, 0.0], [0.0, -9.0]]
    image = density_image(xy, categories, COLOURS, [LAYER_NORMAL] * 3, extent, 170, 90)
    expected, _, _ = np.histogram2d(xy[:, 0], xy[:, 1], bins=[170, 90], range=[[-1.5, 2.0], [-1.0, 1.25]])
    np.testing.assert_array_equal(image.counts, expected.T.astype(np.int64))
    assert image.rows == int(expected.sum())
    assert image.rgba.shape == (90, 170, 4)


def test_counts_of_chosen_rows_only() -> None:
    xy, categories = _cloud(20_000, seed=1)
    rows = np.arange(0, 20_000, 7)
    extent = Extent(-2, 2, -2, 2)
    image = density_image(xy, categories, COLOURS, [LAYER_NORMAL] * 3, extent, 64, 48, rows=rows)
    expected, _, _ = np.histogram2d(xy[rows, 0], xy[rows, 1], bins=[64, 48], range=[[-2, 2], [-2, 2]])
    np.testing.assert_array_equal(image.counts, expected.T)


def test_each_pixel_takes_its_biggest_category_and_noise_stays_under() -> None:
    # pixel (0, 0): 3 of category 0, 2 of category 1; pixel (1, 0): 5 noise (category 2, layer under) and 1 of 1
    xy = np.array([[0.1, 0.1]] * 5 + [[1.1, 0.1]] * 6, dtype=np.float32)
    categories = np.array([0, 0, 1, 0, 1, 2, 2, 2, 2, 2, 1])
    layers = [LAYER_NORMAL, LAYER_NORMAL, LAYER_UNDER]
    image = density_image(xy, categories, COLOURS, layers, Extent(0, 2, 0, 1), 2, 1, spread=0)
    assert image.counts.tolist() == [[5, 6]]
    assert image.dominant.tolist() == [[0, 1]]
    assert image.rgba[0, 0, :3].tolist() == [255, 0, 0] and image.rgba[0, 1, :3].tolist() == [0, 255, 0]
    empty = density_image(xy[:0], categories[:0], COLOURS, layers, Extent(0, 2, 0, 1), 2, 1)
    assert empty.counts.sum() == 0 and (empty.dominant == -1).all() and (empty.rgba[..., 3] == 0).all()


def test_spread_shows_a_lone_item_as_a_dot_without_changing_counts() -> None:
    counts = np.zeros((5, 5), dtype=np.int64)
    counts[2, 2] = 1
    dominant = np.full((5, 5), -1, dtype=np.int16)
    dominant[2, 2] = 1
    rgba = shade(counts, dominant, COLOURS, spread=1)
    visible = rgba[..., 3] > 0
    assert visible[1:4, 1:4].all() and visible.sum() == 9  # the 3 × 3 block around the item, nothing more
    assert rgba[2, 2, 3] > rgba[1, 1, 3]  # the item's own pixel is the strongest
    assert (rgba[1:4, 1:4, :3] == [0, 255, 0]).all()


def test_a_cancelled_image_stops() -> None:
    xy, categories = _cloud(1_000)
    with pytest.raises(Cancelled):
        density_image(xy, categories, COLOURS, [1] * 3, Extent(-1, 1, -1, 1), 10, 10, cancelled=lambda: True)


def test_pixel_of_points_keeps_only_points_inside() -> None:
    xy = np.array([[0.0, 0.0], [0.999, 0.5], [1.0, 1.0], [1.5, 0.5], [-0.1, 0.5]], dtype=np.float64)
    pixels, rows = pixel_of_points(xy, Extent(0, 1, 0, 1), 4, 2)
    assert rows.tolist() == [0, 1, 2]
    assert pixels.tolist() == [0, 4 + 3, 4 + 3]  # (col 0,row 0); (col 3,row 1); the top-right corner: last pixel


def test_index_rectangles_and_nearest_agree_with_a_pass_over_all_points() -> None:
    xy, _ = _cloud(30_000, seed=3)
    xy[10] = xy[20]  # a tie: both answers must pick the lower row
    index = PointIndex(xy)
    rng = np.random.default_rng(4)
    for x0, y0 in rng.uniform(-2, 1, size=(20, 2)):
        x1, y1 = x0 + rng.uniform(0.01, 1.5), y0 + rng.uniform(0.01, 1.5)
        inside = (xy[:, 0] >= x0) & (xy[:, 0] <= x1) & (xy[:, 1] >= y0) & (xy[:, 1] <= y1)
        np.testing.assert_array_equal(index.rows_in_rect(x0, x1, y0, y1), np.flatnonzero(inside))
        assert index.count_in_rect(x0, x1, y0, y1) == inside.sum()
    probes = np.concatenate([rng.uniform(-3, 3, size=(200, 2)), xy[[10, 20, 5, 7]] + 1e-4])
    for x, y in probes:
        for radius in (0.001, 0.05, 0.3):
            assert index.nearest(float(x), float(y), radius) == nearest_row(xy, float(x), float(y), radius)
    assert index.nearest(float(xy[20, 0]), float(xy[20, 1]), 0.01) == 10


def _even_odd(x: float, y: float, polygon: np.ndarray) -> bool:
    """A plain one-point ray cast: the reference the vectorised lasso is checked against."""
    inside = False
    for (ax, ay), (bx, by) in zip(polygon, np.roll(polygon, -1, axis=0), strict=True):
        if (ay > y) != (by > y) and x < ax + (y - ay) * (bx - ax) / (by - ay):
            inside = not inside
    return inside


def test_lasso_agrees_with_a_plain_ray_cast_with_or_without_candidates() -> None:
    xy, _ = _cloud(3_000, seed=5)
    angles = np.linspace(0, 2 * np.pi, 40, endpoint=False)
    radii = 1.2 + 0.5 * np.sin(5 * angles)  # a star-shaped, non-convex lasso with a horizontal edge
    polygon = np.stack([radii * np.cos(angles), radii * np.sin(angles)], axis=1)
    polygon[3, 1] = polygon[4, 1]
    expected = [row for row, (x, y) in enumerate(xy.astype(np.float64)) if _even_odd(x, y, polygon)]
    assert points_in_polygon(xy, polygon).tolist() == expected
    candidates = np.arange(0, 3_000, 2)
    assert points_in_polygon(xy, polygon, candidates).tolist() == [r for r in expected if r % 2 == 0]
    assert points_in_polygon(xy, polygon[:2]).tolist() == []


def test_sorted_unique_is_numpys_unique() -> None:
    rows = np.random.default_rng(6).integers(0, 1_000, size=5_000)
    np.testing.assert_array_equal(sorted_unique(rows), np.unique(rows))
    assert sorted_unique(np.array([], dtype=np.int64)).tolist() == []
