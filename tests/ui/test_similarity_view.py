from __future__ import annotations

import itertools

import numpy as np
import pytest
from PySide6.QtCore import QPointF
from PySide6.QtGui import QFontMetrics

from tests.ui.mouse import move_mouse
from workbench.core.embedders.base import EmbeddingSpec, l2_normalise
from workbench.core.embedding import EmbeddingResult
from workbench.core.items import Item
from workbench.ui.pipeline import HEATMAP_TASK as TASK


def _result(n_docs: int, n_queries: int, dim: int = 16, seed: int = 0) -> EmbeddingResult:
    rng = np.random.default_rng(seed)
    items = [Item.create(f"document number {i}") for i in range(n_docs)]
    items += [Item.create(f"query number {i}", "query") for i in range(n_queries)]
    vectors = l2_normalise(rng.normal(size=(len(items), dim)))
    return EmbeddingResult(items, vectors, EmbeddingSpec(provider="test", model="random"), dim, len(items), 0)


@pytest.fixture
def view(qtbot):
    from workbench.core.cache import EmbeddingCache
    from workbench.ui.panels.similarity_view import SimilarityView
    from workbench.ui.pipeline import Pipeline
    from workbench.ui.state import AppState
    from workbench.ui.tasks import TaskRunner

    state, runner = AppState(), TaskRunner()
    widget = SimilarityView(state, runner, Pipeline(state, runner, EmbeddingCache()))
    widget.resize(900, 700)
    qtbot.addWidget(widget)
    widget.show()
    yield widget
    runner.cancel_all()
    runner.wait_for_done(10_000)


def _hover(view, scene: QPointF) -> None:
    move_mouse(view.plot.viewport(), view.plot.mapFromScene(scene))


def _set(view, qtbot, result: EmbeddingResult) -> None:
    view.state.set_embedding(result)
    qtbot.waitUntil(lambda: view.data is not None and not view.runner.is_running(TASK), timeout=30_000)


def test_hovering_a_known_cell_shows_the_right_pair_and_score(view, qtbot) -> None:
    result = _result(8, 2)
    _set(view, qtbot, result)
    row, column = 2, 5
    vb = view.plot.getViewBox()
    scene = vb.mapViewToScene(QPointF(column + 0.5, row + 0.5))
    _hover(view, scene)
    qtbot.waitUntil(lambda: view.hovered_cell == (row, column), timeout=5_000)
    score = float(result.vectors[row] @ result.vectors[column])
    text = view.hover_label.text()
    assert f"{score:.3f}" in text
    assert "document number 2" in text and "document number 5" in text


def test_switching_modes_changes_the_shape_and_ranks_documents_for_a_query(view, qtbot) -> None:
    result = _result(8, 3)
    _set(view, qtbot, result)
    assert view.data.matrix.shape == (8, 8)
    assert np.allclose(np.diag(view.data.matrix), 1.0)
    view.mode.setCurrentIndex(1)
    qtbot.waitUntil(lambda: view.data.matrix.shape == (3, 8) and not view.runner.is_running(TASK), timeout=10_000)
    assert view.ranked_list.isVisible()
    ranked = view.ranked_list.ranked_documents(0)
    truth = np.argsort(-(result.vectors[:8] @ result.vectors[8]))
    assert [item.id for _, item in ranked] == [result.items[i].id for i in truth]
    assert view.ranked_list.table.rowCount() == 8
    assert view.ranked_list.table.item(0, 1).text() == result.items[truth[0]].text
    view.state.set_selection([result.items[i].id for i in (0, 3, 9)])
    view.mode.setCurrentIndex(2)
    qtbot.waitUntil(lambda: view.data.matrix.shape == (3, 3) and not view.runner.is_running(TASK), timeout=10_000)


def test_a_30000_item_corpus_shows_block_means_not_a_full_matrix(view, qtbot) -> None:
    result = _result(30_000, 0, dim=32)
    _set(view, qtbot, result)
    assert view.data.block is not None
    assert view.data.matrix.shape == (60, 60)  # 60 × 60 group means, never 30 000 × 30 000
    assert "too many cells" in view.note.text()


