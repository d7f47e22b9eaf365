from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest

from tests.ui.mouse import move_mouse
from workbench.core.embedding import embed_items
from workbench.core.items import Item

DOCS = [f"astronomy fact {i}: stars, planets and galaxies number {i}" for i in range(12)] + [
    f"cooking tip {i}: knead dough, bake bread, season soup {i}" for i in range(12)
]
QUERIES = ["how do planets form?", "how to bake bread?"]


def _wait(condition, timeout_s: float) -> None:
    """Spin the Qt event loop until `condition()` (the module fixture has no qtbot)."""
    from PySide6.QtCore import QDeadlineTimer, QEventLoop
    from PySide6.QtWidgets import QApplication

    deadline = QDeadlineTimer(int(timeout_s * 1000))
    while not condition():
        assert not deadline.hasExpired(), "timed out"
        QApplication.processEvents(QEventLoop.ProcessEventsFlag.WaitForMoreEvents, 50)


@pytest.fixture(scope="module")
def projected(qapp, local_embedder):
    """One embedded and UMAP-projected view for the module: a UMAP child process costs seconds."""
    from workbench.core.cache import EmbeddingCache
    from workbench.ui.panels.projection_view import ProjectionView
    from workbench.ui.pipeline import Pipeline
    from workbench.ui.state import AppState
    from workbench.ui.tasks import TaskRunner

    state, runner = AppState(), TaskRunner()
    widget = ProjectionView(state, runner, Pipeline(state, runner, EmbeddingCache()))
    widget.resize(900, 700)
    widget.show()
    items = [Item.create(t) for t in DOCS] + [Item.create(q, "query") for q in QUERIES]
    state.set_items("document", items[: len(DOCS)])
    state.set_items("query", items[len(DOCS) :])
    state.set_embedding(embed_items(items, local_embedder))
    _wait(lambda: state.projection is not None and not runner.running(), 120)
    yield widget
    runner.cancel_all()
    runner.wait_for_done(10_000)
    widget.close()


@pytest.fixture
def view(projected):
    """The shared view, reset to no selection, no search, pan mode and 3 query lines."""
    projected.state.set_selection([])
    projected.search.setText("")
    projected.regex.setChecked(False)
    projected.modes.button(0).click()
    projected.query_k.setValue(3)
    projected.scatter.fit_view()
    return projected


def test_points_appear_after_embedding_with_umap_layout(view) -> None:
    assert view.stack.currentIndex() == 1
    assert view.scatter.point_count() == len(DOCS) + len(QUERIES)
    assert view.state.projection.shape == (26, 2)
    assert view.note.text().startswith("UMAP")


def test_hover_over_a_known_point_shows_its_text(view, qtbot) -> None:
    xy = view.state.projection
    gaps = np.linalg.norm(xy[:, None] - xy[None], axis=2) + np.eye(len(xy)) * 1e9
    row = int(gaps.min(axis=1).argmax())  # the most isolated point: no neighbour competes for the cursor
    view.scatter.fit_view()
    scene = view.scatter.viewbox.mapViewToScene(QPointF(float(xy[row, 0]), float(xy[row, 1])))
    with qtbot.waitSignal(view.scatter.hovered, timeout=5_000) as hovered:
        move_mouse(view.scatter.plot.viewport(), view.scatter.plot.mapFromScene(scene))
    item = view.state.embedding.items[row]
    assert hovered.args[0] == item.id
    assert view.scatter.hover_text.isVisible()
    assert item.text[:30] in view.scatter.hover_text.textItem.toPlainText().replace("\n", " ")
    assert view.hover_line.text() == item.text[:120]


def test_search_highlights_the_right_count_and_dims_the_rest(view) -> None:
    view.search.setText("BREAD")
    assert view.match_count.text() == "13 of 26 match"  # 12 cooking tips + one query
    assert len(view.match_rows) == 13
    view.regex.setChecked(True)
    view.search.setText(r"fact (1|2)\b")
    assert view.match_count.text() == "2 of 26 match"
    view.search.setText("")
    assert view.match_rows is None
    assert view.match_count.isHidden()  # no search: its reserved width would push Export onto a line of its own
    view.search.setText("star")
    assert not view.match_count.isHidden()
    view.search.setText("")


def test_lasso_over_a_region_selects_the_points_inside(view) -> None:
    xy = view.state.projection
    centre = xy[:5].mean(axis=0)
    radius = np.linalg.norm(xy - centre, axis=1)
    cutoff = np.sort(radius)[7] + 1e-6  # a circle around the 8 points nearest the centre
    angles = np.linspace(0, 2 * np.pi, 40, endpoint=False)
    polygon = centre + cutoff * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    inside_circle = {view.state.embedding.items[r].id for r in np.flatnonzero(radius < cutoff * np.cos(np.pi / 40))}
    view.scatter.select_polygon(polygon)
    selected = set(view.state.selection)
    assert inside_circle <= selected
    assert all(np.linalg.norm(xy[view.state.row_of(i)] - centre) <= cutoff for i in selected)


