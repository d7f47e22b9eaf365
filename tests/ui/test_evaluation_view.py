"""The Evaluation view driven as a person drives it: labels in, Evaluate, the numbers, the worst query on the map.

The planted corpus has vectors chosen so that every metric can be worked out by hand (below), so the test
checks the app's numbers, not just that numbers appear. Imports read real BEIR folders and qrels files.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt

from workbench.core.embedders.base import EmbeddingSpec
from workbench.core.embedding import EmbeddingResult
from workbench.core.items import Item
from workbench.core.relevance import RelevanceLabels

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
from make_beir_demo import write_demo

DIM = 4
IMPORTED = lambda key: key == "lab-import"  # noqa: E731 - the task a File ▸ Import runs


def planted(query_1: np.ndarray) -> EmbeddingResult:
    """12 documents fanning out from e0 (d1 nearest e0 ... d11, then d12 = -e0), d13 = e2; q1 = `query_1`, q2 = e2."""
    angles = np.linspace(0.05, 1.5, 11)
    vectors = [np.array([math.cos(a), math.sin(a), 0, 0]) for a in angles]
    vectors += [np.array([-1.0, 0, 0, 0]), np.array([0, 0, 1.0, 0]), query_1, np.array([0, 0, 1.0, 0])]
    items = [Item(f"d{i}", f"document {i}", "document") for i in range(1, 14)]
    items += [Item("q1", "first query", "query"), Item("q2", "second query", "query")]
    return EmbeddingResult(items, np.asarray(vectors, dtype=np.float32), EmbeddingSpec(), DIM, len(items), 0)


LABELS = RelevanceLabels({"q1": {"d2": 1, "d12": 1, "d5": 0}, "q2": {"d13": 2}}, "planted.tsv")
# By hand (trec_eval's conventions: gain = grade, discount log2(rank + 1), relevant = grade > 0):
# A: q1 ranks d1..d11, d12: d2 at rank 2, d12 at rank 12. nDCG@10 = (1/log2 3) / (1 + 1/log2 3), R@10 = 0.5,
#    R@100 = 1, MRR@10 = 1/2. q2 ranks d13 first: every metric 1.
# B (q1 = -e0): q1 ranks d12 first and d2 at 11: nDCG@10 = 1 / (1 + 1/log2 3), R@10 = 0.5, R@100 = 1, MRR@10 = 1.
IDEAL = 1 + 1 / math.log2(3)
EXPECTED_A = {"nDCG@10": ((1 / math.log2(3)) / IDEAL + 1) / 2, "Recall@10": 0.75, "Recall@100": 1.0, "MRR@10": 0.75}
EXPECTED_B = {"nDCG@10": (1 / IDEAL + 1) / 2, "Recall@10": 0.75, "Recall@100": 1.0, "MRR@10": 1.0}


@pytest.fixture
def lab(window):
    """The main window with the planted corpus embedded and laid out, labels in, exact dense search chosen."""
    from dataclasses import replace

    state = window.state
    result = planted(np.array([1.0, 0, 0, 0]))
    state.set_items("document", [i for i in result.items if i.kind == "document"])
    state.set_items("query", [i for i in result.items if i.kind == "query"])
    layout = np.random.default_rng(3).normal(size=(len(result.items), 2))
    state.set_embedding(result, layout, "test layout")
    state.set_lab(labels=LABELS, settings=replace(state.lab.settings, modes=("exact",), map_mode="exact"))
    window.docks["Evaluation"].raise_()
    return window


def evaluate(qtbot, window) -> None:
    view = window.evaluation_view
    with qtbot.waitSignal(window.runner.task_finished, timeout=60_000, check_params_cb=lambda k: k == "lab-evaluate"):
        qtbot.mouseClick(view.evaluate_button, Qt.MouseButton.LeftButton)


def test_the_numbers_are_the_ones_worked_out_by_hand(qtbot, lab) -> None:
    view = lab.evaluation_view
    evaluate(qtbot, lab)
    evaluation = lab.state.lab.evaluation
    assert evaluation is not None, view.messages.text()
    assert evaluation.modes() == ["exact"] and evaluation.queries == ("q1", "q2")
    for measure, expected in EXPECTED_A.items():
        assert evaluation.aggregate["exact"][measure] == pytest.approx(expected, abs=1e-6), measure
    table = view.summary_table
    headers = [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())]
    assert headers == ["mode", "nDCG@10", "Recall@10", "Recall@100", "MRR@10", "queries"]
    assert [table.item(0, c).text() for c in range(6)] == [
        "exact dense", f"{EXPECTED_A['nDCG@10']:.3f}", "0.750", "1.000", "0.750", "2"
    ]  # fmt: skip
    assert view.query_table.item(0, 0).data(Qt.ItemDataRole.UserRole + 1) == "q1"  # the worst query first
    assert view.query_table.item(0, 2).text() == f"{(1 / math.log2(3)) / IDEAL:.3f}"


def test_choosing_a_query_shows_relevant_found_missed_and_wrong_on_the_map(qtbot, lab) -> None:
    view, overlay = lab.evaluation_view, lab.projection_view.lab_overlay
    evaluate(qtbot, lab)
    row = view.query_row("q1")
    view.query_table.selectRow(row)
    assert lab.state.lab.focus == "q1"
    drawn = overlay.drawn
    assert drawn["found"] == ["d2"]  # relevant, in the top 10
    assert drawn["missed"] == ["d12"]  # relevant, ranked 12th
    assert drawn["wrong"] == ["d1", *(f"d{i}" for i in range(3, 11))]  # the rest of the top 10 (d5 judged 0)
    assert drawn["exact"] == [f"d{i}" for i in range(1, 11)] and drawn["query"] == ["q1"]
    assert not overlay.query_placed  # q1 is embedded: drawn at its own point
    xy = lab.state.projection
    marks = {kind: item.getData() for kind, item in overlay.marks.items()}
    assert np.allclose(np.column_stack(marks["missed"]), xy[[11]])  # d12's point
    symbols = {item.opts["symbol"] for item in overlay.marks.values()}
    colours = {item.opts["pen"].color().name() for item in overlay.marks.values()}
    assert len(symbols) == 3 and len(colours) == 3  # three distinct styles
    assert "1 of 2 relevant found in the top 10, 9 found but not relevant, 1 missed" in view.focus_line.text()
    view.query_table.selectRow(view.query_row("q2"))
    assert overlay.drawn["found"] == ["d13"] and overlay.drawn["missed"] == []


def test_compare_configuration_b_is_evaluated_from_its_own_vectors(qtbot, lab) -> None:
    from workbench.core.compare import compare
    from workbench.core.exchange import ExchangeTable
    from workbench.ui.pipeline import ComparisonOutcome

    state = lab.state
    a, b = state.embedding, planted(np.array([-1.0, 0, 0, 0]))
    comparison = compare(ExchangeTable(a.items, a.vectors, a.spec), ExchangeTable(b.items, b.vectors, b.spec), k=3)
    state.set_comparison(ComparisonOutcome(a, b, np.zeros((15, 2)), comparison))
    evaluate(qtbot, lab)
    evaluation = state.lab.evaluation
    assert evaluation.modes() == ["exact", "exact_b"]
    for measure in EXPECTED_B:
        assert evaluation.aggregate["exact"][measure] == pytest.approx(EXPECTED_A[measure], abs=1e-6)
        assert evaluation.aggregate["exact_b"][measure] == pytest.approx(EXPECTED_B[measure], abs=1e-6), measure
    assert lab.evaluation_view.summary_table.item(1, 0).text() == "exact dense, B"
    assert evaluation.runs["exact_b"]["q1"][0] == "d12"


def test_cancel_stops_an_evaluation_and_keeps_nothing_half_done(qtbot, lab) -> None:
    from dataclasses import replace

    state = lab.state
    state.set_lab(settings=replace(state.lab.settings, modes=("dense", "exact")))  # dense: the Milvus process
    view = lab.evaluation_view
    with qtbot.waitSignal(lab.runner.task_finished, timeout=60_000, check_params_cb=lambda k: k == "lab-evaluate"):
        qtbot.mouseClick(view.evaluate_button, Qt.MouseButton.LeftButton)
        assert view.cancel_button.isVisible() and not view.evaluate_button.isEnabled()
        qtbot.mouseClick(view.cancel_button, Qt.MouseButton.LeftButton)
    assert state.lab.evaluation is None
    assert view.messages.level == "warning" and "ancel" in view.messages.text()
    assert view.evaluate_button.isEnabled() and not view.cancel_button.isVisible()


def test_new_labels_or_vectors_clear_an_evaluation_that_no_longer_holds(qtbot, lab) -> None:
    evaluate(qtbot, lab)
    assert lab.state.lab.evaluation is not None
    lab.state.set_lab(labels=RelevanceLabels({"q1": {"d1": 1}}, "other.tsv"))
    assert lab.state.lab.evaluation is None and lab.evaluation_view.summary_table.rowCount() == 0
    assert "1 queries with relevant documents, 1 judgements from other.tsv" in lab.evaluation_view.labels_line.text()


def test_after_the_corpus_changes_evaluate_refuses_and_the_old_result_and_labels_say_so(qtbot, lab) -> None:
    """BEIR in, Embed, Evaluate, then another corpus (new ids): the old table is marked stale, the labels line
    counts what no longer matches, and Evaluate asks for a new Embed instead of judging the old vectors."""
    state, view = lab.state, lab.evaluation_view
    evaluate(qtbot, lab)
    shown = state.lab.evaluation
    assert shown is not None and not view.stale.isVisible()
    assert not view.labels_mismatch.isVisible()
    state.set_items("document", [Item(f"s{i}", f"sample {i}", "document") for i in range(5)])
    assert view.stale.isVisible() and "documents or queries changed" in view.stale.text()
    assert view.labels_mismatch.isVisible() and "4 judgements from planted.tsv" in view.labels_line.text()
    assert view.labels_mismatch.text().startswith("These labels do not match the corpus now: 4 of 4 judged documents")
    assert "labelled queries" not in view.labels_mismatch.text()  # q1 and q2 are still there
    state.set_items("query", [Item("sq", "sample query", "query")])
    assert "now: 2 of 2 labelled queries and 4 of 4 judged documents are not in it." in view.labels_mismatch.text()
    qtbot.mouseClick(view.evaluate_button, Qt.MouseButton.LeftButton)
    assert view.messages.level == "warning" and view.messages.text().startswith("Embed again first: the documents")
    assert not lab.runner.is_running("lab-evaluate") and state.lab.evaluation is shown  # kept, marked stale
    state.set_items("document", [i for i in planted(np.array([1.0, 0, 0, 0])).items if i.kind == "document"])
    state.set_items("query", [i for i in planted(np.array([1.0, 0, 0, 0])).items if i.kind == "query"])
    assert not view.stale.isVisible() and not view.labels_mismatch.isVisible()  # back: current again
    evaluate(qtbot, lab)
    assert view.messages.level != "warning" and state.lab.evaluation == shown  # same corpus and vectors: same numbers


def test_import_a_beir_folder_then_bad_folders_and_qrels_say_what_is_wrong(qtbot, window, tmp_path: Path) -> None:
    files, state = window.lab_files, window.state
    folder = write_demo(tmp_path / "demo")
    with qtbot.waitSignal(window.runner.task_finished, timeout=30_000, check_params_cb=IMPORTED):
        files.import_beir(folder)
    assert len(state.corpus.items) == 46 and state.lab.labels is not None and len(state.lab.labels) == 48
    assert {i.id for i in state.corpus.items if i.kind == "query"} == {f"q{i}" for i in range(1, 7)}
    assert "40 documents, 6 queries, 48 relevance labels (6 queries to evaluate)" in files.last_message
    labels_before = state.lab.labels

    broken = write_demo(tmp_path / "broken")
    (broken / "queries.jsonl").unlink()
    with qtbot.waitSignal(window.runner.task_finished, timeout=30_000, check_params_cb=IMPORTED):
        files.import_beir(broken)
    assert "queries.jsonl is missing" in files.last_message and window.evaluation_view.messages.level == "error"
    assert len(state.corpus.items) == 46 and state.lab.labels is labels_before  # nothing replaced

    absent = tmp_path / "absent.tsv"
    absent.write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\nq1\tnope-1\t1\nq2\tnope-2\t1\n")
    with qtbot.waitSignal(window.runner.task_finished, timeout=30_000, check_params_cb=IMPORTED):
        files.import_qrels(absent)
    assert "2 document ids absent from the corpus ('nope-1', 'nope-2')" in files.last_message
    assert state.lab.labels is labels_before

    bad_line = tmp_path / "bad.tsv"
    bad_line.write_text("q1\td1\t1\nq1\td2\tmaybe\n")
    with qtbot.waitSignal(window.runner.task_finished, timeout=30_000, check_params_cb=IMPORTED):
        files.import_qrels(bad_line)
    assert "line 2, field 'score'" in files.last_message and state.lab.labels is labels_before

    good = tmp_path / "good.tsv"
    good.write_text("q1\td1\t1\nq1\td2\t2\n")
    with qtbot.waitSignal(window.runner.task_finished, timeout=30_000, check_params_cb=IMPORTED):
        files.import_qrels(good)
    assert state.lab.labels.grades == {"q1": {"d1": 1, "d2": 2}}
    assert "5 of 6 queries have no relevant label" in files.last_message  # evaluated over the labelled one


def test_labels_and_lab_choices_travel_in_a_workspace(qtbot, lab, tmp_path: Path) -> None:
    from dataclasses import replace

    state, files = lab.state, lab.file_actions
    state.set_lab(settings=replace(state.lab.settings, ranker="weighted", dense_weight=0.3, rrf_k=20, k=7))
    path = tmp_path / "lab.workbench"
    with qtbot.waitSignal(lab.runner.task_finished, timeout=30_000, check_params_cb=lambda k: k == "workspace-save"):
        files.save_to(path)
    state.set_lab(labels=None, settings=replace(state.lab.settings, ranker="rrf", k=10))
    with qtbot.waitSignal(lab.runner.task_finished, timeout=30_000, check_params_cb=lambda k: k == "workspace-open"):
        files.open(path)
    assert state.lab.labels.grades == LABELS.grades and state.lab.labels.source == "planted.tsv"
    settings = state.lab.settings
    assert (settings.ranker, settings.dense_weight, settings.rrf_k, settings.k) == ("weighted", 0.3, 20, 7)
    assert settings.modes == ("exact",)
    assert lab.search_lab.fusion.currentIndex() == 1 and lab.search_lab.top_k.value() == 7  # the controls follow