def test_threshold_greys_out_low_cells_and_exports(view, qtbot, tmp_path) -> None:
    _set(view, qtbot, _result(6, 0))
    view.threshold.setValue(50)
    qtbot.waitUntil(lambda: np.isnan(view.image.image).any(), timeout=5_000)
    assert (np.isnan(view.image.image) == (view.data.matrix < 0.5)).all()
    view.export_matrix(".npy", str(tmp_path / "m.npy"))
    view.runner.wait_for_done(10_000)
    qtbot.waitUntil(lambda: (tmp_path / "m.npy").exists(), timeout=5_000)
    np.testing.assert_array_equal(np.load(tmp_path / "m.npy"), view.data.matrix)
    assert view.export_picture(str(tmp_path / "m.png")).stat().st_size > 500


def test_a_matrix_wider_than_a_screen_is_drawn_from_block_means_then_exact_cells_when_zoomed(
    view, qtbot, monkeypatch
) -> None:
    import workbench.core.heatmap as heatmap

    monkeypatch.setattr(heatmap, "MAX_DRAWN_SIDE", 40)  # 100 items stand for 5 000: the same logic, faster
    result = _result(100, 0)
    _set(view, qtbot, result)
    data = view.data
    assert data.matrix.shape == (100, 100) and data.overview_steps == (3, 3)
    full = result.vectors @ result.vectors.T
    assert data.overview.shape == (34, 34)
    np.testing.assert_allclose(data.overview[1, 2], full[3:6, 6:9].mean(), atol=1e-5)  # a block mean, exactly
    np.testing.assert_allclose(data.overview[33, 33], full[99, 99], atol=1e-5)  # the edge block has one cell
    assert view.image.image.shape == (34, 34)  # zoomed out: the overview is what is drawn

    view.plot.getViewBox().setRange(xRange=(50, 60), yRange=(20, 30), padding=0)
    qtbot.waitUntil(lambda: view.image.image.shape != (34, 34), timeout=5_000)
    drawn = view._drawn[1]
    top, left = int(drawn.top()), int(drawn.left())
    assert drawn.contains(QPointF(55, 25)) and view.image.image.shape[0] <= 40
    np.testing.assert_allclose(view.image.image, full[top : top + view.image.image.shape[0],
                               left : left + view.image.image.shape[1]], atol=1e-5)  # fmt: skip

    row, column = 25, 55  # hovering a cell still names that cell of the full matrix
    scene = view.plot.getViewBox().mapViewToScene(QPointF(column + 0.5, row + 0.5))
    _hover(view, scene)
    qtbot.waitUntil(lambda: view.hovered_cell == (row, column), timeout=5_000)
    assert f"{full[row, column]:.3f}" in view.hover_label.text()


