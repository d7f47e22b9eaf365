"""AppState holds every choice, one pipeline makes every derived result, and every view follows both.

Each test here stands for a problem a new user met when state lived in the views: a workspace that reset the
Model panel, view settings lost on save, stale maps after a new corpus, colours that differed between views,
a layout made by a widget, a CSV that broke on a comma, and one Cancel for every task.
"""

from __future__ import annotations

import csv
import threading
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt

from workbench.core.embedders.base import EmbeddingSpec, l2_normalise
from workbench.core.embedding import EmbeddingResult
from workbench.core.items import Item
from workbench.core.view_settings import ViewSettings
from workbench.ui.pipeline import CLUSTER_TASK, COMPARE_TASK, EMBED_TASK, HEATMAP_TASK

GEMINI_768 = EmbeddingSpec("gemini", "gemini-embedding-001", 768, "RETRIEVAL_DOCUMENT", "RETRIEVAL_QUERY")
TOPICS = ["space", "cooking", "music"]


def _items(topics: list[str], per_topic: int = 6, queries: int = 2) -> list[Item]:
    items = [
        Item.create(f"{topic} document {i}", "document", {"topic": topic}) for topic in topics for i in range(per_topic)
    ]
    return items + [Item.create(f"question {q} about {topics[q % len(topics)]}", "query") for q in range(queries)]


def _result(items: list[Item], spec: EmbeddingSpec = GEMINI_768, seed: int = 0) -> EmbeddingResult:
    """Vectors that group by topic (so maps and clusters have structure), as a provider would return them."""
    rng = np.random.default_rng(seed)
    dim = spec.dim or 64
    centres = {topic: rng.normal(size=dim) * 3 for topic in {i.metadata.get("topic", "q") for i in items}}
    vectors = np.stack([centres[i.metadata.get("topic", "q")] + rng.normal(size=dim) for i in items])
    return EmbeddingResult(items, l2_normalise(vectors), spec, dim, len(items), 0).warm()


def _load(window, items: list[Item], result: EmbeddingResult | None = None) -> None:
    """Put items in the corpus and, as the pipeline or a workspace would, their model and vectors in AppState."""
    window.state.set_items("document", [i for i in items if i.kind == "document"])
    window.state.set_items("query", [i for i in items if i.kind == "query"])
    if result is not None:
        window.state.set_spec(result.spec)  # the model that made these vectors is the chosen one
        layout = np.random.default_rng(1).normal(size=(len(items), 2))
        window.state.set_embedding(result, layout, "test layout")


def _embed_locally(window, qtbot, local_embedder) -> None:
    window.state.embedders.put(local_embedder)
    window.state.set_view(layout_method="pca")
    with qtbot.waitSignal(window.state.vectors_changed, timeout=60_000):
        window.start_embedding()
    qtbot.waitUntil(lambda: window.state.projection is not None and not window.runner.running(), timeout=30_000)


# -- the Model panel follows AppState's spec -------------------------------------------------------------------
def test_opening_a_gemini_workspace_shows_its_model_and_touching_the_dimension_keeps_it(
    window, qtbot, tmp_path: Path
) -> None:
    items = _items(TOPICS)
    window.state.set_spec(GEMINI_768)
    _load(window, items, _result(items))
    path = tmp_path / "gemini.workbench"
    window.file_actions.save_to(path)
    qtbot.waitUntil(lambda: "Saved" in window.file_actions.last_message, timeout=20_000)

    other = _fresh_window(qtbot, window)
    with qtbot.waitSignal(other.state.vectors_changed, timeout=20_000):
        other.file_actions.open(path)
    panel = other.model_panel
    assert panel.provider.currentData() == "gemini"
    assert panel.model.currentText() == "gemini-embedding-001" and panel.dim.value() == 768
    assert (panel.document_task.currentText(), panel.query_task.currentText()) == (
        "RETRIEVAL_DOCUMENT",
        "RETRIEVAL_QUERY",
    )
    assert other.state.spec == GEMINI_768  # showing the workspace's spec did not send the panel's old one back
    panel.dim.setValue(1536)
    assert other.state.spec.provider == "gemini" and other.state.spec.model == "gemini-embedding-001"
    assert other.state.spec.dim == 1536


