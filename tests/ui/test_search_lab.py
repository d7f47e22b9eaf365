"""The Search lab driven as a person drives it: choices, the side-by-side tables, the map's lines, real searches.

Drawing is checked on planted hits; searching runs the real local model against real Milvus Lite (dense, BM25,
hybrid) and numpy (exact), through the TaskRunner and the app's Milvus process.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt

from workbench.core.embedding import embed_items
from workbench.core.items import Item
from workbench.core.milvus import MilvusTarget, open_milvus
from workbench.core.milvus.results import Hit
from workbench.core.search_modes import exact_rankings
from workbench.ui.lab_pipeline import failures_sentence
from workbench.ui.lab_state import LabSearch
from workbench.ui.panels.search_lab import ONLY_HERE, SOME_MISSED

DOCS = [
    ("The cat sleeps on the warm sofa.", "pets"),
    ("A kitten chases a ball of wool.", "pets"),
    ("Stocks fell after the rate decision.", "finance"),
    ("The bank raised interest rates.", "finance"),
    ("Rain is expected this weekend.", "weather"),
]
SEARCHED = lambda key: key == "lab-search"  # noqa: E731


def hit(item_id: str, score: float) -> Hit:
    return Hit(item_id, score, f"text of {item_id}", "document", {"topic": "t"})


@pytest.fixture
def planted(window):
    """Five documents and a query with a layout; a search whose modes disagree: d4 only BM25, d1/d3 not BM25."""
    state = window.state
    items = [Item(f"d{i}", f"text of d{i}", "document") for i in range(1, 6)] + [Item("q1", "a query", "query")]
    from workbench.core.embedders.base import EmbeddingSpec, l2_normalise
    from workbench.core.embedding import EmbeddingResult

    vectors = l2_normalise(np.random.default_rng(0).normal(size=(6, 8)))
    state.set_items("document", items[:5])
    state.set_items("query", items[5:])
    state.set_embedding(EmbeddingResult(items, vectors, EmbeddingSpec(), 8, 6, 0), np.arange(12.0).reshape(6, 2))
    search = LabSearch("a query", "q1", {
        "dense": [hit("d1", 0.9), hit("d2", 0.8), hit("d3", 0.7)],
        "bm25": [hit("d2", 7.0), hit("d4", 3.0)],
        "exact": [hit("d1", 0.9), hit("d2", 0.8), hit("d3", 0.7)],
    })  # fmt: skip
    window.docks["Search lab"].raise_()
    state.set_lab(search=search)
    return window


def test_side_by_side_marks_what_one_mode_found_and_another_did_not(qtbot, planted) -> None:
    table = planted.search_lab.side_by_side
    headers = [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())]
    assert [h.split()[0] for h in headers] == ["dense", "BM25", "exact"] and table.rowCount() == 3
    tint = {(r, c): table.item(r, c).background().color().name() for r in range(3) for c in range(3)
            if table.item(r, c) is not None}  # fmt: skip
    assert table.item_id(1, 1) == "d4" and tint[(1, 1)] == ONLY_HERE  # BM25 alone found d4
    assert table.item_id(0, 0) == "d1" and tint[(0, 0)] == SOME_MISSED  # BM25 missed d1
    assert table.item_id(1, 0) == "d2" and tint[(1, 0)] not in (ONLY_HERE, SOME_MISSED)  # every mode found d2
    assert "Not found by BM25" in table.item(0, 0).toolTip() and "Only this mode" in table.item(1, 1).toolTip()
    assert table.item(0, 1).text().startswith("7.000")  # score, then text
    table.select_item_at(1, 0)  # d2: where every mode ranked it
    assert table.selected_places() == [(0, 1), (1, 0), (1, 2)]

    merged = planted.search_lab.merged
    assert merged.headers()[:4] == ["dense", "BM25", "exact", "text"] and merged.rowCount() == 4
    rows = {merged.item_id(r): r for r in range(4)}
    ranks = {item: [merged.item(rows[item], c).text() for c in range(3)] for item in rows}
    assert ranks == {"d1": ["1", "—", "1"], "d2": ["2", "1", "2"], "d3": ["3", "—", "3"], "d4": ["—", "2", "—"]}
    assert "topic" in merged.headers() and merged.item(rows["d4"], 0).background().color().name() == ONLY_HERE
    assert (
        "dense #2, score 0.800; BM25 #1, score 7.000; exact dense #2, score 0.800."
        in merged.item(rows["d2"], 0).toolTip()
    )
    assert "4 items across 3 modes, 3 not found by every mode" in planted.search_lab.summary.text()
    from workbench.core.relevance import RelevanceLabels

    planted.state.set_lab(labels=RelevanceLabels({"q1": {"d4": 1, "d3": 0, "d5": 2}}))  # labels mark what is relevant
    marked = {table.item_id(r, c) for r in range(3) for c in range(3) if table.item(r, c) is not None
              and table.item(r, c).text().startswith("✓")}  # fmt: skip
    assert marked == {"d4"} and "Relevant (labels)." in table.item(1, 1).toolTip()
    assert "✓ relevant by the labels (2 for this query)" in planted.search_lab.summary.text()


def test_the_map_draws_the_query_and_one_line_style_per_mode(qtbot, planted) -> None:
    overlay = planted.projection_view.lab_overlay
    assert overlay.drawn == {"query": ["q1"], "dense": ["d1", "d2", "d3"], "bm25": ["d2", "d4"],
                             "exact": ["d1", "d2", "d3"]}  # fmt: skip
    xy = planted.state.projection
    x, y = overlay.lines["bm25"].getData()
    assert np.allclose(np.column_stack([x, y]), [xy[5], xy[1], xy[5], xy[3]])  # q1 -> d2, q1 -> d4
    pens = {mode: overlay.lines[mode].opts["pen"] for mode in ("dense", "bm25", "exact")}
    assert len({(p.color().name(), p.style()) for p in pens.values()}) == 3
    assert not overlay.query_placed and overlay.legend.isVisible()
    from workbench.ui.lab_overlay import LANE_PX

    pixel = np.asarray(overlay.scatter.viewbox.viewPixelSize())
    dense, exact = (np.column_stack(overlay.lines[mode].getData()) for mode in ("dense", "exact"))
    apart = np.linalg.norm((dense - exact) / pixel, axis=1)  # same documents: parallel lanes, in screen pixels
    assert np.allclose(apart, 2 * LANE_PX, atol=0.05), apart
    overlay.scatter.viewbox.scaleBy((0.5, 0.5))  # zoomed in: still the same pixels apart
    dense, exact = (np.column_stack(overlay.lines[mode].getData()) for mode in ("dense", "exact"))
    pixel = np.asarray(overlay.scatter.viewbox.viewPixelSize())
    assert np.allclose(np.linalg.norm((dense - exact) / pixel, axis=1), 2 * LANE_PX, atol=0.05)
    state = planted.state  # a typed query that is not in the corpus: drawn at the centre of its exact top 3
    state.set_lab(search=replace(state.lab.search, query_id=None, text="something new"))
    assert overlay.query_placed
    assert np.allclose(overlay.query_mark.getData(), xy[[0, 1, 2]].mean(axis=0).reshape(2, 1))
    state.set_lab(search=None)
    assert overlay.drawn == {} and not overlay.legend.isVisible()


def test_the_controls_show_and_set_the_lab_choices(qtbot, window) -> None:
    panel, state = window.search_lab, window.state
    assert all(box.isChecked() for box in panel.mode_boxes.values())
    panel.mode_boxes["bm25"].setChecked(False)
    assert state.lab.settings.modes == ("dense", "hybrid", "exact")
    panel.ranker.setCurrentIndex(panel.ranker.findData("weighted"))
    assert state.lab.settings.ranker == "weighted" and panel.fusion.currentIndex() == 1
    panel.weight.setValue(30)
    assert state.lab.settings.dense_weight == 0.3 and panel.weight_label.text() == "dense 0.30 · BM25 0.70"
    state.set_lab(settings=replace(state.lab.settings, ranker="rrf", rrf_k=12, modes=("bm25",)))
    assert panel.fusion.currentIndex() == 0 and panel.rrf_k.value() == 12
    assert not panel.mode_boxes["dense"].isChecked() and not panel.ranker.isEnabled()  # no hybrid: no fusion


@pytest.fixture
def embedded(window, local_embedder, tmp_path: Path):
    state = window.state
    state.embedders.put(local_embedder)
    documents = [Item(f"doc{i}", text, "document", {"topic": topic}) for i, (text, topic) in enumerate(DOCS)]
    query = Item("q-cat", "Which sofa does my cat like?", "query")
    state.set_items("document", documents)
    state.set_items("query", [query])
    state.set_embedding(embed_items([*documents, query], local_embedder), np.arange(12.0).reshape(6, 2))
    return window, MilvusTarget(str(tmp_path / "lab.db"))


def search(qtbot, window, text: str) -> None:
    window.search_lab.query.setEditText(text)
    with qtbot.waitSignal(window.runner.task_finished, timeout=60_000, check_params_cb=SEARCHED):
        qtbot.mouseClick(window.search_lab.search_button, Qt.MouseButton.LeftButton)


def test_a_real_search_in_every_mode_against_milvus_lite_and_numpy(qtbot, embedded) -> None:
    window, target = embedded
    state = window.state
    with open_milvus(target) as db:  # documents and the query, as the Milvus panel pushes them
        db.push("lab", list(state.embedding.items), state.embedding.vectors, state.embedding.spec)
    state.set_milvus(target, "lab")
    search(qtbot, window, "Which sofa does my cat like?")
    found = state.lab.search
    assert found is not None and not found.failures, window.search_lab.messages.text()
    assert found.query_id == "q-cat" and found.modes() == ["dense", "bm25", "hybrid", "exact"]
    ids = {mode: [h.id for h in hits] for mode, hits in found.hits.items()}
    assert all(ids[mode][0] == "doc0" for mode in ids), ids  # the cat sentence, in every mode
    assert all(not i.startswith("q-") for hits in ids.values() for i in hits)  # queries are never answers
    assert ids["bm25"] == ["doc0"]  # BM25 needs a shared word: only the cat sentence has "sofa" or "cat"
    embedding = state.embedding
    rows = np.flatnonzero(embedding.kinds == "document")
    exact = exact_rankings([embedding.items[r] for r in rows], embedding.vectors[rows], embedding.vectors[5], 10)[0]
    assert ids["exact"] == [h.id for h in exact] and ids["dense"] == ids["exact"]  # FLAT-like recall on 5 rows
    assert window.search_lab.side_by_side.columnCount() == 4
    assert set(window.projection_view.lab_overlay.drawn) == {"query", "dense", "bm25", "hybrid", "exact"}


def test_a_collection_without_full_text_says_so_and_still_shows_dense(qtbot, embedded) -> None:
    window, target = embedded
    state = window.state
    documents = [i for i in state.embedding.items if i.kind == "document"]
    with open_milvus(target) as db:
        db.push("old", documents, state.embedding.vectors[:5], state.embedding.spec, fulltext=False)
    state.set_milvus(target, "old")
    state.set_lab(settings=replace(state.lab.settings, modes=("dense", "bm25", "hybrid")))
    search(qtbot, window, "a kitten and wool")
    found = state.lab.search
    assert found.modes() == ["dense"] and found.hits["dense"][0].id == "doc1"
    assert set(found.failures) == {"bm25", "hybrid"}
    message = window.search_lab.messages
    assert message.level == "error" and "without full text" in message.text() and "re-push" in message.text()
    assert message.text().startswith("BM25 and hybrid: ")  # both named, once
    table = window.search_lab.side_by_side
    assert [table.horizontalHeaderItem(c).text().split()[0] for c in range(3)] == ["dense", "BM25", "hybrid"]
    assert table.item(0, 1).text().startswith("Not run:") and not window.search_lab.push_button.isVisible()


def test_without_a_push_every_mode_shows_its_column_or_says_why_in_place(qtbot, embedded) -> None:
    """A new user searches before pushing: exact dense still answers, and dense, BM25 and hybrid each keep a
    column that says they need the documents in Milvus, with the way there offered (no failure hides another)."""
    window, target = embedded
    state, panel = window.state, window.search_lab
    state.set_milvus(target, "workbench")  # nothing pushed: there is no such collection
    assert state.lab.settings.modes == ("dense", "bm25", "hybrid", "exact")
    search(qtbot, window, "a kitten and wool")
    found = state.lab.search
    assert found.modes() == ["exact"] and found.hits["exact"][0].id == "doc1"
    assert set(found.failures) == {"dense", "bm25", "hybrid"}
    table = panel.side_by_side
    headers = [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())]
    assert headers[:3] == ["dense ✕", "BM25 ✕", "hybrid ✕"] and headers[3].startswith("exact")
    for column in range(3):
        assert table.item(0, column).text().startswith("Not run: There is no collection 'workbench'")
        assert table.rowSpan(0, column) == table.rowCount() == len(found.hits["exact"])
    assert table.item_id(0, 3) == "doc1" and table.item_id(0, 0) is None
    text = panel.messages.text()
    assert panel.messages.level == "error"
    assert text.startswith("Dense, BM25 and hybrid need the documents in Milvus: There is no collection 'workbench'")
    assert "Push them in the Milvus panel" in text
    milvus = window.docks["Milvus"]
    window.docks["Search lab"].raise_()
    assert panel.push_button.isVisible() and milvus.widget().visibleRegion().isEmpty()  # tabbed behind the lab
    qtbot.mouseClick(panel.push_button, Qt.MouseButton.LeftButton)
    assert not milvus.widget().visibleRegion().isEmpty()  # on screen now, where Push is
    with open_milvus(target) as db:  # pushed: every column is a ranking again, and the offer goes
        db.push("workbench", list(state.embedding.items), state.embedding.vectors, state.embedding.spec)
    search(qtbot, window, "a kitten and wool")
    assert state.lab.search.modes() == ["dense", "bm25", "hybrid", "exact"] and not state.lab.search.failures
    assert not panel.push_button.isVisible() and table.columnCount() == 4 and table.rowSpan(0, 0) == 1


def test_another_milvus_refusal_is_not_taken_for_a_missing_collection(qtbot, embedded) -> None:
    """A collection that exists but holds other vectors refuses the dense search: the lab says why, with no
    'push the documents' advice and no button to the Milvus panel (a missing collection is known by its type)."""
    window, target = embedded
    state, panel = window.state, window.search_lab
    documents = [i for i in state.embedding.items if i.kind == "document"]
    spec = replace(state.embedding.spec, dim=8)
    with open_milvus(target) as db:
        db.push("small", documents, np.eye(5, 8, dtype=np.float32), spec)
    state.set_milvus(target, "small")
    state.set_lab(settings=replace(state.lab.settings, modes=("dense", "exact")))
    search(qtbot, window, "a kitten and wool")
    found = state.lab.search
    assert found.modes() == ["exact"] and set(found.failures) == {"dense"} and not found.unpushed
    assert panel.messages.text().startswith("Dense: Collection 'small' holds 8-d vectors")
    assert "Push them" not in panel.messages.text() and not panel.push_button.isVisible()


def test_only_a_missing_collection_gets_the_push_advice_whatever_the_wording() -> None:
    why = "There is no collection 'workbench' at lab.db."
    assert failures_sentence({"dense": why}) == f"Dense: {why}"
    assert failures_sentence({"dense": why, "bm25": why}, {"dense", "bm25"}).startswith(
        f"Dense and BM25 need the documents in Milvus: {why} Push them"
    )


def test_a_search_that_cannot_run_says_why_and_starts_nothing(qtbot, window) -> None:
    panel, state = window.search_lab, window.state
    panel.query.setEditText("   ")
    panel.search()
    assert panel.messages.text() == "Type a query first." and not window.runner.is_running("lab-search")
    panel.query.setEditText("cats")
    panel.search()  # nothing embedded: dense and exact need the corpus' model
    assert "Embed the corpus first" in panel.messages.text() and not window.runner.is_running("lab-search")
    state.set_lab(settings=replace(state.lab.settings, modes=()))
    panel.search()
    assert panel.messages.text() == "Choose at least one search mode."


def test_saved_lab_choices_that_do_not_read_fall_back_to_the_defaults() -> None:
    from workbench.ui.lab_state import LabSettings

    assert LabSettings.from_dict(None) == LabSettings()
    odd = LabSettings.from_dict({"modes": ["dense", "telepathy"], "ranker": "magic", "rrf_k": 0, "k": True,
                                 "dense_weight": 1.5, "map_mode": "bm25"})  # fmt: skip
    assert odd == LabSettings(map_mode="bm25")
    chosen = LabSettings(modes=("bm25", "exact"), ranker="weighted", rrf_k=5, dense_weight=0.25, k=20)
    assert LabSettings.from_dict(chosen.to_dict()) == chosen