def test_overview_keeps_short_axes_whole_shows_maxima_under_a_threshold_and_survives_panning_off_the_edge(
    view, qtbot, monkeypatch
) -> None:
    import workbench.core.heatmap as heatmap

    monkeypatch.setattr(heatmap, "MAX_DRAWN_SIDE", 40)
    result = _result(100, 5)
    _set(view, qtbot, result)
    view.mode.setCurrentIndex(1)  # queries × documents: 5 × 100
    qtbot.waitUntil(lambda: view.data.matrix.shape == (5, 100) and not view.runner.is_running(TASK), timeout=10_000)
    assert view.data.overview_steps == (1, 3) and view.image.image.shape == (5, 34)  # every query keeps its row
    queries, documents = result.vectors[100:], result.vectors[:100]
    full = queries @ documents.T
    np.testing.assert_allclose(view.data.overview_max[2, 1], full[2, 3:6].max(), atol=1e-5)

    view.threshold.setValue(int(full.max() * 100) - 1)  # only the best cell (or a few) stays above
    view._draw_image()
    drawn = view.image.image
    best_row, best_column = np.unravel_index(full.argmax(), full.shape)
    assert np.isfinite(drawn[best_row, best_column // 3])  # the block max keeps the best cell visible
    assert np.isnan(drawn).sum() > drawn.size // 2

    view.threshold.setValue(-100)
    view._draw_image()
    before = view.image.image.copy()
    view.plot.getViewBox().setRange(xRange=(500, 600), yRange=(-50, -40), padding=0)  # nowhere near the matrix
    view._draw_if_region_changed()
    view._draw_image()
    assert np.array_equal(view.image.image, before, equal_nan=True)  # nothing to draw: the last picture stays


# -- band labels -------------------------------------------------------------------------------------------------
TOPICS = ["music"] * 3 + ["cooking"] * 6 + ["space"] * 2 + ["cooking"] * 2 + ["music"] * 3


def _topical(seed: int = 0) -> EmbeddingResult:
    items = [Item.create(f"{topic} text {i}", "document", {"topic": topic}) for i, topic in enumerate(TOPICS)]
    items.append(Item.create("which soup?", "query"))
    vectors = l2_normalise(np.random.default_rng(seed).normal(size=(len(items), 16)))
    return EmbeddingResult(items, vectors, EmbeddingSpec(provider="test", model="random"), 16, len(items), 0)


def test_ordered_by_a_column_each_axis_names_its_groups_in_the_maps_colours_with_lines_between(view, qtbot) -> None:
    view.state.set_view(heatmap_order="meta:topic")
    _set(view, qtbot, _topical())
    expected = [("cooking", 8), ("music", 6), ("space", 2)]  # by size, largest first
    assert [(band.name, band.size) for band in view.data.row_bands] == expected
    middles = [4.0, 11.0, 15.0]
    assert view.bands.axis_labels["left"] == [(m, f"{n} ({s})") for m, (n, s) in zip(middles, expected, strict=True)]
    assert view.plot.getAxis("left")._tickLevels == [view.bands.axis_labels["left"]]  # what the axis draws
    bottom = view.bands.axis_labels["bottom"]
    assert [position for position, _ in bottom] == middles[: len(bottom)] and bottom[0][1] == "cooking (8)"
    assert all(expected[i][0].startswith(text.rstrip("…").split(" (")[0]) for i, (_, text) in enumerate(bottom))
    encoding = view.state.encoding("meta:topic")  # the map's colours for the same column
    for item, axis, band in view.bands.strips:
        assert item.brush().color().name() == encoding.colour_of(band.name) and axis in ("left", "bottom")
    assert len(view.bands.strips) == 6
    xs, ys = view.bands.boundaries.xData, view.bands.boundaries.yData
    horizontal = sorted({float(y) for x, y in zip(xs, ys, strict=True) if x == view.data.matrix.shape[1]})
    assert horizontal == [8.0, 14.0]  # where cooking ends and where music ends
    assert "groups by size, largest first" in view.note.text()

    view.plot.resize(900, 640)  # labels are redrawn as the view changes size, never overlapping
    view.plot.getViewBox().setXRange(0, 4, padding=0)
    qtbot.waitUntil(lambda: view.bands.axis_labels["bottom"][:1] == [(4.0, "cooking (8)")], timeout=5_000)
    view.state.set_view(heatmap_order="input")
    qtbot.waitUntil(lambda: not view.data.row_bands and not view.bands.strips, timeout=10_000)
    assert view.bands.boundaries.xData is None or len(view.bands.boundaries.xData) == 0


def test_by_cluster_labels_is_offered_with_clusters_and_bands_name_the_clusters(view, qtbot) -> None:
    _set(view, qtbot, _topical())
    orders = [view.order.itemData(i) for i in range(view.order.count())]
    assert "cluster" in orders and "clusters" not in orders  # hierarchical only, until there are clusters
    labels = np.array([{"music": 0, "cooking": 1, "space": -1}[t] for t in TOPICS] + [1])
    view.state.set_clusters(labels, {0: "tunes", 1: "recipes"})
    view.order.setCurrentIndex(view.order.findData("clusters"))
    assert view.state.view.heatmap_order == "clusters"
    qtbot.waitUntil(lambda: view.data is not None and len(view.data.row_bands) == 3, timeout=10_000)
    assert [(b.name, b.size) for b in view.data.row_bands] == [("recipes", 8), ("tunes", 6), ("noise", 2)]
    assert [text for _, text in view.bands.axis_labels["left"]] == ["recipes (8)", "tunes (6)", "noise (2)"]
    encoding = view.state.encoding("cluster")
    assert [item.brush().color().name() for item, axis, _ in view.bands.strips if axis == "left"] == [
        encoding.colour_of("recipes"), encoding.colour_of("tunes"), encoding.colour_of("noise")
    ]  # fmt: skip
    view.state.rename_cluster(1, "soups")
    qtbot.waitUntil(lambda: view.data.row_bands[0].name == "soups", timeout=10_000)


class _HashEmbedder:
    batch_size, max_concurrency = 8, 1

    def __init__(self) -> None:
        self.spec = EmbeddingSpec(provider="hash", model="hash", dim=16)

    @property
    def dim(self) -> int:
        return 16

    def encode_documents(self, texts: list[str]) -> list[np.ndarray]:
        return list(l2_normalise(np.stack([np.random.default_rng(len(t)).normal(size=16) for t in texts])))

    encode_queries = encode_documents


def test_after_embed_the_heatmap_is_ordered_by_the_colour_by_column_but_not_after_opening_a_workspace(
    view, qtbot
) -> None:
    state, embedder = view.state, _HashEmbedder()
    state.embedders.put(embedder)
    state.set_spec(embedder.spec)
    state.set_items("document", _topical().items[:-1])
    state.set_view(colour_by="meta:topic", layout_method="pca")
    state.set_embedding(_topical())  # as a workspace brings vectors: its own order stays
    assert state.view.heatmap_order == "input"
    view.pipeline.embed()
    qtbot.waitUntil(lambda: state.embedding is not None and state.embedding.spec == embedder.spec, timeout=10_000)
    assert state.view.heatmap_order == "meta:topic"
    qtbot.waitUntil(lambda: view.data is not None and len(view.data.row_bands) == 3, timeout=10_000)
    assert view.order.currentData() == "meta:topic"

    state.set_view(heatmap_order="kind")  # a choice the person made is kept
    view.pipeline.embed()
    qtbot.waitUntil(lambda: not view.runner.running(), timeout=10_000)
    assert state.view.heatmap_order == "kind"
    state.set_view(heatmap_order="input", colour_by="meta:absent")  # a column the new vectors lack: no change
    view.pipeline.embed()
    qtbot.waitUntil(lambda: not view.runner.running(), timeout=10_000)
    assert state.view.heatmap_order == "input"


def test_query_rows_without_the_column_are_named_by_their_text_not_one_band(view, qtbot) -> None:
    rng = np.random.default_rng(3)
    items = [Item.create(f"doc {i}", "document", {"topic": "ab"[i % 2]}) for i in range(8)]
    items += [Item.create(f"typed question {q}", "query") for q in range(3)]
    vectors = l2_normalise(rng.normal(size=(len(items), 16)))
    result = EmbeddingResult(items, vectors, EmbeddingSpec(provider="test", model="random"), 16, len(items), 0)
    view.state.set_view(heatmap_mode="queries", heatmap_order="meta:topic")
    _set(view, qtbot, result)
    qtbot.waitUntil(lambda: view.data.matrix.shape == (3, 8), timeout=10_000)
    left = [text for _, text in view.bands.axis_labels["left"]]
    assert left == ["typed question 0", "typed question 1", "typed question 2"]
    assert {text.split(" (")[0] for _, text in view.bands.axis_labels["bottom"]} == {"a", "b"}


def test_the_ranked_list_sorts_only_the_top_it_shows_and_agrees_with_the_full_ranking(view, qtbot) -> None:
    result = _result(300, 2)
    view.state.set_view(heatmap_mode="queries")
    _set(view, qtbot, result)
    qtbot.waitUntil(lambda: view.data.matrix.shape == (2, 300), timeout=10_000)
    full = view.ranked_list.ranked_documents(1)
    assert view.ranked_list.ranked_documents(1, 25) == full[:25]
    assert [score for score, _ in full] == sorted((score for score, _ in full), reverse=True)


FIVE_TOPICS = ["astronomy", "cooking", "finance", "football", "programming"]


def test_narrow_bands_name_their_groups_whole_on_staggered_lines_as_on_a_laptop(view, qtbot) -> None:
    items = [Item.create(f"{t} text {i}", "document", {"topic": t}) for t in FIVE_TOPICS for i in range(8)]
    vectors = l2_normalise(np.random.default_rng(0).normal(size=(len(items), 16)))
    view.state.set_view(heatmap_order="meta:topic")
    view.resize(480, 560)  # the Similarity dock at 1366 × 768: each band ~60 px, narrower than "astronomy (8)"
    _set(view, qtbot, EmbeddingResult(items, vectors, EmbeddingSpec(provider="t", model="r"), 16, len(items), 0))
    qtbot.waitUntil(lambda: len(view.bands.axis_labels["bottom"]) == 5, timeout=5_000)
    bottom, lines = view.bands.axis_labels["bottom"], view.bands.bottom_lines
    assert [text for _, text in bottom] == [f"{t} (8)" for t in FIVE_TOPICS]  # whole, none cut
    assert max(lines) >= 1  # they did not fit on one line
    axis = view.plot.getAxis("bottom")
    metrics = QFontMetrics(axis.style["tickFont"] or axis.font())
    per_cell = 1 / view.plot.getViewBox().viewPixelSize()[0]
    for line in set(lines):  # names on one line never touch
        half = [(x * per_cell, metrics.horizontalAdvance(t) / 2) for (x, t), at in zip(bottom, lines, strict=True)
                if at == line]  # fmt: skip
        spans = sorted((middle - w, middle + w) for middle, w in half)
        assert all(left >= right for (_, right), (left, _) in itertools.pairwise(spans))
    for (x, _), band in zip(bottom, view.data.column_bands, strict=True):
        assert band.start <= x <= band.start + band.size  # each name under its own band
    assert axis._tickLevels == [[(x, "\n" * at + t) for (x, t), at in zip(bottom, lines, strict=True)]]
    tall = (max(lines) + 1) * metrics.lineSpacing()
    qtbot.waitUntil(lambda: axis.height() >= tall, timeout=2_000)  # the axis is as tall as its lines (after layout)
    rows = view.data.matrix.shape[0]
    qtbot.wait(300)  # the plot settles to the taller axis
    _hover(view, view.plot.getViewBox().mapViewToScene(QPointF(bottom[0][0], rows + 0.3)))  # over the name
    qtbot.waitUntil(lambda: view.hover_label.text() == "astronomy: 8 items", timeout=2_000)

    view.resize(1100, 560)  # wide enough: one line, centred under each band
    qtbot.waitUntil(lambda: view.bands.bottom_lines == [0] * 5, timeout=5_000)
    assert [x for x, _ in view.bands.axis_labels["bottom"]] == [4.0, 12.0, 20.0, 28.0, 36.0]


def test_staggered_names_cut_in_the_middle_only_when_no_line_has_room() -> None:
    from workbench.ui.panels.heatmap_bands import staggered_names

    def width(text: str) -> float:
        return 10.0 * len(text)

    def cut(text: str, room: float) -> str:  # like QFontMetrics.elidedText(..., ElideMiddle, room)
        kept = max(int(room // 10) - 1, 0)
        return text if width(text) <= room else text[: (kept + 1) // 2] + "…" + text[len(text) - kept // 2 :]

    bands = [(i * 60.0, i * 60.0 + 60.0) for i in range(4)]
    names = [(f"name{i} (9)", f"name{i}") for i in range(4)]  # 90 px each under 60-px bands
    placed = staggered_names(bands, names, width, cut, (0.0, 240.0), lines=3)
    assert placed == [(0, 15.0, "name0 (9)"), (1, 0.0, "name1 (9)"), (0, 0.0, "name2 (9)"), (1, -15.0, "name3 (9)")]
    one_line = staggered_names(bands, names, width, cut, (0.0, 240.0), lines=1)
    assert one_line == [(0, 15.0, "name0 (9)"), None, (0, 0.0, "name2 (9)"), None]  # no room even for "n…1"
    cut_one = staggered_names([(0.0, 100.0), (100.0, 160.0)], [("aaaa (9)", "aaaa"), ("bcdefghijk (9)", "bcdefghijk")],
                              width, cut, (0.0, 200.0), lines=1)  # fmt: skip
    assert cut_one == [(0, 0.0, "aaaa (9)"), (0, 0.0, "bcd…jk")]
    zoomed = staggered_names([(-90.0, -10.0), (0.0, 100.0)], names[:2], width, cut, (0.0, 200.0))
    assert zoomed == [None, (0, 0.0, "name1 (9)")]  # a band left of the view is not named


def test_with_vectors_but_no_matrix_the_view_says_why_not_press_embed(view, qtbot) -> None:
    """Selection mode with nothing selected: the placeholder asks for a selection (it said "press Embed first")."""
    assert view.placeholder.text().endswith("press Embed first.") and view.stack.currentWidget() is view.placeholder
    _set(view, qtbot, _result(12, 2))
    view.state.set_view(heatmap_mode="selection")
    qtbot.waitUntil(lambda: view.data is None and not view.runner.is_running(TASK), timeout=30_000)
    assert view.stack.currentWidget() is view.placeholder
    assert view.placeholder.text().startswith("Select points on the map")
    view.state.set_selection(view.state.embedding.ids[:4])
    qtbot.waitUntil(lambda: view.data is not None and view.stack.currentIndex() == 1, timeout=30_000)