def test_the_key_and_endpoint_reach_app_state_through_an_intent(window, qtbot) -> None:
    panel = window.model_panel
    panel.provider.setCurrentIndex(panel.provider.findData("gemini"))
    with qtbot.waitSignal(window.state.credentials_changed, timeout=2_000):
        panel.key.setText("AIza-typed-in-the-panel-0000")
    with qtbot.waitSignal(window.state.credentials_changed, timeout=2_000):
        panel.base_url.setText("http://127.0.0.1:9/")
    assert window.state.api_key == "AIza-typed-in-the-panel-0000"
    assert window.state.base_url == "http://127.0.0.1:9/"
    with pytest.raises(AttributeError):
        window.state.api_key = "set as a bare attribute"  # only set_credentials changes it


def test_a_provider_message_goes_when_the_provider_changes(window, qtbot) -> None:
    panel = window.model_panel
    panel.provider.setCurrentIndex(panel.provider.findData("gemini"))
    _load(window, _items(TOPICS, 2, 0))
    window.start_embedding()  # no key anywhere: the panel says so
    assert "GEMINI_API_KEY" in panel.messages.text() and panel.messages.isVisible()
    panel.provider.setCurrentIndex(panel.provider.findData("local"))
    assert not panel.messages.isVisible() and panel.messages.text() == ""


# -- every view setting goes through a workspace ----------------------------------------------------------------
def _fresh_window(qtbot, window):
    from workbench.ui.main_window import MainWindow
    from workbench.ui.state import AppState
    from workbench.ui.tasks import TaskRunner

    other = MainWindow(AppState(), TaskRunner(), window.cache)
    qtbot.addWidget(other)
    other.show()
    return other


def _choose(combo, data) -> None:
    index = combo.findData(data)
    assert index >= 0, f"{data!r} is not offered"
    combo.setCurrentIndex(index)


