"""The Milvus panel driven as a user drives it: real AppState, TaskRunner, Milvus Lite and local model."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt

from workbench.core.embedding import embed_items
from workbench.core.items import Item
from workbench.core.milvus import MilvusTarget, open_milvus

DOCS = [
    ("The cat sleeps on the warm sofa.", "pets"),
    ("A kitten chases a ball of wool.", "pets"),
    ("Stocks fell after the rate decision.", "finance"),
    ("The bank raised interest rates.", "finance"),
    ("Rain is expected this weekend.", "weather"),
]


@pytest.fixture
def panel(qtbot, tmp_path: Path, local_embedder):
    from workbench.ui.panels.milvus_panel import MilvusPanel
    from workbench.ui.state import AppState
    from workbench.ui.tasks import TaskRunner

    state, runner = AppState(), TaskRunner()
    widget = MilvusPanel(state, runner)
    qtbot.addWidget(widget)
    state.embedders.put(local_embedder)  # the session's loaded model
    widget.uri.setText(str(tmp_path / "panel.db"))
    yield widget
    runner.cancel_all()
    runner.wait_for_done(10_000)


def embed_docs(panel, local_embedder) -> None:
    items = [Item.create(text, metadata={"topic": topic}) for text, topic in DOCS]
    panel.state.set_items("document", items)
    panel.state.set_embedding(embed_items(items, local_embedder))


def push_and_wait(qtbot, panel) -> None:
    qtbot.mouseClick(panel.push_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not panel.runner.is_running("milvus-push"), timeout=30_000)


def test_push_from_the_panel_and_see_the_count(qtbot, panel, local_embedder) -> None:
    assert not panel.push_button.isEnabled() and "Embed first" in panel.push_button.toolTip()
    embed_docs(panel, local_embedder)
    assert panel.push_button.isEnabled()
    push_and_wait(qtbot, panel)
    assert panel.count_label.text() == "5 rows in 'workbench'"
    assert "Pushed 5 items" in panel.messages.text()
    assert panel.collections_table.rowCount() == 1
    assert [panel.collections_table.item(0, c).text() for c in range(5)] == [
        "workbench", "5", "384", "COSINE", "AUTOINDEX"
    ]  # fmt: skip
    push_and_wait(qtbot, panel)  # the same corpus again: upserted, not added
    assert panel.count_label.text() == "5 rows in 'workbench'"
    with open_milvus(MilvusTarget(panel.uri.text())) as db:  # the panel released the database after each push
        assert db.count("workbench") == 5


def test_the_panel_lists_collections_when_first_shown_and_paints(qtbot, panel, local_embedder) -> None:
    with open_milvus(MilvusTarget(panel.uri.text())) as db:
        db.push("earlier", [Item.create("x")], np.ones((1, 4), np.float32) / 2, local_embedder.spec)
    panel.show()
    qtbot.waitUntil(lambda: panel.collections_table.rowCount() == 1, timeout=30_000)
    assert panel.collections_table.item(0, 0).text() == "earlier"
    image = panel.grab().toImage()  # painting once crashed: an attribute shadowed QWidget.metric()
    assert not image.isNull() and len({image.pixel(x, 40) for x in range(0, image.width(), 7)}) > 2


def test_search_shows_hits_next_to_the_exact_ranking_with_recall(qtbot, panel, local_embedder) -> None:
    embed_docs(panel, local_embedder)
    push_and_wait(qtbot, panel)
    panel.query.setText("a sleepy cat on a couch")
    panel.top_k.setValue(3)
    with qtbot.waitSignal(panel.runner.task_finished, timeout=30_000, check_params_cb=lambda k: k == "milvus-search"):
        qtbot.keyClick(panel.query, Qt.Key.Key_Return)
    results = panel.results
    assert results.rowCount() == 3, panel.messages.text()  # recall 1: the same three items in both rankings
    column = {header: results.column_of(header) for header in ("Milvus", "exact", "hit", "score", "id", "topic")}
    assert results.headers() == ["Milvus", "exact", "hit", "score", "id", "topic"]  # topic: the first column
    items = {item.id: item for item in panel.state.corpus.items}
    for row in range(3):  # each row's id, text and metadata are the pushed item's
        item = items[results.item(row, column["id"]).text()]
        assert results.item(row, column["hit"]).text() == item.text
        assert results.item(row, column["topic"]).text() == item.metadata["topic"]
        assert results.item(row, column["Milvus"]).text() == str(row + 1)
        assert item.text in results.item(row, column["topic"]).toolTip()  # the whole text on hover, on every cell
    assert results.item(0, column["hit"]).text() == DOCS[0][0] and results.item(0, column["exact"]).text() == "1"
    scores = [float(results.item(row, column["score"]).text()) for row in range(3)]
    assert scores == sorted(scores, reverse=True)
    assert "recall@3 of Milvus against the exact ranking: 1.00 (exact over 5 rows)" in panel.recall_label.text()
    results.cellDoubleClicked.emit(0, column["score"])
    assert panel.state.selection == [results.item_id(0)] == [results.item(0, column["id"]).text()]


def test_a_metadata_filter_value_is_a_parameter_not_code(qtbot, panel, local_embedder) -> None:
    embed_docs(panel, local_embedder)
    push_and_wait(qtbot, panel)
    assert [panel.meta_key.itemText(i) for i in range(panel.meta_key.count())] == ["", "topic"]
    panel.query.setText("money")
    panel.meta_key.setCurrentText("topic")
    for value, expected in (("finance", 2), ('finance" or kind != "', 0)):
        panel.meta_value.setText(value)
        with qtbot.waitSignal(panel.runner.task_finished, timeout=30_000):
            panel.search()
        assert panel.results.rowCount() == expected, value
    assert not panel.messages.isVisible() or panel.messages.level != "error"
    panel.expression.setText("metadata[")
    with qtbot.waitSignal(panel.runner.task_finished, timeout=30_000):
        panel.search()
    assert panel.messages.level == "error" and "rejected the filter" in panel.messages.text()


def test_a_database_held_by_the_cli_is_reported_and_drop_asks_first(qtbot, panel, local_embedder) -> None:
    embed_docs(panel, local_embedder)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys; from workbench.core.milvus import *\n"
         "with open_milvus(MilvusTarget(sys.argv[1])):\n    print('ready', flush=True); sys.stdin.read()",
         panel.uri.text()],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "ready"
        push_and_wait(qtbot, panel)
        assert panel.messages.level == "error" and "in use by another program" in panel.messages.text()
    finally:
        holder.communicate("", timeout=30)
    push_and_wait(qtbot, panel)
    assert panel.count_label.text() == "5 rows in 'workbench'"
    questions: list[str] = []
    panel.confirm = lambda question: questions.append(question) or False
    qtbot.mouseClick(panel.drop_button, Qt.MouseButton.LeftButton)
    assert "Drop the collection 'workbench'" in questions[0] and not panel.runner.is_running("milvus-drop")
    panel.confirm = lambda question: True
    with qtbot.waitSignal(panel.runner.task_finished, timeout=30_000):
        qtbot.mouseClick(panel.drop_button, Qt.MouseButton.LeftButton)
    assert panel.collections_table.rowCount() == 0 and panel.messages.text() == "Dropped 'workbench'."


def test_cancel_stops_a_push_between_batches(qtbot, panel) -> None:
    from workbench.core.embedders.base import EmbeddingSpec, l2_normalise
    from workbench.core.embedding import EmbeddingResult

    items = [Item.create(f"row {i}") for i in range(20_000)]
    vectors = l2_normalise(np.random.default_rng(0).normal(size=(20_000, 8)))
    panel.state.set_embedding(EmbeddingResult(items, vectors, EmbeddingSpec(dim=8), 8, 0, 0))
    qtbot.mouseClick(panel.push_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.progress.value() > 0, timeout=30_000)
    qtbot.mouseClick(panel.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not panel.runner.is_running("milvus-push"), timeout=30_000)
    assert panel.messages.level == "warning" and "Push again to complete it" in panel.messages.text()
    assert not panel.cancel_button.isVisible() and panel.push_button.isEnabled()
    qtbot.waitUntil(lambda: not panel.runner.running(), timeout=30_000)  # the panel re-lists after a cancel
    with open_milvus(MilvusTarget(panel.uri.text())) as db:
        assert 0 < db.count("workbench") < 20_000


def test_a_collection_without_full_text_is_offered_the_re_push(qtbot, panel, local_embedder) -> None:
    embed_docs(panel, local_embedder)
    result = panel.state.embedding
    with open_milvus(MilvusTarget(panel.uri.text())) as db:  # made before full text existed
        db.push("old", result.items, result.vectors, result.spec, fulltext=False)
    with qtbot.waitSignal(panel.runner.task_finished, timeout=30_000):
        panel.refresh()
    table = panel.collections_table
    assert table.horizontalHeaderItem(5).text() == "BM25" and table.item(0, 5).text() == "no"
    table.selectRow(0)  # picking it: the search lab now searches it too
    assert panel.collection.text() == "old" and panel.state.milvus_collection == "old"
    assert panel.state.milvus_target.uri == panel.uri.text()
    assert panel.fulltext_button.isVisibleTo(panel)
    questions: list[str] = []
    panel.confirm = lambda question: questions.append(question) or True
    with qtbot.waitSignal(panel.runner.task_finished, timeout=60_000):
        qtbot.mouseClick(panel.fulltext_button, Qt.MouseButton.LeftButton)
    assert "Copy 'old' into a new collection with full text" in questions[0]
    assert panel.messages.text() == "'old' now has full text: BM25 and hybrid search can use it."
    assert table.item(0, 5).text() == "yes" and table.item(0, 1).text() == "5"  # every row copied
    assert not panel.fulltext_button.isVisibleTo(panel)
