"""Gemini Batch mode against the fake server, with the real google-genai client: the same vectors as the
synchronous path, jobs remembered across processes (a new cache object on the same file stands for a new
process here; tests/cli/test_cli_batch.py uses real ones), failed texts reported with the rest cached."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.fakes.fake_gemini import FakeGemini, Fault
from workbench.core import gemini_batch
from workbench.core.cache import EmbeddingCache
from workbench.core.embedders.gemini import GeminiEmbedder, RetryPolicy
from workbench.core.embedding import embed_items
from workbench.core.errors import Cancelled, InputError, ServiceError
from workbench.core.gemini_batch import FailedText, embed_items_in_batches, pending_jobs_sentence
from workbench.core.items import Item

DOCUMENTS = [f"document {i} about {topic}" for i, topic in enumerate(["cats", "rain", "stocks", "tea"] * 2)]
QUERIES = ["which one is about cats?", "what about the weather?"]


def corpus() -> list[Item]:
    items = [Item.create(text, "document") for text in DOCUMENTS]
    items.append(Item.create(DOCUMENTS[0], "document", {"copy": "same text, other metadata"}))
    return items + [Item.create(text, "query") for text in QUERIES]


@pytest.fixture
def server():
    with FakeGemini() as fake:
        yield fake


def embedder(server: FakeGemini, model: str = "gemini-embedding-001", dim: int | None = 64) -> GeminiEmbedder:
    retry = RetryPolicy(attempts=3, base_delay=0.01)
    return GeminiEmbedder(model, api_key="AIzaFAKE-batch", dim=dim, base_url=server.base_url, retry=retry)


def created(server: FakeGemini) -> list[int]:
    """The number of texts in each job created so far."""
    return [
        len(r.body["batch"]["inputConfig"]["requests"]["requests"])
        for r in server.batch_requests()
        if r.method == "POST"
    ]


@pytest.mark.parametrize("model", ["gemini-embedding-001", "gemini-embedding-2"])
def test_batch_vectors_are_the_synchronous_vectors(server, tmp_path: Path, model: str, monkeypatch) -> None:
    monkeypatch.setattr(gemini_batch, "JOB_MAX_TEXTS", 3)
    items = corpus()
    outcome = embed_items_in_batches(items, embedder(server, model), EmbeddingCache(tmp_path / "b.sqlite"), poll_s=0.01)
    synchronous = embed_items(items, embedder(server, model), EmbeddingCache(tmp_path / "s.sqlite"))
    assert outcome.result is not None and outcome.status.finished
    np.testing.assert_array_equal(outcome.result.vectors, synchronous.vectors)
    assert [i.id for i in outcome.result.items] == [i.id for i in synchronous.items]
    assert outcome.result.encoded == 10 and outcome.result.from_cache == 0  # 8 documents, 2 queries: distinct texts
    assert created(server) == [3, 3, 2, 2]  # documents in jobs of at most 3, queries in their own job
    first = server.batch_requests()[0].body["batch"]["inputConfig"]["requests"]["requests"][0]["request"]
    if model == "gemini-embedding-2":  # the task goes into the text, as on the synchronous path
        assert first["content"]["parts"][0]["text"].startswith("title: none | text: document 0")
    else:
        assert first["taskType"] == "RETRIEVAL_DOCUMENT" and first["outputDimensionality"] == 64


def test_a_job_submitted_without_waiting_is_collected_by_a_new_run_without_paying_again(server, tmp_path) -> None:
    server.batch_polls_until_done = 3
    path = tmp_path / "cache.sqlite"
    first_cache = EmbeddingCache(path)
    outcome = embed_items_in_batches(corpus(), embedder(server), first_cache, wait=False)
    assert outcome.result is None and outcome.status.submitted == 2 and len(outcome.status.jobs) == 2
    assert "0 of 10 texts back" in outcome.status.summary()
    assert "2 Gemini batch jobs (10 texts, gemini-embedding-001" in pending_jobs_sentence(first_cache)
    first_cache.close()  # the app quits

    second_cache = EmbeddingCache(path)  # a new run finds the jobs in the cache file
    seen: list[str] = []
    outcome = embed_items_in_batches(
        corpus(), embedder(server), second_cache, poll_s=0.01, on_status=lambda s: seen.append(s.summary())
    )
    assert outcome.result is not None and created(server) == [8, 2]  # nothing submitted twice
    assert seen[0].startswith("Gemini Batch: 0 of 10 texts back; 2 jobs at Google (running")
    assert seen[-1] == "Gemini Batch: 10 of 10 texts back."
    assert second_cache.batch_jobs() == [] and pending_jobs_sentence(second_cache) == ""
    synchronous = embed_items(corpus(), embedder(server), EmbeddingCache(tmp_path / "s.sqlite"))
    np.testing.assert_array_equal(outcome.result.vectors, synchronous.vectors)
    again = embed_items_in_batches(corpus(), embedder(server), second_cache)  # all cached: no call at all
    assert again.result is not None and again.result.from_cache == 10 and created(server) == [8, 2]


def test_jobs_of_texts_no_longer_embedded_are_collected_by_the_next_run_and_not_announced_for_ever(
    server, tmp_path
) -> None:
    cache = EmbeddingCache(tmp_path / "cache.sqlite")
    server.batch_polls_until_done = 2
    embed_items_in_batches([Item.create("an old text")], embedder(server, dim=32), cache, wait=False)
    assert "1 Gemini batch job (1 text, gemini-embedding-001" in pending_jobs_sentence(cache)
    server.batch_polls_until_done = 0
    embed_items_in_batches(corpus(), embedder(server), cache, poll_s=0.01)  # other texts, another dim
    assert cache.batch_jobs() == [] and pending_jobs_sentence(cache) == ""
    old_spec = embedder(server, dim=32).spec
    assert set(cache.get_many(old_spec, 32, "document", ["an old text"])) == {"an old text"}  # paid for: kept


def test_failed_texts_are_reported_the_rest_is_cached_and_a_rerun_resubmits_only_the_failed(server, tmp_path) -> None:
    server.batch_fail_texts = {DOCUMENTS[2], QUERIES[1]}
    cache = EmbeddingCache(tmp_path / "cache.sqlite")
    with pytest.raises(ServiceError) as error:
        embed_items_in_batches(corpus(), embedder(server), cache, poll_s=0.01)
    message = str(error.value)
    assert "could not embed 2 of 10 texts" in message and "The other 8 are cached" in message
    assert "“document 2 about stocks” (400 Request contains an invalid argument.)" in message
    spec = embedder(server).spec
    assert len(cache.get_many(spec, 64, "document", DOCUMENTS)) == 7  # all documents but the failed one
    assert set(cache.get_many(spec, 64, "query", QUERIES)) == {QUERIES[0]}
    assert cache.batch_jobs() == []

    server.batch_fail_texts = set()
    outcome = embed_items_in_batches(corpus(), embedder(server), cache, poll_s=0.01)
    assert outcome.result is not None and outcome.result.from_cache == 8 and outcome.result.encoded == 2
    assert created(server) == [8, 2, 1, 1]  # only the failed document and the failed query again


def test_texts_that_failed_in_an_earlier_look_are_not_submitted_again(server, tmp_path) -> None:
    earlier = FailedText("document", DOCUMENTS[2], "400 Request contains an invalid argument.")
    cache = EmbeddingCache(tmp_path / "cache.sqlite")
    with pytest.raises(ServiceError) as error:
        embed_items_in_batches(corpus(), embedder(server), cache, poll_s=0.01, failed_before=[earlier])
    assert created(server) == [7, 2]  # the failed document is not paid for again
    assert "could not embed 1 of 10 texts: “document 2 about stocks” (400 Request contains" in str(error.value)


def test_a_job_that_fails_or_vanishes_accounts_for_all_its_texts(server, tmp_path) -> None:
    server.batch_end_state = "BATCH_STATE_FAILED"
    cache = EmbeddingCache(tmp_path / "cache.sqlite")
    with pytest.raises(ServiceError, match=r"could not embed 10 of 10 texts.*ended as JOB_STATE_FAILED"):
        embed_items_in_batches(corpus(), embedder(server), cache, poll_s=0.01)
    assert cache.batch_jobs() == []

    server.batch_end_state = "BATCH_STATE_SUCCEEDED"
    server.batch_polls_until_done = 50
    embed_items_in_batches(corpus(), embedder(server), cache, wait=False)
    server.batches.clear()  # Google no longer knows the jobs (deleted, or kept past their retention)
    with pytest.raises(ServiceError, match=r"could not embed 10 of 10 texts.*ended as JOB_STATE_EXPIRED"):
        embed_items_in_batches(corpus(), embedder(server), cache, poll_s=0.01)
    assert cache.batch_jobs() == []


def test_a_wrong_size_answer_fails_that_text_only(server, tmp_path, monkeypatch) -> None:
    real = server._embed

    def short_for_rain(model, request):
        answer = real(model, request)
        if "rain" in request["content"]["parts"][0]["text"]:
            answer["values"] = answer["values"][:10]
        return answer

    monkeypatch.setattr(server, "_embed", short_for_rain)
    cache = EmbeddingCache(tmp_path / "cache.sqlite")
    with pytest.raises(ServiceError, match=r"could not embed 2 of 10 texts.*a 10-d vector where 64-d was expected"):
        embed_items_in_batches(corpus(), embedder(server), cache, poll_s=0.01)
    assert len(cache.get_many(embedder(server).spec, 64, "document", DOCUMENTS)) == 6


def test_creating_a_job_retries_a_503_and_explains_a_rejected_key(server, tmp_path) -> None:
    cache = EmbeddingCache(tmp_path / "cache.sqlite")
    server.fail_next(Fault(status=503, reason="UNAVAILABLE", message="busy"))
    outcome = embed_items_in_batches(corpus(), embedder(server), cache, poll_s=0.01)
    assert outcome.result is not None
    server.valid_keys = {"another"}
    with pytest.raises(InputError, match="rejected the API key"):
        embed_items_in_batches([Item.create("new text")], embedder(server), cache)
    assert cache.batch_jobs() == []


def test_a_connection_lost_during_submission_is_said_not_retried(server, tmp_path) -> None:
    """Asking again could create a second job at Google (paid twice): the person is told instead."""
    server.fail_next(Fault(drop=True))
    cache = EmbeddingCache(tmp_path / "cache.sqlite")
    with pytest.raises(ServiceError, match="lost while a batch job of 8 texts was being submitted"):
        embed_items_in_batches(corpus(), embedder(server), cache, poll_s=0.01)
    assert len(server.batch_requests()) == 1 and cache.batch_jobs() == []


def test_a_server_that_cannot_be_reached_is_asked_again_then_said(tmp_path) -> None:
    import socket

    with socket.socket() as probe:  # a port nobody listens on: every connection is refused before it is sent
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    retry = RetryPolicy(attempts=3, base_delay=0.01)
    dead = GeminiEmbedder("gemini-embedding-001", api_key="k", dim=64, base_url=f"http://127.0.0.1:{port}", retry=retry)
    with pytest.raises(ServiceError, match=r"kept failing \(ConnectError\) after 3 attempts"):
        embed_items_in_batches(corpus(), dead, EmbeddingCache(tmp_path / "cache.sqlite"))


def test_cancel_stops_waiting_and_keeps_the_jobs_for_later(server, tmp_path) -> None:
    server.batch_polls_until_done = 1_000_000
    cache = EmbeddingCache(tmp_path / "cache.sqlite")
    polls: list[int] = []
    with pytest.raises(Cancelled, match="keep running at Google and are remembered"):
        embed_items_in_batches(
            corpus(), embedder(server), cache, poll_s=0.01, on_status=lambda s: polls.append(s.done),
            cancelled=lambda: len(polls) >= 2,
        )  # fmt: skip
    assert len(cache.batch_jobs()) == 2


def test_batch_mode_is_refused_for_another_provider(tmp_path) -> None:
    from workbench.core.embedders.local import LocalEmbedder

    with pytest.raises(InputError, match="Batch mode is Gemini's"):  # refused before the model is loaded
        embed_items_in_batches(corpus(), LocalEmbedder(), EmbeddingCache(tmp_path / "c.sqlite"))
