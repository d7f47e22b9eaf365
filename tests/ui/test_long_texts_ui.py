"""The token and price summary before Embed, the long-text choice, chunks vs one point per parent, and colour by
parent document, in the real main window (the local model for real; Gemini through the fake server)."""

from __future__ import annotations

import pytest

from tests.core.test_long_texts import long_document
from tests.fakes.fake_gemini import FakeGemini
from workbench.core.items import Item
from workbench.ui.pipeline import TOKENS_TASK

FAKE_KEY = "AIzaFAKE-tokens-key-7777"


@pytest.fixture
def server():
    with FakeGemini() as fake:
        yield fake


def gemini_corpus() -> list[Item]:
    return [Item.create(" ".join(["word"] * 2600) + ".", item_id="long")] + [
        Item.create(f"Short document number {n}.", item_id=f"d{n}") for n in range(5)
    ]


def test_count_tokens_shows_the_window_and_the_gemini_price_before_embedding(window, qtbot, server) -> None:
    panel = window.model_panel
    panel.provider.setCurrentIndex(panel.provider.findData("gemini"))
    panel.key.setText(FAKE_KEY)
    panel.base_url.setText(server.base_url)
    window.state.set_items("document", gemini_corpus())
    summary = panel.tokens.summary.text()
    assert "Count tokens to see" in summary  # nothing counted yet
    with qtbot.waitSignal(window.state.token_counts_changed, timeout=20_000):
        panel.tokens.count.click()
    assert window.runner.is_running(TOKENS_TASK) is False
    counts = window.state.token_counts
    assert counts.window == 2048 and counts.over == 1 and counts.method == "count_tokens"
    summary = panel.tokens.summary.text()
    assert "1</b> over the 2,048-token window → chunked" in summary and "Gemini countTokens" in summary
    assert f"${counts.price.dollars:,.4f}" in summary and "prices of 2026-04" in summary
    assert "ai.google.dev" in panel.tokens.summary.toolTip()  # where the prices come from
    assert not server.embed_requests()  # counting embeds nothing

    panel.tokens.policy.setCurrentIndex(panel.tokens.policy.findData("refuse"))
    assert window.state.view.long_texts == "refuse" and "refused: nothing is embedded" in panel.tokens.summary.text()
    window.embed_action.trigger()
    qtbot.waitUntil(lambda: "item 'long'" in panel.messages.label.text(), timeout=20_000)
    assert not server.embed_requests() and window.state.embedding is None

    window.state.set_items("document", gemini_corpus()[1:])  # another corpus: the counts go
    assert window.state.token_counts is None


def test_chunked_embed_shows_chunks_or_one_point_per_parent_coloured_by_parent(window, qtbot, local_embedder) -> None:
    window.state.embedders.put(local_embedder)
    documents = [
        Item.create(long_document(700, seed=s), metadata={"topic": f"t{s}"}, item_id=f"doc{s}") for s in range(3)
    ] + [Item.create("A short note.", metadata={"topic": "note"}, item_id="note")]
    window.state.set_items("document", documents)
    with qtbot.waitSignal(window.state.vectors_changed, timeout=60_000):
        window.embed_action.trigger()
    state, view = window.state, window.projection_view
    chunks = state.embedding
    assert len(chunks.items) > 4 and state.chunk_embedding is chunks and not state.vectors_stale
    assert {i.metadata["parent_id"] for i in chunks.items} == {"doc0", "doc1", "doc2", "note"}
    assert state.token_counts is not None and state.token_counts.over == 3
    assert chunks.long_texts["policy"] == "chunk" and chunks.long_texts["chunked"] == 3

    parent_choice = view.colour_by.findData("meta:parent_id")
    assert parent_choice >= 0 and view.colour_by.itemText(parent_choice) == "parent document"
    assert view.colour_by.findData("meta:char_start") == -1
    view.colour_by.setCurrentIndex(parent_choice)
    encoding = state.encoding()
    assert sorted(encoding.names) == ["doc0", "doc1", "doc2", "note"]  # one colour per parent document
    rows_of_doc0 = [r for r, i in enumerate(chunks.items) if i.metadata["parent_id"] == "doc0"]
    assert len({int(encoding.categories[r]) for r in rows_of_doc0}) == 1

    assert view.points.isEnabled()
    with qtbot.waitSignal(state.vectors_changed, timeout=10_000):
        view.points.setCurrentIndex(view.points.findData("parents"))
    assert [i.id for i in state.embedding.items] == ["doc0", "doc1", "doc2", "note"]
    assert state.embedding.items[0] is documents[0] and not state.vectors_stale
    # the colouring survives: each document keeps its own colour, and its metadata colourings stay offered
    assert state.view.colour_by == "meta:parent_id" and view.colour_by.currentData() == "meta:parent_id"
    assert sorted(state.encoding().names) == ["doc0", "doc1", "doc2", "note"]
    assert view.colour_by.findData("meta:topic") >= 0 and view.colour_by.findData("meta:char_start") == -1
    # Compare while one point per document is shown: B reads the documents through its own chunks, shown the same way
    from workbench.core.embedders.base import EmbeddingSpec

    with qtbot.waitSignal(state.comparison_changed, timeout=120_000):
        window.pipeline.compare(EmbeddingSpec("local", "all-MiniLM-L6-v2", 128, "document", "query"))
    result_b = state.comparison.result_b
    assert [i.id for i in result_b.items] == ["doc0", "doc1", "doc2", "note"] and result_b.vectors.shape == (4, 128)
    assert [len(rows) for rows in result_b.chunk_rows][3] == 1 and min(len(r) for r in result_b.chunk_rows[:3]) > 1
    with qtbot.waitSignal(state.vectors_changed, timeout=10_000):
        view.points.setCurrentIndex(view.points.findData("chunks"))
    assert state.embedding is chunks


def test_a_reopened_chunk_embedding_can_show_parents_and_is_not_stale(qtbot) -> None:
    import numpy as np

    from workbench.core.embedders.base import EmbeddingSpec, l2_normalise
    from workbench.core.embedding import EmbeddingResult
    from workbench.ui.state import AppState

    state = AppState()
    corpus = [Item.create("One. Two.", item_id="p"), Item.create("Alone.", item_id="s")]
    state.set_items("document", corpus)
    chunks = [
        Item("p#0", "One.", "document", {"parent_id": "p", "chunk_index": 0, "char_start": 0, "char_end": 4}),
        Item("p#1", "Two.", "document", {"parent_id": "p", "chunk_index": 1, "char_start": 5, "char_end": 9}),
        Item("s", "Alone.", "document", {"parent_id": "s", "chunk_index": 0, "char_start": 0, "char_end": 6}),
    ]
    vectors = l2_normalise(np.eye(3, dtype=np.float32))
    reopened = EmbeddingResult(chunks, vectors, EmbeddingSpec(), 3, 0, 3)  # a workspace keeps no `sources`
    state.set_embedding(reopened)
    assert state.chunk_embedding is reopened and not state.vectors_stale
    state.set_items("document", corpus[:1])
    assert state.vectors_stale  # the corpus lost a parent
    plain = EmbeddingResult(corpus[:1], vectors[:1], EmbeddingSpec(), 3, 0, 1)
    state.set_embedding(plain)
    assert state.chunk_embedding is None and not state.vectors_stale  # another embedding: no old chunks to show