def test_every_view_setting_and_the_model_survive_a_workspace_without_a_new_layout(
    window, qtbot, tmp_path: Path
) -> None:
    items = _items(TOPICS)
    model = window.model_panel
    _choose(model.provider, "gemini")
    model.dim.setValue(768)
    model.document_task.setCurrentText("CLUSTERING")
    _choose(model.device, "cpu")
    _load(window, items, _result(items, EmbeddingSpec("gemini", "gemini-embedding-001", 768, "CLUSTERING",
                                                       "RETRIEVAL_QUERY")))  # fmt: skip
    window.state.set_clusters(np.arange(len(items)) % 3, {0: "zero", 1: "one", 2: "two"})
    projection, similarity, compare = window.projection_view, window.similarity_view, window.compare_view
    editor = compare.cluster_editor
    _choose(projection.method, "pca")
    projection.neighbours_knob.setValue(31)
    projection.min_dist.setValue(0.35)
    projection.reproducible.setChecked(True)
    projection.seed.setValue(7)
    _choose(projection.colour_by, "meta:topic")
    projection.query_k.setValue(5)
    _choose(similarity.mode, "queries")
    _choose(similarity.order, "meta:topic")
    similarity.low.setValue(0.2)
    similarity.high.setValue(0.9)
    similarity.threshold.setValue(50)
    _choose(editor.method, "kmeans")
    editor.clusters_k.setValue(4)
    editor.min_size.setValue(9)
    editor.assign_noise.setChecked(True)
    _choose(editor.names_source, "gemini")
    editor.on_map.setChecked(False)
    _choose(compare.provider, "gemini")
    compare.dim.setValue(256)
    compare.chooser.document_task.setCurrentText("SEMANTIC_SIMILARITY")
    compare.chooser.query_task.setCurrentText("CLUSTERING")
    _choose(compare.layout_method, "pca")
    compare.k.setValue(7)
    _choose(compare.labels, None)
    compare.query_table.choose_column("topic", False)
    model.batch.enabled.setChecked(True)
    model.batch.offer_above.setValue(500)
    _choose(model.tokens.policy, "truncate")
    _choose(projection.points, "parents")  # (no chunks here: the choice is kept for the next chunked Embed)
    chosen = window.state.view
    expected = ViewSettings(
        layout_method="pca", umap_neighbours=31, umap_min_dist=0.35, layout_seed=7, colour_by="meta:topic",
        query_k=5, heatmap_mode="queries", heatmap_order="meta:topic", heatmap_low=0.2, heatmap_high=0.9,
        heatmap_threshold=0.5, cluster_method="kmeans", cluster_count=4, cluster_min_size=9,
        cluster_assign_noise=True, cluster_names_source="gemini", cluster_names_on_map=False,
        compare_provider="gemini", compare_model="", compare_dim=256,
        compare_document_task="SEMANTIC_SIMILARITY",
        compare_query_task="CLUSTERING", compare_k=7, compare_label_column=None, compare_layout_method="pca",
        result_columns=(), gemini_batch=True, batch_offer_above=500, long_texts="truncate", points="parents",
        layout_reproducible=True, embed_device="cpu",
    )  # fmt: skip
    assert chosen == expected
    assert all(
        getattr(chosen, name) != getattr(ViewSettings(), name)
        for name in ViewSettings.__dataclass_fields__
        if name != "compare_model"
    )  # fmt: skip  (B's default model is the provider's first)

    path = tmp_path / "settings.workbench"
    window.file_actions.save_to(path)
    qtbot.waitUntil(lambda: "Saved" in window.file_actions.last_message, timeout=20_000)
    other = _fresh_window(qtbot, window)
    started: list[str] = []
    other.runner.task_started.connect(lambda key, label: started.append(key))
    with qtbot.waitSignal(other.state.projection_changed, timeout=20_000):
        other.file_actions.open(path)
    other.runner.wait_for_done(10_000)
    qtbot.waitUntil(lambda: not other.runner.running(), timeout=10_000)

    assert other.state.view == expected
    assert "projection-first" not in started and "projection-umap" not in started  # the layout came with the file
    np.testing.assert_array_equal(other.state.projection, window.state.projection)
    p, s, c = other.projection_view, other.similarity_view, other.compare_view
    assert (p.method.currentData(), p.neighbours_knob.value(), p.min_dist.value(), p.seed.value()) == (
        "pca", 31, 0.35, 7)  # fmt: skip
    assert p.colour_by.currentData() == "meta:topic" and p.query_k.value() == 5 and p.reproducible.isChecked()
    assert p.points.currentData() == "parents" and other.model_panel.tokens.policy.currentData() == "truncate"
    assert (s.mode.currentData(), s.order.currentData(), s.low.value(), s.high.value(), s.threshold.value()) == (
        "queries", "meta:topic", 0.2, 0.9, 50)  # fmt: skip
    e = c.cluster_editor
    assert (e.method.currentData(), e.clusters_k.value(), e.min_size.value()) == ("kmeans", 4, 9)
    assert (e.assign_noise.isChecked(), e.names_source.currentData(), e.on_map.isChecked()) == (True, "gemini", False)
    assert (c.provider.currentData(), c.dim.value(), c.layout_method.currentData()) == ("gemini", 256, "pca")
    assert c.spec_b() == EmbeddingSpec("gemini", "gemini-embedding-001", 256, "SEMANTIC_SIMILARITY", "CLUSTERING")
    assert c.chooser.spec() == c.spec_b()  # what the chooser shows is what B will be
    assert c.k.value() == 7 and c.labels.currentData() is None
    m = other.model_panel
    assert (m.provider.currentData(), m.model.currentText(), m.dim.value()) == ("gemini", "gemini-embedding-001", 768)
    assert (m.document_task.currentText(), m.query_task.currentText()) == ("CLUSTERING", "RETRIEVAL_QUERY")
    assert m.device.currentData() == "cpu"
    assert m.batch.enabled.isChecked() and m.batch.offer_above.value() == 500
    assert other.state.spec == window.state.spec


