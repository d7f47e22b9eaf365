"""The shared result table: ids and metadata of the items, numeric sorting by a header click, the chosen columns
(one AppState setting for every table), Milvus' merged rows, and query pickers in the order queries were typed."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt

from workbench.core.embedders.base import EmbeddingSpec, l2_normalise
from workbench.core.embedding import EmbeddingResult
from workbench.core.heatmap import HeatmapData
from workbench.core.items import Item
from workbench.core.milvus.operations import SearchOutcome
from workbench.core.milvus.results import Hit
from workbench.ui.panels.milvus_tables import ABSENT_COLOUR, MISSED_COLOUR, outcome_rows
from workbench.ui.panels.ranked_documents import RankedDocuments
from workbench.ui.result_table import ElidedComboBox, ResultRow, ResultTable
from workbench.ui.state import AppState

SCORES = [0.9, 0.85, 0.4, 0.35, 0.1, 0.05, -0.02, -0.1, -0.3, -0.25, 0.2, 0.6]  # string order ≠ numeric order


def _rows() -> list[ResultRow]:
    return [ResultRow(f"doc-{i}", f"Document {i}\nwith a second line", (i + 1,), (score,),
                      {"topic": f"topic {i % 3}", "year": 1990 + (7 * i) % 30})
            for i, score in enumerate(SCORES)]  # fmt: skip


def _column(table: ResultTable, header: str) -> list[str]:
    column = table.column_of(header)
    return [table.item(row, column).text() for row in range(table.rowCount())]


def _click_header(qtbot, table: ResultTable, header: str) -> None:
    sections = table.horizontalHeader()
    column = table.column_of(header)
    x = sections.sectionViewportPosition(column) + sections.sectionSize(column) // 2
    qtbot.mouseClick(sections.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x, sections.height() // 2))


@pytest.fixture
def table(qtbot):
    widget = ResultTable(AppState())
    qtbot.addWidget(widget)
    widget.resize(700, 400)
    widget.show()
    widget.show_rows(_rows())
    return widget


def test_each_row_shows_the_items_rank_id_text_score_and_first_metadata_column(table) -> None:
    assert table.headers() == ["#", "document", "score", "id", "topic"]  # nothing chosen: the first column
    assert _column(table, "#") == [str(i + 1) for i in range(len(SCORES))]
    assert _column(table, "id") == [f"doc-{i}" for i in range(len(SCORES))]
    assert _column(table, "topic") == [f"topic {i % 3}" for i in range(len(SCORES))]
    assert _column(table, "score") == [f"{s:.3f}" for s in SCORES]
    assert _column(table, "document")[0] == "Document 0 with a second line"  # one line a row
    assert not table.wordWrap() and table.textElideMode() == Qt.TextElideMode.ElideRight
    tip = table.item(0, table.column_of("score")).toolTip()  # hovering any cell of a row shows the item whole
    assert "Document 0\nwith a second line" in tip and "doc-0" in tip and "1990" in tip
    assert [table.item_id(row) for row in range(3)] == ["doc-0", "doc-1", "doc-2"]
    # on screen: the numbers, then the text (at least a third of the width), then id and metadata, no side scroll
    sections = table.horizontalHeader()
    on_screen = sorted(table.headers(), key=lambda header: sections.visualIndex(table.column_of(header)))
    assert on_screen == ["#", "score", "document", "id", "topic"]
    assert table.columnWidth(table.column_of("document")) >= table.viewport().width() / 3
    assert table.horizontalScrollBar().maximum() == 0


def test_clicking_a_header_sorts_numbers_as_numbers(qtbot, table) -> None:
    _click_header(qtbot, table, "score")
    assert [float(s) for s in _column(table, "score")] == sorted(SCORES)
    _click_header(qtbot, table, "score")
    assert [float(s) for s in _column(table, "score")] == sorted(SCORES, reverse=True)
    assert [table.item_id(row) for row in range(2)] == ["doc-0", "doc-1"]  # ids move with their rows
    _click_header(qtbot, table, "#")
    assert _column(table, "#") == [str(i) for i in range(1, 13)]  # 9 before 10, not "10" before "9"
    table.choose_column("year", True)
    _click_header(qtbot, table, "year")
    years = [int(y) for y in _column(table, "year")]
    assert years == sorted(years)


def test_the_chosen_columns_are_one_app_state_setting_that_every_table_follows(qtbot, table) -> None:
    state = table.state
    other = ResultTable(state, ranks=("A #", "B #"), scores=("A cos", "B cos"))
    qtbot.addWidget(other)
    other.show_rows([ResultRow("doc-0", "x", (1, None), (0.5, None), {"topic": "a", "year": 2000})])
    table.columns_button.menu().aboutToShow.emit()
    actions = table.columns_button.menu().actions()
    assert [(a.text(), a.isChecked()) for a in actions] == [("topic", True), ("year", False)]
    actions[1].trigger()  # tick "year"
    assert state.view.result_columns == ("topic", "year")
    assert table.headers()[-2:] == other.headers()[-2:] == ["topic", "year"]
    assert _column(table, "year")[1] == "1997"
    table.choose_column("topic", False)
    assert state.view.result_columns == ("year",) and other.headers()[-1] == "year" and "topic" not in other.headers()
    assert _column(other, "B #") == ["—"] and _column(other, "B cos") == ["—"]  # not in B's top k


def test_milvus_rows_merge_both_rankings_and_tint_what_either_missed() -> None:
    hits = [Hit("a", 0.9, "alpha", metadata={"topic": "x"}), Hit("c", 0.7, "gamma")]
    exact = [Hit("a", 0.9, "alpha"), Hit("b", 0.8, "beta", metadata={"topic": "y"})]
    rows = outcome_rows(SearchOutcome(hits, exact, scanned=3, recall=0.5))
    assert [(r.item_id, r.ranks, r.scores, r.tint) for r in rows] == [
        ("a", (1, 1), (0.9,), None),
        ("c", (2, None), (0.7,), MISSED_COLOUR),  # returned by Milvus, not in the exact top 2
        ("b", (None, 2), (0.8,), ABSENT_COLOUR),  # in the exact top 2, missed by Milvus
    ]
    assert rows[2].metadata == {"topic": "y"} and "did not return it" in rows[2].note


def _queries_and_documents() -> EmbeddingResult:
    rng = np.random.default_rng(1)
    items = [Item.create(f"document {i}", metadata={"topic": "even" if i % 2 else "odd"}) for i in range(6)]
    items += [Item.create(f"query typed {n}", "query") for n in ("first", "second", "third")]
    vectors = l2_normalise(rng.normal(size=(len(items), 8)))
    return EmbeddingResult(items, vectors, EmbeddingSpec("test", "random"), 8, len(items), 0)


def test_the_query_picker_lists_queries_as_typed_whatever_the_heatmap_order(qtbot) -> None:
    state = AppState()
    result = _queries_and_documents()
    state.set_embedding(result)
    documents, queries = result.items[:6], result.items[6:]
    heatmap_rows = [2, 0, 1]  # e.g. clustering order
    matrix = result.vectors[6:][heatmap_rows] @ result.vectors[:6].T
    ranked = RankedDocuments(state)
    qtbot.addWidget(ranked)
    ranked.show_for(HeatmapData(matrix, [queries[r] for r in heatmap_rows], documents))
    picker = ranked.query_choice
    assert [picker.itemText(i) for i in range(picker.count())] == [q.text for q in queries]
    picker.setCurrentIndex(0)  # "query typed first": row 1 of the heatmap
    best = int(np.argmax(result.vectors[6] @ result.vectors[:6].T))
    table = ranked.table
    assert table.item(0, table.column_of("id")).text() == documents[best].id
    assert table.item(0, table.column_of("topic")).text() == documents[best].metadata["topic"]
    assert float(table.item(0, table.column_of("score")).text()) == pytest.approx(matrix[1, best], abs=1e-3)


def test_the_similarity_views_ranked_list_finds_app_state_and_keeps_typed_order(qtbot) -> None:
    from workbench.core.cache import EmbeddingCache
    from workbench.ui.panels.similarity_view import SimilarityView
    from workbench.ui.pipeline import HEATMAP_TASK, Pipeline
    from workbench.ui.tasks import TaskRunner

    state, runner = AppState(), TaskRunner()
    view = SimilarityView(state, runner, Pipeline(state, runner, EmbeddingCache()))
    qtbot.addWidget(view)
    view.show()
    try:
        result = _queries_and_documents()
        state.set_view(heatmap_mode="queries", heatmap_order="cluster")
        state.set_embedding(result)
        qtbot.waitUntil(lambda: view.data is not None and view.data.matrix.shape == (3, 6), timeout=30_000)
        qtbot.waitUntil(lambda: not runner.is_running(HEATMAP_TASK), timeout=30_000)
        picker = view.ranked_list.query_choice
        assert view.ranked_list.state is state
        assert [picker.itemText(i) for i in range(picker.count())] == [q.text for q in result.items[6:]]
    finally:
        runner.cancel_all()
        runner.wait_for_done(10_000)


def test_a_long_entry_is_elided_and_shown_whole_on_hover(qtbot) -> None:
    combo = ElidedComboBox()
    qtbot.addWidget(combo)
    combo.addItem("How do telescopes find planets around other stars, and how far away can they see them?")
    combo.setToolTip("The query to rank the documents for")
    combo.resize(160, combo.sizeHint().height())
    combo.show()
    combo.grab()  # paints, so it knows whether it cut the entry
    assert combo.elided and combo.hover_text().startswith("How do telescopes find planets around other stars")
    assert combo.sizeHint().width() < 200  # a long entry does not widen its row


def test_the_chosen_columns_go_through_a_workspace_and_every_table_shows_them(window, qtbot, tmp_path) -> None:
    from workbench.core.embedders.base import EmbeddingSpec
    from workbench.ui.main_window import MainWindow
    from workbench.ui.pipeline import HEATMAP_TASK
    from workbench.ui.state import AppState as State
    from workbench.ui.tasks import TaskRunner

    rng = np.random.default_rng(3)
    items = [Item.create(f"note {i}", metadata={"topic": f"t{i % 2}", "year": 2000 + i}) for i in range(6)]
    items += [Item.create("which year?", "query")]
    result = EmbeddingResult(items, l2_normalise(rng.normal(size=(7, 8))), EmbeddingSpec("test", "random"), 8, 7, 0)
    window.state.set_items("document", items[:6])
    window.state.set_items("query", items[6:])
    window.state.set_embedding(result, rng.normal(size=(7, 2)), "test layout")
    window.docks["Similarity"].raise_()
    window.state.set_view(heatmap_mode="queries")
    ranked = window.similarity_view.ranked_list.table
    qtbot.waitUntil(lambda: ranked.rowCount() == 6 and not window.runner.is_running(HEATMAP_TASK), timeout=30_000)
    assert ranked.headers()[-2:] == ["id", "topic"]
    ranked.choose_column("year", True)
    ranked.choose_column("topic", False)
    assert window.state.view.result_columns == ("year",) and ranked.headers()[-1] == "year"
    assert window.compare_view.query_table.shown_columns == ()  # no comparison yet: nothing to show, no error

    path = tmp_path / "columns.workbench"
    window.file_actions.save_to(path)
    qtbot.waitUntil(lambda: "Saved" in window.file_actions.last_message, timeout=20_000)
    other = MainWindow(State(), TaskRunner(), window.cache)
    qtbot.addWidget(other)
    other.show()
    with qtbot.waitSignal(other.state.projection_changed, timeout=20_000):
        other.file_actions.open(path)
    assert other.state.view.result_columns == ("year",)
    other.docks["Similarity"].raise_()
    reopened = other.similarity_view.ranked_list.table
    qtbot.waitUntil(lambda: reopened.rowCount() == 6, timeout=30_000)
    assert reopened.headers()[-2:] == ["id", "year"]
    years = {item.id: str(item.metadata["year"]) for item in items[:6]}
    assert all(reopened.item(r, reopened.column_of("year")).text() == years[reopened.item_id(r)] for r in range(6))
    other.runner.cancel_all()
    other.runner.wait_for_done(10_000)
