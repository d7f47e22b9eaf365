"""Batch (half price) in the Model panel: a Gemini run through Batch mode against the fake server, its status in
the panel, and a run resumed by a new window (a restart) without submitting the jobs again."""

from __future__ import annotations

import pytest

from tests.fakes.fake_gemini import FakeGemini
from workbench.core.embedders.base import EmbeddingSpec

SPEC = EmbeddingSpec("gemini", "gemini-embedding-001", 32, "RETRIEVAL_DOCUMENT", "RETRIEVAL_QUERY")


@pytest.fixture
def server(monkeypatch):
    monkeypatch.setenv("WORKBENCH_GEMINI_BATCH_POLL_S", "0.05")
    with FakeGemini() as fake:
        yield fake


def new_window(qtbot):
    from workbench.core.cache import EmbeddingCache
    from workbench.ui.main_window import MainWindow
    from workbench.ui.state import AppState
    from workbench.ui.tasks import TaskRunner

    main = MainWindow(AppState(), TaskRunner(), EmbeddingCache())
    qtbot.addWidget(main)
    main.show()
    return main


def choose_gemini_in_batch_mode(window, server: FakeGemini) -> None:
    panel = window.model_panel
    window.state.set_view(layout_method="pca")  # the map is not what this test is about: no UMAP compile
    window.state.set_spec(SPEC)
    panel.key.setText("AIzaFAKE-ui-batch")
    panel.base_url.setText(server.base_url)
    assert panel.batch.enabled.isEnabled()
    panel.batch.enabled.setChecked(True)
    assert window.state.view.gemini_batch


def jobs_created(server: FakeGemini) -> int:
    return sum(1 for r in server.batch_requests() if r.method == "POST")


def test_a_gemini_run_in_batch_mode_embeds_through_jobs_and_says_where_they_stand(window, qtbot, server) -> None:
    server.batch_polls_until_done = 2
    panel = window.model_panel
    assert not panel.batch.enabled.isEnabled()  # the local model has no Batch mode
    window.load_sample_corpus()
    choose_gemini_in_batch_mode(window, server)
    seen: list[str] = []
    window.pipeline.batch.status_changed.connect(lambda level, text: seen.append(text))
    with qtbot.waitSignal(window.state.vectors_changed, timeout=30_000):
        window.start_embedding()
    assert any("jobs at Google (" in text and "Next look in 0.05 s" in text for text in seen)
    assert panel.batch.status.text() == "Gemini Batch: 46 of 46 texts back."
    assert window.state.embedding.spec == SPEC and window.state.embedding.vectors.shape == (46, 32)
    assert jobs_created(server) == 2 and not server.embed_requests()  # documents and queries; no paid-in-full call
    assert not window.runner.is_running("embed")  # no task sleeps between looks


def test_batch_mode_is_offered_above_the_size_the_person_sets(window, server) -> None:
    window.load_sample_corpus()
    window.state.set_spec(SPEC)
    batch = window.model_panel.batch
    assert batch.status.text() == ""  # 46 texts, offered above 2000
    batch.offer_above.setValue(40)
    assert window.state.view.batch_offer_above == 40
    assert batch.status.text().startswith("46 texts: Batch mode (Half price) costs half")
    batch.enabled.setChecked(True)
    assert batch.status.text() == ""


def test_jobs_of_a_closed_window_are_collected_by_the_next_one_without_paying_again(window, qtbot, server) -> None:
    server.batch_polls_until_done = 1_000_000
    window.load_sample_corpus()
    choose_gemini_in_batch_mode(window, server)
    window.start_embedding()
    qtbot.waitUntil(lambda: "at Google" in window.model_panel.batch.status.text(), timeout=20_000)
    assert jobs_created(server) == 2
    window.close()  # quit: the jobs keep running at Google

    reopened = new_window(qtbot)
    status = reopened.model_panel.batch.status
    qtbot.waitUntil(lambda: "2 Gemini batch jobs (46 texts" in status.text(), timeout=10_000)
    assert "not collected yet" in status.text()
    server.batch_polls_until_done = 0
    reopened.load_sample_corpus()
    choose_gemini_in_batch_mode(reopened, server)
    with qtbot.waitSignal(reopened.state.vectors_changed, timeout=30_000):
        reopened.start_embedding()
    assert jobs_created(server) == 2  # collected, not submitted again
    assert reopened.state.embedding.vectors.shape == (46, 32)
    reopened.runner.cancel_all()
    reopened.runner.wait_for_done(10_000)


def test_a_text_that_failed_is_named_once_the_other_jobs_are_done_and_never_resubmitted(window, qtbot, server):
    window.load_sample_corpus()
    failing = window.state.corpus.documents[3].text
    server.batch_fail_texts = {failing}
    server.batch_polls_until = {"batches/fake-2": 6}  # the queries' job finishes several looks after the documents'
    choose_gemini_in_batch_mode(window, server)
    seen: list[str] = []
    window.pipeline.batch.status_changed.connect(lambda level, text: seen.append(text))
    window.start_embedding()
    strip = window.model_panel.messages
    qtbot.waitUntil(lambda: "could not embed 1 of 46 texts" in strip.text(), timeout=30_000)
    assert any("1 failed (named when the other jobs are done)" in text for text in seen)
    assert failing[:40] in strip.text() and "The other 45 are cached" in strip.text()
    assert jobs_created(server) == 2  # looks after the failure did not submit the failed text again
    assert window.state.embedding is None