# -- stale is explicit ------------------------------------------------------------------------------------------
def test_after_clear_every_view_says_it_shows_the_previous_vectors(window, qtbot) -> None:
    items = _items(TOPICS)
    _load(window, items, _result(items))
    window.state.set_clusters(np.arange(len(items)) % 2, {0: "a", 1: "b"})
    notes = [window.projection_view.stale, window.similarity_view.stale]
    assert not any(note.isVisible() for note in notes)
    window.documents_panel.clear_items()
    assert window.state.vectors_stale
    window.docks["Similarity"].raise_()
    assert all(note.isVisible() and "Embed to refresh" in note.text() for note in notes)
    window.docks["Compare"].raise_()
    compare_notes = [w for w in window.compare_view.findChildren(type(notes[0])) if w.isVisible()]
    assert len(compare_notes) >= 1  # the Compare panel (and its Clusters tab when shown) say it too
    window.state.set_items("document", [i for i in items if i.kind == "document"])  # the same corpus again
    assert not window.state.vectors_stale and not any(note.isVisible() for note in notes)


def test_embedding_a_smaller_corpus_replaces_map_clusters_and_comparison(window, qtbot, local_embedder) -> None:
    window.docks["Compare"].raise_()
    window.load_sample_corpus()
    _embed_locally(window, qtbot, local_embedder)
    editor = window.compare_view.cluster_editor
    _choose(editor.method, "kmeans")
    editor.clusters_k.setValue(5)
    with qtbot.waitSignal(window.state.clusters_changed, timeout=30_000):
        editor.cluster_button.click()
    assert "5 clusters" in editor.messages.text() and editor.table.rowCount() == 5
    assert window.projection_view.scatter.point_count() == 46

    small = _items(["volcanoes"], per_topic=4, queries=1)
    _load(window, small)
    assert window.projection_view.stale.isVisible()  # the 46-point map is still there, and says it is old
    _embed_locally(window, qtbot, local_embedder)
    qtbot.waitUntil(lambda: not window.projection_view.scatter.is_drawing, timeout=10_000)
    assert window.projection_view.scatter.point_count() == 5 and len(window.projection_view.scatter.ids) == 5
    assert window.state.clusters is None and editor.table.rowCount() == 0
    assert editor.messages.text() == ""  # "5 clusters, 0 items as noise" was about the old vectors
    assert window.state.comparison is None and window.compare_view.title_b.text() == "B: not embedded yet"
    assert not window.projection_view.stale.isVisible()


# -- one visual encoding ----------------------------------------------------------------------------------------
def _colour_of(scatter, item_id: str) -> str:
    row = scatter.row_of(item_id)
    return scatter._style_table[scatter._styles[row]][1].color().name()


def _legend(scatter) -> dict[str, str]:
    return {label.text: sample.item.opts["brush"].color().name() for sample, label in scatter.legend.items}


