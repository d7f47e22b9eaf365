from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtWidgets import QLineEdit

from tests.fakes.fake_gemini import FakeGemini
from workbench.ui.panels.model_panel import REFRESH_TASK

FAKE_KEY = "AIzaFAKE-panel-key-5555"


@pytest.fixture
def server():
    with FakeGemini() as fake:
        yield fake


def test_a_key_set_in_the_panel_embeds_against_the_server(window, qtbot, server, monkeypatch) -> None:
    monkeypatch.setenv("WORKBENCH_GEMINI_BACKOFF_S", "0.01")
    panel = window.model_panel
    panel.provider.setCurrentIndex(1)
    assert panel.key.echoMode() == QLineEdit.EchoMode.Password
    panel.key.setText(FAKE_KEY)
    panel.base_url.setText(server.base_url)
    panel.dim.setValue(256)
    panel.query_task.setCurrentText("QUESTION_ANSWERING")
    with qtbot.waitSignal(window.state.corpus_changed, timeout=10_000):
        window.documents_panel.editor.setPlainText("first document\nsecond document")
        window.documents_panel.parse_now()
    with qtbot.waitSignal(window.state.corpus_changed, timeout=10_000):
        window.queries_panel.editor.setPlainText("a question?")
        window.queries_panel.parse_now()
    with qtbot.waitSignal(window.state.vectors_changed, timeout=30_000):
        window.embed_action.trigger()
    result = window.state.embedding
    assert result.vectors.shape == (3, 256) and result.spec.provider == "gemini"
    np.testing.assert_allclose(np.linalg.norm(result.vectors, axis=1), 1.0, atol=1e-5)
    tasks = sorted({r["taskType"] for rec in server.embed_requests() for r in rec.body["requests"]})
    assert tasks == ["QUESTION_ANSWERING", "RETRIEVAL_DOCUMENT"]
    assert {rec.headers["x-goog-api-key"] for rec in server.embed_requests()} == {FAKE_KEY}


def test_show_hide_retired_models_and_refresh(window, qtbot, server) -> None:
    panel = window.model_panel
    panel.provider.setCurrentIndex(1)
    names = [panel.model.itemText(i) for i in range(panel.model.count())]
    assert names[:2] == ["gemini-embedding-001", "gemini-embedding-2"]
    assert "gemini-embedding-exp-03-07" in names and "models/text-embedding-004" in names
    panel.show_key.click()
    assert panel.key.echoMode() == QLineEdit.EchoMode.Normal
    panel.show_key.click()
    assert panel.key.echoMode() == QLineEdit.EchoMode.Password
    panel.key.setText(FAKE_KEY)
    panel.base_url.setText(server.base_url)
    panel.refresh.click()
    qtbot.waitUntil(lambda: not window.runner.is_running(REFRESH_TASK), timeout=10_000)
    assert "2 embedding models available" in panel.messages.text()
    panel.remember.setChecked(True)  # no keyring backend here: it must say so, and write no file
    assert "session only" in panel.messages.text()


def test_gemini_without_a_key_is_a_clear_message(window, qtbot) -> None:
    window.model_panel.provider.setCurrentIndex(1)
    with qtbot.waitSignal(window.state.corpus_changed, timeout=10_000):
        window.documents_panel.editor.setPlainText("text")
        window.documents_panel.parse_now()
    window.embed_action.trigger()
    assert "GEMINI_API_KEY" in window.model_panel.messages.text()
    assert window.embed_action.isEnabled()


class _MemoryKeyring:
    """A stand-in OS keyring: what `keyring` would hand back from a real backend."""

    priority = 1

    def __init__(self) -> None:
        self.stored = {("embedding-workbench", "gemini-api-key"): FAKE_KEY}

    def get_password(self, service: str, name: str) -> str | None:
        return self.stored.get((service, name))

    def set_password(self, service: str, name: str, secret: str) -> None:
        self.stored[(service, name)] = secret

    def delete_password(self, service: str, name: str) -> None:
        self.stored.pop((service, name), None)


def test_a_remembered_key_arrives_after_the_window_without_blocking_it(qtbot, monkeypatch) -> None:
    import keyring
    from keyring.backend import KeyringBackend

    from workbench.core.cache import EmbeddingCache
    from workbench.ui.main_window import MainWindow
    from workbench.ui.panels.model_panel import RECALL_TASK
    from workbench.ui.state import AppState
    from workbench.ui.tasks import TaskRunner

    backend = type("MemoryKeyring", (_MemoryKeyring, KeyringBackend), {})()
    monkeypatch.setattr(keyring, "get_keyring", lambda: backend)
    monkeypatch.setattr(keyring, "get_password", backend.get_password)
    state, runner = AppState(), TaskRunner()
    window = MainWindow(state, runner, EmbeddingCache())
    qtbot.addWidget(window)
    assert window.model_panel.key.text() == ""  # not read while the window is built: it arrives from a worker
    qtbot.waitUntil(lambda: not runner.is_running(RECALL_TASK), timeout=10_000)
    panel = window.model_panel
    assert panel.key.text() == FAKE_KEY and panel.remember.isChecked()
    assert state.api_key == FAKE_KEY
    assert backend.stored == {("embedding-workbench", "gemini-api-key"): FAKE_KEY}  # recalling wrote nothing


def test_the_panel_is_dense_enough_for_a_laptop_and_gemini_rows_come_with_gemini(window, qtbot) -> None:
    """At 1366 × 768 (the suite's screen) every row down to the token summary is seen without a scroll."""
    from workbench.core.embedders.base import EmbeddingSpec

    panel, area = window.model_panel, window.docks["Model & key"].widget()
    qtbot.waitUntil(lambda: area.verticalScrollBar().maximum() == 0 and panel.tokens.isVisible(), timeout=5_000)
    tasks_at = {panel.document_task.geometry().top(), panel.query_task.geometry().top()}
    assert len(tasks_at) == 1  # the two task boxes share a row
    assert not panel.form.isRowVisible(panel.batch)  # Batch mode is Gemini's: no row with the local model
    window.state.set_spec(EmbeddingSpec("gemini", "gemini-embedding-001", None, "RETRIEVAL_DOCUMENT",
                                        "RETRIEVAL_QUERY"))  # fmt: skip
    assert panel.form.isRowVisible(panel.batch) and panel.batch.enabled.isEnabled()
    qtbot.waitUntil(lambda: panel.batch.isVisible(), timeout=5_000)
    # the row that came back is not cut at the right (the dock kept room for it), also with the scroll bar now shown
    qtbot.waitUntil(lambda: panel.width() <= area.viewport().width() and panel.width() >= panel.minimumWidth(),
                    timeout=5_000)  # fmt: skip