def test_rectangle_drag_with_the_mouse_selects_points(view, qtbot) -> None:
    view.modes.button(1).click()
    plot = view.scatter.plot
    viewport = plot.viewport()
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, pos=viewport.rect().topLeft() + QPointF(2, 2).toPoint())
    for step in range(1, 11):
        point = viewport.rect().topLeft() + (viewport.rect().bottomRight() - viewport.rect().topLeft()) * (step / 10)
        QTest.mouseMove(viewport, point)
    QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=viewport.rect().bottomRight())
    qtbot.waitUntil(lambda: len(view.state.selection) > 0, timeout=5_000)
    assert len(view.state.selection) == 26  # the whole view was dragged over


def test_query_lines_end_at_the_true_top_k_documents(view) -> None:
    view.query_k.setValue(4)
    embedding = view.state.embedding
    docs = [r for r, i in enumerate(embedding.items) if i.kind == "document"]
    for query_id, ends in view.line_ends().items():
        row = view.state.row_of(query_id)
        scores = embedding.vectors[docs] @ embedding.vectors[row]
        truth = [embedding.items[docs[i]].id for i in np.argsort(-scores)[:4]]
        assert ends == truth
    drawn = [line for line in view.scatter.lines if line.xData is not None and len(line.xData)]
    assert [len(line.xData) for line in drawn] == [2 * len(QUERIES)] * 4  # one item per rank, a segment per query
    opacities = view.scatter.line_opacities()
    assert len(opacities) == 4 and opacities == sorted(set(opacities), reverse=True) and opacities[0] >= 0.8
    widths = [line.opts["pen"].widthF() for line in drawn]
    assert widths == sorted(widths, reverse=True) and widths[0] > 2  # rank 1 strongest, visible at a glance
    base_z = min(item.zValue() for item in view.scatter.base.items)
    query_z = max(item.zValue() for item in view.scatter.base.items)
    assert base_z < drawn[0].zValue() < query_z  # over the documents, under the query stars
    view.query_k.setValue(0)
    assert view.scatter.line_opacities() == []


def test_queries_are_big_stars_above_every_document_and_named_query_in_every_legend(view) -> None:
    items = view.state.embedding.items
    view.state.set_clusters(np.arange(len(items)) % 2, {0: "even", 1: "odd"})
    for colour_by in ("kind", "cluster"):
        view.state.set_view(colour_by=colour_by)
        _wait(lambda: not view.scatter.is_drawing, 10)
        items_drawn = view.scatter.base.items
        stars = [i for i in items_drawn if i.opts["symbol"] == "star"]
        dots = [i for i in items_drawn if i.opts["symbol"] != "star"]
        assert stars and dots
        assert min(i.opts["size"] for i in stars) >= 2 * max(i.opts["size"] for i in dots)
        assert min(i.zValue() for i in stars) > max(i.zValue() for i in dots)
        labels = [label.text for _, label in view.scatter.legend.items]
        assert labels[-1] == "query" and labels.count("query") == 1
        sample = view.scatter.legend.items[-1][0].item
        assert sample.opts["symbol"] == "star"
    view.state.set_clusters(None)
    view.state.set_view(colour_by="kind")


def test_click_selects_and_the_detail_pane_shows_text_and_neighbours(view) -> None:
    item = view.state.embedding.items[0]
    view.state.set_selection([item.id])
    html = view.detail.toPlainText()
    assert item.text in html and "Nearest (cosine)" in html


def test_exports_selection_and_plot(view, tmp_path) -> None:
    view.state.set_selection([i.id for i in view.state.embedding.items[:3]])
    view.export_selection(".jsonl", str(tmp_path / "sel.jsonl"))
    view.runner.wait_for_done(10_000)
    from PySide6.QtCore import QCoreApplication

    QCoreApplication.processEvents()
    lines = (tmp_path / "sel.jsonl").read_text().splitlines()
    assert len(lines) == 3 and '"x"' in lines[0]
    png = view.export_plot(".png", str(tmp_path / "plot.png"))
    svg = view.export_plot(".svg", str(tmp_path / "plot.svg"))
    assert png.stat().st_size > 1000 and "<svg" in svg.read_text()[:500]


def test_the_colour_choice_survives_a_new_layout(view) -> None:
    view.colour_by.setCurrentIndex(view.colour_by.findText("kind"))
    view.state.set_clusters(np.arange(len(view.state.embedding.items)) % 2, {0: "even", 1: "odd"})
    view.colour_by.setCurrentIndex(view.colour_by.findText("cluster"))
    view.state.set_projection(view.state.projection.copy(), "moved")
    assert view.colour_by.currentText() == "cluster"
    assert view.state.encoding().names == ["even", "odd"]
    _wait(lambda: not view.scatter.is_drawing, 10)
    assert [label.text for _, label in view.scatter.legend.items][:2] == ["even", "odd"]  # what the map draws
    view.state.set_clusters(None)