def test_one_category_has_one_colour_in_every_map_and_legend_also_after_a_new_category(window, qtbot) -> None:
    items = _items(TOPICS)
    result = _result(items)
    window.docks["Compare"].raise_()
    _load(window, items, result)
    window.state.set_view(colour_by="meta:topic")
    compare = window.compare_view
    from workbench.core.compare import compare as compare_tables
    from workbench.core.exchange import ExchangeTable
    from workbench.ui.pipeline import ComparisonOutcome

    table = ExchangeTable(result.items, result.vectors, result.spec)  # B: the same vectors, as the pipeline would
    outcome = ComparisonOutcome(result, result, window.state.projection * 2, compare_tables(table, table, k=3))
    window.state.set_comparison(outcome)
    maps = [window.projection_view.scatter, compare.scatter_a, compare.scatter_b]
    qtbot.waitUntil(lambda: all(len(m.ids) == len(items) and not m.is_drawing for m in maps), timeout=10_000)
    space = next(i for i in items if i.metadata.get("topic") == "space")
    colours = {_colour_of(m, space.id) for m in maps}
    assert len(colours) == 1
    before = _legend(maps[0])
    assert all(_legend(m) == before for m in maps[1:])
    assert before["space"] == colours.pop()
    assert set(before) >= set(TOPICS) and len({before[t] for t in TOPICS}) == 3

    grown = _items(["astronomy", *TOPICS])  # a new category, and the biggest-first order changes
    _load(window, grown, _result(grown, seed=3))
    qtbot.waitUntil(lambda: len(maps[0].ids) == len(grown) and not maps[0].is_drawing, timeout=10_000)
    after = _legend(maps[0])
    assert all(after[t] == before[t] for t in TOPICS)  # old categories keep their colours
    assert after["astronomy"] not in {before[t] for t in TOPICS}


# -- the pipeline computes, views only draw ---------------------------------------------------------------------
def test_the_pipeline_lays_out_new_vectors_without_any_view(qtbot) -> None:
    from workbench.core.cache import EmbeddingCache
    from workbench.ui.pipeline import Pipeline
    from workbench.ui.state import AppState
    from workbench.ui.tasks import TaskRunner

    state, runner = AppState(), TaskRunner()
    state.set_view(layout_method="pca")
    pipeline = Pipeline(state, runner, EmbeddingCache())  # noqa: F841 - kept alive: it listens to state
    items = _items(TOPICS)
    with qtbot.waitSignal(state.neighbours_changed, timeout=10_000):
        state.set_embedding(_result(items))
    qtbot.waitUntil(lambda: state.projection is not None, timeout=10_000)
    assert state.projection.shape == (len(items), 2) and state.projection_note == "PCA layout."
    assert state.neighbours.neighbours.shape == (2, len(items) - 2)  # every document, ranked, for each query
    runner.wait_for_done(10_000)


