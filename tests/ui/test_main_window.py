from __future__ import annotations

import threading

import numpy as np
from PySide6.QtCore import QCoreApplication, Qt

from workbench.core.errors import Cancelled
from workbench.ui.pipeline import EMBED_TASK


def _paste(qtbot, panel, text: str) -> None:
    with qtbot.waitSignal(panel.state.corpus_changed, timeout=10_000):
        panel.editor.setPlainText(text)
        panel.parse_now()


def test_paste_embed_and_see_vectors_in_state(window, qtbot) -> None:
    assert not window.embed_action.isEnabled()
    assert "Nothing to embed" in window.embed_action.toolTip()
    _paste(qtbot, window.documents_panel, "The cat sleeps.\nStocks fell today.\n\nThe cat sleeps.\n")
    _paste(qtbot, window.queries_panel, "Where is the cat?")
    assert window.documents_panel.count.text() == "2 documents; 1 empty dropped; 1 duplicate collapsed"
    assert window.embed_action.isEnabled()
    with qtbot.waitSignal(window.state.vectors_changed, timeout=60_000):
        window.embed_action.trigger()
    result = window.state.embedding
    assert result is not None and result.vectors.shape == (3, 384)
    assert [i.kind for i in result.items] == ["document", "document", "query"]
    np.testing.assert_allclose(np.linalg.norm(result.vectors, axis=1), 1.0, atol=1e-5)
    assert "2 documents and 1 query" in window.statusBar().currentMessage()
    assert "384 dims" in window.statusBar().currentMessage()


def test_cancel_during_a_run_stops_it_and_leaves_the_window_usable(window, qtbot) -> None:
    """A slow fake embedder blocks in its first batch until the test has pressed Cancel."""
    started, release = threading.Event(), threading.Event()

    class SlowEmbedder:
        batch_size, max_concurrency = 2, 1

        def __init__(self) -> None:
            from workbench.core.embedders.base import EmbeddingSpec

            self.spec = EmbeddingSpec(provider="slow", model="slow", dim=4)
            self.calls = 0

        @property
        def dim(self) -> int:
            return 4

        def encode_documents(self, texts):
            self.calls += 1
            started.set()
            release.wait(10)
            return [np.ones(4, np.float32) / 2 for _ in texts]

        encode_queries = encode_documents

    slow = SlowEmbedder()
    window.state.embedders.put(slow)
    window.state.set_spec(slow.spec)
    _paste(qtbot, window.documents_panel, "\n".join(f"doc {i}" for i in range(10)))
    window.embed_action.trigger()
    assert started.wait(10)
    entry = window.task_bar.entries[EMBED_TASK]
    assert entry.isVisible() and entry.label.text() == "Embedding 10 items"
    qtbot.mouseClick(entry.cancel, Qt.MouseButton.LeftButton)
    release.set()
    qtbot.waitUntil(lambda: not window.runner.is_running(EMBED_TASK), timeout=10_000)
    assert slow.calls == 1  # cancel took effect between batches
    assert window.state.embedding is None
    assert "Cancelled" in window.statusBar().currentMessage()
    assert window.embed_action.isEnabled()
    assert EMBED_TASK not in window.task_bar.entries


def test_a_model_that_does_not_exist_is_a_clear_message_and_the_app_keeps_running(window, qtbot) -> None:
    _paste(qtbot, window.documents_panel, "hello")
    window.model_panel.model.setEditText("no-such-model-xyz")
    window.embed_action.trigger()
    qtbot.waitUntil(lambda: window.model_panel.messages.isVisible(), timeout=30_000)
    assert "no-such-model-xyz" in window.model_panel.messages.text()
    assert window.embed_action.isEnabled()


def test_sample_corpus_loads_in_one_click(window) -> None:
    window.sample_action.trigger()
    assert len(window.state.corpus.documents) == 40
    assert len(window.state.corpus.queries) == 6
    assert window.state.corpus.documents[0].metadata["topic"] == "astronomy"


def test_task_runner_supersedes_an_older_task_with_the_same_key(qtbot) -> None:
    from workbench.ui.tasks import TaskRunner

    runner = TaskRunner()
    gate = threading.Event()
    results: list[str] = []

    def slow(progress, cancelled):
        gate.wait(10)
        if cancelled():
            raise Cancelled()
        return "old"

    runner.start("view", "old", slow, results.append)
    runner.start("view", "new", lambda p, c: "new", results.append)
    qtbot.waitUntil(lambda: results == ["new"], timeout=10_000)
    gate.set()
    runner.wait_for_done(10_000)
    QCoreApplication.processEvents()  # deliver the old task's queued callback: it must be dropped
    assert results == ["new"]
