"""The Gemini provider against a real HTTP server on 127.0.0.1, with the real google-genai client."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from tests.fakes.fake_gemini import FakeGemini, Fault
from workbench.core.cache import EmbeddingCache
from workbench.core.embedders.base import EmbeddingSpec
from workbench.core.embedders.gemini import GeminiEmbedder, RetryPolicy, prefixed_text
from workbench.core.embedding import embed_items
from workbench.core.errors import Cancelled, InputError, ServiceError
from workbench.core.items import Item

FAKE_KEY = "AIzaFAKE-gemini-key-0123456789"


@pytest.fixture
def server():
    with FakeGemini() as fake:
        yield fake


def make(server: FakeGemini, model: str = "gemini-embedding-001", dim: int | None = 768, **kw) -> GeminiEmbedder:
    retry = RetryPolicy(attempts=kw.pop("attempts", 4), base_delay=0.001, max_delay=1.0)
    return GeminiEmbedder(model, FAKE_KEY, dim, base_url=server.base_url, retry=retry, **kw)


def test_batches_of_at_most_100_with_the_task_per_kind_and_dimension(server) -> None:
    items = [Item.create(f"document {i}") for i in range(250)] + [Item.create(f"q {i}", "query") for i in range(5)]
    result = embed_items(items, make(server), EmbeddingCache())
    bodies = [r.body["requests"] for r in server.embed_requests()]
    assert sorted(len(b) for b in bodies) == [5, 50, 100, 100]
    tasks = {(len(b), b[0]["taskType"]) for b in bodies}
    assert (5, "RETRIEVAL_QUERY") in tasks and (100, "RETRIEVAL_DOCUMENT") in tasks
    assert all(r["outputDimensionality"] == 768 for b in bodies for r in b)
    assert result.vectors.shape == (255, 768) and result.vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(result.vectors, axis=1), 1.0, atol=1e-5)  # 768-d comes unnormalised
    assert all(r.headers.get("x-goog-api-key") == FAKE_KEY for r in server.embed_requests())


def test_no_request_for_cached_texts(server) -> None:
    items = [Item.create(f"text {i}") for i in range(30)]
    cache = EmbeddingCache()
    embed_items(items, make(server), cache)
    before = len(server.embed_requests())
    again = embed_items([*items, Item.create("one new text")], make(server), cache)
    new_requests = server.embed_requests()[before:]
    assert [len(r.body["requests"]) for r in new_requests] == [1]
    assert again.from_cache == 30


def test_gemini_embedding_2_gets_one_request_per_text(server) -> None:
    """The SDK merges a list of plain strings into one content for gemini-embedding-2 (one vector for all)."""
    texts = ["about cats", "about dogs", "about tea"]
    result = embed_items([Item.create(t) for t in texts], make(server, "gemini-embedding-2", 64))
    assert [len(r.body["requests"]) for r in server.embed_requests()] == [3]
    assert result.vectors.shape == (3, 64) and len({v.tobytes() for v in result.vectors}) == 3


def test_gemini_embedding_2_puts_the_task_into_the_text(server) -> None:
    embedder = make(server, "gemini-embedding-2", None)
    embed_items([Item.create("about cats"), Item.create("cats?", "query")], embedder)
    sent = {r["content"]["parts"][0]["text"] for rec in server.embed_requests() for r in rec.body["requests"]}
    assert sent == {"title: none | text: about cats", "task: search result | query: cats?"}
    assert all("taskType" not in r for rec in server.embed_requests() for r in rec.body["requests"])
    assert prefixed_text("gemini-embedding-2", "CLUSTERING", "x") == "task: clustering | query: x"
    assert embedder.dim == 3072


def test_retries_429_500_and_a_dropped_connection_then_succeeds(server) -> None:
    server.fail_next(
        Fault(status=429, reason="RESOURCE_EXHAUSTED", message="slow down"),
        Fault(status=500, reason="INTERNAL", message="oops"),
        Fault(drop=True),
    )
    vectors = make(server).encode_documents(["a", "b"])
    assert len(vectors) == 2
    assert len(server.embed_requests()) == 4


def test_retry_after_is_honoured(server) -> None:
    server.fail_next(Fault(status=429, reason="RESOURCE_EXHAUSTED", message="wait", retry_after=0.4))
    make(server).encode_documents(["a"])
    first, second = server.embed_requests()
    assert second.at - first.at >= 0.4


def test_quota_exhausted_after_retries_keeps_finished_batches(server) -> None:
    items = [Item.create(f"text {i}") for i in range(150)]
    cache = EmbeddingCache()
    embedder = make(server, attempts=2)
    embedder.max_concurrency = 1
    server.fail_next(Fault(), *[Fault(status=429, reason="RESOURCE_EXHAUSTED", message="quota")] * 2)  # batch 1 passes
    with pytest.raises(ServiceError, match="quota exhausted"):
        embed_items(items, embedder, cache)
    assert cache.count() == 100


def test_cancel_between_batches_keeps_the_finished_ones(server) -> None:
    items = [Item.create(f"text {i}") for i in range(300)]
    embedder = make(server)
    embedder.max_concurrency = 1
    cache = EmbeddingCache()
    done: list[int] = []
    with pytest.raises(Cancelled):
        embed_items(items, embedder, cache, progress=lambda d, t: done.append(d), cancelled=lambda: done[-1] >= 100)
    assert cache.count() == 100
    assert len(server.embed_requests()) == 1


@pytest.mark.parametrize(
    ("fault", "message"),
    [(Fault(wrong_count=True), "embeddings for"), (Fault(wrong_dim=True), "767-d vectors where 768-d")],
)
def test_wrong_count_or_dimension_is_refused_and_nothing_is_cached(server, fault: Fault, message: str) -> None:
    server.fail_next(fault)
    cache = EmbeddingCache()
    with pytest.raises(ServiceError, match=message):
        embed_items([Item.create("a"), Item.create("b")], make(server), cache)
    assert cache.count() == 0


def test_errors_a_person_can_act_on(server) -> None:
    server.valid_keys = {"the-right-key"}
    with pytest.raises(InputError, match="rejected the API key") as rejected:
        make(server).encode_documents(["a"])
    assert FAKE_KEY not in str(rejected.value)
    server.valid_keys = None
    with pytest.raises(InputError, match="gemini-embedding-exp-03-07 was retired by Google; use gemini-embedding-001"):
        make(server, "gemini-embedding-exp-03-07", None).encode_documents(["a"])
    with pytest.raises(InputError, match="models/text-embedding-004 was retired"):
        make(server, "models/text-embedding-004", None).encode_documents(["a"])
    server.fail_next(Fault(status=400, reason="INVALID_ARGUMENT", message="input token count exceeds the limit"))
    with pytest.raises(InputError, match=r"Text 2 of this run is too long"):
        make(server).encode_documents(["short", "a much longer text " * 20])
    with pytest.raises(InputError, match="GEMINI_API_KEY"):
        GeminiEmbedder(api_key=None)
    dead = GeminiEmbedder(api_key=FAKE_KEY, base_url="http://127.0.0.1:9", retry=RetryPolicy(2, 0.001))
    with pytest.raises(ServiceError, match=r"Cannot reach Gemini at 127\.0\.0\.1:9"):
        dead.encode_documents(["a"])


def test_model_list_keeps_embedding_models(server) -> None:
    assert make(server).list_embedding_models() == ["gemini-embedding-001", "gemini-embedding-2"]


def test_the_key_is_in_no_log_line(server, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    server.fail_next(Fault(status=500, reason="INTERNAL", message="x"), Fault(drop=True))
    make(server).encode_documents(["a"])
    assert caplog.records, "retries should have been logged"
    assert all(FAKE_KEY not in r.getMessage() for r in caplog.records)


def test_dim_without_a_network_call_and_spec_round_trip() -> None:
    spec = EmbeddingSpec("gemini", "gemini-embedding-001", None, "SEMANTIC_SIMILARITY", "SEMANTIC_SIMILARITY")
    embedder = GeminiEmbedder.from_spec(spec, api_key=FAKE_KEY, base_url="http://127.0.0.1:9")
    assert embedder.dim == 3072 and embedder.spec == spec
    with pytest.raises(InputError, match="task type"):
        GeminiEmbedder(api_key=FAKE_KEY, document_task="NOPE")


def test_same_request_body_as_pymilvus_model_and_a_drop_in_for_it(server, monkeypatch) -> None:
    """The seed class and ours, same model and config, ≤100 documents: the server sees the same body."""
    import pymilvus.model.utils as model_utils
    from google.genai import types

    # pymilvus.model looks for google-genai with find_spec("google-genai") (a hyphen: never found) and then runs
    # `pip install -q google-genai>=1.7.0` through a shell, which reaches the package index on every run and
    # leaves a file named "=1.7.0" behind. google-genai is installed; its installer is not wanted.
    monkeypatch.setattr(model_utils, "prompt_install", lambda package, warn=False: None)
    from pymilvus.model.dense import GeminiEmbeddingFunction

    texts = [f"document {i}" for i in range(40)]
    config = types.EmbedContentConfig(task_type="RETRIEVAL_DOCUMENT", output_dimensionality=768)
    theirs = GeminiEmbeddingFunction(
        "gemini-embedding-001",
        api_key=FAKE_KEY,
        config=config,
        http_options=types.HttpOptions(base_url=server.base_url),
    )
    their_vectors = theirs.encode_documents(texts)
    ours = make(server)
    our_vectors = ours.encode_documents(texts)
    their_request, our_request = server.embed_requests()
    assert our_request.path == their_request.path
    assert our_request.body == their_request.body
    assert ours.dim == theirs.dim == 768
    for name in ("encode_documents", "encode_queries", "dim"):
        assert hasattr(ours, name) and hasattr(theirs, name)
    # Theirs returns the API's raw float64 values; ours the same directions, unit length, as float32.
    np.testing.assert_allclose(our_vectors[0], their_vectors[0] / np.linalg.norm(their_vectors[0]), rtol=1e-5)
    # Where theirs sends one task for queries too, ours sends RETRIEVAL_QUERY.
    ours.encode_queries(["a question"])
    assert server.embed_requests()[-1].body["requests"][0]["taskType"] == "RETRIEVAL_QUERY"