def test_the_similarity_matrix_csv_keeps_ids_with_commas_and_quotes(window, qtbot, tmp_path: Path) -> None:
    items = [Item('doc "1", part a', "first text", "document"), Item("plain", "second text", "document")]
    window.docks["Similarity"].raise_()
    view = window.similarity_view
    qtbot.waitExposed(view)
    _load(window, items, _result(items, EmbeddingSpec(dim=16)))
    qtbot.waitUntil(lambda: view.data is not None and not window.runner.is_running(HEATMAP_TASK), timeout=10_000)
    target = view.export_matrix(".csv", str(tmp_path / "m.csv"))
    qtbot.waitUntil(lambda: target.exists(), timeout=10_000)
    with open(target, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["", 'doc "1", part a', "plain"]
    assert [row[0] for row in rows[1:]] == ['doc "1", part a', "plain"] and all(len(row) == 3 for row in rows)


def test_cancel_in_the_status_bar_cancels_only_its_own_task(window, qtbot) -> None:
    release = threading.Event()

    def slow(progress, cancelled):
        while not (release.is_set() or cancelled()):
            release.wait(0.01)
        return "done"

    finished: list[str] = []
    window.runner.start(CLUSTER_TASK, "Clustering", slow, lambda r: finished.append(CLUSTER_TASK))
    window.runner.start(COMPARE_TASK, "Embedding and comparing B", slow, lambda r: finished.append(COMPARE_TASK),
                        on_cancelled=lambda m: finished.append("cancelled"))  # fmt: skip
    bar = window.task_bar
    assert set(bar.entries) == {CLUSTER_TASK, COMPARE_TASK}
    assert bar.entries[COMPARE_TASK].label.text() == "Embedding and comparing B"
    qtbot.mouseClick(bar.entries[COMPARE_TASK].cancel, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not window.runner.is_running(COMPARE_TASK), timeout=5_000)
    assert window.runner.is_running(CLUSTER_TASK) and list(bar.entries) == [CLUSTER_TASK]
    release.set()
    qtbot.waitUntil(lambda: not window.runner.running(), timeout=5_000)
    assert finished == ["cancelled", CLUSTER_TASK] and not bar.entries
    assert not window.runner.is_running(EMBED_TASK)


def test_compare_b_on_gemini_uses_the_key_typed_while_a_is_local(window, qtbot, local_embedder) -> None:
    from tests.fakes.fake_gemini import FakeGemini

    window.load_sample_corpus()
    _embed_locally(window, qtbot, local_embedder)
    panel, compare = window.model_panel, window.compare_view
    assert panel.provider.currentData() == "local" and panel.key.isEnabled() and panel.base_url.isEnabled()
    with FakeGemini() as server:
        panel.key.setText("AIzaFAKE-compare-b-7777")
        panel.base_url.setText(server.base_url)
        _choose(compare.provider, "gemini")
        compare.dim.setValue(64)
        _choose(compare.layout_method, "pca")
        compare.run_button.click()
        qtbot.waitUntil(lambda: window.state.comparison is not None, timeout=60_000)
        assert server.embed_requests(), "B was embedded by the Gemini server"
    assert window.state.comparison.result_b.spec.provider == "gemini" and window.state.comparison.result_b.dim == 64
    assert window.state.spec.provider == "local"  # A stayed local


def test_compare_b_may_have_its_own_key_and_endpoint(window, qtbot, local_embedder) -> None:
    from tests.fakes.fake_gemini import FakeGemini

    window.load_sample_corpus()
    _embed_locally(window, qtbot, local_embedder)
    compare = window.compare_view
    assert not compare.key_b.isVisibleTo(compare)  # a local B has no key
    window.model_panel.key.setText("AIzaFAKE-key-of-A-1111")
    window.model_panel.base_url.setText("http://127.0.0.1:9/")  # A's endpoint: nothing listens there
    with FakeGemini() as server:
        _choose(compare.provider, "gemini")
        assert compare.key_b.isVisibleTo(compare)
        compare.key_b.setText("AIzaFAKE-key-of-B-2222")
        compare.base_url_b.setText(server.base_url)
        compare.dim.setValue(64)
        _choose(compare.layout_method, "pca")
        compare.run_button.click()
        qtbot.waitUntil(lambda: window.state.comparison is not None, timeout=60_000)
        keys = {request.headers.get("x-goog-api-key") for request in server.embed_requests()}
    assert keys == {"AIzaFAKE-key-of-B-2222"}
    assert window.state.api_key == "AIzaFAKE-key-of-A-1111"  # A's key is untouched


def test_choices_that_showed_dropped_data_fall_back_and_the_controls_agree(window, qtbot, local_embedder) -> None:
    items = _items(TOPICS, per_topic=3, queries=1)
    _load(window, items)
    _embed_locally(window, qtbot, local_embedder)
    assert window.state.view.colour_by == "meta:topic"  # a first Embed of labelled texts shows their labels
    window.state.set_clusters(np.arange(len(items)) % 2, {0: "a", 1: "b"})
    window.state.set_view(colour_by="cluster", heatmap_order="clusters")
    window.state.set_items("query", [Item.create("a new question", "query")])
    _embed_locally(window, qtbot, local_embedder)  # re-embedded: the clusters go, the topic colouring comes back
    assert window.state.clusters is None
    assert window.state.view.colour_by == "meta:topic" and window.state.view.heatmap_order == "meta:topic"
    assert window.projection_view.colour_by.currentData() == "meta:topic"
    plain = [Item.create(f"no topic here {i}") for i in range(6)]
    window.state.set_items("document", plain)
    _embed_locally(window, qtbot, local_embedder)  # the topic column is gone too
    assert window.state.view.colour_by == "kind" and window.projection_view.colour_by.currentData() == "kind"


def test_views_say_when_the_chosen_model_is_not_the_one_that_made_their_vectors(window, qtbot) -> None:
    items = _items(TOPICS)
    _load(window, items, _result(items, EmbeddingSpec()))
    note = window.projection_view.stale
    assert not note.isVisible()
    window.model_panel.dim.setValue(128)
    assert note.isVisible() and "local · all-MiniLM-L6-v2" in note.text() and "Embed" in note.text()
    window.model_panel.dim.setValue(0)
    assert not note.isVisible()


def test_a_message_about_b_goes_when_b_changes_provider(window, qtbot) -> None:
    items = _items(TOPICS)
    _load(window, items, _result(items, EmbeddingSpec()))
    compare = window.compare_view
    _choose(compare.provider, "gemini")
    compare.run_button.click()  # no key anywhere
    assert "key" in compare.messages.text()
    _choose(compare.provider, "local")
    assert compare.messages.text() == "" and not compare.messages.isVisible()


def test_the_encoding_is_made_once_per_change_and_follows_clusters_and_colours(window, qtbot) -> None:
    from workbench.core.encoding import CategoryColours

    items = _items(TOPICS)
    _load(window, items, _result(items))
    state = window.state
    first = state.encoding("meta:topic")
    assert state.encoding("meta:topic") is first  # every view drawing this colouring shares one encoding
    state.set_clusters(np.arange(len(items)) % 2, {0: "even", 1: "odd"})
    assert state.encoding("cluster").names == ["even", "odd"]
    state.set_clusters(state.clusters, {0: "renamed", 1: "odd"})
    assert state.encoding("cluster").names == ["renamed", "odd"]  # a rename is not hidden by a kept encoding
    state.set_colours(CategoryColours({"meta:topic": {"music": 0, "space": 1, "cooking": 2}}))
    assert state.encoding("meta:topic").colour_of("music") == state.colours.colour("meta:topic", "music")
    assert state.encoding("meta:topic") is not first


def test_the_cluster_table_counts_documents_as_its_message_does(window, qtbot) -> None:
    items = _items(TOPICS)  # 18 documents, then 2 queries
    _load(window, items, _result(items))
    labels = np.array([i % 2 for i in range(18)] + [0, 0])  # the queries take cluster 0, as the pipeline gives them
    window.state.set_clusters(labels, {0: "even", 1: "odd"})
    table = window.compare_view.cluster_editor.table
    assert table.horizontalHeaderItem(1).text() == "documents"
    assert [int(table.item(row, 1).text()) for row in range(table.rowCount())] == [9, 9]


def test_the_corpus_is_stale_when_an_id_or_a_text_differs_not_when_only_the_objects_or_metadata_do() -> None:
    """AppState compares the item lists first (identity, C speed) and falls back to ids and texts."""
    from dataclasses import replace

    from tests.ui.test_encoding_off_gui import _result
    from workbench.ui.state import AppState

    state = AppState()
    result = _result(20)
    state.set_items("document", result.items)
    state.set_embedding(result)
    assert not state.corpus_stale  # the very items
    state.set_items("document", [replace(item) for item in result.items])
    assert not state.corpus_stale  # equal items, other objects
    state.set_items("document", [replace(item, metadata={"topic": "new"}) for item in result.items])
    assert not state.corpus_stale  # only metadata changed: the vectors still belong to these texts
    state.set_items("document", [*result.items[:-1], replace(result.items[-1], text="edited")])
    assert state.corpus_stale
    state.set_items("document", result.items[:-1])
    assert state.corpus_stale