def test_too_few_points_for_umap_say_pca_is_shown_and_points_is_off_until_chunks(qtbot) -> None:
    """The Layout box says UMAP: with too few points the footer says the map is PCA and why, not "PCA layout."."""
    from workbench.core.cache import EmbeddingCache
    from workbench.core.embedders.base import EmbeddingSpec, l2_normalise
    from workbench.core.embedding import EmbeddingResult
    from workbench.core.projection import UMAP_MIN_POINTS
    from workbench.ui.panels.projection_view import ProjectionView
    from workbench.ui.pipeline import Pipeline
    from workbench.ui.state import AppState
    from workbench.ui.tasks import TaskRunner

    state, runner = AppState(), TaskRunner()
    widget = ProjectionView(state, runner, Pipeline(state, runner, EmbeddingCache()))
    qtbot.addWidget(widget)
    assert state.view.layout_method == "umap" and widget.method.currentData() == "umap"
    assert not widget.points.isEnabled() and "no text was split into chunks" in widget.points.toolTip()

    items = [Item.create(f"document {i}") for i in range(5)]
    vectors = l2_normalise(np.random.default_rng(0).normal(size=(5, 8)))
    state.set_embedding(EmbeddingResult(items, vectors, EmbeddingSpec("local", "m", 8), 8, 5, 0).warm())
    qtbot.waitUntil(lambda: state.projection is not None, timeout=10_000)
    runner.wait_for_done(10_000)
    assert state.projection_note == f"5 points: PCA shown (UMAP needs {UMAP_MIN_POINTS})."
    assert widget.note.text() == state.projection_note and not widget.points.isEnabled()

    chunks = [Item.create(f"piece {i}", metadata={"parent_id": f"doc{i // 2}", "chunk_index": i % 2}) for i in range(4)]
    state.set_embedding(EmbeddingResult(chunks, vectors[:4], EmbeddingSpec("local", "m", 8), 8, 4, 0).warm())
    assert widget.points.isEnabled() and "one point per document" in widget.points.toolTip()
    runner.cancel_all()
    runner.wait_for_done(10_000)


def test_the_layout_box_keeps_umap_and_says_beside_it_that_pca_is_shown_for_too_few_points(qtbot) -> None:
    """The box said UMAP over a PCA map (only the footer told): the note beside the box tells, the choice stays."""
    from workbench.core.cache import EmbeddingCache
    from workbench.core.embedders.base import EmbeddingSpec, l2_normalise
    from workbench.core.embedding import EmbeddingResult
    from workbench.ui.panels.projection_view import ProjectionView
    from workbench.ui.pipeline import Pipeline
    from workbench.ui.state import AppState
    from workbench.ui.tasks import TaskRunner

    state, runner = AppState(), TaskRunner()
    widget = ProjectionView(state, runner, Pipeline(state, runner, EmbeddingCache()))
    qtbot.addWidget(widget)
    widget.show()
    assert widget.method_note.isHidden()  # nothing laid out yet: nothing to correct

    def embedded(n: int, with_layout: bool) -> EmbeddingResult:
        items = [Item.create(f"document {i}") for i in range(n)]
        vectors = l2_normalise(np.random.default_rng(n).normal(size=(n, 8)))
        result = EmbeddingResult(items, vectors, EmbeddingSpec("local", "m", 8), 8, n, 0).warm()
        state.set_embedding(result, np.random.default_rng(1).normal(size=(n, 2)) if with_layout else None, "given")
        return result

    embedded(5, with_layout=False)  # the pipeline lays it out: PCA, 5 < 15
    qtbot.waitUntil(lambda: state.projection is not None and not runner.running(), timeout=10_000)
    assert widget.method.currentData() == "umap" and state.view.layout_method == "umap"  # the choice is kept
    assert not widget.method_note.isHidden() and widget.method_note.text() == "PCA shown: UMAP needs 15 points"
    assert "5 points are too few" in widget.method.toolTip()

    widget.method.setCurrentIndex(widget.method.findData("pca"))  # PCA chosen: the box tells the truth alone
    assert state.view.layout_method == "pca" and widget.method_note.isHidden()
    state.set_view(layout_method="umap")  # back to UMAP (a workspace, another panel): the note again
    assert not widget.method_note.isHidden()

    runner.cancel_all()
    runner.wait_for_done(10_000)
    embedded(20, with_layout=True)  # enough points (the layout as a workspace brings it): UMAP is what is shown
    assert widget.method.currentData() == "umap" and widget.method_note.isHidden()
    assert "too few" not in widget.method.toolTip()
    runner.cancel_all()
    runner.wait_for_done(10_000)
